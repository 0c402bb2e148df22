"""Check-in pages: today's check-ins and open alerts (acknowledge with one button), the safety-check
board (counts refresh live with htmx), a member's check-in history, and the public single-use-link
pages (answer a check-in, say "I am safe", acknowledge an alert): GET shows, POST records."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from commonweal.auth.policy import Permission
from commonweal.checkins import safety as safety_svc
from commonweal.checkins import service as svc
from commonweal.checkins.escalation import keep_refusal, reached_nobody
from commonweal.checkins.links import peek_link
from commonweal.checkins.models import Answer, LinkPurpose, SafetyStatus
from commonweal.checkins.routes import ack_by_link, answer_by_link, mark_by_link, run_link_answer
from commonweal.checkins.service import HELP_CATEGORIES
from commonweal.errors import CommonwealError
from commonweal.registry.models import Member
from commonweal.registry.service import member_names
from commonweal.web.deps import OrgContext, SessionDep, clock_of, require
from commonweal.web.pages_common import FormCaller, render, shell_for

__all__ = ["org_router", "public_router", "router"]

org_router = APIRouter(prefix="/o/{org_id}/checkins", include_in_schema=False)
public_router = APIRouter(include_in_schema=False)

Reader = Annotated[OrgContext, Depends(require(Permission.checkins_read))]
Responder = Annotated[OrgContext, Depends(require(Permission.checkins_respond))]
Token = Annotated[str, Query(alias="t", max_length=100)]


def _names(ctx: OrgContext, ids: set[int]) -> dict[int, str]:
    return member_names(ctx.session, organisation_id=ctx.organisation_id, member_ids=list(ids))


def _alerts(ctx: OrgContext) -> list[Any]:
    return list(svc.list_alerts(ctx.session, organisation_id=ctx.organisation_id))


@org_router.get("")
def today(request: Request, ctx: Reader) -> Response:
    now = clock_of(request).now()
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    checkins = svc.list_checkins(ctx.session, organisation_id=ctx.organisation_id, since=start,
                                 until=start + dt.timedelta(days=1))
    alerts = _alerts(ctx)
    checks = safety_svc.list_safety_checks(ctx.session, organisation_id=ctx.organisation_id)
    names = _names(ctx, {c.member_id for c in checkins} | {a.member_id for a in alerts})
    return render(request, "checkins/today.html", {
        "shell": shell_for(ctx), "title": "Check-ins today", "checkins": checkins,
        "alerts": alerts, "names": names, "checks": checks[:10], "now": now,
        "nobody": reached_nobody(ctx.session, [a.id for a in alerts]),
        "can_respond": ctx.can(Permission.checkins_respond), "org_id": ctx.organisation_id})


@org_router.post("/alerts/{alert_id}/acknowledge")
def acknowledge(request: Request, alert_id: int, ctx: Responder, caller: FormCaller) -> Response:
    message = "You own this alert now: please make contact."
    try:
        svc.acknowledge_alert(ctx.session, organisation_id=ctx.organisation_id, alert_id=alert_id,
                              now=clock_of(request).now(), user_id=caller.user.id)
        ctx.audit("acknowledge", "checkin_alert", [alert_id])
        ctx.session.commit()
    except CommonwealError as exc:
        if exc.status_code == 404:
            raise
        ctx.session.rollback()
        keep_refusal(ctx.session, exc)
        message = exc.message
    a = svc.get_alert_or_raise(ctx.session, organisation_id=ctx.organisation_id,
                               alert_id=alert_id)
    return render(request, "checkins/_alert_row.html", {
        "a": a, "names": _names(ctx, {a.member_id}), "message": message,
        "can_respond": True, "org_id": ctx.organisation_id, "shell": shell_for(ctx)})


@org_router.get("/safety/{check_id}")
def safety_board(request: Request, check_id: int, ctx: Reader) -> Response:
    check = safety_svc.get_safety_check_or_raise(ctx.session, organisation_id=ctx.organisation_id,
                                                 check_id=check_id)
    counts = safety_svc.safety_counts(ctx.session, check_id=check.id)
    people = safety_svc.list_targets(ctx.session, check_id=check.id, limit=500)
    return render(request, "checkins/safety.html", {
        "shell": shell_for(ctx, check.community_id), "title": check.title, "check": check,
        "counts": counts, "people": people, "org_id": ctx.organisation_id})


@org_router.get("/safety/{check_id}/counts")
def safety_counts(request: Request, check_id: int, ctx: Reader) -> Response:
    check = safety_svc.get_safety_check_or_raise(ctx.session, organisation_id=ctx.organisation_id,
                                                 check_id=check_id)
    return render(request, "checkins/_safety_counts.html", {
        "check": check, "counts": safety_svc.safety_counts(ctx.session, check_id=check.id),
        "org_id": ctx.organisation_id}, vary_partial=True)


@org_router.get("/members/{member_id}")
def member_history(request: Request, member_id: int, ctx: Reader) -> Response:
    m = ctx.session.get(Member, member_id)
    if m is None or m.organisation_id != ctx.organisation_id:
        from commonweal.errors import NotFoundError

        raise NotFoundError(f"no member {member_id}")
    checkins = svc.list_checkins(ctx.session, organisation_id=ctx.organisation_id,
                                 member_id=m.id, limit=200)
    return render(request, "checkins/member.html", {
        "shell": shell_for(ctx, m.community_id), "title": f"Check-ins of {m.display_name}",
        "member": m, "checkins": checkins})


# public single-use-link pages ------------------------------------------------------------------
def _link_page(request: Request, session: Session, token: str, purpose: LinkPurpose,
               template: str) -> Response:
    try:
        link = peek_link(session, token, now=clock_of(request).now())
        if link.purpose != purpose:
            raise CommonwealError("this link is unknown or has expired")
    except CommonwealError as exc:
        return render(request, "checkins/link_done.html", {
            "title": "Link not valid", "message": exc.message}, status_code=410)
    return render(request, template, {"title": "commonweal", "token": token,
                                      "categories": HELP_CATEGORIES})


async def _done(request: Request, work: Callable[[Session, dt.datetime], str]) -> Response:
    """Record a link answer from its page (through the same group committer as the API)."""
    try:
        message = await run_link_answer(request, work)
    except CommonwealError as exc:
        return render(request, "checkins/link_done.html", {
            "title": "Not recorded", "message": exc.message}, status_code=exc.status_code)
    return render(request, "checkins/link_done.html", {"title": "Thank you", "message": message})


@public_router.get("/respond")
def respond_page(request: Request, session: SessionDep, t: Token = "") -> Response:
    return _link_page(request, session, t, LinkPurpose.answer, "checkins/respond.html")


@public_router.post("/respond")
async def respond_post(request: Request, t: Annotated[str, Form()],
                       answer: Annotated[str, Form()],
                       help_category: Annotated[str | None, Form()] = None,
                       code: Annotated[str | None, Form()] = None) -> Response:
    def run(session: Session, now: dt.datetime) -> str:
        ans = Answer(answer) if answer in ("ok", "need_help", "uncomfortable") else Answer.ok
        out = answer_by_link(session, t, ans, now,
                             help_category=help_category or None, code=code or None)
        return {"ok": "Thank you. We have noted that you are all right.",
                "need_help": "Thank you. Someone will contact you soon.",
                "uncomfortable": "Thank you for saying so. Someone will check in with you."
                }[out["answer"]]
    return await _done(request, run)


@public_router.get("/safe")
def safe_page(request: Request, session: SessionDep, t: Token = "") -> Response:
    return _link_page(request, session, t, LinkPurpose.safety, "checkins/safe.html")


@public_router.post("/safe")
async def safe_post(request: Request, t: Annotated[str, Form()],
                    status: Annotated[str, Form()],
                    help_category: Annotated[str | None, Form()] = None) -> Response:
    def run(session: Session, now: dt.datetime) -> str:
        st = SafetyStatus.need_help if status == "need_help" else SafetyStatus.safe
        mark_by_link(session, t, st, now, help_category=help_category)
        return ("Thank you. Someone will contact you soon." if st == SafetyStatus.need_help
                else "Thank you. You are marked safe.")
    return await _done(request, run)


@public_router.get("/ack")
def ack_page(request: Request, session: SessionDep, t: Token = "") -> Response:
    return _link_page(request, session, t, LinkPurpose.acknowledge, "checkins/ack.html")


@public_router.post("/ack")
async def ack_post(request: Request, t: Annotated[str, Form()]) -> Response:
    def run(session: Session, now: dt.datetime) -> str:
        ack_by_link(session, t, now)
        return "Thank you: the alert is yours. Others have been told it is taken."
    return await _done(request, run)

router = APIRouter(include_in_schema=False)
router.include_router(org_router)
router.include_router(public_router)
