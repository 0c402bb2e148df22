"""Registry pages: an organisation's communities, a community's overview, members (with search as
you type), a member's profile with ties both ways and groups, groups, and assets.

Every route goes through ``require(...)`` (the one authorization layer) and every query is scoped to
the organisation in the path: a user of another organisation gets 404 and sees nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from commonweal.auth.policy import Permission
from commonweal.registry import service as svc
from commonweal.registry.views import (
    asset_read,
    member_read,
    sensitive_fields_present,
    tie_read,
)
from commonweal.web.pages_common import (
    PAGE_SIZE,
    CommunityReader,
    MemberReader,
    Pager,
    is_partial,
    render,
    shell_for,
)

__all__ = ["TIE_LIMIT", "router"]

router = APIRouter(prefix="/o/{org_id}", include_in_schema=False)

PageNo = Annotated[int, Query(ge=1, le=100_000)]
Search = Annotated[str, Query(max_length=200)]
TIE_LIMIT = 500  # ties listed per direction on a member page


@router.get("")
def organisation(request: Request, ctx: CommunityReader) -> Response:
    org = svc.get_organisation(ctx.session, ctx.organisation_id)
    communities = [
        (
            c,
            svc.community_counts(
                ctx.session, organisation_id=ctx.organisation_id, community_id=c.id
            ),
        )
        for c in svc.list_communities(ctx.session, organisation_id=ctx.organisation_id)
    ]
    return render(
        request,
        "organisation.html",
        {
            "shell": shell_for(ctx),
            "org": org,
            "communities": communities,
            "title": org.name if org else "Organisation",
        },
    )


@router.get("/c/{community_id}")
def community(request: Request, community_id: int, ctx: CommunityReader) -> Response:
    c = svc.get_community_or_raise(
        ctx.session, organisation_id=ctx.organisation_id, community_id=community_id
    )
    counts = svc.community_counts(
        ctx.session, organisation_id=ctx.organisation_id, community_id=c.id
    )
    newest = (
        svc.newest_members(
            ctx.session, organisation_id=ctx.organisation_id, community_id=c.id, limit=10
        )
        if ctx.can(Permission.member_read)
        else []
    )
    return render(
        request,
        "community.html",
        {
            "shell": shell_for(ctx, c.id),
            "active": "overview",
            "community": c,
            "counts": counts,
            "newest": newest,
            "title": c.name,
        },
    )


@router.get("/c/{community_id}/members")
def members(
    request: Request, community_id: int, ctx: MemberReader, q: Search = "", page: PageNo = 1
) -> Response:
    c = svc.get_community_or_raise(
        ctx.session, organisation_id=ctx.organisation_id, community_id=community_id
    )
    q = q.strip()
    rows, total = svc.list_members(
        ctx.session,
        organisation_id=ctx.organisation_id,
        community_id=c.id,
        q=q or None,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    # the list shows no sensitive field, so nothing here is audited
    context = {
        "community": c,
        "members": [member_read(m, sensitive=False) for m in rows],
        "pager": Pager(page, total),
        "q": q,
        "org_id": ctx.organisation_id,
        "base": f"/o/{ctx.organisation_id}/c/{c.id}/members",
    }
    if is_partial(request, "member-results"):
        return render(request, "_member_results.html", context, vary_partial=True)
    return render(
        request,
        "members.html",
        {
            **context,
            "shell": shell_for(ctx, c.id),
            "active": "members",
            "title": f"Members of {c.name}",
        },
        vary_partial=True,
    )


@router.get("/members/{member_id}")
def member(request: Request, member_id: int, ctx: MemberReader) -> Response:
    m = svc.get_member_or_raise(
        ctx.session, organisation_id=ctx.organisation_id, member_id=member_id
    )
    sensitive = ctx.can(Permission.sensitive_read)
    if sensitive:  # the same audit record the API writes for a sensitive read
        ctx.audit("read_sensitive", "member", [m.id], sensitive_fields_present([m]))
    org = ctx.organisation_id
    out, n_out = svc.list_ties(
        ctx.session, organisation_id=org, member_id=m.id, direction="out", limit=TIE_LIMIT
    )
    into, n_in = svc.list_ties(
        ctx.session, organisation_id=org, member_id=m.id, direction="in", limit=TIE_LIMIT
    )
    c = svc.get_community_or_raise(ctx.session, organisation_id=org, community_id=m.community_id)
    return render(
        request,
        "member.html",
        {
            "shell": shell_for(ctx, m.community_id),
            "active": "members",
            "community": c,
            "m": member_read(m, sensitive=sensitive),
            "org_id": org,
            "turns_to": [tie_read(t, a, b) for t, a, b in out],
            "turns_to_total": n_out,
            "turned_to_by": [tie_read(t, a, b) for t, a, b in into],
            "turned_to_by_total": n_in,
            "groups": svc.member_groups(ctx.session, organisation_id=org, member_id=m.id),
            "consents": sorted(svc.current_consents(m).values(), key=lambda x: x.purpose),
            "title": m.display_name,
        },
    )


@router.get("/c/{community_id}/groups")
def groups(request: Request, community_id: int, ctx: CommunityReader, page: PageNo = 1) -> Response:
    c = svc.get_community_or_raise(
        ctx.session, organisation_id=ctx.organisation_id, community_id=community_id
    )
    rows, total = svc.list_groups(
        ctx.session,
        organisation_id=ctx.organisation_id,
        community_id=c.id,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    return render(
        request,
        "groups.html",
        {
            "shell": shell_for(ctx, c.id),
            "active": "groups",
            "community": c,
            "groups": rows,
            "pager": Pager(page, total),
            "org_id": ctx.organisation_id,
            "q": "",
            "base": f"/o/{ctx.organisation_id}/c/{c.id}/groups",
            "title": f"Groups of {c.name}",
        },
    )


@router.get("/groups/{group_id}")
def group(request: Request, group_id: int, ctx: CommunityReader) -> Response:
    g = svc.get_group_or_raise(ctx.session, organisation_id=ctx.organisation_id, group_id=group_id)
    c = svc.get_community_or_raise(
        ctx.session, organisation_id=ctx.organisation_id, community_id=g.community_id
    )
    rows = svc.group_members(ctx.session, organisation_id=ctx.organisation_id, group_id=g.id)
    see_names = ctx.can(Permission.member_read)
    return render(
        request,
        "group.html",
        {
            "shell": shell_for(ctx, c.id),
            "active": "groups",
            "community": c,
            "group": g,
            "size": len(rows),
            "rows": rows if see_names else [],
            "see_names": see_names,
            "org_id": ctx.organisation_id,
            "title": g.name,
        },
    )


@router.get("/c/{community_id}/assets")
def assets(request: Request, community_id: int, ctx: CommunityReader, page: PageNo = 1) -> Response:
    c = svc.get_community_or_raise(
        ctx.session, organisation_id=ctx.organisation_id, community_id=community_id
    )
    rows, total = svc.list_assets(
        ctx.session,
        organisation_id=ctx.organisation_id,
        community_id=c.id,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    see_names = ctx.can(Permission.member_read)
    stewards: dict[int, str] = {}
    if see_names:
        for sid in {a.steward_member_id for a in rows if a.steward_member_id is not None}:
            stewards[sid] = svc.get_member_or_raise(
                ctx.session, organisation_id=ctx.organisation_id, member_id=sid
            ).display_name
    return render(
        request,
        "assets.html",
        {
            "shell": shell_for(ctx, c.id),
            "active": "assets",
            "community": c,
            # notes can hold sensitive detail; the list leaves them out for every role
            "assets": [asset_read(a, sensitive=False) for a in rows],
            "stewards": stewards,
            "see_names": see_names,
            "pager": Pager(page, total),
            "org_id": ctx.organisation_id,
            "q": "",
            "base": f"/o/{ctx.organisation_id}/c/{c.id}/assets",
            "title": f"Assets of {c.name}",
        },
    )
