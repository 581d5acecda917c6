"""What PDF/UA-1 asks of the reader's file beyond WeasyPrint's tags (``pdfx.finish_screen``).

The catalog marked and its title shown; marked content that no structure element owns (the
running heads and folios of margin boxes) made a pagination artifact; every link annotation
described (/Contents) and owned by a /Link structure element. Each function edits an open
pikepdf document in place.
"""

from __future__ import annotations

import pikepdf
from pikepdf import Array, Dictionary, Name


def declare_accessible(doc: pikepdf.Pdf) -> None:
    """The catalog entries PDF/UA-1 asks of a tagged file (WeasyPrint writes them with its
    tags; a file assembled from parts keeps the first part's): marked, the title shown."""
    if "/StructTreeRoot" not in doc.Root:
        return  # not tagged: claiming it would be false
    doc.Root.MarkInfo = Dictionary(Marked=True)
    preferences = doc.Root.get("/ViewerPreferences")
    if not isinstance(preferences, Dictionary):
        preferences = doc.Root.ViewerPreferences = Dictionary()
    preferences.DisplayDocTitle = True


def _struct_kids(node: pikepdf.Object) -> list[pikepdf.Object]:
    kids = node.get("/K") if isinstance(node, Dictionary) else None
    if kids is None:
        return []
    return list(kids) if isinstance(kids, Array) else [kids]


def _parent_tree(doc: pikepdf.Pdf) -> dict[int, pikepdf.Object]:
    """The structure tree's ParentTree as a dict: key → array of elements by MCID (a page's
    or a form's) or the element of one annotation. Its own objects: editing them edits it."""
    root = doc.Root.get("/StructTreeRoot")
    entries: dict[int, pikepdf.Object] = {}
    nodes = [root.get("/ParentTree")] if isinstance(root, Dictionary) else []
    while nodes:
        node = nodes.pop()
        if not isinstance(node, Dictionary):
            continue
        nums = node.get("/Nums") or []
        for i in range(0, len(nums) - 1, 2):
            entries[int(nums[i])] = nums[i + 1]
        nodes.extend(node.get("/Kids") or [])
    return entries


def unowned_content_as_artifacts(doc: pikepdf.Pdf) -> None:
    """Marked content whose structure element is not in the tree becomes a pagination artifact.

    WeasyPrint tags what its margin boxes draw (running heads, folios) with elements that it
    keeps out of the tree (an artifact element exists only in PDF 2.0): a reader would find
    text that belongs to nothing. In a chunked build only the front matter has margin boxes;
    the review pages' heads come from an overlay already drawn as an artifact (collate).
    """
    root = doc.Root.get("/StructTreeRoot")
    if not isinstance(root, Dictionary):
        return
    in_tree: set[tuple[int, int]] = set()
    stack = _struct_kids(root)
    while stack:
        node = stack.pop()
        if isinstance(node, Dictionary) and node.is_indirect and node.objgen not in in_tree:
            in_tree.add(node.objgen)
            stack.extend(_struct_kids(node))
    parents = _parent_tree(doc)
    for page in doc.pages:
        key = page.obj.get("/StructParents")
        owners = parents.get(int(key)) if key is not None else None
        if not isinstance(owners, Array):
            continue
        unowned = {
            mcid
            for mcid, owner in enumerate(owners)
            if isinstance(owner, Dictionary) and owner.objgen not in in_tree
        }
        if unowned:
            for mcid in _mark_as_artifacts(doc, page, unowned):
                owners[mcid] = None


def _mark_as_artifacts(doc: pikepdf.Pdf, page: pikepdf.Page, mcids: set[int]) -> set[int]:
    """Rewrite the page's ``BDC`` of each of ``mcids`` as a pagination artifact; the MCIDs it
    found in the page's own content (not in forms it draws)."""
    found: set[int] = set()
    instructions = []
    for instruction in pikepdf.parse_content_stream(page):
        if (
            isinstance(instruction, pikepdf.ContentStreamInstruction)
            and instruction.operator == pikepdf.Operator("BDC")
            and isinstance(instruction.operands[-1], Dictionary)
            and instruction.operands[-1].get("/MCID") in mcids
        ):
            found.add(int(instruction.operands[-1].MCID))
            instruction = pikepdf.ContentStreamInstruction(
                [Name.Artifact, Dictionary(Type=Name.Pagination)], pikepdf.Operator("BDC")
            )
        instructions.append(instruction)
    if found:
        page.obj.Contents = doc.make_stream(pikepdf.unparse_content_stream(instructions))
    return found


def describe_links(doc: pikepdf.Pdf) -> None:
    """Every link annotation gets a /Contents that says where it goes: "Go to page N: <title>"
    for a link within the file (the title of the outline's deepest entry on that page), the
    address for a web link (when it has no description yet)."""
    numbers = {page.objgen: number for number, page in enumerate(doc.pages, start=1)}
    names = _named_destinations(doc)
    titles = _outline_titles(doc, numbers, names)
    for page in doc.pages:
        for annot in page.obj.get("/Annots") or []:
            if not isinstance(annot, Dictionary) or annot.get("/Subtype") != Name.Link:
                continue
            action = annot.get("/A")
            action = action if isinstance(action, Dictionary) else Dictionary()
            target = annot.get("/Dest")
            if target is None and action.get("/S") == Name.GoTo:
                target = action.get("/D")
            number = _destination_page(target, numbers, names)
            if number is not None:
                title = titles.get(number)
                text = f"Go to page {number}: {title}" if title else f"Go to page {number}"
                annot.Contents = pikepdf.String(text)
            elif not str(annot.get("/Contents", "")).strip() and "/URI" in action:
                annot.Contents = pikepdf.String(str(action.URI))


