"""Index runs over stored values: compute a spec for one period, keep every unit's result, run the
Monte-Carlo rank uncertainty through the :class:`~commonweal.exec.Executor`, compare periods, and
join results to county boundaries (GeoJSON).

The engine, the uncertainty analysis and the comparability checks are the library's
(:mod:`commonweal.analytics.indicators`); this module builds their input frame from the database
and stores what they return, one transaction per call.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import tomllib
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from commonweal.analytics.indicators import IndexSpec, parse_spec
from commonweal.db.statements import table_of
from commonweal.errors import CommonwealError, InputError, NotFoundError, Problem, SpecError
from commonweal.exec import Executor
from commonweal.indicators.boundaries import boundary_shapes, county_features
from commonweal.indicators.models import (
    Geography,
    IndexResult,
    IndexRun,
    IndexUncertainty,
    RunStatus,
)
from commonweal.indicators.service import geography_ids, stored_frame

if TYPE_CHECKING:
    # polars and the engine are imported where used: the web app imports this module at start-up
    import polars as pl

    from commonweal.analytics.indicators import Alternatives, ChangeResult

__all__ = [
    "SPEC_ALIASES",
    "compare_runs",
    "get_run_or_raise",
    "list_results",
    "list_runs",
    "list_uncertainty",
    "map_data",
    "resolve_spec",
    "run_geojson",
    "run_index",
    "run_uncertainty_for",
    "spec_of",
]

# Short names people type for the bundled CDC specs.
SPEC_ALIASES = {
    "svi2018": "cdc-svi-2018-county",
    "svi2018-tract": "cdc-svi-2018-tract",
    "svi2020": "cdc-svi-2020-county",
    "svi2020-tract": "cdc-svi-2020-tract",
}
CHUNK = 5000


def resolve_spec(ref: str | None = None, *, text: str | None = None) -> tuple[IndexSpec, str]:
    """A spec and its TOML text, from a bundled name (or alias), a TOML file path, or TOML text."""
    label = "spec"
    if text is None:
        if not ref:
            raise InputError("name a spec (bundled name or TOML file) or give its TOML text")
        name = SPEC_ALIASES.get(ref, ref)
        p = Path(name)
        if p.suffix == ".toml" or p.is_file():
            if not p.is_file():
                raise SpecError(f"no such index specification file: {p}")
            text, label = p.read_text(encoding="utf-8"), str(p)
        else:
            res = resources.files("commonweal.analytics.indicators").joinpath(
                "specs", f"{name}.toml"
            )
            if not res.is_file():
                from commonweal.analytics.indicators import bundled_specs

                raise SpecError(
                    f"unknown index specification {ref!r}; bundled: {', '.join(bundled_specs())}"
                )
            text, label = res.read_text(encoding="utf-8"), f"{name}.toml"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(
            f"{label} is not valid TOML: {exc}", [Problem(str(exc), file=label)]
        ) from exc
    return parse_spec(data, label), text


def spec_of(run: IndexRun) -> IndexSpec:
    """The spec exactly as the run was computed (from its stored TOML text)."""
    return resolve_spec(text=run.spec_source)[0]


def _clean(v: Any) -> Any:
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v


def run_index(
    session: Session,
    *,
    organisation_id: int,
    spec_ref: str | None = None,
    spec_text: str | None = None,
    period: str,
    created_by: int | None = None,
) -> IndexRun:
    """Compute a spec over the values stored for ``period`` and store one result per unit.

    ``score`` is the spec's index column (the output sentinel, e.g. CDC's -999, is stored as
    missing), ``rank`` is 1 for the highest score (ties share the smallest rank, as in the
    uncertainty analysis), ``percentile`` is the percent rank ``(r - 1)/(N - 1)`` of the score in
    ascending order, ``flags`` the root's flag count, and ``outputs`` every output column.
    """
    import polars as pl

    from commonweal.analytics.indicators import compute

    spec, text = resolve_spec(spec_ref, text=spec_text)
    frame = stored_frame(session, organisation_id=organisation_id, spec=spec, period=period)
    result = compute(spec, frame, file=f"stored values, period {period}")
    out = result.frame
    col = result.index_column
    score = pl.col(col).cast(pl.Float64)
    if spec.output_sentinel is not None:
        score = pl.when(score == spec.output_sentinel).then(None).otherwise(score)
    root_flags = spec.node(spec.root).flag_count
    n_valid = pl.col("_score").count()
    ranked = out.with_columns(score.fill_nan(None).alias("_score")).with_columns(
        pl.col("_score").rank("min", descending=True).cast(pl.Int64).alias("_rank"),
        (
            (pl.col("_score").rank("min") - 1) / pl.when(n_valid > 1).then(n_valid - 1).otherwise(1)
        ).alias("_pct"),
    )
    run = IndexRun(
        organisation_id=organisation_id,
        spec_id=spec.id,
        spec_name=spec.name,
        spec_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        spec_source=text,
        period=period,
        index_column=col,
        parameters={"unit": spec.unit, "reference": spec.reference, "source": spec.source},
        status=RunStatus.done,
        n_units=out.height,
        created_by=created_by,
    )
    session.add(run)
    session.flush()
    geo = geography_ids(session, organisation_id)
    if spec.unit_width:  # the engine zero-pads unit codes; stored codes may not be
        geo |= {
            c.zfill(spec.unit_width): i
            for c, i in geo.items()
            if c.zfill(spec.unit_width) not in geo
        }
    outputs = [c for c in out.columns if c != spec.unit]
    rows = []
    for r in ranked.iter_rows(named=True):
        flags = r.get(root_flags) if root_flags else None
        rows.append(
            {
                "organisation_id": organisation_id,
                "run_id": run.id,
                "geography_id": geo[r[spec.unit]],
                "score": r["_score"],
                "rank": r["_rank"],
                "percentile": None if r["_pct"] is None else round(float(r["_pct"]), 6),
                "outputs": {c: _clean(r[c]) for c in outputs},
                "flags": int(flags) if flags is not None and flags >= 0 else None,
            }
        )
    for start in range(0, len(rows), CHUNK):
        session.execute(table_of(IndexResult).insert(), rows[start : start + CHUNK])
    return run


def get_run_or_raise(session: Session, *, organisation_id: int, run_id: int) -> IndexRun:
    run = session.get(IndexRun, run_id)
    if run is None or run.organisation_id != organisation_id:
        raise NotFoundError(f"no index run {run_id}")
    return run


def list_runs(
    session: Session, *, organisation_id: int, spec_id: str | None = None, period: str | None = None
) -> list[IndexRun]:
    q = select(IndexRun).where(IndexRun.organisation_id == organisation_id)
    if spec_id:
        q = q.where(IndexRun.spec_id == spec_id)
    if period:
        q = q.where(IndexRun.period == period)
    return list(session.scalars(q.order_by(IndexRun.id.desc())))


def list_results(
    session: Session,
    *,
    organisation_id: int,
    run_id: int,
    limit: int = 100,
    offset: int = 0,
    order: str = "rank",
) -> tuple[list[dict[str, Any]], int]:
    """Results of a run with geography code and name; ``order`` is ``rank`` or ``code``."""
    get_run_or_raise(session, organisation_id=organisation_id, run_id=run_id)
    q = (
        select(
            Geography.code,
            Geography.name,
            IndexResult.score,
            IndexResult.rank,
            IndexResult.percentile,
            IndexResult.flags,
            IndexResult.outputs,
        )
        .join(Geography, Geography.id == IndexResult.geography_id)
        .where(IndexResult.organisation_id == organisation_id, IndexResult.run_id == run_id)
    )
    total = session.scalar(
        select(func.count())
        .select_from(IndexResult)
        .where(IndexResult.organisation_id == organisation_id, IndexResult.run_id == run_id)
    )
    keys = (
        [IndexResult.rank.is_(None), IndexResult.rank, Geography.code]
        if order == "rank"
        else [Geography.code]
    )
    rows = session.execute(q.order_by(*keys).limit(limit).offset(offset))
    return [dict(r._mapping) for r in rows], int(total or 0)


def run_uncertainty_for(
    session: Session,
    *,
    organisation_id: int,
    run_id: int,
    alternatives: Alternatives,
    n_draws: int = 1000,
    seed: int = 0,
    executor: Executor | None = None,
    on_done: Callable[[int], None] | None = None,
) -> IndexRun:
    """Monte-Carlo rank uncertainty of a run (replacing an earlier analysis of the same run)."""
    from commonweal.analytics.indicators import run_uncertainty

    run = get_run_or_raise(session, organisation_id=organisation_id, run_id=run_id)
    spec = spec_of(run)
    frame = stored_frame(session, organisation_id=organisation_id, spec=spec, period=run.period)
    res = run_uncertainty(
        spec,
        frame,
        alternatives=alternatives,
        n_draws=n_draws,
        seed=seed,
        executor=executor,
        on_done=on_done,
    )
    geo = geography_ids(session, organisation_id)
    session.execute(
        delete(IndexUncertainty).where(
            IndexUncertainty.organisation_id == organisation_id, IndexUncertainty.run_id == run.id
        )
    )

    def f(a: Any, k: int) -> float | None:
        v = float(a[k])
        return v if np.isfinite(v) else None

    rows = [
        {
            "organisation_id": organisation_id,
            "run_id": run.id,
            "geography_id": geo[u],
            "nominal_rank": f(res.nominal_rank, k),
            "median_rank": f(res.median_rank, k),
            "rank_p05": f(res.q05, k),
            "rank_p95": f(res.q95, k),
            "mean_abs_shift": f(res.mean_abs_shift, k),
        }
        for k, u in enumerate(res.units)
    ]
    for start in range(0, len(rows), CHUNK):
        session.execute(table_of(IndexUncertainty).insert(), rows[start : start + CHUNK])
    summary = res.to_dict(top=0)
    summary.pop("least_stable", None)
    summary["backend"] = executor.backend if executor else "serial"
    run.uncertainty = summary
    session.flush()
    return run


JOB_MAX_DRAWS = 20_000


def queue_uncertainty(session: Session, *, organisation_id: int, run_id: int,
                      request: dict[str, Any], now: dt.datetime) -> IndexRun:
    """Queue a rank-uncertainty analysis for ``commonweal worker`` (a durable work row, written
    in this transaction): big analyses run outside the web request. ``request`` holds
    ``n_draws``, ``seed`` and the alternatives (as in :class:`UncertaintyCreate`)."""
    from commonweal.checkins.queue import enqueue

    run = get_run_or_raise(session, organisation_id=organisation_id, run_id=run_id)
    job = {"status": "queued", "requested": request, "queued_at": now.isoformat()}
    run.uncertainty = {**(run.uncertainty or {}), "job": job}
    enqueue(session, organisation_id=organisation_id,
            key=f"index_uncertainty:{run.id}:{now.isoformat()}", kind="index_uncertainty",
            ref_id=run.id, due_at=now)
    session.flush()
    return run


def run_uncertainty_job(session: Session, *, organisation_id: int, run_id: int,
                        now: dt.datetime) -> str:
    """Work handler: run the queued analysis of a run and record how it went on the run
    (``uncertainty.job.status`` done or failed, with the reason)."""
    from commonweal.analytics.indicators import Alternatives

    run = session.get(IndexRun, run_id)
    if run is None or run.organisation_id != organisation_id:
        return "run deleted"
    job = dict((run.uncertainty or {}).get("job") or {})
    if job.get("status") != "queued":
        return "nothing queued"
    req = job.get("requested", {})
    try:
        with session.begin_nested():
            alt = Alternatives(tuple(req.get("normalisations", ())),
                               tuple(req.get("imputations", ())),
                               tuple(req.get("aggregations", ())),
                               req.get("weight_concentration"))
            run_uncertainty_for(session, organisation_id=organisation_id, run_id=run_id,
                                alternatives=alt, n_draws=int(req.get("n_draws", 1000)),
                                seed=int(req.get("seed", 0)))
    except CommonwealError as exc:  # bad alternatives, values gone: say why, do not retry
        job.update(status="failed", finished_at=now.isoformat(), error=exc.message[:500])
        run.uncertainty = {**(run.uncertainty or {}), "job": job}
        return f"failed: {exc.message[:200]}"
    job.update(status="done", finished_at=now.isoformat())
    run.uncertainty = {**(run.uncertainty or {}), "job": job}
    return "done"


def list_uncertainty(
    session: Session, *, organisation_id: int, run_id: int, limit: int = 100, offset: int = 0
) -> tuple[list[dict[str, Any]], int]:
    """Rank intervals of a run, least stable first (widest 5-95 % interval)."""
    get_run_or_raise(session, organisation_id=organisation_id, run_id=run_id)
    width = IndexUncertainty.rank_p95 - IndexUncertainty.rank_p05
    q = (
        select(
            Geography.code,
            Geography.name,
            IndexUncertainty.nominal_rank,
            IndexUncertainty.median_rank,
            IndexUncertainty.rank_p05,
            IndexUncertainty.rank_p95,
            width.label("interval_width"),
            IndexUncertainty.mean_abs_shift,
        )
        .join(Geography, Geography.id == IndexUncertainty.geography_id)
        .where(
            IndexUncertainty.organisation_id == organisation_id, IndexUncertainty.run_id == run_id
        )
    )
    total = session.scalar(
        select(func.count())
        .select_from(IndexUncertainty)
        .where(
            IndexUncertainty.organisation_id == organisation_id, IndexUncertainty.run_id == run_id
        )
    )
    rows = session.execute(
        q.order_by(
            width.is_(None),
            width.desc(),
            IndexUncertainty.mean_abs_shift.desc(),
            Geography.code,
        )
        .limit(limit)
        .offset(offset)
    )
    return [dict(r._mapping) for r in rows], int(total or 0)


def _result_frame(session: Session, organisation_id: int, run_id: int) -> pl.DataFrame:
    import polars as pl

    rows = session.execute(
        select(Geography.code, IndexResult.score)
        .join(Geography, Geography.id == IndexResult.geography_id)
        .where(IndexResult.organisation_id == organisation_id, IndexResult.run_id == run_id)
    ).all()
    return pl.DataFrame(rows, schema={"code": pl.Utf8, "score": pl.Float64}, orient="row")


def compare_runs(session: Session, *, organisation_id: int, run_a: int, run_b: int) -> ChangeResult:
    """Change of each unit's score and rank between two runs, with the library's warnings when
    the variable set, the tree or the geography differ (:func:`~commonweal.analytics.indicators.
    change`)."""
    from commonweal.analytics.indicators import change

    a = get_run_or_raise(session, organisation_id=organisation_id, run_id=run_a)
    b = get_run_or_raise(session, organisation_id=organisation_id, run_id=run_b)
    la, lb = a.period, b.period if b.period != a.period else f"{b.period} (run {b.id})"
    return change(
        _result_frame(session, organisation_id, a.id),
        _result_frame(session, organisation_id, b.id),
        unit="code",
        column="score",
        spec_a=spec_of(a),
        spec_b=spec_of(b),
        label_a=la,
        label_b=lb,
        sentinel=None,
    )


def map_data(session: Session, *, organisation_id: int, run_id: int) -> dict[str, Any]:
    """Compact per-unit scores for the map page: ``{code: [score, rank, percentile, name]}``."""
    run = get_run_or_raise(session, organisation_id=organisation_id, run_id=run_id)
    rows = session.execute(
        select(
            Geography.code,
            IndexResult.score,
            IndexResult.rank,
            IndexResult.percentile,
            Geography.name,
        )
        .join(Geography, Geography.id == IndexResult.geography_id)
        .where(IndexResult.organisation_id == organisation_id, IndexResult.run_id == run_id)
    )
    units = {c: [s, r, p, n] for c, s, r, p, n in rows}
    return {
        "run": run.id,
        "spec": run.spec_id,
        "title": run.spec_name,
        "period": run.period,
        "index_column": run.index_column,
        "n_units": len(units),
        "units": units,
    }


def run_geojson(session: Session, *, organisation_id: int, run_id: int) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of the run's results joined to boundaries by code: the
    organisation's own boundary sets first, else the bundled US counties (5-digit FIPS). Units
    with no shape in either are left out (counted in ``unmatched``)."""
    data = map_data(session, organisation_id=organisation_id, run_id=run_id)
    own = boundary_shapes(session, organisation_id=organisation_id)
    counties = county_features()
    feats = []
    unmatched = n_own = 0
    for code, (score, rank, pct, name) in sorted(data["units"].items()):
        shape = own.get(code)
        if shape is not None:
            n_own += 1
        else:
            shape = counties.get(code)
        if shape is None:
            unmatched += 1
            continue
        feats.append(
            {
                "type": "Feature",
                "id": code,
                "geometry": shape["geometry"],
                "properties": {
                    "fips": code,
                    "code": code,
                    "name": name or shape.get("name"),
                    "score": score,
                    "rank": rank,
                    "percentile": pct,
                },
            }
        )
    sources = []
    if n_own:
        sources.append(f"the organisation's own boundary sets ({n_own} units)")
    if len(feats) > n_own:
        sources.append("US Census Bureau cartographic boundaries 2017 (1:10m) via us-atlas 3.0.1")
    return {
        "type": "FeatureCollection",
        "features": feats,
        "properties": {
            "run": data["run"],
            "spec": data["spec"],
            "title": data["title"],
            "period": data["period"],
            "index_column": data["index_column"],
            "n_units": data["n_units"],
            "unmatched": unmatched,
            "boundaries": "; ".join(sources),
        },
    }
