"""Database-backed `commonweal index ...` commands: load indicator values, run an index over the
stored values, its rank uncertainty, list and compare runs.

They attach to the ``index`` group of :mod:`commonweal.cli.index` (the file-based commands live
there); each is a few lines over :mod:`commonweal.indicators.service` / ``runs``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from commonweal.cli._common import console, friendly_errors, print_json, progress, settings_from_ctx
from commonweal.cli._db import open_db, resolve_org, transaction
from commonweal.cli.index import app

__all__ = ["app"]

_JSON = typer.Option(False, "--json", help="Print one JSON document to stdout.")
_ORG = typer.Option(None, "--org", help="Organisation name or slug (default: the only one).")


def _csv(text: str | None) -> tuple[str, ...]:
    return tuple(t.strip() for t in (text or "").split(",") if t.strip())


@app.command("load")
@friendly_errors
def load_cmd(
    ctx: typer.Context,
    data_file: Path = typer.Argument(..., help="Values file (CSV or Parquet)."),
    period: Optional[str] = typer.Option(  # noqa: UP045
        None, "--period", help="Period of every value, when the file has no period column."
    ),
    fmt: str = typer.Option("wide", "--format", help="wide, long or tracr."),
    unit: str = typer.Option("fips", "--unit", help="Column of the geography code."),
    period_column: Optional[str] = typer.Option(  # noqa: UP045
        None, "--period-column", help="Wide files: the period column."
    ),
    columns: str = typer.Option(
        "", "--columns", help="Wide files: measure columns to load, patterns allowed (EP_*)."
    ),
    name_column: Optional[str] = typer.Option(  # noqa: UP045
        None, "--name-column", help="Column with each geography's name (e.g. LOCATION)."
    ),
    unit_width: Optional[int] = typer.Option(  # noqa: UP045
        None, "--unit-width", help="Zero-pad codes (FIPS: 5 county, 11 tract)."
    ),
    level: str = typer.Option("county", "--level", help="Level of new geographies."),
    spec: Optional[str] = typer.Option(  # noqa: UP045
        None, "--spec", help="Take indicator names, domains and directions from this spec."
    ),
    org: Optional[str] = _ORG,  # noqa: UP045
    as_json: bool = _JSON,
) -> None:
    """Load indicator values into the database (one transaction: all values or none)."""
    from commonweal.indicators import runs, service

    long, names = service.read_values_file(
        data_file,
        fmt=fmt,
        unit=unit,
        period_column=period_column,
        columns=_csv(columns),
        name_column=name_column,
        unit_width=unit_width,
    )
    meta = service.indicator_meta_from_spec(runs.resolve_spec(spec)[0]) if spec else None
    factory = open_db(settings_from_ctx(ctx))
    with progress("storing values", long.height) as advance, transaction(factory) as s:
        o = resolve_org(s, org, create=True)
        report = service.load_values(
            s,
            organisation_id=o.id,
            long=long,
            period=period,
            level=level,
            names=names,
            indicator_meta=meta,
            file=str(data_file),
            on_progress=advance,
        )
    if as_json:
        print_json(report.to_dict())
        return
    console.print(
        f"{report.values_inserted} values stored, {report.values_updated} replaced "
        f"({report.missing_values} missing), {len(report.indicators)} indicators, "
        f"periods {', '.join(report.periods)}; {report.geographies_created} new geographies",
        highlight=False,
    )


@app.command("load-geographies")
@friendly_errors
def load_geographies_cmd(
    ctx: typer.Context,
    geo_file: Path = typer.Argument(..., help="CSV/Parquet with code, name, level[, parent]."),
    org: Optional[str] = _ORG,  # noqa: UP045
    as_json: bool = _JSON,
) -> None:
    """Create or update geographies (names, levels, parents) from a file."""
    from commonweal.analytics.indicators import read_geographies
    from commonweal.indicators import service

    frame = read_geographies(geo_file)
    with transaction(open_db(settings_from_ctx(ctx))) as s:
        o = resolve_org(s, org, create=True)
        new, updated = service.load_geographies(s, organisation_id=o.id, frame=frame)
    if as_json:
        print_json({"created": new, "updated": updated})
    else:
        console.print(f"{new} geographies created, {updated} updated", highlight=False)


@app.command("boundaries")
@friendly_errors
def boundaries_cmd(
    ctx: typer.Context,
    geojson: Path = typer.Argument(..., help="GeoJSON FeatureCollection (longitude/latitude)."),
    name: str = typer.Option(..., "--name", help="Name of the boundary set (e.g. wards)."),
    code_property: str = typer.Option("code", "--code-property",
                                      help="Feature property holding the geography code."),
    name_property: str = typer.Option("name", "--name-property",
                                      help="Feature property holding the area's name."),
    org: Optional[str] = _ORG,  # noqa: UP045
    as_json: bool = _JSON,
) -> None:
    """Store your own map boundaries (wards, districts, villages): index maps draw them."""

    from commonweal.errors import InputError
    from commonweal.indicators import boundaries

    try:
        data = geojson.read_bytes()
    except OSError as exc:
        raise InputError(f"{geojson} cannot be read: {exc.strerror}") from exc
    features = boundaries.parse_boundaries(data, code_property=code_property,
                                           name_property=name_property, file=geojson.name)
    with transaction(open_db(settings_from_ctx(ctx))) as s:
        o = resolve_org(s, org, create=True)
        bs = boundaries.store_boundaries(s, organisation_id=o.id, name=name, features=features)
        out = {"name": bs.name, "n_features": bs.n_features}
    if as_json:
        print_json(out)
    else:
        console.print(f"boundary set {out['name']!r}: {out['n_features']} areas", highlight=False)


def _run_doc(run: object) -> dict[str, object]:
    from commonweal.indicators.schemas import RunRead

    return RunRead.model_validate(run).model_dump(mode="json")


@app.command("run")
@friendly_errors
def run_cmd(
    ctx: typer.Context,
    spec: str = typer.Option(..., "--spec", "-s", help="Bundled spec name/alias or TOML file."),
    period: str = typer.Option(..., "--period", help="Which stored period to compute."),
    top: int = typer.Option(10, "--top", help="How many of the highest scores to show."),
    org: Optional[str] = _ORG,  # noqa: UP045
    as_json: bool = _JSON,
) -> None:
    """Compute an index over the values stored for a period and store the results."""
    from commonweal.indicators import runs

    with transaction(open_db(settings_from_ctx(ctx))) as s:
        o = resolve_org(s, org)
        run = runs.run_index(s, organisation_id=o.id, spec_ref=spec, period=period)
        doc = _run_doc(run)
        rows, _ = runs.list_results(s, organisation_id=o.id, run_id=run.id, limit=top)
    if as_json:
        print_json(
            doc | {"top": [{k: r[k] for k in ("code", "name", "score", "rank")} for r in rows]}
        )
        return
    console.print(
        f"run {doc['id']}: {doc['spec_id']} over {doc['period']}, {doc['n_units']} units",
        highlight=False,
    )
    for r in rows:
        console.print(
            f"  {r['rank']:>5}  {r['code']}  {r['score']}  {r['name']}",
            highlight=False,
            markup=False,
        )


@app.command("runs")
@friendly_errors
def runs_cmd(
    ctx: typer.Context,
    org: Optional[str] = _ORG,  # noqa: UP045
    as_json: bool = _JSON,
) -> None:
    """List the stored index runs, newest first."""
    from commonweal.indicators import runs

    with transaction(open_db(settings_from_ctx(ctx))) as s:
        o = resolve_org(s, org)
        docs = [_run_doc(r) for r in runs.list_runs(s, organisation_id=o.id)]
    if as_json:
        print_json(docs)
        return
    for d in docs:
        unc = " +uncertainty" if d["uncertainty"] else ""
        console.print(
            f"{d['id']:>4}  {d['spec_id']}  {d['period']}  {d['n_units']} units  {d['status']}{unc}",
            highlight=False,
        )


@app.command("run-uncertainty")
@friendly_errors
def run_uncertainty_cmd(
    ctx: typer.Context,
    run_id: int = typer.Argument(..., help="The stored run (see `index runs`)."),
    draws: int = typer.Option(1000, "--draws", help="Monte-Carlo draws."),
    seed: int = typer.Option(0, "--seed", help="Seed (same seed, same result on every backend)."),
    normalisations: str = typer.Option("", "--normalisations", help="e.g. spec,minmax,zscore."),
    aggregations: str = typer.Option("", "--aggregations", help="e.g. spec,arithmetic,geometric."),
    imputations: str = typer.Option("", "--imputations", help="e.g. spec,mean,median."),
    concentration: Optional[float] = typer.Option(  # noqa: UP045
        None, "--weights-concentration", help="Dirichlet concentration around nominal weights."
    ),
    backend: str = typer.Option("serial", "--backend", help="serial, processes or dask."),
    workers: Optional[int] = typer.Option(None, "--workers", help="Workers."),  # noqa: UP045
    address: Optional[str] = typer.Option(None, "--address", help="Dask scheduler."),  # noqa: UP045
    top: int = typer.Option(10, "--top", help="How many of the least stable units to show."),
    org: Optional[str] = _ORG,  # noqa: UP045
    as_json: bool = _JSON,
) -> None:
    """Monte-Carlo rank uncertainty of a stored run; the intervals are stored with the run."""
    from commonweal.analytics.indicators import Alternatives
    from commonweal.exec import Executor
    from commonweal.indicators import runs

    alt = Alternatives(_csv(normalisations), _csv(imputations), _csv(aggregations), concentration)
    with transaction(open_db(settings_from_ctx(ctx))) as s:
        o = resolve_org(s, org)
        with Executor(backend, workers=workers, address=address) as ex:
            with progress("Monte-Carlo draws", draws) as advance:
                run = runs.run_uncertainty_for(
                    s,
                    organisation_id=o.id,
                    run_id=run_id,
                    alternatives=alt,
                    n_draws=draws,
                    seed=seed,
                    executor=ex,
                    on_done=advance,
                )
        doc = _run_doc(run)
        rows, _ = runs.list_uncertainty(s, organisation_id=o.id, run_id=run_id, limit=top)
    if as_json:
        print_json(doc | {"least_stable": rows})
        return
    console.print(f"run {run_id}: {draws} draws, seed {seed}; least stable:", highlight=False)
    for r in rows:
        console.print(
            f"  {r['code']}  rank {r['nominal_rank']}  5-95%: {r['rank_p05']}-{r['rank_p95']}"
            f"  {r['name']}",
            highlight=False,
            markup=False,
        )


@app.command("compare")
@friendly_errors
def compare_cmd(
    ctx: typer.Context,
    run_a: int = typer.Argument(..., help="Earlier run."),
    run_b: int = typer.Argument(..., help="Later run."),
    org: Optional[str] = _ORG,  # noqa: UP045
    as_json: bool = _JSON,
) -> None:
    """Change of each unit's score and rank between two runs, with comparability warnings."""
    from commonweal.indicators import runs

    with transaction(open_db(settings_from_ctx(ctx))) as s:
        o = resolve_org(s, org)
        res = runs.compare_runs(s, organisation_id=o.id, run_a=run_a, run_b=run_b)
    if as_json:
        print_json(res.to_dict())
        return
    for w in res.warnings:
        console.print(f"[bold yellow]warning:[/] {w.message}", highlight=False)
    console.print(res.frame.sort("rank_change", nulls_last=True).head(20))
