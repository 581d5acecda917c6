"""An issue's campaign as it stands: counts by state, who did not get it, what came back.

Read only: nothing here takes the send lock or changes a ledger, so it may run beside a sender.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..manifest import load_issue
from .campaign import campaign_folder
from .ledger import STATES, Campaign, Ledger, Recipient, find_campaigns
from .suppression import REASONS, Feedback, SuppressionList, campaign_label


@dataclass(frozen=True)
class CampaignStatus:
    """The state of one of an issue's campaigns, for ``--status`` (text) and ``--status --json``.

    A recipient the ledger has in flight counts as in doubt: a send may be handing it over right
    now, but if none is running, a run stopped while doing so.

    ``feedback`` (bounced, complained, unsubscribed) comes from the suppression list, that is
    from reports imported with ``magbuilder bounces import`` (matched to this campaign by the
    reported message's Message-ID) and from the unsubscribe app. Nothing is tracked: there is no
    pixel and no rewritten link, so delivered means accepted by the receiving server. The list
    keeps an address's first reason only: an address that bounced after unsubscribing counts
    once, as unsubscribed.
    """

    issue_id: str
    folder: Path
    ledger: Path | None
    campaign: Campaign | None
    counts: dict[str, int]
    failed: list[Recipient]
    refused: list[Recipient]
    in_doubt: list[Recipient]
    suppressed: dict[str, int] = field(default_factory=dict)  # reason → count, before sending
    feedback: Feedback = field(default_factory=Feedback)  # after delivery

    def as_json(self) -> dict[str, Any]:
        """The report as JSON-able data; the same keys whether or not there is a campaign.

        ``counts`` uses the report's words: ``delivered`` (the ledger's ``sent``: accepted by
        the receiving server), ``deferred`` (``failed``: transient, retried), ``in_doubt``,
        ``refused`` (permanent at SMTP time), ``pending``; then, after delivery, ``bounced``
        (``hard_bounced`` + ``soft_bounced``), ``complained``, ``unsubscribed``; and
        ``suppressed_before_sending`` (``total`` and ``by_reason``, every reason listed).
        """
        c, f = self.campaign, self.feedback
        counts = {state: self.counts.get(state, 0) for state in STATES}
        return {
            "issue": self.issue_id,
            "campaign": c.number if c else None,
            "subject": c.subject if c else None,
            "started": c.created if c else None,
            "ledger": str(self.ledger.absolute()) if self.ledger else None,
            "counts": {
                "delivered": counts["sent"],
                "deferred": counts["failed"],
                "in_doubt": counts["in_doubt"],
                "refused": counts["refused"],
                "pending": counts["pending"],
                "bounced": f.bounced,
                "hard_bounced": len(f.hard_bounced),
                "soft_bounced": len(f.soft_bounced),
                "complained": len(f.complained),
                "unsubscribed": len(f.unsubscribed),
                "suppressed_before_sending": {
                    "total": sum(self.suppressed.values()),
                    "by_reason": {r: self.suppressed.get(r, 0) for r in REASONS},
                },
            },
            "not_delivered": {
                "deferred": [_recipient(r) for r in self.failed],
                "refused": [_recipient(r) for r in self.refused],
                "in_doubt": [_recipient(r) for r in self.in_doubt],
            },
            "after_delivery": {
                "hard_bounced": list(f.hard_bounced),
                "soft_bounced": list(f.soft_bounced),
                "complained": list(f.complained),
                "unsubscribed": list(f.unsubscribed),
            },
        }


def _recipient(row: Recipient) -> dict[str, Any]:
    return {
        "address": row.address,
        "reply": row.reply,
        "attempts": row.attempts,
        "next_retry": row.next_retry,
    }


IN_FLIGHT_NOW = (
    "in flight when last recorded: being sent now, or a run stopped while handing this message "
    "to the server"
)


def campaign_status(
    manifest: Path | str, state_dir: Path | None = None, number: int | None = None
) -> CampaignStatus:
    """The counts, the addresses that did not get it and the feedback of one of the issue's
    campaigns: ``number``, or the latest (an issue without a campaign yet has empty counts).

    Read only: it takes no lock and changes nothing, so it may run beside a sender.
    """
    issue = load_issue(manifest)
    folder = campaign_folder(issue.root, issue.id, state_dir)
    campaigns = dict(find_campaigns(folder, issue.id))
    if number is not None and number not in campaigns:
        known = ", ".join(map(str, campaigns)) or "none yet"
        raise InputError(f"issue {issue.id} has no campaign {number} (its campaigns: {known})")
    if not campaigns:
        return CampaignStatus(issue.id, folder, None, None, {}, [], [], [], {})
    path = campaigns[number if number is not None else max(campaigns)]
    with Ledger.open(path, upgrade=False) as ledger:
        counts = ledger.counts()
        in_doubt = []
        label = campaign_label(issue.id, ledger.campaign.number)
        suppressions = SuppressionList.for_project(issue.root)
        for row in ledger.recipients():
            if row.in_flight:
                counts[row.state] -= 1
                counts["in_doubt"] += 1
                in_doubt.append(replace(row, state="in_doubt", reply=IN_FLIGHT_NOW))
            elif row.state == "in_doubt":
                in_doubt.append(row)
        return CampaignStatus(
            issue.id,
            folder,
            path,
            ledger.campaign,
            counts,
            [r for r in ledger.recipients("failed") if not r.in_flight],
            ledger.recipients("refused"),
            in_doubt,
            dict(suppressions.skipped(label)),
            suppressions.feedback(label),
        )
