"""The newsletter rendered in real headless Chromium at phone, narrow and desktop widths."""

from __future__ import annotations

import pytest

from ..browser import open_page

WIDTHS = [375, 600, 1024]


@pytest.mark.parametrize("width", WIDTHS)
def test_no_horizontal_scroll_and_every_teaser_visible(browser, sample_build, width, tmp_path):
    out = sample_build.out_dir
    page = open_page(
        browser,
        (out / "newsletter.html").as_uri(),
        width,
        remote={"https://longtake.example/issues/2026-12/images/": out / "images"},
    )
    try:
        scroll, client = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert scroll <= client, f"horizontal scroll at {width}px: {scroll} > {client}"
        titles = page.locator("h3.t a")
        assert titles.count() == len(sample_build.issue.reviews)
        for i in range(titles.count()):
            box = titles.nth(i).bounding_box()
            assert box and box["width"] > 0 and box["height"] > 0
            assert box["x"] >= 0 and box["x"] + box["width"] <= client + 0.5
        # Every teaser image loaded (from the local copies) and fits the viewport.
        script = (
            "Array.from(document.images)"
            ".map(i => [i.naturalWidth, i.getBoundingClientRect().right])"
        )
        widths = page.evaluate(script)
        assert all(natural > 0 and right <= client + 0.5 for natural, right in widths)
        rtl = page.locator('div[dir="rtl"]').first
        assert rtl.evaluate("e => getComputedStyle(e).direction") == "rtl"
        page.screenshot(path=str(tmp_path / f"email-{width}.png"), full_page=True)
    finally:
        page.close()
