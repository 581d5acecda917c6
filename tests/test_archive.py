"""The archive site: the sample issues served by a real HTTP server, read in headless Chromium.

Expected values come from the repository's manifests and review files (read with plain YAML) and
from the URL formats docs/ documents, written out here: never from the code under test.
"""

from __future__ import annotations

import functools
import os
import re
import threading
import urllib.request
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urlsplit

import feedparser
import pytest
import yaml
from playwright.sync_api import Browser, Page

from magbuilder.archive import ArchiveResult, build_archive
from magbuilder.build import BuildResult
from magbuilder.errors import InputError

from .browser import open_page
from .conftest import REPO, manifest_text, review_text

SAMPLES = {"2026-12": "What the Water Keeps", "2026-11": "The Ones Who Stay"}
MOUNT = "/mirror/long-take/"  # the site is served below a path, not at the server's root

# The documented formats (docs/) for the sample's magbuilder.yaml (base_url https://longtake.example/reviews,
# archive_url https://longtake.example/issues): a review is <base_url>/<slug>/, an issue's page
# <archive_url>/<id>/, its PDF <archive_url>/<id>/magazine-screen.pdf; the newsletter's images are
# uploaded as <image_base_url>/<id>/images/ (default: archive_url).
ARCHIVE_URL = "https://longtake.example/issues/"
ISSUE_URL = "https://longtake.example/issues/{id}/"
PDF_URL = "https://longtake.example/issues/{id}/magazine-screen.pdf"
IMAGES_URL = "https://longtake.example/issues/{id}/images/"
REVIEW_URL = "https://longtake.example/reviews/{slug}/"

# The repository's manifests, by id, newest first, read with plain YAML rather than the loader.
MANIFESTS: dict[str, dict[str, Any]] = {
    m["id"]: m
    for m in sorted(
        (yaml.safe_load(p.read_text("utf-8")) for p in (REPO / "issues").glob("*.yaml")),
        key=lambda m: m["date"],
        reverse=True,
    )
}


def slugs(manifest: dict[str, Any]) -> list[str]:
    return [slug for section in manifest["sections"] for slug in section["reviews"]]


