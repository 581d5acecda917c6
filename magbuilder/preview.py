"""A local preview of one issue: the email at desktop and phone widths and the PDF's pages.

``serve_preview`` runs a small threaded HTTP server on a loopback address. Watcher threads
(watchfiles) notice saves in ``content/``, ``layouts/``, the manifest and ``magbuilder.yaml``; a
builder thread rebuilds the issue into ``build/.preview/<manifest>/v<N>/`` and bumps a version
number the page polls, so the browser reloads itself. A failed build is shown on the page with its
``path:line`` findings while the last good render stays visible; the server keeps running.
"""

from __future__ import annotations

import html
import ipaddress
import json
import logging
import mimetypes
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from string import Template
from urllib.parse import urlsplit

import watchfiles

from .build import build_issue
from .errors import MagbuilderError, UsageError
from .manifest import CONFIG_NAME, find_root

log = logging.getLogger(__name__)

PAGE_DPI = 36  # about 300 × 420 px for an A4 page: enough to judge the layout, quick to render
POLL_MS = 700
DEBOUNCE_MS = 300


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


@dataclass
class State:
    """What the page shows: the last good render, the last error, and a version that moves on
    every finished build attempt (good or bad)."""

    version: int = 0
    good: Path | None = None
    pages: list[str] = field(default_factory=list)
    pdf: str | None = None
    title: str = ""
    image_prefix: str | None = None
    error: str | None = None
    building: bool = False
    seconds: float = 0.0


