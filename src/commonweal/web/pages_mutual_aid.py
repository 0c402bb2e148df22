"""Mutual-aid pages: the board of open needs (volunteers), my claims and requests, the request
form (requesters), the dispatcher's desk (suggestions with reasons, accept or override), and the
crisis map.

Buttons call the JSON API with htmx (the CSRF header is added by ``app.js``) and the page reloads
(``mutual_aid.js``). Every route goes through ``require(...)``; a need's private details appear
only on "my claims"/"my requests" for the people allowed to see them, and are audited there.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from markupsafe import Markup

from commonweal.auth.policy import Permission
from commonweal.errors import InputError, Problem
from commonweal.mutual_aid import crisis, dispatch, ledger, service, workflow
from commonweal.mutual_aid.plots import give_receive_svg
from commonweal.mutual_aid.routes import needs_out
from commonweal.mutual_aid.schemas import NeedCreate
from commonweal.mutual_aid.views import need_read, offer_read, report_read
from commonweal.mutual_aid.vocab import Category, Channel, ClaimState, NeedStatus
from commonweal.registry import service as reg
from commonweal.web.deps import OrgContext, clock_of, require
from commonweal.web.pages_common import render, shell_for

__all__ = ["router"]

router = APIRouter(prefix="/o/{org_id}/c/{community_id}/aid", include_in_schema=False)

Reader = Annotated[OrgContext, Depends(require(Permission.aid_read))]
Requester = Annotated[OrgContext, Depends(require(Permission.aid_request))]
Dispatcher = Annotated[OrgContext, Depends(require(Permission.aid_dispatch))]

URGENCY = {1: "low", 2: "normal", 3: "high", 4: "critical"}


def _base(ctx: OrgContext, community_id: int, title: str, active: str) -> dict[str, Any]:
    c = reg.get_community_or_raise(
        ctx.session, organisation_id=ctx.organisation_id, community_id=community_id
    )
    tabs = []
    base = f"/o/{ctx.organisation_id}/c/{c.id}/aid"
    if ctx.can(Permission.aid_read):
        tabs.append(("board", "Board", base))
    tabs.append(("mine", "My claims & requests", f"{base}/mine"))
    tabs.append(("request", "Ask for help", f"{base}/request"))
    if ctx.can(Permission.aid_dispatch):
        tabs.append(("dispatch", "Dispatch", f"{base}/dispatch"))
        tabs.append(("ledger", "Time bank", f"{base}/ledger"))
    if ctx.can(Permission.aid_read):
        tabs.append(("map", "Crisis map", f"{base}/map"))
    return {
        "shell": shell_for(ctx, c.id),
        "community": c,
        "title": title,
        "aid_tabs": tabs,
        "aid_active": active,
        "api": f"/api/v1/orgs/{ctx.organisation_id}",
        "aid_base": base,
        "urgency": URGENCY,
        "can_volunteer": ctx.can(Permission.aid_volunteer),
        "can_dispatch": ctx.can(Permission.aid_dispatch),
    }


@router.get("")
def board(request: Request, community_id: int, ctx: Reader) -> Response:
    """Open needs, anonymised: ticket number, category, urgency, area, when."""
    clock = clock_of(request)
    workflow.sweep(ctx.session, organisation_id=ctx.organisation_id, clock=clock)
    settings = service.community_settings(
        ctx.session, organisation_id=ctx.organisation_id, community_id=community_id
    )
    rows, total = service.list_needs(
        ctx.session,
        organisation_id=ctx.organisation_id,
        community_id=community_id,
        statuses=list(service.OPEN_STATUSES),
        limit=200,
    )
    held = list(
        service.list_needs(
            ctx.session,
            organisation_id=ctx.organisation_id,
            community_id=community_id,
            statuses=[NeedStatus.claimed, NeedStatus.in_progress],
            limit=200,
        )[0]
    )
    # the board never shows private details, even to dispatchers (they use the dispatch page)
    return render(
        request,
        "mutual_aid/board.html",
        {
            **_base(ctx, community_id, "Needs board", "board"),
            "settings": settings,
            "needs": [need_read(n, reveal=False) for n in rows],
            "total": total,
            "held": [need_read(n, reveal=False) for n in held],
        },
    )


@router.get("/mine")
def mine(request: Request, community_id: int, ctx: Requester) -> Response:
    """The caller's claims (details for active ones) and requests (their own details)."""
    clock = clock_of(request)
    workflow.sweep(ctx.session, organisation_id=ctx.organisation_id, clock=clock)
    claims: list[dict[str, Any]] = []
    if ctx.can(Permission.aid_volunteer):
        for c in workflow.list_claims(
            ctx.session, organisation_id=ctx.organisation_id, user_id=ctx.user_id
        )[:100]:
            need = service.get_need_or_raise(
                ctx.session, organisation_id=ctx.organisation_id, need_id=c.need_id
            )
            if need.community_id != community_id:
                continue
            shown = (
                needs_out(ctx, [need])[0]
                if c.state == ClaimState.active
                else need_read(need, reveal=False)
            )
            claims.append({"claim": c, "need": shown})
    mine_rows, _ = service.list_needs(
        ctx.session,
        organisation_id=ctx.organisation_id,
        community_id=community_id,
        requester_user_id=ctx.user_id,
        approved=None,
        limit=100,
    )
    return render(
        request,
        "mutual_aid/mine.html",
        {
            **_base(ctx, community_id, "My claims and requests", "mine"),
            "claims": claims,
            "requests": needs_out(ctx, mine_rows),
            "offers": [
                offer_read(o, private=True)
                for o in service.list_offers(
                    ctx.session,
                    organisation_id=ctx.organisation_id,
                    community_id=community_id,
                    active=None,
                    user_id=ctx.user_id,
                )
            ],
            "categories": list(Category),
        },
    )


