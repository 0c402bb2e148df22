"""The exchange workflow: claims, stale-claim release, "ask to take over", statuses, follow-ups
and feedback, and completion (which books the time and records a tie).

Every time-driven step is a ``due_at`` in a row. :func:`sweep` releases claims nobody acted on
before their ``due_at`` and approves take-over requests the holder left unanswered (Crisis
Cleanup's ``request_take`` rule); services call it before they read or change claims, and a
worker may call it on a schedule. It is idempotent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from commonweal.analytics.matching import SENSITIVE_CATEGORIES
from commonweal.auth.models import User
from commonweal.checkins.models import Channel as OutboxChannel
from commonweal.checkins.queue import enqueue_message
from commonweal.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError
from commonweal.mutual_aid import ledger
from commonweal.mutual_aid.clock import Clock
from commonweal.mutual_aid.models import AidNeed, AidNote, Claim, TakeoverRequest
from commonweal.mutual_aid.schemas import NoteCreate
from commonweal.mutual_aid.service import (
    OPEN_STATUSES,
    community_settings,
    get_need_or_raise,
    get_offer_or_raise,
    get_volunteer,
    reveal_reason,
)
from commonweal.mutual_aid.vocab import (
    CATEGORY_SUPPORT,
    ClaimState,
    ModerationMode,
    NeedStatus,
    NoteKind,
    TakeoverState,
    TransferKind,
)
from commonweal.registry.models import Member, Tie
from commonweal.registry.service import current_consents
from commonweal.registry.vocab import (
    SUPPORT_BITS,
    ConsentPurpose,
    SupportType,
    TieKind,
    TieSource,
)

__all__ = [
    "SweepResult",
    "active_claim",
    "add_note",
    "ask_takeover",
    "assign",
    "claim_need",
    "complete",
    "decide_takeover",
    "decline_claim",
    "list_claims",
    "list_notes",
    "release",
    "set_status",
    "start",
    "sweep",
]

_HELD = (ClaimState.requested, ClaimState.active)


@dataclass(frozen=True, slots=True)
class SweepResult:
    expired_claims: tuple[int, ...]
    auto_approved_takeovers: tuple[int, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "expired_claims": list(self.expired_claims),
            "auto_approved_takeovers": list(self.auto_approved_takeovers),
        }


def _get_claim(session: Session, organisation_id: int, claim_id: int) -> Claim:
    c = session.get(Claim, claim_id)
    if c is None or c.organisation_id != organisation_id:
        raise NotFoundError(f"no claim {claim_id}")
    return c


def active_claim(session: Session, *, need: AidNeed) -> Claim | None:
    return session.scalar(
        select(Claim).where(Claim.need_id == need.id, Claim.state == ClaimState.active)
    )


def _end(claim: Claim, state: ClaimState, now: dt.datetime, reason: str | None) -> None:
    claim.state = state
    claim.ended_at = now
    claim.end_reason = reason
    claim.due_at = None


_TELL: dict[str, tuple[str, str]] = {
    "matched": ("You have been matched with a request", "A dispatcher matched you with"),
    "handed_to_you": ("A request is yours now", "You now hold"),
    "taken_over": ("Your request was handed over", "Another volunteer took over"),
    "declined": ("Your claim was declined", "A dispatcher declined your claim on"),
    "expired": ("Your claim has expired", "Your claim expired with no activity on"),
}


def _active_email(session: Session, user_id: int) -> str | None:
    return session.scalar(select(User.email).where(User.id == user_id, User.is_active.is_(True)))


def _tell_volunteer(session: Session, claim: Claim, event: str, now: dt.datetime) -> None:
    """Email the volunteer about their claim, through the outbox (sent by ``commonweal worker``
    if this transaction commits, once per claim and event). No private detail of the need is in
    the message: its number, category and area, and a link to the volunteer's own claims page."""
    if claim.volunteer_user_id is None:
        return
    email = _active_email(session, claim.volunteer_user_id)
    need = session.get(AidNeed, claim.need_id)
    if not email or need is None:
        return
    subject, lead = _TELL[event]
    where = f" in {need.area}" if need.area else ""
    body = (f"{lead} request #{need.id} ({need.category}{where}). Details, for you only: "
            f"{{public_url}}/o/{need.organisation_id}/c/{need.community_id}/aid/mine")
    enqueue_message(session, organisation_id=claim.organisation_id,
                    key=f"aid:claim:{claim.id}:{event}", channel=OutboxChannel.email,
                    recipient=email, subject=subject, body=body, now=now,
                    recipient_user_id=claim.volunteer_user_id)


