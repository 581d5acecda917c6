"""YAML loading that remembers where every value was written, for ``path:line`` error messages."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from .errors import Finding, InputError

Loc = tuple[str | int, ...]


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml's parser when built in
    """SafeLoader with YAML 1.2 booleans: only true/false, so ``lang: no`` stays Norwegian."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        # A value shaped like a date or number that is not one (2026-02-30, 5000 digits) makes
        # PyYAML raise a bare ValueError; give it the node's position like any syntax error.
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as exc:
            value = str(node.value)
            value = value if len(value) <= 40 else value[:40] + "…"
            what = "a valid date" if node.tag.endswith(":timestamp") else "a value YAML can read"
            reason = str(exc).split(":")[0]
            message = f"'{value}' is not {what} ({reason})"
            raise _BadValue(None, None, message, node.start_mark) from None


class _BadValue(yaml.constructor.ConstructorError):
    """A scalar the constructor could not turn into its type (a date that does not exist…)."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


class Positions:
    """Maps a location (keys and indexes, as pydantic reports them) to a 1-based line number."""

    def __init__(self, lines: dict[Loc, int], offset: int = 0) -> None:
        self._lines = lines
        self._offset = offset

    def line(self, loc: Sequence[str | int]) -> int:
        """Line of ``loc``, or of its nearest parent that exists in the file."""
        loc = tuple(loc)
        while loc not in self._lines and loc:
            loc = loc[:-1]
        return self._lines.get(loc, 1) + self._offset

    def key_line(self, loc: Sequence[str | int]) -> int:
        """Line of the key itself (for unknown keys), falling back to ``line``."""
        return self._lines.get(("__key__", *loc), self.line(loc) - self._offset) + self._offset


def _walk(node: yaml.Node, loc: Loc, out: dict[Loc, int]) -> None:
    out[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            out[("__key__", *loc, key)] = key_node.start_mark.line + 1
            _walk(value_node, (*loc, key), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*loc, i), out)


def _syntax_finding(exc: yaml.MarkedYAMLError, path: Path | str, offset: int) -> Finding:
    """Where a YAML syntax error really is: an unclosed quote is reported where it opened."""
    mark = exc.problem_mark or exc.context_mark
    if isinstance(exc, _BadValue) and mark:
        return Finding(path, mark.line + 1 + offset, f"{exc.problem}: correct the value")
    context = ""
    if exc.context_mark and exc.context:
        context = f" ({exc.context} that starts on line {exc.context_mark.line + 1 + offset})"
        if "quoted scalar" in exc.context or "simple key" in exc.context:
            mark = exc.context_mark
    line = mark.line + 1 + offset if mark else None
    hint = "check indentation, colons, and quotes around text containing ': ' or ' #'"
    return Finding(
        path, line, f"YAML syntax error: {exc.problem or 'invalid YAML'}{context}; {hint}"
    )


def load_yaml(text: str, path: Path | str, line_offset: int = 0) -> tuple[Any, Positions]:
    """Parse ``text`` into plain Python data and the positions of each value.

    ``line_offset`` shifts reported lines, for YAML embedded in a larger file (front matter).
    Raises InputError with the line of a syntax error.
    """
    loader = _Loader(text)
    try:  # one parse: the node tree gives the positions, then the data is built from it
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        raise InputError("YAML syntax error", [_syntax_finding(exc, path, line_offset)]) from None
    except yaml.reader.ReaderError as exc:  # a control character: the reader has no line marks
        line = text.count("\n", 0, exc.position) + 1 + line_offset
        char = exc.character if isinstance(exc.character, str) else chr(exc.character)
        message = f"character U+{ord(char):04X} is not allowed in YAML: remove it"
        raise InputError("YAML error", [Finding(path, line, message)]) from None
    except yaml.YAMLError as exc:
        raise InputError("YAML error", [Finding(path, None, f"cannot read YAML: {exc}")]) from None
    finally:
        loader.dispose()
    lines: dict[Loc, int] = {}
    if node is not None:
        _walk(node, (), lines)
    return data, Positions(lines, line_offset)
