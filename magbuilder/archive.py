"""The static archive site: an index of every issue, a page per issue and per review, the
issue's PDFs and EPUB, and an Atom feed.

``build_archive`` builds whatever issue is missing or out of date, renders the site into a
temporary folder beside ``out`` and swaps it into place only when everything succeeded, so a
failure leaves the previous site intact. Links between pages are relative (the folder works from
any path or from disk); only the feed, the canonical links and the Open Graph tags use absolute
URLs, from ``site.archive_url``. Nothing depends on the clock: the same inputs give the same
bytes. The article pages are ``archive_pages``'.
"""

from __future__ import annotations

import io
import logging
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

import pikepdf
from PIL import Image, ImageOps

from .archive_pages import Article, Banner, stage_articles, stage_banner
from .build import build_issue
from .cache import Cache
from .content import Issue, Review, Site
from .errors import Finding, InputError, MagbuilderError
from .manifest import load_issue
from .paths import EPUB, NEWSLETTER_HTML, PRINT_PDF, SCREEN_PDF, shown
from .render.email import email_ad_image_name, email_ads, email_image_name
from .render.env import Layout, make_env, render_template

log = logging.getLogger(__name__)

COVER = "cover.jpg"
THUMB_HEIGHT = 400
TEMPLATES = "archive"


@dataclass(frozen=True)
class Download:
    """A file offered for download: its name in the issue folder, its media type, size in bytes
    and page count (None for an EPUB, whose pages are the reader's)."""

    name: str
    type: str
    size: int
    pages: int | None


@dataclass(frozen=True)
class ArchivedIssue:
    """One issue as the archive shows it."""

    issue: Issue
    build_dir: Path
    screen: Download
    print: Download
    epub: Download | None  # only once the build writes one
    cover: str
    cover_size: tuple[int, int]
    articles: tuple[Article, ...] = ()
    editions: tuple[ArchivedIssue, ...] = ()  # the issue's language editions (none for one)
    banner: Banner | None = None  # the ad booked in the ``archive`` slot, if any

    @property
    def id(self) -> str:
        return self.issue.id

    @property
    def path(self) -> str:
        """The folder under the site: ``2026-11``, an edition's ``2026-11/nb``."""
        return self.issue.web_path

    @property
    def lang(self) -> str:
        return self.issue.manifest.lang

    @property
    def downloads(self) -> list[Download]:
        """What the issue offers to download, for reading first: screen PDF, EPUB, print file."""
        return [d for d in (self.screen, self.epub, self.print) if d is not None]


@dataclass(frozen=True)
class ArchiveResult:
    """What ``build_archive`` wrote: the site folder, the issues newest first, freshly built ids."""

    out: Path
    issues: list[ArchivedIssue]
    built: list[str]


def human_size(size: int) -> str:
    """``2.4 MB``, ``850 KB``: sizes as a reader thinks of them (1 KB = 1024 bytes).

    The space is a no-break space, so the unit never wraps away from its number.
    """
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))}\u00a0KB"
    return f"{size / (1024 * 1024):.1f}\u00a0MB"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _load_all(manifests: list[Path], root: Path) -> list[Issue]:
    """Load every manifest, reporting the problems of all of them together."""
    issues, findings = [], []
    for path in manifests:
        try:
            issues.append(load_issue(path))
        except InputError as exc:
            findings.extend(exc.findings)
    seen: dict[str, Path] = {}
    for issue in issues:
        if issue.id in seen:
            findings.append(
                Finding(
                    shown(issue.manifest_path, root),
                    None,
                    f"id '{issue.id}' is also used by {shown(seen[issue.id], root)}: "
                    "give every issue its own id",
                )
            )
        seen[issue.id] = issue.manifest_path
    if findings:
        raise InputError("invalid issues", findings)
    return issues


def _page_count(path: Path) -> int:
    with pikepdf.open(path) as pdf:
        return len(pdf.pages)


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=85, optimize=True, progressive=True)
    return out.getvalue()


