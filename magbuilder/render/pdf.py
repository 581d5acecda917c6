"""The PDF magazine: the print template laid out by WeasyPrint inside a file sandbox.

``render_part`` lays out the whole issue (the single-pass reference) or one part of it (the
front matter, or some reviews) for the chunked build in ``render/chunks.py``.
"""

from __future__ import annotations

import logging
import mimetypes
import re
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from ..content import Issue, Review
from ..errors import Finding, RenderError
from ..paths import shown
from .fonts import font_configuration
from .images import RASTER_SUFFIXES, SVG_SUFFIXES, UnreadableImage, decoded_size, svg_problems
from .layout import Layout, project_path, project_url
from .magazine import WHOLE, Part, magazine_html, part_css, review_label

log = logging.getLogger(__name__)


class SandboxFetcher(URLFetcher):
    """Serves files from ``content/`` and the layout chain only; refuses everything else.

    A file asked for in one layout folder but found only in ``default`` is served from there,
    so an overriding stylesheet can keep using the default fonts by relative URL. Raster images
    are decoded in full before they are served: a truncated or corrupt one is recorded in
    ``broken`` (WeasyPrint would print it half grey, or leave it out with a warning).
    """

    def __init__(self, content_dir: Path, layout: Layout) -> None:
        super().__init__(allowed_protocols={"file"}, allow_redirects=False)
        self.content_dir = content_dir.resolve()
        self.layout = layout
        self.roots = [self.content_dir, *(p.resolve() for p in layout.chain)]
        self.refused: list[str] = []  # outside the sandbox, or not a local file
        self.missing: list[str] = []  # inside the sandbox, but no such file
        self.broken: dict[str, str] = {}  # url → why the image cannot be drawn ({where}: its path)

    def named(self, url: str) -> Path | None:
        """The path a ``file:`` URL names (project URLs mapped to the project), links not
        followed; None for any other URL."""
        parts = urlsplit(normalise(url))
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            return None
        return project_path(unquote(parts.path), self.layout.root).absolute()

    def local(self, url: str) -> Path | None:
        """The local file a ``file:`` URL leads to (links followed), or None."""
        named = self.named(url)
        return named.resolve() if named is not None else None

    def resolve(self, url: str) -> Path | None:
        """The allowed local file behind ``url``, or None."""
        path = self.local(url)
        if path is None:
            return None
        for root in self.roots:
            if path.is_relative_to(root) and path.is_file():
                return path
        for folder in self.layout.chain:
            folder = folder.resolve()
            if path.is_relative_to(folder):
                fallback = self.layout.find(str(path.relative_to(folder)))
                return fallback.resolve() if fallback else None
        return None

    def within(self, url: str) -> bool:
        """Whether ``url`` names a local path inside content/ or the layout chain."""
        path = self.local(url)
        return path is not None and any(path.is_relative_to(root) for root in self.roots)

    def shown(self, url: str) -> str:
        """``url`` as a person knows it: a project URL as the file's, a symlink as itself with
        where it leads."""
        named = self.named(url)
        if named is None:
            return url
        target = named.resolve()
        return target.as_uri() if named == target else f"{named.as_uri()} (a link to {target})"

    def _svg_problems(self, path: Path) -> tuple[str, ...]:
        """Why an SVG from content/ would be drawn in part: checked when it is fetched, because
        what it refers to is fetched only when the page is drawn, after the build has looked at
        what was refused (``images.svg_problems``)."""
        if path.suffix.lower() not in SVG_SUFFIXES or not path.is_relative_to(self.content_dir):
            return ()
        return svg_problems(path, self.content_dir)

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        url = normalise(url)
        path = self.resolve(url)
        if path is None:
            if self.within(url):
                self.missing.append(url)
                raise ValueError(f"not found: {url}")
            self.refused.append(url)
            raise ValueError(f"refused: {url} is outside content/ and the layout")
        if path.suffix.lower() in RASTER_SUFFIXES:
            try:
                decoded_size(path)
            except (OSError, UnreadableImage) as exc:
                self.broken[url] = f"cannot decode image {{where}}: {exc}"
                raise ValueError(f"cannot decode {url}: {exc}") from None
        elif problems := self._svg_problems(path):
            self.broken[url] = f"image {{where}} would not print in full: {'; '.join(problems)}"
            raise ValueError(f"SVG {url} would not print in full")
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        response_url = project_url(path, self.layout.root)
        return URLFetcherResponse(response_url, path.read_bytes(), {"Content-Type": mime})


def normalise(url: str) -> str:
    """``file:`` URLs always with an absolute path.

    Python 3.13's ``urljoin`` writes a reference that climbs above the root (``../../etc/x``
    against ``file:///project/content/``) as ``file:etc/x``; RFC 3986 resolves it to
    ``file:///etc/x``, and a relative path must never be read against the working folder.
    """
    parts = urlsplit(url)
    if parts.scheme.lower() != "file" or parts.path.startswith("/"):
        return url
    query = f"?{parts.query}" if parts.query else ""
    fragment = f"#{parts.fragment}" if parts.fragment else ""
    return f"file://{parts.netloc}/{parts.path}{query}{fragment}"


