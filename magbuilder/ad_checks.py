"""The checks of an issue's ad bookings (``magbuilder check``): each ``path:line: what, how``.

* the slot is one the layout declares, booked once (the YAML loader refuses a key written
  twice), with a sponsor file that loads;
* the sponsor's run dates cover the issue's date;
* the sponsor has what the slot takes (a page, a half page, an email block …);
* print artwork: a PDF, JPEG, PNG or TIFF inside content/, at trim size with the issue's bleed,
  images at 300 ppi, in CMYK or with an embedded colour profile the print file can convert;
* a sponsored placement says so: the sponsor's ``label``, or the layout's ``sponsored`` string.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path

from .content import Manifest, PrintSpec
from .errors import Finding, MagbuilderError
from .sponsors import PLACEMENTS, Ad, PrintArt, SponsorFile, read_sponsor, sponsor_slugs
from .store import inside, media_problem
from .validation import did_you_mean

PRINT_PPI = 300
PPI_TOLERANCE = 0.95  # 285 ppi passes: a scan's rounding, not a low-resolution file
SIZE_TOLERANCE_MM = 0.5
RATIO_TOLERANCE = 0.0025  # 3 mm of bleed moves an A4's proportions by 0.8 %; pixels by < 0.1 %
PRINT_PLACEMENTS = ("page", "half", "column")


def slot_placement(slot: str, slots: Mapping[str, str]) -> str | None:
    """What ``slot`` takes, from the layout's ``ads`` declaration (``email-after-N`` matches
    ``email-after-3``)."""
    if slot in slots:
        return slots[slot]
    head, _, number = slot.rpartition("-")
    if number.isdigit() and int(number) >= 1 and f"{head}-N" in slots:
        return slots[f"{head}-N"]
    return None


def read_bookings(
    root: Path,
    where: str,
    manifest: Manifest,
    line_of,  # noqa: ANN001 - (slot) → its line
) -> tuple[list[Ad], list[Finding]]:
    """The manifest's bookings as ads, with every problem found in them (an ad with a problem
    is left out). Nothing when the layout cannot be read: its own findings say why."""
    from . import layouts
    from .render.layout import Layout

    if manifest.ads is None or not manifest.ads.slots:
        return [], []
    try:
        layout = Layout(root / "layouts", manifest.layout)
        declared = {str(k): str(v) for k, v in layouts.merged(layout.chain, "ads").items()}
        layout.strings  # noqa: B018 - a broken strings.yaml is the layout's finding
    except (MagbuilderError, OSError):
        return [], []
    lang = manifest.lang

    def label_of(kind: str) -> str:
        return layout.string("sponsored" if kind == "sponsor" else "house_ad", lang)

    counts = {"email-after": sum(len(s.reviews) for s in manifest.sections),
              "section-end": len(manifest.sections)}  # fmt: skip
    return booking_findings(
        root, where, manifest.ads.slots, line_of, declared, manifest.date, manifest.print,
        label_of, counts,
    )  # fmt: skip


def booking_findings(
    root: Path,
    where: str,
    bookings: Mapping[str, str],
    line_of,  # noqa: ANN001 - (slot) → the manifest line of its booking
    slots: Mapping[str, str],
    issue_date,  # noqa: ANN001 - datetime.date
    spec: PrintSpec,
    label_of,  # noqa: ANN001 - (kind) → the layout's label for that kind of ad, in the issue's language
    counts: Mapping[str, int],  # how many there are of what an ``<kind>-N`` slot counts
) -> tuple[list[Ad], list[Finding]]:
    """The bookings that pass, as ads, and every problem; see the module's docstring."""
    findings: list[Finding] = []
    ads: list[Ad] = []
    files: dict[str, SponsorFile | None] = {}
    expired: set[str] = set()
    for slot, slug in bookings.items():
        line = line_of(slot)
        placement = slot_placement(slot, slots)
        if placement is None:
            declared = ", ".join(slots) or "none"
            hint = did_you_mean(slot, list(slots)) or f"; the layout declares: {declared}"
            findings.append(Finding(where, line, f"ads.slots: no slot '{slot}'{hint}"))
            continue
        if placement not in PLACEMENTS:
            findings.append(
                Finding(
                    where,
                    line,
                    f"ads.slots.{slot}: the layout says this slot takes '{placement}', which is "
                    f"none of {', '.join(PLACEMENTS)}: correct the layout's ads",
                )
            )
            continue
        kind, _, number = slot.rpartition("-")
        if number.isdigit() and kind in counts and int(number) > counts[kind]:
            what = ("teaser" if kind == "email-after" else "section") + "s" * (counts[kind] > 1)
            findings.append(
                Finding(
                    where,
                    line,
                    f"ads.slots.{slot}: the issue has {counts[kind]} {what}: "
                    f"book {kind}-1 to {kind}-{counts[kind]}",
                )
            )
            continue
        if slug not in files:
            files[slug] = read_sponsor(root, slug)
            if files[slug] is not None:
                findings += files[slug].findings
        sponsor_file = files[slug]
        if sponsor_file is None:
            hint = did_you_mean(slug, sponsor_slugs(root)) or ""
            findings.append(
                Finding(
                    where,
                    line,
                    f"ads.slots.{slot}: no sponsor '{slug}'{hint}: "
                    f"add content/sponsors/{slug}.yaml",
                )
            )
            continue
        sponsor = sponsor_file.sponsor
        if sponsor is None:
            continue  # its own findings say why
        if not sponsor.runs.covers(issue_date) and slug not in expired:
            expired.add(slug)  # said once, however many slots it books
            findings.append(
                Finding(
                    sponsor_file.where,
                    sponsor_file.line("runs"),
                    f"runs {sponsor.runs.start} to {sponsor.runs.end}, but the issue booking it "
                    f"({where}:{line}) is dated {issue_date}: extend the run or drop the booking",
                )
            )
        art = sponsor.placement(placement)  # type: ignore[arg-type]
        if art is None:
            findings.append(
                Finding(
                    where,
                    line,
                    f"ads.slots.{slot} takes a {placement} ad, and {sponsor_file.where} has no "
                    f"'{placement}': add one, or book another slot",
                )
            )
            continue
        before = len(findings)
        image = getattr(art, "image", None)  # an email block's or a banner's
        if image and (problem := media_problem(root / "content", image)):
            findings.append(
                Finding(sponsor_file.where, sponsor_file.line(placement, "image"), problem)
            )
        if placement in PRINT_PLACEMENTS and isinstance(art, PrintArt) and art.art:
            problem = artwork_problem(root / "content", art.art, placement, spec)
            if problem:
                findings.append(
                    Finding(sponsor_file.where, sponsor_file.line(placement, "art"), problem)
                )
        label = sponsor.label if sponsor.label is not None else label_of(sponsor.kind)
        if sponsor.kind == "sponsor" and not (label or "").strip():
            findings.append(
                Finding(
                    sponsor_file.where,
                    sponsor_file.line("label") or 1,
                    "a sponsored placement must say it is one: give a label (e.g. 'Sponsored'), "
                    "or leave label out for the layout's",
                )
            )
        if len(findings) == before and slug not in expired:
            ads.append(Ad(slot=slot, placement=placement, slug=slug, sponsor=sponsor))
    return ads, list(dict.fromkeys(findings))


