"""Build an issue: load and validate it, render every output, write them all or none.

Outputs in ``<out>/<id>/``: ``magazine.pdf`` (printer's file, PDF/X-4), ``magazine-screen.pdf``
(reader's file), ``magazine.epub`` (reflowable EPUB 3, its page list the print edition's),
``newsletter.html``, ``newsletter.txt``, ``newsletter.eml``, ``images/``, the sponsors' proofs
(``proofs/<sponsor>.pdf``, when the issue books ads) and the build stamp.
Everything is rendered in memory, written to a new folder beside the outputs, checked by
preflight, and only then exchanged with the old folder in one step: a failed or interrupted
build leaves the previous outputs intact, and nobody ever sees a mix of the two.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .cache import prune
from .errors import InputError, Level, OutputError, RenderError
from .files import replace_folder
from .paths import (
    EPUB,
    NEWSLETTER_EML,
    NEWSLETTER_HTML,
    NEWSLETTER_TEXT,
    PRINT_PDF,
    SCREEN_PDF,
    issue_inputs,
)
from .stamp import STAMP, Stamp, drift

if TYPE_CHECKING:  # the validated model is imported when a build needs it: `up to date` doesn't
    from .content import Issue

log = logging.getLogger(__name__)

PROOF_INPUTS = (PRINT_PDF, SCREEN_PDF, NEWSLETTER_HTML)  # and the newsletter's images/
CMYK_PROFILE = "assets/icc/FOGRA39L-coated.icc"
SRGB_PROFILE = "assets/icc/sRGB.icc"


@dataclass(frozen=True)
class BuildOptions:
    """How to build: parallelism, caching and the print file's extras."""

    jobs: int | None = None  # worker processes for the layout; None: one per core
    single_pass: bool = False  # lay out the whole magazine in one pass (the reference)
    keep_html: bool = False  # also write magazine.html, the single-pass source
    force: bool = False  # ignore the caches and rebuild everything
    marks: bool | None = None  # crop marks on the print file; None: the manifest's setting
    preflight: bool = True
    preview: bool = False  # only what a preview shows: the screen file and the newsletter
    cache: Path | None = None  # chunks and resampled images; None: <out>/.cache


@dataclass(frozen=True)
class BuildResult:
    """Where a build wrote its outputs, and what it had to do."""

    issue: Issue
    out_dir: Path
    files: dict[str, Path]
    up_to_date: bool = False
    laid_out: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)  # what moved since a build on another stack
    page_keys: list[str] = field(default_factory=list)  # per page: changes when the page does
    stages: dict[str, float] = field(default_factory=dict)  # seconds: read, lay out, finish, write
    editions: dict[str, BuildResult] = field(default_factory=dict)  # language → its build


def build_settings(options: BuildOptions) -> str:
    """What, besides the input files, changes the outputs: magbuilder's version, the options
    that shape them and ``SOURCE_DATE_EPOCH``."""
    chosen = (options.single_pass, options.keep_html, options.marks, options.preview)
    return repr((__version__, *chosen, os.environ.get("SOURCE_DATE_EPOCH", "")))


def inputs_digest(inputs: dict[str, str], settings: str) -> str:
    """One digest of the input files and the settings (the nothing-changed shortcut's key)."""
    blob = "\n".join(f"{name}\0{digest}" for name, digest in sorted(inputs.items()))
    return hashlib.sha256(f"{blob}\n{settings}".encode()).hexdigest()