def _tell_requester(session: Session, need: AidNeed, claim: Claim, now: dt.datetime) -> None:
    """Tell the person who asked that a volunteer has taken their request (once per claim).

    Reached through their account (email) or their member record (SMS, else email); never when
    they refused contact. A request known only by a contact on the need itself gets no message:
    no outbox row may keep a contact that erasing the need or the member would not also erase
    (outbox rows addressed to a member are erased with the member)."""
    subject = "A volunteer has taken your request"
    body = (f"Good news: a volunteer has taken your request #{need.id} ({need.category}). "
            "They or a coordinator will be in touch.")
    key = f"aid:need:{need.id}:claim:{claim.id}:matched"
    if need.requester_user_id is not None:
        email = _active_email(session, need.requester_user_id)
        if email:
            enqueue_message(session, organisation_id=need.organisation_id, key=key,
                            channel=OutboxChannel.email, recipient=email, subject=subject,
                            body=body, now=now, recipient_user_id=need.requester_user_id)
        return
    if need.requester_member_id is None:
        return
    member = session.get(Member, need.requester_member_id)
    if member is None or member.organisation_id != need.organisation_id:
        return
    consent = current_consents(member).get(ConsentPurpose.contact)
    if consent is not None and not consent.granted:
        return
    for channel, address in ((OutboxChannel.sms, member.phone), (OutboxChannel.email, member.email)):
        if address:
            enqueue_message(session, organisation_id=need.organisation_id, key=key,
                            channel=channel, recipient=address, subject=subject, body=body,
                            now=now, recipient_member_id=member.id)
            return


def _reopen(need: AidNeed, now: dt.datetime) -> None:
    if need.status in (NeedStatus.claimed, NeedStatus.in_progress):
        need.status = NeedStatus.open
        need.updated_at = now


def sweep(session: Session, *, organisation_id: int, clock: Clock) -> SweepResult:
    """Release stale claims and auto-approve unanswered take-over requests that are due.

    A take-over request due at ``t`` is approved at ``t`` if its claim is still active (the
    holder did not answer); a claim (requested or active) due at ``t`` and still held at ``t``
    expires and its need returns to the board. Safe to call any number of times.
    """
    now = clock.now()
    approved: list[int] = []
    takeovers = session.scalars(
        select(TakeoverRequest)
        .where(
            TakeoverRequest.organisation_id == organisation_id,
            TakeoverRequest.state == TakeoverState.pending,
            TakeoverRequest.due_at <= now,
        )
        .order_by(TakeoverRequest.due_at, TakeoverRequest.id)
        .with_for_update()
    ).all()
    for tk in takeovers:
        claim = session.get(Claim, tk.claim_id)
        if claim is None or claim.state != ClaimState.active:
            tk.state, tk.decided_at = TakeoverState.declined, now
            continue
        _hand_over(session, claim, tk, now, TakeoverState.auto_approved)
        approved.append(tk.id)
    expired: list[int] = []
    stale = session.scalars(
        select(Claim)
        .where(
            Claim.organisation_id == organisation_id,
            Claim.state.in_(_HELD),
            Claim.due_at.is_not(None),
            Claim.due_at <= now,
        )
        .order_by(Claim.id)
        .with_for_update()
    ).all()
    for claim in stale:
        was_active = claim.state == ClaimState.active
        _end(claim, ClaimState.expired, now, "no activity before the claim's due time")
        _tell_volunteer(session, claim, "expired", now)
        if was_active:
            need = session.get(AidNeed, claim.need_id)
            if need is not None:
                _reopen(need, now)
        for tk in session.scalars(
            select(TakeoverRequest).where(
                TakeoverRequest.claim_id == claim.id, TakeoverRequest.state == TakeoverState.pending
            )
        ):
            tk.state, tk.decided_at = TakeoverState.declined, now
        expired.append(claim.id)
    session.flush()
    return SweepResult(tuple(expired), tuple(approved))