def cover_thumbnail(pdf: Path, cover_image: Path | None = None) -> bytes:
    """A JPEG of the PDF's first page, ``THUMB_HEIGHT`` pixels on its long side.

    Rendered with poppler's ``pdftoppm``; without it, the cover image is cropped to the page's
    proportions with Pillow instead.
    """
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm:
        with tempfile.TemporaryDirectory() as tmp:
            stem = Path(tmp) / "cover"
            cmd = [pdftoppm, "-png", "-f", "1", "-l", "1", "-singlefile"]
            cmd += ["-scale-to", str(THUMB_HEIGHT), str(pdf), str(stem)]
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
            if done.returncode == 0:
                with Image.open(stem.with_suffix(".png")) as image:
                    return _jpeg(image)
            log.warning("pdftoppm could not render %s: %s", pdf, done.stderr.strip())
    if cover_image is None:
        raise MagbuilderError(f"cannot render a cover thumbnail of {pdf}: install poppler-utils")
    with Image.open(cover_image) as image:
        size = (round(THUMB_HEIGHT * 210 / 297), THUMB_HEIGHT)
        return _jpeg(ImageOps.fit(image, size, Image.Resampling.LANCZOS))


def web_newsletter(html: str, site: Site, path: str) -> str:
    """The newsletter as a page of the archive (the issue's, or an edition's, at ``path``): its
    images and PDF link made relative.

    Links open in the whole window, not inside the issue page's frame.
    """
    html = html.replace(site.image_url(path, ""), "images/")
    html = html.replace(site.issue_url(path, SCREEN_PDF), SCREEN_PDF)
    return html.replace("<head>", '<head>\n<base target="_top">', 1)


def _stage_issue(issue: Issue, build_dir: Path, dest: Path) -> ArchivedIssue:
    """Copy an issue's (or an edition's) PDFs, EPUB, email images (the reviews' and the email
    ads') and web newsletter into ``dest`` (``<site>/<id>/``, ``<site>/<id>/<lang>/``), the web
    copy of its archive banner's image, and a folder per review with its web images."""
    src = build_dir / issue.web_path
    dest.mkdir(parents=True)
    screen_src = src / SCREEN_PDF
    if not screen_src.is_file():
        # Builds without a screen edition: the print file stands in, so links never break.
        log.info("%s: no %s in %s; publishing %s as the screen edition", issue.id, SCREEN_PDF,
                 src, PRINT_PDF)  # fmt: skip
        screen_src = src / PRINT_PDF
    shutil.copyfile(screen_src, dest / SCREEN_PDF)
    shutil.copyfile(src / PRINT_PDF, dest / PRINT_PDF)
    if (src / EPUB).is_file():
        shutil.copyfile(src / EPUB, dest / EPUB)
    site = issue.manifest.site
    html = (src / NEWSLETTER_HTML).read_text(encoding="utf-8")
    (dest / NEWSLETTER_HTML).write_text(web_newsletter(html, site, issue.web_path), "utf-8")
    shown_images = [email_image_name(r) for r in issue.reviews if r.image]
    shown_images += [email_ad_image_name(ad) for ad in email_ads(issue)]
    for name in shown_images:
        image = src / "images" / name
        if image.is_file():
            (dest / "images").mkdir(exist_ok=True)
            shutil.copyfile(image, dest / "images" / image.name)
    thumb = cover_thumbnail(dest / SCREEN_PDF, issue.content_dir / issue.manifest.cover.image)
    (dest / COVER).write_bytes(thumb)
    with Image.open(io.BytesIO(thumb)) as image:
        cover_size = image.size
    web_images = Cache(build_dir / ".cache" / "web-images", ".jpg")
    banner = stage_banner(issue, dest, web_images)  # beside the files above, named apart from them

    def download(name: str) -> Download:
        path = dest / name
        return Download(name, "application/pdf", path.stat().st_size, _page_count(path))

    epub = dest / EPUB
    return ArchivedIssue(
        issue=issue,
        build_dir=src,
        screen=download(SCREEN_PDF),
        print=download(PRINT_PDF),
        epub=Download(EPUB, "application/epub+zip", epub.stat().st_size, None)
        if epub.is_file()
        else None,
        cover=COVER,
        cover_size=cover_size,
        articles=tuple(stage_articles(issue, dest, web_images)),
        banner=banner,
    )


def _env(layout: Layout):  # noqa: ANN202 - a jinja2 Environment
    """The layout's environment with the archive's filters (an overlay: the original is shared)."""
    env = make_env(layout).overlay()
    env.filters = {**env.filters, "filesize": human_size}
    return env


def _atom_date(issue: Issue) -> str:
    return f"{issue.manifest.date.isoformat()}T00:00:00Z"


