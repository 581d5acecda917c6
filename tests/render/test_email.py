"""The sample newsletter: MJML compiled to HTML, parsed and checked; and its plain-text part.

Expected values come from the sample's own files (the manifest and the review files, read with
plain YAML) and from the URL formats docs/ documents, written out here: never from the code
that builds the newsletter.
"""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from magbuilder.build import BuildResult

from ..conftest import REPO, SAMPLE_MANIFEST

# The documented formats (docs/) for the sample's magbuilder.yaml (base_url https://longtake.example/reviews,
# archive_url https://longtake.example/issues) and issue 2026-12: a review is <base_url>/<slug>/,
# "view in browser" <archive_url>/<id>/, the PDF <archive_url>/<id>/magazine-screen.pdf, and links
# to the site carry the default site.utm parameters.
UTM = "utm_source=newsletter&utm_medium=email&utm_campaign=2026-12"
REVIEW_URL = "https://longtake.example/reviews/{slug}/"
ISSUE_URL = "https://longtake.example/issues/2026-12/"
PDF_URL = "https://longtake.example/issues/2026-12/magazine-screen.pdf"
IMAGES_URL = "https://longtake.example/issues/2026-12/images/"
UNSUBSCRIBE_URL = "https://longtake.example/unsubscribe"  # generic: no token outside sending

MANIFEST: dict[str, Any] = yaml.safe_load(SAMPLE_MANIFEST.read_text("utf-8"))
SLUGS = [slug for section in MANIFEST["sections"] for slug in section["reviews"]]


def front_matter(slug: str) -> dict[str, Any]:
    """A review file's front matter, read with plain YAML rather than the store under test."""
    text = (REPO / "content" / "reviews" / f"{slug}.md").read_text("utf-8")
    return yaml.safe_load(text.split("---\n", 2)[1])


REVIEWS = {slug: front_matter(slug) for slug in SLUGS}


def squeeze(text: str) -> str:
    return " ".join(text.split())