def organisations_with_due_sweeps(session: Session, *, now: dt.datetime) -> list[int]:
    """Organisations with a held claim or a pending take-over request due by ``now`` (what
    ``commonweal worker`` sweeps on every pass)."""
    claims = select(Claim.organisation_id).where(
        Claim.state.in_(_HELD), Claim.due_at.is_not(None), Claim.due_at <= now)
    takeovers = select(TakeoverRequest.organisation_id).where(
        TakeoverRequest.state == TakeoverState.pending, TakeoverRequest.due_at <= now)
    return sorted(set(session.scalars(claims.union(takeovers))))


def _check_vetting(session: Session, need: AidNeed, user_id: int) -> None:
    if str(need.category) in SENSITIVE_CATEGORIES:
        v = get_volunteer(session, organisation_id=need.organisation_id, user_id=user_id)
        if v is None or not v.vetted:
            raise PermissionDeniedError(
                f"{need.category} needs a vetted volunteer; ask a dispatcher about vetting"
            )


def claim_need(
    session: Session, *, organisation_id: int, need_id: int, user_id: int, clock: Clock
) -> Claim:
    """A volunteer claims an open need.

    Peer-to-peer: the claim is active at once (a match; the details are revealed). Dispatcher
    assisted: the claim is *requested* until a dispatcher confirms it. Fully moderated: only
    dispatchers assign. A need someone holds cannot be claimed: ask to take over instead.
    """
    sweep(session, organisation_id=organisation_id, clock=clock)
    need = get_need_or_raise(session, organisation_id=organisation_id, need_id=need_id, lock=True)
    settings = community_settings(
        session, organisation_id=organisation_id, community_id=need.community_id
    )
    if settings.moderation_mode == ModerationMode.fully_moderated:
        raise PermissionDeniedError("in this community only dispatchers assign needs")
    if not need.approved:
        raise NotFoundError(f"no need {need_id}")
    if need.requester_user_id == user_id:
        raise ConflictError("you cannot claim your own request")
    if need.status not in OPEN_STATUSES or active_claim(session, need=need) is not None:
        raise ConflictError(f"need {need_id} is {need.status}: ask to take over instead")
    _check_vetting(session, need, user_id)
    mine = session.scalar(
        select(Claim).where(
            Claim.need_id == need.id, Claim.volunteer_user_id == user_id, Claim.state.in_(_HELD)
        )
    )
    if mine is not None:
        raise ConflictError("you already asked to claim this need")
    now = clock.now()
    due = now + dt.timedelta(seconds=settings.claim_ttl_s)
    if settings.moderation_mode == ModerationMode.peer_to_peer:
        claim = Claim(
            organisation_id=organisation_id,
            need_id=need.id,
            volunteer_user_id=user_id,
            state=ClaimState.active,
            created_at=now,
            accepted_at=now,
            due_at=due,
        )
        need.status, need.updated_at = NeedStatus.claimed, now
        session.add(claim)
        session.flush()
        _tell_requester(session, need, claim, now)
    else:
        claim = Claim(
            organisation_id=organisation_id,
            need_id=need.id,
            volunteer_user_id=user_id,
            state=ClaimState.requested,
            created_at=now,
            due_at=due,
        )
    session.add(claim)
    session.flush()
    return claim


