"""Check-in API: thin routes over the services. Org routes go through ``require``; the public
single-use-link routes (``/api/v1/respond``, ``/api/v1/safe``, ``/api/v1/ack``) are authorised by the
link alone. POSTs that create or answer accept an ``Idempotency-Key`` header, and every write
commits before its 2xx is sent (an acknowledged answer is durable)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from commonweal.auth.policy import Permission
from commonweal.checkins import safety as safety_svc
from commonweal.checkins import service as svc
from commonweal.checkins.escalation import (
    SelfAcknowledgeError,
    acknowledge,
    keep_refusal,
    policy_tiers,
    reached_nobody,
    validate_tiers,
)
from commonweal.checkins.export import safety_csv, safety_pfif
from commonweal.checkins.idempotency import request_hash, run_idempotent, run_idempotent_batched
from commonweal.checkins.links import consume_link
from commonweal.checkins.models import (
    Alert,
    Answer,
    Channel,
    Checkin,
    EscalationPolicy,
    LinkPurpose,
    OutboxMessage,
    SafetyStatus,
)
from commonweal.checkins.schemas import (
    AlertEventRead,
    AlertRead,
    AnswerIn,
    CheckinRead,
    LinkAnswerIn,
    LinkSafetyIn,
    MarkIn,
    PlanCreate,
    PlanRead,
    PolicyIn,
    PulseCreate,
    SafetyCheckCreate,
    SafetyCheckRead,
    SessionExtend,
    SessionStart,
)
from commonweal.db.groupcommit import GroupCommitter
from commonweal.errors import NotFoundError
from commonweal.web.deps import OrgContext, clock_of, require

__all__ = ["committer_of", "org_router", "public_router", "router", "run_link_answer"]

T = TypeVar("T")

org_router = APIRouter(prefix="/api/v1/orgs/{org_id}", tags=["checkins"])
public_router = APIRouter(prefix="/api/v1", tags=["checkins"])

Read = Annotated[OrgContext, Depends(require(Permission.checkins_read))]
Respond = Annotated[OrgContext, Depends(require(Permission.checkins_respond))]
Manage = Annotated[OrgContext, Depends(require(Permission.checkins_manage))]
IdemKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]


def _factory(request: Request) -> sessionmaker[Session]:
    factory: sessionmaker[Session] = request.app.state.session_factory
    return factory


def _idem(request: Request, ctx: OrgContext, key: str | None, body: Any, work: Any) -> Response:
    status, out = run_idempotent(
        ctx.session, _factory(request), scope=f"user:{ctx.user_id}", key=key,
        digest=request_hash(request.method, request.url.path, body), now=clock_of(request).now(),
        work=work)
    return JSONResponse(out, status_code=status)


# plans -----------------------------------------------------------------------------------------
@org_router.get("/checkin-plans", response_model=list[PlanRead])
def list_plans(ctx: Read, member_id: int | None = None) -> list[PlanRead]:
    return [PlanRead.model_validate(p) for p in
            svc.list_plans(ctx.session, organisation_id=ctx.organisation_id, member_id=member_id)]


@org_router.post("/checkin-plans", response_model=PlanRead, status_code=201)
def create_plan(request: Request, body: PlanCreate, ctx: Manage, key: IdemKey = None) -> Response:
    def work() -> tuple[int, Any]:
        data = body.model_dump(exclude={"duress_code"})
        p = svc.create_plan(ctx.session, organisation_id=ctx.organisation_id,
                            now=clock_of(request).now(), duress_code=body.duress_code, **data)
        ctx.audit("create", "checkin_plan", [p.id])
        return 201, PlanRead.model_validate(p).model_dump(mode="json")
    return _idem(request, ctx, key, body.model_dump(mode="json"), work)


@org_router.post("/checkin-plans/{plan_id}/deactivate", response_model=PlanRead)
def deactivate_plan(plan_id: int, ctx: Manage) -> PlanRead:
    p = svc.get_plan_or_raise(ctx.session, organisation_id=ctx.organisation_id, plan_id=plan_id)
    p.active = False
    ctx.audit("update", "checkin_plan", [p.id], ["active"])
    ctx.session.commit()
    return PlanRead.model_validate(p)


# check-ins and lone-worker sessions ------------------------------------------------------------
@org_router.post("/lone-worker-sessions", response_model=CheckinRead, status_code=201)
def start_session(request: Request, body: SessionStart, ctx: Respond,
                  key: IdemKey = None) -> Response:
    def work() -> tuple[int, Any]:
        c = svc.start_session(ctx.session, organisation_id=ctx.organisation_id,
                              member_id=body.member_id, now=clock_of(request).now(),
                              expected_end_at=body.expected_end_at,
                              grace_minutes=body.grace_minutes)
        ctx.audit("create", "checkin", [c.id], ["lone_worker"])
        return 201, CheckinRead.model_validate(c).model_dump(mode="json")
    return _idem(request, ctx, key, body.model_dump(mode="json"), work)


@org_router.post("/checkins/{checkin_id}/extend", response_model=CheckinRead)
def extend_session(request: Request, checkin_id: int, body: SessionExtend, ctx: Respond
                   ) -> CheckinRead:
    c = svc.extend_session(ctx.session, organisation_id=ctx.organisation_id,
                           checkin_id=checkin_id, new_end_at=body.expected_end_at,
                           now=clock_of(request).now())
    ctx.audit("update", "checkin", [c.id], ["expected_end_at"])
    ctx.session.commit()
    return CheckinRead.model_validate(c)


@org_router.post("/checkins/{checkin_id}/end", response_model=CheckinRead)
def end_session(request: Request, checkin_id: int, ctx: Respond) -> CheckinRead:
    c = svc.end_session(ctx.session, organisation_id=ctx.organisation_id, checkin_id=checkin_id,
                        now=clock_of(request).now(), user_id=ctx.user_id)
    ctx.audit("update", "checkin", [c.id], ["status"])
    ctx.session.commit()
    return CheckinRead.model_validate(c)


@org_router.post("/checkins/{checkin_id}/answer", response_model=CheckinRead)
def answer(request: Request, checkin_id: int, body: AnswerIn, ctx: Respond,
           key: IdemKey = None) -> Response:
    def work() -> tuple[int, Any]:
        c = svc.get_checkin_or_raise(ctx.session, organisation_id=ctx.organisation_id,
                                     checkin_id=checkin_id)
        svc.answer_checkin(ctx.session, checkin=c, answer=body.answer,
                           help_category=body.help_category, note=body.note, via=body.via,
                           now=clock_of(request).now(), user_id=ctx.user_id)
        ctx.audit("answer", "checkin", [c.id])
        return 200, CheckinRead.model_validate(c).model_dump(mode="json")
    return _idem(request, ctx, key, body.model_dump(mode="json"), work)


@org_router.get("/checkins", response_model=list[CheckinRead])
def list_checkins(request: Request, ctx: Read, day: dt.date | None = None,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[CheckinRead]:
    d = day or clock_of(request).now().date()
    start = dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC)
    return [CheckinRead.model_validate(c) for c in svc.list_checkins(
        ctx.session, organisation_id=ctx.organisation_id, since=start,
        until=start + dt.timedelta(days=1), limit=limit)]


@org_router.get("/members/{member_id}/checkins", response_model=list[CheckinRead])
def member_checkins(member_id: int, ctx: Read,
                    limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[CheckinRead]:
    return [CheckinRead.model_validate(c) for c in svc.list_checkins(
        ctx.session, organisation_id=ctx.organisation_id, member_id=member_id, limit=limit)]


@org_router.post("/pulses", response_model=list[CheckinRead], status_code=201)
def create_pulse(request: Request, body: PulseCreate, ctx: Manage, key: IdemKey = None
                 ) -> Response:
    def work() -> tuple[int, Any]:
        cs = svc.create_pulse(ctx.session, organisation_id=ctx.organisation_id,
                              group_id=body.group_id, question=body.question,
                              now=clock_of(request).now(), window_minutes=body.window_minutes,
                              channel=body.channel)
        ctx.audit("create", "checkin", [c.id for c in cs], ["pulse"])
        return 201, [CheckinRead.model_validate(c).model_dump(mode="json") for c in cs]
    return _idem(request, ctx, key, body.model_dump(mode="json"), work)


# alerts ----------------------------------------------------------------------------------------
def _keeping_refusal(session: Session, fn: Callable[[], Alert]) -> Alert:
    """Run ``fn``; if it is refused in a way the trail must keep, keep it, then refuse."""
    try:
        return fn()
    except SelfAcknowledgeError as exc:
        session.rollback()
        keep_refusal(session, exc)
        raise


@org_router.get("/alerts", response_model=list[AlertRead])
def list_alerts(ctx: Read, open_only: bool = True) -> list[AlertRead]:
    alerts = svc.list_alerts(ctx.session, organisation_id=ctx.organisation_id, open_only=open_only)
    nobody = reached_nobody(ctx.session, [a.id for a in alerts])
    return [AlertRead.model_validate(a).model_copy(update={"reached_nobody": a.id in nobody})
            for a in alerts]


@org_router.get("/alerts/{alert_id}")
def get_alert(alert_id: int, ctx: Read) -> dict[str, Any]:
    a = svc.get_alert_or_raise(ctx.session, organisation_id=ctx.organisation_id, alert_id=alert_id)
    trail = [AlertEventRead.model_validate(e).model_dump(mode="json")
             for e in svc.alert_trail(ctx.session, alert=a)]
    nobody = bool(reached_nobody(ctx.session, [a.id]))
    return {**AlertRead.model_validate(a).model_dump(mode="json"), "reached_nobody": nobody,
            "trail": trail}


@org_router.post("/alerts/{alert_id}/acknowledge", response_model=AlertRead)
def acknowledge_alert(request: Request, alert_id: int, ctx: Respond) -> AlertRead:
    a = _keeping_refusal(ctx.session, lambda: svc.acknowledge_alert(
        ctx.session, organisation_id=ctx.organisation_id, alert_id=alert_id,
        now=clock_of(request).now(), user_id=ctx.user_id))
    ctx.audit("acknowledge", "checkin_alert", [a.id])
    ctx.session.commit()
    return AlertRead.model_validate(a)


@org_router.post("/alerts/{alert_id}/resolve", response_model=AlertRead)
def resolve_alert(request: Request, alert_id: int, ctx: Respond) -> AlertRead:
    a = _keeping_refusal(ctx.session, lambda: svc.resolve_alert(
        ctx.session, organisation_id=ctx.organisation_id, alert_id=alert_id,
        now=clock_of(request).now(), user_id=ctx.user_id))
    ctx.audit("resolve", "checkin_alert", [a.id])
    ctx.session.commit()
    return AlertRead.model_validate(a)


@org_router.get("/escalation-policy")
def get_policy(ctx: Read) -> dict[str, Any]:
    return {"tiers": policy_tiers(ctx.session, organisation_id=ctx.organisation_id,
                                  policy_id=None)}


@org_router.put("/escalation-policy")
def put_policy(body: PolicyIn, ctx: Manage) -> dict[str, Any]:
    tiers = validate_tiers([t.model_dump() for t in body.tiers])
    pol = ctx.session.scalar(select(EscalationPolicy).where(
        EscalationPolicy.organisation_id == ctx.organisation_id,
        EscalationPolicy.name == body.name))
    if body.is_default:
        for other in ctx.session.scalars(select(EscalationPolicy).where(
                EscalationPolicy.organisation_id == ctx.organisation_id)):
            other.is_default = False
    if pol is None:
        pol = EscalationPolicy(organisation_id=ctx.organisation_id, name=body.name, tiers=tiers,
                               is_default=body.is_default)
        ctx.session.add(pol)
    pol.tiers, pol.is_default = tiers, body.is_default
    ctx.session.flush()
    ctx.audit("update", "escalation_policy", [pol.id])
    ctx.session.commit()
    return {"id": pol.id, "name": pol.name, "tiers": tiers, "is_default": pol.is_default}


@org_router.get("/outbox/stats")
def outbox_stats(ctx: Manage) -> dict[str, int]:
    rows = ctx.session.execute(select(OutboxMessage.status, func.count()).where(
        OutboxMessage.organisation_id == ctx.organisation_id).group_by(OutboxMessage.status))
    out = {str(s): int(n) for s, n in rows.all()}
    out["suspected_duplicates"] = int(ctx.session.scalar(select(func.count()).where(
        OutboxMessage.organisation_id == ctx.organisation_id,
        OutboxMessage.suspected_duplicate.is_(True))) or 0)
    return out


# safety checks ---------------------------------------------------------------------------------
def _check_read(session: Session, check: Any) -> dict[str, Any]:
    counts = safety_svc.safety_counts(session, check_id=check.id)
    return {**SafetyCheckRead.model_validate(check).model_dump(mode="json"), "counts": counts}


@org_router.post("/safety-checks", response_model=SafetyCheckRead, status_code=201)
def create_safety_check(request: Request, body: SafetyCheckCreate, ctx: Manage,
                        key: IdemKey = None) -> Response:
    def work() -> tuple[int, Any]:
        c = safety_svc.create_safety_check(
            ctx.session, organisation_id=ctx.organisation_id, community_id=body.community_id,
            title=body.title, message=body.message, selector=body.selector,
            channels=body.channels, reminder_minutes=body.reminder_minutes,
            max_reminders=body.max_reminders, now=clock_of(request).now(), user_id=ctx.user_id)
        ctx.audit("create", "safety_check", [c.id])
        return 201, _check_read(ctx.session, c)
    return _idem(request, ctx, key, body.model_dump(mode="json"), work)


@org_router.get("/safety-checks", response_model=list[SafetyCheckRead])
def list_safety_checks(ctx: Read) -> list[dict[str, Any]]:
    return [_check_read(ctx.session, c) for c in
            safety_svc.list_safety_checks(ctx.session, organisation_id=ctx.organisation_id)]


@org_router.get("/safety-checks/{check_id}", response_model=SafetyCheckRead)
def get_safety_check(check_id: int, ctx: Read) -> dict[str, Any]:
    c = safety_svc.get_safety_check_or_raise(ctx.session, organisation_id=ctx.organisation_id,
                                             check_id=check_id)
    return _check_read(ctx.session, c)


@org_router.get("/safety-checks/{check_id}/people")
def safety_people(check_id: int, ctx: Read, status: SafetyStatus | None = None,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 200,
                  offset: Annotated[int, Query(ge=0)] = 0) -> list[dict[str, Any]]:
    c = safety_svc.get_safety_check_or_raise(ctx.session, organisation_id=ctx.organisation_id,
                                             check_id=check_id)
    return [{"member_id": m.id, "display_name": m.display_name, "status": str(t.status),
             "help_category": t.help_category, "marked_at": t.marked_at,
             "marked_via": t.marked_via, "marked_by_user_id": t.marked_by_user_id,
             "marked_by_member_id": t.marked_by_member_id}
            for t, m in safety_svc.list_targets(ctx.session, check_id=c.id, status=status,
                                                limit=limit, offset=offset)]


@org_router.post("/safety-checks/{check_id}/marks")
def mark_person(request: Request, check_id: int, body: MarkIn, ctx: Respond,
                key: IdemKey = None) -> Response:
    def work() -> tuple[int, Any]:
        c = safety_svc.get_safety_check_or_raise(ctx.session, organisation_id=ctx.organisation_id,
                                                 check_id=check_id)
        t = safety_svc.mark(ctx.session, organisation_id=ctx.organisation_id, check_id=c.id,
                            member_id=body.member_id, status=body.status,
                            now=clock_of(request).now(), via="staff", user_id=ctx.user_id,
                            help_category=body.help_category, note=body.note)
        ctx.audit("mark", "safety_target", [t.id], ["status"])
        return 200, {"member_id": t.member_id, "status": str(t.status),
                     "marked_at": t.marked_at.isoformat()}
    return _idem(request, ctx, key, body.model_dump(mode="json"), work)


@org_router.post("/safety-checks/{check_id}/close", response_model=SafetyCheckRead)
def close_safety_check(check_id: int, ctx: Manage) -> dict[str, Any]:
    c = safety_svc.close_safety_check(ctx.session, organisation_id=ctx.organisation_id,
                                      check_id=check_id)
    ctx.audit("update", "safety_check", [c.id], ["closed"])
    ctx.session.commit()
    return _check_read(ctx.session, c)


@org_router.get("/safety-checks/{check_id}/export.csv")
def export_csv(check_id: int, ctx: Manage) -> PlainTextResponse:
    c = safety_svc.get_safety_check_or_raise(ctx.session, organisation_id=ctx.organisation_id,
                                             check_id=check_id)
    ctx.audit("export", "safety_check", [c.id], ["display_name", "status"])
    return PlainTextResponse(safety_csv(ctx.session, c), media_type="text/csv", headers={
        "Content-Disposition": f'attachment; filename="safety-check-{c.id}.csv"'})


@org_router.get("/safety-checks/{check_id}/export.pfif")
def export_pfif(check_id: int, ctx: Manage) -> Response:
    c = safety_svc.get_safety_check_or_raise(ctx.session, organisation_id=ctx.organisation_id,
                                             check_id=check_id)
    ctx.audit("export", "safety_check", [c.id], ["display_name", "status"], detail="pfif-1.4")
    return Response(safety_pfif(ctx.session, c), media_type="application/xml")


# public single-use links -----------------------------------------------------------------------
def _link_scope(token: str) -> str:
    return "link:" + hashlib.sha256(token.encode()).hexdigest()[:32]


def answer_by_link(session: Session, token: str, answer: Answer, now: dt.datetime, *,
                   help_category: str | None = None, code: str | None = None) -> dict[str, Any]:
    """Answer a check-in through its link. The reply never reveals a duress alarm."""
    link = consume_link(session, token, now=now, purpose=LinkPurpose.answer)
    c = session.get(Checkin, link.ref_id)
    if c is None:
        raise NotFoundError("this link is unknown or has expired")
    svc.answer_checkin(session, checkin=c, answer=answer, help_category=help_category,
                       code=code, via=Channel.web, now=now)
    shown = "ok" if c.answer in (Answer.ok, Answer.duress) else str(c.answer)
    return {"recorded": True, "answer": shown}


def mark_by_link(session: Session, token: str, status: SafetyStatus, now: dt.datetime, *,
                 help_category: str | None = None) -> dict[str, Any]:
    link = consume_link(session, token, now=now, purpose=LinkPurpose.safety)
    safety_svc.mark(session, organisation_id=link.organisation_id, check_id=None,
                    target_id=link.ref_id, status=status, now=now, via="link",
                    by_member_id=link.member_id, help_category=help_category)
    return {"recorded": True, "status": str(status)}


def ack_by_link(session: Session, token: str, now: dt.datetime) -> dict[str, Any]:
    link = consume_link(session, token, now=now, purpose=LinkPurpose.acknowledge)
    a = session.get(Alert, link.ref_id)
    if a is None:
        raise NotFoundError("this link is unknown or has expired")
    acknowledge(session, alert=a, now=now, user_id=link.user_id, member_id=link.member_id)
    return {"acknowledged": True, "alert_id": a.id}


def committer_of(request: Request) -> GroupCommitter:
    """The application's group committer (one writer thread per process, shared commits)."""
    committer: GroupCommitter = request.app.state.group_committer
    return committer


