"""Where bounce and complaint reports are read from: a file (a message, JSON, JSON Lines), an
mbox, a Maildir, a folder of such files, or an IMAP mailbox (``imaps://``, ``imap://`` with
STARTTLS, ``imap+insecure://`` on this machine only). Each report is an ``Item``; IMAP marks a
handled message ``\\Seen`` and one it could not read with a keyword, for a person to look at.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import mailbox
import ssl
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

log = logging.getLogger(__name__)

MAX_ITEM_BYTES = 20_000_000  # a report is a few KB; more is not one (and would fill memory)


class SourceError(Exception):
    """A source that cannot be read at all (no such file, IMAP login refused …)."""


@dataclass
class Item:
    """One report to read: a message, or a JSON file; ``done(ok)`` runs once it is handled."""

    where: str
    raw: bytes
    done: Callable[[bool], None] | None = None


def read_source(source: str, environ: Mapping[str, str], *, dry_run: bool) -> Iterator[Item]:
    """The items of one source; SourceError when the source itself cannot be read."""
    if source.split("://", 1)[0].lower() in IMAP_SCHEMES:
        yield from imap_items(source, environ, dry_run=dry_run)
        return
    path = Path(source)
    if path.is_dir():
        if all((path / sub).is_dir() for sub in ("cur", "new", "tmp")):
            folder = mailbox.Maildir(path, factory=None, create=False)
            for key in sorted(folder.keys()):
                yield Item(f"{source}:{key}", folder.get_bytes(key))
            return
        for child in sorted(path.iterdir()):
            if child.is_file() and not child.name.startswith("."):
                yield from _file_items(child, f"{source}:{child.name}")
        return
    if not path.exists():
        raise SourceError(f"{source}: no such file or folder")
    yield from _file_items(path, source)


def _file_items(path: Path, where: str) -> Iterator[Item]:
    try:
        size = path.stat().st_size
        if size > MAX_ITEM_BYTES and not _is_mbox(path):
            yield Item(where, b"", done=None)  # read as empty: skipped with its line below
            return
        if _is_mbox(path):
            box = mailbox.mbox(path, factory=None, create=False)
            for n, key in enumerate(box.keys(), 1):
                yield Item(f"{where}:message {n}", box.get_bytes(key))
            return
        yield Item(where, path.read_bytes())
    except OSError as exc:
        raise SourceError(f"{where}: cannot be read: {exc.strerror or exc}") from None


# -- IMAP -------------------------------------------------------------------------------------

IMAP_SCHEMES = {"imaps": "ssl", "imap": "starttls", "imap+insecure": "none"}
IMAP_USER_ENV = "MAGBUILDER_IMAP_USER"
IMAP_PASSWORD_ENV = "MAGBUILDER_IMAP_PASSWORD"
SKIPPED_KEYWORD = "MagbuilderSkipped"  # a report that could not be read: left unread for a person
LOOPBACK = {"localhost", "127.0.0.1", "::1"}


@dataclass(frozen=True)
class ImapSettings:
    """Where the reports are: ``imap[s]://user@host[:port]/MAILBOX`` and how to log in."""

    scheme: str
    host: str
    port: int
    user: str
    password: str = field(repr=False)
    mailbox: str = "INBOX"

    @property
    def shown(self) -> str:
        """The URL without the password, for messages."""
        return f"{self.scheme}://{self.user}@{self.host}:{self.port}/{self.mailbox}"


def parse_imap_url(url: str, environ: Mapping[str, str]) -> ImapSettings:
    """The settings of an IMAP source; the password from MAGBUILDER_IMAP_PASSWORD (or the URL)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or (993 if scheme == "imaps" else 143)
    except ValueError:
        raise SourceError(f"{url}: the port is not a number") from None
    user = unquote(parts.username or "") or environ.get(IMAP_USER_ENV, "")
    password = unquote(parts.password or "") or environ.get(IMAP_PASSWORD_ENV, "")
    host = parts.hostname or ""
    settings = ImapSettings(scheme, host, port, user, password, unquote(parts.path[1:]) or "INBOX")
    if not host or not user:
        raise SourceError(f"{settings.shown}: name the user and host: imaps://user@host/INBOX")
    if not password:
        raise SourceError(f"{settings.shown}: no password: set {IMAP_PASSWORD_ENV}")
    if IMAP_SCHEMES[scheme] == "none" and host not in LOOPBACK:
        raise SourceError(
            f"{settings.shown}: imap+insecure:// is for a server on this machine only: the "
            "password would cross the network in clear (use imaps:// or imap:// with STARTTLS)"
        )
    return settings


def _imap_connect(s: ImapSettings) -> imaplib.IMAP4:
    context = ssl.create_default_context()
    if IMAP_SCHEMES[s.scheme] == "ssl":
        return imaplib.IMAP4_SSL(s.host, s.port, ssl_context=context, timeout=30)
    conn = imaplib.IMAP4(s.host, s.port, timeout=30)
    if IMAP_SCHEMES[s.scheme] == "starttls":
        try:
            conn.starttls(ssl_context=context)
        except imaplib.IMAP4.error as exc:
            conn.shutdown()
            raise SourceError(f"{s.shown}: STARTTLS failed ({exc}): no password sent") from None
    return conn


def imap_items(url: str, environ: Mapping[str, str], *, dry_run: bool) -> Iterator[Item]:
    """The unread messages of an IMAP mailbox (not those an earlier run could not read).

    A message read and handled is marked \\Seen; one skipped is left unread and given the
    keyword ``MagbuilderSkipped``, so a person finds it and the next run does not report it
    again. A dry run opens the mailbox read-only and changes no flag.
    """
    s = parse_imap_url(url, environ)
    try:
        conn = _imap_connect(s)
    except (OSError, imaplib.IMAP4.error) as exc:
        raise SourceError(f"{s.shown}: cannot connect: {exc}") from None
    try:
        try:
            conn.login(s.user, s.password)
        except imaplib.IMAP4.error as exc:
            raise SourceError(f"{s.shown}: login refused: {_imap_text(exc)}") from None
        quoted = '"' + s.mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'
        status, data = conn.select(quoted, readonly=dry_run)
        if status != "OK":
            raise SourceError(f"{s.shown}: no such mailbox: {_imap_text(data)}")
        status, data = conn.uid("SEARCH", "UNSEEN", "UNKEYWORD", SKIPPED_KEYWORD)
        for uid in data[0].split() if status == "OK" and data and data[0] else []:
            status, data = conn.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((p[1] for p in data if isinstance(p, tuple)), b"") if status == "OK" else b""
            mark = None if dry_run else _imap_marker(conn, uid, s.shown)
            yield Item(f"{s.shown}:uid {uid.decode()}", raw, done=mark)
    except (OSError, imaplib.IMAP4.abort) as exc:
        raise SourceError(f"{s.shown}: connection lost: {exc}") from None
    finally:
        with contextlib.suppress(Exception):
            conn.logout()


def _imap_marker(conn: imaplib.IMAP4, uid: bytes, where: str) -> Callable[[bool], None]:
    def mark(handled: bool) -> None:
        flag = "(\\Seen)" if handled else f"({SKIPPED_KEYWORD})"
        status, data = conn.uid("STORE", uid, "+FLAGS", flag)
        if status != "OK":
            log.warning(
                "%s:uid %s: could not set %s: %s", where, uid.decode(), flag, _imap_text(data)
            )

    return mark


def _imap_text(value: object) -> str:
    if isinstance(value, list):
        value = b" ".join(v for v in value if isinstance(v, bytes))
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _is_mbox(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(5) == b"From "
