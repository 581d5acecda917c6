"""``magbuilder check``: every pre-flight check finds its problem, at its file and line."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from PIL import Image

from magbuilder.checks import check_issue, format_finding, link_problem, run_checks
from magbuilder.errors import Finding
from magbuilder.render import email

from .conftest import REPO, manifest_text, review_text
from .warm_cli import magbuilder

HERO = "\n  src: media/hero.jpg\n  alt: A hero"
CUSTOM_CSS = "@import url(../../default/print/print.css);\n"


def project(tmp_project, body: str = "", manifest: str | None = None, **files: str) -> Path:
    """One review 'a' (hero media/hero.jpg, ``body`` appended) selected by issues/t-1.yaml."""
    return tmp_project(
        {
            "content/reviews/a.md": review_text("Alpha", image=HERO) + body,
            "issues/t-1.yaml": manifest or manifest_text(["a"]),
            **files,
        },
        images=("media/cover.jpg", "media/hero.jpg"),
    )


def image(root: Path, rel: str, size: tuple[int, int]) -> None:
    Image.new("RGB", size, (120, 90, 60)).save(root / "content" / rel, quality=80)


def findings(root: Path, manifest: str = "issues/t-1.yaml") -> list[Finding]:
    return check_issue(root / manifest)


def only(found: list[Finding], text: str) -> Finding:
    matching = [f for f in found if text in f.message]
    assert len(matching) == 1, "\n".join(map(format_finding, found))
    return matching[0]


def line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


@pytest.mark.parametrize("manifest", ["issues/2026-12.yaml", "issues/2026-11.yaml"])
def test_the_sample_issues_have_no_errors(manifest):
    result = run_checks(REPO / manifest)
    assert result.errors == 0, "\n".join(map(format_finding, result.findings))
    assert result.issue is not None


def test_a_good_small_issue_has_no_findings(tmp_project):
    assert findings(project(tmp_project)) == []


@pytest.mark.parametrize(
    ("size", "level"), [((1200, 1700), "error"), ((2000, 2800), "warning"), ((2560, 3600), None)]
)
def test_cover_resolution_at_full_bleed(tmp_project, size, level):
    root = project(tmp_project)
    image(root, "media/cover.jpg", size)
    found = findings(root)
    if level is None:
        assert found == []
        return
    finding = only(found, "cover image 'media/cover.jpg'")
    assert finding.level == level
    assert (finding.path, finding.line) == ("issues/t-1.yaml", 7)
    assert "at full bleed (216×303 mm)" in finding.message  # A4 + 2 × 3 mm
    assert "use at least 2552×3579 px" in finding.message


@pytest.mark.parametrize(
    ("width", "level", "where"),
    [
        (2400, None, None),  # ≥ 300 ppi across the 174 mm text block
        (1200, None, None),  # too few pixels for the text block: one column, 363 ppi
        (800, "warning", "in one column (84 mm wide)"),
        (400, "error", "in one column (84 mm wide)"),
    ],
)
def test_hero_resolution_where_the_template_places_it(tmp_project, width, level, where):
    root = project(tmp_project)
    image(root, "media/hero.jpg", (width, width * 2 // 3))
    found = findings(root)
    if level is None:
        assert found == []
        return
    finding = only(found, "hero image 'media/hero.jpg'")
    assert finding.level == level
    review = root / "content/reviews/a.md"
    assert (finding.path, finding.line) == ("content/reviews/a.md", line_of(review, "src:"))
    assert where in finding.message


@pytest.mark.parametrize(
    ("layout", "expected"),
    [
        ("default", []),  # 1,100 px across an 84 mm column: 333 ppi
        ("pocket", ["235 ppi printed in one column (119 mm wide)"]),  # A5, one column
    ],
)
def test_body_images_are_sized_by_the_layouts_columns(tmp_project, layout, expected):
    manifest = manifest_text(["a"], layout=layout)
    root = project(tmp_project, "\nText.\n\n![Wide](media/wide.jpg)\n", manifest=manifest)
    image(root, "media/hero.jpg", (2400, 1600))
    image(root, "media/wide.jpg", (1100, 700))
    found = [f.message for f in findings(root)]
    assert len(found) == len(expected), found
    assert all(e in m and "media/wide.jpg" in m for e, m in zip(expected, found, strict=True))


def test_body_image_resolution_at_column_width_with_its_line(tmp_project):
    root = project(tmp_project, "\nText.\n\n![Small](media/small.jpg)\n")
    image(root, "media/small.jpg", (400, 300))
    finding = only(findings(root), "image 'media/small.jpg'")
    assert finding.level == "error"
    assert "121 ppi printed in one column (84 mm wide), below 150" in finding.message
    assert finding.line == line_of(root / "content/reviews/a.md", "![Small]")


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda data: b"this is not a JPEG", "not an image file"),
        (lambda data: data[: len(data) // 2], "truncated"),
        (lambda data: b"", "not an image file"),
    ],
)
def test_images_that_do_not_decode(tmp_project, damage, expected):
    root = project(tmp_project)
    noisy = Image.effect_noise((1600, 1000), 60).convert("RGB")  # noise: data all the way down
    noisy.save(root / "content/media/hero.jpg", quality=90)
    path = root / "content/media/hero.jpg"
    path.write_bytes(damage(path.read_bytes()))
    finding = only(findings(root), "cannot be decoded")
    assert expected in finding.message
    assert finding.path == "content/reviews/a.md" and finding.level == "error"


def test_a_body_image_symlinked_out_of_content_is_an_error(tmp_project, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside") / "x.jpg"
    Image.new("RGB", (2400, 1600)).save(outside)
    root = project(tmp_project, '\n<img src="media/x.jpg" alt="x">\n')
    (root / "content/media/x.jpg").symlink_to(outside)
    finding = only(findings(root), "media/x.jpg")
    assert "must be a relative path inside content/" in finding.message


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("[run](javascript:alert(1))", "'javascript:' link"),
        ("[rel](reviews/other.html)", "relative link 'reviews/other.html'"),
        ("[anchor](#notes)", "in-page link '#notes'"),
        ("[space](<https://example.org/a b>)", "contains a space"),
        ("[space](https://example.org/a b)", "contains a space"),
        ("[empty]()", "empty link"),
        ("[nohost](http:/example.org)", "has no host"),
        ("[proto](//example.org/x)", "protocol-relative"),
        ("[mail](mailto:nobody)", "not a valid mailto"),
        ("[ftp](ftp://example.org/f)", "uses 'ftp:'"),
        ('<a href="data:text/html,x">raw</a>', "'data:' link"),
        ('<a href="">raw</a>', "empty link"),
    ],
)
def test_bad_links_are_errors_at_their_body_line(tmp_project, markdown, expected):
    root = project(tmp_project, f"\nFirst line.\nSee {markdown} here.\n")
    finding = only(findings(root), expected)
    assert finding.level == "error"
    assert (finding.path, finding.line) == (
        "content/reviews/a.md",
        line_of(root / "content/reviews/a.md", "See "),
    )


@pytest.mark.parametrize(
    "href",
    [
        "https://example.org/a?b=c#d",
        "http://example.org",
        "/reviews/alpha/",
        "mailto:editor@example.org",
        "mailto:editor@example.org?subject=Hi",
        "https://xn--bcher-kva.example/",
        "https://[2001:db8::1]:8443/x",
    ],
)
def test_good_links_pass(href):
    assert link_problem(href) is None


def test_links_in_the_editorial_are_checked_at_their_manifest_line(tmp_project):
    editorial = '\n  author: "Ed"\n  text: |\n    Hello.\n    Read [this](notes.html).'
    root = project(tmp_project, manifest=manifest_text(["a"], editorial=editorial))
    finding = only(findings(root), "notes.html")
    assert finding.path == "issues/t-1.yaml"
    assert finding.line == line_of(root / "issues/t-1.yaml", "Read [this]")
    assert finding.message.startswith("editorial.text: relative link")


def test_raw_html_the_sanitiser_drops_and_remote_images(tmp_project):
    body = (
        '\n<iframe src="https://example.org/frame"></iframe>\n\n'
        '<img src="https://example.org/pixel.gif" alt="">\n'
    )
    root = project(tmp_project, body)
    found = findings(root)
    dropped = only(found, "<iframe>")
    assert dropped.level == "warning" and "removed by the HTML sanitiser" in dropped.message
    remote = only(found, "pixel.gif")
    assert remote.level == "error" and "not a file in content/" in remote.message


def custom_layout(root: Path, css: str) -> None:
    folder = root / "layouts/custom/print"
    folder.mkdir(parents=True)
    (folder / "print.css").write_text(CUSTOM_CSS + css)


def test_a_font_missing_from_the_layout_chain(tmp_project):
    root = project(tmp_project, manifest=manifest_text(["a"], layout="custom"))
    custom_layout(root, '@font-face { font-family: "Gone"; src: url(../assets/fonts/Gone.otf); }\n')
    finding = only(findings(root), "font 'Gone'")
    assert (finding.path, finding.line, finding.level) == (
        "layouts/custom/print/print.css",
        2,
        "error",
    )
    assert (
        "layouts/custom/assets/fonts/Gone.otf not found (nor in layouts/default/)"
        in finding.message
    )


def test_a_layout_font_falls_back_to_the_default_fonts(tmp_project):
    root = project(tmp_project, manifest=manifest_text(["a"], layout="custom"))
    css = '@font-face { font-family: "L"; src: url(../assets/fonts/Lato-Regular.ttf); }\n'
    custom_layout(root, css)
    assert findings(root) == []


def test_a_font_whose_licence_forbids_embedding(tmp_project):
    root = project(tmp_project, manifest=manifest_text(["a"], layout="custom"))
    fonts = root / "layouts/custom/assets/fonts"
    fonts.mkdir(parents=True)
    with TTFont(root / "layouts/default/assets/fonts/Lato-Regular.ttf") as font:
        font["OS/2"].fsType = 0x0002
        font.save(fonts / "Locked.ttf")
    (fonts / "Broken.ttf").write_bytes(b"not a font")
    css = (
        '@font-face { font-family: "Locked"; src: url(../assets/fonts/Locked.ttf); }\n'
        '@font-face { font-family: "Broken"; src: url(../assets/fonts/Broken.ttf); }\n'
    )
    custom_layout(root, css)
    found = findings(root)
    locked = only(found, "font 'Locked'")
    assert locked.line == 2 and "forbids embedding" in locked.message
    assert "not a font file" in only(found, "font 'Broken'").message


def test_a_missing_layout_is_reported_at_its_manifest_line(tmp_project):
    root = project(tmp_project, manifest=manifest_text(["a"], layout="nowhere"))
    finding = only(findings(root), "layout 'nowhere' not found")
    assert (finding.path, finding.line) == (
        "issues/t-1.yaml",
        line_of(root / "issues/t-1.yaml", "layout:"),
    )


def test_an_oversize_newsletter_is_an_error_close_to_it_a_warning(tmp_project, monkeypatch):
    root = project(tmp_project)
    monkeypatch.setattr(email, "WARN_BYTES", 1024)
    warning = only(findings(root), "newsletter.html is")
    assert warning.level == "warning" and "close to Gmail's 102 KB" in warning.message
    monkeypatch.setattr(email, "GMAIL_CLIP_BYTES", 2048)
    error = only(findings(root), "newsletter.html is")
    assert error.level == "error" and "Gmail clips" in error.message
    assert (error.path, error.line) == (
        "issues/t-1.yaml",
        line_of(root / "issues/t-1.yaml", "newsletter:"),
    )


def test_reviews_selected_twice_and_empty_sections(tmp_project):
    sections = '\n  - title: "One"\n    reviews: [a, a]\n  - title: "Two"\n    reviews: []'
    root = project(tmp_project, manifest=manifest_text(["a"], sections=sections))
    found = findings(root)
    assert "review 'a' is selected twice" in only(found, "selected twice").message
    empty = only(found, "is empty")
    assert empty.message == "sections[1]: section 'Two' is empty: add reviews to it or remove it"
    assert empty.line == line_of(root / "issues/t-1.yaml", "reviews: []")


def test_review_checks_still_run_when_the_manifest_is_invalid(tmp_project):
    manifest = manifest_text(["a"], number="0")  # invalid: the issue does not load
    root = project(tmp_project, "\n[x](relative.html)\n", manifest=manifest)
    image(root, "media/hero.jpg", (400, 266))
    found = findings(root)
    assert only(found, "number").path == "issues/t-1.yaml"
    assert only(found, "relative.html").path == "content/reviews/a.md"
    assert only(found, "hero image").level == "error"


def test_a_review_ingest_found_cut_off_is_a_warning_at_its_line(tmp_project):
    root = project(tmp_project)
    path = root / "content/reviews/a.md"
    path.write_text(review_text("Alpha", image=HERO, truncated="true"), encoding="utf-8")
    finding = only(findings(root), "truncated")
    assert finding.level == "warning"
    assert (finding.path, finding.line) == ("content/reviews/a.md", line_of(path, "truncated:"))
    assert "cut off" in finding.message


def run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return magbuilder(*args, cwd=root)


def test_the_command_prints_findings_and_a_summary_and_exits_1_on_errors(tmp_project):
    root = project(tmp_project, "\n[x](javascript:void(0))\n")
    image(root, "media/hero.jpg", (800, 533))
    result = run(root, "check", "issues/t-1.yaml")
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[0].startswith("content/reviews/a.md:7: warning: hero image 'media/hero.jpg'")
    assert (
        lines[1].startswith("content/reviews/a.md:") and ": error: 'javascript:' link" in lines[1]
    )
    assert lines[-1] == "issues/t-1.yaml: failed: 1 error, 1 warning"
    assert "Traceback" not in result.stderr


def test_warnings_alone_exit_0(tmp_project):
    root = project(tmp_project)
    image(root, "media/hero.jpg", (800, 533))
    result = run(root, "check", "issues/t-1.yaml")
    assert result.returncode == 0, result.stderr
    assert "warning: hero image" in result.stderr
    assert (
        result.stdout.strip()
        == "issues/t-1.yaml: ok (1 reviews in 1 sections), 0 errors, 1 warning"
    )


def test_json_format_for_tools(tmp_project):
    root = project(tmp_project, "\n[x](javascript:void(0))\n")
    image(root, "media/cover.jpg", (2000, 2800))
    result = run(root, "check", "issues/t-1.yaml", "--format", "json")
    assert result.returncode == 1
    rows = json.loads(result.stdout)
    assert {tuple(sorted(row)) for row in rows} == {("level", "line", "message", "path")}
    assert [(r["path"], r["line"], r["level"]) for r in rows] == [
        ("issues/t-1.yaml", 7, "warning"),
        ("content/reviews/a.md", line_of(root / "content/reviews/a.md", "javascript"), "error"),
    ]
    assert result.stderr.strip() == "issues/t-1.yaml: failed: 1 error, 1 warning"
