"""``magbuilder bounces import``: DSNs, complaints and provider webhooks become suppressions.

Reports are matched to a campaign's recipient through real ledgers; IMAP is read from a real
Dovecot on loopback; every malformed input is skipped with its own line, never a crash.
"""

from __future__ import annotations

import imaplib
import io
import mailbox
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from magbuilder.cli import main
from magbuilder.deliver import SendOptions, parse_smtp_url, send_issue
from magbuilder.deliver.bounces import import_bounces
from magbuilder.deliver.ledger import Ledger, campaign_path
from magbuilder.deliver.mailboxes import SourceError, parse_imap_url
from magbuilder.deliver.suppression import SuppressionList
from magbuilder.manifest import load_issue
from magbuilder.render.mime import message_id

from .conftest import SENDABLE_SITE, write_csv

DATA = Path(__file__).resolve().parent.parent / "data" / "bounces"
MALFORMED = DATA / "malformed"

# The original Message-ID each fixture carries (an invented one, sent by no campaign).
FIXTURE_IDS = {
    "dsn-hard.eml": "<t-1.0f3a9c1e5b7d2a4c6e80@mag.example>",
    "dsn-soft.eml": "<t-1.5e2b8d0a7c4f1e3b9a62@mag.example>",
    "arf-complaint.eml": "<t-1.c81d44e0a3b95f27d613@mag.example>",
    "ses-bounce.json": "<t-1.9b0e3d7a1c5f8e2d4b6a@mag.example>",
    "sendgrid-events.json": "<t-1.7c1e5a9d3b2f6e0a8d4c@mag.example>",
    "postmark-bounce.json": "<t-1.4c6e8a0c2e4a6c8e0a2c@mag.example>",
    "mailgun-failed.json": "t-1.6e8a0c2e4a6c8e0a2c4e@mag.example",  # Mailgun drops the <>
}


# -- helpers ----------------------------------------------------------------------------------


