"""Bad inputs of every kind end in one clear message and exit 1 (2 for usage), never a traceback,
and a failed run writes nothing.

Each row is run as a real ``python -m magbuilder …`` in its own small project; the rows run
concurrently once per module, then each test reads its row's result. A row's ``where`` is the
``path:line`` (or ``path`` alone, for whole-file problems) that must start the line of output
holding ``message``; a ``(path, marker)`` pair means the first line of ``path`` holding
``marker``; ``{root}`` is the project folder (templates are reported by absolute path).
That line must be the only one, apart from a command's documented summary (see ``framing``), and
no file or folder in the project may be created, deleted or touched by the run. Rows that write
something by design (cache entries) are listed, with the reason, in ``WRITES``.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

import pytest
from PIL import Image

from .conftest import REPO, SITE, manifest_text, review_text
from .warm_cli import magbuilder

pytestmark = pytest.mark.slow  # every row is a real process in a project of its own

BUILD = ("build", "issues/t-1.yaml", "--out", "out")
CHECK = ("check", "issues/t-1.yaml")
REVIEW = "content/reviews/alpha.md"
MANIFEST = "issues/t-1.yaml"
COVER = "content/media/cover.jpg"
HERO = "\n  src: media/hero.jpg\n  alt: A hero"
SEND_SITE = SITE + '  unsubscribe_url: "https://mag.example/unsubscribe/{token}"\n'


@dataclass(frozen=True)
class Case:
    """One bad input: files replacing the small good project's, what to run, what to expect."""

    id: str
    code: int
    where: str | tuple[str, str] | None
    message: str
    files: dict[str, str | bytes] = field(default_factory=dict)
    args: tuple[str, ...] = BUILD
    setup: Callable[[Path], None] | None = None
    env: dict[str, str] = field(default_factory=dict)
    timeout: float = 120  # seconds; a row that could hang (a YAML bomb) gets less


def latin1(text: str) -> bytes:
    return text.encode("latin-1")


def noisy_jpeg(path: Path, size: tuple[int, int] = (1200, 800)) -> None:
    Image.effect_noise(size, 64).convert("RGB").save(path, quality=90)


def truncate(rel: str) -> Callable[[Path], None]:
    def damage(root: Path) -> None:
        path = root / "content" / rel
        noisy_jpeg(path)
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])

    return damage


def garbage(rel: str) -> Callable[[Path], None]:
    return lambda root: (root / "content" / rel).write_bytes(b"GIF? no: a text file")


def folder_for_review(root: Path) -> None:
    (root / REVIEW).unlink()
    (root / REVIEW).mkdir()


def review_with(body: str = "", **front: str | None) -> str:
    return review_text("Alpha", image=HERO, **front) + body


