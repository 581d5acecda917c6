"""Builds are offline and sandboxed: review HTML cannot read local files or reach the network.

A real HTTP server on 127.0.0.1 records every connection; hostile markup in a review is either
dropped by the sanitiser or refused by WeasyPrint's URL fetcher (naming the review and the URL),
and the server never hears from the build.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PIL import Image

from magbuilder.build import BuildOptions, build_issue
from magbuilder.checks import check_issue
from magbuilder.errors import InputError, RenderError
from magbuilder.manifest import load_issue
from magbuilder.render.env import Layout
from magbuilder.render.pdf import magazine_html

from .conftest import manifest_text, review_text

pytestmark = pytest.mark.slow  # builds issues


class Recorder(ThreadingHTTPServer):
    """Records every connection, before any request is even parsed."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.connections: list[tuple[str, int]] = []

    def process_request(self, request, client_address) -> None:  # noqa: ANN001
        self.connections.append(client_address)
        super().process_request(request, client_address)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.end_headers()
        self.wfile.write(b"body { background: red; }")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[Recorder]:
    recorder = Recorder()
    thread = threading.Thread(target=recorder.serve_forever, daemon=True)
    thread.start()
    yield recorder
    recorder.shutdown()
    recorder.server_close()
    thread.join(5)


def url(server: Recorder, path: str) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/{path}"


def project(tmp_project, body: str, manifest: str | None = None) -> Path:
    return tmp_project(
        {
            "content/reviews/a.md": review_text("Alpha") + "\n" + body + "\n\nLast words.\n",
            "issues/t-1.yaml": manifest or manifest_text(["a"]),
        }
    )


def test_the_server_records_connections(server):
    import urllib.request

    with urllib.request.urlopen(url(server, "probe"), timeout=5) as response:  # noqa: S310
        assert response.status == 200
    assert len(server.connections) == 1


def test_hostile_markup_is_dropped_and_nothing_is_fetched(tmp_project, tmp_path, server):
    body = "\n\n".join(
        [
            '<img src="file:///etc/passwd" alt="secret">',
            f'<link rel="stylesheet" href="{url(server, "x.css")}">',
            f'<iframe src="{url(server, "frame")}"></iframe>',
            f'<script src="{url(server, "x.js")}"></script>',
            f'<object data="{url(server, "x.swf")}"></object>',
            f'<p style="background: url({url(server, "bg.png")})">Styled.</p>',
        ]
    )
    root = project(tmp_project, body)
    result = build_issue(root / "issues/t-1.yaml", tmp_path / "out")

    assert server.connections == []
    issue = load_issue(root / "issues/t-1.yaml")
    html = magazine_html(issue, Layout(issue.layouts_dir))
    for gone in ("passwd", "127.0.0.1", "<iframe", '<link rel="stylesheet" href="http', "style="):
        assert gone not in html
    newsletter = result.files["newsletter.html"].read_text()
    assert "127.0.0.1" not in newsletter and "passwd" not in newsletter
    # check names what the build silently dropped
    found = {f.message.split(" ")[0]: f for f in check_issue(root / "issues/t-1.yaml")}
    assert {"<link>", "<iframe>", "<script>", "<object>"} <= set(found)
    assert found["image"].level == "error" and "file:///etc/passwd" in found["image"].message


@pytest.mark.parametrize("single_pass", [False, True], ids=["chunked", "single-pass"])
@pytest.mark.parametrize(
    "src", ["remote", "../../../../../../../../../etc/passwd"], ids=["remote", "dot-dot"]
)
def test_images_outside_the_sandbox_are_refused_naming_review_and_url(
    tmp_project, tmp_path, server, single_pass, src
):
    src = url(server, "pixel.png") if src == "remote" else src
    root = project(tmp_project, f'<img src="{src}" alt="x">')
    with pytest.raises(RenderError) as info:
        build_issue(
            root / "issues/t-1.yaml", tmp_path / "out", BuildOptions(single_pass=single_pass)
        )
    report = info.value.report()
    refused = src if src.startswith("http") else "file:///etc/passwd"
    assert f"review 'a' (content/reviews/a.md): refused {refused}" in report
    line = next(
        n
        for n, text in enumerate((root / "content/reviews/a.md").read_text().splitlines(), 1)
        if src in text
    )
    assert report.startswith(f"content/reviews/a.md:{line}: ")
    assert server.connections == []
    assert not (tmp_path / "out" / "t-1").exists()  # nothing written


@pytest.fixture
def outside_image(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("outside") / "private.jpg"
    Image.new("RGB", (2400, 1600), (200, 0, 0)).save(path)
    return path


def test_a_hero_symlinked_out_of_content_is_refused(tmp_project, outside_image):
    root = tmp_project(
        {
            "content/reviews/a.md": review_text("Alpha", image="\n  src: media/x.jpg\n  alt: x"),
            "issues/t-1.yaml": manifest_text(["a"]),
        }
    )
    (root / "content/media/x.jpg").symlink_to(outside_image)
    with pytest.raises(InputError) as info:
        load_issue(root / "issues/t-1.yaml")
    assert info.value.report() == (
        "content/reviews/a.md:7: image 'media/x.jpg' must be a relative path inside content/, "
        "e.g. media/photo.jpg"
    )


def test_a_body_image_symlinked_out_of_content_is_refused(tmp_project, tmp_path, outside_image):
    root = project(tmp_project, '<img src="media/x.jpg" alt="x">')
    (root / "content/media/x.jpg").symlink_to(outside_image)
    with pytest.raises(RenderError) as info:
        build_issue(root / "issues/t-1.yaml", tmp_path / "out")
    report = info.value.report()
    assert "review 'a' (content/reviews/a.md): refused file://" in report
    assert "content/media/x.jpg" in report


def test_a_layout_cannot_reach_the_network_either(tmp_project, tmp_path, server):
    root = project(tmp_project, "Plain.", manifest_text(["a"], layout="custom"))
    css = root / "layouts/custom/print/print.css"
    css.parent.mkdir(parents=True)
    css.write_text(
        "@import url(../../default/print/print.css);\n"
        f"@import url({url(server, 'remote.css')});\n"
        f'@font-face {{ font-family: "Remote"; src: url({url(server, "f.woff2")}); }}\n'
        'h1 { font-family: "Remote"; }\n'
    )
    with pytest.raises(RenderError) as info:
        build_issue(root / "issues/t-1.yaml", tmp_path / "out", BuildOptions(single_pass=True))
    report = info.value.report()
    assert f"layouts/custom/print/print.css:2: refused {url(server, 'remote.css')}" in report
    assert server.connections == []
