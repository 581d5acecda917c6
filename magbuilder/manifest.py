"""Load an issue manifest (``issues/<id>.yaml``) and the reviews it selects into an Issue.

Every problem in the manifest, in ``magbuilder.yaml`` and in the selected review files is collected
and reported at once, each as ``path:line: message``. ``read_issue`` is the one loader: it keeps
going past problems and returns the issue (when everything is valid) with its findings, and what
it could make out of the rest for ``magbuilder check``; ``load_issue`` raises them instead.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from . import layouts
from .ad_checks import read_bookings
from .content import Issue, Manifest, PrintSpec, Review, Section
from .editions import read_editions
from .errors import Finding, InputError, Level
from .layouts import DEFAULT, NAME, merge
from .paths import CONFIG_NAME, find_root, shown
from .store import media_problem, read_review, review_file_problem, review_slugs
from .validation import did_you_mean, validate
from .yamlpos import Positions, load_yaml

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadedIssue:
    """What ``read_issue`` made of a manifest: the issue, or None when anything is wrong; every
    finding; and as much as could be made out of an invalid manifest, for the checks that can
    still run on it (``checks.py``)."""

    path: Path  # the manifest file
    root: Path  # the project folder
    where: str  # the manifest as findings name it
    issue: Issue | None
    findings: list[Finding]
    manifest: Manifest | None = None  # the valid manifest, even when a review is not
    data: Any = None  # the manifest's YAML as written (site merged in); None if unreadable
    positions: Positions = field(default_factory=lambda: Positions({}))
    lines: tuple[str, ...] = ()  # the manifest's text, line by line
    reviews: list[Review] = field(default_factory=list)  # every selected review that loaded
    cover: str | None = None  # the cover image, when it names a file in content/

    @property
    def content_dir(self) -> Path:
        """The project's ``content/`` folder."""
        return self.root / "content"

    def raw(self, *loc: str | int) -> Any:
        """The value at ``loc`` (keys and indexes) as written in the manifest, or None."""
        value = self.data
        for part in loc:
            if isinstance(part, str) and isinstance(value, dict):
                value = value.get(part)
            elif isinstance(part, int) and isinstance(value, list) and 0 <= part < len(value):
                value = value[part]
            else:
                return None
        return value

    def line(self, *loc: str | int) -> int | None:
        """The manifest line of the value at ``loc``; None when the manifest did not parse."""
        return self.positions.line(loc) if self.data is not None else None

    def key_line(self, *loc: str | int) -> int | None:
        """The manifest line of the key at ``loc``; None when the manifest did not parse."""
        return self.positions.key_line(loc) if self.data is not None else None

    @property
    def print_spec(self) -> PrintSpec | None:
        """The print settings, from an invalid manifest too; None when they are invalid."""
        if self.manifest is not None:
            return self.manifest.print
        try:
            return PrintSpec.model_validate(self.raw("print") or {})
        except ValidationError:
            return None

    @property
    def layout_name(self) -> str | None:
        """The layout the manifest names (``default`` if none); None when it names none usable."""
        if self.manifest is not None:
            return self.manifest.layout
        name = self.data.get("layout", "default") if isinstance(self.data, dict) else "default"
        return name if isinstance(name, str) and re.fullmatch(r"[\w-]+", name) else None


