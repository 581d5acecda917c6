"""Sending an issue's newsletter to its subscribers: the test copy, the dry run and the campaign.

A campaign sends over one or more SMTP connections (``sending.py``), at most ``rate`` a second
between them, recording each recipient's state in the ledger before the connection takes the
next; running it again resumes where it stopped. Transient
failures are retried with exponential back-off, permanent refusals are recorded and left alone.
A message whose fate is unknown (its data went out, no reply came, or the sender died meanwhile)
is recorded *in doubt* and named, and sent again only with ``resend_in_doubt``: nobody gets a
second copy unless the editor chose it.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, TextIO

from email_validator import EmailNotValidError, validate_email

from ..errors import InputError, MagbuilderError, UsageError
from ..paths import shown
from .ledger import (
    IN_FLIGHT_REASON,
    Ledger,
    Recipient,
    campaign_path,
    exclusive,
    find_campaigns,
)
from .messages import CampaignContent, load_content
from .sending import NOT_AGAIN, send_run
from .smtp import Delivery, Mailer, SmtpSettings
from .stopping import StopFlag
from .subscribers import Subscriber, SubscriberList, read_subscribers, report_findings
from .suppression import REASONS, Addressee, SuppressionList, campaign_label
from .tokens import make_token, secret_from_env

log = logging.getLogger(__name__)

DEFAULT_RATE = 5.0  # messages a second: what shared relays and small MTAs accept without throttling
MAX_CONNECTIONS = 32  # relays limit connections per client far below this (often 2 to 10)
DEFAULT_MAX_ATTEMPTS = 5  # per recipient and run, for transient (4xx) failures
DEFAULT_RETRY_DELAY = 30.0  # seconds before the first retry; doubles each attempt
MAX_RETRY_DELAY = 900.0


class SendIncomplete(MagbuilderError):
    """Raised by the ``send`` command when a run ends with work left (stopped, or failing)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class SendOptions:
    """How to send: the list, the server and the safety limits (see ``magbuilder send --help``)."""

    subscribers: Path | None = None
    smtp: SmtpSettings | None = None
    test_address: str | None = None
    dry_run: Path | None = None
    rate: float = DEFAULT_RATE
    state_dir: Path | None = None
    force_new_campaign: bool = False
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    retry_delay: float = DEFAULT_RETRY_DELAY
    max_retry_delay: float = MAX_RETRY_DELAY
    resend_in_doubt: bool = False  # send once more to those in doubt (they may get it twice)
    connections: int = 1  # SMTP connections at once; the rate limit is shared between them


@dataclass
class SendResult:
    """What a send did: per-state counts of the campaign and the addresses that did not get it."""

    kind: Literal["send", "test", "dry-run"]
    issue_id: str
    ledger: Path | None = None
    campaign: int | None = None
    counts: dict[str, int] = field(default_factory=dict)
    failed: list[Recipient] = field(default_factory=list)
    refused: list[Recipient] = field(default_factory=list)
    in_doubt: list[Recipient] = field(default_factory=list)  # on the list, fate unknown
    sent_now: int = 0
    written: list[Path] = field(default_factory=list)
    test_to: str | None = None
    test_reply: Delivery | None = None
    stopped_by: str | None = None  # "SIGINT", "SIGTERM" or None
    abandoned: bool = False  # a second signal cut the message in hand short
    abandoned_in_doubt: bool = False  # … after its data had started to go out: now in doubt
    retry_left: int = 0  # transient failures whose attempts this run ran out
    seconds: float = 0.0  # from the first connection opened to the last closed
    exit_code: int = 0
    # list entries left out because the project's suppression list has them: reason → count
    suppressed: dict[str, int] = field(default_factory=dict)
    # an issue with language editions: edition → how many on the list get it
    editions: dict[str, int] = field(default_factory=dict)


