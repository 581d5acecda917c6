"""The suppression list: addresses ``send`` never mails again (unsubscribed, bounced, complained).

One SQLite file per project, ``<project>/subscribers/suppression.sqlite3``: outside ``build/``
(deleting the build must never re-mail someone who unsubscribed), readable by its owner only
(it holds addresses). WAL journal, ``synchronous=FULL`` and one short transaction per change, so
the unsubscribe web app and a running ``send`` may write and read it at the same time.

The first reason an address is suppressed for is kept; later ones change nothing. Soft bounces
are counted per address (every one recorded, with its campaign and detail) and suppress the
address, with reason ``soft-bounces``, when their count reaches the importer's threshold.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import io
import json
import os
import re
import sqlite3
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

from email_validator import EmailNotValidError, validate_email

from ..errors import Finding, InputError
from .subscribers import EMAIL_HEADERS, decode
from .tokens import normalise

Reason = Literal["unsubscribed", "hard-bounce", "complaint", "soft-bounces", "blocked"]
REASONS: tuple[str, ...] = get_args(Reason)
STORE_FOLDER = "subscribers"
STORE_NAME = "suppression.sqlite3"
SCHEMA_VERSION = 1
WAL_ATTEMPTS = 50  # about 25 s of retries in all
_REASON_CHECK = ", ".join(f"'{r}'" for r in REASONS)
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS suppressions (
    address TEXT PRIMARY KEY,     -- normalised: trimmed, lower-cased, domain in ASCII (xn--)
    reason TEXT NOT NULL CHECK (reason IN ({_REASON_CHECK})),
    date TEXT NOT NULL,           -- UTC, ISO 8601
    campaign TEXT,                -- the campaign that caused it, e.g. '2026-12' or '2026-12.2'
    detail TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS soft_bounces (
    address TEXT NOT NULL,
    date TEXT NOT NULL,
    campaign TEXT,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS soft_bounces_address ON soft_bounces (address);
CREATE TABLE IF NOT EXISTS recipients (
    token_sha256 TEXT PRIMARY KEY, -- SHA-256 of the address's unsubscribe token (not the token)
    address TEXT NOT NULL,
    campaign TEXT NOT NULL,       -- the latest campaign that mailed the address
    lang TEXT NOT NULL,           -- that issue's language and layout: the unsubscribe page's
    layout TEXT NOT NULL,
    date TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS skipped (
    campaign TEXT NOT NULL,       -- a campaign's list entries not sent because suppressed
    address TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (campaign, address)
);
"""


@dataclass(frozen=True)
class Addressee:
    """Whom an unsubscribe token was sent to: the address, campaign, language and layout."""

    address: str
    campaign: str
    lang: str
    layout: str


def campaign_label(issue_id: str, number: int) -> str:
    """A campaign as suppressions name it: ``2026-12``, a forced second ``2026-12/campaign-2``."""
    return issue_id if number <= 1 else f"{issue_id}/campaign-{number}"


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.strip().encode("ascii", "replace")).hexdigest()


