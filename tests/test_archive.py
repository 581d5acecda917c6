"""The archive site: the sample issues served by a real HTTP server, read in headless Chromium.

Expected values come from the repository's manifests and review files (read with plain YAML) and
from the URL formats docs/ documents, written out here: never from the code under test.
"""

from __future__ import annotations

import fcntl
import functools
import os
import re
import shutil
import threading
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

import feedparser
import pytest
import yaml
from PIL import Image
from playwright.sync_api import Browser, Page

from magbuilder.archive import ArchiveResult, _stage_issue, build_archive, render_site
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
ARTICLE_URL = "https://longtake.example/issues/{id}/{slug}/"  # a review's page in the archive
ARABIC = "bayt-al-zaytoun"  # the December sample's review in Arabic
DOWNLOADS = {"magazine-screen.pdf": "application/pdf", "magazine.pdf": "application/pdf"}
EPUB = ("magazine.epub", "application/epub+zip")  # offered once the build writes one

# The repository's manifests, by id, newest first, read with plain YAML rather than the loader.
MANIFESTS: dict[str, dict[str, Any]] = {
    m["id"]: m
    for m in sorted(
        (yaml.safe_load(p.read_text("utf-8")) for p in (REPO / "issues").glob("*.yaml")),
        key=lambda m: m["date"],
        reverse=True,
    )
}


# Where the booked ads lead (content/sponsors/*.yaml, read with plain YAML): the only links that
# may leave the magazine's own site besides the newsletter's.
SPONSOR_LINKS = {
    link
    for p in (REPO / "content" / "sponsors").glob("*.yaml")
    for sponsor in [yaml.safe_load(p.read_text("utf-8"))]
    for link in (sponsor["link"], (sponsor.get("email") or {}).get("link"))
    if link
}


def slugs(manifest: dict[str, Any]) -> list[str]:
    return [slug for section in manifest["sections"] for slug in section["reviews"]]


def front_matter(slug: str) -> dict[str, Any]:
    """A review's front matter, read with plain YAML."""
    text = (REPO / "content" / "reviews" / f"{slug}.md").read_text("utf-8")
    return yaml.safe_load(text.split("---\n", 2)[1])


