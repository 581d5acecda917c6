"""Markdown of reviews and editorials → sanitised HTML, and plain-text excerpts.

The dialect is CommonMark with typographic quotes, plus two additions:

* a paragraph holding only an image, ``![alt](media/x.jpg "Caption")``, becomes a figure
  with the title as its caption;
* a pull quote is a fenced container::

      ::: pullquote
      A sentence lifted from the review.
      :::

Raw HTML is allowed but always goes through the same allowlist sanitiser as ingested HTML.
Quotes and lists nested deeper than ``MAX_NESTING`` are printed at that depth: the deeper
levels are flattened into it, their text kept (see ``Nesting``).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from html.parser import HTMLParser

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from mdit_py_plugins.container import container_plugin

ALLOWED_TAGS = {
    "p", "h2", "h3", "h4", "em", "strong", "i", "b", "a", "blockquote", "ul", "ol", "li",
    "figure", "figcaption", "img", "aside", "br", "hr", "code", "sup", "sub", "small", "cite",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "aside": {"class"},
    "figure": {"class"},
    "blockquote": {"cite"},
}
URL_SCHEMES = {"http", "https", "mailto"}

# How deep quotes, lists, pull quotes and figures may nest, and any element at all: every
# quote or list level indents the text of a narrow column, and WeasyPrint fails
# (RecursionError) on some 150 nested boxes. Deeper levels are flattened into the deepest
# allowed one; their text is kept.
MAX_NESTING = {"blockquote": 4, "list": 4, "aside": 1, "figure": 1}
MAX_DEPTH = 20
_FAMILY = {
    "blockquote": "blockquote",
    "ul": "list",
    "ol": "list",
    "aside": "aside",
    "figure": "figure",
}
_BLOCKS = {"p", "h2", "h3", "h4", "blockquote", "ul", "ol", "li", "figure", "figcaption", "aside"}
_VOID = {"br", "hr", "img"}
# markdown-it skips whatever is nested deeper than its ``maxNesting`` (20 block levels)
# without a word; from this level on, ``_flatten_deep`` keeps the rest as plain paragraphs.
_DEEP_LEVEL = 16


def _figures(state: StateCore) -> None:
    """Turn paragraphs that hold a single image into <figure> with a caption."""
    tokens = state.tokens
    for i in range(len(tokens) - 2):
        inline = tokens[i + 1]
        if tokens[i].type != "paragraph_open" or inline.type != "inline":
            continue
        images = [c for c in inline.children or [] if c.type == "image"]
        others = [c for c in inline.children or [] if c.type not in ("image", "softbreak")]
        others = [c for c in others if c.type != "text" or c.content.strip()]
        if len(images) != 1 or others:
            continue
        img = images[0]
        src = html.escape(str(img.attrs.get("src", "")))
        alt = html.escape(img.content)
        caption = str(img.attrs.get("title", "") or "")
        figcaption = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
        block = Token("html_block", "", 0)
        block.content = (
            f'<figure class="inline"><img src="{src}" alt="{alt}">{figcaption}</figure>\n'
        )
        tokens[i] = block
        tokens[i + 1] = Token("text", "", 0)
        tokens[i + 2] = Token("text", "", 0)


def _pullquote_render(self, tokens, idx, options, env) -> str:  # noqa: ANN001
    return '<aside class="pullquote">\n' if tokens[idx].nesting == 1 else "</aside>\n"


_QUOTE_MARKERS = re.compile(r"^(?:[ \t]*>)*[ \t]*")


def _flatten_deep(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """Near markdown-it's nesting limit, the rest of the block as paragraphs of plain lines
    (quote markers removed), instead of markdown-it dropping it."""
    if state.level < _DEEP_LEVEL:
        return False
    if silent:
        return True
    lines: list[tuple[int, str]] = []
    for line in range(start, end):
        text = state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]]
        lines.append((line, _QUOTE_MARKERS.sub("", text, count=1)))
    paragraph: list[tuple[int, str]] = []
    for line, text in [*lines, (end, "")]:
        if text.strip():
            paragraph.append((line, text))
            continue
        if paragraph:
            first, last = paragraph[0][0], paragraph[-1][0] + 1
            state.push("paragraph_open", "p", 1).map = [first, last]
            inline = state.push("inline", "", 0)
            inline.content = "\n".join(text for _, text in paragraph)
            inline.map = [first, last]
            inline.children = []
            state.push("paragraph_close", "p", -1)
            paragraph = []
    state.line = end
    return True


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "typographer": True})
    md.enable(["replacements", "smartquotes"])
    md.use(container_plugin, name="pullquote", render=_pullquote_render)
    md.block.ruler.before(md.block.ruler.get_all_rules()[0], "flatten_deep", _flatten_deep)
    md.core.ruler.push("figures", _figures)
    return md


def render_markdown(text: str, image_url: Callable[[str], str] | None = None) -> str:
    """Markdown → sanitised HTML. ``image_url`` maps each image src (e.g. to an absolute URL)."""
    raw = _parser().render(text)

    def rewrite(tag: str, attr: str, value: str) -> str | None:
        if tag == "img" and attr == "src" and image_url is not None:
            return image_url(value)
        return value

    clean = nh3.clean(
        raw,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        attribute_filter=rewrite,
        link_rel=None,
        strip_comments=True,
    )
    return _Flattener.flatten(clean)


class Nesting:
    """Which elements are nested too deep, as they open and close (``MAX_NESTING``).

    The sanitised HTML is flattened with it, and ``magbuilder check`` follows the Markdown with
    it: both decide alike.
    """

    def __init__(self) -> None:
        self.stack: list[tuple[str, bool]] = []  # (tag, kept), innermost last

    def enter(self, tag: str) -> bool:
        """Open ``tag``: whether it is kept (False: flattened into its parent)."""
        family = _FAMILY.get(tag)
        kept_tags = [t for t, kept in self.stack if kept]
        if tag == "li" and self.stack and self.stack[-1][0] in ("ul", "ol"):
            kept = self.stack[-1][1]  # an item goes with its list
        elif len(kept_tags) >= MAX_DEPTH:
            kept = False
        elif family:
            depth = sum(1 for t in kept_tags if _FAMILY.get(t) == family)
            kept = depth < MAX_NESTING[family]
        else:
            kept = True
        if tag not in _VOID:
            self.stack.append((tag, kept))
        return kept

    def leave(self, tag: str) -> bool | None:
        """Close the innermost open ``tag``: whether it was kept (None: it was not open)."""
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                kept = self.stack[index][1]
                del self.stack[index:]
                return kept
        return None


class _Flattener(HTMLParser):
    """Sanitised HTML with the elements ``Nesting`` flattens removed, their text kept: text
    directly in a removed block is wrapped in ``<p>`` so that it stays a paragraph of its own."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.nesting = Nesting()
        self.out: list[str] = []
        self.runs: list[bool] = []  # per open element: a <p> opened for its loose text
        self.changed = False

    @classmethod
    def flatten(cls, html: str) -> str:
        """``html`` as it was when nothing is nested too deep (the common case)."""
        parser = cls()
        parser.feed(html)
        parser.close()
        return "".join(parser.out) if parser.changed else html

    def _loose(self) -> None:
        """Inline content: inside a removed block, into a paragraph of its own."""
        stack = self.nesting.stack
        if stack and not stack[-1][1] and stack[-1][0] in _BLOCKS and not self.runs[-1]:
            self.out.append("<p>")
            self.runs[-1] = True

    def _end_run(self) -> None:
        if self.runs and self.runs[-1]:
            self.out.append("</p>")
            self.runs[-1] = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS or tag == "hr":
            self._end_run()
        else:
            self._loose()
        kept = self.nesting.enter(tag)
        if tag not in _VOID:
            self.runs.append(False)
        if kept:
            self.out.append(self.get_starttag_text() or "")
        else:
            self.changed = True

    def handle_endtag(self, tag: str) -> None:
        open_tags = [t for t, _ in self.nesting.stack]
        if tag not in open_tags:
            return
        while open_tags.pop() != tag:  # sanitised HTML closes in order; but be safe
            self._close(self.nesting.stack[-1][0])
        self._close(tag)

    def _close(self, tag: str) -> None:
        self._end_run()
        self.runs.pop()
        if self.nesting.leave(tag):
            self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if data.strip():
            self._loose()
        self.out.append(data)

    def handle_entityref(self, name: str) -> None:
        self._loose()
        self.out.append(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self._loose()
        self.out.append(f"&#{name};")


def too_deep(text: str) -> Iterator[tuple[int, str]]:
    """Where a Markdown text nests quotes or lists deeper than the print keeps.

    Yields ``(line offset in the text, what)`` for the first element flattened in each run of
    them: Markdown quotes and lists, and the raw HTML elements among them.
    """
    nesting = Nesting()
    inside = 0  # how many flattened elements are open: one finding per run
    tags = {
        "blockquote_open": "blockquote",
        "bullet_list_open": "ul",
        "ordered_list_open": "ol",
        "list_item_open": "li",
        "container_pullquote_open": "aside",
        "paragraph_open": "p",
        "heading_open": "h2",
    }
    for token in _parser().parse(text):
        line = token.map[0] if token.map else 0
        if token.type in tags:
            kept = nesting.enter(tags[token.type])
            if not kept:
                if not inside:
                    yield line, _what(tags[token.type])
                inside += 1
        elif token.type.endswith("_close") and token.type.replace("_close", "_open") in tags:
            if nesting.leave(tags[token.type.replace("_close", "_open")]) is False:
                inside -= 1
        elif token.type == "html_block" or token.type == "inline":
            for offset, tag, opening in _raw_tags(token):
                if opening:
                    if not nesting.enter(tag) and tag not in _VOID:
                        if not inside:
                            yield line + offset, _what(tag)
                        inside += 1
                elif nesting.leave(tag) is False:
                    inside -= 1


def _what(tag: str) -> str:
    family = _FAMILY.get(tag) or ("list" if tag == "li" else None)
    if family is None:
        return f"elements nested more than {MAX_DEPTH} deep"
    names = {"blockquote": "quotes", "list": "lists", "aside": "pull quotes", "figure": "figures"}
    return f"{names[family]} nested more than {MAX_NESTING[family]} deep"


class _RawTags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str, bool]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ALLOWED_TAGS:  # the sanitiser removes the others
            self.found.append((self.getpos()[0] - 1, tag, True))

    def handle_endtag(self, tag: str) -> None:
        if tag in ALLOWED_TAGS:
            self.found.append((self.getpos()[0] - 1, tag, False))


