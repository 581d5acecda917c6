"""The subscriber list: a CSV file with an ``email`` column, an optional ``name`` and merge fields.

Every other column is a merge field the templates can use as ``%%column|default%%``. Bad rows are
reported as ``file:line: reason`` and skipped; an address listed twice (in any letter case) is
sent once, to the first row that names it.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from email_validator import EmailNotValidError, validate_email

from ..errors import Finding, InputError
from .tokens import normalise

log = logging.getLogger(__name__)

EMAIL_HEADERS = ("email", "e_mail", "email_address", "e_mail_address")
RESERVED = {"unsubscribe_url": "it is filled in for each subscriber"}
MERGE_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
DELIMITERS = (",", ";", "\t")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Subscriber:
    """One subscriber: the address messages go to, a name, and other merge fields."""

    email: str
    name: str = ""
    fields: Mapping[str, str] = field(default_factory=dict)
    line: int = 0

    @property
    def key(self) -> str:
        """The normalised address: ledger key, token input and duplicate check."""
        return normalise(self.email)

    @property
    def lang(self) -> str | None:
        """The language the list gives for the subscriber (a ``lang`` or ``language`` column)."""
        return self.fields.get("lang") or self.fields.get("language") or None

    def merge_values(self) -> dict[str, str]:
        """Merge-field values from the list (the unsubscribe link is added at send time)."""
        return {**self.fields, "name": self.name}


@dataclass(frozen=True)
class SubscriberList:
    """The valid subscribers in file order, and what was wrong with the rest."""

    path: str
    subscribers: list[Subscriber]
    findings: list[Finding]
    skipped: int = 0
    duplicates: int = 0

    def find(self, address: str) -> Subscriber | None:
        """The subscriber with this address (any letter case), if listed."""
        key = normalise(address)
        return next((s for s in self.subscribers if s.key == key), None)

    def summary(self) -> str:
        """``subscribers.csv: 200 subscribers, 3 rows skipped, 1 duplicate`` (for the log)."""
        parts = [f"{len(self.subscribers)} subscriber{'s' * (len(self.subscribers) != 1)}"]
        if self.skipped:
            parts.append(f"{self.skipped} row{'s' * (self.skipped != 1)} skipped (see above)")
        if self.duplicates:
            parts.append(f"{self.duplicates} duplicate{'s' * (self.duplicates != 1)} sent once")
        return f"{self.path}: " + ", ".join(parts)


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def decode(data: bytes, where: str) -> str:
    """The file's text: UTF-8 (with or without a BOM) or UTF-16 with a BOM; else a clear error."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise InputError(
                "bad encoding",
                [Finding(where, None, f"broken UTF-16 (byte {exc.start}): save it as CSV UTF-8")],
            ) from None
    nul = data.find(b"\x00")
    if nul >= 0:
        line = _line_of(data, nul)
        if line == 1:  # UTF-16 without a BOM, or a spreadsheet's binary file, from the start
            reason = (
                "looks like UTF-16 or a spreadsheet file, not text: "
                'export it as "CSV UTF-8 (comma delimited)"'
            )
        else:  # a text file with a stray NUL: say where it is
            start = data.rfind(b"\n", 0, nul) + 1
            column = len(data[start:nul].decode("utf-8", "replace")) + 1
            reason = (
                f"a NUL character (byte 0x00) at column {column}: the file is damaged or not "
                'plain text; remove the character, or export the list again as "CSV UTF-8"'
            )
        raise InputError("bad encoding", [Finding(where, line, reason)])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = _line_of(data, exc.start)
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError(
            "bad encoding",
            [
                Finding(
                    where,
                    line,
                    f"not UTF-8 (byte 0x{data[exc.start]:02x} at column {column}): "
                    'save the file as "CSV UTF-8" (in a spreadsheet: Save As → CSV UTF-8)',
                )
            ],
        ) from None


def _clean(value: str) -> str:
    """One line of text: control characters and runs of whitespace become single spaces."""
    return " ".join(CONTROL.sub(" ", value).split())


def _header_name(raw: str) -> str:
    return re.sub(r"[\s\-]+", "_", raw.strip().lower())


def _delimiter(first_line: str) -> str:
    """The delimiter that makes the header name an email column (comma unless ; or tab do)."""
    for delimiter in DELIMITERS:
        names = [_header_name(cell) for cell in next(csv.reader([first_line], delimiter=delimiter))]
        if any(name in EMAIL_HEADERS for name in names):
            return delimiter
    return ","


