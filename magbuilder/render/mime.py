"""The newsletter as a MIME message: multipart/alternative, with one-click unsubscribe headers."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from email import quoprimime
from email.headerregistry import Address, HeaderRegistry, UnstructuredHeader
from email.policy import SMTP, Policy
from email.utils import format_datetime, getaddresses

from ..content import Issue, Site
from .email import Newsletter
from .links import merge_pieces, unsubscribe_link


class ListUrlsHeader(UnstructuredHeader):
    """An RFC 2369 header (``<url>, <mailto:…>``) folded between its entries, never encoded.

    The stock folding turns a line longer than 78 characters into RFC 2047 encoded words, and a
    token-bearing unsubscribe URL always is that long; mail clients read the URL as it stands,
    so an encoded ``List-Unsubscribe`` is a broken one.
    """

    def fold(self, *, policy: Policy) -> str:  # type: ignore[override]
        value = str(self)
        entries = re.findall(r"<[^<>\s]*>", value)
        if not value.isascii() or not entries:
            return super().fold(policy=policy)
        return f"{self.name}: " + ("," + policy.linesep + " ").join(entries) + policy.linesep


_HEADERS = HeaderRegistry()
_HEADERS.map_to_type("list-unsubscribe", ListUrlsHeader)
MAIL_POLICY = SMTP.clone(header_factory=_HEADERS)


def list_id(site: Site) -> str:
    """``List-Id`` (RFC 2919): configured, or the magazine's name at the sender's domain."""
    return site.list_id or f"{site.name} <newsletter.{site.domain}>"


def message_id(issue: Issue, recipient: str | None = None) -> str:
    """A Message-ID that is stable for the same issue (and recipient)."""
    key = f"{issue.id}/{issue.manifest.number}/{recipient or 'preview'}".encode()
    return f"<{issue.id}.{hashlib.sha256(key).hexdigest()[:20]}@{issue.manifest.site.domain}>"


class _Part:
    """One text part of the message, quoted-printable encoded once around its merge fields.

    Each literal stretch of the template is encoded on its own and ends in a soft line break
    (``=`` CRLF), so a subscriber's value slots in between without re-encoding the rest: the
    decoded part is exactly the merged template, with lines ending in ``\n`` and a last one.
    Encoded lines stay within 76 characters (RFC 2045).
    """

    def __init__(self, subtype: str, template: str) -> None:
        self.escape = subtype == "html"
        self.head = (
            f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        ).encode("ascii")
        pieces = merge_pieces(_lines(template))
        self.pieces = [_qp(p) if isinstance(p, str) else p for p in pieces]

    def encoded(self, values: Mapping[str, str]) -> bytes:
        out = [self.head]
        for piece in self.pieces:
            out.append(
                piece if isinstance(piece, bytes) else _qp(piece.fill(values, escape=self.escape))
            )
        last = next((piece for piece in reversed(out) if piece), b"")
        if last is self.head or last.endswith(b"=\r\n"):  # "=" ends only a soft break
            out.append(b"\r\n")  # the part's last line break, as the email package writes it
        return b"".join(out)


def _lines(text: str) -> str:
    """Line breaks as ``\n`` (what the MIME part decodes to)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _qp(text: str) -> bytes:
    """``text`` (UTF-8) quoted-printable, ending in a line break or a soft one: joinable."""
    if not text:
        return b""
    encoded = quoprimime.body_encode(
        _lines(text).encode("utf-8").decode("latin-1"), maxlinelen=QP_WIDTH - 1, eol="\r\n"
    ).encode("ascii")
    return encoded if encoded.endswith(b"\r\n") else encoded + b"=\r\n"


QP_WIDTH = 76  # RFC 2045's limit on an encoded line, soft break included


def _list_urls(name: str, entries: list[str]) -> bytes:
    """An RFC 2369 header: one entry a line when all are plain ASCII (see ListUrlsHeader)."""
    if all(e.isascii() and len(e.split()) == 1 for e in entries):
        return (f"{name}: " + ",\r\n ".join(entries) + "\r\n").encode("ascii")
    return _header(name, ", ".join(entries))


def _message_id(msg_id: str) -> bytes:
    """The Message-ID header: as it stands when ASCII (no folding needed), else by the policy."""
    if msg_id.isascii() and len(msg_id) < 60:
        return f"Message-ID: {msg_id}\r\n".encode("ascii")
    return _header("Message-ID", msg_id)


def _header(name: str, value: str) -> bytes:
    """``Name: value`` CRLF as the mail policy folds and encodes it (RFC 2047 where needed)."""
    return MAIL_POLICY.fold_binary(name, MAIL_POLICY.header_factory(name, value))