class _AlreadyReported(logging.Filter):
    """Drops WeasyPrint's own lines about files the fetcher refused or could not read: the build
    reports each of those once, at the file and line that refer to it."""

    FILE_MESSAGES = ("Failed to load image at", "Failed to load stylesheet at")

    def __init__(self, fetcher: SandboxFetcher) -> None:
        super().__init__()
        self.fetcher = fetcher

    def filter(self, record: logging.LogRecord) -> bool:
        failed = {*self.fetcher.refused, *self.fetcher.missing, *self.fetcher.broken}
        message = str(record.msg)
        if message.startswith(self.FILE_MESSAGES) and record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            return normalise(str(args[0])) not in failed
        if message.startswith("Font-face") and "cannot be loaded" in message:
            return not (self.fetcher.refused or self.fetcher.missing)
        return True


def html_to_pdf(
    issue: Issue, layout: Layout, html: str, extra_css: str = "", *, tagged: bool = False
) -> bytes:
    """Lay out ``html`` in the sandbox, with the layout's fonts only, and write it as a PDF
    (with its structure tags when ``tagged``)."""
    fetcher = SandboxFetcher(issue.content_dir, layout)
    fonts = font_configuration(layout.fonts)
    quiet = _AlreadyReported(fetcher)
    weasyprint_log = logging.getLogger("weasyprint")
    weasyprint_log.addFilter(quiet)
    try:
        stylesheets = [CSS(string=extra_css, font_config=fonts)] if extra_css else []
        document = HTML(
            string=html, base_url=project_url(issue.content_dir, layout.root), url_fetcher=fetcher
        ).render(font_config=fonts, stylesheets=stylesheets)
        findings = _fetch_findings(issue, layout, html, fetcher)
        if findings:
            raise RenderError("the magazine uses files it may not or cannot read", findings)
        return document.write_pdf(pdf_tags=True) if tagged else document.write_pdf()
    finally:
        weasyprint_log.removeFilter(quiet)
        fonts.close()  # its folder of @font-face files, at once: a worker may be killed later


# src="…", href='…', url(…), Markdown ](…) and YAML image:/src: — how files name resources.
_REFERENCE = re.compile(
    r"(?:src|href)\s*=\s*[\"']([^\"']*)[\"']|url\(\s*[\"']?([^\"')\s]+)|\]\(\s*<?([^)\s>]+)"
    r"|\b(?:image|src):\s*(?!url\()[\"']?([^\"'\s#()]+)"
)


def _referrer(
    issue: Issue, layout: Layout, html: str, url: str
) -> tuple[str, int | None, Review | None]:
    """The file and line that refer to ``url``: a review laid out in ``html``, the manifest, or
    a layout file (a stylesheet's URLs are relative to the stylesheet)."""
    base = project_url(issue.content_dir, layout.root)
    candidates = [(r.path, base, r) for r in issue.reviews if f'id="review-{r.slug}"' in html]
    candidates.append((issue.manifest_path, base, None))
    for folder in layout.chain:
        for path in sorted(folder.rglob("*.css")):
            candidates.append((path, project_url(path, layout.root), None))
        candidates += [(path, base, None) for path in sorted(folder.rglob("*.j2"))]
    for path, against, review in candidates:
        try:
            lines = path.read_text("utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        for number, line in enumerate(lines, start=1):
            for match in _REFERENCE.finditer(line):
                ref = next((g for g in match.groups() if g), "")
                if ref and normalise(urljoin(against, ref.strip())) == url:
                    return shown(path, issue.root.resolve()), number, review
    return "magazine", None, None


def _fetch_findings(
    issue: Issue, layout: Layout, html: str, fetcher: SandboxFetcher
) -> list[Finding]:
    """One finding per refused, missing or undecodable file, at the line that refers to it."""
    problems = [
        (
            url,
            f"refused {fetcher.shown(url)}: builds read only content/ and layouts/ and fetch "
            "nothing from the network; copy the file into content/media/ (images) or the layout "
            "(stylesheets, fonts) and refer to it by relative path",
        )
        for url in dict.fromkeys(fetcher.refused)
    ]
    root = issue.root.resolve()
    for url in dict.fromkeys(fetcher.missing):
        where = shown(fetcher.local(url) or Path(url), root)
        problems.append((url, f"{where} not found: add the file or correct the reference"))
    for url, why in fetcher.broken.items():
        where = shown(fetcher.local(url) or Path(url), root)
        problems.append((url, why.replace("{where}", where)))
    findings = []
    for url, message in problems:
        path, line, review = _referrer(issue, layout, html, url)
        if review is not None:
            message = f"{review_label(issue, review)}: {message}"
        findings.append(Finding(path, line, message))
    return findings


def render_part(issue: Issue, layout: Layout, part: Part = WHOLE) -> bytes:
    """Lay out the issue (or one part) and write a tagged PDF: the base of both outputs."""
    from .ads import merge_artwork

    html = magazine_html(issue, layout, part)
    return merge_artwork(
        html_to_pdf(issue, layout, html, part_css(issue, part), tagged=True), issue
    )


def render_pdf(issue: Issue, layout: Layout) -> bytes:
    """The whole magazine in a single pass (the reference the chunked build must match)."""
    return render_part(issue, layout, WHOLE)
