"""Indicators API: geographies, indicators, values (paged, filtered), value imports, index runs
(create = compute), their results, rank uncertainty, period comparison and county GeoJSON.

Every route takes an :class:`OrgContext` from ``require(...)`` and every query is scoped to the
organisation; writes are audited.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path, PurePath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, Response

from commonweal.auth.policy import Permission
from commonweal.errors import InputError
from commonweal.indicators import boundaries, runs
from commonweal.indicators import service as svc
from commonweal.indicators.schemas import (
    GeographyRead,
    IndicatorRead,
    Page,
    ResultRead,
    RunCreate,
    RunRead,
    UncertaintyCreate,
    UncertaintyJobCreate,
    UncertaintyRead,
    ValueRead,
)
from commonweal.web.deps import OrgContext, clock_of, require

__all__ = ["MAX_UPLOAD_BYTES", "router"]

router = APIRouter(prefix="/api/v1/orgs/{org_id}", tags=["indicators"])

Read = Annotated[OrgContext, Depends(require(Permission.indicators_read))]
Manage = Annotated[OrgContext, Depends(require(Permission.indicators_manage))]
Limit = Annotated[int, Query(ge=1, le=5000)]
Offset = Annotated[int, Query(ge=0)]
Text = Annotated[str | None, Query(max_length=100)]
MAX_UPLOAD_BYTES = 200 * 1024 * 1024


@router.get("/geographies", response_model=Page[GeographyRead])
def list_geographies(
    ctx: Read,
    level: Text = None,
    q: Text = None,
    parent_id: int | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[GeographyRead]:
    items, total = svc.list_geographies(
        ctx.session,
        organisation_id=ctx.organisation_id,
        level=level,
        q=q,
        parent_id=parent_id,
        limit=limit,
        offset=offset,
    )
    return Page(
        items=[GeographyRead.model_validate(g) for g in items],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get("/geographies/{geography_id}", response_model=GeographyRead)
def get_geography(geography_id: int, ctx: Read) -> GeographyRead:
    g = svc.get_geography_or_raise(
        ctx.session, organisation_id=ctx.organisation_id, geography_id=geography_id
    )
    return GeographyRead.model_validate(g)


@router.get("/indicators", response_model=list[IndicatorRead])
def list_indicators(ctx: Read, domain: Text = None) -> list[IndicatorRead]:
    return [
        IndicatorRead.model_validate(i)
        for i in svc.list_indicators(
            ctx.session, organisation_id=ctx.organisation_id, domain=domain
        )
    ]


@router.get("/indicators/{indicator_id}", response_model=IndicatorRead)
def get_indicator(indicator_id: int, ctx: Read) -> IndicatorRead:
    i = svc.get_indicator_or_raise(
        ctx.session, organisation_id=ctx.organisation_id, indicator_id=indicator_id
    )
    return IndicatorRead.model_validate(i)


@router.get("/indicator-periods", response_model=list[str])
def list_periods(ctx: Read) -> list[str]:
    return svc.list_periods(ctx.session, organisation_id=ctx.organisation_id)


@router.get("/indicator-values", response_model=Page[ValueRead])
def list_values(
    ctx: Read,
    indicator: Text = None,
    period: Text = None,
    geography: Text = None,
    level: Text = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[ValueRead]:
    items, total = svc.list_values(
        ctx.session,
        organisation_id=ctx.organisation_id,
        indicator=indicator,
        period=period,
        geography=geography,
        level=level,
        limit=limit,
        offset=offset,
    )
    return Page(
        items=[ValueRead.model_validate(r) for r in items],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.post("/indicator-values/import")
def import_values(
    file: UploadFile,
    ctx: Manage,
    format: Literal["wide", "long", "tracr"] = "wide",  # noqa: A002 - the query parameter's name
    unit: Annotated[str, Query(max_length=100)] = "fips",
    period: Text = None,
    period_column: Text = None,
    columns: Annotated[str | None, Query(max_length=2000)] = None,
    name_column: Text = None,
    unit_width: Annotated[int | None, Query(ge=1, le=32)] = None,
    level: Annotated[str, Query(max_length=32)] = "county",
    spec: Annotated[str | None, Query(max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")] = None,
) -> dict[str, Any]:
    """Load a values file (CSV or Parquet; wide, long or TraCR): every value or none."""
    data = file.file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise InputError(f"the file is larger than {MAX_UPLOAD_BYTES // 2**20} MB")
    label = Path(file.filename or "values.csv").name
    suffix = ".parquet" if label.lower().endswith((".parquet", ".pq")) else ".csv"
    meta = svc.indicator_meta_from_spec(runs.resolve_spec(spec)[0]) if spec else None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / label
        path = path.with_suffix(suffix)
        path.write_bytes(data)
        try:
            long, names = svc.read_values_file(
                path,
                fmt=format,
                unit=unit,
                period_column=period_column,
                columns=tuple(c.strip() for c in (columns or "").split(",") if c.strip()),
                name_column=name_column,
                unit_width=unit_width,
            )
        except InputError as exc:  # name the uploaded file, not the temporary copy
            problems = [replace(p, file=label) if p.file else p for p in exc.problems]
            raise InputError(exc.message.replace(str(path), label), problems) from None
    report = svc.load_values(
        ctx.session,
        organisation_id=ctx.organisation_id,
        long=long,
        period=period,
        level=level,
        names=names,
        indicator_meta=meta,
        file=label,
    )
    ctx.audit("import", "indicator_value", [], detail=f"{label}: {report.values_inserted} new")
    return report.to_dict()


@router.get("/index-runs", response_model=list[RunRead])
def list_runs(ctx: Read, spec_id: Text = None, period: Text = None) -> list[RunRead]:
    return [
        RunRead.model_validate(r)
        for r in runs.list_runs(
            ctx.session, organisation_id=ctx.organisation_id, spec_id=spec_id, period=period
        )
    ]


@router.post("/index-runs", status_code=201, response_model=RunRead)
def create_run(body: RunCreate, ctx: Manage) -> RunRead:
    """Compute an index over the stored values of one period and store every unit's result."""
    run = runs.run_index(
        ctx.session,
        organisation_id=ctx.organisation_id,
        spec_ref=body.spec,
        spec_text=body.spec_toml,
        period=body.period,
        created_by=ctx.user_id,
    )
    ctx.audit("create", "index_run", [run.id], detail=f"{run.spec_id} {run.period}")
    return RunRead.model_validate(run)


