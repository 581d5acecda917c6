"""Collate a chunked magazine: front matter + review chunks + running heads → one tagged PDF.

Review chunks are laid out with the same text width on every page and no margin boxes, so they
do not depend on where they land. Here each page is shifted to its side's margins, its running
heads and folio are drawn from a separately laid-out overlay (marked as an artifact), and the
links, named destinations, outline and structure tree are rebuilt across chunks.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import pikepdf
from pikepdf import Array, Dictionary, Name, NameTree, Pdf

from ..content import Issue
from .magazine import BACK_COVER_ID, CHUNK_LINK, right_hand

MM = 72 / 25.4
INSIDE_BACK_COVER_ID = "ad-inside-back-cover"  # its ad's element id (print/ads.html.j2)


@dataclass(frozen=True)
class ChunkPdf:
    """A laid-out review chunk: its slug and tagged PDF bytes."""

    slug: str
    pdf: bytes


def _shift(page: pikepdf.Page, pdf: Pdf, dx: float) -> None:
    """Move a page's content (and its link areas) ``dx`` points to the right."""
    if not dx:
        return
    page.contents_add(pdf.make_stream(f"q 1 0 0 1 {dx:.4f} 0 cm\n".encode()), prepend=True)
    page.contents_add(pdf.make_stream(b"\nQ\n"))
    for annot in page.obj.get("/Annots") or []:
        rect = [float(v) for v in annot.Rect]
        annot.Rect = Array([rect[0] + dx, rect[1], rect[2] + dx, rect[3]])


def _stamp(page: pikepdf.Page, pdf: Pdf, overlay: pikepdf.Page, name: str) -> None:
    """Draw ``overlay`` (running heads and folio) over ``page`` as a pagination artifact."""
    form = pdf.copy_foreign(overlay.as_form_xobject())
    # WeasyPrint shares one resource dictionary between pages: give this page its own.
    resources = Dictionary(dict(page.obj.get("/Resources", Dictionary()).items()))
    xobjects = Dictionary(dict(resources.get("/XObject", Dictionary()).items()))
    xobjects[Name(name)] = form
    resources.XObject = xobjects
    page.obj.Resources = resources
    content = f"\n/Artifact <</Type /Pagination>> BDC q {name} Do Q EMC\n".encode()
    page.contents_add(pdf.make_stream(content))


def _copy(out: Pdf, obj: object) -> object:
    """Copy a possibly direct object from another PDF (qpdf copies only indirect ones)."""
    if isinstance(obj, pikepdf.Object) and obj.is_indirect:
        return out.copy_foreign(obj)
    if isinstance(obj, Array):
        return Array([_copy(out, item) for item in obj])
    if isinstance(obj, Dictionary):
        return Dictionary({key: _copy(out, value) for key, value in obj.items()})
    return obj


def _dests(pdf: Pdf) -> dict[str, Array]:
    names = pdf.Root.get("/Names")
    if names is None or "/Dests" not in names:
        return {}
    return dict(NameTree(names.Dests).items())


def dest_pages(doc: Pdf) -> dict[str, int]:
    """Each named destination's page (0-based index): ``review-<slug>``, ``ad-<slot>`` …"""
    index = {page.objgen: n for n, page in enumerate(doc.pages)}
    found = {}
    for name, dest in _dests(doc).items():
        target = dest.get("/D", dest) if isinstance(dest, Dictionary) else dest
        if isinstance(target, Array) and len(target) and target[0].objgen in index:
            found[str(name)] = index[target[0].objgen]
    return found


def review_pages(pdf: bytes) -> tuple[dict[str, int], int]:
    """Each review's first page (from its ``review-<slug>`` destination), and the page count."""
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        starts = {
            name.removeprefix("review-"): index + 1
            for name, index in dest_pages(doc).items()
            if name.startswith("review-")
        }
        return starts, len(doc.pages)