def suppression_key(address: str) -> str:
    """The form an address is stored and compared in: as the subscriber list keys it.

    ``subscribers.py`` sends to (and keys the ledger by) the ASCII form of an international
    domain, lower-cased; an address that does not validate is only trimmed and lower-cased.
    """
    try:
        valid = validate_email(address.strip(), check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError:
        return normalise(address)
    return normalise(valid.ascii_email or valid.normalized)


def _utc(when: dt.datetime | None) -> dt.datetime:
    if when is None:
        return dt.datetime.now(dt.UTC).replace(microsecond=0)
    if when.tzinfo is None:
        raise ValueError(f"{when!r}: a suppression date must be timezone-aware")
    return when.astimezone(dt.UTC)


@dataclass(frozen=True)
class Suppression:
    """One suppressed address and the first reason it was suppressed for."""

    address: str  # normalised (see suppression_key)
    reason: Reason
    date: dt.datetime  # aware, UTC
    campaign: str | None  # the campaign that caused it, e.g. "2026-12" or "2026-12/campaign-2"
    detail: str  # e.g. "5.1.1 user unknown", "one-click POST", "imported from export.csv:14"

    def describe(self) -> str:
        """``unsubscribed 2026-11-03, campaign 2026-11`` (for warnings and listings)."""
        text = f"{self.reason} {self.date.date().isoformat()}"
        return f"{text}, campaign {self.campaign}" if self.campaign else text


@dataclass(frozen=True)
class Feedback:
    """What one campaign's delivered mail drew back: its addresses per kind, sorted.

    ``hard_bounced``, ``complained`` and ``unsubscribed`` are suppressions that name the
    campaign; an address keeps its first reason only, so it appears under one of them at most.
    ``soft_bounced`` are the addresses with a soft bounce recorded for the campaign, except the
    hard-bounced ones (so ``bounced`` counts each address once).
    """

    hard_bounced: tuple[str, ...] = ()
    soft_bounced: tuple[str, ...] = ()
    complained: tuple[str, ...] = ()
    unsubscribed: tuple[str, ...] = ()

    @property
    def bounced(self) -> int:
        return len(self.hard_bounced) + len(self.soft_bounced)


class SuppressionList:
    """A project's suppression list. Each method opens, changes and commits on its own.

    Safe to share between threads and processes: no connection outlives a call.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @classmethod
    def for_project(cls, root: Path) -> SuppressionList:
        """The project's list: ``<root>/subscribers/suppression.sqlite3`` (made on first write)."""
        return cls(Path(root) / STORE_FOLDER / STORE_NAME)

    # -- storage ----------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        db.row_factory = sqlite3.Row
        # WAL is a property of the file, set once. Switching to it takes the file to itself,
        # and SQLite answers "locked" at once (no busy wait) while another connection is
        # switching too: the first writers of a new list, the web app beside a send.
        for attempt in range(WAL_ATTEMPTS):
            try:
                if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    db.execute("PRAGMA journal_mode=WAL")
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == WAL_ATTEMPTS - 1:
                    db.close()
                    raise
                time.sleep(0.02 * (attempt + 1))
        db.execute("PRAGMA synchronous=FULL")  # an unsubscribe, once answered, is kept
        return db

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """A write transaction, making the file (owner-only) and its tables on first use."""
        if not self.path.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):  # made meanwhile by another writer
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        db = self._connect()
        try:
            db.execute("BEGIN IMMEDIATE")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:  # a new file (executescript would commit: one by one)
                for statement in SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            elif version != SCHEMA_VERSION:
                raise self._wrong_version(version)
            yield db
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            db.close()

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection | None]:
        """A read connection, or None when there is no list yet (nothing is suppressed)."""
        if not self.path.exists():
            yield None
            return
        db = self._connect()
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                yield None
                return
            if version != SCHEMA_VERSION:
                raise self._wrong_version(version)
            yield db
        finally:
            db.close()

    def _wrong_version(self, version: int) -> InputError:
        return InputError(
            f"{self.path}: suppression list format {version} is not the supported "
            f"{SCHEMA_VERSION}: use the magbuilder version that wrote it"
        )

    @staticmethod
    def _row(row: sqlite3.Row) -> Suppression:
        return Suppression(
            address=row["address"],
            reason=row["reason"],
            date=dt.datetime.fromisoformat(row["date"]),
            campaign=row["campaign"],
            detail=row["detail"],
        )

    # -- the API ----------------------------------------------------------------------------

    def add(
        self,
        address: str,
        reason: Reason,
        *,
        campaign: str | None = None,
        detail: str = "",
        when: dt.datetime | None = None,
    ) -> bool:
        """Suppress ``address``; False if it already was (the first reason is kept)."""
        if reason not in REASONS:
            raise ValueError(f"{reason!r} is not a suppression reason: one of {REASONS}")
        key = suppression_key(address)
        if not key:
            raise ValueError("an empty address cannot be suppressed")
        with self._writing() as db:
            cursor = db.execute(
                "INSERT INTO suppressions (address, reason, date, campaign, detail) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (address) DO NOTHING",
                (key, reason, _utc(when).isoformat(), campaign, detail),
            )
            return cursor.rowcount == 1

    def record_soft_bounce(
        self,
        address: str,
        *,
        campaign: str | None,
        detail: str,
        threshold: int,
        when: dt.datetime | None = None,
    ) -> bool:
        """Count a soft bounce; suppress (``soft-bounces``) once the count reaches ``threshold``.

        Every call counts one bounce. True only when this call suppressed the address.
        """
        if threshold < 1:
            raise ValueError("the soft-bounce threshold must be at least 1")
        key = suppression_key(address)
        stamp = _utc(when).isoformat()
        with self._writing() as db:
            db.execute(
                "INSERT INTO soft_bounces (address, date, campaign, detail) VALUES (?, ?, ?, ?)",
                (key, stamp, campaign, detail),
            )
            (count,) = db.execute(
                "SELECT count(*) FROM soft_bounces WHERE address = ?", (key,)
            ).fetchone()
            if count < threshold:
                return False
            cursor = db.execute(
                "INSERT INTO suppressions (address, reason, date, campaign, detail) "
                "VALUES (?, 'soft-bounces', ?, ?, ?) ON CONFLICT (address) DO NOTHING",
                (key, stamp, campaign, f"{count} soft bounces; last: {detail}".rstrip("; ")),
            )
            return cursor.rowcount == 1

    def soft_bounces(self, address: str) -> int:
        """How many soft bounces have been recorded for ``address``."""
        with self._reading() as db:
            if db is None:
                return 0
            (count,) = db.execute(
                "SELECT count(*) FROM soft_bounces WHERE address = ?", (suppression_key(address),)
            ).fetchone()
            return int(count)

    def get(self, address: str) -> Suppression | None:
        """Why ``address`` is suppressed, or None."""
        with self._reading() as db:
            if db is None:
                return None
            row = db.execute(
                "SELECT * FROM suppressions WHERE address = ?", (suppression_key(address),)
            ).fetchone()
            return self._row(row) if row else None

    def __contains__(self, address: object) -> bool:
        return isinstance(address, str) and self.get(address) is not None

    def all(self) -> list[Suppression]:
        """Every suppression, oldest first."""
        with self._reading() as db:
            if db is None:
                return []
            rows = db.execute("SELECT * FROM suppressions ORDER BY date, address").fetchall()
            return [self._row(row) for row in rows]

    def lookup(self, addresses: list[str]) -> dict[str, Suppression]:
        """The suppressions among ``addresses`` (keys already normalised), in one read."""
        with self._reading() as db:
            if db is None:
                return {}
            wanted = set(addresses)
            rows = db.execute("SELECT * FROM suppressions").fetchall()
            return {row["address"]: self._row(row) for row in rows if row["address"] in wanted}

    def counts(self) -> Counter[str]:
        """How many addresses are suppressed, per reason."""
        return Counter(s.reason for s in self.all())

    # -- what send records for the unsubscribe app and the reports ---------------------------

    def remember(self, recipients: Iterable[tuple[str, Addressee]]) -> None:
        """Record ``(token, recipient)`` pairs a campaign mails, so a token finds its address.

        The token names only the address (an HMAC of it); this is how the unsubscribe app learns
        which address, campaign and language it belongs to, whatever happens to ``build/``.
        Only a hash of each token is kept.
        """
        stamp = _utc(None).isoformat()
        with self._writing() as db:
            db.executemany(
                "INSERT OR REPLACE INTO recipients VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (_token_hash(t), r.address, r.campaign, r.lang, r.layout, stamp)
                    for t, r in recipients
                ],
            )

    def recipient(self, token: str) -> Addressee | None:
        """The recipient a campaign sent ``token`` to, or None (the token is not verified here)."""
        with self._reading() as db:
            if db is None:
                return None
            row = db.execute(
                "SELECT * FROM recipients WHERE token_sha256 = ?", (_token_hash(token),)
            ).fetchone()
            if row is None:
                return None
            return Addressee(row["address"], row["campaign"], row["lang"], row["layout"])

    def record_skipped(self, campaign: str, skipped: dict[str, str]) -> None:
        """Record a campaign's list entries (address → reason) left out because suppressed."""
        with self._writing() as db:
            db.executemany(
                "INSERT OR IGNORE INTO skipped VALUES (?, ?, ?)",
                [(campaign, address, reason) for address, reason in skipped.items()],
            )

    def skipped(self, campaign: str) -> Counter[str]:
        """How many of a campaign's list entries were left out as suppressed, per reason."""
        with self._reading() as db:
            if db is None:
                return Counter()
            rows = db.execute("SELECT reason FROM skipped WHERE campaign = ?", (campaign,))
            return Counter(row["reason"] for row in rows)

    def feedback(self, campaign: str) -> Feedback:
        """The bounces, complaints and unsubscribes recorded for a campaign (see Feedback)."""
        with self._reading() as db:
            if db is None:
                return Feedback()
            rows = db.execute(
                "SELECT address, reason FROM suppressions WHERE campaign = ? ORDER BY address",
                (campaign,),
            ).fetchall()
            by_reason: dict[str, list[str]] = {}
            for row in rows:
                by_reason.setdefault(row["reason"], []).append(row["address"])
            hard = by_reason.get("hard-bounce", [])
            soft = db.execute(
                "SELECT DISTINCT address FROM soft_bounces WHERE campaign = ? ORDER BY address",
                (campaign,),
            )
            counted = set(hard)
            return Feedback(
                hard_bounced=tuple(hard),
                soft_bounced=tuple(a for (a,) in soft if a not in counted),
                complained=tuple(by_reason.get("complaint", [])),
                unsubscribed=tuple(by_reason.get("unsubscribed", [])),
            )


