"""The Jinja2 environment of a layout: search path with fallback to ``default``, filters, strings.

A layout is a folder under ``layouts/``. Another layout holds only the files it overrides; every
other template, stylesheet, font or string falls back to ``layouts/default/``. Templates can also
extend a default template explicitly as ``default/<path>``.
"""

from __future__ import annotations

import datetime as dt
import textwrap
import traceback
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import yaml
from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.lists import format_list
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from ..content import text_dir
from ..errors import Finding, InputError, RenderError
from ..markdown import excerpt, plain_text, render_markdown

DEFAULT = "default"


class Layout:
    """A named layout and its fallback chain: ``layouts/<name>/`` then ``layouts/default/``."""

    def __init__(self, layouts_dir: Path, name: str = DEFAULT) -> None:
        self.name = name
        self.layouts_dir = layouts_dir
        self.chain = [layouts_dir / name]
        if name != DEFAULT:
            self.chain.append(layouts_dir / DEFAULT)
        missing = [p for p in self.chain if not p.is_dir()]
        if missing:
            raise InputError(
                "missing layout",
                [Finding(missing[0], None, f"layout folder not found: create {missing[0]}/")],
            )

    def find(self, relative: str) -> Path | None:
        """The first file named ``relative`` along the chain, or None."""
        for folder in self.chain:
            candidate = folder / relative
            if candidate.is_file():
                return candidate
        return None

    def url(self, relative: str) -> str:
        """A file:// URL for a layout file, resolved through the chain."""
        found = self.find(relative)
        if found is None:
            raise RenderError(f"layout file '{relative}' not found in {self.chain[0]} or default")
        return found.resolve().as_uri()

    @property
    def strings(self) -> dict[str, dict[str, str]]:
        """Translated labels (``strings.yaml``), the layout's own over the default's.

        Cached while the files are unchanged (the preview server edits them live).
        """
        return _strings(tuple(self.chain), _strings_key(self))


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
    """One strings.yaml (``lang: {key: label}``); a broken file is a RenderError with its line."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except UnicodeDecodeError as exc:
        raise RenderError(
            "strings not UTF-8",
            [Finding(path, None, f"not UTF-8 (byte {exc.start}): save as UTF-8")],
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or exc
        raise RenderError(
            "strings YAML error",
            [Finding(path, mark.line + 1 if mark else None, f"YAML syntax error: {problem}")],
        ) from None
    if not isinstance(data, dict) or not all(isinstance(t, dict | None) for t in data.values()):
        raise RenderError(
            "strings not a mapping",
            [Finding(path, 1, "expected labels per language, e.g. 'en: {contents: Contents}'")],
        )
    return data


def _locale(lang: str) -> Locale:
    try:
        return Locale.parse(lang.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def _autoescape(name: str | None) -> bool:
    """HTML and MJML templates escape; text templates and data-level partials don't.

    A partial's macros return plain text, which the calling HTML template escapes on output,
    and which a text template prints as it is.
    """
    name = name or ""
    return not (name.endswith(".txt.j2") or name.startswith(("partials/", "default/partials/")))


def wrap(text: str, width: int = 72, indent: str = "") -> str:
    """Wrap plain text at ``width`` columns without breaking words or URLs."""
    return "\n".join(
        textwrap.fill(
            para,
            width=width,
            initial_indent=indent,
            subsequent_indent=indent,
            break_long_words=False,
            break_on_hyphens=False,
        )
        for para in str(text).split("\n")
    )


def make_env(layout: Layout) -> jinja2.Environment:
    """A sandboxed, strict, autoescaping environment over the layout's templates.

    One environment per layout (and version of its strings) is kept, so templates are compiled
    once per process; Jinja recompiles a template whose file changed.
    """
    return _env(tuple(layout.chain), layout.name, layout.layouts_dir, _strings_key(layout))


def _strings_key(layout: Layout) -> tuple[int, ...]:
    files = [folder / "strings.yaml" for folder in layout.chain]
    return tuple(p.stat().st_mtime_ns if p.is_file() else 0 for p in files)


@lru_cache(maxsize=16)
def _env(
    chain: tuple[Path, ...], name: str, layouts_dir: Path, strings_key: tuple[int, ...]
) -> jinja2.Environment:
    layout = Layout(layouts_dir, name)
    loader = jinja2.ChoiceLoader(
        [
            jinja2.FileSystemLoader([str(p) for p in layout.chain]),
            jinja2.PrefixLoader({DEFAULT: jinja2.FileSystemLoader(str(layout.chain[-1]))}),
        ]
    )
    env = ImmutableSandboxedEnvironment(
        loader=loader,
        undefined=jinja2.StrictUndefined,
        autoescape=_autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    strings = layout.strings

    def t(key: str, lang: str = "en") -> str:
        """A label in ``lang`` (primary subtag), falling back to English, then to the key."""
        primary = lang.split("-")[0]
        for table in (strings.get(lang), strings.get(primary), strings.get("en")):
            if table and key in table:
                return table[key]
        return key

    def date(value: dt.date, lang: str = "en", fmt: str = "long") -> str:
        return format_date(value, fmt, locale=_locale(lang))

    def and_list(items: list[str], lang: str = "en") -> str:
        return format_list(list(items), locale=_locale(lang)) if items else ""

    env.globals.update(t=t, layout_url=layout.url, text_dir=text_dir)
    env.filters.update(
        date=date,
        and_list=and_list,
        markdown=lambda text, image_url=None: Markup(render_markdown(text, image_url)),
        excerpt=excerpt,
        plain=plain_text,
        wrap=wrap,
    )
    return env


def render_template(env: jinja2.Environment, name: str, **context: Any) -> str:
    """Render a template; template mistakes become a RenderError naming the file and line."""
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateSyntaxError as exc:
        where = exc.filename or exc.name or name
        raise RenderError(
            "template syntax error",
            [Finding(where, exc.lineno, f"template syntax error: {exc.message}")],
        ) from None
    except jinja2.TemplateNotFound as exc:
        raise RenderError(
            "template not found",
            [Finding(name, None, f"template '{exc.name}' not found in the layout or default")],
        ) from None
    except (jinja2.UndefinedError, jinja2.exceptions.SecurityError, TypeError) as exc:
        frame = _template_frame(exc)
        path, line = frame or (name, None)
        raise RenderError(
            "template error", [Finding(path, line, f"template error: {exc}")]
        ) from None
    except UnicodeDecodeError as exc:  # the loader reads templates as UTF-8
        files = [
            f.f_locals["filename"]
            for f, _ in traceback.walk_tb(exc.__traceback__)
            if isinstance(f.f_locals.get("filename"), str)
        ]
        where = files[-1] if files else name
        raise RenderError(
            "template not UTF-8",
            [Finding(where, None, f"template not UTF-8 (byte {exc.start}): save it as UTF-8")],
        ) from None


def _template_frame(exc: BaseException) -> tuple[str, int] | None:
    """The innermost template file and line in a traceback (Jinja maps frames to templates)."""
    found = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.endswith(".j2"):
            found = (frame.filename, frame.lineno or 0)
    return found
