"""`commonweal aid ...`: the mutual-aid exchange from the command line.

Needs (board and intake), matching runs with reasons, the stale-claim sweep (run it from cron or a
worker), the inbound webhook secret, the time-bank ledger and crisis-report exports.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError

from commonweal.cli._common import console, friendly_errors, print_json, settings_from_ctx
from commonweal.cli._db import open_db, resolve_community, resolve_org, transaction
from commonweal.mutual_aid.clock import SYSTEM_CLOCK

__all__ = ["app"]

app = typer.Typer(
    help="Mutual aid: needs, matching, claims, time bank, crisis map.", no_args_is_help=True
)

OrgOpt = typer.Option(None, "--org", help="Organisation (name or slug; default: the only one).")
CommunityOpt = typer.Option(..., "--community", help="Community name.")
JsonOpt = typer.Option(False, "--json", help="Print one JSON document.")
M = TypeVar("M", bound=BaseModel)


def _model(cls: type[M], **values: Any) -> M:
    """Validate options into a schema; problems become an InputError naming each option."""
    from commonweal.errors import InputError, Problem

    try:
        return cls(**values)
    except ValidationError as exc:
        raise InputError(
            "invalid options",
            [
                Problem(
                    e.get("msg", ""),
                    field="--" + ".".join(str(p) for p in e.get("loc", ())).replace("_", "-"),
                )
                for e in exc.errors()
            ],
        ) from None


@app.command("settings")
@friendly_errors
def settings_cmd(
    ctx: typer.Context,
    community: str = CommunityOpt,
    org: str | None = OrgOpt,
    mode: str | None = typer.Option(
        None, "--mode", help="peer_to_peer | dispatcher_assisted | fully_moderated"
    ),
    claim_ttl_s: int | None = typer.Option(
        None, "--claim-ttl-s", help="Seconds before an idle claim is released."
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Show or change a community's exchange settings."""
    from commonweal.mutual_aid import service
    from commonweal.mutual_aid.schemas import CommunitySettingsRead, CommunitySettingsUpdate

    with transaction(open_db(settings_from_ctx(ctx))) as s:
        o = resolve_org(s, org)
        c = resolve_community(s, o, community, create=False)
        row = service.update_community_settings(
            s,
            organisation_id=o.id,
            community_id=c.id,
            data=_model(CommunitySettingsUpdate, moderation_mode=mode, claim_ttl_s=claim_ttl_s),
        )
        out = CommunitySettingsRead.model_validate(row).model_dump(mode="json")
    if as_json:
        print_json(out)
    else:
        for k, v in out.items():
            console.print(f"{k}: {v}")


@app.command("need")
@friendly_errors
def add_need(
    ctx: typer.Context,
    community: str = CommunityOpt,
    org: str | None = OrgOpt,
    category: str = typer.Option(..., "--category", help="groceries, transport, check_in ..."),
    description: str = typer.Option("", "--description"),
    urgency: int = typer.Option(2, "--urgency", min=1, max=4, help="1 low .. 4 critical"),
    area: str | None = typer.Option(None, "--area", help="Public approximate area."),
    address: str | None = typer.Option(None, "--address", help="Private."),
    contact: str | None = typer.Option(None, "--contact", help="Private phone or e-mail."),
    lat: float | None = typer.Option(None, "--lat"),
    lon: float | None = typer.Option(None, "--lon"),
) -> None:
    """Record a need taken by phone or on paper (channel ``cli``)."""
    from commonweal.mutual_aid import service
    from commonweal.mutual_aid.schemas import NeedCreate
    from commonweal.mutual_aid.vocab import Channel

    with transaction(open_db(settings_from_ctx(ctx))) as s:
        o = resolve_org(s, org)
        c = resolve_community(s, o, community, create=False)
        data = _model(
            NeedCreate,
            category=category,
            description=description,
            urgency=urgency,
            area=area,
            address=address,
            contact=contact,
            lat=lat,
            lon=lon,
        )
        need = service.create_need(
            s,
            organisation_id=o.id,
            community_id=c.id,
            data=data,
            channel=Channel.cli,
            clock=SYSTEM_CLOCK,
            moderated=True,
        )
        dup = need.suspected_duplicate_of_id
        nid = need.id
    console.print(f"need #{nid} recorded" + (f" (looks like a duplicate of #{dup})" if dup else ""))


