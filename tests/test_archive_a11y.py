"""The archive's pages under axe-core in headless Chromium: no serious or critical violation.

axe-core is the npm package in node_modules/ (package-lock.json pins it); it is injected into each
page as the site is served over HTTP, at a phone's width and a desktop's.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from .conftest import REPO
from .test_archive import ARABIC, server, site, visit  # noqa: F401 - the module's fixtures

AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
PAGES = [
    "index.html",
    "2026-12/index.html",
    "2026-12/soundings/index.html",
    f"2026-12/{ARABIC}/index.html",  # right to left, in Arabic, inside an English frame
    "2026-11/nb/index.html",  # a language edition, linking to the issue in English
]
WIDTHS = (375, 1280)
BLOCKING = {"serious", "critical"}


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Run axe-core (injected already) on the open page: its violations, by every rule axe runs
    by default."""
    return page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )


def report(violations: list[dict[str, Any]]) -> str:
    return json.dumps(
        [
            {
                "id": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "targets": [node["target"] for node in v["nodes"]],
            }
            for v in violations
        ],
        indent=1,
        ensure_ascii=False,
    )


@pytest.mark.parametrize("name", PAGES)
def test_no_serious_accessibility_violation(browser, server, name):  # noqa: F811
    """At a phone's width, then, on the same page, a desktop's (a reload costs a second)."""
    assert AXE.is_file(), f"{AXE} is missing: `make test` installs it from package-lock.json"
    found: dict[int, list[dict[str, Any]]] = {}
    page, failed = visit(browser, server + name, WIDTHS[0])
    try:
        assert failed == [], failed
        page.add_script_tag(path=str(AXE))
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            blocking = [v for v in axe_violations(page) if v["impact"] in BLOCKING]
            if blocking:
                found[width] = blocking
    finally:
        page.close()
    assert found == {}, "\n".join(f"{name} at {w}px:\n{report(v)}" for w, v in found.items())
