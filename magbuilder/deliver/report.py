"""The end-of-run report and ``--status``: counts by state, what came back, who did not get it."""

from __future__ import annotations

import os
from pathlib import Path

from .campaign import SendResult
from .ledger import STATES, Recipient
from .status import CampaignStatus
from .suppression import REASONS


def _path(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


IN_DOUBT_TITLE = (
    "in doubt (the server may or may not have it; sent again only with --resend-in-doubt):"
)
NAMED_IN_HINT = 10  # the stderr hint names this many; the report on stdout names every one


def _counts(counts: dict[str, int]) -> list[str]:
    width = max(len(str(n)) for n in [*counts.values(), 0])
    return [f"  {state.replace('_', ' '):<8} {counts.get(state, 0):>{width}}" for state in STATES]


def _editions(counts: dict[str, int]) -> list[str]:
    """``editions: 120 en, 80 nb`` (how many on the list get each), for an issue with editions."""
    if len(counts) < 2:
        return []
    return ["editions: " + ", ".join(f"{n} {lang}" for lang, n in counts.items())]


def _suppressed(counts: dict[str, int]) -> list[str]:
    """``suppressed before sending: 3 (1 unsubscribed, 1 hard-bounce, 1 complaint)``."""
    total = sum(counts.values())
    if not total:
        return []
    per = ", ".join(f"{counts[r]} {r}" for r in REASONS if counts.get(r))
    return [f"suppressed before sending: {total} ({per}); not in the counts above"]


def _after_delivery(status: CampaignStatus) -> list[str]:
    """``of 16 delivered (…): 2 bounced (1 hard, 1 soft), 1 complained, 1 unsubscribed``."""
    f = status.feedback
    bounced = f"{f.bounced} bounced"
    if f.bounced:
        bounced += f" ({len(f.hard_bounced)} hard, {len(f.soft_bounced)} soft)"
    return [
        f"of {status.counts.get('sent', 0)} delivered (accepted by the receiving server): "
        f"{bounced}, {len(f.complained)} complained, {len(f.unsubscribed)} unsubscribed"
    ]


def _bounced(status: CampaignStatus) -> list[str]:
    f = status.feedback
    rows = sorted([(a, "hard") for a in f.hard_bounced] + [(a, "soft") for a in f.soft_bounced])
    if not rows:
        return []
    width = max(len(a) for a, _ in rows)
    return [
        "bounced after delivery (from reports imported with 'magbuilder bounces import'):",
        *(f"  {address:<{width}}  {kind}" for address, kind in rows),
    ]


def _addresses(title: str, rows: list[Recipient], *, next_retry: bool = False) -> list[str]:
    if not rows:
        return []
    width = max(len(r.address) for r in rows)
    lines = [title]
    for row in rows:
        extra = f" ({row.attempts} attempt{'s' * (row.attempts != 1)}"
        extra += f", next try after {row.next_retry})" if next_retry and row.next_retry else ")"
        lines.append(f"  {row.address:<{width}}  {row.reply or '?'}{extra}")
    return lines


def format_status(status: CampaignStatus) -> str:
    """What ``--status`` prints."""
    if status.ledger is None or status.campaign is None:
        return f"issue {status.issue_id}: no campaign yet (no ledger in {_path(status.folder)})"
    c = status.campaign
    lines = [
        f"campaign {c.number} of issue {c.issue_id}: '{c.subject}', started {c.created}",
        f"ledger {_path(status.ledger)}",
        *_counts(status.counts),
        *_after_delivery(status),
        *_suppressed(status.suppressed),
        *_addresses(
            "failed (transient; the same send command retries them):",
            status.failed,
            next_retry=True,
        ),
        *_addresses("refused (permanent; never retried):", status.refused),
        *_addresses(IN_DOUBT_TITLE, status.in_doubt),
        *_bounced(status),
    ]
    return "\n".join(lines)


def format_result(result: SendResult) -> str:
    """What a finished (or stopped) send prints on stdout."""
    if result.kind == "dry-run":
        folder = _path(result.written[0].parent) if result.written else "?"
        lines = [f"dry run: wrote {len(result.written)} messages to {folder}; nothing was sent"]
        return "\n".join([*lines, *_editions(result.editions), *_suppressed(result.suppressed)])
    if result.kind == "test":
        reply = result.test_reply
        verdict = {"sent": "accepted", "in_doubt": "perhaps accepted (in doubt)"}.get(
            reply.status if reply else "", "NOT accepted"
        )
        said = reply.reply if reply else "?"
        return f"test copy to {result.test_to} {verdict} by the server: {said}"
    assert result.ledger is not None
    lines = [
        f"campaign {result.campaign} of issue {result.issue_id}: sent {result.sent_now} "
        f"in this run; ledger {_path(result.ledger)}",
        *_counts(result.counts),
        *_editions(result.editions),
        *_suppressed(result.suppressed),
        *_addresses(
            "failed (transient; run the same command again to retry):",
            result.failed,
            next_retry=True,
        ),
        *_addresses("refused (permanent; never retried):", result.refused),
        *_addresses(IN_DOUBT_TITLE, result.in_doubt),
    ]
    return "\n".join(lines)


def _in_doubt_hint(rows: list[Recipient]) -> str:
    count = len(rows)
    names = ", ".join(r.address for r in rows[:NAMED_IN_HINT])
    if count > NAMED_IN_HINT:
        names += f" and {count - NAMED_IN_HINT} more (all listed above)"
    who = "recipients are" if count != 1 else "recipient is"
    return (
        f"{count} {who} in doubt (the server may or may not have accepted the message): "
        f"{names}.\n"
        "They are not sent again automatically, so nobody gets the newsletter twice. If the "
        "server's log does not show them delivered, run the same command with "
        "--resend-in-doubt to send them another copy."
    )


def resume_hint(result: SendResult) -> str | None:
    """The stderr lines of a run that left work to do: how it ended, how to go on."""
    if result.kind == "test" and result.exit_code:
        if result.test_reply and result.test_reply.status == "in_doubt":
            return "the test copy is in doubt (above): look in the mailbox before sending another"
        return "the server did not accept the test copy (its reply is above)"
    lines = []
    if result.stopped_by:
        if result.abandoned_in_doubt:
            hand = (
                "the message in hand was abandoned after it went to the server: it is in doubt "
                "(below). Nothing else is lost"
            )
        elif result.abandoned:
            hand = "the message in hand was abandoned and will be sent again. Nothing is lost"
        else:
            hand = "the message in hand was finished and recorded. Nothing is lost"
        lines.append(
            f"stopped by {result.stopped_by} after {result.sent_now} messages in this run; "
            f"{hand}: run the same command again to resume."
        )
    elif result.failed:
        count = len(result.failed)
        lines.append(
            f"{count} address{'es' * (count != 1)} failed temporarily (listed above): run the "
            "same command again later to retry"
        )
    if result.in_doubt:
        lines.append(_in_doubt_hint(result.in_doubt))
    return "\n".join(lines) or None
