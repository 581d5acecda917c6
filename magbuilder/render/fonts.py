"""The fonts a build may use: the layout's own, through a fontconfig configuration of its own.

WeasyPrint finds fonts through fontconfig, which normally sees every font installed on the
machine; a layout's ``@font-face`` rules do not hide them, so an extra ``fonts-*`` package on one
machine changes line breaks, small capitals and fallbacks there. A build therefore starts
fontconfig from ``isolated-fonts.conf`` (no font folders, no system rules, no user files) and
registers exactly the layout's font files, with the fallback order and generic families the
layout declares in ``layout.yaml``::

    fonts:
      folders: [assets/fonts]              # every font the layout may use
      fallback: [Noto Naskh Arabic, …]     # for characters its stylesheet's families lack
      generic: {serif: EB Garamond, sans-serif: Lato}

A child layout's folders add to its parent's (it inherits the parent's fonts); its ``fallback``
and ``generic`` replace the parent's when given. ``missing_glyphs`` tells which characters of a
text no font of the set can draw, for ``magbuilder check``.
"""

from __future__ import annotations

import html
import os
import shutil
import threading
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from ..errors import Finding, RenderError
from ..paths import file_digest, shown

if TYPE_CHECKING:
    from .layout import Layout

FONT_SUFFIXES = {".ttf", ".otf", ".ttc"}
ISOLATED_CONF = Path(__file__).with_name("isolated-fonts.conf")
DEFAULT_FOLDERS = ("assets/fonts",)
GENERIC = ("serif", "sans-serif", "monospace", "cursive", "fantasy", "system-ui")
# Characters that are never drawn with a glyph of their own: spaces, controls, joiners, marks
# of direction, soft hyphens and variation selectors.
INVISIBLE = {"Cc", "Cf", "Zs", "Zl", "Zp"}


@dataclass(frozen=True)
class FontSet:
    """The font files a layout may use, and how fontconfig is to choose among them."""

    files: tuple[Path, ...]
    fallback: tuple[str, ...] = ()
    generic: tuple[tuple[str, str], ...] = ()

    def rules(self) -> bytes:
        """fontconfig rules: generic families mean the layout's, then the fallback order."""
        parts = []
        for generic, family in self.generic:
            parts.append(
                f"<alias binding='same'><family>{escape(generic)}</family>"
                f"<prefer><family>{escape(family)}</family></prefer></alias>"
            )
        if self.fallback:
            families = "".join(f"<string>{escape(f)}</string>" for f in self.fallback)
            parts.append(
                "<match target='pattern'>"
                f"<edit name='family' mode='append_last' binding='weak'>{families}</edit></match>"
            )
        body = "\n".join(parts)
        return (
            "<?xml version='1.0'?>\n<!DOCTYPE fontconfig SYSTEM 'urn:fontconfig:fonts.dtd'>\n"
            f"<fontconfig>\n{body}\n</fontconfig>\n"
        ).encode()

    def digests(self) -> dict[str, str]:
        """``file name → sha256`` of every font in the set (part of the build's text stack)."""
        return {path.name: file_digest(path) for path in self.files}

    def coverage(self) -> frozenset[int]:
        """Every code point some font of the set has a glyph for."""
        covered: set[int] = set()
        for path in self.files:
            covered |= _cmap(path.resolve(), path.stat().st_mtime_ns)
        return frozenset(covered)


def font_set(layout: Layout) -> FontSet:
    """The fonts of ``layout`` and its parents, as ``layout.yaml`` declares them."""
    files: list[Path] = []
    fallback: tuple[str, ...] | None = None
    generic: dict[str, str] | None = None
    for folder in layout.chain:  # the layout itself first, then what it inherits
        spec, where = layout.settings_of(folder, "fonts")
        spec = spec if spec is not None else {}
        if not isinstance(spec, dict):
            raise _spec_error(where, "fonts: expected folders, fallback and generic")
        folders = spec.get("folders", list(DEFAULT_FOLDERS))
        if not isinstance(folders, list) or not all(isinstance(f, str) for f in folders):
            raise _spec_error(
                where, "fonts.folders: expected a list of folders, e.g. [assets/fonts]"
            )
        for name in folders:
            base = (folder / name).resolve()
            if not base.is_relative_to(folder.resolve()):
                raise _spec_error(where, f"fonts.folders: '{name}' is outside the layout folder")
            if base.is_dir():
                files += sorted(p for p in base.rglob("*") if p.suffix.lower() in FONT_SUFFIXES)
        if fallback is None and "fallback" in spec:
            value = spec["fallback"]
            if not isinstance(value, list) or not all(isinstance(f, str) for f in value):
                raise _spec_error(where, "fonts.fallback: expected a list of font families")
            fallback = tuple(value)
        if generic is None and "generic" in spec:
            value = spec["generic"]
            if not isinstance(value, dict) or not all(
                k in GENERIC and isinstance(v, str) for k, v in value.items()
            ):
                raise _spec_error(
                    where, f"fonts.generic: map generic families ({', '.join(GENERIC)}) to fonts"
                )
            generic = value
    unique = tuple(dict.fromkeys(files))
    return FontSet(unique, fallback or (), tuple(sorted((generic or {}).items())))