@router.get("/index-runs/compare")
def compare_runs(
    ctx: Read, a: Annotated[int, Query(ge=1)], b: Annotated[int, Query(ge=1)]
) -> dict[str, Any]:
    """Score and rank change per unit between two runs, with comparability warnings."""
    res = runs.compare_runs(ctx.session, organisation_id=ctx.organisation_id, run_a=a, run_b=b)
    return res.to_dict()


@router.get("/index-runs/{run_id}", response_model=RunRead)
def get_run(run_id: int, ctx: Read) -> RunRead:
    run = runs.get_run_or_raise(ctx.session, organisation_id=ctx.organisation_id, run_id=run_id)
    return RunRead.model_validate(run)


@router.delete("/index-runs/{run_id}", status_code=204)
def delete_run(run_id: int, ctx: Manage) -> Response:
    run = runs.get_run_or_raise(ctx.session, organisation_id=ctx.organisation_id, run_id=run_id)
    ctx.session.delete(run)
    ctx.audit("delete", "index_run", [run_id])
    return Response(status_code=204)


@router.get("/index-runs/{run_id}/results", response_model=Page[ResultRead])
def list_results(
    run_id: int,
    ctx: Read,
    order: Literal["rank", "code"] = "rank",
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[ResultRead]:
    items, total = runs.list_results(
        ctx.session,
        organisation_id=ctx.organisation_id,
        run_id=run_id,
        limit=limit,
        offset=offset,
        order=order,
    )
    return Page(
        items=[ResultRead.model_validate(r) for r in items],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.post("/index-runs/{run_id}/uncertainty", response_model=RunRead)
def create_uncertainty(run_id: int, body: UncertaintyCreate, ctx: Manage) -> RunRead:
    """Monte-Carlo rank uncertainty of a run (serial, in the request; replaces an earlier one)."""
    from commonweal.analytics.indicators import Alternatives  # here: the engine imports polars

    alt = Alternatives(
        tuple(body.normalisations),
        tuple(body.imputations),
        tuple(body.aggregations),
        body.weight_concentration,
    )
    run = runs.run_uncertainty_for(
        ctx.session,
        organisation_id=ctx.organisation_id,
        run_id=run_id,
        alternatives=alt,
        n_draws=body.n_draws,
        seed=body.seed,
    )
    ctx.audit("uncertainty", "index_run", [run.id], detail=f"{body.n_draws} draws")
    return RunRead.model_validate(run)


@router.post("/index-runs/{run_id}/uncertainty-jobs", response_model=RunRead, status_code=202)
def queue_uncertainty(run_id: int, body: UncertaintyJobCreate, ctx: Manage,
                      request: Request) -> RunRead:
    """Queue the analysis for ``commonweal worker`` (answers at once; the run's
    ``uncertainty.job.status`` goes from queued to done, or failed with the reason)."""
    run = runs.queue_uncertainty(ctx.session, organisation_id=ctx.organisation_id, run_id=run_id,
                                 request=body.model_dump(mode="json"),
                                 now=clock_of(request).now())
    ctx.audit("uncertainty", "index_run", [run.id], detail=f"queued, {body.n_draws} draws")
    ctx.session.commit()
    return RunRead.model_validate(run)


@router.get("/index-runs/{run_id}/uncertainty", response_model=Page[UncertaintyRead])
def list_uncertainty(
    run_id: int, ctx: Read, limit: Limit = 100, offset: Offset = 0
) -> Page[UncertaintyRead]:
    items, total = runs.list_uncertainty(
        ctx.session, organisation_id=ctx.organisation_id, run_id=run_id, limit=limit, offset=offset
    )
    return Page(
        items=[UncertaintyRead.model_validate(r) for r in items],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get("/index-runs/{run_id}/map-data")
def map_data(run_id: int, ctx: Read) -> dict[str, Any]:
    """Compact scores for the map page: ``units = {code: [score, rank, percentile, name]}``."""
    return runs.map_data(ctx.session, organisation_id=ctx.organisation_id, run_id=run_id)


@router.get("/index-runs/{run_id}/map.geojson")
@router.get("/index-runs/{run_id}/counties.geojson")
def run_geojson(run_id: int, ctx: Read) -> JSONResponse:
    """The run's results joined to boundaries (GeoJSON, EPSG:4326): the organisation's own
    boundary sets first, else the bundled US counties (``counties.geojson`` is the old name)."""
    doc = runs.run_geojson(ctx.session, organisation_id=ctx.organisation_id, run_id=run_id)
    return JSONResponse(doc, media_type="application/geo+json")


# boundaries -----------------------------------------------------------------------------------
BoundaryName = Annotated[str, PathParam(min_length=1, max_length=100, pattern=r"^[\w .()-]+$")]
Prop = Annotated[str, Query(min_length=1, max_length=100)]


@router.get("/boundaries")
def list_boundary_sets(ctx: Read) -> list[dict[str, Any]]:
    """The organisation's own boundary sets (name, number of features, last update)."""
    return boundaries.list_boundaries(ctx.session, organisation_id=ctx.organisation_id)


@router.put("/boundaries/{name}", status_code=201)
def put_boundary_set(name: BoundaryName, file: UploadFile, ctx: Manage,
                     code_property: Prop = "code", name_property: Prop = "name"
                     ) -> dict[str, Any]:
    """Upload (or replace) a boundary set: a GeoJSON FeatureCollection of Polygons or
    MultiPolygons in longitude/latitude, each naming its geography code in ``code_property``
    (or as its ``id``). Every feature is checked; a bad one stores nothing."""
    data = file.file.read(MAX_UPLOAD_BYTES + 1)
    label = PurePath(file.filename or "boundaries.geojson").name
    if len(data) > MAX_UPLOAD_BYTES:
        raise InputError(f"{label} is larger than {MAX_UPLOAD_BYTES // 2**20} MB")
    features = boundaries.parse_boundaries(data, code_property=code_property,
                                           name_property=name_property, file=label)
    bs = boundaries.store_boundaries(ctx.session, organisation_id=ctx.organisation_id, name=name,
                                     features=features)
    ctx.audit("import", "boundary_set", [bs.id], detail=f"{bs.n_features} features")
    ctx.session.commit()
    return {"id": bs.id, "name": bs.name, "n_features": bs.n_features}


@router.delete("/boundaries/{name}", status_code=204)
def delete_boundary_set(name: BoundaryName, ctx: Manage) -> Response:
    boundaries.delete_boundaries(ctx.session, organisation_id=ctx.organisation_id, name=name)
    ctx.audit("delete", "boundary_set", [], detail=name)
    ctx.session.commit()
    return Response(status_code=204)