def assign(
    session: Session,
    *,
    organisation_id: int,
    need_id: int,
    volunteer_user_id: int | None,
    offer_id: int | None,
    by_user_id: int,
    clock: Clock,
) -> Claim:
    """A dispatcher matches a need to a volunteer (or offer): the claim is active at once.

    Other requested claims on the need are declined. Fails if someone else holds the need.
    """
    sweep(session, organisation_id=organisation_id, clock=clock)
    need = get_need_or_raise(session, organisation_id=organisation_id, need_id=need_id, lock=True)
    if offer_id is not None:
        offer = get_offer_or_raise(session, organisation_id=organisation_id, offer_id=offer_id)
        if volunteer_user_id is None:
            volunteer_user_id = offer.user_id
    if volunteer_user_id is None and offer_id is None:
        raise InputError("name a volunteer or an offer")
    if need.status not in OPEN_STATUSES:
        raise ConflictError(f"need {need_id} is {need.status}")
    held = active_claim(session, need=need)
    if held is not None:
        raise ConflictError(f"need {need_id} is already matched (claim {held.id})")
    settings = community_settings(
        session, organisation_id=organisation_id, community_id=need.community_id
    )
    now = clock.now()
    chosen: Claim | None = None
    for c in session.scalars(
        select(Claim).where(Claim.need_id == need.id, Claim.state == ClaimState.requested)
    ):
        if c.volunteer_user_id == volunteer_user_id and volunteer_user_id is not None:
            chosen = c
        else:
            _end(c, ClaimState.declined, now, "another volunteer was matched")
            _tell_volunteer(session, c, "declined", now)
    if chosen is None:
        chosen = Claim(
            organisation_id=organisation_id,
            need_id=need.id,
            volunteer_user_id=volunteer_user_id,
            created_at=now,
            state=ClaimState.active,
        )
        session.add(chosen)
    chosen.state, chosen.offer_id = ClaimState.active, offer_id
    chosen.accepted_at, chosen.accepted_by_user_id = now, by_user_id
    chosen.due_at = now + dt.timedelta(seconds=settings.claim_ttl_s)
    need.status, need.approved, need.updated_at = NeedStatus.claimed, True, now
    session.flush()
    _tell_volunteer(session, chosen, "matched", now)
    _tell_requester(session, need, chosen, now)
    return chosen


def decline_claim(session: Session, *, organisation_id: int, claim_id: int, clock: Clock) -> Claim:
    claim = _get_claim(session, organisation_id, claim_id)
    if claim.state != ClaimState.requested:
        raise ConflictError(f"claim {claim_id} is {claim.state}, not requested")
    _end(claim, ClaimState.declined, clock.now(), "declined by a dispatcher")
    session.flush()
    _tell_volunteer(session, claim, "declined", clock.now())
    return claim


def _holder_or_dispatcher(claim: Claim, user_id: int, dispatcher: bool) -> None:
    if not dispatcher and claim.volunteer_user_id != user_id:
        raise PermissionDeniedError("only the volunteer holding this claim or a dispatcher may")


def _held_claim(session: Session, organisation_id: int, need_id: int, clock: Clock) -> Claim:
    sweep(session, organisation_id=organisation_id, clock=clock)
    need = get_need_or_raise(session, organisation_id=organisation_id, need_id=need_id, lock=True)
    claim = active_claim(session, need=need)
    if claim is None:
        raise ConflictError(f"need {need_id} is not matched to anyone")
    return claim


def start(
    session: Session,
    *,
    organisation_id: int,
    need_id: int,
    user_id: int,
    dispatcher: bool,
    clock: Clock,
) -> Claim:
    """The holder starts work: the need is in progress and the claim's clock restarts."""
    claim = _held_claim(session, organisation_id, need_id, clock)
    _holder_or_dispatcher(claim, user_id, dispatcher)
    need = get_need_or_raise(session, organisation_id=organisation_id, need_id=need_id)
    settings = community_settings(
        session, organisation_id=organisation_id, community_id=need.community_id
    )
    now = clock.now()
    need.status, need.updated_at = NeedStatus.in_progress, now
    claim.due_at = now + dt.timedelta(seconds=settings.claim_ttl_s)
    session.flush()
    return claim


def release(
    session: Session,
    *,
    organisation_id: int,
    need_id: int,
    user_id: int,
    dispatcher: bool,
    clock: Clock,
    reason: str | None = None,
) -> Claim:
    """Give a claim back; the need returns to the board."""
    claim = _held_claim(session, organisation_id, need_id, clock)
    _holder_or_dispatcher(claim, user_id, dispatcher)
    now = clock.now()
    _end(claim, ClaimState.released, now, reason or "released")
    need = get_need_or_raise(session, organisation_id=organisation_id, need_id=need_id)
    _reopen(need, now)
    session.flush()
    return claim


