"""The intermediate objects of ingest: a source's raw item, body blocks and image candidates.

Each source reader (feeds, JSON Feed, saved pages) produces ``RawItem``s; ``assemble`` turns one
into the front matter and Markdown body of a review file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class ImageCandidate:
    """An image the item offers: an absolute http(s) URL, or a file beside a saved page."""

    url: str
    alt: str = ""
    caption: str = ""
    credit: str = ""
    width: int = 0
    fallbacks: list[str] = field(default_factory=list)
    """Other sources of the same image, tried in order when ``url`` cannot be stored."""


@dataclass
class Block:
    """One block of the body, as Markdown lines and their plain text (for rules and metadata).

    ``kind`` is ``p`` (lines joined by hard breaks), ``h`` (sub-head), ``quote``, ``pull``
    (pull quote), ``list``, ``figure`` (``image`` set; rendered once the image is stored) or
    ``hr``.
    """

    kind: str
    lines: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    image: ImageCandidate | None = None

    @property
    def text(self) -> str:
        """The block's plain text, lines joined by spaces."""
        return " ".join(t for t in self.texts if t)


@dataclass
class RawItem:
    """One review as a source gives it, before cleaning and mapping to front matter."""

    origin: str
    """The source as shown in messages: a path or a URL."""
    number: int
    """1-based position of the item in its source."""
    line: int | None = None
    """Line of the item in the source file, when known."""
    title: str | None = None
    link: str | None = None
    guid: str | None = None
    author: str | None = None
    date_raw: str | None = None
    summary_html: str | None = None
    content_html: str | None = None
    base: str | None = None
    """URL that relative links in the item are resolved against."""
    lang: str | None = None
    tags: list[str] = field(default_factory=list)
    media: list[ImageCandidate] = field(default_factory=list)
    """Images the source names outside the body (media:content, enclosures…), best first."""
    blocks: list[Block] | None = None
    """A body already split into blocks (saved text pages); else ``content_html`` is converted."""
    standfirst: str | None = None
    """A standfirst the source marks as such (a page's lead paragraph, a text page's first line)."""
    kicker: str | None = None
    author_bio: str | None = None
    local_dir: Path | None = None
    """Folder of a saved page: its relative image paths are read from there."""
    notes: list[str] = field(default_factory=list)
    """Warnings the source reader already has about this item."""
    size: int = 0
    """Bytes of HTML the item carries (for the huge-item limit)."""
    key: str | None = None
    """Identity of last resort, for a saved page that names no URL (``file:<name>``)."""

    @property
    def identity(self) -> str | None:
        """What makes this review the same review on the next ingest: its guid, else its link."""
        return self.guid or self.link or self.key

    @property
    def label(self) -> str:
        """How messages name the item."""
        return f"item {self.number} '{self.title}'" if self.title else f"item {self.number}"
