"""Decoding images strictly: a truncated or corrupt file is an error, never a grey half-picture.

WeasyPrint sets Pillow's ``ImageFile.LOAD_TRUNCATED_IMAGES`` for the whole process when it is
imported, so a JPEG cut short by a failed copy decodes "successfully" with its bottom missing.
Every image magbuilder prints or mails is decoded here once with that switch off.

An SVG is read the way WeasyPrint reads it (``svg_problems``): one it cannot parse, or the
pictures and fonts it fetches from outside ``content/``, would be left out without an error.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext, suppress
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree
from xml.parsers import expat

from PIL import Image, ImageFile

from ..errors import Finding, RenderError

# Formats Pillow decodes; anything else (SVG…) is left to WeasyPrint.
RASTER_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".png", ".gif", ".webp", ".tif", ".tiff", ".bmp", ".jp2", ".avif"}
)
_STRICT = threading.RLock()


class UnreadableImage(ValueError):
    """An image file that cannot be decoded; the message says why, for a person."""


@contextmanager
def strict_decoding() -> Iterator[None]:
    """Within the block, Pillow refuses truncated images (restored afterwards)."""
    with _STRICT:
        allowed = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = allowed


def reason(exc: BaseException) -> str:
    """What a Pillow exception means for the person who supplied the file."""
    text = str(exc)
    if isinstance(exc, Image.DecompressionBombError):
        return f"too many pixels to decode safely ({text})"
    if isinstance(exc, Image.UnidentifiedImageError):
        return "not an image file Pillow can read (wrong extension, or not an image at all?)"
    if "truncated" in text or "incomplete" in text or isinstance(exc, EOFError):
        return "the file is truncated (an interrupted download or copy?): export it again"
    return f"the image data is corrupt ({type(exc).__name__}: {text or 'no detail'})"


@lru_cache(maxsize=512)
def _size(path: Path, mtime_ns: int, size: int, full: bool) -> tuple[int, int]:
    """Pixel size from the header, or (``full``) after decoding every pixel strictly."""
    with strict_decoding() if full else nullcontext():
        try:
            with Image.open(path) as image:
                if full:
                    image.load()
                return image.size
        except OSError as exc:
            if not path.is_file():
                raise
            raise UnreadableImage(reason(exc)) from None
        except Exception as exc:  # Pillow's decoders raise many types for hostile files
            raise UnreadableImage(reason(exc)) from None


def content_bytes(content_dir: Path, src: str) -> bytes:
    """The bytes of image ``src`` under ``content/``; a file that cannot be read is a
    RenderError naming it."""
    where = f"content/{src}"
    try:
        return (content_dir / src).read_bytes()
    except OSError as exc:
        why = f"cannot read image: {exc.strerror or exc}"
        raise RenderError(f"{where}: {why}", [Finding(where, None, why)]) from None


def header_size(path: Path) -> tuple[int, int]:
    """Width and height in pixels from the image's header only (cheap; no decoding).

    Raises OSError when the file cannot be read, UnreadableImage when it is not an image.
    """
    stat = path.stat()
    return _size(path.resolve(), stat.st_mtime_ns, stat.st_size, False)


def decoded_size(path: Path) -> tuple[int, int]:
    """Width and height in pixels of the image at ``path``, after decoding every pixel.

    Raises OSError when the file cannot be read, UnreadableImage when it cannot be decoded.
    Results are cached while the file is unchanged.
    """
    stat = path.stat()
    return _size(path.resolve(), stat.st_mtime_ns, stat.st_size, True)


SVG_SUFFIXES = frozenset({".svg"})
_SVG_NS = "http://www.w3.org/2000/svg"
_XLINK_HREF = "http://www.w3.org/1999/xlink}href"
_FETCHED = {"image", "feImage"}  # elements whose href WeasyPrint fetches while drawing
_CSS_URL = re.compile(r"""url\(\s*["']?([^"')\s]+)|@import\s+["']([^"']+)""")


def svg_problems(path: Path, content_dir: Path) -> tuple[str, ...]:
    """Why WeasyPrint, in the build's sandbox, would draw the SVG at ``path`` in part or not at
    all; empty when it draws all of it.

    WeasyPrint parses SVG with ElementTree, which reads no DTD: an entity the file does not
    declare itself (``&nbsp;`` from the SVG 1.1 DTD) or an external entity loses the whole
    picture. The pictures, stylesheets and fonts an SVG refers to are fetched while the page is
    drawn, from ``content/`` only: one on the network, outside ``content/``, in a ``data:`` URL
    (the sandbox takes files only), missing or corrupt is left out. A DOCTYPE alone is harmless.
    Raises OSError when the file cannot be read. Results are cached while the file is unchanged.
    """
    stat = path.stat()
    return _svg_problems(path.resolve(), content_dir.resolve(), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=128)
def _svg_problems(path: Path, content_dir: Path, mtime_ns: int, size: int) -> tuple[str, ...]:
    return tuple(_svg_file(path, content_dir, {path}))


def _svg_file(path: Path, content_dir: Path, seen: set[Path]) -> Iterator[str]:
    data = path.read_bytes()
    try:
        ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        why = str(exc)
        if "undefined entity" in why:
            why += (
                ": an entity from a DTD or another file, which nothing reads; write the "
                "character itself or a numeric reference (&#160; for &nbsp;)"
            )
        elif "amplification" in why:
            why += ": its DOCTYPE declares entities that expand too much"
        yield f"WeasyPrint cannot read it as XML, and leaves it out ({why})"
        return
    for line, element, url in _svg_references(data):
        where = f"line {line}: <{element}>"
        if element not in _FETCHED and element != "style":
            if _same_file(url, path):
                continue
            yield (
                f"{where} refers to '{_short(url)}' in another file, which WeasyPrint does not "
                "draw: copy what it refers to into this SVG and refer to it as #id"
            )
            continue
        target, problem = _fetched(url, path, content_dir)
        if problem:
            yield f"{where} {problem}"
        elif target is not None and target not in seen:
            if target.suffix.lower() in SVG_SUFFIXES:
                yield from (
                    f"{where} '{_short(url)}': {p}"
                    for p in _svg_file(target, content_dir, {*seen, target})
                )
            elif target.suffix.lower() in RASTER_SUFFIXES:
                try:
                    decoded_size(target)
                except (OSError, UnreadableImage) as exc:
                    yield f"{where} '{_short(url)}' cannot be decoded: {exc}"


def _svg_references(data: bytes) -> list[tuple[int, str, str]]:
    """``(line, element, url)`` for every reference in an SVG that WeasyPrint may follow: hrefs
    (but links, ``<a>``), and ``url()`` and ``@import`` in styles."""
    found: list[tuple[int, str, str]] = []
    style: list[tuple[int, list[str]]] = []
    parser = expat.ParserCreate(namespace_separator="}")

    def start(name: str, attrs: dict[str, str]) -> None:
        namespace, _, element = name.rpartition("}")
        line = parser.CurrentLineNumber
        href = attrs.get(_XLINK_HREF) or attrs.get("href")
        svg = namespace in ("", _SVG_NS)  # not metadata (RDF, Inkscape's own elements…)
        if href and svg and element != "a" and not href.strip().startswith("#"):
            found.append((line, element, href.strip()))
        for url in _css_urls(attrs.get("style", "")):
            found.append((line, "style", url))
        style.append((line, []) if element == "style" else (0, []))

    def text(data: str) -> None:
        if style and style[-1][0]:
            style[-1][1].append(data)

    def end(name: str) -> None:
        line, chunks = style.pop()
        for url in _css_urls("".join(chunks)):
            found.append((line, "style", url))

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    with suppress(expat.ExpatError):  # ElementTree read it: what is found so far counts
        parser.Parse(data, True)
    return found


def _css_urls(css: str) -> list[str]:
    return [u or i for u, i in _CSS_URL.findall(css) if not (u or i).startswith("#")]


def _same_file(url: str, svg: Path) -> bool:
    parts = urlsplit(url)
    return not parts.scheme and (svg.parent / unquote(parts.path)).resolve() == svg


def _short(url: str) -> str:
    return url if len(url) <= 60 else url[:57] + "..."


def _fetched(url: str, svg: Path, content_dir: Path) -> tuple[Path | None, str | None]:
    """The file under ``content/`` that a reference in ``svg`` fetches, or why it cannot."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    shown = _short(url)
    if scheme in ("http", "https", "ftp") or url.startswith("//"):
        return None, (
            f"fetches '{shown}' from the network, and builds fetch nothing: save it in "
            "content/media/ and refer to it by a relative path"
        )
    if scheme == "data":
        return None, (
            f"embeds '{shown}', and builds read files only: save it in content/media/ "
            "and refer to it by a relative path"
        )
    if scheme and scheme != "file":
        return None, f"refers to '{shown}' ('{scheme}:'), which builds cannot read"
    target = (svg.parent / unquote(parts.path)).resolve()
    if not target.is_relative_to(content_dir):
        return None, (
            f"refers to '{shown}', outside content/, which builds do not read: copy it into "
            "content/media/ and refer to it by a relative path"
        )
    if not target.is_file():
        return (
            None,
            f"refers to '{shown}', which is not there ({target.relative_to(content_dir.parent)})",
        )
    return target, None
