"""Fixtures for ingest: a project folder, a loopback HTTP server, and helpers to read results.

The server (``http.server`` in a thread, on 127.0.0.1 only) serves the recorded feeds with their
image host rewritten to itself, generated images, and misbehaving endpoints: a slow one, a huge
one, an HTML page, an empty body, one that sends its headers a byte a second, a chain of slow
redirects. It records every request's headers for assertions.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from PIL import Image, ImageDraw

from magbuilder.ingest import IngestReport, ingest
from magbuilder.store import split_front_matter

DATA = Path(__file__).resolve().parent.parent / "data"
FEEDS = DATA / "feeds"
PAGES = DATA / "pages"
IMAGE_HOST = "https://media.longtake.example/"
TRICKLE_SECONDS = 30  # far beyond the 2 s deadline, even on a busy machine
TYPES = {".xml": "application/rss+xml", ".json": "application/feed+json", ".html": "text/html"}


def picture(seed: str, size: tuple[int, int] = (2400, 1500)) -> Image.Image:
    """A deterministic picture (large enough for print at full width), colours from ``seed``."""
    digest = hashlib.sha256(seed.encode()).digest()
    image = Image.new("RGB", size, (digest[0], digest[1], digest[2]))
    draw = ImageDraw.Draw(image)
    width, height = size
    draw.rectangle([0, height * 2 // 3, width, height], fill=(digest[3], digest[4], digest[5]))
    draw.ellipse([width // 3, height // 5, width // 2, height // 2], fill=(240, 230, 200))
    return image


def jpeg(seed: str) -> bytes:
    """A deterministic JPEG whose colours depend on ``seed``."""
    out = io.BytesIO()
    picture(seed).save(out, "JPEG", quality=70)
    return out.getvalue()


@dataclass
class Server:
    """The running loopback server: its base URL and the requests it has seen."""

    base: str
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def headers_for(self, path: str) -> list[dict[str, str]]:
        """Headers of every request made for ``path``."""
        return [headers for seen, headers in self.requests if seen == path]


def _handler(server: Server) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep pytest output clean
            pass

        def send(self, status: int, body: bytes, kind: str, **headers: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            if status != 304:
                # The client may have given up (the timeout test): expected.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            server.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            path = self.path.split("?")[0]
            if path.startswith("/feeds/") or path.startswith("/pages/"):
                self.recorded(path)
            elif path.startswith("/img/"):
                self.image(path)
            elif path == "/slow":
                time.sleep(1.5)
                self.send(200, b"<rss/>", "application/rss+xml")
            elif path == "/huge":
                self.huge()
            elif path == "/empty":
                self.send(200, b"", "application/rss+xml")
            elif path == "/redirect":
                self.redirect("/feeds/wordpress.xml")
            elif path == "/trickle":
                self.trickle()
            elif path.startswith("/slow-redirect/"):
                self.slow_redirect(int(path.rsplit("/", 1)[-1]))
            else:
                self.send(404, b"not found", "text/plain")

        def redirect(self, location: str) -> None:
            self.send_response(302)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def trickle(self) -> None:
            """A feed whose status line and headers come one byte a second, for TRICKLE_SECONDS;
            every read is quick, so only a deadline for the whole request stops the wait."""
            body = (FEEDS / "atom.xml").read_bytes()
            head = (
                "HTTP/1.1 200 OK\r\nContent-Type: application/atom+xml\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                for byte in head[:TRICKLE_SECONDS]:
                    self.wfile.write(bytes([byte]))
                    time.sleep(1)
                self.wfile.write(head[TRICKLE_SECONDS:] + body)

        def slow_redirect(self, hop: int) -> None:
            """Each hop answers after a second; the fifth serves a feed."""
            time.sleep(1)
            if hop < 5:
                self.redirect(f"/slow-redirect/{hop + 1}")
            else:
                self.recorded("/feeds/atom.xml")

        def recorded(self, path: str) -> None:
            file = DATA / path.lstrip("/")
            if not file.is_file():
                self.send(404, b"not found", "text/plain")
                return
            body = file.read_bytes().replace(IMAGE_HOST.encode(), f"{server.base}/img/".encode())
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            modified = "Mon, 05 Mar 2018 09:00:00 GMT"
            if self.headers.get("If-None-Match") == etag:
                self.send(304, b"", TYPES.get(file.suffix, "text/xml"), ETag=etag)
                return
            kind = TYPES.get(file.suffix, "application/xml")
            if file.name == "latin1.xml":
                kind = "application/rss+xml; charset=ISO-8859-1"
            self.send(200, body, kind, ETag=etag, Last_Modified=modified)

        def image(self, path: str) -> None:
            name = path.rsplit("/", 1)[-1]
            if name == "fake.jpg":  # says it is a JPEG, is an HTML page
                self.send(200, b"<!doctype html><p>gotcha</p>", "image/jpeg")
            elif name == "page.jpg":
                self.send(200, jpeg(name), "text/html")
            elif name == "big.jpg":
                self.send(200, jpeg(name) + b"\0" * 2_000_000, "image/jpeg")
            elif name.endswith(".png"):
                out = io.BytesIO()
                picture(name).quantize(16).save(out, "PNG")
                self.send(200, out.getvalue(), "image/png")
            else:
                self.send(200, jpeg(name), "image/jpeg")

        def huge(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.end_headers()  # no Content-Length: the cap must work while streaming
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(b"<rss><channel>")
                for _ in range(300):
                    self.wfile.write(b"<item><title>x</title></item>" * 400)

    return Handler


@pytest.fixture(scope="session")
def http_server() -> Iterator[Server]:
    """A loopback HTTP server for the whole session."""
    state = Server(base="")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def project(tmp_path: Path) -> Callable[..., Path]:
    """A project folder with ``content/reviews``; ``config`` becomes its ingest.yaml."""

    def make(config: str | None = None) -> Path:
        (tmp_path / "content" / "reviews").mkdir(parents=True, exist_ok=True)
        if config is not None:
            (tmp_path / "ingest.yaml").write_text(textwrap.dedent(config), encoding="utf-8")
        return tmp_path

    return make


OFFLINE = """\
ingest:
  images:
    download: false
"""

LOOPBACK = """\
ingest:
  images:
    allow_private: true
    timeout: 2
"""


def run(root: Path, *sources: Path | str, **options: Any) -> IngestReport:
    """Ingest ``sources`` into ``root/content/reviews``."""
    return ingest([str(s) for s in sources], root / "content" / "reviews", **options)


@dataclass
class Written:
    """A written review file: its front matter as data, its body, its text."""

    front: dict[str, Any]
    body: str
    text: str


def review(root: Path, slug: str) -> Written:
    """Read ``content/reviews/<slug>.md`` back as plain data."""
    text = (root / "content" / "reviews" / f"{slug}.md").read_text(encoding="utf-8")
    front, body, _ = split_front_matter(text, slug)
    return Written(yaml.safe_load(front), body, text)


def messages(report: IngestReport) -> str:
    """Every finding and error of a report, one per line."""
    return "\n".join(str(f) for f in report.findings + report.errors)
