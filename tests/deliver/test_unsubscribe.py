"""The unsubscribe WSGI app over real HTTP on loopback, then a real send that obeys it."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import httpx
import pytest

from magbuilder.deliver import SendOptions, make_token, parse_smtp_url, send_issue
from magbuilder.deliver.suppression import SuppressionList
from magbuilder.deliver.unsubscribe import make_app

from ..conftest import manifest_text
from .conftest import SECRET, cli_env, write_csv

ROWS = [
    "ann@subs.example,Ann,Bergen",
    "bob@subs.example,Bob,Oslo",
    "cid@subs.example,Cid,Lisbon",
    "dee@subs.example,Dee,Paris",
    "eve@subs.example,Eve,Rome",
]


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # no access log in test output
        pass


class ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def serve(app) -> Iterator[str]:
    """The app behind a real HTTP server (the standard library's WSGI server) on loopback."""
    server = make_server("127.0.0.1", 0, app, ThreadingServer, QuietHandler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/unsubscribe"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def sent(project, smtp_url, server, secret) -> Path:
    """Issue t-1 (in Norwegian) sent to ROWS: the tokens the app must recognise are out."""
    (project / "issues/t-1.yaml").write_text(manifest_text(["a"], lang='"nb"'), encoding="utf-8")
    opts = SendOptions(
        subscribers=write_csv(project, ROWS), smtp=parse_smtp_url(smtp_url, environ={}), rate=0
    )
    result = send_issue(project / "issues/t-1.yaml", opts, progress_stream=io.StringIO())
    assert result.sent_now == 5
    return project


@pytest.fixture
def url(sent) -> Iterator[str]:
    yield from serve(make_app(sent, SECRET))


def token(address: str, secret: str = SECRET) -> str:
    return make_token(address, secret.encode())


def one_click(url: str, address: str, **kw) -> httpx.Response:
    return httpx.post(
        url,
        params={"token": kw.pop("tok", None) or token(address)},
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        **kw,
    )


def test_one_click_post_unsubscribes_at_once(sent, url):
    answer = one_click(url, "bob@subs.example")
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    entry = SuppressionList.for_project(sent).get("BOB@subs.example")
    assert entry is not None
    assert (entry.reason, entry.campaign, entry.detail) == ("unsubscribed", "t-1", "one-click POST")
    assert [e.address for e in SuppressionList.for_project(sent).all()] == ["bob@subs.example"]
    # A second one-click (a client retrying) keeps the first record and still answers 200.
    assert one_click(url, "bob@subs.example").status_code == 200
    assert len(SuppressionList.for_project(sent).all()) == 1


def test_link_get_shows_a_page_in_the_issues_language_and_changes_nothing(sent, url):
    page = httpx.get(url, params={"token": token("ann@subs.example")})
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert '<html lang="nb" dir="ltr">' in page.text
    assert "<h1>Avslutt abonnementet</h1>" in page.text
    assert "Slutte å sende nyhetsbrevet" in page.text and "ann@subs.example" in page.text
    assert '<form method="post">' in page.text
    # A GET is what link scanners do: nothing is recorded until the button is pressed.
    assert SuppressionList.for_project(sent).all() == []
    done = httpx.post(url, params={"token": token("ann@subs.example")}, data={"confirm": "1"})
    assert done.status_code == 200
    assert "<h1>Abonnementet er avsluttet</h1>" in done.text
    entry = SuppressionList.for_project(sent).get("ann@subs.example")
    assert entry is not None and entry.detail == "link GET, confirmed on the page"
    again = httpx.get(url, params={"token": token("ann@subs.example")})
    assert "Abonnementet er avsluttet" in again.text and "<form" not in again.text


BAD_TOKENS = [
    ("", 400),
    ("not-a-token", 400),
    (token("ann@subs.example")[:-1] + "!", 400),
    (token("ann@subs.example", "another-secret-0123456789"), 403),  # forged with a guess
    (token("stranger@subs.example"), 403),  # genuine, but no campaign sent it
    (token("ann@subs.example").swapcase(), 403),  # right shape, wrong signature
]


def test_a_bad_token_is_refused_and_records_nothing(sent, url):
    for tok, status in BAD_TOKENS:
        for answer in (
            httpx.get(url, params={"token": tok}),
            one_click(url, "ann@subs.example", tok=tok or " "),
            httpx.post(url, params={"token": tok}, data={"confirm": "1"}),
        ):
            assert answer.status_code == status, tok
            assert "This unsubscribe link does not work" in answer.text
    assert SuppressionList.for_project(sent).all() == []


def test_other_methods_and_bodies_are_refused(sent, url):
    good = token("ann@subs.example")
    assert httpx.put(url, params={"token": good}).status_code == 405
    assert httpx.post(url, params={"token": good}, content=b"x=1").status_code == 400
    assert SuppressionList.for_project(sent).all() == []


def test_a_send_skips_a_hard_bounce_a_complaint_and_a_one_click_unsubscribe(
    sent, url, server, smtp_url
):
    """Issue 17's done-when: the next send skips exactly those three and says why."""
    suppressions = SuppressionList.for_project(sent)
    suppressions.add("cid@subs.example", "hard-bounce", campaign="t-1", detail="5.1.1 user unknown")
    suppressions.add("DEE@subs.example", "complaint", campaign="t-1", detail="abuse report")
    assert one_click(url, "eve@subs.example").status_code == 200
    (sent / "issues/t-2.yaml").write_text(manifest_text(["a"], id='"t-2"'), encoding="utf-8")
    before = server.received()
    run = subprocess.run(
        [sys.executable, "-m", "magbuilder", "send", "issues/t-2.yaml"]
        + ["--subscribers", "subscribers.csv", "--smtp", smtp_url, "--rate", "0"],
        cwd=sent,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    got = server.received() - before
    assert set(got) == {"ann@subs.example", "bob@subs.example"}
    assert sum(got.values()) == 2
    why = re.findall(
        r"^subscribers\.csv:(\d): warning: '(\S+)' is suppressed \((\S+) ", run.stderr, re.M
    )
    assert why == [
        ("4", "cid@subs.example", "hard-bounce"),
        ("5", "dee@subs.example", "complaint"),
        ("6", "eve@subs.example", "unsubscribed"),
    ]
    assert "3 suppressed, not sent: 1 unsubscribed, 1 hard-bounce, 1 complaint" in run.stderr
    assert "suppressed before sending: 3 (1 unsubscribed, 1 hard-bounce, 1 complaint)" in run.stdout
    assert "  sent     2" in run.stdout
    status = subprocess.run(
        [sys.executable, "-m", "magbuilder", "send", "issues/t-2.yaml", "--status"],
        cwd=sent,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (
        "suppressed before sending: 3 (1 unsubscribed, 1 hard-bounce, 1 complaint)" in status.stdout
    )


def test_a_token_signed_with_another_secret_is_refused(sent):
    """The token hash finds the address; the secret still has to sign it (a rotated secret)."""
    for url in serve(make_app(sent, "a-rotated-secret-0123456789")):
        assert one_click(url, "ann@subs.example").status_code == 403
    assert SuppressionList.for_project(sent).all() == []
