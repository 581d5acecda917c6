"""Booked ads in the newsletter and on the archive's issue pages, from real renders.

A project with three reviews in two sections books a sponsor (Nordlys Kino: an email block with
an image, an archive banner) and a house ad (words alone). The newsletter is rendered as the
build renders it; the archive is staged and rendered as ``build_archive`` does, from that
newsletter and blank-page PDFs standing in for the magazine (which these tests do not lay out).

Expected values are written out here (the sponsor files, the layout's strings, the documented
URL formats), never taken from the code under test.
"""

from __future__ import annotations

import io
import subprocess
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from magbuilder.archive import ArchivedIssue, _stage_issue, render_site
from magbuilder.content import Issue
from magbuilder.errors import InputError
from magbuilder.manifest import load_issue
from magbuilder.paths import NEWSLETTER_HTML, PRINT_PDF, SCREEN_PDF
from magbuilder.render import email
from magbuilder.render.env import Layout

from .browser import open_page
from .conftest import REPO, manifest_text, review_text

VALIDATOR = REPO / "node_modules" / ".bin" / "mjml"
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"

# The test site (tests/conftest.py SITE): base_url https://mag.example/reviews, so the archive
# and the newsletter's images are under https://mag.example/reviews/issues/<id>/ (docs/).
IMAGES_URL = "https://mag.example/reviews/issues/t-1/images/"
UTM = "utm_source=newsletter&utm_medium=email&utm_campaign=t-1"
NORDLYS_LINK = "https://nordlys.example/winter?from=magazine&lang=en"
HOUSE_LINK = "https://mag.example/reviews/subscribe/"
NORDLYS = f"""\
name: "Nordlys Kino"
link: "{NORDLYS_LINK}"
runs: {{start: 2026-11-15, end: 2026-12-31}}
email:
  image: media/ads/nordlys-email.png
  alt: "Neon letters over a snowed-in cinema door"
  text: "Winter documentaries at Nordlys Kino, every Sunday at six."
archive:
  image: media/ads/nordlys-banner.png
  alt: "Nordlys Kino: winter documentaries on Sundays"
"""
HOUSE = f"""\
name: "Test Magazine"
kind: house
link: "{HOUSE_LINK}"
runs: {{start: 2026-01-01, end: 2026-12-31}}
email:
  text: "Twelve issues a year, on paper and in your inbox."
archive:
  text: "Subscribe to Test Magazine"
"""
SECTIONS = '\n  - title: "Section A"\n    reviews: [a, b]\n  - title: "Section B"\n    reviews: [c]'
# Teaser 1 is Film A; teaser 3 (Film C) opens the second section: N counts across sections.
BOOKINGS = (
    "\n  slots:\n    email-after-1: nordlys-kino\n    email-after-3: subscribe"
    "\n    archive: {archive}"
)
EDITION = (
    '\n  nb:\n    title: "Testnummer"\n    cover: {headline: "Overskrift", lines: ["En"]}'
    '\n    editorial: {author: "Red", text: "Hei, lesere."}'
    '\n    sections: ["Seksjon A", "Seksjon B"]'
    '\n    newsletter: {subject: "Emne", preheader: "Forhåndsvisning"}'
    "\n    missing: fallback"
)
# layouts/default/strings.yaml
LABELS = {"en": ("Sponsored", "From the magazine"), "nb": ("Sponset", "Fra magasinet")}
EMAIL_WIDTH = 1104  # docs: email images are at most twice the 552 px they are shown at
BANNER_PX = (1456, 180)


def png(path: Path, size: tuple[int, int], colour: tuple[int, int, int]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)


@pytest.fixture
def project(tmp_project):
    """``make(archive=..., editions=...)``: the project's manifest path."""

    def make(archive: str = "nordlys-kino", editions: str | None = None) -> Path:
        reviews = {
            f"content/reviews/{slug}.md": review_text(
                f"Film {slug.upper()}", image=f'\n  src: media/{slug}.jpg\n  alt: "A still"'
            )
            for slug in "abc"
        }
        root = tmp_project(
            {
                **reviews,
                "content/sponsors/nordlys-kino.yaml": NORDLYS,
                "content/sponsors/subscribe.yaml": HOUSE,
                "issues/t-1.yaml": manifest_text(
                    ["a"],
                    sections=SECTIONS,
                    ads=BOOKINGS.format(archive=archive),
                    editions=editions,
                ),
            },
            images=("media/cover.jpg", "media/a.jpg", "media/b.jpg", "media/c.jpg"),
        )
        png(root / "content/media/ads/nordlys-email.png", (1600, 500), (20, 40, 70))
        png(root / "content/media/ads/nordlys-banner.png", BANNER_PX, (200, 210, 225))
        return root / "issues/t-1.yaml"

    return make


