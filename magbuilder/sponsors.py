"""Sponsors and house ads: ``content/sponsors/<slug>.yaml``, and the issue's bookings of them.

A sponsor file says who (name, link, the label its placements carry), when (the run dates) and
what runs where: artwork for a print page, a half page or a column slot (a PDF or an image at
trim size with bleed, or a text ad the layout sets), an email block (image, text, link) and an
archive banner. ``kind: house`` marks the magazine's own appeals (subscribe, festival, back
issues): the same placements, labelled as the magazine's own rather than as sponsored.

The manifest books slots (``ads: {slots: {after-contents: nordlys-kino, …}}``); the layout
declares which slots exist and what each takes (``layout.yaml``'s ``ads``). ``ad_checks.py``
checks both before anything is laid out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from .errors import Finding
from .model import HTTPS_URL, Model, NonEmpty
from .validation import validate
from .yamlpos import Positions, load_yaml

SPONSORS_DIR = Path("content") / "sponsors"
PLACEMENTS = ("page", "half", "column", "email", "archive")
Placement = Literal["page", "half", "column", "email", "archive"]


class Runs(Model):
    """The days the sponsor has paid for (or the house ad should run), both included."""

    start: dt.date
    end: dt.date

    @model_validator(mode="after")
    def _in_order(self) -> Runs:
        if self.end < self.start:
            raise PydanticCustomError(
                "runs", f"ends ({self.end}) before it starts ({self.start})", {"at": "end"}
            )
        return self

    def covers(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


class TextAd(Model):
    """An ad the layout sets in its own type: a headline, a few lines, a call to action."""

    headline: str = NonEmpty
    text: str = NonEmpty
    call: str | None = None


class PrintArt(Model):
    """A print placement: ready artwork (PDF or image under content/), or a text ad."""

    art: str | None = None
    alt: str | None = Field(None, description="what the artwork shows and says, for screen readers")
    text: TextAd | None = None

    @model_validator(mode="after")
    def _one(self) -> PrintArt:
        if (self.art is None) == (self.text is None):
            raise PydanticCustomError(
                "print_art", "give either art (a file under content/) or text, not both or neither"
            )
        return self


class EmailBlock(Model):
    """The newsletter's block: an optional image, a few words and the link."""

    image: str | None = None
    alt: str | None = None
    text: str = NonEmpty
    link: str | None = Field(None, pattern=HTTPS_URL)

    @model_validator(mode="after")
    def _alt(self) -> EmailBlock:
        if self.image and not self.alt:
            raise PydanticCustomError(
                "alt", "an image needs alt text: say what it shows", {"at": "alt"}
            )
        return self


class ArchiveBanner(Model):
    """The archive issue page's banner: an image with its alt text, or words alone."""

    image: str | None = None
    alt: str | None = None
    text: str | None = None


class Sponsor(Model):
    """A sponsor file, validated."""

    name: str = NonEmpty
    kind: Literal["sponsor", "house"] = "sponsor"
    link: str = Field(pattern=HTTPS_URL)
    label: str | None = Field(
        None, description="what each placement says it is; default: the layout's 'sponsored'"
    )
    runs: Runs
    page: PrintArt | None = None
    half: PrintArt | None = None
    column: PrintArt | None = None
    email: EmailBlock | None = None
    archive: ArchiveBanner | None = None

    def placement(self, name: Placement) -> PrintArt | EmailBlock | ArchiveBanner | None:
        return getattr(self, name)


class Ad(Model):
    """A booking the issue carries into every output: which slot, what it takes, whose it is.

    ``number`` is the slot's N (``email-after-2``: after the second teaser; ``section-end-1``:
    at the end of the first section). ``label`` is the sponsor's own label; when it is None
    the layout's string for the kind of ad is shown (``sponsored`` or ``house_ad``).
    """

    slot: str
    placement: Placement
    slug: str
    sponsor: Sponsor

    @property
    def number(self) -> int | None:
        tail = self.slot.rpartition("-")[2]
        return int(tail) if tail.isdigit() else None

    @property
    def sponsored(self) -> bool:
        return self.sponsor.kind == "sponsor"

    @property
    def label_key(self) -> str:
        """The layout string that labels it when the sponsor gives no label of its own."""
        return "sponsored" if self.sponsored else "house_ad"

    @property
    def art(self) -> PrintArt | EmailBlock | ArchiveBanner:
        return self.sponsor.placement(self.placement)  # type: ignore[return-value]

    @property
    def link(self) -> str:
        """Where it leads: the placement's own link (an email block may have one), else the
        sponsor's."""
        return getattr(self.art, "link", None) or self.sponsor.link

    @property
    def media(self) -> list[str]:
        """The files under content/ this ad shows (its artwork or image), as written."""
        art = self.art
        src = art.art if isinstance(art, PrintArt) else art.image
        return [src] if src else []

    @property
    def source(self) -> Path:
        """Its sponsor file, relative to the project."""
        return SPONSORS_DIR / f"{self.slug}.yaml"


@dataclass(frozen=True)
class SponsorFile:
    """A sponsor file as read: the sponsor (None when invalid), where it is, its positions."""

    slug: str
    where: str  # the file as findings name it
    sponsor: Sponsor | None
    positions: Positions
    findings: list[Finding]

    def line(self, *loc: str | int) -> int | None:
        return self.positions.line(loc) if self.sponsor is not None else None


def read_sponsor(root: Path, slug: str) -> SponsorFile | None:
    """``content/sponsors/<slug>.yaml``, or None when there is no such file."""
    path = root / SPONSORS_DIR / f"{slug}.yaml"
    where = (SPONSORS_DIR / path.name).as_posix()
    if not path.is_file():
        return None
    try:
        data, positions = load_yaml(path.read_text("utf-8"), where)
    except UnicodeDecodeError:
        return SponsorFile(slug, where, None, Positions({}), [Finding(where, None, "not UTF-8")])
    except Exception as exc:  # noqa: BLE001 - load_yaml raises InputError with findings
        findings = getattr(exc, "findings", None) or [Finding(where, None, str(exc))]
        return SponsorFile(slug, where, None, Positions({}), findings)
    sponsor, findings = validate(Sponsor, data, positions, where)
    return SponsorFile(slug, where, sponsor, positions, findings)


def sponsor_slugs(root: Path) -> list[str]:
    folder = root / SPONSORS_DIR
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []
