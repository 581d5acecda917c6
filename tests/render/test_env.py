"""Layouts: a second layout overrides single files and falls back to default for the rest."""

from __future__ import annotations

import io

import pdfplumber
import pikepdf
import pytest

from magbuilder.build import BuildOptions, build_issue
from magbuilder.errors import InputError, RenderError
from magbuilder.manifest import load_issue
from magbuilder.render.email import render_newsletter
from magbuilder.render.env import Layout, make_env, render_template
from magbuilder.render.magazine import WHOLE
from magbuilder.render.pdf import render_pdf

from ..conftest import manifest_text, review_text


def small_issue(tmp_project, extra: dict[str, str], layout: str = "plain"):
    files = {
        "content/reviews/a.md": review_text("Alpha", kicker='"KICK"'),
        "issues/t-1.yaml": manifest_text(["a"], layout=layout),
        **extra,
    }
    project = tmp_project(files)
    issue = load_issue(project / "issues/t-1.yaml")
    return issue, Layout(issue.layouts_dir, issue.manifest.layout)


def test_override_one_template_and_fall_back_for_the_others(tmp_project):
    override = "PLAIN EDITION\n{% include 'default/email/newsletter.txt.j2' %}"
    issue, layout = small_issue(tmp_project, {"layouts/plain/email/newsletter.txt.j2": override})
    newsletter = render_newsletter(issue, layout)
    assert newsletter.text.startswith("PLAIN EDITION\n")
    assert "Alpha" in newsletter.text  # the included default template still ran
    assert "Alpha" in newsletter.html  # the HTML template came from default
    assert "PLAIN EDITION" not in newsletter.html


def test_override_stylesheet_reuses_default_fonts_by_relative_url(tmp_project):
    css = (
        '@font-face { font-family: "Only"; src: url(../assets/fonts/Lato-Black.ttf); }\n'
        'html { font-family: "Only"; }\n'
    )
    issue, layout = small_issue(tmp_project, {"layouts/plain/print/print.css": css})
    pdf = pikepdf.open(io.BytesIO(render_pdf(issue, layout)))
    fonts = {
        str(font.get("/BaseFont"))
        for page in pdf.pages
        for font in (page.Resources.get("/Font") or {}).values()
    }
    # WeasyPrint names an @font-face font after its family: "Only" means the file was found.
    assert any("+Only" in name for name in fonts), fonts
    assert not any("Garamond" in name for name in fonts)  # default print.css was not used


def test_unknown_layout_is_an_input_error(tmp_project):
    with pytest.raises(InputError) as info:
        small_issue(tmp_project, {}, layout="nope")
    assert "layout folder not found" in str(info.value.findings[0])


def test_templates_are_strict_and_report_file_and_line(tmp_project):
    bad = "line one\n{{ issue.manifest.no_such_key }}\n"
    issue, layout = small_issue(tmp_project, {"layouts/plain/email/newsletter.txt.j2": bad})
    with pytest.raises(RenderError) as info:
        render_template(make_env(layout), "email/newsletter.txt.j2", issue=issue)
    [finding] = info.value.findings
    assert str(finding.path).endswith("layouts/plain/email/newsletter.txt.j2")
    assert finding.line == 2


def test_templates_are_sandboxed(tmp_project):
    bad = "{{ issue.__class__.__mro__ }}"
    issue, layout = small_issue(tmp_project, {"layouts/plain/email/newsletter.txt.j2": bad})
    with pytest.raises(RenderError):
        render_template(make_env(layout), "email/newsletter.txt.j2", issue=issue)


def test_html_templates_autoescape_text_templates_do_not(tmp_project):
    files = {
        "content/reviews/a.md": review_text("Salt <b>&</b> Ice"),
        "issues/t-1.yaml": manifest_text(["a"]),
    }
    project = tmp_project(files)
    issue = load_issue(project / "issues/t-1.yaml")
    newsletter = render_newsletter(issue, Layout(issue.layouts_dir))
    assert "Salt &lt;b&gt;&amp;&lt;/b&gt; Ice" in newsletter.html
    assert "<b>&</b>" not in newsletter.html
    assert "Salt <b>&</b> Ice" in newsletter.text


# ---- inheritance: extends:, blocks, tokens -------------------------------------------------

# The third layout of the README and docs/layouts.md, as written there.
LARGE = {
    "layouts/large/layout.yaml": (
        'extends: pocket\npage: {size: A4}\ntokens: {body-size: 13pt, accent: "#6b2c91"}\n'
    ),
}


def test_a_layout_extends_another_that_extends_default(tmp_project):
    issue, layout = small_issue(tmp_project, LARGE, layout="large")
    assert [folder.name for folder in layout.chain] == ["large", "pocket", "default"]
    html = render_template(make_env(layout), "print/magazine.html.j2", issue=issue, part=WHOLE,
                           pixels=lambda src: (2400, 1600))  # fmt: skip
    # Its own tokens, pocket's over default's, default's for the rest.
    assert "--accent: #6b2c91;" in html and "--body-size: 13pt;" in html
    assert "--body-columns: 1;" in html and "--ink: #1b1b1b;" in html
    # Pocket's cover block and stylesheet, default's editorial, contents and stylesheet.
    assert 'class="cover pocket-cover"' in html and 'id="editorial"' in html
    assert "layouts/pocket/print/pocket.css" in html and "layouts/default/print/print.css" in html


