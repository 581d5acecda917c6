"""Chunked layout: the same magazine as a single pass, laid out in parallel and incrementally."""

from __future__ import annotations

import io
import multiprocessing
import re
import shutil
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import pypdf
import pytest

from magbuilder.build import BuildOptions, build_issue
from magbuilder.content import Issue, Review
from magbuilder.errors import RenderError
from magbuilder.manifest import load_issue
from magbuilder.render.chunks import render_chunked
from magbuilder.render.env import Layout
from magbuilder.render.magazine import has_back_cover, magazine_html
from magbuilder.render.pdf import render_pdf

from ..conftest import REPO, SAMPLE_MANIFEST, manifest_text, review_text, sample_with_layout
from ..generate import generate_project
from ..pdfpages import Page, differences, read_pages, visual_order

pytestmark = pytest.mark.slow  # lays out whole magazines twice

TOLERANCE_PT = 0.5  # chunks are shifted into place by a computed offset: rounding, no more
MIRRORED = {("(", ")"), (")", "("), ("[", "]"), ("]", "["), ("{", "}"), ("}", "{")}


def page_words(pdf: bytes) -> list[Counter]:
    """Per page, the words a reader sees (order-free: enough to tell which pages changed)."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return [Counter(re.findall(r"[^\s()]+", page.extract_text() or "")) for page in reader.pages]


@dataclass(frozen=True)
class Layouts:
    """One issue laid out both ways, and each read as a reader sees it."""

    issue: Issue
    chunked: bytes
    starts: dict[str, int]  # the chunked build's first page of each review
    single_pages: list[Page]
    chunked_pages: list[Page]


# Every layout in layouts/ with the sample issue (its right-to-left review, its images), and the
# default layout with a generated issue of 14 reviews (more than the sample, other page counts).
LAYOUT_NAMES = sorted(p.parent.name for p in (REPO / "layouts").glob("*/layout.yaml"))
CASES = [f"sample-{name}" for name in LAYOUT_NAMES] + ["generated-default"]


@pytest.fixture(scope="module", params=CASES)
def layouts(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Layouts:
    """An issue laid out in one pass and in chunks (see CASES)."""
    if request.param == "sample-default":
        issue = load_issue(SAMPLE_MANIFEST)
    elif request.param.startswith("sample-"):
        name = request.param.removeprefix("sample-")
        issue = load_issue(sample_with_layout(tmp_path_factory.mktemp(name), name))
        assert issue.manifest.layout == name
    else:
        root = tmp_path_factory.mktemp("gen14")
        shutil.copytree(REPO / "layouts", root / "layouts")
        shutil.copy(REPO / "magbuilder.yaml", root)
        issue = load_issue(generate_project(root, 14, words=400))
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


def small_project(tmp_project):
    files = {f"content/reviews/r{i}.md": review_text(f"Review {i}") for i in range(3)}
    files["issues/t-1.yaml"] = manifest_text(["r0", "r1", "r2"])
    return tmp_project(files)


def test_editing_one_review_lays_out_only_that_review(tmp_project, tmp_path):
    project = small_project(tmp_project)
    manifest, out = project / "issues/t-1.yaml", tmp_path / "out"
    first = build_issue(manifest, out)
    assert sorted(first.laid_out) == sorted(
        ["front-count", "r0", "r1", "r2", "front", "running-heads"]
    )
    pages_before = page_words(first.files["magazine.pdf"].read_bytes())

    unchanged = build_issue(manifest, out)
    assert unchanged.up_to_date and unchanged.laid_out == []

    path = project / "content/reviews/r1.md"
    path.write_text(path.read_text().replace("More text.", "More text, edited."))
    edited = build_issue(manifest, out)
    assert edited.laid_out == ["r1"]  # same length: contents and running heads come from cache
    pages_after = page_words(edited.files["magazine.pdf"].read_bytes())
    changed = [i for i, (a, b) in enumerate(zip(pages_before, pages_after, strict=True)) if a != b]
    assert changed and all(pages_after[i]["edited."] for i in changed)


def test_force_lays_out_everything_again(tmp_project, tmp_path):
    project = small_project(tmp_project)
    build_issue(project / "issues/t-1.yaml", tmp_path)
    again = build_issue(project / "issues/t-1.yaml", tmp_path, BuildOptions(force=True))
    assert {"r0", "r1", "r2", "front"} <= set(again.laid_out)


def test_a_failing_chunk_names_its_review_and_keeps_previous_outputs(tmp_project, tmp_path):
    project = small_project(tmp_project)
    good = build_issue(project / "issues/t-1.yaml", tmp_path)
    before = {name: path.read_bytes() for name, path in good.files.items()}
    path = project / "content/reviews/r2.md"
    path.write_text(path.read_text() + '\n<img src="https://tracker.example/pixel.gif" alt="x">\n')
    with pytest.raises(RenderError) as info:
        build_issue(project / "issues/t-1.yaml", tmp_path)
    assert "review 'r2' (content/reviews/r2.md)" in info.value.report()
    assert "https://tracker.example/pixel.gif" in info.value.report()
    assert {name: path.read_bytes() for name, path in good.files.items()} == before


def test_keep_html_is_the_single_pass_source(tmp_project, tmp_path):
    project = small_project(tmp_project)
    result = build_issue(project / "issues/t-1.yaml", tmp_path, BuildOptions(keep_html=True))
    html = result.files["magazine.html"].read_text("utf-8")
    assert '<base href="file://' in html and 'id="review-r2"' in html


def both_ways_alike(project: Path, aspects: tuple[str, ...]) -> list[Page]:
    """The project's issue laid out in one pass and in chunks, the pages alike in ``aspects``;
    the single pass's pages."""
    issue = load_issue(project / "issues/t-1.yaml")
    layout = Layout(issue.layouts_dir, issue.manifest.layout)
    margins = issue.manifest.print.margins
    single = read_pages(render_pdf(issue, layout), margins)
    chunked, _ = render_chunked(issue, layout, project / "cache", jobs=2)
    problems = []
    for one, other in zip(single, read_pages(chunked, margins), strict=True):
        problems += differences(one, other, TOLERANCE_PT, aspects=aspects)
    assert not problems, "chunked vs single pass:\n" + "\n".join(problems)
    return single


