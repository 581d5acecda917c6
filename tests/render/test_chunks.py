"""Chunked layout: the same magazine as a single pass, laid out in parallel and incrementally."""

from __future__ import annotations

import io
import re
import shutil
from collections import Counter

import pypdf
import pytest

from magbuilder.build import BuildOptions, build_issue
from magbuilder.errors import RenderError
from magbuilder.manifest import load_issue
from magbuilder.render.chunks import render_chunked
from magbuilder.render.env import Layout
from magbuilder.render.pdf import render_pdf

from ..conftest import REPO, SAMPLE_MANIFEST, manifest_text, review_text
from ..generate import generate_project


def page_words(pdf: bytes) -> list[Counter]:
    """Per page, the words a reader sees (order-free: content order differs, text does not)."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return [Counter(re.findall(r"[^\s()]+", page.extract_text() or "")) for page in reader.pages]


def assert_same_magazine(single: bytes, chunked: bytes) -> None:
    a, b = page_words(single), page_words(chunked)
    assert len(a) == len(b)
    for number, (left, right) in enumerate(zip(a, b, strict=True), start=1):
        assert left == right, f"page {number}: {(left - right) + (right - left)}"


@pytest.fixture(scope="module")
def generated_issue(tmp_path_factory):
    root = tmp_path_factory.mktemp("gen20")
    shutil.copytree(REPO / "layouts", root / "layouts")
    shutil.copy(REPO / "magbuilder.yaml", root)
    return load_issue(generate_project(root, 20, words=500))


@pytest.mark.parametrize("which", ["sample", "generated"])
def test_chunked_layout_matches_the_single_pass(which, generated_issue, tmp_path):
    issue = load_issue(SAMPLE_MANIFEST) if which == "sample" else generated_issue
    layout = Layout(issue.layouts_dir, issue.manifest.layout)
    chunked, stats = render_chunked(issue, layout, tmp_path / "cache", jobs=2)
    assert_same_magazine(render_pdf(issue, layout), chunked)
    # The contents shows the pages where the reviews start, and its links go there.
    reader = pypdf.PdfReader(io.BytesIO(chunked))
    contents = reader.pages[2].extract_text()
    for review in issue.reviews[:8]:
        first_words = " ".join((review.standfirst or review.title).split()[:4])
        opener = reader.pages[stats.starts[review.slug] - 1].extract_text()
        assert first_words in " ".join(opener.split())
    for start in list(stats.starts.values())[:8]:
        assert str(start) in contents
    names = reader.named_destinations
    for slug, start in stats.starts.items():
        assert reader.get_destination_page_number(names[f"review-{slug}"]) == start - 1


def test_outline_and_contents_links_resolve_to_review_openers(tmp_path):
    issue = load_issue(SAMPLE_MANIFEST)
    pdf, stats = render_chunked(issue, Layout(issue.layouts_dir), tmp_path / "cache")
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    sections = [item for item in reader.outline if not isinstance(item, list)]
    reviews = [item for group in reader.outline if isinstance(group, list) for item in group]
    assert [s.title for s in sections][-3:] == [s.title for s in issue.sections]
    assert {r.title: reader.get_destination_page_number(r) + 1 for r in reviews} == {
        r.title: stats.starts[r.slug] for r in issue.reviews
    }
    targets = set()
    for annot in reader.pages[2].get("/Annots") or []:
        action = annot.get_object().get("/A") or {}
        if action.get("/S") == "/GoTo":
            targets.add(reader.get_destination_page_number(reader.named_destinations[action["/D"]]))
    assert targets == {start - 1 for start in stats.starts.values()}


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
