"""Mutual-aid API, continued: the time-bank ledger, crisis reports and their exports, and the
signed inbound e-mail/SMS webhooks. Included by :mod:`commonweal.mutual_aid.routes`."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from commonweal.auth.policy import Permission
from commonweal.errors import NotFoundError
from commonweal.mutual_aid import crisis, inbound, ledger
from commonweal.mutual_aid.clock import Clock
from commonweal.mutual_aid.models import AidNeed, CrisisReport
from commonweal.mutual_aid.schemas import (
    AccountCreate,
    AccountRead,
    CrisisReportCreate,
    CrisisReportRead,
    TransferCreate,
    TransferRead,
)
from commonweal.mutual_aid.views import report_read
from commonweal.mutual_aid.vocab import Category, Channel, ReportStatus
from commonweal.registry.models import Organisation
from commonweal.web.deps import OrgContext, SessionDep, require

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/orgs/{org_id}", tags=["mutual aid"])

Reader = Annotated[OrgContext, Depends(require(Permission.aid_read))]
Requester = Annotated[OrgContext, Depends(require(Permission.aid_request))]
Dispatcher = Annotated[OrgContext, Depends(require(Permission.aid_dispatch))]


def _clock(request: Request) -> Clock:
    from commonweal.web.deps import clock_of

    return clock_of(request)


ClockDep = Annotated[Clock, Depends(_clock)]


# ledger -------------------------------------------------------------------------------------------
@router.get("/ledger/accounts", response_model=list[AccountRead], tags=["ledger"])
def list_accounts(ctx: Dispatcher) -> list[AccountRead]:
    return [
        AccountRead.model_validate(a)
        for a in ledger.list_accounts(ctx.session, organisation_id=ctx.organisation_id)
    ]


@router.post("/ledger/accounts", response_model=AccountRead, status_code=201, tags=["ledger"])
def create_account(body: AccountCreate, ctx: Dispatcher) -> AccountRead:
    a = ledger.create_account(
        ctx.session,
        organisation_id=ctx.organisation_id,
        member_id=body.member_id,
        name=body.name,
        min_balance_s=body.min_balance_s,
        max_balance_s=body.max_balance_s,
    )
    ctx.audit("create", "ledger_account", [a.id])
    return AccountRead.model_validate(a)


@router.post("/ledger/transfers", response_model=TransferRead, status_code=201, tags=["ledger"])
def create_transfer(body: TransferCreate, ctx: Dispatcher, clock: ClockDep) -> TransferRead:
    t = ledger.transfer(
        ctx.session,
        organisation_id=ctx.organisation_id,
        from_account_id=body.from_account_id,
        to_account_id=body.to_account_id,
        amount_s=body.amount_s,
        kind=body.kind,
        memo=body.memo,
        by_user_id=ctx.user_id,
        now=clock.now(),
    )
    ctx.audit("transfer", "ledger_transfer", [t.id], detail=f"{t.amount_s} s")
    return TransferRead.model_validate(t)


@router.get("/ledger/accounts/{account_id}/statement", tags=["ledger"])
def statement(
    account_id: int,
    ctx: Dispatcher,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> dict[str, object]:
    return ledger.statement(
        ctx.session,
        organisation_id=ctx.organisation_id,
        account_id=account_id,
        since=since,
        until=until,
    )


@router.get("/ledger/verify", tags=["ledger"])
def verify(ctx: Dispatcher) -> dict[str, object]:
    problems = ledger.verify(ctx.session, organisation_id=ctx.organisation_id)
    return {"ok": not problems, "problems": problems}


@router.get("/ledger/reciprocity", tags=["ledger"])
def reciprocity(ctx: Dispatcher, community_id: int | None = None) -> dict[str, object]:
    return ledger.reciprocity(
        ctx.session, organisation_id=ctx.organisation_id, community_id=community_id
    ).to_dict()


# crisis reports -----------------------------------------------------------------------------------
Statuses = Annotated[list[ReportStatus] | None, Query()]
Categories = Annotated[list[Category] | None, Query()]
Severity = Annotated[int | None, Query(ge=1, le=4)]
BBox = Annotated[str | None, Query(max_length=100, description="west,south,east,north")]


def _filtered(
    ctx: OrgContext,
    community_id: int | None,
    status: list[ReportStatus] | None,
    category: list[Category] | None,
    min_severity: int | None,
    since: dt.datetime | None,
    bbox: str | None,
) -> list[CrisisReport]:
    box = None
    if bbox:
        try:
            box = [float(x) for x in bbox.split(",")]
        except ValueError:
            box = [float("nan")]
    return list(
        crisis.list_reports(
            ctx.session,
            organisation_id=ctx.organisation_id,
            community_id=community_id,
            statuses=status,
            categories=category,
            min_severity=min_severity,
            since=since,
            bbox=box,
        )
    )


@router.get("/crisis/reports", response_model=list[CrisisReportRead], tags=["crisis map"])
def list_reports(
    ctx: Reader,
    community_id: int | None = None,
    status: Statuses = None,
    category: Categories = None,
    min_severity: Severity = None,
    since: dt.datetime | None = None,
    bbox: BBox = None,
) -> list[CrisisReportRead]:
    rows = _filtered(ctx, community_id, status, category, min_severity, since, bbox)
    contact = ctx.can(Permission.aid_dispatch)
    if contact and any(r.reporter_contact for r in rows):
        ctx.audit(
            "read_sensitive",
            "crisis_report",
            [r.id for r in rows if r.reporter_contact],
            ["reporter_contact"],
        )
    return [report_read(r, contact=contact) for r in rows]


@router.post(
    "/crisis/reports", response_model=CrisisReportRead, status_code=201, tags=["crisis map"]
)
def create_report(
    body: CrisisReportCreate, ctx: Requester, request: Request, clock: ClockDep
) -> CrisisReportRead:
    channel = Channel.api if ctx.caller.browser_session is None else Channel.web
    r = crisis.create_report(
        ctx.session,
        organisation_id=ctx.organisation_id,
        data=body,
        channel=channel,
        now=clock.now(),
    )
    ctx.audit("create", "crisis_report", [r.id])
    return report_read(r, contact=True)


@router.get("/crisis/reports.geojson", tags=["crisis map"])
def reports_geojson(
    ctx: Reader,
    community_id: int | None = None,
    status: Statuses = None,
    category: Categories = None,
    min_severity: Severity = None,
    since: dt.datetime | None = None,
    bbox: BBox = None,
) -> JSONResponse:
    rows = _filtered(ctx, community_id, status, category, min_severity, since, bbox)
    return JSONResponse(crisis.reports_geojson(rows), media_type="application/geo+json")


@router.get("/crisis/reports.csv", tags=["crisis map"])
def reports_csv(
    ctx: Reader,
    community_id: int | None = None,
    status: Statuses = None,
    category: Categories = None,
    min_severity: Severity = None,
    since: dt.datetime | None = None,
    bbox: BBox = None,
    hxl: bool = False,
) -> PlainTextResponse:
    rows = _filtered(ctx, community_id, status, category, min_severity, since, bbox)
    ctx.audit("export", "crisis_report", [], detail=f"{len(rows)} rows, hxl={hxl}")
    name = "crisis-reports-hxl.csv" if hxl else "crisis-reports.csv"
    return PlainTextResponse(
        crisis.reports_csv(rows, hxl=hxl),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/crisis/reports/{report_id}", response_model=CrisisReportRead, tags=["crisis map"])
def get_report(report_id: int, ctx: Reader) -> CrisisReportRead:
    r = crisis.get_report_or_raise(
        ctx.session, organisation_id=ctx.organisation_id, report_id=report_id
    )
    contact = ctx.can(Permission.aid_dispatch)
    if contact and r.reporter_contact:
        ctx.audit("read_sensitive", "crisis_report", [r.id], ["reporter_contact"])
    return report_read(r, contact=contact)


@router.post(
    "/crisis/reports/{report_id}/status", response_model=CrisisReportRead, tags=["crisis map"]
)
def set_report_status(
    report_id: int,
    ctx: Dispatcher,
    clock: ClockDep,
    status: Annotated[ReportStatus, Body(embed=True)],
    duplicate_of_id: Annotated[int | None, Body(embed=True)] = None,
) -> CrisisReportRead:
    r = crisis.set_report_status(
        ctx.session,
        organisation_id=ctx.organisation_id,
        report_id=report_id,
        status=status,
        by_user_id=ctx.user_id,
        now=clock.now(),
        duplicate_of_id=duplicate_of_id,
    )
    ctx.audit("verify", "crisis_report", [r.id], detail=str(status))
    return report_read(r, contact=True)


# inbound webhooks ---------------------------------------------------------------------------------
@router.post("/aid/inbound-secret", tags=["inbound"])
def rotate_secret(ctx: Dispatcher) -> dict[str, str]:
    """Set a new webhook secret (shown once) for the e-mail/SMS gateways."""
    secret = inbound.rotate_secret(ctx.session, organisation_id=ctx.organisation_id)
    ctx.audit("rotate_secret", "aid_org_settings", [ctx.organisation_id])
    return {
        "secret": secret,
        "header": inbound.SIGNATURE_HEADER,
        "timestamp_header": inbound.TIMESTAMP_HEADER,
        "signature": "sha256=hex HMAC-SHA256(secret, '<unix seconds>.' + raw body)",
    }


async def _inbound(
    org_id: int,
    channel: Channel,
    request: Request,
    session: SessionDep,
    clock: Clock,
    community_id: int | None,
) -> dict[str, object]:
    if session.get(Organisation, org_id) is None:
        raise NotFoundError(f"no organisation {org_id}")
    body = await request.body()
    inbound.verify_signature(
        session,
        organisation_id=org_id,
        header=request.headers.get(inbound.SIGNATURE_HEADER),
        timestamp=request.headers.get(inbound.TIMESTAMP_HEADER),
        body=body,
        now=clock.now(),
    )
    msg = inbound.parse_payload(channel, body, request.headers.get("content-type", ""))
    row = inbound.ingest(
        session,
        organisation_id=org_id,
        channel=channel,
        message=msg,
        clock=clock,
        community_id=community_id,
    )
    kind = "need" if isinstance(row, AidNeed) else "crisis_report"
    from commonweal.auth import service as auth_service

    auth_service.audit(
        session,
        organisation_id=org_id,
        user_id=None,
        action="inbound",
        entity=kind,
        entity_ids=[row.id],
        fields=[],
        detail=str(channel),
    )
    return {"created": kind, "id": row.id, "channel": str(channel)}


@router.post("/inbound/sms", status_code=201, tags=["inbound"])
async def inbound_sms(
    org_id: int,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    community_id: int | None = None,
) -> dict[str, object]:
    return await _inbound(org_id, Channel.sms, request, session, clock, community_id)


@router.post("/inbound/email", status_code=201, tags=["inbound"])
async def inbound_email(
    org_id: int,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    community_id: int | None = None,
) -> dict[str, object]:
    return await _inbound(org_id, Channel.email, request, session, clock, community_id)
