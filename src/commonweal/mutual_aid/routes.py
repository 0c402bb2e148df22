"""Mutual-aid API: needs, offers, claims, matching. Thin routes over the services; every route goes
through ``require`` and every reveal of a need's private details is audited."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query

from commonweal.auth.policy import Permission
from commonweal.errors import NotFoundError
from commonweal.mutual_aid import dispatch, service, workflow
from commonweal.mutual_aid.clock import Clock
from commonweal.mutual_aid.models import AidNeed
from commonweal.mutual_aid.schemas import (
    ClaimRead,
    CommunitySettingsRead,
    CommunitySettingsUpdate,
    NeedCreate,
    NeedRead,
    NeedStatusUpdate,
    NoteCreate,
    NoteRead,
    OfferCreate,
    OfferRead,
    OverrideCreate,
    SuggestionRead,
    TakeoverRead,
    VolunteerRead,
    VolunteerUpsert,
)
from commonweal.mutual_aid.views import need_read, offer_read, revealed_fields
from commonweal.mutual_aid.vocab import Channel, NeedStatus
from commonweal.registry.schemas import Page
from commonweal.web.deps import OrgContext, clock_of, require

__all__ = ["needs_out", "router"]

router = APIRouter(prefix="/api/v1/orgs/{org_id}", tags=["mutual aid"])

Reader = Annotated[OrgContext, Depends(require(Permission.aid_read))]
Requester = Annotated[OrgContext, Depends(require(Permission.aid_request))]
Volunteer = Annotated[OrgContext, Depends(require(Permission.aid_volunteer))]
Dispatcher = Annotated[OrgContext, Depends(require(Permission.aid_dispatch))]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0)]


ClockDep = Annotated[Clock, Depends(clock_of)]


def _channel(ctx: OrgContext) -> Channel:
    return Channel.api if ctx.caller.browser_session is None else Channel.web


def _dispatcher(ctx: OrgContext) -> bool:
    return ctx.can(Permission.aid_dispatch)


def needs_out(ctx: OrgContext, needs: Sequence[AidNeed]) -> list[NeedRead]:
    """Needs as this caller may see them; every reveal is audited (field names, never values)."""
    out = []
    for n in needs:
        why = service.reveal_reason(
            ctx.session, need=n, user_id=ctx.user_id, dispatcher=_dispatcher(ctx)
        )
        if why is not None:
            ctx.audit("read_sensitive", "aid_need", [n.id], revealed_fields(n), detail=why)
        out.append(need_read(n, reveal=why is not None))
    return out


def _visible_need(ctx: OrgContext, need_id: int) -> AidNeed:
    """A need the caller may know exists: on the board (aid:read), or their own request."""
    need = service.get_need_or_raise(
        ctx.session, organisation_id=ctx.organisation_id, need_id=need_id
    )
    if _dispatcher(ctx) or need.requester_user_id == ctx.user_id:
        return need
    if not ctx.can(Permission.aid_read) or not need.approved:
        raise NotFoundError(f"no need {need_id}")
    return need


# settings and volunteers --------------------------------------------------------------------------
@router.get("/communities/{community_id}/aid/settings", response_model=CommunitySettingsRead)
def get_settings(community_id: int, ctx: Reader) -> CommunitySettingsRead:
    return CommunitySettingsRead.model_validate(
        service.community_settings(
            ctx.session, organisation_id=ctx.organisation_id, community_id=community_id
        )
    )


@router.patch("/communities/{community_id}/aid/settings", response_model=CommunitySettingsRead)
def update_settings(
    community_id: int, body: CommunitySettingsUpdate, ctx: Dispatcher
) -> CommunitySettingsRead:
    row = service.update_community_settings(
        ctx.session, organisation_id=ctx.organisation_id, community_id=community_id, data=body
    )
    ctx.audit("update", "aid_settings", [community_id], sorted(body.model_fields_set))
    return CommunitySettingsRead.model_validate(row)


@router.get("/aid/volunteers", response_model=list[VolunteerRead])
def list_volunteers(ctx: Dispatcher) -> list[VolunteerRead]:
    return [
        VolunteerRead.model_validate(v)
        for v in service.list_volunteers(ctx.session, organisation_id=ctx.organisation_id)
    ]


@router.put("/aid/volunteers", response_model=VolunteerRead)
def upsert_volunteer(body: VolunteerUpsert, ctx: Dispatcher) -> VolunteerRead:
    v = service.upsert_volunteer(ctx.session, organisation_id=ctx.organisation_id, data=body)
    ctx.audit("update", "aid_volunteer", [v.id], ["vetted", "vetting_flags", "monthly_cap"])
    return VolunteerRead.model_validate(v)


# needs --------------------------------------------------------------------------------------------
@router.get("/communities/{community_id}/aid/needs", response_model=Page[NeedRead])
def board(
    community_id: int,
    ctx: Reader,
    clock: ClockDep,
    status: Annotated[list[NeedStatus] | None, Query()] = None,
    pending_approval: bool = False,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[NeedRead]:
    """The board: needs of the community (open ones by default), without private details."""
    workflow.sweep(ctx.session, organisation_id=ctx.organisation_id, clock=clock)
    service.community_settings(
        ctx.session, organisation_id=ctx.organisation_id, community_id=community_id
    )
    approved = not (pending_approval and _dispatcher(ctx))
    rows, total = service.list_needs(
        ctx.session,
        organisation_id=ctx.organisation_id,
        community_id=community_id,
        statuses=status or list(service.OPEN_STATUSES),
        approved=approved,
        limit=limit,
        offset=offset,
    )
    return Page(items=needs_out(ctx, rows), total=total, limit=limit, offset=offset)


@router.post("/communities/{community_id}/aid/needs", response_model=NeedRead, status_code=201)
def create_need(community_id: int, body: NeedCreate, ctx: Requester, clock: ClockDep) -> NeedRead:
    need = service.create_need(
        ctx.session,
        organisation_id=ctx.organisation_id,
        community_id=community_id,
        data=body,
        channel=_channel(ctx),
        clock=clock,
        requester_user_id=ctx.user_id,
        moderated=_dispatcher(ctx),
    )
    ctx.audit("create", "aid_need", [need.id], sorted(body.model_fields_set))
    return need_read(need, reveal=True)


@router.get("/aid/my-requests", response_model=list[NeedRead])
def my_requests(ctx: Requester) -> list[NeedRead]:
    rows, _ = service.list_needs(
        ctx.session,
        organisation_id=ctx.organisation_id,
        requester_user_id=ctx.user_id,
        approved=None,
    )
    return needs_out(ctx, rows)


@router.get("/aid/needs/{need_id}", response_model=NeedRead)
def get_need(need_id: int, ctx: Requester, clock: ClockDep) -> NeedRead:
    workflow.sweep(ctx.session, organisation_id=ctx.organisation_id, clock=clock)
    return needs_out(ctx, [_visible_need(ctx, need_id)])[0]


@router.post("/aid/needs/{need_id}/status", response_model=NeedRead)
def set_status(need_id: int, body: NeedStatusUpdate, ctx: Requester, clock: ClockDep) -> NeedRead:
    _visible_need(ctx, need_id)
    need = workflow.set_status(
        ctx.session,
        organisation_id=ctx.organisation_id,
        need_id=need_id,
        status=body.status,
        user_id=ctx.user_id,
        dispatcher=_dispatcher(ctx),
        clock=clock,
        duplicate_of_id=body.duplicate_of_id,
        reason=body.reason,
    )
    ctx.audit("update", "aid_need", [need_id], ["status"], detail=str(body.status))
    return needs_out(ctx, [need])[0]


@router.get("/aid/needs/{need_id}/notes", response_model=list[NoteRead])
def list_notes(need_id: int, ctx: Requester) -> list[NoteRead]:
    need = _visible_need(ctx, need_id)
    if (
        service.reveal_reason(
            ctx.session, need=need, user_id=ctx.user_id, dispatcher=_dispatcher(ctx)
        )
        is None
    ):
        return []
    return [
        NoteRead.model_validate(n)
        for n in workflow.list_notes(
            ctx.session, organisation_id=ctx.organisation_id, need_id=need_id
        )
    ]


@router.post("/aid/needs/{need_id}/notes", response_model=NoteRead, status_code=201)
def add_note(need_id: int, body: NoteCreate, ctx: Requester, clock: ClockDep) -> NoteRead:
    _visible_need(ctx, need_id)
    note = workflow.add_note(
        ctx.session,
        organisation_id=ctx.organisation_id,
        need_id=need_id,
        user_id=ctx.user_id,
        dispatcher=_dispatcher(ctx),
        data=body,
        clock=clock,
    )
    ctx.audit("create", "aid_note", [note.id], ["kind", "text"])
    return NoteRead.model_validate(note)


# claims -------------------------------------------------------------------------------------------
@router.post("/aid/needs/{need_id}/claim", response_model=ClaimRead, status_code=201)
def claim(need_id: int, ctx: Volunteer, clock: ClockDep) -> ClaimRead:
    _visible_need(ctx, need_id)
    c = workflow.claim_need(
        ctx.session,
        organisation_id=ctx.organisation_id,
        need_id=need_id,
        user_id=ctx.user_id,
        clock=clock,
    )
    ctx.audit("claim", "aid_need", [need_id], detail=str(c.state))
    return ClaimRead.model_validate(c)


def _claim_step(
    ctx: OrgContext,
    need_id: int,
    clock: Clock,
    step: Any,
    action: str,
    detail: str | None = None,
    **extra: Any,
) -> ClaimRead:
    """One step of a claim by the caller (or a dispatcher): visible need, workflow call, audit."""
    _visible_need(ctx, need_id)
    c = step(
        ctx.session,
        organisation_id=ctx.organisation_id,
        need_id=need_id,
        user_id=ctx.user_id,
        dispatcher=_dispatcher(ctx),
        clock=clock,
        **extra,
    )
    ctx.audit(action, "aid_need", [need_id], detail=detail)
    return ClaimRead.model_validate(c)


@router.post("/aid/needs/{need_id}/start", response_model=ClaimRead)
def start(need_id: int, ctx: Volunteer, clock: ClockDep) -> ClaimRead:
    return _claim_step(ctx, need_id, clock, workflow.start, "start")


@router.post("/aid/needs/{need_id}/release", response_model=ClaimRead)
def release(
    need_id: int,
    ctx: Volunteer,
    clock: ClockDep,
    reason: Annotated[str | None, Body(embed=True, max_length=200)] = None,
) -> ClaimRead:
    return _claim_step(ctx, need_id, clock, workflow.release, "release", reason=reason)


@router.post("/aid/needs/{need_id}/complete", response_model=ClaimRead)
def complete(
    need_id: int,
    ctx: Volunteer,
    clock: ClockDep,
    duration_s: Annotated[int, Body(embed=True, ge=0, le=7 * 86400)] = 0,
) -> ClaimRead:
    return _claim_step(
        ctx,
        need_id,
        clock,
        workflow.complete,
        "complete",
        detail=f"{duration_s} s",
        duration_s=duration_s,
    )


@router.post("/aid/needs/{need_id}/takeover", response_model=TakeoverRead, status_code=201)
def ask_takeover(
    need_id: int,
    ctx: Volunteer,
    clock: ClockDep,
    message: Annotated[str | None, Body(embed=True, max_length=500)] = None,
) -> TakeoverRead:
    _visible_need(ctx, need_id)
    tk = workflow.ask_takeover(
        ctx.session,
        organisation_id=ctx.organisation_id,
        need_id=need_id,
        user_id=ctx.user_id,
        clock=clock,
        message=message,
    )
    ctx.audit("ask_takeover", "aid_need", [need_id])
    return TakeoverRead.model_validate(tk)


@router.post("/aid/takeovers/{takeover_id}/decision", response_model=TakeoverRead)
def decide_takeover(
    takeover_id: int, ctx: Volunteer, clock: ClockDep, approve: Annotated[bool, Body(embed=True)]
) -> TakeoverRead:
    tk = workflow.decide_takeover(
        ctx.session,
        organisation_id=ctx.organisation_id,
        takeover_id=takeover_id,
        user_id=ctx.user_id,
        dispatcher=_dispatcher(ctx),
        approve=approve,
        clock=clock,
    )
    ctx.audit("decide_takeover", "aid_takeover", [takeover_id], detail=str(tk.state))
    return TakeoverRead.model_validate(tk)


@router.get("/aid/my-claims")
def my_claims(ctx: Volunteer, clock: ClockDep) -> list[dict[str, object]]:
    """The caller's claims with their needs (details shown for active claims only)."""
    workflow.sweep(ctx.session, organisation_id=ctx.organisation_id, clock=clock)
    claims = workflow.list_claims(
        ctx.session, organisation_id=ctx.organisation_id, user_id=ctx.user_id
    )
    out: list[dict[str, object]] = []
    for c in claims[:200]:
        need = service.get_need_or_raise(
            ctx.session, organisation_id=ctx.organisation_id, need_id=c.need_id
        )
        out.append(
            {
                "claim": ClaimRead.model_validate(c).model_dump(mode="json"),
                "need": needs_out(ctx, [need])[0].model_dump(mode="json"),
            }
        )
    return out


