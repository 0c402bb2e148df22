"""The community network page: who is at risk (isolated, single contact, dependent on one person,
single points of failure and how many people they would cut off), the summary figures, the
robustness curves (inline SVG drawn on the server) and the network view (cytoscape.js, preset
positions computed on the server, fed by the JSON layout route). A what-if form asks "what if this
person left?" and answers in place (HTMX), writing nothing.

Everything here needs ``member:read``. Researchers see it de-identified: member ids, no names.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from markupsafe import Markup

from commonweal.auth.policy import Permission
from commonweal.errors import InputError
from commonweal.networks import service as svc
from commonweal.networks.plots import ORDER_COLOURS, robustness_svg
from commonweal.networks.routes import (
    WhatIfIn,
    flag_counts,
    names_allowed,
    profile_for,
    run_whatif,
    whatif_out,
)
from commonweal.registry import service as registry_service
from commonweal.web.deps import OrgContext, require
from commonweal.web.pages_common import Pager, is_partial, render, shell_for

__all__ = ["router"]

router = APIRouter(prefix="/o/{org_id}/c/{community_id}", include_in_schema=False)

Reader = Annotated[OrgContext, Depends(require(Permission.member_read))]
AT_RISK_PAGE = 20
FLAG_LABELS = {
    "articulation_point": "Single points of failure",
    "isolated": "Isolated",
    "single_contact": "Single contact",
    "dependent_on_one": "Dependent on one person",
    "overloaded": "Overloaded supporters",
}


def _at_risk(ctx: OrgContext, profile: Any, flag: str, page: int) -> dict[str, Any]:
    pager_total = svc.member_rows(profile, flag=flag, limit=1).total
    pager = Pager(max(1, page), pager_total, AT_RISK_PAGE)
    rows = svc.member_rows(profile, flag=flag, limit=AT_RISK_PAGE, offset=pager.offset).items
    ids = [r["member_id"] for r in rows] + [r["main_supporter"] for r in rows
                                            if r["main_supporter"] is not None]
    names = (svc.member_names(ctx.session, organisation_id=ctx.organisation_id, member_ids=ids)
             if names_allowed(ctx) else {})
    return {"flag": flag, "rows": rows, "pager": pager, "names": names,
            "flag_label": FLAG_LABELS[flag], "flag_help": svc.FLAGS[flag]}


@router.get("/network")
def network_page(
    request: Request, community_id: int, ctx: Reader,
    flag: Annotated[str, Query(max_length=40)] = "articulation_point",
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    c = registry_service.get_community_or_raise(
        ctx.session, organisation_id=ctx.organisation_id, community_id=community_id)
    if flag not in FLAG_LABELS:
        flag = "articulation_point"
    profile = profile_for(ctx, c.id)
    at_risk = _at_risk(ctx, profile, flag, page)
    base = {"org_id": ctx.organisation_id, "community": c, "names_allowed": names_allowed(ctx),
            **at_risk}
    if is_partial(request, "at-risk"):
        return render(request, "networks/_at_risk.html", base, vary_partial=True)
    counts = flag_counts(profile)
    curves = profile.robustness.to_dict(101)
    spof = svc.member_rows(profile, flag="articulation_point", limit=40).items
    spof_names = (svc.member_names(ctx.session, organisation_id=ctx.organisation_id,
                                   member_ids=[r["member_id"] for r in spof])
                  if names_allowed(ctx) else {})
    return render(request, "networks/network.html", {
        **base, "shell": shell_for(ctx, c.id), "active": "network",
        "title": f"Network of {c.name}", "summary": profile.summary.to_dict(),
        "notes": profile.notes, "counts": counts, "labels": FLAG_LABELS,
        "plot": Markup(robustness_svg(curves)),  # noqa: S704 - SVG built by our code, text escaped
        "curves": curves, "order_colours": ORDER_COLOURS, "spof": spof, "spof_names": spof_names,
        "layout_url": (f"/api/v1/orgs/{ctx.organisation_id}/communities/{c.id}/network/layout"),
    }, vary_partial=True)


@router.get("/network/whatif")
def whatif_fragment(
    request: Request, community_id: int, ctx: Reader,
    remove: Annotated[list[int] | None, Query()] = None,
) -> Response:
    """What if these members left? Answered as a fragment (writes nothing)."""
    c = registry_service.get_community_or_raise(
        ctx.session, organisation_id=ctx.organisation_id, community_id=community_id)
    problem = None
    result = None
    try:
        result = whatif_out(ctx, run_whatif(ctx, c.id, WhatIfIn(remove=list(remove or []))))
    except InputError as exc:
        problem = exc.message
    context = {"org_id": ctx.organisation_id, "community": c, "result": result,
               "problem": problem, "names_allowed": names_allowed(ctx)}
    if request.headers.get("hx-request") == "true":
        return render(request, "networks/_whatif.html", context, vary_partial=True)
    return render(request, "networks/whatif.html", {
        **context, "shell": shell_for(ctx, c.id), "active": "network",
        "title": f"What if, {c.name}"}, vary_partial=True)
