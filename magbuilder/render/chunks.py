"""Chunked layout: the magazine laid out in pieces on every core, cached piece by piece.

Every review starts on a new page, so the magazine is cut there: the front matter (cover,
editorial, contents) and one chunk per review. Review chunks are laid out position-independent
(see ``magazine.chunk_css``) in worker processes and cached by a digest of everything they are made
from; the contents is laid out last, with the final page numbers; the running heads and folios
are laid out as one light overlay; ``collate`` puts the pages together.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import logging
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field, replace
from pathlib import Path

from .. import __version__
from ..cache import Cache
from ..content import Issue
from ..errors import Finding, MagbuilderError, RenderError
from ..paths import file_digest, layout_files
from ..store import inside
from .collate import ChunkPdf, collate
from .env import make_env, render_template
from .layout import Layout
from .magazine import (
    AD_PAGES,
    BACK,
    Part,
    ad_part,
    has_back_cover,
    magazine_html,
    part_css,
    review_label,
)
from .stack import TextStack, text_stack
from .workers import WorkerPool, lay_out_html, lay_out_prepared

log = logging.getLogger(__name__)

PLACEHOLDER_PAGE = 888  # as wide as any realistic page number, for the first contents layout


@dataclass
class ChunkStats:
    """What a chunked layout did, for the build's report and the benchmark."""

    laid_out: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    starts: dict[str, int] = field(default_factory=dict)
    pages: int = 0
    page_keys: list[str] = field(default_factory=list)  # per page: what it is made from


