"""Where each image XObject is drawn on each page, and its effective resolution there.

Also what else each page really uses (forms, patterns, fonts, graphics states), for preflight:
WeasyPrint gives all pages one shared resource dictionary, so only the content tells.

The content stream of every page is walked with ``pikepdf.parse_content_stream``, following the
current transformation matrix (CTM) through ``q``/``Q``/``cm`` into Form XObjects (with their
``/Matrix``) and tiling patterns (with theirs, which is relative to the default space of the stream
that paints with them: this is how WeasyPrint draws CSS backgrounds). At each ``Do`` of an image
the CTM maps the image's unit square onto the page, so its two column vectors give the placed
width and height in points, whatever clipping shows of it: ``object-fit: cover`` is drawn by
WeasyPrint as a clip rectangle plus the whole image scaled past it, and the resolution that
matters is that of the scaled image, which is what the CTM gives.

Not followed: inline images (``BI … EI``; WeasyPrint writes none), shading patterns (no images),
Type 3 glyph procedures, annotation appearance streams, and ``/UserUnit`` (assumed 1).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO

import pikepdf
from pikepdf import Array, Name

Matrix = tuple[float, float, float, float, float, float]
Box = tuple[float, float, float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
MM_PER_INCH = 25.4
OPERATORS = "q Q cm Do scn SCN Tf gs"


@dataclass(frozen=True)
class Placement:
    """One drawing of an image XObject: its pixels, its size on the page and resulting ppi."""

    page: int  # 1-based
    name: str  # the resource name it was drawn by, e.g. "/Im1"
    objgen: tuple[int, int]  # the image object's (number, generation)
    pixels: tuple[int, int]  # width, height in image pixels
    size_pt: tuple[float, float]  # placed width, height in points (1/72 inch)
    ppi: tuple[float, float]  # effective resolution horizontally, vertically

    @property
    def min_ppi(self) -> float:
        """The lower of the two effective resolutions: what a printer judges."""
        return min(self.ppi)

    @property
    def size_mm(self) -> tuple[float, float]:
        """The placed size in millimetres."""
        return (self.size_pt[0] / 72 * MM_PER_INCH, self.size_pt[1] / 72 * MM_PER_INCH)


def multiply(m: Matrix, n: Matrix) -> Matrix:
    """``m × n`` in PDF's row-vector convention: apply ``m`` first, then ``n``."""
    a, b, c, d, e, f = m
    a2, b2, c2, d2, e2, f2 = n
    return (
        a * a2 + b * c2,
        a * b2 + b * d2,
        c * a2 + d * c2,
        c * b2 + d * d2,
        e * a2 + f * c2 + e2,
        e * b2 + f * d2 + f2,
    )


def as_matrix(value: object) -> Matrix:
    """A PDF matrix array (or operand list) as a 6-tuple of floats; identity if absent."""
    if value is None:
        return IDENTITY
    numbers = tuple(float(x) for x in value)  # type: ignore[attr-defined]
    if len(numbers) != 6:
        return IDENTITY
    return numbers  # type: ignore[return-value]


def page_resources(page: pikepdf.Page) -> pikepdf.Dictionary:
    """The page's resources, inherited from the page tree if the page has none of its own."""
    node: pikepdf.Object | None = page.obj
    while node is not None:
        if "/Resources" in node:
            return node.Resources
        node = node.get("/Parent")
    return pikepdf.Dictionary()


@dataclass(frozen=True)
class Use:
    """One use of a resource by a page's content, with the CTM in force at that point."""

    kind: str  # "image", "form", "pattern" (tiling), "font" or "state" (ExtGState)
    name: str  # the resource name, e.g. "/Im1"
    obj: pikepdf.Object
    ctm: Matrix


def page_box(page: pikepdf.Page, key: str) -> Box | None:
    """A page box normalised to (x0, y0, x1, y1), or None when the page lacks it."""
    value = page.obj.get(key)
    if key == "/MediaBox" and value is None:
        value = page.mediabox  # may be inherited
    if not isinstance(value, Array) or len(value) != 4:
        return None
    x0, y0, x1, y1 = (float(v) for v in value)
    return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))


def image_placements(pdf: pikepdf.Pdf | bytes) -> list[Placement]:
    """Every drawing of an image XObject on every page, in page and drawing order."""
    if isinstance(pdf, bytes):
        with pikepdf.open(BytesIO(pdf)) as doc:
            return image_placements(doc)
    found: list[Placement] = []
    for number, page in enumerate(pdf.pages, start=1):
        for use in page_uses(page):
            if use.kind == "image":
                placement = _placement(number, use.name, use.obj, use.ctm)
                if placement is not None:
                    found.append(placement)
    return found


