"""Approved renders: the cover and a review opener, as pixels, against committed PNGs.

Run ``pytest --update-golden tests/render/test_golden.py`` after an intended change to the
layout, look at the new PNGs in tests/data/golden/, and commit them.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest
from PIL import Image, ImageChops, ImageStat

from ..conftest import REPO

GOLDEN = REPO / "tests" / "data" / "golden"
DPI = 40
PAGES = {"cover": 1, "opener-verdict-in-absentia": 4}


def render_page(pdf, page: int, out) -> Image.Image:
    assert shutil.which("pdftoppm"), "pdftoppm is missing: `make system` installs poppler-utils"
    stem = out / f"page-{page}"
    subprocess.run(
        ["pdftoppm", "-png", "-r", str(DPI), "-f", str(page), "-l", str(page), "-singlefile",
         str(pdf), str(stem)],
        check=True,
    )  # fmt: skip
    return Image.open(f"{stem}.png").convert("RGB")


@pytest.mark.parametrize("name", sorted(PAGES))
def test_page_matches_the_approved_render(name, sample_build, tmp_path, request):
    actual = render_page(sample_build.files["magazine-screen.pdf"], PAGES[name], tmp_path)
    golden = GOLDEN / f"{name}.png"
    if request.config.getoption("--update-golden"):
        GOLDEN.mkdir(parents=True, exist_ok=True)
        actual.save(golden, optimize=True)
    assert golden.exists(), f"no approved render: run pytest --update-golden ({golden})"
    expected = Image.open(golden).convert("RGB")
    assert actual.size == expected.size
    diff = ImageChops.difference(actual, expected).convert("L")
    mean = ImageStat.Stat(diff).mean[0]
    changed = sum(diff.histogram()[48:]) / (diff.width * diff.height)
    if mean > 1.5 or changed > 0.005:
        diff.point(lambda v: 255 if v >= 48 else 0).save(tmp_path / f"{name}-diff.png")
        actual.save(tmp_path / f"{name}-actual.png")
    # Tolerance: anti-aliasing and JPEG noise move a few pixels a little; layout changes move many.
    assert mean <= 1.5, f"{name}: mean difference {mean:.2f}/255 (see {tmp_path})"
    assert changed <= 0.005, f"{name}: {changed:.2%} of pixels changed (see {tmp_path})"
