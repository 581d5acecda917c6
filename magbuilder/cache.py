"""The build cache (``<out>/.cache/``): files named by what they are made from, checked on every
read, and pruned.

An entry is written atomically: a one-line header with the SHA-256 of its content, then the
content. A read checks the digest, so an entry cut short by a full disk or changed on disk is
never used: it is discarded, with a one-line note, and the caller makes it again. A read also
marks the entry as used; ``prune`` removes entries unused for ``KEEP_DAYS`` and then, oldest
first, whatever keeps the cache above ``MAX_BYTES``.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import time
from pathlib import Path

from .files import write_atomic

log = logging.getLogger(__name__)

HEADER = b"magbuilder-cache 1 sha256="
KEEP_DAYS = 30
MAX_BYTES = 2 * 1024**3


_UNWRITABLE: set[Path] = set()  # cache folders already noted as unwritable, in this process


class Cache:
    """One kind of entry (chunks, resampled images…) in one folder of the cache."""

    def __init__(self, folder: Path, suffix: str = "") -> None:
        self.folder = Path(folder)
        self.suffix = suffix

    def path(self, key: str) -> Path:
        return self.folder / f"{key}{self.suffix}"

    def get(self, key: str) -> bytes | None:
        """The content stored under ``key``, or None (never a damaged entry)."""
        path = self.path(key)
        try:
            stored = path.read_bytes()
        except OSError:
            return None
        head, _, data = stored.partition(b"\n")
        digest = head.removeprefix(HEADER).decode("ascii", "replace")
        if not head.startswith(HEADER) or hashlib.sha256(data).hexdigest() != digest:
            log.warning("%s: damaged cache entry discarded; made again", path)
            path.unlink(missing_ok=True)
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # used: prune keeps it
        return data

    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` (atomically: a reader sees all of it or nothing).

        A cache that cannot be written (a full disk, a read-only folder) is noted once and
        done without: the build goes on, and its own outputs say whether they could be written.
        """
        header = HEADER + hashlib.sha256(data).hexdigest().encode("ascii") + b"\n"
        try:
            write_atomic(self.path(key), header + data)
        except OSError as exc:
            if self.folder not in _UNWRITABLE:
                _UNWRITABLE.add(self.folder)
                log.warning("%s: cannot keep entries in the cache (%s)", self.folder, exc.strerror)


def prune(
    root: Path,
    *,
    keep_days: float = KEEP_DAYS,
    max_bytes: int = MAX_BYTES,
    now: float | None = None,
) -> int:
    """Remove cache entries under ``root`` unused for ``keep_days``, then the least recently
    used ones until the cache holds at most ``max_bytes``. Returns how many were removed."""
    now = time.time() if now is None else now
    entries = []
    for path in Path(root).rglob("*"):
        try:
            info = path.stat()
        except OSError:
            continue
        if path.is_file() and not path.name.startswith("."):  # not a file being written
            entries.append((info.st_mtime, info.st_size, path))
    entries.sort()  # oldest first
    total = sum(size for _, size, _ in entries)
    removed = 0
    for mtime, size, path in entries:
        if now - mtime <= keep_days * 86400 and total <= max_bytes:
            break
        try:
            path.unlink(missing_ok=True)
        except OSError:  # a read-only cache keeps what it has
            continue
        total -= size
        removed += 1
    return removed