def campaign_folder(root: Path, issue_id: str, state_dir: Path | None = None) -> Path:
    """Where an issue's campaign ledgers live: ``--state-dir``, else ``build/<id>/campaigns``.

    The default is anchored at the project folder (``<project>/build``), not the working
    directory, so a run started elsewhere still finds (and resumes) the same ledger.
    """
    return Path(state_dir) if state_dir else root / "build" / issue_id / "campaigns"


def _shown(path: Path, content: CampaignContent) -> str:
    return shown(path, content.issue.root) if path.is_absolute() else str(path)


# -- entry points ------------------------------------------------------------------------------


def send_issue(
    manifest: Path | str,
    options: SendOptions,
    *,
    environ: Mapping[str, str] | None = None,
    stop: StopFlag | None = None,
    progress_stream: TextIO | None = None,
) -> SendResult:
    """Send (or test, or dry-run) an issue's newsletter; see :class:`SendOptions`.

    Raises InputError (bad list, missing secret, changed content), UsageError and SmtpFatalError.
    """
    if options.test_address and options.dry_run:
        raise UsageError("--test and --dry-run do not go together: choose one")
    if not options.test_address and not options.subscribers:
        raise UsageError("--subscribers FILE is required (except with --test or --status)")
    if not options.dry_run and options.smtp is None:
        raise UsageError("--smtp URL is required to send (or use --dry-run DIR)")
    if options.rate < 0 or options.max_attempts < 1 or options.retry_delay < 0:
        raise UsageError("--rate and --retry-delay must be ≥ 0, --max-attempts ≥ 1")
    if not 1 <= options.connections <= MAX_CONNECTIONS:
        raise UsageError(f"--connections must be between 1 and {MAX_CONNECTIONS}")
    if options.resend_in_doubt and (options.test_address or options.dry_run):
        raise UsageError(
            "--resend-in-doubt applies to sending to the list, not --test or --dry-run"
        )
    secret = secret_from_env(environ)  # before anything else: no secret, no start
    content = load_content(manifest, secret)
    subscribers = None
    if options.subscribers:
        where = str(options.subscribers)
        subscribers = read_subscribers(options.subscribers, shown=where)
        report_findings(subscribers)
    stop = stop or StopFlag()
    if options.test_address:  # the editor's own copy: the suppression list does not apply
        return _send_test(content, subscribers, options)
    assert subscribers is not None
    suppressions = SuppressionList.for_project(content.issue.root)
    subscribers, suppressed = without_suppressed(subscribers, suppressions)
    if options.dry_run:
        result = _dry_run(content, subscribers, options.dry_run)
    else:
        result = _send_campaign(content, subscribers, options, stop, progress_stream, suppressed)
    result.suppressed = dict(Counter(suppressed.values()))
    return result


SUPPRESSED_NAMED = 20  # suppressed list entries named one by one; the rest are counted


def without_suppressed(
    subscribers: SubscriberList, suppressions: SuppressionList
) -> tuple[SubscriberList, dict[str, str]]:
    """The list without the addresses the suppression list has, and those (address → reason).

    Each left-out entry is named on stderr (the first ``SUPPRESSED_NAMED``), then one line counts
    them by reason. Never raises for an empty remainder: sending to nobody is a valid outcome.
    """
    found = suppressions.lookup([s.key for s in subscribers.subscribers])
    if not found:
        return subscribers, {}
    kept, left_out = [], {}
    for subscriber in subscribers.subscribers:
        entry = found.get(subscriber.key)
        if entry is None:
            kept.append(subscriber)
            continue
        left_out[subscriber.key] = entry.reason
        if len(left_out) <= SUPPRESSED_NAMED:
            log.warning(
                "%s:%d: warning: '%s' is suppressed (%s): not sent",
                subscribers.path,
                subscriber.line,
                subscriber.email,
                entry.describe(),
            )
    if len(left_out) > SUPPRESSED_NAMED:
        log.warning(
            "%s: … and %d more suppressed addresses, not sent "
            "(magbuilder subscribers status %s names them with --verbose)",
            subscribers.path,
            len(left_out) - SUPPRESSED_NAMED,
            subscribers.path,
        )
    log.warning("%s: %s", subscribers.path, suppressed_summary(Counter(left_out.values())))
    return replace(subscribers, subscribers=kept), left_out


