"""The pre-flight behind ``magbuilder check``: what can be known of an issue without laying it out.

``check_issue`` collects every finding (``path:line: level: message``) at once:

* the manifest, ``magbuilder.yaml`` and the selected reviews' front matter (``load_issue``),
  reviews selected twice and empty sections;
* every image (cover, heroes, images in review bodies): inside ``content/``, decodes fully, and
  its resolution where it is printed — warning below 300 ppi, error below 150;
* every link in review bodies, the editor's letter and the newsletter intro: absolute
  ``http(s)``/``mailto`` or site-relative ``/…``, and well formed; remote images and raw HTML
  the sanitiser will drop;
* every font the layout's print stylesheet declares in ``@font-face``: found in the layout chain
  and embeddable (OS/2 ``fsType``); every character of the manifest and the reviews drawable
  by a font of the layout (builds see no other font, see ``render/fonts.py``);
* the templates render, and the newsletter stays under Gmail's clipping size.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from pydantic import ValidationError

from .content import SLUG, Issue, PrintSpec, Review
from .errors import Finding, InputError, MagbuilderError
from .manifest import load_issue
from .markdown import body_references, too_deep
from .paths import find_root, shown
from .preflight import MIN_PPI, PRINT_PPI
from .store import inside, media_problem, read_review, split_front_matter
from .yamlpos import Positions, load_yaml

log = logging.getLogger(__name__)

MM_PER_INCH = 25.4
COLUMN_GAP_MM = 6.0  # .body { column-gap: 6mm } in layouts/default/print/print.css
VECTOR_SUFFIXES = {".svg"}
LINK_SCHEMES = {"http", "https", "mailto"}
# fsType (OpenType OS/2): bits 0-3 are the licence's embedding permission.
FS_RESTRICTED, FS_PREVIEW_PRINT, FS_EDITABLE = 0x0002, 0x0004, 0x0008
FS_NO_SUBSETTING, FS_BITMAP_ONLY = 0x0100, 0x0200


@dataclass
class CheckResult:
    """Every finding about one issue, and the issue itself when it loaded."""

    manifest: str
    issue: Issue | None
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.level == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.level == "warning")

    def summary(self) -> str:
        """One line: ``ok (10 reviews in 3 sections)`` or ``failed``, with the counts."""
        counts = f"{_plural(self.errors, 'error')}, {_plural(self.warnings, 'warning')}"
        if self.errors or self.issue is None:
            return f"{self.manifest}: failed: {counts}"
        reviews, sections = len(self.issue.reviews), len(self.issue.sections)
        return f"{self.manifest}: ok ({reviews} reviews in {sections} sections), {counts}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' * (count != 1)}"


def format_finding(finding: Finding) -> str:
    """``path:line: level: message`` (the level is always written, errors too)."""
    where = f"{finding.path}:{finding.line}" if finding.line else f"{finding.path}"
    return f"{where}: {finding.level}: {finding.message}"


def check_issue(manifest_path: Path | str) -> list[Finding]:
    """Every problem with an issue and what it uses, as warnings and errors, without building."""
    return run_checks(manifest_path).findings


def run_checks(manifest_path: Path | str) -> CheckResult:
    """``check_issue`` with the loaded issue (when it loads) for the summary line."""
    checker = _Checker(Path(manifest_path))
    checker.run()
    unique = list(dict.fromkeys(checker.findings))  # the same problem found twice is shown once
    return CheckResult(checker.where, checker.issue, unique)


class _Checker:
    """One run of the checks over one manifest; works from the raw YAML when it does not load."""

    def __init__(self, manifest_path: Path) -> None:
        self.path = manifest_path
        self.root = find_root(manifest_path)
        self.where = shown(manifest_path, self.root)
        self.content_dir = self.root / "content"
        self.findings: list[Finding] = []
        self.issue: Issue | None = None
        self.data: Any = None
        self.positions = Positions({})
        self.lines: list[str] = []

    def add(self, path: Path | str, line: int | None, message: str, level: str = "error") -> None:
        self.findings.append(Finding(path, line, message, level))

    def run(self) -> None:
        try:
            self.issue = load_issue(self.path)
        except InputError as exc:
            self.findings.extend(exc.findings)
        self._read_raw()
        self.findings = [self._clarify(f) for f in self.findings]
        spec, layout_name, cover, reviews = self._parts()
        layout = self._layout(layout_name)
        if cover and spec:
            self._cover(cover, spec)
        for review in reviews:
            self._review(review, spec)
            self._nesting(review)
        self._manifest_links()
        if layout is not None:
            self._fonts(layout)
            self._glyphs(layout, reviews)
            if self.issue is not None:
                self._templates(self.issue, layout)

    # ---- the manifest ---------------------------------------------------------------------------
    def _read_raw(self) -> None:
        """The manifest's YAML and positions, for lines (load_issue reports its problems)."""
        try:
            text = self.path.read_text(encoding="utf-8")
            self.data, self.positions = load_yaml(text, self.where)
            self.lines = text.splitlines()
        except (OSError, UnicodeDecodeError, InputError):
            self.data = None

    def _line(self, *loc: str | int) -> int | None:
        return self.positions.line(loc) if self.data is not None else None

    def _clarify(self, finding: Finding) -> Finding:
        """A clearer message for an empty section than pydantic's 'at least 1 item'."""
        match = re.match(
            r"sections\[(\d+)\]\.reviews: List should have at least 1 item", finding.message
        )
        if not match or finding.path != self.where:
            return finding
        index = int(match.group(1))
        try:
            title = f" '{self.data['sections'][index]['title']}'"
        except (KeyError, IndexError, TypeError):
            title = ""
        message = f"sections[{index}]: section{title} is empty: add reviews to it or remove it"
        return Finding(finding.path, finding.line, message, finding.level)

    def _parts(self) -> tuple[PrintSpec | None, str | None, str | None, list[Review]]:
        """Print settings, layout, cover image and reviews: from the issue, else the raw YAML."""
        if self.issue is not None:
            m = self.issue.manifest
            return m.print, m.layout, m.cover.image, self.issue.reviews
        data = self.data if isinstance(self.data, dict) else {}
        try:
            spec = PrintSpec.model_validate(data.get("print") or {})
        except ValidationError:
            spec = None
        layout = data.get("layout", "default")
        layout = layout if isinstance(layout, str) and re.fullmatch(r"[\w-]+", layout) else None
        cover = data.get("cover") if isinstance(data.get("cover"), dict) else {}
        image = cover.get("image")
        image = (
            image if isinstance(image, str) and not media_problem(self.content_dir, image) else None
        )
        return spec, layout, image, self._loadable_reviews(data)

    def _loadable_reviews(self, data: dict) -> list[Review]:
        """The selected reviews that load on their own (their problems are reported too), and
        reviews selected twice: load_issue says so only when the rest of the manifest is valid."""
        sections = data.get("sections") if isinstance(data.get("sections"), list) else []
        first: dict[str, int] = {}
        for s_index, section in enumerate(sections):
            slugs = section.get("reviews") if isinstance(section, dict) else None
            for r_index, slug in enumerate(slugs if isinstance(slugs, list) else []):
                if not isinstance(slug, str):
                    continue
                line = self.positions.line(("sections", s_index, "reviews", r_index))
                if slug in first:
                    self.add(
                        self.where,
                        line,
                        f"review '{slug}' is selected twice (first on line {first[slug]}): "
                        "remove one",
                    )
                else:
                    first[slug] = line
        reviews = []
        for slug in first:
            path = self.content_dir / "reviews" / f"{slug}.md"
            if not re.fullmatch(SLUG[1:-1], slug) or not path.is_file():
                continue
            try:
                reviews.append(read_review(path, shown(path, self.root), self.content_dir))
            except InputError as exc:
                self.findings.extend(exc.findings)
        return reviews

    def _layout(self, name: str | None):  # noqa: ANN202 - a render.env.Layout, imported late
        if name is None:
            return None
        from .render.env import Layout

        try:
            return Layout(self.root / "layouts", name)
        except InputError:
            self.add(
                self.where,
                self._line("layout"),
                f"layout '{name}' not found: create layouts/{name}/ with the files it changes, "
                "or remove 'layout:' to use the default",
            )
            return None

    # ---- images -------------------------------------------------------------------------------
    def _cover(self, src: str, spec: PrintSpec) -> None:
        w, h = spec.trim_mm
        size = (w + 2 * spec.bleed, h + 2 * spec.bleed)
        line = self._line("cover", "image")
        self._image(self.where, line, "cover image", src, size, "at full bleed")

    def _review(self, review: Review, spec: PrintSpec | None) -> None:
        path = shown(review.path, self.root)
        if review.truncated:
            self.add(
                path,
                _front_positions(review).line(("truncated",)),
                "marked 'truncated: true': ingest found the text cut off (by a paywall?); "
                "complete it from the whole article, then remove the line",
                "warning",
            )
        text_mm = column_mm = None
        if spec is not None:
            w, _ = spec.trim_mm
            text_mm = w - spec.margins.inside - spec.margins.outside
            column_mm = (text_mm - COLUMN_GAP_MM) / 2
        if review.image:
            line = _front_positions(review).line(("image", "src"))
            pixels = self._decoded(path, line, "hero image", review.image.src)
            if pixels and text_mm and column_mm:  # as the template: full width if 300 ppi there
                wide = pixels[0] >= PRINT_PPI * text_mm / MM_PER_INCH
                where = "across the text block" if wide else "in one column"
                size = (text_mm if wide else column_mm, None)
                self._resolution(path, line, "hero image", review.image.src, pixels, size, where)
        for offset, kind, value, tag in body_references(review.body):
            line = review.body_line + offset
            if kind == "image":
                self._body_image(path, line, value, column_mm)
            elif kind == "link":
                if problem := link_problem(value):
                    self.add(path, line, problem)
            elif kind == "dropped":
                self.add(
                    path,
                    line,
                    f"<{tag}> in the body is removed by the HTML sanitiser (raw HTML allows "
                    "only text markup, links and images): it will not be printed or mailed",
                    "warning",
                )

    def _body_image(self, path: str, line: int, src: str, column_mm: float | None) -> None:
        if not src.strip():
            self.add(path, line, "image with an empty src: name a file under content/")
            return
        scheme = urlsplit(src).scheme.lower()
        if scheme in ("http", "https", "file", "data", "ftp") or src.startswith("//"):
            self.add(
                path,
                line,
                f"image '{src}' is not a file in content/: builds fetch nothing from the "
                "network or outside content/; copy it to content/media/ and use media/<name>",
            )
            return
        pixels = self._decoded(path, line, "image", src)
        if pixels and column_mm:
            self._resolution(path, line, "image", src, pixels, (column_mm, None), "in one column")

    def _image(
        self,
        path: str,
        line: int | None,
        label: str,
        src: str,
        size_mm: tuple[float, float | None],
        where: str,
    ) -> None:
        pixels = self._decoded(path, line, label, src)
        if pixels:
            self._resolution(path, line, label, src, pixels, size_mm, where)

    def _decoded(self, path: str, line: int | None, label: str, src: str) -> tuple[int, int] | None:
        """The image's pixel size after a full decode, or None (with a finding)."""
        from .render.images import UnreadableImage, decoded_size

        if problem := media_problem(self.content_dir, src):
            self.add(path, line, problem)
            return None
        file = inside(self.content_dir, src)
        if file is not None and file.suffix.lower() in VECTOR_SUFFIXES:
            self._svg(path, line, label, src, file)
        if file is None or file.suffix.lower() in VECTOR_SUFFIXES:
            return None
        try:
            return decoded_size(file)
        except OSError as exc:
            self.add(path, line, f"{label} '{src}' cannot be read: {exc.strerror or exc}")
        except UnreadableImage as exc:
            self.add(path, line, f"{label} '{src}' cannot be decoded: {exc}")
        return None

    def _svg(self, path: str, line: int | None, label: str, src: str, file: Path) -> None:
        """An SVG WeasyPrint would leave out, or draw without what it fetches from outside
        content/ (``render/images.py: svg_problems``)."""
        from .render.images import svg_problems

        try:
            problems = svg_problems(file, self.content_dir)
        except OSError as exc:
            self.add(path, line, f"{label} '{src}' cannot be read: {exc.strerror or exc}")
            return
        for problem in problems:
            self.add(path, line, f"{label} '{src}' would not print in full: {problem}")

    def _resolution(
        self,
        path: str,
        line: int | None,
        label: str,
        src: str,
        pixels: tuple[int, int],
        size_mm: tuple[float, float | None],
        where: str,
    ) -> None:
        """Warning below 300 ppi at the printed size, error below 150."""
        width_mm, height_mm = size_mm
        ppi = pixels[0] / (width_mm / MM_PER_INCH)
        if height_mm:  # object-fit: cover fills both sides; the scarcer one decides
            ppi = min(ppi, pixels[1] / (height_mm / MM_PER_INCH))
        if ppi >= PRINT_PPI - 0.5:
            return
        level, limit = ("error", MIN_PPI) if ppi < MIN_PPI - 0.5 else ("warning", PRINT_PPI)
        need_w = math.ceil(PRINT_PPI * width_mm / MM_PER_INCH)
        need_h = (
            math.ceil(PRINT_PPI * height_mm / MM_PER_INCH)
            if height_mm
            else math.ceil(need_w * pixels[1] / pixels[0])
        )
        printed = f"{width_mm:.0f}×{height_mm:.0f} mm" if height_mm else f"{width_mm:.0f} mm wide"
        self.add(
            path,
            line,
            f"{label} '{src}' is {pixels[0]}×{pixels[1]} px: {ppi:.0f} ppi printed {where} "
            f"({printed}), below {limit}; use at least {need_w}×{need_h} px for {PRINT_PPI} ppi",
            level,
        )

    def _nesting(self, review: Review) -> None:
        """Quotes and lists nested deeper than the print keeps (``markdown.MAX_NESTING``)."""
        for offset, what in too_deep(review.body):
            self.add(
                shown(review.path, self.root),
                review.body_line + offset,
                f"{what}: the deeper levels are printed flattened into the last one (the text "
                "is kept); nest them less",
                "warning",
            )

    # ---- links in the manifest's Markdown -----------------------------------------------------
    def _manifest_links(self) -> None:
        data = self.data if isinstance(self.data, dict) else {}
        for key, sub in (("editorial", "text"), ("newsletter", "intro")):
            block = data.get(key)
            text = block.get(sub) if isinstance(block, dict) else None
            if not isinstance(text, str):
                continue
            start = self.positions.line((key, sub))
            raw = self.lines[start - 1] if 0 < start <= len(self.lines) else ""
            if re.search(rf"\b{sub}:\s*[|>]", raw):  # a block scalar starts on the next line
                start += 1
            for offset, kind, value, _tag in body_references(text):
                if kind == "link" and (problem := link_problem(value)):
                    self.add(self.where, start + offset, f"{key}.{sub}: {problem}")

    # ---- fonts --------------------------------------------------------------------------------
    def _fonts(self, layout) -> None:  # noqa: ANN001 - render.env.Layout
        from .render.pdf import SandboxFetcher

        css = layout.find("print/print.css")
        if css is None:
            self.add(
                f"layouts/{layout.name}",
                None,
                "the layout has no print/print.css (nor does layouts/default/): restore it",
            )
            return
        fetcher = SandboxFetcher(self.content_dir, layout)
        declared: set[Path] = set()
        seen: set[Path] = set()
        queue = [css.resolve()]
        while queue:
            sheet = queue.pop(0)
            if sheet in seen:
                continue
            seen.add(sheet)
            for line, kind, url, family in stylesheet_urls(sheet):
                target = urljoin(sheet.as_uri(), url)
                resolved = fetcher.resolve(target)
                where = shown(sheet, self.root)
                if kind == "import":
                    if resolved is not None:
                        queue.append(resolved)
                    continue
                if resolved is None:
                    if fetcher.within(target):
                        missing = shown(Path(unquote(urlsplit(target).path)), self.root)
                        message = (
                            f"font '{family}': {missing} not found (nor in layouts/default/): "
                            "add the font file or correct the url()"
                        )
                    else:
                        message = (
                            f"font '{family}': '{url}' is outside layouts/ and content/, and "
                            "builds fetch nothing: copy the font into the layout's assets/fonts/"
                        )
                    self.add(where, line, message)
                    continue
                declared.add(resolved.resolve())
                if problem := font_problem(resolved):
                    level, text = problem
                    self.add(where, line, f"font '{family}' ({resolved.name}): {text}", level)
        # Every file in the layout's font folders is used too (fallbacks): the same checks.
        try:
            files = layout.fonts.files
        except MagbuilderError as exc:
            self.findings.extend(exc.findings or [Finding(self.where, None, str(exc))])
            return
        for path in files:
            if path.resolve() not in declared and (problem := font_problem(path)):
                level, text = problem
                self.add(shown(path, self.root), None, f"font file {path.name}: {text}", level)

    def _glyphs(self, layout, reviews: list[Review]) -> None:  # noqa: ANN001 - render.env.Layout
        """Text no font of the layout can draw: the manifest and the reviews, line by line."""
        from .render.fonts import undrawable_text

        files = [self.path, *(review.path for review in reviews)]
        try:
            self.findings += undrawable_text(layout, files, self.root)
        except MagbuilderError as exc:
            self.findings.extend(exc.findings or [Finding(self.where, None, str(exc))])

    # ---- templates and the newsletter ---------------------------------------------------------
    def _templates(self, issue: Issue, layout) -> None:  # noqa: ANN001 - render.env.Layout
        from .render import email
        from .render.pdf import magazine_html

        if not any(f.level == "error" for f in self.findings):  # bad images would repeat
            try:
                magazine_html(issue, layout)
            except MagbuilderError as exc:
                self.findings.extend(exc.findings or [Finding(self.where, None, str(exc))])
        line = self.positions.key_line(("newsletter",)) if self.data is not None else None
        size_logger = logging.getLogger(email.__name__)
        level = size_logger.level
        size_logger.setLevel(logging.ERROR)  # the size warning becomes a finding below
        try:
            newsletter = email.render_newsletter(issue, layout, with_images=False)
        except MagbuilderError as exc:
            self.findings.extend(exc.findings or [Finding(self.where, line, str(exc))])
            return
        finally:
            size_logger.setLevel(level)
        size = len(newsletter.personalised()[0].encode("utf-8"))
        if size > email.WARN_BYTES:
            self.add(
                self.where,
                line,
                f"newsletter.html is {size / 1024:.0f} KB, close to Gmail's "
                f"{email.GMAIL_CLIP_BYTES / 1024:.0f} KB clipping size: consider fewer reviews, "
                "shorter standfirsts or a shorter intro",
                "warning",
            )


