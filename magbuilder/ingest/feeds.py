"""RSS 0.9x/1.0/2.0 and Atom feeds → raw items, through feedparser.

feedparser is given the bytes (never a URL: it has no timeout) and their content type, with
``sanitize_html=False`` so that embeds and lazy images survive until ``clean`` has seen them.
It mangles Media RSS (``media:description`` overwrites the summary), so images, captions and
credits are read from the XML directly, which also gives each item's line for messages.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

import feedparser
from lxml import etree

from .clean import absolute, html_to_text, is_web
from .item import ImageCandidate, RawItem

MEDIA = "http://search.yahoo.com/mrss/"
ATOM = "http://www.w3.org/2005/Atom"
RSS1 = "http://purl.org/rss/1.0/"
_IMAGE_URL = re.compile(r"\.(jpe?g|png|gif|webp)(\?|$)", re.I)


class SourceError(Exception):
    """A source that cannot be read at all (not a feed, unreadable file, failed download)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


@dataclass
class SourceItems:
    """What a source gave: its items and warnings about the source as a whole."""

    items: list[RawItem]
    warnings: list[tuple[int | None, str]] = field(default_factory=list)


def feed_links(data: bytes) -> list[str]:
    """Feed URLs an HTML page advertises with ``<link rel="alternate" type="…rss/atom…">``."""
    found = []
    for tag in re.findall(rb"<link\b[^>]*>", data[:200_000], re.I):
        text = tag.decode("utf-8", "replace")
        feedish = re.search(r"alternate", text, re.I) and re.search(
            r"(rss|atom|feed)\+?(xml|json)", text
        )
        if feedish and (match := re.search(r"href\s*=\s*[\"']([^\"']+)", text, re.I)):
            found.append(html.unescape(match[1]))
    return found


def not_a_feed(data: bytes, content_type: str, url: str | None) -> SourceError:
    """The error for a body that is no feed, saying what it is instead."""
    head = data[:2048].lstrip().lower()
    if not data.strip():
        return SourceError("not a feed: the body is empty; check the address of the feed")
    if "html" in content_type.lower() or head.startswith((b"<!doctype html", b"<html")):
        hint = ""
        if links := feed_links(data):
            hint = f"; the page names its feed: {absolute(links[0], url) or links[0]}"
        return SourceError(
            "not a feed: this is an HTML page; give the address of the site's feed (often"
            f" ending in /feed/ or /rss), or save the article and ingest the .html file{hint}"
        )
    kind = content_type.split(";")[0] or "unknown type"
    return SourceError(f"not a feed: neither RSS nor Atom ({kind}); check the address")


def _bozo_warning(parsed: feedparser.FeedParserDict, count: int) -> tuple[int | None, str]:
    exc = parsed.get("bozo_exception")
    name = type(exc).__name__
    if name == "CharacterEncodingOverride":
        return None, f"encoding: {exc}; read as {parsed.get('encoding')}"
    if name == "NonXMLContentType":
        return None, f"served with a content type that is not XML ({exc}); read it anyway"
    line = exc.getLineNumber() if hasattr(exc, "getLineNumber") else None
    message = exc.getMessage() if hasattr(exc, "getMessage") else str(exc)
    return line, (
        f"malformed feed ({message}): read as far as possible ({count} items); tell the site"
        " that its feed is not well-formed XML"
    )


def _media_of(element: etree._Element) -> list[ImageCandidate]:
    """media:content / media:thumbnail / enclosure images of one item, best first."""
    contents: list[ImageCandidate] = []
    thumbnails: list[ImageCandidate] = []
    enclosures: list[ImageCandidate] = []

    def text(node: etree._Element, name: str) -> str:
        found = node.find(f"{{{MEDIA}}}{name}")
        if found is None:
            found = element.find(f"{{{MEDIA}}}{name}")
        return html_to_text(found.text) if found is not None and found.text else ""

    for node in element.iter(f"{{{MEDIA}}}content"):
        url = (node.get("url") or "").strip()
        kind = (node.get("medium") or node.get("type") or "").lower()
        if url and ("image" in kind or (not kind and _IMAGE_URL.search(url))):
            width = node.get("width") or ""
            contents.append(
                ImageCandidate(
                    url=url,
                    alt=text(node, "title"),
                    caption=text(node, "description"),
                    credit=text(node, "credit"),
                    width=int(width) if width.isdigit() else 0,
                )
            )
    for node in element.iter(f"{{{MEDIA}}}thumbnail"):
        if url := (node.get("url") or "").strip():
            thumbnails.append(ImageCandidate(url=url))
    for node in element.iter("enclosure", f"{{{ATOM}}}link"):
        kind = (node.get("type") or "").lower()
        if node.tag != "enclosure" and node.get("rel") != "enclosure":
            continue
        url = (node.get("url") or node.get("href") or "").strip()
        if url and kind.startswith("image/"):
            enclosures.append(ImageCandidate(url=url))
    contents.sort(key=lambda c: -c.width)
    return contents + thumbnails + enclosures


