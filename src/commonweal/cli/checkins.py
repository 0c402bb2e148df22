"""`commonweal checkins ...` (plans, today's check-ins, alerts, safety checks, exports) and
`commonweal worker` (the process that escalates and sends)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional

import typer

from commonweal.cli._common import console, friendly_errors, print_json, settings_from_ctx
from commonweal.cli._db import open_db, resolve_org, transaction

__all__ = ["app", "build_notifier", "mount", "worker"]

app = typer.Typer(help="Check-ins, alerts and safety checks.", no_args_is_help=True)


def mount(root: typer.Typer) -> None:
    """Mount ``commonweal checkins ...`` and the top-level ``commonweal worker``."""
    root.add_typer(app, name="checkins")
    root.command("worker")(worker)


def _member_id(s: Any, org_id: int, external_id: str) -> int:
    from sqlalchemy import select

    from commonweal.errors import NotFoundError
    from commonweal.registry.models import Member

    mid = s.scalar(select(Member.id).where(Member.organisation_id == org_id,
                                           Member.external_id == external_id))
    if mid is None:
        raise NotFoundError(f"no member with external id {external_id!r}")
    return int(mid)


@app.command("plan")
@friendly_errors
def plan(
    ctx: typer.Context,
    member: str = typer.Option(..., "--member", help="The member's external id."),
    at: str = typer.Option("09:00", "--at", help="Window start, HH:MM UTC."),
    window: int = typer.Option(60, "--window", help="Window length in minutes."),
    grace: int = typer.Option(15, "--grace", help="Grace period in minutes."),
    channel: str = typer.Option("sms", "--channel", help="sms, email, web or call."),
    weekday: Optional[int] = typer.Option(  # noqa: UP045 - typer needs Optional
        None, "--weekday", help="Weekly on this day (0 = Monday); daily when omitted."),
    org: Optional[str] = typer.Option(None, "--org", help="Organisation."),  # noqa: UP045
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Create a recurring reassurance check-in plan for a member."""
    from commonweal.checkins import service as svc
    from commonweal.checkins.clock import SystemClock
    from commonweal.checkins.models import Channel, Recurrence

    hh, mm = (int(x) for x in at.split(":"))
    with transaction(open_db(settings_from_ctx(ctx))) as s:
        o = resolve_org(s, org)
        p = svc.create_plan(s, organisation_id=o.id, member_id=_member_id(s, o.id, member),
                            now=SystemClock().now(), window_start_minute=hh * 60 + mm,
                            window_minutes=window, grace_minutes=grace, channel=Channel(channel),
                            recurrence=Recurrence.weekly if weekday is not None
                            else Recurrence.daily, weekday=weekday)
        out = {"plan_id": p.id, "member_id": p.member_id, "window_start_minute": hh * 60 + mm}
    print_json(out) if as_json else console.print(f"plan {out['plan_id']} created")


def _print_rows(rows: list[dict[str, Any]], as_json: bool,
                line: Callable[[dict[str, Any]], str]) -> None:
    if as_json:
        print_json(rows)
        return
    for r in rows:
        console.print(line(r), highlight=False)


