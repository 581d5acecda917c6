"""Finishing: WeasyPrint's PDF made into a PDF/X-4 printer's file and a trimmed reader's file."""

from __future__ import annotations

from datetime import UTC, datetime
from io import BytesIO

import pikepdf
import pytest
from pikepdf import Name
from PIL import Image

from magbuilder.render.pdfx import REGISTRATION, finish_print, finish_screen
from magbuilder.render.placement import image_placements

from ..conftest import REPO
from .test_placement import render

MM = 72 / 25.4
ICC = REPO / "layouts" / "default" / "assets" / "icc"
CMYK_PROFILE, SRGB_PROFILE = ICC / "FOGRA39L-coated.icc", ICC / "sRGB.icc"
DATE = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)

BODY = """
<h1 id="top">Reviews</h1>
<p><a href="https://mag.example/reviews/">On the web</a> and <a href="#second">further on</a>.</p>
<img src="photo.jpg" style="width: 100mm">
<img src="alpha.png" style="width: 50mm">
<h2 id="second" style="break-before: page">Second</h2>
<img src="small.jpg" style="width: 60mm">
<div style="width: 60mm; height: 30mm; background: url(small.jpg) center / cover"></div>
"""
IMAGES = {"photo.jpg": (2400, 1800), "alpha.png": (1600, 1600), "small.jpg": (400, 300)}
# photo.jpg: 2400 px over 100 mm = 610 ppi; alpha.png: 813 ppi; small.jpg: 169 ppi (kept).


def finish(source: bytes, **options: object) -> bytes:
    return finish_print(
        source, icc_profile=CMYK_PROFILE, srgb_profile=SRGB_PROFILE, metadata_date=DATE, **options
    )


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> bytes:
    return render(tmp_path_factory.mktemp("finish"), BODY, IMAGES, tags=True)


@pytest.fixture(scope="module")
def printed(source) -> bytes:
    return finish(source)


@pytest.fixture(scope="module")
def marked(source) -> bytes:
    return finish(source, marks=True)


@pytest.fixture(scope="module")
def screen(source) -> bytes:
    return finish_screen(source)


def open_pdf(data: bytes) -> pikepdf.Pdf:
    return pikepdf.open(BytesIO(data))


def boxes(data: bytes, *keys: str) -> list[dict[str, list[float]]]:
    with open_pdf(data) as pdf:
        return [
            {key: [round(float(v), 3) for v in page.obj[key]] for key in keys if key in page.obj}
            for page in pdf.pages
        ]


def placement_of(data: bytes, pixels_before: tuple[int, int], source: bytes):
    """The placement in ``data`` of the image that had ``pixels_before`` in ``source``.

    Objects are renumbered on saving, but the drawing order stays: match by position.
    """
    before = [p.pixels for p in image_placements(source)]
    return image_placements(data)[before.index(pixels_before)]


def embedded_jpeg(data: bytes, objgen: tuple[int, int]) -> Image.Image:
    with open_pdf(data) as pdf:
        image = pdf.get_object(objgen)
        assert image.Filter == Name.DCTDecode
        return Image.open(BytesIO(image.read_raw_bytes()))


def quantization_at(quality: int) -> dict:
    out = BytesIO()
    Image.new("RGB", (16, 16)).save(out, "JPEG", quality=quality)
    return Image.open(out).quantization


# --- the printer's file ---------------------------------------------------------------------


def test_print_keeps_trim_and_bleed_boxes(source, printed):
    keys = ("/MediaBox", "/TrimBox", "/BleedBox")
    assert boxes(printed, *keys) == boxes(source, *keys)
    for page in boxes(printed, *keys):
        assert page["/TrimBox"] == pytest.approx([0, 0, 210 * MM, 297 * MM], abs=0.01)
        assert page["/BleedBox"] == pytest.approx([-3 * MM, -3 * MM, 213 * MM, 300 * MM], abs=0.01)