def complete(
    session: Session,
    *,
    organisation_id: int,
    need_id: int,
    user_id: int,
    dispatcher: bool,
    clock: Clock,
    duration_s: int = 0,
) -> Claim:
    """The exchange happened: the need is fulfilled, the time is booked, a tie is recorded.

    With ``duration_s > 0`` and both people known as members, ``duration_s`` seconds move from
    the requester's time-bank account to the volunteer's (an ``exchange`` transfer), and a tie
    ``requester -> volunteer`` with source ``exchange`` records that the requester turned to the
    volunteer for support (so network analysis sees mutual aid).
    """
    if isinstance(duration_s, bool) or not isinstance(duration_s, int) or duration_s < 0:
        raise InputError("duration_s must be a whole number of seconds >= 0")
    claim = _held_claim(session, organisation_id, need_id, clock)
    _holder_or_dispatcher(claim, user_id, dispatcher)
    now = clock.now()
    need = get_need_or_raise(session, organisation_id=organisation_id, need_id=need_id)
    _end(claim, ClaimState.completed, now, "completed")
    need.status, need.fulfilled_at, need.updated_at = NeedStatus.fulfilled, now, now
    giver = _volunteer_member(session, organisation_id, claim)
    taker = need.requester_member_id
    if giver is not None and taker is not None and giver != taker:
        if duration_s > 0:
            pay = ledger.account_for(session, organisation_id=organisation_id, member_id=taker)
            earn = ledger.account_for(session, organisation_id=organisation_id, member_id=giver)
            assert pay is not None and earn is not None  # created on first use
            ledger.transfer(
                session,
                organisation_id=organisation_id,
                from_account_id=pay.id,
                to_account_id=earn.id,
                amount_s=duration_s,
                kind=TransferKind.exchange,
                memo=f"need {need.id}: {need.category}",
                need_id=need.id,
                by_user_id=user_id,
                now=now,
            )
        _record_tie(session, need, taker, giver)
    session.flush()
    return claim


def _volunteer_member(session: Session, organisation_id: int, claim: Claim) -> int | None:
    if claim.offer_id is not None:
        offer = get_offer_or_raise(
            session, organisation_id=organisation_id, offer_id=claim.offer_id
        )
        if offer.member_id is not None:
            return offer.member_id
    if claim.volunteer_user_id is None:
        return None
    v = get_volunteer(session, organisation_id=organisation_id, user_id=claim.volunteer_user_id)
    return v.member_id if v is not None else None


def _record_tie(session: Session, need: AidNeed, taker: int, giver: int) -> None:
    members = {
        m.id: m
        for m in session.scalars(
            select(Member).where(
                Member.id.in_([taker, giver]), Member.organisation_id == need.organisation_id
            )
        )
    }
    if len(members) != 2:
        return
    bit = SUPPORT_BITS[SupportType(CATEGORY_SUPPORT.get(str(need.category), "practical"))]
    tie = session.scalar(
        select(Tie).where(
            Tie.from_member_id == taker, Tie.to_member_id == giver, Tie.kind == TieKind.other
        )
    )
    if tie is None:
        session.add(
            Tie(
                organisation_id=need.organisation_id,
                community_id=members[taker].community_id,
                from_member_id=taker,
                to_member_id=giver,
                kind=TieKind.other,
                support_mask=bit,
                source=TieSource.exchange,
                reciprocal=False,
            )
        )
    else:
        tie.support_mask |= bit