@app.command("today")
@friendly_errors
def today(ctx: typer.Context,
          org: Optional[str] = typer.Option(None, "--org"),  # noqa: UP045
          as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List today's check-ins (UTC day)."""
    from commonweal.checkins import service as svc
    from commonweal.checkins.clock import SystemClock

    now = SystemClock().now()
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    with transaction(open_db(settings_from_ctx(ctx))) as s:
        o = resolve_org(s, org)
        rows = [{"id": c.id, "member_id": c.member_id, "kind": str(c.kind),
                 "status": str(c.status), "due_at": c.due_at.isoformat(),
                 "answer": str(c.answer) if c.answer else None}
                for c in svc.list_checkins(s, organisation_id=o.id, since=start,
                                           until=start + dt.timedelta(days=1))]
    _print_rows(rows, as_json, lambda r: f"#{r['id']} member {r['member_id']} {r['kind']} "
                f"{r['status']} due {r['due_at']} {r['answer'] or ''}")


@app.command("alerts")
@friendly_errors
def alerts(ctx: typer.Context,
           org: Optional[str] = typer.Option(None, "--org"),  # noqa: UP045
           as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List open and acknowledged alerts."""
    from commonweal.checkins import service as svc
    from commonweal.checkins.escalation import reached_nobody

    with transaction(open_db(settings_from_ctx(ctx))) as s:
        o = resolve_org(s, org)
        found = svc.list_alerts(s, organisation_id=o.id)
        nobody = reached_nobody(s, [a.id for a in found])
        rows: list[dict[str, Any]] = [
            {"id": a.id, "member_id": a.member_id, "reason": str(a.reason),
             "status": str(a.status), "tier": a.current_tier, "exhausted": a.exhausted,
             "reached_nobody": a.id in nobody, "created_at": a.created_at.isoformat()}
            for a in found]
    _print_rows(rows, as_json, lambda r: f"#{r['id']} member {r['member_id']} {r['reason']} "
                f"{r['status']} step {r['tier'] + 1}"
                + ("  NOBODY REACHED: call someone" if r["reached_nobody"] else ""))


@app.command("safety-check")
@friendly_errors
def safety_check(
    ctx: typer.Context,
    community: str = typer.Option(..., "--community", help="Community name."),
    title: str = typer.Option(..., "--title"),
    message: str = typer.Option("Are you safe?", "--message"),
    radius: Optional[str] = typer.Option(  # noqa: UP045
        None, "--radius", help="LAT,LON,KM: only members within this circle."),
    org: Optional[str] = typer.Option(None, "--org"),  # noqa: UP045
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Start a safety check: prompt everyone affected and count who is safe."""
    from commonweal.checkins import safety
    from commonweal.checkins.clock import SystemClock
    from commonweal.cli._db import resolve_community

    selector: dict[str, Any] = {"kind": "community"}
    if radius:
        lat, lon, km = (float(x) for x in radius.split(","))
        selector = {"kind": "radius", "lat": lat, "lon": lon, "radius_km": km}
    with transaction(open_db(settings_from_ctx(ctx))) as s:
        o = resolve_org(s, org)
        c = resolve_community(s, o, community, create=False)
        check = safety.create_safety_check(s, organisation_id=o.id, community_id=c.id,
                                           title=title, message=message, selector=selector,
                                           now=SystemClock().now())
        s.flush()
        out = {"safety_check_id": check.id, **safety.safety_counts(s, check_id=check.id)}
    print_json(out) if as_json else console.print(
        f"safety check {out['safety_check_id']}: {out['total']} people prompted")


@app.command("close-safety-check")
@friendly_errors
def close_safety_check(ctx: typer.Context,
                       check_id: int = typer.Argument(..., help="Safety check id."),
                       org: Optional[str] = typer.Option(None, "--org")) -> None:  # noqa: UP045
    """Close a safety check: reminders stop; marks and counts are kept."""
    from commonweal.checkins import safety

    with transaction(open_db(settings_from_ctx(ctx))) as s:
        o = resolve_org(s, org)
        check = safety.close_safety_check(s, organisation_id=o.id, check_id=check_id)
        counts = safety.safety_counts(s, check_id=check.id)
    console.print(f"safety check {check_id} closed: {counts['safe']} safe, "
                  f"{counts['need_help']} need help, {counts['no_answer']} no answer")


@app.command("export")
@friendly_errors
def export(ctx: typer.Context, check_id: int = typer.Argument(..., help="Safety check id."),
           fmt: str = typer.Option("csv", "--format", help="csv or pfif (PFIF 1.4 notes)."),
           out: Optional[Path] = typer.Option(None, "--out", help="File (default stdout)."),  # noqa: UP045
           org: Optional[str] = typer.Option(None, "--org")) -> None:  # noqa: UP045
    """Export a safety check as CSV or PFIF 1.4 notes."""
    from commonweal.checkins import safety
    from commonweal.checkins.export import safety_csv, safety_pfif

    with transaction(open_db(settings_from_ctx(ctx))) as s:
        o = resolve_org(s, org)
        check = safety.get_safety_check_or_raise(s, organisation_id=o.id, check_id=check_id)
        text = safety_pfif(s, check) if fmt == "pfif" else safety_csv(s, check)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")


def build_notifier(*, file: Path | None, smtp_host: str | None, smtp_port: int,
                   smtp_from: str, sms_url: str | None, sms_account: str | None,
                   sms_from: str | None, webhook_url: str | None) -> Any:
    """A notifier per channel from the options (secrets from the environment only)."""
    from commonweal.notify import (
        HttpSmsProvider,
        JsonlNotifier,
        RoutingNotifier,
        SmsNotifier,
        SmtpEmailNotifier,
        WebhookNotifier,
    )

    fallback = JsonlNotifier(file or Path("commonweal-outbox.jsonl"))
    routes: dict[str, Any] = {"sms": fallback, "email": fallback, "webhook": fallback}
    if smtp_host:
        routes["email"] = SmtpEmailNotifier(
            smtp_host, smtp_port, sender=smtp_from, starttls=bool(os.environ.get("SMTP_STARTTLS")),
            username=os.environ.get("COMMONWEAL_SMTP_USER"),
            password=os.environ.get("COMMONWEAL_SMTP_PASSWORD"))
    if sms_url and sms_account:
        routes["sms"] = SmsNotifier(HttpSmsProvider(
            sms_url, sms_account, os.environ.get("COMMONWEAL_SMS_TOKEN", ""), sms_from or ""))
    if webhook_url:
        routes["webhook"] = WebhookNotifier(webhook_url,
                                            os.environ.get("COMMONWEAL_WEBHOOK_SECRET", ""))
    return RoutingNotifier(routes)


@friendly_errors
def worker(
    ctx: typer.Context,
    once: bool = typer.Option(False, "--once", help="One pass, then exit (cron, tests)."),
    public_url: str = typer.Option("http://127.0.0.1:8000", "--public-url",
                                   help="Base URL of the single-use links in messages."),
    poll: float = typer.Option(0.5, "--poll", help="Seconds between passes when idle."),
    lease: float = typer.Option(60.0, "--lease", help="Seconds a claim is held."),
    file: Optional[Path] = typer.Option(  # noqa: UP045
        None, "--file", help="Append messages for unconfigured channels to this JSONL file."),
    smtp_host: Optional[str] = typer.Option(None, "--smtp-host"),  # noqa: UP045
    smtp_port: int = typer.Option(25, "--smtp-port"),
    smtp_from: str = typer.Option("commonweal@localhost", "--smtp-from"),
    sms_url: Optional[str] = typer.Option(  # noqa: UP045
        None, "--sms-url", help="SMS API base URL (token in COMMONWEAL_SMS_TOKEN)."),
    sms_account: Optional[str] = typer.Option(None, "--sms-account"),  # noqa: UP045
    sms_from: Optional[str] = typer.Option(None, "--sms-from"),  # noqa: UP045
    webhook_url: Optional[str] = typer.Option(  # noqa: UP045
        None, "--webhook-url", help="Signed webhooks (secret in COMMONWEAL_WEBHOOK_SECRET)."),
) -> None:
    """Run the worker: open check-ins, escalate missed ones, send the outbox. Stops on SIGTERM."""
    from commonweal.checkins.clock import SystemClock
    from commonweal.checkins.worker import WorkerConfig, run_worker

    factory = open_db(settings_from_ctx(ctx))
    notifier = build_notifier(file=file, smtp_host=smtp_host, smtp_port=smtp_port,
                              smtp_from=smtp_from, sms_url=sms_url, sms_account=sms_account,
                              sms_from=sms_from, webhook_url=webhook_url)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    config = WorkerConfig(public_url=public_url, poll_interval=poll, lease_seconds=lease)
    total = run_worker(factory, notifier, SystemClock(), stop, config=config, once=once)
    console.print(f"worker stopped: {total.work_done} work items, {total.sent} messages sent, "
                  f"{total.send_failures} send failures", highlight=False)
