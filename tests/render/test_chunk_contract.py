"""Chunked layout on small projects: incremental builds, and the layout's chunking contract
(a centred folio, a fourth running-head string, a styled named page, right to left, a layout
that promises nothing) each laid out chunked exactly as in a single pass."""

from __future__ import annotations

import io
import re
from collections import Counter
from pathlib import Path

import pypdf
import pytest

from magbuilder.build import BuildOptions, build_issue
from magbuilder.errors import RenderError
from magbuilder.manifest import load_issue
from magbuilder.render.chunks import render_chunked
from magbuilder.render.env import Layout
from magbuilder.render.pdf import render_pdf

from ..conftest import manifest_text, review_text
from ..pdfpages import Page, differences, read_pages

pytestmark = pytest.mark.slow  # builds and lays out magazines

TOLERANCE_PT = 0.5  # chunks are shifted into place by a computed offset: rounding, no more


def page_words(pdf: bytes) -> list[Counter]:
    """Per page, the words a reader sees (order-free: enough to tell which pages changed)."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return [Counter(re.findall(r"[^\s()]+", page.extract_text() or "")) for page in reader.pages]


def small_project(tmp_project):
    files = {f"content/reviews/r{i}.md": review_text(f"Review {i}") for i in range(3)}
    files["issues/t-1.yaml"] = manifest_text(["r0", "r1", "r2"])
    return tmp_project(files)


def test_editing_one_review_lays_out_only_that_review_and_force_all(tmp_project, tmp_path):
    project = small_project(tmp_project)
    manifest, out = project / "issues/t-1.yaml", tmp_path / "out"
    preview = BuildOptions(preview=True)  # the screen file alone: what is laid out is the same
    first = build_issue(manifest, out, preview)
    assert sorted(first.laid_out) == sorted(
        ["front-count", "r0", "r1", "r2", "front", "running-heads"]
    )
    pages_before = page_words(first.files["magazine-screen.pdf"].read_bytes())

    unchanged = build_issue(manifest, out, preview)
    assert unchanged.up_to_date and unchanged.laid_out == []

    path = project / "content/reviews/r1.md"
    path.write_text(path.read_text().replace("More text.", "More text, edited."))
    edited = build_issue(manifest, out, preview)
    assert edited.laid_out == ["r1"]  # same length: contents and running heads come from cache
    pages_after = page_words(edited.files["magazine-screen.pdf"].read_bytes())
    changed = [i for i, (a, b) in enumerate(zip(pages_before, pages_after, strict=True)) if a != b]
    assert changed and all(pages_after[i]["edited."] for i in changed)

    forced = build_issue(manifest, out, BuildOptions(force=True, preview=True))  # all again
    assert {"r0", "r1", "r2", "front"} <= set(forced.laid_out)


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
