"""The checks of what reviews and the manifest's Markdown say, for ``magbuilder check``.

* every image (cover, heroes, images in review bodies): inside ``content/``, decodes fully, and
  its resolution where it is printed — warning below 300 ppi, error below 150;
* every link in review bodies, the editor's letter and the newsletter intro: absolute
  ``http(s)``/``mailto`` or site-relative ``/…``, and well formed; remote images and raw HTML
  the sanitiser will drop; quotes and lists nested deeper than the print keeps.

A check above the stages, as ``preflight.py`` is: it asks ``render/images.py`` how an image
decodes and ``preflight.py`` what resolution the print needs.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .content import PrintSpec, Review
from .errors import Finding, InputError, Level
from .manifest import LoadedIssue
from .markdown import body_references, too_deep
from .paths import shown
from .preflight import MIN_PPI, PRINT_PPI
from .render.images import SVG_SUFFIXES, UnreadableImage, decoded_size, svg_problems
from .render.placement import MM_PER_INCH
from .store import inside, media_problem, split_front_matter
from .yamlpos import Positions, load_yaml

# A review's text as the layout sets it (tokens body-columns and column-gap, read by
# Layout.body_columns): the default when no layout could be read.
DEFAULT_COLUMNS = (2, 6.0)
LINK_SCHEMES = {"http", "https", "mailto"}


@dataclass(frozen=True)
class ImageUse:
    """An image as a file names it: at ``path:line``, as a ``label`` ("hero image"), by ``src``."""

    path: str
    line: int | None
    label: str
    src: str

    def finding(self, message: str, level: Level = Level.ERROR) -> Finding:
        """A finding at the place that names the image."""
        return Finding(self.path, self.line, message, level)


def cover_findings(loaded: LoadedIssue, spec: PrintSpec) -> list[Finding]:
    """The cover image's problems: it is printed at full bleed."""
    if not loaded.cover:
        return []
    w, h = spec.trim_mm
    size = (w + 2 * spec.bleed, h + 2 * spec.bleed)
    use = ImageUse(loaded.where, loaded.line("cover", "image"), "cover image", loaded.cover)
    found: list[Finding] = []
    if pixels := _decoded(use, loaded.content_dir, found):
        found += _resolution(use, pixels, size, "at full bleed")
    return found


def review_findings(
    review: Review,
    root: Path,
    spec: PrintSpec | None,
    columns: tuple[int, float] = DEFAULT_COLUMNS,
) -> list[Finding]:
    """A review's problems: cut off by ingest, its images, links, dropped HTML and nesting.
    ``columns``: how many columns the layout sets a review's text in, and the gap in mm."""
    path = shown(review.path, root)
    content_dir = root / "content"
    found: list[Finding] = []
    front = _front_positions(review) if review.truncated or review.image else Positions({})
    if review.truncated:
        found.append(
            Finding(
                path,
                front.line(("truncated",)),
                "marked 'truncated: true': ingest found the text cut off (by a paywall?); "
                "complete it from the whole article, then remove the line",
                Level.WARNING,
            )
        )
    text_mm, column_mm = _text_widths(spec, columns)
    if review.image:
        hero = ImageUse(path, front.line(("image", "src")), "hero image", review.image.src)
        pixels = _decoded(hero, content_dir, found)
        if pixels and text_mm and column_mm:  # as the template: full width if 300 ppi there
            wide = pixels[0] >= PRINT_PPI * text_mm / MM_PER_INCH
            where = "across the text block" if wide else "in one column"
            size = (text_mm if wide else column_mm, None)
            found += _resolution(hero, pixels, size, where)
    for offset, kind, value, tag in body_references(review.body):
        line = review.body_line + offset
        if kind == "image":
            found += _body_image(ImageUse(path, line, "image", value), content_dir, column_mm)
        elif kind == "link":
            if problem := link_problem(value):
                found.append(Finding(path, line, problem))
        elif kind == "dropped":
            found.append(
                Finding(
                    path,
                    line,
                    f"<{tag}> in the body is removed by the HTML sanitiser (raw HTML allows "
                    "only text markup, links and images): it will not be printed or mailed",
                    Level.WARNING,
                )
            )
    for offset, what in too_deep(review.body):  # deeper than markdown.MAX_NESTING
        found.append(
            Finding(
                path,
                review.body_line + offset,
                f"{what}: the deeper levels are printed flattened into the last one (the text "
                "is kept); nest them less",
                Level.WARNING,
            )
        )
    return found


