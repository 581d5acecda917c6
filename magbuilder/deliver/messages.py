"""The campaign's content and each subscriber's own message: merge fields and unsubscribe link.

The newsletter is rendered once; each message fills its merge fields (name, the signed unsubscribe
link, the list's other columns) and carries the same link in ``List-Unsubscribe``. With
``site.dkim`` set, every message made here (campaign, test copy, dry run) is DKIM-signed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from email.utils import getaddresses
from functools import cached_property
from pathlib import Path

from ..content import Issue
from ..errors import Finding, InputError
from ..manifest import load_issue
from ..paths import CONFIG_NAME, shown
from ..render.email import Newsletter, render_newsletter
from ..render.env import Layout
from ..render.links import unsubscribe_link
from ..render.mime import Frame, list_id, message_id
from .dkim import DkimSigner
from .subscribers import Subscriber
from .tokens import make_token


@dataclass(frozen=True)
class CampaignContent:
    """An issue's newsletter, in each of its editions, rendered once for a whole campaign.

    Each subscriber gets the edition in their language (the list's ``lang`` column; see
    :meth:`edition_of`), the issue's own language when it has none or no edition matches.
    """

    issue: Issue
    newsletter: Newsletter
    secret: bytes = field(repr=False)
    signer: DkimSigner | None = None  # site.dkim's key, read once for the campaign
    # the language editions: language → (the edition as an issue, its newsletter)
    editions: dict[str, tuple[Issue, Newsletter]] = field(default_factory=dict)

    @cached_property
    def sender(self) -> str:
        """The envelope sender (MAIL FROM): the address in ``site.from_email``."""
        return getaddresses([self.issue.manifest.site.from_email])[0][1]

    @property
    def subject(self) -> str:
        return self.issue.manifest.newsletter.subject

    @property
    def languages(self) -> list[str]:
        """The issue's language, then its editions'."""
        return [self.issue.manifest.lang, *self.editions]

    @cached_property
    def digest(self) -> str:
        """SHA-256 of everything a subscriber sees, in every edition; a change means a
        different newsletter."""
        parts = [content_digest(self.issue, self.newsletter)]
        parts += [
            f"{lang}:{content_digest(*self.editions[lang])}" for lang in sorted(self.editions)
        ]
        if not self.editions:
            return parts[0]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()

    def edition_of(self, subscriber: Subscriber) -> str:
        """The language of the edition ``subscriber`` gets: the one their ``lang`` names
        (``nb-NO`` finds ``nb``), else the issue's own."""
        return pick_language(subscriber.lang, self.languages)

    def unsubscribe_url(self, subscriber: Subscriber) -> str:
        """The subscriber's own one-click unsubscribe link, with their signed token."""
        link = unsubscribe_link(self.issue.manifest.site, make_token(subscriber.key, self.secret))
        assert link is not None  # checked by load_content
        return link

    @cached_property
    def _frames(self) -> dict[tuple[str, bool], Frame]:
        return {}

    def frame(self, lang: str, *, test: bool = False) -> Frame:
        """The edition's message made once for the campaign; each copy fills it in."""
        key = (lang, test)
        if key not in self._frames:
            issue, newsletter = self.editions.get(lang) or (self.issue, self.newsletter)
            self._frames[key] = Frame(issue, newsletter.html, newsletter.text, test=test)
        return self._frames[key]

    def message(
        self,
        subscriber: Subscriber,
        *,
        campaign: int = 1,
        test: bool = False,
        date: dt.datetime | None = None,
    ) -> bytes:
        """The subscriber's message as it goes out, in their edition: personalised parts, own
        unsubscribe link, stable Message-ID, DKIM-signed when the site signs.

        A forced new campaign (2, 3 …) gets new Message-IDs: mailbox providers silently drop a
        message whose Message-ID they already delivered. A test copy gets a one-off Message-ID
        for the same reason.
        """
        link = self.unsubscribe_url(subscriber)
        if test:
            stamp = dt.datetime.now(dt.UTC).isoformat()
            msg_id = message_id(self.issue, f"test/{subscriber.key}/{stamp}")
        elif campaign > 1:
            msg_id = message_id(self.issue, f"{subscriber.key}/campaign-{campaign}")
        else:
            msg_id = message_id(self.issue, subscriber.key)
        data = self.frame(self.edition_of(subscriber), test=test).message(
            to=subscriber.email,
            values={**subscriber.merge_values(), "unsubscribe_url": link},
            unsubscribe_url=link,
            date=date or dt.datetime.now(dt.UTC),
            msg_id=msg_id,
        )
        # Last: the signature covers the message exactly as it goes out.
        return self.signer.sign(data) if self.signer else data


def pick_language(wanted: str | None, languages: list[str]) -> str:
    """Of ``languages`` (the first is the default), the one ``wanted`` names: exactly, or by
    its primary subtag (``nb-NO`` → ``nb``, ``pt`` → ``pt-BR``), ignoring letter case."""
    if wanted:
        wanted = wanted.strip().replace("_", "-").lower()
        by_tag = {lang.lower(): lang for lang in languages}
        if wanted in by_tag:
            return by_tag[wanted]
        primary = wanted.split("-")[0]
        for lang in languages:
            if lang.lower().split("-")[0] == primary:
                return lang
    return languages[0]


def content_digest(issue: Issue, newsletter: Newsletter) -> str:
    """SHA-256 over the rendered parts (merge fields unfilled), images and visible headers."""
    site = issue.manifest.site
    parts = {
        "subject": issue.manifest.newsletter.subject,
        "from": site.from_email,
        "reply_to": site.reply_to,
        "list_id": list_id(site),
        "unsubscribe_url": site.unsubscribe_url,
        "unsubscribe_mailto": site.unsubscribe_mailto,
        "html": newsletter.html,
        "text": newsletter.text,
        "images": {
            name: hashlib.sha256(data).hexdigest() for name, data in newsletter.images.items()
        },
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode("utf-8")).hexdigest()


def check_unsubscribe_setting(issue: Issue) -> None:
    """Sending needs ``site.unsubscribe_url`` with a ``{token}`` placeholder."""
    url = issue.manifest.site.unsubscribe_url
    if url and "{token}" in url:
        return
    where = shown(issue.root / CONFIG_NAME, issue.root)
    problem = (
        f"site.unsubscribe_url '{url}' has no {{token}} placeholder"
        if url
        else "site.unsubscribe_url is not set"
    )
    raise InputError(
        problem,
        [
            Finding(
                where,
                None,
                f"{problem}: sending needs each subscriber's own one-click unsubscribe link, "
                'e.g. unsubscribe_url: "https://example.org/unsubscribe?token={token}"',
            )
        ],
    )


def load_content(manifest: Path | str, secret: bytes) -> CampaignContent:
    """Load the issue, check it can be sent (the DKIM key too), and render its newsletter once."""
    issue = load_issue(manifest)
    check_unsubscribe_setting(issue)
    signer = DkimSigner.from_issue(issue)
    layout = Layout(issue.layouts_dir, issue.manifest.layout)
    newsletter = render_newsletter(issue, layout)
    editions = {
        lang: (edition, render_newsletter(edition, layout))
        for lang, edition in issue.editions.items()
    }
    return CampaignContent(issue, newsletter, secret, signer, editions)