def _atom_id(issue: Issue, review: Review | None = None) -> str:
    """A tag URI (RFC 4151) from the archive's host, the issue date and id (and the review's slug
    for a review's entry): stable across builds."""
    site = issue.manifest.site
    host = urlsplit(site.archive_base).hostname
    tag = f"tag:{host},{issue.manifest.date.isoformat()}:issue/{issue.web_path}"
    return f"{tag}/{review.slug}" if review else tag


def _review_date(issue: Issue, review: Review) -> str:
    """When a review's entry last changed: the day it appeared in the issue (or later)."""
    return f"{max(issue.manifest.date, review.published).isoformat()}T00:00:00Z"


_FONT_URL = re.compile(r"""url\(["']?fonts/([^"')/]+)["']?\)""")


def _copy_fonts(css: str, layout: Layout, dest: Path) -> None:
    """The layout's fonts the stylesheet names as ``url(fonts/…)``, with their licences, into
    ``dest/fonts/``: the fallback faces for scripts the readers' default fonts may lack."""
    names = sorted(set(_FONT_URL.findall(css)))
    if not names:
        return
    (dest / "fonts").mkdir()
    for name in names:
        font = layout.find(f"assets/fonts/{name}")
        if font is None:
            raise MagbuilderError(f"{TEMPLATES}/archive.css names fonts/{name}: no such font")
        shutil.copyfile(font, dest / "fonts" / name)
        # The SIL OFL goes with the font: EBGaramond-COPYRIGHT.txt for EBGaramond12-Regular.otf.
        for licence in sorted(font.parent.glob("*-COPYRIGHT.txt")):
            if name.startswith(licence.name.removesuffix("-COPYRIGHT.txt")):
                shutil.copyfile(licence, dest / "fonts" / licence.name)


def render_site(entries: list[ArchivedIssue], dest: Path) -> None:
    """Render the index, a page per issue and per review (and per edition, with its reviews),
    the feeds and the stylesheet into ``dest``.

    Each issue's pages are rendered with its manifest's layout (its templates and tokens); the
    index, the feeds and the stylesheet with the newest issue's. The index lists each issue
    once, with links to its editions; an issue's pages and its editions' link to one another
    (``hreflang``). There is one Atom feed per language: ``feed.atom`` in the newest issue's,
    ``feed.<lang>.atom`` for each other language an issue or edition is in.
    """
    layouts = {
        name: Layout(entries[0].issue.layouts_dir, name)
        for name in dict.fromkeys(e.issue.manifest.layout for e in entries)
    }
    envs = {name: _env(layout) for name, layout in layouts.items()}
    layout = layouts[entries[0].issue.manifest.layout]
    env = envs[layout.name]
    newest = entries[0].issue.manifest
    site, lang = newest.site, newest.lang
    every = [member for entry in entries for member in (entry, *entry.editions)]
    languages = list(dict.fromkeys([lang, *(m.lang for m in every)]))
    feeds = {code: "feed.atom" if code == lang else f"feed.{code}.atom" for code in languages}
    common = {"site": site, "issues": entries, "language_name": language_name}
    pages = {
        "index.html": render_template(
            env, f"{TEMPLATES}/index.html.j2", prefix="", lang=lang, feed=feeds[lang], **common
        )
    }
    for i, entry in enumerate(entries):
        group = (entry, *entry.editions)
        for member in group:
            issue_env, member_lang = envs[member.issue.manifest.layout], member.lang
            prefix = "../" * (member.path.count("/") + 1)
            pages[f"{member.path}/index.html"] = render_template(
                issue_env,
                f"{TEMPLATES}/issue.html.j2",
                prefix=prefix,
                lang=member_lang,
                feed=feeds[member_lang],
                entry=member,
                alternates=_alternates(group, member, prefix, site),
                newer=entries[i - 1] if i > 0 else None,
                older=entries[i + 1] if i + 1 < len(entries) else None,
                **{**common, "site": member.issue.manifest.site},  # an edition's own tagline
            )
            articles = member.articles
            for n, article in enumerate(articles):
                slug = f"{article.slug}/"
                pages[f"{member.path}/{slug}index.html"] = render_template(
                    issue_env,
                    f"{TEMPLATES}/article.html.j2",
                    prefix=prefix + "../",
                    lang=member_lang,
                    feed=feeds[member_lang],
                    entry=member,
                    article=article,
                    alternates=_alternates(group, member, prefix + "../", site, slug),
                    previous=articles[n - 1] if n > 0 else None,
                    next=articles[n + 1] if n + 1 < len(articles) else None,
                    **{**common, "site": member.issue.manifest.site},
                )
    for code in languages:  # a feed per language: the issues (or editions) in it
        members = [m for m in every if m.lang == code]
        latest = members[0].issue
        reviews = [(a, _review_date(latest, a.review)) for a in members[0].articles]
        pages[feeds[code]] = render_template(
            env,
            f"{TEMPLATES}/feed.atom.j2",
            lang=code,
            feed=feeds[code],
            base=site.archive_base,
            updated=max([_atom_date(latest), *(date for _, date in reviews)]),
            atom_date=_atom_date,
            atom_id=_atom_id,
            reviews=reviews,
            **{**common, "issues": members, "site": latest.manifest.site},
        )
    for name, text in pages.items():
        (dest / name).write_text(text, encoding="utf-8")
    css = layout.find(f"{TEMPLATES}/archive.css")
    if css is None:
        names = ", ".join(folder.name for folder in layout.chain)
        raise MagbuilderError(f"no {TEMPLATES}/archive.css in layouts {names}")
    shutil.copyfile(css, dest / "archive.css")
    _copy_fonts(css.read_text(encoding="utf-8"), layout, dest)


