"""The command line: exit code 0 for success, 1 for bad input, 2 for usage; no tracebacks."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from .conftest import REPO, manifest_text, review_text
from .warm_cli import magbuilder

pytestmark = pytest.mark.slow  # real processes that build issues


def run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return magbuilder(*args, cwd=cwd)


def test_check_sample_issue_succeeds():
    result = run("check", "issues/2026-12.yaml")
    assert result.returncode == 0, result.stderr
    assert "ok (10 reviews in 3 sections)" in result.stdout


def test_typo_in_a_slug_fails_with_position_and_suggestion(tmp_project):
    project = tmp_project(
        {
            "content/reviews/the-salt-keepers.md": review_text(),
            "issues/t-1.yaml": manifest_text(["the-salt-keeper"]),
        }
    )
    result = run("check", "issues/t-1.yaml", cwd=project)
    assert result.returncode == 1
    assert result.stderr.startswith("issues/t-1.yaml:")
    assert "did you mean 'the-salt-keepers'?" in result.stderr
    assert "Traceback" not in result.stderr


def test_build_writes_the_three_outputs(tmp_project):
    project = tmp_project(
        {"content/reviews/a.md": review_text("Alpha"), "issues/t-1.yaml": manifest_text(["a"])}
    )
    result = run("build", "issues/t-1.yaml", "--out", "out", cwd=project)
    assert result.returncode == 0, result.stderr
    for name in ("magazine.pdf", "newsletter.html", "newsletter.txt"):
        path = project / "out" / "t-1" / name
        assert path.stat().st_size > 0
    assert (project / "out/t-1/magazine.pdf").read_bytes().startswith(b"%PDF-")


def test_failed_build_keeps_previous_outputs(tmp_project):
    project = tmp_project(
        {"content/reviews/a.md": review_text("Alpha"), "issues/t-1.yaml": manifest_text(["a"])}
    )
    assert run("build", "issues/t-1.yaml", "--out", "out", cwd=project).returncode == 0
    before = {p.name: p.read_bytes() for p in (project / "out/t-1").iterdir()}
    # Break a template: the PDF renders, the email does not; nothing may be overwritten.
    (project / "layouts/default/email/newsletter.txt.j2").write_text("{{ nope }}")
    (project / "content/reviews/a.md").write_text(review_text("Changed"))
    result = run("build", "issues/t-1.yaml", "--out", "out", cwd=project)
    assert result.returncode == 1
    assert "newsletter.txt.j2:1: template error" in result.stderr
    after = {p.name: p.read_bytes() for p in (project / "out/t-1").iterdir()}
    assert after == before


def test_usage_errors_exit_2():
    assert run().returncode in (0, 2)  # bare command prints help
    assert run("build").returncode == 2
    assert run("frobnicate").returncode == 2
    assert run("check", "issues/2026-12.yaml", "--nope").returncode == 2
    missing = run("check", "issues/no-such-issue.yaml")
    assert missing.returncode == 2
    assert "does not exist" in missing.stderr


def test_help_lists_commands():
    result = run("--help")
    assert result.returncode == 0
    assert "build" in result.stdout and "check" in result.stdout


def test_print_file_is_padded_to_whole_sheets(tmp_project):
    import pikepdf

    project = tmp_project(
        {"content/reviews/a.md": review_text("Alpha"), "issues/t-1.yaml": manifest_text(["a"])}
    )
    assert run("build", "issues/t-1.yaml", "--out", "out", cwd=project).returncode == 0
    with pikepdf.open(project / "out/t-1/magazine-screen.pdf") as screen:
        pages = len(screen.pages)
    with pikepdf.open(project / "out/t-1/magazine.pdf") as printed:
        assert len(printed.pages) % 2 == 0
        assert len(printed.pages) - pages == pages % 2  # a blank page only when it was odd
    saddle = manifest_text(["a"], print="\n  binding: saddle")
    (project / "issues/t-1.yaml").write_text(saddle)
    assert run("build", "issues/t-1.yaml", "--out", "out", cwd=project).returncode == 0
    with pikepdf.open(project / "out/t-1/magazine.pdf") as printed:
        assert len(printed.pages) % 4 == 0
