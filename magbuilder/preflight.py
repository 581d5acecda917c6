"""Preflight: check a finished PDF against what a printer (or a reader) needs, with pikepdf.

Each problem is one :class:`~magbuilder.errors.Finding` (``line`` None, ``page`` set when it
concerns a page) at level ``error`` (the file must not go to press), ``warning`` (it may, but a
person should look) or ``info``. A reader's file is also checked against PDF/UA-1, with the
rules of the ``pdfua`` package.
"""

from __future__ import annotations

import io
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf
from pikepdf import Dictionary, Name

from .errors import Finding
from .render.placement import MM_PER_INCH, Placement, Use, image_placements, page_box, page_uses

PRINT_PPI = 300  # below: warning
MIN_PPI = 150  # below: error
BLEED_TOLERANCE_MM = 0.01
MM = 72 / MM_PER_INCH
SIDES = ("left", "bottom", "right", "top")
NO_TRANSPARENCY = ("PDF/X-1", "PDF/X-3")  # PDF/X-1a and PDF/X-3 forbid live transparency


@dataclass
class _Report:
    """Collects findings for one file."""

    path: Path
    findings: list[Finding] = field(default_factory=list)

    def add(self, level: str, message: str, page: int | None = None) -> None:
        self.findings.append(Finding(self.path, None, message, level, page))


def preflight(
    path: Path | bytes,
    *,
    saddle_stitched: bool = False,
    expect_pdfx: bool = True,
    min_bleed_mm: float = 3.0,
    screen: bool = False,
    name: str | None = None,
) -> list[Finding]:
    """Check the PDF at ``path``; document-level findings first, then by page.

    Print (default): page boxes and bleed, embedded fonts, PDF/X-4 identification and CMYK output
    intent (unless ``expect_pdfx`` is False), image resolution (warning below 300 ppi, error
    below 150), annotations on the sheet, transparency. ``screen``: a reader's file, so fonts,
    images below 150 ppi and PDF/UA-1 (``check_pdfua``) instead of the printer's rules.
    ``saddle_stitched``: the page count must be a multiple of 4.
    ``path`` may be the file's bytes; findings name ``name`` (default: the path).
    """
    report = _Report(Path(name) if name else path if isinstance(path, Path) else Path("pdf"))
    try:
        doc = pikepdf.open(io.BytesIO(path) if isinstance(path, bytes) else path)
    except pikepdf.PdfError as exc:
        report.add("error", f"not a readable PDF: {exc}")
        return report.findings
    with doc:
        version = None if screen else _pdfx_version(doc)
        if expect_pdfx and not screen:
            _check_pdfx(doc, report, version)
        if not screen:
            _check_boxes(doc, report, min_bleed_mm)
        uses = [list(page_uses(page)) for page in doc.pages]
        _check_fonts(doc, report, uses)
        _check_images(doc, report, warn_below=None if screen else PRINT_PPI)
        if not screen:
            _check_annotations(doc, report)
            _check_transparency(doc, report, uses, version)
        if saddle_stitched:
            _check_page_count(doc, report)
        if screen:
            _check_pdfua(path, doc, report)
    return sorted(report.findings, key=_page_of)


def summary(findings: list[Finding]) -> str:
    """One line: passed or failed, with the count per level."""
    counts = Counter(f.level for f in findings)
    errors, warnings, infos = counts["error"], counts["warning"], counts["info"]
    verdict = "failed" if errors else "passed"
    return (
        f"preflight {verdict}: {errors} error{'s' * (errors != 1)}, "
        f"{warnings} warning{'s' * (warnings != 1)}, {infos} info"
    )


def format_findings(findings: list[Finding]) -> str:
    """Every finding on its own line (``path: level: message``), then the summary line."""
    return "\n".join([*(str(f) for f in findings), summary(findings)])


