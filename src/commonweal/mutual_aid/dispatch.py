"""Dispatching with the matching engine: run it on a community's open needs and active offers,
store its suggestions with their reasons, and let a dispatcher accept or override them.

The engine (:mod:`commonweal.analytics.matching`) is pure; this module is the bridge: it turns rows
into :class:`~commonweal.analytics.matching.Need`/``Offer``/``VolunteerState`` records (exact
coordinates stay on the server: a suggestion stores the distance and reasons, never a location),
and turns the result back into rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commonweal.analytics import matching as m
from commonweal.errors import ConflictError, InputError, NotFoundError
from commonweal.mutual_aid import workflow
from commonweal.mutual_aid.clock import Clock
from commonweal.mutual_aid.models import (
    AidNeed,
    AidOffer,
    AidVolunteer,
    Claim,
    MatchRun,
    MatchSuggestion,
)
from commonweal.mutual_aid.service import (
    OPEN_STATUSES,
    get_need_or_raise,
    get_offer_or_raise,
)
from commonweal.mutual_aid.vocab import ClaimState, Recurrence

__all__ = [
    "accept_suggestion",
    "build_problem",
    "latest_run",
    "list_suggestions",
    "override",
    "reject_suggestion",
    "run_matching",
]

_REPEAT = {Recurrence.daily: (86400.0, 7), Recurrence.weekly: (7 * 86400.0, 4)}
_DEFAULT_HORIZON_S = 7 * 86400.0


def _vol_key(offer: AidOffer) -> str:
    return f"u{offer.user_id}" if offer.user_id is not None else f"offer{offer.id}"


def build_problem(
    session: Session, *, organisation_id: int, community_id: int, now: dt.datetime
) -> tuple[list[m.Need], list[m.Offer], list[m.VolunteerState], int]:
    """Matching records for the community's open, approved, unheld needs and active offers.

    Returns the needs, offers and volunteer states, and how many open needs were left out
    because they have no location. Recurring needs and offers are expanded over a week (daily)
    or four weeks (weekly); a need with no window is wanted within the next seven days.
    """
    held = select(Claim.need_id).where(
        Claim.organisation_id == organisation_id, Claim.state == ClaimState.active
    )
    rows = session.scalars(
        select(AidNeed)
        .where(
            AidNeed.organisation_id == organisation_id,
            AidNeed.community_id == community_id,
            AidNeed.status.in_(OPEN_STATUSES),
            AidNeed.approved.is_(True),
            AidNeed.id.not_in(held),
        )
        .order_by(AidNeed.id)
    ).all()
    t0 = now.timestamp()
    needs, skipped = [], 0
    for n in rows:
        if n.lat is None or n.lon is None:
            skipped += 1
            continue
        start = n.window_start.timestamp() if n.window_start else t0
        end = n.window_end.timestamp() if n.window_end else max(start, t0) + _DEFAULT_HORIZON_S
        if n.recurrence in _REPEAT and n.window_start and n.window_end:
            every, count = _REPEAT[n.recurrence]
            end = start + every * (count - 1) + (end - start)
        needs.append(
            m.Need(
                id=str(n.id),
                category=str(n.category),
                lat=n.lat,
                lon=n.lon,
                window_start=start,
                window_end=end,
                urgency=n.urgency,
                quantity=1,
                languages=tuple(n.languages or ()),
                accessibility=tuple(n.accessibility or ()),
                requester_id=f"u{n.requester_user_id}" if n.requester_user_id else None,
                description=n.description,
            )
        )
    offers_rows = session.scalars(
        select(AidOffer)
        .where(
            AidOffer.organisation_id == organisation_id,
            AidOffer.community_id == community_id,
            AidOffer.active.is_(True),
            AidOffer.lat.is_not(None),
            AidOffer.capacity > 0,
        )
        .order_by(AidOffer.id)
    ).all()
    vets = {
        v.user_id: v
        for v in session.scalars(
            select(AidVolunteer).where(AidVolunteer.organisation_id == organisation_id)
        )
    }
    month = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    taken = dict(
        session.execute(
            select(Claim.volunteer_user_id, func.count())
            .where(
                Claim.organisation_id == organisation_id,
                Claim.accepted_at >= month,
                Claim.state.in_([ClaimState.active, ClaimState.completed]),
            )
            .group_by(Claim.volunteer_user_id)
        ).all()
    )
    offers, states, seen = [], [], set()
    for o in offers_rows:
        assert o.lat is not None and o.lon is not None  # filtered in the query
        windows: list[tuple[float, float]] = []
        for s, e in o.windows or []:
            a, b = (
                dt.datetime.fromisoformat(s).timestamp(),
                dt.datetime.fromisoformat(e).timestamp(),
            )
            if o.recurrence in _REPEAT:
                every, count = _REPEAT[o.recurrence]
                windows.extend(m.repeat_window(a, b, every, count))
            else:
                windows.append((a, b))
        vet = vets.get(o.user_id) if o.user_id is not None else None
        offers.append(
            m.Offer(
                id=str(o.id),
                volunteer_id=_vol_key(o),
                categories=tuple(o.categories),
                lat=o.lat,
                lon=o.lon,
                max_distance_km=o.max_distance_km,
                capacity=o.capacity,
                windows=tuple(windows),
                languages=tuple(o.languages or ()),
                vetted=bool(vet and vet.vetted),
                skills=tuple(o.skills or ()),
                description=o.description,
            )
        )
        key = _vol_key(o)
        if key not in seen:
            seen.add(key)
            cap = vet.monthly_cap if vet is not None else 8
            states.append(
                m.VolunteerState(
                    key, cap, int(taken.get(o.user_id, 0)) if o.user_id is not None else 0
                )
            )
    return needs, offers, states, skipped


def run_matching(
    session: Session,
    *,
    organisation_id: int,
    community_id: int,
    clock: Clock,
    by_user_id: int | None,
    objective: Literal["score", "urgent_first"] = "urgent_first",
) -> MatchRun:
    """Run the optimal assignment and store its suggestions (with reasons) as a new run.

    The greedy dispatcher's totals on the same input are stored beside the optimum in
    ``summary["greedy"]``, so the page can show what optimising bought.
    """
    workflow.sweep(session, organisation_id=organisation_id, clock=clock)
    needs, offers, states, skipped = build_problem(
        session, organisation_id=organisation_id, community_id=community_id, now=clock.now()
    )
    config = m.MatchConfig(objective=objective)
    summary: dict[str, object] = {"needs_without_location": skipped}
    suggestions: Sequence[m.Suggestion] = ()
    method = "none"
    if needs and offers:
        problem = m.prepare(needs, offers, states, default_monthly_cap=config.default_monthly_cap)
        cands = m.build_candidates(problem, config)
        best = m.optimal_assignment(problem, config, candidates=cands)
        greedy = m.greedy_assignment(problem, config, candidates=cands)
        summary |= {"optimal": best.summary(), "greedy": greedy.summary()}
        suggestions, method = best.suggestions, best.method
    else:
        summary |= {"needs": len(needs), "offers": len(offers)}
    run = MatchRun(
        organisation_id=organisation_id,
        community_id=community_id,
        created_at=clock.now(),
        created_by_user_id=by_user_id,
        method=method,
        summary=summary,
    )
    session.add(run)
    session.flush()
    for s in suggestions:
        session.add(
            MatchSuggestion(
                organisation_id=organisation_id,
                run_id=run.id,
                need_id=int(s.need_id),
                offer_id=int(s.offer_id),
                score=s.score,
                distance_km=round(s.distance_km, 2),
                components=dict(s.components),
                reasons=list(s.reasons),
                state="suggested",
            )
        )
    session.flush()
    return run


def latest_run(session: Session, *, organisation_id: int, community_id: int) -> MatchRun | None:
    return session.scalars(
        select(MatchRun)
        .where(MatchRun.organisation_id == organisation_id, MatchRun.community_id == community_id)
        .order_by(MatchRun.id.desc())
    ).first()


def list_suggestions(
    session: Session, *, organisation_id: int, run_id: int
) -> Sequence[MatchSuggestion]:
    run = session.get(MatchRun, run_id)
    if run is None or run.organisation_id != organisation_id:
        raise NotFoundError(f"no matching run {run_id}")
    return session.scalars(
        select(MatchSuggestion)
        .where(MatchSuggestion.run_id == run_id)
        .order_by(MatchSuggestion.score.desc(), MatchSuggestion.id)
    ).all()


def _suggestion(session: Session, organisation_id: int, suggestion_id: int) -> MatchSuggestion:
    s = session.get(MatchSuggestion, suggestion_id)
    if s is None or s.organisation_id != organisation_id:
        raise NotFoundError(f"no suggestion {suggestion_id}")
    if s.state != "suggested":
        raise ConflictError(f"suggestion {suggestion_id} is already {s.state}")
    return s


def accept_suggestion(
    session: Session, *, organisation_id: int, suggestion_id: int, by_user_id: int, clock: Clock
) -> Claim:
    """Accept a suggested pair: the volunteer's claim is active and the details are revealed."""
    s = _suggestion(session, organisation_id, suggestion_id)
    offer = get_offer_or_raise(session, organisation_id=organisation_id, offer_id=s.offer_id)
    claim = workflow.assign(
        session,
        organisation_id=organisation_id,
        need_id=s.need_id,
        volunteer_user_id=offer.user_id,
        offer_id=offer.id,
        by_user_id=by_user_id,
        clock=clock,
    )
    s.state, s.decided_by_user_id = "accepted", by_user_id
    session.flush()
    return claim


