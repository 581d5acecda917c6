"""The PDF magazine: the print template laid out by WeasyPrint inside a file sandbox.

``render_part`` lays out the whole issue (the single-pass reference) or one part of it (the
front matter, or some reviews) for the chunked build in ``render/chunks.py``.
"""

from __future__ import annotations

import logging
import mimetypes
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

from PIL import Image
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from ..content import Issue
from ..errors import RenderError
from .env import Layout, make_env, render_template

log = logging.getLogger(__name__)

CHUNK_LINK = "magbuilder:"  # contents links in a chunked build, resolved when pages are assembled
PRINT_TEMPLATE = "print/magazine.html.j2"


@dataclass(frozen=True)
class Part:
    """Which part of the magazine to lay out, and how the contents refers to the reviews."""

    front: bool = True
    reviews: frozenset[str] | None = None  # None: every review
    page_numbers: dict[str, int] | None = None  # final numbers for the contents, when known
    chunked: bool = False  # part of a chunked build: links by name; reviews without margin boxes

    def includes(self, slug: str) -> bool:
        return self.reviews is None or slug in self.reviews

    def link(self, slug: str) -> str:
        return f"{CHUNK_LINK}review-{slug}" if self.chunked else f"#review-{slug}"


WHOLE = Part()


class SandboxFetcher(URLFetcher):
    """Serves files from ``content/`` and the layout chain only; refuses everything else.

    A file asked for in one layout folder but found only in ``default`` is served from there,
    so an overriding stylesheet can keep using the default fonts by relative URL.
    """

    def __init__(self, content_dir: Path, layout: Layout) -> None:
        super().__init__(allowed_protocols={"file"}, allow_redirects=False)
        self.content_dir = content_dir.resolve()
        self.layout = layout
        self.roots = [self.content_dir, *(p.resolve() for p in layout.chain)]
        self.refused: list[str] = []

    def resolve(self, url: str) -> Path | None:
        """The allowed local file behind ``url``, or None."""
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            return None
        path = Path(unquote(parts.path)).resolve()
        for root in self.roots:
            if path.is_relative_to(root) and path.is_file():
                return path
        for folder in self.layout.chain:
            folder = folder.resolve()
            if path.is_relative_to(folder):
                fallback = self.layout.find(str(path.relative_to(folder)))
                return fallback.resolve() if fallback else None
        return None

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        path = self.resolve(url)
        if path is None:
            self.refused.append(url)
            raise ValueError(f"refused: {url} is outside content/ and the layout")
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": mime})


@lru_cache(maxsize=256)
def _pixels(path: Path, mtime: float) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.size


def image_pixels(content_dir: Path, src: str) -> tuple[int, int]:
    """Width and height in pixels of an image under ``content/`` (for layout decisions)."""
    path = content_dir / src
    try:
        return _pixels(path, path.stat().st_mtime)
    except (OSError, Image.UnidentifiedImageError) as exc:
        raise RenderError(f"cannot read image content/{src}: {exc}") from None


def magazine_html(issue: Issue, layout: Layout, part: Part = WHOLE) -> str:
    """The magazine (or a part of it) as one HTML document."""
    return render_template(
        make_env(layout),
        PRINT_TEMPLATE,
        issue=issue,
        part=part,
        pixels=lambda src: image_pixels(issue.content_dir, src),
    )


def chunk_css(issue: Issue) -> str:
    """For a standalone part: the same text width on every page, no margin boxes.

    Left and right pages differ only in where the text block sits (inside/outside margins) and
    in their running heads; the assembler shifts each page into place and adds the heads.
    """
    g = issue.manifest.print.margins
    side = (g.inside + g.outside) / 2
    boxes = " ".join(
        f"@{box} {{ content: none !important; }}"
        for box in ("top-left", "top-center", "top-right", "bottom-left", "bottom-right")
    )
    sides = f"margin-left: {side}mm !important; margin-right: {side}mm !important;"
    return "".join(f"@page :{kind} {{ {sides} {boxes} }}\n" for kind in ("left", "right"))


def render_html(issue: Issue, layout: Layout, html: str, extra_css: str = ""):  # noqa: ANN201
    """Lay out ``html`` in the sandbox and return WeasyPrint's Document."""
    fetcher = SandboxFetcher(issue.content_dir, layout)
    fonts = FontConfiguration()
    stylesheets = [CSS(string=extra_css, font_config=fonts)] if extra_css else []
    document = HTML(
        string=html, base_url=issue.content_dir.resolve().as_uri() + "/", url_fetcher=fetcher
    ).render(font_config=fonts, stylesheets=stylesheets)
    if fetcher.refused:
        listed = ", ".join(sorted(set(fetcher.refused)))
        raise RenderError(
            f"the issue refers to resources outside content/ and layouts/: {listed}; "
            "copy images into content/media/ and refer to them by relative path"
        )
    return document


def render_part(issue: Issue, layout: Layout, part: Part = WHOLE) -> bytes:
    """Lay out the issue (or one part) and write a tagged PDF: the base of both outputs."""
    html = magazine_html(issue, layout, part)
    standalone = part.chunked and not part.front  # the front matter always starts on page 1
    document = render_html(issue, layout, html, chunk_css(issue) if standalone else "")
    return document.write_pdf(pdf_tags=True)


def render_pdf(issue: Issue, layout: Layout) -> bytes:
    """The whole magazine in a single pass (the reference the chunked build must match)."""
    return render_part(issue, layout, WHOLE)
