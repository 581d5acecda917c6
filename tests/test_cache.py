"""The build cache is checked on every read and pruned: a damaged entry is made again, not used."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pikepdf
import pytest

from magbuilder.cache import HEADER, Cache, prune

from .conftest import manifest_text, review_text


def test_an_entry_reads_back_as_written(tmp_path):
    cache = Cache(tmp_path, ".pdf")
    cache.put("k", b"%PDF-1.7 content")
    assert cache.get("k") == b"%PDF-1.7 content"
    assert cache.get("absent") is None
    assert (tmp_path / "k.pdf").read_bytes().startswith(HEADER)


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # cut short
        lambda data: data[:-3] + bytes([data[-3] ^ 0x01]) + data[-2:],  # one bit flipped
        lambda data: data.split(b"\n", 1)[1],  # no header: written by something else
        lambda data: b"",
    ],
    ids=["truncated", "bit-flipped", "headerless", "empty"],
)
def test_a_damaged_entry_is_discarded_with_a_note(tmp_path, caplog, damage):
    cache = Cache(tmp_path, ".pdf")
    cache.put("k", b"%PDF-1.7 " + bytes(range(256)) * 20)
    path = tmp_path / "k.pdf"
    path.write_bytes(damage(path.read_bytes()))
    with caplog.at_level(logging.WARNING, logger="magbuilder.cache"):
        assert cache.get("k") is None
    assert not path.exists()
    assert [r.getMessage() for r in caplog.records] == [
        f"{path}: damaged cache entry discarded; made again"
    ]


def test_prune_drops_what_was_long_unused_then_the_oldest_beyond_the_cap(tmp_path):
    now = time.time()
    ages = {"old": 40, "month": 29, "week": 7, "new": 0}  # days since last use
    for name, days in ages.items():
        path = tmp_path / "chunks" / f"{name}.pdf"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(b"x" * 1000)
        os.utime(path, (now - days * 86400, now - days * 86400))
    (tmp_path / "chunks" / ".new.pdf.tmp").write_bytes(b"being written")
    assert prune(tmp_path, keep_days=30, max_bytes=10_000, now=now) == 1
    assert sorted(p.name for p in (tmp_path / "chunks").iterdir()) == [
        ".new.pdf.tmp",
        "month.pdf",
        "new.pdf",
        "week.pdf",
    ]
    assert prune(tmp_path, keep_days=30, max_bytes=2_000, now=now) == 1  # over the cap: oldest
    assert sorted(p.name for p in (tmp_path / "chunks").glob("*.pdf")) == ["new.pdf", "week.pdf"]


def build(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "magbuilder", "build", "issues/t-1.yaml", "--out", "out", *args],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, "SOURCE_DATE_EPOCH": "1700000000"},
    )


@pytest.mark.slow
def test_damaged_chunks_are_laid_out_again_and_the_files_are_as_from_scratch(tmp_project):
    root = tmp_project(
        {
            "content/reviews/a.md": review_text("Alpha"),
            "content/reviews/b.md": review_text("Beta"),
            "content/reviews/c.md": review_text("Gamma"),
            "issues/t-1.yaml": manifest_text(["a", "b", "c"]),
        }
    )
    assert build(root).returncode == 0
    chunks = sorted((root / "out/.cache/chunks").glob("*.pdf"))
    assert len(chunks) >= 6  # print and screen copies of every part
    chunks[0].write_bytes(chunks[0].read_bytes()[:-500])  # a full disk cut it short
    data = bytearray(chunks[1].read_bytes())
    data[len(data) // 2] ^= 0x20  # one bit flipped on the way to the disk
    chunks[1].write_bytes(bytes(data))
    (root / "out/t-1/.build-stamp.json").unlink()  # so the next build reads every part from cache

    again = build(root)
    assert again.returncode == 0, again.stderr
    notes = [line for line in again.stderr.splitlines() if "damaged cache entry" in line]
    damaged = sorted(p.relative_to(root) for p in chunks[:2])  # as the command names its --out
    assert sorted(notes) == [f"{p}: damaged cache entry discarded; made again" for p in damaged]
    names = ("magazine.pdf", "magazine-screen.pdf")
    built = {name: (root / "out/t-1" / name).read_bytes() for name in names}
    scratch = build(root, "--force", "--out", "scratch")
    assert scratch.returncode == 0, scratch.stderr
    for name, data in built.items():
        assert data == (root / "scratch/t-1" / name).read_bytes(), name
        with pikepdf.open(root / "out/t-1" / name) as pdf:
            for page in pdf.pages:
                pikepdf.parse_content_stream(page)  # every content stream reads
