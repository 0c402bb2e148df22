"""Network API routes and the community network page (TestClient), on both databases."""

from __future__ import annotations

import math
import re

import networkx as nx
from sqlalchemy import func, select

from commonweal.db.engine import transaction
from commonweal.registry.models import Tie
from tests.helpers import login, make_client
from tests.networks._village import networkx_reference, store_village


def test_api_on_a_stored_village(world) -> None:
    v = store_village(world.factory, world.org_a)
    client = make_client(world.factory)
    login(client, *world.users["coordinator_a"])
    base = f"/api/v1/orgs/{world.org_a}/communities/{v.community_id}/network"
    directed, und = networkx_reference(v.edges, v.meta)

    s = client.get(f"{base}/summary").json()
    assert s["summary"]["n_people"] == directed.number_of_nodes()
    # outside reference: networkx on the undirected graph built from the raw files
    assert s["summary"]["n_articulation_points"] == len(set(nx.articulation_points(und)))
    assert s["summary"]["n_bridges"] == len(list(nx.bridges(und)))
    assert s["flag_counts"]["isolated"] == sum(1 for _, d in directed.out_degree() if d == 0)

    # paged, filtered, most people cut off first, names for a coordinator
    r = client.get(f"{base}/members", params={"flag": "articulation_point", "limit": 5}).json()
    assert r["total"] == s["summary"]["n_articulation_points"] and len(r["items"]) == 5
    cuts = [m["cut_off"] for m in r["items"]]
    assert cuts == sorted(cuts, reverse=True) and cuts[0] == s["summary"]["max_cut_off"]
    assert all(m["articulation_point"] for m in r["items"])
    assert r["items"][0]["display_name"] == f"Person {v.pid_of[r['items'][0]['member_id']]}"
    page2 = client.get(f"{base}/members", params={"flag": "articulation_point", "limit": 5,
                                                  "offset": 5}).json()
    assert not {m["member_id"] for m in page2["items"]} & {m["member_id"] for m in r["items"]}
    single = client.get(f"{base}/members", params={"flag": "single_contact"}).json()
    assert single["total"] == sum(1 for _, d in directed.out_degree() if d == 1)
    assert client.get(f"{base}/members", params={"flag": "lonely"}).status_code == 422

    rob = client.get(f"{base}/robustness", params={"points": 11}).json()
    assert set(rob["R"]) == {"random", "degree", "betweenness"}
    assert rob["removed_share"][0] == 0.0 and rob["removed_share"][-1] == 1.0
    main = max(nx.connected_components(und), key=len)
    assert rob["largest_share"]["degree"][0] == len(main) / directed.number_of_nodes()

    lay = client.get(f"{base}/layout", params={"max_nodes": 300}).json()
    assert lay["n_drawn"] == 300 and lay["truncated"] and lay["n_people"] == und.number_of_nodes()
    ids = [n["id"] for n in lay["nodes"]]
    assert len(set(ids)) == 300 and all(isinstance(i, int) for i in ids)
    drawn = {v.pid_of[i] for i in ids}
    # every tie between drawn people is drawn, and only those (networkx subgraph)
    assert len(lay["edges"]) == und.subgraph(drawn).number_of_edges()
    assert all(0 <= a < 300 and 0 <= b < 300 for a, b, _ in lay["edges"])
    assert all(math.isfinite(n["x"]) and math.isfinite(n["y"]) for n in lay["nodes"])
    assert len({(n["x"], n["y"]) for n in lay["nodes"]}) > 290
    # the flagged come first when the drawing is capped
    assert sum(n["flag"] == "articulation_point" for n in lay["nodes"]) == \
        s["summary"]["n_articulation_points"]
    assert client.get(f"{base}/layout", params={"max_nodes": 100000}).status_code == 422

    with transaction(world.factory) as ses:
        n_ties = ses.scalar(select(func.count()).select_from(Tie))
    top = r["items"][0]
    w = client.post(f"{base}/whatif", json={"remove": [top["member_id"]]}).json()
    assert len(w["cut_off"]) == top["cut_off"] and w["written"] is False
    assert set(w["names"]) >= {str(x) for x in w["cut_off"]}
    iso = client.get(f"{base}/members", params={"flag": "isolated", "limit": 1}).json()["items"]
    buddy = client.post(f"{base}/whatif", json={"add": [{
        "from_member_id": iso[0]["member_id"], "to_member_id": top["member_id"],
        "support_type": "companionship"}]}).json()
    assert buddy["no_longer_isolated"] == [iso[0]["member_id"]]
    assert buddy["flags_after"]["isolated"] == buddy["flags_before"]["isolated"] - 1
    bad = client.post(f"{base}/whatif", json={"remove": [world.members_b["b0"]]})
    assert bad.status_code == 422
    both = client.post(f"{base}/whatif", json={"remove": [top["member_id"]], "add": [{
        "from_member_id": iso[0]["member_id"], "to_member_id": top["member_id"]}]})
    assert both.status_code == 422
    with transaction(world.factory) as ses:
        assert ses.scalar(select(func.count()).select_from(Tie)) == n_ties

    # researchers: the same figures, de-identified
    client = make_client(world.factory)
    login(client, *world.users["researcher_a"])
    rr = client.get(f"{base}/members", params={"flag": "articulation_point", "limit": 5}).json()
    assert [m["member_id"] for m in rr["items"]] == [m["member_id"] for m in r["items"]]
    assert all(m["display_name"] is None for m in rr["items"]) and rr["de_identified"]
    lay_r = client.get(f"{base}/layout", params={"max_nodes": 50})
    assert not re.search(r"Person \d", lay_r.text)
    page = client.get(f"/o/{world.org_a}/c/{v.community_id}/network")
    assert page.status_code == 200 and not re.search(r"Person \d", page.text)
    assert f"member {r['items'][0]['member_id']}" in page.text


