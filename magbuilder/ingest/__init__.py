"""Ingest: reviews from feeds (RSS, Atom, JSON Feed) and saved article pages → review files.

``ingest(sources, into)`` reads each source, turns every item into a cleaned review file in
``content/reviews/`` (images stored in ``content/media/``), never overwrites an editor's changes,
and returns a report: one outcome per item, findings for what a person should look at, and the
summary line ``new 3, updated 1, unchanged 7, skipped 1`` (``, truncated 1`` when a text written
was cut off at its source).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .. import paths
from ..errors import Finding
from ..store import REVIEWS_DIR, format_review
from .assemble import Assembler, Incoming
from .config import IngestSettings, Rules, load_settings
from .feeds import SourceError, SourceItems, read_feed
from .fetch import Fetcher, FetchError
from .html2md import render_body
from .item import Block, ImageCandidate, RawItem
from .jsonfeed import looks_like_json_feed, read_json_feed
from .media import MediaStore
from .metadata import MetadataReader
from .pages import read_html_page, read_page_bytes, read_text_page
from .rules import RuleSet
from .state import IngestState
from .writer import ItemOutcome, ReviewWriter

__all__ = ["IngestReport", "ingest"]

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9,"
    " text/xml;q=0.9, */*;q=0.5"
)
STATUSES = ("new", "updated", "unchanged", "skipped", "conflict")


def shown(path: Path) -> str:
    """A path as the user should see it: relative to the working folder when inside it."""
    return paths.shown(path, Path.cwd().resolve())


@dataclass
class IngestReport:
    """What a run did: an outcome per item, findings to show, source-level errors."""

    outcomes: list[tuple[ItemOutcome, str]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    errors: list[Finding] = field(default_factory=list)
    truncated: list[Path] = field(default_factory=list)
    """Files written this run with ``truncated: true`` (their text was cut off at the source)."""

    def count(self, status: str) -> int:
        """How many items ended with ``status``."""
        return sum(1 for outcome, _ in self.outcomes if outcome.status == status)

    def summary(self) -> str:
        """``new 3, updated 1, unchanged 7, skipped 1`` (and conflicts, and files written with
        ``truncated: true``, when there are any)."""
        parts = [f"{status} {self.count(status)}" for status in STATUSES[:4]]
        if conflicts := self.count("conflict"):
            parts.append(f"conflicts {conflicts}")
        if self.truncated:
            parts.append(f"truncated {len(self.truncated)}")
        return ", ".join(parts)

    def lines(self) -> list[str]:
        """One line per file written: ``new  content/reviews/x.md``."""
        return [
            f"{outcome.status:<9} {shown(outcome.path)}"
            for outcome, _ in self.outcomes
            if outcome.path is not None and outcome.status in ("new", "updated", "conflict")
        ]


class Ingester:
    """One run over several sources into one reviews folder."""

    def __init__(
        self,
        into: Path,
        settings: IngestSettings,
        rules: Rules,
        fetcher: Fetcher,
        title: str | None = None,
    ) -> None:
        self.into = into
        self.settings = settings
        self.ruleset = RuleSet(rules)
        self.reader = MetadataReader(rules.labels)
        self.assembler = Assembler(settings, self.ruleset)
        self.fetcher = fetcher
        self.title = title
        self.state = IngestState.load(into)
        self.writer = ReviewWriter(into, self.state)
        self.media = MediaStore(into.parent, settings.images, fetcher)
        self.report = IngestReport()
        self.seen: dict[str, str] = {}
        self.pending: list[Finding] = []

    # ---- sources -----------------------------------------------------------------------------
    def source(self, source: str) -> None:
        """Ingest every item of one source; a source that cannot be read is an error."""
        try:
            got = self._read(source)
        except SourceError as exc:
            self.report.errors.append(Finding(source, exc.line, str(exc)))
            return
        if got is None:
            self.report.findings.append(
                Finding(source, None, "not modified since the last ingest: nothing to do", "note")
            )
            return
        for line, message in got.warnings:
            self.report.findings.append(Finding(source, line, message, "warning"))
        for item in got.items:
            self.item(item)

    def _read(self, source: str) -> SourceItems | None:
        if re.match(r"^https?://", source, re.I):
            return self._read_url(source)
        path = Path(source)
        if not path.is_file():
            raise SourceError("no such file (give a feed URL, a feed file or a saved page)")
        suffix = path.suffix.lower()
        if suffix == ".txt":
            item = read_text_page(path, source, self.ruleset, self.reader, self.title)
            return SourceItems([item])
        if suffix in (".html", ".htm", ".xhtml"):
            return SourceItems([read_html_page(path, source, self.ruleset, self.title)])
        data = read_page_bytes(path)
        if suffix == ".json" or (data.strip() and looks_like_json_feed(data)):
            return read_json_feed(data, source)
        return read_feed(data, source)

    def _read_url(self, url: str) -> SourceItems | None:
        cached = self.state.feeds.get(url, {})
        headers = {"Accept": FEED_ACCEPT}
        if cached.get("etag"):
            headers["If-None-Match"] = cached["etag"]
        if cached.get("last_modified"):
            headers["If-Modified-Since"] = cached["last_modified"]
        fetch = self.settings.fetch
        try:
            fetched = self.fetcher.get(
                url, timeout=fetch.timeout, max_bytes=fetch.max_bytes, headers=headers
            )
        except FetchError as exc:
            raise SourceError(str(exc).removeprefix(f"{url}: ")) from None
        if fetched.not_modified:
            return None
        if looks_like_json_feed(fetched.content, fetched.content_type):
            got = read_json_feed(fetched.content, url, fetched.url)
        else:
            got = read_feed(fetched.content, url, fetched.content_type, fetched.url)
        validators = {"etag": fetched.etag, "last_modified": fetched.last_modified}
        self.state.feeds[url] = {k: v for k, v in validators.items() if v}
        if not self.state.feeds[url]:
            del self.state.feeds[url]
        return got

    # ---- items -------------------------------------------------------------------------------
    def _finding(self, item: RawItem, message: str, level: str = "warning") -> None:
        finding = Finding(item.origin, item.line, f"{item.label}: {message}", level)
        self.pending.append(finding)

    def item(self, item: RawItem) -> None:
        """Prepare, store the images of, render and write one item.

        Warnings are shown for items that were written or skipped; an unchanged item is quiet.
        """
        self.pending = []
        outcome = self._item(item)
        if outcome.status != "unchanged":
            self.report.findings.extend(self.pending)
        self.report.outcomes.append((outcome, item.title or ""))

    def _item(self, item: RawItem) -> ItemOutcome:
        identity = item.identity
        if not identity and item.title:
            identity = f"title:{item.title}"
            self._finding(item, "has neither guid nor link: recognised by its title from now on")
        if identity and identity in self.seen:
            kind = "guid" if item.guid else "link" if item.link else "identity"
            return self._skip(item, f"duplicate {kind} '{identity}' (as {self.seen[identity]})")
        if identity:
            self.seen[identity] = f"item {item.number} of {item.origin}"
        incoming = self.assembler.prepare(item)
        for warning in incoming.warnings:
            self._finding(item, warning)
        if incoming.skip or not identity:
            return self._skip(item, incoming.skip or "has no guid, link or title to know it by")
        front = incoming.front
        slug = self.writer.slug_for(identity, item.link, front["title"])
        front["image"], blocks = self._images(incoming, slug)
        body = render_body(blocks, lambda image: self._stored(item, image, slug))
        outcome = self.writer.write(slug, identity, format_review(front, body))
        if outcome.status == "conflict":
            self._finding(item, outcome.detail, "conflict")
        if front.get("truncated") and outcome.path and outcome.status != "unchanged":
            self.report.truncated.append(outcome.path)
        return outcome

    def _skip(self, item: RawItem, reason: str) -> ItemOutcome:
        self._finding(item, f"skipped: {reason}", "error")
        return ItemOutcome("skipped", None, reason)

    def _stored(self, item: RawItem, image: ImageCandidate, slug: str) -> str | None:
        src, problem = self.media.store(image, slug, item.local_dir)
        if problem:
            self._finding(item, f"image left out of the body: {problem}")
        return src

    def _images(self, incoming: Incoming, slug: str) -> tuple[dict | None, list[Block]]:
        """The hero image (front matter) and the body blocks without the figure it came from."""
        item, blocks = incoming.item, incoming.blocks
        figures = [b for b in blocks if b.kind == "figure" and b.image is not None]
        candidates = [(image, None) for image in incoming.hero]
        candidates += [(figures[0].image, figures[0])] if figures else []
        for image, block in candidates:
            src, problem = self.media.store(image, slug, item.local_dir)
            if not src:
                if block is None:  # a body figure's failure is reported once, by the body
                    self._finding(item, f"hero image not stored: {problem}")
                continue
            alt = image.alt or image.caption
            if not alt:
                alt = incoming.front["title"]
                self._finding(item, "the hero image has no description: write one in image.alt")
            same = {image.url, *image.fallbacks}
            kept = [b for b in blocks if b is not block and not (b.image and b.image.url in same)]
            hero = {
                "src": src,
                "alt": alt,
                "caption": image.caption or None,
                "credit": image.credit or None,
            }
            return hero, kept
        return None, blocks


def project_root(reviews_dir: Path) -> Path:
    """The project folder of a reviews folder (``<root>/content/reviews``)."""
    return reviews_dir.resolve().parent.parent


def ingest(
    sources: list[str],
    into: Path | str = REVIEWS_DIR,
    *,
    title: str | None = None,
    root: Path | None = None,
) -> IngestReport:
    """Ingest ``sources`` (feed URLs or files, saved ``.html``/``.txt`` pages) into ``into``.

    Settings come from ``<root>/ingest.yaml`` (root defaults to the folder above ``content/``);
    an invalid ingest.yaml raises InputError. Problems with sources and items are in the report.
    """
    into = Path(into)
    root = root if root is not None else project_root(into)
    settings, rules = load_settings(root, shown(root / "ingest.yaml"))
    with Fetcher(settings.fetch.user_agent) as fetcher:
        run = Ingester(into, settings, rules, fetcher, title)
        for source in sources:
            run.source(source)
        run.state.save()
    return run.report
