"""The newsletter as a MIME message: multipart/alternative, with one-click unsubscribe headers."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from email.headerregistry import Address, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.policy import SMTP, Policy
from email.utils import format_datetime, getaddresses

from ..content import Issue, Site
from .email import Newsletter
from .links import unsubscribe_link


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
) -> EmailMessage:
    """One message: text part first, then HTML, with sender, list and unsubscribe headers."""
    m = issue.manifest
    site = m.site
    msg = EmailMessage(policy=MAIL_POLICY)
    msg["Subject"] = f"[TEST] {m.newsletter.subject}" if test else m.newsletter.subject
    msg["From"] = site.from_email
    msg["To"] = to
    if site.reply_to:
        msg["Reply-To"] = site.reply_to
    when = date or dt.datetime.combine(m.date, dt.time(8, 0), tzinfo=dt.UTC)
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = msg_id or message_id(issue)
    msg["List-Id"] = list_id(site)
    targets = []
    if unsubscribe_url:
        targets.append(f"<{unsubscribe_url}>")
    if site.unsubscribe_mailto:
        targets.append(f"<mailto:{site.unsubscribe_mailto}?subject=unsubscribe>")
    if targets:
        msg["List-Unsubscribe"] = ", ".join(targets)
    if unsubscribe_url:
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"  # RFC 8058
    msg.set_content(text, cte="quoted-printable")
    msg.add_alternative(html, subtype="html", cte="quoted-printable")
    # A boundary derived from the content keeps the same inputs byte-identical.
    digest = hashlib.sha256((text + html + msg["Message-ID"]).encode()).hexdigest()
    msg.set_boundary(f"=_magbuilder_{digest[:32]}")
    return msg


def preview_message(issue: Issue, newsletter: Newsletter) -> EmailMessage:
    """The build's ``newsletter.eml``: sent to the sender's own address, default merge fields."""
    html, text = newsletter.personalised()
    site = issue.manifest.site
    [(name, addr)] = getaddresses([site.from_email])
    to = str(Address(display_name=name, addr_spec=addr)) if name else addr
    return compose(issue, html, text, to=to, unsubscribe_url=unsubscribe_link(site, None))
