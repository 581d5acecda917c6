"""Importing bounces and complaints: reports from files, mailboxes and IMAP become suppressions.

Sources (``read_source``): an mbox file, a Maildir folder, a file of saved webhook JSON or one
message (``.eml``), a folder of such files, or ``imap[s]://user@host[:port]/MAILBOX``.
Each report names the original Message-ID and/or the recipient (``feedback.py``); the
Message-ID is matched to a campaign's recipient by recomputing the Message-ID of every
recipient in every campaign ledger of the project (``CampaignIndex``). Effects: a hard bounce
or a complaint suppresses the address at once; a soft bounce is counted and suppresses it at
the ``soft_limit``-th. Each notice is imported once: its fingerprint is kept in
``subscribers/imported-reports.sqlite3``, so running again over the same files changes nothing.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..content import Issue
from ..manifest import read_issue
from ..render.mime import message_id
from .campaign import campaign_folder
from .feedback import KIND_NAMES, Notice, Parsed, Unusable, read_json, read_message
from .ledger import Ledger, find_campaigns
from .mailboxes import MAX_ITEM_BYTES, Item, SourceError, read_source
from .suppression import STORE_FOLDER, SuppressionList, campaign_label, suppression_key

log = logging.getLogger(__name__)

DEFAULT_SOFT_LIMIT = 3
IMPORTED_NAME = "imported-reports.sqlite3"


@dataclass(frozen=True)
class Outcome:
    """What a notice did: to which address, for which campaign (None: unmatched)."""

    notice: Notice
    address: str
    campaign: str | None
    suppressed: bool = False  # a soft bounce that reached the limit now


@dataclass
class ImportResult:
    """Every notice's outcome, and what was skipped or ignored, for the summary."""

    hard: list[Outcome] = field(default_factory=list)
    soft: list[Outcome] = field(default_factory=list)
    complaints: list[Outcome] = field(default_factory=list)
    already: list[Outcome] = field(default_factory=list)  # already suppressed: nothing changed
    repeated: list[Notice] = field(default_factory=list)  # imported by an earlier run
    skipped: list[tuple[str, str]] = field(default_factory=list)
    ignored: list[tuple[str, str]] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (source, why)

    @property
    def unmatched(self) -> list[Outcome]:
        every = self.hard + self.soft + self.complaints + self.already
        return [o for o in every if o.campaign is None]

    @property
    def exit_code(self) -> int:
        """1 only when a source could not be read: skipped items are named, not failures."""
        return 1 if self.unreadable else 0


# -- sources ----------------------------------------------------------------------------------


def parse_item(item: Item) -> Parsed:
    """An item's notices; Unusable when it holds none that can be read."""
    if len(item.raw) > MAX_ITEM_BYTES:
        raise Unusable(f"{len(item.raw):,} bytes: too large for a report")
    head = item.raw.lstrip()[:1]
    if head in (b"{", b"["):
        return read_json(item.raw, item.where)
    fingerprint = hashlib.sha256(item.raw.replace(b"\r\n", b"\n")).hexdigest()
    return read_message(item.raw, item.where, fingerprint)


# -- matching ---------------------------------------------------------------------------------


