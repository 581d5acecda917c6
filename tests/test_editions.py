"""Language editions: translations beside their sources, stale ones caught with what changed,
``magbuilder translated`` recording the version, and each edition an issue of its own."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from magbuilder.checks import check_issue
from magbuilder.cli import main
from magbuilder.errors import InputError, Level
from magbuilder.manifest import load_issue

from .conftest import REPO, manifest_text, review_text

BODY = (
    "The first paragraph says what the film is.\n\n"
    "The second paragraph argues with it at some length.\n\n"
    "## A sub-head\n\n"
    "The third paragraph concludes.\n"
)
SOURCE = review_text("A Film", kicker='"HEALTH"').split("---\n", 2)
SOURCE_TEXT = f"---\n{SOURCE[1]}---\n\n{BODY}"
TRANSLATION = """\
---
title: "En film"
kicker: "HELSE"
standfirst: "En kort ingress."
translator: "Siri Haugland"
lang: nb
---

Første avsnitt sier hva filmen er.

Andre avsnitt krangler med den en god stund.

## En mellomtittel

Tredje avsnitt runder av.
"""


def edition(missing: str = "fail", sections: str = '["Seksjon A"]') -> str:
    return (
        "\n  nb:"
        '\n    title: "Testnummer"'
        '\n    cover: {headline: "Overskrift", lines: ["En"]}'
        '\n    editorial: {title: "Redaktørens brev", author: "Red", text: "Hei, lesere."}'
        f"\n    sections: {sections}"
        '\n    newsletter: {subject: "Emne", preheader: "Forhåndsvisning"}'
        f"\n    missing: {missing}"
    )


@pytest.fixture
def project(tmp_project, monkeypatch):
    root = tmp_project(
        {
            "content/reviews/a.md": SOURCE_TEXT,
            "content/reviews/a.nb.md": TRANSLATION,
            "issues/t-1.yaml": manifest_text(["a"], editions=edition()),
        }
    )
    monkeypatch.chdir(root)
    return root


def translated(root: Path, *args: str) -> int:
    return main(["translated", *args, "--project", str(root)])


def test_translated_records_the_version_and_the_edition_loads(project, capsys):
    assert translated(project, "a", "nb") == 0
    assert "content/reviews/a.nb.md: translates the source as it is now" in capsys.readouterr().out
    assert check_issue(project / "issues/t-1.yaml") == []
    issue = load_issue(project / "issues/t-1.yaml")
    nb = issue.editions["nb"]
    assert (nb.manifest.lang, nb.manifest.title, nb.manifest.editions) == ("nb", "Testnummer", {})
    assert nb.manifest.cover.headline == "Overskrift"
    assert nb.manifest.cover.image == issue.manifest.cover.image  # the picture is the issue's
    assert [s.title for s in nb.sections] == ["Seksjon A"]
    [review] = nb.reviews
    assert (review.title, review.kicker, review.lang, review.translator) == (
        "En film", "HELSE", "nb", "Siri Haugland"
    )  # fmt: skip
    assert (review.author, review.published) == (
        issue.reviews[0].author,
        issue.reviews[0].published,
    )
    assert review.body.startswith("Første avsnitt")
    assert not review.untranslated
    assert issue.reviews[0].title == "A Film"  # the issue itself is untouched


def test_editing_one_paragraph_makes_the_translation_stale_with_that_paragraph(project):
    assert translated(project, "a", "nb") == 0
    source = project / "content/reviews/a.md"
    source.write_text(source.read_text().replace("argues with it", "quarrels with it"), "utf-8")
    findings = check_issue(project / "issues/t-1.yaml")
    lines = source.read_text().splitlines()
    changed = 1 + next(i for i, line in enumerate(lines) if "quarrels" in line)
    digest_line = 1 + next(
        i
        for i, line in enumerate((project / "content/reviews/a.nb.md").read_text().splitlines())
        if line.startswith("source_digest:")
    )
    assert [(str(f.path), f.line, f.level) for f in findings] == [
        ("content/reviews/a.nb.md", digest_line, Level.ERROR),
        ("content/reviews/a.md", changed, Level.ERROR),
        ("content/reviews/a.md", changed, Level.ERROR),
    ]
    assert "was made from an earlier version of content/reviews/a.md" in findings[0].message
    assert "magbuilder translated a nb" in findings[0].message
    assert findings[1].message == (
        "changed since: - The second paragraph argues with it at some length."
    )
    assert findings[2].message == (
        "changed since: + The second paragraph quarrels with it at some length."
    )
    with pytest.raises(InputError):  # the build refuses it too (missing: fail)
        load_issue(project / "issues/t-1.yaml")

    assert translated(project, "a", "nb") == 0  # the translator brought it up to date
    assert check_issue(project / "issues/t-1.yaml") == []


def test_a_changed_title_is_named_at_its_front_matter_line(project):
    assert translated(project, "a", "nb") == 0
    source = project / "content/reviews/a.md"
    source.write_text(source.read_text().replace('title: "A Film"', 'title: "A Better Film"'))
    findings = check_issue(project / "issues/t-1.yaml")
    assert [(f.line, f.message) for f in findings[1:]] == [
        (2, "changed since: title: - A Film"),
        (2, "changed since: title: + A Better Film"),
    ]


def test_a_translation_never_recorded_is_stale_without_a_diff(project):
    [finding] = check_issue(project / "issues/t-1.yaml")
    assert (str(finding.path), finding.line) == ("content/reviews/a.nb.md", 7)  # its closing ---
    assert "records no source version" in finding.message


def test_a_missing_translation_fails_or_falls_back_by_the_policy(project):
    (project / "content/reviews/a.nb.md").unlink()
    manifest = project / "issues/t-1.yaml"
    [finding] = check_issue(manifest)
    slug_line = 1 + manifest.read_text().splitlines().index("      - a")
    assert (str(finding.path), finding.line, finding.level) == (
        "issues/t-1.yaml", slug_line, Level.ERROR
    )  # fmt: skip
    assert finding.message == (
        "edition nb: 'a' has no translation: write content/reviews/a.nb.md (see "
        "docs/editions.md), or set editions.nb.missing: fallback"
    )

    manifest.write_text(manifest.read_text().replace("missing: fail", "missing: fallback"))
    [finding] = check_issue(manifest)
    assert finding.level is Level.WARNING
    assert finding.message.endswith("shown in its original language, with a note")
    [review] = load_issue(manifest).editions["nb"].reviews
    assert review.untranslated and review.lang == "en" and review.title == "A Film"


@pytest.mark.parametrize(
    ("editions", "problem"),
    [
        (edition(sections='["En", "To"]'), "nb.sections has 2 titles for 1 sections"),
        (edition().replace("\n  nb:", "\n  en:"), "'en' is the issue's own language"),
    ],
)
def test_an_edition_that_does_not_fit_the_issue_is_an_error_at_editions(
    tmp_project, editions, problem
):
    root = tmp_project(
        {
            "content/reviews/a.md": SOURCE_TEXT,
            "issues/t-1.yaml": manifest_text(["a"], editions=editions),
        }
    )
    [finding] = check_issue(root / "issues/t-1.yaml")
    editions_line = 1 + (root / "issues/t-1.yaml").read_text().splitlines().index("editions: ")
    assert finding.line == editions_line
    assert problem in finding.message


@pytest.mark.parametrize(
    ("change", "where", "problem"),
    [
        (("lang: nb", "lang: nn"), "lang", "lang is 'nn' but the file name says 'nb'"),
        (('kicker: "HELSE"', 'kickr: "HELSE"'), "kickr", "unknown key 'kickr'"),
        (('translator: "Siri Haugland"', ""), None, "missing required key 'translator'"),
    ],
)
def test_a_broken_translation_is_an_error_at_its_line(project, change, where, problem):
    path = project / "content/reviews/a.nb.md"
    path.write_text(path.read_text().replace(*change))
    findings = check_issue(project / "issues/t-1.yaml")
    [finding] = [f for f in findings if str(f.path) == "content/reviews/a.nb.md"]
    assert problem in finding.message
    if where:
        assert finding.line == 1 + path.read_text().splitlines().index(
            next(line for line in path.read_text().splitlines() if line.startswith(where))
        )


def test_translated_refuses_what_it_cannot_record(project, capsys):
    assert translated(project, "nope", "nb") == 1
    assert "no review 'nope'" in capsys.readouterr().err
    assert translated(project, "a", "fr") == 1
    assert "content/reviews/a.fr.md does not exist" in capsys.readouterr().err
    path = project / "content/reviews/a.nb.md"
    path.write_text(path.read_text().replace("lang: nb", "lang: nn"))
    before = path.read_bytes()
    assert translated(project, "a", "nb") == 1  # a broken translation is not recorded as done
    assert path.read_bytes() == before
    assert not [p for p in os.listdir(path.parent) if p.endswith(".tmp")]


# -- the November sample's Norwegian edition, as built ------------------------------------------


@pytest.mark.slow
def test_the_norwegian_edition_is_norwegian_throughout(november_build):
    import re
    from email import message_from_bytes, policy

    import pikepdf
    import pypdfium2
    import pyphen
    import yaml

    nb = november_build.editions["nb"]
    assert nb.out_dir == november_build.out_dir / "nb"
    strings = yaml.safe_load((REPO / "layouts/default/strings.yaml").read_text())["nb"]
    for name in ("magazine.pdf", "magazine-screen.pdf"):
        with pikepdf.open(nb.files[name]) as pdf:
            assert str(pdf.Root.Lang) == "nb"
    issue = nb.issue
    # The text as drawn, line by line (pdfium: fast; the words' places do not matter here).
    document = pypdfium2.PdfDocument(nb.files["magazine-screen.pdf"])
    lines = "\n".join(page.get_textpage().get_text_range() for page in document)
    lines = lines.replace("\r\n", "\n")
    # Compared without spaces: pdfium splits letter-spaced capitals ("O V E R S A T T").
    text = "".join(lines.split()).lower()

    def shown(words: str) -> bool:
        return "".join(words.split()).lower() in text

    assert shown(issue.manifest.cover.headline)  # "De som blir: seks filmer om å holde vakt"
    assert shown(strings["contents"]) and shown(f"{strings['translated_by']} Siri Haugland")
    assert shown("Illustrasjon: Long Take") and not shown("Illustration:")
    for review in issue.reviews:
        assert review.translator == "Siri Haugland" and review.lang == "nb"
    # Hyphenated by the Norwegian dictionary: a word broken at a line end is a word of the
    # translations (not of the English sources).
    translated = " ".join(r.body for r in issue.reviews)
    broken = [
        (head, head + tail) for head, tail in re.findall(r"(\w{3,})[-\u2010]\n([a-zæøå]\w*)", lines)
    ]
    norwegian = [w for _, w in broken if re.search(rf"\b{re.escape(w)}\b", translated)]
    assert len(norwegian) >= 3, broken
    # … at a point the Norwegian patterns allow (English ones break these words elsewhere).
    dictionary = pyphen.Pyphen(lang="nb")
    assert all(len(head) in dictionary.positions(word) for head, word in broken), broken
    html = nb.files["newsletter.html"].read_text("utf-8")
    assert '<html lang="nb"' in html
    for key in ("dear", "download_pdf", "read_review"):
        assert strings[key] in html
    assert issue.manifest.site.tagline == "Dokumentar og film, grundig anmeldt"
    assert (
        issue.manifest.site.tagline in html
        and november_build.issue.manifest.site.tagline not in html
    )
    eml = message_from_bytes(nb.files["newsletter.eml"].read_bytes(), policy=policy.default)
    assert eml["Subject"] == issue.manifest.newsletter.subject == "Long Take nr. 47: De som blir"
