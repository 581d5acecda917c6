"""Language editions: the issue again in another language, from the manifest's ``editions``.

An edition is an :class:`Issue` like any other — the renderers need not know — whose manifest
has the edition's language and words (title, cover lines, editorial, section titles,
newsletter) and whose reviews are the translations beside their sources
(``translations.py``). What a missing or stale translation does is the edition's ``missing``
policy: ``fail`` makes it an error; ``fallback`` shows a missing one in its original language,
with a note, and a stale one as it stands, each reported as a warning.
"""

from __future__ import annotations

from collections.abc import Callable

from .content import Issue, Manifest, Review, Section
from .errors import Finding, InputError, Level
from .paths import shown
from .translations import Translation, changes_since, read_translation, translation_path

MAX_CHANGES = 8  # changed fields and paragraphs named per stale translation
LineOf = Callable[..., int | None]  # the manifest line of a key, e.g. ("sections", 0, "reviews", 1)


def read_editions(
    issue: Issue, where: str, line_of: LineOf
) -> tuple[dict[str, Issue], list[Finding]]:
    """Every edition the manifest names, as issues, and the findings about their translations.

    An edition with an error (under ``missing: fail``) is left out; its findings say why.
    """
    editions, findings = {}, []
    for lang in issue.manifest.editions:
        edition, found = _edition(issue, lang, where, line_of)
        findings += found
        if edition is not None:
            editions[lang] = edition
    return editions, findings


def _edition(
    issue: Issue, lang: str, where: str, line_of: LineOf
) -> tuple[Issue | None, list[Finding]]:
    spec = issue.manifest.editions[lang]
    level = Level.ERROR if spec.missing == "fail" else Level.WARNING
    findings: list[Finding] = []
    sections = []
    for s, section in enumerate(issue.sections):
        reviews = []
        for r, source in enumerate(section.reviews):
            review, found = _translated(
                issue, source, lang, level, line_of("sections", s, "reviews", r)
            )
            findings += found
            reviews.append(review)
        sections.append(Section(title=spec.sections[s], reviews=reviews))
    if any(f.level is Level.ERROR for f in findings):
        return None, findings
    m = issue.manifest
    cover = m.cover.model_copy(update=spec.cover.model_dump(exclude_none=True))
    manifest = Manifest.model_construct(
        **{
            **dict(m),
            "lang": lang,
            "title": spec.title,
            "cover": cover,
            "editorial": spec.editorial,
            "newsletter": spec.newsletter,
            "site": m.site.model_copy(update={"tagline": spec.tagline}) if spec.tagline else m.site,
            "editions": {},
        }
    )
    update = {"manifest": manifest, "sections": sections, "edition": lang}
    return issue.model_copy(update=update), findings


def _translated(
    issue: Issue, source: Review, lang: str, level: Level, manifest_line: int | None
) -> tuple[Review, list[Finding]]:
    """The review in ``lang`` (or, failing that, as written) and what is wrong with it."""
    root = issue.root
    where = shown(issue.manifest_path, root)
    path = translation_path(source, lang)
    if not path.is_file():
        fix = f"write {shown(path, root)} (see docs/editions.md)" + (
            f", or set editions.{lang}.missing: fallback" if level is Level.ERROR else ""
        )
        message = f"edition {lang}: '{source.slug}' has no translation: {fix}"
        if level is Level.WARNING:
            message += "; shown in its original language, with a note"
        finding = Finding(where, manifest_line, message, level)
        return source.model_copy(update={"untranslated": True}), [finding]
    try:
        translation = read_translation(source, lang, shown(path, root))
    except InputError as exc:  # a broken file is a mistake to fix, whatever the policy
        return source, exc.findings or [Finding(shown(path, root), None, str(exc))]
    if translation.is_current(source):
        return translation.review, []
    return translation.review, stale_findings(issue, source, translation, level)


def stale_findings(
    issue: Issue, source: Review, translation: Translation, level: Level
) -> list[Finding]:
    """A translation behind its source: where it records the version, then what changed."""
    root = issue.root
    lang = translation.review.lang
    source_shown = shown(source.path, root)
    if translation.recorded is None:
        what = "records no source version"
    else:
        what = f"was made from an earlier version of {source_shown}"
    findings = [
        Finding(
            shown(translation.path, root),
            translation.digest_line,
            f"edition {lang}: the translation {what}: bring it up to date, then run "
            f"'magbuilder translated {source.slug} {lang}'",
            level,
        )
    ]
    changes = changes_since(source, lang, translation.recorded) if translation.recorded else None
    for line, change in (changes or [])[:MAX_CHANGES]:
        findings.append(Finding(source_shown, line, f"changed since: {change}", level))
    if changes and len(changes) > MAX_CHANGES:
        more = len(changes) - MAX_CHANGES
        findings.append(Finding(source_shown, None, f"… and {more} more changes", level))
    return findings