def render_pages(pdf: Path, dest: Path, dpi: int = PAGE_DPI) -> list[str]:
    """Render every page of ``pdf`` to ``dest/page-NN.png``; returns the names, in order."""
    dest.mkdir(parents=True, exist_ok=True)
    pdftoppm = shutil.which("pdftoppm")
    if not pdftoppm:
        log.warning("pdftoppm not found (poppler-utils): the preview shows no pages")
        return []
    done = subprocess.run(
        [pdftoppm, "-png", "-r", str(dpi), str(pdf), str(dest / "page")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise MagbuilderError(f"pdftoppm could not render {pdf.name}: {done.stderr.strip()}")
    return sorted(p.name for p in dest.glob("page-*.png"))


class Preview:
    """Builds an issue on every relevant change and keeps the state the server shows."""

    def __init__(self, manifest: Path | str, work_dir: Path | None = None) -> None:
        self.manifest = Path(manifest).resolve()
        self.root = find_root(self.manifest)
        self.work = work_dir or self.root / "build" / ".preview" / self.manifest.stem
        self.state = State(title=self.manifest.name)
        self.lock = threading.Lock()
        self.changed = threading.Event()
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []
        self._attempt = 0
        self._default_filter = watchfiles.DefaultFilter()

    # -- building ---------------------------------------------------------------------------

    def rebuild(self) -> None:
        """Build into a fresh ``v<N>`` folder; on success it becomes what the server shows."""
        self._attempt += 1
        staging = self.work / f"v{self._attempt}"
        with self.lock:
            self.state.building = True
        started = time.monotonic()
        good = error = None
        try:
            result = build_issue(self.manifest, staging)
            out = result.out_dir
            pdf = out / "magazine-screen.pdf"
            pdf = pdf if pdf.is_file() else out / "magazine.pdf"
            pages = render_pages(pdf, out / "pages")
            m = result.issue.manifest
            good = {
                "good": out,
                "pages": pages,
                "pdf": pdf.name,
                "title": m.title,
                "image_prefix": m.site.image_url(m.id, ""),
            }
        except MagbuilderError as exc:
            error = exc.report()
        except Exception as exc:  # a bug: show it, keep serving the last good render
            log.exception("preview build failed")
            error = f"internal error: {exc!r} (see the terminal for the traceback)"
        seconds = time.monotonic() - started
        with self.lock:
            state = self.state
            previous = state.good
            for key, value in (good or {}).items():
                setattr(state, key, value)
            state.error = error
            state.version += 1
            state.building = False
            state.seconds = seconds
            keep = {p.parent for p in (state.good, previous) if p is not None}
        if error:
            log.warning("build failed:\n%s", error)
            shutil.rmtree(staging, ignore_errors=True)
        else:
            log.info("rebuilt %s in %.1f s", self.manifest.name, seconds)
        # Older renders go; the previous one stays a moment for requests still reading it.
        for old in self.work.glob("v*"):
            if old not in keep and old != staging:
                shutil.rmtree(old, ignore_errors=True)

    def _builder(self) -> None:
        while not self.stop.is_set():
            if self.changed.wait(0.2):
                self.changed.clear()
                self.rebuild()

    # -- watching ---------------------------------------------------------------------------

    def relevant(self, change: watchfiles.Change, path: str) -> bool:
        """Changes that affect the issue: content, layouts, this manifest and magbuilder.yaml."""
        if not self._default_filter(change, path):
            return False
        p = Path(path)
        return (
            p == self.manifest
            or p == self.root / CONFIG_NAME
            or p.is_relative_to(self.root / "content")
            or p.is_relative_to(self.root / "layouts")
        )

    def _watch(self, paths: list[Path], recursive: bool) -> None:
        for changes in watchfiles.watch(
            *paths,
            watch_filter=self.relevant,
            debounce=DEBOUNCE_MS,
            stop_event=self.stop,
            recursive=recursive,
            raise_interrupt=False,
        ):
            log.debug("changed: %s", sorted(p for _, p in changes))
            self.changed.set()

    def start(self) -> None:
        """Start the builder (with a first build) and the watchers."""
        shutil.rmtree(self.work, ignore_errors=True)
        self.work.mkdir(parents=True)
        trees = [self.root / "content", self.root / "layouts"]
        if self.manifest.parent != self.root:
            trees.append(self.manifest.parent)
        jobs: list[tuple[Callable[..., None], tuple[object, ...]]] = [
            (self._builder, ()),
            (self._watch, ([p for p in trees if p.is_dir()], True)),
            (self._watch, ([self.root], False)),  # magbuilder.yaml (and a manifest kept there)
        ]
        for target, args in jobs:
            thread = threading.Thread(target=target, args=args, daemon=True)
            thread.start()
            self.threads.append(thread)
        self.changed.set()

    def close(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=5)

    def snapshot(self) -> State:
        with self.lock:
            return State(**vars(self.state))


# -- the page -------------------------------------------------------------------------------

PAGE = Template("""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Preview · $title</title>
<style>
  body { margin: 0; font: 15px/1.45 system-ui, sans-serif; background: #e9e6e0; color: #1b1b1b; }
  header { position: sticky; top: 0; z-index: 1; background: #1d2430; color: #eee;
    padding: 8px 16px; display: flex; flex-wrap: wrap; gap: 4px 18px; align-items: baseline; }
  header h1 { font-size: 16px; margin: 0; }
  header a { color: #fff; }
  #status { color: #cfc8bb; }
  main { padding: 16px; }
  h2 { font-size: 13px; letter-spacing: .15em; text-transform: uppercase; margin: 18px 0 8px; }
  .error { background: #fff0ef; border: 2px solid #b3261e; padding: 8px 14px; }
  .error h2 { color: #b3261e; margin-top: 4px; }
  .error pre { white-space: pre-wrap; font-size: 14px; margin: 0 0 6px; }
  .frames { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
  figure { margin: 0; }
  figcaption { font-size: 12px; color: #555; margin-bottom: 4px; }
  iframe { border: 1px solid #bbb; background: #fff; height: 82vh; display: block; }
  .desktop { width: 640px; } .phone { width: 375px; }
  .pages { display: flex; flex-wrap: wrap; gap: 12px; }
  .pages img { width: 300px; height: auto; box-shadow: 0 1px 4px rgba(0,0,0,.3); background: #fff; }
  .stale { opacity: .55; }
</style>
</head>
<body>
<header>
  <h1>$title</h1>
  <span id="status" role="status">$status</span>
  $links
</header>
<main>
$error
$body
</main>
<script>
  const version = $version;
  const y = sessionStorage.getItem("preview-scroll");
  if (y !== null) { sessionStorage.removeItem("preview-scroll"); window.scrollTo(0, +y); }
  async function poll() {
    try {
      const reply = await fetch("/version", {cache: "no-store"});
      const state = await reply.json();
      if (state.version !== version) {
        sessionStorage.setItem("preview-scroll", String(window.scrollY));
        location.reload();
        return;
      }
      document.getElementById("status").textContent = state.building ? "building…" : $status_js;
    } catch (e) {
      document.getElementById("status").textContent = "server stopped";
    }
    setTimeout(poll, $poll);
  }
  setTimeout(poll, $poll);
</script>
</body>
</html>
""")


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
        v = state.version
        links = (
            f'<a href="/out/{e(state.pdf or "")}" target="_blank">PDF</a> '
            '<a href="/email.html" target="_blank">email</a> '
            '<a href="/out/newsletter.txt" target="_blank">text part</a>'
        )
        pages = "\n".join(
            f'<img src="/out/pages/{e(name)}?v={v}" alt="Page {i}" loading="lazy">'
            for i, name in enumerate(state.pages, start=1)
        )
        stale = ' class="stale"' if state.error else ""
        body = f"""<div{stale}>
<h2>Email</h2>
<div class="frames">
  <figure><figcaption>Desktop · 640 px</figcaption>
    <iframe class="desktop" src="/email.html?v={v}" title="Email, desktop"></iframe></figure>
  <figure><figcaption>Phone · 375 px</figcaption>
    <iframe class="phone" src="/email.html?v={v}" title="Email, phone"></iframe></figure>
</div>
<h2>Magazine · {len(state.pages)} pages</h2>
<div class="pages">{pages}</div>
</div>"""
    elif not state.error:
        body = "<p>Building the issue…</p>"
    if state.building:
        status = "building…"
    elif state.version:
        outcome = "failed" if state.error else "ok"
        status = f"build {state.version} {outcome} · {state.seconds:.1f} s"
    else:
        status = "starting…"
    return PAGE.substitute(
        title=e(state.title),
        status=e(status),
        status_js=json.dumps(status),
        links=links,
        error=error,
        body=body,
        version=state.version,
        poll=POLL_MS,
    )


def local_email(text: str, issue_image_prefix: str | None) -> str:
    """The newsletter with its absolute image URLs pointed at the preview's copies."""
    if issue_image_prefix:
        text = text.replace(issue_image_prefix, "/out/images/")
    return text


class Handler(BaseHTTPRequestHandler):
    """Serves the page, ``/version``, ``/email.html`` and the last good render under ``/out/``."""

    preview: Preview
    server_version = "magbuilder-preview"
    head_only = False

    def do_HEAD(self) -> None:  # noqa: N802 - the http.server API
        self.head_only = True
        self.do_GET()

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        path = urlsplit(self.path).path
        state = self.preview.snapshot()
        if path in ("/", "/index.html"):
            self._send(render_page(state).encode(), "text/html; charset=utf-8")
        elif path == "/version":
            reply = {"version": state.version, "building": state.building, "error": state.error}
            self._send(json.dumps(reply).encode(), "application/json")
        elif path == "/email.html" and state.good:
            text = (state.good / "newsletter.html").read_text(encoding="utf-8")
            self._send(local_email(text, state.image_prefix).encode(), "text/html; charset=utf-8")
        elif path.startswith("/out/") and state.good:
            self._send_file(state.good, path.removeprefix("/out/"))
        else:
            self._send(b"not found (or nothing built yet)\n", "text/plain", HTTPStatus.NOT_FOUND)

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


def serve_preview(
    manifest: Path | str,
    host: str = "127.0.0.1",
    port: int = 8000,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve a live preview of ``manifest`` until interrupted (Ctrl-C).

    Raises UsageError for a non-loopback host or a port that cannot be opened.
    """
    check_loopback(host)
    logging.getLogger("watchfiles").setLevel(logging.WARNING)  # no "2 changes detected" chatter
    preview = Preview(manifest)
    server = make_server(preview, host, port)
    try:
        preview.start()
        if on_ready:
            on_ready(server_url(server))
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        preview.close()
        server.server_close()
