"""Where the print edition's pages begin in the EPUB's text: markers from the laid-out PDF.

Each page of the laid-out magazine is read as text (pypdfium2) and found again, by its first
words, in the text of the EPUB document it belongs to (the review that opens on or before it):
the marker goes before the word the page begins with. Only letters and digits are compared
(case folded, NFKC, combining marks dropped), so hyphenation at line ends, small capitals,
ligatures and the order in which a PDF stores Arabic marks do not matter. Running heads and
folios, drawn after the text, never match two runs of words of the body. A page whose words
are not found (a picture, a blank page) is marked where the page before it is.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable

from markupsafe import Markup

WINDOW = 8  # words of a page looked for together in the document's text
MIN_LETTERS = 16  # a run of words shorter than this could match anywhere
BLOCKS = {"p", "h1", "h2", "h3", "h4", "li", "figcaption", "blockquote", "aside", "figure", "div"}
_TOKEN = re.compile(r"<[^>]*>|&[#A-Za-z0-9]+;|[^<&]", re.S)
_TAG_NAME = re.compile(r"</?([A-Za-z][A-Za-z0-9]*)")


def page_texts(pdf: bytes) -> list[str]:
    """The text of every page of ``pdf``, in page order."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        texts = []
        for index in range(len(document)):
            page = document[index]
            textpage = page.get_textpage()
            texts.append(textpage.get_text_range())
            textpage.close()
            page.close()
        return texts
    finally:
        document.close()


def letters(text: str) -> str:
    """Only the letters and digits of ``text``, compared alike however they were set."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(c for c in folded if unicodedata.category(c)[0] in "LN")


def marker(number: int) -> str:
    """The page-break marker of print page ``number`` (DPUB-ARIA and EPUB semantics)."""
    return (
        f'<span epub:type="pagebreak" role="doc-pagebreak" id="page-{number}" '
        f'aria-label="{number}"/>'
    )


def markers(numbers: Iterable[int]) -> Markup:
    """Several markers in a row, for a template."""
    return Markup("".join(marker(n) for n in numbers))


def _stream(xhtml: str) -> tuple[str, list[int]]:
    """The letters of an XHTML fragment, and for each letter where its word starts in it."""
    found: list[str] = []
    starts: list[int] = []
    word_start = 0
    for match in _TOKEN.finditer(xhtml):
        token = match.group()
        if token.startswith("<"):
            name = _TAG_NAME.match(token)
            if name and name.group(1).lower() in BLOCKS:
                word_start = match.end()  # a word never runs across the edge of a block
            continue
        char = html.unescape(token) if token.startswith("&") else token
        if char.isspace():
            word_start = match.end()
            continue
        for letter in letters(char):
            found.append(letter)
            starts.append(word_start)
    return "".join(found), starts


def _find(stream: str, text: str, cursor: int) -> int | None:
    """Where in ``stream``, at ``cursor`` or after, the first run of words of ``text`` is.

    A run counts when the words after it follow it there too: a title quoted in the text
    (the print contents lists them all) is not where a page of it begins.
    """
    words = [w for w in (letters(word) for word in text.split()) if w]
    for index in range(len(words)):
        window = "".join(words[index : index + WINDOW])
        if len(window) < MIN_LETTERS:
            continue
        after = "".join(words[index + WINDOW : index + 2 * WINDOW])
        found = stream.find(window, cursor)
        while found >= 0:
            if stream.startswith(after, found + len(window)):
                return found
            found = stream.find(window, found + 1)
    return None


def place(
    xhtml: str, pages: list[tuple[int, str]], *, all_pages: bool = True
) -> tuple[str, list[int]]:
    """``xhtml`` with a marker where each of ``pages`` (number, text) begins, in order.

    Returns the marked fragment and the numbers of the pages whose words were found in it;
    those that were not are marked where the page before them is (at the start, before any),
    or, unless ``all_pages``, not at all.
    """
    stream, starts = _stream(xhtml)
    cursor, at = 0, 0
    inserts: list[tuple[int, int]] = []
    found: list[int] = []
    for number, text in pages:
        offset = _find(stream, text, cursor)
        if offset is not None:
            cursor, at = offset + 1, starts[offset]
            found.append(number)
        elif not all_pages:
            continue
        inserts.append((at, number))
    out, last = [], 0
    for position, number in inserts:
        out.append(xhtml[last:position])
        out.append(marker(number))
        last = position
    out.append(xhtml[last:])
    return "".join(out), found