def page_ranges(pages: list[int]) -> str:
    """Sorted page numbers as ranges: ``[1, 2, 3, 5]`` → ``"1–3, 5"``."""
    runs: list[list[int]] = []
    for number in sorted(set(pages)):
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    return ", ".join(f"{r[0]}–{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)


def _page_of(finding: Finding) -> int:
    return finding.page or 0


# --- PDF/X identification and output intent ---------------------------------------------------


def _pdfx_version(doc: pikepdf.Pdf) -> str | None:
    """The PDF/X version the file claims, from XMP (preferred) or the Info dictionary."""
    try:
        claimed = doc.open_metadata().get("pdfxid:GTS_PDFXVersion")
    except Exception:  # broken XMP is reported as missing identification
        claimed = None
    if claimed:
        return str(claimed)
    info = doc.trailer.get("/Info")
    if isinstance(info, Dictionary) and "/GTS_PDFXVersion" in info:
        return str(info.GTS_PDFXVersion)
    return None


def _check_pdfx(doc: pikepdf.Pdf, report: _Report, version: str | None) -> None:
    """PDF/X-4 claimed in XMP, trapping declared, a GTS_PDFX intent with a CMYK profile."""
    if version is None:
        report.add(
            "error",
            "not identified as PDF/X (no pdfxid:GTS_PDFXVersion in the XMP metadata): "
            "export it as PDF/X-4, as magbuilder's print file is",
        )
    elif not version.startswith("PDF/X-4"):
        report.add("warning", f"claims {version}, not PDF/X-4")
    if version and version.startswith("PDF/X-4") and doc.pdf_version < "1.6":
        report.add("error", f"PDF version {doc.pdf_version}: PDF/X-4 needs at least 1.6")
    info = doc.trailer.get("/Info")
    trapped = info.get("/Trapped") if isinstance(info, Dictionary) else None
    if trapped not in (Name("/True"), Name("/False")):
        report.add(
            "error",
            "the Info dictionary does not say whether the file is trapped "
            "(/Trapped /True or /False)",
        )
    _check_output_intent(doc, report)


def _check_output_intent(doc: pikepdf.Pdf, report: _Report) -> None:
    intents = doc.Root.get("/OutputIntents")
    found = [i for i in intents or [] if isinstance(i, Dictionary) and i.get("/S") == "/GTS_PDFX"]
    if not found:
        report.add(
            "error",
            "no PDF/X output intent (/OutputIntents with /S /GTS_PDFX): the "
            "printer cannot tell which press condition the colours are meant for",
        )
        return
    intent = found[0]
    if not str(intent.get("/OutputConditionIdentifier", "")):
        report.add("error", "the PDF/X output intent has no /OutputConditionIdentifier")
    profile = intent.get("/DestOutputProfile")
    if not isinstance(profile, pikepdf.Stream):
        report.add("error", "the PDF/X output intent has no /DestOutputProfile (ICC profile)")
        return
    header = profile.read_bytes()[:20]
    if profile.get("/N") != 4 or header[16:20] != b"CMYK":
        components = profile.get("/N")
        report.add(
            "error",
            f"the output intent's profile is not CMYK (/N {components}): use a "
            "CMYK press profile such as FOGRA39",
        )


# --- page boxes -------------------------------------------------------------------------------


def _check_boxes(doc: pikepdf.Pdf, report: _Report, min_bleed_mm: float) -> None:
    """Every page has a TrimBox and a BleedBox at least ``min_bleed_mm`` beyond it."""
    for number, page in enumerate(doc.pages, start=1):
        media = page_box(page, "/CropBox") or page_box(page, "/MediaBox")
        trim, bleed = page_box(page, "/TrimBox"), page_box(page, "/BleedBox")
        if trim is None:
            report.add("error", "no TrimBox: the printer cannot tell the trimmed size", number)
            continue
        if bleed is None:
            report.add("error", "no BleedBox: the printer cannot tell the bleed", number)
            continue
        if media is not None:  # what lies outside the media (or crop) box is not there
            bleed = (
                max(bleed[0], media[0]),
                max(bleed[1], media[1]),
                min(bleed[2], media[2]),
                min(bleed[3], media[3]),
            )
        sides = _bleed_mm(trim, bleed)
        if min(sides) < min_bleed_mm - BLEED_TOLERANCE_MM:
            shown = ", ".join(
                f"{side} {value:.1f}" for side, value in zip(SIDES, sides, strict=True)
            )
            report.add(
                "error",
                f"bleed is {shown} mm; needs at least {min_bleed_mm:g} mm on "
                f"every side (CSS: @page {{ bleed: {min_bleed_mm:g}mm }})",
                number,
            )


def _bleed_mm(trim: tuple[float, ...], bleed: tuple[float, ...]) -> tuple[float, ...]:
    """Bleed beyond the trim on each side (left, bottom, right, top), in millimetres."""
    points = (trim[0] - bleed[0], trim[1] - bleed[1], bleed[2] - trim[2], bleed[3] - trim[3])
    return tuple(p / MM for p in points)


# --- fonts ------------------------------------------------------------------------------------


def _check_fonts(doc: pikepdf.Pdf, report: _Report, uses: list[list[Use]]) -> None:
    """Every font the content selects is embedded (Type 3 fonts are drawn by the file itself)."""
    pages_of: dict[tuple, list[int]] = {}
    names: dict[tuple, str] = {}
    for number, page_uses_ in enumerate(uses, start=1):
        for use in page_uses_:
            font = use.obj
            if use.kind != "font" or not isinstance(font, Dictionary) or _is_embedded(font):
                continue
            ident = font.objgen if font.is_indirect else (number, use.name)
            names[ident] = re.sub(r"^[A-Z]{6}\+", "", str(font.get("/BaseFont", use.name))[1:])
            pages = pages_of.setdefault(ident, [])
            if number not in pages:
                pages.append(number)
    for ident, pages in pages_of.items():
        also = f" (used on pages {page_ranges(pages)})" if len(pages) > 1 else ""
        report.add(
            "error",
            f"font '{names[ident]}' is not embedded{also}: the printer would substitute another; "
            "embed it or use a font shipped with the layout",
            pages[0],
        )


def _is_embedded(font: Dictionary) -> bool:
    subtype = font.get("/Subtype")
    if subtype == Name.Type3:
        return True
    if subtype == Name.Type0:
        descendants = font.get("/DescendantFonts")
        if not descendants:
            return False
        font = descendants[0]
    descriptor = font.get("/FontDescriptor")
    if not isinstance(descriptor, Dictionary):
        return False
    return any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))


