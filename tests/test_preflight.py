"""Preflight: each problem a printer would reject is found, at the right level and page."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pikepdf
import pytest
from pikepdf import Name

from magbuilder.errors import Finding
from magbuilder.preflight import format_findings, page_ranges, preflight, summary
from magbuilder.render.pdfx import finish_print, finish_screen

from .conftest import REPO
from .render.test_placement import render

ICC = REPO / "layouts" / "default" / "assets" / "icc"
NO_BLEED_CSS = "@page { size: A4; margin: 15mm }"
GOOD_BODY = '<h1>Fine</h1><img src="ok.jpg" style="width: 40mm">'  # 400 px / 40 mm = 254 ppi


def finish(source: bytes) -> bytes:
    return finish_print(
        source,
        icc_profile=ICC / "FOGRA39L-coated.icc",
        srgb_profile=ICC / "sRGB.icc",
        metadata_date=datetime(2026, 12, 1, tzinfo=UTC),
    )


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def messages(findings: list[Finding], level: str) -> list[str]:
    """The findings at ``level`` as read: ``page N: message`` where they are on a page."""
    return [
        f"page {f.page}: {f.message}" if f.page else f.message for f in findings if f.level == level
    ]


@pytest.fixture(scope="module")
def good_print(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("good")
    pdf = finish(render(folder, GOOD_BODY, {"ok.jpg": (400, 300)}))
    return write(folder, "print.pdf", pdf)


def edited(source: Path, folder: Path, change) -> Path:
    """A copy of ``source`` after ``change(pdf)`` has edited it with pikepdf."""
    with pikepdf.open(source) as pdf:
        change(pdf)
        out = BytesIO()
        pdf.save(out)
    return write(folder, "edited.pdf", out.getvalue())


def test_finished_print_file_passes(good_print):
    findings = preflight(good_print)
    assert [f for f in findings if f.level == "error"] == []
    assert messages(findings, "warning") == [
        "page 1: image of 400×300 px placed at 40.0×30.0 mm has 254 ppi, below 300; "
        "use at least 473×355 px (300 ppi) or place it smaller"
    ]
    assert all(f.path == good_print and f.line is None for f in findings)


def test_low_resolution_images_are_errors_or_warnings_by_ppi(tmp_path):
    body = (
        '<img src="fair.jpg" style="width: 50mm">'  # 394 px over 50 mm: 200 ppi
        '<p style="break-before: page"><img src="poor.jpg" style="width: 100mm"></p>'  # 51 ppi
    )
    pdf = finish(render(tmp_path, body, {"fair.jpg": (394, 394), "poor.jpg": (200, 200)}))
    findings = preflight(write(tmp_path, "lowres.pdf", pdf))
    [error] = messages(findings, "error")
    assert error.startswith("page 2: image of 200×200 px placed at 100.0×100.0 mm has 51 ppi")
    assert "below 150" in error and "1182×1182 px (300 ppi)" in error
    [warning] = messages(findings, "warning")
    assert warning.startswith("page 1: image of 394×394 px placed at 50.0×50.0 mm has 200 ppi")


def test_unembedded_standard_font_is_an_error(tmp_path):
    pdf = pikepdf.new()
    helvetica = pdf.make_indirect(
        pikepdf.Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica)
    )
    for text in (b"One", b"Two"):
        content = b"BT /F1 12 Tf 72 720 Td (" + text + b") Tj ET"
        page = pikepdf.Dictionary(
            Type=Name.Page,
            MediaBox=[-9, -9, 604, 851],
            BleedBox=[-9, -9, 604, 851],
            TrimBox=[0, 0, 595, 842],
            Contents=pdf.make_stream(content),
            Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=helvetica)),
        )
        pdf.pages.append(pikepdf.Page(page))
    out = BytesIO()
    pdf.save(out)
    findings = preflight(write(tmp_path, "helvetica.pdf", out.getvalue()), expect_pdfx=False)
    assert messages(findings, "error") == [
        "page 1: font 'Helvetica' is not embedded (used on pages 1–2): the printer would "
        "substitute another; embed it or use a font shipped with the layout"
    ]


def test_font_stripped_of_its_file_is_an_error(good_print, tmp_path):
    def strip(pdf: pikepdf.Pdf) -> None:
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == Name.FontDescriptor:
                for key in ("/FontFile", "/FontFile2", "/FontFile3"):
                    if key in obj:
                        del obj[key]

    findings = preflight(edited(good_print, tmp_path, strip))
    errors = messages(findings, "error")
    assert errors and all(e.startswith("page 1: font '") for e in errors)
    assert all("is not embedded" in e for e in errors)


def test_missing_bleed_is_an_error_on_every_page(tmp_path):
    body = "<p>One</p><p style='break-before: page'>Two</p>"
    pdf = finish(render(tmp_path, body, css=NO_BLEED_CSS))
    findings = preflight(write(tmp_path, "nobleed.pdf", pdf))
    assert messages(findings, "error") == [
        f"page {n}: bleed is left 0.0, bottom 0.0, right 0.0, top 0.0 mm; needs at least 3 mm "
        "on every side (CSS: @page { bleed: 3mm })"
        for n in (1, 2)
    ]


def test_unfinished_weasyprint_output_is_not_a_print_file(tmp_path):
    body = '<p><a href="https://mag.example/">a link</a></p>'
    findings = preflight(write(tmp_path, "raw.pdf", render(tmp_path, body)))
    errors = messages(findings, "error")
    assert any(e.startswith("not identified as PDF/X") for e in errors)
    assert any(e.startswith("no PDF/X output intent") for e in errors)
    assert "page 1: annotations on the printed sheet (1 Link)" in " ".join(errors)


def test_rgb_output_profile_is_an_error(good_print, tmp_path):
    def swap(pdf: pikepdf.Pdf) -> None:
        srgb = pdf.make_stream((ICC / "sRGB.icc").read_bytes(), N=3)
        pdf.Root.OutputIntents[0].DestOutputProfile = srgb

    findings = preflight(edited(good_print, tmp_path, swap))
    assert messages(findings, "error") == [
        "the output intent's profile is not CMYK (/N 3): use a CMYK press profile such as FOGRA39"
    ]


def test_transparency_is_info_in_pdfx4_and_an_error_when_claiming_pdfx3(tmp_path):
    # WeasyPrint shares one resource dictionary between pages: only page 2 draws transparency.
    body = (
        "<p>Opaque</p><p style='break-before: page'><img src='a.png' style='width: 20mm'></p>"
        "<p style='opacity: .5'>Half</p>"
    )
    path = write(tmp_path, "alpha.pdf", finish(render(tmp_path, body, {"a.png": (300, 300)})))
    assert messages(preflight(path), "info") == [
        "live transparency on page 2 (opacity, soft-masked image, transparency group); "
        "allowed in PDF/X-4"
    ]

    def claim_x3(doc: pikepdf.Pdf) -> None:
        with doc.open_metadata(set_pikepdf_as_editor=False) as meta:
            meta["pdfxid:GTS_PDFXVersion"] = "PDF/X-3:2002"

    errors = messages(preflight(edited(path, tmp_path, claim_x3)), "error")
    assert errors == [
        "page 2: live transparency (opacity, soft-masked image, transparency group) "
        "is not allowed in PDF/X-3:2002: flatten it or make a PDF/X-4 file"
    ]


def test_saddle_stitched_page_count(tmp_path):
    body = "".join(f"<p style='break-before: page'>{n}</p>" for n in range(6))
    path = write(tmp_path, "six.pdf", finish(render(tmp_path, body)))
    [warning] = messages(preflight(path, saddle_stitched=True), "warning")
    assert (
        warning
        == "6 pages: saddle stitching needs a multiple of 4; add 2 blank pages (or remove 2)"
    )
    assert messages(preflight(path), "warning") == []


def test_screen_file_checks_fonts_and_150_ppi_only(tmp_path):
    body = '<a href="https://mag.example/">link</a><img src="a.jpg" alt="A" style="width: 100mm">'
    source = render(tmp_path, body, {"a.jpg": (500, 500)}, css=NO_BLEED_CSS, tags=True)
    path = write(tmp_path, "screen.pdf", finish_screen(source))
    findings = preflight(path, screen=True)
    assert [(f.level, f.page, f.message[:32]) for f in findings] == [
        ("error", 1, "image of 500×500 px placed at 10")
    ]
    assert "591×591 px (150 ppi)" in findings[0].message


def test_unreadable_file_is_one_error(tmp_path):
    findings = preflight(write(tmp_path, "broken.pdf", b"%PDF-1.7 not really"))
    assert [f.level for f in findings] == ["error"]
    assert findings[0].message.startswith("not a readable PDF")


def test_format_findings_ends_with_a_summary(good_print):
    findings = [
        Finding(good_print, None, "bad", "error", page=2),
        Finding(good_print, None, "meh", "warning", page=1),
    ]
    assert format_findings(findings).splitlines() == [
        f"{good_print}: page 2: bad",
        f"{good_print}: warning: page 1: meh",
        "preflight failed: 1 error, 1 warning, 0 info",
    ]
    assert summary([]) == "preflight passed: 0 errors, 0 warnings, 0 info"
    assert page_ranges([7, 1, 2, 3, 5, 6]) == "1–3, 5–7"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "magbuilder", "preflight", *args]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True)


def test_cli_exit_codes(good_print, tmp_path):
    result = run_cli(str(good_print), "--saddle-stitched")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "preflight passed: 0 errors, 2 warnings, 0 info"
    assert "add 3 blank pages" in result.stdout

    nobleed = write(tmp_path, "nobleed.pdf", finish(render(tmp_path, "<p>x", css=NO_BLEED_CSS)))
    result = run_cli(str(nobleed))
    assert result.returncode == 1
    assert result.stdout.startswith(f"{nobleed}: page 1: bleed is left 0.0")
    # the last line: pikepdf logs "logger bridge initialized" at INFO unless cli.py quiets it
    assert result.stderr.splitlines()[-1] == "preflight failed: 1 error, 0 warnings, 0 info"
    assert "Traceback" not in result.stderr


# --- the reader's file: PDF/UA-1 ------------------------------------------------------------


@pytest.fixture(scope="module")
def good_screen(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("screen")
    body = '<h1>Fine</h1><p><a href="https://mag.example/">On the web</a></p>'
    return write(folder, "screen.pdf", finish_screen(render(folder, body, tags=True)))


def test_screen_file_passes_pdfua(good_screen):
    assert preflight(good_screen, screen=True) == []


def without_pdfuaid(pdf: pikepdf.Pdf) -> None:
    xmp = pdf.Root.Metadata.read_bytes().replace(b"<pdfuaid:part>1</pdfuaid:part>", b"")
    pdf.Root.Metadata.write(xmp.replace(b"pdfuaid", b"nothing").replace(b"PDF/UA", b"nothing"))


def without_link_contents(pdf: pikepdf.Pdf) -> None:
    del pdf.pages[0].Annots[0].Contents


def emptied_heading(pdf: pikepdf.Pdf) -> None:
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Dictionary) and obj.get("/S") == Name.H1:
            obj.K = pikepdf.Array()


@pytest.mark.parametrize(
    ("change", "line"),
    [
        (without_pdfuaid, "edited.pdf: UA-28-004: XMP metadata contains no PDF/UA identification"),
        (without_link_contents, "edited.pdf: page 1: UA-18-005: Link annotation has no /Contents"),
        # pdfua 0.1.3 cannot run this rule on WeasyPrint's headings: preflight runs it itself
        (emptied_heading, "edited.pdf: page 1: UA-14-001: Empty heading element /H1."),
    ],
)
def test_cli_screen_fails_a_file_that_breaks_pdfua(good_screen, tmp_path, change, line):
    assert run_cli("--screen", str(good_screen)).returncode == 0
    result = run_cli("--screen", str(edited(good_screen, tmp_path, change)))
    assert result.returncode == 1
    assert result.stdout.startswith(f"{tmp_path}/{line}"), result.stdout
    assert result.stderr.splitlines()[-1] == "preflight failed: 1 error, 0 warnings, 0 info"
