"""Ads in the printed magazine: pages of their own, a half page, the back cover, PDF artwork,
the share of ad pages; the contents' page numbers and the binding still right."""

from __future__ import annotations

import re
import shutil
import textwrap
from pathlib import Path

import pikepdf
import pypdfium2 as pdfium
import pytest
from PIL import Image

from magbuilder.build import BuildOptions, build_issue
from magbuilder.errors import InputError
from magbuilder.manifest import load_issue
from magbuilder.preflight import preflight
from magbuilder.render.ads import placed_ads

from .conftest import REPO, SITE, manifest_text, review_text

pytestmark = pytest.mark.slow

NORDLYS = """\
name: "Nordlys Kino"
link: "https://nordlys.example/"
runs: {start: 2026-11-15, end: 2026-12-31}
page:
  art: media/ads/nordlys-page.pdf
  alt: "Nordlys Kino: winter documentaries every Sunday"
"""
FJORD = """\
name: "Fjord Books"
link: "https://fjord-books.example/"
label: "Advertisement"
runs: {start: 2026-11-01, end: 2027-01-31}
page:
  art: media/ads/fjord-page.jpg
  alt: "Fjord Books: new film criticism"
"""
HOUSE = """\
name: "Subscriptions"
kind: house
link: "https://longtake.example/subscribe"
runs: {start: 2026-01-01, end: 2027-12-31}
page:
  text:
    headline: "Keep the long take alive"
    text: "Ten issues a year, delivered."
    call: "Subscribe"
half:
  text: {headline: "Back issues", text: "Every issue since 2022.", call: "Order"}
"""
SLOTS = """
  max_share: 0.5
  slots:
    after-contents: nordlys
    section-end-1: house
    inside-back-cover: fjord
    back-cover: house"""
SECTIONS = """
  - title: "Section A"
    reviews: [a, b]
  - title: "Section B"
    reviews: [c]"""
ART_GREEN = (20, 150, 90)


def artwork_pdf() -> bytes:
    """A sponsor's full page as their designer would export it: A4 with 3 mm bleed."""
    from weasyprint import HTML

    css = "@page { size: 210mm 297mm; bleed: 3mm; margin: 0; background: rgb(20, 150, 90) }"
    return HTML(string=f"<style>{css}</style><p style='margin: 40mm'>ART</p>").write_pdf()


def make_project(root: Path, slots: str = SLOTS) -> Path:
    """Three reviews in two sections, three sponsors (PDF art, image art, a house ad's text)."""
    files = {
        "magbuilder.yaml": SITE,
        "content/reviews/a.md": review_text("Alpha"),
        "content/reviews/b.md": review_text("Beta"),
        "content/reviews/c.md": review_text("Gamma"),
        "content/sponsors/nordlys.yaml": NORDLYS,
        "content/sponsors/fjord.yaml": FJORD,
        "content/sponsors/house.yaml": HOUSE,
        "issues/t-1.yaml": manifest_text(
            ["a"], sections=SECTIONS, ads=slots, print="\n  binding: saddle"
        ),
    }
    shutil.copytree(REPO / "layouts", root / "layouts")
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text) if rel.endswith(".yaml") else text, "utf-8")
    (root / "content/media").mkdir(parents=True)
    Image.new("RGB", (2560, 3600), (90, 120, 150)).save(root / "content/media/cover.jpg")
    ads = root / "content/media/ads"
    ads.mkdir(parents=True)
    (ads / "nordlys-page.pdf").write_bytes(artwork_pdf())
    pixels = (round(216 / 25.4 * 300), round(303 / 25.4 * 300))
    Image.new("CMYK", pixels, (0, 40, 80, 10)).save(ads / "fjord-page.jpg", quality=80)
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = make_project(tmp_path_factory.mktemp("ads"))
    result = build_issue(root / "issues/t-1.yaml", root / "build")
    return root, result


def page_texts(pdf: Path) -> list[str]:
    """Each page's text without white space (letter-spaced labels come out as "S p o n …")."""
    doc = pdfium.PdfDocument(pdf)
    return [re.sub(r"\s+", "", doc[i].get_textpage().get_text_range()) for i in range(len(doc))]


