"""Feeds from files: WordPress RSS, Atom with xml:base, JSON Feed, a bozo feed, a Latin-1 feed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from magbuilder.errors import InputError
from magbuilder.markdown import render_markdown
from magbuilder.store import read_review

from .conftest import FEEDS, OFFLINE, messages, review, run


@pytest.fixture
def wordpress(project) -> tuple[Path, object]:
    root = project(OFFLINE)
    return root, run(root, FEEDS / "wordpress.xml")


def test_wordpress_summary_counts_every_item(wordpress) -> None:
    _, report = wordpress
    assert report.summary() == "new 2, updated 0, unchanged 0, skipped 3"


def test_wordpress_front_matter_maps_the_item(wordpress) -> None:
    root, _ = wordpress
    front = review(root, "the-hearing-at-kvalvika").front
    assert front["title"] == "The Hearing at Kvalvika"
    assert front["author"] == "Marit Lunde"  # dc:creator
    # 00:30 +0100 on the 5th is the 4th in UTC: the review keeps its own calendar day.
    assert front["published"] == dt.date(2018, 3, 5)
    assert front["lang"] == "en-US"
    assert front["tags"] == ["Documentary", "Justice"]  # "Uncategorized" dropped
    assert front["source_url"] == "https://longtake.example/2018/03/the-hearing-at-kvalvika/"
    assert front["guid"] == "https://longtake.example/?p=1841"


def test_wordpress_description_becomes_standfirst_and_kicker(wordpress) -> None:
    root, _ = wordpress
    front = review(root, "the-hearing-at-kvalvika").front
    assert front["kicker"] == "JUSTICE"
    assert front["standfirst"].startswith("A fishing village takes a copper mine to court")
    assert "forty-one days of hearings – patiently" in front["standfirst"]


def test_wordpress_labelled_lines_become_film_facts_and_leave_the_body(wordpress) -> None:
    root, _ = wordpress
    written = review(root, "the-hearing-at-kvalvika")
    assert written.front["films"] == [
        {
            "title": "The Hearing at Kvalvika",
            "directors": ["Sunniva Aas", "Jonas Brekke"],
            "countries": ["Norway", "Denmark", "France"],
            "year": 2017,
            "runtime": 71,
        }
    ]
    assert "Director" not in written.body and "Runtime" not in written.body
    assert written.front["author_bio"].startswith("Marit Lunde is a regular contributor")
    assert "regular contributor" not in written.body


def test_wordpress_body_keeps_structure(wordpress) -> None:
    root, _ = wordpress
    body = review(root, "the-hearing-at-kvalvika").body
    assert "\n## A room full of maps\n" in body
    assert "\n## The verdict\n" in body  # a short bold paragraph is a sub-head
    assert (
        "::: pullquote\nThe fjord does not testify, but everyone in the room is speaking for it."
        "\n:::" in body
    )
    assert "Marit Lunde\n:::" not in body  # the pull quote's <cite> is not part of the quote
    assert "*The Hearing at Kvalvika* is the record" in body
    assert "[deposit](https://longtake.example/tag/deposit/)" in body
    assert "- remember that a *map* is an argument;" in body
    assert "Eldbjørg Nilsen" in body and "a word – [deposit]" in body


def test_wordpress_hostile_html_and_boilerplate_are_gone(wordpress) -> None:
    root, _ = wordpress
    body = review(root, "the-hearing-at-kvalvika").body
    for gone in (
        "script", "document", "style", "onclick", "javascript", "alert", "pixel",
        "Dear reader", "subscription", "Share this", "Facebook", "Sign up", "newsletter",
        "appeared first on", "http://\n", "data:",
    ):  # fmt: skip
        assert gone not in body, gone
    assert "the film trusts us to keep up" in body  # the javascript: link's text stays


def test_wordpress_embed_becomes_a_plain_link_and_dead_embed_vanishes(wordpress) -> None:
    root, report = wordpress
    body = review(root, "the-hearing-at-kvalvika").body
    assert "\n<https://www.youtube.com/watch?v=kV4lv1kaTr8>\n" in body
    assert body.count("youtube") == 1
    assert "removed 1 embed(s) with no source" in messages(report)


def test_wordpress_rendered_body_is_clean_html(wordpress) -> None:
    root, _ = wordpress
    html = render_markdown(review(root, "the-hearing-at-kvalvika").body)
    assert '<aside class="pullquote">' in html
    assert '<a href="https://www.youtube.com/watch?v=kV4lv1kaTr8">' in html
    assert "<h2>A room full of maps</h2>" in html


def test_auto_excerpt_is_not_a_standfirst_and_credit_line_is_read(wordpress) -> None:
    root, _ = wordpress
    written = review(root, "static-over-gdansk")
    assert "standfirst" not in written.front  # the description only repeats the body's start
    assert written.front["films"][0] == {
        "title": "Static over Gdańsk",
        "directors": ["Katarzyna Wolak"],
        "countries": ["Poland"],
        "year": 2017,
        "runtime": 88,
    }
    assert "Directed by" not in written.body
    assert "\n## Eleven minutes\n" in written.body
    # A «…» paragraph standing alone is a pull quote; guillemets are kept exactly.
    assert (
        "::: pullquote\n«He read the shipping forecast for a sea nobody was allowed to sail.»\n:::"
        in written.body
    )
    assert "«He read the shipping forecast for a sea nobody was allowed to sail,» says" in (
        written.body
    )


def test_skipped_items_are_reported_with_their_reasons(wordpress) -> None:
    root, report = wordpress
    text = messages(report)
    assert "wordpress.xml:69: item 2 'The Last Orchard on the Terraces': skipped: truncated" in text
    assert "item 4 'The Hearing at Kvalvika (repost)': skipped: duplicate guid" in text
    assert "wordpress.xml:111: item 5: skipped: empty item" in text
    assert not (root / "content" / "reviews" / "the-last-orchard-on-the-terraces.md").exists()


def test_written_files_load_back_with_the_store(wordpress) -> None:
    root, _ = wordpress
    for slug in ("the-hearing-at-kvalvika", "static-over-gdansk"):
        loaded = read_review(root / "content" / "reviews" / f"{slug}.md")
        assert loaded.slug == slug
        assert loaded.author and loaded.published and loaded.body.strip()


def test_images_are_left_out_when_downloads_are_off(wordpress) -> None:
    root, report = wordpress
    written = review(root, "the-hearing-at-kvalvika")
    assert "image" not in written.front
    assert "![" not in written.body and "media.longtake.example" not in written.body
    assert "images.download is false" in messages(report)


def test_atom_resolves_relative_links_against_xml_base(project) -> None:
    root = project(OFFLINE)
    report = run(root, FEEDS / "atom.xml")
    assert report.summary() == "new 2, updated 0, unchanged 0, skipped 0"
    isen = review(root, "stemmer-under-isen")
    assert isen.front["source_url"] == (
        "https://filmkritikk.example/anmeldelser/2020/stemmer-under-isen/"
    )
    assert "[lytter](https://filmkritikk.example/ordliste/#kalving)" in isen.body
    # The body image, relative to the entry's xml:base, is resolved before it is fetched.
    assert "https://filmkritikk.example/anmeldelser/2020/bilder/isen-brakke.jpg" in (
        messages(report)
    )
    radio = review(root, "lighthouse-radio")
    assert radio.front["source_url"] == "https://filmkritikk.example/reviews/lighthouse-radio/"
    assert "[archive footage](https://filmkritikk.example/archive/)" in radio.body


def test_atom_norwegian_review(project) -> None:
    root = project(OFFLINE)
    run(root, FEEDS / "atom.xml")
    front = review(root, "stemmer-under-isen").front
    assert front["published"] == dt.date(2020, 2, 24)  # "24. februar 2020", dropped by feedparser
    assert front["lang"] == "nb"
    assert front["kicker"] == "KLIMA"  # from the marked lead paragraph (class="ingress")
    assert front["standfirst"].startswith("Et lite forskerlag overvintrer")
    assert front["author"] == "Bjørn Sætre"
    assert front["author_bio"].startswith("Bjørn Sætre er fast skribent")
    assert front["tags"] == ["Klima", "Arktis"]
    assert front["films"][0]["directors"] == ["Ane Kristiansen", "Pål Eide"]  # "Regissør: … og …"
    assert front["films"][0]["countries"] == ["Norge", "Sverige"]
    assert front["films"][0]["runtime"] == 93


def test_atom_entry_without_date_is_written_and_reported(project) -> None:
    root = project(OFFLINE)
    report = run(root, FEEDS / "atom.xml")
    written = review(root, "lighthouse-radio")
    assert "published" not in written.front
    assert written.front["title"] == "Lighthouse Radio"  # <em> in an HTML title is dropped
    assert written.front["standfirst"].startswith("A keeper on a Breton rock")
    assert "item 2 'Lighthouse Radio': no date: add 'published: YYYY-MM-DD'" in messages(report)
    with pytest.raises(InputError) as caught:
        read_review(root / "content" / "reviews" / "lighthouse-radio.md")
    assert "missing required key 'published'" in caught.value.report()


def test_json_feed(project) -> None:
    root = project(OFFLINE)
    report = run(root, FEEDS / "jsonfeed.json")
    assert report.summary() == "new 2, updated 0, unchanged 0, skipped 0"
    ledger = review(root, "the-beekeepers-ledger")
    assert ledger.front["title"] == "The Beekeeper’s Ledger"
    assert ledger.front["kicker"] == "WORK"
    assert ledger.front["author"] == "Ingrid Solvang"
    assert ledger.front["published"] == dt.date(2020, 2, 10)
    assert ledger.front["source_url"] == "https://longtake.example/2020/02/the-beekeepers-ledger/"
    assert ledger.front["films"][0]["runtime"] == 78  # "1 h 18 min"
    assert "Dear reader" not in ledger.body and "onclick" not in ledger.body
    salt = review(root, "salt-road")
    assert salt.front["author"] == "Tomás Arriaga"  # JSON Feed 1.0 "author"
    assert salt.front["lang"] == "en-GB"
    assert salt.body == (
        "Three drivers haul salt across the Danakil in a convoy of lorries older than they are."
        "\n\nThe film, by Dawit Haile, never explains the economics. It does not need to: the"
        " lorries explain themselves, one breakdown at a time.\n"
    )


def test_bozo_feed_is_read_as_far_as_possible(project) -> None:
    root = project(OFFLINE)
    report = run(root, FEEDS / "bozo.xml")
    text = messages(report)
    assert "bozo.xml:4: warning: malformed feed (not well-formed (invalid token))" in text
    assert "item 2 'Night Pharmacy': skipped: empty item" in text
    assert report.summary() == "new 1, updated 0, unchanged 0, skipped 1"
    ferry = review(root, "ferry-men")
    assert ferry.front["author"] == "Oona Virtanen"  # from "editors@… (Oona Virtanen)"
    assert "the Kvarken\u00a0strait" in ferry.body  # &nbsp; survives as a no-break space
    assert "everything & agree" in ferry.body


def test_latin1_feed_keeps_accents_and_entities(project) -> None:
    root = project(OFFLINE)
    run(root, FEEDS / "latin1.xml")
    written = review(root, "soren-hojbjergs-sidste-sommer")
    assert written.front["title"] == "Søren Højbjergs sidste sommer"
    assert written.front["author"] == "Agnès Lefèvre"
    assert written.front["standfirst"] == (
        "En fiskers sidste sæson på Limfjorden – og en film, der ved, hvornår den skal tie."
    )
    assert written.front["published"] == dt.date(2019, 6, 14)  # 23:45 +0200, not UTC's 21:45
    assert written.front["films"][0]["directors"] == ["Hélène Dubois"]  # "Instruktør:"
    assert "«Fjorden er ikke til at forstå,» siger Højbjerg, «kun til at kende.»" in written.body
    assert "Hélène Dubois’ film" in written.body


def test_html_file_given_as_feed_is_not_a_feed(project, tmp_path: Path) -> None:
    root = project(OFFLINE)
    page = tmp_path / "feed.xml"
    page.write_text(
        '<!DOCTYPE html><html><head><link rel="alternate" type="application/rss+xml"'
        ' href="https://site.example/feed/"></head><body><p>Hello</p></body></html>'
    )
    report = run(root, page)
    assert report.summary() == "new 0, updated 0, unchanged 0, skipped 0"
    assert len(report.errors) == 1
    error = str(report.errors[0])
    assert "not a feed: this is an HTML page" in error
    assert "https://site.example/feed/" in error


def test_empty_file_is_not_a_feed(project, tmp_path: Path) -> None:
    root = project(OFFLINE)
    empty = tmp_path / "empty.xml"
    empty.write_bytes(b"")
    report = run(root, empty)
    assert "not a feed: the body is empty" in str(report.errors[0])


def test_huge_item_is_skipped_and_the_rest_ingested(project, tmp_path: Path) -> None:
    root = project(OFFLINE)
    huge = "<p>" + "Very long. " * 250_000 + "</p>"
    feed = tmp_path / "huge.xml"
    feed.write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        "<link>https://t.example/</link>"
        "<item><title>Huge</title><guid>h1</guid><author>a@t.example (Ann)</author>"
        f"<description><![CDATA[{huge}]]></description></item>"
        "<item><title>Small</title><guid>s1</guid><author>a@t.example (Ann)</author>"
        "<pubDate>Tue, 12 Nov 2019 10:00:00 GMT</pubDate>"
        "<description>A small review.</description></item></channel></rss>",
        encoding="utf-8",
    )
    report = run(root, feed)
    assert report.summary() == "new 1, updated 0, unchanged 0, skipped 1"
    assert "item 1 'Huge': skipped: too large (2.8 MB of HTML, the limit is 2 MB)" in (
        messages(report)
    )
    assert review(root, "small").body == "A small review.\n"


def test_duplicate_guids_across_sources(project) -> None:
    root = project(OFFLINE)
    report = run(root, FEEDS / "wordpress.xml", FEEDS / "wordpress.xml")
    assert report.count("new") == 2
    assert "duplicate guid 'https://longtake.example/?p=1802'" in messages(report)


def test_rss_1_0_feed(project, tmp_path: Path) -> None:
    root = project(OFFLINE)
    rdf = tmp_path / "rdf.xml"
    rdf.write_text(
        '<?xml version="1.0" encoding="utf-8"?>'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
        ' xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        '<channel rdf:about="https://old.example/"><title>Old</title>'
        "<link>https://old.example/</link><description>d</description></channel>"
        '<item rdf:about="https://old.example/tide-tables/"><title>Tide Tables</title>'
        "<link>https://old.example/tide-tables/</link><dc:creator>Ann Author</dc:creator>"
        "<dc:date>2009-04-01T09:00:00+02:00</dc:date>"
        "<description>&lt;p&gt;A film about the people who print tide tables.&lt;/p&gt;"
        "</description></item></rdf:RDF>",
        encoding="utf-8",
    )
    report = run(root, rdf)
    assert report.summary() == "new 1, updated 0, unchanged 0, skipped 0"
    written = review(root, "tide-tables")
    assert written.front["author"] == "Ann Author"
    assert written.front["published"] == dt.date(2009, 4, 1)
    assert written.front["source_url"] == "https://old.example/tide-tables/"
    assert written.body == "A film about the people who print tide tables.\n"


# ---- a paywalled WordPress feed: the same review as the saved page, cut off -------------------

NORTHERN = FEEDS / "northern-frame.xml"
FERRY_BIO = (
    "Tove Aamodt writes about television, memory and the cinema of the far north, and teaches"
    " film history in Tromsø."
)


@pytest.fixture
def northern(project) -> tuple[Path, object]:
    root = project(OFFLINE)
    return root, run(root, NORTHERN)


def test_a_body_cut_off_by_a_paywall_is_flagged_and_counted(northern) -> None:
    root, report = northern
    assert report.summary() == "new 2, updated 0, unchanged 0, skipped 0, truncated 1"
    written = review(root, "the-ferry-does-not-wait")
    assert written.front["truncated"] is True
    assert written.body.rstrip().endswith("and we watch forty faces…")
    assert (
        f"{NORTHERN}:21: warning: item 1 'The Ferry Does Not Wait': the text ends mid-sentence"
        " ('…we watch forty faces…')"
    ) in messages(report)
    # An ellipsis closing a quotation is how that review ends, not where a paywall cut it.
    assert "truncated" not in review(root, "ice-road-psalms").front


def test_feed_bio_and_profile_line_leave_the_body(northern) -> None:
    root, _ = northern
    written = review(root, "the-ferry-does-not-wait")
    assert written.front["author_bio"] == FERRY_BIO
    assert written.body.startswith("For forty years the ferry to Innøya has left the quay")
    for gone in ("Tove Aamodt", "View profile", "members", "Log in", "appeared first on"):
        assert gone not in written.body, gone
