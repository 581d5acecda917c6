"""Errors magbuilder raises for problems a person can fix, each carrying its file positions."""

from __future__ import annotations

import errno
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class Level(StrEnum):
    """How much a finding matters: an error stops the command; a warning is shown and the
    command goes on; info (preflight's) and a note (ingest's: a source not modified) are for the
    record; a conflict (ingest's) is a file both an editor and the source changed, to merge by
    hand. Equal to its name as a string."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    NOTE = "note"
    CONFLICT = "conflict"


@dataclass(frozen=True)
class Finding:
    """One problem in one file, printed as ``path:line: level: message``; in a PDF, at a
    ``page`` instead of a line (``file.pdf: level: page N: message``)."""

    path: Path | str
    line: int | None
    message: str
    level: Level = Level.ERROR
    page: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "level", Level(self.level))  # "warning" is Level.WARNING

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else f"{self.path}"
        prefix = "" if self.level is Level.ERROR else f"{self.level}: "
        page = f"page {self.page}: " if self.page else ""
        return f"{where}: {prefix}{page}{self.message}"


class MagbuilderError(Exception):
    """Base class: an expected failure that ends a command with a clear message and exit code 1."""

    exit_code = 1

    def __init__(self, message: str, findings: list[Finding] | None = None) -> None:
        super().__init__(message)
        self.findings = list(findings or [])

    def __reduce__(self):  # noqa: ANN204 - keep the findings across worker processes
        return (self.__class__, (str(self), self.findings))

    def report(self) -> str:
        """The text shown to the user: every finding, one per line, or the message."""
        if self.findings:
            return "\n".join(str(f) for f in self.findings)
        return str(self)


class InputError(MagbuilderError):
    """Raised by the loaders (manifest, review files, config) when input files are invalid."""


class RenderError(MagbuilderError):
    """Raised by the renderers when a template, a resource or a layout step fails."""


class OutputError(MagbuilderError):
    """Raised by the build when its outputs cannot be written: a full disk, a read-only folder."""

    @classmethod
    def writing(cls, folder: Path | str, exc: OSError) -> OutputError:
        """The error for ``exc`` while writing into ``folder``, with what to do about it."""
        if exc.errno == errno.ENOSPC:
            advice = "no space left on its device: free some space, or build elsewhere with --out"
        elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            advice = "not writable: make it writable, or build elsewhere with --out"
        else:
            advice = f"{exc.strerror or exc}: build elsewhere with --out"
        message = f"cannot write the outputs: {advice}"
        return cls(message, [Finding(folder, None, message)])


class UsageError(MagbuilderError):
    """Raised for wrong command-line usage; exit code 2."""

    exit_code = 2