def test_roles_and_other_organisations(world) -> None:
    base = f"/api/v1/orgs/{world.org_a}/communities/{world.community_a}/network"
    client = make_client(world.factory)
    login(client, *world.users["member_a"])  # members may not read other members
    assert client.get(f"{base}/summary").status_code == 403
    assert client.get(f"/o/{world.org_a}/c/{world.community_a}/network").status_code == 403
    client = make_client(world.factory)
    login(client, *world.users["admin_b"])
    assert client.get(f"{base}/summary").status_code == 404
    # B's own org id with A's community: no such community in B
    other = f"/api/v1/orgs/{world.org_b}/communities/{world.community_a}/network"
    for path in ("summary", "members", "robustness", "layout"):
        r = client.get(f"{other}/{path}")
        assert r.status_code == 404 and "Ada" not in r.text
    r = client.post(f"{other}/whatif", json={"remove": [world.members_a["a0"]]})
    assert r.status_code == 404
    client = make_client(world.factory)
    login(client, *world.users["volunteer_a"])
    s = client.get(f"{base}/summary").json()["summary"]
    assert s["n_people"] == 3 and s["n_edges"] == 2


def test_page_renders_with_at_risk_links_plot_and_view(world) -> None:
    client = make_client(world.factory)
    login(client, *world.users["coordinator_a"])
    url = f"/o/{world.org_a}/c/{world.community_a}/network"
    r = client.get(url)
    assert r.status_code == 200
    html = r.text
    # build_world: a0 -> a1, a2 -> a0; a0 is the one articulation point (cuts off one person)
    a0 = world.members_a["a0"]
    assert f'href="/o/{world.org_a}/members/{a0}"' in html and "Ada Okafor A" in html
    assert '<nav class="tabs"' in html and f'href="{url}" aria-current="page">Network' in html
    assert "<svg" in html and "<polyline" in html and "R = " in html
    assert 'id="network-view"' in html and "/static/vendor/cytoscape.min.js" in html
    assert f"/api/v1/orgs/{world.org_a}/communities/{world.community_a}/network/layout" in html
    assert "<script>" not in html and "style=" not in html  # CSP: nothing inline
    # a1 turns to no one: isolated tab, as an htmx fragment
    frag = client.get(url, params={"flag": "isolated"},
                      headers={"HX-Request": "true", "HX-Target": "at-risk"})
    assert frag.status_code == 200 and "<html" not in frag.text
    assert f"/members/{world.members_a['a1']}" in frag.text
    # what if a0 left: a2 is cut off (and becomes isolated)
    w = client.get(f"{url}/whatif", params={"remove": a0}, headers={"HX-Request": "true"})
    assert w.status_code == 200 and "Cai Ramos A" in w.text and "<html" not in w.text
    full = client.get(f"{url}/whatif", params={"remove": world.members_b["b0"]})
    assert full.status_code == 200 and "unknown member" in full.text
    # the overview of the community carries the Network tab
    assert f'href="{url}"' in client.get(f"/o/{world.org_a}/c/{world.community_a}").text
    assert 'href="/static/vendor/cytoscape.min.js' not in client.get("/static/network.js").text
    assert client.get("/static/vendor/cytoscape.min.js").status_code == 200