@pytest.fixture
def bare(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder with only magbuilder.yaml (no issues: every report is unmatched)."""
    (tmp_path / "magbuilder.yaml").write_text(SENDABLE_SITE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str) -> tuple[int, list[str], list[str]]:
    """``magbuilder bounces import ARGS`` in this process: exit code, stdout and stderr lines."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("sys.stdout", out)
        mp.setattr("sys.stderr", err)
        code = main(["bounces", "import", *args])
    return code, out.getvalue().splitlines(), err.getvalue().splitlines()


def counts(stdout: list[str]) -> dict[str, int]:
    """The summary's counts: ``{"hard bounces": 1, …}``."""
    found = {}
    for line in stdout:
        if match := re.match(r"  ([a-z ]+?)\s+(\d+)  ", line):
            found[match.group(1)] = int(match.group(2))
    return found


def ledger_with(project: Path, number: int, *addresses: str) -> None:
    """A campaign ledger of issue t-1 that sent to ``addresses``, written through its API."""
    path = campaign_path(project / "build" / "t-1" / "campaigns", "t-1", number)
    with Ledger.create(path, issue_id="t-1", number=number, digest="d", subject="s") as ledger:
        ledger.add((a.lower(), a) for a in addresses)
        for a in addresses:
            ledger.mark_sent(a.lower(), "250 2.0.0 Ok")


def sent_id(project: Path, address: str, number: int = 1) -> str:
    """The Message-ID campaign ``number`` of issue t-1 gave ``address``'s message."""
    issue = load_issue(project / "issues" / "t-1.yaml")
    return message_id(issue, address if number == 1 else f"{address}/campaign-{number}")


def fixture_with_id(name: str, new_id: str, folder: Path, rename: str | None = None) -> Path:
    """A copy of fixture ``name`` whose original Message-ID is ``new_id``."""
    old = FIXTURE_IDS[name]
    new = new_id if old.startswith("<") else new_id.strip("<>")
    text = (DATA / name).read_text(encoding="utf-8")
    assert old in text
    path = folder / (rename or name)
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


# -- matching through real ledgers ------------------------------------------------------------


def test_a_hard_bounce_is_matched_to_its_campaign_and_suppressed(project, monkeypatch):
    ledger_with(project, 1, "ann.lee@example.org", "someone@example.net")
    report = fixture_with_id("dsn-hard.eml", sent_id(project, "ann.lee@example.org"), project)
    monkeypatch.chdir(project)
    code, out, err = run(str(report))
    assert code == 0, err
    assert counts(out)["hard bounces"] == 1
    assert counts(out)["unmatched"] == 0
    entry = SuppressionList.for_project(project).get("ann.lee@example.org")
    assert entry is not None
    assert (entry.reason, entry.campaign) == ("hard-bounce", "t-1")
    assert entry.detail.startswith("5.1.1 smtp; 550 5.1.1 <ann.lee@example.org>: Recipient")
    assert "someone@example.net" not in SuppressionList.for_project(project)


def test_the_message_id_names_the_recipient_even_when_the_report_does_not(project):
    # A redacted complaint (no Original-Rcpt-To, no To) still reaches the right subscriber.
    ledger_with(project, 1, "dora.k@example.net")
    text = (DATA / "arf-complaint.eml").read_text(encoding="utf-8")
    text = text.replace(FIXTURE_IDS["arf-complaint.eml"], sent_id(project, "dora.k@example.net"))
    text = text.replace("Original-Rcpt-To: <dora.k@example.net>\n", "")
    text = text.replace("To: dora.k@example.net\n", "To: redacted\n")
    (project / "complaint.eml").write_text(text, encoding="utf-8")
    result = import_bounces([str(project / "complaint.eml")], project)
    [outcome] = result.complaints
    assert (outcome.address, outcome.campaign) == ("dora.k@example.net", "t-1")
    entry = SuppressionList.for_project(project).get("dora.k@example.net")
    assert entry is not None and entry.reason == "complaint"


def test_soft_bounces_suppress_at_the_limit_and_count_each_report_once(project):
    ledger_with(project, 1, "bjorn@example.net")
    ledger_with(project, 2, "bjorn@example.net")  # a forced second campaign: other Message-IDs
    suppressions = SuppressionList.for_project(project)
    first = fixture_with_id("dsn-soft.eml", sent_id(project, "bjorn@example.net", 2), project)
    result = import_bounces([str(first)], project, soft_limit=2)
    assert [(o.campaign, o.suppressed) for o in result.soft] == [("t-1/campaign-2", False)]
    # The same report again (cron over a mailbox nobody empties): not a second bounce.
    again = import_bounces([str(first)], project, soft_limit=2)
    assert (len(again.soft), len(again.repeated)) == (0, 1)
    assert suppressions.soft_bounces("bjorn@example.net") == 1
    assert "bjorn@example.net" not in suppressions
    second = fixture_with_id(
        "dsn-soft.eml", sent_id(project, "bjorn@example.net"), project, "2.eml"
    )
    result = import_bounces([str(second)], project, soft_limit=2)
    assert [(o.campaign, o.suppressed) for o in result.soft] == [("t-1", True)]
    entry = suppressions.get("bjorn@example.net")
    assert entry is not None and entry.reason == "soft-bounces"


MATCHED = [
    ("ses-bounce.json", "finn@example.org"),
    ("sendgrid-events.json", "hana@example.org"),
    ("postmark-bounce.json", "lena@example.org"),
    ("mailgun-failed.json", "nora@example.org"),  # a Message-ID without its <>
]


@pytest.mark.parametrize(("name", "address"), MATCHED, ids=[m[0] for m in MATCHED])
def test_provider_events_are_matched_by_the_message_id_they_carry(project, name, address):
    ledger_with(project, 1, address)
    report = fixture_with_id(name, sent_id(project, address), project)
    result = import_bounces([str(report)], project)
    assert [(o.address, o.campaign) for o in result.hard] == [(address, "t-1")]


def test_an_unmatched_report_still_suppresses_its_address_and_is_listed(bare):
    code, out, err = run(str(DATA / "ses-bounce.json"))
    assert code == 0, err
    assert counts(out)["hard bounces"] == 1
    assert counts(out)["unmatched"] == 1
    assert out[-2:] == [
        "unmatched (no campaign of this project sent the reported message):",
        f"  finn@example.org  hard bounce  {DATA / 'ses-bounce.json'}",
    ]
    entry = SuppressionList.for_project(bare).get("finn@example.org")
    assert entry is not None and (entry.reason, entry.campaign) == ("hard-bounce", None)


def test_an_address_already_suppressed_keeps_its_first_reason(bare):
    suppressions = SuppressionList.for_project(bare)
    suppressions.add("ann.lee@example.org", "unsubscribed")
    suppressions.add("bjorn@example.net", "unsubscribed")
    code, out, _ = run(str(DATA / "dsn-hard.eml"), str(DATA / "dsn-soft.eml"))
    assert code == 0
    summary = counts(out)
    assert (summary["hard bounces"], summary["soft bounces"]) == (0, 0)
    assert summary["already suppressed"] == 2
    entry = suppressions.get("ann.lee@example.org")
    assert entry is not None and entry.reason == "unsubscribed"
    assert suppressions.soft_bounces("bjorn@example.net") == 0  # not counted either


def test_a_complaint_without_original_rcpt_to_names_the_original_to(bare):
    text = (DATA / "arf-complaint.eml").read_text(encoding="utf-8")
    (bare / "arf.eml").write_text(text.replace("Original-Rcpt-To: <dora.k@example.net>\n", ""))
    code, _, err = run("arf.eml")
    assert (code, err) == (0, [])
    assert "dora.k@example.net" in SuppressionList.for_project(bare)


def test_a_dry_run_changes_nothing(bare):
    code, out, _ = run("--dry-run", str(DATA / "dsn-hard.eml"), str(DATA / "sendgrid-events.json"))
    assert code == 0
    assert out[0] == "bounces import (dry run: nothing was changed)"
    assert counts(out)["hard bounces"] == 2
    assert not (bare / "subscribers").exists()


def test_a_message_sent_by_send_is_matched_from_its_returned_headers(
    project, smtp_server, server, smtp_url, secret
):
    csv = write_csv(project, ["ann.lee@example.org,Ann,Bergen", "bjorn@example.net,Bjorn,Oslo"])
    options = SendOptions(subscribers=csv, smtp=parse_smtp_url(smtp_url, environ={}), rate=0)
    assert (
        send_issue(project / "issues/t-1.yaml", options, progress_stream=io.StringIO()).exit_code
        == 0
    )
    [(_, raw)] = [(r, m) for r, m in server.raw() if r == "bjorn@example.net"]
    returned = message_from_bytes(raw, policy=policy.default)
    headers = "".join(f"{k}: {v}\n" for k, v in returned.items())
    dsn = (DATA / "dsn-hard.eml").read_text(encoding="utf-8")
    head, _, _ = dsn.partition("Content-Type: text/rfc822-headers\n\n")
    boundary = "--4Q9x2L0mT3z9vB.1764576009/mx1.example.net"
    dsn = head + "Content-Type: text/rfc822-headers\n\n" + headers + f"\n{boundary}--\n"
    # The fixture bounced ann.lee; the returned headers say the message was bjorn's.
    (project / "dsn.eml").write_text(dsn.replace("rfc822; ann.lee@", "rfc822; x@"), "utf-8")
    result = import_bounces([str(project / "dsn.eml")], project)
    [outcome] = result.hard
    assert (outcome.address, outcome.campaign) == ("bjorn@example.net", "t-1")


# -- formats and sources ----------------------------------------------------------------------

PROVIDERS = [
    ("ses-bounce.json", {"finn@example.org": "hard-bounce"}),
    ("ses-complaint.json", {"gus@example.net": "complaint"}),
    ("sendgrid-events.json", {"hana@example.org": "hard-bounce", "jo@example.org": "complaint"}),
    ("postmark-bounce.json", {"lena@example.org": "hard-bounce"}),
    ("postmark-spam.json", {"milo@example.net": "complaint"}),
    ("mailgun-failed.json", {"nora@example.org": "hard-bounce"}),
    ("arf-complaint.eml", {"dora.k@example.net": "complaint"}),
    ("dsn-hard.eml", {"ann.lee@example.org": "hard-bounce"}),
]


@pytest.mark.parametrize(("name", "expected"), PROVIDERS, ids=[p[0] for p in PROVIDERS])
def test_each_format_suppresses_its_addresses(bare, name, expected):
    code, _, err = run(str(DATA / name))
    assert (code, err) == (0, [])
    found = {s.address: s.reason for s in SuppressionList.for_project(bare).all()}
    assert found == expected


def test_sendgrid_events_each_count_and_a_delivery_is_ignored(bare):
    code, out, _ = run(str(DATA / "sendgrid-events.json"))
    assert code == 0
    summary = counts(out)
    assert (summary["hard bounces"], summary["soft bounces"], summary["complaints"]) == (1, 1, 1)
    assert summary["ignored"] == 1  # kai's "delivered"
    assert SuppressionList.for_project(bare).soft_bounces("ivo@example.net") == 1


def test_a_delay_is_not_a_bounce(bare):
    code, out, _ = run(str(DATA / "dsn-delayed.eml"))
    assert code == 0
    assert counts(out)["ignored"] == 1
    assert SuppressionList.for_project(bare).soft_bounces("carla@example.org") == 0


def test_an_mbox_is_read_message_by_message(bare):
    source = str(DATA / "bounces.mbox")
    code, out, err = run(source)
    assert code == 0
    summary = counts(out)
    assert (summary["hard bounces"], summary["soft bounces"], summary["complaints"]) == (1, 1, 1)
    assert err == [
        f"{source}:message 2: skipped: not a bounce or complaint report "
        "(text/plain, subject 'Out of office: Test Issue')"
    ]


def test_a_maildir_is_read_and_left_as_it_was(bare, tmp_path):
    folder = mailbox.Maildir(tmp_path / "Maildir", create=True)
    keys = {
        name: folder.add((DATA / name).read_bytes()) for name in ("dsn-hard.eml", "autoreply.eml")
    }
    code, out, err = run(str(tmp_path / "Maildir"))
    assert code == 0
    assert counts(out)["hard bounces"] == 1
    assert err == [
        f"{tmp_path / 'Maildir'}:{keys['autoreply.eml']}: skipped: not a bounce or complaint "
        "report (text/plain, subject 'Out of office: Test Issue')"
    ]
    assert sorted(folder.keys()) == sorted(keys.values())


def test_a_source_that_cannot_be_read_exits_1_after_the_others(bare):
    code, out, err = run(str(bare / "missing.mbox"), str(DATA / "dsn-hard.eml"))
    assert code == 1
    assert f"{bare / 'missing.mbox'}: no such file or folder" in err
    assert counts(out)["hard bounces"] == 1


def test_it_runs_only_in_a_project_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(str(DATA / "dsn-hard.eml"))
    assert code == 1
    assert "run bounces import from the project folder" in err[0]
    assert not (tmp_path / "subscribers").exists()


# -- malformed input: each skipped with its line ----------------------------------------------

MALFORMED_REASONS = {
    "01-empty.eml": "empty",
    "02-binary.bin": "binary data, not a message",
    "03-truncated-mime.eml": "cut off: the message ends inside its status part",
    "04-no-status-part.eml": "a delivery-status report without its message/delivery-status part",
    "05-no-status-field.eml": "no Status field",
    "06-bad-status.eml": "Status '9.9.9' is not like 5.1.1",
    "07-success-status.eml": "Action failed with the success Status 2.0.0",
    "08-missing-recipient.eml": "no Final-Recipient, and no returned Message-ID either",
    "09-wrong-report-type.eml": "a report of type 'disposition-notification', not delivery-stat",
    "10-not-a-report.eml": "not a bounce or complaint report (text/plain, subject 'Re: Test Is",
    "11-arf-no-feedback-type.eml": "a feedback report without Feedback-Type",
    "12-arf-no-recipient.eml": "a complaint naming neither its recipient nor the original Messa",
    "13-no-boundary.eml": "broken MIME: the multipart/report boundary is never found",
    "14-unknown-action.eml": "Action 'exploded' is not failed, delayed or delivered",
    "15-not-json.json": "not JSON: Unterminated string",
    "16-wrong-shape.json": "JSON of an unknown shape (keys: hello, items)",
    "17-json-string-event.json": "a JSON string, not an object",
    "18-json-empty-array.json": "a JSON payload with no events",
    "19-ses-no-recipients.json": "no bounce.bouncedRecipients",
    "20-ses-bad-bounce-type.json": "bounce.bounceType 'Maybe' is not Permanent or Transient",
    "21-sns-message-not-json.json": "the SNS Message is not JSON",
    "22-sendgrid-bad-status.json": "status 'five-one-one' is not a code like 5.1.1",
    "23-sendgrid-no-email.json": "names no valid recipient address",
    "24-postmark-unknown-type.json": "unknown Postmark bounce Type 'Mystery'",
    "25-mailgun-bad-severity.json": "severity 'catastrophic' is not permanent or temporary",
    "26-mailgun-event-not-object.json": "event-data is not an object",
    "27-bad-address.json": "names no valid recipient address ('not an address')",
    "28-not-utf8.json": "not UTF-8 text (byte 60)",
}


def test_every_malformed_input_is_skipped_with_its_line(bare):
    assert sorted(p.name for p in MALFORMED.iterdir()) == sorted(MALFORMED_REASONS)
    code, out, err = run(str(MALFORMED))
    assert code == 0  # skipped and said so: the run itself did its job
    assert len(err) == len(MALFORMED_REASONS)
    for line, (name, reason) in zip(sorted(err), sorted(MALFORMED_REASONS.items()), strict=True):
        assert line.startswith(f"{MALFORMED}:{name}: skipped: {reason}"), line
    assert counts(out)["skipped"] == len(MALFORMED_REASONS)
    assert SuppressionList.for_project(bare).all() == []


def test_a_half_readable_report_keeps_its_good_recipients(bare):
    text = (DATA / "dsn-hard.eml").read_text(encoding="utf-8")
    block = "Final-Recipient: rfc822; ann.lee@example.org\n"
    two = text.replace(block, "Final-Recipient: rfc822; x@example.net\nAction: failed\n"
                              "Status: 5.x.1\n\n" + block)  # fmt: skip
    (bare / "two.eml").write_text(two, encoding="utf-8")
    code, out, err = run("two.eml")
    assert code == 0
    assert err == ["two.eml:recipient 1: skipped: Status '5.x.1' is not like 5.1.1"]
    assert counts(out)["hard bounces"] == 1
    assert "ann.lee@example.org" in SuppressionList.for_project(bare)


# -- IMAP: a real Dovecot on loopback ---------------------------------------------------------

DOVECOT_CONF = """\
base_dir = {run}/run
state_dir = {run}/state
log_path = {run}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
auth_failure_delay = 0
first_valid_uid = 1
mail_location = maildir:{run}/home/%u/Maildir
{users}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {run}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={run}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""
# Dovecot 2.4 (Debian 13) renamed most settings and its %-variables: the same server, written
# its way.
DOVECOT_24_CONF = """\
dovecot_config_version = 2.4.0
dovecot_storage_version = 2.4.0
base_dir = {run}/run
state_dir = {run}/state
log_path = {run}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
auth_allow_cleartext = yes
auth_mechanisms = plain
auth_failure_delay = 0
first_valid_uid = 1
mail_driver = maildir
mail_path = {run}/home/%{{user}}/Maildir
{users}
passdb passwd-file {{
  passwd_file_path = {run}/passwd
}}
userdb static {{
  fields {{
    uid = {uid}
    gid = {gid}
    home = {run}/home/%{{user}}
  }}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    listen = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""
IMAP_PASSWORD = "imap-test-password"


def dovecot_conf(binary: str) -> str:
    """The configuration template for this Dovecot's version (2.3 or 2.4)."""
    version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout
    return DOVECOT_24_CONF if version.startswith("2.4") else DOVECOT_CONF


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def dovecot() -> Iterator[int]:
    """Dovecot's IMAP on a free loopback port, user ``bounces``; yields the port.

    As root, Dovecot's own unprivileged users run the login and mail processes (it refuses
    root for them), so its folder must be readable by them: not pytest's private tmp_path.
    """
    binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
    assert os.path.exists(binary), "dovecot is missing: `make system` installs dovecot-imapd"
    run_dir = Path(tempfile.mkdtemp(prefix="magbuilder-dovecot-"))
    run_dir.chmod(0o755)
    if os.geteuid() == 0:
        owner = pwd.getpwnam("dovecot")
        uid, gid, users = owner.pw_uid, owner.pw_gid, ""
    else:
        me = pwd.getpwuid(os.getuid()).pw_name
        uid, gid = os.getuid(), os.getgid()
        users = f"default_internal_user = {me}\ndefault_login_user = {me}\n"
    (run_dir / "home").mkdir()
    os.chown(run_dir / "home", uid, gid)
    (run_dir / "passwd").write_text(f"bounces:{{PLAIN}}{IMAP_PASSWORD}\n")
    port = free_port()
    conf = run_dir / "dovecot.conf"
    template = dovecot_conf(binary)
    conf.write_text(template.format(run=run_dir, users=users, uid=uid, gid=gid, port=port))
    process = subprocess.Popen([binary, "-F", "-c", str(conf)], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                imaplib.IMAP4("127.0.0.1", port, timeout=2).logout()
                break
            except OSError:
                log = run_dir / "dovecot.log"
                if process.poll() is not None:
                    errors = (
                        process.stderr.read().decode(errors="replace") if process.stderr else ""
                    )
                    logged = log.read_text() if log.exists() else ""
                    pytest.fail(f"dovecot stopped ({process.returncode}): {errors}{logged}")
                assert time.monotonic() < deadline, "dovecot did not start in 10 s"
                time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(run_dir, ignore_errors=True)


@pytest.fixture
def inbox(dovecot: int, monkeypatch: pytest.MonkeyPatch) -> Iterator[imaplib.IMAP4]:
    """An empty INBOX of ``bounces``, and MAGBUILDER_IMAP_PASSWORD set for it."""
    monkeypatch.setenv("MAGBUILDER_IMAP_PASSWORD", IMAP_PASSWORD)
    conn = imaplib.IMAP4("127.0.0.1", dovecot, timeout=10)
    conn.login("bounces", IMAP_PASSWORD)
    _, [count] = conn.select("INBOX")
    if int(count):
        conn.store("1:*", "+FLAGS", "(\\Deleted)")
        conn.expunge()
    yield conn
    conn.logout()


def flags(port: int) -> list[set[str]]:
    """Each message's flags in INBOX, in order (read in a session of its own)."""
    conn = imaplib.IMAP4("127.0.0.1", port, timeout=10)
    conn.login("bounces", IMAP_PASSWORD)
    conn.select("INBOX", readonly=True)
    status, data = conn.fetch("1:*", "(FLAGS)")
    conn.logout()
    assert status == "OK"
    return [set(re.search(rb"FLAGS \(([^)]*)\)", d).group(1).decode().split()) for d in data]


def test_imap_reports_are_imported_and_marked(bare, inbox, dovecot):
    for name in ("dsn-hard.eml", "autoreply.eml", "ses-bounce.json", "arf-complaint.eml"):
        inbox.append("INBOX", None, None, (DATA / name).read_bytes().replace(b"\n", b"\r\n"))
    url = f"imap+insecure://bounces@127.0.0.1:{dovecot}/INBOX"

    code, out, err = run("--dry-run", url)  # read-only: no flag changes
    assert code == 0 and counts(out)["hard bounces"] == 2
    assert all("\\Seen" not in f for f in flags(dovecot))

    code, out, err = run(url)
    assert code == 0
    summary = counts(out)
    assert (summary["hard bounces"], summary["complaints"], summary["skipped"]) == (2, 1, 1)
    assert err == [
        f"{url}:uid 2: skipped: not a bounce or complaint "
        "report (text/plain, subject 'Out of office: Test Issue')"
    ]
    marks = flags(dovecot)
    assert ["\\Seen" in f for f in marks] == [True, False, True, True]
    assert "MagbuilderSkipped" in marks[1]  # left unread for a person, not reported again
    assert {s.address for s in SuppressionList.for_project(bare).all()} == {
        "ann.lee@example.org", "finn@example.org", "dora.k@example.net",
    }  # fmt: skip

    code, out, err = run(url)  # nothing new: nothing read, nothing said
    assert (code, err) == (0, [])
    assert sum(counts(out).values()) == 0


def test_imap_login_refused_exits_1(bare, inbox, dovecot, monkeypatch):
    monkeypatch.setenv("MAGBUILDER_IMAP_PASSWORD", "wrong")
    code, _, err = run(f"imap+insecure://bounces@127.0.0.1:{dovecot}/INBOX")
    assert code == 1
    assert err[0].startswith(f"imap+insecure://bounces@127.0.0.1:{dovecot}/INBOX: login refused")
    assert "wrong" not in "\n".join(err)


def test_imap_urls_keep_the_password_off_the_network():
    env = {"MAGBUILDER_IMAP_PASSWORD": "pw"}
    settings = parse_imap_url("imaps://bounces%40mag.example@imap.example.net/Bounces", env)
    assert (settings.host, settings.port, settings.user) == (
        "imap.example.net",
        993,
        "bounces@mag.example",
    )
    assert settings.mailbox == "Bounces" and "pw" not in repr(settings)
    assert parse_imap_url("imap://u@imap.example.net", env).port == 143
    with pytest.raises(SourceError, match="for a server on this machine only"):
        parse_imap_url("imap+insecure://u@imap.example.net/INBOX", env)
    with pytest.raises(SourceError, match="no password: set MAGBUILDER_IMAP_PASSWORD"):
        parse_imap_url("imaps://u@imap.example.net/INBOX", {})