def bomb() -> str:
    """Billion laughs: nine anchors, each a list of nine aliases to the one before (9**9)."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for n in range(1, 9):
        lines.append(f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def with_front(review: str, yaml: str) -> str:
    """``review`` with ``yaml`` added at the top of its front matter."""
    return review.replace("---\n", "---\n" + yaml, 1)


def line_count(text: str) -> int:
    return text.count("\n")


def outside_review(root: Path) -> None:
    """content/reviews/alpha.md as a symlink to a review file outside the project."""
    target = root.parent / f"{root.name}-elsewhere.md"
    target.write_text(review_with(), encoding="utf-8")
    (root / REVIEW).unlink()
    (root / REVIEW).symlink_to(target)


GOOD_MANIFEST = manifest_text(["alpha"])
TWO_SECTIONS = GOOD_MANIFEST + 'sections:\n  - title: "B"\n    reviews: [alpha]\n'
FIRST_SECTIONS = GOOD_MANIFEST.splitlines().index("sections: ") + 1
STRINGS = "layouts/default/strings.yaml"
STRINGS_TEXT = (REPO / STRINGS).read_text(encoding="utf-8")
DEEP = 100_000
HUGE_EDITORIAL = '\n  author: "Ed"\n  text: |\n' + "    lol lol lol lol lol lol\n" * 45_000
COVER_LINES = '\n  image: media/cover.jpg\n  headline: "Headline"\n  lines: '
CUSTOM_LAYOUT = manifest_text(["alpha"], layout="custom")
MISSING_FONT_CSS = (
    "@import url(../../default/print/print.css);\n"
    '@font-face { font-family: "Gone"; src: url(../assets/fonts/Gone.otf); }\n'
    'body { font-family: "Gone", serif; }\n'
)

CASES = [
    # ---- manifests ------------------------------------------------------------------------------
    Case("manifest-yaml-syntax", 1, f"{MANIFEST}:3", "YAML syntax error: mapping values",
         {MANIFEST: manifest_text(["alpha"], title="Test: Issue")}),
    Case("manifest-not-utf8", 1, f"{MANIFEST}:3", "not UTF-8",
         {MANIFEST: latin1(manifest_text(["alpha"], title='"Café"'))}),
    Case("manifest-is-a-list", 1, f"{MANIFEST}:1", "expected a mapping of keys, but the file is a",
         {MANIFEST: "- one\n- two\n"}),
    Case("manifest-empty", 1, f"{MANIFEST}:1", "the file is empty", {MANIFEST: ""}),
    Case("manifest-python-tag", 1, f"{MANIFEST}:1", "could not determine a constructor",
         {MANIFEST: "id: !!python/object/apply:os.system [echo]\n"}),
    Case("unknown-review", 1, (MANIFEST, "- alpah"), "did you mean 'alpha'?",
         {MANIFEST: manifest_text(["alpah"])}),
    Case("review-selected-twice", 1, (MANIFEST, "[alpha, alpha]"), "'alpha' is selected twice",
         {MANIFEST: manifest_text([], sections='\n  - title: "A"\n    reviews: [alpha, alpha]')}),
    Case("missing-required-key", 1, f"{MANIFEST}:1", "missing required key 'title'",
         {MANIFEST: manifest_text(["alpha"], title=None)}),
    Case("unknown-key-typo", 1, (MANIFEST, "tittle:"), "did you mean 'title'?",
         {MANIFEST: manifest_text(["alpha"]) + 'tittle: "x"\n'}),
    Case("date-not-a-date", 1, (MANIFEST, "date:"), "is not a date: write it as YYYY-MM-DD",
         {MANIFEST: manifest_text(["alpha"], date="soon")}),
    Case("date-that-does-not-exist", 1, (MANIFEST, "date:"), "'2026-02-30' is not a valid date",
         {MANIFEST: manifest_text(["alpha"], date="2026-02-30")}),
    Case("number-with-5000-digits", 1, (MANIFEST, "number:"), "is not a value YAML can read",
         {MANIFEST: manifest_text(["alpha"], number="9" * 5000)}),
    Case("cover-image-missing", 1, (MANIFEST, "image:"), "put the file at content/media/nope.jpg",
         {MANIFEST: manifest_text(["alpha"], cover='\n  image: media/nope.jpg\n  headline: "H"')}),
    Case("cover-image-outside-content", 1, (MANIFEST, "image:"), "must be a relative path inside",
         {MANIFEST: manifest_text(["alpha"], cover='\n  image: ../secret.jpg\n  headline: "H"')}),
    Case("print-size-unknown", 1, (MANIFEST, "size:"), "print.size: has an invalid format",
         {MANIFEST: manifest_text(["alpha"], print="\n  size: A9")}),
    Case("empty-section", 1, (MANIFEST, "reviews: []"), "section 'Empty' is empty",
         {MANIFEST: manifest_text(["alpha"], sections='\n  - title: "Empty"\n    reviews: []')},
         CHECK),
    Case("layout-missing", 1, (MANIFEST, "layout:"), "layout 'nowhere' not found",
         {MANIFEST: manifest_text(["alpha"], layout="nowhere")}, CHECK),
    # ---- review files ---------------------------------------------------------------------------
    Case("review-without-front-matter", 1, f"{REVIEW}:1", "must start with '---'",
         {REVIEW: "Just a paragraph.\n"}),
    Case("review-front-matter-unclosed", 1, f"{REVIEW}:1", "is never closed",
         {REVIEW: "---\ntitle: x\n"}),
    Case("review-yaml-syntax", 1, f"{REVIEW}:2", "YAML syntax error: mapping values",
         {REVIEW: review_text(None, image=HERO).replace("---\n", "---\ntitle: A: B\n", 1)}),
    Case("review-not-utf8", 1, f"{REVIEW}:2", "not UTF-8", {REVIEW: latin1(review_text("Café"))}),
    Case("review-control-character", 1, f"{REVIEW}:2", "character U+0000 is not allowed",
         {REVIEW: review_text("A\x00B")}),
    Case("review-missing-author", 1, f"{REVIEW}:2", "missing required key 'author'",
         {REVIEW: review_with(author=None)}),
    Case("review-bad-year", 1, (REVIEW, "year:"), "films[0].year",
         {REVIEW: review_with(films='\n  - title: "F"\n    year: soon')}),
    Case("review-unknown-key", 1, (REVIEW, "authr:"), "did you mean 'author'?",
         {REVIEW: review_with(authr='"Ann"')}),
    Case("review-hero-missing", 1, (REVIEW, "src:"), "put the file at content/media/nope.jpg",
         {REVIEW: review_text("Alpha", image="\n  src: media/nope.jpg\n  alt: x")}),
    Case("review-body-image-missing", 1, (REVIEW, "![Gone]"), "'media/gone.jpg' not found",
         {REVIEW: review_with("\n![Gone](media/gone.jpg)\n")}),
    Case("review-without-body", 1, f"{REVIEW}:10", "has no text after its front matter",
         {REVIEW: review_with().split("\nWord0")[0] + "\n"}),
    Case("review-is-a-folder", 1, REVIEW, "cannot read: Is a directory", setup=folder_for_review),
    Case("review-bad-link", 1, (REVIEW, "[home]"), "relative link 'index.html'",
         {REVIEW: review_with("\nGo [home](index.html).\n")}, CHECK),
    # ---- images ---------------------------------------------------------------------------------
    Case("hero-not-an-image", 1, "content/media/hero.jpg", "cannot decode image: not an image file",
         setup=garbage("media/hero.jpg")),
    Case("hero-truncated", 1, (REVIEW, "src:"), "cannot decode image content/media/hero.jpg: the",
         setup=truncate("media/hero.jpg")),
    Case("cover-not-an-image", 1, (MANIFEST, "image:"), "cannot decode image content/media/cover",
         setup=garbage("media/cover.jpg")),
    Case("body-image-truncated", 1, (REVIEW, "![Pans]"), "the file is truncated",
         {REVIEW: review_with("\n![Pans](media/pans.jpg)\n")}, setup=truncate("media/pans.jpg")),
    Case("body-image-remote", 1, (REVIEW, "pixel.png"),
         "review 'alpha' (content/reviews/alpha.md): refused http://127.0.0.1:9/pixel.png",
         {REVIEW: review_with('\n<img src="http://127.0.0.1:9/pixel.png" alt="">\n')}),
    Case("cover-low-resolution", 1, (MANIFEST, "image:"), "ppi printed at full bleed",
         args=CHECK, setup=lambda root: Image.new("RGB", (800, 1100)).save(root / COVER)),
    # ---- layouts and fonts ----------------------------------------------------------------------
    Case("font-missing", 1, "layouts/custom/print/print.css:2",
         "layouts/custom/assets/fonts/Gone.otf not found",
         {MANIFEST: CUSTOM_LAYOUT, "layouts/custom/print/print.css": MISSING_FONT_CSS}),
    Case("template-syntax-error", 1, "{root}/layouts/default/print/review.html.j2:1",
         "template syntax error", {"layouts/default/print/review.html.j2": "{% if %}\n"}),
    Case("template-not-utf8", 1, "{root}/layouts/default/print/review.html.j2",
         "template not UTF-8", {"layouts/default/print/review.html.j2": latin1("{# é #}\n")}),
    Case("strings-yaml-syntax", 1, "{root}/layouts/default/strings.yaml:2", "YAML syntax error",
         {"layouts/default/strings.yaml": "en:\n  contents: Contents: x\n"}),
    # ---- feeds (ingest) -------------------------------------------------------------------------
    Case("feed-not-a-feed", 1, "feed.xml", "not a feed", {"feed.xml": b"\x00\x89PNG\xff binary"},
         ("ingest", "feed.xml")),
    Case("feed-bad-json", 1, "feed.json:1", "not a JSON Feed: invalid JSON",
         {"feed.json": '{"version": "https://jsonfeed.org/version/1.1", "items": [{"id": 1,}'},
         ("ingest", "feed.json")),
    Case("feed-file-missing", 1, "nofeed.xml", "no such file", args=("ingest", "nofeed.xml")),
    Case("saved-page-empty", 1, "page.html", "the page is empty", {"page.html": ""},
         ("ingest", "page.html")),
    # ---- magbuilder.yaml ------------------------------------------------------------------------
    Case("config-yaml-syntax", 1, "magbuilder.yaml:2", "YAML syntax error",
         {"magbuilder.yaml": 'site:\n  name: "Test\n'}),
    Case("config-http-base-url", 1, ("magbuilder.yaml", "base_url"), "use an absolute https:// URL",
         {"magbuilder.yaml": SITE.replace("https://mag", "http://mag")}),
    Case("config-unknown-section", 1, "magbuilder.yaml:1", "expected only a 'site:' mapping",
         {"magbuilder.yaml": SITE + "sites: {}\n"}),
    Case("config-not-utf8", 1, "magbuilder.yaml:2", "not UTF-8",
         {"magbuilder.yaml": latin1(SITE.replace("Test Magazine", "Café"))}),
    # ---- every YAML file: aliases, nesting, size, duplicate keys (issue 14, items 2-4) ----------
    Case("manifest-alias-bomb", 1, (MANIFEST, "*a0"), "YAML alias '*a0' is not allowed",
         {MANIFEST: GOOD_MANIFEST + bomb()}, CHECK, timeout=30),
    Case("review-alias-bomb", 1, (REVIEW, "*a0"), "YAML alias '*a0' is not allowed",
         {REVIEW: with_front(review_with(), bomb())}, timeout=30),
    Case("config-alias-bomb", 1, ("magbuilder.yaml", "*a0"), "YAML alias '*a0' is not allowed",
         {"magbuilder.yaml": SITE + bomb()}, timeout=30),
    Case("ingest-alias-bomb", 1, ("ingest.yaml", "*a0"), "YAML alias '*a0' is not allowed",
         {"ingest.yaml": "ingest:\n  use_default_rules: true\n" + bomb()},
         ("ingest", "feed.xml"), timeout=30),
    Case("manifest-nested-100k", 1, (MANIFEST, "lines:"), "YAML nested more than 20 levels deep",
         {MANIFEST: manifest_text(["alpha"], cover=COVER_LINES + "[" * DEEP + "]" * DEEP)},
         CHECK),
    Case("review-nested-990", 1, (REVIEW, "tags:"), "YAML nested more than 20 levels deep",
         {REVIEW: review_with(tags="[" * 990 + "]" * 990)}),
    Case("manifest-over-a-megabyte", 1, f"{MANIFEST}:1", "characters of YAML, more than the",
         {MANIFEST: manifest_text(["alpha"], editorial=HUGE_EDITORIAL)},
         CHECK, timeout=60),
    Case("manifest-duplicate-key", 1, f"{MANIFEST}:{line_count(GOOD_MANIFEST) + 1}",
         f"key 'sections' appears twice (first on line {FIRST_SECTIONS}): keep one",
         {MANIFEST: TWO_SECTIONS}, CHECK),
    Case("review-duplicate-key", 1, f"{REVIEW}:3", "key 'title' appears twice (first on line 2)",
         {REVIEW: with_front(review_with(), 'title: "Beta"\n')}),
    Case("config-duplicate-key", 1, f"magbuilder.yaml:{line_count(SITE) + 1}",
         "key 'name' appears twice (first on line 2): keep one",
         {"magbuilder.yaml": SITE + '  name: "Other Magazine"\n'}),
    Case("strings-duplicate-key", 1, f"{{root}}/{STRINGS}:{line_count(STRINGS_TEXT) + 1}",
         "key 'en' appears twice (first on line 2): keep one",
         {STRINGS: STRINGS_TEXT + 'en:\n  contents: "In this issue"\n'}),
    Case("ingest-duplicate-key", 1, "ingest.yaml:3", "key 'max_item_bytes' appears twice",
         {"ingest.yaml": "ingest:\n  max_item_bytes: 10\n  max_item_bytes: 20\n"},
         ("ingest", "feed.xml")),
    # ---- one-line values that end up in mail headers (issue 14, item 3) ----------------------
    Case("subject-with-crlf", 1, (MANIFEST, "subject:"), "newsletter.subject: contains a line",
         {MANIFEST: manifest_text(["alpha"], newsletter='\n  subject: "Sub\\r\\nject"\n'
                                  '  preheader: "P"')}),
    Case("config-from-email-newline", 1, ("magbuilder.yaml", "from_email"),
         "site.from_email: contains a line break",
         {"magbuilder.yaml": SITE.replace('<news@mag.example>"',
                                          '<news@mag.example>\\nBcc: all@mag.example"')}),
    # ---- a review file outside content/ (issue 14, item 10a) -----------------------------------
    Case("review-symlinked-outside", 1, (MANIFEST, "- alpha"),
         "review 'alpha' (content/reviews/alpha.md) is a symlink to a file outside content/",
         setup=outside_review),
    Case("review-symlinked-outside-check", 1, (MANIFEST, "- alpha"),
         "review 'alpha' (content/reviews/alpha.md) is a symlink to a file outside content/",
         args=CHECK, setup=outside_review),
    # ---- a page too small for its margins (issue 14, item 8) ---------------------------------
    Case("print-size-too-small", 1, (MANIFEST, "size:"), "print.size: the 5x5mm page (5 × 5 mm)",
         {MANIFEST: manifest_text(["alpha"], print="\n  size: 5x5mm")}),
    Case("print-margins-leave-no-text", 1, (MANIFEST, "margins:"),
         "print.margins: the A4 page (210 × 297 mm) less its margins",
         {MANIFEST: manifest_text(["alpha"], print="\n  margins:\n    inside: 80\n"
                                  "    outside: 80")}, CHECK),
    # ---- options --------------------------------------------------------------------------------
    Case("jobs-zero", 2, None, "Invalid value for '--jobs'", args=(*BUILD, "--jobs", "0")),
    Case("format-unknown", 2, None, "Invalid value for '--format'", {}, (*CHECK, "--format", "x")),
    Case("build-without-manifest", 2, None, "name an issue manifest", args=("build",)),
    Case("manifest-does-not-exist", 2, None, "does not exist", args=("check", "issues/nope.yaml")),
    Case("preflight-not-a-pdf", 1, "x.pdf", "not a readable PDF", {"x.pdf": "hello"},
         ("preflight", "x.pdf")),
    # ---- sending --------------------------------------------------------------------------------
    Case("smtp-refused", 1, None, "cannot connect to smtp://127.0.0.1:{port}",
         {"magbuilder.yaml": SEND_SITE},
         ("send", MANIFEST, "--smtp", "smtp://127.0.0.1:{port}", "--test", "me@example.org"),
         env={"MAGBUILDER_UNSUBSCRIBE_SECRET": "s" * 43}),
]  # fmt: skip


def lay_out(root: Path, case: Case) -> None:
    """The small good project (review 'alpha' with a hero image), then the case's changes."""
    shutil.copytree(REPO / "layouts", root / "layouts")
    files: dict[str, str | bytes] = {
        "magbuilder.yaml": SITE,
        REVIEW: review_with(),
        MANIFEST: manifest_text(["alpha"]),
        **case.files,
    }
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    media = root / "content/media"
    media.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (2560, 3600), (90, 120, 150)).save(media / "cover.jpg", quality=80)
    Image.new("RGB", (2400, 1600), (150, 120, 90)).save(media / "hero.jpg", quality=80)
    if case.setup:
        case.setup(root)