@router.get("/request")
def request_form(request: Request, community_id: int, ctx: Requester) -> Response:
    return render(
        request,
        "mutual_aid/request.html",
        {
            **_base(ctx, community_id, "Ask for help", "request"),
            "categories": list(Category),
            "created": None,
        },
    )


@router.post("/request")
def request_submit(
    request: Request,
    community_id: int,
    ctx: Requester,
    category: Annotated[str, Form()],
    description: Annotated[str, Form()] = "",
    urgency: Annotated[int, Form(ge=1, le=4)] = 2,
    area: Annotated[str, Form(max_length=200)] = "",
    address: Annotated[str, Form(max_length=300)] = "",
    contact: Annotated[str, Form(max_length=254)] = "",
) -> Response:
    """The web form: a need with channel ``web``; the address and contact stay private."""
    try:
        data = NeedCreate(
            category=category,
            description=description,
            urgency=urgency,
            area=area or None,
            address=address or None,
            contact=contact or None,
        )
    except ValueError as exc:
        raise InputError("the request form has a problem", [Problem(str(exc)[:300])]) from exc
    need = service.create_need(
        ctx.session,
        organisation_id=ctx.organisation_id,
        community_id=community_id,
        data=data,
        channel=Channel.web,
        clock=clock_of(request),
        requester_user_id=ctx.user_id,
        moderated=ctx.can(Permission.aid_dispatch),
    )
    ctx.audit("create", "aid_need", [need.id], ["category", "address", "contact"])
    return render(
        request,
        "mutual_aid/request.html",
        {
            **_base(ctx, community_id, "Ask for help", "request"),
            "categories": list(Category),
            "created": need,
        },
        status_code=201,
    )


