"""Layouts: a second layout overrides single files and falls back to default for the rest."""

from __future__ import annotations

import io

import pikepdf
import pytest

from magbuilder.errors import InputError, RenderError
from magbuilder.manifest import load_issue
from magbuilder.render.email import render_newsletter
from magbuilder.render.env import Layout, make_env, render_template
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