def artwork_problem(content: Path, src: str, placement: str, spec: PrintSpec) -> str | None:
    """What is wrong with print artwork ``src`` for ``placement``, or None."""
    path = inside(content, src)
    if path is None or not path.is_file():
        return f"art '{src}' not found: put the file under content/ (e.g. content/{src})"
    data = path.read_bytes()
    if data.startswith(b"%PDF-"):
        return _pdf_problem(data, src, placement, spec)
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            kind, (width, height), mode = image.format, image.size, image.mode
            profile = image.info.get("icc_profile")
    except Exception:  # noqa: BLE001 - Pillow raises many kinds for a file it cannot read
        return f"art '{src}' is not a PDF, JPEG, PNG or TIFF: export it as one"
    if kind not in ("JPEG", "PNG", "TIFF"):
        return f"art '{src}' is a {kind}: export it as PDF, JPEG, PNG or TIFF"
    if placement == "page":
        need_w, need_h = _bled(spec)
        ratio, need = width / height, need_w / need_h
        trim_w, trim_h = spec.trim_mm
        off_bled, off_trim = abs(ratio / need - 1), abs(ratio / (trim_w / trim_h) - 1)
        if off_bled > RATIO_TOLERANCE:
            if off_trim < off_bled:
                return (
                    f"art '{src}' has no bleed: it is cut to the trim ({trim_w:g}×{trim_h:g} mm); "
                    f"a full page needs {need_w:g}×{need_h:g} mm "
                    f"({spec.bleed:g} mm beyond each edge)"
                )
            return (
                f"art '{src}' is {width}×{height} px, not in the proportions of a full page with "
                f"bleed ({need_w:g}×{need_h:g} mm)"
            )
        ppi = width / (need_w / 25.4)
        if ppi < PRINT_PPI * PPI_TOLERANCE:
            least = round(PRINT_PPI * need_w / 25.4)
            return (
                f"art '{src}' is {ppi:.0f} ppi at full-page size: print needs {PRINT_PPI} ppi, "
                f"at least {least} px wide"
            )
    if placement in ("half", "column"):
        margins = spec.margins
        need_mm = spec.trim_mm[0] - margins.inside - margins.outside  # the text block's width
        if placement == "column":
            need_mm /= 2
        least = round(PRINT_PPI * need_mm / 25.4)
        if width < least * PPI_TOLERANCE:
            return (
                f"art '{src}' is {width} px wide: a {placement} ad is {need_mm:g} mm wide and "
                f"print needs {PRINT_PPI} ppi, at least {least} px"
            )
    if mode != "CMYK" and not profile:
        return (
            f"art '{src}' is {mode} without an embedded colour profile: save it as CMYK, or "
            "embed its profile (e.g. sRGB) so the print file can convert it"
        )
    return None


