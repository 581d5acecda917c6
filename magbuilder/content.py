"""The typed objects every stage passes on: Film, ImageRef, Review, Section, Issue and friends.

Front matter and manifests are validated into these models once, at the edge (``store`` and
``manifest``); renderers only read them.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from .model import HTTPS_URL, Model, NonEmpty
from .sponsors import Ad

BCP47 = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
SLUG = r"^[a-z0-9]+(-[a-z0-9]+)*$"
RTL_LANGS = {"ar", "he", "fa", "ur", "yi", "ps", "sd", "ug", "dv", "ckb"}


# What ``str.splitlines`` breaks a line at: in a mail header, each one starts a new header.
LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"


def _one_line(value: str) -> str:
    """A value that goes into a mail header: no line break and no other control character."""
    for char in value:
        if char in LINE_BREAKS or unicodedata.category(char) == "Cc":
            what = "a line break" if char in LINE_BREAKS else "a control character"
            raise PydanticCustomError(
                "one_line", f"contains {what} (U+{ord(char):04X}): write it on one line"
            )
    return value


OneLine = Annotated[str, AfterValidator(_one_line)]


class Film(Model):
    """A film a review discusses (the film-facts line)."""

    title: str = NonEmpty
    original_title: str | None = None
    directors: list[str] = []
    countries: list[str] = []
    year: int | None = Field(None, ge=1880, le=2100)
    runtime: int | None = Field(None, gt=0, le=1500, description="minutes")


class ImageRef(Model):
    """An image file under ``content/`` with its accessible text and credits."""

    src: str = NonEmpty
    alt: str = NonEmpty
    caption: str | None = None
    credit: str | None = None


class FrontMatter(Model):
    """The YAML front matter of a review file."""

    title: str = NonEmpty
    author: str = NonEmpty
    published: dt.date
    kicker: str | None = None
    standfirst: str | None = None
    author_bio: str | None = None
    lang: str | None = Field(None, pattern=BCP47)
    tags: list[str] = []
    films: list[Film] = []
    image: ImageRef | None = None
    source_url: str | None = Field(None, pattern=r"^https?://\S+$")
    guid: str | None = None
    truncated: bool = Field(False, description="ingest found the text cut off, e.g. by a paywall")
    translator: str | None = Field(None, description="who translated it, when it is a translation")

    @field_validator("published", mode="before")
    @classmethod
    def _date_only(cls, value: object) -> object:
        # YAML gives datetimes for "2026-11-03 10:00"; a review is dated by day.
        return value.date() if isinstance(value, dt.datetime) else value


class Review(FrontMatter):
    """A review: its front matter, its Markdown body and where it came from."""

    slug: str
    path: Path
    body: str
    body_line: int = Field(description="line of the file where the Markdown body starts")
    # In a language edition: the translation is missing and the review is shown as written,
    # in its own language, with a note saying so (the edition's ``missing: fallback``).
    untranslated: bool = False

    @property
    def dir(self) -> str:
        """Writing direction for the review's language."""
        return text_dir(self.lang or "en")

    @property
    def film(self) -> Film | None:
        """The first (usually only) film reviewed."""
        return self.films[0] if self.films else None

    @property
    def images(self) -> list[str]:
        """Every image the review shows, as written (under content/): the hero, then those of
        the body as the renderer finds them (``markdown.body_images``). What the build's digests
        and the chunk keys cover."""
        from .markdown import body_images  # the Markdown parser: only where images are asked for

        hero = [self.image.src] if self.image else []
        return list(dict.fromkeys(hero + [src for _, src in body_images(self.body)]))


class Cover(Model):
    """The cover: background image (under content/), headline and cover lines."""

    image: str = NonEmpty
    alt: str | None = Field(None, description="what the cover image shows; default: the headline")
    headline: str = NonEmpty
    lines: list[str] = []


class Editorial(Model):
    """The editor's letter, in Markdown."""

    title: str = "Editor’s letter"
    text: str = NonEmpty
    author: str = NonEmpty


class SectionSpec(Model):
    """A section as the manifest names it: a title and an ordered list of review slugs."""

    title: str = NonEmpty
    reviews: list[str] = Field(min_length=1)


