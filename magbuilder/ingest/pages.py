"""Saved article pages → raw items: a browser's ``.html`` save, or its "save as text" ``.txt``.

A saved text page has no markup. Its layout, as review pages give it: an optional headline, the
standfirst, the author's name, a one-line bio, labelled metadata lines, then paragraphs separated
by blank lines. Short lines without a final full stop are sub-heads; a «…» paragraph standing
alone is a pull quote; a line holding only a URL is a link (an embed's address).
"""

from __future__ import annotations

import re
from pathlib import Path

import lxml.html
from lxml import etree

from .clean import absolute, clean_html, collapse, is_web, text_of, video_link
from .feeds import SourceError
from .html2md import PULL_QUOTE, escape_inline, escape_line_start, html_to_blocks
from .item import Block, ImageCandidate, RawItem
from .metadata import MetadataReader, is_bio, looks_like_name, split_credit
from .rules import RuleSet, drop

_BYLINE = re.compile(r"^(?:by|av|text|tekst|written by|skrevet av)\s*:?\s+", re.I)
_HTML_IN_TEXT = re.compile(
    r"<\s*/?\s*(iframe|script|style|img|embed|video|object|a|p|div|span|form|input|svg)\b", re.I
)
_FINAL_STOP = re.compile(r"[.!?…:;,][»”’\"')\]]*$")
_SITE_SUFFIX = re.compile(r"\s+[–—|·-]\s+[^–—|·]{2,40}$")


def title_from_file(path: Path) -> str:
    """A headline from a saved page's file name (browsers name the file after the page title)."""
    stem = _SITE_SUFFIX.sub("", path.stem).strip()
    if " " not in stem:
        stem = re.sub(r"[-_]+", " ", stem).strip()
        stem = stem[:1].upper() + stem[1:]
    return stem


