"""The issue as a reflowable EPUB 3: cover, editor's letter, contents and one document per review.

The documents are the layout's templates in ``epub/`` (``package.opf.j2``, ``nav.xhtml.j2``,
``cover.xhtml.j2``, ``editorial.xhtml.j2``, ``review.xhtml.j2`` and ``epub.css``), rendered with
the layout's environment; the Markdown goes through the project's renderer and is written as
XHTML. Images are resampled JPEGs (at most ``IMAGE_PX`` on their longer side, cached); the fonts
``epub.css`` names as ``url(fonts/…)`` are copied, unchanged, from the layout's font set. The
print edition's page breaks are marked in the text (``render/epub_pages.py``) and listed in the
navigation document's page list.

The same inputs give the same bytes: the entries are sorted (``mimetype`` first, stored), every
entry carries the issue's date, and the identifier is derived from the issue's address.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import uuid
import zipfile
from pathlib import Path, PurePosixPath
from xml.sax.saxutils import escape

from lxml import etree
from lxml import html as lxml_html
from markupsafe import Markup
from PIL import Image

from ..cache import Cache
from ..content import Issue, Review
from ..errors import Finding, RenderError
from ..markdown import render_markdown
from ..paths import PRINT_PDF
from .env import make_env, render_template
from .epub_pages import markers, page_texts, place
from .images import content_bytes, reason, strict_decoding
from .layout import Layout

IMAGE_PX = 1600  # the longer side of an image, enough for a tablet's screen
JPEG_QUALITY = 80
TEMPLATES = "epub/"
STYLESHEET = "epub/epub.css"
CONTAINER = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">\n'
    '  <rootfiles><rootfile full-path="EPUB/package.opf" '
    'media-type="application/oebps-package+xml"/></rootfiles>\n</container>\n'
)
MEDIA_TYPES = {
    ".xhtml": "application/xhtml+xml",
    ".css": "text/css",
    ".jpg": "image/jpeg",
    ".svg": "image/svg+xml",
    ".otf": "font/otf",
    ".ttf": "font/ttf",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
}
_FONT_URL = re.compile(r"""url\(\s*["']?fonts/([^"')]+)["']?\s*\)""")
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_PULLQUOTE = '<aside class="pullquote">'


def review_document(review: Review) -> str:
    """The file name of a review's document in the EPUB."""
    return f"review-{review.slug}.xhtml"


