"""The sponsor report (``magbuilder sponsors report <id>``): where each of an issue's ads ran.

Per sponsor booked in the issue (house ads too, marked as such): its slots; the pages its ads
run on in each built print file (the ``ad-<slot>`` named destinations of ``magazine.pdf``, the
issue's and each edition's); how many recipients the newsletter carrying its email block was
delivered to, from the send ledgers, per campaign and edition language; and the languages it
ran in. Every edition carries the issue's ads.

Read only, like ``send --status``: it takes no lock and changes nothing. Delivered means what
the ledger calls ``sent``: accepted by the receiving server. Nothing else is known: the
newsletter has no tracking pixel and no redirected links, so there are no opens or clicks.

Which edition each recipient got is the ledger's own record: ``send`` keeps the language of the
edition it hands over with the recipient's row (:meth:`Ledger.delivered_per_edition`), so a
later campaign does not change an earlier one's figures. Only rows of a ledger made before the
ledger kept editions (format 2 or older, read as they are) are counted as delivered under
"edition not recorded".
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..content import Issue
from ..errors import InputError, MagbuilderError
from ..manifest import load_issue
from ..paths import PRINT_PDF, file_digest, shown
from ..render.ads import AD_DEST, placed_ads
from ..sponsors import Ad
from ..stamp import Stamp
from ..validation import did_you_mean
from .campaign import campaign_folder
from .ledger import Ledger, find_campaigns

PRINT_PLACEMENTS = ("page", "half", "column")
ISSUE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")  # as the manifest's id
# the edition key of delivered recipients whose edition is not known (an old ledger's rows)
UNRECORDED = "unrecorded"
NO_TRACKING = (
    "delivered = accepted by the receiving mail server (the send ledger); opens and clicks are "
    "not tracked (no tracking pixel, no redirected links), so there are no such figures"
)
# The print positions of the slots a layout declares by name (docs/sponsors.md).
NAMED_SLOTS = {
    "after-contents": "full page, after the contents",
    "inside-back-cover": "inside back cover",
    "back-cover": "outside back cover",
    "archive": "banner on the issue's archive page",
}


# -- where a slot is ----------------------------------------------------------------------------


def describe_slot(ad: Ad, issue: Issue) -> str:
    """Where ``ad``'s slot runs, in words: ``full page, after the contents``, ``half page, end
    of section 2 'Work and place'``, ``email block after teaser 1 'Alpha'``.

    ``issue`` may be an edition: the section's and the teaser's titles are then its own.
    """
    if ad.slot in NAMED_SLOTS:
        return NAMED_SLOTS[ad.slot]
    number = ad.number
    kind = ad.slot.rpartition("-")[0]
    if number is not None and kind == "section-end" and number <= len(issue.sections):
        return f"half page, end of section {number} '{issue.sections[number - 1].title}'"
    if number is not None and kind == "email-after" and number <= len(issue.reviews):
        return f"email block after teaser {number} '{issue.reviews[number - 1].title}'"
    return f"{ad.placement} ({ad.slot})"


# -- print ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrintFile:
    """One edition's built print file and what can be said of it.

    ``state``: ``built`` (read, its build current), ``stale`` (read, but made before the
    current version of ``changed``), ``not built`` (no file) or ``unreadable``.
    """

    lang: str
    path: Path
    state: Literal["built", "stale", "not built", "unreadable"]
    pages: dict[str, int] = field(default_factory=dict)  # slot → page (1-based)
    changed: list[str] = field(default_factory=list)  # inputs changed since the build
    problem: str | None = None  # why unreadable


def _ad_pages(path: Path, edition: Issue) -> dict[str, int]:
    """Slot → page (1-based) of each of ``edition``'s ads placed in the PDF at ``path``."""
    import pikepdf

    with pikepdf.open(path) as doc:
        return {placed.slot: placed.page for placed in placed_ads(doc, edition)}


def _changed_since(out_dir: Path, pdf: Path, issue: Issue) -> list[str]:
    """The inputs (from the project) that changed since the build in ``out_dir``: those its
    stamp records with another digest; without a stamp, the manifest if it is newer."""
    root = issue.root
    stamp = Stamp.read(out_dir)
    if stamp is not None and stamp.inputs:
        return [name for name, digest in stamp.inputs.items() if file_digest(root / name) != digest]
    manifest = issue.manifest_path
    if manifest.stat().st_mtime > pdf.stat().st_mtime:
        return [shown(manifest, root)]
    return []


