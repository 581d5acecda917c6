"""The text stack is part of a build's identity: recorded in the stamp and the PDFs' XMP, keying
the chunk cache, and a rebuild on another stack says so and reports what moved."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pikepdf
import pypdf
import pytest

from magbuilder.build import build_issue
from magbuilder.manifest import load_issue
from magbuilder.render.chunks import render_chunked
from magbuilder.render.env import Layout
from magbuilder.render.stack import TextStack, text_stack
from magbuilder.stamp import STAMP

from .conftest import manifest_text, review_text

pytestmark = pytest.mark.slow  # builds issues, some in real processes


@pytest.fixture
def built(tmp_project, tmp_path):
    root = tmp_project(
        {
            "content/reviews/a.md": review_text("Alpha"),
            "content/reviews/b.md": review_text("Beta"),
            "issues/t-1.yaml": manifest_text(["a", "b"]),
        }
    )
    result = build_issue(root / "issues/t-1.yaml", tmp_path / "out")
    return root, result


def stamp_of(result) -> dict:  # noqa: ANN001
    return json.loads((result.out_dir / STAMP).read_text())


def rebuild(root: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "magbuilder", "build", "issues/t-1.yaml", "--out", str(out)],
        cwd=root,
        capture_output=True,
        text=True,
    )


def test_the_stamp_records_the_text_stack_pages_and_openings(built):
    root, result = built
    stamp = stamp_of(result)
    libraries = stamp["stack"]["libraries"]
    assert libraries["weasyprint"] == version("weasyprint")
    assert libraries["pyphen"] == version("pyphen")
    for name in ("pango", "harfbuzz", "freetype", "fontconfig"):
        assert libraries[name].count(".") == 2, (name, libraries[name])  # a real x.y.z
    layout = Layout(root / "layouts")
    assert set(stamp["stack"]["fonts"]) == {p.name for p in layout.fonts.files}
    assert set(stamp["starts"]) == {"a", "b"}
    reader = pypdf.PdfReader(result.files["magazine-screen.pdf"])
    assert stamp["pages"] == len(reader.pages)
    for slug, title in (("a", "Alpha"), ("b", "Beta")):
        opener = reader.pages[stamp["starts"][slug] - 1].extract_text()
        before = reader.pages[stamp["starts"][slug] - 2].extract_text()
        assert title in opener.splitlines() and title not in before.splitlines()


@pytest.mark.parametrize("name", ["magazine.pdf", "magazine-screen.pdf"])
def test_each_pdf_carries_the_text_stack_in_its_xmp(built, name):
    root, result = built
    stack = TextStack.from_dict(stamp_of(result)["stack"])
    assert stack is not None
    with pikepdf.open(result.files[name]) as pdf:
        xmp = pdf.Root.Metadata.read_bytes().decode()
    assert f"<magbuilder:TextStackID>{stack.id}</magbuilder:TextStackID>" in xmp
    assert f"Pango {stack.libraries['pango']}" in xmp
    assert f"WeasyPrint {stack.libraries['weasyprint']}" in xmp
    for font, digest in stack.fonts.items():
        assert f"<rdf:li>{font} sha256:{digest}</rdf:li>" in xmp


def test_a_rebuild_on_another_stack_says_so_and_reports_what_moved(built):
    root, result = built
    path = result.out_dir / STAMP
    stamp = json.loads(path.read_text())
    real = dict(stamp["stack"]["libraries"])
    # As if the last build had run on another Pango, where the issue was longer and
    # review 'b' opened two pages later.
    stamp["stack"]["libraries"]["pango"] = "1.40.0"
    stamp["pages"] += 2
    stamp["starts"]["b"] += 2
    path.write_text(json.dumps(stamp))
    rebuilt = rebuild(root, result.out_dir.parent)
    assert rebuilt.returncode == 0, rebuilt.stderr
    notice = [line for line in rebuilt.stderr.splitlines() if line.strip()]
    pages, starts = stamp_of(result)["pages"], stamp_of(result)["starts"]
    assert notice == [
        f"t-1: laid out on another text stack than the last build (Pango 1.40.0 → "
        f"{real['pango']}): the same text may break into other lines; byte-identical output "
        "is promised only on the same stack",
        f"  pages: {pages + 2} → {pages}",
        f"  contents: 'Beta' moved from page {starts['b'] + 2} to {starts['b']}",
    ]
    # The stamp now records this machine's stack: the next build has nothing to do or say.
    again = rebuild(root, result.out_dir.parent)
    assert "up to date" in again.stdout and again.stderr == ""


def test_a_rebuild_on_the_same_stack_reports_nothing(built):
    root, result = built
    review = root / "content/reviews/a.md"
    review.write_text(review.read_text().replace("More text.", "Other text."))
    rebuilt = rebuild(root, result.out_dir.parent)
    assert rebuilt.returncode == 0 and "text stack" not in rebuilt.stderr


def test_chunks_laid_out_on_another_stack_are_not_reused(built, tmp_path):
    root, _ = built
    issue = load_issue(root / "issues/t-1.yaml")
    layout = Layout(issue.layouts_dir)
    here = text_stack(layout)
    _, first = render_chunked(issue, layout, tmp_path / "cache", jobs=1, stack=here)
    _, same = render_chunked(issue, layout, tmp_path / "cache", jobs=1, stack=here)
    other = TextStack({**here.libraries, "harfbuzz": "2.0.0"}, here.fonts)
    _, moved = render_chunked(issue, layout, tmp_path / "cache", jobs=1, stack=other)
    assert first.cached == [] and same.laid_out == []
    assert moved.cached == [] and sorted(moved.laid_out) == sorted(first.laid_out)