def _raw_tags(token: Token) -> list[tuple[int, str, bool]]:
    """The allowed raw HTML tags in a block or inline token: ``(line offset, tag, opening)``."""
    parser = _RawTags()
    if token.type == "html_block":
        parser.feed(token.content)
    else:  # the tags only, with the line breaks between them
        for child in token.children or []:
            if child.type in ("softbreak", "hardbreak"):
                parser.feed("\n")
            elif child.type == "html_inline":
                parser.feed(child.content)
    parser.close()
    return parser.found


# ---- what a text refers to: links and images, for checks and for the build's digests ----------
@lru_cache(maxsize=1)
def _link_parser() -> MarkdownIt:
    """The review dialect, keeping every link as written (no validation, no normalisation)."""
    md = MarkdownIt("commonmark", {"html": True})
    md.use(container_plugin, name="pullquote")
    md.validateLink = lambda url: True  # markdown-it drops javascript: links silently
    md.normalizeLink = lambda url: url
    return md


_BROKEN_LINK = re.compile(r"\]\(\s*([^\s)\"'<]+)\s+([^\s)\"'(][^)]*)\)")


def body_references(text: str) -> Iterator[tuple[int, str, str, str]]:
    """Each link, image and dropped raw-HTML element of a Markdown text.

    Yields ``(line offset in the text, kind, value, tag)``: kind ``link`` (href), ``image``
    (src) or ``dropped`` (an element the sanitiser removes, with a src or href); tag is the
    element (``a``, ``img``…), or "" for an image in Markdown's syntax.
    """
    for token in _link_parser().parse(text):
        start = token.map[0] if token.map else 0
        if token.type == "html_block":
            yield from _html_references(token.content, start)
        if token.type != "inline":
            continue
        offset = 0
        for child in token.children or []:
            if child.type in ("softbreak", "hardbreak"):
                offset += 1
            elif child.type == "link_open":
                yield start + offset, "link", str(child.attrs.get("href", "")), "a"
            elif child.type == "image":
                yield start + offset, "image", str(child.attrs.get("src", "")), ""
            elif child.type == "html_inline":
                yield from _html_references(child.content, start + offset)
                offset += child.content.count("\n")
        for number, line in enumerate(token.content.splitlines()):
            for match in _BROKEN_LINK.finditer(line):  # [text](an address) is not a link
                yield start + number, "link", f"{match.group(1)} {match.group(2)}", "a"


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((self.getpos()[0] - 1, tag, {k: v or "" for k, v in attrs}))


