"""Ads in the laid-out magazine: PDF artwork merged onto its page, and where each ad runs.

Every placed ad carries a named destination ``ad-<slot>`` (its element's id in
``print/ads.html.j2``). A full page whose artwork is a PDF is laid out with its label alone; the
sponsor's first page is then drawn beneath the label, its trim on the page's trim, its bleed
in the bleed: the artwork as its maker exported it, fonts and vectors untouched.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import pikepdf
from pikepdf import Dictionary, Name, Pdf

from ..content import Issue
from ..errors import Finding, Level, RenderError
from ..sponsors import Ad
from ..store import inside
from .collate import dest_pages

AD_DEST = "ad-"


@dataclass(frozen=True)
class PlacedAd:
    """Where an ad runs in a PDF: its slot, sponsor and page (1-based)."""

    slot: str
    sponsor: str
    page: int


def placed_ads(pdf: bytes | Pdf, issue: Issue) -> list[PlacedAd]:
    """The issue's ads found in ``pdf`` (a built magazine), in page order."""
    if isinstance(pdf, bytes):
        with pikepdf.open(io.BytesIO(pdf)) as doc:
            return placed_ads(doc, issue)
    pages = dest_pages(pdf)
    found = [
        PlacedAd(ad.slot, ad.slug, pages[AD_DEST + ad.slot] + 1)
        for ad in issue.ads
        if AD_DEST + ad.slot in pages
    ]
    return sorted(found, key=lambda placed: placed.page)


def share_finding(pdf: bytes, issue: Issue) -> Finding | None:
    """Whether the ads take more of the laid-out magazine than the manifest's ``max_share``:
    a full page counts one page, a half page half of one."""
    if not issue.ads or issue.manifest.ads is None:
        return None
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        placed, total = placed_ads(doc, issue), len(doc.pages)
    halves = {ad.slot for ad in issue.ads if ad.placement in ("half", "column")}
    pages = sum(0.5 if p.slot in halves else 1 for p in placed)
    limit = issue.manifest.ads.max_share
    if pages <= limit * total + 1e-9:
        return None
    from ..manifest import manifest_place

    where, line = manifest_place(issue, "ads", "max_share")
    if line is None or "max_share" not in issue.manifest.ads.model_fields_set:
        where, line = manifest_place(issue, "ads")
    return Finding(
        where,
        line,
        f"ads take {pages:g} of the magazine's {total} pages ({pages / total:.0%}), more than "
        f"max_share {limit:g} ({limit:.0%}) allows: book fewer slots, or raise max_share",
    )


def lonely_half_pages(pdf: bytes, issue: Issue, label: Callable[[Ad], str]) -> list[Finding]:
    """Warnings for a half page that found no room at the foot of its section's last page and
    so sits alone at the foot of the next, a page with nothing else on it (but the running
    heads). ``label(ad)`` is what the ad says it is."""
    halves = [ad for ad in issue.ads if ad.placement == "half"]
    if not halves:
        return []
    import pypdfium2 as pdfium

    placed = {p.slot: p.page for p in placed_ads(pdf, issue)}
    document = pdfium.PdfDocument(pdf)
    try:
        findings = []
        for ad in halves:
            if ad.slot not in placed:
                continue
            section = issue.sections[ad.number - 1]
            page = document[placed[ad.slot] - 1]
            text = _squashed(page.get_textpage().get_text_range())
            known = [issue.manifest.site.name, section.title, section.reviews[-1].title]
            art = ad.art
            if art.text:
                known += [art.text.headline, art.text.text, art.text.call or ""]
            known += [ad.sponsor.name, ad.sponsor.link.split("://", 1)[1].rstrip("/"), label(ad)]
            for words in sorted(map(_squashed, known), key=len, reverse=True):
                text = text.replace(words, "") if words else text
            if not any(char.isalpha() for char in text):  # a label and a folio at most
                from ..manifest import manifest_place

                where, line = manifest_place(issue, "ads", "slots", ad.slot)
                findings.append(
                    Finding(
                        where,
                        line,
                        f"ads.slots.{ad.slot}: section {ad.number}'s last page has no room for "
                        f"a half page, which sits alone on page {placed[ad.slot]}: book another "
                        "section's end, or a full page",
                        Level.WARNING,
                    )
                )
        return findings
    finally:
        document.close()


def _squashed(text: str) -> str:
    return "".join(text.split()).casefold()


def pdf_artwork(issue: Issue) -> dict[str, str]:
    """Slot → the PDF artwork (under content/) of each full-page ad that has one."""
    return {
        ad.slot: ad.art.art
        for ad in issue.ads
        if ad.placement == "page" and ad.art.art and ad.art.art.lower().endswith(".pdf")
    }


def _box(page: pikepdf.Page, name: str) -> list[float]:
    box = page.obj.get(name) or page.obj.get("/TrimBox") or page.mediabox
    return [float(v) for v in box]


def merge_artwork(pdf: bytes, issue: Issue) -> bytes:
    """``pdf`` with every PDF artwork drawn beneath the page of its ad (when the page is in it)."""
    wanted = pdf_artwork(issue)
    if not wanted:
        return pdf
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        pages = dest_pages(doc)
        merged = 0
        for slot, src in wanted.items():
            if AD_DEST + slot not in pages:
                continue
            _draw_beneath(doc, doc.pages[pages[AD_DEST + slot]], _artwork(issue, src), slot)
            merged += 1
        if not merged:
            return pdf
        out = io.BytesIO()
        doc.save(out, deterministic_id=True)
        return out.getvalue()


def _artwork(issue: Issue, src: str) -> Pdf:
    path = inside(issue.content_dir, src)
    try:
        if path is None:
            raise OSError("outside content/")
        return Pdf.open(path)
    except (OSError, pikepdf.PdfError) as exc:  # `magbuilder check` says it first
        where = f"content/{src}"
        raise RenderError(
            f"{where}: {exc}", [Finding(where, None, f"cannot read: {exc}")]
        ) from None


def _draw_beneath(doc: Pdf, page: pikepdf.Page, art: Pdf, slot: str) -> None:
    """The artwork's first page as a form under ``page``'s content, trim on trim, marked as an
    artifact (the page's label and the ad's alt text in the structure say what it is)."""
    source = art.pages[0]
    art_trim, trim = _box(source, "/TrimBox"), _box(page, "/TrimBox")
    sx = (trim[2] - trim[0]) / (art_trim[2] - art_trim[0])
    sy = (trim[3] - trim[1]) / (art_trim[3] - art_trim[1])
    form = doc.copy_foreign(source.as_form_xobject())
    resources = Dictionary(dict(page.obj.get("/Resources", Dictionary()).items()))
    xobjects = Dictionary(dict(resources.get("/XObject", Dictionary()).items()))
    name = Name(f"/MbAd{slot.replace('-', '')}")
    xobjects[name] = form
    resources.XObject = xobjects
    page.obj.Resources = resources
    dx, dy = trim[0] - art_trim[0] * sx, trim[1] - art_trim[1] * sy
    draw = f"/Artifact BMC q {sx:.6f} 0 0 {sy:.6f} {dx:.4f} {dy:.4f} cm {name} Do Q EMC\n"
    page.contents_add(doc.make_stream(draw.encode()), prepend=True)


__all__ = [
    "AD_DEST",
    "PlacedAd",
    "merge_artwork",
    "pdf_artwork",
    "lonely_half_pages",
    "placed_ads",
    "share_finding",
]
