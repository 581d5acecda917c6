"""The text stack: the libraries and fonts that turn text into lines, part of a build's identity.

The same inputs give byte-identical PDFs on the same stack. Another WeasyPrint, Pango,
HarfBuzz, FreeType, fontconfig or Pyphen (hyphenation) may break a line elsewhere, so the
stack is recorded in the build stamp and in each PDF's XMP metadata, it keys the chunk cache,
and ``drift`` says what moved when an issue is rebuilt on another stack.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import importlib.util
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .layout import Layout

# The names WeasyPrint itself loads these libraries by, so the versions are the ones it uses.
_LIBRARIES = {
    "pango": ("libpango-1.0.so.0", "libpango-1.0.0.dylib", "libpango-1.0-0.dll", "pango-1.0"),
    "harfbuzz": ("libharfbuzz.so.0", "libharfbuzz.0.dylib", "libharfbuzz-0.dll", "harfbuzz"),
    "freetype": ("libfreetype.so.6", "libfreetype.6.dylib", "libfreetype-6.dll", "freetype"),
    "fontconfig": ("libfontconfig.so.1", "libfontconfig.1.dylib", "libfontconfig-1.dll"),
}
LIBRARY_NAMES = {
    "weasyprint": "WeasyPrint",
    "pango": "Pango",
    "harfbuzz": "HarfBuzz",
    "freetype": "FreeType",
    "fontconfig": "fontconfig",
    "pyphen": "Pyphen",
}


def _load(name: str) -> ctypes.CDLL | None:
    for candidate in _LIBRARIES[name]:
        try:
            return ctypes.CDLL(candidate)
        except OSError:
            continue
    found = ctypes.util.find_library(_LIBRARIES[name][-1])
    try:
        return ctypes.CDLL(found) if found else None
    except OSError:
        return None


def _string_version(name: str, function: str) -> str:
    lib = _load(name)
    if lib is None:
        return "unknown"
    call = getattr(lib, function)
    call.restype = ctypes.c_char_p
    return call().decode()


def _freetype_version() -> str:
    lib = _load("freetype")
    if lib is None:
        return "unknown"
    handle = ctypes.c_void_p()
    if lib.FT_Init_FreeType(ctypes.byref(handle)):
        return "unknown"
    parts = [ctypes.c_int() for _ in range(3)]
    lib.FT_Library_Version(handle, *(ctypes.byref(p) for p in parts))
    lib.FT_Done_FreeType(handle)
    return ".".join(str(p.value) for p in parts)


def _fontconfig_version() -> str:
    lib = _load("fontconfig")
    if lib is None:
        return "unknown"
    number = lib.FcGetVersion()
    return f"{number // 10000}.{number // 100 % 100}.{number % 100}"


def _package(name: str) -> str:
    """An installed package's version, from its ``.dist-info`` folder beside it when there is
    one (importlib.metadata scans every installed package: a tenth of a second)."""
    spec = importlib.util.find_spec(name)
    if spec is not None and spec.origin:
        for info in Path(spec.origin).parent.parent.glob("*.dist-info"):
            project, _, rest = info.name.partition("-")
            if project.lower().replace("_", "-") == name:
                return rest.removesuffix(".dist-info")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


@cache
def library_versions() -> dict[str, str]:
    """Versions of the layout engine and the libraries under it, as this process loads them."""
    return {
        "weasyprint": _package("weasyprint"),
        "pango": _string_version("pango", "pango_version_string"),
        "harfbuzz": _string_version("harfbuzz", "hb_version_string"),
        "freetype": _freetype_version(),
        "fontconfig": _fontconfig_version(),
        "pyphen": _package("pyphen"),
    }


@dataclass(frozen=True)
class TextStack:
    """Library versions and the digests of the font files a layout may use."""

    libraries: dict[str, str]
    fonts: dict[str, str]  # file name → sha256

    @property
    def id(self) -> str:
        """A short digest of the whole stack (16 hex digits)."""
        blob = json.dumps(self.as_dict(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def as_dict(self) -> dict[str, dict[str, str]]:
        return {"libraries": dict(self.libraries), "fonts": dict(self.fonts)}

    @classmethod
    def from_dict(cls, data: object) -> TextStack | None:
        """The stack recorded in a build stamp, or None when there is none or it is unreadable."""
        if not isinstance(data, dict):
            return None
        libraries, fonts = data.get("libraries"), data.get("fonts")
        if not isinstance(libraries, dict) or not isinstance(fonts, dict):
            return None
        return cls(
            {str(k): str(v) for k, v in libraries.items()},
            {str(k): str(v) for k, v in fonts.items()},
        )

    def summary(self) -> str:
        """``WeasyPrint 70.0, Pango 1.50.12, … ; 10 fonts``: for people and XMP."""
        libraries = ", ".join(
            f"{LIBRARY_NAMES.get(k, k)} {v}" for k, v in sorted(self.libraries.items())
        )
        return f"{libraries}; {len(self.fonts)} fonts"

    def changes(self, other: TextStack) -> list[str]:
        """What differs from ``other`` (the earlier stack): ``Pango 1.50.12 → 1.56.3``, fonts."""
        changed = [
            f"{LIBRARY_NAMES.get(k, k)} {other.libraries.get(k, 'none')} → {v}"
            for k, v in sorted(self.libraries.items())
            if other.libraries.get(k) != v
        ]
        for name in sorted(set(self.fonts) | set(other.fonts)):
            if name not in other.fonts:
                changed.append(f"font {name} added")
            elif name not in self.fonts:
                changed.append(f"font {name} removed")
            elif self.fonts[name] != other.fonts[name]:
                changed.append(f"font {name} changed")
        return changed


def text_stack(layout: Layout) -> TextStack:
    """The text stack a build of ``layout`` lays out with, in this process."""
    return TextStack(library_versions(), layout.fonts.digests())
