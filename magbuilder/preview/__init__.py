"""A live preview of one issue: the email at desktop and phone widths and the magazine's pages.

``serve_preview`` runs the engine (``engine.py``: watch, rebuild warm, redraw the pages that
changed) behind a small web server on a loopback address (``server.py``), whose page swaps in
just the redrawn page images as builds finish.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from pathlib import Path

from .engine import Preview, State, render_pages
from .server import check_loopback, make_server, render_page, server_url

__all__ = [
    "Preview",
    "State",
    "check_loopback",
    "make_server",
    "render_page",
    "render_pages",
    "serve_preview",
    "server_url",
]


def serve_preview(
    manifest: Path | str,
    host: str = "127.0.0.1",
    port: int = 8000,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve a live preview of ``manifest`` until interrupted (Ctrl-C).

    Raises UsageError for a non-loopback host or a port that cannot be opened.
    """
    check_loopback(host)
    logging.getLogger("watchfiles").setLevel(logging.WARNING)  # no "2 changes detected" chatter
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops it as Ctrl-C does, workers too
    preview = Preview(manifest)
    server = make_server(preview, host, port)
    try:
        preview.start()
        if on_ready:
            on_ready(server_url(server))
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        preview.close()
        server.server_close()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