# -- importing unsubscribes kept elsewhere ---------------------------------------------------


@dataclass
class ImportResult:
    """What ``import_unsubscribes`` did: new suppressions, ones already there, bad rows."""

    added: int = 0
    already: int = 0
    findings: list[Finding] = field(default_factory=list)


def _json_items(text: str, where: str) -> Iterator[tuple[int, object]]:
    """The elements of a top-level JSON array, each with the line it starts on."""
    decoder = json.JSONDecoder()
    ws = re.compile(r"\s*")
    at = ws.match(text, 0).end()  # type: ignore[union-attr]
    if not text.startswith("[", at):
        raise InputError(f"{where}: expected a JSON list of addresses or objects")
    at = ws.match(text, at + 1).end()  # type: ignore[union-attr]
    if text.startswith("]", at):
        return
    while True:
        line = text.count("\n", 0, at) + 1
        try:
            item, at = decoder.raw_decode(text, at)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}:{exc.lineno}: not valid JSON: {exc.msg}") from None
        yield line, item
        at = ws.match(text, at).end()  # type: ignore[union-attr]
        if text.startswith("]", at):
            return
        if not text.startswith(",", at):
            line = text.count("\n", 0, at) + 1
            raise InputError(f"{where}:{line}: not valid JSON: expected ',' or ']'")
        at = ws.match(text, at + 1).end()  # type: ignore[union-attr]