def _front_positions(review: Review) -> Positions:
    """Where each front-matter key of a (valid) review is written."""
    try:
        text = review.path.read_text(encoding="utf-8").removeprefix("\ufeff")
        front, _, _ = split_front_matter(text, review.path)
        return load_yaml(front, review.path, line_offset=1)[1]
    except (OSError, UnicodeDecodeError, InputError):
        return Positions({})


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


# ---- fonts ----------------------------------------------------------------------------------
def stylesheet_urls(path: Path) -> Iterator[tuple[int, str, str, str]]:
    """``(line, kind, url, family)`` for each ``@import`` and ``@font-face`` url() of a sheet."""
    import tinycss2

    try:
        css = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return
    for rule in tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True):
        if rule.type != "at-rule":
            continue
        if rule.lower_at_keyword == "import":
            for url in _urls(rule.prelude):
                yield rule.source_line, "import", url, ""
        elif rule.lower_at_keyword == "font-face" and rule.content is not None:
            declarations = tinycss2.parse_declaration_list(
                rule.content, skip_comments=True, skip_whitespace=True
            )
            family, urls = "?", []
            for decl in declarations:
                if decl.type != "declaration":
                    continue
                if decl.lower_name == "font-family":
                    family = tinycss2.serialize(decl.value).strip().strip("\"'")
                elif decl.lower_name == "src":
                    urls = _urls(decl.value)
            for url in urls:
                yield rule.source_line, "font", url, family


