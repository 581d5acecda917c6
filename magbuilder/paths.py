"""Where things are in a project, and how paths are shown to the people who wrote them."""

from __future__ import annotations

import os
from pathlib import Path

CONFIG_NAME = "magbuilder.yaml"

# The files a build writes into build/<id>/, named here only: build, archive, preview and the
# newsletter's links all ask for them.
PRINT_PDF = "magazine.pdf"
SCREEN_PDF = "magazine-screen.pdf"
NEWSLETTER_HTML = "newsletter.html"
NEWSLETTER_TEXT = "newsletter.txt"
NEWSLETTER_EML = "newsletter.eml"


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
