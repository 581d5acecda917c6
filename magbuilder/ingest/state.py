"""What ingest remembers between runs: ``<reviews>/.ingest-state.json``.

For each review it wrote: the item's identity and the hash of the text it last produced (so an
editor's change to the file can be told from an unchanged file); for each feed URL: the ETag and
Last-Modified of the last download (for conditional requests).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from ..files import write_atomic

STATE_NAME = ".ingest-state.json"


def digest(text: str) -> str:
    """SHA-256 of a file's text, as stored in the state."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class IngestState:
    """The state file's content; ``save`` writes it only when it changed."""

    path: Path
    reviews: dict[str, dict[str, str]] = field(default_factory=dict)
    feeds: dict[str, dict[str, str]] = field(default_factory=dict)
    _saved: str = ""

    @classmethod
    def load(cls, reviews_dir: Path) -> IngestState:
        """The state of ``reviews_dir`` (empty when there is none or it is unreadable)."""
        path = reviews_dir / STATE_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        if not isinstance(data, dict):
            data = {}
        state = cls(
            path=path,
            reviews=_table(data.get("reviews")),
            feeds=_table(data.get("feeds")),
        )
        state._saved = state.dumps()  # an empty state is not worth a file
        return state

    def dumps(self) -> str:
        """The file's text: sorted keys, so an unchanged state is an unchanged file."""
        data = {"version": 1, "reviews": self.reviews, "feeds": self.feeds}
        return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    def save(self) -> None:
        """Write the state if anything in it changed."""
        text = self.dumps()
        if text == self._saved:
            return
        write_atomic(self.path, text)
        self._saved = text


def _table(value: object) -> dict[str, dict[str, str]]:
    if not isinstance(value, dict):
        return {}
    return {
        str(k): {str(a): str(b) for a, b in v.items()}
        for k, v in value.items()
        if isinstance(v, dict)
    }