@router.get("/aid/needs/{need_id}/claims", response_model=list[ClaimRead])
def need_claims(need_id: int, ctx: Dispatcher) -> list[ClaimRead]:
    service.get_need_or_raise(ctx.session, organisation_id=ctx.organisation_id, need_id=need_id)
    return [
        ClaimRead.model_validate(c)
        for c in workflow.list_claims(
            ctx.session, organisation_id=ctx.organisation_id, need_id=need_id
        )
    ]


@router.post("/aid/needs/{need_id}/assign", response_model=ClaimRead)
def assign(
    need_id: int,
    ctx: Dispatcher,
    clock: ClockDep,
    user_id: Annotated[int | None, Body(embed=True)] = None,
    offer_id: Annotated[int | None, Body(embed=True)] = None,
) -> ClaimRead:
    c = workflow.assign(
        ctx.session,
        organisation_id=ctx.organisation_id,
        need_id=need_id,
        volunteer_user_id=user_id,
        offer_id=offer_id,
        by_user_id=ctx.user_id,
        clock=clock,
    )
    ctx.audit("assign", "aid_need", [need_id], detail=f"claim {c.id}")
    return ClaimRead.model_validate(c)


@router.post("/aid/claims/{claim_id}/decline", response_model=ClaimRead)
def decline(claim_id: int, ctx: Dispatcher, clock: ClockDep) -> ClaimRead:
    c = workflow.decline_claim(
        ctx.session, organisation_id=ctx.organisation_id, claim_id=claim_id, clock=clock
    )
    ctx.audit("decline", "aid_claim", [claim_id])
    return ClaimRead.model_validate(c)


