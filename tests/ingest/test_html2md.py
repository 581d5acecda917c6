"""HTML → Markdown: structure survives, and text reads back as the same text."""

from __future__ import annotations

import lxml.html
import pytest

from magbuilder.ingest.html2md import escape_line_start, html_to_blocks, render_body
from magbuilder.markdown import render_markdown


def md(html: str) -> str:
    return render_body(html_to_blocks(html, lambda caption: (caption, "")))


def rendered_text(markdown: str) -> str:
    return lxml.html.fragment_fromstring(
        render_markdown(markdown), create_parent="div"
    ).text_content()


def test_headings_become_sub_heads() -> None:
    assert md("<h1>One</h1><h3>Two <em>x</em></h3><p>t</p>") == "## One\n\n## Two *x*\n\nt\n"


def test_short_bold_paragraph_is_a_sub_head_but_a_sentence_is_not() -> None:
    assert md("<p><strong>The verdict</strong></p>") == "## The verdict\n"
    assert md("<p><b>It ends badly.</b></p>") == "**It ends badly.**\n"


def test_pull_quotes() -> None:
    assert md('<aside class="pullquote"><p>Said.</p></aside>') == ("::: pullquote\nSaid.\n:::\n")
    assert md("<p>«Alone.»</p>") == "::: pullquote\n«Alone.»\n:::\n"
    assert md("<p>«Not» alone.</p>") == "«Not» alone.\n"


def test_emphasis_links_lists_quotes() -> None:
    html = (
        "<p><em> spaced </em>and <strong>bold</strong> and <a href='https://a.example/x(1)'>"
        "link</a> and <a href='https://b.example/'>https://b.example/</a></p>"
        "<ul><li>one<ul><li>nested</li></ul></li><li>two</li></ul><ol><li>first</li></ol>"
        "<blockquote><p>Q1</p><p>Q2</p></blockquote>"
    )
    assert (
        md(html)
        == (
            " *spaced* and **bold** and [link](https://a.example/x%281%29) and <https://b.example/>\n\n"
            "- one\n  - nested\n- two\n\n1. first\n\n> Q1\n>\n> Q2\n"
        ).lstrip()
    )


def test_line_breaks_are_hard_breaks() -> None:
    assert md("<p>Director: A<br>Country: B</p>") == "Director: A\\\nCountry: B\n"


def test_figures_with_caption() -> None:
    out = md('<figure><img src="https://x.example/a.jpg" alt="Alt [1]"><figcaption>Cap "q"'
             "</figcaption></figure>")  # fmt: skip
    assert out == '![Alt \\[1\\]](https://x.example/a.jpg "Cap \\"q\\"")\n'


def test_image_inside_text_becomes_its_own_figure() -> None:
    out = md('<p>Before <img src="https://x.example/a.jpg" alt="A"> after.</p>')
    assert out == "Before after.\n\n![A](https://x.example/a.jpg)\n"


def test_tables_and_definition_lists_become_labelled_lines() -> None:
    assert md("<table><tr><th>Director</th><td>A B</td></tr></table>") == "Director: A B\n"
    assert md("<dl><dt>Runtime</dt><dd>71 min</dd></dl>") == "Runtime: 71 min\n"


@pytest.mark.parametrize(
    "text",
    [
        "1. not a list",
        "# not a heading",
        "- not a bullet",
        "> not a quote",
        "::: not a container",
        "a_b_c and *stars* and [x](y) and <b>tag</b> and &copy; and `code`",
        "back\\slash",
    ],
)
def test_text_survives_markdown(text: str) -> None:
    escaped = lxml.html.Element("p")
    escaped.text = text
    markdown = md(lxml.html.tostring(escaped, encoding="unicode"))
    assert rendered_text(markdown).strip() == text


def test_escape_line_start() -> None:
    assert escape_line_start("2020. A year") == "2020\\. A year"
    assert escape_line_start("---") == "\\---"
    assert escape_line_start("Plain") == "Plain"


def test_empty_paragraphs_are_dropped() -> None:
    assert md("<p>&nbsp;</p><p><br></p><p>Text</p><h2>\u00a0</h2><p> </p>") == "Text\n"