def _html_references(html: str, start: int) -> Iterator[tuple[int, str, str, str]]:
    parser = _Elements()
    parser.feed(html)
    parser.close()
    for offset, tag, attrs in parser.found:
        line = start + offset
        if tag == "a" and "href" in attrs:
            yield line, "link", attrs["href"], tag
        elif tag == "img":
            yield line, "image", attrs.get("src", ""), tag
        elif tag not in ALLOWED_TAGS and (set(attrs) & {"src", "href", "data", "srcset"}):
            yield line, "dropped", attrs.get("src") or attrs.get("href") or "", tag


def body_images(text: str, *, raw_html: bool = True) -> list[tuple[int, str]]:
    """Every image a Markdown text shows: ``(line offset in the text, src as written)``.

    Inline and reference-style Markdown images (``![alt][name]`` … ``[name]: media/x.jpg``) and,
    unless ``raw_html`` is false, raw ``<img>``: found by the parser that renders them, not by a
    pattern, so that what the build reads and what its digests cover are the same files.
    """
    return [
        (line, value)
        for line, kind, value, tag in body_references(text)
        if kind == "image" and (raw_html or not tag)
    ]


_SKIP_BLOCKS = {"container_pullquote_open", "blockquote_open", "heading_open"}
_CLOSE = {
    "container_pullquote_open": "container_pullquote_close",
    "blockquote_open": "blockquote_close",
    "heading_open": "heading_close",
}


