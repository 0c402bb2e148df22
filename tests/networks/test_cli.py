"""`commonweal network community` and `network whatif` on a stored village (SQLite file)."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import polars as pl
from typer.testing import CliRunner

from commonweal.analytics.networks import read_graphml
from commonweal.cli import app
from commonweal.db.engine import make_engine, make_session_factory
from commonweal.db.migrate import upgrade
from tests.networks._village import networkx_reference, store_village


def test_profile_and_whatif_of_a_stored_community(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cw.db'}"
    engine = make_engine(url)
    upgrade(engine)
    v = store_village(make_session_factory(engine), name="vil1")
    engine.dispose()
    directed, und = networkx_reference(v.edges, v.meta)
    run = CliRunner().invoke
    db = ["--database-url", url, "network"]

    r = run(app, [*db, "community", "--community", "vil1", "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    # outside reference: networkx on the undirected support graph from the raw files
    assert doc["summary"]["n_components"] == nx.number_connected_components(und)
    aps = {m["external_id"] for m in doc["members"] if m["articulation_point"]}
    assert aps == set(nx.articulation_points(und))
    assert len(doc["bridges"]) == len(list(nx.bridges(und)))

    out = tmp_path / "profile.csv"
    r = run(app, [*db, "community", "--community", "vil1", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "single points of failure" in r.stdout
    csv = pl.read_csv(out)
    assert csv.height == directed.number_of_nodes()
    iso = set(csv.filter(pl.col("isolated"))["external_id"].cast(pl.String))
    assert iso == {k for k, d in directed.out_degree() if d == 0}

    gml = tmp_path / "profile.graphml"
    r = run(app, [*db, "community", "--community", "vil1", "-o", str(gml)])
    assert r.exit_code == 0, r.output
    assert read_graphml(gml, id_attr="external_id").n_edges == und.number_of_edges()
    assert 'attr.name="cut_off"' in gml.read_text()

    top = max((m for m in doc["members"] if m["articulation_point"]),
              key=lambda m: (m["cut_off"], -m["member_id"]))
    main = max(nx.connected_components(und), key=len)
    rest = und.subgraph(main - {top["external_id"]})
    expected = main - {top["external_id"]} - max(nx.connected_components(rest), key=len)
    r = run(app, [*db, "whatif", "--community", "vil1", "--remove", top["external_id"], "--json"])
    assert r.exit_code == 0, r.output
    assert set(json.loads(r.stdout)["cut_off"]) == expected

    iso_one = sorted(iso)[0]
    r = run(app, [*db, "whatif", "--community", "vil1", "--add",
                  f"{iso_one}:{top['external_id']}", "--support-type", "practical", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["no_longer_isolated"] == [iso_one]

    r = run(app, [*db, "whatif", "--community", "vil1", "--remove", "nobody"])
    assert r.exit_code == 2 and "no member with external id" in r.output
    r = run(app, [*db, "whatif", "--community", "vil1"])
    assert r.exit_code == 2
    r = run(app, [*db, "community", "--community", "nowhere"])
    assert r.exit_code == 2 and "no community" in r.output
    r = run(app, [*db, "community", "--community", "vil1", "-o", str(tmp_path / "x.txt")])
    assert r.exit_code == 2