def _spec_error(where: tuple[Path, int | None], message: str) -> RenderError:
    path, line = where
    return RenderError("bad layout.yaml", [Finding(path, line, message)])


@lru_cache(maxsize=64)
def _cmap(path: Path, mtime_ns: int) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    try:
        with TTFont(path, lazy=True, fontNumber=0) as font:
            table = font.get("cmap")
            return frozenset(table.getBestCmap() or {}) if table is not None else frozenset()
    except Exception:  # not a font fontTools can read: `check` reports the file itself
        return frozenset()


def missing_glyphs(text: str, covered: frozenset[int]) -> list[str]:
    """The characters of ``text`` (HTML entities decoded) that no font of the set can draw."""
    missing = {
        char
        for char in html.unescape(text)
        if ord(char) not in covered
        and unicodedata.category(char) not in INVISIBLE
        and not 0xFE00 <= ord(char) <= 0xFE0F  # variation selectors
    }
    return sorted(missing)


def describe(chars: list[str], limit: int = 4) -> str:
    """``'א' (U+05D0 HEBREW LETTER ALEF), …`` for a finding."""
    shown = [f"'{c}' (U+{ord(c):04X} {unicodedata.name(c, 'unnamed')})" for c in chars[:limit]]
    more = len(chars) - limit
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def undrawable_text(layout: Layout, files: list[Path], root: Path) -> list[Finding]:
    """One error per line of ``files`` with characters no font of ``layout`` can draw."""
    covered = layout.fonts.coverage()
    conf = shown(layout.chain[0] / "layout.yaml", root)
    findings = []
    for path in files:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            continue  # the loaders report unreadable files
        for number, line in enumerate(lines, start=1):
            if missing := missing_glyphs(line, covered):
                findings.append(
                    Finding(
                        shown(path, root),
                        number,
                        f"no font of layout '{layout.name}' can draw {describe(missing)}: it "
                        "would print as empty boxes; add a font that has it to the layout's "
                        f"assets/fonts/ and name its family under fonts.fallback in {conf}",
                    )
                )
    return findings


# --- the fontconfig configuration of a build ---------------------------------------------------

_ENVIRON = threading.Lock()


@contextmanager
def _isolated_environment() -> Iterator[None]:
    """fontconfig reads ``FONTCONFIG_FILE`` when a configuration is made: point it at ours."""
    with _ENVIRON:
        saved = {k: os.environ.get(k) for k in ("FONTCONFIG_FILE", "FONTCONFIG_SYSROOT")}
        os.environ["FONTCONFIG_FILE"] = str(ISOLATED_CONF)
        os.environ.pop("FONTCONFIG_SYSROOT", None)
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def font_configuration(fonts: FontSet):  # noqa: ANN201 - a weasyprint FontConfiguration
    """A WeasyPrint font configuration that knows the fonts of ``fonts`` and nothing else."""
    from weasyprint.text.ffi import ffi, fontconfig, pangoft2
    from weasyprint.text.fonts import FontConfiguration

    class ProjectFonts(FontConfiguration):
        def __init__(self) -> None:
            with _isolated_environment():
                super().__init__()
            config = self._config  # kept alive by the font map
            fontconfig.FcConfigParseAndLoadFromMemory(config, fonts.rules(), True)
            for path in fonts.files:
                if not fontconfig.FcConfigAppFontAddFile(config, os.fsencode(path.resolve())):
                    why = "not a font file fontconfig can read: replace it, or remove it from "
                    raise RenderError(
                        "unreadable font", [Finding(path, None, why + "the layout's font folder")]
                    )
            pangoft2.pango_fc_font_map_config_changed(ffi.cast("PangoFcFontMap *", self.font_map))

        def close(self) -> None:
            """Remove the folder WeasyPrint writes the @font-face files into. Its own
            ``__del__`` does so only if the object is collected, which a worker process that is
            killed, or a cycle never collected, leaves to /tmp (a GB a day of previewing)."""
            folder, self._folder = self._folder, None
            if folder:
                shutil.rmtree(folder, ignore_errors=True)

    return ProjectFonts()
