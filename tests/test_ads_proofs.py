"""The December sample's ads and the sponsors' proofs: what the sponsor is shown is what runs."""

from __future__ import annotations

import re

import pikepdf
import pypdfium2 as pdfium
import pytest

from magbuilder.manifest import load_issue
from magbuilder.render.ads import placed_ads
from magbuilder.render.proofs import EMAIL_WIDTH

from .conftest import SAMPLE_MANIFEST

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def texts(pdf) -> list[str]:  # noqa: ANN001 - a path or bytes
    doc = pdfium.PdfDocument(pdf)
    return [re.sub(r"\s+", " ", doc[i].get_textpage().get_text_range()) for i in range(len(doc))]


def test_the_sample_runs_its_ads_where_booked(sample_build):
    issue = load_issue(SAMPLE_MANIFEST)
    screen = sample_build.files["magazine-screen.pdf"].read_bytes()
    placed = {p.slot: (p.sponsor, p.page) for p in placed_ads(screen, issue)}
    pages = texts(screen)
    assert placed["after-contents"] == ("nordlys-kino", 4)
    assert placed["back-cover"] == ("long-take-subscribe", len(pages))
    sponsor, page = placed["section-end-3"]
    assert sponsor == "long-take-subscribe" and "Soundings" in pages[page - 1]  # its last page
    # The contents' first number is the page after the ad.
    first = re.search(r"Verdict in Absentia[ .]*(\d+)", pages[2]).group(1)
    assert int(first) == 5 and "Verdict in Absentia" in pages[4]


def test_each_sponsor_has_a_proof_of_exactly_what_runs(sample_build):
    out = sample_build.out_dir / "proofs"
    assert sorted(p.name for p in out.iterdir()) == ["long-take-subscribe.pdf", "nordlys-kino.pdf"]
    proof = out / "nordlys-kino.pdf"
    proof_texts = texts(proof)
    screen_texts = texts(sample_build.files["magazine-screen.pdf"])
    summary = proof_texts[0]
    assert "Nordlys Kino" in summary and "Print, page 4 (full page, after the contents)" in summary
    assert "after teaser 3 of 10" in summary and "Archive, the issue's page" in summary
    assert proof_texts[1] == screen_texts[3]  # the print page itself, as the screen file has it
    with pikepdf.open(proof) as doc:
        assert len(doc.pages) == 4  # what runs where, the page, the email block, the banner
        shots = []
        for page in doc.pages[2:]:
            [(_, image)] = list(page.get_images().items())
            pil = pikepdf.PdfImage(image).as_pil_image()
            shots.append(pil)
            width_pt = float(page.mediabox[2]) - float(page.mediabox[0])
            assert abs(width_pt - pil.width * 72 / 192) < 1  # shown at its CSS size
    email, banner = shots
    assert email.width <= EMAIL_WIDTH * 2 and email.width > 500  # the block at 600 px, 2x
    # The email block shows the sponsor's picture: some of its night-blue pixels.
    data = email.convert("RGB").resize((60, 60)).tobytes()
    pixels = zip(data[0::3], data[1::3], data[2::3], strict=True)
    assert any(b > r + 30 and b > 40 for r, _, b in pixels)
    assert banner.height < email.height


def test_a_house_ads_proof_names_the_half_page_and_the_back_cover(sample_build):
    proof = sample_build.out_dir / "proofs" / "long-take-subscribe.pdf"
    summary = texts(proof)[0]
    assert "half page at the foot of the page where section 3" in summary
    assert "full page, outside back cover" in summary
    assert "From the magazine" in summary
