"""The build stamp: what an issue's outputs were made from, and what moved since the last build.

``<out>/<id>/.build-stamp.json`` is written with the outputs, in the same atomic step. It holds
the digest of the inputs, the text stack, the names of the files written and where each review
opens. A build whose inputs and stack match the stamp has nothing to do; a build on another
text stack says so and lists what moved (``drift``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .paths import file_digest, find_root, layout_files
from .render.stack import TextStack, library_versions

STAMP = ".build-stamp.json"


@dataclass(frozen=True)
class Stamp:
    """One build's record of itself."""

    digest: str
    stack: TextStack | None
    files: list[str]
    inputs: dict[str, str] = field(default_factory=dict)  # file (from the project) → SHA-256
    settings: str = ""  # see build.build_settings
    pages: int | None = None
    starts: dict[str, int] = field(default_factory=dict)  # review slug → its first page
    titles: dict[str, str] = field(default_factory=dict)  # review slug → its title

    def to_bytes(self) -> bytes:
        data = {
            "digest": self.digest,
            "settings": self.settings,
            "inputs": self.inputs,
            "stack": self.stack.as_dict() if self.stack else None,
            "files": sorted(self.files),
            "pages": self.pages,
            "starts": self.starts,
            "titles": self.titles,
        }
        return json.dumps(data, indent=1, ensure_ascii=False).encode("utf-8")

    @classmethod
    def read(cls, out_dir: Path) -> Stamp | None:
        """The stamp in ``out_dir``, or None when there is none or it cannot be read."""
        try:
            data = json.loads((out_dir / STAMP).read_text("utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or not isinstance(data.get("digest"), str):
            return None
        files = data.get("files") if isinstance(data.get("files"), list) else []
        starts = data.get("starts") if isinstance(data.get("starts"), dict) else {}
        titles = data.get("titles") if isinstance(data.get("titles"), dict) else {}
        pages = data.get("pages")
        inputs = data.get("inputs") if isinstance(data.get("inputs"), dict) else {}
        return cls(
            digest=data["digest"],
            inputs={str(k): str(v) for k, v in inputs.items()},
            settings=str(data.get("settings", "")),
            stack=TextStack.from_dict(data.get("stack")),
            files=[str(f) for f in files],
            pages=pages if isinstance(pages, int) else None,
            starts={str(k): v for k, v in starts.items() if isinstance(v, int)},
            titles={str(k): str(v) for k, v in titles.items()},
        )

    def current(self, out_dir: Path, digest: str, stack: TextStack) -> bool:
        """Whether the outputs in ``out_dir`` are what ``digest`` and ``stack`` would make."""
        return (
            self.digest == digest
            and self.stack == stack
            and all((out_dir / name).is_file() for name in self.files)
        )


def up_to_date(manifest_path: Path | str, out: Path | str, settings: str) -> Path | None:
    """The output folder of an issue when nothing it was built from has changed, else None.

    Every file the stamp records is read again and compared by digest, the layout folders must
    hold the same files, the libraries must be the same, the outputs present and ``settings``
    (``build.build_settings``) equal. Nothing is validated and no review is parsed, so that a
    command with nothing to do returns at once; ``build_issue`` makes the full check.
    """
    import yaml

    manifest_path = Path(manifest_path)
    try:
        data = yaml.load(manifest_path.read_bytes(), Loader=getattr(yaml, "CSafeLoader", None))
    except Exception:  # anything wrong with it: the full build reports it with its line
        return None
    issue_id = data.get("id") if isinstance(data, dict) else None
    if not isinstance(issue_id, str) or not issue_id or "/" in issue_id or issue_id[0] == ".":
        return None
    out_dir = Path(out) / issue_id
    stamp = Stamp.read(out_dir)
    if stamp is None or not stamp.inputs or stamp.settings != settings:
        return None
    if stamp.stack is None or stamp.stack.libraries != library_versions():
        return None
    root = find_root(manifest_path)
    layouts = {name.split("/")[1] for name in stamp.inputs if name.startswith("layouts/")}
    listed = {
        path.relative_to(root).as_posix()
        for name in layouts
        for path in layout_files(root / "layouts" / name)
    }
    recorded = {name for name in stamp.inputs if name.startswith("layouts/")}
    if listed != recorded:  # a file added to (or removed from) a layout
        return None
    for name, digest in stamp.inputs.items():
        if file_digest(root / name) != digest:
            return None
    if not all((out_dir / name).is_file() for name in stamp.files):
        return None
    return out_dir


def drift(issue_id: str, before: Stamp | None, after: Stamp) -> list[str]:
    """When ``after`` was laid out on another text stack than ``before``: a one-line notice,
    then what moved (page count, each review whose opening page changed). Else nothing."""
    if before is None or before.stack is None or after.stack is None:
        return []
    if before.stack == after.stack:
        return []
    changes = ", ".join(after.stack.changes(before.stack)) or "another text stack"
    lines = [
        f"{issue_id}: laid out on another text stack than the last build ({changes}): "
        "the same text may break into other lines; byte-identical output is promised only on "
        "the same stack"
    ]
    if before.pages is not None and after.pages is not None and before.pages != after.pages:
        lines.append(f"  pages: {before.pages} → {after.pages}")
    for slug, page in after.starts.items():
        old = before.starts.get(slug)
        if old is not None and old != page:
            title = after.titles.get(slug, slug)
            lines.append(f"  contents: '{title}' moved from page {old} to {page}")
    if len(lines) == 1:
        pages = f"{after.pages} pages" if after.pages is not None else "same pages"
        lines.append(f"  nothing moved: {pages}, every review opens on the same page as before")
    return lines
