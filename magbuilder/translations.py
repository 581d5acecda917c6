"""Translations of reviews: ``content/reviews/<slug>.<lang>.md`` beside their source.

A translation has front matter of its own (title, standfirst, translator, the image's alt text
and caption…) and a translated body; everything else (author, films, date, image file) is the
source's. It records the version of the source it translates: ``magbuilder translated SLUG
LANG`` writes the digest of the source's translatable text into its front matter
(``source_digest``) and keeps a copy of that text in ``content/reviews/.sources/`` so that,
once the source changes, ``check`` can say which paragraphs changed since.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field

from .content import BCP47, Model, NonEmpty, Review
from .errors import Finding, InputError
from .store import review_file_problem, split_front_matter
from .validation import validate
from .yamlpos import load_yaml

SOURCES_DIR = ".sources"  # under content/reviews: the source as each translation last saw it
DIGEST_PREFIX = "sha256:"
SNIPPET = 90  # characters of a changed paragraph shown in a finding


class ImageText(Model):
    """The translated words of the source's image: its alt text, caption and credit line."""

    alt: str | None = None
    caption: str | None = None
    credit: str | None = None


class TranslationFront(Model):
    """The front matter of a translation: only what is said in words, and who translated it."""

    title: str = NonEmpty
    translator: str = NonEmpty
    lang: str = Field(pattern=BCP47)
    kicker: str | None = None
    standfirst: str | None = None
    author_bio: str | None = None
    image: ImageText | None = None
    source_digest: str | None = Field(
        None, pattern=r"^sha256:[0-9a-f]{64}$", description="written by `magbuilder translated`"
    )


def translation_path(review: Review, lang: str) -> Path:
    """``content/reviews/<slug>.<lang>.md``."""
    return review.path.with_name(f"{review.slug}.{lang}.md")


def source_path(review: Review) -> Path:
    """The file a review (or its translation) is written from: ``content/reviews/<slug>.md``."""
    return review.path.with_name(f"{review.slug}.md")


def snapshot_path(review: Review, lang: str) -> Path:
    return review.path.parent / SOURCES_DIR / f"{review.slug}.{lang}.md"


FIELDS = (
    "title",
    "kicker",
    "standfirst",
    "author_bio",
    "image.alt",
    "image.caption",
    "image.credit",
)


def source_fields(review: Review) -> dict[str, str]:
    """The source's words outside its body that a translation translates, by key."""
    image = review.image
    values = {
        "title": review.title,
        "kicker": review.kicker,
        "standfirst": review.standfirst,
        "author_bio": review.author_bio,
        "image.alt": image.alt if image else None,
        "image.caption": image.caption if image else None,
        "image.credit": image.credit if image else None,
    }
    return {key: value for key, value in values.items() if value}


def source_text(review: Review) -> str:
    """What a translation translates, as text: one ``key: value`` line per field (JSON-quoted),
    then the body. Its digest is the version a translation records; a copy of it is kept."""
    head = "".join(
        f"{k}: {json.dumps(v, ensure_ascii=False)}\n" for k, v in source_fields(review).items()
    )
    return f"{head}---\n{review.body.strip()}\n"


def _parse_source_text(text: str) -> tuple[dict[str, str], str]:
    head, _, body = text.partition("---\n")
    fields = {}
    for line in head.splitlines():
        key, _, value = line.partition(": ")
        try:
            fields[key] = json.loads(value)
        except ValueError:
            continue
    return fields, body


def source_digest(review: Review) -> str:
    return _digest(source_text(review))


def _digest(text: str) -> str:
    return DIGEST_PREFIX + hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Translation:
    """A translation file, read and checked against its source."""

    review: Review  # the translated review: the source with the translation's words
    path: Path
    digest_line: int | None  # the line of ``source_digest`` (or of the front matter's end)
    recorded: str | None  # the source digest the translator recorded, if any

    def is_current(self, source: Review) -> bool:
        return self.recorded == source_digest(source)


