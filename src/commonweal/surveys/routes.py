"""Survey API: waves, response import (multipart), responses and scores (redacted per role and
audited), and the report. Every route goes through ``require``; every query is organisation-scoped.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, UploadFile
from fastapi.responses import Response

from commonweal.auth.policy import Permission
from commonweal.errors import InputError
from commonweal.surveys import analysis
from commonweal.surveys import service as svc
from commonweal.surveys.schemas import (
    Page,
    ResponseRead,
    ScoreRead,
    SurveyCreate,
    SurveyRead,
    SurveyUpdate,
)
from commonweal.surveys.views import ANSWER_FIELDS, IDENTIFYING_FIELDS, response_read, score_read
from commonweal.web.deps import OrgContext, require

__all__ = ["MAX_UPLOAD_BYTES", "router"]

router = APIRouter(prefix="/api/v1/orgs/{org_id}", tags=["surveys"])

Read = Annotated[OrgContext, Depends(require(Permission.survey_read))]
Answers = Annotated[OrgContext, Depends(require(Permission.survey_answers))]
Manage = Annotated[OrgContext, Depends(require(Permission.survey_manage))]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0)]
MAX_UPLOAD_BYTES = 50 * 1024 * 1024


def _wave(ctx: OrgContext, survey_id: int) -> dict[str, Any]:
    s = svc.get_survey_or_raise(ctx.session, organisation_id=ctx.organisation_id,
                                survey_id=survey_id)
    counts = svc.response_counts(ctx.session, organisation_id=ctx.organisation_id,
                                 survey_id=s.id)
    return {**SurveyRead.model_validate(s).model_dump(mode="json"), "responses": counts}


def _identified(ctx: OrgContext) -> bool:
    return ctx.can(Permission.sensitive_read)


def _audit_answers(ctx: OrgContext, ids: list[int]) -> None:
    if ids:
        fields = [*ANSWER_FIELDS, *(IDENTIFYING_FIELDS if _identified(ctx) else ())]
        ctx.audit("read_sensitive", "survey_response", ids, fields)


@router.get("/communities/{community_id}/surveys", response_model=list[SurveyRead])
def list_surveys(community_id: int, ctx: Read) -> list[SurveyRead]:
    """The survey waves of a community."""
    return [SurveyRead.model_validate(s) for s in svc.list_surveys(
        ctx.session, organisation_id=ctx.organisation_id, community_id=community_id)]


@router.get("/communities/{community_id}/surveys/aggregates")
def community_aggregates(community_id: int, ctx: Read) -> list[dict[str, Any]]:
    """Per wave and subscale: n, mean, SD (small cells suppressed for volunteers)."""
    return analysis.community_aggregates(
        ctx.session, organisation_id=ctx.organisation_id, community_id=community_id,
        min_cell=0 if ctx.can(Permission.survey_answers) else analysis.MIN_CELL)


@router.post("/communities/{community_id}/surveys", status_code=201)
def create_survey(community_id: int, body: SurveyCreate, ctx: Manage) -> dict[str, Any]:
    """Create a wave with a bundled instrument or an uploaded definition."""
    s = svc.create_survey(ctx.session, organisation_id=ctx.organisation_id,
                          community_id=community_id, data=body)
    ctx.audit("create", "survey", [s.id])
    return _wave(ctx, s.id)


@router.get("/surveys/{survey_id}")
def get_survey(survey_id: int, ctx: Read) -> dict[str, Any]:
    """A wave with its response counts (total, by channel, linked to members)."""
    return _wave(ctx, survey_id)


@router.get("/surveys/{survey_id}/instrument")
def get_instrument(survey_id: int, ctx: Read) -> dict[str, Any]:
    """The instrument definition stored with the wave (the TOML schema, as JSON)."""
    s = svc.get_survey_or_raise(ctx.session, organisation_id=ctx.organisation_id,
                                survey_id=survey_id)
    return dict(s.instrument_definition)


@router.patch("/surveys/{survey_id}")
def update_survey(survey_id: int, body: SurveyUpdate, ctx: Manage) -> dict[str, Any]:
    """Change the title, dates or status of a wave."""
    s = svc.update_survey(ctx.session, organisation_id=ctx.organisation_id, survey_id=survey_id,
                          data=body)
    ctx.audit("update", "survey", [s.id], sorted(body.model_dump(exclude_unset=True)))
    return _wave(ctx, s.id)


@router.delete("/surveys/{survey_id}", status_code=204)
def delete_survey(survey_id: int, ctx: Manage) -> Response:
    """Delete a wave with its responses and scores."""
    svc.delete_survey(ctx.session, organisation_id=ctx.organisation_id, survey_id=survey_id)
    ctx.audit("delete", "survey", [survey_id])
    return Response(status_code=204)


@router.post("/surveys/{survey_id}/responses/import")
def import_responses(
    survey_id: int,
    file: UploadFile,
    ctx: Manage,
    format: Literal["csv", "kobo", "redcap"] = "csv",  # noqa: A002 - the query parameter's name
    respondent_column: Annotated[str | None, Query(max_length=200)] = None,
    channel: Annotated[str | None, Query(max_length=32)] = None,
) -> dict[str, object]:
    """Import a responses file (plain CSV, Kobo/ODK or REDCap export): all rows or none."""
    svc.get_survey_or_raise(ctx.session, organisation_id=ctx.organisation_id,
                            survey_id=survey_id)
    data = file.file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise InputError(f"the file is larger than {MAX_UPLOAD_BYTES // 2**20} MB")
    label = Path(file.filename or "responses.csv").name
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "upload.csv"
        path.write_bytes(data)
        report = svc.import_responses(
            ctx.session, organisation_id=ctx.organisation_id, survey_id=survey_id, path=path,
            fmt=format, label=label, respondent_column=respondent_column, channel=channel)
    ctx.audit("import", "survey_response", [survey_id],
              detail=f"{report.responses} responses, {report.scores} scores from {label[:200]}")
    return report.to_dict()


@router.post("/surveys/{survey_id}/score")
def score_survey(survey_id: int, ctx: Manage) -> dict[str, int]:
    """Re-score every stored response (replaces the stored scores)."""
    n = svc.score_survey(ctx.session, organisation_id=ctx.organisation_id, survey_id=survey_id)
    ctx.audit("score", "survey", [survey_id], detail=f"{n} scores")
    return {"survey_id": survey_id, "scores": n}


@router.get("/surveys/{survey_id}/responses", response_model=Page[ResponseRead])
def list_responses(survey_id: int, ctx: Answers, limit: Limit = 50,
                   offset: Offset = 0) -> Page[ResponseRead]:
    """Answers, redacted per role (researchers: de-identified) and audited."""
    rows, total = svc.list_responses(ctx.session, organisation_id=ctx.organisation_id,
                                     survey_id=survey_id, limit=limit, offset=offset,
                                     for_research=not _identified(ctx))
    _audit_answers(ctx, [r.id for r in rows])
    who = _identified(ctx)
    return Page(items=[response_read(r, identified=who) for r in rows], total=total,
                limit=limit, offset=offset)


@router.get("/surveys/{survey_id}/scores", response_model=Page[ScoreRead])
def list_scores(survey_id: int, ctx: Answers, limit: Limit = 50,
                offset: Offset = 0) -> Page[ScoreRead]:
    """Individual scores, ``limit`` responses at a time (``total`` counts responses)."""
    rows, total = svc.list_scores(ctx.session, organisation_id=ctx.organisation_id,
                                  survey_id=survey_id, limit=limit, offset=offset,
                                  for_research=not _identified(ctx))
    ids = sorted({r.id for _, r in rows})
    if ids:
        ctx.audit("read_sensitive", "survey_score", ids,
                  ["scores", *(IDENTIFYING_FIELDS[:2] if _identified(ctx) else ())])
    who = _identified(ctx)
    return Page(items=[score_read(s, r, identified=who) for s, r in rows], total=total,
                limit=limit, offset=offset)


@router.get("/surveys/{survey_id}/report")
def report(survey_id: int, ctx: Read,
           group: Annotated[str | None, Query(max_length=200)] = None) -> dict[str, Any]:
    """Aggregates, reliability, CFA fit and (with ``group``) the invariance table.

    Roles that cannot read answers get the small-cell suppressed report.
    """
    rep = analysis.wave_report(ctx.session, organisation_id=ctx.organisation_id,
                               survey_id=survey_id, group=group)
    if not ctx.can(Permission.survey_answers):
        rep = analysis.redact_report(rep)
    return rep.to_dict()
