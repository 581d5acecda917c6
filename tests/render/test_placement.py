"""Image placement: each image's size on the page and effective ppi, as WeasyPrint draws it."""

from __future__ import annotations

import zlib
from io import BytesIO
from pathlib import Path

import pikepdf
import pytest
import weasyprint
from PIL import Image

from magbuilder.render.placement import image_placements

PAGE_CSS = "@page { size: A4; bleed: 3mm; margin: 15mm } body { margin: 0 }"


def make_image(path: Path, size: tuple[int, int], alpha: bool = False) -> None:
    """A deterministic picture with detail (so JPEG sizes are realistic), saved by extension."""
    width, height = size
    picture = Image.effect_mandelbrot((width, height), (-2.0, -1.2, 1.0, 1.2), 60)
    rgb = Image.merge(
        "RGB",
        (
            picture,
            picture.transpose(Image.Transpose.FLIP_TOP_BOTTOM),
            Image.linear_gradient("L").resize(size),
        ),
    )
    if alpha:
        rgb.putalpha(Image.linear_gradient("L").rotate(90).resize(size))
    options = {"quality": 95} if path.suffix == ".jpg" else {}
    rgb.save(path, **options)


def render(
    folder: Path,
    body: str,
    images: dict[str, tuple[int, int]] | None = None,
    *,
    css: str = PAGE_CSS,
    tags: bool = False,
) -> bytes:
    """Lay out ``body`` with WeasyPrint; ``images`` maps file names (in ``folder``) to pixel sizes.

    Names ending in ``.png`` get an alpha channel.
    """
    for name, size in (images or {}).items():
        make_image(folder / name, size, alpha=name.endswith(".png"))
    html = f"<!doctype html><html lang=en><title>Test issue</title><style>{css}</style>{body}"
    return weasyprint.HTML(string=html, base_url=folder.as_uri() + "/").write_pdf(pdf_tags=tags)


def test_img_placed_at_css_size(tmp_path):
    pdf = render(tmp_path, '<img src="a.jpg" style="width: 100mm">', {"a.jpg": (400, 300)})
    [placement] = image_placements(pdf)
    assert placement.page == 1
    assert placement.pixels == (400, 300)
    assert placement.size_mm == pytest.approx((100, 75), abs=0.01)
    assert placement.ppi == pytest.approx((101.6, 101.6), rel=1e-4)  # 400 px / (100 / 25.4) in


def test_object_fit_cover_counts_the_scaled_image_not_the_clip(tmp_path):
    # WeasyPrint clips to the 100 × 50 mm box and scales the whole image to 100 × 75 mm.
    body = '<img src="a.jpg" style="width: 100mm; height: 50mm; object-fit: cover">'
    [placement] = image_placements(render(tmp_path, body, {"a.jpg": (400, 300)}))
    assert placement.size_mm == pytest.approx((100, 75), abs=0.01)
    assert placement.min_ppi == pytest.approx(101.6, rel=1e-4)


def test_css_background_drawn_through_a_pattern(tmp_path):
    body = '<div style="width: 80mm; height: 40mm; background: url(b.jpg) center / cover"></div>'
    [placement] = image_placements(render(tmp_path, body, {"b.jpg": (300, 300)}))
    assert placement.size_mm == pytest.approx((80, 80), abs=0.01)
    assert placement.min_ppi == pytest.approx(300 / (80 / 25.4), rel=1e-4)


def test_images_inside_opacity_groups_and_on_later_pages(tmp_path):
    body = (
        '<div style="opacity: .5"><img src="a.jpg" style="width: 60mm"></div>'
        '<p style="break-before: page"><img src="c.jpg" style="width: 50mm"></p>'
    )
    found = image_placements(render(tmp_path, body, {"a.jpg": (400, 300), "c.jpg": (200, 200)}))
    assert [(p.page, p.pixels) for p in found] == [(1, (400, 300)), (2, (200, 200))]
    assert found[0].size_mm == pytest.approx((60, 45), abs=0.01)
    assert found[1].min_ppi == pytest.approx(200 / (50 / 25.4), rel=1e-4)


def hand_made_pdf() -> bytes:
    """One page: an image in a form with a /Matrix, the same image rotated, a self-drawing form."""
    pdf = pikepdf.new()
    image = pdf.make_stream(
        zlib.compress(bytes(300 * 200 * 3)),
        Type=pikepdf.Name.XObject,
        Subtype=pikepdf.Name.Image,
        Width=300,
        Height=200,
        ColorSpace=pikepdf.Name.DeviceRGB,
        BitsPerComponent=8,
        Filter=pikepdf.Name.FlateDecode,
    )
    form = pdf.make_stream(
        b"q 50 0 0 25 0 0 cm /Im0 Do Q",
        Type=pikepdf.Name.XObject,
        Subtype=pikepdf.Name.Form,
        BBox=[0, 0, 100, 100],
        Matrix=[2, 0, 0, 2, 10, 10],
        Resources=pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image)),
    )
    loop = pdf.make_stream(
        b"/Fm1 Do", Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Form, BBox=[0, 0, 1, 1]
    )
    loop.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Fm1=loop))
    content = b"q 1 0 0 1 100 100 cm /Fm0 Do Q q 0 72 -144 0 300 300 cm /Im0 Do Q /Fm1 Do"
    page = pikepdf.Dictionary(
        Type=pikepdf.Name.Page,
        MediaBox=[0, 0, 595, 842],
        Contents=pdf.make_stream(content),
        Resources=pikepdf.Dictionary(XObject=pikepdf.Dictionary(Fm0=form, Im0=image, Fm1=loop)),
    )
    pdf.pages.append(pikepdf.Page(page))
    out = BytesIO()
    pdf.save(out)
    return out.getvalue()


def test_form_matrix_rotation_and_cycles():
    via_form, rotated = image_placements(hand_made_pdf())
    assert via_form.size_pt == pytest.approx((100, 50))  # 50 × 25 scaled by the form's 2×
    assert via_form.ppi == pytest.approx((216, 288))
    assert rotated.size_pt == pytest.approx((72, 144))  # 1 × 2 inches, turned a quarter
    assert rotated.ppi == pytest.approx((300, 100))
    assert via_form.objgen == rotated.objgen
    assert via_form.name == "/Im0"
