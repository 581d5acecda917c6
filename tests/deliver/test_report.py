"""The per-campaign report: ``send --status`` in text and JSON, from a real ledger and list.

Delivered means accepted by the receiving server (the ledger's ``sent``); what came back after
delivery is what the suppression list attributes to the campaign.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from magbuilder.cli import main
from magbuilder.deliver.ledger import Ledger, campaign_path
from magbuilder.deliver.suppression import Feedback, SuppressionList, campaign_label

LATER = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)
FIRST = campaign_label("t-1", 1)  # "t-1"
SECOND = campaign_label("t-1", 2)  # "t-1/campaign-2"


def make_ledger(project: Path, number: int, states: dict[str, tuple[str, str]]) -> None:
    """A campaign ledger of issue t-1: address → (state, reply); every address added first."""
    path = campaign_path(project / "build" / "t-1" / "campaigns", "t-1", number)
    with Ledger.create(
        path, issue_id="t-1", number=number, digest="d" * 64, subject=f"Subject {number}"
    ) as ledger:
        ledger.add((a, a) for a in states)
        for address, (state, reply) in states.items():
            if state == "sent":
                ledger.mark_sent(address, reply)
            elif state == "failed":
                ledger.mark_failed(address, reply, LATER)
            elif state == "refused":
                ledger.mark_refused(address, reply)
            elif state == "in_doubt":
                ledger.mark_in_doubt(address, reply)


OK = ("sent", "250 2.0.0 Ok: queued")
LOST = ("in_doubt", "connection lost after the end of the data")


@pytest.fixture
def campaigns(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Issue t-1 sent twice (campaign 2 forced), with feedback for each, and the CLI's cwd."""
    make_ledger(
        project,
        1,
        {
            **{f"{name}@subs.example": OK for name in ("ann", "bob", "cid", "dee", "eve")},
            "fay@subs.example": ("failed", "451 4.7.1 Greylisted"),
            "fox@subs.example": ("failed", "421 4.7.0 Try again later"),
            "gus@subs.example": ("refused", "550 5.1.1 No such user"),
            **{f"{name}@subs.example": LOST for name in ("hal", "hex", "hue")},
            **{f"{name}@subs.example": ("pending", "") for name in ("ida", "ivy", "jon", "kit")},
        },
    )
    make_ledger(project, 2, {f"{name}@subs.example": OK for name in ("ann", "bob", "joe")})
    store = SuppressionList.for_project(project)

    def soft(address: str, campaign: str | None) -> None:
        store.record_soft_bounce(address, campaign=campaign, detail="4.2.2 full", threshold=5)

    # Campaign 1: ann soft- then hard-bounced (counted once, as hard); bob soft-bounced twice
    # (one address); dee complained; eve unsubscribed, and her later hard bounce changes nothing.
    soft("ann@subs.example", FIRST)
    store.add("ann@subs.example", "hard-bounce", campaign=FIRST, detail="5.1.1 user unknown")
    soft("bob@subs.example", FIRST)
    soft("bob@subs.example", FIRST)
    store.add("dee@subs.example", "complaint", campaign=FIRST)
    store.add("eve@subs.example", "unsubscribed", campaign=FIRST)
    store.add("eve@subs.example", "hard-bounce", campaign=FIRST)
    store.record_skipped(FIRST, {"old@subs.example": "unsubscribed", "gone@x.example": "blocked"})
    # Campaign 2: joe soft-bounced. Neither an unmatched report nor another issue counts.
    soft("joe@subs.example", SECOND)
    soft("cid@subs.example", None)
    store.add("zed@subs.example", "complaint", campaign="t-2")
    monkeypatch.chdir(project)
    return project


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["send", "issues/t-1.yaml", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_text_report_counts_delivered_and_what_came_back(campaigns, capsys):
    code, out, err = run(capsys, "--status", "--campaign", "1")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("campaign 1 of issue t-1: 'Subject 1', started ")
    assert lines[1] == "ledger build/t-1/campaigns/t-1.1.sqlite"
    assert lines[2:9] == [
        "  pending  4",
        "  sent     5",
        "  failed   2",
        "  refused  1",
        "  in doubt 3",
        "of 5 delivered (accepted by the receiving server): "
        "2 bounced (1 hard, 1 soft), 1 complained, 1 unsubscribed",
        "suppressed before sending: 2 (1 unsubscribed, 1 blocked); not in the counts above",
    ]
    assert "  fay@subs.example  451 4.7.1 Greylisted (1 attempt, next try after 2026-12-02" in out
    assert "refused (permanent; never retried):\n  gus@subs.example  550 5.1.1 No such user" in out
    assert out.endswith(
        "bounced after delivery (from reports imported with 'magbuilder bounces import'):\n"
        "  ann@subs.example  hard\n"
        "  bob@subs.example  soft\n"
    )


def test_the_json_report_uses_the_reports_words(campaigns, capsys):
    code, out, err = run(capsys, "--status", "--campaign", "1", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["counts"] == {
        "delivered": 5,
        "deferred": 2,
        "in_doubt": 3,
        "refused": 1,
        "pending": 4,
        "bounced": 2,
        "hard_bounced": 1,
        "soft_bounced": 1,
        "complained": 1,
        "unsubscribed": 1,
        "suppressed_before_sending": {
            "total": 2,
            "by_reason": {
                "unsubscribed": 1,
                "hard-bounce": 0,
                "complaint": 0,
                "soft-bounces": 0,
                "blocked": 1,
            },
        },
    }
    assert (report["issue"], report["campaign"], report["subject"]) == ("t-1", 1, "Subject 1")
    assert dt.datetime.fromisoformat(report["started"]).tzinfo is not None
    assert Path(report["ledger"]) == campaigns / "build/t-1/campaigns/t-1.1.sqlite"
    not_delivered = report["not_delivered"]
    assert not_delivered["deferred"][0] == {
        "address": "fay@subs.example",
        "reply": "451 4.7.1 Greylisted",
        "attempts": 1,
        "next_retry": "2026-12-02T09:00:00+00:00",
    }
    assert not_delivered["refused"] == [
        {
            "address": "gus@subs.example",
            "reply": "550 5.1.1 No such user",
            "attempts": 1,
            "next_retry": None,
        }
    ]
    assert {key: [r["address"] for r in rows] for key, rows in not_delivered.items()} == {
        "deferred": ["fay@subs.example", "fox@subs.example"],
        "refused": ["gus@subs.example"],
        "in_doubt": ["hal@subs.example", "hex@subs.example", "hue@subs.example"],
    }
    assert not_delivered["in_doubt"][0]["reply"] == LOST[1]
    assert report["after_delivery"] == {
        "hard_bounced": ["ann@subs.example"],
        "soft_bounced": ["bob@subs.example"],
        "complained": ["dee@subs.example"],
        "unsubscribed": ["eve@subs.example"],
    }


def test_the_latest_campaign_counts_only_its_own_feedback(campaigns, capsys):
    code, out, err = run(capsys, "--status", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert (report["campaign"], report["subject"]) == (2, "Subject 2")
    counts = report["counts"]
    assert (counts["delivered"], counts["bounced"], counts["soft_bounced"]) == (3, 1, 1)
    assert (counts["hard_bounced"], counts["complained"], counts["unsubscribed"]) == (0, 0, 0)
    assert counts["suppressed_before_sending"]["total"] == 0
    assert report["after_delivery"]["soft_bounced"] == ["joe@subs.example"]

    code, out, err = run(capsys, "--status")
    assert code == 0, err
    assert out.startswith("campaign 2 of issue t-1: 'Subject 2', started ")
    assert (
        "of 3 delivered (accepted by the receiving server): "
        "1 bounced (0 hard, 1 soft), 0 complained, 0 unsubscribed\n"
    ) in out
    assert "ann@subs.example" not in out and "suppressed before sending" not in out


def test_an_unknown_campaign_names_the_ones_there_are(campaigns, capsys):
    code, out, err = run(capsys, "--status", "--campaign", "3")
    assert (code, out) == (1, "")
    assert err == "issue t-1 has no campaign 3 (its campaigns: 1, 2)\n"


def test_before_any_campaign(project, capsys, monkeypatch):
    monkeypatch.chdir(project)
    code, out, err = run(capsys, "--status", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert (report["issue"], report["campaign"], report["ledger"]) == ("t-1", None, None)
    assert report["counts"]["delivered"] == 0 and report["after_delivery"]["complained"] == []
    code, out, err = run(capsys, "--status", "--campaign", "1")
    assert code == 1 and err == "issue t-1 has no campaign 1 (its campaigns: none yet)\n"
    assert SuppressionList.for_project(project).feedback(FIRST) == Feedback()
    assert not SuppressionList.for_project(project).path.exists()  # reading made nothing


def test_json_and_campaign_go_with_status(project, capsys, monkeypatch):
    monkeypatch.chdir(project)
    assert run(capsys, "--json") == (2, "", "--json goes with --status\n")
    assert run(capsys, "--campaign", "1") == (2, "", "--campaign goes with --status\n")
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "--json" in out and "--campaign N" in out
