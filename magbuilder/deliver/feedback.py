"""Reading bounce and complaint reports: DSNs (RFC 3464), ARF (RFC 5965) and providers' JSON.

Each report becomes :class:`Notice` objects, one per recipient it names: a hard bounce, a soft
bounce or a complaint, with the original message's Message-ID when the report carries it. What
cannot be read raises :class:`Unusable` (the whole item) or is listed in :attr:`Parsed.skipped`
(one recipient of it); what is read but is no bounce (a delay, a delivery, a "not spam") is
listed in :attr:`Parsed.ignored`. Nothing here touches the suppression list.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.errors import CloseBoundaryNotFoundDefect, StartBoundaryNotFoundDefect
from email.message import EmailMessage, Message
from email.parser import HeaderParser
from email.utils import getaddresses
from typing import Any, Literal

Kind = Literal["hard", "soft", "complaint"]
KIND_NAMES: dict[Kind, str] = {
    "hard": "hard bounce",
    "soft": "soft bounce",
    "complaint": "complaint",
}

STATUS = re.compile(r"([245])\.(\d{1,3})\.(\d{1,3})")  # RFC 3463 class.subject.detail
ADDRESS = re.compile(r"[^@\s<>,;:\"()\[\]]+@[^@\s<>,;:\"()\[\]]+\.[^@\s<>,;:\"()\[\].]+")
DSN_NOT_BOUNCES = {"delayed", "delivered", "relayed", "expanded"}
ARF_NOT_COMPLAINTS = {"not-spam", "auth-failure"}  # a user's "not spam", a DMARC failure report


class Unusable(Exception):
    """A report that cannot be read; ``str()`` says why, for the ``skipped:`` line."""


@dataclass(frozen=True)
class Notice:
    """One recipient's bounce or complaint, as a report states it."""

    kind: Kind
    recipient: str | None  # None when the report does not say (a redacted complaint)
    message_id: str | None  # the original message's, as ``<id>``; None when not carried
    detail: str  # e.g. "5.1.1 smtp; 550 5.1.1 No such user" or "complaint: abuse"
    where: str  # SOURCE:ITEM[:recipient N]
    fingerprint: str  # identifies the report and the recipient, to import each only once


@dataclass
class Parsed:
    """What one item (a message, a JSON file) held."""

    notices: list[Notice] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (where, why)
    ignored: list[tuple[str, str]] = field(default_factory=list)  # (where, what it was)


def message_id(value: object) -> str | None:
    """A Message-ID as ``<left@right>``, brackets added if missing; None if it is not one."""
    if not isinstance(value, str):
        return None
    core = value.strip().removeprefix("<").removesuffix(">").strip()
    if not core or "@" not in core or re.search(r"[\s<>]", core):
        return None
    return f"<{core}>"


def address(value: object) -> str | None:
    """A bare address from ``rfc822; a@b``, ``<a@b>`` or ``a@b``; None if there is none."""
    if not isinstance(value, str):
        return None
    text = value.split(";", 1)[1] if ";" in value else value
    text = text.strip().removeprefix("<").removesuffix(">").strip()
    return text if ADDRESS.fullmatch(text) else None


def one_line(text: object, limit: int = 300) -> str:
    """Report text squeezed onto one line (it goes into lines and the suppression detail)."""
    squeezed = " ".join(str(text).split())
    return squeezed if len(squeezed) <= limit else squeezed[: limit - 1] + "…"


# -- mail: DSN and ARF ------------------------------------------------------------------------


def read_message(raw: bytes, where: str, fingerprint: str) -> Parsed:
    """A bounce (DSN) or complaint (ARF) message; Unusable for anything else."""
    if not raw.strip():
        raise Unusable("empty")
    if b"\x00" in raw:
        raise Unusable("binary data, not a message")
    msg = message_from_bytes(raw, policy=policy.default)
    ctype = msg.get_content_type()
    if ctype != "multipart/report":
        subject = one_line(msg.get("Subject", ""), 60)
        about = f", subject '{subject}'" if subject else ""
        raise Unusable(f"not a bounce or complaint report ({ctype}{about})")
    if any(isinstance(d, StartBoundaryNotFoundDefect) for d in msg.defects):
        raise Unusable("broken MIME: the multipart/report boundary is never found")
    report_type = str(msg.get_param("report-type", "")).lower()
    if report_type in ("delivery-status", "global-delivery-status"):
        return _dsn(msg, where, fingerprint)
    if report_type == "feedback-report":
        return _arf(msg, where, fingerprint)
    raise Unusable(f"a report of type '{report_type}', not delivery-status or feedback-report")