# --- images -----------------------------------------------------------------------------------


def _check_images(doc: pikepdf.Pdf, report: _Report, warn_below: float | None) -> None:
    """Each placed image: error below 150 ppi, warning below ``warn_below``."""
    seen: set[tuple] = set()
    for placement in image_placements(doc):
        key = (placement.page, placement.objgen, *(round(v, 1) for v in placement.size_pt))
        if key in seen:
            continue
        seen.add(key)
        ppi = placement.min_ppi
        if ppi < MIN_PPI - 0.5:
            report.add("error", _ppi_message(placement, MIN_PPI, warn_below), placement.page)
        elif warn_below is not None and ppi < warn_below - 0.5:
            report.add("warning", _ppi_message(placement, warn_below, warn_below), placement.page)


def _ppi_message(placement: Placement, limit: float, wanted: float | None) -> str:
    width_mm, height_mm = placement.size_mm
    target = wanted or limit
    need = tuple(math.ceil(mm / MM_PER_INCH * target) for mm in placement.size_mm)
    return (
        f"image of {placement.pixels[0]}×{placement.pixels[1]} px placed at "
        f"{width_mm:.1f}×{height_mm:.1f} mm has {placement.min_ppi:.0f} ppi, below {limit:g}; "
        f"use at least {need[0]}×{need[1]} px ({target:g} ppi) or place it smaller"
    )