# Rows whose failed run still writes something, with the reason and the only paths (fnmatch
# patterns) it may create; nothing else may appear, and nothing may change or vanish. Not marks:
# whether a chunk is cached before another chunk fails is a race, so the test could not be strict.
CACHE = (
    "by design: chunks laid out before another part failed are kept in out/.cache/ (complete "
    "files, named by their inputs; not outputs), so the build after the fix reuses them",
    ("out", "out/.cache", "out/.cache/*"),
)
WRITES: dict[str, tuple[str, tuple[str, ...]]] = {
    "hero-truncated": CACHE,
    "cover-not-an-image": CACHE,
    "body-image-truncated": CACHE,
    "body-image-remote": CACHE,
    "font-missing": CACHE,
    "template-syntax-error": CACHE,
    "template-not-utf8": CACHE,
}


def framing(case: Case) -> list[str]:
    """The lines a failed command prints besides its finding, by design: the summaries of
    ``check`` (docs: "then a summary") and ``preflight``, and ingest's counts. They must be
    there; that they count one error (or nothing ingested) is checked with them."""
    if case.code != 1 or "ingest.yaml" in case.files:  # an unusable ingest.yaml stops it first
        return []
    return {
        "check": [f"{MANIFEST}: failed: 1 error, 0 warnings"],
        "preflight": ["preflight failed: 1 error, 0 warnings, 0 info"],
        "ingest": ["new 0, updated 0, unchanged 0, skipped 0"],
    }.get(case.args[0], [])