def suppressed_summary(counts: Mapping[str, int]) -> str:
    """``3 suppressed, not sent: 1 unsubscribed, 1 hard-bounce, 1 complaint``."""
    total = sum(counts.values())
    per = ", ".join(f"{counts[r]} {r}" for r in REASONS if counts.get(r))
    return f"{total} suppressed, not sent: {per}" if total else "none suppressed"


# -- test copy and dry run -----------------------------------------------------------------------


def _send_test(
    content: CampaignContent, subscribers: SubscriberList | None, options: SendOptions
) -> SendResult:
    """One copy marked [TEST] to ``--test ADDRESS``; the ledger is not touched."""
    try:
        valid = validate_email(
            options.test_address or "", check_deliverability=False, allow_smtputf8=False
        )
    except EmailNotValidError as exc:
        raise UsageError(
            f"--test: '{options.test_address}' is not a valid address: {exc}"
        ) from None
    address = valid.ascii_email or valid.normalized
    subscriber = (subscribers.find(address) if subscribers else None) or Subscriber(address)
    message = content.message(subscriber, test=True)
    assert options.smtp is not None
    with Mailer(options.smtp) as mailer:
        outcome = mailer.send(content.sender, subscriber.email, message)
    return SendResult(
        "test",
        content.issue.id,
        test_to=subscriber.email,
        test_reply=outcome,
        exit_code=0 if outcome.status == "sent" else 1,
    )


def _eml_name(index: int, width: int, address: str) -> str:
    return f"{index:0{width}d}-{re.sub(r'[^A-Za-z0-9@._+-]', '_', address)}.eml"


def _dry_run(content: CampaignContent, subscribers: SubscriberList, folder: Path) -> SendResult:
    """Write every subscriber's message as an .eml file in ``folder``; nothing is sent."""
    folder.mkdir(parents=True, exist_ok=True)
    width = len(str(len(subscribers.subscribers)))
    written = []
    for index, subscriber in enumerate(subscribers.subscribers, start=1):
        path = folder / _eml_name(index, width, subscriber.email)
        path.write_bytes(content.message(subscriber))
        written.append(path)
    result = SendResult("dry-run", content.issue.id, written=written)
    result.editions = per_edition(content, subscribers)
    return result


def per_edition(content: CampaignContent, subscribers: SubscriberList) -> dict[str, int]:
    """How many on the list get each edition (every edition named, zeros too)."""
    counts = Counter(content.edition_of(s) for s in subscribers.subscribers)
    return {lang: counts[lang] for lang in content.languages}


# -- the campaign ----------------------------------------------------------------------------


def _open_campaign(folder: Path, content: CampaignContent, force_new: bool) -> Ledger:
    """Resume the latest campaign, or start one; refuse to resume with changed content."""
    issue = content.issue
    campaigns = find_campaigns(folder, issue.id)
    if campaigns and not force_new:
        number, path = campaigns[-1]
        ledger = Ledger.open(path)
        started = ledger.campaign
        if started.digest == content.digest:
            return ledger
        counts = ledger.counts()
        # In doubt or in flight, a message may be in a mailbox as surely as a sent one.
        doubtful = counts["in_doubt"] + sum(r.state != "in_doubt" for r in ledger.in_flight())
        handed = counts["sent"] + counts["refused"] + doubtful
        if not handed:  # nothing went out yet: the new content simply replaces the old
            ledger.set_digest(content.digest, content.subject)
            log.info("the newsletter changed before anything was sent: campaign %d updated", number)
            return ledger
        ledger.close()
        total = sum(counts.values())
        in_doubt = f", {doubtful} in doubt" if doubtful else ""
        raise InputError(
            f"the newsletter of issue {issue.id} changed since campaign {number} started sending "
            f"({counts['sent']} of {total} sent{in_doubt}; ledger {_shown(path, content)}).\n"
            f"To finish campaign {number}, restore the content it started with. To send the "
            f"changed newsletter as campaign {number + 1} to everyone on the list, including "
            f"the {counts['sent']} who have the earlier version, re-run with --force-new-campaign."
        )
    number = campaigns[-1][0] + 1 if campaigns else 1
    path = campaign_path(folder, issue.id, number)
    if campaigns:
        log.warning(
            "starting campaign %d of issue %s (--force-new-campaign): everyone on the list "
            "gets this newsletter, whatever campaign %d sent",
            number,
            issue.id,
            number - 1,
        )
    return Ledger.create(
        path, issue_id=issue.id, number=number, digest=content.digest, subject=content.subject
    )


