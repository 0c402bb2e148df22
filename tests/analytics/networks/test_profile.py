"""Member measures, flags, summary figures and what-if scenarios.

Outside references: networkx (out/in degree, reciprocity, modularity, shortest-path reach) on the
same graphs; hand-built small networks for the flag definitions.
"""

import json

import networkx as nx
import numpy as np
import pytest

from commonweal.analytics.networks import (
    FlagRules,
    add_ties,
    communities,
    from_arrays,
    from_edges,
    gini,
    member_measures,
    profile_network,
    read_karnataka_village,
    reciprocity,
    remove_members,
    support_network,
    two_step_reach,
)
from commonweal.analytics.networks.kinds import SUPPORT_TYPES

from ._nxref import directed_nx, undirected_nx


def test_flags_on_a_hand_built_network():
    # ana turns to bo for emotional+practical and to cy for emotional only -> dependent on bo
    # dee turns only to bo -> single contact; eve turns to nobody -> isolated
    names = ["emotional", "practical", "emotional", "companionship"]
    kinds = [SUPPORT_TYPES.index(k) for k in names]
    g = from_edges(["ana", "ana", "ana", "dee"], ["bo", "bo", "cy", "bo"], kinds,
                   people=["eve"])
    m = member_measures(g, FlagRules(overload_min_dependents=2, overload_ratio=2)).rows(named=True)
    by = {r["id"]: r for r in m}
    assert by["ana"]["n_supporters"] == 2 and by["ana"]["supporters_emotional"] == 2
    assert by["ana"]["dependent_on_one"] and by["ana"]["main_supporter"] == "bo"
    assert by["dee"]["single_contact"] and not by["dee"]["dependent_on_one"]
    assert by["eve"]["isolated"] and by["bo"]["isolated"]
    assert by["bo"]["n_dependents"] == 2 and by["bo"]["overloaded"]
    assert by["bo"]["dependents_practical"] == 1 and by["bo"]["dependents_companionship"] == 1
    assert by["ana"]["reach_2"] == 2


def test_two_supporters_covering_everything_is_not_dependence():
    g = from_edges(["a", "a", "a", "a"], ["b", "b", "c", "c"], [0, 1, 0, 1])
    assert not member_measures(g)["dependent_on_one"][0]


def test_counts_match_networkx_degrees_and_reach(data_dir):
    d = data_dir / "karnataka_villages"
    g = read_karnataka_village(d / "vil5_edges.csv", d / "vil5_meta.csv")
    D = directed_nx(g)
    m = member_measures(g)
    assert m["n_supporters"].to_list() == [D.out_degree(i) for i in range(g.n)]
    assert m["n_dependents"].to_list() == [D.in_degree(i) for i in range(g.n)]
    reach = [len(nx.single_source_shortest_path_length(D, i, cutoff=2)) - 1 for i in range(g.n)]
    assert two_step_reach(g, chunk=100).tolist() == reach
    assert reciprocity(g) == pytest.approx(nx.overall_reciprocity(D))
    for k, name in enumerate(SUPPORT_TYPES[:5]):
        Dk = nx.DiGraph()
        Dk.add_nodes_from(range(g.n))
        sel = g.kind == k
        Dk.add_edges_from(zip(g.src[sel].tolist(), g.dst[sel].tolist(), strict=True))
        assert m[f"supporters_{name}"].to_list() == [Dk.out_degree(i) for i in range(g.n)]


def test_communities_modularity_matches_networkx_and_is_seeded(data_dir):
    d = data_dir / "karnataka_villages"
    g = read_karnataka_village(d / "vil3_edges.csv", d / "vil3_meta.csv")
    c = communities(g, seed=5)
    again = communities(g, seed=5)
    np.testing.assert_array_equal(c.labels, again.labels)
    G = undirected_nx(g)
    parts = [set(np.flatnonzero(c.labels == i).tolist()) for i in range(c.n_communities)]
    assert c.modularity == pytest.approx(nx.community.modularity(G, parts), abs=1e-12)
    assert c.modularity > 0.5
    u, v = g.undirected
    assert c.bonding.sum() + c.bridging.sum() == 2 * u.size


def test_gini_against_mean_absolute_difference():
    rng = np.random.default_rng(0)
    x = rng.pareto(1.5, 300)
    mad = np.abs(x[:, None] - x[None, :]).mean()  # Gini = E|X - Y| / (2 E X)
    assert gini(x) == pytest.approx(mad / (2 * x.mean()))


