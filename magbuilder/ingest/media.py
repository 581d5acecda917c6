"""Store a review's images in ``content/media/`` at ingest time, so builds never touch the network.

Each image is checked before it is kept: http(s) only, no private or loopback hosts (unless
``images.allow_private``), a size cap, a timeout, an ``image/*`` content type, and magic bytes
that really are JPEG, PNG, GIF or WebP. File names are ``<slug>-<hash of the URL>.<ext>``, so
the same image gets the same name on every ingest and is downloaded only once.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..files import write_atomic
from .clean import is_web, local_file
from .config import ImageSettings
from .fetch import Fetcher, FetchError
from .item import ImageCandidate

MEDIA_DIR = "media"
TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp"}


class MediaError(Exception):
    """An image that cannot be stored; the message says why."""


def sniff(data: bytes) -> str | None:
    """The image type the bytes really are (by their magic number), or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


class MediaStore:
    """Stores images under ``<content>/media/``; returns paths relative to ``content/``."""

    def __init__(self, content_dir: Path, settings: ImageSettings, fetcher: Fetcher) -> None:
        self.media_dir = content_dir / MEDIA_DIR
        self.settings = settings
        self.fetcher = fetcher
        self._done: dict[tuple[str, str], str] = {}
        self._failed: dict[str, str] = {}

    def store(
        self, image: ImageCandidate, slug: str, local_dir: Path | None = None
    ) -> tuple[str | None, str | None]:
        """(src under content/, None) for the first of the image's sources that can be stored,
        else (None, why the first one could not)."""
        first_problem = None
        for url in [image.url, *image.fallbacks]:
            if url in self._failed:  # one attempt per URL and run: a dead host costs one timeout
                first_problem = first_problem or self._failed[url]
                continue
            try:
                return self._store_one(url, slug, local_dir), None
            except MediaError as exc:
                self._failed[url] = str(exc)
                first_problem = first_problem or str(exc)
        return None, first_problem

    def _store_one(self, url: str, slug: str, local_dir: Path | None) -> str:
        if (url, slug) in self._done:
            return self._done[(url, slug)]
        stem = f"{slug}-{hashlib.sha256(url.encode()).hexdigest()[:10]}"
        existing = sorted(self.media_dir.glob(f"{stem}.*")) if self.media_dir.is_dir() else []
        existing = [p for p in existing if p.suffix[1:] in TYPES.values()]
        if existing:
            src = f"{MEDIA_DIR}/{existing[0].name}"
        else:
            data = self._read(url, local_dir)
            kind = sniff(data)
            if kind is None:
                raise MediaError(f"{url}: not a JPEG, PNG, GIF or WebP image (by its content)")
            name = f"{stem}.{TYPES[kind]}"
            write_atomic(self.media_dir / name, data)
            src = f"{MEDIA_DIR}/{name}"
        self._done[(url, slug)] = src
        return src

    def _read(self, url: str, local_dir: Path | None) -> bytes:
        limit = self.settings.max_bytes
        if is_web(url):
            if not self.settings.download:
                raise MediaError(f"{url}: not downloaded (images.download is false in ingest.yaml)")
            try:
                fetched = self.fetcher.get(
                    url,
                    timeout=self.settings.timeout,
                    max_bytes=limit,
                    headers={"Accept": ", ".join(TYPES)},
                    allow_private=self.settings.allow_private,
                )
            except FetchError as exc:
                raise MediaError(str(exc)) from None
            declared = fetched.content_type.split(";")[0].strip().lower()
            if declared not in TYPES:
                raise MediaError(
                    f"{url}: served as '{declared or 'no type'}', not as a JPEG/PNG/GIF/WebP image"
                )
            return fetched.content
        path = local_file(local_dir, url) if local_dir else None
        if path is None:
            raise MediaError(f"{url}: neither a web address nor a file beside the saved page")
        if path.stat().st_size > limit:
            raise MediaError(f"{url}: larger than the {limit / 1e6:g} MB limit")
        return path.read_bytes()
