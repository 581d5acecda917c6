"""Builds see the layout's fonts and no other: fonts installed on the machine change nothing,
text no font of the layout can draw is named by ``check``, a layout declares its fallbacks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pikepdf
import pytest
from fontTools.ttLib import TTFont

from magbuilder.build import BuildOptions, build_issue
from magbuilder.checks import check_issue
from magbuilder.errors import RenderError
from magbuilder.manifest import load_issue
from magbuilder.render.env import Layout
from magbuilder.render.fonts import font_configuration

from ..conftest import REPO, SAMPLE_MANIFEST, manifest_text, review_text

FONTS = REPO / "layouts" / "default" / "assets" / "fonts"


def impostor_home(home: Path) -> Path:
    """A home folder whose private fonts claim to be the layout's EB Garamond (they are Lato,
    with other widths): fontconfig's usual configuration sees them in ~/.local/share/fonts."""
    folder = home / ".local" / "share" / "fonts"
    folder.mkdir(parents=True)
    for source, style in (("Lato-Regular.ttf", "Regular"), ("Lato-Italic.ttf", "Italic")):
        font = TTFont(FONTS / source)
        names = font["name"]
        for record in list(names.names):
            value = {1: "EB Garamond", 16: "EB Garamond", 4: f"EB Garamond {style}"}.get(
                record.nameID, f"EBGaramond-{style}" if record.nameID == 6 else None
            )
            if value:
                names.setName(value, record.nameID, record.platformID, record.platEncID, 0x409)
        font.save(folder / f"Impostor-{style}.ttf")
    return home


def font_files(config, which: str) -> list[str]:  # noqa: ANN001 - an FcConfig pointer
    """The files of a fontconfig configuration's system or application font set."""
    from weasyprint.text.ffi import ffi, fontconfig

    kind = fontconfig.FcSetSystem if which == "system" else fontconfig.FcSetApplication
    fonts = fontconfig.FcConfigGetFonts(config, kind)
    if fonts == ffi.NULL:
        return []
    found = []
    for i in range(fonts.nfont):
        value = ffi.new("FcChar8 **")
        fontconfig.FcPatternGetString(fonts.fonts[i], b"file", 0, value)
        found.append(ffi.string(value[0]).decode())
    return sorted(found)


