"""`commonweal survey waves ...`: survey waves in the database (create, list, import, score, report).

Thin commands over :mod:`commonweal.surveys.service` and :mod:`commonweal.surveys.analysis`; the
file-only commands (`survey score`, `survey cfa`, `survey report`) live in ``cli/survey.py``.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Any, Optional

import typer

from commonweal.cli._common import console, friendly_errors, print_json, settings_from_ctx
from commonweal.cli._db import open_db, resolve_community, resolve_org, transaction

__all__ = ["app"]

app = typer.Typer(help="Survey waves stored in the database: create, import, score, report.",
                  no_args_is_help=True)

Org = typer.Option(None, "--org", help="Organisation name (default: the only one).")
JsonOut = typer.Option(False, "--json", help="Print JSON.")


def _date(value: str | None, name: str) -> dt.date | None:
    from commonweal.errors import InputError

    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise InputError(f"{name} must be a date like 2026-03-01, not {value!r}") from exc


def _definition(instrument: str) -> dict[str, Any]:
    """The wave's instrument fields: a .toml/.json file is uploaded, anything else is bundled."""
    import json

    from commonweal.errors import Problem, SpecError

    path = Path(instrument)
    if path.suffix not in (".toml", ".json"):
        return {"instrument_id": instrument}
    text = path.read_text(encoding="utf-8")
    try:
        doc = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise SpecError(f"{path.name} is not valid {path.suffix[1:].upper()}",
                        [Problem(str(exc), file=path.name)]) from exc
    return {"instrument_definition": doc}


@app.command("create")
@friendly_errors
def create_cmd(
    ctx: typer.Context,
    community: str = typer.Option(..., "--community", "-c", help="Community name."),
    instrument: str = typer.Option(..., "--instrument", "-i",
                                   help="Bundled instrument id, or a .toml/.json definition."),
    title: str = typer.Option(..., "--title", help="Title of the wave."),
    opens: Optional[str] = typer.Option(None, "--opens", help="Opening date (YYYY-MM-DD)."),  # noqa: UP045
    closes: Optional[str] = typer.Option(None, "--closes", help="Closing date (YYYY-MM-DD)."),  # noqa: UP045
    status: str = typer.Option("draft", "--status", help="draft, open or closed."),
    anonymous: bool = typer.Option(False, "--anonymous",
                                   help="Responses are never linked to members."),
    org: Optional[str] = Org,  # noqa: UP045
    json_out: bool = JsonOut,
) -> None:
    """Create a survey wave: an instrument given to a community between two dates."""
    from pydantic import ValidationError

    from commonweal.errors import InputError, Problem
    from commonweal.surveys import service as svc
    from commonweal.surveys.schemas import SurveyCreate

    try:
        data = SurveyCreate.model_validate({
            "title": title, **_definition(instrument), "opens_on": _date(opens, "--opens"),
            "closes_on": _date(closes, "--closes"), "status": status, "anonymous": anonymous})
    except ValidationError as exc:
        raise InputError("invalid wave", [Problem(e["msg"], field=".".join(map(str, e["loc"])))
                                          for e in exc.errors()]) from exc
    factory = open_db(settings_from_ctx(ctx))
    with transaction(factory) as s:
        o = resolve_org(s, org)
        c = resolve_community(s, o, community, create=False)
        w = svc.create_survey(s, organisation_id=o.id, community_id=c.id, data=data)
        wid, iid = w.id, w.instrument_id
    if json_out:
        print_json({"id": wid, "instrument_id": iid, "community": community})
        return
    console.print(f"survey wave {wid} created ({iid}) in {community!r}", highlight=False)


@app.command("list")
@friendly_errors
def list_cmd(
    ctx: typer.Context,
    community: str = typer.Option(..., "--community", "-c", help="Community name."),
    org: Optional[str] = Org,  # noqa: UP045
    json_out: bool = JsonOut,
) -> None:
    """List the survey waves of a community with their response counts."""
    from commonweal.surveys import service as svc
    from commonweal.surveys.schemas import SurveyRead

    factory = open_db(settings_from_ctx(ctx))
    with transaction(factory) as s:
        o = resolve_org(s, org)
        c = resolve_community(s, o, community, create=False)
        rows = [{**SurveyRead.model_validate(w).model_dump(mode="json"),
                 "responses": svc.response_counts(s, organisation_id=o.id,
                                                  survey_id=w.id)["total"]}
                for w in svc.list_surveys(s, organisation_id=o.id, community_id=c.id)]
    if json_out:
        print_json(rows)
        return
    from rich.table import Table

    table = Table("id", "title", "instrument", "opens", "closes", "status", "responses")
    for r in rows:
        table.add_row(str(r["id"]), r["title"], r["instrument_id"], r["opens_on"] or "",
                      r["closes_on"] or "", r["status"], str(r["responses"]))
    console.print(table)