@app.command("needs")
@friendly_errors
def list_needs(
    ctx: typer.Context,
    community: str = CommunityOpt,
    org: str | None = OrgOpt,
    as_json: bool = JsonOpt,
) -> None:
    """The board: open needs without private details."""
    from commonweal.mutual_aid import service, workflow
    from commonweal.mutual_aid.views import need_read

    with transaction(open_db(settings_from_ctx(ctx))) as s:
        o = resolve_org(s, org)
        c = resolve_community(s, o, community, create=False)
        workflow.sweep(s, organisation_id=o.id, clock=SYSTEM_CLOCK)
        rows, _ = service.list_needs(
            s,
            organisation_id=o.id,
            community_id=c.id,
            statuses=list(service.OPEN_STATUSES),
            limit=500,
        )
        out = [need_read(n, reveal=False).model_dump(mode="json") for n in rows]
    if as_json:
        print_json(out)
        return
    for n in out:
        console.print(
            f"#{n['id']} {n['category']} urgency {n['urgency']} "
            f"{n['area'] or ''} [{n['status']}, via {n['channel']}]",
            markup=False,
        )


@app.command("match")
@friendly_errors
def match(
    ctx: typer.Context,
    community: str = CommunityOpt,
    org: str | None = OrgOpt,
    objective: str = typer.Option("urgent_first", "--objective", help="urgent_first | score"),
    as_json: bool = JsonOpt,
) -> None:
    """Run the matching engine on the open needs and store its suggestions with reasons."""
    from commonweal.mutual_aid import dispatch
    from commonweal.mutual_aid.schemas import SuggestionRead

    if objective not in ("urgent_first", "score"):
        from commonweal.errors import InputError

        raise InputError(f"unknown objective {objective!r}: urgent_first or score")
    with transaction(open_db(settings_from_ctx(ctx))) as s:
        o = resolve_org(s, org)
        c = resolve_community(s, o, community, create=False)
        run = dispatch.run_matching(
            s,
            organisation_id=o.id,
            community_id=c.id,
            clock=SYSTEM_CLOCK,
            by_user_id=None,
            objective=objective,  # type: ignore[arg-type]
        )
        sugg = [
            SuggestionRead.model_validate(x).model_dump(mode="json")
            for x in dispatch.list_suggestions(s, organisation_id=o.id, run_id=run.id)
        ]
        summary: dict[str, Any] = dict(run.summary)
        out = {"run_id": run.id, "method": run.method, "summary": summary, "suggestions": sugg}
    if as_json:
        print_json(out)
        return
    if "optimal" in summary:
        console.print(
            f"needs met {summary['optimal']['needs_met']} "
            f"(greedy {summary['greedy']['needs_met']}) of "
            f"{summary['optimal']['needs_total']}",
            markup=False,
        )
    for x in sugg:
        console.print(
            f"need #{x['need_id']} -> offer {x['offer_id']} "
            f"(score {x['score']:.2f}): {'; '.join(x['reasons'])}",
            markup=False,
        )


@app.command("sweep")
@friendly_errors
def sweep(ctx: typer.Context, org: str | None = OrgOpt, as_json: bool = JsonOpt) -> None:
    """Release claims past their due time and approve unanswered take-over requests."""
    from commonweal.mutual_aid import workflow

    with transaction(open_db(settings_from_ctx(ctx))) as s:
        o = resolve_org(s, org)
        result = workflow.sweep(s, organisation_id=o.id, clock=SYSTEM_CLOCK)
    if as_json:
        print_json(result.to_dict())
    else:
        console.print(
            f"released {len(result.expired_claims)} claim(s), approved "
            f"{len(result.auto_approved_takeovers)} take-over(s)"
        )


@app.command("inbound-secret")
@friendly_errors
def inbound_secret(ctx: typer.Context, org: str | None = OrgOpt) -> None:
    """Set a new secret for the signed e-mail/SMS webhooks and print it once."""
    from commonweal.mutual_aid import inbound

    with transaction(open_db(settings_from_ctx(ctx))) as s:
        o = resolve_org(s, org)
        secret = inbound.rotate_secret(s, organisation_id=o.id)
    typer.echo(secret)