class NewsletterSpec(Model):
    """The newsletter's subject line, inbox preheader and optional intro (Markdown)."""

    subject: OneLine = NonEmpty
    preheader: OneLine = NonEmpty
    intro: str | None = None


DNS_NAME = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*$")


def _dns_name(value: str) -> str:
    """A DKIM selector or domain: dot-separated labels of letters, digits and inner hyphens."""
    if not DNS_NAME.match(value) or len(value) > 253:
        raise PydanticCustomError(
            "dns_name",
            "is not a DNS name: use letters, digits, '-' and '.', e.g. 'mb2026' or "
            "'longtake.example'",
        )
    return value.lower()


DnsName = Annotated[str, AfterValidator(_dns_name)]


class DkimSettings(Model):
    """DKIM signing of every sent newsletter message (``site.dkim``; docs/sending.md, DKIM).

    The key is read when ``send`` starts, not here: a build never needs it, so a machine that
    only builds (CI) does not have to hold the secret.
    """

    selector: DnsName = Field(description="the key's DNS name: <selector>._domainkey.<domain>")
    domain: DnsName | None = Field(
        None, description="the signing domain (d=); default: the domain of site.from_email"
    )
    key_file: str = Field(
        min_length=1, description="the PEM RSA private key, relative to the project folder"
    )


class Site(Model):
    """Magazine-wide settings: from ``magbuilder.yaml``, overridable per issue under ``site:``."""

    name: OneLine = NonEmpty
    tagline: str | None = None
    base_url: str = Field(pattern=HTTPS_URL, description="where the full reviews live")
    archive_url: str | None = Field(
        None, pattern=HTTPS_URL, description="where the archive site (PDFs, web versions) lives"
    )
    image_base_url: str | None = Field(
        None, pattern=HTTPS_URL, description="where build/<id>/images/ is uploaded"
    )
    address: str | None = None
    from_email: OneLine = Field(min_length=3, description="newsletter sender, 'Name <addr>'")
    reply_to: OneLine | None = None
    list_id: OneLine | None = None
    unsubscribe_url: OneLine | None = Field(
        None,
        pattern=HTTPS_URL,
        description="one-click unsubscribe endpoint; '{token}' is filled in",
    )
    unsubscribe_mailto: OneLine | None = Field(None, pattern=r"^[^@\s]+@[^@\s]+$")
    dkim: DkimSettings | None = Field(
        None, description="sign every sent message with DKIM (domain, selector, key_file)"
    )
    utm: dict[str, str] = Field(
        default_factory=lambda: {
            "utm_source": "newsletter",
            "utm_medium": "email",
            "utm_campaign": "{id}",
        },
        description="query parameters added to every link to the site; '{id}' is the issue id",
    )

    def review_url(self, slug: str) -> str:
        """Absolute URL of a review's full text on the site."""
        return f"{self.base_url.rstrip('/')}/{slug}/"

    @property
    def archive_base(self) -> str:
        """Absolute URL of the archive's root, ending in ``/`` (default: ``<base_url>/issues/``)."""
        base = self.archive_url or f"{self.base_url.rstrip('/')}/issues"
        return base.rstrip("/") + "/"

    def issue_url(self, issue_id: str, name: str = "") -> str:
        """Absolute URL of an issue's page (or a file of it) in the archive."""
        return f"{self.archive_base}{issue_id}/{name}"

    def image_url(self, issue_id: str, name: str) -> str:
        """Absolute URL of an email image written to ``build/<id>/images/``."""
        base = self.image_base_url.rstrip("/") + "/" if self.image_base_url else self.archive_base
        return f"{base}{issue_id}/images/{name}"

    @property
    def domain(self) -> str:
        """The sender's domain (for Message-ID and List-Id)."""
        return self.from_email.rsplit("@", 1)[-1].strip(" >")

    @property
    def dkim_domain(self) -> str | None:
        """The DKIM signing domain (d=): ``dkim.domain``, else the sender's; None unsigned."""
        if self.dkim is None:
            return None
        return self.dkim.domain or self.domain.lower()

    @model_validator(mode="after")
    def _dkim_aligned(self) -> Site:
        # DMARC passes on DKIM only when d= is the From: domain or a parent of it ("relaxed
        # alignment"); a signature for another domain verifies yet protects nothing.
        if self.dkim is None or self.dkim.domain is None:
            return self
        sender = self.domain.lower()
        if sender == self.dkim.domain or sender.endswith("." + self.dkim.domain):
            return self
        raise PydanticCustomError(
            "dkim_domain",
            f"domain '{self.dkim.domain}' is not the sender's domain '{sender}' (site.from_email) "
            "nor a parent of it, so DMARC would not count the signature: sign for "
            f"'{sender}' (or leave domain out, which means the same)",
            {"at": "dkim"},
        )


