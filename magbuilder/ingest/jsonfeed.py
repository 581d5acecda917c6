"""JSON Feed 1.0/1.1 (https://jsonfeed.org/version/1.1) → raw items."""

from __future__ import annotations

import html
import json
import re
from typing import Any

from .clean import absolute, html_to_text, is_web
from .feeds import SourceError, SourceItems
from .item import ImageCandidate, RawItem


def looks_like_json_feed(data: bytes, content_type: str = "") -> bool:
    """Whether a body is (meant to be) a JSON Feed rather than XML."""
    kind = content_type.split(";")[0].strip().lower()
    return kind in ("application/feed+json", "application/json") or data.lstrip()[:1] == b"{"


def text_to_html(text: str) -> str:
    """Plain text (``content_text``) → paragraphs of escaped HTML, split at blank lines."""
    paragraphs = re.split(r"\n\s*\n", text.strip())
    return "".join(
        "<p>" + html.escape(p.strip()).replace("\n", "<br>") + "</p>" for p in paragraphs if p
    )


def _names(value: Any) -> list[str]:
    people = value if isinstance(value, list) else [value] if isinstance(value, dict) else []
    return [html_to_text(str(p["name"])) for p in people if isinstance(p, dict) and p.get("name")]


def _line_of(text: str, key: str, value: str) -> int | None:
    needle = json.dumps(value, ensure_ascii=False)[1:-1]
    match = re.search(rf'"{key}"\s*:\s*"{re.escape(needle)}"', text)
    return text.count("\n", 0, match.start()) + 1 if match else None


def read_json_feed(data: bytes, origin: str, url: str | None = None) -> SourceItems:
    """Parse a JSON Feed; raises SourceError when it is not one."""
    try:
        text = data.decode("utf-8-sig")
        feed = json.loads(text)
    except UnicodeDecodeError as exc:
        raise SourceError(f"not a JSON Feed: not UTF-8 (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise SourceError(f"not a JSON Feed: invalid JSON ({exc.msg})", exc.lineno) from None
    version = feed.get("version") if isinstance(feed, dict) else None
    if not isinstance(version, str) or not version.startswith("https://jsonfeed.org/version/1"):
        raise SourceError(
            "not a JSON Feed: no 'version' of https://jsonfeed.org/version/1.x; check the address"
        )
    raw_items = feed.get("items")
    if not isinstance(raw_items, list):
        raise SourceError("not a JSON Feed: 'items' is missing or not a list")
    home = feed.get("home_page_url") or feed.get("feed_url") or url
    home = home if isinstance(home, str) and is_web(home) else url
    feed_authors = _names(feed.get("authors")) or _names(feed.get("author"))
    warnings: list[tuple[int | None, str]] = []
    items = []
    for index, entry in enumerate(raw_items):
        if not isinstance(entry, dict):
            warnings.append((None, f"item {index + 1} is not an object: skipped"))
            continue
        ident = entry.get("id")
        guid = str(ident).strip() if isinstance(ident, str | int) and str(ident).strip() else None
        link = entry.get("url") if isinstance(entry.get("url"), str) else None
        link = absolute(link, home) if link else None
        content = entry.get("content_html")
        if not isinstance(content, str) or not content.strip():
            plain = entry.get("content_text")
            content = text_to_html(plain) if isinstance(plain, str) and plain.strip() else None
        summary = entry.get("summary")
        media = []
        for key in ("image", "banner_image"):
            if isinstance(entry.get(key), str) and entry[key].strip():
                media.append(ImageCandidate(url=absolute(entry[key], link or home) or entry[key]))
        for attachment in entry.get("attachments") or []:
            if isinstance(attachment, dict) and str(attachment.get("mime_type", "")).startswith(
                "image/"
            ):
                media.append(ImageCandidate(url=absolute(attachment.get("url"), home) or ""))
        tags = [html_to_text(str(t)) for t in entry.get("tags") or [] if isinstance(t, str)]
        names = _names(entry.get("authors")) or _names(entry.get("author")) or feed_authors
        item = RawItem(
            origin=origin,
            number=index + 1,
            line=_line_of(text, "id", guid) if guid else None,
            title=html_to_text(entry["title"]) if isinstance(entry.get("title"), str) else None,
            link=link,
            guid=guid,
            author=", ".join(names) or None,
            date_raw=entry.get("date_published") or entry.get("date_modified"),
            summary_html=html.escape(summary) if isinstance(summary, str) else None,
            content_html=content,
            base=link or home,
            lang=entry.get("language") or feed.get("language"),
            tags=[t for t in tags if t],
            media=[m for m in media if m.url],
        )
        item.size = len((content or "").encode())
        items.append(item)
    return SourceItems(items, warnings)