def _part(msg: EmailMessage, *types: str) -> Message | None:
    return next((p for p in msg.walk() if p.get_content_type() in types), None)


def _check_not_cut(msg: EmailMessage, part: Message) -> None:
    """A message cut off inside its status part has lost what that part said after the cut."""
    parts = msg.get_payload()
    cut = any(isinstance(d, CloseBoundaryNotFoundDefect) for d in msg.defects)
    if cut and isinstance(parts, list) and parts and parts[-1] is part:
        raise Unusable("cut off: the message ends inside its status part (no closing boundary)")


def _blocks(part: Message) -> list[Message]:
    """The header blocks of a status part (per-message first, then one per recipient)."""
    payload = part.get_payload()
    if isinstance(payload, str):  # not parsed as headers (e.g. base64-encoded): do it here
        data = part.get_payload(decode=True)
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else payload
        return [HeaderParser().parsestr(b) for b in re.split(r"\r?\n\s*\r?\n", text) if b.strip()]
    blocks: list[Message] = []
    for sub in payload if isinstance(payload, list) else []:
        blocks.append(sub)
        rest = sub.get_payload()  # message/global-delivery-status: later blocks land here
        if isinstance(rest, str) and rest.strip():
            blocks.extend(HeaderParser().parsestr(b) for b in re.split(r"\n\s*\n", rest) if b)
    return [b for b in blocks if len(b.keys())]


def _original(msg: EmailMessage) -> Message | None:
    """The returned message's headers: a message/rfc822 part or a text/rfc822-headers one."""
    part = _part(msg, "message/rfc822", "message/global", "text/rfc822-headers")
    if part is None:
        return None
    payload = part.get_payload()
    if isinstance(payload, list) and payload:
        return payload[0]
    if isinstance(payload, str):
        return HeaderParser().parsestr(payload.lstrip("\r\n"))
    return None


def _header(block: Message | None, name: str) -> str:
    value = block.get(name) if block is not None else None
    return "" if value is None else one_line(value)


def _dsn(msg: EmailMessage, where: str, fingerprint: str) -> Parsed:
    part = _part(msg, "message/delivery-status", "message/global-delivery-status")
    if part is None:
        raise Unusable("a delivery-status report without its message/delivery-status part")
    _check_not_cut(msg, part)
    blocks = _blocks(part)
    per_recipient = [b for b in blocks if b.get("Final-Recipient") or b.get("Action")]
    if not per_recipient:
        raise Unusable("a delivery-status report naming no recipient (no Final-Recipient/Action)")
    original = _original(msg)
    original_id = message_id(_header(original, "Message-ID"))
    parsed = Parsed()
    for n, block in enumerate(per_recipient, 1):
        here = f"{where}:recipient {n}" if len(per_recipient) > 1 else where
        action = _header(block, "Action").lower()
        status = _header(block, "Status")
        code = STATUS.match(status)
        recipient = address(_header(block, "Final-Recipient")) or address(
            _header(block, "Original-Recipient")
        )
        if recipient is None and original_id is None:
            parsed.skipped.append((here, "no Final-Recipient, and no returned Message-ID either"))
        elif action in DSN_NOT_BOUNCES:
            parsed.ignored.append((here, f"Action: {action} (not a bounce)"))
        elif action != "failed":
            parsed.skipped.append((here, f"Action '{action}' is not failed, delayed or delivered"))
        elif not status:
            parsed.skipped.append((here, "no Status field"))
        elif not code or code.group(0) != status.split()[0]:
            parsed.skipped.append((here, f"Status '{one_line(status, 40)}' is not like 5.1.1"))
        elif code.group(1) == "2":
            parsed.skipped.append((here, f"Action failed with the success Status {status}"))
        else:
            diagnostic = _header(block, "Diagnostic-Code")
            kind: Kind = "hard" if code.group(1) == "5" else "soft"
            detail = one_line(f"{code.group(0)} {diagnostic}")
            parsed.notices.append(
                Notice(kind, recipient, original_id, detail, here, f"{fingerprint}/{n}")
            )
    return parsed