def plain_paragraphs(text: str) -> list[str]:
    """The body's running-text paragraphs as plain text (no headings, quotes or pull quotes)."""
    tokens = _parser().parse(text)
    paragraphs: list[str] = []
    skip_until: str | None = None
    for i, tok in enumerate(tokens):
        if skip_until:
            if tok.type == skip_until and tok.level == 0:
                skip_until = None
            continue
        if tok.type in _SKIP_BLOCKS and tok.level == 0:
            skip_until = _CLOSE[tok.type]
            continue
        if tok.type == "inline" and i and tokens[i - 1].type == "paragraph_open":
            words = "".join(
                c.content if c.type in ("text", "code_inline") else " "
                for c in tok.children or []
                if c.type in ("text", "code_inline", "softbreak", "hardbreak")
            )
            words = re.sub(r"\s+", " ", words).strip()
            if words:
                paragraphs.append(words)
    return paragraphs


def excerpt(text: str, words: int = 60) -> str:
    """The first ``words`` words of the running text, cut at a word boundary with an ellipsis."""
    out: list[str] = []
    for paragraph in plain_paragraphs(text):
        out.extend(paragraph.split())
        if len(out) >= words:
            break
    if len(out) <= words:
        return " ".join(out)
    cut = " ".join(out[:words]).rstrip(",;:—–-")
    return cut + "…"


def plain_text(text: str) -> str:
    """Markdown → plain text: running paragraphs separated by blank lines, no markup."""
    return "\n\n".join(plain_paragraphs(text))