def read_print_file(edition: Issue, lang: str) -> PrintFile:
    """The print file of ``edition`` (the issue, or one of its editions) as built in the
    project's ``build/`` folder: ``build/<id>/magazine.pdf``, an edition's in ``<lang>/``."""
    out_dir = edition.root / "build" / edition.web_path
    path = out_dir / PRINT_PDF
    if not path.is_file():
        return PrintFile(lang, path, "not built")
    try:
        pages = _ad_pages(path, edition)
    except Exception as exc:  # noqa: BLE001 - pikepdf's errors: a truncated or foreign file
        return PrintFile(lang, path, "unreadable", problem=str(exc) or type(exc).__name__)
    changed = _changed_since(out_dir, path, edition)
    return PrintFile(lang, path, "stale" if changed else "built", pages, changed)


@dataclass(frozen=True)
class PrintPlace:
    """Where one print ad runs in one edition's print file: its page, or why none is named."""

    slot: str
    lang: str
    where: str  # the slot in words (describe_slot)
    page: int | None
    note: str | None = None  # why there is no page, or why the page may be out of date

    @property
    def text(self) -> str:
        if self.page is None:
            return f"{self.where}: {self.note}"
        return f"page {self.page} ({self.where})" + (f"; {self.note}" if self.note else "")


def _place(ad: Ad, edition: Issue, file: PrintFile, manifest: str) -> PrintPlace:
    where = describe_slot(ad, edition)
    pdf = shown(file.path, edition.root)
    rebuild = f"run 'magbuilder build {manifest}'"
    changed = ", ".join(file.changed[:3]) + (" …" if len(file.changed) > 3 else "")
    page = file.pages.get(ad.slot)
    if file.state == "not built":
        return PrintPlace(ad.slot, file.lang, where, None, f"not built: no {pdf} ({rebuild})")
    if file.state == "unreadable":
        return PrintPlace(ad.slot, file.lang, where, None, f"{pdf} unreadable: {file.problem}")
    if page is not None:
        note = None
        if file.state == "stale":
            note = f"from a build older than the current {changed}: {rebuild} to be sure"
        return PrintPlace(ad.slot, file.lang, where, page, note)
    if manifest in file.changed:
        note = f"not in {pdf}: the build predates the booking ({manifest} changed since): {rebuild}"
    elif file.state == "stale":
        note = f"not in {pdf}, which was built before the current {changed}: {rebuild}"
    else:
        note = (
            f"not in {pdf} (it has no destination {AD_DEST}{ad.slot}): the build did not place it"
        )
    return PrintPlace(ad.slot, file.lang, where, None, note)


# -- newsletter -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignDeliveries:
    """One campaign of the issue: who got its newsletter, per edition language.

    ``newsletter``: ``current`` when the campaign sent the newsletter as it is now (booking and
    all), ``changed`` when it sent another version (the ledger cannot say whether that version
    carried a block booked now: such a campaign is listed but not in the totals), ``unknown``
    when the newsletter could not be rendered to compare.
    """

    number: int
    subject: str
    started: str
    ledger: Path
    newsletter: Literal["current", "changed", "unknown"]
    delivered: dict[str, int]  # edition language (or UNRECORDED) → recipients, zeros included
    delivered_to: frozenset[str]  # the delivered recipients' keys (for distinct totals)
    not_delivered: dict[str, int]  # deferred, refused, in_doubt, pending

    @property
    def total(self) -> int:
        return sum(self.delivered.values())

    @property
    def counted(self) -> bool:
        return self.newsletter == "current"


def _current_digest(issue: Issue) -> tuple[str | None, str | None]:
    """The digest ``send`` would record for the newsletter as it is now (every edition), or
    None and why it could not be rendered. No secret or DKIM key is needed for it."""
    from ..render.email import render_newsletter
    from ..render.env import Layout
    from .messages import CampaignContent

    try:
        layout = Layout(issue.layouts_dir, issue.manifest.layout)
        newsletter = render_newsletter(issue, layout)
        editions = {
            lang: (edition, render_newsletter(edition, layout))
            for lang, edition in issue.editions.items()
        }
    except MagbuilderError as exc:
        return None, exc.report().splitlines()[0]
    return CampaignContent(issue, newsletter, b"", None, editions).digest, None