def _arf(msg: EmailMessage, where: str, fingerprint: str) -> Parsed:
    part = _part(msg, "message/feedback-report")
    if part is None:
        raise Unusable("a feedback report without its message/feedback-report part")
    _check_not_cut(msg, part)
    blocks = _blocks(part)
    feedback_type = _header(blocks[0] if blocks else None, "Feedback-Type").lower()
    if not feedback_type:
        raise Unusable("a feedback report without Feedback-Type")
    if feedback_type in ARF_NOT_COMPLAINTS:
        return Parsed(ignored=[(where, f"Feedback-Type: {feedback_type} (not a complaint)")])
    original = _original(msg)
    recipient = address(_header(blocks[0], "Original-Rcpt-To"))
    if recipient is None and original is not None:
        named = [a for _, a in getaddresses([_header(original, "To")]) if address(a)]
        recipient = named[0] if len(named) == 1 else None
    original_id = message_id(_header(original, "Message-ID"))
    if recipient is None and original_id is None:
        raise Unusable("a complaint naming neither its recipient nor the original Message-ID")
    detail = f"complaint: {feedback_type}"
    return Parsed([Notice("complaint", recipient, original_id, detail, where, fingerprint)])


# -- JSON: provider webhooks ------------------------------------------------------------------


def read_json(raw: bytes, where: str) -> Parsed:
    """A saved webhook payload (SES via SNS, SendGrid, Postmark, Mailgun), or one per line.

    Each event is fingerprinted by its content, so events appended to a file later are new
    while those already imported are recognised.
    """
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Unusable(f"not UTF-8 text (byte {exc.start})") from None
    try:
        payloads: list[Any] = [json.loads(text)]
    except json.JSONDecodeError as exc:
        lines = [line for line in text.splitlines() if line.strip()]
        if exc.msg != "Extra data" or len(lines) < 2:
            raise Unusable(f"not JSON: {exc}") from None
        try:  # JSON Lines: one payload per line
            payloads = [json.loads(line) for line in lines]
        except json.JSONDecodeError as exc:
            raise Unusable(f"not JSON Lines: {exc}") from None
    events: list[Any] = []
    for payload in payloads:
        events.extend(payload if isinstance(payload, list) else [payload])
    if not events:
        raise Unusable("a JSON payload with no events")
    parsed = Parsed()
    for n, event in enumerate(events, 1):
        here = f"{where}:event {n}" if len(events) > 1 else where
        stamp = hashlib.sha256(json.dumps(event, sort_keys=True).encode()).hexdigest()
        try:
            _event(event, here, stamp, parsed)
        except Unusable as exc:
            parsed.skipped.append((here, str(exc)))
    return parsed


def _get(obj: Any, path: str, kind: type | tuple[type, ...] = str, required: bool = True) -> Any:
    """``obj[a][b]…`` for ``path`` "a.b", checked to be of ``kind``; Unusable when it is not."""
    value = obj
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    if not required and (value in (None, "") or not isinstance(value, kind)):
        return None  # an optional field that is absent or unusable is simply not used
    if value in (None, "", []):
        raise Unusable(f"no {path}")
    if not isinstance(value, kind):
        raise Unusable(f"{path} is not {_name(kind)}")
    return value


