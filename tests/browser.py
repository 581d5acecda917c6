"""Headless Chromium for tests: Debian's ``chromium`` driven by Playwright (no bundled browser)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Route, sync_playwright

from magbuilder.render import browser as chromium


def chromium_path() -> str:
    found = chromium.chromium_path()
    assert found, chromium.MISSING
    return found


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the whole test session."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=chromium.ARGS)
        yield browser
        browser.close()


def open_page(
    browser: Browser, url: str, width: int, remote: dict[str, Path] | None = None
) -> Page:
    """Open ``url`` at a viewport ``width`` CSS pixels wide.

    Requests to ``http(s)`` URLs are answered from ``remote`` (URL prefix → local folder),
    as the image host would; any other network request fails, as it must offline.
    """
    page = browser.new_page(viewport={"width": width, "height": 900})

    def serve(route: Route) -> None:
        for prefix, folder in (remote or {}).items():
            if route.request.url.startswith(prefix):
                path = folder / route.request.url[len(prefix) :].split("?")[0]
                if path.is_file():
                    route.fulfill(path=str(path))
                    return
        route.abort()

    page.route(re.compile(r"^https?://"), serve)
    page.goto(url, wait_until="load")
    return page