def test_tokens_reach_the_newsletter_and_the_print_stylesheet(tmp_project):
    issue, layout = small_issue(tmp_project, LARGE, layout="large")
    newsletter = render_newsletter(issue, layout)
    assert "#6b2c91" in newsletter.html and "#b3261e" not in newsletter.html
    pdf = render_pdf(issue, layout)
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        left, _, right, _ = (float(v) for v in doc.pages[0].MediaBox)
        width_mm = (right - left) * 25.4 / 72
    assert width_mm == pytest.approx(210 + 2 * 3, abs=0.1)  # its own A4 page, with bleed
    margins = issue.manifest.print.margins
    assert (margins.top, margins.outside) == (15, 12)  # pocket's margins, inherited


def test_a_template_overrides_one_block_of_its_parent(tmp_project):
    opener = (
        '{% extends "default/print/review.html.j2" %}\n'
        '{% block opener %}<h1 class="review-title">OPENER {{ review.title }}</h1>{% endblock %}\n'
    )
    issue, layout = small_issue(tmp_project, {"layouts/plain/print/review.html.j2": opener})
    html = render_template(make_env(layout), "print/magazine.html.j2", issue=issue, part=WHOLE,
                           pixels=lambda src: (2400, 1600))  # fmt: skip
    assert "OPENER Alpha" in html and 'class="byline"' not in html  # the opener replaced
    assert 'class="body"' in html  # the body block inherited


@pytest.mark.parametrize(
    "files, where, message",
    [
        ({"layouts/a/layout.yaml": "extends: b\n", "layouts/b/layout.yaml": "extends: a\n"},
         "layouts/b/layout.yaml:1", "a → b → a goes round in a circle"),
        ({"layouts/a/layout.yaml": "# child\nextends: nowhere\n"},
         "layouts/a/layout.yaml:2", "extends: no layout 'nowhere'"),
        ({"layouts/a/layout.yaml": "extends: [default]\n"},
         "layouts/a/layout.yaml:1", "extends: expected a layout name"),
        ({"layouts/a/layout.yaml": "tokens:\n  accent: 'red; } body { color: red'\n"},
         "layouts/a/layout.yaml:2", "tokens: 'accent: red; } body"),
    ],
)  # fmt: skip
def test_a_wrong_inheritance_or_token_is_an_error_at_its_line(tmp_project, files, where, message):
    files = {"content/reviews/a.md": review_text("Alpha"), **files}
    project = tmp_project({"issues/t-1.yaml": manifest_text(["a"], layout="a"), **files})
    issue = load_issue(project / "issues/t-1.yaml")
    with pytest.raises((InputError, RenderError)) as raised:
        Layout(issue.layouts_dir, "a").tokens  # noqa: B018 - the chain and tokens are read
    [finding] = raised.value.findings
    assert f"{finding.path}:{finding.line}".endswith(where), finding
    assert message in finding.message


@pytest.mark.slow
@pytest.mark.parametrize(
    "count, blank_before, padding, single_pass",
    [
        (2, 0, 2, True),  # five pages: the back cover is page 6, two blanks before it in print
        (3, 1, 0, False),  # six pages: a blank page 7 (collated) puts it on the left, page 8
    ],
)
def test_a_back_cover_is_the_last_left_hand_page_after_the_binding_padding(
    tmp_project, tmp_path, single_pass, count, blank_before, padding
):
    # Cover, letter, contents and one-page reviews, in pocket (it has a back cover), saddle-
    # stitched: the print file's page count is a multiple of four.
    reviews = {f"content/reviews/r{i}.md": review_text(f"Review {i}") for i in range(count)}
    slugs = [f"r{i}" for i in range(count)]
    manifest = manifest_text(slugs, layout="pocket", print="\n  binding: saddle")
    project = tmp_project({"issues/t-1.yaml": manifest, **reviews})
    options = BuildOptions(single_pass=single_pass)
    result = build_issue(project / "issues/t-1.yaml", tmp_path / "out", options)

    def texts(name: str) -> list[str]:
        with pdfplumber.open(result.files[name]) as pdf:
            return [page.extract_text() or "" for page in pdf.pages]

    printed, screen = texts("magazine.pdf"), texts("magazine-screen.pdf")
    assert len(screen) == 3 + count + blank_before + 1 and len(screen) % 2 == 0
    assert len(printed) == len(screen) + padding and len(printed) % 4 == 0
    for pages in (printed, screen):  # pocket's back cover: the name and every review's title
        assert "TEST MAGAZINE" in pages[-1] and f"Review {count - 1}" in pages[-1]
    blanks = blank_before + (len(printed) - len(screen))
    assert printed[-1 - blanks : -1] == [""] * blanks  # blank pages before it, none after
    assert f"Review {count - 1}" in printed[-2 - blanks]
    assert printed[: -1 - blanks] == screen[: -1 - blank_before]


def test_the_shared_macros_escape_in_html_and_stay_plain_in_text(tmp_project):
    """A byline, film line or teaser is the writer's text: markup in it is shown, never run."""
    marked = '"Ann <b>Author</b> & Co"'
    files = {
        "content/reviews/a.md": review_text("Alpha", author=marked, standfirst='"<i>x</i> & y"'),
        "issues/t-1.yaml": manifest_text(["a"]),
    }
    issue = load_issue(tmp_project(files) / "issues/t-1.yaml")
    newsletter = render_newsletter(issue, Layout(issue.layouts_dir), with_images=False)
    assert "Ann &lt;b&gt;Author&lt;/b&gt; &amp; Co" in newsletter.html
    assert "&lt;i&gt;x&lt;/i&gt; &amp; y" in newsletter.html
    assert "<b>Author</b>" not in newsletter.html and "<i>x</i>" not in newsletter.html
    assert "Ann <b>Author</b> & Co" in newsletter.text  # text is text: nothing to escape
    assert "<i>x</i> & y" in newsletter.text
