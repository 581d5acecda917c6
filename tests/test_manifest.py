"""The issue manifest: validated once, every problem reported as path:line: message."""

from __future__ import annotations

import pytest

from magbuilder.errors import InputError
from magbuilder.manifest import load_issue

from .conftest import manifest_text, review_text


def errors_of(project, name: str = "issues/t-1.yaml") -> list[str]:
    with pytest.raises(InputError) as info:
        load_issue(project / name)
    return [str(f) for f in info.value.findings]


def test_valid_manifest_loads_reviews_in_order(tmp_project):
    project = tmp_project(
        {
            "content/reviews/beta.md": review_text("Beta"),
            "content/reviews/alpha.md": review_text("Alpha", lang="fr"),
            "issues/t-1.yaml": manifest_text(["beta", "alpha"]),
        }
    )
    issue = load_issue(project / "issues/t-1.yaml")
    assert [r.title for r in issue.reviews] == ["Beta", "Alpha"]
    # The manifest's language is the default; a review's own lang wins.
    assert [r.lang for r in issue.reviews] == ["en", "fr"]
    assert issue.manifest.site.base_url == "https://mag.example/reviews"


def test_unknown_slug_suggests_the_closest_review(tmp_project):
    project = tmp_project(
        {
            "content/reviews/aleppo-fall.md": review_text(),
            "issues/t-1.yaml": manifest_text(["alepo-fall"]),
        }
    )
    [error] = errors_of(project)
    line = manifest_text(["alepo-fall"]).splitlines().index("      - alepo-fall") + 1
    assert error.startswith(f"issues/t-1.yaml:{line}: sections[0].reviews[0]: unknown review")
    assert "did you mean 'aleppo-fall'?" in error


def test_missing_required_key_is_reported_on_its_parent(tmp_project):
    project = tmp_project(
        {
            "content/reviews/a.md": review_text(),
            "issues/t-1.yaml": manifest_text(["a"], newsletter='\n  subject: "S"'),
        }
    )
    [error] = errors_of(project)
    lines = manifest_text(["a"], newsletter='\n  subject: "S"').splitlines()
    line = next(i for i, text in enumerate(lines) if text.startswith("newsletter:"))
    assert error == (
        f"issues/t-1.yaml:{line + 1}: missing required key 'newsletter.preheader': add it"
    )


def test_wrong_type_names_the_key_and_value(tmp_project):
    project = tmp_project(
        {
            "content/reviews/a.md": review_text(),
            "issues/t-1.yaml": manifest_text(["a"], number='"forty"'),
        }
    )
    [error] = errors_of(project)
    assert error.startswith("issues/t-1.yaml:2: number: ")
    assert "'forty'" in error


def test_unknown_key_is_an_error_with_a_suggestion(tmp_project):
    project = tmp_project(
        {
            "content/reviews/a.md": review_text(),
            "issues/t-1.yaml": manifest_text(["a"], titel='"Oops"'),
        }
    )
    [error] = errors_of(project)
    line = manifest_text(["a"], titel='"Oops"').splitlines().index('titel: "Oops"') + 1
    assert error.startswith(f"issues/t-1.yaml:{line}: unknown key 'titel' (did you mean 'title'?)")


@pytest.mark.parametrize(
    ("typo", "line"),
    [
        # A missing colon: PyYAML notices on the next line; we point at the key.
        (('title: "Test Issue"', 'title "Test Issue"'), 3),
        # An unclosed quote: PyYAML notices at the end of the file; we point where it opens.
        (('preheader: "Preheader"', 'preheader: "Preheader'), None),
    ],
)
def test_yaml_syntax_error_reports_its_line(tmp_project, typo, line):
    broken = manifest_text(["a"]).replace(*typo)
    line = line or broken.splitlines().index(f"  {typo[1]}") + 1
    project = tmp_project({"content/reviews/a.md": review_text(), "issues/t-1.yaml": broken})
    [error] = errors_of(project)
    assert error.startswith(f"issues/t-1.yaml:{line}: YAML syntax error: ")


