"""Structured fields hidden in review text: labelled film facts, the author bio, the kicker.

Review pages carry lines such as ``Country: Norway/Denmark/France, 2017``, ``Directors A and B``
or ``Runtime: 105'``. Understood lines become fields and leave the body; a line whose label is
recognised but whose value is not understood stays in the body, untouched, and is reported.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from .config import Labels
from .dates import parse_date
from .item import Block

#: Lower-case words that may stand inside a name ("Ingrid van der Berg", "Ali bin Said").
PARTICLES = {
    "de", "da", "di", "do", "dos", "das", "del", "della", "der", "den", "van", "von", "la", "le",
    "du", "bin", "ibn", "al", "el", "af", "av", "ten", "ter", "zu", "y", "e", "the",
}  # fmt: skip
_SEPARATORS = re.compile(r"\s*(?:/|,|;|\s&\s|\s(?:and|og|och|et|und)\s)\s*")
_NAME_WORD = re.compile(r"^[^\W\d_][\w’'.\-]*$")
_SENTENCE = re.compile(r"(?<=[^\W\d_]{2})\.\s+(?=[^\W\d_])")
_RUNTIME_HM = re.compile(
    r"^(\d{1,2})\s*(?:h|hr|hrs|hours?|t|timer?|std)\.?\s*(?:(\d{1,2})\s*(?:m|min|mins|minutes?)?\.?)?$",
    re.I,
)
_RUNTIME_M = re.compile(
    r"^(\d{1,4})\s*(?:min|mins|minutes?|minutter|minuten|m|'|′|’)?\.?$",
    re.I,
)
_KICKER = re.compile(r"^([^\W_][^:\n]{0,39}?):\s+(\S.*)$", re.S)
_BIO_WORDS = re.compile(
    r"\b(contributor|critic|writer|journalist|editor|correspondent|columnist|filmmaker|programmer"
    r"|curator|scholar|researcher|author|translator|skribent|kritiker|journalist|redaktør"
    r"|bidragsyter|medarbeider|filmskaper|forfatter)\w*",
    re.I,
)
_BIO_VERB = r"\s+(?:is|was|er|var|är|est|ist|es)\s+"
_AFTER_NAME = re.compile(r"^(?:\s+\([^()]{1,40}\))?,?\s+([^\W\d_][\w’'-]*)")
_JOINERS = {"and", "og", "och", "und", "et", "y", "e"}


@dataclass
class FilmFacts:
    """What labelled lines said about the film and the review."""

    title: str | None = None
    original_title: str | None = None
    directors: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)
    year: int | None = None
    runtime: int | None = None
    published: dt.date | None = None
    published_raw: str | None = None

    def has_film(self) -> bool:
        """Whether any fact about the film itself was found."""
        film = (self.original_title, self.directors, self.countries, self.year, self.runtime)
        return any(film) or self.title is not None


def parse_runtime(value: str) -> int | None:
    """Minutes from ``71 min``, ``105'``, ``1 h 45 min`` or ``93``; None when not understood."""
    value = value.strip().rstrip(".").strip()
    if match := _RUNTIME_HM.match(value):
        minutes = int(match[1]) * 60 + int(match[2] or 0)
    elif match := _RUNTIME_M.match(value):
        minutes = int(match[1])
    else:
        return None
    return minutes if 0 < minutes <= 1500 else None


def parse_year(value: str) -> int | None:
    """A production year, 1880–2100."""
    value = value.strip().rstrip(".")
    return int(value) if re.fullmatch(r"\d{4}", value) and 1880 <= int(value) <= 2100 else None


def looks_like_name(value: str, max_words: int = 6) -> bool:
    """Whether ``value`` reads as a person's or a country's name (capitalised words)."""
    words = value.split()
    if not words or len(words) > max_words:
        return False
    if not any(w[0].isupper() for w in words):
        return False
    return all(_NAME_WORD.match(w) and (w[0].isupper() or w in PARTICLES) for w in words)


