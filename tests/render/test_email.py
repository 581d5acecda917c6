"""The sample newsletter: MJML compiled to HTML, parsed and checked; and its plain-text part."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from magbuilder.build import BuildResult


class Page(HTMLParser):
    """Collects what the tests look at: <html lang>, links, images and visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.html_attrs: dict[str, str | None] = {}
        self.links: list[tuple[str, str]] = []
        self.images: list[dict[str, str | None]] = []
        self.text: list[str] = []
        self._href: str | None = None
        self._link_text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.html_attrs = attrs
        elif tag == "a":
            self._href, self._link_text = attrs.get("href"), []
        elif tag == "img":
            self.images.append(attrs)
        elif tag in ("style", "title", "head"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag == "a" and self._href is not None:
            self.links.append((self._href, " ".join("".join(self._link_text).split())))
            self._href = None
        elif tag in ("style", "title", "head"):
            self._skip -= 1

    def handle_data(self, data):
        if self._skip:
            return
        if self._href is not None:
            self._link_text.append(data)
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


def test_newsletter_is_under_gmail_clipping_size(html):
    assert len(html.encode("utf-8")) < 102 * 1024


def test_html_has_language_and_subject_title(sample_build, html, page):
    m = sample_build.issue.manifest
    assert page.html_attrs.get("lang") == m.lang
    assert f"<title>{m.newsletter.subject}</title>" in html


def test_preheader_comes_before_any_visible_content(sample_build, page):
    # The preheader comes first, then invisible padding so previews don't run on into the page.
    preheader = sample_build.issue.manifest.newsletter.preheader
    assert page.text[0].startswith(preheader)
    assert set(page.text[0][len(preheader) :]) <= {"\u034f", "\u200c", "\xa0", " "}


def without_query(url: str) -> str:
    return url.split("?")[0]


def test_one_teaser_and_read_link_per_review_in_manifest_order(sample_build, page):
    site = sample_build.issue.manifest.site
    reviews = sample_build.issue.reviews
    read_links = [href for href, label in page.links if label.endswith("→")]
    assert [without_query(u) for u in read_links] == [site.review_url(r.slug) for r in reviews]
    title_links = [label for href, label in page.links if label and "Read the review" not in label]
    for review in reviews:
        assert review.title in title_links


def test_teasers_show_byline_film_line_and_standfirst(sample_build, page):
    visible = " ".join(page.text)
    for review in sample_build.issue.reviews:
        assert f"{review.author}" in visible
        assert review.standfirst[:50] in visible
        film = review.films[0]
        assert str(film.year) in visible


def test_images_are_absolute_https_with_alt_and_width(sample_build, page):
    assert len(page.images) == len(sample_build.issue.reviews)
    for img in page.images:
        assert img["src"].startswith("https://longtake.example/issues/2026-12/images/")
        assert img.get("alt")
        assert img.get("width")


def test_no_web_font_links(html):
    assert "<link" not in html
    assert "@import" not in html
    assert "googleapis" not in html


def test_intro_is_rendered(sample_build, page):
    intro = sample_build.issue.manifest.newsletter.intro
    assert intro.split()[0] in " ".join(page.text)


def test_text_part_names_every_review_with_its_link(sample_build, text):
    site = sample_build.issue.manifest.site
    for review in sample_build.issue.reviews:
        assert review.title in text
        assert f"{review.author}" in text
        assert site.review_url(review.slug) + "?utm_source=" in text


def test_text_part_is_wrapped_and_free_of_markup(text):
    for line in text.splitlines():
        assert len(line) <= 72 or "://" in line, line
    assert "<" not in text and "&amp;" not in text and "&#" not in text
    assert "*" not in text  # Markdown emphasis is gone


def test_site_links_carry_campaign_parameters_and_mailto_does_not(sample_build, page, html):
    site_hosts = ("https://longtake.example/",)
    site_links = [
        href
        for href, _ in page.links
        if href.startswith(site_hosts) and "/unsubscribe" not in href  # not a visit: no tracking
    ]
    assert len(site_links) >= 2 * len(sample_build.issue.reviews)
    for href in site_links:
        assert "utm_source=newsletter" in href and "utm_medium=email" in href, href
        assert "utm_campaign=2026-12" in href, href
    for href, _ in page.links:
        if href.startswith("mailto:"):
            assert "utm_" not in href
    # In the HTML source, the query's ampersands are escaped.
    assert "?utm_source=newsletter&amp;utm_medium=email&amp;utm_campaign=2026-12" in html


def test_footer_links_view_online_pdf_and_unsubscribe(page):
    hrefs = [href for href, _ in page.links]
    assert any(h.startswith("https://longtake.example/issues/2026-12/?utm_") for h in hrefs)
    pdf = "https://longtake.example/issues/2026-12/magazine-screen.pdf?utm_"
    assert any(h.startswith(pdf) for h in hrefs)
    assert "https://longtake.example/unsubscribe" in hrefs  # generic: no token outside sending
    assert not any("%%" in h for h in hrefs)


def test_greeting_merge_field_has_its_default(page, text):
    assert "Dear reader," in page.text
    assert "Dear reader," in text


def test_dark_mode_and_direction(sample_build, html, page):
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
    assert "magazine-screen.pdf?utm_source=newsletter" in text
    assert "\nhttps://longtake.example/unsubscribe\n" in text
    assert "\nhttps://longtake.example/issues/2026-12/?utm_source=newsletter" in text
    assert "%%" not in text


def test_titles_are_underlined(sample_build, text):
    title = sample_build.issue.manifest.title
    assert f"{title}\n{'=' * len(title)}\n" in text
    for section in sample_build.issue.sections:
        assert f"{section.title.upper()}\n{'-' * len(section.title)}\n" in text
