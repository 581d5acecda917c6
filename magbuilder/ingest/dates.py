"""Read the dates reviews carry: RFC 822 and RFC 3339 from feeds, written-out dates from pages.

feedparser converts dates to naive UTC (which can move a review published just after midnight to
the day before) and gives up on localised ones, so the raw string is parsed here instead, and a
review is dated by the calendar day written in its own time zone.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from functools import lru_cache

from babel.dates import get_month_names

#: Languages whose month names are understood, e.g. "24. februar 2020" or "5 mars 2018".
MONTH_LOCALES = ("en", "nb", "nn", "da", "sv", "de", "fr", "es", "it", "pt", "nl", "pl", "fi")


@lru_cache(maxsize=1)
def month_numbers() -> dict[str, int]:
    """Month name or abbreviation (lower case, no dot) → month number, over MONTH_LOCALES.

    A name that means different months in different languages is left out rather than guessed.
    """
    found: dict[str, set[int]] = {}
    for locale in MONTH_LOCALES:
        for width in ("wide", "abbreviated"):
            for context in ("format", "stand-alone"):
                for number, name in get_month_names(width, context, locale).items():
                    found.setdefault(name.lower().rstrip("."), set()).add(number)
    found.setdefault("sept", set()).add(9)
    return {name: next(iter(months)) for name, months in found.items() if len(months) == 1}


_WORD = r"([^\W\d_]{3,}\.?)"
_DAY_MONTH_YEAR = re.compile(rf"\b(\d{{1,2}})\.?\s+{_WORD},?\s+(\d{{4}})\b")
_MONTH_DAY_YEAR = re.compile(rf"{_WORD}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b")
_ISO_DAY = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_DOTTED = re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(\d{4})\b")


def _day(year: str | int, month: str | int, day: str | int) -> dt.date | None:
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError:
        return None


def _month(word: str) -> int | None:
    return month_numbers().get(word.lower().rstrip("."))


def parse_date(raw: str | None) -> dt.date | None:
    """The calendar day a date string names, in its own time zone; None when it cannot be read.

    Understands RFC 822 (``Mon, 05 Mar 2018 00:30:00 +0100``), RFC 3339 / ISO 8601
    (``2020-02-24T21:30:00+01:00``), ``March 5, 2018``, ``5 March 2018``, ``24. februar 2020``
    and ``24.02.2020`` (day first), with or without a weekday or time around them.
    """
    if not raw or not raw.strip():
        return None
    text = " ".join(raw.split())
    if re.match(r"^[A-Za-z]{3},?\s+\d{1,2}\s+[A-Za-z]{3}\s+\d{2,4}\s", text + " "):
        try:
            return email.utils.parsedate_to_datetime(text).date()
        except (TypeError, ValueError, IndexError):
            pass
    iso = text.replace("Z", "+00:00") if re.match(r"^\d{4}-\d{2}-\d{2}", text) else None
    if iso:
        try:
            return dt.datetime.fromisoformat(iso).date()
        except ValueError:
            pass
    for match in _DAY_MONTH_YEAR.finditer(text):
        if (month := _month(match[2])) and (day := _day(match[3], month, match[1])):
            return day
    for match in _MONTH_DAY_YEAR.finditer(text):
        if (month := _month(match[1])) and (day := _day(match[3], month, match[2])):
            return day
    if match := _ISO_DAY.search(text):
        return _day(match[1], match[2], match[3])
    if match := _DOTTED.search(text):
        return _day(match[3], match[2], match[1])
    try:
        return email.utils.parsedate_to_datetime(text).date()
    except (TypeError, ValueError, IndexError):
        return None
