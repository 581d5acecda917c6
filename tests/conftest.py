"""Shared fixtures: a tiny project laid out from a dict of files; the sample issue built once."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image

from magbuilder.build import BuildResult, build_issue

from .warm_cli import close_shared

REPO = Path(__file__).resolve().parent.parent
SAMPLE_MANIFEST = REPO / "issues" / "2026-12.yaml"
NOVEMBER_MANIFEST = REPO / "issues" / "2026-11.yaml"


# Fixtures that lay out whole magazines: a test that uses one is slow (`make test-fast` skips it).
SLOW_FIXTURES = {"sample_build", "opener_project", "generated_issue", "site"}


# The test files that take longest (measured with --durations), run first: `make test` hands
# whole files to its two processes in collection order, and a long file dealt out last leaves
# one process working alone at the end.
LONGEST_FIRST = (
    "test_archive.py",
    "test_bad_inputs.py",
    "test_epub.py",
    "test_chunks.py",
    "test_reproducible.py",
    "test_chunk_contract.py",
    "test_stamp.py",
    "test_checks.py",
    "test_fonts.py",
    "test_cache.py",
    "test_sponsor_report.py",
    "test_ads_email_archive.py",
    "test_ads_print.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark what drives Chromium ``browser`` and what lays out whole magazines ``slow``; put
    the longest files first."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if "browser" in fixtures:
            item.add_marker(pytest.mark.browser)
        if fixtures & SLOW_FIXTURES:
            item.add_marker(pytest.mark.slow)
    rank = {name: n for n, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: else as collected


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite the approved renders in tests/data/golden/ from the current output",
    )


SITE = """\
site:
  name: "Test Magazine"
  base_url: "https://mag.example/reviews"
  from_email: "Test Magazine <news@mag.example>"
"""


def review_text(title: str | None = "A Film", **front: str | None) -> str:
    """A valid review file; front-matter keys overridable as raw YAML (None drops a key)."""
    fields = {
        "title": f'"{title}"' if title is not None else None,
        "author": '"Ann Author"',
        "published": "2026-11-01",
        "standfirst": '"A short standfirst."',
        **front,
    }
    lines = "\n".join(f"{key}: {value}" for key, value in fields.items() if value is not None)
    body = " ".join(f"Word{i}" for i in range(120))
    return f"---\n{lines}\n---\n{body}\n\n## A sub-head\n\nMore text.\n"


def manifest_text(slugs: list[str], **overrides: str) -> str:
    """A valid manifest selecting ``slugs`` in one section; top-level keys overridable."""
    reviews = "\n".join(f"      - {slug}" for slug in slugs)
    parts = {
        "id": '"t-1"',
        "number": "1",
        "title": '"Test Issue"',
        "date": "2026-12-01",
        "lang": "en",
        "cover": '\n  image: media/cover.jpg\n  headline: "Headline"\n  lines: ["One"]',
        "editorial": '\n  author: "Ed"\n  text: "Hello readers."',
        "sections": f'\n  - title: "Section A"\n    reviews:\n{reviews}',
        "newsletter": '\n  subject: "Subject"\n  preheader: "Preheader"',
        **overrides,
    }
    return "\n".join(f"{key}: {value}" for key, value in parts.items() if value is not None) + "\n"


@pytest.fixture
def tmp_project(tmp_path: Path) -> Callable[..., Path]:
    """Lay out a project in a temporary folder: ``files`` maps relative paths to text.

    The repository's real ``layouts/`` is copied in; ``images`` lists paths under content/
    to create as small JPEGs. A ``magbuilder.yaml`` with test site settings is added unless given.
    """

    def make(files: dict[str, str], images: tuple[str, ...] = ("media/cover.jpg",)) -> Path:
        shutil.copytree(REPO / "layouts", tmp_path / "layouts")
        (tmp_path / "content" / "reviews").mkdir(parents=True)
        files = {"magbuilder.yaml": SITE, **files}
        for rel, text in files.items():
            path = tmp_path / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text) if rel.endswith(".yaml") else text, "utf-8")
        for rel in images:
            path = tmp_path / "content" / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            # Big enough for 300 ppi at full bleed, so preflight passes (flat colour stays small).
            size = (2560, 3600) if "cover" in rel else (2400, 1600)
            Image.new("RGB", size, (90, 120, 150)).save(path, quality=80)
        return tmp_path

    return make


def sample_with_layout(root: Path, name: str) -> Path:
    """A copy of the project in ``root`` whose December sample names layout ``name``, without
    its ads (a sponsor's page is made for the default layout's trim); its manifest's path."""
    for folder in ("content", "layouts"):
        shutil.copytree(REPO / folder, root / folder)
    shutil.copy(REPO / "magbuilder.yaml", root)
    text = SAMPLE_MANIFEST.read_text("utf-8")
    text = re.sub(r"(?m)^layout: .*\n", "", text)
    text = text.replace("\ncover:", f"\nlayout: {name}\ncover:", 1)
    text = re.sub(r"(?ms)^ads:\n(  .*?\n)*", "", text)
    (root / "issues").mkdir()
    (root / "issues" / SAMPLE_MANIFEST.name).write_text(text, "utf-8")
    return root / "issues" / SAMPLE_MANIFEST.name


def _session_build(manifest: Path, tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """``manifest`` built once for the whole test session.

    The samples share one build folder, as in a project (the archive finds them built
    there). Under pytest-xdist the workers share it too: the first to take the lock builds,
    the others find the build up to date (the build stamp's own check).
    """
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        base = tmp_path_factory.getbasetemp()
    else:
        base = tmp_path_factory.getbasetemp().parent
    shared = base / "builds"
    with open(base / f"builds-{manifest.stem}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return build_issue(manifest, shared)


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """The December sample (the default layout), built once for the session."""
    return _session_build(SAMPLE_MANIFEST, tmp_path_factory)


@pytest.fixture(scope="session")
def november_build(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """The November sample (the pocket layout), built once for the session."""
    return _session_build(NOVEMBER_MANIFEST, tmp_path_factory)


from .browser import browser  # noqa: E402,F401  (fixture shared by the rendering tests)


@pytest.fixture(scope="session", autouse=True)
def _warm_command_line() -> Iterator[None]:
    """The warm parents of ``warm_cli.magbuilder`` go with the session."""
    yield
    close_shared()