class CampaignIndex:
    """Message-ID → (address, campaign) for every recipient of every campaign in the project.

    Built on first use by recomputing each recipient's Message-ID as ``messages.py`` made it:
    the subscriber key for campaign 1, ``key/campaign-N`` for a forced campaign N.
    """

    def __init__(self, root: Path, state_dir: Path | None = None) -> None:
        self.root = root
        self.state_dir = state_dir
        self._ids: dict[str, tuple[str, str]] | None = None

    def find(self, msg_id: str | None) -> tuple[str, str] | None:
        """The recipient's address and campaign label (``2026-12``, ``2026-12/campaign-2``)."""
        if not msg_id:
            return None
        if self._ids is None:
            self._ids = self._build()
        return self._ids.get(msg_id.lower())

    def _build(self) -> dict[str, tuple[str, str]]:
        ids: dict[str, tuple[str, str]] = {}
        for manifest in sorted((self.root / "issues").glob("*.yaml")):
            loaded = read_issue(manifest)
            if loaded.manifest is None:
                log.warning(
                    "%s: not read (invalid manifest): its campaigns cannot be matched", loaded.where
                )
                continue
            # Message-IDs need only the manifest: a review that no longer loads does not matter.
            issue = loaded.issue or Issue(
                manifest=loaded.manifest, sections=[], root=loaded.root, manifest_path=loaded.path
            )
            folder = campaign_folder(self.root, issue.id, self.state_dir)
            for number, path in find_campaigns(folder, issue.id):
                with Ledger.open(path, upgrade=False) as ledger:
                    label = campaign_label(issue.id, number)
                    for r in ledger.recipients():
                        key = r.key if number <= 1 else f"{r.key}/campaign-{number}"
                        ids[message_id(issue, key).lower()] = (r.address, label)
        return ids


# -- remembering what was imported ------------------------------------------------------------


class ImportedReports:
    """The fingerprints of notices already imported: a second run over a file changes nothing."""

    def __init__(self, root: Path) -> None:
        self.path = root / STORE_FOLDER / IMPORTED_NAME

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():  # it names where addresses bounced: owner only
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(
            "CREATE TABLE IF NOT EXISTS imported (fingerprint TEXT PRIMARY KEY, "
            "address TEXT NOT NULL, kind TEXT NOT NULL, date TEXT NOT NULL DEFAULT "
            "(strftime('%Y-%m-%dT%H:%M:%SZ', 'now')))"
        )
        return db

    def seen(self, fingerprint: str) -> bool:
        if not self.path.exists():
            return False
        with _closing(self._connect()) as db:
            row = db.execute("SELECT 1 FROM imported WHERE fingerprint = ?", (fingerprint,))
            return row.fetchone() is not None

    def add(self, notice: Notice, address: str) -> None:
        with _closing(self._connect()) as db:
            db.execute(
                "INSERT OR IGNORE INTO imported (fingerprint, address, kind) VALUES (?, ?, ?)",
                (notice.fingerprint, suppression_key(address), notice.kind),
            )


class _closing:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        return self.db

    def __exit__(self, *exc: object) -> None:
        self.db.close()


# -- the import -------------------------------------------------------------------------------