def test_an_invalid_manifest_does_not_hide_the_other_problems(tmp_project):
    # README: "all problems at once". The manifest's own mistake (lang) must not hold back what
    # is wrong with its cover and the reviews its sections name, each at its own path:line.
    selection = ["a", "zzz", "a", "b"]
    invalid = manifest_text(selection, lang='"not a lang!"')
    project = tmp_project(
        {
            "content/reviews/a.md": review_text(published="yesterday"),
            "content/reviews/b.md": review_text(),
            "issues/t-1.yaml": invalid,
        },
        images=(),  # no cover image
    )
    lines = invalid.splitlines()
    lang = lines.index('lang: "not a lang!"') + 1
    image = lines.index("  image: media/cover.jpg") + 1
    first_a, zzz, second_a = [
        n for n, text in enumerate(lines, 1) if text in ("      - a", "      - zzz")
    ]
    published = review_text(published="yesterday").splitlines().index("published: yesterday") + 1
    rest = [
        f"issues/t-1.yaml:{image}: image 'media/cover.jpg' not found: "
        "put the file at content/media/cover.jpg",
        f"content/reviews/a.md:{published}: published: is not a date: write it as YYYY-MM-DD, "
        "got 'yesterday'",
        f"issues/t-1.yaml:{zzz}: sections[0].reviews[1]: unknown review 'zzz': "
        "no file content/reviews/zzz.md",
        f"issues/t-1.yaml:{second_a}: review 'a' is selected twice (first on line {first_a}): "
        "remove one",
    ]
    assert sorted(errors_of(project)) == sorted(
        [
            f"issues/t-1.yaml:{lang}: lang: has an invalid format "
            "(use a BCP 47 tag such as 'en', 'nb' or 'fr-CA'), got 'not a lang!'",
            *rest,
        ]
    )
    # Fixing the manifest leaves exactly the rest: nothing was held back, nothing invented.
    (project / "issues/t-1.yaml").write_text(manifest_text(selection))
    assert sorted(errors_of(project)) == sorted(rest)


@pytest.mark.parametrize(
    "config",
    ['site:\n  name: "Unclosed\n', "sites: {}\n", 'site:\n  name: "Caf\xe9"\n'],
    ids=["yaml-syntax", "unknown-section", "not-utf8"],
)
def test_an_unusable_magbuilder_yaml_is_reported_once_and_there(tmp_project, config):
    # The site settings it should have given are not also "missing" from the manifest.
    project = tmp_project(
        {"content/reviews/a.md": review_text(), "issues/t-1.yaml": manifest_text(["a"])}
    )
    (project / "magbuilder.yaml").write_bytes(config.encode("latin-1"))
    errors = errors_of(project)
    assert [e.split(":")[0] for e in errors] == ["magbuilder.yaml"], errors


def test_review_selected_twice_is_an_error(tmp_project):
    project = tmp_project(
        {"content/reviews/a.md": review_text(), "issues/t-1.yaml": manifest_text(["a", "a"])}
    )
    [error] = errors_of(project)
    assert "review 'a' is selected twice" in error


def test_missing_cover_image_is_reported(tmp_project):
    project = tmp_project(
        {"content/reviews/a.md": review_text(), "issues/t-1.yaml": manifest_text(["a"])},
        images=(),
    )
    [error] = errors_of(project)
    assert error.startswith("issues/t-1.yaml:7: image 'media/cover.jpg' not found")


def test_cover_image_outside_content_is_refused(tmp_project):
    cover = '\n  image: ../../etc/passwd\n  headline: "H"'
    project = tmp_project(
        {
            "content/reviews/a.md": review_text(),
            "issues/t-1.yaml": manifest_text(["a"], cover=cover),
        }
    )
    [error] = errors_of(project)
    assert "must be a relative path inside content/" in error


def test_site_settings_come_from_magbuilder_yaml_and_can_be_overridden(tmp_project):
    site = '\n  base_url: "https://other.example/"'
    project = tmp_project(
        {"content/reviews/a.md": review_text(), "issues/t-1.yaml": manifest_text(["a"], site=site)}
    )
    issue = load_issue(project / "issues/t-1.yaml")
    assert issue.manifest.site.base_url == "https://other.example/"
    assert issue.manifest.site.name == "Test Magazine"


def test_bad_site_setting_is_reported_in_magbuilder_yaml(tmp_project):
    project = tmp_project(
        {
            "magbuilder.yaml": (
                'site:\n  name: "M"\n  base_url: "http://insecure.example"\n'
                '  from_email: "m@mag.example"\n'
            ),
            "content/reviews/a.md": review_text(),
            "issues/t-1.yaml": manifest_text(["a"]),
        }
    )
    [error] = errors_of(project)
    assert error.startswith("magbuilder.yaml:3: site.base_url: has an invalid format")
    assert "https://" in error


def test_norwegian_language_code_is_not_a_boolean(tmp_project):
    project = tmp_project(
        {"content/reviews/a.md": review_text(), "issues/t-1.yaml": manifest_text(["a"], lang="no")}
    )
    assert load_issue(project / "issues/t-1.yaml").manifest.lang == "no"


def test_a_review_symlinked_out_of_content_is_refused_at_the_line_that_selects_it(tmp_project):
    project = tmp_project({"issues/t-1.yaml": manifest_text(["a", "b"])})
    elsewhere = project.parent / "elsewhere.md"
    elsewhere.write_text(review_text("Not ours"), encoding="utf-8")
    (project / "content/reviews/a.md").symlink_to(elsewhere)
    (project / "content/reviews/b.md").write_text(review_text("B"), encoding="utf-8")
    line = manifest_text(["a", "b"]).splitlines().index("      - a") + 1
    assert errors_of(project) == [
        f"issues/t-1.yaml:{line}: sections[0].reviews[0]: review 'a' (content/reviews/a.md) is a "
        f"symlink to a file outside content/ ({elsewhere}): builds read nothing outside "
        "content/; copy the file into content/reviews/ instead"
    ]


