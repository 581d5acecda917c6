"""The unsubscribe endpoint: a small WSGI app that records unsubscribes in the suppression list.

It answers the URL in ``site.unsubscribe_url`` (the token in its ``token`` query parameter, or
as the last path segment):

- ``POST`` with the body ``List-Unsubscribe=One-Click`` (RFC 8058, what a mail client sends from
  the ``List-Unsubscribe`` header): unsubscribes at once, answers ``200`` with a short text.
- ``GET`` (the link in the newsletter): a page in the issue's language asking to confirm, with a
  button that ``POST``s back; that POST unsubscribes. A GET itself changes nothing, because mail
  scanners and link previews fetch links nobody clicked (RFC 8058 section 3.2).

A token is an HMAC of the address only (``tokens.py``), so the app finds the address through the
token hashes ``send`` records in the suppression list, then verifies the token against that
address with the secret. A token that is malformed (400) or unknown or wrong (403) records
nothing. Tokens do not expire: a link in an old issue still works.

Deploy with ``waitress-serve --call magbuilder.deliver.unsubscribe:app_from_env`` (see
docs/sending.md).
"""

from __future__ import annotations

import functools
import html
import logging
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from ..content import text_dir
from ..paths import CONFIG_NAME
from ..render.env import make_env
from ..render.layout import Layout
from .suppression import Addressee, SuppressionList
from .tokens import TOKEN_LENGTH, secret_from_env, verify

log = logging.getLogger(__name__)

PROJECT_ENV = "MAGBUILDER_PROJECT"
TOKEN_SHAPE = re.compile(rf"^[A-Za-z0-9_-]{{{TOKEN_LENGTH}}}$")
MAX_BODY = 4096  # a one-click body is 26 bytes; the confirm form a few more
ONE_CLICK = "One-Click"
StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

PAGE = """<!DOCTYPE html>
<html lang="{lang}" dir="{dir}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title} · {site}</title>
<style>body{{font:1.125rem/1.5 system-ui,sans-serif;max-width:34rem;margin:3rem auto;
padding:0 1rem;color:#1a1a1a}}
button{{font:inherit;padding:.5rem 1.25rem;border:2px solid #1a1a1a;border-radius:4px;
background:#fff;cursor:pointer}}
button:focus{{outline:3px solid #1a5fb4;outline-offset:2px}}</style>
</head>
<body>
<main>
<h1>{title}</h1>
{body}
</main>
</body>
</html>
"""
HEADERS = [
    ("Cache-Control", "no-store"),
    ("Referrer-Policy", "no-referrer"),  # the token is in the URL
    ("X-Content-Type-Options", "nosniff"),
    (
        "Content-Security-Policy",
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    ),
]
FALLBACK = {  # layouts/default/strings.yaml's English, for a deployment without layouts/
    "unsubscribe_title": "Unsubscribe",
    "unsubscribe_confirm": "Stop sending the {name} newsletter to {address}?",
    "unsubscribe_button": "Unsubscribe",
    "unsubscribed_title": "You are unsubscribed",
    "unsubscribed_text": "{address} will not receive the {name} newsletter again.",
    "unsubscribe_invalid_title": "This unsubscribe link does not work",
    "unsubscribe_invalid_text": "The link is incomplete or has been changed.",
}
STATUS = {
    200: "200 OK",
    400: "400 Bad Request",
    403: "403 Forbidden",
    405: "405 Method Not Allowed",
    413: "413 Content Too Large",
}


def _site_name(root: Path) -> str:
    from ..yamlpos import load_yaml  # the project's limited YAML loader

    try:
        data, _ = load_yaml((root / CONFIG_NAME).read_text("utf-8"), CONFIG_NAME)
        return str(data["site"]["name"])
    except Exception:  # a page still works without the magazine's name
        return ""


