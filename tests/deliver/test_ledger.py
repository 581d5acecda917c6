"""The ledger: one SQLite file per campaign, WAL, every state change committed at once."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3

import pytest

from magbuilder.deliver.ledger import (
    SCHEMA_VERSION,
    Ledger,
    campaign_path,
    exclusive,
    find_campaigns,
)
from magbuilder.errors import InputError


@pytest.fixture
def ledger(tmp_path):
    path = campaign_path(tmp_path, "t-1", 1)
    with Ledger.create(path, issue_id="t-1", number=1, digest="abc", subject="S") as ledger:
        yield ledger


def test_created_in_wal_mode_readable_by_the_owner_only(ledger):
    assert ledger.path.name == "t-1.1.sqlite"
    assert ledger.path.stat().st_mode & 0o777 == 0o600
    db = sqlite3.connect(ledger.path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert ledger.campaign.digest == "abc"
    assert not list(ledger.path.parent.glob(".*tmp"))


FULL, NORMAL = 2, 1  # PRAGMA synchronous values
LEVELS = {"OFF": 0, "NORMAL": NORMAL, "FULL": FULL, "EXTRA": 3}


def synchronous(ledger: Ledger) -> int:
    """The ledger's own connection's setting (per connection: the file does not keep it)."""
    return ledger._db.execute("PRAGMA synchronous").fetchone()[0]


def test_every_outcome_is_committed_with_synchronous_full_whatever_sqlite_defaults_to(
    tmp_path, monkeypatch
):
    connect = sqlite3.connect

    def connect_defaulting_to_normal(*args, **kwargs):
        # As an SQLite built with SQLITE_DEFAULT_WAL_SYNCHRONOUS=1 would; this one defaults to FULL.
        db = connect(*args, **kwargs)
        db.execute("PRAGMA synchronous=NORMAL")
        return db

    monkeypatch.setattr(sqlite3, "connect", connect_defaulting_to_normal)
    path = campaign_path(tmp_path, "t-1", 1)
    with Ledger.create(path, issue_id="t-1", number=1, digest="abc", subject="S") as created:
        assert synchronous(created) == FULL
    with Ledger.open(path) as ledger:  # the connection a resumed run uses
        assert synchronous(ledger) == FULL
        ledger.add([("a@x.org", "a@x.org"), ("b@x.org", "b@x.org"), ("c@x.org", "c@x.org")])
        ledger.add([("d@x.org", "d@x.org")])
        statements: list[str] = []
        ledger._db.set_trace_callback(statements.append)
        ledger.handing_over("a@x.org", "en")
        ledger.mark_sent("a@x.org", "250 ok")
        ledger.mark_failed("b@x.org", "451 later", dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
        ledger.mark_refused("c@x.org", "550 no")
        ledger.handing_over("d@x.org", "nb")
        ledger.mark_in_doubt("d@x.org", "connection lost")
        assert synchronous(ledger) == FULL
    writes = [s for s in statements if re.match(r"\s*(UPDATE|INSERT|DELETE|BEGIN)", s, re.I)]
    assert len(writes) == 6  # one statement a change: the edition costs no commit of its own

    # The setting in force when each outcome, and each in-flight mark, was committed: the mark
    # must be on the disk before the data leaves, or a power cut could turn a message in doubt
    # back into one that is sent again. (Counting the attempt may skip the sync.)
    level, outcomes = FULL, []
    for statement in statements:
        if setting := re.fullmatch(r"PRAGMA synchronous\s*=\s*(\w+);?", statement.strip(), re.I):
            value = setting[1].upper()
            level = int(value) if value.isdigit() else LEVELS[value]
        elif change := re.match(
            r"UPDATE recipients SET (state = '\w+'|in_flight = 1)", statement.strip()
        ):
            outcomes.append((change[1], level))
    assert outcomes == [
        ("in_flight = 1", FULL),
        ("state = 'sent'", FULL),
        ("state = 'failed'", FULL),
        ("state = 'refused'", FULL),
        ("in_flight = 1", FULL),
        ("state = 'in_doubt'", FULL),
    ]


def test_states_and_counts(ledger):
    assert ledger.add([("a@x.org", "A@x.org"), ("b@x.org", "b@x.org"), ("c@x.org", "c@x.org")]) == 3
    assert ledger.add([("a@x.org", "a@x.org"), ("d@x.org", "d@x.org")]) == 1  # a kept as is
    ledger.handing_over("a@x.org")
    assert ledger.get("a@x.org").in_flight
    ledger.mark_sent("a@x.org", "250 2.0.0 Ok: queued as 123")
    retry = dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.UTC)
    ledger.mark_failed("b@x.org", "451 4.7.1 greylisted", retry)
    ledger.mark_refused("c@x.org", "550 5.1.1 no such user")
    assert ledger.counts() == {"pending": 1, "sent": 1, "failed": 1, "refused": 1, "in_doubt": 0}
    a, b, c = (ledger.get(k) for k in ("a@x.org", "b@x.org", "c@x.org"))
    assert (a.address, a.state, a.reply, a.attempts, a.in_flight) == (
        "A@x.org", "sent", "250 2.0.0 Ok: queued as 123", 1, False
    )  # fmt: skip
    assert (b.state, b.reply, b.next_retry_at) == ("failed", "451 4.7.1 greylisted", retry)
    assert (c.state, c.reply) == ("refused", "550 5.1.1 no such user")
    assert [r.key for r in ledger.recipients("pending")] == ["d@x.org"]


def test_each_change_is_committed_before_the_call_returns(ledger):
    ledger.add([("a@x.org", "a@x.org")])
    ledger.handing_over("a@x.org")
    other = Ledger.open(ledger.path)  # a second connection sees it at once: nothing uncommitted
    assert other.in_flight()[0].key == "a@x.org"
    ledger.mark_sent("a@x.org", "250 ok")
    assert other.counts()["sent"] == 1
    assert other.in_flight() == []
    other.close()


def test_find_campaigns_in_order_and_refuse_to_overwrite(tmp_path, ledger):
    Ledger.create(
        campaign_path(tmp_path, "t-1", 2), issue_id="t-1", number=2, digest="d", subject="S"
    ).close()
    Ledger.create(
        campaign_path(tmp_path, "t-12", 1), issue_id="t-12", number=1, digest="d", subject="S"
    ).close()
    assert [n for n, _ in find_campaigns(tmp_path, "t-1")] == [1, 2]
    with pytest.raises(InputError, match="already exists"):
        Ledger.create(ledger.path, issue_id="t-1", number=1, digest="d", subject="S")


def test_only_one_sender_per_issue_at_a_time(tmp_path):
    with exclusive(tmp_path, "t-1"):
        with (
            pytest.raises(InputError, match="another 'magbuilder send' for issue t-1"),
            exclusive(tmp_path, "t-1"),
        ):
            pass
        with exclusive(tmp_path, "t-2"):  # another issue is fine
            pass
    with exclusive(tmp_path, "t-1"):  # released
        pass


def test_in_doubt_is_a_state_of_its_own(ledger):
    ledger.add([("a@x.org", "a@x.org"), ("b@x.org", "b@x.org")])
    ledger.handing_over("a@x.org")
    ledger.mark_in_doubt("a@x.org", "connection lost after the end of the data")
    assert ledger.counts() == {"pending": 1, "sent": 0, "failed": 0, "refused": 0, "in_doubt": 1}
    [a] = ledger.recipients("in_doubt")
    assert (a.key, a.attempts, a.in_flight, a.reply, a.next_retry) == (
        "a@x.org", 1, False, "connection lost after the end of the data", None
    )  # fmt: skip


def test_only_the_hand_over_marks_a_message_in_flight(ledger):
    """Counting an attempt is not enough: until the data goes out, nothing can have arrived."""
    ledger.add([("a@x.org", "a@x.org")])
    assert not ledger.get("a@x.org").in_flight
    ledger.handing_over("a@x.org")
    assert ledger.get("a@x.org").in_flight


def test_a_message_in_flight_when_the_sender_died_is_in_doubt(ledger):
    ledger.add([("a@x.org", "a@x.org"), ("b@x.org", "b@x.org"), ("c@x.org", "c@x.org")])
    ledger.handing_over("a@x.org")
    ledger.mark_sent("a@x.org", "250 ok")
    ledger.handing_over("b@x.org")  # … and the process dies here
    with Ledger.open(ledger.path) as resumed:
        settled = resumed.settle_in_flight()
        assert [(r.address, r.state) for r in settled] == [("b@x.org", "in_doubt")]
        assert resumed.get("b@x.org").reply == (
            "an earlier run stopped while handing this message to the server"
        )
        assert resumed.in_flight() == []
        assert resumed.counts()["in_doubt"] == 1
        assert resumed.settle_in_flight() == []


V1_SCHEMA = """
CREATE TABLE campaign (
    id INTEGER PRIMARY KEY CHECK (id = 1), issue_id TEXT NOT NULL, number INTEGER NOT NULL,
    digest TEXT NOT NULL, subject TEXT NOT NULL, created TEXT NOT NULL, updated TEXT NOT NULL
);
CREATE TABLE recipients (
    key TEXT PRIMARY KEY, address TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'sent', 'failed', 'refused')),
    attempts INTEGER NOT NULL DEFAULT 0, in_flight INTEGER NOT NULL DEFAULT 0,
    reply TEXT, next_retry TEXT, updated TEXT NOT NULL
);
CREATE INDEX recipients_state ON recipients (state);
INSERT INTO campaign VALUES (1, 't-1', 1, 'abc', 'S', '2026-12-01', '2026-12-01');
INSERT INTO recipients VALUES ('a@x.org', 'a@x.org', 'sent', 1, 0, '250 ok', NULL, 'x');
INSERT INTO recipients VALUES ('b@x.org', 'b@x.org', 'pending', 1, 1, NULL, NULL, 'x');
INSERT INTO recipients VALUES ('c@x.org', 'c@x.org', 'pending', 0, 0, NULL, NULL, 'x');
PRAGMA user_version = 1;
"""


def test_a_ledger_of_format_1_is_upgraded_when_sending_resumes(tmp_path):
    path = campaign_path(tmp_path, "t-1", 1)
    db = sqlite3.connect(path)
    db.executescript(V1_SCHEMA)
    db.close()
    with Ledger.open(path, upgrade=False) as reader:  # --status reads it as it is
        assert reader.counts()["sent"] == 1
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == 1
    with Ledger.open(path) as ledger:  # a send upgrades it
        assert [r.key for r in ledger.settle_in_flight()] == ["b@x.org"]
        assert ledger.counts() == {
            "pending": 1,
            "sent": 1,
            "failed": 0,
            "refused": 0,
            "in_doubt": 1,
        }
        assert ledger.get("a@x.org").reply == "250 ok"
        assert ledger.get("a@x.org").edition is None  # sent before editions were recorded
        assert ledger.delivered_per_edition() == {None: 1}
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
    assert db.execute("PRAGMA index_list(recipients)").fetchall()[0][1] == "recipients_state"


def test_the_edition_handed_over_is_kept_with_the_outcome(ledger):
    ledger.add([(k, k) for k in ("a@x.org", "b@x.org", "c@x.org", "d@x.org", "e@x.org")])
    for key, edition in [("a@x.org", "en"), ("b@x.org", "nb"), ("c@x.org", "nb")]:
        ledger.handing_over(key, edition)
        ledger.mark_sent(key, "250 ok")
    ledger.handing_over("d@x.org", "en")
    ledger.mark_in_doubt("d@x.org", "connection lost")
    ledger.handing_over("e@x.org", "en")  # … still in flight: not (yet) delivered
    with Ledger.open(ledger.path, upgrade=False) as reader, reader.snapshot():
        assert reader.delivered_per_edition() == {"en": 1, "nb": 2}
        assert [(r.key, r.edition) for r in reader.recipients()] == [
            ("a@x.org", "en"), ("b@x.org", "nb"), ("c@x.org", "nb"), ("d@x.org", "en"),
            ("e@x.org", "en"),
        ]  # fmt: skip


V2_SCHEMA = V1_SCHEMA.replace(
    "CHECK (state IN ('pending', 'sent', 'failed', 'refused'))",
    "CHECK (state IN ('pending', 'sent', 'failed', 'refused', 'in_doubt'))",
).replace("PRAGMA user_version = 1", "PRAGMA user_version = 2")


def test_a_ledger_without_the_edition_column_reads_as_is_and_gets_it_when_sending(tmp_path):
    path = campaign_path(tmp_path, "t-1", 1)
    db = sqlite3.connect(path)
    db.executescript(V2_SCHEMA)
    db.close()

    def columns() -> list[str]:
        with sqlite3.connect(path) as db:
            return [row[1] for row in db.execute("PRAGMA table_info(recipients)")]

    with Ledger.open(path, upgrade=False) as reader:  # --status, the sponsor report: read only
        assert reader.delivered_per_edition() == {None: 1}  # sent, of no known edition
        assert reader.get("a@x.org").edition is None
    assert "edition" not in columns()
    with Ledger.open(path) as ledger:  # a send adds the column, the rows already there kept
        assert "edition" in columns()
        assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == 3
        assert [r.key for r in ledger.settle_in_flight()] == ["b@x.org"]
        ledger.handing_over("c@x.org", "nb")
        ledger.mark_sent("c@x.org", "250 ok")
        assert ledger.delivered_per_edition() == {None: 1, "nb": 1}
        assert (ledger.get("a@x.org").reply, ledger.get("c@x.org").edition) == ("250 ok", "nb")
    with Ledger.open(path) as again:  # opening it again changes nothing more
        assert again.counts() == {"pending": 0, "sent": 2, "failed": 0, "refused": 0, "in_doubt": 1}