@dataclass(frozen=True)
class Alternate:
    """The same page in another language: for ``hreflang`` (absolute) and for readers
    (relative, so the site works from disk)."""

    lang: str
    url: str
    href: str
    name: str  # the language's name in that language, e.g. "norsk bokmål"


def _alternates(
    group: tuple[ArchivedIssue, ...], member: ArchivedIssue, prefix: str, site: Site, slug: str = ""
) -> list[Alternate]:
    """The page at ``slug`` of every member of an issue's group (itself included), when the
    issue has editions; none otherwise."""
    if len(group) < 2:
        return []
    return [
        Alternate(
            other.lang,
            site.issue_url(other.path, slug),
            f"{prefix}{other.path}/{slug}index.html",
            language_name(other.lang),
        )
        for other in group
    ]


def language_name(lang: str) -> str:
    """A language's name in itself (Babel, CLDR): ``nb`` → ``norsk bokmål``."""
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(lang.replace("-", "_")).get_display_name() or lang
    except (ValueError, UnknownLocaleError):
        return lang


def _swap_into_place(staged: Path, out: Path) -> None:
    """Replace ``out`` with ``staged``: two renames, the old site deleted only afterwards."""
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        os.replace(out, old / out.name)
    try:
        os.replace(staged, out)
    except BaseException:
        if old is not None:
            os.replace(old / out.name, out)
        raise
    if old is not None:
        shutil.rmtree(old)


def build_archive(root: Path | str, out: Path | str, build_dir: Path | str) -> ArchiveResult:
    """Build (if needed) every ``issues/*.yaml`` of ``root`` into ``build_dir``, then the site.

    An issue is rebuilt when ``build_dir/<id>/`` is missing or any file it is built from changed
    (manifest, magbuilder.yaml, its reviews and images, the layout). Raises InputError for
    invalid manifests (all problems at once) and RenderError when a build fails; either way the
    previous site in ``out`` is left untouched.
    """
    root, out, build_dir = Path(root), Path(out), Path(build_dir)
    manifests = sorted((root / "issues").glob("*.yaml"))
    if not manifests:
        raise InputError(
            "no issues",
            [Finding(shown(root / "issues", root), None, "no *.yaml manifests: add an issue")],
        )
    issues = _load_all(manifests, root)
    built = []
    for issue in issues:
        # build_issue returns at once when no input changed since build_dir/<id>/ was built.
        if not build_issue(issue.manifest_path, build_dir).up_to_date:
            log.debug("built %s", issue.id)
            built.append(issue.id)
    issues.sort(key=lambda i: (i.manifest.date, i.manifest.number), reverse=True)

    out.parent.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    try:
        os.chmod(staged, 0o777 & ~_umask())  # mkdtemp makes it 0700; the site is for sharing
        entries = [
            replace(
                _stage_issue(i, build_dir, staged / i.id),
                editions=tuple(
                    _stage_issue(e, build_dir, staged / e.web_path) for e in i.editions.values()
                ),
            )
            for i in issues
        ]
        render_site(entries, staged)
        _swap_into_place(staged, out)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    log.debug("archive of %d issues in %s", len(entries), out)
    return ArchiveResult(out=out, issues=entries, built=built)