PAGE_SIZES_MM = {
    "a4": (210.0, 297.0),
    "a5": (148.0, 210.0),
    "230x300": (230.0, 300.0),
    "letter": (215.9, 279.4),
}
SIZE_PATTERN = r"^(?i:a4|a5|letter|\d+(\.\d+)?x\d+(\.\d+)?(mm)?)$"
# The smallest text block (page less margins) the default layout's two columns, headings and
# hero images fit in: A6 with the default margins leaves 69 × 106 mm and still reads well;
# 90 × 130 mm (54 × 88) already breaks headings inside words.
MIN_TEXT_BLOCK_MM = (60.0, 90.0)


class Margins(Model):
    """Page margins in millimetres; inside is the binding edge, outside the fore-edge."""

    top: float = Field(20, ge=5, le=80)
    bottom: float = Field(22, ge=5, le=80)
    inside: float = Field(20, ge=5, le=80)
    outside: float = Field(16, ge=5, le=80)


class PrintSpec(Model):
    """Print settings of an issue: trim size, margins, bleed, marks and binding."""

    size: str = Field("A4", pattern=SIZE_PATTERN, description="A4, A5, 230x300, letter or WxHmm")
    margins: Margins = Margins()
    bleed: float = Field(3, ge=0, le=10, description="bleed in millimetres beyond the trim")
    marks: bool = Field(False, description="crop marks outside the bleed on the print file")
    binding: Literal["perfect", "saddle"] = "perfect"
    output_condition: str = Field("FOGRA39", description="printing condition of the ICC profile")

    @model_validator(mode="after")
    def _leaves_a_text_block(self) -> PrintSpec:
        # A page smaller than its margins lays out as a hundred pages of overflow, exit 0.
        (width, height), m = self.trim_mm, self.margins
        text_w, text_h = width - m.inside - m.outside, height - m.top - m.bottom
        min_w, min_h = MIN_TEXT_BLOCK_MM
        if text_w >= min_w and text_h >= min_h:
            return self
        block = (
            f"a text block of {text_w:g} × {text_h:g} mm"
            if text_w > 0 and text_h > 0
            else "no text block"
        )
        raise PydanticCustomError(
            "text_block",
            f"the {self.size} page ({width:g} × {height:g} mm) less its margins (inside "
            f"{m.inside:g} + outside {m.outside:g} mm across, top {m.top:g} + bottom "
            f"{m.bottom:g} mm down) leaves {block}, and the layout needs at least "
            f"{min_w:g} × {min_h:g} mm: use a larger size or smaller margins",
            # Shown at the key the person chose: the size, else the margins they set.
            {"at": "size" if "size" in self.model_fields_set else "margins"},
        )

    @property
    def trim_mm(self) -> tuple[float, float]:
        """Trim width and height in millimetres."""
        key = self.size.lower().removesuffix("mm")
        if key in PAGE_SIZES_MM:
            return PAGE_SIZES_MM[key]
        width, height = key.split("x")
        return float(width), float(height)


class CoverText(Model):
    """The cover's words in an edition's language (the picture is the issue's)."""

    headline: str = NonEmpty
    lines: list[str] = []
    alt: str | None = None


class EditionSpec(Model):
    """A language edition of the issue: its own words around the translated reviews.

    ``missing``: what a missing or stale translation does. ``fail``: it is an error (``check``
    exits 1, the build stops). ``fallback``: a missing one is shown in its original language
    with a note, a stale one as it stands; both are warnings.
    """

    title: str = NonEmpty
    cover: CoverText
    editorial: Editorial
    sections: list[str] = Field(min_length=1, description="the section titles, in order")
    newsletter: NewsletterSpec
    tagline: str | None = Field(None, description="site.tagline in the edition's language")
    missing: Literal["fail", "fallback"] = "fail"


