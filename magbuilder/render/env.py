"""The Jinja2 environment of a layout: search path with fallback to ``default``, filters, strings.

Templates are found along the layout's chain (``render/layout.py``): the layout's own folder,
then the layouts it extends, down to ``layouts/default/``. A template can extend the one it
replaces by naming its layout: ``{% extends "default/print/magazine.html.j2" %}``, and override
only its blocks. ``tokens`` (the layout's design tokens) and ``tokens_css`` are in every
template.
"""

from __future__ import annotations

import datetime as dt
import textwrap
import traceback
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.lists import format_list
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from ..content import text_dir
from ..errors import Finding, RenderError
from ..markdown import excerpt, plain_text, render_markdown
from ..sponsors import Ad
from .layout import DEFAULT, LAYOUT_FILE, Layout, strings_key

__all__ = ["DEFAULT", "Layout", "make_env", "render_template", "wrap"]


def _locale(lang: str) -> Locale:
    try:
        return Locale.parse(lang.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


TEXT = "text:"  # a template as plain text: ``{% import "text:partials/common.j2" as common %}``


def _autoescape(name: str | None) -> bool:
    """Every template escapes but text templates (``*.txt.j2``) and a partial imported by one
    as plain text (``text:partials/…``).

    A macro's output is escaped as it is made, by the template that defines it (Jinja marks it
    safe for the caller), so the data-level partials escape too: an HTML template that prints a
    byline must not print a reviewer's ``<b>`` as markup. A text template imports them with
    the ``text:`` prefix, so the same macros give it plain text.
    """
    name = name or ""
    return not (name.endswith(".txt.j2") or name.startswith(TEXT))


class _TextLoader(jinja2.BaseLoader):
    """``text:<name>``: the template ``<name>``, compiled under its own name so that
    ``_autoescape`` leaves it unescaped."""

    def __init__(self, files: jinja2.BaseLoader) -> None:
        self.files = files

    def get_source(self, environment: jinja2.Environment, template: str):  # noqa: ANN201
        if not template.startswith(TEXT):
            raise jinja2.TemplateNotFound(template)
        return self.files.get_source(environment, template.removeprefix(TEXT))


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

    One environment per layout (and version of its strings and settings) is kept, so templates
    are compiled once per process; Jinja recompiles a template whose file changed.
    """
    settings = [folder / LAYOUT_FILE for folder in layout.chain]
    stamps = tuple(p.stat().st_mtime_ns if p.is_file() else 0 for p in settings)
    return _env(tuple(layout.chain), layout.name, layout.layouts_dir, strings_key(layout) + stamps)


@lru_cache(maxsize=16)
def _env(
    chain: tuple[Path, ...], name: str, layouts_dir: Path, strings_key: tuple[int, ...]
) -> jinja2.Environment:
    layout = Layout(layouts_dir, name)
    files = jinja2.ChoiceLoader(
        [
            jinja2.FileSystemLoader([str(p) for p in layout.chain]),
            jinja2.PrefixLoader({p.name: jinja2.FileSystemLoader(str(p)) for p in layout.chain}),
        ]
    )
    loader = jinja2.ChoiceLoader([files, _TextLoader(files)])
    env = ImmutableSandboxedEnvironment(
        loader=loader,
        undefined=jinja2.StrictUndefined,
        autoescape=_autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    layout.strings  # noqa: B018 - read now: a broken strings.yaml stops a build before it writes
    t = layout.string

    def date(value: dt.date, lang: str = "en", fmt: str = "long") -> str:
        return format_date(value, fmt, locale=_locale(lang))

    def and_list(items: list[str], lang: str = "en") -> str:
        return format_list(list(items), locale=_locale(lang)) if items else ""

    env.globals.update(
        t=t,
        layout_url=layout.url,
        text_dir=text_dir,
        tokens=layout.tokens,
        tokens_css=layout.tokens_css,
    )
    env.filters.update(
        date=date,
        and_list=and_list,
        markdown=lambda text, image_url=None: Markup(render_markdown(text, image_url)),
        excerpt=excerpt,
        plain=plain_text,
        wrap=wrap,
    )
    return env


def ad_label(layout: Layout, ad: Ad, lang: str) -> str:
    """What an ad says it is (as partials/common.j2's ad_label): the sponsor's own label, else
    the layout's string for its kind in ``lang``."""
    return ad.sponsor.label or layout.string(ad.label_key, lang)


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