@app.command("balances")
@friendly_errors
def balances(ctx: typer.Context, org: str | None = OrgOpt, as_json: bool = JsonOpt) -> None:
    """Time-bank balances (seconds) and the ledger check."""
    from commonweal.mutual_aid import ledger

    with transaction(open_db(settings_from_ctx(ctx))) as s:
        o = resolve_org(s, org)
        accs = [
            {"account_id": a.id, "name": a.name, "member_id": a.member_id, "balance_s": a.balance_s}
            for a in ledger.list_accounts(s, organisation_id=o.id)
        ]
        problems = ledger.verify(s, organisation_id=o.id)
    if as_json:
        print_json({"accounts": accs, "problems": problems})
        return
    for a in accs:
        console.print(f"{a['account_id']:>5}  {a['balance_s']:>9} s  {a['name']}", markup=False)
    console.print("ledger ok" if not problems else "\n".join(problems), markup=False)


@app.command("transfer")
@friendly_errors
def transfer(
    ctx: typer.Context,
    from_account: int = typer.Argument(..., help="Paying account id."),
    to_account: int = typer.Argument(..., help="Receiving account id."),
    seconds: int = typer.Argument(..., help="Whole seconds (3600 = one hour)."),
    memo: str | None = typer.Option(None, "--memo"),
    kind: str = typer.Option("exchange", "--kind", help="exchange | grant | adjustment"),
    org: str | None = OrgOpt,
) -> None:
    """Move time between two accounts (two entries, one transaction; limits enforced)."""
    from commonweal.mutual_aid import ledger
    from commonweal.mutual_aid.vocab import TransferKind

    with transaction(open_db(settings_from_ctx(ctx))) as s:
        o = resolve_org(s, org)
        t = ledger.transfer(
            s,
            organisation_id=o.id,
            from_account_id=from_account,
            to_account_id=to_account,
            amount_s=seconds,
            kind=TransferKind(kind),
            memo=memo,
        )
        tid = t.id
    console.print(f"transfer {tid}: {seconds} s from {from_account} to {to_account}")


@app.command("reciprocity")
@friendly_errors
def reciprocity(ctx: typer.Context, org: str | None = OrgOpt, as_json: bool = JsonOpt) -> None:
    """Give/receive per member and the share of members who both give and receive."""
    from commonweal.mutual_aid import ledger

    with transaction(open_db(settings_from_ctx(ctx))) as s:
        o = resolve_org(s, org)
        out = ledger.reciprocity(s, organisation_id=o.id).to_dict()
    if as_json:
        print_json(out)
    else:
        console.print(
            f"members active {out['active_members']}, giving and receiving "
            f"{out['both_give_and_receive']} (share {out['share_both']})"
        )


@app.command("crisis-export")
@friendly_errors
def crisis_export(
    ctx: typer.Context,
    out: Path = typer.Argument(..., help="Output file."),
    fmt: str = typer.Option("csv", "--format", help="csv | hxl | geojson"),
    org: str | None = OrgOpt,
    status: list[str] = typer.Option([], "--status", help="Repeat to keep several statuses."),
) -> None:
    """Export crisis reports as CSV, HXL-tagged CSV or GeoJSON."""
    import json

    from commonweal.errors import InputError
    from commonweal.mutual_aid import crisis
    from commonweal.mutual_aid.vocab import ReportStatus

    if fmt not in ("csv", "hxl", "geojson"):
        raise InputError(f"unknown format {fmt!r}: csv, hxl or geojson")
    try:
        statuses = [ReportStatus(x) for x in status]
    except ValueError as exc:
        raise InputError(f"unknown status: {exc}") from exc
    with transaction(open_db(settings_from_ctx(ctx))) as s:
        o = resolve_org(s, org)
        rows = crisis.list_reports(s, organisation_id=o.id, statuses=statuses or None)
        text = (
            json.dumps(crisis.reports_geojson(rows), indent=1)
            if fmt == "geojson"
            else crisis.reports_csv(rows, hxl=fmt == "hxl")
        )
    out.write_text(text, encoding="utf-8")
    console.print(f"{len(rows)} report(s) written to {out}")
