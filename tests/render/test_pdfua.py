"""The reader's file is PDF/UA-1 as far as pdfua can tell: declared, tagged, every link described
and in a /Link element, running heads and folios as artifacts, figures described, the reading
order of the columns kept, and the same pages and words as the printer's file."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from io import BytesIO
from itertools import pairwise
from pathlib import Path

import pdfplumber
import pikepdf
import pypdfium2
import pytest
from pikepdf import Dictionary, Name

from magbuilder.build import BuildOptions, build_issue
from magbuilder.preflight import preflight
from magbuilder.render.collate import review_pages
from magbuilder.render.pdfx import finish_screen

from ..conftest import manifest_text, review_text
from .test_placement import render

# pdfua 0.1.3 cannot evaluate UA-14-001 on any heading whose /K is an array (``as_integer``
# asks an Array for ``is_integer``, which pikepdf answers with ValueError, not AttributeError);
# WeasyPrint writes every /K as an array. preflight runs the same check itself instead.
PDFUA_HEADING_BUG = ("UA-14-001", "cannot get key '/is_integer' on object of type array")
MM = 72 / 25.4
HEAD_CSS = """@page { size: A5; margin: 20mm; @top-center { content: "Running head" }
  @bottom-center { content: counter(page) } }"""


def pdfua_json(path: Path) -> dict:
    """``pdfua check --format json`` on ``path``, as the issue asks, with its exit code."""
    command = [sys.executable, "-m", "pdfua", "check", "--format", "json", str(path)]
    done = subprocess.run(command, capture_output=True, text=True)
    report = json.loads(done.stdout)
    report["returncode"] = done.returncode
    return report


def assert_pdfua_clean(path: Path) -> None:
    """No finding from pdfua, no rule skipped but the one pdfua cannot run on any WeasyPrint
    file, and nothing from preflight's own run of that rule."""
    report = pdfua_json(path)
    assert report["findings"] == [], report["findings"]
    assert report["returncode"] == 0
    skipped = [(s["rule_id"], s["reason"]) for s in report["skipped"]]
    assert all(
        rule == PDFUA_HEADING_BUG[0] and PDFUA_HEADING_BUG[1] in why for rule, why in skipped
    )
    assert preflight(path, screen=True) == []


def structure(pdf: pikepdf.Pdf) -> tuple[set[tuple[int, int]], dict[int, pikepdf.Object]]:
    """The structure elements reachable from the root (objgens), and the ParentTree."""
    reachable: set[tuple[int, int]] = set()
    stack = [pdf.Root.StructTreeRoot]
    while stack:
        node = stack.pop()
        if isinstance(node, Dictionary) and node.objgen not in reachable:
            reachable.add(node.objgen)
            kids = node.get("/K")
            stack += list(kids) if isinstance(kids, pikepdf.Array) else [kids]
    nums = pdf.Root.StructTreeRoot.ParentTree.Nums
    return reachable, {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}


def unowned_content(data: bytes) -> list[tuple[int, int]]:
    """(page, MCID) of marked content that no element of the structure tree owns."""
    found = []
    with pikepdf.open(BytesIO(data)) as pdf:
        reachable, parents = structure(pdf)
        for number, page in enumerate(pdf.pages, start=1):
            owners = parents.get(int(page.obj.get("/StructParents", -1)))
            for instruction in pikepdf.parse_content_stream(page, "BDC"):
                props = instruction.operands[-1]
                mcid = props.get("/MCID") if isinstance(props, Dictionary) else None
                if mcid is None:
                    continue
                owner = owners[mcid] if owners is not None and mcid < len(owners) else None
                if not isinstance(owner, Dictionary) or owner.objgen not in reachable:
                    found.append((number, mcid))
    return found


def links(data: bytes) -> list[tuple[int, str, str]]:
    """(page, /Contents, role of the element that owns its OBJR) of every link annotation;
    the role is "" when that element does not hold an OBJR to the annotation."""
    found = []
    with pikepdf.open(BytesIO(data)) as pdf:
        _, parents = structure(pdf)
        for number, page in enumerate(pdf.pages, start=1):
            for annot in page.obj.get("/Annots") or []:
                if annot.get("/Subtype") != Name.Link:
                    continue
                owner = parents.get(int(annot.get("/StructParent", -1)))
                kids = owner.get("/K") if isinstance(owner, Dictionary) else None
                holds = any(
                    isinstance(kid, Dictionary) and kid.get("/Obj", {}).objgen == annot.objgen
                    for kid in (kids if isinstance(kids, pikepdf.Array) else [kids])
                )
                role = str(owner.S) if holds else ""
                found.append((number, str(annot.get("/Contents", "")), role))
    return found


def band_tags(data: bytes, page: int, top_mm: float = 20, bottom_mm: float = 20) -> set:
    """The marked-content tags of the characters wholly inside a page's top and bottom margins
    (the running heads and the folio)."""
    with pdfplumber.open(BytesIO(data)) as pdf:
        sheet = pdf.pages[page - 1]
        return {
            char.get("tag")
            for char in sheet.chars
            if char["bottom"] <= top_mm * MM or char["top"] >= sheet.height - bottom_mm * MM
        }


