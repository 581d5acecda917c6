"""A build's digests cover every file it reads, found as the renderer finds them."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pdfplumber
import pytest
from PIL import Image

from magbuilder.build import BuildOptions, BuildResult, build_issue

from .conftest import REPO, manifest_text, review_text
from .warm_cli import magbuilder

pytestmark = pytest.mark.slow  # builds issues

FONTS = "layouts/default/assets/fonts"
PREVIEW = BuildOptions(preview=True)  # the screen file alone: enough to see what is laid out
BODIES = {
    "reference": "Intro.\n\n![The pier][pier]\n\nAfter.\n\n[pier]: media/pier.jpg\n",
    "raw": 'Intro, then <img src="media/pier.jpg" alt="The pier"> in the text.\n',
}


def picture(path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (1800, 1200)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path, quality=85)


def project(tmp_project, body: str) -> Path:  # noqa: ANN001
    root = tmp_project(
        {
            "content/reviews/a.md": review_text("Alpha") + "\n" + body,
            "content/reviews/b.md": review_text("Beta"),
            "issues/t-1.yaml": manifest_text(["a", "b"]),
        }
    )
    picture(root / "content/media/pier.jpg", (200, 60, 40))
    return root


@pytest.mark.parametrize("kind", list(BODIES))
def test_replacing_a_body_image_lays_out_its_review_again(kind, tmp_project, tmp_path):
    root = project(tmp_project, BODIES[kind])
    manifest, out = root / "issues/t-1.yaml", tmp_path / "out"
    first = build_issue(manifest, out)  # preflight passed: a raw <img> is not too wide either
    if kind == "raw":
        assert_inside_a_column(first)
    picture(root / "content/media/pier.jpg", (30, 90, 200))  # another picture, same name
    again = build_issue(manifest, out, PREVIEW)  # what is laid out again: the screen file's
    assert not again.up_to_date
    assert "a" in again.laid_out and "b" not in again.laid_out


def test_replacing_a_font_or_changing_a_stylesheet_lays_out_again(tmp_project, tmp_path):
    root = project(tmp_project, "")
    manifest, out = root / "issues/t-1.yaml", tmp_path / "out"
    build_issue(manifest, out, PREVIEW)  # laid out and cached as in any build: the screen file
    shutil.copy(REPO / FONTS / "Lato-Bold.ttf", root / FONTS / "Lato-Regular.ttf")
    assert {"a", "b"} <= set(build_issue(manifest, out, PREVIEW).laid_out)
    with (root / "layouts/default/print/print.css").open("a", encoding="utf-8") as css:
        css.write("\n.body p { letter-spacing: 0.2pt; }\n")
    assert {"a", "b"} <= set(build_issue(manifest, out, PREVIEW).laid_out)


def assert_inside_a_column(built: BuildResult) -> None:
    """The body image (1800 px wide: 476 mm at its natural size) is one column wide at most."""
    margins = built.issue.manifest.print.margins
    mm = 25.4 / 72
    with pdfplumber.open(built.files["magazine-screen.pdf"]) as pdf:
        placed = [
            (page, image)
            for page in pdf.pages
            for image in page.images
            if image["width"] < page.width * 0.9  # not the cover
        ]
        assert placed, "the raw <img> is not on any page"
        for page, image in placed:
            column = (page.width * mm - margins.inside - margins.outside) / 2
            assert image["width"] * mm <= column + 0.5, (image["width"] * mm, column)
            assert image["x0"] >= 0 and image["x1"] <= page.width


def test_a_raw_img_outside_content_is_refused_without_being_read(tmp_project, tmp_path):
    # A named pipe: whoever opens it to read waits for a writer that never comes, so a build
    # that read it (for a digest, say) would hang instead of refusing it.
    outside = tmp_path.parent / f"{tmp_path.name}-pipe.jpg"
    os.mkfifo(outside)
    src = f"../../{outside.name}"  # against content/, as the renderer reads it
    root = project(tmp_project, f'Intro, then <img src="{src}" alt="x"> in the text.\n')
    assert (root / "content" / src).resolve() == outside
    result = magbuilder("build", "issues/t-1.yaml", "--out", "out", cwd=root, timeout=60)
    assert result.returncode == 1, result.stderr
    assert "refused" in result.stderr and outside.name in result.stderr


def test_a_changed_translation_lays_out_its_review_again_in_its_edition_only(
    tmp_project, tmp_path, monkeypatch
):
    """The build's inputs are its editions' too: the stamp notices a translation, and the
    edition lays out that review alone; the issue itself lays out nothing."""
    from magbuilder.cli import main

    from .test_editions import TRANSLATION, edition

    root = project(tmp_project, "")
    (root / "content/reviews/a.nb.md").write_text(TRANSLATION, "utf-8")
    (root / "content/reviews/b.nb.md").write_text(TRANSLATION, "utf-8")
    manifest, out = root / "issues/t-1.yaml", tmp_path / "out"
    manifest.write_text(manifest_text(["a", "b"], editions=edition()), "utf-8")
    monkeypatch.chdir(root)
    assert main(["translated", "a", "nb"]) == main(["translated", "b", "nb"]) == 0
    first = build_issue(manifest, out)
    assert (first.editions["nb"].out_dir / "magazine.pdf").is_file()
    translation = root / "content/reviews/a.nb.md"
    translation.write_text(translation.read_text().replace("runder av", "slutter"), "utf-8")
    again = build_issue(manifest, out)
    assert not again.up_to_date and again.laid_out == []  # the English pages: all from cache
    assert again.editions["nb"].laid_out == ["a"]
