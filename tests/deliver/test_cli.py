"""``magbuilder send`` as a real process: killed part-way, interrupted, resumed; never twice."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from .conftest import (
    SECRET,
    addresses,
    cli_env,
    drop_the_first,
    drop_without_replying,
    run_send,
    send_cmd,
    subscriber_rows,
    write_csv,
)

pytestmark = pytest.mark.slow  # real processes killed and resumed mid-send


def ledger_file(project: Path, number: int = 1) -> Path:
    return project / "build" / "t-1" / "campaigns" / f"t-1.{number}.sqlite"


def ledger_counts(project: Path) -> dict[str, int]:
    db = sqlite3.connect(ledger_file(project))
    counts = dict(db.execute("SELECT state, COUNT(*) FROM recipients GROUP BY state"))
    counts["in_flight"] = db.execute("SELECT COUNT(*) FROM recipients WHERE in_flight").fetchone()[
        0
    ]
    db.close()
    return counts


def ledger_addresses(project: Path, where: str) -> set[str]:
    """The addresses of the ledger's rows matching an SQL condition, e.g. ``state = 'sent'``."""
    db = sqlite3.connect(ledger_file(project))
    found = {row[0] for row in db.execute(f"SELECT key FROM recipients WHERE {where}")}
    db.close()
    return found


IN_HAND_WARNING = "an earlier run stopped while handing this message to the server"
NOT_AGAIN = "not sent again unless you ask (--resend-in-doubt)"