def _send_campaign(
    content: CampaignContent,
    subscribers: SubscriberList,
    options: SendOptions,
    stop: StopFlag,
    progress_stream: TextIO | None,
    suppressed: dict[str, str],
) -> SendResult:
    issue = content.issue
    folder = campaign_folder(issue.root, issue.id, options.state_dir)
    with (
        exclusive(folder, issue.id),
        _open_campaign(folder, content, options.force_new_campaign) as ledger,
    ):
        number = ledger.campaign.number
        added = ledger.add((s.key, s.email) for s in subscribers.subscribers)
        _remember(content, subscribers, campaign_label(issue.id, number), suppressed)
        log.info(
            "campaign %d of issue %s: %d on the list (%d new), ledger %s",
            number,
            issue.id,
            len(subscribers.subscribers),
            added,
            _shown(ledger.path, content),
        )
        # Under the lock, a recipient still in flight is one a dead run was handing over: the
        # server may have it, so it is in doubt like any message whose reply never came.
        for row in ledger.settle_in_flight():
            log.warning("%s: in doubt: %s; %s", row.address, IN_FLIGHT_REASON, NOT_AGAIN)
        listed = {s.key for s in subscribers.subscribers}
        doubtful = [r for r in ledger.recipients("in_doubt") if r.key in listed]
        if doubtful and options.resend_in_doubt:
            log.warning(
                "--resend-in-doubt: sending another copy to %d recipient%s in doubt (each may "
                "receive the newsletter twice)",
                len(doubtful),
                "s" * (len(doubtful) != 1),
            )
        result = SendResult("send", issue.id, ledger=ledger.path, campaign=number)
        if content.editions:
            result.editions = per_edition(content, subscribers)
        with stop.installed():
            send_run(content, subscribers, options, ledger, stop, result, progress_stream)
        result.counts = ledger.counts()
        result.failed = [r for r in ledger.recipients("failed") if r.key in listed]
        result.refused = ledger.recipients("refused")
        result.in_doubt = [r for r in ledger.recipients("in_doubt") if r.key in listed]
        gone = [
            r
            for r in ledger.recipients("pending")
            if r.key not in listed and r.key not in suppressed
        ]
        if gone:
            log.info("%d pending addresses are no longer on the list: not sent", len(gone))
    if result.stopped_by:
        result.exit_code = 130 if result.stopped_by == "SIGINT" else 1
    elif result.failed or result.in_doubt:
        # In doubt is unfinished business only the editor can settle: a script must notice.
        result.exit_code = 1
    return result


def _remember(
    content: CampaignContent, subscribers: SubscriberList, label: str, suppressed: dict[str, str]
) -> None:
    """Before anything goes out: each token → recipient for the unsubscribe app, and the skips."""
    manifest = content.issue.manifest
    store = SuppressionList.for_project(content.issue.root)
    store.remember(
        (
            make_token(s.key, content.secret),
            Addressee(s.key, label, content.edition_of(s), manifest.layout),
        )
        for s in subscribers.subscribers
    )
    if suppressed:
        store.record_skipped(label, suppressed)
