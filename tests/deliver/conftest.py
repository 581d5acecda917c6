"""A real SMTP server (aiosmtpd) on loopback, a tiny sendable project and subscriber lists."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from ..conftest import SITE, manifest_text, review_text

SECRET = "test-secret-7b1f9c2ad4e85a3b6c0d"
SENDABLE_SITE = SITE + '  unsubscribe_url: "https://mag.example/unsubscribe?token={token}"\n'

# A reply plan: address → replies to give at RCPT, in turn; then the address is accepted.
# "always:<reply>" answers that reply every time; "drop" closes the connection without a reply.
Plan = dict[str, list[str]]


class Recorder:
    """The server's handler: stores every accepted message; answers RCPT from a plan."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[tuple[str, bytes]] = []
        self.rcpt_attempts: Counter[str] = Counter()
        self.sessions = 0
        self.rcpt_plan: Plan = {}
        self.mail_reply: str | None = None  # answer MAIL FROM with this instead of accepting
        # Called with (number of messages stored so far, server) before a message is accepted;
        # returning a reply string answers that instead of accepting (the message is not stored).
        self.before_accept: Callable[[int, SMTP], str | None] | None = None
        # Called with (number of messages stored so far, server) once a message is stored, that
        # is accepted, just before its 250 goes out: the moment a sender must not yet know of.
        self.after_accept: Callable[[int, SMTP], None] | None = None
        # Called with the number of messages stored so far once a message is stored: the seconds
        # to wait before its 250 goes out (a server slow to answer the end of the data).
        self.reply_delay: Callable[[int], float] | None = None

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses
    ):
        with self.lock:
            self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options
    ) -> str:
        if self.mail_reply:
            return self.mail_reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 2.1.0 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options
    ) -> str:
        key = address.lower()
        with self.lock:
            self.rcpt_attempts[key] += 1
            plan = self.rcpt_plan.get(key)
            if plan:
                reply = plan[0]
                if reply.startswith("always:"):
                    return reply.removeprefix("always:")
                plan.pop(0)
                if reply == "drop":
                    server.transport.close()
                    return "451 4.3.0 never seen: the connection is closed"
                return reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.before_accept:
            with self.lock:
                count = len(self.messages)
            reply = self.before_accept(count, server)
            if reply:
                return reply
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.messages.append((rcpt.lower(), envelope.original_content))
            count = len(self.messages)
        if self.after_accept:
            self.after_accept(count, server)
        if self.reply_delay:
            await asyncio.sleep(self.reply_delay(count))
        return "250 2.0.0 Ok: queued as TEST"

    # -- reading what arrived -------------------------------------------------------------------

    def received(self) -> Counter[str]:
        """How many messages each address received."""
        with self.lock:
            return Counter(rcpt for rcpt, _ in self.messages)

    def parsed(self) -> dict[str, list[EmailMessage]]:
        out: dict[str, list[EmailMessage]] = {}
        with self.lock:
            for rcpt, raw in self.messages:
                out.setdefault(rcpt, []).append(
                    message_from_bytes(raw, policy=policy.default)  # type: ignore[arg-type]
                )
        return out

    def raw(self) -> list[tuple[str, bytes]]:
        with self.lock:
            return list(self.messages)


def drop_without_replying(count: int, server: SMTP) -> None:
    """An ``after_accept`` hook: the message is stored, then the connection closes unanswered.

    The sender cannot tell this from a server that lost the message: its fate is unknown.
    """
    server.transport.close()  # the 250 that follows is written to a closed transport: never sent


def drop_the_first(times: int) -> Callable[[int, SMTP], None]:
    """``drop_without_replying`` for the first ``times`` messages, then a normal server."""
    dropped: list[int] = []

    def hook(count: int, server: SMTP) -> None:
        if len(dropped) < times:
            dropped.append(count)
            drop_without_replying(count, server)

    return hook


class LoopbackController(Controller):
    """aiosmtpd's threaded controller on a free port chosen by the OS (port 0)."""

    def _trigger_server(self) -> None:
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@pytest.fixture
def smtp_server() -> Iterator[tuple[LoopbackController, Recorder]]:
    recorder = Recorder()
    controller = LoopbackController(recorder, hostname="127.0.0.1", port=0)
    controller.start()
    try:
        yield controller, recorder
    finally:
        controller.stop()


@pytest.fixture
def server(smtp_server) -> Recorder:
    return smtp_server[1]


@pytest.fixture
def smtp_url(smtp_server) -> str:
    return f"smtp://127.0.0.1:{smtp_server[0].port}"


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("MAGBUILDER_UNSUBSCRIBE_SECRET", SECRET)
    return SECRET


@pytest.fixture
def project(tmp_project) -> Path:
    """A one-review project whose site has a {token} unsubscribe URL."""
    return tmp_project(
        {
            "magbuilder.yaml": SENDABLE_SITE,
            "content/reviews/a.md": review_text("Alpha"),
            "issues/t-1.yaml": manifest_text(["a"]),
        }
    )


def subscriber_rows(count: int, domain: str = "subs.example") -> list[str]:
    return [f"reader{i:04d}@{domain},Reader {i},City {i % 7}" for i in range(count)]


def write_csv(project: Path, rows: list[str], name: str = "subscribers.csv") -> Path:
    path = project / name
    path.write_text("email,name,city\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def addresses(count: int, domain: str = "subs.example") -> set[str]:
    return {f"reader{i:04d}@{domain}" for i in range(count)}


def cli_env(**extra: str | None) -> dict[str, str]:
    """The environment for a ``python -m magbuilder`` subprocess (None removes a variable)."""
    env = {**os.environ, "MAGBUILDER_UNSUBSCRIBE_SECRET": SECRET, "PYTHONUNBUFFERED": "1"}
    for key, value in extra.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def send_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "magbuilder", "send", "issues/t-1.yaml", *args]


def run_send(project: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 60):
    return subprocess.run(
        send_cmd(*args),
        cwd=project,
        env=env or cli_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
