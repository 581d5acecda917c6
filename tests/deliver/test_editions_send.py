"""Sending an issue with language editions: each subscriber gets the edition in the language
the list gives them (the issue's own otherwise), once, across every edition of one campaign."""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path

import pytest

from magbuilder.cli import main
from magbuilder.deliver import SendOptions, send_issue
from magbuilder.deliver.messages import pick_language

from .conftest import addresses, run_send
from .test_cli import kill_when_received, ledger_addresses, start

TRANSLATION = """\
---
title: "Alfa"
translator: "Siri Haugland"
lang: nb
standfirst: "En kort ingress."
---

Første avsnitt på norsk.
"""
EDITION = """
editions:
  nb:
    title: "Testnummer"
    cover: {headline: "Overskrift", lines: ["En"]}
    editorial: {title: "Redaktørens brev", author: "Red", text: "Hei, lesere."}
    sections: ["Seksjon A"]
    newsletter: {subject: "Emne på norsk", preheader: "Forhåndsvisning"}
"""
# The languages a list may give, and the edition each gets: nb-NO and NB find nb; fr has no
# edition and an empty cell none: both get the issue's own language.
LANGS = ["en", "nb", "nb-NO", "fr", "", "NB"]
EDITION_OF = {"en": "en", "nb": "nb", "nb-NO": "nb", "fr": "en", "": "en", "NB": "nb"}
SUBJECT = {"en": "Subject", "nb": "Emne på norsk"}


@pytest.fixture
def edition_project(project: Path, monkeypatch) -> Path:
    (project / "content/reviews/a.nb.md").write_text(TRANSLATION, "utf-8")
    manifest = project / "issues/t-1.yaml"
    manifest.write_text(manifest.read_text() + EDITION, "utf-8")
    monkeypatch.chdir(project)
    assert main(["translated", "a", "nb"]) == 0
    return project


def mixed_list(project: Path, count: int) -> tuple[Path, dict[str, str]]:
    """``count`` subscribers cycling through LANGS; address → the edition it should get."""
    rows, expected = [], {}
    for i in range(count):
        lang = LANGS[i % len(LANGS)]
        address = f"reader{i:04d}@subs.example"
        rows.append(f"{address},Reader {i},{lang}")
        expected[address] = EDITION_OF[lang]
    path = project / "subscribers.csv"
    path.write_text("email,name,lang\n" + "\n".join(rows) + "\n", "utf-8")
    return path, expected


def test_pick_language():
    languages = ["en", "nb", "pt-BR"]
    assert [pick_language(w, languages) for w in ("nb_NO", "PT", "pt-pt", "de", None)] == [
        "nb", "pt-BR", "pt-BR", "en", "en"
    ]  # fmt: skip


def test_a_dry_run_counts_and_writes_each_edition(edition_project, secret):
    csv, expected = mixed_list(edition_project, 12)
    result = send_issue(
        edition_project / "issues/t-1.yaml",
        SendOptions(subscribers=csv, dry_run=edition_project / "out", smtp=None),
    )
    assert result.editions == {"en": 6, "nb": 6}
    for path in result.written:
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        lang = expected[message["To"]]
        assert message["Subject"] == SUBJECT[lang]
        html = message.get_body(("html",)).get_content()
        assert f'<html lang="{lang}"' in html
        assert ("Alfa" in html) == (lang == "nb")


def test_a_mixed_list_gets_each_address_once_in_its_language_through_a_sigkill(
    edition_project, server, smtp_url
):
    csv, expected = mixed_list(edition_project, 120)
    args = ("--subscribers", csv.name, "--smtp", smtp_url, "--rate", "0", "--connections", "2")
    dry = run_send(edition_project, "--subscribers", csv.name, "--dry-run", "out")
    assert "editions: 60 en, 60 nb" in dry.stdout
    server.reply_delay = lambda count: 0.02
    kill_when_received(start(edition_project, *args), server, 30)
    in_flight = ledger_addresses(edition_project, "in_flight")

    server.reply_delay = None
    rerun = run_send(edition_project, *args)
    assert rerun.returncode == (1 if in_flight else 0), rerun.stderr
    received = server.received()
    assert set(received.values()) == {1}  # nobody twice, across both editions
    assert set(received) >= addresses(120) - in_flight
    for address, messages in server.parsed().items():
        [message] = messages
        assert message["Subject"] == SUBJECT[expected[address]], address
