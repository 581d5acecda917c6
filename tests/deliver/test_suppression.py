"""The suppression list: first reason kept, soft bounces counted, shared safely; its commands."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from magbuilder.deliver.suppression import SuppressionList, campaign_label

from .conftest import cli_env, write_csv


def test_an_address_keeps_its_first_reason_in_any_letter_case(tmp_path):
    store = SuppressionList.for_project(tmp_path)
    assert "ann@example.org" not in store and store.all() == []
    assert not store.path.exists()  # reading makes nothing
    when = dt.datetime(2026, 11, 3, 9, 30, tzinfo=dt.UTC)
    assert store.add("Ann@Example.ORG", "unsubscribed", campaign="2026-11", detail="x", when=when)
    assert not store.add("ann@example.org", "hard-bounce", campaign="2026-12")
    entry = SuppressionList.for_project(tmp_path).get(" ANN@example.org ")
    assert entry is not None
    assert (entry.address, entry.reason, entry.date, entry.campaign, entry.detail) == (
        "ann@example.org",
        "unsubscribed",
        when,
        "2026-11",
        "x",
    )
    assert entry.describe() == "unsubscribed 2026-11-03, campaign 2026-11"
    assert "ANN@EXAMPLE.ORG" in store
    assert store.path == tmp_path / "subscribers" / "suppression.sqlite3"
    assert store.path.stat().st_mode & 0o777 == 0o600
    with pytest.raises(ValueError):
        store.add("b@example.org", "unsubscribed", when=dt.datetime(2026, 1, 1))  # naive
    with pytest.raises(ValueError):
        store.add("b@example.org", "bored")  # type: ignore[arg-type]


def test_soft_bounces_suppress_when_the_count_reaches_the_threshold(tmp_path):
    store = SuppressionList.for_project(tmp_path)
    record = [
        store.record_soft_bounce("b@x.org", campaign=f"c{i}", detail="4.2.2 full", threshold=3)
        for i in range(4)
    ]
    assert record == [False, False, True, False]
    entry = store.get("b@x.org")
    assert entry is not None and (entry.reason, entry.campaign) == ("soft-bounces", "c2")
    assert store.soft_bounces("B@x.org") == 4
    store.add("u@x.org", "unsubscribed")
    assert not store.record_soft_bounce("u@x.org", campaign=None, detail="", threshold=1)
    assert store.get("u@x.org").reason == "unsubscribed"  # type: ignore[union-attr]
    assert campaign_label("2026-12", 1) == "2026-12"
    assert campaign_label("2026-12", 2) == "2026-12/campaign-2"


@pytest.mark.parametrize("round_", range(3))  # first writers of a new file race each time
def test_writers_in_threads_lose_nothing(tmp_path, round_):
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        store = SuppressionList.for_project(tmp_path)
        try:
            for i in range(40):
                store.add(f"r{i}@x.org", "complaint" if n else "unsubscribed", detail=str(n))
        except BaseException as exc:  # a writer that dies would hide behind the others
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(SuppressionList.for_project(tmp_path).all()) == 40


def magbuilder(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "magbuilder", *args],
        cwd=project,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_subscribers_status_counts_what_would_be_sent(project):
    store = SuppressionList.for_project(project)
    store.add("b@subs.example", "hard-bounce", campaign="t-0", detail="5.1.1 user unknown")
    store.add("c@subs.example", "unsubscribed", campaign="t-0", detail="one-click POST")
    store.add("d@subs.example", "unsubscribed")
    rows = ["a@subs.example,A,", "B@subs.example,B,", "c@subs.example,,", "bad,,"]
    write_csv(project, [*rows, "a@subs.example,again,", "d@subs.example,,", "e@subs.example,,"])
    run = magbuilder(project, "subscribers", "status", "subscribers.csv")
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        "subscribers.csv: 7 rows",
        "  would be sent  2",
        "  suppressed     3 (2 unsubscribed, 1 hard-bounce)",
        "  skipped        1 invalid, 1 duplicate",
    ]
    assert "subscribers.csv:5: 'bad' is not a valid address" in run.stderr
    verbose = magbuilder(project, "subscribers", "status", "subscribers.csv", "--verbose")
    assert "subscribers.csv:3: B@subs.example: hard-bounce " in verbose.stdout
    assert "(5.1.1 user unknown)" in verbose.stdout
    assert magbuilder(project, "subscribers", "status").returncode == 2
    assert magbuilder(project, "subscribers", "status", "missing.csv").returncode == 2


def test_import_unsubscribes_reports_bad_rows_and_imports_the_rest(project):
    (project / "export.csv").write_text(
        "Email,date\nann@x.org,2026-11-03T10:00:00+00:00\nnot-an-address,\n\n,2026-11-04\nbo@x.org,\n"
        "cy@x.org,yesterday\n",
        encoding="utf-8",
    )
    run = magbuilder(project, "subscribers", "import-unsubscribes", "export.csv")
    assert run.returncode == 1
    assert "export.csv:3: 'not-an-address' is not a valid address" in run.stderr
    assert "export.csv:5: no email address: skipped" in run.stderr
    assert "export.csv:7: date 'yesterday' is not ISO 8601: skipped" in run.stderr
    assert run.stdout.strip() == (
        "export.csv: 2 unsubscribed, 0 already suppressed, 3 rows skipped (see above)"
    )
    store = SuppressionList.for_project(project)
    ann = store.get("ann@x.org")
    assert ann is not None and ann.detail == "imported from export.csv:2"
    assert ann.date == dt.datetime(2026, 11, 3, 10, tzinfo=dt.UTC)
    (project / "more.json").write_text(
        json.dumps(["bo@x.org", {"email": "dy@x.org"}, 7, {"name": "x"}], indent=1),
        encoding="utf-8",
    )
    run = magbuilder(project, "subscribers", "import-unsubscribes", "more.json")
    assert run.returncode == 1
    assert "more.json:6: no email address: skipped" in run.stderr
    assert "more.json:7: no email address: skipped" in run.stderr
    assert "more.json: 1 unsubscribed, 1 already suppressed, 2 rows skipped" in run.stdout
    good = project / "good.json"
    good.write_text('["ey@x.org"]', encoding="utf-8")
    assert magbuilder(project, "subscribers", "import-unsubscribes", "good.json").returncode == 0
    listing = magbuilder(project, "subscribers", "suppressed", "--csv")
    assert listing.stdout.splitlines()[0] == "address,reason,date,campaign,detail"
    assert len(listing.stdout.splitlines()) == 1 + 4


def test_a_dry_run_leaves_suppressed_addresses_out_and_says_so(project):
    SuppressionList.for_project(project).add("b@subs.example", "complaint", campaign="t-0")
    write_csv(project, ["a@subs.example,A,", "b@subs.example,B,"])
    run = magbuilder(
        project, "send", "issues/t-1.yaml", "--subscribers", "subscribers.csv", "--dry-run", "out"
    )
    assert run.returncode == 0, run.stderr
    assert "subscribers.csv:3: warning: 'b@subs.example' is suppressed (complaint " in run.stderr
    assert "1 suppressed, not sent: 1 complaint" in run.stderr
    assert [p.name for p in (project / "out").iterdir()] == ["1-a@subs.example.eml"]
    assert "suppressed before sending: 1 (1 complaint)" in run.stdout