@router.post("/aid/sweep")
def sweep(ctx: Dispatcher, clock: ClockDep) -> dict[str, object]:
    return workflow.sweep(ctx.session, organisation_id=ctx.organisation_id, clock=clock).to_dict()


# offers -------------------------------------------------------------------------------------------
@router.get("/communities/{community_id}/aid/offers", response_model=list[OfferRead])
def list_offers(community_id: int, ctx: Reader, mine: bool = False) -> list[OfferRead]:
    rows = service.list_offers(
        ctx.session,
        organisation_id=ctx.organisation_id,
        community_id=community_id,
        user_id=ctx.user_id if mine else None,
    )
    return [offer_read(o, private=_dispatcher(ctx) or o.user_id == ctx.user_id) for o in rows]


@router.post("/communities/{community_id}/aid/offers", response_model=OfferRead, status_code=201)
def create_offer(community_id: int, body: OfferCreate, ctx: Volunteer) -> OfferRead:
    o = service.create_offer(
        ctx.session,
        organisation_id=ctx.organisation_id,
        community_id=community_id,
        data=body,
        channel=_channel(ctx),
        user_id=ctx.user_id,
        dispatcher=_dispatcher(ctx),
    )
    ctx.audit("create", "aid_offer", [o.id])
    return offer_read(o, private=True)


