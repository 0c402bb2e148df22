"""Indicator values through the API: wide/long/TraCR imports (all or nothing, errors located),
paged and filtered reads, runs from a spec's TOML text, period comparison with warnings, roles."""

from __future__ import annotations

from sqlalchemy import func, select

from commonweal.db.engine import transaction
from commonweal.indicators.models import Geography, Indicator, IndicatorValue
from tests.helpers import login, make_client

WIDE = b"fips,name,m_a,m_b\n1001,Autauga,1,10\n1003,Baldwin,2,30\n1005,Barbour,3,20\n"
TRACR = (
    b"UID,fips,period,m_a,m_b\n"
    b"1,1001,2018,1,10\n2,1003,2018,2,30\n3,1005,2018,3,20\n"
    b"4,1001,2019,2,\n5,1003,2019,4,25\n"
)


def _count(world, model) -> int:
    with transaction(world.factory) as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def _client(world, role: str = "researcher_a"):
    client = make_client(world.factory)
    login(client, *world.users[role])
    return client, f"/api/v1/orgs/{world.org_a}"


def test_bad_values_file_writes_nothing(world) -> None:
    client, api = _client(world)
    bad = b"fips,m_a,m_b\n1001,1,10\n1003,abc,30\n1005,3,\n"
    r = client.post(
        f"{api}/indicator-values/import",
        params={"period": "2018"},
        files={"file": ("bad.csv", bad, "text/csv")},
    )
    assert r.status_code == 422, r.text
    problems = r.json()["problems"]
    assert {"file": "bad.csv", "row": 3, "field": "m_a"} == {
        k: problems[0][k] for k in ("file", "row", "field")
    }
    assert "abc" in problems[0]["message"]
    # a file without a period and no period given: refused before anything is written
    r = client.post(
        f"{api}/indicator-values/import",
        params={"name_column": "name"},
        files={"file": ("w.csv", WIDE)},
    )
    assert r.status_code == 422 and "no period" in r.json()["detail"]
    for model in (IndicatorValue, Geography, Indicator):
        assert _count(world, model) == 0


def test_tracr_import_paging_filters_and_replace(world) -> None:
    client, api = _client(world)
    r = client.post(
        f"{api}/indicator-values/import",
        params={"format": "tracr"},
        files={"file": ("tracr.csv", TRACR)},
    )
    assert r.status_code == 200, r.text
    rep = r.json()
    assert rep["periods"] == ["2018", "2019"] and rep["values_inserted"] == 10
    assert rep["missing_values"] == 1  # the empty cell is missing, not zero
    assert client.get(f"{api}/indicator-periods").json() == ["2018", "2019"]
    r = client.get(f"{api}/indicator-values", params={"period": "2019", "indicator": "m_b"})
    page = r.json()
    assert page["total"] == 2
    assert [(v["geography"], v["value"]) for v in page["items"]] == [
        ("01001", None),
        ("01003", 25.0),
    ]
    r = client.get(f"{api}/indicator-values", params={"limit": 3, "offset": 3})
    assert r.json()["total"] == 10 and len(r.json()["items"]) == 3
    geos = client.get(f"{api}/geographies", params={"level": "county"}).json()
    assert geos["total"] == 3 and geos["items"][0]["code"] == "01001"
    gid = geos["items"][0]["id"]
    assert client.get(f"{api}/geographies/{gid}").json()["code"] == "01001"
    inds = client.get(f"{api}/indicators").json()
    assert [i["code"] for i in inds] == ["m_a", "m_b"]
    assert client.get(f"{api}/indicators/{inds[0]['id']}").json()["code"] == "m_a"
    # loading again replaces values instead of duplicating them
    r = client.post(
        f"{api}/indicator-values/import",
        params={"format": "tracr"},
        files={"file": ("tracr.csv", TRACR.replace(b"4,1001,2019,2,", b"4,1001,2019,2,7"))},
    )
    assert r.json()["values_updated"] == 10 and r.json()["values_inserted"] == 0
    assert _count(world, IndicatorValue) == 10
    r = client.get(
        f"{api}/indicator-values",
        params={"period": "2019", "indicator": "m_b", "geography": "01001"},
    )
    assert r.json()["items"][0]["value"] == 7.0


