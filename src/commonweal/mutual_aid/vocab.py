"""Controlled vocabularies of the mutual-aid exchange, in the language of the field."""

from __future__ import annotations

from enum import StrEnum

from commonweal.analytics.matching import CATEGORIES

__all__ = [
    "CATEGORY_SHORTHAND",
    "CATEGORY_SUPPORT",
    "Category",
    "Channel",
    "ClaimState",
    "ModerationMode",
    "NeedStatus",
    "NoteKind",
    "Recurrence",
    "ReportStatus",
    "TakeoverState",
    "TransferKind",
]


class Category(StrEnum):
    """Categories of help; the same list, in the same order, as the matching engine's."""

    groceries = "groceries"
    prepared_food = "prepared_food"
    prescriptions = "prescriptions"
    transport = "transport"
    childcare = "childcare"
    check_in = "check_in"  # check-in calls and companionship
    translation = "translation"
    financial_help = "financial_help"
    shelter = "shelter"
    repairs = "repairs"
    emotional_support = "emotional_support"
    information = "information"
    other = "other"


if tuple(Category) != CATEGORIES:  # pragma: no cover - guards the two lists against drift
    raise ImportError("mutual_aid.vocab.Category differs from analytics.matching.CATEGORIES")


class Channel(StrEnum):
    """Where a record came from; every record keeps its channel."""

    web = "web"
    api = "api"
    email = "email"
    sms = "sms"
    cli = "cli"


class NeedStatus(StrEnum):
    open = "open"
    claimed = "claimed"
    in_progress = "in_progress"
    fulfilled = "fulfilled"
    cancelled = "cancelled"
    duplicate = "duplicate"
    needs_follow_up = "needs_follow_up"


class ModerationMode(StrEnum):
    """How a community dispatches (after rubyforgood/mutual-aid's exchange modes).

    * ``peer_to_peer``: volunteers claim open needs themselves; a claim is a match at once.
    * ``dispatcher_assisted``: volunteers ask to claim; a dispatcher confirms (or assigns from
      the suggestions); details are revealed only on confirmation.
    * ``fully_moderated``: new needs wait for a dispatcher's approval before anyone sees them on
      the board, and only dispatchers assign.
    """

    peer_to_peer = "peer_to_peer"
    dispatcher_assisted = "dispatcher_assisted"
    fully_moderated = "fully_moderated"


class ClaimState(StrEnum):
    requested = "requested"  # waiting for a dispatcher (dispatcher-assisted mode)
    active = "active"  # the match is accepted: the volunteer may see address and contact
    released = "released"  # given back by the volunteer or a dispatcher
    expired = "expired"  # released automatically: nothing happened before ``due_at``
    taken_over = "taken_over"  # handed to another volunteer after "ask to take over"
    completed = "completed"
    declined = "declined"  # a requested claim a dispatcher turned down


class TakeoverState(StrEnum):
    pending = "pending"
    approved = "approved"
    declined = "declined"
    auto_approved = "auto_approved"  # the holder did not answer before ``due_at``


class NoteKind(StrEnum):
    note = "note"
    follow_up = "follow_up"
    feedback = "feedback"


class Recurrence(StrEnum):
    none = "none"
    daily = "daily"
    weekly = "weekly"


class ReportStatus(StrEnum):
    unverified = "unverified"
    verified = "verified"
    rejected = "rejected"
    duplicate = "duplicate"


class TransferKind(StrEnum):
    exchange = "exchange"  # one member helped another (counts for reciprocity)
    grant = "grant"  # e.g. starter hours from the organisation
    adjustment = "adjustment"


#: The support type (registry vocabulary) an exchange of each category is.
CATEGORY_SUPPORT: dict[str, str] = {
    "groceries": "practical",
    "prepared_food": "practical",
    "prescriptions": "practical",
    "transport": "practical",
    "childcare": "practical",
    "check_in": "companionship",
    "translation": "information",
    "financial_help": "financial",
    "shelter": "practical",
    "repairs": "practical",
    "emotional_support": "emotional",
    "information": "information",
    "other": "practical",
}

#: Everyday words people text or type for a category (beyond the matching engine's aliases).
CATEGORY_SHORTHAND: dict[str, str] = {
    "meds": "prescriptions",
    "med": "prescriptions",
    "rx": "prescriptions",
    "pharmacy": "prescriptions",
    "food": "groceries",
    "shopping": "groceries",
    "meal": "prepared_food",
    "ride": "transport",
    "lift": "transport",
    "cash": "financial_help",
    "kids": "childcare",
    "call": "check_in",
    "chat": "check_in",
    "fix": "repairs",
    "talk": "emotional_support",
    "info": "information",
    "translate": "translation",
}
