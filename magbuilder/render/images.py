"""Decoding images strictly: a truncated or corrupt file is an error, never a grey half-picture.

WeasyPrint sets Pillow's ``ImageFile.LOAD_TRUNCATED_IMAGES`` for the whole process when it is
imported, so a JPEG cut short by a failed copy decodes "successfully" with its bottom missing.
Every image magbuilder prints or mails is decoded here once with that switch off.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageFile

# Formats Pillow decodes; anything else (SVG…) is left to WeasyPrint.
RASTER_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".png", ".gif", ".webp", ".tif", ".tiff", ".bmp", ".jp2", ".avif"}
)
_STRICT = threading.RLock()


class UnreadableImage(ValueError):
    """An image file that cannot be decoded; the message says why, for a person."""


@contextmanager
def strict_decoding() -> Iterator[None]:
    """Within the block, Pillow refuses truncated images (restored afterwards)."""
    with _STRICT:
        allowed = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = allowed


def reason(exc: BaseException) -> str:
    """What a Pillow exception means for the person who supplied the file."""
    text = str(exc)
    if isinstance(exc, Image.DecompressionBombError):
        return f"too many pixels to decode safely ({text})"
    if isinstance(exc, Image.UnidentifiedImageError):
        return "not an image file Pillow can read (wrong extension, or not an image at all?)"
    if "truncated" in text or "incomplete" in text or isinstance(exc, EOFError):
        return "the file is truncated (an interrupted download or copy?): export it again"
    return f"the image data is corrupt ({type(exc).__name__}: {text or 'no detail'})"


@lru_cache(maxsize=512)
def _size(path: Path, mtime_ns: int, size: int, full: bool) -> tuple[int, int]:
    """Pixel size from the header, or (``full``) after decoding every pixel strictly."""
    with strict_decoding() if full else nullcontext():
        try:
            with Image.open(path) as image:
                if full:
                    image.load()
                return image.size
        except OSError as exc:
            if not path.is_file():
                raise
            raise UnreadableImage(reason(exc)) from None
        except Exception as exc:  # Pillow's decoders raise many types for hostile files
            raise UnreadableImage(reason(exc)) from None


def header_size(path: Path) -> tuple[int, int]:
    """Width and height in pixels from the image's header only (cheap; no decoding).

    Raises OSError when the file cannot be read, UnreadableImage when it is not an image.
    """
    stat = path.stat()
    return _size(path.resolve(), stat.st_mtime_ns, stat.st_size, False)


def decoded_size(path: Path) -> tuple[int, int]:
    """Width and height in pixels of the image at ``path``, after decoding every pixel.

    Raises OSError when the file cannot be read, UnreadableImage when it cannot be decoded.
    Results are cached while the file is unchanged.
    """
    stat = path.stat()
    return _size(path.resolve(), stat.st_mtime_ns, stat.st_size, True)
