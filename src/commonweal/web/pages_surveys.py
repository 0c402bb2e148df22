"""Survey pages: the waves of a community and a wave's page (response counts and its report:
subscale scores, reliability, CFA fit, the invariance table, score distributions as plots).

Plots are inline SVG drawn server-side by the library's ``histogram_svg`` (no script, so the CSP
holds). Roles that may not read answers (volunteers) get the small-cell suppressed report and no
plots: a histogram bar can be one person's score.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from markupsafe import Markup

from commonweal.analytics.surveys.report import histogram_svg
from commonweal.auth.policy import Permission
from commonweal.errors import InputError
from commonweal.registry import service as registry_service
from commonweal.surveys import analysis
from commonweal.surveys import service as svc
from commonweal.web.deps import OrgContext, require
from commonweal.web.pages_common import render, shell_for

__all__ = ["router"]

router = APIRouter(prefix="/o/{org_id}", include_in_schema=False)

SurveyReader = Annotated[OrgContext, Depends(require(Permission.survey_read))]
Group = Annotated[str | None, Query(max_length=200)]


@router.get("/c/{community_id}/surveys")
def waves(request: Request, community_id: int, ctx: SurveyReader) -> Response:
    """The waves of a community with response counts and mean scores by subscale."""
    c = registry_service.get_community_or_raise(
        ctx.session, organisation_id=ctx.organisation_id, community_id=community_id)
    aggregates = {a["survey_id"]: a for a in analysis.community_aggregates(
        ctx.session, organisation_id=ctx.organisation_id, community_id=c.id,
        min_cell=0 if ctx.can(Permission.survey_answers) else analysis.MIN_CELL)}
    rows = [(w, aggregates[w.id])
            for w in svc.list_surveys(ctx.session, organisation_id=ctx.organisation_id,
                                      community_id=c.id)]
    return render(request, "surveys/waves.html", {
        "shell": shell_for(ctx, c.id), "active": "surveys", "community": c, "waves": rows,
        "org_id": ctx.organisation_id, "title": f"Surveys of {c.name}"})


@router.get("/surveys/{survey_id}")
def wave(request: Request, survey_id: int, ctx: SurveyReader, group: Group = None) -> Response:
    """A wave: counts and its report (suppressed for roles that cannot read answers)."""
    w = svc.get_survey_or_raise(ctx.session, organisation_id=ctx.organisation_id,
                                survey_id=survey_id)
    c = registry_service.get_community_or_raise(
        ctx.session, organisation_id=ctx.organisation_id, community_id=w.community_id)
    counts = svc.response_counts(ctx.session, organisation_id=ctx.organisation_id,
                                 survey_id=w.id)
    group = (group or "").strip() or None
    problem = None
    try:
        rep = analysis.wave_report(ctx.session, organisation_id=ctx.organisation_id,
                                   survey_id=w.id, group=group)
    except InputError as exc:  # an unknown grouping attribute: say so, show the rest
        problem = exc.message
        group = None
        rep = analysis.wave_report(ctx.session, organisation_id=ctx.organisation_id,
                                   survey_id=w.id)
    full = ctx.can(Permission.survey_answers)
    if not full:
        rep = analysis.redact_report(rep)
    data: dict[str, Any] = rep.to_dict()
    plots = [(s["name"], Markup(histogram_svg(  # noqa: S704 - our library's SVG, text escaped
                  rep.values[s["subscale"]], s["name"], width=230, height=160)))
             for s in data["subscales"] if s["subscale"] in rep.values]
    channels = {k.removeprefix("channel:"): v for k, v in counts.items()
                if k.startswith("channel:")}
    return render(request, "surveys/wave.html", {
        "shell": shell_for(ctx, c.id), "active": "surveys", "community": c, "wave": w,
        "counts": counts, "channels": channels, "report": data, "plots": plots,
        "group": group, "problem": problem, "org_id": ctx.organisation_id,
        "title": w.title})
