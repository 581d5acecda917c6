"""Fetching from a real loopback HTTP server: feeds, images, limits, conditional requests."""

from __future__ import annotations

import errno
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from magbuilder.ingest.config import ImageSettings
from magbuilder.ingest.fetch import Fetcher, FetchError
from magbuilder.ingest.item import ImageCandidate
from magbuilder.ingest.media import MediaStore, sniff
from magbuilder.store import read_review

from .conftest import FEEDS, LOOPBACK, TRICKLE_SECONDS, jpeg, messages, review, run


def test_feed_over_http_with_images(project, http_server) -> None:
    root = project(LOOPBACK)
    report = run(root, http_server.url("/feeds/wordpress.xml"))
    assert report.summary() == "new 2, updated 0, unchanged 0, skipped 3"
    written = review(root, "the-hearing-at-kvalvika")
    image = written.front["image"]
    assert image["src"].startswith("media/the-hearing-at-kvalvika-") and image["src"].endswith(
        ".jpg"
    )
    assert image["alt"] == "Kvalvika harbour"
    assert image["caption"] == (
        "Villagers wait outside the gymnasium on the first day of the hearing."
    )
    assert image["credit"] == "Photo: Fjell Film"
    # The lazy body image: srcset's largest candidate, downloaded, with caption and credit.
    figure = next(line for line in written.body.splitlines() if line.startswith("!["))
    assert figure.startswith("![Sea charts hung over climbing bars in a school gymnasium](media/")
    assert figure.endswith(
        '.jpg "The temporary courtroom in the school gymnasium. Photo: Ola Fjell")'
    )
    fetched = {path for path, _ in http_server.requests}
    assert "/img/uploads/2018/03/kvalvika-court-1200.jpg" in fetched
    assert "/img/uploads/2018/03/kvalvika-court-300.jpg" not in fetched
    loaded = read_review(
        root / "content" / "reviews" / "the-hearing-at-kvalvika.md", content_dir=root / "content"
    )
    assert loaded.image is not None
    stored = root / "content" / image["src"]
    assert sniff(stored.read_bytes()) == "image/jpeg"


def test_first_body_image_is_the_hero_when_the_feed_names_none(project, http_server) -> None:
    root = project(LOOPBACK)
    run(root, http_server.url("/feeds/wordpress.xml"))
    written = review(root, "static-over-gdansk")
    assert written.front["image"]["src"].endswith(".png")
    assert written.front["image"]["alt"] == "A home-made radio transmitter on a kitchen table"
    assert written.front["image"]["caption"] == "The transmitter, rebuilt for the film."
    assert written.front["image"]["credit"] == "Photo: Studio Fala"
    assert "![" not in written.body


def test_requests_carry_a_user_agent(project, http_server) -> None:
    root = project(LOOPBACK)
    run(root, http_server.url("/feeds/jsonfeed.json"))
    headers = http_server.headers_for("/feeds/jsonfeed.json")[-1]
    assert headers["user-agent"].startswith("magbuilder/")


def test_refetch_sends_etag_and_last_modified_and_honours_304(project, http_server) -> None:
    root = project(LOOPBACK)
    url = http_server.url("/feeds/atom.xml")
    run(root, url)
    folder = root / "content" / "reviews"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    report = run(root, url)
    headers = http_server.headers_for("/feeds/atom.xml")[-1]
    assert headers["if-none-match"].startswith('"')
    assert headers["if-modified-since"] == "Mon, 05 Mar 2018 09:00:00 GMT"
    assert "not modified since the last ingest" in messages(report)
    assert report.summary() == "new 0, updated 0, unchanged 0, skipped 0"
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_redirects_are_followed(project, http_server) -> None:
    root = project(LOOPBACK)
    report = run(root, http_server.url("/redirect"))
    assert report.count("new") == 2


def test_latin1_feed_over_http_uses_the_declared_charset(project, http_server) -> None:
    root = project(LOOPBACK)
    run(root, http_server.url("/feeds/latin1.xml"))
    assert review(root, "soren-hojbjergs-sidste-sommer").front["author"] == "Agnès Lefèvre"


def test_slow_server_times_out(project, http_server) -> None:
    root = project("ingest:\n  fetch:\n    timeout: 0.3\n")
    started = time.monotonic()
    report = run(root, http_server.url("/slow"))
    assert time.monotonic() - started < 1.4
    assert "timed out after 0.3 s" in str(report.errors[0])


def test_huge_feed_hits_the_size_cap(project, http_server) -> None:
    root = project("ingest:\n  fetch:\n    max_bytes: 1000000\n")
    report = run(root, http_server.url("/huge"))
    assert "larger than the 1 MB limit" in str(report.errors[0])