# --- annotations and transparency -------------------------------------------------------------


def _check_annotations(doc: pikepdf.Pdf, report: _Report) -> None:
    """No annotation but printer marks may touch the bleed box (the printed sheet)."""
    for number, page in enumerate(doc.pages, start=1):
        sheet = page_box(page, "/BleedBox") or page_box(page, "/MediaBox")
        kinds: Counter[str] = Counter()
        for annot in page.obj.get("/Annots") or []:
            if not isinstance(annot, Dictionary) or annot.get("/Subtype") == "/PrinterMark":
                continue
            rect = annot.get("/Rect")
            if sheet is None or rect is None or _overlaps(sheet, [float(v) for v in rect]):
                kinds[str(annot.get("/Subtype", "/Unknown"))[1:]] += 1
        if kinds:
            listed = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
            report.add(
                "error",
                f"annotations on the printed sheet ({listed}); PDF/X allows only "
                "printer marks there: remove links from the print file",
                number,
            )


def _overlaps(box: tuple[float, ...], rect: list[float]) -> bool:
    x0, x1 = sorted(rect[0::2])
    y0, y1 = sorted(rect[1::2])
    return x0 < box[2] and x1 > box[0] and y0 < box[3] and y1 > box[1]


def _check_transparency(
    doc: pikepdf.Pdf, report: _Report, uses: list[list[Use]], version: str | None
) -> None:
    """Live transparency: one info line for PDF/X-4, an error per page if X-1a/X-3 is claimed."""
    forbidden = version is not None and version.startswith(NO_TRANSPARENCY)
    pages: list[int] = []
    kinds: set[str] = set()
    for number, (page, page_uses_) in enumerate(zip(doc.pages, uses, strict=True), start=1):
        found = _transparency(page, page_uses_)
        if not found:
            continue
        pages.append(number)
        kinds.update(found)
        if forbidden:
            report.add(
                "error",
                f"live transparency ({', '.join(sorted(found))}) is not allowed in {version}: "
                "flatten it or make a PDF/X-4 file",
                number,
            )
    if pages and not forbidden:
        report.add(
            "info",
            f"live transparency on page{'s' * (len(pages) > 1)} {page_ranges(pages)} "
            f"({', '.join(sorted(kinds))}); allowed in PDF/X-4",
        )


def _transparency(page: pikepdf.Page, uses: list[Use]) -> set[str]:
    """What the page draws with transparency: soft-masked images, groups, soft masks, alpha."""
    found: set[str] = set()
    if _is_transparency_group(page.obj.get("/Group")):
        found.add("page group")
    seen: set[tuple] = set()
    for use in uses:
        key = (use.kind, use.obj.objgen if use.obj.is_indirect else use.name)
        if key in seen:
            continue
        seen.add(key)
        if use.kind == "image" and (
            isinstance(use.obj.get("/SMask"), pikepdf.Stream) or use.obj.get("/SMaskInData")
        ):
            found.add("soft-masked image")
        elif use.kind == "form" and _is_transparency_group(use.obj.get("/Group")):
            found.add("transparency group")
        elif use.kind == "state":
            found.update(_state_transparency(use.obj))
    return found


def _is_transparency_group(group: object) -> bool:
    return isinstance(group, Dictionary) and group.get("/S") == "/Transparency"


def _state_transparency(state: pikepdf.Object) -> list[str]:
    if not isinstance(state, Dictionary):
        return []
    kinds = []
    if isinstance(state.get("/SMask"), Dictionary):
        kinds.append("soft mask")
    if any(float(state.get(key, 1)) < 1 for key in ("/CA", "/ca")):
        kinds.append("opacity")
    blend = state.get("/BM")
    modes = list(blend) if isinstance(blend, pikepdf.Array) else [blend]
    if blend is not None and not set(map(str, modes)) & {"/Normal", "/Compatible"}:
        kinds.append("blend mode")
    return kinds