def start(project: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        send_cmd(*args),
        cwd=project,
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill_when_received(sender: subprocess.Popen[str], server, count: int) -> None:  # noqa: ANN001
    """SIGKILL the sender, wherever it happens to be, once the server has ``count`` messages."""
    deadline = time.monotonic() + 30
    while sum(server.received().values()) < count and time.monotonic() < deadline:
        time.sleep(0.001)
    sender.kill()
    sender.communicate(timeout=30)
    assert sender.returncode == -signal.SIGKILL


def test_sigkill_while_the_server_has_the_data_leaves_that_one_in_doubt_until_resent_on_request(
    project, server, smtp_url
):
    csv = write_csv(project, subscriber_rows(200))
    args = ("--subscribers", csv.name, "--smtp", smtp_url, "--rate", "0")
    sender: list[subprocess.Popen[str]] = []

    def kill_with_message_in_hand(count, srv):
        # The 81st message has been transmitted but not yet accepted: kill the sender now.
        if count == 80 and sender and sender[0].poll() is None:
            os.kill(sender[0].pid, signal.SIGKILL)
            return "451 4.3.0 not accepted"  # nobody reads this: the client is dead
        return None

    server.before_accept = kill_with_message_in_hand
    sender.append(start(project, *args))
    sender[0].communicate(timeout=60)
    assert sender[0].returncode == -signal.SIGKILL
    assert sum(server.received().values()) == 80  # the kill cut the run short
    assert ledger_counts(project) == {"sent": 80, "pending": 120, "in_flight": 1}

    server.before_accept = None
    rerun = run_send(project, *args)
    # The sender cannot know the server never stored it: in doubt, named, not sent again.
    assert rerun.returncode == 1, rerun.stderr
    assert f"reader0080@subs.example: in doubt: {IN_HAND_WARNING}; {NOT_AGAIN}" in rerun.stderr
    assert rerun.stderr.rstrip("\n").endswith(in_doubt_hint(["reader0080@subs.example"]))
    assert server.received() == dict.fromkeys(addresses(200) - {"reader0080@subs.example"}, 1)
    assert ledger_counts(project) == {"sent": 199, "in_doubt": 1, "in_flight": 0}

    resend = run_send(project, *args, "--resend-in-doubt")
    assert resend.returncode == 0, resend.stderr
    assert server.received() == dict.fromkeys(addresses(200), 1)
    assert ledger_counts(project) == {"sent": 200, "in_flight": 0}


def test_sigkill_after_the_server_accepted_but_before_the_ledger_recorded_it(
    project, server, smtp_url
):
    """The server has it, the ledger cannot know: in doubt, sent again only on request."""
    csv = write_csv(project, subscriber_rows(40))
    args = ("--subscribers", csv.name, "--smtp", smtp_url, "--rate", "0")
    sender: list[subprocess.Popen[str]] = []

    def freeze_then_kill(count: int, srv) -> None:
        if count == 16:  # reader0015's message is stored: the server has accepted it
            # Stopped before its 250 goes out, the sender cannot record anything after it;
            # killed once the 250 is written (call_soon runs after this reply is pushed).
            os.kill(sender[0].pid, signal.SIGSTOP)
            asyncio.get_running_loop().call_soon(os.kill, sender[0].pid, signal.SIGKILL)

    server.after_accept = freeze_then_kill
    sender.append(start(project, *args))
    try:
        sender[0].communicate(timeout=30)
    finally:
        if sender[0].poll() is None:
            sender[0].kill()
            sender[0].communicate()
    assert sender[0].returncode == -signal.SIGKILL
    assert server.received() == dict.fromkeys(addresses(16), 1)  # 16 of 40: cut short
    assert ledger_counts(project) == {"sent": 15, "pending": 25, "in_flight": 1}
    assert ledger_addresses(project, "in_flight") == {"reader0015@subs.example"}

    server.after_accept = None
    rerun = run_send(project, *args)
    assert rerun.returncode == 1, rerun.stderr
    warnings = [line for line in rerun.stderr.splitlines() if IN_HAND_WARNING in line]
    assert warnings == [f"reader0015@subs.example: in doubt: {IN_HAND_WARNING}; {NOT_AGAIN}"]
    assert rerun.stderr.rstrip("\n").endswith(in_doubt_hint(["reader0015@subs.example"]))
    assert rerun.stdout.splitlines()[-2:] == [
        IN_DOUBT_TITLE,
        f"  reader0015@subs.example  {IN_HAND_WARNING} (1 attempt)",
    ]
    assert server.received() == dict.fromkeys(addresses(40), 1)  # nobody twice
    assert ledger_counts(project) == {"sent": 39, "in_doubt": 1, "in_flight": 0}

    resend = run_send(project, *args, "--resend-in-doubt")  # the editor's choice
    assert resend.returncode == 0, resend.stderr
    assert server.received() == {**dict.fromkeys(addresses(40), 1), "reader0015@subs.example": 2}
    first, second = server.parsed()["reader0015@subs.example"]
    assert first["Message-ID"] == second["Message-ID"]  # the same message, offered again
    assert ledger_counts(project) == {"sent": 40, "in_flight": 0}


def test_sigkill_at_any_moment_duplicates_nobody_and_names_the_one_in_doubt(
    project, server, smtp_url
):
    csv = write_csv(project, subscriber_rows(200))
    args = ("--subscribers", csv.name, "--smtp", smtp_url, "--rate", "0")
    kill_when_received(start(project, *args), server, 60)
    before = server.received()
    assert 60 <= sum(before.values()) < 200  # the kill interrupted the run
    # Marked sent only once the server accepted; at most the one message in hand is in flight.
    assert ledger_addresses(project, "state = 'sent'") <= set(before)
    in_flight = ledger_addresses(project, "in_flight")
    assert len(in_flight) <= 1

    rerun = run_send(project, *args)
    assert rerun.returncode == (1 if in_flight else 0), rerun.stderr
    received = server.received()
    assert set(received.values()) == {1}  # nobody twice
    assert set(received) >= addresses(200) - in_flight  # nobody skipped but the one in doubt
    assert ledger_addresses(project, "state = 'in_doubt'") == in_flight
    for address in in_flight:  # named
        assert f"{address}: in doubt: {IN_HAND_WARNING}; {NOT_AGAIN}" in rerun.stderr
        assert rerun.stderr.rstrip("\n").endswith(in_doubt_hint([address]))

    resend = run_send(project, *args, "--resend-in-doubt")
    assert resend.returncode == 0, resend.stderr
    received = server.received()
    assert set(received) == addresses(200)
    assert {a for a, n in received.items() if n > 1} <= in_flight


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 1)])
def test_ctrl_c_finishes_the_message_in_hand_and_exits_with_a_resume_hint(
    project, server, smtp_url, signum, code
):
    csv = write_csv(project, subscriber_rows(60))
    args = ("--subscribers", csv.name, "--smtp", smtp_url, "--rate", "0")
    sender: list[subprocess.Popen[str]] = []

    def interrupt(count, srv):
        if count == 25 and sender:
            os.kill(sender[0].pid, signum)  # while the 26th message is in hand
        return None

    server.before_accept = interrupt
    sender.append(start(project, *args))
    out, err = sender[0].communicate(timeout=60)
    assert sender[0].returncode == code, err
    assert f"stopped by {signal.Signals(signum).name} after 26 messages in this run" in err
    assert "the message in hand was finished and recorded" in err
    assert "run the same command again to resume" in err
    assert "Traceback" not in err
    assert ledger_counts(project) == {"sent": 26, "pending": 34, "in_flight": 0}
    assert sum(server.received().values()) == 26

    server.before_accept = None
    assert run_send(project, *args).returncode == 0
    assert server.received() == dict.fromkeys(addresses(60), 1)