@asynccontextmanager
async def _trail_keeps_refusals(request: Request) -> AsyncIterator[None]:
    """A refused self-acknowledgement is rolled back with its batch; its trail row is then
    written in a batch of its own, and the refusal goes on to the caller."""
    try:
        yield
    except SelfAcknowledgeError as exc:
        await committer_of(request).run(exc.record)
        raise


async def run_link_answer(request: Request, work: Callable[[Session, dt.datetime], T]) -> T:
    """Run a single-use-link answer (API or page form) by the group committer, so a surge of
    answers shares commits; the result comes only after the answer's commit. Overload is refused
    fast with :class:`BusyError` (nothing stored, the link still unused)."""
    now = clock_of(request).now()
    async with _trail_keeps_refusals(request):
        return await committer_of(request).run(lambda session: work(session, now))


async def _link_write(request: Request, path: str, token: str, body: BaseModel, key: str | None,
                      work: Callable[[Session, dt.datetime], dict[str, Any]]) -> Response:
    """The API form of :func:`run_link_answer`, with ``Idempotency-Key``."""
    now = clock_of(request).now()
    async with _trail_keeps_refusals(request):
        status, out = await run_idempotent_batched(
            committer_of(request), scope=_link_scope(token), key=key,
            digest=request_hash("POST", path, body.model_dump(mode="json")) if key else "",
            now=now, work=lambda session: (200, work(session, now)))
    return JSONResponse(out, status_code=status)


@public_router.post("/respond")
async def respond(request: Request, body: LinkAnswerIn, key: IdemKey = None) -> Response:
    def work(session: Session, now: dt.datetime) -> dict[str, Any]:
        return answer_by_link(session, body.token, Answer(body.answer), now,
                              help_category=body.help_category, code=body.code)
    return await _link_write(request, "/respond", body.token, body, key, work)


@public_router.post("/safe")
async def safe(request: Request, body: LinkSafetyIn, key: IdemKey = None) -> Response:
    def work(session: Session, now: dt.datetime) -> dict[str, Any]:
        return mark_by_link(session, body.token, SafetyStatus(body.status), now,
                            help_category=body.help_category)
    return await _link_write(request, "/safe", body.token, body, key, work)


class LinkAckIn(BaseModel):
    token: str = Field(min_length=10, max_length=100)


@public_router.post("/ack")
async def ack(request: Request, body: LinkAckIn, key: IdemKey = None) -> Response:
    return await _link_write(request, "/ack", body.token, body, key,
                             lambda session, now: ack_by_link(session, body.token, now))


router = APIRouter()
router.include_router(org_router)
router.include_router(public_router)