# A layout whose folio sits in a box the default layout leaves empty, bottom-center.
CENTRED_FOLIO = """\
@import url(../../default/print/print.css);
@page :left { @bottom-left { content: none; } }
@page :right { @bottom-right { content: none; } }
@page { @bottom-center { content: "– " counter(page) " –"; font: bold 8.5pt/1 var(--sans);
                         vertical-align: top; padding-top: 6mm; } }
@page cover { @bottom-center { content: none; } }
"""


def test_a_layout_with_a_centred_folio_chunks_like_its_single_pass(tmp_project):
    files = {f"content/reviews/r{i}.md": review_text(f"Review {i}") for i in range(3)}
    files["issues/t-1.yaml"] = manifest_text(["r0", "r1", "r2"], layout="centred")
    files["layouts/centred/print/print.css"] = CENTRED_FOLIO
    single = both_ways_alike(tmp_project(files), ("words", "heads", "feet"))
    feet = [page.feet for page in single[1:]]  # the cover has none
    assert feet == [{"center": f"– {n} –"} for n in range(2, len(single) + 1)], feet


# A layout with a fourth running-head string, the review's kicker, in a box of its own.
KICKER_HEADS = """\
@import url(../../default/print/print.css);
.kicker { string-set: kicker content(); }
@page :left { @bottom-center { content: string(kicker); font: 7pt/1 var(--sans);
                               vertical-align: top; padding-top: 6mm; } }
@page cover { @bottom-center { content: none; } }
"""
KICKER_CHUNKS = """\
chunks:
  running_strings:
    masthead: site.name
    section: section.title
    title: review.title
    kicker: review.kicker
"""