def read_subscribers(path: Path | str, shown: str | None = None) -> SubscriberList:
    """Read and validate a subscriber CSV.

    Raises InputError when the file as a whole is unusable (missing, wrong encoding, no ``email``
    column, no valid row); bad rows are returned as findings and left out.
    """
    path = Path(path)
    where = shown or str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("no subscribers", [Finding(where, None, "file not found")]) from None
    except IsADirectoryError:
        raise InputError(
            "no subscribers", [Finding(where, None, "is a folder, not a CSV file")]
        ) from None
    text = decode(data, where)
    first_line = text.split("\n", 1)[0].rstrip("\r")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(
            "no subscribers", [Finding(where, None, "the file is empty: expected a header line")]
        ) from None

    findings: list[Finding] = []
    columns: dict[int, str] = {}  # position → merge field name
    email_at = None
    seen_names: dict[str, int] = {}
    for index, raw in enumerate(header):
        name = _header_name(raw)
        if not name:
            continue
        if name in seen_names:
            raise InputError(
                "bad header",
                [Finding(where, 1, f"column '{raw.strip()}' appears twice: rename or remove one")],
            )
        seen_names[name] = index
        if name in EMAIL_HEADERS and email_at is None:
            email_at = index
        elif name in RESERVED:
            findings.append(
                Finding(where, 1, f"column '{name}' ignored: {RESERVED[name]}", "warning")
            )
        elif not MERGE_NAME.match(name):
            findings.append(
                Finding(
                    where,
                    1,
                    f"column '{raw.strip()}' ignored: a merge field name uses only letters a-z, "
                    "digits and _ (rename it, e.g. 'first_name')",
                    "warning",
                )
            )
        else:
            columns[index] = name
    if email_at is None:
        found = ", ".join(f"'{h.strip()}'" for h in header if h.strip()) or "nothing"
        raise InputError(
            "bad header",
            [
                Finding(
                    where,
                    1,
                    f"no 'email' column (found {found}): the first line must name the "
                    "columns, one of them 'email'",
                )
            ],
        )

    subscribers: list[Subscriber] = []
    first_seen: dict[str, int] = {}
    skipped = duplicates = 0
    end = reader.line_num
    while True:
        start = end + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            findings.append(Finding(where, start, f"unreadable row: {exc}"))
            skipped += 1
            end = reader.line_num
            continue
        end = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        spans = f" (the row spans lines {start}-{end}: check for an unbalanced quote)"
        spans = spans if end > start else ""
        if len(row) > len(header) and any(cell.strip() for cell in row[len(header) :]):
            findings.append(
                Finding(
                    where,
                    start,
                    f"{len(row)} values but the header names {len(header)} columns: "
                    f"quote values that contain the delimiter{spans}",
                )
            )
            skipped += 1
            continue
        raw_email = row[email_at].strip() if email_at < len(row) else ""
        if not raw_email:
            findings.append(Finding(where, start, f"no email address{spans}"))
            skipped += 1
            continue
        try:
            valid = validate_email(raw_email, check_deliverability=False, allow_smtputf8=False)
        except EmailNotValidError as exc:
            findings.append(
                Finding(where, start, f"'{_clean(raw_email)}' is not a valid address: {exc}{spans}")
            )
            skipped += 1
            continue
        address = valid.ascii_email or valid.normalized
        key = normalise(address)
        if key in first_seen:
            findings.append(
                Finding(
                    where,
                    start,
                    f"'{address}' is a duplicate of line {first_seen[key]}: sent once",
                    "warning",
                )
            )
            duplicates += 1
            continue
        first_seen[key] = start
        values = {name: _clean(row[index]) for index, name in columns.items() if index < len(row)}
        name = values.pop("name", "")
        subscribers.append(Subscriber(email=address, name=name, fields=values, line=start))

    result = SubscriberList(where, subscribers, findings, skipped, duplicates)
    if not subscribers:
        raise InputError(
            "no subscribers",
            [*findings, Finding(where, None, "no valid subscriber in the file")],
        )
    return result


def report_findings(subscribers: SubscriberList) -> None:
    """Log every finding (bad rows, duplicates, ignored columns) and the summary line."""
    for finding in subscribers.findings:
        log.warning("%s", finding)
    log.info("%s", subscribers.summary())