@router.post("/aid/offers/{offer_id}/deactivate", response_model=OfferRead)
def deactivate_offer(offer_id: int, ctx: Volunteer) -> OfferRead:
    o = service.get_offer_or_raise(
        ctx.session, organisation_id=ctx.organisation_id, offer_id=offer_id
    )
    if o.user_id != ctx.user_id and not _dispatcher(ctx):
        raise NotFoundError(f"no offer {offer_id} of yours")
    o.active = False
    ctx.audit("update", "aid_offer", [o.id], ["active"])
    return offer_read(o, private=True)


# matching -----------------------------------------------------------------------------------------
def _run_out(ctx: OrgContext, run_id: int) -> dict[str, object]:
    from commonweal.mutual_aid.models import MatchRun

    run = ctx.session.get(MatchRun, run_id)
    if run is None or run.organisation_id != ctx.organisation_id:
        raise NotFoundError(f"no matching run {run_id}")
    sugg = dispatch.list_suggestions(
        ctx.session, organisation_id=ctx.organisation_id, run_id=run_id
    )
    return {
        "id": run.id,
        "community_id": run.community_id,
        "method": run.method,
        "created_at": run.created_at.isoformat(),
        "summary": run.summary,
        "suggestions": [SuggestionRead.model_validate(s).model_dump(mode="json") for s in sugg],
    }


