"""Turn pydantic validation errors into ``path:line: message`` findings a person can act on."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from .errors import Finding
from .yamlpos import Positions

M = TypeVar("M", bound=BaseModel)


def format_loc(loc: Sequence[str | int]) -> str:
    """``('sections', 1, 'reviews', 2)`` → ``sections[1].reviews[2]``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, or an empty string."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _fields_at(model: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    """The field names allowed at ``loc`` inside ``model``, for did-you-mean on unknown keys."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part) if hasattr(current, "model_fields") else None
        if field is None:
            return []
        current = _model_in(field.annotation)
        if current is None:
            return []
    return list(current.model_fields) if hasattr(current, "model_fields") else []


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found:
            return found
    return None


def _message(model: type[BaseModel], err: dict[str, Any]) -> str:
    loc = err["loc"]
    where = format_loc(loc)
    kind = err["type"]
    if at := _at(err):  # a check of the whole mapping, about one of its keys: says it all
        return f"{format_loc((*loc, at))}: {err['msg']}"
    if kind == "missing":
        return f"missing required key '{where}': add it"
    if kind == "extra_forbidden":
        key = str(loc[-1])
        hint = did_you_mean(key, _fields_at(model, loc[:-1]))
        allowed = ", ".join(_fields_at(model, loc[:-1]))
        fix = hint or (f"; allowed keys: {allowed}" if allowed else "")
        return f"unknown key '{where}'{fix}: remove or rename it"
    got = err.get("input")
    shown = repr(got) if not isinstance(got, dict | list) else type(got).__name__
    msg = err["msg"]
    if kind == "string_pattern_mismatch":
        msg = "has an invalid format"
        hints = {
            "lang": "use a BCP 47 tag such as 'en', 'nb' or 'fr-CA'",
            "base_url": "use an absolute https:// URL",
            "image_base_url": "use an absolute https:// URL",
            "source_url": "use an absolute http(s):// URL",
            "id": "use letters, digits, '.', '_' or '-', e.g. 2026-12",
            "layout": "name a folder under layouts/",
        }
        msg += f" ({hints.get(str(loc[-1]), 'see docs/writing.md')})"
    elif kind.startswith("date"):
        msg = "is not a date: write it as YYYY-MM-DD"
    return f"{where}: {msg}, got {shown}"


def _at(err: dict[str, Any]) -> str | None:
    """The key a model-wide check's error is about (its ``at`` context), shown and pointed at."""
    at = (err.get("ctx") or {}).get("at")
    return at if isinstance(at, str) else None


def validate(
    model: type[M], data: Any, positions: Positions, path: Path | str
) -> tuple[M | None, list[Finding]]:
    """Validate ``data`` into ``model``; on failure return every problem with its line."""
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        return None, [Finding(path, 1, f"expected a mapping of keys, but the file is {kind}")]
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        findings = []
        for err in exc.errors():
            loc = err["loc"]
            if err["type"] == "extra_forbidden":
                line = positions.key_line(loc)
            elif err["type"] == "missing":
                line = positions.key_line(loc[:-1]) if loc[:-1] else positions.line(())
            else:
                line = positions.key_line((*loc, at)) if (at := _at(err)) else positions.line(loc)
            findings.append(Finding(path, line, _message(model, err)))
        return None, findings
