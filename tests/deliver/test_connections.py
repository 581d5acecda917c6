"""``send --connections N``: several SMTP connections at once, one rate limit, one ledger, and
still nobody twice when the sender is killed with a message in hand on every connection."""

from __future__ import annotations

import time

import pytest

from .conftest import addresses, run_send, subscriber_rows, write_csv
from .test_cli import (
    IN_HAND_WARNING,
    NOT_AGAIN,
    kill_when_received,
    ledger_addresses,
    ledger_counts,
    start,
)

pytestmark = pytest.mark.slow  # real processes, killed and resumed


def test_four_connections_send_each_address_once(project, server, smtp_url):
    csv = write_csv(project, subscriber_rows(120))
    result = run_send(
        project, "--subscribers", csv.name, "--smtp", smtp_url, "--rate", "0", "--connections", "4"
    )
    assert result.returncode == 0, result.stderr
    assert "over 4 connections" in result.stderr
    assert server.sessions == 4  # four sessions, each carrying many messages
    assert server.received() == dict.fromkeys(addresses(120), 1)
    assert ledger_counts(project) == {"sent": 120, "in_flight": 0}


def test_the_rate_limit_is_one_for_all_connections(project, server, smtp_url):
    arrivals: list[float] = []
    server.after_accept = lambda count, srv: arrivals.append(time.monotonic())
    csv = write_csv(project, subscriber_rows(25))
    args = ("--subscribers", csv.name, "--smtp", smtp_url, "--connections", "4")
    result = run_send(project, *args, "--rate", "16")
    assert result.returncode == 0, result.stderr
    assert len(arrivals) == 25
    # 25 messages at 16 a second take 1.5 s whatever the number of connections; four limits of
    # 16 a second each would take a quarter of that. (A slow machine only makes it longer.)
    assert arrivals[-1] - arrivals[0] >= 24 / 16 * 0.9


def test_sigkill_with_a_message_in_hand_on_every_connection_duplicates_nobody(
    project, server, smtp_url
):
    # A server slow to answer the end of the data: most of the time each of the four
    # connections has a message the server stored but the sender has not heard back about.
    server.reply_delay = lambda count: 0.05
    csv = write_csv(project, subscriber_rows(300))
    args = ("--subscribers", csv.name, "--smtp", smtp_url, "--rate", "0", "--connections", "4")
    kill_when_received(start(project, *args), server, 40)
    before = server.received()
    assert 40 <= sum(before.values()) < 300
    assert ledger_addresses(project, "state = 'sent'") <= set(before)  # sent only once accepted
    in_flight = ledger_addresses(project, "in_flight")
    assert 2 <= len(in_flight) <= 4  # at most one a connection, and here several at once

    server.reply_delay = None
    rerun = run_send(project, *args)
    assert rerun.returncode == 1, rerun.stderr  # those in doubt are unfinished business
    received = server.received()
    assert set(received.values()) == {1}  # nobody twice
    assert set(received) >= addresses(300) - in_flight  # nobody skipped but those in doubt
    assert ledger_addresses(project, "state = 'in_doubt'") == in_flight
    for address in in_flight:
        assert f"{address}: in doubt: {IN_HAND_WARNING}; {NOT_AGAIN}" in rerun.stderr

    resend = run_send(project, *args, "--resend-in-doubt")
    assert resend.returncode == 0, resend.stderr
    received = server.received()
    assert set(received) == addresses(300)
    assert {a for a, n in received.items() if n > 1} <= in_flight
    assert ledger_counts(project) == {"sent": 300, "in_flight": 0}


def test_connections_out_of_range_is_a_usage_error(project, smtp_url):
    csv = write_csv(project, subscriber_rows(2))
    result = run_send(project, "--subscribers", csv.name, "--smtp", smtp_url, "--connections", "0")
    assert result.returncode == 2
    assert "--connections" in result.stderr