def read_campaigns(
    issue: Issue, state_dir: Path | None
) -> tuple[list[CampaignDeliveries], str | None]:
    """Every campaign of the issue, oldest first, and why the newsletter could not be compared
    (None when it could, or when there is no campaign)."""
    folder = campaign_folder(issue.root, issue.id, state_dir)
    campaigns = find_campaigns(folder, issue.id)
    if not campaigns:
        return [], None
    languages = [issue.manifest.lang, *issue.editions]
    digest, problem = _current_digest(issue)
    found = []
    for number, path in campaigns:
        # One snapshot: the counts agree with each other even while a send is running.
        with Ledger.open(path, upgrade=False) as ledger, ledger.snapshot():
            campaign = ledger.campaign
            rows = ledger.recipients()
            per_edition = ledger.delivered_per_edition()
        # In flight counts as in doubt (as in send --status): it may be being handed over now.
        states = Counter("in_doubt" if r.in_flight else r.state for r in rows)
        sent = [r.key for r in rows if r.state == "sent" and not r.in_flight]
        # No edition: a row of a ledger older than the edition column. An issue without
        # editions sends its own language to everyone, so only then is it known all the same.
        unknown = UNRECORDED if issue.editions else languages[0]
        by_lang: Counter[str] = Counter()
        for lang, count in per_edition.items():
            by_lang[unknown if lang is None else lang] += count
        # Every edition named (zeros too), then any other the recipients got (an edition since
        # dropped), then those whose edition is not recorded.
        delivered = {lang: by_lang.get(lang, 0) for lang in languages}
        delivered.update(sorted((k, n) for k, n in by_lang.items() if k not in delivered))
        if UNRECORDED in delivered:
            delivered[UNRECORDED] = delivered.pop(UNRECORDED)
        if digest is None:
            newsletter: Literal["current", "changed", "unknown"] = "unknown"
        else:
            newsletter = "current" if campaign.digest == digest else "changed"
        found.append(
            CampaignDeliveries(
                number=number,
                subject=campaign.subject,
                started=campaign.created,
                ledger=path,
                newsletter=newsletter,
                delivered=delivered,
                delivered_to=frozenset(sent),
                not_delivered={
                    "deferred": states["failed"],
                    "refused": states["refused"],
                    "in_doubt": states["in_doubt"],
                    "pending": states["pending"],
                },
            )
        )
    return found, problem


# -- the report -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SponsorEntry:
    """One sponsor (or house ad) booked in the issue and where its ads ran."""

    slug: str
    name: str
    kind: Literal["sponsor", "house"]
    ads: list[Ad]
    slots: dict[str, str]  # slot → where it runs, in words (the issue's own language)
    print: list[PrintPlace]
    email_slots: list[str]
    languages: list[str]

    @property
    def house(self) -> bool:
        return self.kind == "house"


@dataclass(frozen=True)
class SponsorReport:
    """The report of an issue: its print files, its campaigns and each sponsor booked."""

    issue: Issue
    print_files: list[PrintFile]
    campaigns: list[CampaignDeliveries]
    newsletter_problem: str | None
    sponsors: list[SponsorEntry]
    campaign_folder: Path

    @property
    def languages(self) -> list[str]:
        return [self.issue.manifest.lang, *self.issue.editions]

    def totals(self) -> dict[str, Any]:
        """Deliveries of the campaigns that sent the current newsletter: per edition, in all,
        and the distinct recipients (a forced second campaign mails everyone again)."""
        counted = [c for c in self.campaigns if c.counted]
        by_lang: Counter[str] = Counter()
        for campaign in counted:
            by_lang.update(campaign.delivered)
        editions = {lang: by_lang.get(lang, 0) for lang in self.languages}
        editions.update(sorted((k, n) for k, n in by_lang.items() if k not in editions))
        if UNRECORDED in editions:
            editions[UNRECORDED] = editions.pop(UNRECORDED)
        return {
            "delivered": sum(c.total for c in counted),
            "by_edition": editions,
            "recipients": len(frozenset().union(*(c.delivered_to for c in counted))),
            "not_counted": sum(c.total for c in self.campaigns if not c.counted),
        }

    def as_json(self) -> dict[str, Any]:
        root = self.issue.root
        totals = self.totals()
        campaigns = [
            {
                "campaign": c.number,
                "subject": c.subject,
                "started": c.started,
                "ledger": str(c.ledger.absolute()),
                "newsletter": c.newsletter,
                "counted": c.counted,
                "delivered": {"total": c.total, "by_edition": c.delivered},
                "not_delivered": c.not_delivered,
            }
            for c in self.campaigns
        ]
        sponsors = []
        for s in self.sponsors:
            newsletter = None
            if s.email_slots:
                newsletter = {
                    "slots": s.email_slots,
                    "delivered": {  # the campaigns that count (see "campaigns")
                        "total": totals["delivered"],
                        "by_edition": totals["by_edition"],
                        "recipients": totals["recipients"],
                    },
                    "not_counted": totals["not_counted"],
                }
            sponsors.append(
                {
                    "sponsor": s.slug,
                    "name": s.name,
                    "kind": s.kind,
                    "house": s.house,
                    "slots": [
                        {"slot": ad.slot, "placement": ad.placement, "where": s.slots[ad.slot]}
                        for ad in s.ads
                    ],
                    "print": [
                        {
                            "slot": p.slot,
                            "edition": p.lang,
                            "page": p.page,
                            "where": p.where,
                            "text": p.text,
                            "note": p.note,
                        }
                        for p in s.print
                    ],
                    "newsletter": newsletter,
                    "editions": s.languages,
                }
            )
        return {
            "issue": self.issue.id,
            "title": self.issue.manifest.title,
            "date": self.issue.manifest.date.isoformat(),
            "editions": self.languages,
            "print_files": [
                {
                    "edition": f.lang,
                    "path": shown(f.path, root),
                    "state": f.state,
                    "changed_since_build": f.changed,
                    "problem": f.problem,
                }
                for f in self.print_files
            ],
            "campaigns": campaigns,
            "newsletter_problem": self.newsletter_problem,
            "tracking": NO_TRACKING,
            "sponsors": sponsors,
        }


