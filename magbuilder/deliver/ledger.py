"""The send ledger: one SQLite file per campaign recording each recipient's delivery state.

States: ``pending`` (not yet accepted), ``sent`` (the server accepted it; its reply is kept),
``failed`` (a transient 4xx, or a connection lost before the message was complete: reason,
attempts, next retry), ``refused`` (a permanent 5xx: never retried) and ``in_doubt`` (the whole
message went to the server but no answer came back: it may or may not have arrived, so it is
sent again only when the editor asks, ``send --resend-in-doubt``).

Durability: WAL journal with ``synchronous=FULL``, and every outcome is its own committed (and
synced) transaction, made *before* the next message is started. A recipient is marked
``in_flight``, fully synced, once the server is ready for the data and before the first byte of
the message leaves; the outcome clears the mark, and ``sent`` is recorded only after the server
answered 250 to the end of the data.

So a process that dies at any moment leaves at most one recipient in flight, and only one whose
message may have reached the server: the next run settles it as ``in_doubt`` (see
:meth:`Ledger.settle_in_flight`) instead of sending it again. Dying before the mark is harmless:
the message had not left, and is sent as usual.

Editions: the in-flight mark also records the language of the edition being handed over
(``edition``), in the same statement, so it costs no commit of its own and is on the disk before
any outcome: a ``sent`` (or ``in_doubt``) recipient's edition is the one the server was given.
Rows of a ledger made before the column existed (format 2 or 1) have none (``None``).
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import functools
import os
import re
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from ..errors import InputError

STATES = ("pending", "sent", "failed", "refused", "in_doubt")
# 2 added the in_doubt state, 3 the recipients' edition; an older ledger is upgraded when sending
SCHEMA_VERSION = 3
READABLE_VERSIONS = (1, 2, SCHEMA_VERSION)
T = TypeVar("T")
# Each outcome counts the attempt it ends (so does settling one cut short in flight): one
# statement a message fewer than counting it up front, and an attempt killed before its data
# left, which changed nothing, is simply not counted.
COUNTED = ", attempts = attempts + 1"
IN_FLIGHT_REASON = "an earlier run stopped while handing this message to the server"
SCHEMA = """
CREATE TABLE IF NOT EXISTS campaign (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    issue_id TEXT NOT NULL,
    number INTEGER NOT NULL,      -- 1 for an issue's first campaign, then 2, 3 … (forced)
    digest TEXT NOT NULL,         -- SHA-256 of the newsletter as rendered for this campaign
    subject TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS recipients (
    key TEXT PRIMARY KEY,         -- the normalised (lower-case) address
    address TEXT NOT NULL,        -- the address as sent
    state TEXT NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'sent', 'failed', 'refused', 'in_doubt')),
    attempts INTEGER NOT NULL DEFAULT 0,
    in_flight INTEGER NOT NULL DEFAULT 0,  -- 1 from the first byte of the data to the outcome
    reply TEXT,                   -- the server's reply (sent, refused), or why failed / in doubt
    next_retry TEXT,              -- failed only: when to try again (UTC, ISO 8601)
    updated TEXT NOT NULL,
    edition TEXT                  -- the language of the edition last handed over (NULL: none
                                  -- yet, or a row from before format 3, added by ALTER TABLE)
);
CREATE INDEX IF NOT EXISTS recipients_state ON recipients (state);
"""


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Campaign:
    """The campaign row: which issue, which attempt at it, and the content it started with."""

    issue_id: str
    number: int
    digest: str
    subject: str
    created: str


@dataclass(frozen=True)
class Recipient:
    """One recipient row of the ledger."""

    key: str
    address: str
    state: str
    attempts: int
    in_flight: bool
    reply: str | None
    next_retry: str | None
    updated: str
    # The language of the edition last handed over to the server (with the in-flight mark);
    # None before any hand-over, or for a row of a ledger older than format 3.
    edition: str | None = None

    @property
    def next_retry_at(self) -> dt.datetime | None:
        return dt.datetime.fromisoformat(self.next_retry) if self.next_retry else None


def campaign_path(folder: Path, issue_id: str, number: int) -> Path:
    """``<folder>/<issue id>.<number>.sqlite``."""
    return folder / f"{issue_id}.{number}.sqlite"


def find_campaigns(folder: Path, issue_id: str) -> list[tuple[int, Path]]:
    """The issue's campaign files in ``folder``, oldest first."""
    if not folder.is_dir():
        return []
    found = []
    pattern = re.compile(rf"^{re.escape(issue_id)}\.(\d+)\.sqlite$")
    for path in folder.iterdir():
        if match := pattern.match(path.name):
            found.append((int(match.group(1)), path))
    return sorted(found)


