"""``magbuilder sponsors report``: an issue's ads, where they ran in print and to whom the
newsletter carrying them was delivered, from a real send to a real SMTP server on loopback."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pikepdf
import pytest

from magbuilder.cli import main
from magbuilder.deliver.ledger import Ledger

from .conftest import drop_the_first, run_send
from .test_editions_send import EDITION, TRANSLATION, mixed_list

NORDLYS = """\
name: "Nordlys Kino"
link: "https://nordlys.example/"
runs: {start: 2026-11-15, end: 2026-12-31}
page:
  text: {headline: "Winter Sundays", text: "Documentaries every Sunday at 18.", call: "Book now"}
email:
  text: "Winter documentaries at Nordlys Kino, every Sunday."
  link: "https://nordlys.example/winter"
"""
SUBSCRIBE = """\
name: "Subscribe"
kind: house
link: "https://mag.example/subscribe"
runs: {start: 2026-01-01, end: 2026-12-31}
page:
  text: {headline: "Subscribe", text: "Twelve issues a year, in print and by email."}
"""
BOOKINGS = """
ads:
  max_share: 0.5  # a six-page test magazine
  slots:
    after-contents: nordlys
    email-after-1: nordlys
    back-cover: subscribe
"""
REFUSED = "reader0002@subs.example"  # nb-NO: the nb edition
DEFERRED = "reader0004@subs.example"  # no language: the issue's own (en)


@pytest.fixture
def ads_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Issue t-1 with a Norwegian edition, a sponsor in after-contents and email-after-1, and a
    house ad on the back cover; the working directory is the project."""
    (project / "content/sponsors").mkdir(parents=True)
    (project / "content/sponsors/nordlys.yaml").write_text(NORDLYS, "utf-8")
    (project / "content/sponsors/subscribe.yaml").write_text(SUBSCRIBE, "utf-8")
    (project / "content/reviews/a.nb.md").write_text(TRANSLATION, "utf-8")
    manifest = project / "issues/t-1.yaml"
    manifest.write_text(manifest.read_text() + EDITION + BOOKINGS, "utf-8")
    monkeypatch.chdir(project)
    assert main(["translated", "a", "nb"]) == 0
    return project


def send_to_twelve(project: Path, server, smtp_url: str) -> dict[str, str]:  # noqa: ANN001
    """Send t-1 with the real ``magbuilder send`` to 12 subscribers (6 per edition): one is
    refused, one still deferred after its one attempt, and the first message's connection drops
    after the server stored it (in doubt). Address → the edition the list gives it."""
    csv, editions = mixed_list(project, 12)
    server.rcpt_plan = {
        REFUSED: ["always:550 5.1.1 No such user here"],
        DEFERRED: ["always:451 4.7.1 Greylisted"],
    }
    server.after_accept = drop_the_first(1)
    sent = run_send(
        project, "--subscribers", csv.name, "--smtp", smtp_url, "--rate", "0",
        "--max-attempts", "1",
    )  # fmt: skip
    assert sent.returncode == 1, sent.stderr  # one deferred and one in doubt: not finished
    return editions


def ledger_sent(project: Path) -> set[str]:
    """The ledger's own answer: the addresses in state sent (and not in flight)."""
    db = sqlite3.connect(project / "build/t-1/campaigns/t-1.1.sqlite")
    try:
        rows = db.execute("SELECT key FROM recipients WHERE state = 'sent' AND NOT in_flight")
        return {key for (key,) in rows}
    finally:
        db.close()