def test_a_fourth_running_head_string_declared_by_the_layout_chunks_like_its_single_pass(
    tmp_project,
):
    files = {
        f"content/reviews/r{i}.md": review_text(f"Review {i}", kicker=f'"KICKER {i}"')
        for i in range(3)
    }
    files["issues/t-1.yaml"] = manifest_text(["r0", "r1", "r2"], layout="kicker")
    files["layouts/kicker/print/print.css"] = KICKER_HEADS
    files["layouts/kicker/layout.yaml"] = KICKER_CHUNKS
    single = both_ways_alike(tmp_project(files), ("heads", "feet"))
    kickers = {page.feet.get("center") for page in single if page.number % 2 == 0} - {None}
    assert len(kickers) >= 2 and all(k.startswith("KICKER ") for k in kickers), kickers


# A layout whose reviews' named page has a foot of its own, on every page of a review.
REVIEW_PAGE_FOOT = """\
@import url(../../default/print/print.css);
@page review { @bottom-center { content: "review page"; font: 7pt/1 var(--sans);
                                vertical-align: top; padding-top: 6mm; } }
"""


def test_a_layout_styling_the_reviews_named_page_chunks_like_its_single_pass(tmp_project):
    files = {f"content/reviews/r{i}.md": review_text(f"Review {i}") for i in range(3)}
    files["content/reviews/r1.md"] = review_text("Review 1").replace("Word1 ", "Word1 " * 900)
    files["issues/t-1.yaml"] = manifest_text(["r0", "r1", "r2"], layout="named")
    files["layouts/named/print/print.css"] = REVIEW_PAGE_FOOT
    single = both_ways_alike(tmp_project(files), ("heads", "feet"))
    feet = [page.feet.get("center") for page in single]
    assert feet[:3] == [None] * 3 and feet[3:] == ["review page"] * (len(single) - 3), feet


def test_a_right_to_left_magazine_chunks_like_its_single_pass(tmp_project):
    # Its first page is a left-hand page: every page's text block sits where the single pass
    # puts it (the assembler shifts each page by its side), its heads and folio too.
    files = {f"content/reviews/r{i}.md": review_text(f"Review {i}") for i in range(3)}
    files["issues/t-1.yaml"] = manifest_text(["r0", "r1", "r2"], lang="ar")
    single = both_ways_alike(tmp_project(files), ("words", "heads", "feet"))
    assert len(single) >= 5 and all(page.feet for page in single[1:])


def test_a_layout_that_promises_nothing_about_chunks_is_laid_out_in_one_pass(tmp_project, tmp_path):
    files = {f"content/reviews/r{i}.md": review_text(f"Review {i}") for i in range(2)}
    files["issues/t-1.yaml"] = manifest_text(["r0", "r1"], layout="whole")
    files["layouts/whole/layout.yaml"] = "chunks: false\n"
    project = tmp_project(files)
    built = build_issue(project / "issues/t-1.yaml", tmp_path)
    assert built.laid_out == ["whole magazine"]


@pytest.mark.parametrize(
    "chunks, wrong",
    [
        ("chunks: {running_strings: {title: review.director}}", "'title: review.director'"),
        ("chunks: {running_strings: {Title: review.title}}", "'Title: review.title'"),
        ("chunks: [masthead]", "expected 'running_strings:'"),
    ],
)
def test_a_wrong_chunks_declaration_is_an_error_at_its_line(tmp_path, chunks, wrong):
    layouts = tmp_path / "layouts"
    (layouts / "default").mkdir(parents=True)
    (layouts / "default" / "layout.yaml").write_text(f"# a layout\n{chunks}\n")
    with pytest.raises(RenderError) as raised:
        _ = Layout(layouts).chunking
    (finding,) = raised.value.findings
    assert (finding.line, wrong in finding.message) == (2, True), finding