def review_title(slug: str) -> str:
    """A review's title from its file's front matter."""
    return front_matter(slug)["title"]


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, sample_build: BuildResult, november_build: BuildResult
) -> ArchiveResult:
    """The archive of the repository's issues, built once per module from the session's builds
    of both samples (one folder, shared under xdist): one module at a time."""
    out = tmp_path_factory.mktemp("www") / MOUNT.strip("/") / "site"
    with open(f"{sample_build.out_dir.parent}.archive.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
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


def offered(issue_dir: Path) -> dict[str, str]:
    """The files an issue's pages must offer, with their media types: both PDFs, and the EPUB
    when the build made one."""
    epub = {EPUB[0]: EPUB[1]} if (issue_dir / EPUB[0]).is_file() else {}
    return {**DOWNLOADS, **epub}


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
    """Crawl every page of the site: each relative link answers 200, PDFs as application/pdf.

    The article pages, all alike, are read as HTML without the browser (it takes a second a page);
    test_pages_fit_the_screen_and_have_landmarks opens two of them in it."""
    to_visit, seen_pages, checked = [server + "index.html"], set(), set()
    downloads: dict[str, list[str]] = {}  # page → the files it offers to download
    outside: dict[str, list[str]] = {}  # page → its links that leave the archive
    while to_visit:
        url = to_visit.pop()
        if url in seen_pages:
            continue
        seen_pages.add(url)
        if re.fullmatch(r"[^/]+/[^/]+/index\.html", url.removeprefix(server)):  # an article
            doc = Doc()
            doc.feed(fetch(url)[2].decode("utf-8"))
            refs = [a.get("href") or a.get("src") for t, a in doc.elements if t != "meta"]
            links = [urljoin(url, ref) for ref in refs if ref]
            downloads[url] = [urljoin(url, a["href"]) for a in doc.all("a") if "download" in a]
        else:
            page, failed = visit(browser, url, 1024)
            try:
                links = page.evaluate(LINKS_JS)
                downloads[url] = page.eval_on_selector_all(
                    "a[download]", "as => as.map(a => a.href)"
                )
            finally:
                page.close()
            assert failed == [], f"{url}: {failed}"
        for link in links:
            link = urldefrag(link).url
            if not link.startswith(server):
                # Only the full reviews, the newsletter's own links and the ads leave the archive.
                assert link.startswith("https://longtake.example/") or link in SPONSOR_LINKS, (
                    f"{url} links to {link}"
                )
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
            elif path.endswith(".epub"):
                assert body.startswith(b"PK") and b"application/epub+zip" in body[:100], link
            elif path.endswith(".html"):
                to_visit.append(link)
    for issue_id, manifest in MANIFESTS.items():
        issue_page = server + f"{issue_id}/index.html"
        articles = [server + f"{issue_id}/{slug}/index.html" for slug in slugs(manifest)]
        assert {issue_page, *articles} <= seen_pages  # every review's page is linked
        # The issue page and every article page offer the issue's files.
        files = offered(site.out / issue_id)
        for url in [issue_page, *articles]:
            assert {server + f"{issue_id}/{name}" for name in files} <= set(downloads[url]), url


@pytest.mark.parametrize("width", [375, 1024])
def test_pages_fit_the_screen_and_have_landmarks(browser, server, site, width):
    pages = ["index.html", *(f"{i}/index.html" for i in MANIFESTS), f"2026-12/{ARABIC}/index.html"]
    for url in [server + page for page in pages]:
        page, failed = visit(browser, url, width)
        try:
            scroll, client = page.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            assert scroll <= client, f"{url}: horizontal scroll at {width}px ({scroll} > {client})"
            assert page.evaluate("document.documentElement.lang") == "en"
            for landmark in ("banner", "main", "contentinfo"):  # an article's <header> is none
                assert page.get_by_role(landmark).count() == 1, f"{url}: one {landmark}"
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


def test_feed_parses_with_an_entry_per_issue_and_per_newest_review(site):
    feed = feedparser.parse(str(site.out / "feed.atom"))
    assert not feed.bozo, feed.get("bozo_exception")
    newest_id, newest = next(iter(MANIFESTS.items()))
    assert len(feed.entries) == len(MANIFESTS) + len(slugs(newest))
    ids = [entry.id for entry in feed.entries]
    assert len(set(ids)) == len(ids) and all(i.startswith("tag:") for i in ids)
    assert ISSUE_URL.format(id="2026-12") == "https://longtake.example/issues/2026-12/"
    issues, reviews = feed.entries[: len(MANIFESTS)], feed.entries[len(MANIFESTS) :]
    for entry, slug in zip(reviews, slugs(newest), strict=True):  # the newest issue's reviews
        front = front_matter(slug)
        assert entry.link == ARTICLE_URL.format(id=newest_id, slug=slug)
        assert entry.title == front["title"]
        assert entry.author == front["author"]
        assert entry.summary == front["standfirst"]
        assert entry.published.startswith(front["published"].isoformat())
        assert entry.updated >= entry.published
    for entry, (issue_id, manifest) in zip(issues, MANIFESTS.items(), strict=True):
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


# ---- the article pages: read as files, without a browser -----------------------------------------
class Doc(HTMLParser):
    """A page's elements with their attributes, its ids, and the text of its h1s."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.ids: set[str] = set()
        self.h1: list[str] = []
        self._in_h1 = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self.elements.append((tag, values))
        self.ids.update(v for k, v in values.items() if k in ("id", "name") and tag != "meta")
        if tag == "h1":
            self.h1.append("")
            self._in_h1 = True

    def handle_endtag(self, tag: str) -> None:
        self._in_h1 = self._in_h1 and tag != "h1"

    def handle_data(self, data: str) -> None:
        if self._in_h1:
            self.h1[-1] += data

    def all(self, tag: str, **wanted: str) -> list[dict[str, str]]:
        """The attributes of every ``tag`` whose attributes include ``wanted``."""
        wanted = {k.replace("_", "-"): v for k, v in wanted.items()}
        return [a for t, a in self.elements if t == tag and wanted.items() <= a.items()]

    def meta(self, prop: str) -> list[str]:
        return [a["content"] for a in self.all("meta", property=prop)]


@functools.cache
def parse(path: Path) -> Doc:
    doc = Doc()
    doc.feed(path.read_text("utf-8"))
    doc.close()
    return doc


def article(site: ArchiveResult, issue_id: str, slug: str) -> Path:
    return site.out / issue_id / slug / "index.html"


def test_every_review_has_its_own_page(site):
    for issue_id, manifest in MANIFESTS.items():
        for slug in slugs(manifest):
            front, page = front_matter(slug), article(site, issue_id, slug)
            assert page.is_file(), f"no page for {issue_id}/{slug}"
            doc = parse(page)
            assert doc.h1 == [front["title"]], page  # one h1: the review's title
            assert doc.all("html", lang=manifest["lang"])  # the frame in the issue's language
            lang = front.get("lang", manifest["lang"])
            [body] = doc.all("article", lang=lang)  # the review in its own
            assert body["dir"] == ("rtl" if lang == "ar" else "ltr")
            hero = front["image"]
            [img] = doc.all("img", alt=hero["alt"])
            text = page.read_text("utf-8")
            for words in (front["standfirst"], front["author"], hero["caption"], hero["credit"]):
                assert words in text
            assert front["author_bio"] in text
            # Every image is a web copy beside the page, its size written on the page.
            images = doc.all("img")
            assert len(images) == 1 + text.count('class="inline"')
            for img in images:
                with Image.open(page.parent / img["src"]) as picture:
                    assert picture.format == "JPEG" and picture.width <= 1200
                    assert (img["width"], img["height"]) == tuple(map(str, picture.size))
    arabic = article(site, "2026-12", ARABIC).read_text("utf-8")
    assert '<article class="article" lang="ar" dir="rtl">' in arabic
    assert '<aside class="pullquote">' in arabic  # the body, rendered by the Markdown renderer


def test_article_pages_go_in_reading_order_and_back_to_their_issue(site):
    for issue_id, manifest in MANIFESTS.items():
        order = slugs(manifest)
        issue = parse(site.out / issue_id / "index.html")
        linked = [a["href"] for a in issue.all("a") if a["href"].endswith("/index.html")]
        assert [h for h in linked if h.split("/")[0] in order] == [f"{s}/index.html" for s in order]
        for n, slug in enumerate(order):
            doc = parse(article(site, issue_id, slug))
            for rel, other in (("prev", order[n - 1] if n else None),
                               ("next", order[n + 1] if n + 1 < len(order) else None)):  # fmt: skip
                hrefs = {a["href"] for a in doc.all("a", rel=rel)}
                assert hrefs == ({f"../{other}/index.html"} if other else set()), (slug, rel)
                assert {a["href"] for a in doc.all("link", rel=rel)} == hrefs
            assert doc.all("a", href="../index.html#contents")  # back to the issue
            assert doc.all("link", rel="alternate", type="text/html", href="../index.html")


def test_issue_and_article_pages_offer_every_download(site):
    for issue_id, manifest in MANIFESTS.items():
        files = offered(site.out / issue_id)
        pages = [("", site.out / issue_id / "index.html")]
        pages += [("../", article(site, issue_id, slug)) for slug in slugs(manifest)]
        for up, page in pages:
            doc = parse(page)
            for name, kind in files.items():
                assert doc.all("a", href=up + name, type=kind, download=""), (page, name)
                assert doc.all("link", rel="alternate", type=kind, href=up + name), (page, name)
            offers = {a["href"] for a in doc.all("a") if "download" in a}
            assert offers == {up + name for name in files}, page


def test_the_epub_is_offered_once_the_build_makes_one(site, tmp_path):
    """Before the build writes magazine.epub, no page names it; once it does, every page does."""
    entry = site.issues[0]
    assert entry.id == "2026-12"
    if entry.epub is None:
        assert "magazine.epub" not in (site.out / "2026-12" / "index.html").read_text("utf-8")
    build = tmp_path / "build"
    shutil.copytree(entry.build_dir, build / entry.id, ignore=shutil.ignore_patterns("snap*"))
    (build / entry.id / EPUB[0]).write_bytes(b"PK\x03\x04mimetypeapplication/epub+zip")
    out = tmp_path / "site"
    out.mkdir()
    staged = _stage_issue(entry.issue, build, out / entry.id)
    assert staged.epub is not None and (out / entry.id / EPUB[0]).is_file()
    render_site([staged], out)
    for page in [out / entry.id / "index.html", *(out / entry.id).glob("*/index.html")]:
        up = "" if page.parent.name == entry.id else "../"
        doc = parse(page)
        assert doc.all("a", href=up + EPUB[0], type=EPUB[1], download=""), page
        assert doc.all("link", rel="alternate", type=EPUB[1], href=up + EPUB[0]), page


def test_open_graph_tags_and_canonical_links_are_absolute(site):
    for issue_id, manifest in MANIFESTS.items():
        for slug in slugs(manifest):
            front, page = front_matter(slug), article(site, issue_id, slug)
            doc = parse(page)
            url = ARTICLE_URL.format(id=issue_id, slug=slug)
            assert [a["href"] for a in doc.all("link", rel="canonical")] == [url]
            assert doc.meta("og:url") == [url] and doc.meta("og:type") == ["article"]
            assert doc.meta("og:title") == [front["title"]]
            assert doc.meta("og:description") == [front["standfirst"]]
            assert doc.meta("article:author") == [front["author"]]
            assert doc.meta("article:published_time") == [front["published"].isoformat()]
            [image] = doc.meta("og:image")
            assert image.startswith(url), image  # the hero's web copy, beside the page
            assert (site.out / image.removeprefix(ARCHIVE_URL)).is_file()
        issue = parse(site.out / issue_id / "index.html")
        assert [a["href"] for a in issue.all("link", rel="canonical")] == [
            ISSUE_URL.format(id=issue_id)
        ]


_CSS_URL = re.compile(r"""url\(\s*["']?([^"')]+)""")


def test_no_link_in_the_whole_site_is_broken(site):
    """Every href and src of every page, every url() of the stylesheet and every absolute URL
    into the archive (canonical, Open Graph, the newsletter's) names a file the site has; a
    fragment names an id on its page."""
    root = site.out.resolve()
    pages = sorted(root.rglob("*.html"))
    # The index; per issue and per edition: its page, its newsletter and a page per review.
    editions = sum(len(m.get("editions", {})) for m in MANIFESTS.values())
    per_issue = sum(
        (1 + 1 + len(slugs(m))) * (1 + len(m.get("editions", {}))) for m in MANIFESTS.values()
    )
    assert editions >= 1 and len(pages) == 1 + per_issue
    broken: list[str] = []

    def check(source: Path, url: str) -> None:
        if url.startswith("mailto:"):
            return
        if url.startswith(ARCHIVE_URL):  # an absolute link into the archive
            target = root / unquote(urlsplit(url).path).removeprefix(urlsplit(ARCHIVE_URL).path)
        elif urlsplit(url).scheme:
            if not url.startswith("https://longtake.example/") and url not in SPONSOR_LINKS:
                broken.append(f"{source}: leaves the magazine: {url}")
            return
        else:
            target = source.parent / unquote(urlsplit(url).path)
        target = target.resolve()
        if target.is_dir():
            target = target / "index.html"
        fragment = urlsplit(url).fragment
        if not target.is_relative_to(root) or not target.is_file():
            broken.append(f"{source.relative_to(root)}: {url}")
        elif fragment and fragment not in parse(target).ids:
            broken.append(f"{source.relative_to(root)}: {url}: no id '{fragment}'")

    for page in pages:
        for tag, attrs in parse(page).elements:
            for name in ("href", "src"):
                if attrs.get(name):
                    check(page, attrs[name])
            if tag == "meta" and attrs.get("content", "").startswith(ARCHIVE_URL):
                check(page, attrs["content"])
    css = root / "archive.css"
    for url in _CSS_URL.findall(css.read_text("utf-8")):
        check(css, url)
    assert broken == []


def test_an_edition_is_listed_once_and_linked_both_ways_with_a_feed_of_its_own(site):
    """The index lists an issue once, with its editions; each page names the others by
    hreflang (absolute) and links them for readers (relative); a feed per language."""
    root = site.out
    [(issue_id, manifest)] = [(i, m) for i, m in MANIFESTS.items() if m.get("editions")]
    [lang] = manifest["editions"]
    index = (root / "index.html").read_text("utf-8")
    assert index.count(f'href="{issue_id}/index.html">{manifest["title"]}</a>') == 1
    assert f'href="{issue_id}/{lang}/index.html" hreflang="{lang}"' in index
    main, edition = root / issue_id / "index.html", root / issue_id / lang / "index.html"
    links = [(main, f"../{issue_id}/{lang}/index.html"), (edition, f"../../{issue_id}/index.html")]
    for page, other in links:
        text = page.read_text("utf-8")
        for code, path in [(manifest["lang"], f"{issue_id}/"), (lang, f"{issue_id}/{lang}/")]:
            assert f'<link rel="alternate" hreflang="{code}" href="{ARCHIVE_URL}{path}">' in text
        assert '<p class="languages">' in text and f'href="{other}"' in text
    nb = edition.read_text("utf-8")
    assert f'<html lang="{lang}"' in nb and manifest["editions"][lang]["title"] in nb
    if tagline := manifest["editions"][lang].get("tagline"):  # the edition's words, not the site's
        assert f'<p class="tagline">{tagline}</p>' in nb
    for slug in slugs(manifest):  # every review's page, in the edition's language, both ways
        article = (root / issue_id / lang / slug / "index.html").read_text("utf-8")
        assert f'hreflang="{manifest["lang"]}" href="{ARCHIVE_URL}{issue_id}/{slug}/"' in article
        assert 'href="../../../' + issue_id + "/" + slug + '/index.html"' in article
    feed = (root / f"feed.{lang}.atom").read_text("utf-8")
    assert f'xml:lang="{lang}"' in feed and f"{ARCHIVE_URL}{issue_id}/{lang}/" in feed
    assert f"{ARCHIVE_URL}{issue_id}/{lang}/" not in (root / "feed.atom").read_text("utf-8")
    assert f'href="../../feed.{lang}.atom"' in nb
