"""The checks of the layout an issue is rendered with, for ``magbuilder check``.

* the layout the manifest names exists;
* every font the layout's print stylesheet declares in ``@font-face``: found in the layout chain
  and embeddable (OS/2 ``fsType``), and so is every file in its font folders; every character
  of the manifest and the reviews drawable by a font of the layout (builds see no other font,
  see ``fonts.py``);
* the templates render, and the newsletter stays under Gmail's clipping size.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import tinycss2
from fontTools.ttLib import TTFont

from ..content import Issue
from ..errors import Finding, InputError, Level, MagbuilderError, RenderError
from ..manifest import LoadedIssue
from ..paths import shown
from . import email
from .fonts import undrawable_text
from .layout import Layout
from .magazine import magazine_html
from .pdf import SandboxFetcher

# fsType (OpenType OS/2): bits 0-3 are the licence's embedding permission.
FS_RESTRICTED, FS_PREVIEW_PRINT, FS_EDITABLE = 0x0002, 0x0004, 0x0008
FS_NO_SUBSETTING, FS_BITMAP_ONLY = 0x0100, 0x0200


def find_layout(loaded: LoadedIssue) -> tuple[Layout | None, list[Finding]]:
    """The layout the manifest names, or None with why (None too when it names none usable)."""
    name = loaded.layout_name
    if name is None:
        return None, []
    if not (loaded.root / "layouts" / name).is_dir():
        message = (
            f"layout '{name}' not found: create layouts/{name}/ with the files it changes, "
            "or remove 'layout:' to use the default"
        )
        return None, [Finding(loaded.where, loaded.line("layout"), message)]
    try:  # what it extends, its tokens and columns: each wrong one at its layout.yaml line
        layout = Layout(loaded.root / "layouts", name)
        layout.body_columns  # noqa: B018 - reads and checks the tokens
        return layout, []
    except (InputError, RenderError) as exc:
        return None, list(exc.findings)


def font_findings(layout: Layout, loaded: LoadedIssue) -> list[Finding]:
    """Fonts the print stylesheet (and what it imports) declares but that cannot be found or
    embedded, then the files of the layout's font folders that cannot be embedded."""
    css = layout.find("print/print.css")
    if css is None:
        return [
            Finding(
                f"layouts/{layout.name}",
                None,
                "the layout has no print/print.css (nor does layouts/default/): restore it",
            )
        ]
    root = loaded.root
    fetcher = SandboxFetcher(loaded.content_dir, layout)
    found: list[Finding] = []
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
            where = shown(sheet, root)
            if kind == "import":
                if resolved is not None:
                    queue.append(resolved)
                continue
            if resolved is None:
                if fetcher.within(target):
                    missing = shown(Path(unquote(urlsplit(target).path)), root)
                    message = (
                        f"font '{family}': {missing} not found (nor in layouts/default/): "
                        "add the font file or correct the url()"
                    )
                else:
                    message = (
                        f"font '{family}': '{url}' is outside layouts/ and content/, and "
                        "builds fetch nothing: copy the font into the layout's assets/fonts/"
                    )
                found.append(Finding(where, line, message))
                continue
            declared.add(resolved.resolve())
            if problem := font_problem(resolved):
                level, text = problem
                found.append(
                    Finding(where, line, f"font '{family}' ({resolved.name}): {text}", level)
                )
    # Every file in the layout's font folders is used too (fallbacks): the same checks.
    try:
        files = layout.fonts.files
    except MagbuilderError as exc:
        return found + _reported(exc, loaded.where)
    for path in files:
        if path.resolve() not in declared and (problem := font_problem(path)):
            level, text = problem
            found.append(Finding(shown(path, root), None, f"font file {path.name}: {text}", level))
    return found


def glyph_findings(layout: Layout, loaded: LoadedIssue) -> list[Finding]:
    """Text no font of the layout can draw: the manifest and the reviews, line by line."""
    files = [loaded.path, *(review.path for review in loaded.reviews)]
    try:
        return undrawable_text(layout, files, loaded.root)
    except MagbuilderError as exc:
        return _reported(exc, loaded.where)


def template_findings(issue: Issue, layout: Layout, where: str) -> list[Finding]:
    """Why the magazine's templates do not render, if they do not."""
    try:
        magazine_html(issue, layout)
    except MagbuilderError as exc:
        return _reported(exc, where)
    return []


def newsletter_findings(
    issue: Issue, layout: Layout, where: str, line: int | None
) -> list[Finding]:
    """Why the newsletter does not render, or that it is close to Gmail's clipping size."""
    size_logger = logging.getLogger(email.__name__)
    level = size_logger.level
    size_logger.setLevel(logging.ERROR)  # the size warning becomes a finding below
    try:
        newsletter = email.render_newsletter(issue, layout, with_images=False)
    except MagbuilderError as exc:
        return _reported(exc, where, line)
    finally:
        size_logger.setLevel(level)
    size = len(newsletter.personalised()[0].encode("utf-8"))
    if size <= email.WARN_BYTES:
        return []
    message = (
        f"newsletter.html is {size / 1024:.0f} KB, close to Gmail's "
        f"{email.GMAIL_CLIP_BYTES / 1024:.0f} KB clipping size: consider fewer reviews, "
        "shorter standfirsts or a shorter intro"
    )
    return [Finding(where, line, message, Level.WARNING)]


def _reported(exc: MagbuilderError, where: str, line: int | None = None) -> list[Finding]:
    """An error's findings, or its message at ``where`` when it has none."""
    return exc.findings or [Finding(where, line, str(exc))]


# ---- stylesheets ----------------------------------------------------------------------------
def stylesheet_urls(path: Path) -> Iterator[tuple[int, str, str, str]]:
    """``(line, kind, url, family)`` for each ``@import`` and ``@font-face`` url() of a sheet."""
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


# ---- font files -----------------------------------------------------------------------------
def font_problem(path: Path) -> tuple[Level, str] | None:
    """``(level, message)`` when the font file cannot be read or embedded in a PDF, else None."""
    return _font_problem(path.resolve(), path.stat().st_mtime_ns)


@lru_cache(maxsize=64)
def _font_problem(path: Path, mtime_ns: int) -> tuple[Level, str] | None:
    try:
        with TTFont(path, lazy=True, fontNumber=0) as font:
            if "OS/2" not in font:
                return None
            fs_type = int(font["OS/2"].fsType)
    except Exception as exc:  # fontTools raises many types for files that are not fonts
        return Level.ERROR, f"not a font file fontTools can read ({type(exc).__name__}: {exc})"
    if fs_type & FS_RESTRICTED and not fs_type & (FS_PREVIEW_PRINT | FS_EDITABLE):
        return Level.ERROR, (
            "its licence forbids embedding (OS/2 fsType 0x0002, restricted): the PDF cannot "
            "carry it; use a font licensed for embedding, e.g. one under the SIL OFL"
        )
    if fs_type & FS_BITMAP_ONLY:
        return (
            Level.ERROR,
            "its licence allows embedding bitmaps only (fsType 0x0200): use another font",
        )
    if fs_type & FS_NO_SUBSETTING:
        return (
            Level.WARNING,
            "its licence forbids subsetting (fsType 0x0100); WeasyPrint embeds subsets",
        )
    return None
