"""Chunked layout: the same magazine as a single pass, laid out in parallel and incrementally."""

from __future__ import annotations

import io
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace

import pypdf
import pytest

from magbuilder.content import Issue, Review
from magbuilder.manifest import load_issue
from magbuilder.render.chunks import render_chunked
from magbuilder.render.env import Layout
from magbuilder.render.magazine import has_back_cover, magazine_html
from magbuilder.render.pdf import render_pdf

from ..conftest import REPO, SAMPLE_MANIFEST, sample_with_layout
from ..pdfpages import Page, differences, read_pages, visual_order

pytestmark = pytest.mark.slow  # lays out whole magazines twice

TOLERANCE_PT = 0.5  # chunks are shifted into place by a computed offset: rounding, no more
MIRRORED = {("(", ")"), (")", "("), ("[", "]"), ("]", "["), ("{", "}"), ("}", "{")}


@dataclass(frozen=True)
class Layouts:
    """One issue laid out both ways, and each read as a reader sees it."""

    issue: Issue
    chunked: bytes
    starts: dict[str, int]  # the chunked build's first page of each review
    single_pages: list[Page]
    chunked_pages: list[Page]


# Every layout in layouts/ with the December sample (its right-to-left review, its images; in
# pocket, 36 A5 pages: other page counts and breaks than in default).
LAYOUT_NAMES = sorted(p.parent.name for p in (REPO / "layouts").glob("*/layout.yaml"))
CASES = [f"sample-{name}" for name in LAYOUT_NAMES]