@pytest.mark.parametrize(
    ("where", "yaml", "message"),
    [
        (
            "issues/t-1.yaml",
            manifest_text(["a"], newsletter='\n  subject: "Hello\\r\\nBcc: x@y"\n  preheader: "P"'),
            "newsletter.subject: contains a line break (U+000D): write it on one line, "
            "got 'Hello\\r\\nBcc: x@y'",
        ),
        (
            "issues/t-1.yaml",
            manifest_text(["a"], newsletter='\n  subject: "S"\n  preheader: "P\\tQ"'),
            "newsletter.preheader: contains a control character (U+0009): write it on one "
            "line, got 'P\\tQ'",
        ),
        (
            "magbuilder.yaml",
            'site:\n  name: "M"\n  base_url: "https://m.example"\n'
            '  from_email: "m@m.example"\n  reply_to: "r@m.example\\nBcc: x@y"\n',
            "site.reply_to: contains a line break (U+000A): write it on one line, "
            "got 'r@m.example\\nBcc: x@y'",
        ),
        (
            "magbuilder.yaml",
            'site:\n  name: "M"\n  base_url: "https://m.example"\n'
            '  from_email: "m@m.example"\n  list_id: "M \\u2028<list.m.example>"\n',
            "site.list_id: contains a line break (U+2028): write it on one line",
        ),
    ],
    ids=["subject-crlf", "preheader-tab", "reply-to-newline", "list-id-line-separator"],
)
def test_a_value_bound_for_a_mail_header_must_be_one_line(tmp_project, where, yaml, message):
    # Else `check` says ok and `build` dies composing newsletter.eml (ValueError), or worse, a
    # sender sends the rest of the line as a header of its own.
    files = {"content/reviews/a.md": review_text(), "issues/t-1.yaml": manifest_text(["a"])}
    project = tmp_project({**files, where: yaml})
    [error] = errors_of(project)
    line = next(n for n, text in enumerate(yaml.splitlines(), 1) if "\\" in text)
    assert error.startswith(f"{where}:{line}: {message}")


@pytest.mark.parametrize(
    ("spec", "key", "message"),
    [
        (
            "\n  size: 5x5mm",
            "size",
            "print.size: the 5x5mm page (5 × 5 mm) less its margins (inside 20 + outside 16 mm "
            "across, top 20 + bottom 22 mm down) leaves no text block, and the layout needs at "
            "least 60 × 90 mm: use a larger size or smaller margins",
        ),
        (
            "\n  size: 90x130mm",
            "size",
            "print.size: the 90x130mm page (90 × 130 mm) less its margins (inside 20 + outside "
            "16 mm across, top 20 + bottom 22 mm down) leaves a text block of 54 × 88 mm, and "
            "the layout needs at least 60 × 90 mm: use a larger size or smaller margins",
        ),
        (
            "\n  bleed: 3\n  margins:\n    inside: 80\n    outside: 80",
            "margins",
            "print.margins: the A4 page (210 × 297 mm) less its margins (inside 80 + outside 80 "
            "mm across, top 20 + bottom 22 mm down) leaves a text block of 50 × 255 mm",
        ),
    ],
    ids=["5x5mm", "just-too-small", "margins-eat-the-page"],
)
def test_a_page_must_leave_a_text_block_inside_its_margins(tmp_project, spec, key, message):
    text = manifest_text(["a"], print=spec)
    project = tmp_project({"content/reviews/a.md": review_text(), "issues/t-1.yaml": text})
    [error] = errors_of(project)
    line = next(n for n, t in enumerate(text.splitlines(), 1) if t.strip().startswith(f"{key}:"))
    assert error.startswith(f"issues/t-1.yaml:{line}: {message}")


def test_the_smallest_text_block_is_60_by_90_mm(tmp_project):
    # With the default margins (36 mm across, 42 down): 96 × 132 mm is the smallest page.
    project = tmp_project({"content/reviews/a.md": review_text()})
    manifest = project / "issues/t-1.yaml"
    manifest.parent.mkdir()
    for size in ("96x132mm", "105x148mm"):  # the smallest, and A6
        manifest.write_text(manifest_text(["a"], print=f"\n  size: {size}"), encoding="utf-8")
        assert load_issue(manifest).manifest.print.size == size
    for size in ("95.9x132mm", "96x131.9mm"):
        manifest.write_text(manifest_text(["a"], print=f"\n  size: {size}"), encoding="utf-8")
        [error] = errors_of(project)
        assert "the layout needs at least 60 × 90 mm" in error
