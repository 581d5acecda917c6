"""Nothing in a review is lost without a word: it is printed, or `check` names its file and line.

Issue 14, item 8: an SVG the build cannot draw in full, quotes nested 200 deep and a word of
2,000 characters all printed wrongly, or not at all, and the build said nothing.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pdfplumber
import pytest
from PIL import Image

from magbuilder.build import BuildOptions, BuildResult, build_issue
from magbuilder.checks import check_issue, format_finding
from magbuilder.errors import RenderError
from magbuilder.markdown import MAX_NESTING, render_markdown

from .conftest import REPO, SITE, manifest_text, review_text
from .pdfpages import MM, Page, read_pages

SVGS = REPO / "tests" / "data" / "svg"
DEEP_QUOTE = "> " * 200 + "The two hundredth quote keeps its words.\n"
LONG_WORD = "https://example.org/" + "x" * 2000
RED = (1.0, 0.0, 0.0)  # the fill of every SVG in tests/data/svg/


def review(title: str, body: str) -> str:
    """A valid review file with ``body`` as its whole body."""
    front, _, _ = review_text(title).rpartition("---\n")
    return f"{front}---\n{body}"


def lay_out(root: Path, reviews: dict[str, str], svgs: tuple[str, ...] = ()) -> Path:
    """A project in ``root`` with the reviews (slug → body) in one section; its manifest."""
    shutil.copytree(REPO / "layouts", root / "layouts")
    (root / "content" / "reviews").mkdir(parents=True)
    (root / "content" / "media").mkdir()
    (root / "issues").mkdir()
    (root / "magbuilder.yaml").write_text(SITE, "utf-8")
    Image.new("RGB", (2560, 3600), (90, 120, 150)).save(root / "content/media/cover.jpg")
    for name in svgs:
        shutil.copy(SVGS / name, root / "content" / "media" / name)
    for slug, body in reviews.items():
        text = review(slug.replace("-", " ").title(), body)
        (root / "content" / "reviews" / f"{slug}.md").write_text(text, "utf-8")
    manifest = root / "issues" / "t-1.yaml"
    manifest.write_text(manifest_text(list(reviews)), "utf-8")
    return manifest


def line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def review_pages(result: BuildResult, word: str) -> list[Page]:
    """The pages of the print file from the one whose text has ``word`` on (the reviews)."""
    pages = read_pages(result.files["magazine.pdf"], result.issue.manifest.print.margins)
    first = next((p.number for p in pages if word in p.text), None)
    assert first is not None, f"'{word}' is on no page"
    return pages[first - 1 :]


def text_block(result: BuildResult, page: Page) -> tuple[float, float]:
    """Left and right edge of the page's text block, in pt from the trim's left."""
    margins = result.issue.manifest.print.margins
    right_hand = page.number % 2 == 1  # the inside margin on the left
    left = margins.inside if right_hand else margins.outside
    right = margins.outside if right_hand else margins.inside
    return left * MM, page.size[0] - right * MM


# ---- an SVG is drawn in full, or refused ------------------------------------------------------
def test_check_names_each_svg_that_would_not_print_in_full(tmp_path):
    names = (
        "doctype.svg",
        "dtd-entity.svg",
        "remote-image.svg",
        "outside-file.svg",
        "embedded-image.svg",
    )
    body = "".join(f"Before {name}.\n\n![A chart](media/{name})\n\n" for name in names)
    manifest = lay_out(tmp_path, {"charts": body}, svgs=names)
    path = tmp_path / "content/reviews/charts.md"
    found = [f for f in check_issue(manifest) if ".svg" in f.message]
    shown = "\n".join(map(format_finding, found))
    at = {(f.path, f.line, f.level) for f in found}
    for name in names[1:]:
        assert ("content/reviews/charts.md", line_of(path, f"media/{name}"), "error") in at, shown
    assert len(found) == 4, shown  # a DOCTYPE alone is harmless: no DTD is read, it draws
    why = {name: next(f.message for f in found if name in f.message) for name in names[1:]}
    assert "&nbsp;" in why["dtd-entity.svg"] and "line 5" in why["dtd-entity.svg"]
    assert "https://example.org/poster.png" in why["remote-image.svg"]
    assert "network" in why["remote-image.svg"]
    assert "file:///etc/hostname" in why["outside-file.svg"]
    assert "outside content/" in why["outside-file.svg"]
    assert "data:image/png" in why["embedded-image.svg"]


@pytest.mark.slow
def test_build_draws_a_doctype_svg_and_refuses_one_it_would_not_draw_in_full(tmp_path):
    good = lay_out(
        tmp_path / "good",
        {"chart": "Intro.\n\n![A chart](media/doctype.svg)\n"},
        svgs=("doctype.svg",),
    )
    built = build_issue(good, tmp_path / "good" / "build", BuildOptions(single_pass=True))
    with pdfplumber.open(built.files["magazine.pdf"]) as pdf:
        assert any(r["non_stroking_color"] == RED for p in pdf.pages for r in p.rects)

    for name in ("dtd-entity.svg", "remote-image.svg"):
        root = tmp_path / name
        manifest = lay_out(root, {"chart": f"Intro.\n\n![A chart](media/{name})\n"}, svgs=(name,))
        try:
            build_issue(manifest, root / "build", BuildOptions(single_pass=True))
        except RenderError as exc:
            where = {(f.path, f.line) for f in exc.findings}
            assert ("content/reviews/chart.md", 9) in where, exc.findings
        else:
            raise AssertionError(f"{name}: the build left the picture out and succeeded")


# ---- quotes nested 200 deep ---------------------------------------------------------------
def test_quotes_nested_200_deep_keep_their_words_and_print_at_most_four_deep():
    html = render_markdown("Before.\n\n" + DEEP_QUOTE + "\nAfter.\n")
    assert "The two hundredth quote keeps its words." in html
    assert html.count("<blockquote>") == MAX_NESTING["blockquote"] == 4
    assert re.search(r"(<blockquote>\s*){4}<p>The two hundredth", html), html


def test_raw_html_quotes_nested_200_deep_keep_their_words_and_paragraphs():
    text = "<blockquote>" * 200 + "Deep." + "</blockquote>Between." * 200 + "\n\nAfter.\n"
    html = render_markdown("<blockquote>Outer<blockquote>" + text)
    assert html.count("<blockquote>") == 4 and html.count("</blockquote>") == 4
    assert "<p>Deep.</p>" in html  # a paragraph of its own, not run into its neighbours
    assert html.count("Between.") == 200 and "OuterDeep" not in html


def test_check_warns_of_quotes_nested_too_deep_at_their_line(tmp_path):
    manifest = lay_out(tmp_path, {"quotes": f"Intro.\n\n> Shallow.\n\n{DEEP_QUOTE}\nAfter.\n"})
    found = [f for f in check_issue(manifest) if "nested" in f.message]
    assert [(f.path, f.line, f.level) for f in found] == [
        (
            "content/reviews/quotes.md",
            line_of(tmp_path / "content/reviews/quotes.md", "> > >"),
            "warning",
        )
    ], "\n".join(map(format_finding, found))
    assert "quotes nested more than 4 deep" in found[0].message


# ---- in the real PDF ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """One magazine: a review with quotes nested 200 deep, one with a 2,000-character word."""
    root = tmp_path_factory.mktemp("silent-loss")
    manifest = lay_out(
        root,
        {
            "deep-quotes": f"Intro.\n\n{DEEP_QUOTE}\nAfter the quotes.\n",
            "long-word": f"A long word follows.\n\nSee {LONG_WORD} for more.\n\nAfter the word.\n",
        },
    )
    return build_issue(manifest, root / "build", BuildOptions(single_pass=True))


@pytest.mark.slow
def test_the_words_of_the_200th_quote_are_printed_four_levels_in(built):
    pages = review_pages(built, "two hundredth")
    texts = [w.text for w in pages[0].words]
    start = texts.index("two") - 1
    assert texts[start : start + 6] == ["The", "two", "hundredth", "quote", "keeps", "its"]
    left, _ = text_block(built, pages[0])
    indent = pages[0].words[start].box[0] - left
    assert 4 * 4 * MM - 0.5 <= indent <= 4 * 4 * MM + 0.5  # .body blockquote: 4 mm a level
    assert "After the quotes." in pages[0].text


@pytest.mark.slow
def test_a_2000_character_word_breaks_within_the_text_block(built):
    pages = review_pages(built, "follows.")
    outside = [
        (page.number, word.text[:30], [round(v) for v in word.box])
        for page in pages
        for word in page.words
        if word.box[0] < text_block(built, page)[0] - 0.5
        or word.box[2] > text_block(built, page)[1] + 0.5
        or word.box[1] < 0
        or word.box[3] > page.size[1]
    ]
    assert not outside
    pieces = [w.text for p in pages for w in p.words if set(w.text) <= set("x")]
    assert sum(map(len, pieces)) == 2000  # every character printed, none lost at a break
    assert "After the word." in " ".join(p.text for p in pages)