def read_page_bytes(path: Path) -> bytes:
    """A saved page's bytes; SourceError when it cannot be read."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read the file: {exc.strerror or exc}") from None


# ---- saved HTML pages ------------------------------------------------------------------------


def _meta(doc: etree._Element) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for meta in doc.iter("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
        if key and (value := collapse(meta.get("content") or "")):
            found.setdefault(key, []).append(value)
    return found


def _first(doc: etree._Element, xpath: str) -> etree._Element | None:
    found = doc.xpath(xpath)
    return found[0] if found else None


def _either(first: etree._Element | None, second: etree._Element | None) -> etree._Element | None:
    return first if first is not None else second


def _by_classes(root: etree._Element, classes: list[str]) -> etree._Element | None:
    wanted = {c.lower() for c in classes}
    for element in root.iter():
        if isinstance(element.tag, str) and wanted & set((element.get("class") or "").split()):
            return element
    return None


def read_html_page(path: Path, origin: str, rules: RuleSet, title: str | None = None) -> RawItem:
    """A saved HTML article page → one raw item."""
    data = read_page_bytes(path)
    if not data.strip():
        raise SourceError("the page is empty")
    try:
        doc = lxml.html.document_fromstring(data)
    except (etree.ParserError, ValueError) as exc:
        raise SourceError(f"cannot read the page as HTML ({exc})") from None
    meta = _meta(doc)
    canonical = _first(doc, "//link[@rel='canonical']/@href") or (meta.get("og:url") or [None])[0]
    base_href = _first(doc, "//base/@href")
    base = absolute(str(base_href), canonical) if base_href else canonical
    base = str(base) if base and is_web(str(base)) else None

    article = next((found[0] for xpath in rules.articles if (found := xpath(doc))), None)
    article = article if article is not None else doc.find("body")
    if article is None:
        raise SourceError("the page has no body")
    scope = _either(_first(doc, "//article"), article)

    h1 = _either(_first(scope, ".//h1"), _first(doc, "//h1"))
    headline = text_of(h1) if h1 is not None else None
    page_title = collapse(doc.findtext(".//title") or "")
    found_title = (
        (meta.get("og:title") or [None])[0]
        or headline
        or (_SITE_SUFFIX.sub("", page_title) if page_title else None)
        or title
    )
    standfirst_el = _by_classes(scope, rules.rules.standfirst_classes)
    kicker_el = _by_classes(scope, rules.rules.kicker_classes)
    author = (meta.get("author") or [None])[0]
    byline = _either(_first(scope, ".//*[@rel='author']"), _by_classes(scope, ["byline", "author"]))
    if not author and byline is not None:
        author = _BYLINE.sub("", text_of(byline)) or None
    time_el = _first(scope, ".//time[@datetime]")
    date_raw = (meta.get("article:published_time") or meta.get("datepublished") or [None])[0] or (
        time_el.get("datetime") if time_el is not None else None
    )
    line = _byline_line(byline, article, author, time_el) if byline is not None else None
    bio_el = _beside(line, scope) if line is not None else None
    if bio_el is not None and (
        _inside(article, bio_el) or not is_bio(text_of(bio_el), author, beside_byline=True)
    ):
        bio_el = None
    item = RawItem(
        origin=origin,
        number=1,
        title=found_title,
        link=canonical if canonical and is_web(canonical) else None,
        author=author,
        date_raw=date_raw,
        summary_html=None,
        base=base,
        lang=doc.get("lang") or doc.get("xml:lang"),
        tags=meta.get("article:tag", []),
        standfirst=text_of(standfirst_el) if standfirst_el is not None else None,
        kicker=text_of(kicker_el) if kicker_el is not None else None,
        author_bio=text_of(bio_el) if bio_el is not None else None,
        local_dir=path.parent,
    )
    if not item.link:
        item.key = f"file:{path.name}"
    for url in meta.get("og:image", [])[:1]:
        alt = (meta.get("og:image:alt") or [""])[0]
        item.media.append(ImageCandidate(url=absolute(url, base) or url, alt=alt))
    for element in (h1, standfirst_el, kicker_el, line, bio_el, time_el):
        if element is not None and element.getparent() is not None and _inside(element, article):
            drop(element)
    for element in list(article.iter("header")):
        if not collapse(element.text_content()):
            drop(element)
    item.content_html = etree.tostring(article, encoding="unicode", method="html")
    item.size = len(item.content_html.encode())
    return item


def _byline_line(
    byline: etree._Element,
    article: etree._Element,
    author: str | None,
    time_el: etree._Element | None,
) -> etree._Element:
    """The whole line the byline stands in ("By <a rel=author>…</a> · <time>…</time>"): the
    largest element around it that holds little besides the name and the date, so that taking
    the byline out leaves no "By ·" behind."""
    known = [k for k in (author, text_of(time_el) if time_el is not None else None) if k]
    line = byline
    for parent in byline.iterancestors():
        if parent is article or parent.tag in ("article", "main", "body", "html"):
            break
        rest = text_of(parent)
        for text in known:
            rest = rest.replace(text, "")
        if len(re.sub(r"\W", "", rest)) > 20:  # "By", "Text and photo": more is other content
            break
        line = parent
    return line


def _beside(line: etree._Element, scope: etree._Element) -> etree._Element | None:
    """The first element with text after the byline's line (after its container, when the line
    ends that), where sites put a one-line bio of the author."""
    node: etree._Element | None = line
    while node is not None and node is not scope:
        for sibling in node.itersiblings():
            if isinstance(sibling.tag, str) and text_of(sibling):
                return sibling
        node = node.getparent()
    return None


def _inside(element: etree._Element, ancestor: etree._Element) -> bool:
    return any(a is ancestor for a in element.iterancestors()) or element is ancestor


# ---- saved text pages ------------------------------------------------------------------------


def _is_headline(line: str, following: str | None) -> bool:
    if following is None or len(line) > 120 or _FINAL_STOP.search(line):
        return False
    return len(following) > len(line) or bool(_FINAL_STOP.search(following))


def _chunks(lines: list[str]) -> list[list[str]]:
    chunks: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            chunks[-1].append(line.strip())
        elif chunks[-1]:
            chunks.append([])
    return [c for c in chunks if c]


def _text_block(line: str) -> Block:
    return Block("p", [escape_line_start(escape_inline(line))], [line])


def text_blocks(
    lines: list[str], rules: RuleSet, reader: MetadataReader, credit_labels: list[str]
) -> list[Block]:
    """The body of a text page: paragraphs at blank lines, sub-heads, pull quotes, links."""
    blocks: list[Block] = []
    for chunk in _chunks(lines):
        joined = " ".join(chunk)
        if _HTML_IN_TEXT.search(joined):
            # Markup pasted into the text (an embed code, a script): cleaned like any HTML.
            cleaned = clean_html("\n".join(chunk), None, rules)
            blocks.extend(html_to_blocks(cleaned.html, lambda c: split_credit(c, credit_labels)))
            continue
        if len(chunk) == 1:
            line = chunk[0]
            if re.fullmatch(r"https?://\S+", line) and is_web(line):
                url = video_link(line)
                blocks.append(Block("p", [f"<{url}>"], [url]))
            elif PULL_QUOTE.match(line):
                blocks.append(Block("pull", [escape_inline(line)], [line]))
            elif (
                len(line) <= 80
                and not _FINAL_STOP.search(line)
                and not reader.read(line)[0]
                and not re.fullmatch(r"https?://\S*", line)
            ):
                blocks.append(Block("h", [escape_inline(line).replace("#", "\\#")], [line]))
            else:
                blocks.append(_text_block(line))
            continue
        wrapped = all(len(line) >= 50 for line in chunk[:-1]) and not any(
            reader.read(line)[0] for line in chunk
        )
        if wrapped:
            blocks.append(_text_block(joined))
        else:
            blocks.append(
                Block(
                    "p",
                    [escape_line_start(escape_inline(line)) for line in chunk],
                    list(chunk),
                )
            )
    return blocks


def read_text_page(
    path: Path,
    origin: str,
    rules: RuleSet,
    reader: MetadataReader,
    title: str | None = None,
) -> RawItem:
    """A saved plain-text article page → one raw item."""
    data = read_page_bytes(path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    filled = [i for i, line in enumerate(lines) if line.strip()]
    if not filled:
        raise SourceError("the page is empty")
    item = RawItem(origin=origin, number=1, line=filled[0] + 1, local_dir=path.parent)
    item.key = f"file:{path.name}"
    position = 0
    first = lines[filled[0]].strip()
    second = lines[filled[1]].strip() if len(filled) > 1 else None
    if _is_headline(first, second) and not reader.read(first)[0]:
        item.title = first
        position = 1
    if position < len(filled):
        item.standfirst = lines[filled[position]].strip()
        position += 1
    if position < len(filled):
        candidate = _BYLINE.sub("", lines[filled[position]].strip())
        if looks_like_name(candidate, max_words=5) and not reader.read(candidate)[0]:
            item.author = candidate
            position += 1
    if position < len(filled) and is_bio(lines[filled[position]].strip(), item.author, True):
        item.author_bio = lines[filled[position]].strip()
        position += 1
    if not item.title and title:
        item.title = title
    elif not item.title:
        item.title = title_from_file(path)
        item.notes.append(
            f"the page has no headline: the title '{item.title}' comes from the file name;"
            " pass --title to choose it"
        )
    rest = lines[filled[position] :] if position < len(filled) else []
    credit_labels = rules.rules.credit_labels
    item.blocks = text_blocks(rest, rules, reader, credit_labels)
    item.size = len(data)
    return item
