"""Clean a review's HTML: harvest embeds and real image sources, drop boilerplate, then sanitise.

feedparser's own sanitiser would delete iframes, ``data-src`` and ``srcset`` before we could see
them, so feeds are parsed with ``sanitize_html=False`` and everything happens here, in this
order: boilerplate elements go; pull quotes, captions and a marked standfirst are recognised;
embedded players become a plain link to the video (or vanish when they have no source); lazy
images get their real source; tracking pixels go; URLs are made absolute; then the allowlist
sanitiser (nh3) removes scripts, styles, event handlers, forms and ``javascript:``/``data:`` URLs.
"""

from __future__ import annotations

import html as htmllib
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

import lxml.html
import nh3
from lxml import etree

from .rules import RuleSet, drop

TAGS = {
    "p", "br", "h1", "h2", "h3", "h4", "h5", "h6", "em", "strong", "i", "b", "u", "a",
    "blockquote", "aside", "ul", "ol", "li", "figure", "figcaption", "img", "hr", "cite", "code",
    "pre", "sup", "sub", "small", "span", "div", "section", "article", "header", "footer", "main",
    "table", "thead", "tbody", "tfoot", "tr", "td", "th", "dl", "dt", "dd", "q", "s", "del",
    "ins", "mark", "abbr", "time",
}  # fmt: skip
ATTRIBUTES = {"a": {"href"}, "img": {"src", "alt", "title"}, "aside": {"class"}}
CLEAN_CONTENT = {
    "script", "style", "noscript", "template", "form", "select", "textarea", "button", "iframe",
    "object", "embed", "video", "audio", "canvas", "svg", "math", "title", "head",
}  # fmt: skip
URL_SCHEMES = {"http", "https", "mailto"}
EMBEDS = ("iframe", "embed", "video", "object", "audio")
_BARE_SCHEME = re.compile(r"(?<!\S)https?://(?=\s|$)")
_SIZE = re.compile(r"^\s*(\d+)")
_FLASH = re.compile(r"\.swf(\?|#|$)", re.I)  # Flash players are dead embeds whatever their source


@dataclass
class Cleaned:
    """Sanitised HTML and what was harvested from the raw HTML on the way."""

    html: str
    standfirst: str | None = None
    kicker: str | None = None
    embeds: list[str] = field(default_factory=list)
    dead_embeds: int = 0
    unusable_images: list[str] = field(default_factory=list)
    boilerplate: int = 0
    fallbacks: dict[str, list[str]] = field(default_factory=dict)
    """Other sources of each image (smaller srcset entries, the plain src), best first."""


def parse_fragment(html: str) -> etree._Element:
    """An HTML fragment (or whole document) as a tree under one ``div``."""
    return lxml.html.fragment_fromstring(html or "", create_parent="div")


def text_of(element: etree._Element) -> str:
    """An element's text with whitespace collapsed (no-break spaces kept)."""
    return collapse(element.text_content())


def collapse(text: str) -> str:
    """Runs of ASCII whitespace as one space, trimmed; no-break spaces are typography, kept."""
    return re.sub(r"[ \t\n\r\f\v]+", " ", text).strip(" \t\n\r\f\v")


def html_to_text(html: str | None) -> str:
    """Plain text of an HTML string (titles, summaries), entities decoded."""
    if not html:
        return ""
    if "<" not in html and "&" not in html:
        return collapse(html)
    root = parse_fragment(html)
    for element in root.iter("script", "style"):
        element.text = ""
    for br in root.iter("br"):
        br.tail = " " + (br.tail or "")
    for block in root.iter("p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6"):
        block.tail = " " + (block.tail or "")
    return collapse(root.text_content())


def absolute(url: str | None, base: str | None) -> str | None:
    """``url`` resolved against ``base`` (protocol-relative ``//host/…`` becomes https)."""
    if not url:
        return None
    url = url.strip()
    if url.startswith("//"):
        return "https:" + url
    if base and not urlsplit(url).scheme:
        return urljoin(base, url)
    return url