def test_runs_from_toml_compare_and_roles(world, tiny_spec) -> None:
    client, api = _client(world)
    r = client.post(
        f"{api}/indicator-values/import",
        params={"format": "tracr"},
        files={"file": ("tracr.csv", TRACR)},
    )
    assert r.status_code == 200
    toml = tiny_spec.read_text()
    a = client.post(f"{api}/index-runs", json={"spec_toml": toml, "period": "2018"})
    assert a.status_code == 201, a.text
    a = a.json()
    rows = client.get(f"{api}/index-runs/{a['id']}/results", params={"order": "code"}).json()
    # min-max by hand: A -> 0, .5, 1; B reversed -> 1, 0, .5; mean -> .5, .25, .75
    assert [(x["code"], x["score"], x["rank"]) for x in rows["items"]] == [
        ("01001", 0.5, 2),
        ("01003", 0.25, 3),
        ("01005", 0.75, 1),
    ]
    assert [x["percentile"] for x in rows["items"]] == [0.5, 0.0, 1.0]
    # 2019 lacks a value of 01001 and the county 01005: the run names what is missing
    b = client.post(f"{api}/index-runs", json={"spec_toml": toml, "period": "2019"})
    assert b.status_code == 201, b.text
    cmp = client.get(f"{api}/index-runs/compare", params={"a": a["id"], "b": b.json()["id"]})
    assert cmp.status_code == 200
    kinds = [w["kind"] for w in cmp.json()["warnings"]]
    assert kinds == ["geography"]
    # a spec the stored data do not fit is refused with the missing indicators named
    r = client.post(f"{api}/index-runs", json={"spec": "svi2018", "period": "2018"})
    assert r.status_code == 422 and "EP_POV" in r.json()["detail"]
    r = client.post(f"{api}/index-runs", json={"spec": "../../etc/passwd", "period": "2018"})
    assert r.status_code == 422
    assert len(client.get(f"{api}/index-runs").json()) == 2
    # a member reads the results but cannot compute or load
    member, _ = _client(world, "member_a")
    assert member.get(f"{api}/index-runs/{a['id']}/results").status_code == 200
    assert (
        member.post(f"{api}/index-runs", json={"spec_toml": toml, "period": "2018"}).status_code
        == 403
    )
    assert member.delete(f"{api}/index-runs/{a['id']}").status_code == 403
    assert client.delete(f"{api}/index-runs/{a['id']}").status_code == 204
    assert client.get(f"{api}/index-runs/{a['id']}").status_code == 404


def test_long_parquet_import_with_margins_of_error(world) -> None:
    import io

    import polars as pl

    client, api = _client(world)
    buf = io.BytesIO()
    pl.DataFrame(
        {
            "unit": ["06037", "06037", "06059"],
            "period": ["2021", "2022", "2022"],
            "indicator": ["pov"] * 3,
            "value": [13.9, 13.2, 9.1],
            "moe": [0.2, 0.3, None],
        }
    ).write_parquet(buf)
    r = client.post(
        f"{api}/indicator-values/import",
        params={"format": "long", "unit": "unit"},
        files={"file": ("acs.parquet", buf.getvalue())},
    )
    assert r.status_code == 200, r.text
    assert r.json()["values_inserted"] == 3 and r.json()["periods"] == ["2021", "2022"]
    items = client.get(f"{api}/indicator-values", params={"geography": "06037"}).json()["items"]
    assert [(v["period"], v["value"], v["moe"]) for v in items] == [
        ("2021", 13.9, 0.2),
        ("2022", 13.2, 0.3),
    ]


def test_uncertainty_jobs_run_in_the_worker(world, tiny_spec) -> None:
    """A queued analysis answers 202 at once; `commonweal worker` computes it; a bad request is
    recorded as failed with its reason (not retried for ever)."""
    import threading

    from commonweal.checkins.worker import run_worker
    from commonweal.clock import SYSTEM_CLOCK
    from commonweal.notify.base import InMemoryNotifier

    client, api = _client(world)
    client.post(f"{api}/indicator-values/import", params={"format": "tracr"},
                files={"file": ("tracr.csv", TRACR)})
    run = client.post(f"{api}/index-runs", json={"spec_toml": tiny_spec.read_text(),
                                                 "period": "2018"}).json()
    r = client.post(f"{api}/index-runs/{run['id']}/uncertainty-jobs",
                    json={"n_draws": 5000, "seed": 3, "normalisations": ["spec", "zscore"]})
    assert r.status_code == 202, r.text
    assert r.json()["uncertainty"]["job"]["status"] == "queued"
    page = client.get(f"/o/{world.org_a}/indicators/runs/{run['id']}",
                      headers={"accept": "text/html"})
    assert 'data-status="queued"' in page.text
    run_worker(world.factory, InMemoryNotifier(), SYSTEM_CLOCK, threading.Event(), once=True)
    done = client.get(f"{api}/index-runs/{run['id']}").json()
    assert done["uncertainty"]["job"]["status"] == "done"
    assert done["uncertainty"]["n_draws"] == 5000
    assert client.get(f"{api}/index-runs/{run['id']}/uncertainty").json()["total"] == 3
    # a bad alternative: the job fails with the reason, the earlier analysis stays
    r = client.post(f"{api}/index-runs/{run['id']}/uncertainty-jobs",
                    json={"n_draws": 10, "normalisations": ["astrology"]})
    assert r.status_code == 202
    run_worker(world.factory, InMemoryNotifier(), SYSTEM_CLOCK, threading.Event(), once=True)
    failed = client.get(f"{api}/index-runs/{run['id']}").json()["uncertainty"]
    assert failed["job"]["status"] == "failed" and "astrology" in failed["job"]["error"]
    assert failed["n_draws"] == 5000
    assert client.get(f"{api}/index-runs/{run['id']}/uncertainty").json()["total"] == 3
    assert client.post(f"{api}/index-runs/{run['id']}/uncertainty-jobs",
                       json={"n_draws": 20_001}).status_code == 422
