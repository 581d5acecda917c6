"""Sending a campaign to a real SMTP server (aiosmtpd on loopback): once each, personalised."""

from __future__ import annotations

import html
import io
import re
import sqlite3
from dataclasses import replace
from email import message_from_bytes, policy

import pytest

from magbuilder.deliver import SendOptions, SmtpFatalError, parse_smtp_url, send_issue, verify
from magbuilder.deliver.ledger import exclusive
from magbuilder.errors import InputError

from .conftest import SECRET, addresses, drop_without_replying, subscriber_rows, write_csv

TOKEN = re.compile(r"https://mag\.example/unsubscribe\?token=([A-Za-z0-9_-]{43})")


def options(csv, smtp_url, **kw) -> SendOptions:
    return SendOptions(
        subscribers=csv, smtp=parse_smtp_url(smtp_url, environ={}), rate=0, retry_delay=0.02, **kw
    )


def send(project, opts):
    return send_issue(project / "issues/t-1.yaml", opts, progress_stream=io.StringIO())


def check_message(message, address: str, name: str) -> str:
    """One subscriber's message: alternative parts, own verified token everywhere, greeting."""
    assert message.get_content_type() == "multipart/alternative"
    text_part, html_part = message.iter_parts()
    assert text_part.get_content_type() == "text/plain"
    assert html_part.get_content_type() == "text/html"
    text, body = text_part.get_content(), html_part.get_content()
    assert message["To"] == address
    [token] = TOKEN.findall(message["List-Unsubscribe"])
    assert verify(address, token, SECRET)
    assert TOKEN.findall(text) == [token]
    assert TOKEN.findall(body) == [token]
    assert f"Dear {name}," in text
    assert f"Dear {html.escape(name)}," in body
    return token


@pytest.mark.slow
def test_every_subscriber_gets_exactly_one_personalised_message(project, server, smtp_url, secret):
    rows = subscriber_rows(210)
    rows[7] = "reader0007@subs.example,Tom <b>& Jerry</b>,City"
    csv = write_csv(project, rows)
    result = send(project, options(csv, smtp_url))
    assert result.exit_code == 0
    assert result.sent_now == 210
    assert result.counts == {"pending": 0, "sent": 210, "failed": 0, "refused": 0, "in_doubt": 0}
    received = server.received()
    assert set(received) == addresses(210)
    assert set(received.values()) == {1}
    tokens, ids = set(), set()
    for address, [message] in server.parsed().items():
        number = int(address[6:10])
        name = "Tom <b>& Jerry</b>" if number == 7 else f"Reader {number}"
        tokens.add(check_message(message, address, name))
        ids.add(message["Message-ID"])
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert len(tokens) == len(ids) == 210  # each their own token and Message-ID
    # The header goes on the wire as a plain <URL>, which is what mail clients act on.
    for _, raw in server.raw():
        assert re.search(rb"\r\nList-Unsubscribe: <https://mag\.example/unsubscribe\?token=", raw)


def test_running_again_sends_nothing_more(project, server, smtp_url, secret):
    csv = write_csv(project, subscriber_rows(20))
    send(project, options(csv, smtp_url))
    again = send(project, options(csv, smtp_url))
    assert again.sent_now == 0 and again.exit_code == 0
    assert sum(server.received().values()) == 20


def test_new_subscribers_are_added_to_the_running_campaign(project, server, smtp_url, secret):
    csv = write_csv(project, subscriber_rows(10))
    send(project, options(csv, smtp_url))
    write_csv(project, subscriber_rows(15))
    assert send(project, options(csv, smtp_url)).sent_now == 5
    assert server.received() == dict.fromkeys(addresses(15), 1)


def test_4xx_is_retried_with_back_off_and_delivered_once(project, server, smtp_url, secret):
    csv = write_csv(project, subscriber_rows(30))
    grey = [f"reader{i:04d}@subs.example" for i in (3, 11, 29)]
    server.rcpt_plan = {grey[0]: ["451 4.7.1 Greylisted"], grey[1]: ["450 4.2.0 Busy"] * 2}
    server.rcpt_plan[grey[2]] = ["452 4.3.1 Insufficient storage"]
    result = send(project, options(csv, smtp_url))
    assert result.exit_code == 0
    assert result.counts["sent"] == 30
    assert server.received() == dict.fromkeys(addresses(30), 1)
    assert [server.rcpt_attempts[a] for a in grey] == [2, 3, 2]
    db = sqlite3.connect(result.ledger)
    attempts = dict(db.execute("SELECT key, attempts FROM recipients WHERE attempts > 1"))
    assert attempts == {grey[0]: 2, grey[1]: 3, grey[2]: 2}


