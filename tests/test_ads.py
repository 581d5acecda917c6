"""Ad bookings, as `magbuilder check` sees them: each problem at the line that causes it."""

from __future__ import annotations

import io
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from magbuilder.checks import check_issue
from magbuilder.errors import InputError
from magbuilder.manifest import load_issue

from .conftest import manifest_text, review_text

MM = 72 / 25.4
A4_BLED = (216, 303)  # A4 with the default 3 mm bleed on every side
SPONSOR = """\
name: "Nordlys Kino"
link: "https://nordlys.example/"
runs: {start: 2026-11-15, end: 2026-12-31}
page:
  art: media/ads/nordlys-page.jpg
email:
  text: "Winter documentaries at Nordlys Kino, every Sunday."
"""
BOOKINGS = "\n  slots:\n    after-contents: nordlys\n    email-after-1: nordlys"


def art(path: Path, size_mm: tuple[float, float], ppi: int = 300, mode: str = "CMYK") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = tuple(round(mm / 25.4 * ppi) for mm in size_mm)
    Image.new(mode, pixels, (0, 40, 80, 10) if mode == "CMYK" else (20, 60, 90)).save(
        path, quality=80
    )


@pytest.fixture
def project(tmp_project):
    def make(sponsor: str = SPONSOR, bookings: str = BOOKINGS) -> Path:
        root = tmp_project(
            {
                "content/reviews/a.md": review_text(),
                "content/sponsors/nordlys.yaml": sponsor,
                "issues/t-1.yaml": manifest_text(["a"], ads=bookings),
            }
        )
        art(root / "content/media/ads/nordlys-page.jpg", A4_BLED)
        return root

    return make


def findings_of(root: Path) -> list[tuple[str, int | None, str]]:
    return [(str(f.path), f.line, f.message) for f in check_issue(root / "issues/t-1.yaml")]


def line_of(path: Path, start: str) -> int:
    return 1 + next(
        i for i, line in enumerate(path.read_text().splitlines()) if line.lstrip().startswith(start)
    )


def test_good_bookings_pass_and_load_as_the_issues_ads(project):
    root = project()
    assert findings_of(root) == []
    issue = load_issue(root / "issues/t-1.yaml")
    assert [(ad.slot, ad.placement, ad.slug) for ad in issue.ads] == [
        ("after-contents", "page", "nordlys"),
        ("email-after-1", "email", "nordlys"),
    ]


def test_a_slot_past_the_issues_teasers_is_an_error_at_its_booking(project):
    root = project(bookings="\n  slots:\n    email-after-2: nordlys")
    [(path, line, message)] = findings_of(root)
    assert path == "issues/t-1.yaml"
    assert (
        message
        == "ads.slots.email-after-2: the issue has 1 teaser: book email-after-1 to email-after-1"
    )
    with pytest.raises(InputError):
        load_issue(root / "issues/t-1.yaml")


def test_an_expired_run_is_an_error_at_the_sponsors_runs(project):
    root = project(SPONSOR.replace("end: 2026-12-31", "end: 2026-11-30"))
    [(path, line, message)] = findings_of(root)
    assert (path, line) == ("content/sponsors/nordlys.yaml", 3)
    assert message.startswith("runs 2026-11-15 to 2026-11-30, but the issue booking it")
    assert "is dated 2026-12-01: extend the run or drop the booking" in message


def test_low_resolution_artwork_is_an_error_at_its_art_line(project):
    root = project()
    art(root / "content/media/ads/nordlys-page.jpg", A4_BLED, ppi=150)
    [(path, line, message)] = findings_of(root)
    assert (path, line) == ("content/sponsors/nordlys.yaml", 5)
    assert "is 150 ppi at full-page size: print needs 300 ppi, at least 2551 px wide" in message


