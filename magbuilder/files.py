"""Writing files so that nobody ever sees a half-written one: temporary file (or folder), then
rename (or exchange)."""

from __future__ import annotations

import ctypes
import errno
import glob
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def stage(path: Path, data: bytes | str) -> Path:
    """Write ``data`` (text as UTF-8) to a complete temporary file beside ``path``; return it."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; outputs are for sharing
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it into place."""
    os.replace(stage(path, data), path)


def replace_folder(
    folder: Path,
    files: dict[str, bytes],
    *,
    ours: set[str] = frozenset(),  # type: ignore[assignment]
    check: Callable[[Path], None] | None = None,
) -> None:
    """Make ``files`` (relative names → bytes) the contents of ``folder``, all at once.

    The new folder is written beside the old one (``.<name>.new-…``, every file synced),
    ``check(staged_folder)`` may still refuse it, and then one atomic exchange of the two
    folders puts it in place: a reader, or a crash at any moment, sees the old outputs or the
    new ones, never a mix. Entries of the old folder that are not ``ours`` (names the previous
    build wrote) nor new, such as rendered snapshots, are carried over by hard link.
    A failure before the exchange leaves the old folder as it was.
    """
    folder = Path(folder)
    parent = folder.parent
    parent.mkdir(parents=True, exist_ok=True)
    with _locked(parent / f".{folder.name}.lock"):  # one writer per folder at a time
        recover(folder)
        staged = Path(tempfile.mkdtemp(prefix=f".{folder.name}.new-", dir=parent))
        try:
            os.chmod(staged, 0o777 & ~_umask())
            for name, data in files.items():
                if not _same_as(folder / name, data, staged / name):
                    _write_synced(staged / name, data)
            if folder.is_dir():
                _carry_over(folder, staged, set(files) | set(ours))
            _sync_dir(staged)
            if check is not None:
                check(staged)
            if not folder.exists():
                os.replace(staged, folder)
            elif not _exchange(staged, folder):
                _swap_by_renames(staged, folder)
        except BaseException:
            recover(folder)  # an old folder moved aside goes back; the new one goes
            raise
        _sync_dir(parent)
        shutil.rmtree(staged, ignore_errors=True)  # the old outputs, if any


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive advisory lock on ``path`` (POSIX ``flock``; none where unavailable)."""
    try:
        import fcntl
    except ImportError:  # not POSIX
        yield
        return
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def recover(folder: Path) -> None:
    """Finish or undo what a crashed ``replace_folder`` left beside ``folder``.

    A folder moved aside by the rename fallback goes back if ``folder`` itself is missing;
    half-written new folders and old outputs left after an exchange are removed.
    """
    parent = folder.parent
    if not parent.is_dir():
        return
    for aside in sorted(parent.glob(f".{glob.escape(folder.name)}.old-*")):
        if not folder.exists():
            os.replace(aside, folder)
        else:
            shutil.rmtree(aside, ignore_errors=True)
    for leftover in parent.glob(f".{glob.escape(folder.name)}.new-*"):
        shutil.rmtree(leftover, ignore_errors=True)


def _same_as(old: Path, data: bytes, new: Path) -> bool:
    """Link ``new`` to ``old`` when ``old`` already holds exactly ``data`` (a rebuild rewrites
    most outputs unchanged: images above all); False when it does not, or cannot be linked."""
    try:
        if old.is_symlink() or old.stat().st_size != len(data) or old.read_bytes() != data:
            return False
        new.parent.mkdir(parents=True, exist_ok=True)
        os.link(old, new)
    except OSError:
        return False
    return True


def _write_synced(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "xb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(path, 0o666 & ~_umask())


def _carry_over(old: Path, new: Path, skip: set[str]) -> None:
    """Hard-link the entries of ``old`` that the new outputs don't own into ``new``."""
    top = {name.split("/", 1)[0] for name in skip}
    for entry in old.iterdir():
        if entry.name in top or entry.name.startswith("."):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.copytree(entry, new / entry.name, symlinks=True, copy_function=_link)
        else:
            _link(entry, new / entry.name)


def _link(src: str | Path, dst: str | Path) -> None:
    try:
        os.link(src, dst, follow_symlinks=False)
    except OSError:  # another file system, or links not allowed
        shutil.copy2(src, dst, follow_symlinks=False)


def _sync_dir(path: Path) -> None:
    """Make renames and new entries in ``path`` durable (POSIX; a no-op where unsupported)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2(RENAME_EXCHANGE)``); False if unsupported."""
    if sys.platform != "linux":
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:  # glibc before 2.28, or another C library
        return False
    renameat2.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    error = ctypes.get_errno()
    if error in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):  # the file system can't
        return False
    raise OSError(error, os.strerror(error), str(b))


def _swap_by_renames(staged: Path, folder: Path) -> None:
    """Without an atomic exchange: old aside, new in place (``recover`` finishes a crash)."""
    aside = folder.with_name(f".{folder.name}.old-{staged.name.rsplit('-', 1)[-1]}")
    os.replace(folder, aside)
    os.replace(staged, folder)
    os.replace(aside, staged)  # removed by the caller like the exchanged old folder
