"""Markdown of reviews and editorials → sanitised HTML, and plain-text excerpts.

The dialect is CommonMark with typographic quotes, plus two additions:

* a paragraph holding only an image, ``![alt](media/x.jpg "Caption")``, becomes a figure
  with the title as its caption;
* a pull quote is a fenced container::

      ::: pullquote
      A sentence lifted from the review.
      :::

Raw HTML is allowed but always goes through the same allowlist sanitiser as ingested HTML.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
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


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "typographer": True})
    md.enable(["replacements", "smartquotes"])
    md.use(container_plugin, name="pullquote", render=_pullquote_render)
    md.core.ruler.push("figures", _figures)
    return md


def render_markdown(text: str, image_url: Callable[[str], str] | None = None) -> str:
    """Markdown → sanitised HTML. ``image_url`` maps each image src (e.g. to an absolute URL)."""
    raw = _parser().render(text)

    def rewrite(tag: str, attr: str, value: str) -> str | None:
        if tag == "img" and attr == "src" and image_url is not None:
            return image_url(value)
        return value

    return nh3.clean(
        raw,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        attribute_filter=rewrite,
        link_rel=None,
        strip_comments=True,
    )


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