def find_manifest(root: Path, issue_id: str) -> Path:
    """``<root>/issues/<id>.yaml``, or InputError naming the issues there are."""
    issues = root / "issues"
    if not issues.is_dir():
        raise InputError(
            f"{root}: no issues/ folder: run this in the project folder, or name it with "
            "--project DIR"
        )
    known = sorted(p.stem for p in issues.glob("*.yaml"))
    if not ISSUE_ID.match(issue_id):
        raise InputError(
            f"'{issue_id}' is not an issue id like 2026-12 (issues: {', '.join(known)})"
        )
    path = issues / f"{issue_id}.yaml"
    if not path.is_file():
        hint = did_you_mean(issue_id, known) or f"; the issues: {', '.join(known) or 'none'}"
        raise InputError(f"issues/{issue_id}.yaml: no such issue{hint}")
    return path


def sponsor_report(root: Path, issue_id: str, state_dir: Path | None = None) -> SponsorReport:
    """The report of issue ``issue_id`` of the project in ``root`` (see the module)."""
    manifest = find_manifest(root, issue_id)
    issue = load_issue(manifest)
    editions = [(issue.manifest.lang, issue), *issue.editions.items()]
    booked_print = any(ad.placement in PRINT_PLACEMENTS for ad in issue.ads)
    files = [read_print_file(edition, lang) for lang, edition in editions] if booked_print else []
    booked_email = any(ad.placement == "email" for ad in issue.ads)
    campaigns, problem = read_campaigns(issue, state_dir) if booked_email else ([], None)
    shown_manifest = shown(manifest, issue.root)
    entries: dict[str, SponsorEntry] = {}
    for ad in issue.ads:
        entry = entries.get(ad.slug)
        if entry is None:
            entry = entries[ad.slug] = SponsorEntry(
                slug=ad.slug,
                name=ad.sponsor.name,
                kind=ad.sponsor.kind,
                ads=[],
                slots={},
                print=[],
                email_slots=[],
                languages=[lang for lang, _ in editions],
            )
        entry.ads.append(ad)
        entry.slots[ad.slot] = describe_slot(ad, issue)
        if ad.placement == "email":
            entry.email_slots.append(ad.slot)
        if ad.placement in PRINT_PLACEMENTS:
            for file, (_, edition) in zip(files, editions, strict=True):
                entry.print.append(_place(ad, edition, file, shown_manifest))
    return SponsorReport(
        issue,
        files,
        campaigns,
        problem,
        list(entries.values()),
        campaign_folder(issue.root, issue.id, state_dir),
    )


# -- as text --------------------------------------------------------------------------------------