def test_5xx_is_recorded_as_refused_and_never_retried(project, server, smtp_url, secret):
    csv = write_csv(project, subscriber_rows(12))
    gone = "reader0005@subs.example"
    server.rcpt_plan = {gone: ["always:550 5.1.1 No such user here"]}
    first = send(project, options(csv, smtp_url))
    assert first.exit_code == 0
    assert first.counts == {"pending": 0, "sent": 11, "failed": 0, "refused": 1, "in_doubt": 0}
    assert [(r.address, r.reply) for r in first.refused] == [(gone, "550 5.1.1 No such user here")]
    second = send(project, options(csv, smtp_url))
    assert second.sent_now == 0
    assert server.rcpt_attempts[gone] == 1  # not asked again
    assert gone not in server.received()


def test_persistent_4xx_stops_after_the_attempts_and_is_retried_next_run(
    project, server, smtp_url, secret
):
    csv = write_csv(project, subscriber_rows(5))
    stuck = "reader0002@subs.example"
    server.rcpt_plan = {stuck: ["451 4.4.1 Try later"] * 3}
    first = send(project, options(csv, smtp_url, max_attempts=2))
    assert first.exit_code == 1  # something is left to do
    assert [(r.address, r.state, r.attempts) for r in first.failed] == [(stuck, "failed", 2)]
    assert server.rcpt_attempts[stuck] == 2
    second = send(project, options(csv, smtp_url, max_attempts=2))
    assert second.exit_code == 0 and second.sent_now == 1
    assert server.received() == dict.fromkeys(addresses(5), 1)
    assert server.rcpt_attempts[stuck] == 4


def test_too_many_refusals_in_a_row_stop_the_run(project, server, smtp_url, secret):
    csv = write_csv(project, subscriber_rows(30))
    server.before_accept = lambda count, srv: "554 5.7.1 Message content rejected"
    with pytest.raises(SmtpFatalError, match="refused the last 10 messages in a row"):
        send(project, options(csv, smtp_url))
    status = sqlite3.connect(next((project / "build/t-1/campaigns").glob("*.sqlite")))
    counts = dict(status.execute("SELECT state, COUNT(*) FROM recipients GROUP BY state"))
    assert counts == {"refused": 10, "pending": 20}


def test_content_change_refuses_to_resume_unless_forced(project, server, smtp_url, secret):
    csv = write_csv(project, subscriber_rows(8))
    first = send(project, options(csv, smtp_url))
    review = project / "content/reviews/a.md"
    review.write_text(review.read_text().replace("A short standfirst.", "A corrected one."))
    with pytest.raises(InputError) as caught:
        send(project, options(csv, smtp_url))
    message = str(caught.value)
    assert "changed since campaign 1 started sending (8 of 8 sent" in message
    assert "--force-new-campaign" in message
    assert sum(server.received().values()) == 8
    forced = send(project, options(csv, smtp_url, force_new_campaign=True))
    assert forced.campaign == 2 and forced.sent_now == 8
    assert forced.ledger != first.ledger and first.ledger.exists()
    parsed = server.parsed()
    for address in addresses(8):
        old, new = parsed[address]
        assert "A corrected one." in new.get_body(("plain",)).get_content()
        assert old["Message-ID"] != new["Message-ID"]  # else mailboxes drop it as a duplicate


def test_content_change_before_anything_was_sent_just_updates(project, server, smtp_url, secret):
    csv = write_csv(project, subscriber_rows(3))
    server.rcpt_plan = {a: ["always:451 4.3.0 Not now"] for a in addresses(3)}
    send(project, options(csv, smtp_url, max_attempts=1))
    review = project / "content/reviews/a.md"
    review.write_text(review.read_text().replace("A short standfirst.", "A corrected one."))
    server.rcpt_plan = {}
    result = send(project, options(csv, smtp_url))
    assert result.campaign == 1 and result.sent_now == 3


def test_two_senders_at_once_are_refused(project, server, smtp_url, secret):
    csv = write_csv(project, subscriber_rows(3))
    with (
        exclusive(project / "build/t-1/campaigns", "t-1"),
        pytest.raises(InputError, match="another 'magbuilder send'"),
    ):
        send(project, options(csv, smtp_url))
    assert not server.received()