def split_list(value: str) -> list[str]:
    """``A/B``, ``A, B and C``, ``A og B`` → parts, stripped."""
    return [p.strip().strip(".") for p in _SEPARATORS.split(value.strip()) if p.strip().strip(".")]


def split_credit(caption: str, labels: list[str]) -> tuple[str, str]:
    """A caption with a trailing credit (``… Photo: Ola Fjell``, ``(© X)``) → (caption, credit)."""
    if not caption or not labels:
        return caption, ""
    names = "|".join(re.escape(label) for label in sorted(labels, key=len, reverse=True))
    match = re.search(
        rf"(?:^|(?<=[.!?»”])\s+|\s+[–—|/]\s+|\s*\()((?:{names})\s*:?\s*[^()]+?)\)?\s*$",
        caption,
        re.I,
    )
    if not match:
        return caption, ""
    credit = match[1].strip()
    # "Photo: Name" or "© Name": a label word alone in a sentence ("The photo shows") is no credit.
    if not re.match(rf"(?:(?:{names})\s*:|©)\s*\S", credit, re.I):
        return caption, ""
    return caption[: match.start()].strip(), credit


def split_kicker(standfirst: str) -> tuple[str | None, str]:
    """``JUSTICE: A village…`` → ("JUSTICE", "A village…"); else (None, standfirst)."""
    match = _KICKER.match(standfirst.strip())
    if not match:
        return None, standfirst
    label = match[1].strip()
    letters = [c for c in label if c.isalpha()]
    if len(letters) < 2 or any(c.islower() for c in letters):
        return None, standfirst
    return label, match[2].strip()


class MetadataReader:
    """Recognises labelled lines with the configured labels."""

    def __init__(self, labels: Labels) -> None:
        self.fields: dict[str, str] = {}
        for name in Labels.model_fields:
            for label in getattr(labels, name):
                self.fields[label.casefold()] = name
        alternatives = "|".join(re.escape(k) for k in sorted(self.fields, key=len, reverse=True))
        self.pattern = re.compile(rf"^({alternatives})(\s*:\s*|\s+)(\S.*?)\.?$", re.I)

    def read(self, text: str) -> tuple[bool, dict[str, object]]:
        """(label recognised, fields understood) for one line; fields is empty when unsure.

        A label followed by a colon is recognised whatever follows; a label without one
        ("Directors A and B", "Runtime 105'") only when its value reads well, so prose that
        happens to start with a label word is left alone.
        """
        text = " ".join(text.split())
        if not text or len(text) > 200:
            return False, {}
        recognised, found = self._segment(text.rstrip(".")) or (False, {})
        if found:
            return recognised, found
        # "Directed by X. Poland, 2017, 88′": a labelled sentence, then unlabelled facts.
        segments = _SENTENCE.split(text)
        if len(segments) < 2:
            return recognised, {}
        first = self._segment(segments[0].strip().rstrip("."))
        if first is None or not first[1]:
            return recognised, {}
        recognised = True
        found = dict(first[1])
        for segment in segments[1:]:
            segment = segment.strip().rstrip(".")
            labelled = self._segment(segment)
            facts = labelled[1] if labelled else self._facts(segment)
            if not facts or set(facts) & set(found):
                return recognised, {}
            found.update(facts)
        return recognised, found

    def _segment(self, segment: str) -> tuple[bool, dict[str, object]] | None:
        """None when no label starts the segment, else (recognised, fields or {})."""
        match = self.pattern.match(segment)
        if not match:
            return None
        name, colon, value = self.fields[match[1].casefold()], ":" in match[2], match[3]
        if not colon and name not in ("directors", "runtime"):
            return None
        parsed = self._value(name, value)
        if parsed is None:
            return (True, {}) if colon else None
        return True, parsed

    def _value(self, name: str, value: str) -> dict[str, object] | None:
        value = value.strip()
        if name == "directors":
            names = split_list(value)
            return {"directors": names} if names and all(map(looks_like_name, names)) else None
        if name == "countries":
            return self._facts(value, need_extra=False)
        if name == "runtime":
            minutes = parse_runtime(value)
            return {"runtime": minutes} if minutes else None
        if name == "year":
            year = parse_year(value)
            return {"year": year} if year else None
        if name == "published":
            day = parse_date(value)
            return {"published": day} if day else {"published_raw": value}
        return {name: value}  # original_title, film: any text

    def _facts(self, value: str, need_extra: bool = True) -> dict[str, object] | None:
        """``Norway/Denmark, 2017, 88'`` → countries, year, runtime; None when unsure."""
        facts: dict[str, object] = {}
        countries: list[str] = []
        for part in split_list(value):
            if (year := parse_year(part)) and "year" not in facts:
                facts["year"] = year
            elif re.search(r"\d", part) and (minutes := parse_runtime(part)):
                facts["runtime"] = minutes
            elif looks_like_name(part, max_words=4):
                countries.append(part)
            else:
                return None
        if need_extra and not facts:
            return None
        if countries:
            facts["countries"] = countries
        return facts or None


