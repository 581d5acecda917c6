"""Review files in ``content/reviews/``: YAML front matter between ``---`` lines, then Markdown."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .content import FrontMatter, Review
from .errors import Finding, InputError
from .files import write_atomic
from .markdown import body_images
from .validation import validate
from .yamlpos import load_yaml

REVIEWS_DIR = Path("content") / "reviews"


def review_slugs(reviews_dir: Path) -> list[str]:
    """Every review slug in the folder (``<slug>.md``): not ``*.incoming.md`` drafts, nor
    ``<slug>.<lang>.md`` translations (a slug has no dot)."""
    return sorted(p.stem for p in reviews_dir.glob("*.md") if "." not in p.stem)


def split_front_matter(text: str, path: Path | str) -> tuple[str, str, int]:
    """Split a review file into (front matter YAML, body, line where the body starts)."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise InputError(
            "no front matter",
            [
                Finding(
                    path,
                    1,
                    "a review file must start with '---', its YAML front matter, then '---'",
                )
            ],
        )
    for i in range(1, len(lines)):
        if lines[i].strip() in ("---", "..."):
            return "".join(lines[1:i]), "".join(lines[i + 1 :]), i + 2
    raise InputError(
        "unterminated front matter",
        [
            Finding(
                path, 1, "front matter opened with '---' is never closed: add a '---' line after it"
            )
        ],
    )


def inside(base: Path, relative: str) -> Path | None:
    """``base/relative`` if it is a plain relative path that stays inside ``base``, else None.

    Absolute paths, ``..`` escapes, URLs and symlinks pointing out of ``base`` are refused.
    """
    if not relative or ":" in relative or relative.startswith(("/", "\\")):
        return None
    candidate = (base / relative).resolve()
    return candidate if candidate.is_relative_to(base.resolve()) else None


def review_file_problem(content_dir: Path, path: Path) -> str | None:
    """Why the review file ``path`` may not be read: a symlink leading out of ``content_dir``.

    Builds read nothing outside ``content/`` (like images, see ``inside``); a review linked in
    from elsewhere would put a file nobody reviewed into the magazine. A ``path`` that is not
    under ``content_dir`` to begin with is the caller's business, not a link.
    """
    if not path.absolute().is_relative_to(content_dir.absolute()):
        return None
    target = path.resolve()
    if target.is_relative_to(content_dir.resolve()):
        return None
    return (
        f"is a symlink to a file outside content/ ({target}): builds read nothing outside "
        "content/; copy the file into content/reviews/ instead"
    )


def media_problem(content_dir: Path, src: str) -> str | None:
    """Why ``src`` (a path under content/) cannot be used, or None when it is a readable file."""
    path = inside(content_dir, src)
    if path is None:
        return f"image '{src}' must be a relative path inside content/, e.g. media/photo.jpg"
    if not path.is_file():
        return f"image '{src}' not found: put the file at content/{src}"
    return None


