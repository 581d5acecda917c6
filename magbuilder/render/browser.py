"""Headless Chromium: Debian's ``chromium`` driven by Playwright, never a downloaded browser.

Used where a page must look as a reader's browser shows it (the sponsors' proofs: the email
block at 600 px). Nothing is fetched from the network: every ``http(s)`` request is answered
by the caller's ``serve`` or refused.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ..errors import RenderError

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MISSING = "Chromium is missing: `make system` installs it (apt-get install chromium)"


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium for the block."""
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    if path is None:
        raise RenderError(MISSING)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def offline_page(
    browser: Browser,
    width: int,
    html: str,
    serve: Callable[[str], bytes | None],
    scale: int = 1,
) -> Page:
    """``html`` in a page ``width`` CSS pixels wide (``scale`` device pixels to one);
    ``serve(url)`` answers ``http(s)`` requests (None: refused, as offline)."""
    page = browser.new_page(viewport={"width": width, "height": 900}, device_scale_factor=scale)

    def answer(route) -> None:  # noqa: ANN001 - playwright's Route
        body = serve(route.request.url)
        if body is None:
            route.abort()
        else:
            route.fulfill(body=body)

    page.route(re.compile(r"^https?://"), answer)
    page.set_content(html, wait_until="load")
    return page
