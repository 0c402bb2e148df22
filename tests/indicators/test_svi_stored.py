"""The stored path reproduces CDC: SVI 2018 county values loaded into the database, the bundled
spec run from the stored values, and the stored RPL_THEMES compared with CDC's published column.

Outside reference: CDC/ATSDR Social Vulnerability Index 2018 Database US (county file,
``SVI2018_US_COUNTY.csv``): its ``RPL_THEMES``, ``SPL_THEMES`` and ``F_TOTAL`` columns.
"""

from __future__ import annotations

import polars as pl

from commonweal.analytics.indicators import Alternatives
from commonweal.db.engine import transaction
from commonweal.exec import Executor
from commonweal.indicators import runs
from commonweal.indicators import service as svc
from tests.helpers import login, make_client


def _published(path) -> dict[str, dict[str, float]]:
    df = pl.read_csv(path, infer_schema_length=0).select(
        pl.col("FIPS").str.zfill(5),
        *[pl.col(c).cast(pl.Float64) for c in ("RPL_THEMES", "SPL_THEMES", "F_TOTAL")],
    )
    return {r["FIPS"]: r for r in df.iter_rows(named=True)}


def test_svi2018_from_stored_values_matches_cdc(world, svi2018) -> None:
    spec, _ = runs.resolve_spec("svi2018")
    columns = [i.column for i in spec.indicators]  # the 15 EP_* variables
    long, names = svc.read_values_file(
        svi2018, unit="FIPS", columns=columns, name_column="LOCATION", unit_width=5
    )
    with transaction(world.factory) as s:
        report = svc.load_values(
            s,
            organisation_id=world.org_a,
            long=long,
            period="2018",
            names=names,
            indicator_meta=svc.indicator_meta_from_spec(spec),
        )
    assert report.values_inserted == 3142 * 15
    assert report.geographies_created == 3142
    assert report.missing_values == 3  # Rio Arriba NM: POV, UNEMP, PCI are -999 in CDC's file

    client = make_client(world.factory)
    login(client, *world.users["researcher_a"])
    api = f"/api/v1/orgs/{world.org_a}"
    r = client.post(f"{api}/index-runs", json={"spec": "svi2018", "period": "2018"})
    assert r.status_code == 201, r.text
    run = r.json()
    assert run["spec_id"] == "cdc-svi-2018-county" and run["n_units"] == 3142
    assert run["index_column"] == "RPL_THEMES" and len(run["spec_hash"]) == 64

    r = client.get(f"{api}/index-runs/{run['id']}/results", params={"limit": 5000, "order": "code"})
    assert r.status_code == 200
    page = r.json()
    assert page["total"] == 3142 and len(page["items"]) == 3142
    cdc = _published(svi2018)
    same = 0
    for row in page["items"]:
        pub = cdc[row["code"]]
        if pub["RPL_THEMES"] == -999:
            ok = row["score"] is None and row["rank"] is None
        else:
            ok = (
                round(row["score"], 4) == pub["RPL_THEMES"]
                and round(row["outputs"]["SPL_THEMES"], 4) == pub["SPL_THEMES"]
                and row["flags"] == pub["F_TOTAL"]
            )
        same += ok
    assert same == 3142  # 100 % of counties, at CDC's 4 decimals
    top = client.get(f"{api}/index-runs/{run['id']}/results", params={"limit": 1}).json()
    assert top["items"][0]["rank"] == 1 and top["items"][0]["score"] == 1.0

    # GeoJSON joined to the bundled county boundaries: every county, with its score
    r = client.get(f"{api}/index-runs/{run['id']}/counties.geojson")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    gj = r.json()
    assert len(gj["features"]) == 3142 and gj["properties"]["unmatched"] == 0
    scored = [f for f in gj["features"] if f["properties"]["score"] is not None]
    assert len(scored) == 3141
    f = next(f for f in gj["features"] if f["id"] == "48047")
    assert f["properties"]["rank"] == 1 and f["geometry"]["type"] in ("Polygon", "MultiPolygon")

    # rank uncertainty through the Executor, with a progress callback
    seen: list[int] = []
    with transaction(world.factory) as s, Executor("serial") as ex:
        runs.run_uncertainty_for(
            s,
            organisation_id=world.org_a,
            run_id=run["id"],
            alternatives=Alternatives(normalisations=("spec", "minmax")),
            n_draws=12,
            seed=3,
            executor=ex,
            on_done=seen.append,
        )
    assert sum(seen) == 12
    r = client.get(f"{api}/index-runs/{run['id']}/uncertainty", params={"limit": 5000})
    unc = r.json()
    assert unc["total"] == 3142
    ranks = {row["code"]: row["rank"] for row in page["items"]}
    for row in unc["items"]:
        if row["nominal_rank"] is None:
            continue
        assert row["nominal_rank"] == ranks[row["code"]]  # same ranking convention as stored
        assert row["rank_p05"] <= row["median_rank"] <= row["rank_p95"]
    widths = [row["interval_width"] for row in unc["items"] if row["interval_width"] is not None]
    assert widths == sorted(widths, reverse=True)  # least stable first

    # the page: map container fed by JSON, rank plot as inline SVG, no inline script
    r = client.get(f"/o/{world.org_a}/indicators/runs/{run['id']}")
    assert r.status_code == 200, r.text
    html = r.text
    assert 'id="county-map"' in html and f"{api}/index-runs/{run['id']}/map-data" in html
    assert '<svg class="rank-plot"' in html and html.count("<circle") == 25
    assert "Brooks County, Texas" in html
    assert "<script>" not in html and "style=" not in html
    md = client.get(f"{api}/index-runs/{run['id']}/map-data").json()
    assert len(md["units"]) == 3142 and md["units"]["48047"][:2] == [1.0, 1]
    r = client.get(f"/o/{world.org_a}/indicators")
    assert r.status_code == 200 and f"/o/{world.org_a}/indicators/runs/{run['id']}" in r.text
