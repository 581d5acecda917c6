"""Build an issue: load and validate it, render every output, write them all or none.

Outputs in ``<out>/<id>/``: ``magazine.pdf`` (printer's file, PDF/X-4), ``magazine-screen.pdf``
(reader's file), ``newsletter.html``, ``newsletter.txt``, ``newsletter.eml``, ``images/`` and the
build stamp. Everything is rendered in memory, written to a new folder beside the outputs,
checked by preflight, and only then exchanged with the old folder in one step: a failed or
interrupted build leaves the previous outputs intact, and nobody ever sees a mix of the two.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from .content import Issue
from .errors import RenderError
from .files import replace_folder
from .manifest import CONFIG_NAME, load_issue
from .stamp import STAMP, Stamp, drift
from .store import BODY_IMAGE

log = logging.getLogger(__name__)

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


def inputs_digest(issue: Issue, options: BuildOptions) -> str:
    """A digest of everything the outputs are made from (for the nothing-changed shortcut)."""
    h = hashlib.sha256()
    layout_dirs = [issue.layouts_dir / issue.manifest.layout, issue.layouts_dir / "default"]
    files = [issue.manifest_path, issue.root / CONFIG_NAME]
    files += [review.path for review in issue.reviews]
    images = {issue.manifest.cover.image}
    for review in issue.reviews:
        if review.image:
            images.add(review.image.src)
        images.update(BODY_IMAGE.findall(review.body))
    files += [issue.content_dir / src for src in sorted(images)]
    for folder in layout_dirs:
        if folder.is_dir():  # the archive's templates don't go into an issue's outputs
            files += sorted(
                p
                for p in folder.rglob("*")
                if p.is_file() and "archive" not in p.relative_to(folder).parts[:1]
            )
    root = issue.root.resolve()
    for path in files:  # named relative to the project: however the manifest was spelled
        resolved = path.resolve()
        h.update(
            str(resolved.relative_to(root) if resolved.is_relative_to(root) else path).encode()
        )
        h.update(path.read_bytes() if path.is_file() else b"<missing>")
    settings = (__version__, options.single_pass, options.keep_html, options.marks)
    h.update(repr(settings).encode())
    h.update(os.environ.get("SOURCE_DATE_EPOCH", "").encode())
    return h.hexdigest()


def metadata_date(issue: Issue) -> dt.datetime:
    """The date written into PDFs: ``SOURCE_DATE_EPOCH`` if set, else the issue's date."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC)
    return dt.datetime.combine(issue.manifest.date, dt.time(0, 0), tzinfo=dt.UTC)


def build_issue(
    manifest_path: Path | str, out: Path | str = "build", options: BuildOptions | None = None
) -> BuildResult:
    """Build one issue's magazine (print and screen PDFs) and newsletter (HTML, text, MIME).

    Nothing is written unless every output rendered and the print file passed preflight.
    When no input changed since the last build, nothing is done at all.
    """
    from .render.layout import Layout  # light: the build asks for fonts before deciding
    from .render.stack import text_stack

    options = options or BuildOptions()
    issue = load_issue(manifest_path)
    out_dir = Path(out) / issue.id
    layout = Layout(issue.layouts_dir, issue.manifest.layout)
    stack = text_stack(layout)
    digest = inputs_digest(issue, options)
    previous = Stamp.read(out_dir)
    if not options.force and previous and previous.current(out_dir, digest, stack):
        files = {name: out_dir / name for name in previous.files}
        return BuildResult(issue=issue, out_dir=out_dir, files=files, up_to_date=True)
    warnings = _undrawable(issue, layout)

    cache = Path(out) / ".cache"

    from concurrent.futures import ProcessPoolExecutor

    from .render.chunks import SerialExecutor
    from .render.email import render_newsletter
    from .render.message import preview_message

    # The newsletter (and its image resizing) is independent of the magazine: render it in a
    # side process while the magazine is laid out.
    parallel = (options.jobs or os.cpu_count() or 1) > 1
    with ProcessPoolExecutor(1) if parallel else SerialExecutor() as side:
        email = side.submit(render_newsletter, issue, layout, image_cache=cache / "email-images")
        base, laid_out, cached = _render_magazine(issue, layout, cache, options, stack)
        print_pdf, screen_pdf = _finish(issue, layout, base, options, cache / "images", stack)
        newsletter = email.result()
    html, text = newsletter.personalised()
    outputs = {
        "magazine.pdf": print_pdf,
        "magazine-screen.pdf": screen_pdf,
        "newsletter.html": html.encode("utf-8"),
        "newsletter.txt": text.encode("utf-8"),
        "newsletter.eml": preview_message(issue, newsletter).as_bytes(),
        **{f"images/{name}": data for name, data in newsletter.images.items()},
    }
    if options.keep_html:
        outputs["magazine.html"] = _standalone_html(issue, layout).encode("utf-8")
    starts, pages = _openings(base, issue)
    stamp = Stamp(
        digest=digest,
        stack=stack,
        files=sorted(outputs),
        pages=pages,
        starts=starts,
        titles={review.slug: review.title for review in issue.reviews},
    )

    def check(staged: Path) -> None:
        if options.preflight:
            warnings.extend(_preflight(issue, staged / "magazine.pdf"))

    ours = set(previous.files) if previous else set()
    replace_folder(out_dir, {**outputs, STAMP: stamp.to_bytes()}, ours=ours, check=check)
    return BuildResult(
        issue=issue,
        out_dir=out_dir,
        files={name: out_dir / name for name in outputs},
        laid_out=laid_out,
        cached=cached,
        warnings=warnings,
        drift=drift(issue.id, previous, stamp),
    )


