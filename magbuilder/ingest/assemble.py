"""One raw item → the front matter and body blocks of a review (images not stored yet).

The order matters: clean and convert the HTML; give up on excerpts; drop boilerplate paragraphs;
take out labelled film facts and the author bio; pick the standfirst and kicker; flag a text a
paywall cut off (``truncated: true``); map the rest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..content import BCP47
from .clean import clean_html, collapse, html_to_text
from .config import IngestSettings
from .dates import parse_date
from .html2md import html_to_blocks
from .item import Block, ImageCandidate, RawItem
from .metadata import MetadataReader, extract_facts, find_bio, split_credit, split_kicker
from .rules import RuleSet

_FOOTER = re.compile(r"\s*the post .{1,300}? appeared first on .{1,200}?\.?\s*$", re.I)
_CUT = re.compile(r"\s*(\[\s*(…|\.\.\.)\s*\]|…|\.\.\.)\s*$")


@dataclass
class Incoming:
    """A review ready to be written once its images are stored, or the reason to skip it."""

    item: RawItem
    front: dict[str, Any] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)
    hero: list[ImageCandidate] = field(default_factory=list)
    """Hero image candidates, best first; the first body figure is the last resort."""
    warnings: list[str] = field(default_factory=list)
    skip: str | None = None


def _normalised(text: str) -> str:
    return re.sub(r"\W+", "", text.casefold())


def distinct_summary(summary: str, body_text: str) -> bool:
    """Whether a summary says something of its own, rather than repeating the body's start."""
    summary = _CUT.sub("", _FOOTER.sub("", summary))
    short, body = _normalised(summary), _normalised(body_text)
    return bool(short) and not body.startswith(short) and short not in body[: len(short) + 200]


def normal_lang(value: str | None) -> str | None:
    """``en_us`` → ``en-US``; None when not a BCP 47 tag."""
    if not value:
        return None
    parts = value.strip().replace("_", "-").split("-")
    tag = "-".join([parts[0].lower()] + [p.upper() if len(p) == 2 else p for p in parts[1:]])
    return tag if re.fullmatch(BCP47, tag) else None


