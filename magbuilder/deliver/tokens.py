"""Per-subscriber unsubscribe tokens: an HMAC-SHA256 of the address that the site can verify.

The recipe, for a site written in any language::

    token = base64url_without_padding(HMAC-SHA256(key=secret as UTF-8,
                                                  message=lower-cased address as UTF-8))

The secret comes from the environment variable ``MAGBUILDER_UNSUBSCRIBE_SECRET`` and is never
written anywhere: not to messages, logs, the ledger nor error messages.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Mapping

from ..errors import InputError

SECRET_ENV = "MAGBUILDER_UNSUBSCRIBE_SECRET"
MIN_SECRET_LENGTH = 16
TOKEN_LENGTH = 43  # 32 bytes of HMAC-SHA256 in unpadded base64url


def normalise(address: str) -> str:
    """The form of an address that tokens and duplicate checks use: trimmed, lower-cased."""
    return address.strip().lower()


def secret_from_env(environ: Mapping[str, str] | None = None) -> bytes:
    """The unsubscribe secret from the environment; InputError when unset or too short.

    The messages name the variable, never its value.
    """
    env = os.environ if environ is None else environ
    value = env.get(SECRET_ENV, "")
    if not value.strip():
        raise InputError(
            f"{SECRET_ENV} is not set: sending needs it to sign each subscriber's unsubscribe "
            "link. Set it to a long random value your website shares, e.g. "
            f"export {SECRET_ENV}=\"$(python3 -c 'import secrets; "
            "print(secrets.token_urlsafe(32))')\""
        )
    if len(value) < MIN_SECRET_LENGTH:
        raise InputError(
            f"{SECRET_ENV} is too short ({len(value)} characters): use at least "
            f"{MIN_SECRET_LENGTH} random characters so unsubscribe links cannot be forged"
        )
    return value.encode("utf-8")


def make_token(address: str, secret: bytes) -> str:
    """The URL-safe unsubscribe token of ``address`` (43 characters, no padding)."""
    digest = hmac.new(secret, normalise(address).encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def verify(address: str, token: str, secret: bytes | str) -> bool:
    """True when ``token`` is the unsubscribe token of ``address``: what the site checks.

    Compares in constant time, so a forged token cannot be guessed byte by byte.
    """
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    return hmac.compare_digest(make_token(address, key), token.strip())