def _check_page_count(doc: pikepdf.Pdf, report: _Report) -> None:
    count = len(doc.pages)
    missing = -count % 4
    if missing:
        report.add(
            "warning",
            f"{count} pages: saddle stitching needs a multiple of 4; add "
            f"{missing} blank page{'s' * (missing != 1)} (or remove {count % 4})",
        )


# --- PDF/UA -----------------------------------------------------------------------------------

# pdfua's rule that finds empty headings: run here instead when pdfua cannot (0.1.3 stops on
# every heading whose /K is an array, which is how WeasyPrint writes all of them).
EMPTY_HEADING_RULE = "UA-14-001"


def _check_pdfua(source: Path | bytes, doc: pikepdf.Pdf, report: _Report) -> None:
    """The PDF/UA-1 rules of the ``pdfua`` package, each finding as ``<rule>: <message>``.

    The reader's file claims PDF/UA-1, so a violation pdfua is certain of is an error, whatever
    pdfua's own severity; one that needs a person's judgement (a heuristic) a warning. A rule
    pdfua could not evaluate is a warning too: silence must not pass for success.
    """
    from pdfua import Confidence, Severity, Validator  # imported only for a reader's file

    # pdfua opens what it is given with pikepdf, which reads a path or a file object.
    checked = Validator().validate(io.BytesIO(source) if isinstance(source, bytes) else str(source))
    for finding in checked.findings:
        if finding.severity is Severity.INFO:
            level = "info"
        elif finding.confidence is Confidence.HEURISTIC:
            level = "warning"
        else:
            level = "error"
        fix = f" ({finding.remediation})" if finding.remediation else ""
        message = f"{finding.rule_id}: {finding.message}{fix}"
        report.add(level, message, finding.location.page)
    for outcome in checked.skipped:
        if outcome.rule_id == EMPTY_HEADING_RULE:
            _check_empty_headings(doc, report)
        else:
            report.add("warning", f"{outcome.rule_id}: not checked: {outcome.skipped_reason}")


def _check_empty_headings(doc: pikepdf.Pdf, report: _Report) -> None:
    """pdfua's UA-14-001: a heading (/H1…/H6) must mark some content (an MCID or an MCR)."""
    numbers = {page.objgen: n for n, page in enumerate(doc.pages, start=1)}
    root = doc.Root.get("/StructTreeRoot")
    stack = [root] if isinstance(root, Dictionary) else []
    seen: set[tuple[int, int]] = set()
    while stack:
        node = stack.pop()
        if not isinstance(node, Dictionary) or (node.is_indirect and node.objgen in seen):
            continue
        if node.is_indirect:
            seen.add(node.objgen)
        kids = _kids(node)
        role = str(node.get("/S", ""))
        if re.fullmatch(r"/H[1-6]", role) and not _marks_content(node):
            page = node.get("/Pg")
            number = numbers.get(page.objgen) if isinstance(page, Dictionary) else None
            report.add("error", f"{EMPTY_HEADING_RULE}: Empty heading element {role}.", number)
        stack.extend(reversed(kids))


def _kids(node: Dictionary) -> list[pikepdf.Object]:
    kids = node.get("/K")
    if kids is None:
        return []
    return list(kids) if isinstance(kids, pikepdf.Array) else [kids]


def _marks_content(node: pikepdf.Object, depth: int = 0) -> bool:
    """Whether ``node``'s /K chain reaches a content item: an MCID or a marked-content
    reference."""
    if depth > 256 or not isinstance(node, Dictionary):
        return False
    for kid in _kids(node):
        if isinstance(kid, int) and not isinstance(kid, bool):
            return True
        if isinstance(kid, Dictionary) and (
            kid.get("/Type") == Name.MCR or _marks_content(kid, depth + 1)
        ):
            return True
    return False