def _name(kind: type | tuple[type, ...]) -> str:
    names = {str: "a string", list: "a list", dict: "an object", int: "a number"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _event(event: Any, here: str, stamp: str, parsed: Parsed) -> None:
    if not isinstance(event, dict):
        what = {str: "string", list: "list", int: "number", float: "number", bool: "boolean"}
        raise Unusable(f"a JSON {what.get(type(event), 'null')}, not an object (an event)")
    if "Type" in event and "TopicArn" in event:  # Amazon SNS around an SES notification
        if event["Type"] != "Notification":
            parsed.ignored.append((here, f"SNS {event['Type']} (confirm it in the AWS console)"))
            return
        try:
            inner = json.loads(_get(event, "Message"))
        except json.JSONDecodeError:
            raise Unusable("the SNS Message is not JSON") from None
        return _ses(inner, here, stamp, parsed)
    if "notificationType" in event or ("eventType" in event and "mail" in event):
        return _ses(event, here, stamp, parsed)
    if "event-data" in event:
        return _mailgun(_get(event, "event-data", dict), here, stamp, parsed)
    if "RecordType" in event or ("Email" in event and "Type" in event):
        return _postmark(event, here, stamp, parsed)
    if "event" in event and "email" in event:
        return _sendgrid(event, here, stamp, parsed)
    keys = ", ".join(sorted(map(str, event))[:6]) or "none"
    raise Unusable(
        f"JSON of an unknown shape (keys: {keys}): expected an Amazon SES (SNS), SendGrid, "
        "Postmark or Mailgun notification"
    )


def _add(parsed: Parsed, kind: Kind, rcpt: Any, msg_id: Any, detail: str, here: str, stamp: str):
    recipient = address(rcpt)
    mid = message_id(msg_id)
    if recipient is None and mid is None:
        raise Unusable("names no valid recipient address" + (f" ('{rcpt}')" if rcpt else ""))
    parsed.notices.append(Notice(kind, recipient, mid, one_line(detail), here, stamp))


def _ses(n: Any, here: str, stamp: str, parsed: Parsed) -> None:
    if not isinstance(n, dict):
        raise Unusable("the SES notification is not a JSON object")
    kind = n.get("notificationType") or n.get("eventType")
    mail = _get(n, "mail", dict)
    headers = {
        str(h.get("name", "")).lower(): h.get("value")
        for h in mail.get("headers") or []
        if isinstance(h, dict)
    }
    msg_id = headers.get("message-id") or _get(mail, "commonHeaders.messageId", str, False)
    if kind == "Bounce":
        bounce = _get(n, "bounce", dict)
        bounce_type = _get(bounce, "bounceType")
        if bounce_type not in ("Permanent", "Transient", "Undetermined"):
            raise Unusable(f"bounce.bounceType '{bounce_type}' is not Permanent or Transient")
        rows = _get(n, "bounce.bouncedRecipients", list)
        for i, row in enumerate(rows, 1):
            at = f"{here}:recipient {i}" if len(rows) > 1 else here
            if not isinstance(row, dict) or not address(row.get("emailAddress")):
                parsed.skipped.append((at, "bouncedRecipients entry without an emailAddress"))
                continue
            status = row.get("status") or bounce.get("bounceSubType", "")
            detail = f"{status} {row.get('diagnosticCode') or bounce_type}"
            sort: Kind = "hard" if bounce_type == "Permanent" else "soft"
            _add(parsed, sort, row["emailAddress"], msg_id, detail, at, f"{stamp}/{i}")
    elif kind == "Complaint":
        complaint = _get(n, "complaint", dict)
        feedback = complaint.get("complaintFeedbackType") or "abuse"
        if feedback in ARF_NOT_COMPLAINTS:
            parsed.ignored.append((here, f"complaint of type {feedback} (not a complaint)"))
            return
        rows = _get(n, "complaint.complainedRecipients", list)
        for i, row in enumerate(rows, 1):
            at = f"{here}:recipient {i}" if len(rows) > 1 else here
            rcpt = row.get("emailAddress") if isinstance(row, dict) else None
            _add(parsed, "complaint", rcpt, msg_id, f"complaint: {feedback}", at, f"{stamp}/{i}")
    elif isinstance(kind, str) and kind:
        parsed.ignored.append((here, f"SES {kind} notification (not a bounce or complaint)"))
    else:
        raise Unusable("an SES notification without notificationType")


SENDGRID_IGNORED = {"processed", "deferred", "delivered", "open", "click", "unsubscribe",
                    "group_unsubscribe", "group_resubscribe"}  # fmt: skip


def _sendgrid(e: dict[str, Any], here: str, stamp: str, parsed: Parsed) -> None:
    event = _get(e, "event")
    msg_id, rcpt = e.get("smtp-id"), e.get("email")  # sg_message_id is SendGrid's own
    reason = one_line(e.get("reason") or e.get("response") or "")
    if event == "bounce":
        status = str(e.get("status") or "")
        code = STATUS.fullmatch(status)
        if status and not code:
            raise Unusable(f"status '{one_line(status, 40)}' is not a code like 5.1.1")
        soft = e.get("type") == "blocked" or (code is not None and code.group(1) == "4")
        _add(parsed, "soft" if soft else "hard", rcpt, msg_id, f"{status} {reason}", here, stamp)
    elif event == "dropped":
        if "spam" in reason.lower():
            _add(parsed, "complaint", rcpt, msg_id, f"complaint: {reason}", here, stamp)
        elif "bounce" in reason.lower() or "invalid" in reason.lower():
            _add(parsed, "hard", rcpt, msg_id, f"dropped: {reason}", here, stamp)
        else:
            parsed.ignored.append((here, f"SendGrid dropped: {reason or 'no reason'}"))
    elif event == "spamreport":
        _add(parsed, "complaint", rcpt, msg_id, "complaint: spamreport", here, stamp)
    elif event in SENDGRID_IGNORED:
        parsed.ignored.append((here, f"SendGrid {event} event (not a bounce or complaint)"))
    else:
        raise Unusable(f"unknown SendGrid event '{one_line(event, 40)}'")


POSTMARK: dict[str, Kind | None] = {
    "HardBounce": "hard", "BadEmailAddress": "hard", "ManuallyDeactivated": "hard",
    "SoftBounce": "soft", "Transient": "soft", "DnsError": "soft", "Blocked": "soft",
    "Undeliverable": "soft", "SpamNotification": "soft",
    "SpamComplaint": "complaint",
    "AutoResponder": None, "Subscribe": None, "Unsubscribe": None, "OpenRelayTest": None,
    "ChallengeVerification": None, "VirusNotification": None, "AddressChange": None,
}  # fmt: skip


def _postmark(e: dict[str, Any], here: str, stamp: str, parsed: Parsed) -> None:
    record = e.get("RecordType", "Bounce")
    if record not in ("Bounce", "SpamComplaint"):
        parsed.ignored.append((here, f"Postmark {one_line(record, 40)} (not a bounce)"))
        return
    bounce_type = _get(e, "Type")
    if bounce_type not in POSTMARK:
        raise Unusable(f"unknown Postmark bounce Type '{one_line(bounce_type, 40)}'")
    kind = POSTMARK[bounce_type]
    if kind is None:
        parsed.ignored.append((here, f"Postmark {bounce_type} (not a bounce)"))
        return
    headers = e.get("Headers") if isinstance(e.get("Headers"), list) else []
    msg_id = next(  # MessageID is Postmark's own id; ours only if the headers came along
        (h.get("Value") for h in headers if isinstance(h, dict)
         and str(h.get("Name", "")).lower() == "message-id"),
        None,
    )  # fmt: skip
    detail = f"{bounce_type}: {e.get('Description') or ''} {e.get('Details') or ''}"
    if kind == "complaint":
        detail = f"complaint: {bounce_type}"
    _add(parsed, kind, e.get("Email"), msg_id, detail, here, stamp)


MAILGUN_IGNORED = {"accepted", "delivered", "opened", "clicked", "unsubscribed", "stored"}


def _mailgun(data: dict[str, Any], here: str, stamp: str, parsed: Parsed) -> None:
    event = _get(data, "event")
    msg_id = _get(data, "message.headers.message-id", str, False)
    if event == "failed":
        severity = _get(data, "severity")
        if severity not in ("permanent", "temporary"):
            raise Unusable(f"severity '{one_line(severity, 40)}' is not permanent or temporary")
        status = data.get("delivery-status")
        status = status if isinstance(status, dict) else {}
        enhanced = status.get("enhanced-code") or status.get("code") or ""
        text = status.get("message") or status.get("description") or data.get("reason") or ""
        kind: Kind = "hard" if severity == "permanent" else "soft"
        _add(parsed, kind, data.get("recipient"), msg_id, f"{enhanced} {text}", here, stamp)
    elif event == "complained":
        _add(parsed, "complaint", data.get("recipient"), msg_id, "complaint", here, stamp)
    elif event in MAILGUN_IGNORED:
        parsed.ignored.append((here, f"Mailgun {event} event (not a bounce or complaint)"))
    else:
        raise Unusable(f"unknown Mailgun event '{one_line(event, 40)}'")
