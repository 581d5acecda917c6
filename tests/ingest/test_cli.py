"""``magbuilder ingest``: files and summary on stdout, findings on stderr, exit codes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from magbuilder.cli import main

from .conftest import FEEDS, OFFLINE, PAGES


def test_ingest_prints_written_files_and_the_summary(project, monkeypatch, capsys) -> None:
    root = project(OFFLINE)
    monkeypatch.chdir(root)
    code = main(["ingest", str(FEEDS / "wordpress.xml"), str(PAGES / "the-weather-log.txt")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.splitlines() == [
        "new       content/reviews/the-hearing-at-kvalvika.md",
        "new       content/reviews/static-over-gdansk.md",
        "new       content/reviews/the-weather-log.md",
        "new 3, updated 0, unchanged 0, skipped 3",
    ]
    assert "item 2 'The Last Orchard on the Terraces': skipped: truncated" in err
    assert "Traceback" not in err

    code = main(["ingest", str(FEEDS / "wordpress.xml"), str(PAGES / "the-weather-log.txt")])
    out, err = capsys.readouterr()
    assert out.splitlines() == ["new 0, updated 0, unchanged 3, skipped 3"]
    assert "hero image" not in err  # warnings about unchanged items are not repeated


def test_ingest_into_another_folder_with_a_title(project, monkeypatch, capsys) -> None:
    root = project(OFFLINE)
    monkeypatch.chdir(root)
    code = main(["ingest", "--into", "drafts/reviews", "--title", "The Weather Log",
                 str(PAGES / "the-weather-log.txt")])  # fmt: skip
    assert code == 0
    assert (root / "drafts" / "reviews" / "the-weather-log.md").is_file()
    assert 'title: "The Weather Log"' in (root / "drafts/reviews/the-weather-log.md").read_text()


def test_unreadable_source_exits_1_after_ingesting_the_others(project, monkeypatch, capsys):
    root = project(OFFLINE)
    monkeypatch.chdir(root)
    code = main(["ingest", "missing.xml", str(FEEDS / "jsonfeed.json")])
    out, err = capsys.readouterr()
    assert code == 1
    assert "missing.xml: no such file" in err
    assert out.splitlines()[-1] == "new 2, updated 0, unchanged 0, skipped 0"


@pytest.mark.parametrize("args", [["ingest"], ["ingest", "--bogus", "x.xml"]])
def test_usage_errors_exit_2(args: list[str], capsys) -> None:
    assert main(args) == 2


def test_truncated_reviews_are_counted_in_the_summary_and_named_on_stderr(project) -> None:
    root = project(OFFLINE)
    feed = FEEDS / "northern-frame.xml"
    result = subprocess.run(
        [sys.executable, "-m", "magbuilder", "ingest", str(feed)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "new       content/reviews/the-ferry-does-not-wait.md",
        "new       content/reviews/ice-road-psalms.md",
        "new 2, updated 0, unchanged 0, skipped 0, truncated 1",
    ]
    assert f"{feed}:21: warning: item 1 'The Ferry Does Not Wait': the text ends" in result.stderr
    assert "truncated: true" in (root / "content/reviews/the-ferry-does-not-wait.md").read_text()
