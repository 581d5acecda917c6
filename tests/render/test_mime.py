"""newsletter.eml: a MIME message an SMTP server can send as is (checked with the email parser)."""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest

from magbuilder.build import build_issue

from ..conftest import manifest_text, review_text

pytestmark = pytest.mark.slow  # builds issues


@pytest.fixture(scope="module")
def message(sample_build):
    raw = sample_build.files["newsletter.eml"].read_bytes()
    return message_from_bytes(raw, policy=policy.default)


def test_multipart_alternative_text_first_then_html(message, sample_build):
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert parts[0].get_content().replace("\r\n", "\n") == sample_build.files[
        "newsletter.txt"
    ].read_text("utf-8")
    html = sample_build.files["newsletter.html"].read_text("utf-8")
    assert parts[1].get_content().replace("\r\n", "\n").rstrip("\n") == html.rstrip("\n")
    assert all(p.get_content_charset() == "utf-8" for p in parts)


def test_headers(message, sample_build):
    m = sample_build.issue.manifest
    assert message["Subject"] == m.newsletter.subject
    assert message["From"] == "Long Take <newsletter@longtake.example>"
    assert message["Reply-To"] == "editors@longtake.example"
    assert message["Date"] == "Tue, 01 Dec 2026 08:00:00 +0000"
    assert message["Message-ID"].startswith("<2026-12.") and message["Message-ID"].endswith(
        "@longtake.example>"
    )
    assert message["List-Id"] == "Long Take newsletter <newsletter.longtake.example>"
    assert message["List-Unsubscribe"] == (
        "<https://longtake.example/unsubscribe>, "
        "<mailto:unsubscribe@longtake.example?subject=unsubscribe>"
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["MIME-Version"] == "1.0"


def test_lines_end_in_crlf_and_stay_short(sample_build):
    raw = sample_build.files["newsletter.eml"].read_bytes()
    lines = raw.split(b"\r\n")
    assert b"\n" not in b"".join(lines)  # no bare LF
    assert max(len(line) for line in lines) <= 998  # RFC 5322


def test_message_id_is_stable_across_builds(tmp_project, tmp_path):
    project = tmp_project(
        {"content/reviews/a.md": review_text(), "issues/t-1.yaml": manifest_text(["a"])}
    )
    first = build_issue(project / "issues/t-1.yaml", tmp_path / "one")
    second = build_issue(project / "issues/t-1.yaml", tmp_path / "two")
    assert first.files["newsletter.eml"].read_bytes() == second.files["newsletter.eml"].read_bytes()


def test_non_ascii_subject_is_encoded_and_round_trips(tmp_project, tmp_path):
    newsletter = '\n  subject: "Ñandú — «Café» 映画"\n  preheader: "P"'
    project = tmp_project(
        {
            "content/reviews/a.md": review_text(),
            "issues/t-1.yaml": manifest_text(["a"], newsletter=newsletter),
        }
    )
    raw = build_issue(project / "issues/t-1.yaml", tmp_path).files["newsletter.eml"].read_bytes()
    header = raw.split(b"\r\n\r\n")[0]
    assert b"Subject: =?utf-8?" in header  # RFC 2047 encoded, plain ASCII on the wire
    header.decode("ascii")
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed["Subject"] == "Ñandú — «Café» 映画"


def test_long_unsubscribe_url_is_folded_between_entries_never_encoded(sample_build):
    from magbuilder.render.mime import compose

    url = "https://longtake.example/unsubscribe?token=" + "A" * 60
    msg = compose(sample_build.issue, "<p>x</p>", "x", to="a@b.example", unsubscribe_url=url)
    raw = msg.split(b"\r\n\r\n")[0].decode("ascii")
    assert f"List-Unsubscribe: <{url}>,\r\n <mailto:unsubscribe@longtake.example" in raw
    assert "=?utf-8?" not in raw
