"""Links in the newsletter: campaign parameters on site links, and per-subscriber merge fields."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..content import Site

MERGE_TOKEN = re.compile(r"%%([a-z_][a-z0-9_]*)(?:\|([^%<>\"]*))?%%")


def site_hosts(site: Site) -> set[str]:
    """Hosts whose links count as the magazine's own."""
    urls = [site.base_url, site.archive_url, site.image_base_url, site.unsubscribe_url]
    return {urlsplit(u).hostname or "" for u in urls if u}


def tracked(url: str, site: Site, issue_id: str) -> str:
    """``url`` with the campaign (UTM) parameters added when it points at the site.

    Existing query parameters are kept; a parameter already present is not overridden.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.hostname not in site_hosts(site):
        return url
    query = parse_qsl(parts.query, keep_blank_values=True)
    present = {key for key, _ in query}
    for key, value in site.utm.items():
        if key not in present:
            query.append((key, value.replace("{id}", issue_id)))
    return urlunsplit(parts._replace(query=urlencode(query)))


def merge_field(name: str, default: str = "") -> str:
    """The placeholder a template writes for a per-subscriber value (filled in at send time)."""
    return f"%%{name}|{default}%%" if default else f"%%{name}%%"


@dataclass(frozen=True)
class Field:
    """A ``%%name|default%%`` placeholder of a template, split out by :func:`merge_pieces`."""

    name: str
    default: str  # written by the template, already escaped for its context

    def fill(self, values: Mapping[str, str], *, escape: bool) -> str:
        """The subscriber's value (HTML-escaped if ``escape``), else the template's default."""
        value = values.get(self.name)
        if not value:
            return self.default
        return html.escape(value, quote=True) if escape else value


def merge_pieces(text: str) -> list[str | Field]:
    """``text`` as its literal stretches and merge fields, in order (no empty stretches)."""
    pieces: list[str | Field] = []
    end = 0
    for match in MERGE_TOKEN.finditer(text):
        if match.start() > end:
            pieces.append(text[end : match.start()])
        pieces.append(Field(match.group(1), match.group(2) or ""))
        end = match.end()
    if end < len(text):
        pieces.append(text[end:])
    return pieces


def merge(text: str, values: Mapping[str, str], *, escape: bool) -> str:
    """Fill every ``%%name|default%%`` placeholder from ``values`` (HTML-escaped if ``escape``)."""
    return "".join(
        p if isinstance(p, str) else p.fill(values, escape=escape) for p in merge_pieces(text)
    )


def unsubscribe_link(site: Site, token: str | None) -> str | None:
    """The one-click unsubscribe URL for a subscriber's token, or the generic page without one."""
    if not site.unsubscribe_url:
        return None
    if token:
        return site.unsubscribe_url.replace("{token}", token)
    parts = urlsplit(site.unsubscribe_url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if "{token}" not in v]
    return urlunsplit(parts._replace(query=urlencode(query)))
