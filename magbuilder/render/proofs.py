"""Sponsors' proofs: ``proofs/<sponsor>.pdf``, exactly what runs, for the sponsor to approve.

A proof is made of the outputs themselves, not re-renderings of the artwork: a first page
saying what runs where (print pages and positions, the newsletter's block, the archive banner,
editions, run dates, label), then the print pages that carry the sponsor's ads as the screen
file has them (screen resolution), then the newsletter's block as Chromium shows it in a
600 px wide window and the archive's banner as the archive's stylesheet draws it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from urllib.parse import urlsplit

import pikepdf
from markupsafe import Markup
from PIL import Image

from ..content import Issue
from ..paths import NEWSLETTER_HTML, PRINT_PDF, SCREEN_PDF
from ..sponsors import Ad
from ..store import inside
from .ads import PlacedAd, placed_ads
from .browser import chromium, offline_page
from .env import make_env, render_template
from .images import header_size
from .layout import Layout
from .pdf import html_to_pdf

PROOFS = "proofs"
PROOF_BASE = "https://proof.invalid/"  # where the banner proof's image is served from
EMAIL_WIDTH = 600  # CSS pixels: the width the newsletter is designed for
SCALE = 2  # device pixels per CSS pixel in the screenshots


@dataclass(frozen=True)
class Shot:
    """A screenshot of one placement, as a PNG."""

    slot: str
    title: str
    png: bytes


def proof_files(issue: Issue, layout: Layout, outputs: dict[str, bytes]) -> dict[str, bytes]:
    """``proofs/<sponsor>.pdf`` for every sponsor (and house ad) the issue books, from the
    build's ``outputs`` (the screen PDF, the newsletter and its images)."""
    if not issue.ads:
        return {}
    on_screen = placed_ads(outputs[SCREEN_PDF], issue)
    printed = {p.slot: p.page for p in placed_ads(outputs.get(PRINT_PDF) or b"", issue)}
    shots = _screenshots(issue, layout, outputs)
    proofs = {}
    for slug in dict.fromkeys(ad.slug for ad in issue.ads):
        ads = [ad for ad in issue.ads if ad.slug == slug]
        pages = [p for p in on_screen if p.sponsor == slug]
        mine = [shot for shot in shots if any(ad.slot == shot.slot for ad in ads)]
        proofs[f"{PROOFS}/{slug}.pdf"] = _proof(issue, layout, ads, pages, printed, mine, outputs)
    return proofs


def _screenshots(issue: Issue, layout: Layout, outputs: dict[str, bytes]) -> list[Shot]:
    """The newsletter's ad blocks at 600 px and the archive's banner, in Chromium."""
    wanted = [ad for ad in issue.ads if ad.placement in ("email", "archive")]
    if not wanted:
        return []

    banner = next((ad for ad in wanted if ad.placement == "archive"), None)
    banner_image = (
        inside(issue.content_dir, banner.art.image) if banner and banner.art.image else None
    )

    def serve(url: str) -> bytes | None:
        if url.startswith(PROOF_BASE):  # the banner's image, from content/
            wanted_name = url[len(PROOF_BASE) :]
            if banner_image is not None and wanted_name == banner_image.name:
                return banner_image.read_bytes()
            return None
        name = urlsplit(url).path.rpartition("/images/")[2]  # the newsletter's, from the build
        return outputs.get(f"images/{name}") if name else None

    shots = []
    with chromium() as browser:
        # One page for the newsletter's blocks, one for the banner.
        pages = {"email": outputs[NEWSLETTER_HTML].decode("utf-8")}
        if banner is not None:
            pages["archive"] = _banner_page(issue, layout, banner)
        for placement, html in pages.items():
            page = offline_page(browser, EMAIL_WIDTH, html, serve, SCALE)
            try:
                for ad in (ad for ad in wanted if ad.placement == placement):
                    block = page.locator(f".mb-ad-{ad.slot}").first
                    png = block.screenshot(type="png", scale="device")
                    shots.append(Shot(ad.slot, _shot_title(ad), png))
            finally:
                page.close()
    return shots


def _shot_title(ad: Ad) -> str:
    if ad.placement == "email":
        return f"Newsletter: after teaser {ad.number}, at {EMAIL_WIDTH} px"
    return "Archive: the issue page's banner"


def _banner_page(issue: Issue, layout: Layout, ad: Ad) -> str:
    """The archive banner alone, as the archive's own template and stylesheet draw it."""
    from ..archive_pages import Banner

    stylesheet = layout.find("archive/archive.css")
    image = None
    if ad.art.image and (path := inside(issue.content_dir, ad.art.image)):
        width, height = header_size(path)
        image = {"name": path.name, "width": width, "height": height}
    return render_template(
        make_env(layout),
        "archive/banner-proof.html.j2",
        ad=ad,
        image=image,
        alt=Banner(ad, None).alt,
        lang=issue.manifest.lang,
        base=PROOF_BASE,
        stylesheet=Markup(stylesheet.read_text("utf-8")) if stylesheet else "",
    )


def _proof(
    issue: Issue,
    layout: Layout,
    ads: list[Ad],
    pages: list[PlacedAd],
    printed: dict[str, int],
    shots: list[Shot],
    outputs: dict[str, bytes],
) -> bytes:
    """The proof: what runs where (with the print file's page numbers), the screen file's
    pages that carry the ads, then the screenshots."""
    in_proof, number = {}, 2  # where the proof shows each placement: after its first page
    for page in sorted({p.page for p in pages}):
        in_proof.update({p.slot: number for p in pages if p.page == page})
        number += 1
    for shot in shots:
        in_proof[shot.slot], number = number, number + 1
    html = render_template(
        make_env(layout),
        "print/proof.html.j2",
        in_proof=in_proof,
        issue=issue,
        sponsor=ads[0].sponsor,
        ads=ads,
        pages=printed,
        editions=[issue.manifest.lang, *issue.editions],
    )
    proof = pikepdf.Pdf.open(io.BytesIO(html_to_pdf(issue, layout, html)))
    with pikepdf.open(io.BytesIO(outputs[SCREEN_PDF])) as screen:
        for number in sorted({p.page for p in pages}):
            proof.pages.append(screen.pages[number - 1])
        for shot in shots:
            with pikepdf.open(io.BytesIO(_image_page(shot))) as page:
                proof.pages.extend(page.pages)
        out = io.BytesIO()
        proof.save(out, deterministic_id=True)
    return out.getvalue()


def _image_page(shot: Shot) -> bytes:
    """A screenshot as a one-page PDF at its CSS size (96 px to the inch)."""
    with Image.open(io.BytesIO(shot.png)) as image:
        out = io.BytesIO()
        image.convert("RGB").save(out, "PDF", resolution=96 * SCALE, title=shot.title)
    return out.getvalue()
