"""Dates, labelled metadata lines, captions' credits, kickers and bios."""

from __future__ import annotations

import datetime as dt

import pytest

from magbuilder.ingest.config import default_rules
from magbuilder.ingest.dates import parse_date
from magbuilder.ingest.metadata import (
    MetadataReader,
    is_bio,
    parse_runtime,
    split_credit,
    split_kicker,
)

READER = MetadataReader(default_rules().labels)
CREDITS = default_rules().credit_labels


@pytest.mark.parametrize(
    ("raw", "day"),
    [
        ("Mon, 05 Mar 2018 00:30:00 +0100", dt.date(2018, 3, 5)),
        ("Sun, 04 Mar 2018 23:30:00 GMT", dt.date(2018, 3, 4)),
        ("2020-02-24T21:30:00+01:00", dt.date(2020, 2, 24)),
        ("2020-02-24T23:30:00Z", dt.date(2020, 2, 24)),
        ("2020-02-24", dt.date(2020, 2, 24)),
        ("March 5, 2018", dt.date(2018, 3, 5)),
        ("Mar 5th, 2018", dt.date(2018, 3, 5)),
        ("5 March 2018", dt.date(2018, 3, 5)),
        ("24. februar 2020", dt.date(2020, 2, 24)),
        ("mandag 24. februar 2020 kl. 10.00", dt.date(2020, 2, 24)),
        ("5. mars 2018", dt.date(2018, 3, 5)),
        ("14 juin 2019", dt.date(2019, 6, 14)),
        ("24.02.2020", dt.date(2020, 2, 24)),
        ("sometime in May", None),
        ("31 February 2020", None),
        ("", None),
    ],
)
def test_parse_date(raw: str, day: dt.date | None) -> None:
    assert parse_date(raw) == day


@pytest.mark.parametrize(
    ("line", "fields"),
    [
        ("Published date: March 5, 2018", {"published": dt.date(2018, 3, 5)}),
        ("Publisert: 24. februar 2020", {"published": dt.date(2020, 2, 24)}),
        ("Published: next spring", {"published_raw": "next spring"}),
        (
            "Country: Norway/Denmark/France, 2017",
            {"countries": ["Norway", "Denmark", "France"], "year": 2017},
        ),
        ("Land: Norge og Sverige", {"countries": ["Norge", "Sverige"]}),
        ("Director: Maren Holt", {"directors": ["Maren Holt"]}),
        (
            "Directors Amira Haddad and Lucas Moreau",
            {"directors": ["Amira Haddad", "Lucas Moreau"]},
        ),
        (
            "Regissør: Ane Kristiansen, Pål Eide og Siv Li",
            {"directors": ["Ane Kristiansen", "Pål Eide", "Siv Li"]},
        ),
        (
            "Directed by Inês Carvalhal & Rui Tavira",
            {"directors": ["Inês Carvalhal", "Rui Tavira"]},
        ),
        ("Directed by Ingrid van der Berg", {"directors": ["Ingrid van der Berg"]}),
        ("Runtime: 71 min", {"runtime": 71}),
        ("Runtime: 105'", {"runtime": 105}),
        ("Runtime 1h 45m", {"runtime": 105}),
        ("Spilletid: 93 minutter", {"runtime": 93}),
        ("Original title: Saltvokterne", {"original_title": "Saltvokterne"}),
        (
            "Directed by Katarzyna Wolak. Poland, 2017, 88′.",
            {
                "directors": ["Katarzyna Wolak"],
                "countries": ["Poland"],
                "year": 2017,
                "runtime": 88,
            },
        ),
    ],
)
def test_labelled_lines(line: str, fields: dict) -> None:
    assert READER.read(line) == (True, fields)


@pytest.mark.parametrize(
    "line",
    [
        "Runtime: about an hour and a half",
        "Country: a place nobody can name, 2017",
        "Director: the collective of 12",
    ],
)
def test_labelled_but_unreadable_lines_are_left_alone(line: str) -> None:
    assert READER.read(line) == (True, {})


@pytest.mark.parametrize(
    "line",
    [
        "Director Maren Holt’s film is long, and every minute of it earns its place in the end.",
        "Date night at the cinema is not what it used to be.",
        "Film critics have argued about this for years.",
        "The land is flat.",
    ],
)
def test_prose_is_not_metadata(line: str) -> None:
    assert READER.read(line) == (False, {})


def test_parse_runtime() -> None:
    assert [parse_runtime(v) for v in ("71", "2 h", "1 t 32 min", "0 min", "soon")] == [
        71, 120, 92, None, None,
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("caption", "split"),
    [
        ("The courtroom. Photo: Ola Fjell", ("The courtroom.", "Photo: Ola Fjell")),
        (
            "Brakken på Austfonna. Foto: Polarfilm AS",
            ("Brakken på Austfonna.", "Foto: Polarfilm AS"),
        ),
        ("The harbour (© Atelier Haddad)", ("The harbour", "© Atelier Haddad")),
        ("Illustration: Long Take", ("", "Illustration: Long Take")),
        ("A photo of the sea", ("A photo of the sea", "")),
        ("The photo: a man and his boat", ("The photo: a man and his boat", "")),
    ],
)
def test_split_credit(caption: str, split: tuple[str, str]) -> None:
    assert split_credit(caption, CREDITS) == split


def test_split_kicker() -> None:
    assert split_kicker("JUSTICE: A village goes to court.") == (
        "JUSTICE",
        "A village goes to court.",
    )
    assert split_kicker("KLIMA OG MILJØ: Is.") == ("KLIMA OG MILJØ", "Is.")
    assert split_kicker("Paris, 1968: students.") == (None, "Paris, 1968: students.")
    assert split_kicker("No label here.") == (None, "No label here.")


def test_bio() -> None:
    assert is_bio("Marit Lunde is a regular contributor to Long Take.", "Marit Lunde")
    assert is_bio("Bjørn Sætre er fast skribent i Filmkritikk.", None)
    assert not is_bio("Eldbjørg Nilsen is eighty-three and kept the harbour log.", None)
    assert not is_bio("Marit Lunde is a regular contributor to Long Take.", "Ingrid Solvang")