def import_bounces(
    sources: list[str],
    root: Path,
    *,
    soft_limit: int = DEFAULT_SOFT_LIMIT,
    dry_run: bool = False,
    state_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> ImportResult:
    """Read every source and apply its notices to the project's suppression list.

    With ``dry_run`` nothing is written (the list, the imported fingerprints, IMAP flags).
    """
    if soft_limit < 1:
        raise ValueError("the soft-bounce limit must be at least 1")
    env = os.environ if environ is None else environ
    result = ImportResult()
    suppressions = SuppressionList.for_project(root)
    imported = ImportedReports(root)
    index = CampaignIndex(root, state_dir)
    done_now: set[str] = set()
    for source in sources:
        try:
            for item in read_source(source, env, dry_run=dry_run):
                ok = _import_item(item, result, suppressions, imported, index, done_now,
                                  soft_limit=soft_limit, dry_run=dry_run)  # fmt: skip
                if item.done:
                    item.done(ok)
        except SourceError as exc:
            result.unreadable.append((source, str(exc)))
    return result


def _import_item(
    item: Item,
    result: ImportResult,
    suppressions: SuppressionList,
    imported: ImportedReports,
    index: CampaignIndex,
    done_now: set[str],
    *,
    soft_limit: int,
    dry_run: bool,
) -> bool:
    """Parse and apply one item; False when any of it was skipped."""
    try:
        parsed = parse_item(item)
    except Unusable as exc:
        result.skipped.append((item.where, str(exc)))
        return False
    except Exception as exc:  # a parser bug on hostile input must not stop the whole import
        log.debug("%s: unexpected error", item.where, exc_info=True)
        result.skipped.append((item.where, f"unreadable ({type(exc).__name__}: {exc})"))
        return False
    result.skipped.extend(parsed.skipped)
    result.ignored.extend(parsed.ignored)
    ok = not parsed.skipped
    for notice in parsed.notices:
        match = index.find(notice.message_id)
        address, campaign = match if match else (notice.recipient, None)
        if address is None:
            result.skipped.append((notice.where, _no_recipient(notice)))
            ok = False
            continue
        if notice.fingerprint in done_now or imported.seen(notice.fingerprint):
            result.repeated.append(notice)
            continue
        done_now.add(notice.fingerprint)
        _apply(notice, address, campaign, result, suppressions, soft_limit, dry_run)
        if not dry_run:
            imported.add(notice, address)
    return ok


def _no_recipient(notice: Notice) -> str:
    return (
        f"names no recipient, and its Message-ID {notice.message_id} was not sent by a "
        "campaign of this project"
    )


def _apply(
    notice: Notice,
    address: str,
    campaign: str | None,
    result: ImportResult,
    suppressions: SuppressionList,
    soft_limit: int,
    dry_run: bool,
) -> None:
    outcome = Outcome(notice, address, campaign)
    label = f"{notice.where}: {KIND_NAMES[notice.kind]}: {address}"
    label += f" (campaign {campaign})" if campaign else " (unmatched)"
    if (existing := suppressions.get(address)) is not None:
        log.info("%s: already suppressed (%s)", label, existing.describe())
        result.already.append(outcome)
        return
    if notice.kind == "soft":
        now = False
        if not dry_run:
            now = suppressions.record_soft_bounce(
                address, campaign=campaign, detail=notice.detail, threshold=soft_limit
            )
        log.info("%s: %s%s", label, notice.detail, "; suppressed" if now else "")
        result.soft.append(Outcome(notice, address, campaign, suppressed=now))
        return
    reason = "hard-bounce" if notice.kind == "hard" else "complaint"
    added = dry_run or suppressions.add(address, reason, campaign=campaign, detail=notice.detail)
    if not added:  # suppressed meanwhile (the unsubscribe app, another import)
        result.already.append(outcome)
        return
    log.info("%s: %s; suppressed", label, notice.detail)
    (result.hard if notice.kind == "hard" else result.complaints).append(outcome)


# -- the report -------------------------------------------------------------------------------


def format_summary(result: ImportResult, *, soft_limit: int, dry_run: bool) -> str:
    """The counts for stdout, then the unmatched notices, one per line."""
    reached = sum(o.suppressed for o in result.soft)
    rows = [
        ("hard bounces", len(result.hard), "suppressed"),
        ("soft bounces", len(result.soft), f"counted; {reached} hit {soft_limit}: suppressed"),
        ("complaints", len(result.complaints), "suppressed"),
        ("already suppressed", len(result.already), "nothing changed"),
        ("unmatched", len(result.unmatched), "no campaign here sent them: suppressed by address"),
        ("ignored", len(result.ignored), "delays, deliveries and other notices that are no bounce"),
        ("seen before", len(result.repeated), "imported by an earlier run: not counted again"),
        ("skipped", len(result.skipped), "unreadable: see the lines above"),
    ]
    head = "bounces import" + (" (dry run: nothing was changed)" if dry_run else "")
    if result.unreadable:
        rows.append(("unreadable sources", len(result.unreadable), "see the lines above"))
    lines = [head] + [f"  {name:<19}{count:>5}  {note}" for name, count, note in rows]
    if result.unmatched:
        lines.append("unmatched (no campaign of this project sent the reported message):")
        width = max(len(o.address) for o in result.unmatched)
        lines += [
            f"  {o.address:<{width}}  {KIND_NAMES[o.notice.kind]:<11}  {o.notice.where}"
            for o in result.unmatched
        ]
    return "\n".join(lines)