def test_refuses_to_start_without_the_secret(project, server, smtp_url):
    csv = write_csv(project, subscriber_rows(3))
    result = run_send(
        project,
        *("--subscribers", csv.name, "--smtp", smtp_url),
        env=cli_env(MAGBUILDER_UNSUBSCRIBE_SECRET=None),
    )
    assert result.returncode == 1
    assert result.stderr.startswith("MAGBUILDER_UNSUBSCRIBE_SECRET is not set:")
    assert "Traceback" not in result.stderr
    assert not server.received()
    assert not (project / "build").exists()


def test_report_status_bad_rows_and_the_secret_never_leaks(project, server, smtp_url):
    rows = subscriber_rows(20)
    rows[4] = "not-an-address,Nobody,Nowhere"
    rows[9] = "READER0001@subs.example,Duplicate,Twice"
    csv = write_csv(project, rows)
    server.rcpt_plan = {
        "reader0003@subs.example": ["always:550 5.1.1 No such user"],
        "reader0006@subs.example": ["always:451 4.7.1 Greylisted"],
    }
    args = ("--subscribers", csv.name, "--smtp", smtp_url, "--rate", "0")
    sent = run_send(project, *args, "--max-attempts", "2", "--retry-delay", "0.01")
    assert sent.returncode == 1  # one address still failing: run again later
    assert "subscribers.csv:6: 'not-an-address' is not a valid address" in sent.stderr
    assert "subscribers.csv:11: warning: 'READER0001@subs.example' is a duplicate of line 3" in (
        sent.stderr
    )
    assert "reader0003@subs.example: refused: 550 5.1.1 No such user" in sent.stderr
    assert "sending [" in sent.stderr  # the progress line
    lines = sent.stdout.splitlines()
    assert lines[0].startswith("campaign 1 of issue t-1: sent 16 in this run; ledger build/")
    assert lines[1:5] == ["  pending   0", "  sent     16", "  failed    1", "  refused   1"]

    status = run_send(project, "--status")
    assert status.returncode == 0, status.stderr
    out = status.stdout
    assert out.startswith("campaign 1 of issue t-1: 'Subject', started ")
    assert "  sent     16\n  failed    1\n  refused   1" in out
    assert "reader0006@subs.example  451 4.7.1 Greylisted (2 attempts, next try after " in out
    assert "refused (permanent; never retried):\n  reader0003@subs.example  550 5.1.1" in out

    dry = run_send(project, "--subscribers", csv.name, "--dry-run", "eml")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.strip() == "dry run: wrote 18 messages to eml; nothing was sent"

    outputs = [sent.stdout, sent.stderr, status.stdout, status.stderr, dry.stdout, dry.stderr]
    files = [p for p in (project / "build").rglob("*") if p.is_file()]
    files += list((project / "eml").iterdir())
    assert any(p.suffix == ".sqlite" for p in files)
    for text in outputs:
        assert SECRET not in text
    for path in files:
        assert SECRET.encode() not in path.read_bytes(), path