def test_html_page_where_a_feed_was_expected_is_an_error(project, http_server) -> None:
    root = project(LOOPBACK)
    report = run(root, http_server.url("/pages/harbour-of-small-engines.html"))
    error = str(report.errors[0])
    assert error.startswith(http_server.url("/pages/harbour-of-small-engines.html"))
    assert "not a feed: this is an HTML page" in error
    assert "https://longtake.example/feed/" in error  # the page's advertised feed


def test_empty_body_is_an_error(project, http_server) -> None:
    root = project(LOOPBACK)
    report = run(root, http_server.url("/empty"))
    assert "not a feed: the body is empty" in str(report.errors[0])


def test_http_error_is_reported(project, http_server) -> None:
    root = project(LOOPBACK)
    report = run(root, http_server.url("/missing.xml"))
    assert "the server answered HTTP 404" in str(report.errors[0])


# ---- images ----------------------------------------------------------------------------------


@pytest.fixture
def media(tmp_path: Path):
    def make(**settings) -> MediaStore:
        options = {"allow_private": True, "timeout": 2, **settings}
        fetcher = Fetcher("magbuilder-test")
        return MediaStore(tmp_path / "content", ImageSettings(**options), fetcher)

    return make


def test_image_download_is_stored_once_under_a_stable_name(media, http_server, tmp_path) -> None:
    store = media()
    image = ImageCandidate(url=http_server.url("/img/a.jpg"))
    src, problem = store.store(image, "slug")
    assert problem is None
    assert src is not None and src.startswith("media/slug-") and src.endswith(".jpg")
    assert (tmp_path / "content" / src).read_bytes() == jpeg("a.jpg")
    count = len(http_server.headers_for("/img/a.jpg"))
    assert media().store(image, "slug") == (src, None)  # a new run finds the file
    assert len(http_server.headers_for("/img/a.jpg")) == count


def test_private_addresses_are_refused_unless_allowed(media, http_server) -> None:
    src, problem = media(allow_private=False).store(
        ImageCandidate(url=http_server.url("/img/b.jpg")), "slug"
    )
    assert src is None
    assert "refused: host '127.0.0.1' is a private or loopback address" in problem


def test_content_that_is_not_an_image_is_refused(media, http_server) -> None:
    src, problem = media().store(ImageCandidate(url=http_server.url("/img/fake.jpg")), "s")
    assert src is None and "not a JPEG, PNG, GIF or WebP image (by its content)" in problem
    src, problem = media().store(ImageCandidate(url=http_server.url("/img/page.jpg")), "s")
    assert src is None and "served as 'text/html'" in problem


def test_oversized_image_is_refused_and_a_fallback_used(media, http_server) -> None:
    image = ImageCandidate(
        url=http_server.url("/img/big.jpg"), fallbacks=[http_server.url("/img/small.jpg")]
    )
    src, problem = media(max_bytes=1_000_000).store(image, "s")
    assert problem is None and src is not None
    src, problem = media(max_bytes=1_000_000).store(ImageCandidate(url=image.url), "s2")
    assert src is None and "larger than the 1 MB limit" in problem


def test_non_web_addresses_are_refused(media) -> None:
    for url in ("file:///etc/passwd", "../../secret.jpg", "ftp://x.example/a.jpg"):
        src, problem = media().store(ImageCandidate(url=url), "s")
        assert src is None and problem


def test_fetcher_refuses_other_schemes() -> None:
    with Fetcher("t") as fetcher, pytest.raises(FetchError, match="only http"):
        fetcher.get("file:///etc/passwd", timeout=1, max_bytes=10)


def test_slow_image_times_out(media, http_server) -> None:
    started = time.monotonic()
    src, problem = media(timeout=0.3).store(ImageCandidate(url=http_server.url("/slow")), "s")
    assert src is None and "timed out after 0.3 s" in problem
    assert time.monotonic() - started < 1.4


def test_reingest_with_images_is_byte_identical_and_downloads_nothing(project, http_server):
    root = project(LOOPBACK)
    run(root, http_server.url("/feeds/wordpress.xml"))
    content = root / "content"
    before = {p: p.read_bytes() for p in content.rglob("*") if p.is_file()}
    images = sum(1 for path, _ in http_server.requests if path.startswith("/img/"))
    report = run(root, http_server.url("/redirect"))  # same feed, no cached ETag for this URL
    assert report.summary() == "new 0, updated 0, unchanged 2, skipped 3"
    after = {p: p.read_bytes() for p in content.rglob("*") if p.is_file()}
    assert {p: b for p, b in after.items() if p.name != ".ingest-state.json"} == {
        p: b for p, b in before.items() if p.name != ".ingest-state.json"
    }
    assert sum(1 for path, _ in http_server.requests if path.startswith("/img/")) == images


