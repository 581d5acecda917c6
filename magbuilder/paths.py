"""Where things are in a project, what an issue is made of, and how paths are shown.

One owner for these facts: the output file names, the files a build reads (``issue_inputs``:
the build stamp, the archive's rebuild check and the preview's watch filter ask for them), and
the digest of a file (``file_digest``, also the chunk cache's and the fonts').
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .content import Issue

CONFIG_NAME = "magbuilder.yaml"

# The files a build writes into build/<id>/, named here only: build, archive, preview and the
# newsletter's links all ask for them.
PRINT_PDF = "magazine.pdf"
SCREEN_PDF = "magazine-screen.pdf"
NEWSLETTER_HTML = "newsletter.html"
NEWSLETTER_TEXT = "newsletter.txt"
NEWSLETTER_EML = "newsletter.eml"
EPUB = "magazine.epub"


def find_root(manifest_path: Path) -> Path:
    """The project folder: the manifest's nearest parent holding magbuilder.yaml or content/."""
    for folder in manifest_path.resolve().parents:
        if (folder / CONFIG_NAME).is_file() or (folder / "content").is_dir():
            return folder
    return manifest_path.resolve().parent


def shown(path: Path, root: Path) -> str:
    """A path as the user should see it: relative to the project folder when inside it."""
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return os.fspath(path)


def layout_files(folder: Path) -> list[Path]:
    """The files of a layout folder an issue's outputs can use (its archive templates are the
    archive's)."""
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and "archive" not in p.relative_to(folder).parts[:1]
    )


def issue_files(issue: Issue) -> list[Path]:
    """Every file an issue's outputs are made from: the manifest, magbuilder.yaml, the reviews,
    the sponsor files of its ads, the images they, the ads and the cover show (as the Markdown
    renderer finds them: ``Review.images``), and the files of every layout in its chain (but
    the archive's)."""
    from .layouts import chain
    from .store import inside
    from .translations import source_path, translation_path

    files = [issue.manifest_path, issue.root / CONFIG_NAME]
    for review in issue.reviews:  # a translation (<slug>.<lang>.md) and its source
        files += dict.fromkeys([review.path, source_path(review)])
    files += [issue.root / ad.source for ad in issue.ads]  # the sponsor files booked
    images = {issue.manifest.cover.image, *(src for ad in issue.ads for src in ad.media)}
    for review in issue.reviews:
        images.update(review.images)
    # Only what lies inside content/: the build refuses the rest, and reads none of it.
    files += [path for src in sorted(images) if (path := inside(issue.content_dir, src))]
    for folder in chain(issue.layouts_dir, issue.manifest.layout):
        files += layout_files(folder)
    # The editions are built with the issue: what they read is the issue's input too (so the
    # build stamp notices a changed translation), and so is a translation still missing.
    for lang, edition in issue.editions.items():
        files += issue_files(edition)
        files += [translation_path(r, lang) for r in edition.reviews if r.untranslated]
    return list(dict.fromkeys(files))


def issue_inputs(issue: Issue) -> dict[str, str]:
    """``issue_files`` named relative to the project (however the manifest was spelled), each
    with its SHA-256 ("" for a file that is missing)."""
    root = issue.root.resolve()
    inputs = {}
    for path in issue_files(issue):
        resolved = path.resolve()
        name = resolved.relative_to(root).as_posix() if resolved.is_relative_to(root) else path
        inputs[str(name)] = file_digest(path)
    return inputs


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes ("" when there is none), read again only when its size or
    modification time changed (a preview digests the same files on every save)."""
    try:
        info = path.stat()
    except OSError:
        return ""
    return _digest_of(path, info.st_size, info.st_mtime_ns)


@lru_cache(maxsize=4096)
def _digest_of(path: Path, size: int, mtime_ns: int) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""