def _named_destinations(doc: pikepdf.Pdf) -> dict[str, pikepdf.Object]:
    names = doc.Root.get("/Names")
    found: dict[str, pikepdf.Object] = {}
    if isinstance(names, Dictionary) and "/Dests" in names:
        found.update((str(k), v) for k, v in pikepdf.NameTree(names.Dests).items())
    old_style = doc.Root.get("/Dests")  # PDF 1.1: a dictionary of names
    if isinstance(old_style, Dictionary):
        found.update((str(k)[1:], v) for k, v in old_style.items())
    return found


def _destination_page(
    target: object, numbers: dict[tuple[int, int], int], names: dict[str, pikepdf.Object]
) -> int | None:
    """The page number a destination (a name, an array, or a dictionary with /D) leads to."""
    if isinstance(target, pikepdf.String | Name):
        text = str(target)
        target = names.get(text[1:] if isinstance(target, Name) else text)
    if isinstance(target, Dictionary):
        target = target.get("/D")
    if isinstance(target, Array) and len(target) and isinstance(target[0], Dictionary):
        return numbers.get(target[0].objgen)
    return None


def _outline_titles(
    doc: pikepdf.Pdf, numbers: dict[tuple[int, int], int], names: dict[str, pikepdf.Object]
) -> dict[int, str]:
    """Page number → the title of the deepest outline entry on it (a review rather than its
    section, which opens on the same page); the first such entry when there are several."""
    outlines = doc.Root.get("/Outlines")
    found: dict[int, tuple[int, str]] = {}
    stack = [(outlines.get("/First"), 0)] if isinstance(outlines, Dictionary) else []
    seen: set[tuple[int, int]] = set()
    while stack:
        item, depth = stack.pop()
        if not isinstance(item, Dictionary) or item.objgen in seen:
            continue
        seen.add(item.objgen)
        action = item.get("/A")
        target = item.get("/Dest")
        if target is None and isinstance(action, Dictionary) and action.get("/S") == Name.GoTo:
            target = action.get("/D")
        number = _destination_page(target, numbers, names)
        title = str(item.get("/Title", "")).strip()
        if number is not None and title and depth > found.get(number, (-1, ""))[0]:
            found[number] = (depth, title)
        stack += [(item.get("/Next"), depth), (item.get("/First"), depth + 1)]
    return {number: title for number, (_, title) in found.items()}


def links_in_link_elements(doc: pikepdf.Pdf) -> None:
    """Each link annotation's object reference in a /Link structure element (PDF/UA-1 7.18.5).

    WeasyPrint gives an annotation to every box of a link, and puts the reference in that
    box's element: a ``<span>`` inside ``<a>`` makes a /Span own one. It moves to the
    enclosing /Link; a /Span or /NonStruct with no /Link above it becomes the /Link itself.
    """
    parents = _parent_tree(doc)
    for page in doc.pages:
        for annot in page.obj.get("/Annots") or []:
            if not isinstance(annot, Dictionary) or annot.get("/Subtype") != Name.Link:
                continue
            key = annot.get("/StructParent")
            element = parents.get(int(key)) if key is not None else None
            if not isinstance(element, Dictionary) or element.get("/S") == Name.Link:
                continue
            link = element.get("/P")
            while isinstance(link, Dictionary) and link.get("/Type") == Name.StructElem:
                if link.get("/S") == Name.Link:
                    break
                link = link.get("/P")
            if not isinstance(link, Dictionary) or link.get("/S") != Name.Link:
                if element.get("/S") in (Name.Span, Name.NonStruct):
                    element.S = Name.Link
                continue
            kids = _struct_kids(element)
            reference = next((k for k in kids if _refers_to(k, annot)), None)
            if reference is None:
                continue
            element.K = Array([k for k in kids if k is not reference])
            link_kids = _struct_kids(link)
            at = sum(1 for k in link_kids if isinstance(k, Dictionary) and "/Obj" in k)
            link.K = Array([*link_kids[:at], reference, *link_kids[at:]])
            _set_parent(doc, int(key), link)


def _refers_to(kid: pikepdf.Object, annot: Dictionary) -> bool:
    target = kid.get("/Obj") if isinstance(kid, Dictionary) else None
    return isinstance(target, Dictionary) and target.objgen == annot.objgen


def _set_parent(doc: pikepdf.Pdf, key: int, element: Dictionary) -> None:
    """Make ``key`` of the ParentTree (an annotation's /StructParent) lead to ``element``."""
    nodes = [doc.Root.StructTreeRoot.ParentTree]
    while nodes:
        node = nodes.pop()
        nums = node.get("/Nums") or []
        for i in range(0, len(nums) - 1, 2):
            if int(nums[i]) == key:
                nums[i + 1] = element
                return
        nodes.extend(node.get("/Kids") or [])


# --- PDF/X ------------------------------------------------------------------------------------
