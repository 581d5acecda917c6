"""The live preview: a real server process on a free port, rebuilding as files are edited."""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from magbuilder.cli import main
from magbuilder.errors import UsageError
from magbuilder.preview import check_loopback

from .conftest import manifest_text, review_text

pytestmark = pytest.mark.slow  # a real preview server rebuilding an issue

TIMEOUT = 30  # seconds for any one thing to happen; a rebuild of this project takes about one


def wait_for(what: str, condition: Callable[[], object], timeout: float = TIMEOUT) -> object:
    """Poll ``condition`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as reply:  # noqa: S310 - our own server
            return (
                reply.status,
                reply.headers.get_content_type(),
                reply.read().decode("utf-8", "replace"),
            )
    except urllib.error.HTTPError as exc:
        return exc.code, "", ""


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_hosts_are_allowed(host):
    check_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "example.org"])
def test_other_hosts_are_refused_with_exit_code_2(host, tmp_path, capsys):
    with pytest.raises(UsageError):
        check_loopback(host)
    manifest = tmp_path / "i.yaml"
    manifest.write_text("id: x\n")
    assert main(["preview", str(manifest), "--host", host, "--port", "0"]) == 2
    assert "loopback" in capsys.readouterr().err


@pytest.fixture
def project(tmp_project) -> Path:
    return tmp_project(
        {
            "content/reviews/a.md": review_text("Alpha"),
            "content/reviews/b.md": review_text("Beta"),
            "issues/t-1.yaml": manifest_text(["a", "b"]),
        }
    )


@pytest.fixture
def preview(project: Path, tmp_path: Path) -> Iterator[str]:
    """``magbuilder preview issues/t-1.yaml --port 0`` running in the project; yields its URL."""
    log = (tmp_path / "preview.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "magbuilder", "preview", "issues/t-1.yaml", "--port", "0"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        ready, _, _ = select.select([proc.stdout], [], [], TIMEOUT)
        line = proc.stdout.readline() if ready else ""
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert found, f"no URL printed: {line!r}; log: {(tmp_path / 'preview.log').read_text()}"
        assert found.group(1) != "0"
        yield found.group(0)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()
        print((tmp_path / "preview.log").read_text())  # pytest shows it when the test failed


def test_preview_rebuilds_on_save_and_shows_errors(preview, project, browser):
    def email() -> str:
        status, kind, body = get(preview + "email.html")
        return body if status == 200 and kind == "text/html" else ""

    wait_for("the first build", lambda: "Alpha" in email())
    status, _, page = get(preview)
    assert status == 200
    assert 'class="desktop"' in page and 'class="phone"' in page
    pages = re.findall(r'src="(/out/pages/page-\d+\.png)', page)
    assert pages, "the PDF's pages are shown"
    assert get(preview + pages[0].lstrip("/"))[1] == "image/png"

    tab = browser.new_page(viewport={"width": 1280, "height": 900})
    tab.route("**/*", lambda r: r.continue_() if r.request.url.startswith(preview) else r.abort())
    try:
        tab.goto(preview, wait_until="load")
        widths = tab.eval_on_selector_all("iframe", "fs => fs.map(f => f.clientWidth)")
        assert widths == [640, 375]

        # Edit a review: the served email changes, and the open page reloads by itself.
        (project / "content/reviews/a.md").write_text(review_text("Borealis"), "utf-8")
        wait_for("the edited review in the email", lambda: "Borealis" in email())
        tab.wait_for_function(
            "() => (document.querySelector('iframe.phone')?.contentDocument?.body?.innerText"
            " || '').includes('Borealis')",
            timeout=TIMEOUT * 1000,
        )

        # Break the manifest: the error is shown with its path:line, the last good render stays.
        manifest = project / "issues/t-1.yaml"
        manifest.write_text(manifest_text(["a", "b"], number='"forty"'), "utf-8")

        def error() -> str | None:
            return json.loads(get(preview + "version")[2])["error"]

        assert re.match(r"issues/t-1\.yaml:2: number", wait_for("the error", error))
        status, _, page = get(preview)
        assert status == 200 and "issues/t-1.yaml:2: number" in page
        assert "Borealis" in email()
        tab.wait_for_selector(".error >> text=issues/t-1.yaml:2", timeout=TIMEOUT * 1000)
        assert tab.locator("iframe.desktop").count() == 1  # still showing the last render

        # Fix it again: the server is still there and the error goes away.
        manifest.write_text(manifest_text(["b"]), "utf-8")
        wait_for("the fixed build", lambda: error() is None and "Borealis" not in email())
    finally:
        tab.close()


def test_an_edit_swaps_only_the_changed_pages_without_reloading(preview, project, browser):
    def version() -> int:
        return json.loads(get(preview + "version")[2])["version"]

    wait_for("the first build", lambda: version() >= 1)
    stamp = project / "build/.preview/t-1/t-1/.build-stamp.json"
    starts, pages = (json.loads(stamp.read_text())[k] for k in ("starts", "pages"))
    tab = browser.new_page(viewport={"width": 1280, "height": 900})
    tab.route("**/*", lambda r: r.continue_() if r.request.url.startswith(preview) else r.abort())
    try:
        tab.goto(preview, wait_until="load")
        tab.evaluate("window.notReloaded = true")  # gone if the page reloads
        sources = "() => [...document.querySelectorAll('#pages img')].map(i => i.src)"
        before = tab.evaluate(sources)
        assert len(before) == pages
        # One word of review b's body: only b's pages (the last ones) may change.
        review = project / "content/reviews/b.md"
        review.write_text(review.read_text().replace("Word60 ", "Wordxx "), "utf-8")
        tab.wait_for_function(
            f"() => [...document.querySelectorAll('#pages img')].some((i, n) => i.src !== "
            f"{json.dumps(before)}[n])",
            timeout=TIMEOUT * 1000,
        )
        after = tab.evaluate(sources)
        changed = [
            n for n, (old, new) in enumerate(zip(before, after, strict=True), 1) if old != new
        ]
        assert changed == list(range(starts["b"], pages + 1))
        assert tab.evaluate("window.notReloaded") is True
        assert "redrawn" in tab.inner_text("#status")
        for n in changed:  # the new images are there and are pictures of pages
            status, kind, _ = get(preview + after[n - 1].removeprefix(preview))
            assert (status, kind) == (200, "image/png")
    finally:
        tab.close()


# Host header → the status the preview must answer (one preview serves every row).
HOSTS = {
    "{name}:{port}": 200,
    "localhost:{port}": 200,
    "evil.example:{port}": 421,  # a rebinding site's name that points at 127.0.0.1
    "127.0.0.1:1": 421,
    "": 421,
}


def test_the_watch_filter_follows_what_the_issue_is_made_of(tmp_project):
    """A save to a review the issue does not use rebuilds nothing; one to a body image does,
    even written as a reference-style image; after a failed build every file in content/ may
    be the one it was missing."""
    from watchfiles import Change

    from magbuilder.preview.engine import Preview

    project = tmp_project(
        {
            "content/reviews/a.md": review_text("Alpha") + "\n![A still][still]\n\n"
            "[still]: media/still.jpg\n",
            "content/reviews/unused.md": review_text("Unused"),
            "issues/t-1.yaml": manifest_text(["a"]),
        }
    )
    shutil.copy(project / "content/media/cover.jpg", project / "content/media/still.jpg")
    engine = Preview(project / "issues/t-1.yaml", work_dir=project / "work")
    try:
        engine.rebuild()
        assert engine.snapshot().error is None

        def relevant(name: str) -> bool:
            return engine.relevant(Change.modified, str(project / name))

        assert relevant("content/reviews/a.md") and relevant("content/media/still.jpg")
        assert relevant("issues/t-1.yaml") and relevant("layouts/default/print/print.css")
        assert not relevant("content/reviews/unused.md")
        assert not relevant("content/media/elsewhere.jpg")
        (project / "issues/t-1.yaml").write_text(manifest_text(["a", "missing"]))
        engine.rebuild()
        assert engine.snapshot().error is not None
        assert relevant("content/reviews/unused.md")
    finally:
        engine.pool.close(cancel=True)


def test_requests_must_name_this_server_by_a_loopback_host(preview):
    import http.client

    parts = urlsplit(preview)
    answered = {}
    for host in HOSTS:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
        connection.putrequest("GET", "/version", skip_host=True)
        connection.putheader("Host", host.format(name=parts.hostname, port=parts.port))
        connection.endheaders()
        answered[host] = connection.getresponse().status
        connection.close()
    assert answered == HOSTS