def render_epub(
    issue: Issue,
    layout: Layout,
    laid_out: bytes,
    *,
    modified: dt.datetime,
    image_cache: Path | None = None,
) -> bytes:
    """The EPUB of ``issue``, its page list taken from ``laid_out``, the laid-out magazine."""
    from .collate import review_pages

    env = make_env(layout)
    m = issue.manifest
    starts, total = review_pages(laid_out)
    texts = page_texts(laid_out)
    images = _ImageNames()
    files: dict[str, bytes] = {}
    pages: list[tuple[int, str]] = []  # (print page, href) as the page list gives them

    def document(name: str, template: str, **context: object) -> None:
        files[name] = render_template(env, TEMPLATES + template, issue=issue, **context).encode()

    def pages_of(first: int, last: int) -> list[tuple[int, str]]:
        return [(n, texts[n - 1]) for n in range(first, last + 1) if n <= len(texts)]

    image = images.name
    opening = {r.slug: n for r in issue.reviews if (n := starts.get(r.slug))}
    front_end = min(opening.values(), default=total + 1) - 1
    document("cover.xhtml", "cover.xhtml.j2", image=image, pagebreaks=markers([1]))
    pages.append((1, "cover.xhtml#page-1"))
    letter = xhtml(render_markdown(m.editorial.text, image))
    letter, found = place(letter, pages_of(2, front_end), all_pages=False)
    contents = [n for n in range(2, front_end + 1) if n not in found]
    document("editorial.xhtml", "editorial.xhtml.j2", text=Markup(letter), pagebreaks="")
    pages += [(n, f"editorial.xhtml#page-{n}") for n in found]
    pages += [(n, f"nav.xhtml#page-{n}") for n in contents]

    reading = [r for r in issue.reviews if r.slug in opening]
    ends = [opening[r.slug] - 1 for r in reading[1:]] + [total]
    for section in issue.sections:
        for review in section.reviews:
            name = review_document(review)
            first = opening.get(review.slug)
            last = ends[reading.index(review)] if first else 0
            body = _review_body(review, image)
            body, _ = place(body, pages_of(first + 1, last)) if first else (body, [])
            text, _, bio = body.partition(_BIO)
            document(
                name,
                "review.xhtml.j2",
                review=review,
                section=section,
                image=image,
                body=Markup(text),
                bio=Markup(bio),
                opening=markers([first] if first else []),
            )
            pages += [(n, f"{name}#page-{n}") for n in range(first, last + 1) if first]
    pages.sort()
    documents = {r.slug: review_document(r) for r in issue.reviews}
    navigation = markers(contents)
    document("nav.xhtml", "nav.xhtml.j2", documents=documents, pages=pages, pagebreaks=navigation)
    css = render_template(env, STYLESHEET, issue=issue)
    files["epub.css"] = css.encode()
    files.update(_fonts(layout, css))
    files.update(images.files(issue, image_cache))
    spine = ["cover.xhtml", "editorial.xhtml", "nav.xhtml", *documents.values()]
    cover = image(m.cover.image)
    files["package.opf"] = render_template(
        env,
        TEMPLATES + "package.opf.j2",
        issue=issue,
        identifier=identifier(issue),
        modified=modified.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        languages=list(dict.fromkeys([m.lang, *(r.lang or m.lang for r in issue.reviews)])),
        page_source=m.site.issue_url(issue.web_path, PRINT_PDF),
        items=_items(files, cover),
        spine=[_item_id(name) for name in spine],
    ).encode()
    entries = {f"EPUB/{name}": data for name, data in files.items()}
    entries["META-INF/container.xml"] = CONTAINER.encode()
    return package(entries, modified)


_BIO = "<!--bio-->"


def _review_body(review: Review, image: object) -> str:
    """A review's body as XHTML, its pull quotes marked as such, then its bio after ``_BIO``:
    the print pages may begin in either."""
    body = xhtml(render_markdown(review.body, image))  # type: ignore[arg-type]
    body = body.replace(
        _PULLQUOTE, '<aside class="pullquote" epub:type="pullquote" role="doc-pullquote">'
    )
    bio = f"<p>{escape(review.author_bio)}</p>" if review.author_bio else ""
    return f"{body}{_BIO}{bio}"


def xhtml(fragment: str) -> str:
    """Sanitised HTML (the Markdown renderer's) as well-formed XHTML: void elements closed,
    named entities written as characters."""
    if not fragment.strip():
        return ""
    out = []
    for part in lxml_html.fragments_fromstring(fragment):
        if isinstance(part, str):
            out.append(escape(part))
        else:
            out.append(etree.tostring(part, method="xml", encoding="unicode"))
    return "".join(out)


def identifier(issue: Issue) -> str:
    """The EPUB's identifier: the same for every build of the issue, different for each issue."""
    return (
        f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, issue.manifest.site.issue_url(issue.web_path))}"
    )