def render(issue: Issue, monkeypatch: pytest.MonkeyPatch) -> tuple[str, email.Newsletter]:
    """The newsletter as the build renders it, and the MJML its templates wrote."""
    captured = {}
    compile_mjml = email.compile_mjml

    def capture(source: str, template: str = email.MJML_TEMPLATE) -> str:
        captured["source"] = source
        return compile_mjml(source, template)

    monkeypatch.setattr(email, "compile_mjml", capture)
    newsletter = email.render_newsletter(issue, Layout(issue.layouts_dir, issue.manifest.layout))
    return captured["source"], newsletter


class Blocks(HTMLParser):
    """What the tests look at: the sequence of teaser titles (``h3.t``) and ad blocks (elements
    of class ``mb-ad``), and for each ad block its classes, visible text, links and images."""

    VOID = {"img", "br", "meta", "link", "input", "hr", "source"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.order: list[str] = []
        self.ads: dict[str, dict] = {}
        self._stack: list[tuple[str, dict | None, bool]] = []  # tag, ad block, is a title
        self._title: list[str] | None = None

    @property
    def _ad(self) -> dict | None:
        return next((ad for _, ad, _ in reversed(self._stack) if ad is not None), None)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        ad = None
        if "mb-ad" in classes:
            slot = next(c.removeprefix("mb-ad-") for c in classes if c.startswith("mb-ad-"))
            ad = self.ads[slot] = {"classes": classes, "text": [], "links": [], "images": []}
            ad.update(tag=tag, scripts=0)
            self.order.append(f"ad:{slot}")
        inside = ad or self._ad
        if inside is not None:
            if tag == "a":
                inside["links"].append(attrs)
            elif tag == "img":
                inside["images"].append(attrs)
            elif tag == "script":
                inside["scripts"] += 1
        is_title = tag == "h3" and "t" in classes
        if is_title:
            self._title = []
        if tag not in self.VOID:
            self._stack.append((tag, ad, is_title))

    def handle_endtag(self, tag):
        if tag in self.VOID or all(open_tag != tag for open_tag, _, _ in self._stack):
            return
        while self._stack:
            open_tag, _, is_title = self._stack.pop()
            if is_title and self._title is not None:
                self.order.append(" ".join("".join(self._title).split()))
                self._title = None
            if open_tag == tag:
                break

    def handle_data(self, data):
        if self._title is not None:
            self._title.append(data)
        if (ad := self._ad) is not None and data.strip():
            ad["text"].append(data.strip())


def blocks(html: str) -> Blocks:
    parser = Blocks()
    parser.feed(html)
    return parser


# ---- the newsletter -------------------------------------------------------------------------
def test_email_blocks_follow_their_teasers_labelled_with_image_and_link(project, monkeypatch):
    issue = load_issue(project())
    _, newsletter = render(issue, monkeypatch)
    html, _ = newsletter.personalised()
    page = blocks(html)
    assert page.order == [
        "Film A",
        "ad:email-after-1",
        "Film B",
        "Film C",
        "ad:email-after-3",
    ]

    sponsored = page.ads["email-after-1"]
    assert {"mb-ad", "mb-ad-email-after-1"} <= set(sponsored["classes"])
    assert sponsored["text"] == [
        "Sponsored",
        "Winter documentaries at Nordlys Kino, every Sunday at six.",
        "Nordlys Kino →",
    ]
    # The sponsor's link as written: not the site's, so no campaign parameters.
    assert [(a["href"], a.get("rel")) for a in sponsored["links"]] == [
        (NORDLYS_LINK, "sponsored"),
        (NORDLYS_LINK, "sponsored"),
    ]
    [image] = sponsored["images"]
    assert image["alt"] == "Neon letters over a snowed-in cinema door"
    name = image["src"].removeprefix(IMAGES_URL)
    assert image["src"].startswith(IMAGES_URL) and "/" not in name
    # The image goes through the reviews' pipeline: a JPEG at most 1104 px wide, in images/.
    with Image.open(io.BytesIO(newsletter.images[name])) as copy:
        assert (copy.format, copy.size) == ("JPEG", (EMAIL_WIDTH, round(500 * EMAIL_WIDTH / 1600)))
    assert set(newsletter.images) == {"a.jpg", "b.jpg", "c.jpg", name}

    house = page.ads["email-after-3"]
    assert house["text"][0] == "From the magazine" and house["images"] == []
    # The house ad's link is the site's: campaign parameters like every other site link.
    assert [(a["href"], a.get("rel")) for a in house["links"]] == [(f"{HOUSE_LINK}?{UTM}", None)]


def test_text_part_carries_label_text_and_link_after_the_right_teaser(project, monkeypatch):
    issue = load_issue(project())
    _, newsletter = render(issue, monkeypatch)
    text = newsletter.text
    read_a = f"Read the review:\nhttps://mag.example/reviews/a/?{UTM}\n"
    sponsored = (
        "\n[ SPONSORED ]\nWinter documentaries at Nordlys Kino, every Sunday at six.\n\n"
        f"Nordlys Kino:\n{NORDLYS_LINK}\n"
    )
    assert read_a + sponsored + "\nFilm B\n" in text
    read_c = f"Read the review:\nhttps://mag.example/reviews/c/?{UTM}\n"
    house = (
        "\n[ FROM THE MAGAZINE ]\nTwelve issues a year, on paper and in your inbox.\n\n"
        f"Test Magazine:\n{HOUSE_LINK}?{UTM}\n"
    )
    assert read_c + house + "\n\n--\n" in text
    assert text.count("[ SPONSORED ]") == 1 and text.count("[ FROM THE MAGAZINE ]") == 1


def test_the_newsletter_with_ads_is_valid_mjml_within_the_size_budget(
    project, monkeypatch, tmp_path
):
    assert VALIDATOR.exists(), "the MJML validator is missing: `make test` runs npm install"
    issue = load_issue(project())
    source, newsletter = render(issue, monkeypatch)
    (tmp_path / "newsletter.mjml").write_text(source, "utf-8")
    result = subprocess.run(
        [str(VALIDATOR), "--validate", "strict", str(tmp_path / "newsletter.mjml")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr

    _, plain = render(issue.model_copy(update={"ads": []}), monkeypatch)
    with_ads = len(newsletter.personalised()[0].encode("utf-8"))
    without = len(plain.personalised()[0].encode("utf-8"))
    # Two blocks and the shared style rules: a teaser costs about 2 KB (the template's budget).
    assert 0 < with_ads - without < 3 * 1024
    assert with_ads < email.WARN_BYTES


def test_an_email_image_outside_content_is_refused_at_the_sponsor_file(project, monkeypatch):
    manifest = project()
    sponsor = manifest.parent.parent / "content/sponsors/nordlys-kino.yaml"
    sponsor.write_text(NORDLYS.replace("media/ads/nordlys-email.png", "../magbuilder.yaml"))
    with pytest.raises(InputError) as info:  # the loader refuses it: no build, no check passes
        load_issue(manifest)
    [finding] = info.value.findings
    assert (str(finding.path), finding.line) == ("content/sponsors/nordlys-kino.yaml", 5)
    assert "must be a relative path inside content/" in finding.message


# ---- the archive ----------------------------------------------------------------------------
def archive(manifest: Path, out: Path) -> ArchivedIssue:
    """The issue (and its editions) staged and rendered as ``build_archive`` does, from a build
    folder holding the real newsletter and images, and blank-page PDFs."""
    issue = load_issue(manifest)
    build = out.parent / "build"
    for member in (issue, *issue.editions.values()):
        folder = build / member.web_path
        (folder / "images").mkdir(parents=True)
        newsletter = email.render_newsletter(member, Layout(member.layouts_dir))
        (folder / NEWSLETTER_HTML).write_text(newsletter.personalised()[0], "utf-8")
        for name, data in newsletter.images.items():
            (folder / "images" / name).write_bytes(data)
        pdf = pikepdf.new()
        pdf.add_blank_page(page_size=(420, 595))
        pdf.save(folder / PRINT_PDF)
        pdf.save(folder / SCREEN_PDF)
    out.mkdir()
    entry = replace(
        _stage_issue(issue, build, out / issue.id),
        editions=tuple(_stage_issue(e, build, out / e.web_path) for e in issue.editions.values()),
    )
    render_site([entry], out)
    return entry


def test_archive_issue_page_shows_the_sponsors_banner(project, tmp_path):
    out = tmp_path / "site"
    archive(project(), out)
    page = blocks((out / "t-1/index.html").read_text("utf-8"))
    assert list(page.ads) == ["archive"]
    banner = page.ads["archive"]
    assert (banner["tag"], banner["classes"]) == ("div", ["mb-ad", "mb-ad-archive"])
    assert banner["text"] == ["Sponsored"]
    # A plain link as the sponsor file has it: no tracking parameters, marked sponsored.
    [link] = banner["links"]
    assert (link["href"], link["rel"]) == (NORDLYS_LINK, "sponsored noopener")
    [image] = banner["images"]
    assert image["alt"] == "Nordlys Kino: winter documentaries on Sundays"
    path = out / "t-1" / image["src"]
    assert path.parent == out / "t-1" and path.is_file()  # beside the issue's page
    with Image.open(path) as copy:
        assert copy.size == (int(image["width"]), int(image["height"]))
        assert copy.size[0] <= BANNER_PX[0]
    assert banner["scripts"] == 0
    # The web newsletter shows the email block's image from the issue's own images/.
    newsletter = blocks((out / "t-1" / NEWSLETTER_HTML).read_text("utf-8"))
    [email_image] = newsletter.ads["email-after-1"]["images"]
    assert email_image["src"].startswith("images/")
    assert (out / "t-1" / email_image["src"]).is_file()


def test_a_house_banner_is_labelled_as_the_magazines_and_not_sponsored(project, tmp_path):
    out = tmp_path / "site"
    archive(project(archive="subscribe"), out)
    banner = blocks((out / "t-1/index.html").read_text("utf-8")).ads["archive"]
    assert banner["text"] == ["From the magazine", "Subscribe to Test Magazine"]
    [link] = banner["links"]
    assert link["href"] == HOUSE_LINK  # a site link, but no campaign parameters on the web
    assert "sponsored" not in link["rel"].split()
    assert banner["images"] == []


def test_an_edition_labels_its_ads_in_its_own_language(project, tmp_path, monkeypatch):
    manifest = project(editions=EDITION)
    nb = load_issue(manifest).editions["nb"]
    _, newsletter = render(nb, monkeypatch)
    page = blocks(newsletter.personalised()[0])
    sponsored, house = LABELS["nb"]
    assert page.ads["email-after-1"]["text"][0] == sponsored
    assert page.ads["email-after-3"]["text"][0] == house
    assert f"[ {sponsored.upper()} ]" in newsletter.text
    assert f"[ {house.upper()} ]" in newsletter.text

    out = tmp_path / "site"
    archive(manifest, out)
    for path, label in [("t-1/nb", sponsored), ("t-1", LABELS["en"][0])]:
        banner = blocks((out / path / "index.html").read_text("utf-8")).ads["archive"]
        assert banner["text"] == [label], path
        [image] = banner["images"]
        assert (out / path / image["src"]).is_file()  # beside the edition's own page


# ---- in Chromium ----------------------------------------------------------------------------
def test_banner_and_email_block_in_chromium_axe_clean_and_offline(project, tmp_path, browser):
    """The archive page with its banner passes axe at a phone's and a desktop's width and asks
    nothing of another host; the newsletter's block is the element a proof screenshots."""
    out = tmp_path / "site"
    archive(project(), out)
    page = open_page(browser, (out / "t-1/index.html").as_uri(), 375)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    try:
        page.reload(wait_until="load")
        page.add_script_tag(path=str(AXE))
        for width in (375, 1280):
            page.set_viewport_size({"width": width, "height": 900})
            violations = page.evaluate(
                "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
            )
            found = [(v["id"], v["impact"]) for v in violations]
            assert not [v for v in found if v[1] in ("serious", "critical")], (width, found)
            box = page.locator(".mb-ad-archive").bounding_box()
            assert box and box["width"] > 100 and box["height"] > 50
        assert [url for url in requests if not url.startswith("file://")] == []
    finally:
        page.close()

    newsletter = open_page(
        browser, (out / "t-1" / NEWSLETTER_HTML).as_uri(), 600, {IMAGES_URL: out / "t-1/images"}
    )
    try:
        block = newsletter.locator(".mb-ad-email-after-1")
        assert block.count() == 1
        assert block.screenshot()[:8] == b"\x89PNG\r\n\x1a\n"
        width = newsletter.evaluate(
            "() => document.querySelector('.mb-ad-email-after-1 img').naturalWidth"
        )
        assert width == EMAIL_WIDTH  # the image loaded
    finally:
        newsletter.close()
