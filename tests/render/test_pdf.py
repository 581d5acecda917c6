"""The sample PDF, opened with PDF libraries: pages, text, contents, boxes, fonts, outline."""

from __future__ import annotations

import re

import pikepdf
import pypdf
import pytest

from magbuilder.build import BuildResult
from magbuilder.content import Review
from magbuilder.render.ads import placed_ads

from ..pdfpages import Page, read_pages, visual_order

MM = 72 / 25.4


@pytest.fixture(scope="module")
def pdf(sample_build: BuildResult) -> pypdf.PdfReader:
    return pypdf.PdfReader(sample_build.files["magazine.pdf"])


@pytest.fixture(scope="module")
def pages_text(pdf: pypdf.PdfReader) -> list[str]:
    return [re.sub(r"\s+", " ", page.extract_text() or "") for page in pdf.pages]


def first_page_with(pages_text: list[str], needle: str, start: int = 3) -> int:
    """0-based index of the first page at or after ``start`` containing ``needle``."""
    squashed = re.sub(r"\s+", " ", needle)
    for index in range(start, len(pages_text)):
        if squashed in pages_text[index]:
            return index
    raise AssertionError(f"{needle!r} not found after page {start + 1}")


def test_magazine_has_cover_editorial_contents_then_reviews(sample_build, pages_text):
    issue = sample_build.issue
    assert len(pages_text) >= 3 + len(issue.reviews)
    assert issue.manifest.site.name.upper() in pages_text[0].upper()
    assert issue.manifest.cover.headline in pages_text[0]
    assert issue.manifest.editorial.title in pages_text[1]
    assert "Contents" in pages_text[2]


def test_every_review_appears_in_manifest_order(sample_build, pages_text):
    starts = [
        first_page_with(pages_text, review.standfirst or review.title)
        for review in sample_build.issue.reviews
    ]
    assert starts == sorted(starts)
    assert len(set(starts)) == len(starts)  # each review opens on its own page


def test_contents_page_numbers_are_the_pages_where_reviews_start(sample_build, pdf, pages_text):
    contents = pages_text[2]
    for review in sample_build.issue.reviews:
        if review.dir == "rtl":
            continue  # extracted right-to-left text is reordered; its link is checked below
        match = re.search(re.escape(review.title) + r"[ .]*?(\d+)\b", contents)
        assert match, f"{review.title} missing from contents"
        start = first_page_with(pages_text, review.standfirst or review.title)
        assert int(match.group(1)) == start + 1, review.title


def test_contents_entries_link_to_review_openers(sample_build, pages_text):
    pdf = pypdf.PdfReader(sample_build.files["magazine-screen.pdf"])  # the print file has no links
    page = pdf.pages[2]
    targets = []
    for annot in page.get("/Annots") or []:
        annot = annot.get_object()
        dest = annot.get("/Dest") or (annot.get("/A") or {}).get("/D")
        if dest is None:
            continue
        if isinstance(dest, str | pypdf.generic.TextStringObject):
            dest = pdf.named_destinations[dest]
            targets.append(pdf.get_destination_page_number(dest))
        else:
            targets.append(pdf.get_page_number(dest[0].get_object()))
    expected = [
        first_page_with(pages_text, r.standfirst or r.title) for r in sample_build.issue.reviews
    ]
    assert sorted(set(targets)) == sorted(expected)


def test_sections_are_in_order_in_contents(sample_build, pages_text):
    contents = pages_text[2].upper()
    positions = [contents.index(section.title.upper()) for section in sample_build.issue.sections]
    assert positions == sorted(positions)


def test_outline_lists_sections_then_their_reviews(sample_build, pdf):
    def titles(items):
        out = []
        for item in items:
            if isinstance(item, list):
                out.append(titles(item))
            else:
                out.append(item.title)
        return out

    outline = titles(pdf.outline)
    flat = str(outline)
    for section in sample_build.issue.sections:
        index = outline.index(section.title)
        children = outline[index + 1]
        assert children == [r.title for r in section.reviews]
    assert "Contents" in flat


def test_opener_shows_kicker_byline_film_facts_and_caption(sample_build, pages_text):
    review = next(r for r in sample_build.issue.reviews if r.slug == "verdict-in-absentia")
    page = pages_text[first_page_with(pages_text, review.standfirst)]
    assert review.kicker in page
    assert f"By {review.author}".upper() in page.upper()
    film = review.films[0]
    assert f"Directed by {film.directors[0]} and {film.directors[1]}" in page
    assert f"{film.runtime} min" in page
    assert review.image.caption[:40] in page


def test_pull_quotes_and_author_bios_are_printed(sample_build, pages_text):
    text = " ".join(pages_text)
    for review in sample_build.issue.reviews:
        if review.dir == "rtl":
            continue
        quote = re.search(r"::: pullquote\n(.+?)\n:::", review.body, re.S)
        assert quote, f"{review.slug} has no pull quote"
        words = quote.group(1).replace("’", "'").split()[:4]
        assert " ".join(words) in text.replace("’", "'"), review.slug
        assert review.author_bio[:30] in text


@pytest.fixture(scope="module")
def pages(sample_build: BuildResult) -> list[Page]:
    """The print file's pages as a reader sees them (margin bands from the manifest)."""
    margins = sample_build.issue.manifest.print.margins
    return read_pages(sample_build.files["magazine.pdf"].read_bytes(), margins)