@pytest.fixture(scope="module", params=CASES)
def layouts(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Layouts:
    """An issue laid out in one pass and in chunks (see CASES)."""
    name = request.param.removeprefix("sample-")
    if name == "default":
        issue = load_issue(SAMPLE_MANIFEST)
    else:
        issue = load_issue(sample_with_layout(tmp_path_factory.mktemp(name), name))
        assert issue.manifest.layout == name
    layout = Layout(issue.layouts_dir, issue.manifest.layout)
    single = render_pdf(issue, layout)
    chunked, stats = render_chunked(issue, layout, tmp_path_factory.mktemp("cache"), jobs=2)
    margins = issue.manifest.print.margins
    # pdfplumber reads a page in about half a second; spawned, since forking a process with
    # threads (the layout's) may deadlock (Python 3.13 warns).
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        single_pages = pool.submit(read_pages, single, margins)
        chunked_pages = pool.submit(read_pages, chunked, margins)
        return Layouts(issue, chunked, stats.starts, single_pages.result(), chunked_pages.result())


def shown(review: Review) -> str:
    """A review's title as it reads off the page."""
    return visual_order(review.title) if review.dir == "rtl" else review.title


def page_pairs(layouts: Layouts) -> list[tuple[Page, Page]]:
    """The single pass's pages beside the chunked layout's, once they are as many."""
    single, chunked = layouts.single_pages, layouts.chunked_pages
    assert len(chunked) == len(single), f"{len(chunked)} pages chunked, {len(single)} in one pass"
    return list(zip(single, chunked, strict=True))


def undo_mirroring(single: Page, chunked: Page) -> Page:
    """The chunked page with brackets that extract mirrored put back.

    Known difference (not a layout one: the pixels are the same). A bracket in right-to-left
    text is drawn with its mirror image's glyph, and each font subset's ToUnicode maps a glyph
    to the character it was first drawn for. In a single pass Lato's "(" glyph is first drawn
    for "(" in left-to-right text; in the chunk of an Arabic review, for ")" in right-to-left
    text. The same glyph at the same place extracts as "(" in one file and ")" in the other.
    """
    if len(single.words) != len(chunked.words):
        return chunked
    words = []
    for a, b in zip(single.words, chunked.words, strict=True):
        near = all(abs(p - q) <= TOLERANCE_PT for p, q in zip(a.box, b.box, strict=True))
        words.append(a if (a.text, b.text) in MIRRORED and near else b)
    return replace(chunked, words=tuple(words))


def contents_numbers(pages: list[Page], issue: Issue) -> dict[str, str | None]:
    """Each review's title → the word after the leader that follows it in the contents."""
    words = [word.text for page in pages for word in page.words]
    found: dict[str, str | None] = {}
    cursor = 0
    for review in issue.reviews:  # the contents lists them in manifest order
        title = shown(review).split()
        found[review.title] = None
        for i in range(cursor, len(words) - len(title)):
            if words[i : i + len(title)] == title and words[i + len(title)] == ".":
                cursor = i + len(title)
                while cursor < len(words) and words[cursor] == ".":
                    cursor += 1
                found[review.title] = words[cursor] if cursor < len(words) else None
                break
    return found


def test_chunked_pages_have_the_single_pass_words_in_place(layouts):
    problems = []
    for single, chunked in page_pairs(layouts):
        chunked = undo_mirroring(single, chunked)  # the same glyphs may extract mirrored
        problems += differences(single, chunked, TOLERANCE_PT, aspects=("words",))
    assert not problems, "chunked vs single pass:\n" + "\n".join(problems)
    assert sum(len(page.words) for page in layouts.single_pages) > 100 * len(layouts.issue.reviews)


def test_chunked_pages_place_the_single_pass_images(layouts):
    problems = []
    for single, chunked in page_pairs(layouts):
        problems += differences(single, chunked, TOLERANCE_PT, aspects=("images",))
    assert not problems, "chunked vs single pass:\n" + "\n".join(problems)
    heroes = sum(1 for review in layouts.issue.reviews if review.image)
    assert sum(len(page.images) for page in layouts.single_pages) >= 1 + heroes  # and the cover


def test_chunked_pages_have_the_single_pass_running_heads_and_folios(layouts):
    problems = []
    for single, chunked in page_pairs(layouts):
        problems += differences(single, chunked, TOLERANCE_PT, aspects=("heads", "feet"))
    assert not problems, "chunked vs single pass:\n" + "\n".join(problems)
    # Every page but the cover, and a back cover with a blank page before it, has a folio.
    pages = layouts.single_pages[1:]
    issue = layouts.issue
    if has_back_cover(magazine_html(issue, Layout(issue.layouts_dir, issue.manifest.layout))):
        pages = pages[:-2] if not pages[-2].words else pages[:-1]
    assert all(page.feet for page in pages), "a page without its folio"


def test_contents_gives_each_review_its_first_page(layouts):
    starts = layouts.starts
    expected = {review.title: str(starts[review.slug]) for review in layouts.issue.reviews}
    front = min(starts.values()) - 1  # cover, editorial and contents come before the reviews
    for name, pages in (("single pass", layouts.single_pages), ("chunked", layouts.chunked_pages)):
        assert contents_numbers(pages[:front], layouts.issue) == expected, name


def test_reviews_open_on_their_first_pages(layouts):
    pages = layouts.chunked_pages
    reader = pypdf.PdfReader(io.BytesIO(layouts.chunked))
    names = reader.named_destinations
    for review in layouts.issue.reviews:
        start = layouts.starts[review.slug]
        opener = pages[start - 1]
        assert shown(review) in opener.text and not opener.heads, f"{review.slug}: page {start}"
        assert reader.get_destination_page_number(names[f"review-{review.slug}"]) == start - 1


def test_outline_and_contents_links_resolve_to_review_openers(layouts):
    issue, starts = layouts.issue, layouts.starts
    reader = pypdf.PdfReader(io.BytesIO(layouts.chunked))
    sections = [item for item in reader.outline if not isinstance(item, list)]
    reviews = [item for group in reader.outline if isinstance(group, list) for item in group]
    assert [s.title for s in sections][-len(issue.sections) :] == [s.title for s in issue.sections]
    assert {r.title: reader.get_destination_page_number(r) + 1 for r in reviews} == {
        r.title: starts[r.slug] for r in issue.reviews
    }
    targets = set()
    for page in reader.pages[: min(starts.values()) - 1]:
        for annot in page.get("/Annots") or []:
            action = annot.get_object().get("/A") or {}
            if action.get("/S") == "/GoTo":
                dest = reader.named_destinations[action["/D"]]
                targets.add(reader.get_destination_page_number(dest))
    assert targets == {start - 1 for start in starts.values()}