def test_print_has_a_cmyk_pdfx_output_intent(printed):
    with open_pdf(printed) as pdf:
        [intent] = pdf.Root.OutputIntents
        assert intent.S == Name.GTS_PDFX
        assert str(intent.OutputConditionIdentifier) == "FOGRA39"
        assert str(intent.RegistryName) == "http://www.color.org"
        assert "FOGRA39" in str(intent.Info)
        profile = intent.DestOutputProfile
        assert profile.N == 4
        assert profile.read_bytes() == CMYK_PROFILE.read_bytes()


def test_print_is_identified_as_pdfx4_in_xmp_and_info(printed):
    with open_pdf(printed) as pdf:
        assert pdf.pdf_version >= "1.6"
        meta = pdf.open_metadata()
        assert meta["pdfxid:GTS_PDFXVersion"] == "PDF/X-4"
        assert meta["pdf:Trapped"] == "False"
        for key in ("xmp:CreateDate", "xmp:ModifyDate", "xmp:MetadataDate"):
            assert meta[key] == "2026-12-01T09:30:00+00:00"
        assert meta["dc:title"] == "Test issue"
        assert meta["xmpMM:DocumentID"].startswith("uuid:")
        assert pdf.docinfo.Trapped == Name("/False")
        assert str(pdf.docinfo.GTS_PDFXVersion) == "PDF/X-4"
        assert str(pdf.docinfo.CreationDate) == "D:20261201093000+00'00'"


def test_print_declares_device_rgb_as_srgb_everywhere(printed):
    with open_pdf(printed) as pdf:
        holders = [page.obj for page in pdf.pages] + [
            obj
            for obj in pdf.objects
            if isinstance(obj, pikepdf.Stream)
            and "/Resources" in obj
            and (obj.get("/Subtype") == Name.Form or obj.get("/PatternType") == 1)
        ]
        assert len(holders) > len(pdf.pages)  # the background pattern and its form count too
        for holder in holders:
            space = holder.Resources.ColorSpace.DefaultRGB
            assert space[0] == Name.ICCBased and space[1].N == 3
            group = holder.get("/Group")
            assert group is None or group.get("/CS") != Name.DeviceRGB


def test_print_has_no_annotations_but_keeps_the_outline(printed):
    with open_pdf(printed) as pdf:
        assert all("/Annots" not in page.obj for page in pdf.pages)
        assert "/StructTreeRoot" not in pdf.Root  # tags point at the removed links
        with pdf.open_outline() as outline:
            assert [item.title for item in outline.root] == ["Reviews"]


def test_print_resamples_sharp_images_to_300_ppi(source, printed):
    photo = placement_of(printed, (2400, 1800), source)
    assert photo.pixels[0] == pytest.approx(100 / 25.4 * 300, rel=0.02)  # 1181 px
    assert photo.pixels[1] == pytest.approx(75 / 25.4 * 300, rel=0.02)
    assert photo.min_ppi == pytest.approx(300, rel=0.02)
    alpha = placement_of(printed, (1600, 1600), source)
    assert alpha.pixels[0] == pytest.approx(50 / 25.4 * 300, rel=0.02)
    small = placement_of(printed, (400, 300), source)
    assert small.pixels == (400, 300)  # 169 ppi: never upsampled


def test_an_image_used_twice_is_resampled_for_its_largest_placement(tmp_path):
    body = '<img src="p.jpg" style="width: 40mm"><img src="p.jpg" style="width: 80mm">'
    source = render(tmp_path, body, {"p.jpg": (2400, 1800)})
    small, large = image_placements(finish(source))
    assert small.objgen == large.objgen
    assert large.pixels[0] == pytest.approx(80 / 25.4 * 300, rel=0.02)  # 945 px
    assert large.min_ppi == pytest.approx(300, rel=0.02)
    assert small.min_ppi == pytest.approx(600, rel=0.02)