def metadata_date(issue: Issue) -> dt.datetime:
    """The date written into PDFs: ``SOURCE_DATE_EPOCH`` if set, else the issue's date."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC)
    return dt.datetime.combine(issue.manifest.date, dt.time(0, 0), tzinfo=dt.UTC)


def build_issue(
    manifest_path: Path | str,
    out: Path | str = "build",
    options: BuildOptions | None = None,
    *,
    pool=None,  # noqa: ANN001 - a render.workers.WorkerPool to reuse (the preview's)
    progress: Callable[[str, str], None] | None = None,
) -> BuildResult:
    """Build one issue's magazine (print and screen PDFs) and newsletter (HTML, text, MIME).

    Nothing is written unless every output rendered and the print file passed preflight.
    When no input changed since the last build, nothing is done at all. The layout runs in
    ``pool``'s warm workers (a pool is made for the build if none is given); ``progress``
    hears ``("laying out" | "laid out", what)``, what being a review's title in quotes, "the
    contents", "the running heads" or "the front matter".
    """
    from .manifest import load_issue
    from .render.workers import WorkerPool

    started = time.perf_counter()
    options = options or BuildOptions()
    issue = load_issue(manifest_path)
    out_dir = Path(out) / issue.id
    if not issue.editions or options.preview:  # a preview shows the issue's own language
        return _build(issue, out_dir, Path(out), options, pool, progress, started)
    # One pool for every edition: its warm workers lay out one edition after the other.
    with nullcontext(pool) if pool else WorkerPool(options.jobs) as workers:
        result = _build(issue, out_dir, Path(out), options, workers, progress, started)
        editions = {
            lang: _build(edition, out_dir / lang, Path(out), options, workers, progress)
            for lang, edition in issue.editions.items()
        }
    return replace(result, editions=editions)


def _build(
    issue: Issue,
    out_dir: Path,
    out: Path,
    options: BuildOptions,
    pool,  # noqa: ANN001 - a render.workers.WorkerPool, or None for one of its own
    progress: Callable[[str, str], None] | None,
    started: float | None = None,
) -> BuildResult:
    """One edition of the issue into ``out_dir`` (the issue's folder, or its ``<lang>/``)."""
    from .render.layout import Layout  # light: the build asks for fonts before deciding
    from .render.stack import text_stack

    started = started or time.perf_counter()
    layout = Layout(issue.layouts_dir, issue.manifest.layout)
    stack = text_stack(layout)
    inputs, settings = issue_inputs(issue), build_settings(options)
    digest = inputs_digest(inputs, settings)
    previous = Stamp.read(out_dir)
    if not options.force and previous and previous.current(out_dir, digest, stack):
        files = {name: out_dir / name for name in previous.files}
        return BuildResult(issue=issue, out_dir=out_dir, files=files, up_to_date=True)

    from .render.workers import WorkerPool, warm_up

    warm_up()  # the fork server imports WeasyPrint while this process reads and renders HTML
    if progress is not None:
        progress = _naming_parts(issue, progress)
    stages = {"read": time.perf_counter() - started}
    with nullcontext(pool) if pool else WorkerPool(options.jobs) as workers:
        outputs, base, stats, warnings = _make(
            issue, layout, out, options, stack, workers, progress, stages
        )
        written = time.perf_counter()
        checked = None
        if options.preflight and not options.preview:  # a worker checks while files are written
            checked = workers.submit(_preflight, issue, outputs[PRINT_PDF])
        starts, pages = _openings(base, issue)
        stamp = Stamp(
            digest=digest,
            inputs=inputs,
            settings=settings,
            stack=stack,
            files=sorted(outputs),
            pages=pages,
            starts=starts,
            titles={review.slug: review.title for review in issue.reviews},
        )

        def check(staged: Path) -> None:
            if checked is not None:
                for warning in checked.result():
                    log.warning("%s", warning)
                    warnings.append(warning)

        ours = set(previous.files) if previous else set()
        try:
            replace_folder(out_dir, {**outputs, STAMP: stamp.to_bytes()}, ours=ours, check=check)
        except OSError as exc:  # a full disk, a read-only folder: nothing was replaced
            raise OutputError.writing(out_dir, exc) from None
        prune(options.cache or out / ".cache")  # entries long unused, oldest beyond the cap
        stages["write"] = time.perf_counter() - written
    return BuildResult(
        issue=issue,
        out_dir=out_dir,
        files={name: out_dir / name for name in outputs},
        laid_out=stats.laid_out,
        cached=stats.cached,
        warnings=warnings,
        drift=drift(issue.id, previous, stamp),
        page_keys=stats.page_keys,
        stages={name: round(seconds, 3) for name, seconds in stages.items()},
    )


def _naming_parts(issue: Issue, progress: Callable[[str, str], None]) -> Callable[[str, str], None]:
    """``progress`` told what a person calls each part, not its slug."""
    names = {r.slug: f"'{r.title}'" for r in issue.reviews}
    names.update({"front": "the contents", "front-count": "the front matter"})
    return lambda event, part: progress(event, names.get(part, part.replace("-", " ")))


def _make(
    issue: Issue,
    layout,  # noqa: ANN001 - render.layout.Layout
    out: Path,
    options: BuildOptions,
    stack,  # noqa: ANN001 - render.stack.TextStack
    pool,  # noqa: ANN001 - render.workers.WorkerPool
    progress: Callable[[str, str], None] | None,
    stages: dict[str, float],
):  # noqa: ANN202 - (outputs, the laid-out base PDF, ChunkStats, warnings)
    """Every output in memory: the newsletter renders in a thread of this process while the
    workers lay out the magazine; the screen file and the EPUB are made in workers meanwhile
    the print file is finished here."""
    from concurrent.futures import ThreadPoolExecutor

    from .render.ads import lonely_half_pages, share_finding
    from .render.email import render_newsletter
    from .render.env import ad_label
    from .render.epub import render_epub
    from .render.fonts import undrawable_text
    from .render.mime import preview_message
    from .render.proofs import proof_files

    cache = options.cache or out / ".cache"
    files = [issue.manifest_path, *(review.path for review in issue.reviews)]
    with ThreadPoolExecutor(1) as side:
        email = side.submit(render_newsletter, issue, layout, image_cache=cache / "email-images")
        mark = time.perf_counter()
        laid_out, stats = _render_magazine(issue, layout, cache, options, stack, pool, progress)
        stages["lay out"] = time.perf_counter() - mark
        if too_many := share_finding(laid_out["screen"], issue):
            raise InputError(too_many.message, [too_many])
        lonely = lonely_half_pages(
            laid_out["screen"], issue, lambda ad: ad_label(layout, ad, issue.manifest.lang)
        )
        mark = time.perf_counter()
        # Every font's character map, read by a worker while the PDFs are finished.
        undrawable = pool.submit(undrawable_text, layout, files, issue.root)
        epub = None
        if not options.preview:  # its page list comes from the laid-out magazine
            epub = pool.submit(
                render_epub,
                issue,
                layout,
                laid_out["screen"],
                modified=metadata_date(issue),
                image_cache=cache / "epub-images",
            )
        pdfs = _finish(issue, layout, laid_out, options, stack, pool)
        newsletter = email.result()
        stages["finish"] = time.perf_counter() - mark
    html, text = newsletter.personalised()
    outputs = {
        **pdfs,
        NEWSLETTER_HTML: html.encode("utf-8"),
        NEWSLETTER_TEXT: text.encode("utf-8"),
        **{f"images/{name}": data for name, data in newsletter.images.items()},
    }
    proofs = None
    if issue.ads and not options.preview:  # proofs/<sponsor>.pdf, by a worker (Chromium's
        made_of = {n: d for n, d in outputs.items() if n in PROOF_INPUTS or n.startswith("images/")}
        proofs = pool.submit(proof_files, issue, layout, made_of)  # outside this process)
    warnings = []
    for finding in lonely:
        log.warning("%s", finding)
        warnings.append(str(finding))
    for finding in undrawable.result():  # `magbuilder check` says it first, as an error
        warning = replace(finding, level=Level.WARNING)
        log.warning("%s", warning)
        warnings.append(str(warning))
    if epub is not None:
        outputs[EPUB] = epub.result()
    if not options.preview:
        outputs[NEWSLETTER_EML] = preview_message(issue, newsletter)
    if proofs is not None:
        outputs.update(proofs.result())
    if options.keep_html:
        outputs["magazine.html"] = _standalone_html(issue, layout).encode("utf-8")
    return outputs, laid_out["screen"], stats, warnings


def _openings(pdf: bytes, issue: Issue) -> tuple[dict[str, int], int]:
    """Where each review opens in the laid-out magazine, and its page count."""
    from .render.collate import review_pages

    pages, total = review_pages(pdf)
    return {r.slug: pages[r.slug] for r in issue.reviews if r.slug in pages}, total


def _render_magazine(
    issue: Issue,
    layout,  # noqa: ANN001
    cache: Path,
    options: BuildOptions,
    stack,  # noqa: ANN001 - render.stack.TextStack
    pool,  # noqa: ANN001 - render.workers.WorkerPool
    progress: Callable[[str, str], None] | None,
):  # noqa: ANN202 - ({"print": PDF, "screen": PDF}, ChunkStats)
    """The magazine laid out, in chunks (default) or in a single pass, once with its images
    ready for print and once for the screen (a preview: for the screen only)."""
    from .render.chunks import ChunkStats, lay_out_chunked

    media = ("screen",) if options.preview else ("print", "screen")
    if options.single_pass or layout.chunking is None:  # the layout promises nothing for chunks
        from .render.magazine import WHOLE
        from .render.workers import lay_out_prepared

        made = pool.submit(lay_out_prepared, issue, layout, WHOLE, media, cache / "images")
        return made.result(), ChunkStats(laid_out=["whole magazine"])
    return lay_out_chunked(
        issue,
        layout,
        cache / "chunks",
        media=media,
        image_cache=cache / "images",
        pool=pool,
        force=options.force,
        progress=progress,
        stack=stack,
    )


def _finish(
    issue: Issue,
    layout,  # noqa: ANN001
    laid_out: dict[str, bytes],
    options: BuildOptions,
    stack,  # noqa: ANN001 - render.stack.TextStack
    pool,  # noqa: ANN001 - render.workers.WorkerPool
) -> dict[str, bytes]:
    """The printer's PDF/X-4 file and the reader's screen file, from the laid-out magazine
    (images already resampled for each).

    The two are independent: the screen file is made by a worker meanwhile. A preview makes
    the screen file only.
    """
    from .render.collate import pad
    from .render.pdfx import finish_print, finish_screen

    date = metadata_date(issue)
    screen = pool.submit(
        finish_screen, laid_out["screen"], metadata_date=date, text_stack=stack, images_ready=True
    )
    if options.preview:
        return {SCREEN_PDF: screen.result()}
    spec = issue.manifest.print
    cmyk, srgb = layout.find(CMYK_PROFILE), layout.find(SRGB_PROFILE)
    if cmyk is None or srgb is None:
        raise RenderError(
            f"the layout has no colour profiles: add {CMYK_PROFILE} and {SRGB_PROFILE}"
        )
    # Sheets have two sides (saddle-stitched: four pages): blank pages before the back cover.
    printed = finish_print(
        pad(laid_out["print"], 4 if spec.binding == "saddle" else 2),
        icc_profile=cmyk,
        srgb_profile=srgb,
        output_condition=spec.output_condition,
        marks=spec.marks if options.marks is None else options.marks,
        metadata_date=date,
        text_stack=stack,
        images_ready=True,
    )
    return {PRINT_PDF: printed, SCREEN_PDF: screen.result()}


def _preflight(issue: Issue, pdf: bytes) -> list[str]:
    """Preflight the print file: errors stop the build, warnings are returned."""
    from .preflight import preflight

    findings = preflight(
        pdf,
        saddle_stitched=issue.manifest.print.binding == "saddle",
        min_bleed_mm=issue.manifest.print.bleed,
        name=f"{issue.id}/magazine.pdf",
    )
    errors = [f for f in findings if f.level == "error"]
    if errors:
        raise RenderError("preflight failed", errors)
    return [str(f) for f in findings if f.level == "warning"]


def _standalone_html(issue: Issue, layout) -> str:  # noqa: ANN001
    """The whole magazine as one HTML file that WeasyPrint lays out to the same pages."""
    from .render.layout import PROJECT_URL
    from .render.magazine import magazine_html

    html = magazine_html(issue, layout).replace(PROJECT_URL, layout.root.as_uri() + "/")
    base = f'<base href="{issue.content_dir.resolve().as_uri()}/">'
    return html.replace("<head>", f"<head>\n  {base}", 1)
