"""Saved article pages: a browser's .html save with its image folder, and a "save as text" .txt."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from magbuilder.ingest.pages import title_from_file
from magbuilder.store import read_review

from .conftest import OFFLINE, PAGES, messages, review, run

HTML_PAGE = PAGES / "harbour-of-small-engines.html"
TEXT_PAGE = PAGES / "the-weather-log.txt"
FERRY_PAGE = PAGES / "the-ferry-does-not-wait.html"
FERRY_BIO = (
    "Tove Aamodt writes about television, memory and the cinema of the far north, and teaches"
    " film history in Tromsø."
)


def test_html_page_front_matter(project) -> None:
    root = project(OFFLINE)
    report = run(root, HTML_PAGE)
    assert report.summary() == "new 1, updated 0, unchanged 0, skipped 0"
    front = review(root, "harbour-of-small-engines").front
    assert front["title"] == "Harbour of Small Engines"
    assert front["kicker"] == "WORK"
    assert front["standfirst"].startswith("In a Breton harbour, three mechanics")
    assert front["author"] == "Ingrid Solvang"
    assert front["author_bio"] == "Ingrid Solvang is a regular contributor to Long Take."
    assert front["published"] == dt.date(2018, 3, 5)
    assert front["lang"] == "en-GB"
    assert front["tags"] == ["Documentary", "Work", "France"]
    assert front["source_url"] == "https://longtake.example/2018/03/harbour-of-small-engines/"
    assert front["films"] == [
        {
            "title": "Harbour of Small Engines",
            "directors": ["Amira Haddad"],
            "countries": ["Norway", "Denmark", "France"],
            "year": 2017,
            "runtime": 71,
        }
    ]


def test_html_page_image_beside_the_page_is_copied_into_media(project) -> None:
    root = project(OFFLINE)
    run(root, HTML_PAGE)
    image = review(root, "harbour-of-small-engines").front["image"]
    assert image["src"].startswith("media/harbour-of-small-engines-")
    assert image["src"].endswith(".jpg")
    assert image["alt"] == "Three mechanics at a workbench covered in outboard motor parts"
    assert image["caption"] == "The workshop on the quay at Le Conquet."
    assert image["credit"] == "Photo: Atelier Haddad"
    stored = root / "content" / image["src"]
    source = PAGES / "harbour-of-small-engines_files" / "harbour-still.jpg"
    assert stored.read_bytes() == source.read_bytes()
    # The hero is not repeated as a figure in the body.
    assert "![" not in review(root, "harbour-of-small-engines").body


def test_html_page_body_is_clean(project) -> None:
    root = project(OFFLINE)
    report = run(root, HTML_PAGE)
    body = review(root, "harbour-of-small-engines").body
    assert body.startswith("The workshop is a shipping container on the quay at Le Conquet")
    assert "\n<https://vimeo.com/304117265>\n" in body
    assert "\n## Parts and labour\n" in body
    assert "::: pullquote\nNobody here buys a new engine." in body
    assert "*Harbour of Small Engines* is seventy-one minutes long" in body
    assert "Loïc’s ledger of debts" in body and "Fañch" in body
    for gone in (
        "Published date", "Country:", "Runtime", "Edit your presentation page", "Dear reader",
        "http://", "Share on", "Read more", "newsletter", "javascript", "evil", "pixel",
        "Home", "Privacy", "dataLayer", "By Ingrid",
    ):  # fmt: skip
        assert gone not in body, gone
    assert "removed 2 embed(s) with no source" in messages(report)


def test_html_page_loads_back_with_its_image(project) -> None:
    root = project(OFFLINE)
    run(root, HTML_PAGE)
    path = root / "content" / "reviews" / "harbour-of-small-engines.md"
    loaded = read_review(path, content_dir=root / "content")
    assert loaded.image is not None and loaded.image.credit == "Photo: Atelier Haddad"
    assert loaded.films[0].runtime == 71


def test_text_page_layout(project) -> None:
    root = project(OFFLINE)
    report = run(root, TEXT_PAGE, title="The Weather Log")
    assert report.summary() == "new 1, updated 0, unchanged 0, skipped 0"
    front = review(root, "the-weather-log").front
    assert front["title"] == "The Weather Log"
    assert front["kicker"] == "MEMORY"
    assert front["standfirst"].startswith("For forty years Solveig Brandt read the weather")
    assert front["author"] == "Ingrid Solvang"
    assert front["author_bio"] == "Ingrid Solvang is a regular contributor to Long Take."
    assert front["published"] == dt.date(2018, 3, 5)  # "Published date: March 5, 2018"
    assert front["films"] == [
        {
            "title": "The Weather Log",
            "directors": ["Amira Haddad", "Lucas Moreau"],  # "Directors A and B"
            "countries": ["Norway", "Denmark", "France"],
            "year": 2017,
            "runtime": 105,  # "105'"
        }
    ]


def test_text_page_body(project) -> None:
    root = project(OFFLINE)
    run(root, TEXT_PAGE, title="The Weather Log")
    body = review(root, "the-weather-log").body
    paragraphs = body.split("\n\n")
    assert paragraphs[0].startswith("The island of Skarvholmen has no trees")
    assert paragraphs[1] == "<https://www.youtube.com/watch?v=w3aTh3rL0g5>"
    assert "## The telephone on the wall" in paragraphs
    assert "::: pullquote\n«The sea has no memory, so somebody has to keep one for it.»\n:::" in (
        body
    )
    assert "“wind NW 11, sea very high, no one to tell”" in body
    assert paragraphs[-1].startswith("There are weaknesses.")
    for gone in (
        "Dear reader", "http://\n", "script", "evil", "onerror", "Share this", "Facebook",
        "Edit your presentation page", "Read more", "Published date", "Runtime",
    ):  # fmt: skip
        assert gone not in body, gone


def test_text_page_without_headline_takes_its_title_from_the_file_name(project) -> None:
    root = project(OFFLINE)
    report = run(root, TEXT_PAGE)
    assert review(root, "the-weather-log").front["title"] == "The weather log"
    assert "the page has no headline: the title 'The weather log' comes from the file name" in (
        messages(report)
    )


def test_title_from_file_name_drops_the_site_name() -> None:
    assert title_from_file(Path("Harbour of Small Engines – Long Take.txt")) == (
        "Harbour of Small Engines"
    )
    assert title_from_file(Path("static_over-gdansk.txt")) == "Static over gdansk"


def test_text_page_with_headline(project, tmp_path: Path) -> None:
    root = project(OFFLINE)
    page = tmp_path / "saved.txt"
    page.write_text(
        "Salt Road\n\nThree drivers haul salt across the Danakil.\n\nTomás Arriaga\n\n"
        "Regissør: Dawit Haile\nSpilletid: 1 t 32 min\n\nThe lorries are older than the men.\n",
        encoding="utf-8",
    )
    run(root, page, title="Ignored, the page has one")
    written = review(root, "salt-road")
    assert written.front["title"] == "Salt Road"
    assert written.front["standfirst"] == "Three drivers haul salt across the Danakil."
    assert written.front["author"] == "Tomás Arriaga"
    assert written.front["films"][0]["directors"] == ["Dawit Haile"]
    assert written.front["films"][0]["runtime"] == 92
    assert written.body == "The lorries are older than the men.\n"


def test_unreadable_metadata_line_stays_in_the_body(project, tmp_path: Path) -> None:
    root = project(OFFLINE)
    page = tmp_path / "odd.txt"
    page.write_text(
        "A standfirst that ends properly.\n\nAnn Author\n\n"
        "Runtime: about an hour and a half\nCountry: Norway, 2017\n\n"
        "The review itself, which is short.\n",
        encoding="utf-8",
    )
    report = run(root, page, title="Odd Facts")
    written = review(root, "odd-facts")
    assert written.front["films"][0]["countries"] == ["Norway"]
    assert "runtime" not in written.front["films"][0]
    assert "Runtime: about an hour and a half" in written.body
    assert "kept the line 'Runtime: about an hour and a half' in the body" in messages(report)


# ---- a magazine's page: byline and bio inside the body, site furniture around the review -----


def test_bio_beside_the_byline_goes_to_author_bio(project) -> None:
    root = project(OFFLINE)
    run(root, FERRY_PAGE)
    written = review(root, "the-ferry-does-not-wait")
    assert written.front["author"] == "Tove Aamodt"
    assert written.front["author_bio"] == FERRY_BIO
    assert written.front["published"] == dt.date(2021, 11, 12)
    # Neither the bio nor what is left of the byline ("By ·") opens the body.
    assert written.body.startswith("For forty years the ferry to Innøya has left the quay")


SITE_RULES = """\
ingest:
  images:
    download: false
  rules:
    remove_elements: [.nf-plug]   # this site's own "read us on paper" box
