"""ingest.yaml: validated with positions, and its rules extend (or replace) the defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from magbuilder.errors import InputError
from magbuilder.ingest.config import load_settings

from .conftest import FEEDS, review, run

NAG = """\
<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>https://t.example/</link>
<item><title>Nags</title><guid>n1</guid><author>a@t.example (Ann)</author>
<pubDate>Tue, 12 Nov 2019 10:00:00 GMT</pubDate>
<description><![CDATA[<p>The review.</p><p>Kinoavisen anbefaler: se den på kino!</p>
<p>Dear reader, please support us with a subscription.</p><p>Instruktion: Hélène Dubois</p>
<div class="house-promo">Buy the print edition</div>]]></description></item></channel></rss>
"""


def test_defaults_without_a_file(tmp_path: Path) -> None:
    settings, rules = load_settings(tmp_path)
    assert settings.fetch.timeout == 20 and settings.images.allow_private is False
    assert any("dear reader" in p for p in rules.remove_paragraphs)


def test_errors_name_the_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "ingest.yaml").write_text(
        "ingest:\n"
        "  fetch:\n"
        "    timout: 5\n"
        "  rules:\n"
        "    remove_paragraphs:\n"
        "      - 'fine'\n"
        "      - '(unclosed'\n"
        "    remove_elements: ['div > p']\n"
        "  max_item_bytes: lots\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as caught:
        load_settings(tmp_path, "ingest.yaml")
    assert caught.value.report().splitlines() == [
        "ingest.yaml:3: unknown key 'ingest.fetch.timout' (did you mean 'timeout'?): remove or"
        " rename it",
        "ingest.yaml:9: ingest.max_item_bytes: Input should be a valid integer, unable to parse"
        " string as an integer, got 'lots'",
        "ingest.yaml:8: ingest.rules.remove_elements[0]: Value error, unsupported selector: use"
        " tag, .class, #id, [attr], [attr=v], [attr*=v] or [attr^=v], combined without spaces,"
        " got 'div > p'",
        "ingest.yaml:7: ingest.rules.remove_paragraphs[1]: Value error, invalid regular"
        " expression (missing ), unterminated subpattern at position 0): fix or quote it,"
        " got '(unclosed'",
    ]


def test_project_rules_are_added_to_the_defaults(project) -> None:
    root = project(
        """\
        ingest:
          rules:
            remove_paragraphs: ['^kinoavisen anbefaler']
            remove_elements: [.house-promo]
            labels:
              directors: [Instruktion]
        """
    )
    (root / "nags.xml").write_text(NAG, encoding="utf-8")
    run(root, root / "nags.xml")
    written = review(root, "nags")
    assert written.body == "The review.\n"
    assert written.front["films"][0]["directors"] == ["Hélène Dubois"]


def test_defaults_can_be_switched_off(project) -> None:
    root = project("ingest:\n  use_default_rules: false\n")
    (root / "nags.xml").write_text(NAG, encoding="utf-8")
    run(root, root / "nags.xml")
    body = review(root, "nags").body
    assert "Dear reader" in body and "Kinoavisen anbefaler" in body


def test_invalid_config_stops_ingest_before_anything_is_written(project) -> None:
    root = project("ingest:\n  images: [1, 2]\n")
    with pytest.raises(InputError):
        run(root, FEEDS / "wordpress.xml")
    assert list((root / "content" / "reviews").iterdir()) == []


CUT = """\
<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>https://t.example/</link>
<item><title>Cut</title><guid>c1</guid><author>a@t.example (Ann)</author>
<pubDate>Tue, 12 Nov 2019 10:00:00 GMT</pubDate>
<description><![CDATA[<p>The review begins well.</p><p>And then it stops (paid content)</p>]]>
</description></item></channel></rss>
"""


def test_a_site_s_own_cut_off_marker_flags_the_review(project) -> None:
    root = project(
        """\
        ingest:
          rules:
            cut_off_markers: ['\\(paid content\\)$']
        """
    )
    (root / "cut.xml").write_text(CUT, encoding="utf-8")
    report = run(root, root / "cut.xml")
    assert review(root, "cut").front["truncated"] is True
    assert report.summary().endswith(", truncated 1")