def read_translation(source: Review, lang: str, shown: str) -> Translation:
    """The translation of ``source`` into ``lang``; InputError with findings when unusable."""
    path = translation_path(source, lang)
    content_dir = path.parent.parent
    if problem := review_file_problem(content_dir, path):
        raise InputError(f"{shown} {problem}", [Finding(shown, None, problem)])
    try:
        text = path.read_text("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = exc.object.count(b"\n", 0, exc.start) + 1
        raise InputError(
            "bad encoding", [Finding(shown, line, "not UTF-8: save the file as UTF-8")]
        ) from None
    front, body, body_line = split_front_matter(text, shown)
    data, positions = load_yaml(front, shown, line_offset=1)
    meta, findings = validate(TranslationFront, data, positions, shown)
    if meta is not None and meta.lang != lang:
        findings.append(
            Finding(
                shown,
                positions.line(("lang",)),
                f"lang is '{meta.lang}' but the file name says '{lang}': make them agree",
            )
        )
    if meta is not None and meta.image and not source.image:
        findings.append(
            Finding(
                shown,
                positions.line(("image",)),
                "the source review has no image: remove 'image' from the translation",
            )
        )
    if not body.strip():
        findings.append(Finding(shown, body_line, "the translation has no text: write it"))
    if findings or meta is None:
        raise InputError(f"invalid translation {shown}", findings)
    image = source.image
    if image and meta.image:
        image = image.model_copy(
            update={k: v for k, v in meta.image.model_dump().items() if v is not None}
        )
    review = source.model_copy(
        update={
            "title": meta.title,
            "kicker": meta.kicker if meta.kicker is not None else source.kicker,
            "standfirst": meta.standfirst,
            "author_bio": meta.author_bio if meta.author_bio is not None else source.author_bio,
            "image": image,
            "lang": lang,
            "translator": meta.translator,
            "path": path,
            "body": body.strip(),  # as the model strips a review's body
            "body_line": body_line,
        }
    )
    recorded = isinstance(data, dict) and "source_digest" in data
    line = positions.line(("source_digest",)) if recorded else body_line - 1
    return Translation(review, path, line, meta.source_digest)


def changes_since(source: Review, lang: str, recorded: str) -> list[tuple[int, str]] | None:
    """What changed in ``source`` since the version the ``lang`` translation recorded, as
    ``(line of the source file, "- was" / "+ now")``; None when no copy of that version is
    kept (the translation was recorded by hand, or the copy belongs to another version)."""
    try:
        before = snapshot_path(source, lang).read_text("utf-8")
    except OSError:
        return None
    return diff_source(source, before) if _digest(before) == recorded else None


def diff_source(source: Review, before: str) -> list[tuple[int, str]]:
    """``source`` against an earlier ``source_text``: the fields and paragraphs that changed,
    each at its line in the source file."""
    old_fields, old_body = _parse_source_text(before)
    new_fields = source_fields(source)
    lines = source.path.read_text("utf-8").splitlines()
    front = lines[1 : max(source.body_line - 2, 1)]
    # The body as the file has it begins after blank lines the model strips off.
    start = source.body_line
    while start <= len(lines) and not lines[start - 1].strip():
        start += 1
    out = []
    for key in FIELDS:
        was, now = old_fields.get(key), new_fields.get(key)
        if was != now:
            line = _key_line(front, key.split(".")[-1])
            if was:
                out.append((line, f"{key}: - {_short(was)}"))
            if now:
                out.append((line, f"{key}: + {_short(now)}"))
    old, new = _paragraphs(old_body), _paragraphs(source.body)
    matcher = difflib.SequenceMatcher(a=[p for p, _ in old], b=[p for p, _ in new], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        at = new[j1][1] if j1 < len(new) else (new[-1][1] + 1 if new else 0)
        for text, _ in old[i1:i2]:
            out.append((start + at, f"- {_short(text)}"))
        for text, line in new[j1:j2]:
            out.append((start + line, f"+ {_short(text)}"))
    return out


def _key_line(front: list[str], key: str) -> int:
    """The line of ``key:`` in the front matter (first match; 1 when not found)."""
    for number, line in enumerate(front, start=2):
        if line.lstrip().startswith(f"{key}:"):
            return number
    return 1


def _paragraphs(text: str) -> list[tuple[str, int]]:
    """Blocks separated by blank lines, each with its first line (0-based)."""
    blocks, current, start = [], [], 0
    for number, line in enumerate(text.splitlines()):
        if line.strip():
            if not current:
                start = number
            current.append(line.strip())
        elif current:
            blocks.append((" ".join(current), start))
            current = []
    if current:
        blocks.append((" ".join(current), start))
    return blocks


def _short(text: str) -> str:
    return text if len(text) <= SNIPPET else text[: SNIPPET - 1].rstrip() + "…"


def record_translated(root: Path, slug: str, lang: str) -> tuple[Path, str]:
    """``magbuilder translated``: the translation of ``slug`` into ``lang`` now translates the
    source as it is. Writes the source's digest into the translation's front matter and keeps a
    copy of the source's text (for the next change's diff). Returns the file and the digest.

    Raises InputError (unknown review, no or invalid translation, a bad language tag).
    """
    from .store import read_review

    if not re.fullmatch(BCP47, lang):
        raise InputError(f"'{lang}' is not a language tag like nb or pt-BR")
    reviews = root / "content" / "reviews"
    source_path = reviews / f"{slug}.md"
    if "." in slug or "/" in slug or not source_path.is_file():
        raise InputError(f"no review '{slug}': expected {source_path.relative_to(root)}")
    source = read_review(source_path, source_path.relative_to(root), root / "content")
    path = translation_path(source, lang)
    where = path.relative_to(root).as_posix()
    if not path.is_file():
        raise InputError(f"{where} does not exist: write the translation there first")
    read_translation(source, lang, where)  # a broken translation is not recorded as done
    text = path.read_text("utf-8").removeprefix("\ufeff")
    front, body, _ = split_front_matter(text, where)
    digest = source_digest(source)
    lines = [line for line in front.splitlines() if not line.startswith("source_digest:")]
    lines.append(f'source_digest: "{digest}"  # written by magbuilder translated')
    snapshot = snapshot_path(source, lang)
    snapshot.parent.mkdir(parents=True, exist_ok=True)
    _write(snapshot, source_text(source))
    _write(path, "---\n" + "\n".join(lines) + "\n---\n" + body)
    return path, digest


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, "utf-8")
    os.replace(tmp, path)