def margin_tags(result, data: bytes, page: int) -> set:
    margins = result.issue.manifest.print.margins
    return band_tags(data, page, margins.top, margins.bottom)


# --- one small file, finished as the screen file --------------------------------------------


def test_margin_boxes_become_pagination_artifacts(tmp_path):
    source = render(tmp_path, "<h1>Heads</h1><p>Body text.</p>", css=HEAD_CSS, tags=True)
    assert unowned_content(source)  # WeasyPrint tags them, outside the tree
    screen = finish_screen(source)
    assert unowned_content(screen) == []
    assert band_tags(screen, 1) == {"Artifact"}
    with pikepdf.open(BytesIO(screen)) as pdf:
        content = pdf.pages[0].Contents.read_bytes().decode()
        assert re.search(r"/Artifact <<\s*/Type /Pagination\s*>> BDC", content)


def test_links_say_where_they_go_and_sit_in_link_elements(tmp_path):
    body = """<h1>Reviews</h1><p><a href="#second"><span lang="fr">La suite</span></a> and
      <a href="https://mag.example/">the web</a>.</p>
      <h2 id="second" style="break-before: page">Second review</h2>"""
    screen = finish_screen(render(tmp_path, body, css=HEAD_CSS, tags=True))
    found = links(screen)
    assert {(page, text) for page, text, _ in found} == {
        (1, "Go to page 2: Second review"),
        (1, "https://mag.example/"),
    }
    # WeasyPrint gives the <span> its own annotation, owned by a /Span: it moves to the /Link.
    assert len(found) == 3
    assert {role for *_, role in found} == {"/Link"}


def test_screen_file_declares_pdfua_1(tmp_path):
    screen = finish_screen(render(tmp_path, "<h1>Declared</h1>", tags=True))
    with pikepdf.open(BytesIO(screen)) as pdf:
        meta = pdf.open_metadata()
        assert meta.get("pdfuaid:part") == "1"
        raw = pdf.Root.Metadata.read_bytes().decode()
        assert "<pdfaSchema:prefix>pdfuaid</pdfaSchema:prefix>" in raw
        assert "<pdfaProperty:name>part</pdfaProperty:name>" in raw
        assert pdf.Root.MarkInfo.Marked is True
        assert pdf.Root.ViewerPreferences.DisplayDocTitle is True
        assert str(pdf.Root.Lang) == "en"
        assert str(pdf.docinfo.Title) == "Test issue"
    assert_pdfua_clean(write(tmp_path / "screen.pdf", screen))


def test_catalog_entries_pdfua_needs_are_restored(tmp_path):
    with pikepdf.open(BytesIO(render(tmp_path, "<h1>Parts</h1>", tags=True))) as pdf:
        del pdf.Root.MarkInfo, pdf.Root.ViewerPreferences
        source = BytesIO()
        pdf.save(source)
    with pikepdf.open(BytesIO(finish_screen(source.getvalue()))) as pdf:
        assert pdf.Root.MarkInfo.Marked is True
        assert pdf.Root.ViewerPreferences.DisplayDocTitle is True


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# --- whole magazines ----------------------------------------------------------------------------


@pytest.fixture(params=["sample_build", "november_build"])
def built(request):
    """Each sample, built once for the session (chunked, as ``make issue`` builds it)."""
    return request.getfixturevalue(request.param)


def screen_of(result) -> Path:
    return result.files["magazine-screen.pdf"]


@pytest.mark.slow
def test_samples_pass_pdfua(built):
    assert_pdfua_clean(screen_of(built))


@pytest.mark.slow
def test_samples_describe_every_link(built):
    data = screen_of(built).read_bytes()
    starts, _ = review_pages(data)
    found = links(data)
    assert found and all(text.strip() and role == "/Link" for _, text, role in found), found
    contents = {text for _, text, _ in found if text.startswith("Go to page")}
    assert contents == {
        f"Go to page {starts[review.slug]}: {review.title}" for review in built.issue.reviews
    }


@pytest.mark.slow
def test_samples_declare_pdfua_and_tag_running_heads_as_artifacts(built):
    data = screen_of(built).read_bytes()
    with pikepdf.open(BytesIO(data)) as pdf:
        assert pdf.open_metadata().get("pdfuaid:part") == "1"
        assert str(pdf.Root.Lang) == built.issue.manifest.lang
        assert pdf.Root.ViewerPreferences.DisplayDocTitle is True
    assert unowned_content(data) == []
    # the editor's letter (front matter, margin boxes) and a review page (the overlay)
    assert margin_tags(built, data, 2) == margin_tags(built, data, 5) == {"Artifact"}