def test_artwork_without_bleed_is_an_error_image_or_pdf(project):
    root = project()
    art(root / "content/media/ads/nordlys-page.jpg", (210, 297))  # cut to the trim
    [(_, line, message)] = findings_of(root)
    assert line == 5 and "has no bleed: it is cut to the trim (210×297 mm)" in message
    assert "a full page needs 216×303 mm (3 mm beyond each edge)" in message

    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(210 * MM, 297 * MM))
    pdf.save(root / "content/media/ads/nordlys-page.pdf")
    sponsor = root / "content/sponsors/nordlys.yaml"
    sponsor.write_text(sponsor.read_text().replace("nordlys-page.jpg", "nordlys-page.pdf"))
    [(_, line, message)] = findings_of(root)
    assert line == 5 and "has no bleed: its page is the trim (210×297 mm)" in message


def test_rgb_artwork_without_a_profile_is_an_error(project):
    root = project()
    art(root / "content/media/ads/nordlys-page.jpg", A4_BLED, mode="RGB")
    [(_, line, message)] = findings_of(root)
    assert line == 5 and "is RGB without an embedded colour profile" in message


def test_a_slot_booked_twice_is_an_error_at_the_second_booking(project):
    bookings = BOOKINGS + "\n    after-contents: nordlys"
    root = project(bookings=bookings)
    manifest = root / "issues/t-1.yaml"
    lines = manifest.read_text().splitlines()
    second = len(lines) - lines[::-1].index("    after-contents: nordlys")
    found = findings_of(root)
    assert [(p, line) for p, line, _ in found] == [("issues/t-1.yaml", second)]
    assert "after-contents" in found[0][2]


def test_a_sponsored_placement_without_a_label_is_an_error(project):
    root = project(SPONSOR + 'label: ""\n')
    [(path, line, message)] = findings_of(root)
    assert (path, line) == ("content/sponsors/nordlys.yaml", 8)
    assert message.startswith("a sponsored placement must say it is one")
    # A house ad is the magazine's own: it needs no "Sponsored" label.
    (root / "content/sponsors/nordlys.yaml").write_text(SPONSOR + 'label: ""\nkind: house\n')
    assert findings_of(root) == []


@pytest.mark.parametrize(
    ("bookings", "problem"),
    [
        (
            "\n  slots:\n    after-contnets: nordlys",
            "no slot 'after-contnets' (did you mean 'after-contents'?)",
        ),
        (
            "\n  slots:\n    after-contents: nordlis",
            "no sponsor 'nordlis' (did you mean 'nordlys'?)",
        ),
        (
            "\n  slots:\n    archive: nordlys",
            "takes a archive ad, and content/sponsors/nordlys.yaml",
        ),
    ],
)
def test_a_booking_names_a_slot_and_a_sponsor_that_exist(project, bookings, problem):
    root = project(bookings=bookings)
    [(path, line, message)] = findings_of(root)
    assert path == "issues/t-1.yaml" and line == line_of(
        root / path, bookings.split("\n")[-1].strip()[:8]
    )
    assert problem in message


def test_a_missing_email_image_is_an_error_at_its_line(project):
    sponsor = SPONSOR.replace(
        '  text: "Winter', '  image: media/ads/nowhere.png\n  alt: "A cinema"\n  text: "Winter'
    )
    root = project(sponsor)
    [(path, line, message)] = findings_of(root)
    assert (path, line) == ("content/sponsors/nordlys.yaml", 7)
    assert message == (
        "image 'media/ads/nowhere.png' not found: put the file at content/media/ads/nowhere.png"
    )


def test_a_transparent_email_image_is_put_on_white():
    from magbuilder.render.email import resize_for_email

    clear = io.BytesIO()
    Image.new("RGBA", (40, 20), (0, 0, 0, 0)).save(clear, "PNG")
    with Image.open(io.BytesIO(resize_for_email(clear.getvalue()))) as image:
        assert min(image.convert("L").getextrema()) > 240  # white, not the black beneath
