"""Load an issue manifest (``issues/<id>.yaml``) and the reviews it selects into an Issue.

Every problem in the manifest, in ``magbuilder.yaml`` and in the selected review files is collected
and reported at once, each as ``path:line: message``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .content import Issue, Manifest, Review, Section
from .errors import Finding, InputError
from .paths import CONFIG_NAME, find_root, shown
from .store import media_problem, read_review, review_file_problem, review_slugs
from .validation import did_you_mean, validate
from .yamlpos import Positions, load_yaml


def _read_yaml(path: Path, root: Path) -> tuple[Any, Positions]:
    try:
        text = path.read_text(encoding="utf-8")
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
    return load_yaml(text, shown(path, root))


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


def load_issue(manifest_path: Path | str) -> Issue:
    """Validate a manifest and load every review it selects, in order.

    Raises InputError with every finding when anything is wrong. An invalid manifest does not
    hide the rest: the cover image and the reviews its sections name are still checked, as far
    as they can be made out, so one run reports every problem.
    """
    manifest_path = Path(manifest_path)
    root = find_root(manifest_path)
    where = shown(manifest_path, root)
    data, positions = _read_yaml(manifest_path, root)
    findings: list[Finding] = []
    site_owners: dict[str, Positions] | None = {}
    if isinstance(data, dict):
        site_owners = _merge_site(data, root, findings)
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
    selection = [spec.reviews for spec in manifest.sections] if manifest else _raw_slugs(data)
    loaded = _read_selected(selection, positions, where, root, findings)

    if manifest is None:
        raise InputError(f"invalid manifest {where}", findings)
    if findings:
        raise InputError(f"invalid issue {where}", findings)
    sections = [
        Section(
            title=spec.title,
            reviews=[r.model_copy(update={"lang": r.lang or manifest.lang}) for r in reviews],
        )
        for spec, reviews in zip(manifest.sections, loaded, strict=True)
    ]
    return Issue(manifest=manifest, sections=sections, root=root, manifest_path=manifest_path)


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


def _relocate(finding: Finding, owners: dict[str, Positions], root: Path) -> Finding:
    """Point a finding about ``site.<key>`` at magbuilder.yaml when that file supplied the key."""
    for key, positions in owners.items():
        if finding.message.startswith((f"site.{key}:", f"unknown key 'site.{key}'")):
            line = positions.line(("site", key))
            return Finding(shown(root / CONFIG_NAME, root), line, finding.message, finding.level)
    return finding