def review_title(slug: str) -> str:
    """A review's title from its file's front matter."""
    text = (REPO / "content" / "reviews" / f"{slug}.md").read_text("utf-8")
    return yaml.safe_load(text.split("---\n", 2)[1])["title"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, sample_build: BuildResult) -> ArchiveResult:
    """The archive of the repository's issues, built once; 2026-12 reuses the session's build."""
    out = tmp_path_factory.mktemp("www") / MOUNT.strip("/") / "site"
    return build_archive(REPO, out, sample_build.out_dir.parent)


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture(scope="module")
def server(site: ArchiveResult) -> Iterator[str]:
    """The site's folder served over HTTP on 127.0.0.1; yields the site's URL (ending in /)."""
    docroot = site.out.parents[len(MOUNT.strip("/").split("/"))]
    handler = functools.partial(QuietHandler, directory=str(docroot))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}{MOUNT}site/"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def visit(browser: Browser, url: str, width: int) -> tuple[Page, list[str]]:
    """Open ``url``; only the test server may be reached. Returns the page and failed requests."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    origin = "{0.scheme}://{0.netloc}/".format(urlsplit(url))
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(origin) else r.abort())
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else 0)
    page.on("requestfailed", lambda r: failed.append(f"failed {r.url}"))
    page.goto(url, wait_until="load")
    return page, failed


LINKS_JS = """() => [
  ...Array.from(document.querySelectorAll('a[href]'), a => a.href),
  ...Array.from(document.querySelectorAll('img[src], iframe[src]'), e => e.src),
  ...Array.from(document.querySelectorAll('link[href]'), l => l.href),
]"""


def fetch(url: str, method: str = "GET") -> tuple[int, str, bytes]:
    request = urllib.request.Request(url, method=method)
    with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310 - our own server
        return reply.status, reply.headers.get_content_type(), reply.read()


def test_index_lists_every_issue_newest_first(browser, server, site):
    assert SAMPLES.items() <= {(i, m["title"]) for i, m in MANIFESTS.items()}
    page, failed = visit(browser, server + "index.html", 1024)
    try:
        titles = page.locator(".issues h2").all_inner_texts()
        assert titles == [m["title"] for m in MANIFESTS.values()]
        assert titles.index(SAMPLES["2026-12"]) < titles.index(SAMPLES["2026-11"])
        cards = page.locator(".issues > li")
        for n, manifest in enumerate(MANIFESTS.values()):
            text = cards.nth(n).text_content() or ""
            assert f"No. {manifest['number']}" in text
            assert manifest["date"].strftime("%B %Y") in text
            for slug in slugs(manifest):  # the contents
                assert review_title(slug) in text
        covers = page.locator(".issues img")
        assert covers.count() == len(MANIFESTS)
        covers.first.scroll_into_view_if_needed()
        assert covers.first.evaluate("i => i.complete && i.naturalWidth > 0")
        assert failed == []
    finally:
        page.close()


def test_every_link_and_download_resolves(browser, server, site):
    """Crawl every page of the site: each relative link answers 200, PDFs as application/pdf."""
    to_visit, seen_pages, checked = [server + "index.html"], set(), set()
    downloads: list[str] = []
    outside: dict[str, list[str]] = {}  # page → its links that leave the archive
    while to_visit:
        url = to_visit.pop()
        if url in seen_pages:
            continue
        seen_pages.add(url)
        page, failed = visit(browser, url, 1024)
        try:
            links = page.evaluate(LINKS_JS)
            downloads += page.eval_on_selector_all("a[download]", "as => as.map(a => a.href)")
        finally:
            page.close()
        assert failed == [], f"{url}: {failed}"
        for link in links:
            link = urldefrag(link).url
            if not link.startswith(server):
                # Only the full reviews and the newsletter's own links leave the archive.
                assert link.startswith("https://longtake.example/"), f"{url} links to {link}"
                outside.setdefault(url, []).append(link)
                continue
            if link in checked:
                continue
            checked.add(link)
            status, kind, body = fetch(link)
            assert status == 200, link
            path = urlsplit(link).path
            if path.endswith(".pdf"):
                assert kind == "application/pdf" and body.startswith(b"%PDF-"), link
            elif path.endswith(".html"):
                to_visit.append(link)
    issue_pages = {server + f"{issue_id}/index.html" for issue_id in MANIFESTS}
    assert issue_pages <= seen_pages
    for issue_id, manifest in MANIFESTS.items():  # each issue offers the screen and print PDF
        assert server + f"{issue_id}/magazine-screen.pdf" in downloads
        assert server + f"{issue_id}/magazine.pdf" in downloads
        # ... and its contents link to the full reviews on the site.
        reviews = [REVIEW_URL.format(slug=slug) for slug in slugs(manifest)]
        assert set(reviews) <= set(outside[server + f"{issue_id}/index.html"])


@pytest.mark.parametrize("width", [375, 1024])
def test_pages_fit_the_screen_and_have_landmarks(browser, server, site, width):
    for url in [server + "index.html", *(server + f"{i}/index.html" for i in MANIFESTS)]:
        page, failed = visit(browser, url, width)
        try:
            scroll, client = page.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            assert scroll <= client, f"{url}: horizontal scroll at {width}px ({scroll} > {client})"
            assert page.evaluate("document.documentElement.lang") == "en"
            for landmark in ("header", "main", "footer"):
                assert page.locator(landmark).count() == 1, f"{url}: one <{landmark}>"
            assert page.locator("h1").count() == 1
            skip = page.locator("a.skip")
            assert skip.get_attribute("href") == "#main" and page.locator("#main").count() == 1
            page.keyboard.press("Tab")  # the skip link is the first stop and becomes visible
            assert page.evaluate("document.activeElement.className") == "skip"
            assert (skip.bounding_box() or {"y": -1})["y"] >= 0, "skip link shown on focus"
            assert page.evaluate("Array.from(document.images).every(i => i.hasAttribute('alt'))")
            assert page.evaluate(
                "Array.from(document.querySelectorAll('iframe')).every(f => f.title)"
            )
            assert failed == []
        finally:
            page.close()


def test_site_works_opened_from_disk(browser, site):
    page = open_page(browser, (site.out / "index.html").as_uri(), 1024)
    try:
        links = page.evaluate(LINKS_JS)
    finally:
        page.close()
    local = [urldefrag(u).url for u in links if u.startswith("file://")]
    assert local, "the index links to its issues relatively"
    for url in local:
        path = Path(urllib.request.url2pathname(urlsplit(url).path))
        assert path.is_file(), f"{url} is missing"
        assert path.is_relative_to(site.out)


def test_feed_parses_with_one_entry_per_issue(site):
    feed = feedparser.parse(str(site.out / "feed.atom"))
    assert not feed.bozo, feed.get("bozo_exception")
    assert len(feed.entries) == len(MANIFESTS)
    ids = [entry.id for entry in feed.entries]
    assert len(set(ids)) == len(ids) and all(i.startswith("tag:") for i in ids)
    assert ISSUE_URL.format(id="2026-12") == "https://longtake.example/issues/2026-12/"
    for entry, (issue_id, manifest) in zip(feed.entries, MANIFESTS.items(), strict=True):
        assert entry.link == ISSUE_URL.format(id=issue_id)
        [enclosure] = entry.enclosures
        assert enclosure.href == PDF_URL.format(id=issue_id)
        assert enclosure.type == "application/pdf"
        pdf = site.out / issue_id / "magazine-screen.pdf"
        assert int(enclosure.length) == pdf.stat().st_size
        assert entry.published.startswith(manifest["date"].isoformat())
    # The feed's own links are absolute from archive_url: the feed itself and the index.
    links = {link.rel: link.href for link in feed.feed.links}
    assert links == {"self": ARCHIVE_URL + "feed.atom", "alternate": ARCHIVE_URL}


def test_the_newsletters_links_land_in_the_archive(site, sample_build):
    """'View in browser' and 'Download PDF' point at files the archive has, images are local."""
    for issue_id in MANIFESTS:
        html = (sample_build.out_dir.parent / issue_id / "newsletter.html").read_text("utf-8")
        targets = set(re.findall(rf'href="({re.escape(ARCHIVE_URL)}[^"?]*)', html))
        assert ISSUE_URL.format(id=issue_id) in targets
        assert PDF_URL.format(id=issue_id) in targets
        for target in targets:
            relative = target.removeprefix(ARCHIVE_URL)
            path = (
                site.out / relative / "index.html"
                if relative.endswith("/")
                else site.out / relative
            )
            assert path.is_file(), f"{target} has no page in the archive"
        assert IMAGES_URL.format(id=issue_id) in html  # uploaded images for the mailed copy ...
        web = (site.out / issue_id / "newsletter.html").read_text("utf-8")
        assert IMAGES_URL.format(id=issue_id) not in web  # ... local ones for the web version
        images = re.findall(r'src="(images/[^"]+)"', web)
        assert images and all((site.out / issue_id / i).is_file() for i in images)


def test_a_second_run_reuses_builds_and_is_byte_identical(site, sample_build, tmp_path):
    again = build_archive(REPO, tmp_path / "site", sample_build.out_dir.parent)
    assert again.built == []

    def tree(root: Path) -> dict[str, bytes]:
        return {
            p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()
        }

    assert tree(again.out) == tree(site.out)


@pytest.mark.slow
def test_stale_issues_are_rebuilt_and_a_failure_keeps_the_old_site(tmp_project):
    project = tmp_project(
        {
            "content/reviews/a.md": review_text("Alpha"),
            "issues/t-1.yaml": manifest_text(["a"]),
        }
    )
    out, build = project / "build" / "site", project / "build"
    first = build_archive(project, out, build)
    assert first.built == ["t-1"]
    assert build_archive(project, out, build).built == []

    review = project / "content/reviews/a.md"
    review.write_text(review_text("Alpha Revised"), "utf-8")
    later = (build / "t-1" / "magazine.pdf").stat().st_mtime + 5
    os.utime(review, (later, later))
    assert build_archive(project, out, build).built == ["t-1"]
    assert "Alpha Revised" in (out / "t-1" / "index.html").read_text("utf-8")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}

    (project / "issues/t-1.yaml").write_text(manifest_text(["a", "missing"]), "utf-8")
    with pytest.raises(InputError) as failure:
        build_archive(project, out, build)
    assert re.search(r"issues/t-1\.yaml:\d+: .*unknown review 'missing'", failure.value.report())
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert [p.name for p in build.iterdir() if p.name.startswith(".site.")] == []  # no leftovers