def test_resampled_png_stays_lossless_with_its_soft_mask(source, printed):
    alpha = placement_of(printed, (1600, 1600), source)
    with open_pdf(printed) as pdf:
        image = pdf.get_object(alpha.objgen)
        assert image.Filter == Name.FlateDecode and image.ColorSpace == Name.DeviceRGB
        assert (image.SMask.Width, image.SMask.Height) == alpha.pixels
        assert image.SMask.Filter == Name.FlateDecode
        pixels = pikepdf.PdfImage(image).as_pil_image()
        assert pixels.getpixel((0, 0))[3] == pytest.approx(0, abs=3)  # gradient alpha kept


def test_print_jpegs_are_reencoded_at_the_asked_quality(source, printed):
    photo = placement_of(printed, (2400, 1800), source)
    jpeg = embedded_jpeg(printed, photo.objgen)
    assert jpeg.size == photo.pixels
    assert jpeg.quantization == quantization_at(92)
    assert jpeg.quantization != quantization_at(75)  # not Pillow's silent default


def test_untouched_images_keep_their_bytes(source, printed):
    original = next(p for p in image_placements(source) if p.pixels == (400, 300))
    kept = placement_of(printed, (400, 300), source)
    with open_pdf(source) as before, open_pdf(printed) as after:
        assert after.get_object(kept.objgen).read_raw_bytes() == (
            before.get_object(original.objgen).read_raw_bytes()
        )


def test_finishing_is_deterministic(source, printed, screen):
    assert finish(source) == printed
    assert finish_screen(source) == screen


def test_an_rgb_profile_is_refused_as_output_intent(source):
    with pytest.raises(ValueError, match="CMYK"):
        finish_print(
            source, icc_profile=SRGB_PROFILE, srgb_profile=SRGB_PROFILE, metadata_date=DATE
        )


# --- crop marks -----------------------------------------------------------------------------


def mark_segments(pdf: pikepdf.Pdf, page: pikepdf.Page) -> list[tuple[float, ...]]:
    """The segments stroked in the registration colour, at top level of the page content."""
    segments, active, start = [], False, None
    for operands, operator in pikepdf.parse_content_stream(page):
        op = str(operator)
        if op == "CS":
            active = operands[0] == REGISTRATION
        elif active and op == "m":
            start = tuple(float(v) for v in operands)
        elif active and op == "l":
            segments.append((*start, *(float(v) for v in operands)))
        elif active and op == "w":
            assert float(operands[0]) == 0.25
    return segments


def test_marks_are_drawn_outside_the_bleed(source, marked):
    keys = ("/TrimBox", "/BleedBox")
    assert boxes(marked, *keys) == boxes(source, *keys)
    with open_pdf(marked) as pdf:
        for page in pdf.pages:
            media = [float(v) for v in page.MediaBox]
            bleed = [float(v) for v in page.BleedBox]
            assert media[0] < bleed[0] and media[1] < bleed[1]
            assert media[2] > bleed[2] and media[3] > bleed[3]
            space = page.Resources.ColorSpace[REGISTRATION]
            assert list(space[:3]) == [Name.Separation, Name.All, Name.DeviceCMYK]
            segments = mark_segments(pdf, page)
            assert len(segments) == 8
            margin = 1 * MM - 0.01  # at least 1 mm beyond the bleed edge
            for x0, y0, x1, y1 in segments:
                for x, y in ((x0, y0), (x1, y1)):
                    outside = (
                        x <= bleed[0] - margin
                        or x >= bleed[2] + margin
                        or y <= bleed[1] - margin
                        or y >= bleed[3] + margin
                    )
                    assert outside, (x, y, bleed)
                    assert media[0] <= x <= media[2] and media[1] <= y <= media[3]


def test_marks_sit_on_the_trim_lines(source, marked):
    with open_pdf(marked) as pdf:
        page = pdf.pages[0]
        trim = [round(float(v), 3) for v in page.TrimBox]
        for x0, y0, x1, y1 in mark_segments(pdf, page):
            if y0 == y1:  # horizontal marks continue the top and bottom trim edges
                assert round(y0, 3) in (trim[1], trim[3])
            else:
                assert x0 == x1 and round(x0, 3) in (trim[0], trim[2])


