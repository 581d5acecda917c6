"""DKIM signing of every sent message (``site.dkim``), with dkimpy; the key is read once a campaign.

The key file is checked when ``send`` starts (a build never reads it): missing, unreadable, not a
PEM private key, an unsupported kind of key or too short, each an error at the settings line.
The key's bytes are never shown, in an error or anywhere else.
"""

from __future__ import annotations

import base64
import logging
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

import dkim
from dkim.crypto import UnparsableKeyError, parse_pem_private_key

from ..content import Issue
from ..errors import Finding, InputError
from ..manifest import site_setting_place

log = logging.getLogger(__name__)

# What RFC 6376 (5.4.1) recommends signing that the newsletter has, with the one-click
# unsubscribe pair Gmail and Yahoo require signed, and the MIME headers that shape the body.
SIGNED_HEADERS = (
    "from",
    "reply-to",
    "to",
    "subject",
    "date",
    "message-id",
    "list-id",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "mime-version",
    "content-type",
)
# Signed once more than they occur ("oversigning"): a second From: or Subject: added on the way
# then breaks the signature instead of being shown above a valid one.
OVERSIGNED = ("from", "reply-to", "to", "subject", "date", "message-id", "list-unsubscribe")
INCLUDE_HEADERS = [name.encode() for name in SIGNED_HEADERS + OVERSIGNED]

MAX_KEY_BYTES = 64 * 1024  # an RSA 8192 key is under 7 KB; anything far bigger is not a key
MIN_KEY_BITS = 1024  # receivers ignore shorter keys (RFC 8301)
ED25519_OID = bytes.fromhex("06032b6570")  # 1.3.101.112 in a PKCS#8 key
MAKE_KEY = "make one with: openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out FILE"


@dataclass(frozen=True)
class DkimSigner:
    """Signs messages for one campaign with a key read and checked once (``from_issue``)."""

    domain: str
    selector: str
    key: bytes = field(repr=False)  # the PEM, as dkimpy takes it
    bits: int = 2048

    @classmethod
    def from_issue(cls, issue: Issue) -> DkimSigner | None:
        """The issue's signer, or None when ``site.dkim`` is not set; raises InputError at the
        settings line when the key file cannot be used."""
        settings = issue.manifest.site.dkim
        domain = issue.manifest.site.dkim_domain
        if settings is None or domain is None:
            return None
        path = Path(settings.key_file)
        path = path if path.is_absolute() else issue.root / path
        key, bits = _read_key(path, settings.key_file, issue)
        return cls(domain, settings.selector, key, bits)

    def sign(self, message: bytes) -> bytes:
        """``message`` with a ``DKIM-Signature`` header on top (where RFC 6376, 5.6, suggests),
        over its bytes as they are sent: nothing may change them afterwards."""
        header = dkim.sign(
            message,
            self.selector.encode(),
            self.domain.encode(),
            self.key,
            include_headers=INCLUDE_HEADERS,
            canonicalize=(b"relaxed", b"relaxed"),
        )
        return header + message


def _read_key(path: Path, written: str, issue: Issue) -> tuple[bytes, int]:
    """The PEM RSA private key at ``path`` and its size in bits, or InputError saying why not."""

    def problem(what: str) -> InputError:
        where, line = site_setting_place(issue, "dkim", "key_file")
        message = f"site.dkim.key_file: '{written}' {what}"
        return InputError(message, [Finding(where, line, message)])

    try:
        with path.open("rb") as file:
            mode = stat.S_IMODE(path.stat().st_mode)
            data = file.read(MAX_KEY_BYTES + 1)
    except FileNotFoundError:
        raise problem(f"does not exist: put the DKIM private key there, or {MAKE_KEY}") from None
    except IsADirectoryError:
        raise problem("is a folder: name the private key file in it") from None
    except PermissionError:
        raise problem("cannot be read: give the user who sends read access (chmod 600)") from None
    except OSError as exc:
        raise problem(f"cannot be read: {exc.strerror or exc}") from None
    if len(data) > MAX_KEY_BYTES or not data.isascii():
        raise problem(f"is not a PEM private key (a text file with -----BEGIN…); {MAKE_KEY}")
    if b"ENCRYPTED PRIVATE KEY" in data or b"Proc-Type: 4,ENCRYPTED" in data:
        raise problem(
            "is protected by a passphrase, which send cannot type: save it without one "
            "(openssl pkey -in OLD -out FILE) and keep it readable by its owner only (chmod 600)"
        )
    if re.search(rb"-----BEGIN (RSA )?PUBLIC KEY-----", data):
        raise problem("is a public key: name the private key (the public one goes in DNS)")
    if ED25519_OID in _der(data):
        raise problem(
            "is an Ed25519 key, which this installation cannot sign with (dkimpy needs PyNaCl "
            f"for it): use an RSA key; {MAKE_KEY}"
        )
    try:
        # dkimpy reads a PEM file's first block only after a line break: CRLF files too.
        key = parse_pem_private_key(data.replace(b"\r\n", b"\n"))
        bits = key["modulus"].bit_length()
    except (UnparsableKeyError, KeyError, ValueError, TypeError, IndexError):
        raise problem(
            "is not an RSA private key in PEM (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA "
            f"PRIVATE KEY-----); {MAKE_KEY}"
        ) from None
    if bits < MIN_KEY_BITS:
        raise problem(f"is a {bits}-bit key, which receivers ignore: {MAKE_KEY}")
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        where, line = site_setting_place(issue, "dkim", "key_file")
        log.warning(
            "%s: warning: site.dkim.key_file: '%s' can be read by other users (mode %03o): "
            "chmod 600 it",
            f"{where}:{line}" if line else where,
            written,
            mode,
        )
    return data.replace(b"\r\n", b"\n"), bits


def _der(data: bytes) -> bytes:
    """The DER inside a PEM's first block, or nothing (only to tell a key's kind)."""
    match = re.search(rb"-----BEGIN [A-Z ]+-----\s*([A-Za-z0-9+/=\s]+?)\s*-----END", data)
    try:
        return base64.b64decode(re.sub(rb"\s+", b"", match[1])) if match else b""
    except ValueError:
        return b""
