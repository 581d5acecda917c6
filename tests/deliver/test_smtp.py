"""The SMTP side against a real aiosmtpd server: replies classified, reconnects, login, TLS."""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
from dataclasses import replace

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from magbuilder.deliver.smtp import Mailer, SmtpFatalError, parse_smtp_url
from magbuilder.errors import UsageError

from .conftest import LoopbackController, Recorder, drop_the_first

MESSAGE = b"Subject: hi\r\nFrom: news@mag.example\r\nTo: x\r\n\r\nHello\r\n"
SENDER = "news@mag.example"


# -- the URL -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://127.0.0.1:8025", ("127.0.0.1", 8025, "none")),
        ("smtp://localhost", ("localhost", 25, "none")),
        ("smtp://mail.example.org", ("mail.example.org", 587, "starttls")),
        ("smtp://mail.example.org:25", ("mail.example.org", 25, "starttls")),
        ("smtp://mail.example.org:465", ("mail.example.org", 465, "ssl")),
        ("smtps://mail.example.org", ("mail.example.org", 465, "ssl")),
        ("smtp://[::1]:2525", ("::1", 2525, "none")),
    ],
)
def test_tls_auto(url, expected):
    s = parse_smtp_url(url, environ={})
    assert (s.host, s.port, s.tls) == expected


def test_credentials_from_the_url_are_percent_decoded_and_never_shown():
    s = parse_smtp_url("smtp://ann%40mag.example:p%40ss%3Aw0rd@mail.example.org:587", environ={})
    assert (s.user, s.password) == ("ann@mag.example", "p@ss:w0rd")
    assert "p@ss" not in repr(s) and "p@ss" not in s.display
    assert s.display == "smtp://ann@mag.example@mail.example.org:587 (STARTTLS)"


def test_credentials_from_the_environment():
    env = {"MAGBUILDER_SMTP_USER": "ann", "MAGBUILDER_SMTP_PASSWORD": "secret-pw"}
    s = parse_smtp_url("smtp://mail.example.org", environ=env)
    assert (s.user, s.password) == ("ann", "secret-pw")
    s = parse_smtp_url("smtp://bob@mail.example.org", environ=env)  # URL user, env password
    assert (s.user, s.password) == ("bob", "secret-pw")


@pytest.mark.parametrize(
    ("url", "tls", "env", "message"),
    [
        ("http://mail.example.org", "auto", {}, "must look like smtp://"),
        ("smtp://mail.example.org:99999", "auto", {}, "port must be a number"),
        ("smtp://:25", "auto", {}, "no host name"),
        ("smtp://ann@mail.example.org", "auto", {}, "has no password"),
        ("smtp://ann:pw@mail.example.org", "none", {}, "unencrypted"),
        ("smtps://mail.example.org", "starttls", {}, "implicit TLS"),
    ],
)
def test_bad_urls_are_usage_errors_that_never_repeat_the_password(url, tls, env, message):
    with pytest.raises(UsageError, match=message) as caught:
        parse_smtp_url(url, tls, environ=env)
    assert "pw@" not in str(caught.value)


# -- replies ------------------------------------------------------------------------------------


@pytest.fixture
def mailer(smtp_server):
    controller, _ = smtp_server
    with Mailer(parse_smtp_url(f"smtp://127.0.0.1:{controller.port}", environ={})) as mailer:
        yield mailer


def test_replies_are_classified(mailer, server: Recorder):
    server.rcpt_plan = {
        "grey@x.example": ["451 4.7.1 Greylisted, try again later"],
        "gone@x.example": ["always:550 5.1.1 No such user"],
    }
    sent = mailer.send(SENDER, "ok@x.example", MESSAGE)
    assert (sent.status, sent.code, sent.reply) == ("sent", 250, "250 2.0.0 Ok: queued as TEST")
    grey = mailer.send(SENDER, "grey@x.example", MESSAGE)
    assert (grey.status, grey.reply) == ("transient", "451 4.7.1 Greylisted, try again later")
    assert mailer.send(SENDER, "grey@x.example", MESSAGE).status == "sent"  # accepted on retry
    gone = mailer.send(SENDER, "gone@x.example", MESSAGE)
    assert (gone.status, gone.code) == ("refused", 550)
    server.before_accept = lambda count, srv: "554 5.7.1 Message rejected as spam"
    assert mailer.send(SENDER, "spam@x.example", MESSAGE).status == "refused"
    assert server.received() == {"ok@x.example": 1, "grey@x.example": 1}
    assert server.sessions == 1  # every transaction on the one connection


