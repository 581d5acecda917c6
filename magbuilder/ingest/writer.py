"""Write ingested reviews into ``content/reviews/`` without ever losing an editor's work.

A review is found again by its identity (guid, else link), so its slug — derived from the title
the first time — is kept even when the title changes. An unchanged item leaves its file byte for
byte as it was. A changed item replaces the file only when the file is still exactly what ingest
wrote last time (its hash is in the state); when an editor has changed it, the new version is
written beside it as ``<slug>.incoming.md`` and reported as a conflict.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..files import write_atomic
from ..store import split_front_matter
from ..yamlpos import load_yaml
from .state import IngestState, digest

INCOMING = ".incoming.md"
_FOLD = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "đ": "d", "ł": "l", "þ": "th"})
_FOLD.update({ord("ð"): "d", ord("ı"): "i"})


def slugify(title: str, max_length: int = 60) -> str:
    """``"Static over Gdańsk"`` → ``static-over-gdansk`` (ASCII, at most ``max_length``)."""
    text = unicodedata.normalize("NFKD", title.lower().translate(_FOLD))
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"['’]", "", text)
    slug = re.sub(r"[^a-z0-9]+", "-", text.encode("ascii", "ignore").decode()).strip("-")
    if len(slug) > max_length:
        slug = slug[:max_length].rsplit("-", 1)[0]
    return slug


@dataclass(frozen=True)
class ItemOutcome:
    """What happened to one item: new, updated, unchanged, conflict or skipped."""

    status: str
    path: Path | None = None
    detail: str = ""


class ReviewWriter:
    """Maps identities to slugs and writes review files into one folder."""

    def __init__(self, reviews_dir: Path, state: IngestState) -> None:
        self.dir = reviews_dir
        self.state = state
        self._by_id: dict[str, str] = {}
        self._by_link: dict[str, str] = {}
        self._taken: set[str] = set()
        self._index()

    def _index(self) -> None:
        for slug, entry in self.state.reviews.items():
            if entry.get("id"):
                self._by_id.setdefault(entry["id"], slug)
        if not self.dir.is_dir():
            return
        for path in sorted(self.dir.glob("*.md")):
            if path.name.endswith(INCOMING):
                continue
            self._taken.add(path.stem)
            front = _front_matter(path)
            if isinstance(front.get("guid"), str):
                self._by_id.setdefault(front["guid"], path.stem)
            if isinstance(front.get("source_url"), str):
                self._by_link.setdefault(front["source_url"], path.stem)

    def slug_for(self, identity: str, link: str | None, title: str) -> str:
        """The slug of the review with this identity: the existing one, else a new unique one."""
        found = self._by_id.get(identity) or self._by_link.get(identity)
        if not found and link:
            found = self._by_link.get(link)
        if found:
            return found
        base = slugify(title) or "review-" + digest(identity)[:8]
        slug, n = base, 2
        while slug in self._taken or slug in self.state.reviews:
            slug, n = f"{base}-{n}", n + 1
        self._taken.add(slug)
        self._by_id[identity] = slug
        return slug

    def write(self, slug: str, identity: str, text: str) -> ItemOutcome:
        """Write (or not) one review's text; the outcome says which way it went."""
        path = self.dir / f"{slug}.md"
        incoming = self.dir / f"{slug}{INCOMING}"
        new_hash = digest(text)
        known = self.state.reviews.get(slug, {})
        record = {"id": identity, "sha256": new_hash}
        if not path.exists():
            self._write(path, text)
            self.state.reviews[slug] = record
            return ItemOutcome("new", path)
        current = path.read_bytes().decode("utf-8", errors="replace")
        if current == text:
            self.state.reviews[slug] = record
            if incoming.is_file() and incoming.read_text(encoding="utf-8") == text:
                incoming.unlink()
            return ItemOutcome("unchanged", path)
        unedited = known.get("sha256") == digest(current)
        if unedited:
            self._write(path, text)
            self.state.reviews[slug] = record
            return ItemOutcome("updated", path)
        if known.get("sha256") == new_hash and not incoming.is_file():
            return ItemOutcome("unchanged", path, "kept the editor's changes")
        if not (incoming.is_file() and incoming.read_text(encoding="utf-8") == text):
            self._write(incoming, text)
        self.state.reviews[slug] = record
        return ItemOutcome(
            "conflict",
            incoming,
            f"{path.name} was edited since the last ingest and the source changed: the new"
            f" version is in {incoming.name}; merge what you want into {path.name}, then"
            f" delete {incoming.name}",
        )

    def _write(self, path: Path, text: str) -> None:
        write_atomic(path, text)


def _front_matter(path: Path) -> dict:
    """A review file's front matter as plain data; {} when it cannot be read.

    Read as the build reads it (``load_yaml``: its limits, keys written once, YAML 1.2
    booleans); a file the build would refuse is not looked into here either.
    """
    try:
        front, _, _ = split_front_matter(path.read_text(encoding="utf-8"), path)
        data, _ = load_yaml(front, path, line_offset=1)
    except (InputError, OSError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}
