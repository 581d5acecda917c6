"""The review Markdown dialect: pull quotes, figures, sanitising, excerpts."""

from __future__ import annotations

from magbuilder.markdown import excerpt, plain_text, render_markdown


def test_pull_quote_container_becomes_an_aside():
    html = render_markdown("Before.\n\n::: pullquote\nThe sea keeps records.\n:::\n\nAfter.\n")
    assert '<aside class="pullquote">\n<p>The sea keeps records.</p>\n</aside>' in html


def test_paragraph_with_only_an_image_becomes_a_figure_with_caption():
    html = render_markdown('![Salt pans](media/pans.jpg "The pans in winter")\n')
    assert html == (
        '<figure class="inline"><img src="media/pans.jpg" alt="Salt pans">'
        "<figcaption>The pans in winter</figcaption></figure>\n"
    )


def test_image_urls_can_be_rewritten():
    html = render_markdown("![A](media/a.jpg)\n", image_url=lambda s: "https://x.example/" + s)
    assert 'src="https://x.example/media/a.jpg"' in html


def test_subheads_emphasis_links_and_block_quotes_survive():
    html = render_markdown(
        "## A sub-head\n\nSome *emphasis* and [a link](https://a.example/).\n\n> Quoted.\n"
    )
    assert "<h2>A sub-head</h2>" in html
    assert "<em>emphasis</em>" in html
    assert '<a href="https://a.example/">a link</a>' in html
    assert "<blockquote>\n<p>Quoted.</p>\n</blockquote>" in html


def test_raw_html_is_sanitised():
    html = render_markdown(
        'Hi <script>alert(1)</script><b onclick="x()">bold</b> <a href="javascript:x()">j</a>\n\n'
        '<iframe src="https://evil.example/"></iframe>\n\n<style>p{}</style>\n'
    )
    for banned in ("<script", "alert(", "onclick", "javascript:", "<iframe", "<style"):
        assert banned not in html
    assert "<b>bold</b>" in html


def test_typographic_quotes():
    assert "“quoted”" in render_markdown('He said "quoted".\n')


def test_excerpt_cuts_at_a_word_boundary_and_skips_headings_and_quotes():
    text = "## Heading words\n\n::: pullquote\nPull words.\n:::\n\n" + "alpha beta gamma " * 30
    short = excerpt(text, words=5)
    assert short == "alpha beta gamma alpha beta…"
    assert "Heading" not in excerpt(text) and "Pull" not in excerpt(text)


def test_short_text_excerpt_has_no_ellipsis():
    assert excerpt("Just *three* words.\n", words=10) == "Just three words."


def test_plain_text_keeps_paragraphs():
    assert plain_text("One *a*.\n\nTwo [b](https://x.example).\n") == "One a.\n\nTwo b."
