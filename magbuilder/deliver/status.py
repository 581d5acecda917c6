"""An issue's campaign as it stands: counts by state, who did not get it, what was skipped.

Read only: nothing here takes the send lock or changes a ledger, so it may run beside a sender.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from ..manifest import load_issue
from .campaign import campaign_folder
from .ledger import Campaign, Ledger, Recipient, find_campaigns
from .suppression import SuppressionList, campaign_label


@dataclass(frozen=True)
class CampaignStatus:
    """The state of an issue's latest campaign, for ``--status``.

    A recipient the ledger has in flight counts as in doubt: a send may be handing it over right
    now, but if none is running, a run stopped while doing so.
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


IN_FLIGHT_NOW = (
    "in flight when last recorded: being sent now, or a run stopped while handing this message "
    "to the server"
)


def campaign_status(manifest: Path | str, state_dir: Path | None = None) -> CampaignStatus:
    """The counts by state and the addresses that did not get it, of the issue's latest campaign.

    Read only: it takes no lock and changes nothing, so it may run beside a sender.
    """
    issue = load_issue(manifest)
    folder = campaign_folder(issue.root, issue.id, state_dir)
    campaigns = find_campaigns(folder, issue.id)
    if not campaigns:
        return CampaignStatus(issue.id, folder, None, None, {}, [], [], [], {})
    path = campaigns[-1][1]
    with Ledger.open(path, upgrade=False) as ledger:
        counts = ledger.counts()
        in_doubt = []
        label = campaign_label(issue.id, ledger.campaign.number)
        suppressed = dict(SuppressionList.for_project(issue.root).skipped(label))
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
            suppressed,
        )
