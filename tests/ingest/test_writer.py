"""Identity, stable slugs, byte-identical re-ingest, editor protection, and the file format."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from magbuilder.ingest.state import STATE_NAME
from magbuilder.ingest.writer import slugify
from magbuilder.store import format_review, read_review, write_review

from .conftest import FEEDS, OFFLINE, messages, review, run

ITEM = """\
<item><title>{title}</title><link>https://t.example/{slug}/</link><guid>{guid}</guid>
<author>ann@t.example (Ann Author)</author><pubDate>Tue, 12 Nov 2019 10:00:00 GMT</pubDate>
<description><![CDATA[{body}]]></description></item>"""


def feed(path: Path, *items: dict[str, str]) -> Path:
    """Write a small RSS feed with ``items`` (title, slug, guid, body)."""
    entries = "".join(ITEM.format(**item) for item in items)
    path.write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        f"<link>https://t.example/</link>{entries}</channel></rss>",
        encoding="utf-8",
    )
    return path


FIRST = {"title": "Night Ferry", "slug": "night-ferry", "guid": "g-1", "body": "<p>First.</p>"}


def test_reingest_of_unchanged_items_changes_nothing(project) -> None:
    root = project(OFFLINE)
    run(root, FEEDS / "wordpress.xml", FEEDS / "atom.xml")
    folder = root / "content" / "reviews"
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.iterdir()}
    report = run(root, FEEDS / "wordpress.xml", FEEDS / "atom.xml")
    assert report.summary() == "new 0, updated 0, unchanged 4, skipped 3"
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.iterdir()}
    assert after == before  # same bytes, not even rewritten (state file included)
    assert STATE_NAME in after


def test_changed_item_updates_an_unedited_file(project, tmp_path: Path) -> None:
    root = project(OFFLINE)
    source = tmp_path / "f.xml"
    run(root, feed(source, FIRST))
    report = run(root, feed(source, {**FIRST, "body": "<p>Second, corrected.</p>"}))
    assert report.summary() == "new 0, updated 1, unchanged 0, skipped 0"
    assert review(root, "night-ferry").body == "Second, corrected.\n"


def test_editor_edits_are_never_overwritten(project, tmp_path: Path) -> None:
    root = project(OFFLINE)
    source = tmp_path / "f.xml"
    run(root, feed(source, FIRST))
    path = root / "content" / "reviews" / "night-ferry.md"
    edited = path.read_text(encoding="utf-8").replace("First.", "First, as the editor wants it.")
    path.write_text(edited, encoding="utf-8")

    # Source unchanged: the editor's file stays, nothing else appears.
    report = run(root, source)
    assert report.summary() == "new 0, updated 0, unchanged 1, skipped 0"
    assert path.read_text(encoding="utf-8") == edited
    assert not (path.parent / "night-ferry.incoming.md").exists()

    # Source changed: the editor's file stays, the new version is written beside it.
    report = run(root, feed(source, {**FIRST, "body": "<p>Second.</p>"}))
    assert report.summary() == "new 0, updated 0, unchanged 0, skipped 0, conflicts 1"
    assert path.read_text(encoding="utf-8") == edited
    incoming = path.parent / "night-ferry.incoming.md"
    assert incoming.read_text(encoding="utf-8").endswith("---\nSecond.\n")
    assert "night-ferry.md was edited since the last ingest" in messages(report)

    # Still pending on the next run; once the editor deletes it, the file is left alone.
    assert run(root, source).count("conflict") == 1
    incoming.unlink()
    report = run(root, source)
    assert report.summary() == "new 0, updated 0, unchanged 1, skipped 0"
    assert path.read_text(encoding="utf-8") == edited


def test_accepting_the_incoming_version_makes_the_file_unedited_again(project, tmp_path) -> None:
    root = project(OFFLINE)
    source = tmp_path / "f.xml"
    run(root, feed(source, FIRST))
    path = root / "content" / "reviews" / "night-ferry.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nAn editor's note.\n", encoding="utf-8")
    run(root, feed(source, {**FIRST, "body": "<p>Second.</p>"}))
    (path.parent / "night-ferry.incoming.md").replace(path)
    report = run(root, feed(source, {**FIRST, "body": "<p>Third.</p>"}))
    assert report.summary() == "new 0, updated 1, unchanged 0, skipped 0"
    assert review(root, "night-ferry").body == "Third.\n"


def test_slug_is_kept_when_the_title_changes(project, tmp_path: Path) -> None:
    root = project(OFFLINE)
    source = tmp_path / "f.xml"
    run(root, feed(source, FIRST))
    report = run(root, feed(source, {**FIRST, "title": "The Night Ferry to Vardø"}))
    assert report.summary() == "new 0, updated 1, unchanged 0, skipped 0"
    assert review(root, "night-ferry").front["title"] == "The Night Ferry to Vardø"
    assert sorted(p.name for p in (root / "content" / "reviews").glob("*.md")) == ["night-ferry.md"]


def test_identity_falls_back_to_the_link(project, tmp_path: Path) -> None:
    root = project(OFFLINE)
    source = tmp_path / "f.xml"
    no_guid = {**FIRST, "guid": ""}
    run(root, feed(source, no_guid))
    assert "guid" not in review(root, "night-ferry").front
    report = run(root, feed(source, {**no_guid, "title": "Renamed"}))
    assert report.count("updated") == 1
    assert review(root, "night-ferry").front["title"] == "Renamed"


def test_same_title_different_identity_gets_its_own_slug(project, tmp_path: Path) -> None:
    root = project(OFFLINE)
    (root / "content" / "reviews" / "night-ferry.md").write_text("hand-written", encoding="utf-8")
    run(root, feed(tmp_path / "f.xml", FIRST, {**FIRST, "guid": "g-2", "slug": "other"}))
    assert (root / "content" / "reviews" / "night-ferry.md").read_text() == "hand-written"
    assert review(root, "night-ferry-2").front["guid"] == "g-1"
    assert review(root, "night-ferry-3").front["guid"] == "g-2"


def test_slugify() -> None:
    assert slugify("Static over Gdańsk") == "static-over-gdansk"
    assert slugify("Søren Højbjergs sidste sommer") == "soren-hojbjergs-sidste-sommer"
    assert slugify("The Beekeeper’s Ledger") == "the-beekeepers-ledger"
    assert slugify("Œuvre: «Straße» 2!") == "oeuvre-strasse-2"
    assert slugify("بيت الزيتون") == ""
    assert len(slugify("word " * 40)) <= 60


def test_non_latin_title_gets_a_stable_slug(project, tmp_path: Path) -> None:
    root = project(OFFLINE)
    source = feed(tmp_path / "f.xml", {**FIRST, "title": "بيت الزيتون"})
    run(root, source)
    names = [p.name for p in (root / "content" / "reviews").glob("*.md")]
    assert len(names) == 1 and names[0].startswith("review-")
    assert run(root, source).count("unchanged") == 1


FRONT = {
    "guid": "tag:x,2020:1",
    "title": 'A "quoted" «title»: with colon # and hash',
    "author": "Bjørn Sætre",
    "published": dt.date(2020, 2, 24),
    "lang": "nb",
    "tags": ["true", "2017", "Human rights"],
    "films": [
        {
            "title": "Stemmer under isen",
            "directors": ["Ane Kristiansen", "Pål Eide"],
            "year": 2019,
            "runtime": 93,
        }
    ],
    "image": {"src": "media/x.jpg", "alt": "Ice\nand snow", "caption": None},
    "standfirst": "Line one\\ backslash\ttab",
    "source_url": "https://f.example/a/",
}


def test_format_review_order_and_style() -> None:
    text = format_review(FRONT, "Body.\n")
    assert text == (
        "---\n"
        'title: "A \\"quoted\\" «title»: with colon # and hash"\n'
        'standfirst: "Line one\\\\ backslash\\ttab"\n'
        'author: "Bjørn Sætre"\n'
        "published: 2020-02-24\n"
        "lang: nb\n"
        'tags: ["true", "2017", "Human rights"]\n'
        "films:\n"
        '  - title: "Stemmer under isen"\n'
        '    directors: ["Ane Kristiansen", "Pål Eide"]\n'
        "    year: 2019\n"
        "    runtime: 93\n"
        "image:\n"
        '  src: "media/x.jpg"\n'
        '  alt: "Ice\\nand snow"\n'
        'source_url: "https://f.example/a/"\n'
        'guid: "tag:x,2020:1"\n'
        "---\n"
        "Body.\n"
    )


@pytest.mark.parametrize("lang", ["no", "nb", "en-GB"])
def test_write_review_round_trips_through_read_review(tmp_path: Path, lang: str) -> None:
    path = tmp_path / "content" / "reviews" / "round-trip.md"
    write_review(path, {**FRONT, "lang": lang, "image": None}, "Body with «guillemets».\n")
    loaded = read_review(path)
    assert loaded.title == FRONT["title"]
    assert loaded.standfirst == FRONT["standfirst"]
    assert loaded.published == dt.date(2020, 2, 24)
    assert loaded.lang == lang  # "no" stays Norwegian, not false
    assert loaded.tags == ["true", "2017", "Human rights"]  # strings, not a bool and an int
    assert loaded.films[0].directors == ["Ane Kristiansen", "Pål Eide"]
    assert loaded.guid == "tag:x,2020:1"
    assert loaded.body == "Body with «guillemets»."  # the model strips whitespace
    assert "!!python" not in path.read_text(encoding="utf-8")


def test_unreadable_date_is_kept_as_written(project, tmp_path: Path) -> None:
    root = project(OFFLINE)
    source = tmp_path / "f.xml"
    source.write_text(
        feed(source, FIRST).read_text().replace("Tue, 12 Nov 2019 10:00:00 GMT", "sometime in May"),
        encoding="utf-8",
    )
    report = run(root, source)
    assert review(root, "night-ferry").front["published"] == "sometime in May"
    assert "date 'sometime in May' could not be read: kept as written" in messages(report)
