"""The archive's article pages: every review of an issue as a web page of its own, with its images.

Each review of an issue gets ``<site>/<id>/<slug>/index.html`` and, in the same folder, web copies
of the images it shows (the hero, then those of the body): at most ``WEB_IMAGE_WIDTH`` pixels
wide, JPEG, named after their source file, so the same inputs give the same files. The body is
the project's own Markdown rendering (``markdown.render_markdown``: pull quotes as asides, raw
HTML sanitised) with each image's width and height added, so nothing moves as images load.

An issue that books the ``archive`` slot shows the sponsor's (or the house's) banner on its page:
its image is staged the same way, beside the issue's page (``stage_banner``).
"""

from __future__ import annotations

import hashlib
import io
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote
from xml.etree import ElementTree

from markupsafe import Markup
from PIL import Image, ImageOps

from .cache import Cache
from .content import Issue, Review
from .errors import Finding, RenderError
from .markdown import excerpt, render_markdown
from .render.images import SVG_SUFFIXES, reason, strict_decoding
from .sponsors import SPONSORS_DIR, Ad, ArchiveBanner, read_sponsor
from .store import inside

WEB_IMAGE_WIDTH = 1200  # the article column is at most 42rem (672 px): near 2× there
WEB_JPEG_QUALITY = 82
ARTICLE_PAGE = "index.html"


@dataclass(frozen=True)
class WebImage:
    """An image as the article page shows it: its file in the article's folder and pixel size
    (``None`` for an SVG that does not say)."""

    name: str
    width: int | None
    height: int | None


@dataclass(frozen=True)
class Article:
    """One review as a page of the archive: the review, its section, its images and its body."""

    review: Review
    section: str
    images: dict[str, WebImage]  # src as written in the review → its web copy
    body: Markup

    @property
    def slug(self) -> str:
        return self.review.slug

    @property
    def hero(self) -> WebImage | None:
        """The web copy of the review's hero image, if it has one."""
        return self.images.get(self.review.image.src) if self.review.image else None

    @property
    def summary(self) -> str:
        """What the page is about, in a sentence or two: the standfirst, else the opening."""
        return self.review.standfirst or excerpt(self.review.body, 40)


def resize_for_web(data: bytes, width: int = WEB_IMAGE_WIDTH) -> bytes:
    """A JPEG at most ``width`` pixels wide (never enlarged), upright, transparency on white."""
    with strict_decoding(), Image.open(io.BytesIO(data)) as image:
        image = ImageOps.exif_transpose(image)
        if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
            image = image.convert("RGBA")
            flat = Image.new("RGB", image.size, (255, 255, 255))
            flat.paste(image, mask=image.getchannel("A"))
            image = flat
        image = image.convert("RGB")
        if image.width > width:
            size = (width, round(image.height * width / image.width))
            image = image.resize(size, Image.Resampling.LANCZOS)
        out = io.BytesIO()
        image.save(out, "JPEG", quality=WEB_JPEG_QUALITY, optimize=True, progressive=True)
        return out.getvalue()


def _web_copy(source: Path, where: str, cache: Cache | None) -> bytes:
    """The web copy of ``source``, made once per content and kept in ``cache``."""
    data = source.read_bytes()
    key = hashlib.sha256(data + f"web/{WEB_IMAGE_WIDTH}/{WEB_JPEG_QUALITY}".encode()).hexdigest()
    cached = cache.get(key) if cache else None
    if cached is not None:
        return cached
    try:
        made = resize_for_web(data)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        why = f"cannot decode image: {reason(exc)}"
        raise RenderError(f"{where}: {why}", [Finding(where, None, why)]) from None
    if cache:
        cache.put(key, made)
    return made


def _svg_size(path: Path) -> tuple[int | None, int | None]:
    """An SVG's size in CSS pixels from its ``width``/``height`` or ``viewBox``, if it says."""
    try:
        root = ElementTree.fromstring(path.read_bytes())
    except ElementTree.ParseError:
        return None, None
    number = re.compile(r"^\s*([0-9.]+)\s*(px)?\s*$")
    width, height = (number.match(root.get(k, "")) for k in ("width", "height"))
    if width and height:
        return round(float(width.group(1))), round(float(height.group(1)))
    box = (root.get("viewBox") or "").replace(",", " ").split()
    if len(box) == 4:
        try:
            return round(float(box[2])), round(float(box[3]))
        except ValueError:
            pass
    return None, None


def _file_name(src: str, taken: set[str], suffix: str) -> str:
    """``media/Salt pans.PNG`` → ``salt-pans.jpg``; a second ``salt-pans`` → ``salt-pans-2.jpg``."""
    stem = re.sub(r"[^a-z0-9]+", "-", Path(unquote(src)).stem.lower()).strip("-") or "image"
    name, n = f"{stem}{suffix}", 1
    while name in taken or name == ARTICLE_PAGE:
        n += 1
        name = f"{stem}-{n}{suffix}"
    taken.add(name)
    return name