def report(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["sponsors", "report", "t-1", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_delivered_counts_are_the_ledgers_per_edition_and_in_total(
    ads_project, server, smtp_url, capsys
):
    editions = send_to_twelve(ads_project, server, smtp_url)
    sent = ledger_sent(ads_project)
    with Ledger.open(ads_project / "build/t-1/campaigns/t-1.1.sqlite") as ledger:
        counts = ledger.counts()
    assert counts == {"pending": 0, "sent": 9, "failed": 1, "refused": 1, "in_doubt": 1}
    per_edition = {lang: sum(editions[a] == lang for a in sent) for lang in ("en", "nb")}
    assert per_edition == {"en": 4, "nb": 5}  # not the in-doubt first or the deferred (en),
    # nor the refused (nb)

    code, out, _ = report(capsys, "--json")
    assert code == 0
    data = json.loads(out)
    [campaign] = data["campaigns"]
    assert campaign["newsletter"] == "current" and campaign["counted"]
    assert campaign["delivered"] == {"total": counts["sent"], "by_edition": per_edition}
    assert campaign["not_delivered"] == {"deferred": 1, "refused": 1, "in_doubt": 1, "pending": 0}
    nordlys, house = data["sponsors"]
    assert (nordlys["sponsor"], nordlys["house"], house["sponsor"], house["house"]) == (
        "nordlys", False, "subscribe", True
    )  # fmt: skip
    assert [s["slot"] for s in nordlys["slots"]] == ["after-contents", "email-after-1"]
    letter = nordlys["newsletter"]
    assert letter["delivered"] == {
        "total": counts["sent"], "by_edition": per_edition, "recipients": len(sent)
    }  # fmt: skip
    assert letter["not_counted"] == 0
    assert house["newsletter"] is None  # booked in print only
    assert nordlys["editions"] == house["editions"] == ["en", "nb"]

    code, out, _ = report(capsys)
    assert code == 0
    assert "  newsletter: delivered to 9 (4 en, 5 nb)" in out.splitlines()
    assert "delivered to 9 (4 en, 5 nb); not delivered: 1 deferred, 1 refused, 1 in doubt" in out
    assert "Subscribe (house ad, content/sponsors/subscribe.yaml)" in out


def keys(data: object) -> list[str]:
    """Every key of a JSON document, at any depth."""
    if isinstance(data, dict):
        return [*data, *(k for v in data.values() for k in keys(v))]
    if isinstance(data, list):
        return [k for v in data for k in keys(v)]
    return []


def test_the_report_has_no_open_or_click_figures_and_says_why(
    ads_project, server, smtp_url, capsys
):
    send_to_twelve(ads_project, server, smtp_url)
    _, out, _ = report(capsys)
    figures = re.compile(r"\d[\d,.%]*\s*(unique\s+)?(opens?|opened|clicks?|clicked)\b", re.I)
    assert not figures.search(out), out
    assert not re.search(r"\b(open|click)[- ]?(rate|through)", out, re.I)
    assert "opens and clicks are not tracked (no tracking pixel, no redirected links)" in out

    _, out, _ = report(capsys, "--json")
    data = json.loads(out)
    # No figure of the kind, anywhere: only the note saying why, once, at the top.
    assert [k for k in keys(data) if re.search(r"open|click|track", k, re.I)] == ["tracking"]
    assert data["tracking"].startswith("delivered = accepted by the receiving mail server")


def test_a_campaign_of_another_version_of_the_newsletter_is_listed_not_counted(
    ads_project, server, smtp_url, capsys
):
    send_to_twelve(ads_project, server, smtp_url)
    manifest = ads_project / "issues/t-1.yaml"
    manifest.write_text(manifest.read_text().replace("Preheader", "Another preheader"))
    _, out, _ = report(capsys, "--json")
    [campaign] = json.loads(out)["campaigns"]
    assert (campaign["newsletter"], campaign["counted"]) == ("changed", False)
    letter = json.loads(out)["sponsors"][0]["newsletter"]
    assert (letter["delivered"]["total"], letter["not_counted"]) == (0, 9)


def test_a_forced_second_campaign_counts_its_deliveries_and_each_address_once(
    ads_project, server, smtp_url, capsys
):
    send_to_twelve(ads_project, server, smtp_url)
    server.rcpt_plan, server.after_accept = {}, None
    again = run_send(
        ads_project, "--subscribers", "subscribers.csv", "--smtp", smtp_url, "--rate", "0",
        "--force-new-campaign",
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    _, out, _ = report(capsys, "--json")
    data = json.loads(out)
    first, second = data["campaigns"]
    assert second["delivered"] == {"total": 12, "by_edition": {"en": 6, "nb": 6}}
    assert first["delivered"] == {"total": 9, "by_edition": {"en": 4, "nb": 5}}
    assert data["sponsors"][0]["newsletter"]["delivered"] == {
        "total": 21, "by_edition": {"en": 10, "nb": 11}, "recipients": 12
    }  # fmt: skip
    _, out, _ = report(capsys)
    lines = out.splitlines()
    assert "  newsletter: delivered to 21 (10 en, 11 nb)" in lines
    assert "    12 different addresses" in lines
    assert "    campaign 1: 9 (4 en, 5 nb)" in lines
    assert "    campaign 2: 12 (6 en, 6 nb)" in lines


def test_a_forced_second_campaign_leaves_the_first_ones_editions_as_they_were(
    ads_project, server, smtp_url, capsys
):
    """Each campaign's editions are its own ledger's: campaign 2 mailing everyone again, each in
    the other language now, changes nothing of what campaign 1 delivered in which edition."""
    editions = send_to_twelve(ads_project, server, smtp_url)
    first_sent = ledger_sent(ads_project)
    expected = {lang: sum(editions[a] == lang for a in first_sent) for lang in ("en", "nb")}
    assert expected == {"en": 4, "nb": 5}
    csv = ads_project / "subscribers.csv"
    other = {"en": "nb", "nb": "en"}
    csv.write_text(
        "email,name,lang\n"
        + "".join(f"{a},Reader,{other[editions[a]]}\n" for a in sorted(editions)),
        "utf-8",
    )
    server.rcpt_plan, server.after_accept = {}, None
    again = run_send(
        ads_project, "--subscribers", csv.name, "--smtp", smtp_url, "--rate", "0",
        "--force-new-campaign",
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    with Ledger.open(ads_project / "build/t-1/campaigns/t-1.2.sqlite") as second:
        assert {r.key: r.edition for r in second.recipients()} == {
            a: other[lang] for a, lang in editions.items()
        }

    _, out, _ = report(capsys, "--json")
    first, second = json.loads(out)["campaigns"]
    assert first["delivered"] == {"total": 9, "by_edition": expected}
    assert second["delivered"] == {"total": 12, "by_edition": {"en": 6, "nb": 6}}
    _, out, _ = report(capsys)
    assert "delivered to 9 (4 en, 5 nb); not delivered: 1 deferred, 1 refused, 1 in doubt" in out
    assert "    campaign 1: 9 (4 en, 5 nb)" in out.splitlines()
    assert "not recorded" not in out


def test_the_rows_of_a_ledger_older_than_the_edition_column_are_of_no_recorded_edition(
    ads_project, server, smtp_url, capsys
):
    send_to_twelve(ads_project, server, smtp_url)
    path = ads_project / "build/t-1/campaigns/t-1.1.sqlite"
    with sqlite3.connect(path) as db:  # as a magbuilder before the column left it: format 2
        db.execute("ALTER TABLE recipients DROP COLUMN edition")
        db.execute("PRAGMA user_version = 2")
    _, out, _ = report(capsys, "--json")
    [campaign] = json.loads(out)["campaigns"]
    assert campaign["delivered"] == {"total": 9, "by_edition": {"en": 0, "nb": 0, "unrecorded": 9}}
    _, out, _ = report(capsys)
    assert "  newsletter: delivered to 9 (0 en, 0 nb, 9 edition not recorded)" in out.splitlines()
    with sqlite3.connect(path) as db:  # read as it is: the report changes nothing
        assert "edition" not in [row[1] for row in db.execute("PRAGMA table_info(recipients)")]
        assert db.execute("PRAGMA user_version").fetchone()[0] == 2


def test_an_unknown_issue_is_bad_input_and_no_id_is_usage(ads_project, capsys):
    assert main(["sponsors", "report", "t-2"]) == 1
    assert capsys.readouterr().err == "issues/t-2.yaml: no such issue (did you mean 't-1'?)\n"
    assert main(["sponsors", "report", "../t-1"]) == 1
    assert "'../t-1' is not an issue id" in capsys.readouterr().err
    assert main(["sponsors", "report"]) == 2
    assert main(["sponsors", "--project", str(ads_project / "content"), "report", "t-1"]) == 1
    assert "no issues/ folder" in capsys.readouterr().err


def dest_page(pdf: Path, name: str) -> int | None:
    """The page (1-based) a named destination points at, read here with pikepdf alone."""
    with pikepdf.open(pdf) as doc:
        names = doc.Root.get("/Names")
        if names is None or "/Dests" not in names:
            return None
        dests = dict(pikepdf.NameTree(names.Dests).items())
        if name not in dests:
            return None
        dest = dests[name]
        target = dest.get("/D", dest) if isinstance(dest, pikepdf.Dictionary) else dest
        pages = [page.objgen for page in doc.pages]
        return pages.index(target[0].objgen) + 1


@pytest.mark.slow  # lays out the issue and its edition
def test_the_print_page_is_the_page_of_the_ads_destination(ads_project, capsys):
    _, out, _ = report(capsys)
    assert "print (en): build/t-1/magazine.pdf: not built" in out
    assert "    en: full page, after the contents: not built: no build/t-1/magazine.pdf" in out

    built = main(["build", "issues/t-1.yaml", "--no-preflight"])
    assert built == 0, capsys.readouterr().err
    capsys.readouterr()
    pdf = ads_project / "build/t-1/magazine.pdf"
    page = dest_page(pdf, "ad-after-contents")
    assert page is not None, "the build put no ad-after-contents destination in magazine.pdf"
    _, out, _ = report(capsys, "--json")
    places = {(p["slot"], p["edition"]): p for p in json.loads(out)["sponsors"][0]["print"]}
    assert places["after-contents", "en"]["page"] == page
    _, out, _ = report(capsys)
    assert f"    en: page {page} (full page, after the contents)" in out.splitlines()
    nb_page = dest_page(ads_project / "build/t-1/nb/magazine.pdf", "ad-after-contents")
    assert f"    nb: page {nb_page} (full page, after the contents)" in out.splitlines()

    # Booked after the build: the print file predates the booking, and says so.
    manifest = ads_project / "issues/t-1.yaml"
    manifest.write_text(manifest.read_text() + "    inside-back-cover: nordlys\n")
    _, out, _ = report(capsys)
    assert (
        "    en: inside back cover: not in build/t-1/magazine.pdf: the build predates the "
        "booking (issues/t-1.yaml changed since): run 'magbuilder build issues/t-1.yaml'"
    ) in out.splitlines()