class _ImageNames:
    """Where each image (a path under ``content/``) goes in the EPUB, named once."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def name(self, src: str) -> str:
        if src not in self.names:
            path = PurePosixPath(src)
            stem = re.sub(r"[^A-Za-z0-9_-]+", "-", path.with_suffix("").as_posix()).strip("-")
            stem = stem.removeprefix("media-") or "image"
            suffix = ".svg" if path.suffix.lower() == ".svg" else ".jpg"
            taken = set(self.names.values())
            name, count = f"images/{stem}{suffix}", 1
            while name in taken:
                count += 1
                name = f"images/{stem}-{count}{suffix}"
            self.names[src] = name
        return self.names[src]

    def files(self, issue: Issue, cache: Path | None) -> dict[str, bytes]:
        """Every image named, read from ``content/`` and resampled (an SVG as it is)."""
        out = {}
        for src, name in self.names.items():
            data = content_bytes(issue.content_dir, src)
            out[name] = data if name.endswith(".svg") else _resampled(f"content/{src}", data, cache)
        return out


def _resampled(where: str, data: bytes, cache: Path | None) -> bytes:
    """A JPEG of the image at most ``IMAGE_PX`` on its longer side, made once per content."""
    key = hashlib.sha256(data + f"epub {IMAGE_PX}/{JPEG_QUALITY}".encode()).hexdigest()
    store = Cache(cache, ".jpg") if cache is not None else None
    if store is not None and (kept := store.get(key)) is not None:
        return kept
    try:
        with strict_decoding(), Image.open(io.BytesIO(data)) as opened:
            picture = opened.convert("RGBA") if opened.mode in ("P", "LA", "RGBA") else opened
            if picture.mode == "RGBA":  # on white, as on the page
                flat = Image.new("RGB", picture.size, (255, 255, 255))
                flat.paste(picture, mask=picture.getchannel("A"))
                picture = flat
            picture = picture.convert("RGB")
            picture.thumbnail((IMAGE_PX, IMAGE_PX), Image.LANCZOS)
            out = io.BytesIO()
            picture.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        why = f"cannot decode image: {reason(exc)}"
        raise RenderError(f"{where}: {why}", [Finding(where, None, why)]) from None
    if store is not None:
        store.put(key, out.getvalue())
    return out.getvalue()


def _fonts(layout: Layout, css: str) -> dict[str, bytes]:
    """The font files ``css`` names (``url(fonts/…)``), from the layout's font set."""
    available = {path.name: path for path in layout.fonts.files}
    out = {}
    for name in sorted(set(_FONT_URL.findall(_CSS_COMMENT.sub("", css)))):
        if name not in available:
            known = ", ".join(sorted(available)) or "none"
            why = f"epub.css names font '{name}', which the layout does not have (it has {known})"
            raise RenderError("EPUB font missing", [Finding(STYLESHEET, None, why)])
        out[f"fonts/{name}"] = available[name].read_bytes()
    return out


def _item_id(name: str) -> str:
    """A manifest id for a file of the EPUB: its name with every other character a hyphen."""
    return "i-" + re.sub(r"[^A-Za-z0-9_-]", "-", name)


def _items(files: dict[str, bytes], cover: str) -> list[tuple[str, str, str, str]]:
    """(id, href, media type, properties) of every file of the EPUB but the package."""
    items = []
    for name in sorted(files):
        properties = "nav" if name == "nav.xhtml" else "cover-image" if name == cover else ""
        media_type = MEDIA_TYPES[PurePosixPath(name).suffix.lower()]
        items.append((_item_id(name), name, media_type, properties))
    return items


def package(entries: dict[str, bytes], when: dt.datetime) -> bytes:
    """The EPUB's zip: ``mimetype`` first and stored, then every entry in name order, each
    dated ``when`` (not before 1980, the zip format's first day)."""
    stamp = max(when.astimezone(dt.UTC).replace(tzinfo=None), dt.datetime(1980, 1, 1))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name in ["mimetype", *sorted(entries)]:
            info = zipfile.ZipInfo(name, date_time=stamp.timetuple()[:6])
            info.create_system = 3
            info.external_attr = 0o644 << 16
            stored = name == "mimetype"
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            data = b"application/epub+zip" if stored else entries[name]
            archive.writestr(info, data, compresslevel=None if stored else 9)
    return out.getvalue()