"""


def test_site_furniture_goes_by_the_default_rules_and_the_site_s_own(project) -> None:
    root = project(SITE_RULES)
    run(root, FERRY_PAGE)
    written = review(root, "the-ferry-does-not-wait")
    body = written.body
    assert body.rstrip().endswith("the next island on the list might be yours.")
    assert "\n## A timetable as a portrait\n" in body
    assert "we watch forty faces understand, one after another" in body
    for gone in (
        "About the author", "profile", "reviews by", "since 2014",  # profile
        "Share", "Facebook", "Bluesky", "E-mail",  # share
        "on paper", "member", "Join us",  # subscribe (the site's rule)
        "More reviews", "Ice Road Psalms", "Net Menders",  # related
    ):  # fmt: skip
        assert gone not in body, gone
    assert "truncated" not in written.front  # the page has the whole review


HEADER_BIO = """\
<!DOCTYPE html><html lang="en"><head><title>Ice Road Psalms – Northern Frame</title></head>
<body><article>
<header><h1>Ice Road Psalms</h1>
<p class="byline">By <a rel="author" href="/profile/jonas-eide/">Jonas Eide</a></p>
<p class="author-line">Jonas Eide writes about music in film for Northern Frame.</p></header>
<div class="entry-content"><p>Every January the choir drives the winter road.</p></div>
</article></body></html>
"""


def test_bio_beside_a_byline_outside_the_body_goes_to_author_bio(project, tmp_path) -> None:
    page = tmp_path / "ice-road-psalms.html"
    page.write_text(HEADER_BIO, encoding="utf-8")
    root = project(OFFLINE)
    run(root, page)
    written = review(root, "ice-road-psalms")
    assert (
        written.front["author_bio"] == "Jonas Eide writes about music in film for Northern Frame."
    )
    assert written.body.strip() == "Every January the choir drives the winter road."