def _read_text(path: Path, root: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(
            "no such file", [Finding(shown(path, root), None, "file not found")]
        ) from None
    except UnicodeDecodeError as exc:
        line = exc.object.count(b"\n", 0, exc.start) + 1
        raise InputError(
            "bad encoding",
            [Finding(shown(path, root), line, f"not UTF-8 (byte {exc.start}): save it as UTF-8")],
        ) from None
    except OSError as exc:  # a folder, no permission…
        raise InputError(
            "unreadable", [Finding(shown(path, root), None, f"cannot read: {exc.strerror or exc}")]
        ) from None


def _read_yaml(path: Path, root: Path) -> tuple[Any, Positions]:
    return load_yaml(_read_text(path, root), shown(path, root))


def _merge_site(
    manifest: dict[str, Any], root: Path, findings: list[Finding]
) -> dict[str, Positions] | None:
    """Fill ``manifest['site']`` from magbuilder.yaml's ``site:``; the manifest's own keys win.

    Returns which file's positions to use for each site key, for error lines; None when
    magbuilder.yaml exists but cannot be used (its problem is added to ``findings``).
    """
    owners: dict[str, Positions] = {}
    config_path = root / CONFIG_NAME
    if not config_path.is_file():
        return owners
    try:
        config, positions = _read_yaml(config_path, root)
    except InputError as exc:
        findings.extend(exc.findings)
        return None
    if config is None:
        return owners
    if not isinstance(config, dict) or set(config) - {"site"}:
        extra = sorted(set(config) - {"site"}) if isinstance(config, dict) else []
        findings.append(
            Finding(shown(config_path, root), 1, f"expected only a 'site:' mapping, found {extra}")
        )
        return None
    site = config.get("site") or {}
    own = manifest.get("site")
    if isinstance(site, dict) and (own is None or isinstance(own, dict)):
        merged = {**site, **(own or {})}
        manifest["site"] = merged
        for key in site:
            if key not in (own or {}):
                owners[key] = positions
    return owners


def _merge_page(manifest: dict, root: Path) -> None:
    """The page the manifest's layout is designed for (its ``page:``, ``layouts.page``) under
    the manifest's own ``print:`` settings, which override it key by key."""
    name = manifest.get("layout", DEFAULT)
    own = manifest.get("print")
    if not isinstance(name, str) or not NAME.match(name) or not isinstance(own, dict | None):
        return  # validation says what is wrong with them
    page = layouts.page(root / "layouts", name)
    if page:
        manifest["print"] = merge(page, own or {})


def read_issue(manifest_path: Path | str) -> LoadedIssue:
    """Validate a manifest and load every review it selects, in order, keeping every finding.

    An invalid manifest does not hide the rest: the cover image and the reviews its sections
    name are still checked, as far as they can be made out, so one run reports every problem.
    """
    manifest_path = Path(manifest_path)
    root = find_root(manifest_path)
    where = shown(manifest_path, root)
    try:
        text = _read_text(manifest_path, root)
        data, positions = load_yaml(text, where)
    except InputError as exc:
        return LoadedIssue(manifest_path, root, where, issue=None, findings=exc.findings)
    findings: list[Finding] = []
    site_owners: dict[str, Positions] | None = {}
    if isinstance(data, dict):
        site_owners = _merge_site(data, root, findings)
        _merge_page(data, root)
    manifest, problems = validate(Manifest, data, positions, where)
    if site_owners is None:
        # magbuilder.yaml is unusable and says so; the site keys it should have given are not
        # the manifest's mistake.
        problems = [p for p in problems if not p.message.startswith(_MISSING_SITE)]
    # A site key that came from magbuilder.yaml is reported there.
    findings.extend(_relocate(p, site_owners or {}, root) for p in problems)

    content_dir = root / "content"
    cover = manifest.cover.image if manifest else _raw_cover(data)
    if cover and (problem := media_problem(content_dir, cover)):
        findings.append(Finding(where, positions.line(("cover", "image")), problem))
        cover = None
    selection = [spec.reviews for spec in manifest.sections] if manifest else _raw_slugs(data)
    loaded = _read_selected(selection, positions, where, root, findings)

    issue = None
    if manifest is not None and not findings:
        sections = [
            Section(
                title=spec.title,
                reviews=[r.model_copy(update={"lang": r.lang or manifest.lang}) for r in reviews],
            )
            for spec, reviews in zip(manifest.sections, loaded, strict=True)
        ]
        issue = Issue(manifest=manifest, sections=sections, root=root, manifest_path=manifest_path)
    if manifest is not None and manifest.ads is not None:
        ads, found = read_bookings(root, where, manifest, lambda slot: positions.key_line(
            ("ads", "slots", slot)))  # fmt: skip
        findings += found
        if issue is not None and any(f.level is Level.ERROR for f in found):
            issue = None
        elif issue is not None:
            issue = issue.model_copy(update={"ads": ads})
    if issue is not None and manifest.editions:  # each carries the issue's ads
        editions, found = read_editions(issue, where, lambda *loc: positions.line(loc))
        findings += found
        if any(f.level is Level.ERROR for f in found):
            issue = None
        else:
            issue = issue.model_copy(update={"editions": editions})
    reviews = issue.reviews if issue else [review for section in loaded for review in section]
    return LoadedIssue(
        path=manifest_path,
        root=root,
        where=where,
        issue=issue,
        findings=findings,
        manifest=manifest,
        data=data,
        positions=positions,
        lines=tuple(text.splitlines()),
        reviews=reviews,
        cover=cover or None,
    )


def load_issue(manifest_path: Path | str) -> Issue:
    """Validate a manifest and load every review it selects, in order (``read_issue``).

    Raises InputError with every finding when anything is wrong.
    """
    loaded = read_issue(manifest_path)
    if loaded.issue is None:
        what = "issue" if loaded.manifest is not None else "manifest"
        raise InputError(f"invalid {what} {loaded.where}", loaded.findings)
    for finding in loaded.findings:  # what an edition's fallback made of a missing translation
        log.warning("%s", finding)
    return loaded.issue


_MISSING_SITE = ("missing required key 'site'", "missing required key 'site.")


def _raw_cover(data: Any) -> str | None:
    """The cover image an invalid manifest names, when it names one (validation says the rest)."""
    cover = data.get("cover") if isinstance(data, dict) else None
    image = cover.get("image") if isinstance(cover, dict) else None
    return image.strip() if isinstance(image, str) else None


def _raw_slugs(data: Any) -> list[list[str | None]]:
    """The review slugs an invalid manifest's sections name, section by section.

    None stands for an entry that is not a string (validation reports it), keeping the positions.
    """
    sections = data.get("sections") if isinstance(data, dict) else None
    selection: list[list[str | None]] = []
    for section in sections if isinstance(sections, list) else []:
        slugs = section.get("reviews") if isinstance(section, dict) else None
        selection.append(
            [s.strip() if isinstance(s, str) else None for s in slugs]
            if isinstance(slugs, list)
            else []
        )
    return selection


def _read_selected(
    selection: Sequence[Sequence[str | None]],
    positions: Positions,
    where: str,
    root: Path,
    findings: list[Finding],
) -> list[list[Review]]:
    """Each section's reviews read from ``content/reviews/``, in order.

    Adds to ``findings`` an unknown slug, a review selected twice, a review file linked in from
    outside ``content/`` and every problem in a review file, each at its own ``path:line``.
    """
    content_dir = root / "content"
    reviews_dir = content_dir / "reviews"
    available = review_slugs(reviews_dir) if reviews_dir.is_dir() else []
    seen: dict[str, int] = {}
    loaded: list[list[Review]] = []
    for s_index, slugs in enumerate(selection):
        reviews: list[Review] = []
        for r_index, slug in enumerate(slugs):
            if slug is None:
                continue
            line = positions.line(("sections", s_index, "reviews", r_index))
            if slug not in available:
                findings.append(
                    Finding(
                        where,
                        line,
                        f"sections[{s_index}].reviews[{r_index}]: unknown review '{slug}'"
                        f"{did_you_mean(slug, available)}: "
                        f"no file content/reviews/{slug}.md",
                    )
                )
                continue
            if slug in seen:
                findings.append(
                    Finding(
                        where,
                        line,
                        f"review '{slug}' is selected twice (first on line {seen[slug]}): "
                        "remove one",
                    )
                )
                continue
            seen[slug] = line
            path = reviews_dir / f"{slug}.md"
            if problem := review_file_problem(content_dir, path):
                findings.append(
                    Finding(
                        where,
                        line,
                        f"sections[{s_index}].reviews[{r_index}]: review '{slug}' "
                        f"(content/reviews/{slug}.md) {problem}",
                    )
                )
                continue
            try:
                reviews.append(read_review(path, shown(path, root), content_dir))
            except InputError as exc:
                findings.extend(exc.findings)
        loaded.append(reviews)
    return loaded


_SITE_LOC = re.compile(r"(unknown key '|missing required key ')?site((?:\.[^.\[\]:' ]+|\[\d+\])+)")


def _relocate(finding: Finding, owners: dict[str, Positions], root: Path) -> Finding:
    """Point a finding about ``site.<key>`` (or a key inside it, ``site.dkim.selector``) at
    magbuilder.yaml, at that key's line, when that file supplied the key."""
    match = _SITE_LOC.match(finding.message)
    if not match:
        return finding
    loc: list[str | int] = [
        int(index) if index else name
        for name, index in re.findall(r"\.([^.\[\]]+)|\[(\d+)\]", match[2])
    ]
    positions = owners.get(str(loc[0]))
    if positions is None:
        return finding
    if match[1] == "missing required key '":
        line = positions.key_line(("site", *loc[:-1]))
    else:
        line = positions.key_line(("site", *loc))
    return Finding(shown(root / CONFIG_NAME, root), line, finding.message, finding.level)


def manifest_place(issue: Issue, *loc: str | int) -> tuple[str, int | None]:
    """Where the manifest's key at ``loc`` is written (for problems found only after loading:
    the ads' share of the laid-out pages, say)."""
    where = shown(issue.manifest_path, issue.root)
    try:
        _, positions = _read_yaml(issue.manifest_path, issue.root)
    except InputError:
        return where, None
    return where, positions.key_line(loc)


def site_setting_place(issue: Issue, *loc: str | int) -> tuple[str, int | None]:
    """Where the issue's ``site.<loc>`` setting is written, as findings name it: the manifest's
    line when its own ``site:`` has the key (the manifest's keys win), else magbuilder.yaml's.

    For problems only found after loading (a DKIM key file that does not exist, say).
    """
    root, path = issue.root, issue.manifest_path
    for candidate in (path, root / CONFIG_NAME):
        try:
            data, positions = _read_yaml(candidate, root)
        except InputError:
            continue
        site = data.get("site") if isinstance(data, dict) else None
        if isinstance(site, dict) and loc and loc[0] in site:
            return shown(candidate, root), positions.key_line(("site", *loc))
    return shown(root / CONFIG_NAME, root), None