def _raw_items(data: bytes) -> list[etree._Element]:
    parser = etree.XMLParser(
        recover=True, resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(data, parser)
    except (etree.XMLSyntaxError, ValueError):
        return []
    if root is None:
        return []
    return [
        e
        for e in root.iter("item", f"{{{RSS1}}}item", f"{{{ATOM}}}entry")
        if isinstance(e.tag, str)
    ]


def _match(
    elements: list[etree._Element], count: int, index: int, ids: tuple[str | None, ...]
) -> etree._Element | None:
    if len(elements) == count:
        return elements[index]
    for element in elements:
        texts = {(e.text or "").strip() for e in element.iter() if isinstance(e.tag, str)}
        texts |= {e.get("href", "") for e in element.iter(f"{{{ATOM}}}link")}
        if any(i and i in texts for i in ids):
            return element
    return None


def _text_field(value: str | None) -> str | None:
    if not value:
        return None
    return html_to_text(value) or None


def person_name(value: str) -> str | None:
    """A person's name from an author field: ``a@b.example (Name)``, ``Name <a@b>`` or a name."""
    value = html_to_text(value)
    if match := re.fullmatch(r"\S+@\S+\s*\((.+)\)", value):
        return match[1].strip() or None
    if match := re.fullmatch(r"(.+?)\s*<\S+@\S+>", value):
        return match[1].strip() or None
    return None if "@" in value and " " not in value else value or None


def _authors(entry: feedparser.FeedParserDict) -> str | None:
    # feedparser splits "email (Name)" badly, so e-mail forms are read from the raw field.
    raw = entry.get("author") or ""
    if "@" in raw:
        return person_name(raw)
    names: list[str] = []
    for author in entry.get("authors") or []:
        name = person_name(author.get("name") or "")
        if name and name not in names:
            names.append(name)
    if not names and raw:
        names.append(html_to_text(raw))
    return ", ".join(n for n in names if n) or None


def read_feed(
    data: bytes, origin: str, content_type: str = "", url: str | None = None
) -> SourceItems:
    """Parse a feed's bytes into raw items; raises SourceError when it is no feed at all."""
    headers = {}
    if content_type:
        headers["content-type"] = content_type
    if url:
        headers["content-location"] = url
    parsed = feedparser.parse(
        data, sanitize_html=False, resolve_relative_uris=False, response_headers=headers or None
    )
    if not data.strip() or (not parsed.get("version") and not parsed.entries):
        raise not_a_feed(data, content_type, url)
    warnings = [_bozo_warning(parsed, len(parsed.entries))] if parsed.get("bozo") else []
    feed = parsed.feed
    feed_base = feed.get("link") or url
    elements = _raw_items(data)
    items = []
    for index, entry in enumerate(parsed.entries):
        element = _match(elements, len(parsed.entries), index, (entry.get("id"), entry.get("link")))
        contents = [c for c in entry.get("content") or [] if c.get("value")]
        content = max(contents, key=lambda c: len(c["value"])) if contents else None
        summary = entry.get("summary") or None
        detail = content or entry.get("summary_detail") or {}
        link = entry.get("link") or None
        base = detail.get("base") or link or feed_base
        tags = [html_to_text(t.get("label") or t.get("term") or "") for t in entry.get("tags", [])]
        item = RawItem(
            origin=origin,
            number=index + 1,
            line=element.sourceline if element is not None else None,
            title=_text_field(entry.get("title")),
            link=absolute(link, feed_base) if link else None,
            guid=(entry.get("id") or "").strip() or None,
            author=_authors(entry) or _authors(feed),
            date_raw=entry.get("published") or entry.get("updated") or entry.get("created"),
            summary_html=summary,
            content_html=content["value"] if content else None,
            base=base if is_web(base) else None,
            lang=detail.get("language") or feed.get("language"),
            tags=[t for t in tags if t],
            media=_media_of(element) if element is not None else [],
        )
        item.size = len((item.content_html or "").encode()) + len((summary or "").encode())
        for image in item.media:
            image.url = absolute(image.url, base) or image.url
        items.append(item)
    return SourceItems(items, warnings)