# --- the reader's file ----------------------------------------------------------------------


def test_screen_is_cut_to_the_trim(source, screen):
    trims = [page["/TrimBox"] for page in boxes(source, "/TrimBox")]
    for page, trim in zip(boxes(screen, "/MediaBox", "/CropBox", "/BleedBox"), trims, strict=True):
        assert page == {"/MediaBox": trim, "/CropBox": trim}


def test_screen_keeps_links_tags_outline_and_destinations(source, screen):
    with open_pdf(screen) as pdf:
        assert "/StructTreeRoot" in pdf.Root and pdf.Root.MarkInfo.Marked
        annots = [annot for page in pdf.pages for annot in page.obj.get("/Annots", [])]
        uris = [str(a.A.URI) for a in annots if "/A" in a]
        assert uris == ["https://mag.example/reviews/"]
        [internal] = [a for a in annots if "/Dest" in a]
        destinations = pikepdf.NameTree(pdf.Root.Names.Dests)
        target = destinations[str(internal.Dest)]
        assert pdf.pages.index(pikepdf.Page(target[0])) == 1  # "Second" is on page 2
        with pdf.open_outline() as outline:
            assert [item.title for item in outline.root] == ["Reviews"]
            assert [item.title for item in outline.root[0].children] == ["Second"]


def test_screen_images_at_150_ppi_and_file_smaller(source, screen):
    photo = placement_of(screen, (2400, 1800), source)
    assert photo.pixels[0] == pytest.approx(100 / 25.4 * 150, rel=0.02)  # 591 px
    assert photo.min_ppi == pytest.approx(150, rel=0.02)
    assert embedded_jpeg(screen, photo.objgen).quantization == quantization_at(82)
    assert placement_of(screen, (400, 300), source).pixels == (400, 300)  # 169 ppi: kept
    assert len(screen) < len(source) / 2


def test_a_cmyk_jpeg_becomes_a_150_ppi_rgb_jpeg_on_screen_and_stays_cmyk_in_print(tmp_path):
    rgb = Image.new("RGB", (2400, 1600))
    rgb.paste((200, 40, 90), (0, 0, 1200, 1600))  # a rose left half, a teal right half
    rgb.paste((20, 150, 160), (1200, 0, 2400, 1600))
    rgb.convert("CMYK").save(tmp_path / "cmyk.jpg", quality=95)  # Pillow writes Adobe CMYK
    source = render(tmp_path, '<img src="cmyk.jpg" style="width: 150mm">')  # 406 ppi
    screen = finish_screen(source)
    printed = finish_print(
        source, icc_profile=CMYK_PROFILE, srgb_profile=SRGB_PROFILE, metadata_date=DATE
    )
    with pikepdf.open(BytesIO(screen)) as pdf:
        [placement] = image_placements(pdf)
        image = pdf.get_object(placement.objgen)
        assert image.ColorSpace == Name.DeviceRGB and "/Decode" not in image
        assert placement.ppi[0] == pytest.approx(150, abs=1)
        pixels = pikepdf.PdfImage(image).as_pil_image()
        left, right = pixels.getpixel((10, 10)), pixels.getpixel((pixels.width - 10, 10))
    assert all(abs(a - b) <= 12 for a, b in zip(left, (200, 40, 90), strict=True)), left
    assert all(abs(a - b) <= 12 for a, b in zip(right, (20, 150, 160), strict=True)), right
    assert len(screen) < len(source) / 4
    with pikepdf.open(BytesIO(printed)) as pdf:
        [placement] = image_placements(pdf)
        assert pdf.get_object(placement.objgen).ColorSpace == Name.DeviceCMYK
        assert placement.pixels == (2400, 1600)