class Frame:
    """The newsletter as a message, made once for a campaign; :meth:`message` makes each copy.

    Headers that are the same for everyone are folded once, both parts are encoded once around
    their merge fields (:class:`_Part`); a subscriber's message only encodes their own values
    and joins the pieces, some thousand times faster than composing it with :mod:`email`.
    """

    def __init__(self, issue: Issue, html: str, text: str, *, test: bool = False) -> None:
        m = issue.manifest
        site = m.site
        subject = f"[TEST] {m.newsletter.subject}" if test else m.newsletter.subject
        self.issue = issue
        self.top = _header("Subject", subject) + _header("From", site.from_email)
        self.reply_to = _header("Reply-To", site.reply_to) if site.reply_to else b""
        self.list_id = _header("List-Id", list_id(site))
        self.mailto = (
            f"<mailto:{site.unsubscribe_mailto}?subject=unsubscribe>"
            if site.unsubscribe_mailto
            else None
        )
        self.parts = (_Part("plain", text), _Part("html", html))
        self.digest = hashlib.sha256(f"{text}\0{html}".encode()).hexdigest()

    def message(
        self,
        *,
        to: str,
        values: Mapping[str, str] | None = None,
        unsubscribe_url: str | None,
        date: dt.datetime | None = None,
        msg_id: str | None = None,
    ) -> bytes:
        """One copy: text part first, then HTML, with list and one-click unsubscribe headers.

        ``values`` fill the merge fields; without ``date`` the issue's date at 08:00 UTC.
        """
        m = self.issue.manifest
        when = date or dt.datetime.combine(m.date, dt.time(8, 0), tzinfo=dt.UTC)
        msg_id = msg_id or message_id(self.issue)
        targets = [f"<{unsubscribe_url}>"] if unsubscribe_url else []
        if self.mailto:
            targets.append(self.mailto)
        # A boundary derived from the content keeps the same inputs byte-identical; "=_" never
        # occurs in quoted-printable text, so it cannot clash with a part.
        boundary = (
            f"=_magbuilder_{hashlib.sha256((self.digest + msg_id).encode()).hexdigest()[:32]}"
        )
        head = [
            self.top,
            self._address(to),
            self.reply_to,
            f"Date: {format_datetime(when)}\r\n".encode("ascii"),
            _message_id(msg_id),
            self.list_id,
        ]
        if targets:
            head.append(_list_urls("List-Unsubscribe", targets))
        if unsubscribe_url:
            head.append(b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n")  # RFC 8058
        head.append(
            f'MIME-Version: 1.0\r\nContent-Type: multipart/alternative;\r\n boundary="{boundary}"'
            "\r\n\r\n".encode("ascii")
        )
        values = values or {}
        separator = f"--{boundary}\r\n".encode("ascii")
        # The line break before a boundary belongs to the boundary (RFC 2046): one more.
        body = [separator + part.encoded(values) + b"\r\n" for part in self.parts]
        return b"".join([*head, *body, f"--{boundary}--\r\n".encode("ascii")])

    @staticmethod
    def _address(to: str) -> bytes:
        """The To header: a plain ASCII address as it stands (what folding would give), else
        parsed, quoted and encoded by the mail policy."""
        if len(to) < 70 and PLAIN_ADDRESS.fullmatch(to):
            return f"To: {to}\r\n".encode("ascii")
        return _header("To", to)


# An address whose header folds to itself: dot-atom local part (RFC 5322 atext), ASCII domain.
PLAIN_ADDRESS = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+"
)


def compose(
    issue: Issue,
    html: str,
    text: str,
    *,
    to: str,
    unsubscribe_url: str | None,
    date: dt.datetime | None = None,
    msg_id: str | None = None,
    test: bool = False,
) -> bytes:
    """One message from finished parts (no merge fields left to fill): see :class:`Frame`."""
    frame = Frame(issue, html, text, test=test)
    return frame.message(to=to, unsubscribe_url=unsubscribe_url, date=date, msg_id=msg_id)


def preview_message(issue: Issue, newsletter: Newsletter) -> bytes:
    """The build's ``newsletter.eml``: sent to the sender's own address, default merge fields."""
    site = issue.manifest.site
    [(name, addr)] = getaddresses([site.from_email])
    to = str(Address(display_name=name, addr_spec=addr)) if name else addr
    frame = Frame(issue, newsletter.html, newsletter.text)
    return frame.message(to=to, unsubscribe_url=unsubscribe_link(site, None))