@contextmanager
def exclusive(folder: Path, issue_id: str) -> Iterator[None]:
    """Hold the issue's send lock: two senders on one campaign would send twice."""
    folder.mkdir(parents=True, exist_ok=True)
    lock_path = folder / f"{issue_id}.lock"
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            other = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise InputError(
                f"another 'magbuilder send' for issue {issue_id} is running (process {other}): "
                "wait for it to finish or stop it first"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock; the file stays (removing it would race another sender)


def _has_edition(db: sqlite3.Connection) -> bool:
    """Whether the ledger's recipients have the ``edition`` column (format 3 on)."""
    return any(row[1] == "edition" for row in db.execute("PRAGMA table_info(recipients)"))


def _serialised(method: Callable[..., T]) -> Callable[..., T]:
    """One method at a time on the ledger's connection: several threads send for one campaign,
    and a method's statements (a sync level set around an update, a transaction) go together."""

    @functools.wraps(method)
    def serialised(self: Ledger, *args: Any, **kwargs: Any) -> T:
        with self._lock:
            return method(self, *args, **kwargs)

    return serialised


class Ledger:
    """A campaign's ledger file. Each method that changes state commits before returning.

    Safe to share between threads (a run's SMTP connections): its methods run one at a time.
    """

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self._db = connection
        self._lock = threading.RLock()

    # -- opening ---------------------------------------------------------------------------

    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        # Autocommit statements; one connection shared by a run's SMTP connections (threads),
        # each method holding the ledger's lock (see _serialised).
        db = sqlite3.connect(path, isolation_level=None, timeout=10, check_same_thread=False)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")  # a committed mark survives power loss too
        return db

    @classmethod
    def create(cls, path: Path, *, issue_id: str, number: int, digest: str, subject: str) -> Ledger:
        """A new campaign file (refuses to overwrite one).

        Built under a temporary name and renamed into place, so a campaign file is never half made.
        """
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            raise InputError(f"{path}: a campaign ledger already exists")
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.unlink(missing_ok=True)
        # Subscriber addresses are personal data: readable by the owner only.
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        try:
            db = cls._connect(tmp)
            now = _now()
            db.execute("BEGIN IMMEDIATE")
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute(
                "INSERT INTO campaign VALUES (1, ?, ?, ?, ?, ?, ?)",
                (issue_id, number, digest, subject, now, now),
            )
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.execute("COMMIT")
            db.close()  # checkpoints and removes the -wal file, so the rename moves everything
            os.replace(tmp, path)
        except BaseException:
            for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
                leftover.unlink(missing_ok=True)
            raise
        return cls.open(path)

    @classmethod
    def open(cls, path: Path, *, upgrade: bool = True) -> Ledger:
        """An existing campaign file; an older format is upgraded unless ``upgrade`` is false.

        Formats 1 and 2 lack only the ``in_doubt`` state (1) and the ``edition`` column (both),
        so reading them (``--status``, the sponsor report) needs no upgrade: their rows read as
        of no known edition, and the file is left as it is.
        """
        if not path.is_file():
            raise InputError(f"{path}: no such ledger file")
        db = cls._connect(path)
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version not in READABLE_VERSIONS:
            db.close()
            raise InputError(
                f"{path}: ledger format {version} is not the supported {SCHEMA_VERSION}: "
                "use the magbuilder version that created it"
            )
        if upgrade and version != SCHEMA_VERSION:
            try:
                cls._upgrade(db, version)
            except BaseException:
                db.close()
                raise
        return cls(path, db)

    @staticmethod
    def _upgrade(db: sqlite3.Connection, version: int) -> None:
        """Bring a format 1 or 2 ledger to the current one, in one transaction.

        Format 1 lacks the ``in_doubt`` state: SQLite cannot change a CHECK, so the table is
        rebuilt (with the ``edition`` column). Format 2 lacks only ``edition``: the column is
        added. Either way the rows already there have no edition (NULL: not known). A row left
        in flight stays so: it is settled as in doubt like any other.
        """
        db.execute("BEGIN IMMEDIATE")
        try:
            if version == 1:
                db.execute("ALTER TABLE recipients RENAME TO recipients_v1")
                db.execute("DROP INDEX IF EXISTS recipients_state")
                for statement in SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                columns = "key, address, state, attempts, in_flight, reply, next_retry, updated"
                db.execute(
                    f"INSERT INTO recipients ({columns}) "
                    f"SELECT {columns} FROM recipients_v1 ORDER BY rowid"
                )
                db.execute("DROP TABLE recipients_v1")
            elif not _has_edition(db):
                db.execute("ALTER TABLE recipients ADD COLUMN edition TEXT")
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    @_serialised
    def close(self) -> None:
        self._db.close()

    @contextmanager
    def snapshot(self) -> Iterator[Ledger]:
        """Reads that agree with each other: within it, every method that reads sees the ledger
        as it was at the first read, whatever a running sender commits meanwhile. For reading
        only; other threads using this ledger wait until it ends."""
        with self._lock:
            self._db.execute("BEGIN")
            try:
                yield self
            finally:
                self._db.execute("COMMIT")

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- campaign ----------------------------------------------------------------------------

    @property
    @_serialised
    def campaign(self) -> Campaign:
        row = self._db.execute(
            "SELECT issue_id, number, digest, subject, created FROM campaign"
        ).fetchone()
        return Campaign(**dict(row))

    @_serialised
    def set_digest(self, digest: str, subject: str) -> None:
        """Record new content (only allowed while nothing has been sent: the caller checks)."""
        self._db.execute(
            "UPDATE campaign SET digest = ?, subject = ?, updated = ?", (digest, subject, _now())
        )

    # -- recipients --------------------------------------------------------------------------

    @_serialised
    def add(self, recipients: Iterable[tuple[str, str]]) -> int:
        """Add ``(key, address)`` pairs not yet in the ledger as pending; returns how many."""
        now = _now()
        before = self._db.total_changes
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.executemany(
                "INSERT OR IGNORE INTO recipients (key, address, updated) VALUES (?, ?, ?)",
                ((key, address, now) for key, address in recipients),
            )
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        return self._db.total_changes - before

    @_serialised
    def recipients(self, state: str | None = None) -> list[Recipient]:
        """Every recipient (or those in one state), in the order they were added."""
        query = "SELECT * FROM recipients"
        args: tuple[str, ...] = ()
        if state:
            query += " WHERE state = ?"
            args = (state,)
        rows = self._db.execute(query + " ORDER BY rowid", args).fetchall()
        return [Recipient(**{**dict(r), "in_flight": bool(r["in_flight"])}) for r in rows]

    @_serialised
    def get(self, key: str) -> Recipient | None:
        row = self._db.execute("SELECT * FROM recipients WHERE key = ?", (key,)).fetchone()
        return Recipient(**{**dict(row), "in_flight": bool(row["in_flight"])}) if row else None

    @_serialised
    def counts(self) -> dict[str, int]:
        """How many recipients are in each state (every state listed, zeros included)."""
        counts = dict.fromkeys(STATES, 0)
        for state, count in self._db.execute(
            "SELECT state, COUNT(*) FROM recipients GROUP BY state"
        ):
            counts[state] = count
        return counts

    @_serialised
    def delivered_per_edition(self) -> dict[str | None, int]:
        """How many recipients the server accepted the message for (``sent``, and not in flight
        again), per edition language; ``None`` counts those of no known edition (rows of a
        ledger older than format 3). Only editions with recipients are listed."""
        edition = "edition" if _has_edition(self._db) else "NULL"
        rows = self._db.execute(
            f"SELECT {edition}, COUNT(*) FROM recipients WHERE state = 'sent' AND NOT in_flight "
            f"GROUP BY 1 ORDER BY 1"
        )
        return {lang: count for lang, count in rows}

    @_serialised
    def in_flight(self) -> list[Recipient]:
        """Recipients whose message was being handed over (now, or when a run stopped)."""
        rows = self._db.execute("SELECT * FROM recipients WHERE in_flight ORDER BY rowid")
        return [Recipient(**{**dict(r), "in_flight": True}) for r in rows]

    @_serialised
    def settle_in_flight(self) -> list[Recipient]:
        """Mark in doubt every recipient an earlier run left in flight; returns them.

        Only the sender holding the issue's lock may call this: for any other, the recipient in
        flight may be the message a running sender is handing over right now.
        """
        settled = self.in_flight()
        for row in settled:
            self.mark_in_doubt(row.key, IN_FLIGHT_REASON)
        return [r for r in (self.get(row.key) for row in settled) if r]

    def handing_over(self, key: str, edition: str | None = None) -> None:
        """Mark the recipient in flight: the server is ready for the data, none has left yet;
        ``edition`` is the language of the edition being handed over (kept with the outcome).

        Fully synced before it returns, because from the next moment on the server may accept
        the message: a mark lost to a power cut would let the next run send it a second time.
        The edition goes in the same statement: no commit of its own.
        """
        self._update(key, "in_flight = 1, edition = ?", edition)

    def mark_sent(self, key: str, reply: str) -> None:
        """The server accepted the message (call only after its 250 to the data)."""
        self._update(
            key, "state = 'sent', in_flight = 0, reply = ?, next_retry = NULL" + COUNTED, reply
        )

    def mark_failed(self, key: str, reason: str, next_retry: dt.datetime) -> None:
        """A transient failure: try again at ``next_retry`` (UTC)."""
        when = next_retry.astimezone(dt.UTC).isoformat(timespec="seconds")
        self._update(
            key,
            "state = 'failed', in_flight = 0, reply = ?, next_retry = ?" + COUNTED,
            reason,
            when,
        )

    def mark_refused(self, key: str, reply: str) -> None:
        """A permanent refusal (5xx): never retried."""
        self._update(
            key, "state = 'refused', in_flight = 0, reply = ?, next_retry = NULL" + COUNTED, reply
        )

    def mark_in_doubt(self, key: str, reason: str) -> None:
        """The server may or may not have accepted it: never sent again unless the editor asks."""
        self._update(
            key, "state = 'in_doubt', in_flight = 0, reply = ?, next_retry = NULL" + COUNTED, reason
        )

    def release(self, key: str) -> None:
        """The message certainly did not reach its end (e.g. no server to hand it to)."""
        self._update(key, "in_flight = 0")

    @_serialised
    def _update(self, key: str, assignments: str, *args: str | None) -> None:
        cursor = self._db.execute(
            f"UPDATE recipients SET {assignments}, updated = ? WHERE key = ?",
            (*args, _now(), key),
        )
        if cursor.rowcount != 1:
            raise KeyError(key)
