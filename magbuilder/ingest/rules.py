"""Apply the configured rules: boilerplate elements and paragraphs, excerpts, cut texts, pixels."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from lxml import etree

from .config import Rules
from .item import Block

_PART = re.compile(r"\.([\w-]+)|#([\w-]+)|\[([\w-]+)(?:([*^]?=)([^\]]+))?\]")


def selector_xpath(selector: str) -> str:
    """A selector of the small CSS subset ``Rules`` accepts, as an XPath over descendants."""
    tag = re.match(r"^[a-zA-Z][a-zA-Z0-9]*", selector)
    conditions = []
    for cls, ident, attr, op, value in _PART.findall(selector[tag.end() if tag else 0 :]):
        if cls:
            conditions.append(f"contains(concat(' ', normalize-space(@class), ' '), ' {cls} ')")
        elif ident:
            conditions.append(f"@id='{ident}'")
        elif not op:
            conditions.append(f"@{attr}")
        elif op == "=":
            conditions.append(f"@{attr}='{value}'")
        elif op == "*=":
            conditions.append(f"contains(@{attr}, '{value}')")
        else:
            conditions.append(f"starts-with(@{attr}, '{value}')")
    where = "".join(f"[{c}]" for c in conditions)
    return f".//{tag.group(0).lower() if tag else '*'}{where}"


@dataclass(frozen=True)
class RuleSet:
    """``Rules`` compiled once for a run."""

    rules: Rules

    @cached_property
    def _elements(self) -> list[etree.XPath]:
        return [etree.XPath(selector_xpath(s)) for s in self.rules.remove_elements]

    @cached_property
    def articles(self) -> list[etree.XPath]:
        """Where the article is in a saved page, in order of preference."""
        return [etree.XPath(selector_xpath(s)) for s in self.rules.article_selectors]

    @cached_property
    def _paragraphs(self) -> list[re.Pattern[str]]:
        return [re.compile(p, re.I) for p in self.rules.remove_paragraphs]

    @cached_property
    def _truncation(self) -> list[re.Pattern[str]]:
        return [re.compile(p, re.I) for p in self.rules.truncation_markers]

    @cached_property
    def _cut_off(self) -> list[re.Pattern[str]]:
        return [re.compile(p, re.I) for p in self.rules.cut_off_markers]

    @cached_property
    def _pixels(self) -> list[re.Pattern[str]]:
        return [re.compile(p, re.I) for p in self.rules.tracking_pixels]

    @cached_property
    def ignored_tags(self) -> set[str]:
        """Categories not kept as tags, case-folded."""
        return {t.casefold() for t in self.rules.ignore_tags}

    def remove_elements(self, root: etree._Element) -> int:
        """Remove every element a ``remove_elements`` selector matches; returns how many."""
        removed = 0
        for xpath in self._elements:
            for element in xpath(root):
                if element.getparent() is not None:
                    drop(element)
                    removed += 1
        return removed

    def is_boilerplate(self, text: str) -> bool:
        """Whether a paragraph's text matches a ``remove_paragraphs`` rule."""
        text = " ".join(text.split())
        return any(p.search(text) for p in self._paragraphs)

    def is_truncation(self, text: str) -> bool:
        """Whether text ends the way excerpts do ("[…]", "Continue reading")."""
        text = " ".join(text.split())
        return any(p.search(text) for p in self._truncation)

    def is_cut_off(self, text: str) -> bool:
        """Whether a body's last paragraph ends where a paywall or a length limit cut it."""
        text = " ".join(text.split())
        return any(p.search(text) for p in self._cut_off)

    def is_tracking_pixel(self, url: str) -> bool:
        """Whether an image URL belongs to a tracker."""
        return any(p.search(url) for p in self._pixels)

    def without_boilerplate(self, blocks: list[Block]) -> tuple[list[Block], int]:
        """Blocks with boilerplate paragraphs (and boilerplate lines of paragraphs) removed."""
        kept: list[Block] = []
        removed = 0
        for block in blocks:
            if block.kind == "figure":
                kept.append(block)
                continue
            if self.is_boilerplate(block.text):
                removed += 1
                continue
            if block.kind == "p" and len(block.lines) > 1:
                pairs = [
                    (md, t)
                    for md, t in zip(block.lines, block.texts, strict=True)
                    if not self.is_boilerplate(t)
                ]
                removed += len(block.lines) - len(pairs)
                if not pairs:
                    continue
                block = Block("p", [md for md, _ in pairs], [t for _, t in pairs])
            kept.append(block)
        return kept, removed


def drop(element: etree._Element) -> None:
    """Remove an element and its content, keeping the text that follows it (its tail)."""
    parent = element.getparent()
    if parent is None:
        return
    tail = element.tail
    previous = element.getprevious()
    if tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)