def test_a_build_knows_the_layouts_fonts_and_nothing_else(tmp_path, monkeypatch):
    from weasyprint.text.ffi import fontconfig

    home = impostor_home(tmp_path / "home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    # The machine's own configuration sees the impostors …
    machine = fontconfig.FcInitLoadConfigAndFonts()
    try:
        assert any(f.startswith(str(home)) for f in font_files(machine, "system"))
    finally:
        fontconfig.FcConfigDestroy(machine)
    # … a build's configuration has no system fonts at all, only the layout's files.
    layout = Layout(REPO / "layouts")
    fonts = font_configuration(layout.fonts)
    assert font_files(fonts._config, "system") == []
    expected = sorted(str(p.resolve()) for p in FONTS.iterdir() if p.suffix in (".ttf", ".otf"))
    assert font_files(fonts._config, "application") == expected


@pytest.mark.slow
def test_the_sample_is_byte_identical_with_other_fonts_on_the_machine(sample_build, tmp_path):
    home = impostor_home(tmp_path / "home")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "FONTCONFIG"))}
    built = subprocess.run(
        [sys.executable, "-m", "magbuilder", "build", str(SAMPLE_MANIFEST)]
        + ["--out", str(tmp_path / "out")],
        cwd=REPO,
        env={**env, "HOME": str(home)},
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr
    for name in ("magazine.pdf", "magazine-screen.pdf"):
        again = (tmp_path / "out" / "2026-12" / name).read_bytes()
        assert again == sample_build.files[name].read_bytes(), f"{name} differs"


HEBREW = "בית הספר שעל שפת הים"  # "the school at the edge of the sea"


def embedded_fonts(pdf: Path) -> set[str]:
    names = set()
    with pikepdf.open(pdf) as doc:
        for page in doc.pages:
            for font in (page.Resources.get("/Font") or {}).values():
                names.add(str(font.get("/BaseFont", "")).lstrip("/").split("+", 1)[-1])
    return names


@pytest.mark.slow
def test_hebrew_falls_back_to_the_layouts_hebrew_font(tmp_project, tmp_path):
    root = tmp_project(
        {
            "content/reviews/a.md": review_text("Alpha") + f"\n{HEBREW}\n",
            "issues/t-1.yaml": manifest_text(["a"]),
        }
    )
    assert check_issue(root / "issues/t-1.yaml") == []
    result = build_issue(root / "issues/t-1.yaml", tmp_path, BuildOptions(single_pass=True))
    assert result.warnings == []
    fonts = embedded_fonts(result.files["magazine-screen.pdf"])
    assert "Noto-Serif-Hebrew" in fonts, fonts
    assert not any("DejaVu" in name for name in fonts)


@pytest.mark.slow
def test_check_names_each_character_no_font_can_draw_at_its_line(tmp_project, tmp_path):
    body = "The film opens on a sign, 映画館, and a clapper board 🎬."
    root = tmp_project(
        {
            "content/reviews/a.md": review_text("Alpha") + f"\n{body}\n",
            "issues/t-1.yaml": manifest_text(["a"], title='"Issue №1 ✓"'),
        }
    )
    findings = check_issue(root / "issues/t-1.yaml")
    line = (root / "content/reviews/a.md").read_text().splitlines().index(body) + 1
    glyphs = [f for f in findings if "can draw" in f.message]
    assert [(f.path, f.line, f.level) for f in glyphs] == [
        ("issues/t-1.yaml", 3, "error"),
        ("content/reviews/a.md", line, "error"),
    ]
    assert "'✓' (U+2713 CHECK MARK)" in glyphs[0].message
    assert "'№'" not in glyphs[0].message  # Lato and EB Garamond have the numero sign
    message = glyphs[1].message
    for char in ("'映' (U+6620", "'画' (U+753B", "'館' (U+9928", "'🎬' (U+1F3AC CLAPPER BOARD)"):
        assert char in message
    assert "fonts.fallback in layouts/default/layout.yaml" in message
    # A build goes on (a proof may be wanted) but warns with the same lines.
    result = build_issue(root / "issues/t-1.yaml", tmp_path, BuildOptions(single_pass=True))
    assert [w.split(": ", 1)[0] for w in result.warnings] == [
        "issues/t-1.yaml:3",
        f"content/reviews/a.md:{line}",
    ]


def test_a_child_layout_adds_fonts_and_chooses_its_fallbacks(tmp_project):
    root = tmp_project({})
    child = root / "layouts" / "hebrew"
    (child / "assets" / "fonts").mkdir(parents=True)
    (child / "assets" / "fonts" / "Extra.ttf").write_bytes((FONTS / "Lato-Bold.ttf").read_bytes())
    (child / "layout.yaml").write_text("fonts:\n  fallback: [Noto Serif Hebrew]\n")
    fonts = Layout(root / "layouts", "hebrew").fonts
    assert fonts.files[0].name == "Extra.ttf"  # the child's own first, then the default's
    assert {p.name for p in fonts.files[1:]} == {p.name for p in FONTS.glob("*.[ot]tf")}
    assert fonts.fallback == ("Noto Serif Hebrew",)
    assert dict(fonts.generic) == {"serif": "EB Garamond", "sans-serif": "Lato"}  # inherited


@pytest.mark.parametrize(
    "text, line, message",
    [
        ("fonts:\n  fallback: Noto\n", 2, "fonts.fallback: expected a list of font families"),
        ("fonts:\n  folders: [../../x]\n", 2, "fonts.folders: '../../x' is outside the layout"),
        ("fonts:\n  generic: {serif: 1}\n", 2, "fonts.generic: map generic families"),
        ("fonts: [a\n", 2, "that starts on line 1"),
    ],
)
def test_a_bad_layout_yaml_is_reported_at_its_line(tmp_project, text, line, message):
    root = tmp_project({})
    child = root / "layouts" / "bad"
    child.mkdir()
    (child / "layout.yaml").write_text(text)
    with pytest.raises(RenderError) as info:
        Layout(root / "layouts", "bad").fonts  # noqa: B018 - reading it raises
    [finding] = info.value.findings
    assert (Path(finding.path).name, finding.line) == ("layout.yaml", line)
    assert message in finding.message


def test_a_layout_leaves_no_font_folder_behind(tmp_project, tmp_path, monkeypatch):
    # WeasyPrint writes @font-face files into a weasyprint-* folder removed only when its font
    # configuration is collected; layout workers that are killed left a GB a day in /tmp.
    import tempfile

    from magbuilder.render.magazine import WHOLE, magazine_html
    from magbuilder.render.pdf import html_to_pdf

    files = {"content/reviews/a.md": review_text("Alpha")}
    project = tmp_project({"issues/t-1.yaml": manifest_text(["a"]), **files})
    issue = load_issue(project / "issues/t-1.yaml")
    layout = Layout(issue.layouts_dir, issue.manifest.layout)
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    pdf = html_to_pdf(issue, layout, magazine_html(issue, layout, WHOLE))
    assert pdf.startswith(b"%PDF") and list(temp.iterdir()) == []
