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


def test_every_problem_is_reported_at_once(tmp_project):
    project = tmp_project(
        {
            "content/reviews/a.md": review_text(published="yesterday"),
            "issues/t-1.yaml": manifest_text(["a", "zzz"], lang='"not a lang!"'),
        }
    )
    errors = errors_of(project)
    assert any(e.startswith("issues/t-1.yaml:5: lang: has an invalid format") for e in errors)
    # The manifest is invalid, so reviews are not looked at yet; fix and re-run shows the rest.
    fixed = manifest_text(["a", "zzz"])
    (project / "issues/t-1.yaml").write_text(fixed)
    errors = errors_of(project)
    assert any("unknown review 'zzz'" in e for e in errors)
    assert any(e.startswith("content/reviews/a.md:4: published: is not a date") for e in errors)


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
