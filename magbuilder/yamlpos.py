"""YAML loading that remembers where every value was written, for ``path:line`` error messages."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent, MappingStartEvent, SequenceStartEvent
from yaml.resolver import Resolver

from .errors import Finding, InputError

Loc = tuple[str | int, ...]

# Limits for every YAML file magbuilder reads. Its own files never use anchors or aliases, nest
# at most 5 collections deep (ingest.yaml's rules.labels lists) and are a few kilobytes.
MAX_CHARS = 1_000_000
MAX_DEPTH = 20
NEEDED_DEPTH = 5


class _Refused(yaml.MarkedYAMLError):
    """YAML that parses but that magbuilder does not read: an alias, a merge key, deep nesting."""


class _Duplicate(yaml.MarkedYAMLError):
    """Keys written twice in one file; ``found`` holds one finding per duplicate."""

    def __init__(self, found: list[tuple[int, str, int]]) -> None:
        super().__init__()
        self.found = found  # (line of the second key, the key as written, line of the first)


class _LimitedComposer(Composer):
    """PyYAML's composer, refusing aliases and nesting beyond ``MAX_DEPTH`` as it goes.

    PyYAML turns an alias into a second reference to the anchored node, so nine lines of
    nested aliases (billion laughs) are small until the data is walked — positions, pydantic,
    JSON — 9**9 times. No magbuilder file needs an alias, so every one is refused, where it is
    written, before anything walks the data. The depth is counted here, before any recursion:
    PyYAML's own composer recurses per level, and so do the walks after it.
    """

    def __init__(self) -> None:
        Composer.__init__(self)  # not super(): the parser's __init__ comes next in the MRO
        self.depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        if self.check_event(AliasEvent):
            event = self.peek_event()
            raise _Refused(
                None,
                None,
                f"YAML alias '*{event.anchor}' is not allowed (magbuilder files never need "
                "anchors and aliases, and a few of them can expand to gigabytes): write the "
                "value out in full",
                event.start_mark,
            )
        nested = self.check_event(SequenceStartEvent, MappingStartEvent)
        if nested:
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise _Refused(None, None, _too_deep(), self.peek_event().start_mark)
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= nested


def _too_deep() -> str:
    return (
        f"YAML nested more than {MAX_DEPTH} levels deep (magbuilder files need at most "
        f"{NEEDED_DEPTH}): flatten it"
    )


_CParser = yaml.cyaml.CParser if hasattr(yaml, "CSafeLoader") else None  # built with libyaml


if _CParser is not None:  # libyaml's scanner and parser; the composer above on its events

    class _Base(_LimitedComposer, _CParser, SafeConstructor, Resolver):
        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            _LimitedComposer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

else:

    class _Base(_LimitedComposer, yaml.SafeLoader):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            yaml.SafeLoader.__init__(self, stream)
            _LimitedComposer.__init__(self)


class _Loader(_Base):
    """SafeLoader with YAML 1.2 booleans: only true/false, so ``lang: no`` stays Norwegian.

    Also refuses aliases, deep nesting (``_LimitedComposer``), merge keys and keys written twice.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[int, str, int]] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # '<<' would hide keys written twice
                raise _Refused(
                    None,
                    None,
                    "merge key '<<' is not allowed: write the keys out in full",
                    key_node.start_mark,
                )
        mapping = super().construct_mapping(node, deep)
        if len(mapping) < len(node.value):  # a key written twice: say where, both times
            first: dict[Any, int] = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node)  # built above: from the cache
                line = key_node.start_mark.line + 1
                if key in first:
                    self.duplicates.append((line, str(key_node.value), first[key]))
                else:
                    first[key] = line
        return mapping

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
    if isinstance(exc, _Refused) and mark:
        return Finding(path, mark.line + 1 + offset, str(exc.problem))
    if "exceeded maximum nesting depth" in str(exc.problem) and mark:  # libyaml's own limit
        return Finding(path, mark.line + 1 + offset, _too_deep())
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
    if len(text) > MAX_CHARS:  # before parsing: nothing this size is a magbuilder file
        message = (
            f"{len(text):,} characters of YAML, more than the {MAX_CHARS:,} magbuilder reads: a "
            "manifest, front matter or settings file is far smaller; check that this is the "
            "right file"
        )
        raise InputError("YAML too large", [Finding(path, 1 + line_offset, message)])
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
    if loader.duplicates:
        raise InputError(
            "duplicate keys",
            [
                Finding(
                    path,
                    line + line_offset,
                    f"key '{key}' appears twice (first on line {first + line_offset}): keep one",
                )
                for line, key, first in sorted(loader.duplicates)
            ],
        )
    lines: dict[Loc, int] = {}
    if node is not None:
        _walk(node, (), lines)
    return data, Positions(lines, line_offset)
