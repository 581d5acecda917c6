"""Chunked layout: the magazine laid out in pieces on every core, cached piece by piece.

Every review starts on a new page, so the magazine is cut there: the front matter (cover,
editorial, contents) and one chunk per review. Review chunks are laid out position-independent
(see ``pdf.chunk_css``) in worker processes and cached by a digest of everything they are made
from; the contents is laid out last, with the final page numbers; the running heads and folios
are laid out as one light overlay; ``assemble`` puts the pages together.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__
from ..content import Issue
from ..errors import Finding, MagbuilderError, RenderError
from ..files import write_atomic
from ..store import BODY_IMAGE
from .assemble import ChunkPdf, assemble
from .env import Layout, make_env, render_template
from .pdf import Part, chunk_css, magazine_html, render_html, render_part, review_label
from .stack import TextStack, text_stack

log = logging.getLogger(__name__)

PLACEHOLDER_PAGE = 888  # as wide as any realistic page number, for the first contents layout


@dataclass
class ChunkStats:
    """What a chunked layout did, for the build's report and the benchmark."""

    laid_out: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    starts: dict[str, int] = field(default_factory=dict)
    pages: int = 0


def _digest(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()


def _layout_digest(layout: Layout) -> str:
    h = hashlib.sha256()
    for folder in layout.chain:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            h.update(str(path.relative_to(folder)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def _images_digest(issue: Issue, slugs: list[str]) -> str:
    paths = set()
    for review in issue.reviews:
        if review.slug in slugs:
            if review.image:
                paths.add(review.image.src)
            paths.update(BODY_IMAGE.findall(review.body))
    if None in slugs:  # the front matter: the cover
        paths.add(issue.manifest.cover.image)
    h = hashlib.sha256()
    for src in sorted(paths):
        path = issue.content_dir / src
        h.update(src.encode())
        h.update(path.read_bytes() if path.is_file() else b"missing")
    return h.hexdigest()


class ChunkCache:
    """PDFs of laid-out parts under ``build/.cache/chunks/``, named by their input digest."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def get(self, key: str) -> bytes | None:
        path = self.folder / f"{key}.pdf"
        return path.read_bytes() if path.is_file() else None

    def put(self, key: str, data: bytes) -> None:
        write_atomic(self.folder / f"{key}.pdf", data)


# Worker processes are forked with the issue and layout already loaded.
_WORKER: dict[str, object] = {}


def _init_worker(issue: Issue, layout: Layout) -> None:
    _WORKER.update(issue=issue, layout=layout)


def _work(part: Part) -> bytes:
    return render_part(_WORKER["issue"], _WORKER["layout"], part)  # type: ignore[arg-type]


def _chunk_error(issue: Issue, name: str, exc: MagbuilderError) -> RenderError:
    """Say which review's chunk failed."""
    review = next((r for r in issue.reviews if r.slug == name), None)
    where = review_label(issue, review) if review else "front matter"
    if not exc.findings:
        return RenderError(f"{where}: {exc}", [Finding(where, None, str(exc))])
    return RenderError(
        f"{where}: {exc}",
        [
            f
            if review is None or f.message.startswith(where)
            else f.__class__(f.path, f.line, f"{where}: {f.message}", f.level)
            for f in exc.findings
        ],
    )


def _page_count(pdf: bytes) -> int:
    import pikepdf

    with pikepdf.open(io.BytesIO(pdf)) as doc:
        return len(doc.pages)


def _overlay_pages(issue: Issue, starts: dict[str, int], total: int) -> list[dict[str, str]]:
    pages = [dict.fromkeys(("masthead", "section", "title"), "") for _ in range(total)]
    pages[0]["masthead"] = issue.manifest.site.name
    for section in issue.sections:
        for review in section.reviews:
            page = pages[starts[review.slug] - 1]
            page["section"], page["title"] = section.title, review.title
    return pages


def render_chunked(
    issue: Issue,
    layout: Layout,
    cache_dir: Path,
    *,
    jobs: int | None = None,
    force: bool = False,
    progress: Callable[[str], None] | None = None,
    stack: TextStack | None = None,
) -> tuple[bytes, ChunkStats]:
    """Lay out the magazine in chunks (in parallel, from cache where possible) and assemble it.

    Chunks are cached by their inputs and the text stack (``stack``, else this process's):
    a chunk laid out by another Pango or HarfBuzz is never reused.
    """
    cache = ChunkCache(cache_dir)
    stats = ChunkStats()
    stack = stack or text_stack(layout)
    base = _digest(__version__, stack.id, _layout_digest(layout))
    reviews = issue.reviews

    def key_for(part: Part) -> str:
        html = magazine_html(issue, layout, part)
        slugs = [None] if part.front else sorted(part.reviews or [])
        extra = "" if part.front else chunk_css(issue)
        return _digest(base, html, extra, _images_digest(issue, slugs))

    review_parts = {
        r.slug: Part(front=False, reviews=frozenset({r.slug}), chunked=True) for r in reviews
    }
    results: dict[str, bytes] = {}
    keys = {slug: key_for(part) for slug, part in review_parts.items()}
    numbers = {r.slug: PLACEHOLDER_PAGE for r in reviews}
    placeholder = Part(reviews=frozenset(), page_numbers=numbers, chunked=True)
    keys["front-count"] = key_for(placeholder)
    todo: dict[str, Part] = {}
    for name, key in keys.items():
        cached = None if force else cache.get(key)
        if cached is not None:
            results[name] = cached
            stats.cached.append(name)
        else:
            todo[name] = review_parts.get(name, placeholder)

    workers = max(1, min(jobs or os.cpu_count() or 1, len(todo) or 1))
    pending: dict[Future[bytes], str] = {}
    executor = None
    if todo:
        executor = ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(issue, layout))

    def submit(name: str, part: Part) -> None:
        assert executor is not None
        pending[executor.submit(_work, part)] = name

    try:
        # The front matter's length is needed first; then reviews in reading order.
        for name in ["front-count", *[r.slug for r in reviews]]:
            if name in todo:
                submit(name, todo[name])
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                name = pending.pop(future)
                try:
                    results[name] = future.result()
                except MagbuilderError as exc:
                    raise _chunk_error(issue, name, exc) from None
                cache.put(keys[name], results[name])
                stats.laid_out.append(name)
                if progress:
                    progress(name)
    except BaseException:
        if executor:
            executor.shutdown(wait=False, cancel_futures=True)
        raise
    if executor:
        executor.shutdown()

    # Page numbers follow from the page counts; the contents is laid out with them, last,
    # while the running heads (which need only the page numbers) are laid out beside it.
    counts = {r.slug: _page_count(results[r.slug]) for r in reviews}
    front_pages = _page_count(results["front-count"])
    overlay: bytes | Future[bytes] | None = None
    with ProcessPoolExecutor(1) if (jobs or os.cpu_count() or 1) > 1 else SerialExecutor() as side:
        for _attempt in range(3):
            starts, total = _starts(reviews, counts, front_pages)
            overlay = _running_heads(issue, layout, cache, base, starts, total, stats, side)
            final = Part(reviews=frozenset(), page_numbers=starts, chunked=True)
            key = key_for(final)
            front = None if force else cache.get(key)
            if front is None:
                front = render_part(issue, layout, final)
                cache.put(key, front)
                stats.laid_out.append("front")
            else:
                stats.cached.append("front")
            if _page_count(front) == front_pages:
                break
            front_pages = _page_count(front)  # the numbers changed the contents' length: again
        if isinstance(overlay, Future):
            overlay = overlay.result()
    assert isinstance(overlay, bytes)
    chunks = [ChunkPdf(r.slug, results[r.slug]) for r in reviews]
    pdf, stats.starts = assemble(issue, front, chunks, overlay)
    stats.pages = total
    return pdf, stats


def _starts(reviews: list, counts: dict[str, int], front_pages: int) -> tuple[dict[str, int], int]:
    """Each review's first page after ``front_pages`` pages of front matter, and the total."""
    starts, page = {}, front_pages + 1
    for review in reviews:
        starts[review.slug] = page
        page += counts[review.slug]
    return starts, page - 1


class SerialExecutor:
    """An executor stand-in that runs each call at once (one core, or ``--jobs 1``)."""

    def __enter__(self) -> SerialExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def submit(self, fn, *args, **kwargs):  # noqa: ANN001, ANN202
        future: Future = Future()
        future.set_result(fn(*args, **kwargs))
        return future


def _render_html_pdf(issue: Issue, layout: Layout, html: str) -> bytes:
    return render_html(issue, layout, html).write_pdf()


def _running_heads(
    issue: Issue,
    layout: Layout,
    cache: ChunkCache,
    base: str,
    starts: dict[str, int],
    total: int,
    stats: ChunkStats,
    side,  # noqa: ANN001 - an executor for the layout
) -> bytes | Future[bytes]:
    """The running heads and folios of every page: from cache, or being laid out on ``side``."""
    pages = _overlay_pages(issue, starts, total)
    html = render_template(
        make_env(layout), "print/running-heads.html.j2", issue=issue, pages=pages
    )
    key = _digest(base, "running-heads", html)
    cached = cache.get(key)
    if cached is not None:
        stats.cached.append("running-heads")
        return cached
    future = side.submit(_render_html_pdf, issue, layout, html)
    future.add_done_callback(lambda f: f.exception() or cache.put(key, f.result()))
    stats.laid_out.append("running-heads")
    return future