def test_a_refused_sender_stops_everything(mailer, server: Recorder):
    server.mail_reply = "553 5.7.1 Sender address rejected: not owned by user"
    with pytest.raises(SmtpFatalError, match="refuses the sender address news@mag.example"):
        mailer.send(SENDER, "ok@x.example", MESSAGE)


def test_a_connection_lost_before_the_end_of_the_data_is_reopened_and_the_message_offered_again(
    mailer, server: Recorder
):
    # Dropped at RCPT, before any data: the message cannot have arrived, so it is safe to offer.
    server.rcpt_plan = {"r1@x.example": ["drop"]}

    def close_after_replying(count, srv):  # as a server closing an idle connection would
        if count == 2:
            asyncio.get_running_loop().call_soon(srv.transport.close)

    server.after_accept = close_after_replying
    for n in range(4):
        assert mailer.send(SENDER, f"r{n}@x.example", MESSAGE).status == "sent"
    assert server.received() == {f"r{n}@x.example": 1 for n in range(4)}
    assert server.rcpt_attempts["r1@x.example"] == 2
    assert server.sessions == 3


def test_421_closes_the_connection_and_is_transient(mailer, server: Recorder):
    server.rcpt_plan = {"a@x.example": ["421 4.3.2 Service shutting down"]}
    assert mailer.send(SENDER, "a@x.example", MESSAGE).status == "transient"
    assert mailer.send(SENDER, "a@x.example", MESSAGE).status == "sent"
    assert server.sessions == 2


def test_unreachable_server_fails_at_once_with_a_clear_message():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again below: nothing listens there
    with pytest.raises(SmtpFatalError, match=rf"cannot connect to smtp://127.0.0.1:{port}"):
        Mailer(parse_smtp_url(f"smtp://127.0.0.1:{port}", environ={})).connect()


# -- login -----------------------------------------------------------------------------------


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"ann@mag.example",
        b"c0rrect:horse",
    )
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def auth_server():
    recorder = Recorder()
    controller = LoopbackController(
        recorder,
        hostname="127.0.0.1",
        port=0,
        authenticator=authenticator,
        auth_require_tls=False,  # loopback only, for the test
    )
    controller.start()
    yield controller, recorder
    controller.stop()


def test_login_with_credentials_from_the_url(auth_server):
    controller, recorder = auth_server
    url = f"smtp://ann%40mag.example:c0rrect%3Ahorse@127.0.0.1:{controller.port}"
    with Mailer(parse_smtp_url(url, environ={})) as mailer:
        assert mailer.send(SENDER, "a@x.example", MESSAGE).status == "sent"
    assert recorder.received() == {"a@x.example": 1}


def test_login_refused_is_fatal_and_does_not_show_the_password(auth_server):
    controller, _ = auth_server
    env = {"MAGBUILDER_SMTP_USER": "ann@mag.example", "MAGBUILDER_SMTP_PASSWORD": "wr0ng-pw"}
    settings = parse_smtp_url(f"smtp://127.0.0.1:{controller.port}", environ=env)
    with pytest.raises(SmtpFatalError, match="refused the login for 'ann@mag.example'") as caught:
        Mailer(settings).connect()
    assert "wr0ng-pw" not in str(caught.value)


# -- TLS ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    # Never a skip: TLS is how mail leaves for a real server, so these tests must run.
    if not shutil.which("openssl"):
        pytest.fail("openssl missing: `make system` installs it", pytrace=False)
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    made = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        capture_output=True, text=True,
    )  # fmt: skip
    if made.returncode:
        pytest.fail(f"openssl could not make a test certificate:\n{made.stderr}", pytrace=False)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return cert, context