class Assembler:
    """Prepares items with one run's settings and rules."""

    def __init__(self, settings: IngestSettings, rules: RuleSet) -> None:
        self.settings = settings
        self.rules = rules
        self.reader = MetadataReader(rules.rules.labels)

    def split_credit(self, caption: str) -> tuple[str, str]:
        """A caption and its credit, with the configured credit labels."""
        return split_credit(caption, self.rules.rules.credit_labels)

    def prepare(self, item: RawItem) -> Incoming:
        """Map one item; ``Incoming.skip`` says why it cannot become a review."""
        out = Incoming(item, warnings=list(item.notes))
        limit = self.settings.max_item_bytes
        if item.size > limit:
            out.skip = (
                f"too large ({item.size / 1e6:.1f} MB of HTML, the limit is {limit / 1e6:g} MB);"
                " raise max_item_bytes in ingest.yaml if it really is one review"
            )
            return out
        has_text = item.blocks or (item.content_html or item.summary_html or "").strip()
        if not has_text:
            out.skip = (
                "empty item (no description or content)"
                if item.title
                else "empty item (no title and no text)"
            )
            return out
        blocks, standfirst, kicker = self._body(item, out)
        if out.skip:
            return out
        if not any(b.kind != "figure" for b in blocks):
            out.skip = "no text left after cleaning (only boilerplate, embeds or markup)"
            return out
        extracted = extract_facts(blocks, self.reader)
        for line in extracted.unsure:
            out.warnings.append(
                f"kept the line '{line}' in the body: its label is known but its value could not"
                " be read; move it into the front matter by hand"
            )
        blocks, facts = extracted.blocks, extracted.facts
        author = collapse(html_to_text(item.author)) if item.author else None
        bio = item.author_bio
        if bio is None:
            blocks, bio = find_bio(blocks, author)
        if standfirst is None and blocks and blocks[0].kind == "p" and len(blocks[0].lines) == 1:
            first = blocks[0].lines[0]
            if first.startswith("**") and first.endswith("**") and first.count("**") == 2:
                standfirst, blocks = blocks[0].texts[0], blocks[1:]
        if standfirst and not kicker:
            kicker, standfirst = split_kicker(standfirst)
        title = item.title or self._derived_title(blocks, out)
        cut = self._cut_at(blocks)
        if cut:
            out.warnings.append(
                f"the text ends mid-sentence ('…{cut}'): the source cut it off (a paywall, a"
                " length limit); written with 'truncated: true', which 'magbuilder check' warns"
                " about: complete it from the whole article (or save the page and ingest that),"
                " then remove that line"
            )
        out.blocks = blocks
        out.front = {
            "title": title,
            "kicker": kicker,
            "standfirst": standfirst or None,
            "author": author,
            "author_bio": bio,
            "published": self._published(item, facts, out),
            "lang": normal_lang(item.lang),
            "tags": self._tags(item),
            "films": [],
            "source_url": item.link if re.match(r"^https?://\S+$", item.link or "") else None,
            "guid": item.guid,
            "truncated": True if cut else None,
        }
        if facts.has_film():
            out.front["films"] = [
                {
                    "title": facts.title or facts.original_title or title,
                    "original_title": facts.original_title,
                    "directors": facts.directors,
                    "countries": facts.countries,
                    "year": facts.year,
                    "runtime": facts.runtime,
                }
            ]
        if not author:
            out.warnings.append("no author: add 'author:' to the review's front matter")
        if item.lang and not out.front["lang"]:
            out.warnings.append(f"language '{item.lang}' is not a BCP 47 tag: left out")
        out.hero = list(item.media)
        return out

    def _body(self, item: RawItem, out: Incoming) -> tuple[list[Block], str | None, str | None]:
        standfirst, kicker = item.standfirst, item.kicker
        from_summary = False
        if item.blocks is not None:
            blocks = item.blocks
        else:
            html = item.content_html
            if not (html or "").strip():
                html, from_summary = item.summary_html or "", True
            cleaned = clean_html(html, item.base, self.rules, item.local_dir)
            blocks = html_to_blocks(cleaned.html, self.split_credit)
            for block in blocks:
                if block.image is not None:
                    block.image.fallbacks = cleaned.fallbacks.get(block.image.url, [])
            standfirst = standfirst or cleaned.standfirst
            kicker = kicker or cleaned.kicker
            if cleaned.dead_embeds:
                out.warnings.append(f"removed {cleaned.dead_embeds} embed(s) with no source")
            for src in cleaned.unusable_images:
                out.warnings.append(f"removed an image with no usable address ('{src}')")
        ends = [b.text for b in blocks if b.kind != "figure"][-3:]
        ends = [_FOOTER.sub("", t) for t in ends]
        footer = from_summary and _FOOTER.search(html_to_text(item.summary_html))
        if any(self.rules.is_truncation(t) for t in ends if t) or footer:
            out.skip = (
                "truncated: the source gives only an excerpt ('[…]', 'Continue reading', 'The post"
                " … appeared first on …'), not the whole review; ask the site for a full-text"
                " feed, or save the article page and ingest that"
            )
            return blocks, None, None
        blocks, removed = self.rules.without_boilerplate(blocks)
        if standfirst is None and item.summary_html and not from_summary:
            summary = html_to_text(item.summary_html)
            body_text = " ".join(b.text for b in blocks)
            if distinct_summary(summary, body_text) and not self.rules.is_truncation(summary):
                standfirst = _FOOTER.sub("", summary) or None
        return blocks, standfirst, kicker

    def _cut_at(self, blocks: list[Block]) -> str | None:
        """The last words of the body when its last paragraph ends where a paywall cut it."""
        last = next((b for b in reversed(blocks) if b.kind != "figure"), None)
        if last is None or last.kind != "p" or not self.rules.is_cut_off(last.text):
            return None
        return " ".join(last.text.split()[-4:])

    def _derived_title(self, blocks: list[Block], out: Incoming) -> str:
        text = next((b.text for b in blocks if b.kind == "p"), "")
        words = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0].split()
        title = " ".join(words[:10]).rstrip(".,;:") + ("…" if len(words) > 10 else "")
        out.warnings.append(f"no title: used '{title}' from the first sentence; correct it")
        return title

    def _published(self, item: RawItem, facts: Any, out: Incoming) -> Any:
        if item.date_raw and (day := parse_date(item.date_raw)):
            return day
        if facts.published:
            return facts.published
        raw = item.date_raw or facts.published_raw
        if raw:
            out.warnings.append(
                f"date '{raw}' could not be read: kept as written in 'published'; change it to"
                " YYYY-MM-DD"
            )
            return raw
        out.warnings.append("no date: add 'published: YYYY-MM-DD' to the review's front matter")
        return None

    def _tags(self, item: RawItem) -> list[str]:
        tags: list[str] = []
        for tag in item.tags:
            tag = collapse(tag)
            known = {t.casefold() for t in tags} | self.rules.ignored_tags
            if tag and tag.casefold() not in known:
                tags.append(tag)
        return tags
