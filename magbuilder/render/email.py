"""The newsletter: MJML (through Jinja2) compiled to HTML by mjml-python, and its text part.

The rendered parts keep per-subscriber merge fields as ``%%name|default%%`` placeholders; the
build fills them with their defaults, the sender fills them for each subscriber.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import mjml
from markupsafe import Markup
from markupsafe import escape as markup_escape
from PIL import Image

from ..cache import Cache
from ..content import Issue, Review
from ..errors import Finding, RenderError
from ..paths import SCREEN_PDF
from ..sponsors import SPONSORS_DIR, Ad, EmailBlock, read_sponsor
from ..store import inside
from .env import Layout, make_env, render_template
from .images import content_bytes, reason, strict_decoding
from .links import merge, merge_field, tracked, unsubscribe_link

log = logging.getLogger(__name__)

GMAIL_CLIP_BYTES = 102 * 1024
WARN_BYTES = 90 * 1024
MJML_TEMPLATE = "email/newsletter.mjml.j2"
TEXT_TEMPLATE = "email/newsletter.txt.j2"
EMAIL_IMAGE_WIDTH = 1104  # twice the 552 px the image is shown at, for sharp high-density screens
EMAIL_JPEG_QUALITY = 80
# Zero-width filler after the preheader so inbox previews don't pull in the masthead text.
PREHEADER_PADDING = Markup("&#847;&zwnj;&nbsp;" * 60)


@dataclass(frozen=True)
class Newsletter:
    """The rendered newsletter: HTML and text with merge placeholders, and its email images."""

    html: str
    text: str
    images: dict[str, bytes] = field(default_factory=dict)

    def personalised(self, values: Mapping[str, str] | None = None) -> tuple[str, str]:
        """(HTML, text) with merge fields filled from ``values``, defaults for the rest."""
        values = values or {}
        return merge(self.html, values, escape=True), merge(self.text, values, escape=False)


def email_image_name(review: Review) -> str:
    return f"{review.slug}.jpg"


def email_ad_image_name(ad: Ad) -> str:
    """The file of an email ad's image in ``images/``: ``email-after-2.nordlys-kino.jpg`` (a
    review's is ``<slug>.jpg``, and a slug has no dot, so the two never meet)."""
    return f"{ad.slot}.{ad.slug}.jpg"


def email_ads(issue: Issue) -> list[Ad]:
    """The issue's booked email blocks that show an image."""
    return [
        ad
        for ad in issue.ads
        if ad.placement == "email" and isinstance(ad.art, EmailBlock) and ad.art.image
    ]


def resize_for_email(data: bytes, width: int = EMAIL_IMAGE_WIDTH) -> bytes:
    """A JPEG at most ``width`` pixels wide, at a controlled quality, for the email; what is
    transparent (a sponsor's logo on nothing) on white, as the email's panels are."""
    with Image.open(io.BytesIO(data)) as image:
        if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
            rgba = image.convert("RGBA")
            image = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba)
        image = image.convert("RGB")
        if image.width > width:
            image = image.resize((width, round(image.height * width / image.width)), Image.LANCZOS)
        out = io.BytesIO()
        image.save(out, "JPEG", quality=EMAIL_JPEG_QUALITY, optimize=True, progressive=True)
        return out.getvalue()


MJML_ELEMENTS = frozenset(
    [
        "mjml",
        "mj-head",
        "mj-body",
        "mj-attributes",
        "mj-all",
        "mj-class",
        "mj-breakpoint",
        "mj-font",
        "mj-html-attributes",
        "mj-html-attribute",
        "mj-selector",
        "mj-preview",
        "mj-style",
        "mj-title",
        "mj-raw",
        "mj-include",
        "mj-accordion",
        "mj-accordion-element",
        "mj-accordion-title",
        "mj-accordion-text",
        "mj-button",
        "mj-carousel",
        "mj-carousel-image",
        "mj-column",
        "mj-divider",
        "mj-group",
        "mj-hero",
        "mj-image",
        "mj-navbar",
        "mj-navbar-link",
        "mj-section",
        "mj-social",
        "mj-social-element",
        "mj-spacer",
        "mj-table",
        "mj-text",
        "mj-wrapper",
    ]
)
MJML_TAG = re.compile(r"<(mj[a-z-]*)\b")


def check_mjml_elements(source: str, template: str = MJML_TEMPLATE) -> None:
    """mjml-python silently drops unknown elements: refuse them, naming the rendered line."""
    findings = []
    for number, line in enumerate(source.splitlines(), start=1):
        for tag in MJML_TAG.findall(line):
            if tag not in MJML_ELEMENTS:
                findings.append(
                    Finding(
                        template,
                        None,
                        f"unknown MJML element <{tag}> (line {number} of the rendered MJML): "
                        "check its spelling against https://documentation.mjml.io/",
                    )
                )
    if findings:
        raise RenderError("unknown MJML element", findings)


_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_MARKS = {"Mn", "Mc", "Me", "Cf"}


def _mark_as_reference(match: re.Match[str]) -> str:
    char = match.group()
    return f"&#x{ord(char):x};" if unicodedata.category(char) in _MARKS else char