# click frames a usage error (exit 2) with these two lines around its one "Error: …" line.
CLICK_USAGE = re.compile(r"Usage: magbuilder \w+ |Try 'magbuilder \w+ --help' for help\.$")

Snapshot = dict[str, tuple[int, int, str] | None]


def snapshot(root: Path) -> Snapshot:
    """Every path under ``root``: None for a folder, else (size, mtime in ns, SHA-256)."""
    state: Snapshot = {}
    for path in root.rglob("*"):
        rel = path.relative_to(root).as_posix()
        if path.is_dir() and not path.is_symlink():
            state[rel] = None
        else:
            info = path.lstat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
            state[rel] = (info.st_size, info.st_mtime_ns, digest)
    return state


@dataclass(frozen=True)
class Outcome:
    """One row's run: its project, the finished process, and the project before and after."""

    root: Path
    result: subprocess.CompletedProcess[str]
    port: str
    before: Snapshot
    after: Snapshot

    @property
    def shown(self) -> str:
        r = self.result
        return f"exit {r.returncode}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"

    @property
    def lines(self) -> list[str]:
        """Every non-blank line printed, stderr first."""
        text = self.result.stderr.splitlines() + self.result.stdout.splitlines()
        return [line for line in text if line.strip()]


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    """Every row run once, concurrently: {id: outcome}."""
    closed = socket.socket()  # bound but not listening: connections to it are refused
    closed.bind(("127.0.0.1", 0))
    port = str(closed.getsockname()[1])

    roots = {}
    for case in CASES:  # mktemp is not thread-safe: lay the projects out first
        roots[case.id] = tmp_path_factory.mktemp(case.id)
        lay_out(roots[case.id], case)

    def run(case: Case) -> Outcome:
        root = roots[case.id]
        args = [arg.replace("{port}", port) for arg in case.args]
        env = {**os.environ, **case.env}
        env.pop("MAGBUILDER_SMTP", None)
        before = snapshot(root)
        # A real process per row (a row that hangs is killed and fails, the others still run),
        # forked from one that has imported magbuilder already.
        result = magbuilder(*args, cwd=root, env=env, timeout=case.timeout)
        return Outcome(root, result, port, before, snapshot(root))

    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = dict(zip([c.id for c in CASES], pool.map(run, CASES), strict=True))
    finally:
        closed.close()
    return results


