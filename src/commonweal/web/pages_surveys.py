"""Survey pages: the waves of a community and a wave's page (response counts and its report:
subscale scores, reliability, CFA fit, the invariance table, score distributions as plots).

Plots are inline SVG drawn server-side by the library's ``histogram_svg`` (no script, so the CSP
holds). Roles that may not read answers (volunteers) get the small-cell suppressed report and no
plots: a histogram bar can be one person's score.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request, UploadFile
from fastapi.responses import Response
from markupsafe import Markup

from commonweal.auth.policy import Permission
from commonweal.errors import InputError, Problem
from commonweal.registry import service as registry_service
from commonweal.surveys import analysis
from commonweal.surveys import service as svc
from commonweal.web.deps import OrgContext, require
from commonweal.web.pages_common import render, shell_for

__all__ = ["router"]

router = APIRouter(prefix="/o/{org_id}", include_in_schema=False)

SurveyReader = Annotated[OrgContext, Depends(require(Permission.survey_read))]
SurveyManager = Annotated[OrgContext, Depends(require(Permission.survey_manage))]
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
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
    return _wave_page(request, ctx, survey_id, group)


@router.post("/surveys/{survey_id}/import")
def import_form(
    request: Request,
    survey_id: int,
    ctx: SurveyManager,
    file: UploadFile,
    format: Annotated[str, Form(max_length=10)] = "csv",  # noqa: A002 - the form field's name
) -> Response:
    """The import form: all rows or none; the problems (row, column) are listed on the page."""
    svc.get_survey_or_raise(ctx.session, organisation_id=ctx.organisation_id,
                            survey_id=survey_id)
    label = Path(file.filename or "responses.csv").name
    data = file.file.read(MAX_UPLOAD_BYTES + 1)
    try:
        if format not in svc.FORMATS:
            raise InputError(f"choose a format: {', '.join(svc.FORMATS)}")
        if len(data) > MAX_UPLOAD_BYTES:
            raise InputError(f"the file is larger than {MAX_UPLOAD_BYTES // 2**20} MB")
        with ctx.session.begin_nested(), tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "upload.csv"
            path.write_bytes(data)
            report = svc.import_responses(
                ctx.session, organisation_id=ctx.organisation_id, survey_id=survey_id,
                path=path, fmt=format, label=label)
    except InputError as exc:
        return _wave_page(request, ctx, survey_id, None, status_code=422,
                          import_error=(exc.message, exc.problems[:50]))
    ctx.audit("import", "survey_response", [survey_id],
              detail=f"{report.responses} responses, {report.scores} scores from {label[:200]}")
    return _wave_page(request, ctx, survey_id, None,
                      imported=f"{report.responses} responses imported and scored from {label}.")


def _wave_page(request: Request, ctx: OrgContext, survey_id: int, group: str | None, *,
               status_code: int = 200, imported: str | None = None,
               import_error: tuple[str, list[Problem]] | None = None) -> Response:
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
    # imported here: the report module imports SciPy (CFA), which app start-up should not load
    from commonweal.analytics.surveys.report import histogram_svg

    plots = [(s["name"], Markup(histogram_svg(  # noqa: S704 - our library's SVG, text escaped
                  rep.values[s["subscale"]], s["name"], width=230, height=160)))
             for s in data["subscales"] if s["subscale"] in rep.values]
    channels = {k.removeprefix("channel:"): v for k, v in counts.items()
                if k.startswith("channel:")}
    return render(request, "surveys/wave.html", {
        "shell": shell_for(ctx, c.id), "active": "surveys", "community": c, "wave": w,
        "counts": counts, "channels": channels, "report": data, "plots": plots,
        "group": group, "problem": problem, "org_id": ctx.organisation_id,
        "can_import": ctx.can(Permission.survey_manage), "formats": svc.FORMATS,
        "imported": imported, "import_error": import_error, "title": w.title},
        status_code=status_code)
