"""Review files: YAML front matter then Markdown, validated with line numbers."""

from __future__ import annotations

import datetime as dt

import pytest

from magbuilder.errors import InputError
from magbuilder.store import read_review, review_slugs

from .conftest import review_text


def write(tmp_path, text: str, name: str = "a-film.md"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def errors(path, **kw) -> list[str]:
    with pytest.raises(InputError) as info:
        read_review(path, path.name, **kw)
    return [str(f) for f in info.value.findings]


def test_reads_front_matter_and_body(tmp_path):
    films = '\n  - title: "X"\n    directors: ["A B", "C D"]\n    year: 2025\n    runtime: 90'
    review = read_review(write(tmp_path, review_text("Café Noir", films=films, lang="nb")))
    assert review.slug == "a-film"
    assert review.title == "Café Noir"
    assert review.published == dt.date(2026, 11, 1)
    assert review.films[0].directors == ["A B", "C D"]
    assert review.lang == "nb"
    assert review.body.startswith("Word0 Word1")
    assert review.body_line == 13


def test_missing_title_is_reported(tmp_path):
    [error] = errors(write(tmp_path, review_text(title=None)))
    assert error == "a-film.md:2: missing required key 'title': add it"


def test_bad_nested_value_points_at_its_line(tmp_path):
    films = '\n  - title: "X"\n    year: "soon"'
    text = review_text(films=films)
    [error] = errors(write(tmp_path, text))
    line = text.splitlines().index('    year: "soon"') + 1
    assert error.startswith(f"a-film.md:{line}: films[0].year: ")


def test_unknown_front_matter_key(tmp_path):
    text = review_text(auther='"X"')
    [error] = errors(write(tmp_path, text))
    line = text.splitlines().index('auther: "X"') + 1
    assert error.startswith(f"a-film.md:{line}: unknown key 'auther' (did you mean 'author'?)")


def test_file_without_front_matter(tmp_path):
    [error] = errors(write(tmp_path, "Just text\n"))
    assert error.startswith("a-film.md:1: a review file must start with '---'")


def test_unterminated_front_matter(tmp_path):
    [error] = errors(write(tmp_path, "---\ntitle: x\n"))
    assert "never closed" in error


def test_empty_body(tmp_path):
    text = review_text().split("---\n", 2)
    [error] = errors(write(tmp_path, f"---\n{text[1]}---\n\n"))
    assert "has no text after its front matter" in error


def test_missing_images_are_reported_with_lines(tmp_path):
    (tmp_path / "content" / "media").mkdir(parents=True)
    text = review_text(image="\n  src: media/none.jpg\n  alt: x")
    text += "\n![Alt](media/also-none.jpg)\n"
    path = write(tmp_path, text)
    found = errors(path, content_dir=tmp_path / "content")
    assert len(found) == 2
    assert found[0].startswith("a-film.md:7: image 'media/none.jpg' not found")
    assert found[1].startswith(f"a-film.md:{len(text.splitlines())}: image 'media/also-none.jpg'")


def test_not_utf8(tmp_path):
    path = tmp_path / "a.md"
    path.write_bytes(review_text("Caf\u00e9").encode("latin-1"))
    [error] = errors(path)
    assert "not UTF-8" in error


def test_slugs_exclude_incoming_drafts(tmp_path):
    write(tmp_path, review_text(), "one.md")
    write(tmp_path, review_text(), "one.incoming.md")
    assert review_slugs(tmp_path) == ["one"]


def test_a_review_symlinked_out_of_content_is_refused_unread(tmp_path):
    # The manifest line that selects it reports it (test_manifest.py); read_review only refuses.
    content = tmp_path / "project" / "content"
    (content / "reviews").mkdir(parents=True)
    elsewhere = write(tmp_path, "not even front matter\n", "elsewhere.md")
    link = content / "reviews" / "a-film.md"
    link.symlink_to(elsewhere)
    with pytest.raises(InputError) as info:
        read_review(link, "content/reviews/a-film.md", content_dir=content)
    assert info.value.findings == []
    assert str(info.value).startswith(
        f"content/reviews/a-film.md is a symlink to a file outside content/ ({elsewhere})"
    )
    # A link that stays inside content/ is an ordinary review.
    (content / "drafts").mkdir()
    inside = write(content / "drafts", review_text(), "draft.md")
    link.unlink()
    link.symlink_to(inside)
    assert read_review(link, content_dir=content).slug == "a-film"