def _path(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def _per_edition(counts: dict[str, int], languages: list[str]) -> str:
    """`` (5 en, 4 nb)`` for an issue with editions; nothing for one language alone."""
    if list(counts) == languages[:1]:
        return ""
    parts = [
        f"{n} edition not recorded" if lang == UNRECORDED else f"{n} {lang}"
        for lang, n in counts.items()
    ]
    return f" ({', '.join(parts)})"


def _not_delivered(counts: dict[str, int]) -> str:
    """``; not delivered: 1 deferred, 1 refused, 1 in doubt`` (the states that have any)."""
    parts = [f"{n} {state.replace('_', ' ')}" for state, n in counts.items() if n]
    return f"; not delivered: {', '.join(parts)}" if parts else ""


def _campaign_line(c: CampaignDeliveries, languages: list[str]) -> str:
    started = c.started
    with_date = dt.datetime.fromisoformat(started) if started else None
    when = with_date.strftime("%Y-%m-%d %H:%M UTC") if with_date else "?"
    line = (
        f"campaign {c.number} ('{c.subject}', started {when}): delivered to {c.total}"
        f"{_per_edition(c.delivered, languages)}{_not_delivered(c.not_delivered)}"
    )
    if c.newsletter == "changed":
        line += (
            "\n    it sent another version of the newsletter than the current one, which the "
            "ledger cannot show carried the ads booked now: not in the totals"
        )
    elif c.newsletter == "unknown":
        line += "\n    not compared with the current newsletter (see above): not in the totals"
    return line


def format_report(report: SponsorReport) -> str:
    """What ``magbuilder sponsors report`` prints."""
    issue = report.issue
    m = issue.manifest
    languages = report.languages
    lines = [f"sponsor report of issue {issue.id} '{m.title}' ({m.date.isoformat()})"]
    if len(languages) > 1:
        lines.append(f"editions: {', '.join(languages)} (every edition carries the issue's ads)")
    if not report.sponsors:
        lines.append(f"no ads booked ({shown(issue.manifest_path, issue.root)} has no ads.slots)")
        return "\n".join(lines)
    for file in report.print_files:
        where = shown(file.path, issue.root)
        state = {
            "built": "built",
            "stale": "built before the current "
            + ", ".join(file.changed[:3])
            + (" …" if len(file.changed) > 3 else ""),
            "not built": "not built",
            "unreadable": f"unreadable: {file.problem}",
        }[file.state]
        lang = f" ({file.lang})" if len(languages) > 1 else ""
        lines.append(f"print{lang}: {where}: {state}")
    if any(s.email_slots for s in report.sponsors):
        if not report.campaigns:
            lines.append(
                f"newsletter: not sent yet (no campaign in {_path(report.campaign_folder)})"
            )
        if report.newsletter_problem:
            lines.append(
                "newsletter: could not be rendered to compare with what the campaigns sent: "
                + report.newsletter_problem
            )
        for campaign in report.campaigns:
            lines.append("newsletter " + _campaign_line(campaign, languages))
    lines.append(NO_TRACKING[0].upper() + NO_TRACKING[1:] + ".")
    totals = report.totals()
    for s in report.sponsors:
        kind = "house ad" if s.house else "sponsor"
        lines += ["", f"{s.name} ({kind}, content/sponsors/{s.slug}.yaml)"]
        lines.append(
            "  slots: " + ", ".join(f"{slot} ({where})" for slot, where in s.slots.items())
        )
        if s.print:
            lines.append("  print:")
            for place in s.print:
                lang = f"{place.lang}: " if len(languages) > 1 else ""
                lines.append(f"    {lang}{place.text}")
        else:
            lines.append("  print: none booked")
        if s.email_slots:
            if not report.campaigns:
                lines.append("  newsletter: not sent yet")
            else:
                lines.append(
                    f"  newsletter: delivered to {totals['delivered']}"
                    f"{_per_edition(totals['by_edition'], languages)}"
                )
                if totals["recipients"] != totals["delivered"]:
                    lines.append(f"    {totals['recipients']} different addresses")
                if totals["not_counted"]:
                    lines.append(
                        f"    not counted: {totals['not_counted']} delivered by campaigns of "
                        "another version of the newsletter"
                    )
                if len(report.campaigns) > 1:
                    for c in report.campaigns:
                        counted = "" if c.counted else " (not counted)"
                        lines.append(
                            f"    campaign {c.number}: {c.total}"
                            f"{_per_edition(c.delivered, languages)}{counted}"
                        )
        else:
            lines.append("  newsletter: none booked")
        lines.append(f"  editions: {', '.join(s.languages)}")
    return "\n".join(lines)