def reject_suggestion(
    session: Session, *, organisation_id: int, suggestion_id: int, by_user_id: int
) -> MatchSuggestion:
    s = _suggestion(session, organisation_id, suggestion_id)
    s.state, s.decided_by_user_id = "rejected", by_user_id
    session.flush()
    return s


def override(
    session: Session,
    *,
    organisation_id: int,
    run_id: int,
    need_id: int,
    offer_id: int,
    by_user_id: int,
    clock: Clock,
) -> tuple[MatchSuggestion, Claim]:
    """A dispatcher matches a need to an offer of their choice instead of the suggestion.

    The pair is scored by the engine (as a fixed pair, so it may break a soft preference or a
    hard rule: the dispatcher knows best) and stored with its reasons, marked ``overridden``;
    the need's other suggestions in the run are marked ``replaced``.
    """
    run = session.get(MatchRun, run_id)
    if run is None or run.organisation_id != organisation_id:
        raise NotFoundError(f"no matching run {run_id}")
    need = get_need_or_raise(session, organisation_id=organisation_id, need_id=need_id)
    offer = get_offer_or_raise(session, organisation_id=organisation_id, offer_id=offer_id)
    if need.community_id != run.community_id or offer.community_id != run.community_id:
        raise InputError("the need and the offer must belong to the run's community")
    needs, offers, states, _ = build_problem(
        session, organisation_id=organisation_id, community_id=run.community_id, now=clock.now()
    )
    nd = next((n for n in needs if n.id == str(need_id)), None)
    of = next((o for o in offers if o.id == str(offer_id)), None)
    if nd is None or of is None:
        raise ConflictError("the need is not open (or has no location) or the offer is inactive")
    vs = [s for s in states if s.volunteer_id == of.volunteer_id]
    problem = m.prepare([nd], [of], vs)
    res = m.optimal_assignment(problem, candidates=None, fixed=[(nd.id, of.id)], solver="highs")
    sug = res.suggestions[0]
    for old in session.scalars(
        select(MatchSuggestion).where(
            MatchSuggestion.run_id == run.id,
            MatchSuggestion.need_id == need_id,
            MatchSuggestion.state == "suggested",
        )
    ):
        old.state, old.decided_by_user_id = "replaced", by_user_id
    row = MatchSuggestion(
        organisation_id=organisation_id,
        run_id=run.id,
        need_id=need_id,
        offer_id=offer_id,
        score=sug.score,
        distance_km=round(sug.distance_km, 2),
        components=dict(sug.components),
        reasons=list(sug.reasons),
        state="overridden",
        decided_by_user_id=by_user_id,
    )
    session.add(row)
    claim = workflow.assign(
        session,
        organisation_id=organisation_id,
        need_id=need_id,
        volunteer_user_id=offer.user_id,
        offer_id=offer.id,
        by_user_id=by_user_id,
        clock=clock,
    )
    session.flush()
    return row, claim
