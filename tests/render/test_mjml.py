"""The MJML templates: valid for the official validator, compact enough for Gmail at 40 reviews."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from magbuilder.errors import RenderError
from magbuilder.manifest import load_issue
from magbuilder.render import email
from magbuilder.render.env import Layout

from ..conftest import REPO, SAMPLE_MANIFEST
from ..generate import generate_project

pytestmark = pytest.mark.slow  # generated issues of 25 and 40 reviews, the npm validator

VALIDATOR = REPO / "node_modules" / ".bin" / "mjml"


def rendered_mjml(manifest: Path, monkeypatch) -> str:
    """The MJML source the templates produce for an issue (before compilation)."""
    captured = {}
    compile_mjml = email.compile_mjml

    def capture(source: str, template: str = email.MJML_TEMPLATE) -> str:
        captured["source"] = source
        return compile_mjml(source, template)

    monkeypatch.setattr(email, "compile_mjml", capture)
    issue = load_issue(manifest)
    email.render_newsletter(issue, Layout(issue.layouts_dir, issue.manifest.layout))
    return captured["source"]


def validate(source: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    assert VALIDATOR.exists(), "the MJML validator is missing: `make test` runs npm install"
    path = tmp_path / "newsletter.mjml"
    path.write_text(source, "utf-8")
    return subprocess.run(
        [str(VALIDATOR), "--validate", "strict", str(path)], capture_output=True, text=True
    )


def test_sample_newsletter_passes_the_official_strict_validator(tmp_path, monkeypatch):
    result = validate(rendered_mjml(SAMPLE_MANIFEST, monkeypatch), tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_validator_catches_an_illegal_attribute(tmp_path, monkeypatch):
    source = rendered_mjml(SAMPLE_MANIFEST, monkeypatch)
    source = source.replace("<mj-image ", "<mj-image srcx=''", 1)
    result = validate(source, tmp_path)
    assert result.returncode != 0
    assert "srcx" in result.stdout + result.stderr


def test_unknown_mjml_element_is_refused_at_build_time():
    with pytest.raises(RenderError) as info:
        email.compile_mjml("<mjml><mj-body><mj-sectoin></mj-sectoin></mj-body></mjml>")
    assert "unknown MJML element <mj-sectoin>" in str(info.value.findings[0])


@pytest.mark.parametrize(("reviews", "budget_kb"), [(25, 60), (40, 90)])
def test_newsletter_size_budget(tmp_path, reviews, budget_kb):
    shutil.copytree(REPO / "layouts", tmp_path / "layouts")
    shutil.copy(REPO / "magbuilder.yaml", tmp_path)
    issue = load_issue(generate_project(tmp_path, reviews))
    newsletter = email.render_newsletter(issue, Layout(issue.layouts_dir))
    html, _ = newsletter.personalised()
    assert html.count('class="t"') == reviews
    assert len(html.encode("utf-8")) < budget_kb * 1024


def test_build_fails_above_gmail_clipping_with_advice():
    with pytest.raises(RenderError) as info:
        email.check_size(103 * 1024, 60)
    assert "Gmail clips" in str(info.value) and "Cut reviews" in str(info.value)


def test_warns_close_to_the_limit(caplog):
    email.check_size(95 * 1024, 45)
    assert "close to Gmail's 102 KB" in caplog.text