def is_web(url: str | None) -> bool:
    """Whether ``url`` is an absolute http(s) URL with a host."""
    if not url:
        return False
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def video_link(url: str) -> str:
    """The page of an embedded player: a YouTube or Vimeo embed becomes its watch URL."""
    parts = urlsplit(url)
    host = parts.netloc.lower().removeprefix("www.")
    if host in ("youtube.com", "youtube-nocookie.com", "m.youtube.com"):
        match = re.match(r"^/embed/([\w-]+)", parts.path)
        if match and match[1] != "videoseries":
            return f"https://www.youtube.com/watch?v={match[1]}"
        if match:
            playlist = parse_qs(parts.query).get("list")
            if playlist:
                return f"https://www.youtube.com/playlist?list={playlist[0]}"
    if host == "player.vimeo.com":
        match = re.match(r"^/video/(\d+)", parts.path)
        if match:
            return f"https://vimeo.com/{match[1]}"
    return url


def _classes(element: etree._Element) -> set[str]:
    return set((element.get("class") or "").lower().split())


def _embed_source(element: etree._Element) -> str | None:
    for attr in ("src", "data-src", "data-lazy-src", "data"):
        if value := (element.get(attr) or "").strip():
            return value
    for child in element.iter("source", "param", "embed"):
        if child.tag == "param" and (child.get("name") or "").lower() not in ("movie", "src"):
            continue
        value = (child.get("src") or child.get("value") or "").strip()
        if value:
            return value
    return None


def _srcset(value: str | None) -> list[tuple[float, str]]:
    """``srcset`` entries as (size, url), largest first."""
    entries = []
    for part in (value or "").split(","):
        bits = part.strip().split()
        if not bits:
            continue
        size = 1.0
        if len(bits) > 1 and re.match(r"^\d+(\.\d+)?[wx]$", bits[1]):
            size = float(bits[1][:-1]) * (1 if bits[1].endswith("w") else 1000)
        entries.append((size, bits[0]))
    return sorted(entries, key=lambda e: -e[0])


def _usable(url: str | None) -> bool:
    return bool(url) and not url.strip().lower().startswith(("data:", "javascript:", "about:"))


def image_sources(img: etree._Element) -> list[str]:
    """An image's candidate sources, best first: srcset's largest, lazy-load attributes, src."""
    found = [u for _, u in _srcset(img.get("srcset") or img.get("data-srcset"))]
    for attr in ("data-src", "data-lazy-src", "data-original", "data-orig-file", "src"):
        found.append(img.get(attr) or "")
    unique: list[str] = []
    for url in found:
        url = url.strip()
        if _usable(url) and url not in unique:
            unique.append(url)
    return unique


def _tiny(img: etree._Element) -> bool:
    style = (img.get("style") or "").replace(" ", "").lower()
    if "display:none" in style or re.search(r"(^|;)(width|height):[0-2]px", style):
        return True
    for attr in ("width", "height"):
        match = _SIZE.match(img.get(attr) or "")
        if match and int(match[1]) <= 2:
            return True
    return False


