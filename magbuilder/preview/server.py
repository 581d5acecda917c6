"""The preview's web server: the page, its event stream, the email and the last good render.

A threaded HTTP server on a loopback address. ``/`` is the page (``page.html``); ``/events``
is a stream of server-sent events (what is being laid out; after each build, which page images
changed), so the open page swaps just those images; ``/version`` answers the same as JSON for
scripts; ``/email.html`` is the newsletter with its images served locally; ``/out/…`` the files
of the last good render.
"""

from __future__ import annotations

import html
import ipaddress
import json
import logging
import mimetypes
import queue
import socket
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from string import Template
from urllib.parse import urlsplit

from ..errors import UsageError
from ..paths import NEWSLETTER_HTML
from .engine import Preview, State

log = logging.getLogger(__name__)

PAGE = Template((Path(__file__).with_name("page.html")).read_text(encoding="utf-8"))
KEEP_ALIVE_S = 15.0  # an event stream sends a comment this often, so proxies keep it open


def check_loopback(host: str) -> None:
    """Refuse any address other than loopback: the preview is for the editor's own machine."""
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise UsageError(
            f"--host {host}: the preview only listens on a loopback address "
            "(127.0.0.1, ::1 or localhost); to share an issue, build it and send the files"
        )


def render_page(state: State) -> str:
    """The preview page for a state: error (if any) above the last good render."""
    e = html.escape
    error = ""
    if state.error:
        kept = "showing the last good render below" if state.good else "nothing built yet"
        error = (
            f'<section class="error" role="alert"><h2>Build failed — {kept}</h2>'
            f"<pre>{e(state.error)}</pre></section>"
        )
    links, body = "", ""
    if state.good:
        links = (
            f'<a href="/out/{e(state.pdf or "")}" target="_blank">PDF</a> '
            '<a href="/email.html" target="_blank">email</a> '
            '<a href="/out/newsletter.txt" target="_blank">text part</a>'
        )
        pages = "\n".join(
            f'<img src="/out/pages/{e(page.name)}?v={page.version}" alt="Page {n}">'
            for n, page in enumerate(state.pages, start=1)
        )
        stale = " stale" if state.error else ""
        v = state.email_version
        body = f"""<div id="content" class="render{stale}">
<h2>Email</h2>
<div class="frames">
  <figure><figcaption>Desktop · 640 px</figcaption>
    <iframe class="desktop" src="/email.html?v={v}" title="Email, desktop"></iframe></figure>
  <figure><figcaption>Phone · 375 px</figcaption>
    <iframe class="phone" src="/email.html?v={v}" title="Email, phone"></iframe></figure>
</div>
<h2>Magazine · <span id="page-count">{len(state.pages)}</span> pages</h2>
<div class="pages" id="pages">{pages}</div>
</div>"""
    elif not state.error:
        body = "<p>Building the issue…</p>"
    if state.building:
        status = f"{state.activity}…" if state.activity else "building…"
    elif state.version:
        outcome = "failed" if state.error else "ok"
        status = f"build {state.version} {outcome} · {state.seconds:.1f} s"
    else:
        status = "starting…"
    return PAGE.substitute(
        title=e(state.title),
        status=e(status),
        links=links,
        error=error,
        body=body,
        version=state.version,
    )


def local_email(text: str, issue_image_prefix: str | None) -> str:
    """The newsletter with its absolute image URLs pointed at the preview's copies."""
    if issue_image_prefix:
        text = text.replace(issue_image_prefix, "/out/images/")
    return text


class Handler(BaseHTTPRequestHandler):
    """Serves the page, its events, ``/version``, the email and the last good render."""

    preview: Preview
    server_version = "magbuilder-preview"
    protocol_version = "HTTP/1.1"  # keep-alive: the page's images come over a few connections
    head_only = False

    def do_HEAD(self) -> None:  # noqa: N802 - the http.server API
        self.head_only = True
        self.do_GET()

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        path = urlsplit(self.path).path
        if not self._host_is_loopback():
            # A page on another site may make the browser ask a name it controls that points
            # at 127.0.0.1 (DNS rebinding): only requests addressed to this machine are served.
            self._send(b"misdirected request\n", "text/plain", HTTPStatus.MISDIRECTED_REQUEST)
            return
        if path == "/events":
            self._events()
            return
        state = self.preview.snapshot()
        if path in ("/", "/index.html"):
            self._send(render_page(state).encode(), "text/html; charset=utf-8")
        elif path == "/version":
            reply = {
                "version": state.version,
                "building": state.building,
                "activity": state.activity,
                "error": state.error,
                "seconds": state.seconds,
            }
            self._send(json.dumps(reply).encode(), "application/json")
        elif path == "/email.html" and state.good:
            text = (state.good / NEWSLETTER_HTML).read_text(encoding="utf-8")
            self._send(local_email(text, state.image_prefix).encode(), "text/html; charset=utf-8")
        elif path.startswith("/out/") and state.good:
            self._send_file(state.good, path.removeprefix("/out/"))
        else:
            self._send(b"not found (or nothing built yet)\n", "text/plain", HTTPStatus.NOT_FOUND)

    def _host_is_loopback(self) -> bool:
        """Whether the request's ``Host:`` names this server by a loopback name and its port."""
        host = self.headers.get("Host", "")
        name, _, port = host.rpartition(":") if not host.endswith("]") else (host, "", "")
        if not name:  # no port given
            name, port = host, str(self.server.server_address[1])
        if port != str(self.server.server_address[1]):
            return False
        name = name.strip("[]").lower()
        if name == "localhost":
            return True
        try:
            return ipaddress.ip_address(name).is_loopback
        except ValueError:
            return False

    def _events(self) -> None:
        """A stream of server-sent events until the page goes away or the preview stops."""
        events = self.preview.listen()
        self.close_connection = True
        try:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(b"retry: 1000\n\n")
            self.wfile.flush()
            while not self.preview.stop.is_set():
                try:
                    event = events.get(timeout=KEEP_ALIVE_S)
                    chunk = f"data: {json.dumps(event)}\n\n".encode()
                except queue.Empty:
                    chunk = b": still here\n\n"
                self.wfile.write(chunk)
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the page was closed or reloaded
        finally:
            self.preview.unlisten(events)

    def _send_file(self, base: Path, relative: str) -> None:
        target = (base / relative).resolve()
        if not target.is_relative_to(base.resolve()) or not target.is_file():
            self._send(b"not found\n", "text/plain", HTTPStatus.NOT_FOUND)
            return
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if kind.startswith("text/"):
            kind += "; charset=utf-8"
        self._send(target.read_bytes(), kind)

    def _send(self, data: bytes, kind: str, status: HTTPStatus = HTTPStatus.OK) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if not self.head_only:
            self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
        log.debug("%s - %s", self.address_string(), format % args)


class PreviewServer(ThreadingHTTPServer):
    daemon_threads = True


def make_server(preview: Preview, host: str, port: int) -> ThreadingHTTPServer:
    """A threaded HTTP server for ``preview`` on a loopback ``host``; port 0 picks a free one."""
    check_loopback(host)
    handler = type("PreviewHandler", (Handler,), {"preview": preview})
    server_class = PreviewServer
    if ":" in host:
        server_class = type("PreviewServer6", (PreviewServer,), {"address_family": socket.AF_INET6})
    try:
        return server_class((host.strip("[]"), port), handler)
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def server_url(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    host = f"[{host}]" if ":" in str(host) else host
    return f"http://{host}:{port}/"