def _urls(tokens: list) -> list[str]:
    found = []
    for token in tokens or []:
        if token.type == "url":
            found.append(token.value)
        elif token.type == "function" and token.lower_name == "url":
            found += [t.value for t in token.arguments if t.type == "string"]
        elif token.type == "string" and not found:  # @import "x.css"
            found.append(token.value)
    return found


@lru_cache(maxsize=64)
def _font_problem(path: Path, mtime_ns: int) -> tuple[str, str] | None:
    from fontTools.ttLib import TTFont

    try:
        with TTFont(path, lazy=True, fontNumber=0) as font:
            if "OS/2" not in font:
                return None
            fs_type = int(font["OS/2"].fsType)
    except Exception as exc:  # fontTools raises many types for files that are not fonts
        return "error", f"not a font file fontTools can read ({type(exc).__name__}: {exc})"
    if fs_type & FS_RESTRICTED and not fs_type & (FS_PREVIEW_PRINT | FS_EDITABLE):
        return "error", (
            "its licence forbids embedding (OS/2 fsType 0x0002, restricted): the PDF cannot "
            "carry it; use a font licensed for embedding, e.g. one under the SIL OFL"
        )
    if fs_type & FS_BITMAP_ONLY:
        return (
            "error",
            "its licence allows embedding bitmaps only (fsType 0x0200): use another font",
        )
    if fs_type & FS_NO_SUBSETTING:
        return (
            "warning",
            "its licence forbids subsetting (fsType 0x0100); WeasyPrint embeds subsets",
        )
    return None


def font_problem(path: Path) -> tuple[str, str] | None:
    """``(level, message)`` when the font file cannot be read or embedded in a PDF, else None."""
    return _font_problem(path.resolve(), path.stat().st_mtime_ns)