@pytest.mark.parametrize("mode", ["starttls", "ssl"])
def test_tls_modes_with_a_trusted_certificate(certificate, monkeypatch, mode):
    cert, context = certificate
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # trust the test certificate
    recorder = Recorder()
    kwargs = (
        {"tls_context": context, "require_starttls": True}
        if mode == "starttls"
        else {"ssl_context": context}
    )
    controller = LoopbackController(recorder, hostname="127.0.0.1", port=0, **kwargs)
    controller.start()
    try:
        settings = parse_smtp_url(f"smtp://127.0.0.1:{controller.port}", mode, environ={})
        with Mailer(settings) as mailer:
            assert mailer.send(SENDER, "a@x.example", MESSAGE).status == "sent"
    finally:
        controller.stop()
    assert recorder.received() == {"a@x.example": 1}


def test_untrusted_certificate_is_fatal(certificate):
    _, context = certificate
    controller = LoopbackController(Recorder(), hostname="127.0.0.1", port=0, ssl_context=context)
    controller.start()
    try:
        settings = parse_smtp_url(f"smtp://127.0.0.1:{controller.port}", "ssl", environ={})
        with pytest.raises(SmtpFatalError, match="certificate is not trusted"):
            Mailer(settings).connect()
    finally:
        controller.stop()


def test_starttls_required_but_not_offered(smtp_url):
    settings = parse_smtp_url(smtp_url, "starttls", environ={})
    with pytest.raises(SmtpFatalError, match="does not offer STARTTLS"):
        Mailer(settings).connect()


# -- the end of the data: before it, a lost connection is safe to retry; after it, in doubt -------


def test_a_connection_lost_after_the_end_of_the_data_is_in_doubt_and_not_offered_again(
    mailer, server: Recorder
):
    server.after_accept = drop_the_first(1)  # the server stored it, then closed unanswered
    outcome = mailer.send(SENDER, "a@x.example", MESSAGE)
    assert (outcome.status, outcome.code) == ("in_doubt", None)
    assert outcome.reply == "connection lost after the end of the data, before the server's reply"
    assert server.received() == {"a@x.example": 1}  # once: the sender cannot know it arrived
    assert mailer.send(SENDER, "b@x.example", MESSAGE).status == "sent"  # on a new connection
    assert server.received() == {"a@x.example": 1, "b@x.example": 1}
    assert server.sessions == 2


def test_no_reply_in_time_after_the_end_of_the_data_is_in_doubt(smtp_server):
    controller, server = smtp_server
    settings = parse_smtp_url(f"smtp://127.0.0.1:{controller.port}", environ={})
    server.reply_delay = lambda count: 3.0 if count == 1 else 0.0
    with Mailer(replace(settings, timeout=0.5)) as mailer:
        outcome = mailer.send(SENDER, "slow@x.example", MESSAGE)
        assert (outcome.status, outcome.reply) == (
            "in_doubt",
            "no reply within 0.5 s after the end of the data",
        )
        assert mailer.send(SENDER, "next@x.example", MESSAGE).status == "sent"
    assert server.received() == {"slow@x.example": 1, "next@x.example": 1}


def test_the_hand_over_hook_runs_once_the_server_is_ready_for_the_data(mailer, server: Recorder):
    """The sender records "in flight" there: before it nothing can arrive, after it anything can."""
    calls: list[int] = []
    server.rcpt_plan = {"grey@x.example": ["451 4.7.1 Greylisted"]}
    hook = lambda: calls.append(len(server.raw()))  # noqa: E731
    assert mailer.send(SENDER, "grey@x.example", MESSAGE, handing_over=hook).status == "transient"
    assert calls == []  # refused at RCPT: the data never went out
    assert mailer.send(SENDER, "ok@x.example", MESSAGE, handing_over=hook).status == "sent"
    assert calls == [0]  # called before the message reached the server