def ask_takeover(
    session: Session,
    *,
    organisation_id: int,
    need_id: int,
    user_id: int,
    clock: Clock,
    message: str | None = None,
) -> TakeoverRequest:
    """Ask to take over a need someone else holds; approved by the holder or a dispatcher, or
    automatically when the holder does not answer within the community's ``takeover_ttl_s``."""
    claim = _held_claim(session, organisation_id, need_id, clock)
    if claim.volunteer_user_id == user_id:
        raise ConflictError("you already hold this need")
    need = get_need_or_raise(session, organisation_id=organisation_id, need_id=need_id)
    _check_vetting(session, need, user_id)
    if (
        session.scalar(
            select(TakeoverRequest).where(
                TakeoverRequest.claim_id == claim.id,
                TakeoverRequest.requester_user_id == user_id,
                TakeoverRequest.state == TakeoverState.pending,
            )
        )
        is not None
    ):
        raise ConflictError("you already asked to take this over")
    settings = community_settings(
        session, organisation_id=organisation_id, community_id=need.community_id
    )
    now = clock.now()
    tk = TakeoverRequest(
        organisation_id=organisation_id,
        claim_id=claim.id,
        requester_user_id=user_id,
        state=TakeoverState.pending,
        message=message,
        created_at=now,
        due_at=now + dt.timedelta(seconds=settings.takeover_ttl_s),
    )
    session.add(tk)
    session.flush()
    return tk


def _hand_over(
    session: Session, claim: Claim, tk: TakeoverRequest, now: dt.datetime, state: TakeoverState
) -> Claim:
    need = session.get(AidNeed, claim.need_id)
    assert need is not None  # a claim's need is deleted with it (cascade)
    settings = community_settings(
        session, organisation_id=claim.organisation_id, community_id=need.community_id
    )
    _end(claim, ClaimState.taken_over, now, f"taken over (request {tk.id})")
    tk.state, tk.decided_at = state, now
    new = Claim(
        organisation_id=claim.organisation_id,
        need_id=claim.need_id,
        volunteer_user_id=tk.requester_user_id,
        state=ClaimState.active,
        created_at=now,
        accepted_at=now,
        due_at=now + dt.timedelta(seconds=settings.claim_ttl_s),
    )
    session.add(new)
    for other in session.scalars(
        select(TakeoverRequest).where(
            TakeoverRequest.claim_id == claim.id,
            TakeoverRequest.id != tk.id,
            TakeoverRequest.state == TakeoverState.pending,
        )
    ):
        other.state, other.decided_at = TakeoverState.declined, now
    session.flush()
    _tell_volunteer(session, new, "handed_to_you", now)
    _tell_volunteer(session, claim, "taken_over", now)
    return new


def decide_takeover(
    session: Session,
    *,
    organisation_id: int,
    takeover_id: int,
    user_id: int,
    dispatcher: bool,
    approve: bool,
    clock: Clock,
) -> TakeoverRequest:
    sweep(session, organisation_id=organisation_id, clock=clock)
    tk = session.get(TakeoverRequest, takeover_id)
    if tk is None or tk.organisation_id != organisation_id:
        raise NotFoundError(f"no take-over request {takeover_id}")
    claim = _get_claim(session, organisation_id, tk.claim_id)
    _holder_or_dispatcher(claim, user_id, dispatcher)
    if tk.state != TakeoverState.pending:
        raise ConflictError(f"this request is already {tk.state}")
    now = clock.now()
    if approve:
        _hand_over(session, claim, tk, now, TakeoverState.approved)
    else:
        tk.state, tk.decided_at = TakeoverState.declined, now
    session.flush()
    return tk