def _bled(spec: PrintSpec) -> tuple[float, float]:
    width, height = spec.trim_mm
    return width + 2 * spec.bleed, height + 2 * spec.bleed


def _pdf_problem(data: bytes, src: str, placement: str, spec: PrintSpec) -> str | None:
    import pikepdf

    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            page = pdf.pages[0]
            media = [float(v) for v in page.mediabox]
            trim = [float(v) for v in page.obj.get("/TrimBox", page.mediabox)]
    except Exception:  # noqa: BLE001 - a damaged PDF
        return f"art '{src}' is a PDF that cannot be read: export it again"
    if placement != "page":
        return (
            f"art '{src}' is a PDF: a {placement} takes an image (JPEG, PNG or TIFF) or a text "
            "ad; PDF artwork is for full pages"
        )
    mm = 25.4 / 72
    size = ((media[2] - media[0]) * mm, (media[3] - media[1]) * mm)
    trim_size = ((trim[2] - trim[0]) * mm, (trim[3] - trim[1]) * mm)
    need = _bled(spec)
    trim_w, trim_h = spec.trim_mm
    if all(abs(a - b) <= SIZE_TOLERANCE_MM for a, b in zip(size, (trim_w, trim_h), strict=True)):
        return (
            f"art '{src}' has no bleed: its page is the trim ({trim_w:g}×{trim_h:g} mm); a full "
            f"page needs {need[0]:g}×{need[1]:g} mm ({spec.bleed:g} mm beyond each edge)"
        )
    if not all(a >= b - SIZE_TOLERANCE_MM for a, b in zip(size, need, strict=True)) or not all(
        abs(a - b) <= SIZE_TOLERANCE_MM for a, b in zip(trim_size, (trim_w, trim_h), strict=True)
    ):
        return (
            f"art '{src}' is {size[0]:.1f}×{size[1]:.1f} mm (trim {trim_size[0]:.1f}×"
            f"{trim_size[1]:.1f}): a full page is {trim_w:g}×{trim_h:g} mm with "
            f"{spec.bleed:g} mm bleed"
        )
    return None


__all__ = ["PLACEMENTS", "artwork_problem", "booking_findings", "slot_placement"]