def test_status_before_any_campaign(project):
    result = run_send(project, "--status", env=cli_env(MAGBUILDER_UNSUBSCRIBE_SECRET=None))
    assert result.returncode == 0
    assert result.stdout.startswith("issue t-1: no campaign yet (no ledger in ")


def test_usage_errors_exit_2(project, smtp_url):
    csv = write_csv(project, subscriber_rows(2))
    no_server = run_send(project, "--subscribers", csv.name)
    assert no_server.returncode == 2
    assert "--smtp URL is required" in no_server.stderr
    both = run_send(project, "--smtp", smtp_url, "--test", "a@b.example", "--dry-run", "x")
    assert both.returncode == 2


def test_help_documents_the_command():
    result = subprocess.run(
        [*send_cmd()[:4], "send", "--help"], capture_output=True, text=True, check=True
    )
    options = "--subscribers --smtp --tls --test --dry-run --rate --state-dir --force-new-campaign"
    for option in [*options.split(), "--status", "MAGBUILDER_UNSUBSCRIBE_SECRET", "_PASSWORD"]:
        assert option in result.stdout
    assert "--resend-in-doubt" in result.stdout


def test_a_second_ctrl_c_abandons_the_message_in_hand_at_once(project, server, smtp_url):
    csv = write_csv(project, subscriber_rows(30))
    args = ("--subscribers", csv.name, "--smtp", smtp_url, "--rate", "0")
    sender: list[subprocess.Popen[str]] = []

    def interrupt_twice(count, srv):
        if count == 10 and sender and sender[0].poll() is None:
            os.kill(sender[0].pid, signal.SIGINT)
            time.sleep(0.3)
            os.kill(sender[0].pid, signal.SIGINT)  # the sender stops waiting for this reply
            time.sleep(0.3)
            return "451 4.3.0 not accepted"  # the reply comes too late for anybody
        return None

    server.before_accept = interrupt_twice
    sender.append(start(project, *args))
    _, err = sender[0].communicate(timeout=30)
    assert sender[0].returncode == 130, err
    # Cut short while the server had the data: it may have the message, so it is in doubt.
    assert "the message in hand was abandoned after it went to the server: it is in doubt" in err
    assert err.rstrip("\n").endswith(in_doubt_hint(["reader0010@subs.example"]))
    assert ledger_counts(project) == {"sent": 10, "pending": 19, "in_doubt": 1, "in_flight": 0}
    server.before_accept = None
    rerun = run_send(project, *args)
    assert rerun.returncode == 1, rerun.stderr
    assert server.received() == dict.fromkeys(addresses(30) - {"reader0010@subs.example"}, 1)
    assert run_send(project, *args, "--resend-in-doubt").returncode == 0
    assert server.received() == dict.fromkeys(addresses(30), 1)


# -- messages whose fate is unknown: in doubt, never sent again unless the editor asks ------------

LOST_AFTER_DATA = "connection lost after the end of the data, before the server's reply"
IN_DOUBT_TITLE = (
    "in doubt (the server may or may not have it; sent again only with --resend-in-doubt):"
)


def ledger_states(project: Path) -> dict[str, str]:
    db = sqlite3.connect(ledger_file(project))
    states = dict(db.execute("SELECT key, state FROM recipients"))
    db.close()
    return states


def in_doubt_hint(names: list[str]) -> str:
    """The last lines of stderr after a run that leaves recipients in doubt."""
    count = len(names)
    who = "recipients are" if count > 1 else "recipient is"
    return (
        f"{count} {who} in doubt (the server may or may not have accepted the message): "
        f"{', '.join(names)}.\n"
        "They are not sent again automatically, so nobody gets the newsletter twice. If the "
        "server's log does not show them delivered, run the same command with "
        "--resend-in-doubt to send them another copy."
    )