def stage_images(
    issue: Issue, review: Review, dest: Path, cache: Cache | None
) -> dict[str, WebImage]:
    """Write the web copies of ``review``'s images into ``dest`` (its article folder)."""
    images: dict[str, WebImage] = {}
    taken: set[str] = set()
    for src in review.images:
        # The build refuses images outside content/ or missing, so only those inside remain.
        path = inside(issue.content_dir, src)
        if path is None or not path.is_file():
            continue
        if path.suffix.lower() in SVG_SUFFIXES:  # drawn by the browser at any size
            name = _file_name(src, taken, ".svg")
            shutil.copyfile(path, dest / name)
            images[src] = WebImage(name, *_svg_size(path))
            continue
        name = _file_name(src, taken, ".jpg")
        data = _web_copy(path, f"content/{src}", cache)
        (dest / name).write_bytes(data)
        with Image.open(io.BytesIO(data)) as image:
            images[src] = WebImage(name, *image.size)
    return images


_IMG = re.compile(r'<img\b[^>]*?\ssrc="([^"]*)"[^>]*?(?=/?>)')


def article_body(review: Review, images: dict[str, WebImage]) -> Markup:
    """The review's body as HTML, its images pointing at their web copies, with their sizes."""
    by_name = {image.name: image for image in images.values()}

    def local(src: str) -> str:
        # markdown-it percent-encodes what it renders: "my%20still.jpg" for "my still.jpg".
        found = images.get(src) or images.get(unquote(src))
        return found.name if found else src

    html = render_markdown(review.body, local)

    def sized(match: re.Match[str]) -> str:
        image = by_name.get(match.group(1))
        if image is None or image.width is None:
            return match.group(0)
        return f'{match.group(0)} width="{image.width}" height="{image.height}" loading="lazy"'

    # The sanitiser quotes every attribute and allows no width or height of its own.
    return Markup(_IMG.sub(sized, html))


def stage_articles(issue: Issue, dest: Path, cache: Cache | None = None) -> list[Article]:
    """A folder per review in ``dest`` (``<site>/<id>/``) with its web images; the articles in
    reading order, ready for the page template."""
    articles = []
    for section in issue.sections:
        for review in section.reviews:
            folder = dest / review.slug
            folder.mkdir(parents=True, exist_ok=True)
            images = stage_images(issue, review, folder, cache)
            body = article_body(review, images)
            articles.append(Article(review, section.title, images, body))
    return articles


@dataclass(frozen=True)
class Banner:
    """The ad booked in the ``archive`` slot, as the issue page shows it: the booking, and the
    web copy of its image in the issue's folder (None for a banner of words alone)."""

    ad: Ad
    image: WebImage | None

    @property
    def alt(self) -> str:
        """The image's alt text: the sponsor file's, else (the image being all the link shows)
        the sponsor's name; empty beside words that say it already."""
        art = self.ad.art
        if not isinstance(art, ArchiveBanner):
            return ""
        return art.alt or ("" if art.text else self.ad.sponsor.name)


def stage_banner(issue: Issue, dest: Path, cache: Cache | None = None) -> Banner | None:
    """The issue's ``archive`` booking, its image's web copy written into ``dest`` (the issue's
    folder, ``<site>/<id>/``) beside the files already there; None when the slot is not booked."""
    ad = issue.ad("archive")
    if ad is None or not isinstance(ad.art, ArchiveBanner):
        return None
    src = ad.art.image
    if not src:
        return Banner(ad, None)
    path = inside(issue.content_dir, src)
    if path is None or not path.is_file():
        where = (SPONSORS_DIR / f"{ad.slug}.yaml").as_posix()
        why = (
            f"archive.image '{src}' must be a relative path inside content/, e.g. "
            "media/ads/banner.jpg"
            if path is None
            else f"archive.image '{src}' not found: put the file at content/{src}"
        )
        read = read_sponsor(issue.root, ad.slug)
        line = read.line("archive", "image") if read else None
        raise RenderError(f"{where}: {why}", [Finding(where, line, why)])
    taken = {p.name for p in dest.iterdir()}
    if path.suffix.lower() in SVG_SUFFIXES:
        name = _file_name(src, taken, ".svg")
        shutil.copyfile(path, dest / name)
        return Banner(ad, WebImage(name, *_svg_size(path)))
    name = _file_name(src, taken, ".jpg")
    data = _web_copy(path, f"content/{src}", cache)
    (dest / name).write_bytes(data)
    with Image.open(io.BytesIO(data)) as image:
        return Banner(ad, WebImage(name, *image.size))
