"""Sanitised HTML → body blocks in magbuilder's Markdown dialect.

Sub-heads (``h1``–``h6``, or a short bold paragraph without a final full stop) become ``##``;
pull quotes (``aside.pullquote`` from ``clean``, or a «…» paragraph standing alone) become the
``::: pullquote`` container; emphasis, links, lists and block quotes survive; an image becomes a
figure paragraph of its own. Text is escaped so that it reads back as the same text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from lxml import etree

from .clean import collapse, parse_fragment
from .item import Block, ImageCandidate

HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
CONTAINERS = {
    "div", "section", "article", "header", "footer", "main", "aside", "li", "figcaption", "td",
    "th", "dd", "dt", "thead", "tbody", "tfoot",
}  # fmt: skip
BLOCKS = HEADINGS | CONTAINERS | {
    "p", "blockquote", "ul", "ol", "figure", "hr", "table", "tr", "dl", "pre",
}  # fmt: skip
EMPHASIS = {"em": "*", "i": "*", "cite": "*", "strong": "**", "b": "**"}
PULL_QUOTE = re.compile(r"^«[^«»]+»[.!?]?$")
_INLINE_SPECIAL = re.compile(r"([\\`*_\[\]<])")
_ENTITY_LIKE = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
_LINE_START = re.compile(r"^(#|>|[-+*](?=\s|$)|:::|~~~|=+$|-+$|\d{1,9}(?=[.)](?:\s|$)))")


def escape_inline(text: str) -> str:
    """Plain text → Markdown that renders as the same text (inline position)."""
    return _ENTITY_LIKE.sub(r"\\&", _INLINE_SPECIAL.sub(r"\\\1", text))


def escape_line_start(line: str) -> str:
    """Escape what would make a line a heading, quote, list item, fence or rule."""
    line = line.lstrip(" \t")
    match = _LINE_START.match(line)
    if not match:
        return line
    if match.group(0)[0].isdigit():
        end = match.end()
        return line[:end] + "\\" + line[end:]
    return "\\" + line


def link_destination(url: str) -> str:
    """A URL safe to put between the parentheses of a Markdown link."""
    for char, code in ((" ", "%20"), ("(", "%28"), (")", "%29"), ("<", "%3C"), (">", "%3E")):
        url = url.replace(char, code)
    return url


@dataclass
class Inline:
    """Markdown and plain text of a run of inline content; ``\\n`` marks a hard line break."""

    md: str = ""
    text: str = ""
    images: list[ImageCandidate] = field(default_factory=list)
    images_first: bool = False

    def add(self, other: Inline) -> None:
        if other.images and not self.text.strip():
            self.images_first = True
        self.md += other.md
        self.text += other.text
        self.images.extend(other.images)


def _text(value: str | None) -> Inline:
    if not value:
        return Inline()
    plain = re.sub(r"[ \t\n\r\f\v]+", " ", value)
    return Inline(escape_inline(plain), plain)


def _image(img: etree._Element, caption: str = "") -> ImageCandidate | None:
    src = (img.get("src") or "").strip()
    if not src:
        return None
    alt = collapse(img.get("alt") or "")
    return ImageCandidate(url=src, alt=alt, caption=caption or collapse(img.get("title") or ""))


class Converter:
    """Walks a sanitised tree and collects ``Block``s."""

    def __init__(self, split_credit: Callable[[str], tuple[str, str]]) -> None:
        self.blocks: list[Block] = []
        self.split_credit = split_credit

    # ---- inline ------------------------------------------------------------------------------
    def inline(self, element: etree._Element, emphasis: frozenset[str] = frozenset()) -> Inline:
        tag = element.tag if isinstance(element.tag, str) else ""
        out = Inline()
        if tag == "br":
            out = Inline("\n", "\n")
        elif tag == "img":
            image = _image(element)
            out = Inline(images=[image] if image else [])
        elif tag:
            inner = self._children(element, emphasis | ({tag} if tag in EMPHASIS else set()))
            out = self._wrap(tag, element, inner, emphasis)
        tail = _text(element.tail)
        out.md += tail.md
        out.text += tail.text
        return out

    def _children(self, element: etree._Element, emphasis: frozenset[str]) -> Inline:
        out = _text(element.text)
        for child in element:
            out.add(self.inline(child, emphasis))
        return out

    def _wrap(
        self, tag: str, element: etree._Element, inner: Inline, emphasis: frozenset[str]
    ) -> Inline:
        marker = EMPHASIS.get(tag)
        if marker and inner.md.strip() and not any(EMPHASIS[e] == marker for e in emphasis):
            core = inner.md.strip(" ")
            lead = inner.md[: len(inner.md) - len(inner.md.lstrip(" "))]
            trail = inner.md[len(inner.md.rstrip(" ")) :]
            if "\n" not in core:
                inner.md = f"{lead}{marker}{core}{marker}{trail}"
        elif tag == "a":
            href = (element.get("href") or "").strip()
            label = inner.md.strip()
            if re.match(r"^(https?://|mailto:)\S+$", href):
                if not label:
                    inner.md = "" if inner.images else f"<{link_destination(href)}>"
                    inner.text = "" if inner.images else href
                elif inner.text.strip() == href:
                    inner.md = f"<{link_destination(href)}>"
                elif not inner.images:
                    inner.md = f"[{label}]({link_destination(href)})"
        elif tag == "q":
            inner.md, inner.text = f"“{inner.md}”", f"“{inner.text}”"
        return inner

    # ---- blocks ------------------------------------------------------------------------------
    def container(self, element: etree._Element) -> None:
        run = _text(element.text)
        for child in element:
            tag = child.tag if isinstance(child.tag, str) else ""
            if tag in BLOCKS:
                self.paragraph(run)
                self.block(child)
                run = _text(child.tail)
            else:
                run.add(self.inline(child))
        self.paragraph(run)

    def paragraph(self, run: Inline) -> None:
        figures = [Block("figure", image=image) for image in run.images]
        if run.images_first:
            self.blocks.extend(figures)
        lines, texts = [], []
        for md, text in zip(run.md.split("\n"), run.text.split("\n"), strict=False):
            text = collapse(text)
            if text.strip():  # a paragraph of &nbsp; is empty too
                lines.append(escape_line_start(re.sub(r" {2,}", " ", md.strip(" \t"))))
                texts.append(text)
        if lines:
            self.blocks.append(Block("p", lines, texts))
        if not run.images_first:
            self.blocks.extend(figures)

    def block(self, element: etree._Element) -> None:
        tag = element.tag
        if tag in HEADINGS:
            run = self._children(element, frozenset())
            text = collapse(run.text.replace("\n", " "))
            if text.strip():
                md = collapse(run.md.replace("\n", " ")).replace("#", "\\#")
                self.blocks.append(Block("h", [md], [text]))
            self.paragraph(Inline(images=run.images, images_first=True))
        elif tag == "p":
            self.container(element)
        elif tag == "blockquote" or (tag == "aside" and element.get("class") == "pullquote"):
            self._quote(element, "pull" if tag == "aside" else "quote")
        elif tag in ("ul", "ol"):
            lines, texts = self._list(element, 0)
            if lines:
                self.blocks.append(Block("list", lines, texts))
        elif tag == "figure":
            self._figure(element)
        elif tag == "hr":
            self.blocks.append(Block("hr"))
        elif tag in ("table", "dl"):
            self._pairs(element)
        else:
            self.container(element)

    def _quote(self, element: etree._Element, kind: str) -> None:
        inner = Converter(self.split_credit)
        inner.container(element)
        self.blocks.extend(b for b in inner.blocks if b.kind == "figure")
        parts = [b for b in inner.blocks if b.kind != "figure"]
        if not parts:
            return
        texts = [b.text for b in parts]
        if kind == "pull":
            self.blocks.append(Block("pull", [render_block(b) for b in parts], texts))
            return
        lines: list[str] = []
        for part in parts:
            if lines:
                lines.append(">")
            lines.extend(f"> {line}" for line in render_block(part).split("\n"))
        self.blocks.append(Block("quote", lines, texts))

    def _list(self, element: etree._Element, depth: int) -> tuple[list[str], list[str]]:
        lines: list[str] = []
        texts: list[str] = []
        ordered = element.tag == "ol"
        for number, item in enumerate(element.findall("li"), start=1):
            marker = f"{number}." if ordered else "-"
            run = _text(item.text)
            nested: list[etree._Element] = []
            for child in item:
                if child.tag in ("ul", "ol"):
                    nested.append(child)
                    run.add(_text(child.tail))
                else:
                    run.add(self.inline(child))
            text = collapse(run.text.replace("\n", " "))
            md = collapse(run.md.replace("\n", " "))
            if text.strip():
                lines.append("  " * depth + f"{marker} {md}")
                texts.append(text)
            for child in nested:
                sub_lines, sub_texts = self._list(child, depth + 1)
                lines.extend(sub_lines)
                texts.extend(sub_texts)
        return lines, texts

    def _figure(self, element: etree._Element) -> None:
        images = list(element.iter("img"))
        if not images:
            self.container(element)
            return
        caption_element = element.find(".//figcaption")
        caption = ""
        if caption_element is not None:
            caption = collapse(caption_element.text_content())
        caption, credit = self.split_credit(caption)
        for number, img in enumerate(images):
            image = _image(img, caption if number == len(images) - 1 else "")
            if image:
                image.credit = credit if number == len(images) - 1 else ""
                self.blocks.append(Block("figure", image=image))

    def _pairs(self, element: etree._Element) -> None:
        # Tables and definition lists in reviews are film facts: "Director | X" → "Director: X".
        rows_text: list[str] = []
        if element.tag == "dl":
            label = ""
            for cell in element:
                if cell.tag == "dt":
                    label = collapse(cell.text_content())
                elif cell.tag == "dd" and (value := collapse(cell.text_content())):
                    rows_text.append(f"{label}: {value}" if label else value)
        else:
            for row in element.iter("tr"):
                values = [collapse(c.text_content()) for c in row if c.tag in ("td", "th")]
                values = [v for v in values if v]
                if values:
                    pair = len(values) == 2 and len(values[0]) < 40
                    rows_text.append((": " if pair else " · ").join(values))
        if rows_text:
            lines = [escape_line_start(escape_inline(text)) for text in rows_text]
            self.blocks.append(Block("p", lines, rows_text))


def _promote(blocks: list[Block]) -> list[Block]:
    """Standalone «…» paragraphs become pull quotes, short bold paragraphs become sub-heads."""
    out: list[Block] = []
    for block in blocks:
        if block.kind == "p" and len(block.lines) == 1:
            text, md = block.texts[0], block.lines[0]
            if PULL_QUOTE.match(text):
                block = Block("pull", [md], [text])
            elif (
                md.startswith("**")
                and md.endswith("**")
                and md.count("**") == 2
                and len(text) <= 90
                and not re.search(r"[.:;,!?…]$", text)
            ):
                block = Block("h", [md[2:-2].replace("#", "\\#")], [text])
        if out and render_block(out[-1]) == render_block(block) and block.kind != "figure":
            continue  # an embed's URL given twice (as text and as the player) shows once
        out.append(block)
    return out


def html_to_blocks(html: str, split_credit: Callable[[str], tuple[str, str]]) -> list[Block]:
    """Sanitised HTML → body blocks."""
    converter = Converter(split_credit)
    converter.container(parse_fragment(html))
    return _promote(converter.blocks)


def image_markdown(image: ImageCandidate, src: str) -> str:
    """A figure paragraph: ``![alt](src "caption — credit")``."""
    title = image.caption
    if image.credit:
        joiner = " " if re.search(r"[.!?»”)]$", title) else " — "
        title = f"{title}{joiner}{image.credit}" if title else image.credit
    alt = escape_inline(image.alt or image.caption or "")
    title_md = ' "' + title.replace("\\", "\\\\").replace('"', '\\"') + '"' if title else ""
    return f"![{alt}]({link_destination(src)}{title_md})"


def render_block(
    block: Block, image_src: Callable[[ImageCandidate], str | None] | None = None
) -> str:
    """One block as Markdown ('' for a figure whose image could not be stored)."""
    if block.kind == "p":
        return "\\\n".join(block.lines)
    if block.kind == "h":
        return f"## {block.lines[0]}"
    if block.kind == "pull":
        return "::: pullquote\n" + "\n\n".join(block.lines) + "\n:::"
    if block.kind in ("quote", "list"):
        return "\n".join(block.lines)
    if block.kind == "hr":
        return "* * *"
    if block.kind == "figure" and block.image is not None:
        src = image_src(block.image) if image_src else block.image.url
        return image_markdown(block.image, src) if src else ""
    return ""


def render_body(
    blocks: list[Block], image_src: Callable[[ImageCandidate], str | None] | None = None
) -> str:
    """The Markdown body: blocks separated by blank lines, ending with one newline."""
    parts = [render_block(b, image_src) for b in blocks]
    return "\n\n".join(p for p in parts if p) + "\n"