def _rows(path: Path, where: str) -> Iterator[tuple[int, str | None, str | None]]:
    """``(line, address or None, date or None)`` for each entry of a CSV or JSON file."""
    text = decode(path.read_bytes(), where)
    if path.suffix.lower() == ".json" or text.lstrip().startswith("["):
        for line, item in _json_items(text, where):
            if isinstance(item, str):
                yield line, item, None
            elif isinstance(item, dict):
                address = next((item[k] for k in ("email", "address") if k in item), None)
                date = item.get("date")
                yield (
                    line,
                    address if isinstance(address, str) else None,
                    date if isinstance(date, str) else None,
                )
            else:
                yield line, None, None
        return
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower().replace(" ", "_").replace("-", "_") for h in next(reader, [])]
    email_at = next((i for i, h in enumerate(header) if h in EMAIL_HEADERS), None)
    if email_at is None:
        raise InputError(f"{where}:1: no email column (name one 'email')")
    date_at = header.index("date") if "date" in header else None
    start = reader.line_num + 1
    for row in reader:
        if any(cell.strip() for cell in row):
            address = row[email_at] if email_at < len(row) else None
            date = row[date_at] if date_at is not None and date_at < len(row) else None
            yield start, address, date
        start = reader.line_num + 1


def import_unsubscribes(
    path: Path, suppressions: SuppressionList, shown: str | None = None
) -> ImportResult:
    """Suppress (``unsubscribed``) every address in a CSV (``email`` column) or JSON list.

    JSON: a list of addresses, or of objects with ``email`` (or ``address``) and optionally
    ``date`` (ISO 8601). CSV may have a ``date`` column too. A bad row is a finding and skipped.
    """
    where = shown or str(path)
    result = ImportResult()
    for line, address, date in _rows(path, where):
        if not address or not address.strip():
            result.findings.append(Finding(where, line, "no email address: skipped"))
            continue
        try:
            validate_email(address.strip(), check_deliverability=False, allow_smtputf8=True)
        except EmailNotValidError as exc:
            shown_address = address.strip()[:80]
            result.findings.append(
                Finding(where, line, f"'{shown_address}' is not a valid address: {exc}: skipped")
            )
            continue
        when = None
        if date and date.strip():
            try:
                when = dt.datetime.fromisoformat(date.strip())
            except ValueError:
                result.findings.append(
                    Finding(where, line, f"date '{date.strip()[:40]}' is not ISO 8601: skipped")
                )
                continue
            when = when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when
        if suppressions.add(
            address, "unsubscribed", detail=f"imported from {where}:{line}", when=when
        ):
            result.added += 1
        else:
            result.already += 1
    return result