def test_there_are_exactly_72_bad_inputs_with_distinct_names():
    # Exact on purpose: a row added or lost must show up here as a deliberate edit.
    assert len(CASES) == 72
    names = {c.id for c in CASES}
    assert len(names) == len(CASES)
    assert set(WRITES) <= names  # no entry outlives its row


def finding(case: Case, outcome: Outcome) -> str:
    """The line of output that reports the case's problem where the row says it is."""
    message = case.message.replace("{port}", outcome.port)
    if case.where is None:
        found = [line for line in outcome.lines if message in line]
        assert found, f"expected a line with '{message}'\n{outcome.shown}"
        return found[0]
    if isinstance(case.where, tuple):
        path, marker = case.where
        text = (outcome.root / path).read_bytes().decode("utf-8", "replace")
        number = next(n for n, line in enumerate(text.splitlines(), 1) if marker in line)
        where = f"{path}:{number}"
    else:
        where = case.where.replace("{root}", str(outcome.root))
    found = [line for line in outcome.lines if line.startswith(f"{where}: ") and message in line]
    assert found, f"expected '{where}: …{message}…'\n{outcome.shown}"
    return found[0]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_fails_with_its_message_and_exit_code(case: Case, outcomes):
    outcome = outcomes[case.id]
    output = outcome.result.stderr + outcome.result.stdout
    assert "Traceback" not in output, outcome.shown
    assert "internal error" not in output, outcome.shown
    assert outcome.result.returncode == case.code, outcome.shown
    finding(case, outcome)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_is_the_only_message(case: Case, outcomes):
    outcome = outcomes[case.id]
    line = finding(case, outcome)
    lines = outcome.lines
    if case.code == 2:
        lines = [text for text in lines if not CLICK_USAGE.match(text)]
    for summary in framing(case):
        assert summary in lines, f"expected the summary '{summary}'\n{outcome.shown}"
        lines.remove(summary)
    assert lines == [line], f"expected only '{line}'\n{outcome.shown}"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_failed_run_writes_nothing(case: Case, outcomes):
    # Nothing in the project: no build output (out/ and its cache), no change to any input.
    outcome = outcomes[case.id]
    before, after = outcome.before, outcome.after
    reason, allowed = WRITES.get(case.id, ("", ()))
    created = sorted(
        path
        for path in after.keys() - before.keys()
        if not any(fnmatchcase(path, pattern) for pattern in allowed)
    )
    deleted = sorted(before.keys() - after.keys())
    changed = sorted(path for path in before.keys() & after.keys() if before[path] != after[path])
    assert not (created or deleted or changed), (
        f"created {created}, deleted {deleted}, changed {changed} (known: {reason or 'none'})\n"
        f"{outcome.shown}"
    )
