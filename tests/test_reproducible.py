"""Outputs are reproducible (same inputs, same bytes; dates from the manifest or
SOURCE_DATE_EPOCH) and atomic (a build that fails leaves the previous outputs as they were)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pikepdf
import pytest

from magbuilder import files
from magbuilder.build import STAMP, BuildOptions, build_issue
from magbuilder.errors import OutputError, RenderError
from magbuilder.render import email

from .conftest import manifest_text, review_text

pytestmark = pytest.mark.slow  # builds issues, some in real processes

OUTPUTS = (
    "magazine.pdf",
    "magazine-screen.pdf",
    "newsletter.html",
    "newsletter.txt",
    "newsletter.eml",
)
HERO = "\n  src: media/hero.jpg\n  alt: A hero"


@pytest.fixture
def project(tmp_project, monkeypatch) -> Path:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    return tmp_project(
        {
            "content/reviews/a.md": review_text("Alpha", image=HERO),
            "content/reviews/b.md": review_text("Beta", lang="fr"),
            "issues/t-1.yaml": manifest_text(["a", "b"]),
        },
        images=("media/cover.jpg", "media/hero.jpg"),
    )


def contents(folder: Path) -> dict[str, bytes]:
    """Every file of a build folder (temporary files included, to catch leftovers)."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def pdf_dates(path: Path) -> set[str]:
    with pikepdf.open(path) as pdf:
        dates = {str(pdf.docinfo[key]) for key in ("/CreationDate", "/ModDate")}
        meta = pdf.open_metadata()
        dates |= {str(meta[key]) for key in meta if key.endswith("Date")}
    return dates


def test_two_builds_give_byte_identical_outputs(project, tmp_path):
    manifest = project / "issues/t-1.yaml"
    first = build_issue(manifest, tmp_path / "one", BuildOptions(force=True))
    # The second build runs in another process (another hash seed), from an empty cache.
    result = subprocess.run(
        [sys.executable, "-m", "magbuilder", "build", "issues/t-1.yaml", "--force"]
        + ["--out", str(tmp_path / "two")],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    one, two = contents(tmp_path / "one/t-1"), contents(tmp_path / "two/t-1")
    for folder in (one, two):  # the up-to-date stamp records inputs, not an output
        del folder[STAMP]
    assert set(OUTPUTS) | {"images/a.jpg"} <= set(one)
    assert one.keys() == two.keys()
    differ = [name for name in one if one[name] != two[name]]
    assert differ == []
    # Without SOURCE_DATE_EPOCH, the PDFs are dated by the issue's date.
    assert first.issue.manifest.date.isoformat() == "2026-12-01"
    for name in ("magazine.pdf", "magazine-screen.pdf"):
        assert {d[:10] for d in pdf_dates(tmp_path / "one/t-1" / name)} <= {
            "D:20261201",
            "2026-12-01",
        }


def test_pdf_dates_follow_source_date_epoch(project, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # 2023-11-14 22:13:20 UTC
    result = build_issue(project / "issues/t-1.yaml", tmp_path, BuildOptions(force=True))
    printed = pdf_dates(result.files["magazine.pdf"])
    assert printed == {"D:20231114221320+00'00'", "2023-11-14T22:13:20+00:00"}
    assert pdf_dates(result.files["magazine-screen.pdf"]) == printed


def broken_newsletter(*args: object, **kwargs: object) -> None:
    """Stands in for the newsletter renderer (module level: it runs in a side process)."""
    raise RenderError("the newsletter template broke")


def test_a_failed_build_leaves_the_previous_outputs_intact(project, tmp_path, monkeypatch):
    manifest = project / "issues/t-1.yaml"
    build_issue(manifest, tmp_path)
    out = tmp_path / "t-1"
    before = contents(out)
    assert STAMP in before
    review = project / "content/reviews/a.md"
    review.write_text(review.read_text().replace("More text.", "Changed text."))

    # 1. The newsletter fails (the PDFs are made meanwhile).
    monkeypatch.setattr(email, "render_newsletter", broken_newsletter)
    with pytest.raises(RenderError, match="newsletter template broke"):
        build_issue(manifest, tmp_path, BuildOptions(force=True))
    assert contents(out) == before
    monkeypatch.undo()
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)

    # 2. Writing fails after the first outputs were already written to the new folder.
    real_write = files._write_synced
    written: list[Path] = []

    def full_disk(path: Path, data: bytes) -> None:
        if len(written) == 2:
            raise OSError(28, "No space left on device")
        real_write(path, data)
        written.append(path)

    monkeypatch.setattr(files, "_write_synced", full_disk)
    with pytest.raises(OutputError, match="no space left on its device"):
        build_issue(manifest, tmp_path, BuildOptions(force=True))
    assert len(written) == 2 and not any(p.exists() for p in written)
    assert contents(out) == before  # no half-written file, no temporary file left behind
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".t-1.new")) == []


CRASHING_BUILD = """
import os, sys
from magbuilder import files
from magbuilder.build import BuildOptions, build_issue
real, count = files._write_synced, []

def crash(path, data):  # the machine goes down while the third output is being written
    count.append(path)
    if len(count) == 3:
        path.write_bytes(data[: len(data) // 2])
        os._exit(9)
    real(path, data)

files._write_synced = crash
build_issue(sys.argv[1], sys.argv[2], BuildOptions(force=True))
"""


def test_a_crash_while_writing_leaves_the_previous_outputs(project, tmp_path):
    manifest = project / "issues/t-1.yaml"
    build_issue(manifest, tmp_path)
    out = tmp_path / "t-1"
    before = contents(out)
    review = project / "content/reviews/a.md"
    review.write_text(review.read_text().replace("More text.", "Changed text."))
    crashed = subprocess.run(
        [sys.executable, "-c", CRASHING_BUILD, str(manifest), str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert crashed.returncode == 9, crashed.stderr
    assert contents(out) == before  # every output still the previous build's
    rebuilt = build_issue(manifest, tmp_path)  # clears what the crash left, then builds
    assert not rebuilt.up_to_date
    after = contents(out)
    assert after["magazine.pdf"] != before["magazine.pdf"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".t-1.")) == [".t-1.lock"]


def test_the_project_folder_changes_nothing(project, tmp_path, monkeypatch):
    """Byte-identical in any folder: nothing laid out is named after where the project is."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    (project / "content/reviews/a.md").write_text(
        review_text("Alpha", image=HERO) + "\n![A figure](media/hero.jpg)\n", "utf-8"
    )
    elsewhere = tmp_path / "somewhere" / "else" / "entirely"
    shutil.copytree(project, elsewhere)
    one = build_issue(project / "issues/t-1.yaml", tmp_path / "one", BuildOptions(force=True))
    two = build_issue(elsewhere / "issues/t-1.yaml", tmp_path / "two", BuildOptions(force=True))
    for name in OUTPUTS:
        assert one.files[name].read_bytes() == two.files[name].read_bytes(), name
