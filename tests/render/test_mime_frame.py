"""The message frame: each subscriber's copy, made by joining pieces encoded once, reads back
(through the standard library's parser) exactly as the merged newsletter, whatever it holds."""

from __future__ import annotations

import datetime as dt
from email import message_from_bytes, policy

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from magbuilder.manifest import load_issue
from magbuilder.render.links import merge
from magbuilder.render.mime import PLAIN_ADDRESS, Frame, _header

from ..conftest import manifest_text, review_text

SETTINGS = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Text that stresses quoted-printable: "=", trailing blanks, tabs, dots and "From " at a line
# start, long lines, non-ASCII (accents, CJK, emoji), and line breaks of every kind.
CHARS = st.sampled_from(list("ab =.\t\n") + ["\r\n", "\r", "From ", "é", "映", "😀", "x" * 80])
LITERAL = st.lists(CHARS, max_size=40).map("".join)
FIELD = st.sampled_from(["%%name%%", "%%name|reader%%", "%%city|&amp; elsewhere%%", "%%zip%%"])
TEMPLATE = st.lists(st.one_of(LITERAL, FIELD), max_size=12).map("".join)
VALUE = st.lists(st.sampled_from(list("ab =<&\"'\t.") + ["é", "😀", "y" * 90, "\n"]), max_size=30)


@pytest.fixture
def issue(tmp_project):
    project = tmp_project(
        {"content/reviews/a.md": review_text(), "issues/t-1.yaml": manifest_text(["a"])}
    )
    return load_issue(project / "issues/t-1.yaml")


def expected(template: str, values: dict[str, str], *, escape: bool) -> str:
    """What the part must decode to: the merged text, line breaks as LF, ending in one."""
    text = merge(template.replace("\r\n", "\n").replace("\r", "\n"), values, escape=escape)
    return text if text.endswith("\n") else text + "\n"


@SETTINGS
@given(html=TEMPLATE, text=TEMPLATE, name=VALUE, city=VALUE)
@example(html="y" * 76 + "%%name%%", text="z" * 151 + "%%city%%!", name=["é"], city=[" "])
def test_every_copy_decodes_to_the_merged_newsletter(issue, html, text, name, city):
    values = {"name": "".join(name), "city": "".join(city)}
    frame = Frame(issue, html, text)
    data = frame.message(
        to="reader@example.org",
        values=values,
        unsubscribe_url="https://mag.example/u?token=abc",
        date=dt.datetime(2026, 12, 1, 8, tzinfo=dt.UTC),
        msg_id="<t.1@mag.example>",
    )
    data.decode("ascii")  # quoted-printable and encoded headers: ASCII on the wire
    assert max(len(line) for line in data.split(b"\r\n")) <= 78
    assert b"\n" not in data.replace(b"\r\n", b"")  # no bare LF
    body = data.split(b"\r\n\r\n", 1)[1]
    assert max(len(line) for line in body.split(b"\r\n")) <= 76  # RFC 2045
    message = message_from_bytes(data, policy=policy.default)
    plain, rich = message.iter_parts()
    assert plain.get_content().replace("\r\n", "\n") == expected(text, values, escape=False)
    assert rich.get_content().replace("\r\n", "\n") == expected(html, values, escape=True)
    assert message["To"] == "reader@example.org"
    assert message["Message-ID"] == "<t.1@mag.example>"
    assert message.defects == [] and plain.defects == [] and rich.defects == []


def test_headers_read_back_and_a_test_copy_says_so(issue):
    data = Frame(issue, "<p>%%name|reader%%</p>", "Dear %%name|reader%%", test=True).message(
        to='"Doe, Jane" <jane@example.org>',
        values={"name": "Jane"},
        unsubscribe_url="https://mag.example/unsubscribe?token=" + "A" * 60,
    )
    message = message_from_bytes(data, policy=policy.default)
    assert message["Subject"].startswith("[TEST] ")
    assert message["To"] == '"Doe, Jane" <jane@example.org>'
    assert message["Date"] == "Tue, 01 Dec 2026 08:00:00 +0000"  # the issue's date by default
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_body(("plain",)).get_content().strip() == "Dear Jane"


def test_same_inputs_same_bytes_and_each_copy_its_own_boundary(issue):
    frame = Frame(issue, "<p>x</p>", "x")
    one = frame.message(to="a@example.org", unsubscribe_url=None, msg_id="<1@m.example>")
    assert one == Frame(issue, "<p>x</p>", "x").message(
        to="a@example.org", unsubscribe_url=None, msg_id="<1@m.example>"
    )
    two = frame.message(to="b@example.org", unsubscribe_url=None, msg_id="<2@m.example>")
    boundary = [line for line in one.split(b"\r\n") if line.startswith(b"--=_")][0]
    assert boundary not in two


@pytest.mark.parametrize(
    "address",
    ["reader@example.org", "o'hara+films@sub.example.co.uk", "a.b-c_d@x-y.example"],
)
def test_a_plain_address_is_written_as_the_policy_would_fold_it(address):
    assert PLAIN_ADDRESS.fullmatch(address)
    assert Frame._address(address) == _header("To", address)


@pytest.mark.parametrize("address", ['"a b"@example.org', "Jane <j@example.org>", "j@例え.jp"])
def test_anything_else_goes_through_the_policy(address):
    assert not PLAIN_ADDRESS.fullmatch(address)
