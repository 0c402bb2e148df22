"""Inbound e-mail and SMS: signed webhooks that become needs or crisis reports.

A gateway (Twilio, an SMS modem, a mail relay) POSTs the message to
``/api/v1/orgs/{org_id}/inbound/{sms|email}`` with two headers: ``X-Commonweal-Timestamp``
(Unix seconds) and ``X-Commonweal-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>." + raw
body, keyed with the organisation's secret>`` (Stripe's scheme). A missing or wrong signature,
or a timestamp more than five minutes from the server's clock (a replay), is refused (403)
before the body is read as data.

Message grammar (case-insensitive; the first word decides)::

    NEED <category> [at <address>]: <what is needed>      -> a need (address stays private)
    HELP ...                                               -> the same
    REPORT|SOS|URGENT <category> [at <place>] [lat,lon]: <what happened>  -> a crisis report

``<category>`` is any category name or alias (``groceries``, ``meds``, ``shelter``...); an unknown
word is kept in the text and the category is ``other``. The words ``urgent``/``critical`` raise
the urgency. Coordinates ``51.5123,-0.1201`` anywhere are the location.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from sqlalchemy.orm import Session

from commonweal.analytics.matching import normalise_category
from commonweal.errors import InputError, PermissionDeniedError, Problem
from commonweal.mutual_aid import crisis, service
from commonweal.mutual_aid.clock import Clock
from commonweal.mutual_aid.models import AidNeed, CrisisReport
from commonweal.mutual_aid.schemas import CrisisReportCreate, NeedCreate
from commonweal.mutual_aid.vocab import CATEGORY_SHORTHAND, Channel
from commonweal.registry import service as reg

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "TOLERANCE_S",
    "InboundMessage",
    "ingest",
    "parse_payload",
    "parse_text",
    "rotate_secret",
    "sign",
    "verify_signature",
]

SIGNATURE_HEADER = "X-Commonweal-Signature"
TIMESTAMP_HEADER = "X-Commonweal-Timestamp"
#: How far (seconds) a message's timestamp may be from the server's clock.
TOLERANCE_S = 300
_NEED_WORDS = {"need", "help", "request"}
_REPORT_WORDS = {"report", "sos", "urgent", "emergency"}
_URGENT_WORDS = {"urgent", "critical", "urgently"}
_COORD = re.compile(r"(-?\d{1,2}\.\d+)\s*,\s*(-?\d{1,3}\.\d+)")


@dataclass(frozen=True, slots=True)
class InboundMessage:
    kind: str  # "need" | "report"
    category: str
    text: str
    place: str | None
    lat: float | None
    lon: float | None
    urgency: int
    sender: str | None


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The signature header value: ``sha256=<hex HMAC-SHA256 of "<timestamp>." + body>``."""
    message = f"{int(timestamp)}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def rotate_secret(session: Session, *, organisation_id: int) -> str:
    """Set a new random webhook secret for the organisation and return it (shown once)."""
    row = service.org_settings(session, organisation_id=organisation_id)
    row.inbound_secret = secrets.token_urlsafe(32)
    session.flush()
    return row.inbound_secret


def verify_signature(
    session: Session,
    *,
    organisation_id: int,
    header: str | None,
    timestamp: str | None,
    body: bytes,
    now: dt.datetime,
) -> None:
    """Refuse (403) unless ``header`` signs ``timestamp`` and ``body`` with the organisation's
    secret and the timestamp is within :data:`TOLERANCE_S` of ``now`` (no replays of old
    messages)."""
    from sqlalchemy import select

    from commonweal.mutual_aid.models import AidOrgSettings

    refused = PermissionDeniedError("inbound messages need a valid, fresh signature")
    row = session.scalar(
        select(AidOrgSettings).where(AidOrgSettings.organisation_id == organisation_id)
    )
    if row is None or not row.inbound_secret or not header or not timestamp:
        raise refused
    try:
        ts = int(timestamp.strip())
    except ValueError:
        raise refused from None
    if abs(now.timestamp() - ts) > TOLERANCE_S:
        raise refused
    if not hmac.compare_digest(sign(row.inbound_secret, body, ts), header.strip()):
        raise refused