def manifest_link_findings(loaded: LoadedIssue) -> list[Finding]:
    """Bad links in the editor's letter and the newsletter intro, at their manifest lines."""
    found = []
    for key, sub in (("editorial", "text"), ("newsletter", "intro")):
        text = loaded.raw(key, sub)
        if not isinstance(text, str):
            continue
        start = loaded.positions.line((key, sub))
        raw = loaded.lines[start - 1] if 0 < start <= len(loaded.lines) else ""
        if re.search(rf"\b{sub}:\s*[|>]", raw):  # a block scalar starts on the next line
            start += 1
        for offset, kind, value, _tag in body_references(text):
            if kind == "link" and (problem := link_problem(value)):
                found.append(Finding(loaded.where, start + offset, f"{key}.{sub}: {problem}"))
    return found


def _text_widths(
    spec: PrintSpec | None, columns: tuple[int, float]
) -> tuple[float | None, float | None]:
    """The widths in mm of the text block and of one of its columns."""
    if spec is None:
        return None, None
    w, _ = spec.trim_mm
    text_mm = w - spec.margins.inside - spec.margins.outside
    count, gap_mm = columns
    return text_mm, (text_mm - gap_mm * (count - 1)) / count


def _front_positions(review: Review) -> Positions:
    """Where each front-matter key of a (valid) review is written."""
    try:
        text = review.path.read_text(encoding="utf-8").removeprefix("\ufeff")
        front, _, _ = split_front_matter(text, review.path)
        return load_yaml(front, review.path, line_offset=1)[1]
    except (OSError, UnicodeDecodeError, InputError):
        return Positions({})


# ---- images ---------------------------------------------------------------------------------
def _body_image(use: ImageUse, content_dir: Path, column_mm: float | None) -> list[Finding]:
    if not use.src.strip():
        return [use.finding("image with an empty src: name a file under content/")]
    scheme = urlsplit(use.src).scheme.lower()
    if scheme in ("http", "https", "file", "data", "ftp") or use.src.startswith("//"):
        return [
            use.finding(
                f"image '{use.src}' is not a file in content/: builds fetch nothing from the "
                "network or outside content/; copy it to content/media/ and use media/<name>"
            )
        ]
    found: list[Finding] = []
    pixels = _decoded(use, content_dir, found)
    if pixels and column_mm:
        found += _resolution(use, pixels, (column_mm, None), "in one column")
    return found


def _decoded(use: ImageUse, content_dir: Path, found: list[Finding]) -> tuple[int, int] | None:
    """The image's pixel size after a full decode, or None (adding why to ``found``)."""
    if problem := media_problem(content_dir, use.src):
        found.append(use.finding(problem))
        return None
    file = inside(content_dir, use.src)
    if file is not None and file.suffix.lower() in SVG_SUFFIXES:
        found += _svg(use, file, content_dir)
    if file is None or file.suffix.lower() in SVG_SUFFIXES:
        return None
    try:
        return decoded_size(file)
    except OSError as exc:
        found.append(use.finding(f"{use.label} '{use.src}' cannot be read: {exc.strerror or exc}"))
    except UnreadableImage as exc:
        found.append(use.finding(f"{use.label} '{use.src}' cannot be decoded: {exc}"))
    return None


