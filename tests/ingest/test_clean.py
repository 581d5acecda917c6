"""Cleaning: harvest before sanitising, then nothing hostile survives."""

from __future__ import annotations

import pytest

from magbuilder.ingest.clean import clean_html, html_to_text, video_link
from magbuilder.ingest.config import default_rules
from magbuilder.ingest.rules import RuleSet, selector_xpath

RULES = RuleSet(default_rules())
BASE = "https://site.example/2020/01/post/"


def clean(html: str, base: str | None = BASE):
    return clean_html(html, base, RULES)


@pytest.mark.parametrize(
    ("hostile", "gone"),
    [
        ("<p>a<script>alert(1)</script>b</p>", "alert"),
        ("<p style='color:red'>a</p><style>p{}</style>", "color"),
        ('<p onclick="steal()">a</p>', "steal"),
        ('<p><a href="javascript:alert(1)">a</a></p>', "javascript"),
        ('<p><a href="data:text/html,x">a</a></p>', "data:"),
        ('<p>a<img src="data:image/png;base64,AAAA" alt="x"></p>', "data:"),
        ('<form action="/x"><input name="e"><button>Go</button></form><p>a</p>', "Go"),
        ('<p><img src="https://stats.site.example/p.gif?x=1" alt=""></p><p>a</p>', "stats"),
        ('<p><img src="https://site.example/a.gif" width="1" height="1">a</p>', "a.gif"),
        ("<p>a<!-- secret --></p>", "secret"),
        ('<p>a</p><object data="x.swf"></object>', "swf"),
        ('<p>a</p><svg onload="x()"><script>y()</script></svg>', "onload"),
    ],
)
def test_hostile_html_is_removed(hostile: str, gone: str) -> None:
    html = clean(hostile).html
    assert gone not in html
    assert "a" in html


def test_embed_with_source_becomes_a_link_and_the_bare_scheme_goes() -> None:
    result = clean('<p>http://<br><iframe src="//www.youtube.com/embed/abc_12?rel=0"></iframe></p>')
    assert result.embeds == ["https://www.youtube.com/watch?v=abc_12"]
    assert "http://<" not in result.html and "http://\n" not in result.html
    assert '<a href="https://www.youtube.com/watch?v=abc_12">' in result.html


def test_embeds_without_source_vanish() -> None:
    result = clean(
        '<p><iframe></iframe></p><p><iframe data-src=""></iframe></p><embed>'
        '<video controls></video><iframe srcdoc="&lt;script&gt;x()&lt;/script&gt;"></iframe>'
        "<p>a</p>"
    )
    assert result.dead_embeds == 5
    assert "<iframe" not in result.html and "<video" not in result.html


def test_video_source_child_becomes_a_link() -> None:
    result = clean('<video><source src="clips/a.mp4" type="video/mp4"></video>')
    assert result.embeds == ["https://site.example/2020/01/post/clips/a.mp4"]


def test_video_links() -> None:
    assert video_link("https://www.youtube-nocookie.com/embed/xyz") == (
        "https://www.youtube.com/watch?v=xyz"
    )
    assert video_link("https://player.vimeo.com/video/42?h=1") == "https://vimeo.com/42"
    assert video_link("https://example.com/player/9") == "https://example.com/player/9"


def test_lazy_images_get_their_real_source_and_fallbacks() -> None:
    result = clean(
        '<img src="data:image/gif;base64,R0" data-src="/a.jpg"'
        ' srcset="/a-300.jpg 300w, /a-1200.jpg 1200w" alt="A">'
    )
    assert 'src="https://site.example/a-1200.jpg"' in result.html
    assert result.fallbacks["https://site.example/a-1200.jpg"] == [
        "https://site.example/a-300.jpg",
        "https://site.example/a.jpg",
    ]
    assert "srcset" not in result.html and "data-src" not in result.html


def test_noscript_fallback_image_is_used_when_the_placeholder_has_none() -> None:
    result = clean('<img src="data:image/gif;base64,R0"><noscript><img src="/real.jpg"></noscript>')
    assert result.html.count("<img") == 1
    assert 'src="https://site.example/real.jpg"' in result.html


def test_relative_links_are_resolved_and_fragments_kept() -> None:
    html = clean('<p><a href="../other/">o</a> <a href="#note">n</a></p>').html
    assert 'href="https://site.example/2020/01/other/"' in html
    assert 'href="#note"' in html


def test_marked_standfirst_kicker_and_pull_quote() -> None:
    result = clean(
        '<p class="kicker">LAW</p><p class="lead">The lead.</p><p>Text.</p>'
        '<figure class="wp-block-pullquote"><blockquote><p>Quote.</p><cite>Me</cite>'
        "</blockquote></figure>"
    )
    assert (result.kicker, result.standfirst) == ("LAW", "The lead.")
    assert '<aside class="pullquote"><p>Quote.</p></aside>' in result.html
    assert "The lead" not in result.html and "Me" not in result.html


def test_boilerplate_elements_are_removed() -> None:
    result = clean(
        '<p>Text.</p><div class="sharedaddy"><h3>Share this:</h3></div>'
        '<div class="paywall-notice">Pay</div><div id="comments">C</div>'
    )
    assert result.boilerplate == 3
    assert "Share" not in result.html and "Pay" not in result.html


def test_selector_subset() -> None:
    assert selector_xpath("div.share") == (
        ".//div[contains(concat(' ', normalize-space(@class), ' '), ' share ')]"
    )
    assert selector_xpath("[class*=paywall]") == ".//*[contains(@class, 'paywall')]"
    assert selector_xpath("#x[data-a^=b]") == ".//*[@id='x'][starts-with(@data-a, 'b')]"


def test_html_to_text() -> None:
    assert html_to_text("A &amp; B &#8211; <em>C</em>") == "A & B – C"
    assert html_to_text("<p>One</p><p>Two</p>") == "One Two"
    assert html_to_text(None) == ""