@dataclass
class Extracted:
    """Body blocks with fields taken out, and the lines that were recognised but not read."""

    blocks: list[Block]
    facts: FilmFacts
    unsure: list[str]


def extract_facts(blocks: list[Block], reader: MetadataReader) -> Extracted:
    """Take labelled lines out of paragraphs and into ``FilmFacts``."""
    facts = FilmFacts()
    unsure: list[str] = []
    kept: list[Block] = []
    for block in blocks:
        if block.kind != "p":
            kept.append(block)
            continue
        lines, texts = [], []
        for md, text in zip(block.lines, block.texts, strict=True):
            recognised, found = reader.read(text)
            if found and not _conflicts(facts, found):
                _apply(facts, found)
                continue
            if recognised:
                unsure.append(text)
            lines.append(md)
            texts.append(text)
        if lines:
            kept.append(Block("p", lines, texts))
    return Extracted(kept, facts, unsure)


def _conflicts(facts: FilmFacts, found: dict[str, object]) -> bool:
    return any(getattr(facts, key) not in (None, []) for key in found)


def _apply(facts: FilmFacts, found: dict[str, object]) -> None:
    for key, value in found.items():
        setattr(facts, key, value)


def is_bio(text: str, author: str | None, beside_byline: bool = False) -> bool:
    """Whether a line is a one-line author bio (``<Name> is a regular contributor to …``).

    Beside the byline, where sites put it, any short sentence about the author counts:
    the author's name, then a word in lower case (``<Name> writes about …``, ``<Name> (b. 1979)
    teaches …``).
    """
    if len(text) > 300:
        return False
    if beside_byline and author and text.casefold().startswith(author.casefold()):
        follows = _AFTER_NAME.match(text[len(author) :])
        if follows and follows[1].islower() and follows[1] not in _JOINERS:
            return True
    if author:
        start = re.compile(rf"^{re.escape(author)}{_BIO_VERB}", re.I)
    else:
        start = re.compile(rf"^[^\W\d_][\w’'.-]+(?:\s+[^\W\d_][\w’'.-]+){{1,3}}{_BIO_VERB}")
    return bool(start.match(text)) and bool(_BIO_WORDS.search(text))


def find_bio(blocks: list[Block], author: str | None) -> tuple[list[Block], str | None]:
    """Take out a one-line author bio: the first paragraph when it is one (it stands just under
    the byline), else one of the first or last few paragraphs in the usual wording."""
    first = next((i for i, b in enumerate(blocks) if b.kind != "figure"), None)
    near_ends = set(range(min(4, len(blocks)))) | set(range(max(0, len(blocks) - 3), len(blocks)))
    order = ([first] if first is not None else []) + sorted(near_ends, reverse=True)
    for index in order:
        block = blocks[index]
        if block.kind != "p" or len(block.lines) != 1:
            continue
        if is_bio(block.texts[0], author, beside_byline=index == first):
            return blocks[:index] + blocks[index + 1 :], block.texts[0]
    return blocks, None
