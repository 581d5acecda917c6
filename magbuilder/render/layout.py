"""A layout as the renderers see it: its chain of folders, settings, tokens and strings.

Another layout holds only the files it overrides; every other template, stylesheet, font or
string comes from the layout it extends, and finally from ``layouts/default/`` (the chain is
``magbuilder/layouts.py``'s). ``layout.yaml`` declares what the build may assume about the
layout (fonts, see ``render/fonts.py``; chunking; design tokens); ``strings.yaml`` its labels
per language. Light to import: the build asks a layout for its fonts before deciding there is
work to do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from markupsafe import Markup

from .. import layouts
from ..errors import Finding, RenderError
from ..layouts import DEFAULT, LAYOUT_FILE
from .fonts import FontSet, font_set

# Where a build sees the project's files: the same path in every folder and on every machine,
# so that nothing laid out (image names, file ids) depends on where the project is.
PROJECT_URL = "file:///magbuilder-project/"

# What a running-head string may be set to, so that the overlay of a chunked build can set it
# to the same value on the same pages as the magazine: ``site.*`` from the first page,
# ``section.*`` and ``review.*`` on each review's opening page.
STRING_SOURCES = (
    "site.name",
    "site.tagline",
    "section.title",
    "review.title",
    "review.kicker",
    "review.author",
)
_STRING_NAME = re.compile(r"^[a-z][a-z0-9-]*$")


@dataclass(frozen=True)
class Chunking:
    """What a layout promises a chunked build (``layout.yaml``'s ``chunks:``).

    The chunks are laid out with no page-margin box at all; one overlay, laid out with the
    layout's own page rules, draws them, with ``strings`` (each a CSS ``string-set`` name and
    its source in ``STRING_SOURCES``) set where the magazine sets them.
    """

    strings: tuple[tuple[str, str], ...]


class Layout:
    """A named layout and the chain it inherits through: ``layouts/<name>/``, the layout it
    ``extends:``, …, ``layouts/default/``."""

    def __init__(self, layouts_dir: Path, name: str = DEFAULT) -> None:
        self.name = name
        self.layouts_dir = layouts_dir
        self.chain = layouts.chain(layouts_dir, name)

    def find(self, relative: str) -> Path | None:
        """The first file named ``relative`` along the chain, or None."""
        for folder in self.chain:
            candidate = folder / relative
            if candidate.is_file():
                return candidate
        return None

    @property
    def root(self) -> Path:
        """The project folder the layouts belong to."""
        return self.layouts_dir.resolve().parent

    def url(self, relative: str) -> str:
        """The URL a build knows a layout file by, resolved through the chain."""
        found = self.find(relative)
        if found is None:
            names = ", ".join(folder.name for folder in self.chain)
            raise RenderError(f"layout file '{relative}' not found in layouts {names}")
        return project_url(found, self.root)

    def settings_of(self, folder: Path, key: str) -> tuple[Any, tuple[Path, int | None]]:
        """The value of ``key`` in ``folder/layout.yaml`` (None if absent), and where it is."""
        return layouts.setting(folder, key)

    @property
    def chunking(self) -> Chunking | None:
        """How the layout may be laid out in pieces; None (nothing declared, or ``chunks:
        false``): in a single pass only. The first layout in the chain that says decides."""
        spec, where = layouts.first(self.chain, "chunks")
        if where is None or spec in (None, False):
            return None
        return _chunking(spec, where)

    @property
    def tokens(self) -> dict[str, str]:
        """The design tokens (``tokens:`` in layout.yaml), the layout's own over inherited ones."""
        return layouts.tokens(self.chain)

    @property
    def body_columns(self) -> tuple[int, float]:
        """How many columns a review's text is set in, and the gap between them in mm (tokens
        ``body-columns`` and ``column-gap``): the checks size body images by them."""
        values = self.tokens
        count, gap = values.get("body-columns", "1"), values.get("column-gap", "0mm")
        length = re.fullmatch(r"(\d+(?:\.\d+)?)(mm|cm|pt|in)?", gap.strip())
        if not count.isdigit() or int(count) < 1 or length is None:
            path, line = layouts.first(self.chain, "tokens")[1] or (
                self.chain[0] / LAYOUT_FILE,
                None,
            )
            message = (
                f"tokens: body-columns '{count}' and column-gap '{gap}' must be a whole number "
                "and a length in mm, cm, pt or in"
            )
            raise RenderError("bad layout.yaml", [Finding(path, line, message)])
        per_mm = {"mm": 1.0, "cm": 10.0, "pt": 25.4 / 72, "in": 25.4, None: 1.0}
        return int(count), float(length.group(1)) * per_mm[length.group(2)]

    @property
    def tokens_css(self) -> Markup:
        """The tokens as CSS custom properties on ``:root``, for every stylesheet."""
        return layouts.tokens_css(self.tokens)

    @property
    def fonts(self) -> FontSet:
        """The fonts this layout may use (``layout.yaml``'s ``fonts:``, see render/fonts.py)."""
        return font_set(self)

    @property
    def strings(self) -> dict[str, dict[str, str]]:
        """Translated labels (``strings.yaml``), the layout's own over the default's.

        Cached while the files are unchanged (the preview server edits them live).
        """
        return _strings(tuple(self.chain), strings_key(self))

    def string(self, key: str, lang: str = "en") -> str:
        """A label in ``lang`` (primary subtag), falling back to English, then to the key."""
        strings = self.strings
        for table in (strings.get(lang), strings.get(lang.split("-")[0]), strings.get("en")):
            if table and key in table:
                return table[key]
        return key