def _digest(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()


def _layout_digest(layout: Layout) -> str:
    """The layout files a part can use (``paths.layout_files``, as the build stamp lists them)."""
    h = hashlib.sha256()
    for folder in layout.chain:
        for path in layout_files(folder):
            h.update(str(path.relative_to(folder.parent)).encode())
            h.update(file_digest(path).encode())
    return h.hexdigest()


def _images_digest(issue: Issue, slugs: list[str | None]) -> str:
    paths = set()
    for review in issue.reviews:
        if review.slug in slugs:
            paths.update(review.images)
    if None in slugs:  # the front matter, back cover or an ad page: the cover, the ads' art
        paths.add(issue.manifest.cover.image)
        paths.update(src for ad in issue.ads for src in ad.media)
    for number, section in enumerate(issue.sections, start=1):  # a half page's in its chunk
        if section.reviews[-1].slug in slugs and (ad := issue.ad_after("section-end", number)):
            paths.update(ad.media)
    h = hashlib.sha256()
    for src in sorted(paths):
        h.update(src.encode())
        path = inside(issue.content_dir, src)  # nothing outside content/ is read, even here
        h.update(file_digest(path).encode() if path else b"outside")
    return h.hexdigest()


# A part's key from what it is made of, for a process that builds the same issue again and
# again (the preview): rendering every part's HTML on every save costs a tenth of a second.
_PART_KEYS: dict[str, str] = {}


def _part_key(issue: Issue, layout: Layout, base: str, part: Part) -> str:
    """The cache key of a part: a digest of its HTML, its stylesheet and its images."""
    slugs = [None] if part.front or part.back or part.ads else sorted(part.reviews or [])
    images = _images_digest(issue, slugs)
    if part.front or part.back or part.ads:  # they may show every review: nothing smaller does
        made_of = issue.manifest.model_dump_json() + "".join(
            r.model_dump_json() for r in issue.reviews
        )
    else:
        made_of = issue.manifest.model_dump_json() + "".join(
            f"{section.title}\0{review.slug == section.reviews[0].slug}\0{review.model_dump_json()}"
            for section in issue.sections
            for review in section.reviews
            if part.includes(review.slug)
        )
    sections = repr([(s.title, [r.slug for r in s.reviews]) for s in issue.sections])
    ads = "".join(ad.model_dump_json() for ad in issue.ads)
    fingerprint = _digest(base, repr(part), sections, made_of, ads, images)
    if fingerprint not in _PART_KEYS:
        if len(_PART_KEYS) > 2048:
            _PART_KEYS.clear()
        html = magazine_html(issue, layout, part)
        extra = part_css(issue, part)
        _PART_KEYS[fingerprint] = _digest(base, html, extra, images)
    return _PART_KEYS[fingerprint]


def _chunk_error(issue: Issue, name: str, exc: MagbuilderError) -> RenderError:
    """Say which review's chunk failed."""
    review = next((r for r in issue.reviews if r.slug == name), None)
    where = (
        review_label(issue, review)
        if review
        else "back cover"
        if name == "back"
        else "front matter"
    )
    if not exc.findings:
        return RenderError(f"{where}: {exc}", [Finding(where, None, str(exc))])
    return RenderError(
        f"{where}: {exc}",
        [
            f
            if review is None or f.message.startswith(where)
            else replace(f, message=f"{where}: {f.message}")
            for f in exc.findings
        ],
    )


def _page_count(pdf: bytes) -> int:
    import pikepdf

    with pikepdf.open(io.BytesIO(pdf)) as doc:
        return len(doc.pages)


@dataclass
class OverlayPage:
    """One page of the running-heads overlay: the strings first set on it."""

    strings: dict[str, str]


def _overlay_pages(
    issue: Issue, layout: Layout, starts: dict[str, int], total: int
) -> list[OverlayPage]:
    """The strings the layout declares (``Layout.chunking``), set on the pages where the
    magazine sets them."""
    chunking = layout.chunking
    declared = chunking.strings if chunking else ()
    pages = [OverlayPage(dict.fromkeys((name for name, _ in declared), "")) for _ in range(total)]

    def value(source: str, section: object, review: object) -> str:
        kind, attribute = source.split(".")
        owner = {"site": issue.manifest.site, "section": section, "review": review}[kind]
        return str(getattr(owner, attribute, None) or "")

    for name, source in declared:
        if source.startswith("site."):
            pages[0].strings[name] = value(source, None, None)
    for section in issue.sections:
        for review in section.reviews:
            page = pages[starts[review.slug] - 1]
            for name, source in declared:
                if not source.startswith("site."):
                    page.strings[name] = value(source, section, review)
    return pages


def render_chunked(
    issue: Issue,
    layout: Layout,
    cache_dir: Path,
    *,
    pool: WorkerPool | None = None,
    jobs: int | None = None,
    force: bool = False,
    progress: Callable[[str, str], None] | None = None,
    stack: TextStack | None = None,
) -> tuple[bytes, ChunkStats]:
    """The magazine laid out in chunks and assembled, as WeasyPrint made it (see
    ``lay_out_chunked``, whose "base" medium this is)."""
    pdfs, stats = lay_out_chunked(
        issue, layout, cache_dir, pool=pool, jobs=jobs, force=force, progress=progress, stack=stack
    )
    return pdfs["base"], stats


def lay_out_chunked(
    issue: Issue,
    layout: Layout,
    cache_dir: Path,
    *,
    media: tuple[str, ...] = ("base",),
    image_cache: Path | None = None,
    pool: WorkerPool | None = None,
    jobs: int | None = None,
    force: bool = False,
    progress: Callable[[str, str], None] | None = None,
    stack: TextStack | None = None,
) -> tuple[dict[str, bytes], ChunkStats]:
    """Lay out the magazine in chunks (in parallel, from cache where possible) and assemble it,
    once per medium of ``media``: "base" as WeasyPrint made it, "print" and "screen" with the
    images already resampled for those files (``pdfx.prepare_images``, in the workers).

    Chunks are laid out by ``pool`` (a pool of ``jobs`` workers is made for the call if none is
    given), longest first, no more at a time than there are workers; ``progress(event, part)``
    hears ``"laying out"`` and ``"laid out"`` for each (a review's slug, ``front``, …). Chunks
    are cached, per medium, by their inputs and the text stack (``stack``, else this process's):
    a chunk laid out by another Pango or HarfBuzz is never reused.
    """
    if pool is None:
        with WorkerPool(jobs) as own:
            return lay_out_chunked(
                issue,
                layout,
                cache_dir,
                media=media,
                image_cache=image_cache,
                pool=own,
                force=force,
                progress=progress,
                stack=stack,
            )
    cache = Cache(cache_dir, ".pdf")  # PDFs of parts, named by their inputs, checked on read
    stats = ChunkStats()
    stack = stack or text_stack(layout)
    base = _digest(__version__, stack.id, _layout_digest(layout))
    reviews = issue.reviews
    tell = progress or (lambda event, name: None)
    first = media[0]

    def key_for(part: Part) -> str:
        return _part_key(issue, layout, base, part)

    def from_cache(key: str) -> dict[str, bytes] | None:
        found = {medium: cache.get(f"{key}-{medium}") for medium in media}
        return None if force or None in found.values() else found  # type: ignore[return-value]

    def keep(key: str, made: dict[str, bytes]) -> None:
        for medium, data in made.items():
            cache.put(f"{key}-{medium}", data)

    def lay_out(part: Part) -> Future[dict[str, bytes]]:
        return pool.submit(lay_out_prepared, issue, layout, part, media, image_cache)

    parts = {r.slug: Part(front=False, reviews=frozenset({r.slug}), chunked=True) for r in reviews}
    numbers = {r.slug: PLACEHOLDER_PAGE for r in reviews}
    parts["front-count"] = Part(reviews=frozenset(), page_numbers=numbers, chunked=True)
    for slot in AD_PAGES:  # full-page ads of their own, each a chunk
        if issue.ad(slot):
            parts[f"ad:{slot}"] = ad_part(slot)
    if has_back_cover(magazine_html(issue, layout, BACK)):  # on its own left-hand page, last
        parts["back"] = BACK
    keys = {name: key_for(part) for name, part in parts.items()}
    results: dict[str, dict[str, bytes]] = {}
    for name, key in keys.items():
        if (cached := from_cache(key)) is not None:
            results[name] = cached
            stats.cached.append(name)

    # Longest first, so that no worker is left with a long chunk when the others are done.
    cost = {r.slug: len(r.body) + (4000 if r.image else 0) for r in reviews}
    cost["front-count"] = 10**9  # its page count is needed before the contents can be final
    cost["back"] = 0
    todo = sorted((n for n in parts if n not in results), key=lambda n: -cost.get(n, 0))
    pending: dict[Future[dict[str, bytes]], str] = {}
    try:
        while todo or pending:
            while todo and len(pending) < pool.size:
                name = todo.pop(0)
                tell("laying out", name)
                pending[lay_out(parts[name])] = name
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                name = pending.pop(future)
                results[name] = _result(issue, name, future)
                keep(keys[name], results[name])
                stats.laid_out.append(name)
                tell("laid out", name)
    except BaseException:
        for future in pending:
            future.cancel()
        raise

    # Page numbers follow from the page counts; the contents is laid out with them, last,
    # beside the running heads (which need only the page numbers).
    counts = {r.slug: _page_count(results[r.slug][first]) for r in reviews}
    front_pages = _page_count(results["front-count"][first])
    ads = {slot: results[f"ad:{slot}"] for slot in AD_PAGES if f"ad:{slot}" in results}
    lead_ad = _page_count(ads["after-contents"][first]) if "after-contents" in ads else 0
    for _attempt in range(3):
        starts, total = _starts(reviews, counts, front_pages + lead_ad)
        heads = _running_heads(issue, layout, cache, base, starts, total, stats, pool, front_pages)
        final = Part(reviews=frozenset(), page_numbers=starts, chunked=True)
        key = key_for(final)
        front = from_cache(key)
        if front is None:
            tell("laying out", "front")
            front = _result(issue, "front", lay_out(final))
            keep(key, front)
            stats.laid_out.append("front")
            tell("laid out", "front")
        else:
            stats.cached.append("front")
        overlay = heads if isinstance(heads, bytes) else _result(issue, "running heads", heads)
        if _page_count(front[first]) == front_pages:
            break
        front_pages = _page_count(front[first])  # the numbers changed the contents' length: again

    # One assembly per medium: the others by workers meanwhile.
    def chunks(medium: str) -> list[ChunkPdf]:
        return [ChunkPdf(r.slug, results[r.slug][medium]) for r in reviews]

    def back(medium: str) -> bytes | None:
        return results["back"][medium] if "back" in results else None

    def ad_pages(medium: str) -> dict[str, bytes]:
        return {slot: made[medium] for slot, made in ads.items()}

    others = {
        m: pool.submit(collate, issue, front[m], chunks(m), overlay, back(m), ad_pages(m))
        for m in media[1:]
    }
    pdf, part_starts = collate(
        issue, front[first], chunks(first), overlay, back(first), ad_pages(first)
    )
    pdfs = {first: pdf, **{m: future.result()[0] for m, future in others.items()}}
    stats.starts = {r.slug: part_starts[r.slug] for r in reviews}
    stats.pages = _page_count(pdf)
    stats.page_keys = _page_keys(
        issue, layout, keys, key, front_pages, counts, starts, total, keys.get("ad:after-contents")
    )
    # After the reviews: the inside back cover's ad and the back cover, blank pages between.
    ends = sorted((start, name) for name, start in part_starts.items() if start > total)
    for number in range(total + 1, stats.pages + 1):
        start, name = max(((s, n) for s, n in ends if s <= number), default=(0, ""))
        made = _digest(keys[name], str(number - start)) if name else _digest("blank", str(number))
        stats.page_keys.append(made[:16])
    return pdfs, stats


def _page_keys(
    issue: Issue,
    layout: Layout,
    keys: dict[str, str],
    front_key: str,
    front_pages: int,
    counts: dict[str, int],
    starts: dict[str, int],
    total: int,
    lead_ad_key: str | None,
) -> list[str]:
    """A key per page (up to the last review's) that changes whenever what is printed on the
    page may change: the part it comes from and its place in it, its number, and the
    running-head strings in force."""
    made_of = [(front_key, i) for i in range(front_pages)]
    first_review = starts[issue.reviews[0].slug]
    made_of += [(lead_ad_key or "", i) for i in range(first_review - 1 - front_pages)]
    for review in issue.reviews:
        made_of += [(keys[review.slug], i) for i in range(counts[review.slug])]
    strings: dict[str, str] = {}
    page_keys = []
    for number, (part, (key, index)) in enumerate(
        zip(_overlay_pages(issue, layout, starts, total), made_of, strict=True), start=1
    ):
        strings.update({name: value for name, value in part.strings.items() if value})
        page_keys.append(_digest(key, str(index), str(number), repr(sorted(strings.items())))[:16])
    return page_keys


def _result(issue: Issue, name: str, future: Future):  # noqa: ANN202 - what the future holds
    try:
        return future.result()
    except MagbuilderError as exc:
        raise _chunk_error(issue, name, exc) from None


def _starts(reviews: list, counts: dict[str, int], front_pages: int) -> tuple[dict[str, int], int]:
    """Each review's first page after ``front_pages`` pages of front matter, and the total."""
    starts, page = {}, front_pages + 1
    for review in reviews:
        starts[review.slug] = page
        page += counts[review.slug]
    return starts, page - 1


def _running_heads(
    issue: Issue,
    layout: Layout,
    cache: Cache,
    base: str,
    starts: dict[str, int],
    total: int,
    stats: ChunkStats,
    pool: WorkerPool,
    front_pages: int,
) -> bytes | Future[bytes]:
    """The running heads and folios of every page: from cache, or being laid out by ``pool``."""
    pages = _overlay_pages(issue, layout, starts, total)
    chunking = layout.chunking
    # The front matter's pages, a full-page ad's after it, then each review's: the overlay puts
    # a review's pages in an element of the layout's own review class (and an ad's in its ad
    # page's), so they get the magazine's page rules.
    cuts = [0, front_pages, *(starts[r.slug] - 1 for r in issue.reviews), total]
    groups = [pages[a:b] for a, b in itertools.pairwise(cuts)]
    html = render_template(
        make_env(layout),
        "print/running-heads.html.j2",
        issue=issue,
        front=groups[0],
        ad=groups[1],
        reviews=groups[2:],
        strings=[name for name, _ in chunking.strings] if chunking else [],
    )
    key = _digest(base, "running-heads", html)
    cached = cache.get(key)
    if cached is not None:
        stats.cached.append("running-heads")
        return cached
    future = pool.submit(lay_out_html, issue, layout, html)
    future.add_done_callback(lambda f: f.exception() or cache.put(key, f.result()))
    stats.laid_out.append("running-heads")
    return future