class Page(HTMLParser):
    """Collects what the tests look at: <html lang>, links, images, visible text and teasers.

    A teaser is the ``<div lang dir>`` around a review's kicker (``p.k``), title (``h3.t``), byline
    and film line (``p.m``, the two separated by ``\\n``) and teaser text (``p.x``). The links and
    images of a booked ad's block (class ``mb-ad``) are its own: ``ad_links``, ``ad_images``.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.html_attrs: dict[str, str | None] = {}
        self.links: list[tuple[str, str]] = []
        self.images: list[dict[str, str | None]] = []
        self.text: list[str] = []
        self.teasers: list[dict[str, str]] = []
        self._href: str | None = None
        self._link_text: list[str] = []
        self._skip = 0
        self._divs: list[dict[str, str] | None] = []  # open <div>s: the teaser each one starts
        self._part: str | None = None  # class of the teaser's element being read
        self.ad_links: list[tuple[str, str]] = []
        self.ad_images: list[dict[str, str | None]] = []
        self._ad: list[str | int] | None = None  # [tag, depth] of the ad block being read

    @property
    def _teaser(self) -> dict[str, str] | None:
        """The innermost open ``<div lang dir>``, if any."""
        return next((div for div in reversed(self._divs) if div is not None), None)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if self._ad is not None and tag == self._ad[0]:
            self._ad[1] += 1
        elif self._ad is None and "mb-ad" in (attrs.get("class") or "").split():
            self._ad = [tag, 1]
        if tag == "html":
            self.html_attrs = attrs
        elif tag == "a":
            self._href, self._link_text = attrs.get("href"), []
        elif tag == "img":
            (self.images if self._ad is None else self.ad_images).append(attrs)
        elif tag in ("style", "title", "head"):
            self._skip += 1
        if tag == "div":
            # MJML's body wrapper has lang and dir too; a teaser is one with a title (below).
            lang, direction = attrs.get("lang"), attrs.get("dir")
            self._divs.append({"lang": lang, "dir": direction} if lang and direction else None)
        elif tag in ("p", "h3") and attrs.get("class") and self._teaser is not None:
            self._part = attrs["class"]
            self._teaser[self._part] = ""
        elif tag == "br" and self._part and self._teaser is not None:
            self._teaser[self._part] += "\n"

    def handle_endtag(self, tag):
        if self._ad is not None and tag == self._ad[0]:
            self._ad[1] -= 1
            if self._ad[1] == 0:
                self._ad = None
        if tag == "a" and self._href is not None:
            links = self.links if self._ad is None else self.ad_links
            links.append((self._href, squeeze("".join(self._link_text))))
            self._href = None
        elif tag in ("style", "title", "head"):
            self._skip -= 1
        elif tag in ("p", "h3"):
            self._part = None
        elif tag == "div" and self._divs:
            div = self._divs.pop()
            if div is not None and "t" in div:
                self.teasers.append(div)

    def handle_data(self, data):
        if self._skip:
            return
        if self._href is not None:
            self._link_text.append(data)
        if self._part and self._teaser is not None:
            self._teaser[self._part] += data
        if data.strip():
            self.text.append(data.strip())


@pytest.fixture(scope="module")
def html(sample_build: BuildResult) -> str:
    return sample_build.files["newsletter.html"].read_text("utf-8")


@pytest.fixture(scope="module")
def page(html: str) -> Page:
    parser = Page()
    parser.feed(html)
    return parser


@pytest.fixture(scope="module")
def text(sample_build: BuildResult) -> str:
    return sample_build.files["newsletter.txt"].read_text("utf-8")


@pytest.fixture(scope="module")
def message(sample_build: BuildResult) -> EmailMessage:
    return message_from_bytes(
        sample_build.files["newsletter.eml"].read_bytes(), policy=policy.default
    )


def test_newsletter_is_under_gmail_clipping_size(html):
    assert len(html.encode("utf-8")) < 102 * 1024


def test_html_has_language_and_subject_title(html, page):
    assert page.html_attrs.get("lang") == MANIFEST["lang"] == "en"
    assert f"<title>{MANIFEST['newsletter']['subject']}</title>" in html


def test_preheader_comes_before_any_visible_content(page):
    # The preheader comes first, then invisible padding so previews don't run on into the page.
    preheader = MANIFEST["newsletter"]["preheader"]
    assert page.text[0].startswith(preheader)
    assert set(page.text[0][len(preheader) :]) <= {"\u034f", "\u200c", "\xa0", " "}


def test_one_teaser_and_read_link_per_review_in_manifest_order(page):
    expected = [f"{REVIEW_URL.format(slug=slug)}?{UTM}" for slug in SLUGS]
    assert expected[4] == (
        "https://longtake.example/reviews/the-salt-keepers/"
        "?utm_source=newsletter&utm_medium=email&utm_campaign=2026-12"
    )
    read_links = [href for href, label in page.links if label.endswith("→")]
    assert read_links == expected
    assert [teaser.get("t") for teaser in page.teasers] == [REVIEWS[s]["title"] for s in SLUGS]
    for url, slug in zip(expected, SLUGS, strict=True):
        assert (url, REVIEWS[slug]["title"]) in page.links  # the title links to the review


def test_teasers_show_byline_film_line_and_standfirst(page):
    assert len(page.teasers) == len(SLUGS)
    for teaser, slug in zip(page.teasers, SLUGS, strict=True):
        review = REVIEWS[slug]
        film = review["films"][0]
        assert teaser["lang"] == review["lang"], slug
        assert teaser.get("k") == review["kicker"], slug
        byline, film_line = teaser["m"].split("\n")
        assert byline.endswith(f" {review['author']}"), slug
        # The film line alone: the issue date elsewhere on the page must not stand in for it.
        assert film_line.startswith(film["title"]), film_line
        for director in film["directors"]:
            assert director in film_line, film_line
        assert film_line.endswith(f", {film['year']}"), film_line  # "Norway/Denmark, 2025"
        assert squeeze(teaser["x"]) == squeeze(review["standfirst"]), slug


def test_images_are_absolute_https_with_alt_and_width(page):
    assert len(page.images) == len(SLUGS)
    for img in page.images:
        assert img["src"].startswith(IMAGES_URL)
        assert img.get("alt")
        assert img.get("width")


def test_images_keep_the_review_files_alt_text(page):
    # Letter for letter, combining marks included (Arabic shadda and kasra in bayt-al-zaytoun).
    expected = [REVIEWS[slug]["image"]["alt"] for slug in SLUGS]
    assert [img.get("alt") for img in page.images] == expected


def test_no_web_font_links(html):
    assert "<link" not in html
    assert "@import" not in html
    assert "googleapis" not in html


def test_intro_is_rendered(page, text):
    intro = squeeze(MANIFEST["newsletter"]["intro"])
    assert intro.startswith("This month: ten documentaries")
    assert intro in squeeze(" ".join(page.text))
    assert intro in squeeze(text)


def test_text_part_names_every_review_with_its_link(text):
    links = [f"\n{REVIEW_URL.format(slug=slug)}?{UTM}\n" for slug in SLUGS]
    for slug, link in zip(SLUGS, links, strict=True):
        assert REVIEWS[slug]["title"] in text
        assert REVIEWS[slug]["author"] in text
        assert link in text
    assert [text.index(link) for link in links] == sorted(text.index(link) for link in links)


def test_text_part_is_wrapped_and_free_of_markup(text):
    for line in text.splitlines():
        assert len(line) <= 72 or "://" in line, line
    assert "<" not in text and "&amp;" not in text and "&#" not in text
    assert "*" not in text  # Markdown emphasis is gone


def test_site_links_carry_campaign_parameters_and_mailto_does_not(page, html, text, message):
    site_links = [
        href
        for href, _ in page.links
        if href.startswith("https://longtake.example/")
        and not href.startswith(UNSUBSCRIBE_URL)  # not a visit: no tracking
    ]
    assert len(site_links) >= 2 * len(SLUGS)
    for href in site_links:
        assert urlsplit(href).query == UTM, href
    # The newsletter's mail links: in its HTML and text parts, and the List-Unsubscribe header.
    mailtos = [href for href, _ in page.links if href.lower().startswith("mailto:")]
    mailtos += re.findall(r"mailto:[^\s<>]+", text, flags=re.IGNORECASE)
    mailtos += re.findall(r"<(mailto:[^>]+)>", str(message["List-Unsubscribe"]))
    assert "unsubscribe@longtake.example" in [urlsplit(href).path for href in mailtos]
    for href in mailtos:
        assert "utm_" not in href, href
    # In the HTML source, the query's ampersands are escaped.
    assert "?utm_source=newsletter&amp;utm_medium=email&amp;utm_campaign=2026-12" in html


def test_footer_links_view_online_pdf_and_unsubscribe(page):
    hrefs = [href for href, _ in page.links]
    assert f"{ISSUE_URL}?{UTM}" in hrefs
    assert f"{PDF_URL}?{UTM}" in hrefs
    assert UNSUBSCRIBE_URL in hrefs
    assert not any("%%" in h for h in hrefs)


def test_greeting_merge_field_has_its_default(page, text):
    assert "Dear reader," in page.text
    assert "Dear reader," in text


def test_dark_mode_and_direction(html, page):
    assert re.search(r'<meta name="color-scheme" content="light dark"\s*/?>', html)
    assert "@media (prefers-color-scheme: dark)" in html
    assert page.html_attrs.get("dir") == "ltr"
    assert '<div lang="ar" dir="rtl">' in html


def test_email_images_are_resized_copies_written_beside_the_email(sample_build, page):
    from PIL import Image

    for img in page.images:
        name = img["src"].rsplit("/", 1)[1]
        with Image.open(sample_build.out_dir / "images" / name) as image:
            assert image.format == "JPEG"
            assert image.width == 1104  # twice the 552 px shown, no more
        assert img["width"] == "552"


def test_text_part_lists_download_unsubscribe_and_view_online_links(text):
    assert f"\n{PDF_URL}?{UTM}\n" in text
    assert f"\n{UNSUBSCRIBE_URL}\n" in text
    assert f"\n{ISSUE_URL}?{UTM}\n" in text
    assert "%%" not in text


def test_titles_are_underlined(text):
    title = MANIFEST["title"]
    assert f"{title}\n{'=' * len(title)}\n" in text
    for section in MANIFEST["sections"]:
        assert f"{section['title'].upper()}\n{'-' * len(section['title'])}\n" in text
