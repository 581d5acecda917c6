"""Handing messages to an SMTP server: TLS, login, reconnects, and reading the server's replies.

Replies are classified per message: 2xx sent, 4xx transient (retry later), 5xx refused (never
retried). A message whose whole data went out but whose reply never came (connection lost,
timeout) is *in doubt*: the server may have accepted it, so it is never offered again here.
Problems that concern every message (login refused, TLS certificate not trusted, sender
address refused with 5xx, server unreachable) raise :class:`SmtpFatalError` and stop the run.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import smtplib
import socket
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import unquote, urlsplit

from ..errors import MagbuilderError, UsageError

log = logging.getLogger(__name__)

USER_ENV = "MAGBUILDER_SMTP_USER"
PASSWORD_ENV = "MAGBUILDER_SMTP_PASSWORD"
TLS_MODES = ("auto", "starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}

Status = Literal["sent", "transient", "refused", "in_doubt"]
LOST_AFTER_DATA = "connection lost after the end of the data, before the server's reply"


class SmtpFatalError(MagbuilderError):
    """Raised by the mailer when no message can be sent (login, TLS, sender, unreachable server)."""


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to connect. The password is kept out of ``repr`` and every message."""

    host: str
    port: int
    tls: Literal["starttls", "ssl", "none"]
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 60.0

    @property
    def display(self) -> str:
        """``smtp://user@host:port (STARTTLS)``: safe to print."""
        user = f"{self.user}@" if self.user else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        security = self.tls.upper() if self.tls != "none" else "no TLS"
        return f"smtp://{user}{host}:{self.port} ({security})"


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses, where TLS adds nothing."""
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_smtp_url(
    url: str, tls: str = "auto", environ: Mapping[str, str] | None = None
) -> SmtpSettings:
    """``smtp://[user:pass@]host[:port]`` (or ``smtps://``) and a TLS mode → settings.

    ``tls="auto"``: implicit TLS for ``smtps://`` or port 465, none for a loopback server, STARTTLS
    (required) otherwise. Credentials missing from the URL come from ``MAGBUILDER_SMTP_USER`` and
    ``MAGBUILDER_SMTP_PASSWORD``. Error messages never repeat the URL (it may hold a password).
    """
    env = os.environ if environ is None else environ
    if tls not in TLS_MODES:
        raise UsageError(f"--tls must be one of {', '.join(TLS_MODES)}, not '{tls}'")
    parts = urlsplit(url.strip())
    if parts.scheme not in ("smtp", "smtps"):
        raise UsageError(
            "--smtp must look like smtp://[user:password@]host:port "
            f"(got a URL with scheme '{parts.scheme or 'none'}')"
        )
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise UsageError("--smtp: the port must be a number between 1 and 65535") from None
    if not host:
        raise UsageError("--smtp: no host name in the URL, e.g. smtp://mail.example.org:587")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise UsageError("--smtp: the URL takes only user, password, host and port")
    if tls == "auto":
        if parts.scheme == "smtps" or port == 465:
            tls = "ssl"
        elif is_loopback(host):
            tls = "none"
        else:
            tls = "starttls"
    elif parts.scheme == "smtps" and tls != "ssl":
        raise UsageError(f"--smtp smtps://… means implicit TLS, but --tls is {tls}")
    user = unquote(parts.username) if parts.username else env.get(USER_ENV) or None
    password = unquote(parts.password) if parts.password is not None else None
    if password is None:
        password = env.get(PASSWORD_ENV) or None
    if password and not user:
        raise UsageError(f"an SMTP password was given without a user: set {USER_ENV} too")
    if user and not password:
        raise UsageError(
            f"SMTP user '{user}' has no password: put it in {PASSWORD_ENV} "
            "(safer than the URL, which other users can see in the process list)"
        )
    if user and tls == "none" and not is_loopback(host):
        raise UsageError(
            f"refusing to send the SMTP password to {host} unencrypted: use --tls starttls or ssl"
        )
    return SmtpSettings(
        host=host, port=port or DEFAULT_PORTS[tls], tls=tls, user=user, password=password
    )  # type: ignore[arg-type]


@dataclass(frozen=True)
class Delivery:
    """What became of one message: sent, transient failure, refused or in doubt; and why."""

    status: Status
    reply: str
    code: int | None = None


def _reply(code: int, text: bytes | str) -> str:
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {' '.join(text.split())}".strip()


def _wire(data: bytes) -> bytes:
    """The message as ``smtplib`` sends it after DATA: leading dots doubled, ends in CRLF.CRLF."""
    # A line starting with "." gets another (RFC 5321, 4.5.2); bytes.replace, not a multiline
    # regular expression, which took a third of a millisecond on a 49 KB newsletter.
    data = data.replace(b"\n.", b"\n..")
    if data.startswith(b"."):
        data = b"." + data
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


class Abandoned(Exception):
    """Raised by :meth:`Mailer.send` once :meth:`Mailer.abandon` cut its connection short."""


class _LostAfterData(Exception):
    """The whole message went out, then no reply came: the server may or may not have it."""


def _classify(code: int, text: bytes | str) -> Delivery:
    if 200 <= code < 300:
        return Delivery("sent", _reply(code, text), code)
    if 400 <= code < 500:
        return Delivery("transient", _reply(code, text), code)
    return Delivery("refused", _reply(code, text), code)


class Mailer:
    """One SMTP connection, reopened when the server drops it.

    ``sleep`` waits between reconnection attempts; the caller may make it raise to stop waiting.
    """

    def __init__(
        self,
        settings: SmtpSettings,
        *,
        reconnect_attempts: int = 5,
        reconnect_delay: float = 2.0,
        sleep: Callable[[float], None] | None = None,
        local_hostname: str | None = None,
    ) -> None:
        import time

        self.settings = settings
        self.reconnect_attempts = reconnect_attempts
        self.reconnect_delay = reconnect_delay
        self.sleep = sleep or time.sleep
        self.local_hostname = local_hostname
        self._smtp: smtplib.SMTP | None = None
        self._connected_once = False
        self._abandoned = False

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- connection --------------------------------------------------------------------------

    def connect(self) -> None:
        """Open the connection now (the first time: fail at once if the server can't be reached)."""
        if self._abandoned:
            raise Abandoned
        if self._smtp is not None:
            return
        if not self._connected_once:
            self._smtp = self._open()
            self._connected_once = True
            return
        delay = self.reconnect_delay
        for attempt in range(1, self.reconnect_attempts + 1):
            try:
                self._smtp = self._open()
                log.info("reconnected to %s", self.settings.display)
                return
            except SmtpFatalError as exc:
                if attempt == self.reconnect_attempts or not getattr(exc, "retryable", False):
                    raise
                log.warning("%s; reconnecting in %.0f s", exc, delay)
                self.sleep(delay)
                delay = min(delay * 2, 60.0)

    def _open(self) -> smtplib.SMTP:
        s = self.settings
        # Loading the trusted certificates takes 0.1 s: only for a connection that uses TLS.
        context = ssl.create_default_context() if s.tls != "none" else None
        smtp: smtplib.SMTP | None = None
        try:
            if s.tls == "ssl":
                smtp = smtplib.SMTP_SSL(
                    s.host,
                    s.port,
                    timeout=s.timeout,
                    context=context,
                    local_hostname=self.local_hostname,
                )
            else:
                smtp = smtplib.SMTP(
                    s.host, s.port, timeout=s.timeout, local_hostname=self.local_hostname
                )
            smtp.ehlo()
            if s.tls == "starttls":
                if not smtp.has_extn("starttls"):
                    raise self._fatal(
                        f"{s.display}: the server does not offer STARTTLS; use --tls ssl for an "
                        "implicit-TLS port (465), or --tls none only for a trusted local server"
                    )
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.user:
                smtp.login(s.user, s.password or "")
            return smtp
        except SmtpFatalError:
            self._quietly_close(smtp)
            raise
        except smtplib.SMTPAuthenticationError as exc:
            self._quietly_close(smtp)
            raise self._fatal(
                f"{s.display}: the server refused the login for '{s.user}': "
                f"{_reply(exc.smtp_code, exc.smtp_error)}"
            ) from None
        except smtplib.SMTPNotSupportedError:
            self._quietly_close(smtp)
            raise self._fatal(
                f"{s.display}: the server does not offer login (AUTH)"
                + ("; many servers only offer it after STARTTLS" if s.tls == "none" else "")
            ) from None
        except ssl.SSLCertVerificationError as exc:
            self._quietly_close(smtp)
            raise self._fatal(
                f"{s.display}: the server's TLS certificate is not trusted "
                f"({exc.verify_message}); check the host name"
            ) from None
        except ssl.SSLError as exc:
            self._quietly_close(smtp)
            hint = (
                " (port 465 uses --tls ssl, ports 587 and 25 use --tls starttls)"
                if s.tls == "ssl"
                else ""
            )
            raise self._fatal(f"{s.display}: TLS failed: {exc.reason or exc}{hint}") from None
        except smtplib.SMTPConnectError as exc:
            self._quietly_close(smtp)
            raise self._fatal(
                f"{s.display}: the server refused the connection: "
                f"{_reply(exc.smtp_code, exc.smtp_error)}",
                retryable=400 <= exc.smtp_code < 500,
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            self._quietly_close(smtp)
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise self._fatal(
                f"cannot connect to {s.display}: {reason or type(exc).__name__}", retryable=True
            ) from None

    @staticmethod
    def _fatal(message: str, *, retryable: bool = False) -> SmtpFatalError:
        error = SmtpFatalError(message)
        error.retryable = retryable  # type: ignore[attr-defined]
        return error

    @staticmethod
    def _quietly_close(smtp: smtplib.SMTP | None) -> None:
        if smtp is None:
            return
        with contextlib.suppress(OSError):
            smtp.close()

    def _drop(self) -> None:
        self._quietly_close(self._smtp)
        self._smtp = None

    def abort(self) -> None:
        """Close at once, without QUIT: mid-data, the server then discards the partial message."""
        self._drop()

    def abandon(self) -> None:
        """From another thread: cut the connection now, and let no message through any more.

        The socket is shut down, not closed (the sending thread may be using it): a send in
        progress fails at once and raises :class:`Abandoned`, as does any later one.
        """
        self._abandoned = True
        smtp = self._smtp
        sock = getattr(smtp, "sock", None) if smtp else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        """Say QUIT and close (quietly: the server may already be gone)."""
        if self._smtp is None:
            return
        with contextlib.suppress(smtplib.SMTPException, OSError):
            self._smtp.quit()
        self._drop()

    # -- sending -----------------------------------------------------------------------------

    def send(
        self,
        sender: str,
        recipient: str,
        data: bytes,
        *,
        handing_over: Callable[[], None] | None = None,
    ) -> Delivery:
        """Hand one message for one recipient to the server and report what it said.

        ``handing_over`` is called once the server is ready for the data, before its first byte
        leaves: from then on the server may accept the message. A connection lost before the
        end of the data is reopened and the message offered once more (it cannot have arrived);
        lost again, the outcome is transient. Lost after the end of the data, or no reply within
        the timeout, the outcome is ``in_doubt`` and the message is not offered again.
        """
        lost = ""
        for _ in range(2):
            self.connect()
            assert self._smtp is not None
            try:
                outcome = self._transaction(self._smtp, sender, recipient, data, handing_over)
            except _LostAfterData as exc:
                self._drop()
                if self._abandoned:
                    raise Abandoned from None
                return Delivery("in_doubt", str(exc))
            except (smtplib.SMTPServerDisconnected, OSError) as exc:
                self._drop()
                if self._abandoned:
                    raise Abandoned from None
                lost = f"connection lost: {exc or type(exc).__name__}"
                log.warning("%s while sending to %s; reconnecting", lost, recipient)
                continue
            if outcome.code == 421:  # the server is closing this connection
                self._drop()
            return outcome
        return Delivery("transient", lost)

    def _transaction(
        self,
        smtp: smtplib.SMTP,
        sender: str,
        recipient: str,
        data: bytes,
        handing_over: Callable[[], None] | None,
    ) -> Delivery:
        code, text = smtp.mail(sender)
        if code != 250:
            self._reset(smtp, code)
            if 500 <= code < 600:
                raise SmtpFatalError(
                    f"{self.settings.display}: the server refuses the sender address {sender}: "
                    f"{_reply(code, text)}; check site.from_email or the account's allowed senders"
                )
            return _classify(code, text)
        code, text = smtp.rcpt(recipient)
        if code not in (250, 251):
            self._reset(smtp, code)
            return _classify(code, text)
        # smtplib's data(), in two halves: a failure while the message goes out means its end
        # never left (the server must discard it); after that, only the reply can tell.
        code, text = smtp.docmd("data")
        if code != 354:  # the DATA command itself was refused
            self._reset(smtp, code)
            return _classify(code, text)
        try:
            if handing_over:
                handing_over()
            smtp.send(_wire(data))
        except (smtplib.SMTPServerDisconnected, OSError):
            raise
        except BaseException:  # mid-data, the connection can carry nothing else (not even QUIT)
            self._drop()
            raise
        try:
            code, text = smtp.getreply()
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            if isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):
                raise _LostAfterData(
                    f"no reply within {self.settings.timeout:g} s after the end of the data"
                ) from None
            raise _LostAfterData(LOST_AFTER_DATA) from None
        return _classify(code, text)

    def _reset(self, smtp: smtplib.SMTP, code: int) -> None:
        """End a refused transaction so the connection can carry the next message."""
        if code == 421:
            return
        try:
            smtp.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()