def _merge_structure(out: Pdf, chunk: Pdf, parent_offset: int) -> int:
    """Append a chunk's structure elements under the output's Document element.

    Returns the number of parent-tree keys used, so the next chunk can be offset past them.
    """
    root = chunk.Root.get("/StructTreeRoot")
    target = out.Root.get("/StructTreeRoot")
    if root is None or target is None:
        return 0
    document = target.K[0]
    kids = _copy(out, root.K[0].K)
    for kid in kids:
        if isinstance(kid, Dictionary):
            kid.P = document
        document.K.append(kid)
    nums = list(root.ParentTree.get("/Nums", []))
    target_nums = target.ParentTree.Nums
    for i in range(0, len(nums), 2):
        target_nums.append(int(nums[i]) + parent_offset)
        target_nums.append(_copy(out, nums[i + 1]))
    return max((int(nums[i]) for i in range(0, len(nums), 2)), default=-1) + 1


def _parent_key_count(pdf: Pdf) -> int:
    root = pdf.Root.get("/StructTreeRoot")
    if root is None:
        return 0
    nums = root.ParentTree.get("/Nums", [])
    return max((int(nums[i]) for i in range(0, len(nums), 2)), default=-1) + 1


def collate(
    issue: Issue,
    front: bytes,
    chunks: list[ChunkPdf],
    overlay: bytes,
    back: bytes | None = None,
    ads: dict[str, bytes] | None = None,
) -> tuple[bytes, dict[str, int]]:
    """One PDF from the parts; returns it and the first page (1-based) of each part: each
    review's by its slug, ``ad:<slot>`` of a full-page ad, ``back`` of the back cover.

    ``ads`` (slot → PDF) are full-page ads laid out on their own: ``after-contents`` follows
    the front matter, ``inside-back-cover`` goes on the right-hand page before the back cover
    (the outside back cover left blank when there is none). ``back``, the back cover laid out
    on its own, goes last, on a left-hand page (after a blank page when the reviews end on
    one). Neither is shifted or given running heads: they have their own page rules.
    """
    ads = ads or {}
    out = Pdf.open(io.BytesIO(front))
    heads = Pdf.open(io.BytesIO(overlay))
    margins = issue.manifest.print.margins
    centre = (margins.inside + margins.outside) / 2
    starts: dict[str, int] = {}
    dests = _dests(out)
    parent_offset = _parent_key_count(out)

    def placed(number: int) -> float:
        """How far a review page moves: right-hand pages have the inside margin on the left."""
        left_margin = margins.inside if right_hand(issue, number) else margins.outside
        return (left_margin - centre) * MM

    def own_pages(name: str, pdf: bytes, right: bool | None = None) -> None:
        nonlocal parent_offset
        if right is not None and right_hand(issue, len(out.pages) + 1) != right:
            _blank_page(out)
        starts[name] = len(out.pages) + 1
        parent_offset = _append(out, Pdf.open(io.BytesIO(pdf)), dests, parent_offset)

    if "after-contents" in ads:
        own_pages("ad:after-contents", ads["after-contents"])
    for chunk in chunks:
        starts[chunk.slug] = len(out.pages) + 1
        parent_offset = _append(out, Pdf.open(io.BytesIO(chunk.pdf)), dests, parent_offset,
                                placed, heads)  # fmt: skip
    if "inside-back-cover" in ads:
        own_pages("ad:inside-back-cover", ads["inside-back-cover"], right=True)
        if back is None:
            _blank_page(out)  # the outside back cover
    if back is not None:
        own_pages("back", back, right=False)
    _write_dests(out, dests)
    _resolve_contents_links(out, dests)
    _outline(out, issue, starts)
    buffer = io.BytesIO()
    out.save(buffer, deterministic_id=True)
    return buffer.getvalue(), starts