@pytest.fixture(scope="module")
def laid_out(sample_build: BuildResult) -> int:
    """How many pages the magazine has (the print file may close its last sheet with blanks)."""
    return len(pypdf.PdfReader(sample_build.files["magazine-screen.pdf"]).pages)


@pytest.fixture(scope="module")
def ad_pages(sample_build: BuildResult) -> set[int]:
    """The print file's full-page ads (after the contents, the back cover): pages of their own,
    with no running head or folio."""
    issue, pdf = sample_build.issue, sample_build.files["magazine.pdf"].read_bytes()
    full = {ad.slot for ad in issue.ads if ad.placement == "page"}
    found = {placed.page for placed in placed_ads(pdf, issue) if placed.slot in full}
    assert len(found) == len(full)
    return found


@pytest.fixture(scope="module")
def openers(sample_build: BuildResult, pages_text: list[str]) -> dict[int, Review]:
    """Page number → the review that opens there."""
    return {
        first_page_with(pages_text, review.standfirst or review.title) + 1: review
        for review in sample_build.issue.reviews
    }


def test_review_openers_carry_no_running_heads(pages, openers):
    assert {n: pages[n - 1].heads for n in openers} == dict.fromkeys(openers, {})


def test_body_pages_carry_masthead_section_and_review_title(
    sample_build, pages, laid_out, openers, ad_pages
):
    """print.css: left pages show section | masthead, right pages masthead | review title;
    a full-page ad shows neither."""
    issue = sample_build.issue
    section_of = {review.slug: section for section in issue.sections for review in section.reviews}
    masthead = issue.manifest.site.name.upper()
    expected, actual, review = {}, {}, None
    for number in range(2, laid_out + 1):
        review = openers.get(number, review)  # the strings hold until the next review sets them
        if number in openers or number in ad_pages:
            assert {"left", "right"}.isdisjoint(pages[number - 1].heads), number
            continue
        section = section_of[review.slug].title.upper() if review else ""
        if number % 2:
            title = "" if review is None else shown(review)
            heads = {"left": masthead, "right": title}
        else:
            heads = {"left": section, "right": masthead}
        expected[number] = {slot: text for slot, text in heads.items() if text}
        actual[number] = pages[number - 1].heads
    assert actual == expected
    sides = {number % 2 for number in expected if number > min(openers)}
    assert sides == {0, 1}, "no left and right body pages to check"


def test_folios_sit_bottom_outside_with_their_page_number(pages, laid_out, ad_pages):
    """Bottom-left on left (even) pages, bottom-right on right (odd) pages, none on the cover
    or a full-page ad (which counts as a page all the same)."""
    expected = {
        n: {"right" if n % 2 else "left": str(n)}
        for n in range(2, laid_out + 1)
        if n not in ad_pages
    }
    feet = {page.number: page.feet for page in pages[1:laid_out] if page.number not in ad_pages}
    assert feet == expected
    for n in ad_pages:
        assert {"left", "right"}.isdisjoint(pages[n - 1].feet), n
    assert [page.number for page in pages[laid_out:] if page.words] == []  # blank closing pages


def test_cover_has_no_running_head_or_folio(sample_build, pages):
    cover = pages[0]
    assert cover.feet == {}
    assert not {"left", "right"} & set(cover.heads), cover.heads
    top = " ".join(cover.heads.values())  # the cover's issue line is there, centred on the page
    assert "1" not in top.split(), top
    assert sample_build.issue.manifest.site.name.upper() not in top


def shown(review: Review) -> str:
    """A review's title as it reads off the page (right-to-left text comes out reversed)."""
    return visual_order(review.title) if review.dir == "rtl" else review.title


def test_pages_are_a4_with_3mm_bleed(sample_build):
    pdf = pikepdf.open(sample_build.files["magazine.pdf"])
    for page in pdf.pages:
        trim = [float(v) for v in page.TrimBox]
        bleed = [float(v) for v in page.BleedBox]
        assert trim[2] - trim[0] == pytest.approx(210 * MM, abs=0.5)
        assert trim[3] - trim[1] == pytest.approx(297 * MM, abs=0.5)
        assert trim[0] - bleed[0] == pytest.approx(3 * MM, abs=0.1)
        assert bleed[3] - trim[3] == pytest.approx(3 * MM, abs=0.1)


def test_every_font_is_embedded_and_bundled(sample_build):
    pdf = pikepdf.open(sample_build.files["magazine.pdf"])
    names = set()
    for page in pdf.pages:
        for font in (page.Resources.get("/Font") or {}).values():
            descendant = font.get("/DescendantFonts")
            descriptor = (descendant[0] if descendant else font).get("/FontDescriptor")
            assert descriptor is not None
            assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
            names.add(str(font.BaseFont).split("+")[-1])
    families = " ".join(names)
    for family in ("Garamond", "Lato", "Naskh"):
        assert family in families, names


def test_document_metadata(sample_build, pdf):
    m = sample_build.issue.manifest
    assert m.title in pdf.metadata.title
    assert "Adaeze Okonkwo" in pdf.metadata.author
    assert pdf.metadata.subject == m.cover.headline