def _chunking(spec: Any, where: tuple[Path, int | None]) -> Chunking:
    """``chunks:`` of a layout.yaml, checked; a RenderError at its line when it is wrong."""
    strings = spec.get("running_strings") if isinstance(spec, dict) else None
    sources = ", ".join(STRING_SOURCES)
    if not isinstance(strings, dict) or set(spec) != {"running_strings"}:
        message = (
            "chunks: expected 'running_strings:' naming each string-set the margin boxes show "
            "and its source, e.g. {title: review.title}; or 'chunks: false' for a single pass"
        )
        raise RenderError("bad layout.yaml", [Finding(where[0], where[1], message)])
    for name, source in strings.items():
        if not (isinstance(name, str) and _STRING_NAME.match(name)) or source not in STRING_SOURCES:
            message = (
                f"chunks.running_strings: '{name}: {source}' is not a string name (lower case, "
                f"digits, hyphens) with one of the sources {sources}"
            )
            raise RenderError("bad layout.yaml", [Finding(where[0], where[1], message)])
    return Chunking(tuple(strings.items()))


@lru_cache(maxsize=8)
def _strings(chain: tuple[Path, ...], stamps: tuple[int, ...]) -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {}
    for folder in reversed(chain):
        path = folder / "strings.yaml"
        if path.is_file():
            for lang, table in _read_strings(path).items():
                merged.setdefault(str(lang), {}).update(table or {})
    return merged


def _read_strings(path: Path) -> dict:
    """One strings.yaml (``lang: {key: label}``); a broken file is a RenderError with its line.

    Read like every other YAML file (``layouts.read_yaml``): its limits, no duplicate keys,
    and ``no:`` is Norwegian, not False.
    """
    data = layouts.read_yaml(path)[0] or {}
    if not isinstance(data, dict) or not all(isinstance(t, dict | None) for t in data.values()):
        raise RenderError(
            "strings not a mapping",
            [Finding(path, 1, "expected labels per language, e.g. 'en: {contents: Contents}'")],
        )
    return data


def strings_key(layout: Layout) -> tuple[int, ...]:
    files = [folder / "strings.yaml" for folder in layout.chain]
    return tuple(p.stat().st_mtime_ns if p.is_file() else 0 for p in files)


def project_url(path: Path, root: Path) -> str:
    """``path`` as a build sees it: under ``PROJECT_URL`` when inside the project ``root``."""
    resolved = path.resolve()
    if resolved.is_relative_to(root):
        return PROJECT_URL + resolved.relative_to(root).as_posix() + ("/" if path.is_dir() else "")
    return resolved.as_uri()


def project_path(url_path: str, root: Path) -> Path:
    """The real path behind the path of a file URL (``project_url``'s inverse)."""
    prefix = PROJECT_URL.removeprefix("file://")
    if url_path.startswith(prefix):
        return root / url_path[len(prefix) :]
    return Path(url_path)