def test_a_server_that_drops_the_connection_after_every_message_gets_one_copy_each(
    project, server, smtp_url
):
    """Issue 14: stored, then the connection closed unanswered, every time: 10 copies each."""
    csv = write_csv(project, subscriber_rows(3))
    args = ("--subscribers", csv.name, "--smtp", smtp_url, "--rate", "0", "--retry-delay", "0.2")
    everyone = sorted(addresses(3))
    server.after_accept = drop_without_replying

    first = run_send(project, *args)
    assert server.received() == dict.fromkeys(everyone, 1)  # never offered again
    assert first.returncode == 1, first.stderr
    for address in everyone:
        assert f"{address}: in doubt: {LOST_AFTER_DATA}; not sent again unless you ask" in (
            first.stderr
        )
    assert first.stderr.rstrip("\n").endswith(in_doubt_hint(everyone))
    assert "Traceback" not in first.stderr
    report = first.stdout.splitlines()
    assert report[1:6] == [
        "  pending  0",
        "  sent     0",
        "  failed   0",
        "  refused  0",
        "  in doubt 3",
    ]
    listed = report[report.index(IN_DOUBT_TITLE) + 1 :]
    assert listed == [f"  {a}  {LOST_AFTER_DATA} (1 attempt)" for a in everyone]
    assert ledger_states(project) == dict.fromkeys(everyone, "in_doubt")
    assert ledger_counts(project)["in_flight"] == 0

    status = run_send(project, "--status")
    assert status.returncode == 0, status.stderr
    assert "  in doubt 3" in status.stdout
    assert (
        f"{IN_DOUBT_TITLE}\n" + "\n".join(f"  {a}  {LOST_AFTER_DATA} (1 attempt)" for a in everyone)
        in status.stdout
    )

    again = run_send(project, *args)  # the same command: still nobody gets a second copy
    assert again.returncode == 1
    assert again.stderr.rstrip("\n").endswith(in_doubt_hint(everyone))
    assert server.received() == dict.fromkeys(everyone, 1)

    server.after_accept = None  # the server behaves again; the editor chooses to send once more
    resend = run_send(project, *args, "--resend-in-doubt")
    assert resend.returncode == 0, resend.stderr
    assert "--resend-in-doubt: sending another copy to 3 recipients in doubt" in resend.stderr
    assert server.received() == dict.fromkeys(everyone, 2)  # exactly one more each
    assert ledger_states(project) == dict.fromkeys(everyone, "sent")
    assert IN_DOUBT_TITLE not in resend.stdout
    status = run_send(project, "--status")
    assert "  in doubt 0" in status.stdout and "subs.example" not in status.stdout


def test_a_connection_dropped_once_after_the_data_leaves_that_one_recipient_in_doubt(
    project, server, smtp_url
):
    csv = write_csv(project, subscriber_rows(5))
    args = ("--subscribers", csv.name, "--smtp", smtp_url, "--rate", "0", "--retry-delay", "0.2")
    doubtful = "reader0000@subs.example"
    server.after_accept = drop_the_first(1)  # once, then a normal server

    first = run_send(project, *args)
    assert first.returncode == 1, first.stderr
    assert server.received() == dict.fromkeys(addresses(5), 1)
    assert first.stderr.rstrip("\n").endswith(in_doubt_hint([doubtful]))
    assert first.stdout.splitlines()[-2:] == [
        IN_DOUBT_TITLE,
        f"  {doubtful}  {LOST_AFTER_DATA} (1 attempt)",
    ]
    assert ledger_states(project) == {**dict.fromkeys(addresses(5), "sent"), doubtful: "in_doubt"}

    resend = run_send(project, *args, "--resend-in-doubt")
    assert resend.returncode == 0, resend.stderr
    assert server.received() == {**dict.fromkeys(addresses(5), 1), doubtful: 2}
    assert ledger_states(project) == dict.fromkeys(addresses(5), "sent")
    assert run_send(project, *args, "--resend-in-doubt").returncode == 0  # nothing left in doubt
    assert server.received() == {**dict.fromkeys(addresses(5), 1), doubtful: 2}