def _svg(use: ImageUse, file: Path, content_dir: Path) -> list[Finding]:
    """An SVG WeasyPrint would leave out, or draw without what it fetches from outside
    content/ (``render/images.py: svg_problems``)."""
    try:
        problems = svg_problems(file, content_dir)
    except OSError as exc:
        return [use.finding(f"{use.label} '{use.src}' cannot be read: {exc.strerror or exc}")]
    return [use.finding(f"{use.label} '{use.src}' would not print in full: {p}") for p in problems]


def _resolution(
    use: ImageUse, pixels: tuple[int, int], size_mm: tuple[float, float | None], where: str
) -> list[Finding]:
    """Warning below 300 ppi at the printed size, error below 150."""
    width_mm, height_mm = size_mm
    ppi = pixels[0] / (width_mm / MM_PER_INCH)
    if height_mm:  # object-fit: cover fills both sides; the scarcer one decides
        ppi = min(ppi, pixels[1] / (height_mm / MM_PER_INCH))
    if ppi >= PRINT_PPI - 0.5:
        return []
    level, limit = (Level.ERROR, MIN_PPI) if ppi < MIN_PPI - 0.5 else (Level.WARNING, PRINT_PPI)
    need_w = math.ceil(PRINT_PPI * width_mm / MM_PER_INCH)
    need_h = (
        math.ceil(PRINT_PPI * height_mm / MM_PER_INCH)
        if height_mm
        else math.ceil(need_w * pixels[1] / pixels[0])
    )
    printed = f"{width_mm:.0f}×{height_mm:.0f} mm" if height_mm else f"{width_mm:.0f} mm wide"
    message = (
        f"{use.label} '{use.src}' is {pixels[0]}×{pixels[1]} px: {ppi:.0f} ppi printed {where} "
        f"({printed}), below {limit}; use at least {need_w}×{need_h} px for {PRINT_PPI} ppi"
    )
    return [use.finding(message, level)]


# ---- links ----------------------------------------------------------------------------------
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_HOST = re.compile(r"^[\w.-]+$|^\[[0-9A-Fa-f:.]+\]$")
_MAILTO = re.compile(r"^mailto:[^@\s/?]+@[^@\s/?]+\.[^@\s/?]+(\?\S*)?$", re.I)


def link_problem(href: str) -> str | None:
    """Why ``href`` is not a usable link in a review, or None.

    Allowed: absolute ``http(s)://host/…`` and ``mailto:name@host`` links, and site-relative
    paths (``/reviews/…``). The PDF and the email have no page a relative path could start from.
    """
    if not href.strip():
        return "empty link: write the address, e.g. [text](https://…)"
    if any(char.isspace() for char in href):
        return f"link '{href}' contains a space: write it as %20, or remove it"
    if scheme := _SCHEME.match(href):
        name = scheme.group(1).lower()
        if name in ("javascript", "vbscript", "data", "file"):
            return (
                f"'{name}:' link '{href[:60]}' is not allowed and the sanitiser removes it: "
                "link to a web page instead"
            )
        if name not in LINK_SCHEMES:
            return f"link '{href}' uses '{name}:': use https://, mailto: or a site path /…"
        if name == "mailto":
            return None if _MAILTO.match(href) else f"'{href}' is not a valid mailto: address"
        try:
            parts = urlsplit(href)
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        except ValueError as exc:
            return f"link '{href}' is malformed ({exc})"
        if not href.lower().startswith(f"{name}://") or not parts.hostname:
            return f"link '{href}' has no host: write {name}://example.org/…"
        if not _HOST.match(parts.netloc.rsplit("@", 1)[-1].split(":")[0] or "-") and not (
            parts.netloc.startswith("[")
        ):
            return f"link '{href}' has an invalid host name '{parts.hostname}'"
        return None
    if href.startswith("//"):
        return f"protocol-relative link '{href}': write it in full, https:{href}"
    if href.startswith("/"):
        return None
    kind = "in-page link" if href.startswith("#") else "relative link"
    return (
        f"{kind} '{href}': links must be absolute (https://…) or site-relative (/…); "
        "the PDF and the email have no page it could be relative to"
    )