def set_status(
    session: Session,
    *,
    organisation_id: int,
    need_id: int,
    status: NeedStatus,
    user_id: int,
    dispatcher: bool,
    clock: Clock,
    duplicate_of_id: int | None = None,
    reason: str | None = None,
) -> AidNeed:
    """Change a need's status outside the claim flow.

    Requesters may cancel their own need; the holder may flag ``needs_follow_up``; dispatchers
    may also mark ``duplicate`` (of another need), reopen, approve or cancel anything.
    Claims end when a need is cancelled, a duplicate or reopened.
    """
    sweep(session, organisation_id=organisation_id, clock=clock)
    need = get_need_or_raise(session, organisation_id=organisation_id, need_id=need_id)
    who = reveal_reason(session, need=need, user_id=user_id, dispatcher=dispatcher)
    allowed_for = {
        NeedStatus.cancelled: {"dispatcher", "requester"},
        NeedStatus.needs_follow_up: {"dispatcher", "requester", "matched"},
        NeedStatus.duplicate: {"dispatcher"},
        NeedStatus.open: {"dispatcher"},
    }
    if status not in allowed_for:
        raise InputError(f"{status} is reached through claims (claim, start, complete)")
    if who not in allowed_for[status]:
        raise PermissionDeniedError(f"you may not mark this need {status}")
    now = clock.now()
    if status == NeedStatus.duplicate:
        if duplicate_of_id is None or duplicate_of_id == need.id:
            raise InputError("name the need this one duplicates (duplicate_of_id)")
        get_need_or_raise(session, organisation_id=organisation_id, need_id=duplicate_of_id)
        need.duplicate_of_id = duplicate_of_id
    if status != NeedStatus.needs_follow_up:
        for c in session.scalars(
            select(Claim).where(Claim.need_id == need.id, Claim.state.in_(_HELD))
        ):
            _end(c, ClaimState.released, now, reason or f"need marked {status}")
    need.status, need.updated_at = status, now
    if status == NeedStatus.open:
        need.approved = True
    session.flush()
    return need


def add_note(
    session: Session,
    *,
    organisation_id: int,
    need_id: int,
    user_id: int,
    dispatcher: bool,
    data: NoteCreate,
    clock: Clock,
) -> AidNote:
    """A note, follow-up or feedback from the requester, the matched volunteer or a dispatcher.

    A follow-up puts the need back on the board as ``needs_follow_up``; a note by the holder
    restarts the claim's clock (it is activity).
    """
    sweep(session, organisation_id=organisation_id, clock=clock)
    need = get_need_or_raise(session, organisation_id=organisation_id, need_id=need_id)
    who = reveal_reason(session, need=need, user_id=user_id, dispatcher=dispatcher)
    if who is None:
        was = session.scalar(
            select(Claim.id).where(
                Claim.need_id == need.id,
                Claim.volunteer_user_id == user_id,
                Claim.state == ClaimState.completed,
            )
        )
        if was is None or data.kind != NoteKind.feedback:
            raise PermissionDeniedError(
                "only the requester, the matched volunteer or a dispatcher may write here"
            )
        who = "matched"
    side = {"matched": "volunteer"}.get(who, who)
    now = clock.now()
    note = AidNote(
        organisation_id=organisation_id,
        need_id=need.id,
        author_user_id=user_id,
        side=side,
        kind=data.kind,
        rating=data.rating,
        text=data.text,
        follow_up_due_at=data.follow_up_due_at,
        created_at=now,
    )
    session.add(note)
    if data.kind == NoteKind.follow_up and need.status not in (
        NeedStatus.cancelled,
        NeedStatus.duplicate,
    ):
        need.status, need.updated_at = NeedStatus.needs_follow_up, now
    held = active_claim(session, need=need)
    if held is not None and held.volunteer_user_id == user_id:
        settings = community_settings(
            session, organisation_id=organisation_id, community_id=need.community_id
        )
        held.due_at = now + dt.timedelta(seconds=settings.claim_ttl_s)
    session.flush()
    return note


def list_notes(session: Session, *, organisation_id: int, need_id: int) -> Sequence[AidNote]:
    return session.scalars(
        select(AidNote)
        .where(AidNote.organisation_id == organisation_id, AidNote.need_id == need_id)
        .order_by(AidNote.created_at, AidNote.id)
    ).all()


def list_claims(
    session: Session,
    *,
    organisation_id: int,
    user_id: int | None = None,
    need_id: int | None = None,
    states: Sequence[ClaimState] | None = None,
) -> Sequence[Claim]:
    q = select(Claim).where(Claim.organisation_id == organisation_id)
    if user_id is not None:
        q = q.where(Claim.volunteer_user_id == user_id)
    if need_id is not None:
        q = q.where(Claim.need_id == need_id)
    if states:
        q = q.where(Claim.state.in_(list(states)))
    return session.scalars(q.order_by(Claim.id.desc())).all()