class AdsSpec(Model):
    """The issue's ad bookings: slot (as the layout names it) → sponsor file's slug."""

    slots: dict[str, str] = {}
    max_share: float = Field(
        0.25, gt=0, le=1, description="at most this share of the magazine's pages may be ads"
    )


class Manifest(Model):
    """An issue manifest (``issues/<id>.yaml``)."""

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    number: int = Field(ge=1)
    title: str = NonEmpty
    date: dt.date
    lang: str = Field("en", pattern=BCP47)
    layout: str = Field("default", pattern=r"^[A-Za-z0-9_-]+$")
    cover: Cover
    editorial: Editorial
    sections: list[SectionSpec] = Field(min_length=1)
    newsletter: NewsletterSpec
    print: PrintSpec = PrintSpec()
    site: Site
    ads: AdsSpec | None = None
    editions: dict[str, EditionSpec] = Field(
        {}, description="language → the edition's words; the reviews in their translations"
    )

    @model_validator(mode="after")
    def _editions_fit(self) -> Manifest:
        for lang, edition in self.editions.items():
            problem = None
            if not re.match(BCP47, lang):
                problem = f"'{lang}' is not a language tag like nb or pt-BR"
            elif lang == self.lang:
                problem = f"'{lang}' is the issue's own language (lang): an edition is another"
            elif len(edition.sections) != len(self.sections):
                problem = (
                    f"{lang}.sections has {len(edition.sections)} titles for "
                    f"{len(self.sections)} sections: give one title per section, in order"
                )
            if problem:
                raise PydanticCustomError("edition", problem, {"at": "editions"})
        return self


class Section(BaseModel):
    """A section with its reviews loaded, in manifest order."""

    model_config = ConfigDict(frozen=True)

    title: str
    reviews: list[Review]


class Issue(BaseModel):
    """A validated issue: the manifest with every review loaded, ready to render."""

    model_config = ConfigDict(frozen=True)

    manifest: Manifest
    sections: list[Section]
    root: Path
    manifest_path: Path
    # The language editions (``manifest.editions``), each an issue in its language; an edition
    # is not itself a source of editions.
    editions: dict[str, Issue] = {}
    edition: str | None = None  # for a language edition: its language (manifest.lang)
    # The ads booked (manifest ``ads.slots``), checked and with their sponsor files: every
    # edition carries the same ones, labelled in its own language.
    ads: list[Ad] = []

    def ad(self, slot: str) -> Ad | None:
        """The ad booked in ``slot`` (``back-cover``, ``email-after-2`` …), if any."""
        return next((ad for ad in self.ads if ad.slot == slot), None)

    def ad_after(self, kind: str, number: int) -> Ad | None:
        """The ad of ``<kind>-N`` slots booked for ``number``: ``ad_after("email-after", 2)``."""
        return self.ad(f"{kind}-{number}")

    @property
    def web_path(self) -> str:
        """Where the issue's files are published under the archive: ``2026-11``, or for an
        edition ``2026-11/nb`` (as they are built: ``build/2026-11/nb/``)."""
        return f"{self.id}/{self.edition}" if self.edition else self.id

    def review_url(self, review: Review) -> str:
        """Where a reader finds the whole review: on the magazine's website, or for an edition
        (the website has the original) on its article page in the archive."""
        site = self.manifest.site
        if self.edition:
            return site.issue_url(self.web_path, f"{review.slug}/")
        return site.review_url(review.slug)

    @property
    def id(self) -> str:
        return self.manifest.id

    @property
    def reviews(self) -> list[Review]:
        """Every review in reading order."""
        return [r for s in self.sections for r in s.reviews]

    @property
    def content_dir(self) -> Path:
        return self.root / "content"

    @property
    def layouts_dir(self) -> Path:
        return self.root / "layouts"


def text_dir(lang: str) -> str:
    """``rtl`` for right-to-left languages, else ``ltr``."""
    return "rtl" if lang.split("-")[0].lower() in RTL_LANGS else "ltr"