def read_review(
    path: Path, display: Path | str | None = None, content_dir: Path | None = None
) -> Review:
    """Load and validate one review file; raises InputError listing every problem.

    With ``content_dir``, the hero image and images in the body must exist under it, and so
    must the file itself: one linked in from outside is refused unread, with an InputError that
    has no findings, because the manifest line that selects it is the place to say so
    (``manifest._read_selected``), once.
    """
    shown = display or path
    if content_dir is not None and (problem := review_file_problem(content_dir, path)):
        raise InputError(f"{shown} {problem}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        line = exc.object.count(b"\n", 0, exc.start) + 1
        raise InputError(
            "bad encoding",
            [Finding(shown, line, f"not UTF-8 (byte {exc.start}): save the file as UTF-8")],
        ) from None
    except OSError as exc:  # a folder named like a review, no permission…
        raise InputError(
            "unreadable review", [Finding(shown, None, f"cannot read: {exc.strerror or exc}")]
        ) from None
    text = text.removeprefix("\ufeff")
    front, body, body_line = split_front_matter(text, shown)
    data, positions = load_yaml(front, shown, line_offset=1)
    meta, findings = validate(FrontMatter, data, positions, shown)
    if meta is not None and content_dir is not None:
        if meta.image and (problem := media_problem(content_dir, meta.image.src)):
            findings.append(Finding(shown, positions.line(("image", "src")), problem))
        # Markdown images here; a raw <img> the render sandbox refuses, naming what it is.
        for offset, src in body_images(body, raw_html=False):
            if problem := media_problem(content_dir, src):
                findings.append(Finding(shown, body_line + offset, problem))
    if not body.strip():
        findings.append(
            Finding(shown, body_line, "the review has no text after its front matter: write it")
        )
    if findings or meta is None:
        raise InputError(f"invalid review {shown}", findings)
    return Review(**meta.model_dump(), slug=path.stem, path=path, body=body, body_line=body_line)


# ---- Writing review files (used by ingest) ------------------------------------------------------

FRONT_MATTER_ORDER = (
    "title", "kicker", "standfirst", "author", "author_bio", "published", "lang", "tags", "films",
    "image", "source_url", "guid",
)  # fmt: skip
FILM_ORDER = ("title", "original_title", "directors", "countries", "year", "runtime")
IMAGE_ORDER = ("src", "alt", "caption", "credit")
_YAML_11_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"}
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _quoted(text: str) -> str:
    """A YAML double-quoted scalar: UTF-8 kept as is, only what YAML cannot hold escaped."""
    out = []
    for char in text:
        code = ord(char)
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif code < 0x20 or 0x7F <= code <= 0x9F or char in "\u2028\u2029\ufeff":
            out.append(f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}")
        elif 0xD800 <= code <= 0xDFFF or code in (0xFFFE, 0xFFFF):
            out.append("\ufffd")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _scalar(value: Any, key: str = "") -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    if key == "lang" and re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", text):
        return text if text.lower() not in _YAML_11_WORDS else _quoted(text)
    return _quoted(text)


def _ordered(mapping: Mapping[str, Any], order: tuple[str, ...]) -> list[tuple[str, Any]]:
    keys = [k for k in order if k in mapping] + [k for k in mapping if k not in order]
    return [(k, mapping[k]) for k in keys if mapping[k] is not None and mapping[k] != []]


def _lines(mapping: Mapping[str, Any], order: tuple[str, ...], indent: str) -> list[str]:
    lines = []
    for key, value in _ordered(mapping, order):
        if isinstance(value, Mapping):
            lines.append(f"{indent}{key}:")
            lines.extend(_lines(value, IMAGE_ORDER, indent + "  "))
        elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            lines.append(f"{indent}{key}:")
            for item in value:
                inner = _lines(item, FILM_ORDER, indent + "    ")
                lines.append(f"{indent}  - {inner[0].lstrip()}")
                lines.extend(inner[1:])
        elif isinstance(value, list):
            lines.append(f"{indent}{key}: [{', '.join(_scalar(v) for v in value)}]")
        else:
            lines.append(f"{indent}{key}: {_scalar(value, key)}")
    return lines


def format_review(front: Mapping[str, Any], body: str) -> str:
    """A review file's text: YAML front matter in the documented key order, then the body
    (docs/writing.md).

    Block-style YAML, strings double-quoted (UTF-8, no ``!!python`` tags), dates and numbers bare,
    lists of strings on one line; keys with ``None`` or empty-list values are left out. A value
    that is not a date (e.g. an unreadable ``published`` kept as written) is written as a string.
    """
    data = {k: (v.model_dump() if hasattr(v, "model_dump") else v) for k, v in front.items()}
    text = "\n".join(["---", *_lines(data, FRONT_MATTER_ORDER, ""), "---", ""])
    return text + body.lstrip("\n").rstrip() + "\n"


def write_review(path: Path, front: Mapping[str, Any], body: str) -> str:
    """Write a review file through a temporary file renamed into place; returns its text."""
    text = format_review(front, body)
    write_atomic(path, text)
    return text