@app.command("import-responses")
@friendly_errors
def import_cmd(
    ctx: typer.Context,
    wave: int = typer.Argument(..., help="Survey wave id."),
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="Responses CSV."),
    fmt: str = typer.Option("csv", "--format", help="csv, kobo (Kobo/ODK export) or redcap."),
    respondent_column: Optional[str] = typer.Option(  # noqa: UP045
        None, "--respondent-column", help="Column holding the respondent key."),
    org: Optional[str] = Org,  # noqa: UP045
    json_out: bool = JsonOut,
) -> None:
    """Import and score a responses file into a wave: all rows or none."""
    from commonweal.errors import InputError
    from commonweal.surveys import service as svc

    if fmt not in svc.FORMATS:
        raise InputError(f"--format must be one of {', '.join(svc.FORMATS)}")
    factory = open_db(settings_from_ctx(ctx))
    with transaction(factory) as s:
        o = resolve_org(s, org)
        report = svc.import_responses(s, organisation_id=o.id, survey_id=wave, path=file,
                                      fmt=fmt, respondent_column=respondent_column)
    if json_out:
        print_json(report.to_dict())
        return
    console.print(f"{report.responses} responses and {report.scores} scores stored in wave "
                  f"{wave} from {report.file}", highlight=False)


@app.command("score")
@friendly_errors
def score_cmd(
    ctx: typer.Context,
    wave: int = typer.Argument(..., help="Survey wave id."),
    org: Optional[str] = Org,  # noqa: UP045
) -> None:
    """Re-score every stored response of a wave (replaces its stored scores)."""
    from commonweal.surveys import service as svc

    factory = open_db(settings_from_ctx(ctx))
    with transaction(factory) as s:
        o = resolve_org(s, org)
        n = svc.score_survey(s, organisation_id=o.id, survey_id=wave)
    console.print(f"{n} scores stored for wave {wave}", highlight=False)


@app.command("report")
@friendly_errors
def report_cmd(
    ctx: typer.Context,
    wave: int = typer.Argument(..., help="Survey wave id."),
    group: Optional[str] = typer.Option(None, "--group",  # noqa: UP045
                                        help="Respondent attribute for the invariance table."),
    org: Optional[str] = Org,  # noqa: UP045
    json_out: bool = JsonOut,
) -> None:
    """Report of a wave: subscale scores, reliability, CFA fit, invariance by --group."""
    from commonweal.surveys import analysis

    factory = open_db(settings_from_ctx(ctx))
    with transaction(factory) as s:
        o = resolve_org(s, org)
        rep = analysis.wave_report(s, organisation_id=o.id, survey_id=wave, group=group)
    data = rep.to_dict()
    if json_out:
        print_json(data)
        return

    def g(x: float | None, d: int = 3) -> str:
        return "-" if x is None else f"{x:.{d}f}"

    console.print(f"[bold]{data['title']}[/]: {data['n_responses']} responses", highlight=False)
    for sub in data["subscales"]:
        console.print(f"  {sub['name']}: n {sub['n']}, mean {g(sub['mean'], 2)}, "
                      f"sd {g(sub['sd'], 2)}", highlight=False)
    for r in data["reliability"]:
        console.print(f"  alpha {r['name']}: " + (r["error"] if "error" in r else
                      f"{g(r['alpha'])} [{g(r['ci_lower'])}, {g(r['ci_upper'])}]"),
                      highlight=False)
    cfa = data["cfa"]
    if cfa and cfa["fitted"]:
        f = cfa["fit"]
        console.print(f"  CFA: chi-square {g(f['chisq'])} on {f['df']} df; CFI {g(f['cfi'])}; "
                      f"RMSEA {g(f['rmsea'])}; SRMR {g(f['srmr'])}", highlight=False)
    elif cfa:
        console.print(f"  CFA not fitted: {cfa['reason']}", highlight=False)
    inv = data["invariance"]
    if inv:
        console.print(f"  invariance by {inv['group']}: {inv.get('verdict') or inv.get('error')}",
                      highlight=False)
