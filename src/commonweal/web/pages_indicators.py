"""Indicator pages: the organisation's index runs, and one run as a county choropleth (Leaflet on
the bundled us-atlas boundaries, no tiles) with a rank plot of the least stable units.

The map is drawn by ``static/indicators_map.js`` from the run's ``map-data`` JSON endpoint; the
rank plot is inline SVG rendered here (no script, so it works under ``script-src 'self'``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from commonweal.auth.policy import Permission
from commonweal.indicators import boundaries, runs
from commonweal.indicators import service as svc
from commonweal.registry import service as reg
from commonweal.web.deps import OrgContext, require
from commonweal.web.pages_common import render, shell_for

__all__ = ["rank_plot", "router"]

router = APIRouter(prefix="/o/{org_id}/indicators", include_in_schema=False)

Reader = Annotated[OrgContext, Depends(require(Permission.indicators_read))]

PLOT_ROWS = 25
_W, _LEFT, _RIGHT, _ROW, _TOP = 760, 230, 20, 20, 34


def rank_plot(rows: list[dict[str, Any]], n_units: int) -> dict[str, Any]:
    """Geometry of the rank-interval plot: one row per unit, a line from the 5th to the 95th
    percentile rank over the Monte-Carlo draws, a dot at the median and a tick at the nominal
    rank (1 = highest index value, drawn on the left)."""
    span = _W - _LEFT - _RIGHT
    n = max(n_units, 2)

    def x(rank: float | None) -> float | None:
        return None if rank is None else round(_LEFT + (rank - 1) / (n - 1) * span, 1)

    out = []
    for k, r in enumerate(rows):
        y = _TOP + k * _ROW + _ROW / 2
        out.append(
            {
                **r,
                "y": y,
                "x05": x(r["rank_p05"]),
                "x95": x(r["rank_p95"]),
                "xmed": x(r["median_rank"]),
                "xnom": x(r["nominal_rank"]),
            }
        )
    ticks = sorted({1, *(round(1 + (n - 1) * f) for f in (0.25, 0.5, 0.75)), n})
    return {
        "width": _W,
        "height": _TOP + len(rows) * _ROW + 10,
        "left": _LEFT,
        "right": _W - _RIGHT,
        "top": _TOP,
        "bottom": _TOP + len(rows) * _ROW,
        "rows": out,
        "ticks": [(t, x(t)) for t in ticks],
    }


@router.get("")
def overview(request: Request, ctx: Reader) -> Response:
    """Index runs of the organisation, newest first, and what data is stored."""
    org = reg.get_organisation(ctx.session, ctx.organisation_id)
    return render(
        request,
        "indicators/index.html",
        {
            "shell": shell_for(ctx),
            "org": org,
            "title": "Indicators",
            "runs": runs.list_runs(ctx.session, organisation_id=ctx.organisation_id),
            "indicators": svc.list_indicators(ctx.session, organisation_id=ctx.organisation_id),
            "periods": svc.list_periods(ctx.session, organisation_id=ctx.organisation_id),
        },
    )


@router.get("/runs/{run_id}")
def run_page(request: Request, run_id: int, ctx: Reader) -> Response:
    """One run: county choropleth, top units, and the rank plot when uncertainty was run."""
    run = runs.get_run_or_raise(ctx.session, organisation_id=ctx.organisation_id, run_id=run_id)
    top, _ = runs.list_results(
        ctx.session, organisation_id=ctx.organisation_id, run_id=run.id, limit=20
    )
    unstable, n_unc = runs.list_uncertainty(
        ctx.session, organisation_id=ctx.organisation_id, run_id=run.id, limit=PLOT_ROWS
    )
    api = f"/api/v1/orgs/{ctx.organisation_id}/index-runs/{run.id}"
    return render(
        request,
        "indicators/run.html",
        {
            "shell": shell_for(ctx),
            "org": reg.get_organisation(ctx.session, ctx.organisation_id),
            "title": f"{run.spec_name} · {run.period}",
            "run": run,
            "top": top,
            "plot": rank_plot(unstable, run.n_units) if n_unc else None,
            "api": api,
            "own_boundaries": [b["name"] for b in boundaries.list_boundaries(
                ctx.session, organisation_id=ctx.organisation_id)],
        },
    )