@router.get("/dispatch")
def dispatch_desk(request: Request, community_id: int, ctx: Dispatcher) -> Response:
    """The latest matching run with reasons, requested claims to confirm, needs to approve."""
    clock = clock_of(request)
    workflow.sweep(ctx.session, organisation_id=ctx.organisation_id, clock=clock)
    run = dispatch.latest_run(
        ctx.session, organisation_id=ctx.organisation_id, community_id=community_id
    )
    suggestions = (
        list(
            dispatch.list_suggestions(
                ctx.session, organisation_id=ctx.organisation_id, run_id=run.id
            )
        )
        if run
        else []
    )
    offers = service.list_offers(
        ctx.session, organisation_id=ctx.organisation_id, community_id=community_id
    )
    need_ids = {s.need_id for s in suggestions}
    needs = {
        n.id: need_read(n, reveal=False)
        for n in service.list_needs(
            ctx.session,
            organisation_id=ctx.organisation_id,
            ids=sorted(need_ids),
            approved=None,
            limit=500,
        )[0]
    }
    requested = [
        c
        for c in workflow.list_claims(
            ctx.session, organisation_id=ctx.organisation_id, states=[ClaimState.requested]
        )
        if service.get_need_or_raise(
            ctx.session, organisation_id=ctx.organisation_id, need_id=c.need_id
        ).community_id
        == community_id
    ]
    pending, _ = service.list_needs(
        ctx.session,
        organisation_id=ctx.organisation_id,
        community_id=community_id,
        approved=False,
        statuses=list(service.OPEN_STATUSES),
    )
    return render(
        request,
        "mutual_aid/dispatch.html",
        {
            **_base(ctx, community_id, "Dispatch", "dispatch"),
            "run": run,
            "suggestions": suggestions,
            "needs": needs,
            "offers": [offer_read(o, private=False) for o in offers],
            "requested": requested,
            "pending": [need_read(n, reveal=False) for n in pending],
        },
    )


@router.get("/ledger")
def time_bank(request: Request, community_id: int, ctx: Dispatcher) -> Response:
    """The time bank of the community: who gives and who receives (reciprocity, not charity),
    the members' balances, and whether the books balance."""
    base = _base(ctx, community_id, "Time bank", "ledger")
    rec = ledger.reciprocity(ctx.session, organisation_id=ctx.organisation_id,
                             community_id=community_id)
    names = reg.member_names(ctx.session, organisation_id=ctx.organisation_id,
                             member_ids=[m.member_id for m in rec.members])
    accounts = {a.member_id: a for a in ledger.list_accounts(
        ctx.session, organisation_id=ctx.organisation_id) if a.member_id in names}
    people = sorted(rec.members, key=lambda m: (-(m.given_s + m.received_s), m.member_id))
    rows = [{"member_id": m.member_id, "name": names.get(m.member_id, f"#{m.member_id}"),
             "given_h": m.given_s / 3600, "received_h": m.received_s / 3600, "ratio": m.ratio,
             "balance_h": accounts[m.member_id].balance_s / 3600
             if m.member_id in accounts else None} for m in people]
    chart = give_receive_svg([(names.get(m.member_id, f"#{m.member_id}"), m.given_s / 3600,
                               m.received_s / 3600) for m in people[:40]])
    return render(request, "mutual_aid/ledger.html", {
        **base, "rec": rec, "rows": rows, "chart": Markup(chart), "org_id": ctx.organisation_id,
        "problems": ledger.verify(ctx.session, organisation_id=ctx.organisation_id),
        "shown": min(len(rows), 40)})


@router.get("/map")
def crisis_map(request: Request, community_id: int, ctx: Reader) -> Response:
    """The crisis map: clustered markers from the GeoJSON endpoint; works with no tiles."""
    reports = crisis.list_reports(
        ctx.session, organisation_id=ctx.organisation_id, community_id=community_id, limit=200
    )
    return render(
        request,
        "mutual_aid/map.html",
        {
            **_base(ctx, community_id, "Crisis map", "map"),
            "reports": [report_read(r, contact=False) for r in reports],
            "categories": list(Category),
        },
    )