def test_ads_run_where_booked_and_the_contents_counts_them(built):
    root, result = built
    issue = load_issue(root / "issues/t-1.yaml")
    for name in ("magazine.pdf", "magazine-screen.pdf"):
        pdf = result.files[name]
        texts = page_texts(pdf)
        placed = {p.slot: p.page for p in placed_ads(pdf.read_bytes(), issue)}
        total = len(texts)
        assert placed["after-contents"] == 4  # cover, editorial, contents, then the ad
        assert placed["back-cover"] == total  # the outside back cover, last
        assert placed["inside-back-cover"] == total - 1  # the right-hand page before it
        assert placed["inside-back-cover"] % 2 == 1
        # The contents' numbers are where the reviews open, after the ad page.
        contents = texts[2]
        numbers = {
            title: int(re.search(rf"{title}\.*(\d+)", contents).group(1))
            for title in ("Alpha", "Beta", "Gamma")
        }
        assert numbers["Alpha"] == 5
        for title, number in numbers.items():
            assert texts[number - 1].startswith("SECTION") and title in texts[number - 1]
        # The half page sits on the page where section A ends: Beta's last, before Gamma.
        gamma = numbers["Gamma"]
        assert placed["section-end-1"] == gamma - 1
        assert "Backissues" in texts[gamma - 2]
        assert "fromthemagazine" in texts[gamma - 2].lower()  # the house label
        # Labels: the layout's on a sponsor's page, the sponsor's own where it gives one.
        assert "sponsored" in texts[3].lower()
        assert "advertisement" in texts[placed["inside-back-cover"] - 1].lower()
        assert "Keepthelongtakealive" in texts[total - 1]
        assert "fromthemagazine" in texts[total - 1].lower()
    printed = result.files["magazine.pdf"]
    assert len(page_texts(printed)) % 4 == 0  # saddle-stitched: blank pages before the IBC


def test_pdf_artwork_is_drawn_under_its_label_to_the_bleed(built):
    root, result = built
    pdf = result.files["magazine-screen.pdf"]
    page = pdfium.PdfDocument(pdf)[3]
    image = page.render(scale=0.5, crop=(0, 0, 0, 0)).to_pil().convert("RGB")
    width, height = image.size
    for x, y in ((0.5, 0.5), (0.02, 0.98), (0.98, 0.02)):  # centre and corners: the art
        pixel = image.getpixel((int(x * (width - 1)), int(y * (height - 1))))
        assert all(abs(a - b) < 12 for a, b in zip(pixel, ART_GREEN, strict=True)), (x, y, pixel)
    with pikepdf.open(result.files["magazine.pdf"]) as doc:
        ad = doc.pages[3]
        media = [float(v) for v in ad.mediabox]
        trim = [float(v) for v in ad.obj.TrimBox]
        assert media[2] - media[0] > trim[2] - trim[0] + 16  # the page keeps its bleed
        forms = [name for name in ad.obj.Resources.XObject if "MbAd" in str(name)]
        assert forms, "the artwork is not drawn on its page"


def test_the_print_file_with_ads_passes_preflight(built):
    _, result = built
    findings = preflight(
        result.files["magazine.pdf"].read_bytes(), saddle_stitched=True, min_bleed_mm=3
    )
    assert [f for f in findings if f.level == "error"] == []


def test_a_changed_ad_lays_out_only_the_pages_it_is_on(built, tmp_path):
    root, _ = built
    sponsor = root / "content/sponsors/house.yaml"
    original = sponsor.read_text()
    try:
        sponsor.write_text(original.replace("Ten issues a year", "Twelve issues a year"))
        page = build_issue(root / "issues/t-1.yaml", root / "build")
        back = page_texts(page.files["magazine-screen.pdf"])[-1]
        sponsor.write_text(original.replace("Every issue since", "Each issue since"))
        half = build_issue(root / "issues/t-1.yaml", root / "build")
    finally:
        sponsor.write_text(original)
    assert page.laid_out == ["back"]  # the house page is the back cover
    assert "Twelveissuesayear" in back
    assert half.laid_out == ["b"]  # the half page is in section A's last review's chunk
    assert any("Eachissuesince" in text for text in page_texts(half.files["magazine.pdf"]))


def test_more_ad_pages_than_max_share_stops_the_build_at_its_line(built):
    root, _ = built  # another issue of the same pages: laid out from the cache
    manifest = root / "issues/t-share.yaml"
    text = (root / "issues/t-1.yaml").read_text()
    manifest.write_text(
        text.replace('id: "t-1"', 'id: "t-share"').replace("max_share: 0.5", "max_share: 0.2")
    )
    with pytest.raises(InputError) as caught:
        build_issue(manifest, root / "build")
    [finding] = caught.value.findings
    assert manifest.read_text().splitlines()[finding.line - 1].strip() == "max_share: 0.2"
    assert "ads take 3.5 of the magazine's" in finding.message
    assert "more than max_share 0.2 (20%) allows" in finding.message
    assert not (root / "build/t-share").exists()


def test_the_single_pass_reference_places_the_same_ads(built, tmp_path):
    root, result = built
    single = build_issue(root / "issues/t-1.yaml", tmp_path, BuildOptions(single_pass=True))
    issue = load_issue(root / "issues/t-1.yaml")
    for name in ("magazine.pdf", "magazine-screen.pdf"):
        chunked = placed_ads(result.files[name].read_bytes(), issue)
        assert placed_ads(single.files[name].read_bytes(), issue) == chunked
        assert len(page_texts(single.files[name])) == len(page_texts(result.files[name]))