def _undrawable(issue: Issue, layout) -> list[str]:  # noqa: ANN001 - render.env.Layout
    """Warnings for text no font of the layout can draw (``magbuilder check`` says it first)."""
    from .render.fonts import undrawable_text

    files = [issue.manifest_path, *(review.path for review in issue.reviews)]
    findings = undrawable_text(layout, files, issue.root)
    for finding in findings:
        log.warning("%s", finding.__class__(finding.path, finding.line, finding.message, "warning"))
    return [str(f) for f in findings]


def _openings(pdf: bytes, issue: Issue) -> tuple[dict[str, int], int]:
    """Where each review opens in the laid-out magazine, and its page count."""
    from .render.assemble import review_pages

    pages, total = review_pages(pdf)
    return {r.slug: pages[r.slug] for r in issue.reviews if r.slug in pages}, total


def _render_magazine(
    issue: Issue,
    layout,  # noqa: ANN001
    cache: Path,
    options: BuildOptions,
    stack,  # noqa: ANN001 - render.stack.TextStack
) -> tuple[bytes, list[str], list[str]]:
    """The tagged base PDF, laid out in chunks (default) or in a single pass."""
    if options.single_pass:
        from .render.pdf import render_pdf

        return render_pdf(issue, layout), ["whole magazine"], []
    from .render.chunks import render_chunked

    pdf, stats = render_chunked(
        issue, layout, cache / "chunks", jobs=options.jobs, force=options.force, stack=stack
    )
    return pdf, stats.laid_out, stats.cached


def _finish(
    issue: Issue,
    layout,  # noqa: ANN001
    base: bytes,
    options: BuildOptions,
    image_cache: Path,
    stack,  # noqa: ANN001 - render.stack.TextStack
) -> tuple[bytes, bytes]:
    """The printer's PDF/X-4 file and the reader's screen file, from one laid-out document.

    The two are independent: the screen file is made in a second process meanwhile.
    """
    from concurrent.futures import ProcessPoolExecutor

    from .render.chunks import SerialExecutor
    from .render.finish import finish_print, finish_screen

    spec = issue.manifest.print
    cmyk, srgb = layout.find(CMYK_PROFILE), layout.find(SRGB_PROFILE)
    if cmyk is None or srgb is None:
        raise RenderError(
            f"the layout has no colour profiles: add {CMYK_PROFILE} and {SRGB_PROFILE}"
        )
    parallel = (options.jobs or os.cpu_count() or 1) > 1
    with ProcessPoolExecutor(1) if parallel else SerialExecutor() as pool:
        screen = pool.submit(
            finish_screen,
            base,
            cache=image_cache,
            metadata_date=metadata_date(issue),
            text_stack=stack,
        )
        # Sheets have two sides (saddle-stitched: four pages): blank pages close the print file.
        printed = finish_print(
            pad_pages(base, 4 if spec.binding == "saddle" else 2),
            icc_profile=cmyk,
            srgb_profile=srgb,
            output_condition=spec.output_condition,
            marks=spec.marks if options.marks is None else options.marks,
            metadata_date=metadata_date(issue),
            cache=image_cache,
            text_stack=stack,
        )
        return printed, screen.result()


def pad_pages(pdf: bytes, multiple: int) -> bytes:
    """``pdf`` with blank pages (same page boxes as the last) up to a multiple of ``multiple``."""
    import io

    import pikepdf

    with pikepdf.open(io.BytesIO(pdf)) as doc:
        missing = -len(doc.pages) % multiple
        if not missing:
            return pdf
        last = doc.pages[-1].obj
        for _ in range(missing):
            blank = pikepdf.Dictionary(Type=pikepdf.Name.Page, Resources=pikepdf.Dictionary())
            for box in ("/MediaBox", "/CropBox", "/BleedBox", "/TrimBox", "/ArtBox"):
                if box in last:
                    blank[box] = last[box]
            doc.pages.append(pikepdf.Page(blank))
        out = io.BytesIO()
        doc.save(out, deterministic_id=True)
        return out.getvalue()


def _preflight(issue: Issue, pdf: Path) -> list[str]:
    """Preflight the staged print file: errors stop the build, warnings are returned."""
    from .preflight import preflight

    findings = preflight(
        pdf,
        saddle_stitched=issue.manifest.print.binding == "saddle",
        min_bleed_mm=issue.manifest.print.bleed,
    )
    shown = [f.__class__(f"{issue.id}/magazine.pdf", None, f.message, f.level) for f in findings]
    errors = [f for f in shown if f.level == "error"]
    if errors:
        raise RenderError("preflight failed", errors)
    for finding in shown:
        if finding.level == "warning":
            log.warning("%s", finding)
    return [str(f) for f in shown if f.level == "warning"]


def _standalone_html(issue: Issue, layout) -> str:  # noqa: ANN001
    """The whole magazine as one HTML file that WeasyPrint lays out to the same pages."""
    from .render.pdf import magazine_html

    html = magazine_html(issue, layout)
    base = f'<base href="{issue.content_dir.resolve().as_uri()}/">'
    return html.replace("<head>", f"<head>\n  {base}", 1)
