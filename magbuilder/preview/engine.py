"""The preview's engine: watch the files, rebuild warm, render only the pages that changed.

Watcher threads (watchfiles) notice saves of the files the issue is made of (the build's own
list, ``paths.issue_files``), in ``layouts/``, the manifest and ``magbuilder.yaml``; a builder
thread rebuilds the issue into one work folder (``build/.preview/<manifest>/<id>/``, swapped in
one step like every build) with the project's chunk cache and a pool of layout workers that
stays warm for the whole session, so a save lays out only the chunk that changed. Each page
carries a key (``BuildResult.page_keys``): only pages whose key moved are rendered again (with
PDFium, in this process), and listeners hear which. A failed build keeps the last good render
and is reported with its ``path:line``.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import threading
import time
from dataclasses import dataclass, field, replace
from io import BytesIO
from pathlib import Path

import watchfiles

from ..build import BuildOptions, BuildResult, build_issue
from ..errors import MagbuilderError
from ..files import write_atomic
from ..paths import CONFIG_NAME, NEWSLETTER_HTML, SCREEN_PDF, find_root, issue_files
from ..render.workers import WorkerPool, warm_up

log = logging.getLogger(__name__)

PAGE_DPI = 36  # about 300 × 420 px for an A4 page: enough to judge the layout, quick to render
DEBOUNCE_MS = 300  # the longest a burst of saves is gathered; one save is seen after STEP_MS
STEP_MS = 50


@dataclass(frozen=True)
class Page:
    """One page image: its file name and the build version that last drew it."""

    name: str
    version: int


@dataclass
class State:
    """What the page shows: the last good render, the last error, and what is happening."""

    version: int = 0  # moves on every finished build attempt, good or bad
    good: Path | None = None  # the folder of the last good render
    pages: list[Page] = field(default_factory=list)
    pdf: str | None = None
    email_version: int = 0  # the build version that last changed the newsletter
    title: str = ""
    image_prefix: str | None = None
    error: str | None = None
    building: bool = False
    activity: str = ""  # "laying out 'Ice Archive'"
    seconds: float = 0.0  # how long the last build took, save to pages served


def page_file(number: int) -> str:
    return f"page-{number:03d}.png"


def render_pages(pdf: Path, dest: Path, numbers: list[int], dpi: int = PAGE_DPI) -> None:
    """Render pages ``numbers`` (1-based) of ``pdf`` to ``dest/page-NNN.png`` with PDFium."""
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    try:
        for number in numbers:
            image = document[number - 1].render(scale=dpi / 72).to_pil()
            data = BytesIO()
            image.save(data, "PNG", compress_level=1)  # fast: these are thrown away often
            write_atomic(dest / page_file(number), data.getvalue())
    finally:
        document.close()


class Preview:
    """Builds an issue on every relevant change and keeps the state the server shows."""

    def __init__(self, manifest: Path | str, work_dir: Path | None = None) -> None:
        self.manifest = Path(manifest).resolve()
        self.root = find_root(self.manifest)
        self.work = work_dir or self.root / "build" / ".preview" / self.manifest.stem
        self.cache = self.root / "build" / ".cache"  # shared with `magbuilder build`
        self.state = State(title=self.manifest.name)
        self.lock = threading.Lock()
        self.changed = threading.Event()
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []
        self.pool = WorkerPool()
        self.listeners: list[queue.Queue[dict]] = []
        self._keys: list[str] = []
        self._email_digest = ""
        self._default_filter = watchfiles.DefaultFilter()
        # The files the last good build was made from (``paths.issue_files``); None until one
        # succeeds, and after a failed build (a file it needs may be about to appear).
        self._inputs: frozenset[Path] | None = None

    # -- listeners (the server's event streams) ------------------------------------------------

    def listen(self) -> queue.Queue[dict]:
        """A queue that receives every event from now on; ``unlisten`` it when done."""
        events: queue.Queue[dict] = queue.Queue()
        with self.lock:
            self.listeners.append(events)
        return events

    def unlisten(self, events: queue.Queue[dict]) -> None:
        with self.lock:
            if events in self.listeners:
                self.listeners.remove(events)

    def _publish(self, event: dict) -> None:
        with self.lock:
            for events in self.listeners:
                events.put(event)

    def snapshot(self) -> State:
        with self.lock:
            return replace(self.state, pages=list(self.state.pages))

    # -- building -------------------------------------------------------------------------------

    def _progress(self, event: str, part: str) -> None:
        if event == "laying out":
            self._set(activity=f"laying out {part}")

    def _set(self, **changes: object) -> None:
        with self.lock:
            for key, value in changes.items():
                setattr(self.state, key, value)
            state = self.state
            event = {"type": "status", "building": state.building, "activity": state.activity}
        self._publish(event)

    def rebuild(self, started: float | None = None) -> None:
        """Build the issue; on success render the pages that changed and tell the listeners."""
        started = started or time.monotonic()
        self._set(building=True, activity="reading the issue")
        options = BuildOptions(preview=True, cache=self.cache)
        error = None
        try:
            result = build_issue(
                self.manifest, self.work, options, pool=self.pool, progress=self._progress
            )
            changed, email = self._show(result)
            self._inputs = frozenset(p.resolve() for p in issue_files(result.issue))
        except MagbuilderError as exc:
            error = exc.report()
        except Exception as exc:  # a bug: show it, keep serving the last good render
            log.exception("preview build failed")
            error = f"internal error: {exc!r} (see the terminal for the traceback)"
        if error is not None:
            self._inputs = None
        seconds = time.monotonic() - started
        with self.lock:
            state = self.state
            state.version += 1
            state.error, state.building, state.activity, state.seconds = error, False, "", seconds
            if error is None:
                for number in changed:
                    state.pages[number - 1] = Page(page_file(number), state.version)
                if email:
                    state.email_version = state.version
            event = {
                "type": "update",
                "version": state.version,
                "error": error,
                "seconds": round(seconds, 3),
                "changed": [] if error else changed,
                "pages": [[p.name, p.version] for p in state.pages],
                "email": state.email_version,
            }
        self._publish(event)
        if error:
            log.warning("build failed:\n%s", error)
        else:
            name = self.manifest.name
            log.info("rebuilt %s in %.2f s (%d pages redrawn)", name, seconds, len(changed))

    def _show(self, result: BuildResult) -> tuple[list[int], bool]:
        """Render the pages whose key changed; the changed page numbers, and whether the
        newsletter changed."""
        out = result.out_dir
        pdf = out / SCREEN_PDF
        keys = result.page_keys or self._keys
        pages_dir = out / "pages"
        previous = self._keys if self.state.good == out else []
        changed = [
            number
            for number, key in enumerate(keys, start=1)
            if number > len(previous)
            or previous[number - 1] != key
            or not (pages_dir / page_file(number)).is_file()
        ]
        render_pages(pdf, pages_dir, changed)
        for stale in pages_dir.glob("page-*.png"):
            if int(stale.stem.removeprefix("page-")) > len(keys):
                stale.unlink(missing_ok=True)
        email = hashlib.sha256((out / NEWSLETTER_HTML).read_bytes()).hexdigest()
        email_changed = email != self._email_digest
        self._keys, self._email_digest = keys, email
        manifest = result.issue.manifest
        with self.lock:
            state = self.state
            kept = state.pages[: len(keys)] if state.good == out else []
            added = range(len(kept) + 1, len(keys) + 1)
            state.pages = [*kept, *(Page(page_file(n), 0) for n in added)]
            state.good, state.pdf, state.title = out, pdf.name, manifest.title
            state.image_prefix = manifest.site.image_url(manifest.id, "")
        return changed, email_changed

    def _builder(self) -> None:
        while not self.stop.is_set():
            if self.changed.wait(0.2):
                started = time.monotonic()
                self.changed.clear()
                self.rebuild(started)

    # -- watching -------------------------------------------------------------------------------

    def relevant(self, change: watchfiles.Change, path: str) -> bool:
        """Changes that affect the issue: this manifest, magbuilder.yaml, any file of the
        layouts (a new one may override another), and the files in content/ the last good
        build was made from (every file in content/ until a build succeeds)."""
        if not self._default_filter(change, path):
            return False
        p = Path(path)
        if p in (self.manifest, self.root / CONFIG_NAME) or p.is_relative_to(self.root / "layouts"):
            return True
        inputs = self._inputs
        if inputs is None:
            return p.is_relative_to(self.root / "content")
        return p.resolve() in inputs

    def _watch(self, paths: list[Path], recursive: bool) -> None:
        for changes in watchfiles.watch(
            *paths,
            watch_filter=self.relevant,
            debounce=DEBOUNCE_MS,
            step=STEP_MS,
            stop_event=self.stop,
            recursive=recursive,
            raise_interrupt=False,
        ):
            log.debug("changed: %s", sorted(p for _, p in changes))
            self.changed.set()

    def start(self) -> None:
        """Start the layout workers, the builder (with a first build) and the watchers."""
        warm_up()
        trees = [self.root / "content", self.root / "layouts"]
        if self.manifest.parent != self.root:
            trees.append(self.manifest.parent)
        jobs = [
            (self._builder, ()),
            (self._watch, ([p for p in trees if p.is_dir()], True)),
            (self._watch, ([self.root], False)),  # magbuilder.yaml (and a manifest kept there)
        ]
        for target, args in jobs:
            thread = threading.Thread(target=target, args=args, daemon=True)
            thread.start()
            self.threads.append(thread)
        self.changed.set()

    def close(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=5)
        self.pool.close(cancel=True)