def parse_text(text: str, sender: str | None) -> InboundMessage:
    """Read one message in the grammar of the module docstring."""
    line = " ".join(text.split())
    words = line.split(" ", 2)
    if not line or words[0].lower().strip(":") not in _NEED_WORDS | _REPORT_WORDS:
        raise InputError(
            "the message must start with NEED, HELP, REPORT or SOS",
            [Problem(f"first word {words[0]!r}" if line else "empty message", field="text")],
        )
    kind = "need" if words[0].lower().strip(":") in _NEED_WORDS else "report"
    rest = line.split(" ", 1)[1] if " " in line else ""
    category = "other"
    if rest:
        first = rest.split(" ", 1)[0].strip(":,")
        cat = normalise_category(first) or CATEGORY_SHORTHAND.get(first.lower())
        if cat is not None:
            category = cat
            rest = rest[len(rest.split(" ", 1)[0]) :].strip()
    while rest and rest.split(" ", 1)[0].lower().strip(":,") in _URGENT_WORDS:
        rest = rest.split(" ", 1)[1] if " " in rest else ""
        rest = rest.lstrip(":, ")
    lat = lon = None
    found = _COORD.search(rest)
    if found:
        la, lo = float(found.group(1)), float(found.group(2))
        if abs(la) <= 90 and abs(lo) <= 180:
            lat, lon = la, lo
            rest = (rest[: found.start()] + rest[found.end() :]).strip()
    place = None
    head, sep, body = rest.partition(":")
    if sep and head.lower().startswith("at "):
        place, rest = head[3:].strip() or None, body.strip()
    elif rest.lower().startswith("at "):
        place, rest = rest[3:].strip() or None, ""
    elif sep and not head.strip():
        rest = body.strip()
    low = line.lower()
    urgency = 4 if "critical" in low else 3 if ("urgent" in low or kind == "report") else 2
    return InboundMessage(kind, category, rest.strip(), place, lat, lon, urgency, sender)


def _field(data: dict[str, Any], *names: str) -> str | None:
    for n in names:
        v = data.get(n)
        if isinstance(v, list):
            v = v[0] if v else None
        if isinstance(v, str) and v.strip():
            return v.strip()
    return None


def parse_payload(channel: Channel, body: bytes, content_type: str) -> InboundMessage:
    """Parse a webhook body: JSON (``from``/``text``, plus ``subject`` for e-mail) or a
    form-encoded Twilio-style body (``From``/``Body``)."""
    try:
        if "json" in content_type:
            data = json.loads(body.decode("utf-8"))
        else:
            data = dict(parse_qs(body.decode("utf-8")))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(
            "the body is not valid JSON or form data", [Problem(str(exc)[:200], field="body")]
        ) from exc
    if not isinstance(data, dict):
        raise InputError("the body must be an object", [Problem("not an object", field="body")])
    sender = _field(data, "from", "From", "sender")
    if channel == Channel.email:
        subject = _field(data, "subject", "Subject") or ""
        text = _field(data, "text", "body", "Body", "plain") or ""
        message = f"{subject}: {text}" if subject and text else subject or text
    else:
        message = _field(data, "text", "body", "Body", "message") or ""
    if not message:
        raise InputError("the message has no text", [Problem("missing", field="text")])
    return parse_text(message[:4000], sender)


def _community(session: Session, organisation_id: int, community_id: int | None) -> int:
    if community_id is not None:
        return reg.get_community_or_raise(
            session, organisation_id=organisation_id, community_id=community_id
        ).id
    default = service.org_settings(session, organisation_id=organisation_id).default_community_id
    if default is not None:
        return default
    communities = reg.list_communities(session, organisation_id=organisation_id)
    if len(communities) != 1:
        raise InputError(
            "name the community (?community_id=) or set a default one",
            [Problem("ambiguous community", field="community_id")],
        )
    return communities[0].id


def ingest(
    session: Session,
    *,
    organisation_id: int,
    channel: Channel,
    message: InboundMessage,
    clock: Clock,
    community_id: int | None = None,
) -> AidNeed | CrisisReport:
    """Record the message as a need or a crisis report, keeping its channel and sender."""
    cid = _community(session, organisation_id, community_id)
    if message.kind == "need":
        data = NeedCreate(
            category=message.category,
            description=message.text,
            urgency=message.urgency,
            address=message.place,
            contact=message.sender,
            lat=message.lat,
            lon=message.lon,
        )
        return service.create_need(
            session,
            organisation_id=organisation_id,
            community_id=cid,
            data=data,
            channel=channel,
            clock=clock,
        )
    title = (message.text or f"{message.category} report")[:80]
    report = CrisisReportCreate(
        category=message.category,
        title=title,
        description=message.text,
        location_name=message.place,
        lat=message.lat,
        lon=message.lon,
        severity=max(1, min(4, message.urgency)),
        reporter_contact=message.sender,
        community_id=cid,
    )
    return crisis.create_report(
        session, organisation_id=organisation_id, data=report, channel=channel, now=clock.now()
    )