# ---- one deadline per request, and the address that was checked is the one connected to -------


def test_a_server_trickling_its_headers_is_cut_off_at_the_deadline(project, http_server) -> None:
    # Each read gets its byte well within the timeout: only a deadline for the whole request
    # (connect, headers, body, redirects) stops the wait.
    root = project("ingest:\n  fetch:\n    timeout: 2\n  images:\n    download: false\n")
    url = http_server.url("/trickle")
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "magbuilder", "ingest", url, str(FEEDS / "jsonfeed.json")],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=TRICKLE_SECONDS + 30,
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 1, result.stderr
    assert f"{url}: timed out after 2 s" in result.stderr
    assert result.stdout.splitlines()[-1] == "new 2, updated 0, unchanged 0, skipped 0"
    # Without the deadline it would take TRICKLE_SECONDS and succeed; the rest is start-up.
    assert elapsed < TRICKLE_SECONDS - 10
    assert "Traceback" not in result.stderr


def test_the_deadline_covers_every_redirect(http_server) -> None:
    started = time.monotonic()
    with Fetcher("t") as fetcher, pytest.raises(FetchError, match="timed out after 2 s"):
        fetcher.get(http_server.url("/slow-redirect/1"), timeout=2, max_bytes=1_000_000)
    assert time.monotonic() - started < 2 + 1


def test_the_deadline_covers_the_name_lookup(http_server, monkeypatch) -> None:
    real = socket.getaddrinfo

    def stuck_resolver(host: str, *args: Any, **kwargs: Any) -> list:
        if host == "slow-dns.example":
            time.sleep(6)
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", stuck_resolver)
    port = http_server.base.rsplit(":", 1)[1]
    started = time.monotonic()
    with Fetcher("t") as fetcher, pytest.raises(FetchError, match="timed out after 1 s"):
        fetcher.get(f"http://slow-dns.example:{port}/feeds/atom.xml", timeout=1, max_bytes=10**6)
    assert time.monotonic() - started < 1 + 1


PUBLIC = "93.184.216.34"  # a public address; the connection to it is refused by `outside`
_outside: list[tuple[str, int]] | None = None


def _refuse_outside(event: str, args: tuple) -> None:
    if event == "socket.connect" and _outside is not None:
        address = args[1]
        if isinstance(address, tuple) and address[0] not in ("127.0.0.1", "::1"):
            _outside.append(tuple(address[:2]))
            raise ConnectionRefusedError(errno.ECONNREFUSED, "refused by the test: no network")


@pytest.fixture
def outside() -> Iterator[list[tuple[str, int]]]:
    """Connections to anything but loopback are recorded and refused: no test leaves the machine.

    An audit hook sees every ``socket.connect`` whoever makes it; it cannot be removed, so it is
    installed once and does nothing outside this fixture.
    """
    global _outside
    if not getattr(sys, "_magbuilder_refuse_outside", False):
        sys.addaudithook(_refuse_outside)
        sys._magbuilder_refuse_outside = True  # type: ignore[attr-defined]
    _outside = []
    try:
        yield _outside
    finally:
        _outside = None


def test_an_image_is_fetched_from_the_address_that_was_checked(
    media, http_server, monkeypatch, outside
) -> None:
    # DNS rebinding: the name answers a public address to the check, then the loopback server.
    real = socket.getaddrinfo
    lookups: list[str] = []

    def rebinding_resolver(host: str, port: Any, *args: Any, **kwargs: Any) -> list:
        if host != "pictures.rebind.example":
            return real(host, port, *args, **kwargs)
        lookups.append(host)
        address = PUBLIC if len(lookups) == 1 else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, int(port)))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_resolver)
    port = int(http_server.base.rsplit(":", 1)[1])
    url = f"http://pictures.rebind.example:{port}/img/rebound.jpg"
    src, problem = media(allow_private=False).store(ImageCandidate(url=url), "s")
    assert src is None
    assert http_server.headers_for("/img/rebound.jpg") == []  # the loopback server was not asked
    assert lookups == ["pictures.rebind.example"]  # looked up once ...
    assert outside == [(PUBLIC, port)]  # ... and connected to the address the check saw
    assert "cannot connect to 'pictures.rebind.example'" in problem