class UnsubscribeApp:
    """The WSGI application; see the module docstring."""

    def __init__(self, root: Path, secret: str | bytes) -> None:
        self.root = Path(root)
        self.secret = secret.encode("utf-8") if isinstance(secret, str) else secret
        self.suppressions = SuppressionList.for_project(self.root)
        self.site = _site_name(self.root)

    # -- WSGI -------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "HEAD", "POST"):
            return self._respond(
                start_response,
                405,
                "text/plain",
                b"GET or POST only\n",
                [("Allow", "GET, HEAD, POST")],
            )
        token = _token(environ)
        if token is None or not TOKEN_SHAPE.match(token):
            return self._invalid(start_response, 400)
        addressee = self.suppressions.recipient(token)
        if addressee is None or not verify(addressee.address, token, self.secret):
            return self._invalid(start_response, 403)
        if method == "POST":
            return self._post(environ, start_response, addressee)
        return self._confirm_page(start_response, addressee, head=method == "HEAD")

    # -- answers ----------------------------------------------------------------------------

    def _post(
        self, environ: dict[str, Any], start_response: StartResponse, who: Addressee
    ) -> Iterable[bytes]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY:
            return self._respond(start_response, 413, "text/plain", b"body too large\n")
        body = environ["wsgi.input"].read(length).decode("utf-8", "replace") if length else ""
        form = parse_qs(body)
        if form.get("List-Unsubscribe") == [ONE_CLICK]:
            self._record(who, "one-click POST")
            return self._respond(start_response, 200, "text/plain", b"unsubscribed\n")
        if "confirm" in form:
            self._record(who, "link GET, confirmed on the page")
            return self._done_page(start_response, who)
        return self._respond(
            start_response,
            400,
            "text/plain",
            b"expected the body List-Unsubscribe=One-Click (RFC 8058)\n",
        )

    def _record(self, who: Addressee, detail: str) -> None:
        if self.suppressions.add(who.address, "unsubscribed", campaign=who.campaign, detail=detail):
            log.info("%s unsubscribed (%s, campaign %s)", who.address, detail, who.campaign)

    def _t(self, who: Addressee | None) -> tuple[Callable[..., str], str]:
        lang, layout = (who.lang, who.layout) if who else ("en", "default")
        for name in (layout, "default"):  # a layout renamed since the campaign: the default's
            try:
                t = make_env(Layout(self.root / "layouts", name)).globals["t"]
                return functools.partial(_label, t, lang=lang), lang
            except Exception:
                continue
        log.error("%s: no layout strings: the unsubscribe pages are in English", self.root)
        return (lambda key: FALLBACK.get(key, key)), "en"

    def _page(self, who: Addressee | None, title_key: str, body: str) -> bytes:
        t, lang = self._t(who)
        return PAGE.format(
            lang=html.escape(lang),
            dir=text_dir(lang),
            title=html.escape(t(title_key)),
            site=html.escape(self.site),
            body=body,
        ).encode("utf-8")

    def _text(self, who: Addressee | None, key: str) -> str:
        t, _ = self._t(who)
        values = {"name": self.site, "address": who.address if who else ""}
        return html.escape(
            t(key).replace("{name}", values["name"]).replace("{address}", values["address"])
        )

    def _confirm_page(
        self, start_response: StartResponse, who: Addressee, *, head: bool
    ) -> Iterable[bytes]:
        if who.address in self.suppressions:
            return self._done_page(start_response, who, head=head)
        t, _ = self._t(who)
        body = (
            f"<p>{self._text(who, 'unsubscribe_confirm')}</p>\n"
            '<form method="post">\n<input type="hidden" name="confirm" value="1">\n'
            f'<button type="submit">{html.escape(t("unsubscribe_button"))}</button>\n</form>'
        )
        page = self._page(who, "unsubscribe_title", body)
        return self._respond(start_response, 200, "text/html; charset=utf-8", b"" if head else page)

    def _done_page(
        self, start_response: StartResponse, who: Addressee, *, head: bool = False
    ) -> Iterable[bytes]:
        body = f"<p>{self._text(who, 'unsubscribed_text')}</p>"
        page = self._page(who, "unsubscribed_title", body)
        return self._respond(start_response, 200, "text/html; charset=utf-8", b"" if head else page)

    def _invalid(self, start_response: StartResponse, code: int) -> Iterable[bytes]:
        body = f"<p>{self._text(None, 'unsubscribe_invalid_text')}</p>"
        page = self._page(None, "unsubscribe_invalid_title", body)
        return self._respond(start_response, code, "text/html; charset=utf-8", page)

    @staticmethod
    def _respond(
        start_response: StartResponse,
        code: int,
        content_type: str,
        body: bytes,
        extra: list[tuple[str, str]] | None = None,
    ) -> Iterable[bytes]:
        headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
        start_response(STATUS[code], [*headers, *HEADERS, *(extra or [])])
        return [body]


def _label(t: Callable[..., str], key: str, *, lang: str) -> str:
    return t(key, lang)


def _token(environ: dict[str, Any]) -> str | None:
    """The token: the ``token`` query parameter, else the last segment of the path."""
    query = parse_qs(environ.get("QUERY_STRING", ""))
    if "token" in query:
        return query["token"][0].strip()
    segment = environ.get("PATH_INFO", "").rstrip("/").rsplit("/", 1)[-1]
    return segment or None


def make_app(root: Path, secret: str | bytes) -> WsgiApp:
    """The unsubscribe WSGI app for the project at ``root``, checking tokens with ``secret``."""
    return UnsubscribeApp(root, secret)


def app_from_env() -> WsgiApp:
    """The app for ``MAGBUILDER_PROJECT`` (default: the working directory), secret from
    ``MAGBUILDER_UNSUBSCRIBE_SECRET``: a factory for ``waitress-serve --call`` and gunicorn."""
    root = Path(os.environ.get(PROJECT_ENV) or Path.cwd())
    return make_app(root, secret_from_env())
