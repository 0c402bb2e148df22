"""Network API of a stored community: summary, per-member profile, robustness curves, layout for
drawing, and what-if scenarios (computed, never written). Every route needs ``member:read``.

Researchers get the same figures de-identified: member ids, no names (``display_name`` is null).
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from commonweal.auth.models import Role
from commonweal.auth.policy import Permission
from commonweal.errors import InputError
from commonweal.networks import service as svc
from commonweal.web.deps import OrgContext, require

if TYPE_CHECKING:  # the analytics load on first use, not when the app starts
    from commonweal.analytics.networks import NetworkProfile, WhatIf

__all__ = ["WhatIfIn", "router", "whatif_out"]

router = APIRouter(prefix="/api/v1/orgs/{org_id}/communities/{community_id}/network",
                   tags=["networks"])

Reader = Annotated[OrgContext, Depends(require(Permission.member_read))]
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0)]
MAX_DRAWN = 3000

_LAYOUTS: weakref.WeakKeyDictionary[NetworkProfile, dict[int, dict[str, Any]]] = (
    weakref.WeakKeyDictionary())


def names_allowed(ctx: OrgContext) -> bool:
    """Names go with the network figures for every role but researchers (de-identified)."""
    return ctx.role != Role.researcher


def profile_for(ctx: OrgContext, community_id: int) -> NetworkProfile:
    return svc.community_profile(ctx.session, organisation_id=ctx.organisation_id,
                                 community_id=community_id)


def _names(ctx: OrgContext, ids: list[int]) -> dict[int, str]:
    if not names_allowed(ctx) or not ids:
        return {}
    return svc.member_names(ctx.session, organisation_id=ctx.organisation_id, member_ids=ids)


def flag_counts(profile: NetworkProfile) -> dict[str, int]:
    return {f: int(profile.members[f].sum()) for f in svc.FLAGS}


@router.get("/summary")
def summary(community_id: int, ctx: Reader) -> dict[str, Any]:
    """Community-level figures, flag counts and notes."""
    p = profile_for(ctx, community_id)
    return {"community_id": community_id, "summary": p.summary.to_dict(),
            "flag_counts": flag_counts(p), "notes": list(p.notes),
            "ties_outside_community": int(p.graph.attrs.get("ties_outside", 0))}


@router.get("/members")
def members(community_id: int, ctx: Reader, flag: str | None = None, limit: Limit = 50,
            offset: Offset = 0) -> dict[str, Any]:
    """The per-member profile, paged; ``flag`` keeps one at-risk group (most at risk first)."""
    p = profile_for(ctx, community_id)
    page = svc.member_rows(p, flag=flag or None, limit=limit, offset=offset)
    names = _names(ctx, [r["member_id"] for r in page.items])
    for r in page.items:
        r["display_name"] = names.get(r["member_id"])
    return {"items": page.items, "total": page.total, "limit": limit, "offset": offset,
            "flag": flag or None, "de_identified": not names_allowed(ctx)}


@router.get("/robustness")
def robustness_curves(community_id: int, ctx: Reader,
                      points: Annotated[int, Query(ge=2, le=2001)] = 101) -> dict[str, Any]:
    """Largest-body share after removing people in each order, and R per order."""
    return profile_for(ctx, community_id).robustness.to_dict(points)


def layout_for(profile: NetworkProfile, cap: int) -> dict[str, Any]:
    """:func:`~commonweal.networks.layout.drawing` of the profile, cached with the profile."""
    per = _LAYOUTS.setdefault(profile, {})
    if cap not in per:
        from commonweal.networks.layout import drawing

        per[cap] = drawing(profile, cap=cap)
    return per[cap]


@router.get("/layout")
def layout(community_id: int, ctx: Reader,
           max_nodes: Annotated[int, Query(ge=10, le=MAX_DRAWN)] = 1500) -> dict[str, Any]:
    """Node positions (computed here) and ties for drawing; at most ``max_nodes`` people."""
    d = layout_for(profile_for(ctx, community_id), max_nodes)
    names = _names(ctx, [int(n["id"]) for n in d["nodes"]])
    nodes = [{**n, "id": int(n["id"]), "name": names.get(int(n["id"]))} for n in d["nodes"]]
    return {**d, "nodes": nodes, "de_identified": not names_allowed(ctx)}


class TieIn(BaseModel):
    from_member_id: int = Field(description="the member who would turn to ...")
    to_member_id: int = Field(description="... this member")
    support_type: str | None = Field(None, description="kind of support; unspecified if absent")


class WhatIfIn(BaseModel):
    remove: list[int] = Field(default_factory=list, max_length=1000,
                              description="member ids who leave")
    add: list[TieIn] = Field(default_factory=list, max_length=10_000,
                             description="ties that would be made")


def whatif_out(ctx: OrgContext, w: WhatIf) -> dict[str, Any]:
    """The what-if as JSON with member ids as integers and (roles permitting) their names."""
    d = w.to_dict()
    for key in ("removed", "newly_isolated", "newly_single_contact", "no_longer_isolated",
                "cut_off"):
        d[key] = [int(x) for x in d[key]]
    mentioned = sorted({x for key in ("removed", "newly_isolated", "newly_single_contact",
                                      "no_longer_isolated", "cut_off") for x in d[key]})
    d["names"] = {str(k): v for k, v in _names(ctx, mentioned).items()}
    d["written"] = False
    return d


def run_whatif(ctx: OrgContext, community_id: int, body: WhatIfIn) -> WhatIf:
    if body.remove and body.add:
        raise InputError("one scenario at a time: either members to remove or ties to add")
    if body.remove:
        return svc.whatif_remove(ctx.session, organisation_id=ctx.organisation_id,
                                 community_id=community_id, member_ids=body.remove)
    if body.add:
        kinds = ([t.support_type or "unspecified" for t in body.add]
                 if any(t.support_type for t in body.add) else None)
        return svc.whatif_add(ctx.session, organisation_id=ctx.organisation_id,
                              community_id=community_id,
                              ties=[(t.from_member_id, t.to_member_id) for t in body.add],
                              kinds=kinds)
    raise InputError("name members to remove or ties to add")


@router.post("/whatif")
def whatif(community_id: int, body: WhatIfIn, ctx: Reader) -> dict[str, Any]:
    """Who becomes isolated or cut off if members leave; how flags and R change if ties are made.
    Nothing is written to the database."""
    return whatif_out(ctx, run_whatif(ctx, community_id, body))