def _append(
    out: Pdf,
    source: Pdf,
    dests: dict[str, Array],
    parent_offset: int,
    placed: Callable[[int], float] | None = None,
    heads: Pdf | None = None,
) -> int:
    """Append ``source``'s pages to ``out`` with their destinations (into ``dests``) and their
    structure; each page shifted ``placed(number)`` points and stamped with the running heads
    of ``heads``' page of that number, when given. Returns the next parent-tree offset."""
    first = len(out.pages)  # 0-based index of the part's first page in the output
    mapping = {}
    for index, page in enumerate(source.pages):
        out.pages.append(page)
        new = out.pages[-1]
        number = first + index + 1
        dx = placed(number) if placed else 0.0
        _shift(new, out, dx)
        if heads is not None:
            _stamp(new, out, heads.pages[number - 1], "/MbRunningHeads")
        mapping[page.obj.objgen] = (new, dx)
        if "/StructParents" in new.obj:
            new.obj.StructParents = int(new.obj.StructParents) + parent_offset
        for annot in new.obj.get("/Annots") or []:
            if "/StructParent" in annot:
                annot.StructParent = int(annot.StructParent) + parent_offset
    for name, dest in _dests(source).items():
        target, dx = mapping[dest[0].objgen]
        x = float(dest[2]) + dx if len(dest) > 2 and dest[1] == Name.XYZ else None
        rest = [x if i == 2 and x is not None else v for i, v in enumerate(dest)][1:]
        dests[str(name)] = Array([target.obj, *rest])
    return parent_offset + _merge_structure(out, source, parent_offset)


def _blank_page(pdf: Pdf, at: int | None = None) -> None:
    """An empty page with the page boxes of the last one, inserted before index ``at`` (at the
    end when None)."""
    last = pdf.pages[-1].obj
    blank = Dictionary(Type=Name.Page, Resources=Dictionary())
    for box in ("/MediaBox", "/CropBox", "/BleedBox", "/TrimBox", "/ArtBox"):
        if box in last:
            blank[box] = last[box]
    if at is None:
        pdf.pages.append(pikepdf.Page(blank))
    else:
        pdf.pages.insert(at, pikepdf.Page(blank))


def pad(pdf: bytes, multiple: int) -> bytes:
    """``pdf`` with blank pages up to a multiple of ``multiple`` pages (a sheet's two sides, or
    a saddle-stitched sheet's four): before the inside back cover's ad and the back cover,
    which stay last."""
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        missing = -len(doc.pages) % multiple
        if not missing:
            return pdf
        pages = dest_pages(doc)
        at = next((pages[n] for n in (INSIDE_BACK_COVER_ID, BACK_COVER_ID) if n in pages), None)
        for _ in range(missing):
            _blank_page(doc, at)
        out = io.BytesIO()
        doc.save(out, deterministic_id=True)
        return out.getvalue()


def _write_dests(out: Pdf, dests: dict[str, Array]) -> None:
    if "/Names" not in out.Root:
        out.Root.Names = Dictionary()
    names = out.Root.Names
    tree = NameTree.new(out)
    for name in sorted(dests):
        tree[name] = dests[name]
    names.Dests = tree.obj


def _resolve_contents_links(out: Pdf, dests: dict[str, Array]) -> None:
    """Contents entries point at reviews by name (``magbuilder:review-<slug>``): make them GoTo.

    Their /Contents goes: WeasyPrint wrote the placeholder address there, no description.
    ``pdfx.finish_screen`` describes every link ("Go to page N: <title>") in both builds, after
    the two files part: a description written here would change the printer's file too (its
    document ID is a digest of this PDF)."""
    for page in out.pages:
        for annot in page.obj.get("/Annots") or []:
            action = annot.get("/A")
            uri = str(action.get("/URI", "")) if action is not None else ""
            if uri.startswith(CHUNK_LINK) and uri[len(CHUNK_LINK) :] in dests:
                annot.A = Dictionary(S=Name.GoTo, D=pikepdf.String(uri[len(CHUNK_LINK) :]))
                if "/Contents" in annot:
                    del annot["/Contents"]


def _outline(out: Pdf, issue: Issue, starts: dict[str, int]) -> None:
    """Sections → reviews, after the front matter's own entries (cover, editorial, contents)."""
    with out.open_outline() as outline:
        for section in issue.sections:
            first = section.reviews[0].slug
            item = pikepdf.OutlineItem(section.title, starts[first] - 1)
            for review in section.reviews:
                item.children.append(pikepdf.OutlineItem(review.title, starts[review.slug] - 1))
            outline.root.append(item)
