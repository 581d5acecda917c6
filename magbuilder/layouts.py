"""Layout folders and what they inherit: ``layouts/<name>/layout.yaml``'s ``extends:``, settings
and design tokens.

A layout holds only what it changes; everything else comes from the layout it ``extends:``
(``default`` when it names none), and so on up to ``layouts/default/``, which extends nothing.
This module reads the folders and their ``layout.yaml`` and nothing else: the manifest asks it
for a layout's page, the renderers (``render/layout.py``) for its chain, settings and tokens.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from markupsafe import Markup

from .errors import Finding, InputError, RenderError
from .yamlpos import Positions, load_yaml

DEFAULT = "default"
LAYOUT_FILE = "layout.yaml"
NAME = re.compile(r"^[A-Za-z0-9_-]+$")
# A design token: a CSS custom property (``--accent``) in every stylesheet, and ``tokens.accent``
# in every template. A value is one CSS value: a colour, a length, a number, a font list.
TOKEN_NAME = re.compile(r"^[a-z][a-z0-9-]*$")
TOKEN_VALUE = re.compile(r"""^[^;{}<>\\\n]*$""")

Where = tuple[Path, int | None]


def read_yaml(path: Path) -> tuple[Any, Positions]:
    """A YAML file of a layout (layout.yaml, strings.yaml) read like every YAML file
    (``load_yaml``: its limits, no duplicate keys); a broken one is a RenderError at its line."""
    try:
        return load_yaml(path.read_text(encoding="utf-8"), path)
    except UnicodeDecodeError as exc:
        raise RenderError(
            f"{path.name} not UTF-8",
            [Finding(path, None, f"not UTF-8 (byte {exc.start}): save as UTF-8")],
        ) from None
    except InputError as exc:
        raise RenderError(f"{path.name} error", exc.findings) from None


@lru_cache(maxsize=32)
def _read(path: Path, mtime_ns: int) -> tuple[Any, Positions]:
    data, positions = read_yaml(path)
    if data is not None and not isinstance(data, dict):
        raise RenderError(
            "bad layout.yaml", [Finding(path, 1, "expected settings such as 'extends:', 'fonts:'")]
        )
    return data or {}, positions


def setting(folder: Path, key: str) -> tuple[Any, Where]:
    """The value of ``key`` in ``folder/layout.yaml`` (None if absent), and where it is."""
    path = folder / LAYOUT_FILE
    if not path.is_file():
        return None, (path, None)
    data, positions = _read(path, path.stat().st_mtime_ns)
    return data.get(key), (path, positions.line((key,)) if key in data else None)


def chain(layouts_dir: Path, name: str = DEFAULT) -> list[Path]:
    """The folders of layout ``name`` and of every layout it inherits from, itself first."""
    folders: list[Path] = []
    where: Where | None = None
    while True:
        folder = layouts_dir / name
        if not folder.is_dir():
            if where is None:
                finding = Finding(folder, None, f"layout folder not found: create {folder}/")
            else:
                finding = Finding(
                    where[0], where[1], f"extends: no layout '{name}': create {folder}/"
                )
            raise InputError("missing layout", [finding])
        if folder in folders:
            names = " → ".join([f.name for f in folders] + [name])
            raise RenderError(
                "layout inherits from itself",
                [Finding(where[0], where[1], f"extends: {names} goes round in a circle")],
            )
        folders.append(folder)
        if name == DEFAULT:
            return folders
        parent, where = setting(folder, "extends")
        if parent is None:
            parent = DEFAULT
        if not (isinstance(parent, str) and NAME.match(parent)):
            raise RenderError(
                "bad layout.yaml",
                [Finding(where[0], where[1], "extends: expected a layout name, e.g. 'default'")],
            )
        name = parent


def first(folders: list[Path], key: str) -> tuple[Any, Where | None]:
    """The value of ``key`` from the first folder of ``folders`` that sets it."""
    for folder in folders:
        value, where = setting(folder, key)
        if where[1] is not None:
            return value, where
    return None, None


def merged(folders: list[Path], key: str) -> dict[str, Any]:
    """The mappings under ``key`` along the chain, the layout's own over what it inherits
    (nested mappings merged too)."""
    result: dict[str, Any] = {}
    for folder in reversed(folders):
        value, where = setting(folder, key)
        if value is None:
            continue
        if not isinstance(value, dict):
            raise RenderError(
                "bad layout.yaml", [Finding(where[0], where[1], f"{key}: expected a mapping")]
            )
        result = merge(result, value)
    return result


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base``, nested mappings merged key by key."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def tokens(folders: list[Path]) -> dict[str, str]:
    """The design tokens (``tokens:``) of a layout chain, checked: one CSS value each."""
    found = merged(folders, "tokens")
    for name, value in found.items():
        number = isinstance(value, int | float) and not isinstance(value, bool)
        good_name = isinstance(name, str) and TOKEN_NAME.match(name)
        if good_name and (number or isinstance(value, str)) and TOKEN_VALUE.match(str(value)):
            continue
        path, line = _where_set(folders, ("tokens", name))
        message = (
            f"tokens: '{name}: {value}' must be a lower-case name and one CSS value (a colour, "
            "length, number or font list; no ; { } < > or backslash)"
        )
        raise RenderError("bad layout.yaml", [Finding(path, line, message)])
    return {name: str(value) for name, value in found.items()}


def _where_set(folders: list[Path], keys: tuple[Any, ...]) -> Where:
    """The file and line that set ``keys`` (the first of the chain that does)."""
    for folder in folders:
        path = folder / LAYOUT_FILE
        if path.is_file():
            data, positions = _read(path, path.stat().st_mtime_ns)
            tokens = data.get(keys[0])
            if isinstance(tokens, dict) and keys[1] in tokens:
                return path, positions.line(keys)
    return folders[0] / LAYOUT_FILE, None


def tokens_css(values: dict[str, str]) -> Markup:
    """The tokens as CSS custom properties on ``:root`` (for a ``<style>`` element)."""
    return Markup(":root { " + " ".join(f"--{k}: {v};" for k, v in values.items()) + " }")


def page(layouts_dir: Path, name: str) -> dict[str, Any]:
    """The page a layout is designed for (``page:``: size, margins, bleed…), inherited; the
    manifest's ``print:`` settings override it key by key."""
    try:
        folders = chain(layouts_dir, name)
    except (InputError, RenderError):
        return {}  # the build reports the layout's problem itself
    return merged(folders, "page")