def compile_mjml(source: str, template: str = MJML_TEMPLATE) -> str:
    """MJML → HTML with mjml-python; no web fonts are added (Gmail drops them).

    mjml-python writes attribute values with Rust's debug escaping, so a combining mark (an
    Arabic shadda, Hebrew points, an accent typed as its own character) or a joiner in an
    ``alt`` text would come out as ``\\u{651}``: they go in as character references instead.
    """
    check_mjml_elements(source, template)
    source = _NON_ASCII.sub(_mark_as_reference, source)
    try:
        return mjml.mjml2html(source, disable_comments=True, fonts={})
    except Exception as exc:  # MRML reports its errors as plain exceptions
        raise RenderError(
            "MJML error", [Finding(template, None, f"MJML could not compile: {exc}")]
        ) from None


def email_image(source: bytes, cache: Path | None = None) -> bytes:
    """The email copy of an image, resized once per content and kept in ``cache``."""
    if cache is None:
        return resize_for_email(source)
    key = hashlib.sha256(source + f"{EMAIL_IMAGE_WIDTH}/{EMAIL_JPEG_QUALITY}/white".encode())
    store = Cache(cache, ".jpg")
    data = store.get(key.hexdigest())
    if data is None:
        data = resize_for_email(source)
        store.put(key.hexdigest(), data)
    return data


def render_newsletter(
    issue: Issue, layout: Layout, *, image_cache: Path | None = None, with_images: bool = True
) -> Newsletter:
    """Render the MJML and text templates; fail if the HTML would be clipped by Gmail.

    Email images are resized copies of the reviews' images and of the booked email ads'
    (cached in ``image_cache``); ``with_images=False`` leaves them out (same HTML and text:
    ``magbuilder check``, which still learns of an ad image outside content/ or missing).
    """
    env = make_env(layout)
    m = issue.manifest
    site = m.site

    def track(url: str) -> str:
        return tracked(url, site, issue.id)

    images = {}
    for review in issue.reviews if with_images else ():
        if review.image:
            images[email_image_name(review)] = _email_copy(issue, review.image.src, image_cache)
    for ad in email_ads(issue):  # through the same pipeline as the reviews' images
        src = _ad_image(issue, ad)
        if with_images:
            images[email_ad_image_name(ad)] = _email_copy(issue, src, image_cache)

    generic_unsubscribe = unsubscribe_link(site, None)

    def context(escape: bool) -> dict[str, object]:
        """Template context; merge-field defaults are escaped for HTML, raw for text."""

        def field(name: str, default: str = "") -> str:
            default = str(markup_escape(default)) if escape else default
            return Markup(merge_field(name, default)) if escape else merge_field(name, default)

        return {
            "issue": issue,
            "track": track,
            "field": field,
            "image_src": lambda review: site.image_url(issue.web_path, email_image_name(review)),
            "ad_image_src": lambda ad: site.image_url(issue.web_path, email_ad_image_name(ad)),
            "review_url": issue.review_url,
            "preheader_padding": PREHEADER_PADDING,
            "links": {
                "view_online": track(site.issue_url(issue.web_path)),
                "pdf": track(site.issue_url(issue.web_path, SCREEN_PDF)),
                "unsubscribe": field("unsubscribe_url", generic_unsubscribe)
                if generic_unsubscribe
                else None,
            },
        }

    html = compile_mjml(render_template(env, MJML_TEMPLATE, **context(escape=True)))
    text = render_template(env, TEXT_TEMPLATE, **context(escape=False))
    text = "\n".join(line.rstrip() for line in text.splitlines()).strip() + "\n"
    newsletter = Newsletter(html=html, text=text, images=images)
    check_size(len(newsletter.personalised()[0].encode("utf-8")), len(issue.reviews))
    return newsletter


def _ad_image(issue: Issue, ad: Ad) -> str:
    """An email ad's image (``src`` under content/), refused at its sponsor file when it lies
    outside content/ or is missing: the build reads nothing else."""
    src = ad.art.image if isinstance(ad.art, EmailBlock) and ad.art.image else ""
    path = inside(issue.content_dir, src)
    if path is None or not path.is_file():
        where = (SPONSORS_DIR / f"{ad.slug}.yaml").as_posix()
        why = (
            f"email.image '{src}' must be a relative path inside content/, e.g. media/ads/block.jpg"
            if path is None
            else f"email.image '{src}' not found: put the file at content/{src}"
        )
        read = read_sponsor(issue.root, ad.slug)
        line = read.line("email", "image") if read else None
        raise RenderError(f"{where}: {why}", [Finding(where, line, why)])
    return src


def _email_copy(issue: Issue, src: str, cache: Path | None) -> bytes:
    """The email copy of an image under content/ (a review's hero, an ad's); a file that cannot
    be read or decoded is named."""
    where = f"content/{src}"
    source = content_bytes(issue.content_dir, src)
    try:
        with strict_decoding():  # WeasyPrint lets Pillow accept truncated files
            return email_image(source, cache)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        if isinstance(exc, OSError) and exc.errno is not None:
            raise  # the cache's file system, not the image
        why = f"cannot decode image: {reason(exc)}"
        raise RenderError(f"{where}: {why}", [Finding(where, None, why)]) from None


def check_size(size: int, reviews: int) -> None:
    """Fail above Gmail's clipping size, warn close to it, saying what to cut."""
    if size > GMAIL_CLIP_BYTES:
        raise RenderError(
            f"newsletter.html is {size / 1024:.0f} KB for {reviews} reviews; Gmail clips email "
            "past 102 KB. Cut reviews from the newsletter, shorten standfirsts, or trim the intro."
        )
    if size > WARN_BYTES:
        log.warning(
            "newsletter.html is %.0f KB, close to Gmail's 102 KB clipping limit: "
            "consider fewer reviews or shorter standfirsts",
            size / 1024,
        )