def test_state_dir(project, server, smtp_url, secret, tmp_path):
    csv = write_csv(project, subscriber_rows(3))
    result = send(project, options(csv, smtp_url, state_dir=tmp_path / "state"))
    assert result.ledger == tmp_path / "state" / "t-1.1.sqlite"
    assert not (project / "build").exists()


def test_the_test_copy_is_marked_and_not_recorded(project, server, smtp_url, secret):
    csv = write_csv(project, subscriber_rows(3))
    result = send_issue(
        project / "issues/t-1.yaml", options(csv, smtp_url, test_address="Reader0001@subs.example")
    )
    assert result.kind == "test" and result.exit_code == 0
    [message] = server.parsed()["reader0001@subs.example"]
    assert message["Subject"] == "[TEST] Subject"
    check_message(message, "reader0001@subs.example", "Reader 1")  # the list's values
    assert not (project / "build").exists()  # no ledger
    # The real send later is not swallowed as a duplicate of the test copy.
    send(project, options(csv, smtp_url))
    test_copy, real = server.parsed()["reader0001@subs.example"]
    assert test_copy["Message-ID"] != real["Message-ID"]
    assert real["Subject"] == "Subject"


def test_dry_run_writes_parseable_eml_files_and_sends_nothing(project, server, smtp_url, secret):
    csv = write_csv(project, subscriber_rows(12))
    out = project / "out"
    result = send_issue(
        project / "issues/t-1.yaml", SendOptions(subscribers=csv, dry_run=out, smtp=None)
    )
    files = sorted(out.iterdir())
    assert [p.name for p in files][:2] == [
        "01-reader0000@subs.example.eml",
        "02-reader0001@subs.example.eml",
    ]
    assert result.written == files and len(files) == 12
    for number, path in enumerate(files):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        check_message(message, f"reader{number:04d}@subs.example", f"Reader {number}")
    assert not server.received()
    assert not (project / "build").exists()


def test_sending_needs_a_token_in_the_unsubscribe_url(tmp_project, smtp_url, secret):
    from ..conftest import SITE, manifest_text, review_text

    project = tmp_project(
        {"content/reviews/a.md": review_text(), "issues/t-1.yaml": manifest_text(["a"])}
    )
    assert "unsubscribe_url" not in SITE
    with pytest.raises(InputError) as caught:
        send(project, options(write_csv(project, subscriber_rows(2)), smtp_url))
    assert caught.value.report().startswith(
        "magbuilder.yaml: site.unsubscribe_url is not set: sending needs each subscriber's own"
    )


def test_no_reply_to_the_data_in_time_leaves_that_recipient_in_doubt_until_resent_on_request(
    project, server, smtp_url, secret
):
    csv = write_csv(project, subscriber_rows(5))
    slow = "reader0002@subs.example"
    server.reply_delay = lambda count: 2.0 if count == 3 else 0.0  # the third message stored
    impatient = replace(parse_smtp_url(smtp_url, environ={}), timeout=0.5)
    opts = replace(options(csv, smtp_url), smtp=impatient)
    first = send(project, opts)
    assert first.exit_code == 1
    assert [(r.address, r.state, r.reply, r.attempts) for r in first.in_doubt] == [
        (slow, "in_doubt", "no reply within 0.5 s after the end of the data", 1)
    ]
    assert first.counts == {"pending": 0, "sent": 4, "failed": 0, "refused": 0, "in_doubt": 1}
    assert server.received() == dict.fromkeys(addresses(5), 1)

    again = send(project, opts)
    assert (again.exit_code, again.sent_now, [r.address for r in again.in_doubt]) == (1, 0, [slow])
    resent = send(project, replace(opts, resend_in_doubt=True))
    assert (resent.exit_code, resent.sent_now, resent.in_doubt) == (0, 1, [])
    assert server.received() == {**dict.fromkeys(addresses(5), 1), slow: 2}


def test_content_change_after_messages_went_out_in_doubt_refuses_to_resume(
    project, server, smtp_url, secret
):
    """A message in doubt may be in a mailbox: the content can no longer change freely."""
    csv = write_csv(project, subscriber_rows(3))
    server.after_accept = drop_without_replying
    first = send(project, options(csv, smtp_url))
    assert first.counts["in_doubt"] == 3 and first.counts["sent"] == 0
    review = project / "content/reviews/a.md"
    review.write_text(review.read_text().replace("A short standfirst.", "A corrected one."))
    with pytest.raises(
        InputError,
        match=r"changed since campaign 1 started sending \(0 of 3 sent, "
        r"3 in doubt",
    ):
        send(project, options(csv, smtp_url, resend_in_doubt=True))
    assert sum(server.received().values()) == 3