@router.post("/communities/{community_id}/aid/match-runs", status_code=201)
def run_matching(
    community_id: int,
    ctx: Dispatcher,
    clock: ClockDep,
    objective: Literal["score", "urgent_first"] = "urgent_first",
) -> dict[str, object]:
    service.community_settings(
        ctx.session, organisation_id=ctx.organisation_id, community_id=community_id
    )
    run = dispatch.run_matching(
        ctx.session,
        organisation_id=ctx.organisation_id,
        community_id=community_id,
        clock=clock,
        by_user_id=ctx.user_id,
        objective=objective,
    )
    ctx.audit("match", "aid_match_run", [run.id])
    return _run_out(ctx, run.id)


@router.get("/aid/match-runs/{run_id}")
def get_run(run_id: int, ctx: Dispatcher) -> dict[str, object]:
    return _run_out(ctx, run_id)


@router.post("/aid/suggestions/{suggestion_id}/accept", response_model=ClaimRead)
def accept(suggestion_id: int, ctx: Dispatcher, clock: ClockDep) -> ClaimRead:
    c = dispatch.accept_suggestion(
        ctx.session,
        organisation_id=ctx.organisation_id,
        suggestion_id=suggestion_id,
        by_user_id=ctx.user_id,
        clock=clock,
    )
    ctx.audit("accept", "aid_suggestion", [suggestion_id], detail=f"claim {c.id}")
    return ClaimRead.model_validate(c)


@router.post("/aid/suggestions/{suggestion_id}/reject", response_model=SuggestionRead)
def reject(suggestion_id: int, ctx: Dispatcher) -> SuggestionRead:
    s = dispatch.reject_suggestion(
        ctx.session,
        organisation_id=ctx.organisation_id,
        suggestion_id=suggestion_id,
        by_user_id=ctx.user_id,
    )
    ctx.audit("reject", "aid_suggestion", [suggestion_id])
    return SuggestionRead.model_validate(s)


@router.post("/aid/match-runs/{run_id}/override")
def override(
    run_id: int, body: OverrideCreate, ctx: Dispatcher, clock: ClockDep
) -> dict[str, object]:
    s, c = dispatch.override(
        ctx.session,
        organisation_id=ctx.organisation_id,
        run_id=run_id,
        need_id=body.need_id,
        offer_id=body.offer_id,
        by_user_id=ctx.user_id,
        clock=clock,
    )
    ctx.audit("override", "aid_suggestion", [s.id], detail=f"claim {c.id}")
    return {
        "suggestion": SuggestionRead.model_validate(s).model_dump(mode="json"),
        "claim": ClaimRead.model_validate(c).model_dump(mode="json"),
    }


# the ledger, crisis-report and inbound routes live in their own module (same prefix); they are
# added here so the app includes one router for the whole domain
from commonweal.mutual_aid.routes_more import router as _more  # noqa: E402

router.routes.extend(_more.routes)