@pytest.mark.slow
def test_samples_figures_have_alt_text(built):
    with pikepdf.open(screen_of(built)) as pdf:
        figures = []
        stack = [pdf.Root.StructTreeRoot]
        while stack:
            node = stack.pop()
            if isinstance(node, Dictionary):
                if node.get("/S") == Name.Figure:
                    figures.append(str(node.get("/Alt", "")).strip())
                kids = node.get("/K")
                stack += list(kids) if isinstance(kids, pikepdf.Array) else [kids]
    assert len(figures) > len(built.issue.reviews)  # the cover and each review's picture
    assert all(figures)


@pytest.mark.slow
def test_screen_and_print_files_have_the_same_pages(built):
    def words(path: Path) -> list[list[str]]:
        document = pypdfium2.PdfDocument(path)
        try:
            return [page.get_textpage().get_text_range().split() for page in document]
        finally:
            document.close()

    screen, printed = words(screen_of(built)), words(built.files["magazine.pdf"])
    assert len(screen) == len(printed)
    assert screen == printed


def body_lines(data: bytes, slug: str) -> list[tuple[int, str, float]]:
    """Each piece of a review's body text in the structure tree's order: (page, column, top),
    the column "first" or "second" half of the page (pieces across the middle left out)."""
    with pikepdf.open(BytesIO(data)) as pdf:
        numbers = {page.objgen: n for n, page in enumerate(pdf.pages, start=1)}
        starts, total = review_pages(data)
        first = starts[slug]
        last = min([n for n in starts.values() if n > first] or [total + 1]) - 1
        order: list[tuple[int, int]] = []  # (page, MCID) of the body text, in tree order

        def walk(node: object, page: int, in_body: bool) -> None:
            if isinstance(node, int) and in_body:
                order.append((page, node))
            if not isinstance(node, Dictionary) or "/S" not in node:
                return
            page = numbers.get(node.Pg.objgen, page) if "/Pg" in node else page
            in_body = in_body or Name.Div == node.S  # the columns, not the opener above them
            kids = node.get("/K")
            for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
                walk(kid, page, in_body)

        for element in pdf.Root.StructTreeRoot.K[0].K:
            if Name.Art == element.S and first <= numbers[element.Pg.objgen] <= last:
                walk(element, numbers[element.Pg.objgen], False)
    lines = []
    with pdfplumber.open(BytesIO(data)) as plumbed:
        for number in range(first, last + 1):
            page = plumbed.pages[number - 1]
            boxes: dict[int, tuple[float, float, float]] = {}
            for char in page.chars:
                mcid = char.get("mcid")
                if mcid is not None:
                    x0, x1, top = boxes.get(mcid, (char["x0"], char["x1"], char["top"]))
                    boxes[mcid] = (min(x0, char["x0"]), max(x1, char["x1"]), min(top, char["top"]))
            middle = page.width / 2
            for _, mcid in (item for item in order if item[0] == number):
                if mcid in boxes:
                    x0, x1, top = boxes[mcid]
                    if x1 < middle or x0 > middle:
                        lines.append((number, "left" if x1 < middle else "right", top))
    return lines


@pytest.mark.slow
@pytest.mark.parametrize(
    ("slug", "first"), [("the-salt-keepers", "left"), ("bayt-al-zaytoun", "right")]
)
def test_columns_are_read_in_order(sample_build, slug, first):
    """Down the first column, then down the second (left then right in an English review,
    right then left in the Arabic one); back to the first only below both, where a new band of
    columns starts after something as wide as the page (a pull quote, a picture)."""
    lines = body_lines(screen_of(sample_build).read_bytes(), slug)
    assert {column for _, column, _ in lines} == {"left", "right"}
    assert lines[0][1] == first
    for index, ((page, column, top), (next_page, next_column, next_top)) in enumerate(
        pairwise(lines)
    ):
        if next_page != page:
            assert next_page == page + 1
        elif next_column == column:
            assert next_top >= top  # down the column
        elif next_column == first:  # a new band of columns, below all the page's text so far
            assert next_top > max(t for p, _, t in lines[: index + 1] if p == page)


@pytest.mark.slow
def test_single_pass_screen_file_passes_pdfua(tmp_project, tmp_path):
    files = {f"content/reviews/r{i}.md": review_text(f"Review {i}") for i in range(2)}
    files["issues/t-1.yaml"] = manifest_text(["r0", "r1"])
    project = tmp_project(files)
    result = build_issue(
        project / "issues/t-1.yaml", tmp_path / "out", BuildOptions(single_pass=True)
    )
    screen = screen_of(result)
    assert_pdfua_clean(screen)
    data = screen.read_bytes()
    assert unowned_content(data) == []  # WeasyPrint's margin boxes, made artifacts
    assert margin_tags(result, data, 4) == {"Artifact"}
    assert {text for _, text, _ in links(data) if text.startswith("Go to")} == {
        f"Go to page {page}: Review {i}" for i, page in enumerate(review_pages(data)[0].values())
    }


def test_finishing_twice_gives_the_same_bytes(tmp_path):
    source = render(tmp_path, "<h1>Same</h1>", css=HEAD_CSS, tags=True)
    date = datetime(2026, 12, 1, tzinfo=UTC)
    assert finish_screen(source, metadata_date=date) == finish_screen(source, metadata_date=date)
