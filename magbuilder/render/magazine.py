"""The magazine as HTML: the print template rendered for the whole issue or for one part.

Nothing here imports WeasyPrint: the build decides what to lay out (and whether anything needs
laying out at all) from this HTML, and hands the layout itself to ``render/pdf.py`` in worker
processes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..content import Issue, Review, text_dir
from ..errors import Finding, RenderError
from ..paths import shown
from .env import make_env, render_template
from .images import UnreadableImage, header_size
from .layout import Layout

CHUNK_LINK = "magbuilder:"  # contents links in a chunked build, resolved when pages are assembled
PRINT_TEMPLATE = "print/magazine.html.j2"


@dataclass(frozen=True)
class Part:
    """Which part of the magazine to lay out, and how the contents refers to the reviews."""

    front: bool = True
    reviews: frozenset[str] | None = None  # None: every review
    page_numbers: dict[str, int] | None = None  # final numbers for the contents, when known
    chunked: bool = False  # part of a chunked build: links by name; reviews without margin boxes
    back: bool = False  # the back cover (the layout's back_cover block), after the reviews
    ads: frozenset[str] | None = frozenset()  # the full-page ad slots it lays out; None: all

    def includes(self, slug: str) -> bool:
        return self.reviews is None or slug in self.reviews

    def includes_ad(self, slot: str) -> bool:
        return self.ads is None or slot in self.ads

    def link(self, slug: str) -> str:
        return f"{CHUNK_LINK}review-{slug}" if self.chunked else f"#review-{slug}"


WHOLE = Part(back=True, ads=None)
BACK = Part(front=False, reviews=frozenset(), chunked=True, back=True)
# The full-page ad slots that are pages of their own, in the order they come in the magazine:
# after the front matter, and the inside back cover (a right-hand page, before the back cover).
# The back cover's ad is the back cover (BACK); a half page sits in its section's last review.
AD_PAGES = ("after-contents", "inside-back-cover")


def ad_part(slot: str) -> Part:
    """A full-page ad laid out on its own (a chunk)."""
    return Part(front=False, reviews=frozenset(), chunked=True, ads=frozenset({slot}))


# The back cover's element (print/magazine.html.j2): it starts on a left-hand page, the outside
# back cover, with blank pages before it where needed (the saddle-stitch padding too).
BACK_COVER_ID = "back-cover"
_EMPTY_BACK = re.compile(rf'id="{BACK_COVER_ID}"[^>]*>\s*</section>')


def image_pixels(content_dir: Path, src: str) -> tuple[int, int]:
    """Width and height in pixels of an image under ``content/`` (for layout decisions).

    Only the header is read: the fetcher decodes every image it serves in full.
    """
    path = content_dir / src
    try:
        return header_size(path)
    except OSError as exc:
        why = f"cannot read image: {exc.strerror or exc}"
    except UnreadableImage as exc:
        why = f"cannot decode image: {exc}"
    raise RenderError(f"content/{src}: {why}", [Finding(f"content/{src}", None, why)])


def magazine_html(issue: Issue, layout: Layout, part: Part = WHOLE) -> str:
    """The magazine (or a part of it) as one HTML document."""
    return render_template(
        make_env(layout),
        PRINT_TEMPLATE,
        issue=issue,
        part=part,
        pixels=lambda src: image_pixels(issue.content_dir, src),
    )


# All sixteen page-margin boxes of CSS Paged Media: a chunk draws none of them, whichever the
# layout uses; the running-heads overlay, laid out with the layout's own page rules, draws them.
MARGIN_BOXES = tuple(
    [f"top-{at}" for at in ("left-corner", "left", "center", "right", "right-corner")]
    + [f"bottom-{at}" for at in ("left-corner", "left", "center", "right", "right-corner")]
    + [f"{side}-{at}" for side in ("left", "right") for at in ("top", "middle", "bottom")]
)


def right_hand(issue: Issue, number: int) -> bool:
    """Whether page ``number`` (1-based) is a right-hand page: the magazine's first page is a
    right-hand page when it reads left to right, a left-hand one when it reads right to left
    (CSS Paged Media's page progression, as the print template sets ``dir``)."""
    return (number % 2 == 1) == (text_dir(issue.manifest.lang) == "ltr")


def chunk_css(issue: Issue) -> str:
    """For a standalone part: the same text width on every page, no margin box at all.

    Left and right pages differ only in where the text block sits (inside/outside margins) and
    in their running heads; the assembler shifts each page into place and adds the heads.
    """
    g = issue.manifest.print.margins
    side = (g.inside + g.outside) / 2
    boxes = " ".join(f"@{box} {{ content: none !important; }}" for box in MARGIN_BOXES)
    sides = f"margin-left: {side}mm !important; margin-right: {side}mm !important;"
    return "".join(f"@page :{kind} {{ {sides} {boxes} }}\n" for kind in ("left", "right"))


def part_css(issue: Issue, part: Part) -> str:
    """The extra style sheet a part is laid out with: none for the whole magazine and the front
    matter (they start on page 1 with every page rule); ``chunk_css`` for a review; for the back
    cover, no margin box and a first page on the left-hand side, where the magazine puts it; for
    a full-page ad, no margin box."""
    if not part.chunked or part.front:
        return ""
    if not part.back and not part.ads:
        return chunk_css(issue)
    boxes = " ".join(f"@{box} {{ content: none !important; }}" for box in MARGIN_BOXES)
    if part.ads:  # a full-page ad: its own page rules (no margin), never a margin box
        return f"@page {{ {boxes} }}\n"
    return f":root {{ break-before: verso; }}\n@page {{ {boxes} }}\n"


def has_back_cover(html: str) -> bool:
    """Whether the layout's back_cover block gave the magazine (or the back part) a back cover."""
    return f'id="{BACK_COVER_ID}"' in html and not _EMPTY_BACK.search(html)


def review_label(issue: Issue, review: Review) -> str:
    """How errors name a review: ``review 'slug' (content/reviews/slug.md)``."""
    return f"review '{review.slug}' ({shown(review.path, issue.root.resolve())})"
