"""What a reader sees on each page of a PDF: words, images, running heads and folios.

Read with pdfplumber. Every box is ``(x0, top, x1, bottom)`` in points from the top-left corner
of the page's TrimBox (its CropBox when it has none), so a box means the same in the printer's
file (with bleed) and the reader's file (trimmed). The margin bands are the strips between the
trim edge and the manifest's top and bottom margins; within a band, a text is *left*, *right* or
*center* when it lines up with the left edge, the right edge or the middle of the text block
(inside and outside margins swap between right-hand, odd, and left-hand, even, pages), and
*other* when it lines up with none of them.

Right-to-left text comes out in visual order, as pdfplumber gives it (see ``visual_order``).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pdfplumber

from magbuilder.content import Margins

MM = 72 / 25.4
Box = tuple[float, float, float, float]  # x0, top, x1, bottom in pt from the trim's top-left
ALIGN_PT = 1.5  # how far a margin text may sit from the edge it lines up with
RUN_GAP_PT = 12.0  # a wider gap between two words in a band separates two margin texts


@dataclass(frozen=True)
class Word:
    """A word as drawn: its text and its box."""

    text: str
    box: Box


@dataclass(frozen=True)
class Picture:
    """One drawing of an image: where, and which image (the same file gives the same digest)."""

    box: Box  # the whole image as placed, before any clipping (``object-fit: cover`` clips)
    pixels: tuple[int, int]  # width, height in image pixels
    digest: str  # the start of the SHA-256 of the image's data as stored in the PDF


@dataclass(frozen=True)
class Page:
    """One page as a reader sees it."""

    number: int  # 1-based
    size: tuple[float, float]  # trim width, height in pt
    words: tuple[Word, ...]  # top band, page area, bottom band; each in reading order
    images: tuple[Picture, ...]  # in drawing order
    heads: dict[str, str]  # top margin band: slot ("left", "center", "right", "other") → text
    feet: dict[str, str]  # bottom margin band, the same way (the folio)

    @property
    def text(self) -> str:
        """All the words, in reading order, separated by single spaces."""
        return " ".join(word.text for word in self.words)


def read_pages(
    pdf: bytes | Path | str, margins: Margins, numbers: Iterable[int] | None = None
) -> list[Page]:
    """Every page of ``pdf`` (or those ``numbers``, 1-based); ``margins`` (the manifest's
    ``print.margins``) define the bands.

    Reading order: the top band and the bottom band left to right, line by line; the page area
    in the order the PDF draws its text (WeasyPrint draws in document order: one column after
    the other), so drawing the margin texts earlier or later changes nothing.
    """
    source = io.BytesIO(pdf) if isinstance(pdf, bytes) else pdf
    with pdfplumber.open(source) as document:
        wanted = document.pages if numbers is None else [document.pages[n - 1] for n in numbers]
        return [_read_page(page, margins) for page in wanted]


def visual_order(text: str) -> str:
    """How right-to-left ``text`` reads off the page: its characters left to right.

    True for plain Arabic or Hebrew without combining marks, and without left-to-right runs.
    """
    return text[::-1]


def differences(
    expected: Page,
    actual: Page,
    tolerance: float = 0.5,
    aspects: Iterable[str] = ("words", "images", "heads", "feet"),
) -> list[str]:
    """What differs between two pages, one line each (empty when they look the same).

    ``aspects`` says what to compare: "words" (texts and boxes, in reading order, and the
    trim size), "images" (pixels, data and boxes), "heads" and "feet" (the margin texts by
    slot). Boxes may differ by ``tolerance`` points on each side. Of words and images, only
    the first difference on the page is told: after a missing word, every word differs.
    """
    found = []
    where = f"page {expected.number}"
    if "words" in aspects:
        if not _near(expected.size, actual.size, tolerance):
            found.append(f"{where}: trim {_size(actual)}, expected {_size(expected)}")
        found += _first_difference(where, "word", expected.words, actual.words, tolerance)
    if "images" in aspects:
        found += _first_difference(where, "image", expected.images, actual.images, tolerance)
    for band in ("heads", "feet"):
        a, b = getattr(expected, band), getattr(actual, band)
        if band in aspects and a != b:
            found.append(f"{where}: {band} {b}, expected {a}")
    return found


def _first_difference(
    where: str,
    kind: str,
    expected: Sequence[Word] | Sequence[Picture],
    actual: Sequence[Word] | Sequence[Picture],
    tolerance: float,
) -> list[str]:
    """The first word or image that differs, is extra or is missing; then the counts."""
    found = []
    for index, (a, b) in enumerate(zip(expected, actual, strict=False)):
        if _identity(a) != _identity(b) or not _near(a.box, b.box, tolerance):
            found.append(f"{where}: {kind} {index + 1} is {_shown(b)}, expected {_shown(a)}")
            break
    else:
        common = min(len(expected), len(actual))
        if len(actual) > common:
            found.append(f"{where}: {kind} {common + 1} is {_shown(actual[common])}, expected none")
        elif len(expected) > common:
            found.append(
                f"{where}: {kind} {common + 1} missing, expected {_shown(expected[common])}"
            )
    if len(expected) != len(actual):
        found.append(f"{where}: {len(actual)} {kind}s, expected {len(expected)}")
    return found


def _read_page(page: pdfplumber.page.Page, margins: Margins) -> Page:
    # pdfplumber flips its tops and its page boxes alike: differences are from the trim's top.
    x0, y0, x1, y1 = getattr(page, "trimbox", page.cropbox)
    width, height = x1 - x0, y1 - y0

    def box(item: dict) -> Box:
        return (item["x0"] - x0, item["top"] - y0, item["x1"] - x0, item["bottom"] - y0)

    top_edge, bottom_edge = margins.top * MM, height - margins.bottom * MM
    head, body, foot = [], [], []
    for item in page.extract_words(use_text_flow=True):
        word = Word(item["text"], box(item))
        middle = (word.box[1] + word.box[3]) / 2
        band = head if middle < top_edge else foot if middle > bottom_edge else body
        band.append(word)
    right_hand = page.page_number % 2 == 1  # the inside margin on the left (geometry.html.j2)
    left = margins.inside if right_hand else margins.outside
    right = margins.outside if right_hand else margins.inside
    block = (left * MM, width - right * MM)
    heads, feet = _lines(head), _lines(foot)
    images = tuple(
        Picture(
            box=box(image),
            pixels=tuple(image["srcsize"]),
            digest=hashlib.sha256(image["stream"].get_rawdata() or b"").hexdigest()[:16],
        )
        for image in page.images
    )
    return Page(
        number=page.page_number,
        size=(width, height),
        words=tuple(word for line in heads for word in line)
        + tuple(body)
        + tuple(word for line in feet for word in line),
        images=images,
        heads=_slots(heads, block),
        feet=_slots(feet, block),
    )


def _lines(words: list[Word]) -> list[list[Word]]:
    """Words grouped into lines (boxes overlapping vertically), top to bottom, left to right."""
    lines: list[list[Word]] = []
    for word in sorted(words, key=lambda w: w.box[1]):
        if lines and word.box[1] < max(w.box[3] for w in lines[-1]) - 0.5:
            lines[-1].append(word)
        else:
            lines.append([word])
    return [sorted(line, key=lambda w: w.box[0]) for line in lines]


def _slots(lines: list[list[Word]], block: tuple[float, float]) -> dict[str, str]:
    """The texts of a band by where they line up with the text block."""
    slots: dict[str, list[str]] = {}
    for line in lines:
        runs = [[line[0]]]
        for word in line[1:]:
            if word.box[0] - runs[-1][-1].box[2] > RUN_GAP_PT:
                runs.append([word])
            else:
                runs[-1].append(word)
        for run in runs:
            start, end = run[0].box[0], run[-1].box[2]
            if abs(start - block[0]) <= ALIGN_PT:
                slot = "left"
            elif abs(end - block[1]) <= ALIGN_PT:
                slot = "right"
            elif abs((start + end) / 2 - (block[0] + block[1]) / 2) <= ALIGN_PT:
                slot = "center"
            else:
                slot = "other"
            slots.setdefault(slot, []).append(" ".join(word.text for word in run))
    return {slot: " ".join(texts) for slot, texts in slots.items()}


def _near(a: tuple[float, ...], b: tuple[float, ...], tolerance: float) -> bool:
    return all(abs(p - q) <= tolerance for p, q in zip(a, b, strict=True))


def _identity(item: Word | Picture) -> object:
    return item.text if isinstance(item, Word) else (item.pixels, item.digest)


def _shown(item: Word | Picture) -> str:
    if isinstance(item, Word):
        return f"{item.text!r} at {_at(item.box)}"
    w, h = item.pixels
    return f"{w}×{h} px {item.digest} at {_at(item.box)}"


def _size(page: Page) -> str:
    return "{:.2f} × {:.2f} pt".format(*page.size)


def _at(box: Box) -> str:
    return "({:.2f}, {:.2f})–({:.2f}, {:.2f}) pt".format(*box)
