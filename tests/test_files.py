"""Outputs change all at once: a failure or a crash at any step leaves the old folder or the new
one, never a mix, and nothing half-written (``magbuilder.files.replace_folder``)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from magbuilder import files
from magbuilder.files import recover, replace_folder

OLD = {"magazine.pdf": b"old pdf", "newsletter.html": b"old html", "images/a.jpg": b"old a"}
NEW = {"magazine.pdf": b"new pdf", "newsletter.html": b"new html", "images/b.jpg": b"new b"}


def tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def leftovers(folder: Path) -> list[str]:
    """Folders a write left beside ``folder`` (the lock file stays: it is reused)."""
    return sorted(
        p.name
        for p in folder.parent.iterdir()
        if p.name.startswith((f".{folder.name}.new-", f".{folder.name}.old-"))
    )


@pytest.fixture
def out(tmp_path: Path) -> Path:
    folder = tmp_path / "build" / "t-1"
    replace_folder(folder, OLD)
    (folder / "snapshots").mkdir()
    (folder / "snapshots" / "p1.png").write_bytes(b"a person's snapshot")
    return folder


def test_new_outputs_replace_the_old_and_other_files_are_kept(out):
    replace_folder(out, NEW, ours=set(OLD))
    # images/a.jpg was ours and is gone; the snapshot was not ours and stays.
    assert tree(out) == {**NEW, "snapshots/p1.png": b"a person's snapshot"}
    assert leftovers(out) == []


def test_a_failure_while_writing_leaves_the_old_outputs(out, monkeypatch):
    before = tree(out)
    real = files._write_synced
    written: list[Path] = []

    def full_disk(path: Path, data: bytes) -> None:
        if len(written) == 2:
            raise OSError(28, "No space left on device")
        real(path, data)
        written.append(path)

    monkeypatch.setattr(files, "_write_synced", full_disk)
    with pytest.raises(OSError, match="No space left"):
        replace_folder(out, NEW, ours=set(OLD))
    assert len(written) == 2
    assert tree(out) == before
    assert leftovers(out) == []


def test_a_refused_check_leaves_the_old_outputs(out):
    before = tree(out)
    seen: list[dict[str, bytes]] = []

    def preflight(staged: Path) -> None:
        seen.append(tree(staged))
        raise ValueError("preflight failed")

    with pytest.raises(ValueError, match="preflight failed"):
        replace_folder(out, NEW, ours=set(OLD), check=preflight)
    assert seen[0]["magazine.pdf"] == b"new pdf"  # the check saw the complete new folder
    assert tree(out) == before
    assert leftovers(out) == []


def test_a_failing_exchange_leaves_the_old_outputs(out, monkeypatch):
    before = tree(out)

    def refused(a: Path, b: Path) -> bool:
        raise OSError(13, "Permission denied", str(b))

    monkeypatch.setattr(files, "_exchange", refused)
    with pytest.raises(OSError, match="Permission denied"):
        replace_folder(out, NEW, ours=set(OLD))
    assert tree(out) == before
    assert leftovers(out) == []


def test_without_an_atomic_exchange_the_renames_give_the_same_result(out, monkeypatch):
    monkeypatch.setattr(files, "_exchange", lambda a, b: False)
    replace_folder(out, NEW, ours=set(OLD))
    assert tree(out) == {**NEW, "snapshots/p1.png": b"a person's snapshot"}
    assert leftovers(out) == []


# A crash is a process that dies at one step with no cleanup at all (os._exit).
CRASH = """
import os, sys
from pathlib import Path
from magbuilder import files
step, folder = sys.argv[1], Path(sys.argv[2])
writes = 0
real_write, real_replace = files._write_synced, files.os.replace

def write(path, data):
    global writes
    writes += 1
    if step == "write" and writes == 2:
        path.write_bytes(data[:3])  # a file cut short, then the crash
        os._exit(9)
    real_write(path, data)

def replace(src, dst):
    real_replace(src, dst)
    if step == "between-renames" and Path(dst).name.startswith("." + folder.name + ".old-"):
        os._exit(9)

files._write_synced = write
files.os.replace = replace
if step == "between-renames":
    files._exchange = lambda a, b: False
real_exchange = files._exchange

def exchange(a, b):
    done = real_exchange(a, b)
    if step == "after-exchange":
        os._exit(9)
    return done

files._exchange = exchange
files.replace_folder(folder, {"magazine.pdf": b"new pdf", "newsletter.html": b"new html",
                              "images/b.jpg": b"new b"}, ours={"magazine.pdf", "images/a.jpg"})
"""


@pytest.mark.parametrize("step", ["write", "after-exchange", "between-renames"])
def test_a_crash_at_any_step_leaves_old_or_new_never_a_mix(out, step):
    old = tree(out)
    new = {**NEW, "snapshots/p1.png": b"a person's snapshot"}
    crashed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CRASH), step, str(out)], capture_output=True
    )
    assert crashed.returncode == 9, crashed.stderr.decode()
    expected = {"write": old, "after-exchange": new, "between-renames": None}[step]
    if expected is not None:
        assert tree(out) == expected
    else:  # the old folder was moved aside and the new one not yet in place
        assert not out.exists()
    assert leftovers(out)  # what the crash left behind …
    recover(out)  # … which the next build clears up first
    assert leftovers(out) == []
    assert tree(out) == (expected if expected is not None else old)
    replace_folder(out, NEW, ours=set(OLD))  # and the next build then works as usual
    assert tree(out) == new


def _mounted_build(root: Path, options: str) -> subprocess.CompletedProcess:
    """``magbuilder build`` with its output folder on a small tmpfs of its own (a private mount
    namespace: nothing outside the process sees it; as another user, a user namespace)."""
    out = root / "out"
    out.mkdir()
    unshare = ["unshare", "--mount"] + ([] if os.geteuid() == 0 else ["--map-root-user"])
    if subprocess.run([*unshare, "true"], capture_output=True).returncode != 0:
        # In a chroot "/" is no mount point, so its propagation cannot be made private: keep
        # it, and unmount before leaving so that nothing can reach the outer namespace.
        unshare.append("--propagation=unchanged")
    script = (
        f"mount -t tmpfs -o {options} tmpfs {out} || exit 99; "
        f"{sys.executable} -m magbuilder build issues/t-1.yaml --out {out}; code=$?; "
        f"umount {out}; exit $code"
    )
    return subprocess.run(
        [*unshare, "sh", "-c", script], cwd=root, capture_output=True, text=True, timeout=300
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "options, advice",
    [
        ("size=64k", "no space left on its device: free some space, or build elsewhere"),
        ("ro", "not writable: make it writable, or build elsewhere"),
    ],
    ids=["full", "read-only"],
)
def test_an_output_folder_that_cannot_take_the_files_is_named_with_what_to_do(
    tmp_project, options, advice
):
    from .conftest import manifest_text, review_text

    root = tmp_project(
        {"content/reviews/a.md": review_text("Alpha"), "issues/t-1.yaml": manifest_text(["a"])}
    )
    built = _mounted_build(root, options)
    assert built.returncode == 1, built.stderr
    errors = [line for line in built.stderr.splitlines() if "cannot write the outputs" in line]
    assert errors == [f"{root / 'out' / 't-1'}: cannot write the outputs: {advice} with --out"]
    assert "internal error" not in built.stderr and "Traceback" not in built.stderr