def test_profile_network_is_serialisable_and_consistent(data_dir):
    d = data_dir / "karnataka_villages"
    g = read_karnataka_village(d / "vil10_edges.csv", d / "vil10_meta.csv")
    p = profile_network(g, seed=3)
    doc = json.loads(json.dumps(p.to_dict(), allow_nan=False))
    s = doc["summary"]
    assert s["n_people"] == g.n == len(doc["members"])
    assert s["share_isolated"] == pytest.approx(p.members["isolated"].mean())
    assert s["n_bridges"] == len(doc["bridges"])
    assert set(s["robustness_index"]) == {"random", "degree", "betweenness"}
    assert p.members["core"].max() >= 2
    other = profile_network(g, seed=3, engine="networkx").members
    # same answers on both engines; betweenness only up to float summation order (threads)
    assert other.drop("betweenness").equals(p.members.drop("betweenness"))
    np.testing.assert_allclose(other["betweenness"], p.members["betweenness"], atol=1e-15)


def test_large_graph_skips_betweenness_with_a_note():
    g = from_arrays(*support_network(3000, 9000, seed=2), n=3000)
    p = profile_network(g, exact_max_n=100, kadabra_max_n=1000, reach_max_n=1000)
    assert p.summary.betweenness_method == "skipped"
    assert "betweenness" not in p.summary.robustness_index
    assert p.members["reach_2"].null_count() == 3000
    assert len(p.notes) == 3


@pytest.mark.parametrize("brokerage", ["kadabra", "exact", "skip"])
def test_profile_leiden_on_a_second_thread_is_the_seeded_partition(brokerage):
    # profile_network runs Leiden on a second thread alongside the other steps (KADABRA, which
    # reseeds NetworKit, before it): the partition must be the one a plain call gives, every time
    g = from_arrays(*support_network(3000, 12000, seed=7), n=3000)
    alone = communities(g, seed=11)
    for _ in range(3):
        p = profile_network(g, seed=11, brokerage=brokerage, kadabra_error=0.05)
        np.testing.assert_array_equal(p.members["community"].to_numpy(), alone.labels)
        assert p.summary.modularity == alone.modularity
    assert set(p.timings) >= {"communities", "robustness", "total"}


def test_concurrent_seeded_runs_do_not_reseed_each_other():
    # NetworKit has one global seed; without the seed lock a run started on another thread would
    # reseed a Leiden run midway. Different seeds at once must each give their solo partition.
    from concurrent.futures import ThreadPoolExecutor

    g = from_arrays(*support_network(20_000, 100_000, seed=3), n=20_000)
    seeds = [1, 2, 3, 4]
    solo = {s: communities(g, seed=s).labels for s in seeds}
    with ThreadPoolExecutor(4) as pool:
        runs = list(pool.map(lambda s: (s, communities(g, seed=s).labels), seeds * 2))
    for s, labels in runs:
        np.testing.assert_array_equal(labels, solo[s])


def test_what_if_a_key_volunteer_leaves():
    # a chain hub: x and y lean only on hub; hub links two groups
    g = from_edges(["x", "y", "a", "b", "hub", "c", "d"], ["hub", "hub", "b", "hub", "c", "d", "c"])
    w = remove_members(g, ["hub"])
    # b turned only to hub as well; a still has b
    assert w.newly_isolated == ["x", "y", "b"]
    # pieces left: {x}, {y}, {a, b}, {c, d}; the tie between the two pairs goes to the piece
    # holding the earliest id, so x, y, c, d are cut off from the main body
    assert w.cut_off == ["x", "y", "c", "d"]
    assert w.main_body_before == 7 and w.main_body_after == 2
    assert w.robustness_after["random"] < w.robustness_before["random"]
    assert w.robustness_after["degree"] <= w.robustness_before["degree"]
    json.dumps(w.to_dict())


def test_what_if_buddy_scheme():
    g = from_edges(["a", "b"], ["b", "a"], people=["c", "d"])
    w = add_ties(g, ["c", "d"], ["a", "c"], ["companionship", "practical"])
    assert w.no_longer_isolated == ["c", "d"]
    assert w.flags_after["isolated"] == w.flags_before["isolated"] - 2
    assert w.main_body_after == 4
    assert w.robustness_after["random"] > w.robustness_before["random"]