class Harvester:
    """Runs the harvest steps over one tree; results land in ``self.result``."""

    def __init__(self, rules: RuleSet, base: str | None, local_dir: Path | None = None) -> None:
        self.rules = rules
        self.base = base
        self.local_dir = local_dir
        self.result = Cleaned(html="")

    def run(self, root: etree._Element) -> None:
        for element in list(root.iter(etree.Comment, etree.ProcessingInstruction)):
            drop(element)
        for element in list(root.iter("script", "style", "template")):
            drop(element)
        self.result.boilerplate += self.rules.remove_elements(root)
        self._noscript(root)
        self._marked(root)
        self._pullquotes(root)
        self._captions(root)
        self._embeds(root)
        self._images(root)
        self._links(root)
        self._bare_schemes(root)

    def _noscript(self, root: etree._Element) -> None:
        # Lazy-loading plugins put the real <img> in <noscript> after a placeholder.
        for noscript in list(root.iter("noscript")):
            previous = noscript.getprevious()
            placeholder = previous is not None and previous.tag == "img"
            if placeholder and image_sources(previous):
                drop(noscript)
                continue
            if placeholder:
                drop(previous)
            noscript.drop_tag()

    def _marked(self, root: etree._Element) -> None:
        rules = self.rules.rules
        standfirst = {c.lower() for c in rules.standfirst_classes}
        kicker = {c.lower() for c in rules.kicker_classes}
        for element in list(root.iter()):
            if element.getparent() is None or not isinstance(element.tag, str):
                continue
            classes = _classes(element)
            if self.result.kicker is None and classes & kicker and (text := text_of(element)):
                self.result.kicker = text
                drop(element)
            elif self.result.standfirst is None and classes & standfirst:
                text = text_of(element)
                # A lead paragraph, not a wrapper that happens to carry the class.
                if text and len(text) <= 600 and len(element.findall(".//p")) <= 1:
                    self.result.standfirst = text
                    drop(element)

    def _pullquotes(self, root: etree._Element) -> None:
        marks = {c.lower() for c in self.rules.rules.pullquote_classes}
        for element in list(root.iter()):
            if not isinstance(element.tag, str) or not _classes(element) & marks:
                continue
            if element.getparent() is None:
                continue
            for attribution in list(element.iter("cite", "footer")):
                drop(attribution)
            etree.strip_tags(element, "blockquote", "figure", "div", "aside")
            for child in element.iter():
                child.attrib.clear()
            element.tag = "aside"
            element.set("class", "pullquote")

    def _captions(self, root: etree._Element) -> None:
        # WordPress's classic captions: <div class="wp-caption"><img><p class="wp-caption-text">
        for element in list(root.iter()):
            if not isinstance(element.tag, str):
                continue
            classes = _classes(element)
            if "wp-caption-text" in classes or "caption-text" in classes:
                element.tag = "figcaption"
            elif "wp-caption" in classes:
                element.tag = "figure"

    def _embeds(self, root: etree._Element) -> None:
        for element in list(root.iter(*EMBEDS)):
            if element.getparent() is None:
                continue
            source = absolute(_embed_source(element), self.base)
            flash = "flash" in (element.get("type") or "") or _FLASH.search(source or "")
            if element.get("srcdoc") is not None or not is_web(source) or flash:
                self.result.dead_embeds += 1
                drop(element)
                continue
            link = video_link(source)
            anchor = lxml.html.Element("a", href=link)
            anchor.text = link
            anchor.tail = element.tail
            element.getparent().replace(element, anchor)
            self.result.embeds.append(link)

    def _images(self, root: etree._Element) -> None:
        for img in list(root.iter("img")):
            sources = [self._image_url(u) for u in image_sources(img)]
            if _tiny(img) or any(self.rules.is_tracking_pixel(u) for u in sources):
                drop(img)
                continue
            usable = [u for u in sources if is_web(u) or self._beside_page(u)]
            if not usable:
                if sources:
                    self.result.unusable_images.extend(sources[:1])
                drop(img)
                continue
            sources = usable
            img.set("src", sources[0])
            if len(sources) > 1:
                self.result.fallbacks[sources[0]] = sources[1:]

    def _image_url(self, url: str) -> str:
        # A saved page's images sit beside it ("page_files/still.jpg"): keep those relative.
        return url if self._beside_page(url) else absolute(url, self.base) or url

    def _beside_page(self, url: str) -> bool:
        relative = not urlsplit(url).scheme and not url.startswith("//")
        return bool(self.local_dir and relative and local_file(self.local_dir, url))

    def _links(self, root: etree._Element) -> None:
        for anchor in root.iter("a"):
            href = (anchor.get("href") or "").strip()
            if href and not href.startswith("#"):
                anchor.set("href", absolute(href, self.base) or href)

    def _bare_schemes(self, root: etree._Element) -> None:
        # A lone "http://" is what is left of an embed's URL once the player is gone.
        for element in root.iter():
            if element.text and "://" in element.text:
                element.text = _BARE_SCHEME.sub("", element.text)
            if element.tail and "://" in element.tail:
                element.tail = _BARE_SCHEME.sub("", element.tail)


def sanitise(html: str) -> str:
    """The allowlist sanitiser: only harmless structure, http(s)/mailto links and images."""
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        clean_content_tags=CLEAN_CONTENT,
        strip_comments=True,
        link_rel=None,
    )


def local_file(folder: Path, relative: str) -> Path | None:
    """The file ``relative`` (a URL path) names inside ``folder``, if it exists there."""
    path = unquote(urlsplit(relative).path)
    if not path or path.startswith("/"):
        return None
    candidate = (folder / path).resolve()
    inside = candidate.is_relative_to(folder.resolve())
    return candidate if inside and candidate.is_file() else None


def clean_html(
    html: str, base: str | None, rules: RuleSet, local_dir: Path | None = None
) -> Cleaned:
    """Harvest, strip boilerplate and sanitise one item's HTML."""
    root = parse_fragment(html)
    harvester = Harvester(rules, base, local_dir)
    harvester.run(root)
    inner = htmllib.escape(root.text or "", quote=False) + "".join(
        etree.tostring(child, encoding="unicode", method="html") for child in root
    )
    result = harvester.result
    result.html = sanitise(inner)
    return result
