"""Sending the newsletter to subscribers over SMTP: personalised, throttled, resumable, never twice.

subscribers (CSV list) → messages (one personalised message each, signed unsubscribe link from
tokens) → smtp (hand over, classify replies) with campaign orchestrating and ledger recording each
recipient's state. See docs/sending.md.
"""

from __future__ import annotations

from .campaign import (
    SendIncomplete,
    SendOptions,
    SendResult,
    campaign_folder,
    send_issue,
)
from .ledger import Ledger
from .smtp import SmtpFatalError, SmtpSettings, parse_smtp_url
from .status import CampaignStatus, campaign_status
from .subscribers import Subscriber, SubscriberList, read_subscribers
from .tokens import SECRET_ENV, make_token, verify

__all__ = [
    "SECRET_ENV",
    "CampaignStatus",
    "Ledger",
    "SendIncomplete",
    "SendOptions",
    "SendResult",
    "SmtpFatalError",
    "SmtpSettings",
    "Subscriber",
    "SubscriberList",
    "campaign_folder",
    "campaign_status",
    "make_token",
    "parse_smtp_url",
    "read_subscribers",
    "send_issue",
    "verify",
]