def page_uses(page: pikepdf.Page) -> Iterator[Use]:
    """The images, forms, tiling patterns, fonts and graphics states the page's content uses,
    in drawing order, following nested forms and patterns."""
    walker = _Walker()
    walker.walk(page, page_resources(page), IDENTITY)
    return iter(walker.uses)


class _Walker:
    """Follows the CTM through one page's content, forms and patterns, collecting uses."""

    def __init__(self) -> None:
        self.uses: list[Use] = []
        self.active: set[tuple[int, int]] = set()  # forms/patterns being walked: no cycles

    def walk(self, stream: pikepdf.Object | pikepdf.Page, resources: object, base: Matrix) -> None:
        """Walk one content stream whose default space maps to the page by ``base``."""
        ctm, stack = base, []
        patterns_seen: set[tuple[int, int]] = set()
        for operands, operator in _instructions(stream):
            op = str(operator)
            if op == "q":
                stack.append(ctm)
            elif op == "Q":
                ctm = stack.pop() if stack else base
            elif op == "cm" and len(operands) == 6:
                ctm = multiply(as_matrix(operands), ctm)
            elif op == "Do" and operands:
                self._do(resources, operands[0], ctm)
            elif op in ("scn", "SCN") and operands and isinstance(operands[-1], Name):
                self._pattern(resources, operands[-1], base, patterns_seen)
            elif op in ("Tf", "gs") and operands and isinstance(operands[0], Name):
                category, kind = ("/Font", "font") if op == "Tf" else ("/ExtGState", "state")
                found = _lookup(resources, category, operands[0])
                if found is not None:
                    self.uses.append(Use(kind, str(operands[0]), found, ctm))

    def _do(self, resources: object, name: Name, ctm: Matrix) -> None:
        xobject = _lookup(resources, "/XObject", name)
        if not isinstance(xobject, pikepdf.Stream):
            return
        subtype = xobject.get("/Subtype")
        if subtype == Name.Image:
            self.uses.append(Use("image", str(name), xobject, ctm))
        elif subtype == Name.Form and xobject.objgen not in self.active:
            self.uses.append(Use("form", str(name), xobject, ctm))
            inner = xobject.get("/Resources", resources)
            self._enter(xobject, inner, multiply(as_matrix(xobject.get("/Matrix")), ctm))

    def _pattern(
        self, resources: object, name: Name, base: Matrix, seen: set[tuple[int, int]]
    ) -> None:
        pattern = _lookup(resources, "/Pattern", name)
        if not isinstance(pattern, pikepdf.Stream) or pattern.get("/PatternType") != 1:
            return
        if pattern.objgen in seen or pattern.objgen in self.active:
            return  # one walk per pattern per stream: each fill would find the same tiles
        seen.add(pattern.objgen)
        matrix = multiply(as_matrix(pattern.get("/Matrix")), base)
        self.uses.append(Use("pattern", str(name), pattern, matrix))
        self._enter(pattern, pattern.get("/Resources", pikepdf.Dictionary()), matrix)

    def _enter(self, stream: pikepdf.Stream, resources: object, base: Matrix) -> None:
        self.active.add(stream.objgen)
        try:
            self.walk(stream, resources, base)
        finally:
            self.active.discard(stream.objgen)


def _instructions(stream: pikepdf.Object | pikepdf.Page) -> Iterator[tuple[list, object]]:
    """The operators that matter here, skipping unparseable streams."""
    try:
        instructions = pikepdf.parse_content_stream(stream, OPERATORS)
    except pikepdf.PdfError:
        return
    for item in instructions:
        if isinstance(item, pikepdf.ContentStreamInstruction):
            yield list(item.operands), item.operator


def _lookup(resources: object, category: str, name: Name) -> pikepdf.Object | None:
    """``resources[category][name]``, or None when any part is missing."""
    if not isinstance(resources, pikepdf.Dictionary):
        return None
    group = resources.get(category)
    if not isinstance(group, pikepdf.Dictionary):
        return None
    return group.get(name)


def _placement(page: int, name: str, image: pikepdf.Stream, ctm: Matrix) -> Placement | None:
    """The placement of ``image`` drawn with ``ctm``, or None when degenerate."""
    width_px, height_px = int(image.get("/Width", 0)), int(image.get("/Height", 0))
    a, b, c, d, _, _ = ctm
    width_pt, height_pt = math.hypot(a, b), math.hypot(c, d)
    if min(width_px, height_px) <= 0 or min(width_pt, height_pt) < 1e-6:
        return None
    ppi = (width_px / (width_pt / 72), height_px / (height_pt / 72))
    return Placement(
        page=page,
        name=name,
        objgen=image.objgen,
        pixels=(width_px, height_px),
        size_pt=(width_pt, height_pt),
        ppi=ppi,
    )
