"""An organisation's own map boundaries (GeoJSON): checked feature by feature (nothing stored on
a bad one), stored per organisation, joined to a run's units before the bundled US counties, on
the API, the run page and the CLI."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from tests.helpers import login, make_client
from tests.indicators.test_values_api import TRACR


def _square(lon: float, lat: float, d: float = 0.05) -> dict:
    ring = [[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


# two wards of Bengaluru (made-up squares) named by the run's unit codes
WARDS = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"ward": "01001", "label": "Ward One"},
     "geometry": _square(77.59, 12.97)},
    {"type": "Feature", "properties": {"ward": "01003", "label": "Ward Three"},
     "geometry": {"type": "MultiPolygon", "coordinates": [_square(77.65, 12.97)["coordinates"]]}},
]}


def _put(client, api, doc, name="wards", **params):  # type: ignore[no-untyped-def]
    return client.put(f"{api}/boundaries/{name}", params={"code_property": "ward",
                                                          "name_property": "label", **params},
                      files={"file": ("wards.geojson", json.dumps(doc).encode())})


def test_own_boundaries_draw_first(world, tiny_spec) -> None:  # type: ignore[no-untyped-def]
    client = make_client(world.factory)
    login(client, *world.users["researcher_a"])
    api = f"/api/v1/orgs/{world.org_a}"
    assert client.post(f"{api}/indicator-values/import", params={"format": "tracr"},
                       files={"file": ("tracr.csv", TRACR)}).status_code == 200
    run = client.post(f"{api}/index-runs", json={"spec_toml": tiny_spec.read_text(),
                                                 "period": "2018"}).json()
    r = _put(client, api, WARDS)
    assert r.status_code == 201, r.text
    assert r.json()["n_features"] == 2
    assert [b["name"] for b in client.get(f"{api}/boundaries").json()] == ["wards"]
    gj = client.get(f"{api}/index-runs/{run['id']}/map.geojson").json()
    by = {f["id"]: f for f in gj["features"]}
    assert set(by) == {"01001", "01003", "01005"} and gj["properties"]["unmatched"] == 0
    assert by["01001"]["geometry"] == WARDS["features"][0]["geometry"]  # own shape first
    assert by["01003"]["geometry"]["type"] == "MultiPolygon"
    assert by["01005"]["geometry"]["coordinates"][0][0][0] < -80  # Barbour County, Alabama
    assert "own boundary sets (2 units)" in gj["properties"]["boundaries"]
    page = client.get(f"/o/{world.org_a}/indicators/runs/{run['id']}",
                      headers={"accept": "text/html"})
    assert f'data-geojson="{api}/index-runs/{run["id"]}/map.geojson"' in page.text
    assert "own boundary sets (wards)" in page.text
    # another organisation sees none of it
    other = make_client(world.factory)
    login(other, *world.users["admin_b"])
    assert other.get(f"/api/v1/orgs/{world.org_b}/boundaries").json() == []
    assert other.get(f"{api}/boundaries").status_code in (403, 404)
    # a volunteer may not upload; replacing and deleting work
    vol = make_client(world.factory)
    login(vol, *world.users["volunteer_a"])
    assert _put(vol, api, WARDS).status_code == 403
    one = {"type": "FeatureCollection", "features": WARDS["features"][:1]}
    assert _put(client, api, one).json()["n_features"] == 1
    assert client.delete(f"{api}/boundaries/wards").status_code == 204
    assert client.delete(f"{api}/boundaries/wards").status_code == 404


def test_bad_boundaries_are_located_and_nothing_is_stored(world) -> None:  # type: ignore[no-untyped-def]
    client = make_client(world.factory)
    login(client, *world.users["researcher_a"])
    api = f"/api/v1/orgs/{world.org_a}"
    bad = {"type": "FeatureCollection", "features": [
        WARDS["features"][0],
        {"type": "Feature", "properties": {"label": "no code"}, "geometry": _square(77, 12)},
        {"type": "Feature", "properties": {"ward": "01001"}, "geometry": _square(77, 12)},
        {"type": "Feature", "properties": {"ward": "P"},
         "geometry": {"type": "Point", "coordinates": [77, 12]}},
        {"type": "Feature", "properties": {"ward": "UTM"}, "geometry": _square(512000, 1433000)},
    ]}
    r = _put(client, api, bad)
    assert r.status_code == 422, r.text
    problems = [(p["row"], p["field"]) for p in r.json()["problems"]]
    assert problems == [(2, "ward"), (3, "ward"), (4, "geometry"), (5, "geometry")]
    assert "EPSG:4326" in r.json()["problems"][3]["message"]
    assert client.get(f"{api}/boundaries").json() == []
    r = client.put(f"{api}/boundaries/wards", files={"file": ("x.geojson", b"{not json")})
    assert r.status_code == 422 and "not JSON" in r.json()["detail"]


def test_cli_stores_boundaries(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from commonweal.cli import app

    f = tmp_path / "wards.geojson"
    f.write_text(json.dumps(WARDS), encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'cw.db'}"
    r = CliRunner().invoke(app, ["--database-url", url, "index", "boundaries", str(f), "--name",
                                 "wards", "--code-property", "ward", "--name-property", "label",
                                 "--org", "Riverside", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == {"name": "wards", "n_features": 2}
    f.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    r = CliRunner().invoke(app, ["--database-url", url, "index", "boundaries", str(f), "--name",
                                 "wards", "--org", "Riverside"])
    assert r.exit_code == 2 and "no features" in r.output and "Traceback" not in r.output
