"""Worker processes that start warm: WeasyPrint imported once, in a fork server.

Importing WeasyPrint costs about a second per process (cffi parses its C declarations). The
workers of a ``WorkerPool`` are forked from multiprocessing's fork server, which imports the
renderers once when it starts (``PRELOAD``): each worker is ready in milliseconds, and the
build's own process never imports WeasyPrint at all. ``warm_up`` starts the server at the
beginning of a build, so the import runs while the issue is still being read. A preview keeps
one pool for its whole session; a build makes one and closes it.

Workers ignore Ctrl-C (the process that owns the pool decides what an interruption means), log
at the levels of the process that made the pool, and end when it has ended.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..content import Issue
    from .layout import Layout
    from .magazine import Part

# What the fork server imports before it forks any worker: everything a worker runs.
PRELOAD = ["magbuilder.render.pdf", "magbuilder.render.finish", "magbuilder.render.email"]
WATCH_S = 0.5  # how often a worker checks that its owner still runs
# Loggers whose levels workers take from the process that makes the pool ("": the root).
LOGGERS = ("", "magbuilder", "weasyprint", "fontTools", "pikepdf")


def _context() -> multiprocessing.context.BaseContext | None:
    """The fork server's context, with the renderers preloaded; None where there is none."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return None
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


def warm_up() -> None:
    """Start the fork server now: it imports WeasyPrint while the caller goes on."""
    if _context() is not None:
        from multiprocessing import forkserver

        with _without_main():
            forkserver.ensure_running()


@contextmanager
def _without_main() -> Iterator[None]:
    """Start processes that do not run the caller's main script again.

    A worker started by a fork server imports the caller's ``__main__`` first (from its module
    name or its file), which a script without ``if __name__ == "__main__":`` does not survive,
    and a script read from standard input cannot do. Workers run magbuilder's functions only,
    so while they start the main module shows neither.
    """
    main = sys.modules["__main__"]
    spec, path = getattr(main, "__spec__", None), getattr(main, "__file__", None)
    main.__spec__ = None
    if path is not None:
        del main.__file__
    try:
        yield
    finally:
        main.__spec__ = spec
        if path is not None:
            main.__file__ = path


def _start_worker(owner: int, levels: dict[str, int]) -> None:
    """Ignore Ctrl-C, log as the owner does (its levels, plain messages on stderr), and end
    when the owner has ended, however it ended."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(format="%(message)s", level=levels.pop(""))
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    threading.Thread(target=_follow, args=(owner,), daemon=True).start()


def _follow(owner: int) -> None:
    """Exit when ``owner`` is gone. A worker's parent is the fork server, not the owner, and a
    pool's worker waits for work forever: killed without its cleanup (kill -9, a crash), the
    owner would leave its workers (and, through them, the fork server) running, holding its
    output pipes open."""
    while _alive(owner):
        time.sleep(WATCH_S)
    os._exit(0)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:  # no /proc: ask the kernel (a zombie still answers there)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return state not in ("Z", "X")  # a zombie has ended; only its parent hasn't looked yet


def cores(jobs: int | None = None) -> int:
    """How many workers ``jobs`` means: itself, or one per core."""
    return max(1, jobs or os.cpu_count() or 1)


class WorkerPool:
    """A pool of warm worker processes (``jobs`` of them; default: one per core)."""

    def __init__(self, jobs: int | None = None) -> None:
        self.size = cores(jobs)
        self._executor: ProcessPoolExecutor | None = None

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        """Run ``fn(*args, **kwargs)`` in a worker (a module-level function: it is pickled)."""
        if self._executor is None:
            levels = {name: logging.getLogger(name).level for name in LOGGERS}
            self._executor = ProcessPoolExecutor(
                self.size,
                mp_context=_context(),
                initializer=_start_worker,
                initargs=(os.getpid(), levels),
            )
        with _without_main():  # workers start here, on demand
            return self._executor.submit(fn, *args, **kwargs)

    def close(self, cancel: bool = False) -> None:
        """Stop the workers (``cancel``: drop queued work and don't wait for running work)."""
        if self._executor is not None:
            self._executor.shutdown(wait=not cancel, cancel_futures=cancel)
            self._executor = None

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, kind: object, *rest: object) -> None:
        self.close(cancel=kind is not None)


# What workers run: imported there (the fork server has them loaded), never by the caller.


def lay_out_part(issue: Issue, layout: Layout, part: Part) -> bytes:
    """``render/pdf.render_part`` in a worker: one part of the magazine as a tagged PDF."""
    from .pdf import render_part

    return render_part(issue, layout, part)


def lay_out_prepared(
    issue: Issue, layout: Layout, part: Part, media: tuple[str, ...], image_cache: Path | None
) -> dict[str, bytes]:
    """One part laid out, then, per medium, as it goes into that file: "base" as laid out,
    "print" and "screen" with their images resampled (``pdfx.prepare_images``)."""
    from .pdf import render_part
    from .pdfx import prepare_images

    pdf = render_part(issue, layout, part)
    return {
        medium: pdf if medium == "base" else prepare_images(pdf, medium, image_cache)
        for medium in media
    }


def lay_out_html(issue: Issue, layout: Layout, html: str) -> bytes:
    """Any HTML of the layout (the running heads) laid out in the sandbox, as a PDF."""
    from .pdf import html_to_pdf

    return html_to_pdf(issue, layout, html)
