import networkx as nx
import numpy as np
import pytest

from commonweal.analytics.networks import (
    from_arrays,
    lcc_curve,
    read_graphml,
    read_karnataka_village,
    robustness,
    support_network,
)
from commonweal.analytics.networks.robustness import removal_order
from commonweal.errors import InputError

from ._nxref import naive_lcc_curve, undirected_nx

ALL = ("random", "degree", "betweenness", "adaptive_degree", "adaptive_betweenness")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_curves_equal_naive_recount_synthetic(seed):
    g = from_arrays(*support_network(80, 200, seed=seed), n=80)
    G = undirected_nx(g)
    r = robustness(g, ALL, seed=seed)
    for name in ALL:
        order = removal_order(g, name, seed=seed)
        np.testing.assert_array_equal(r.curves[name], naive_lcc_curve(G, order))
    assert r.index("random") > r.index("adaptive_betweenness")


def test_curves_equal_naive_recount_real(data_dir):
    g = read_graphml(data_dir / "koster_arang_dak" / "tangible_support.graphml")
    G = undirected_nx(g)
    static = ("random", "degree", "betweenness", "adaptive_degree")
    r = robustness(g, static, seed=4)
    for name in static:
        np.testing.assert_array_equal(r.curves[name],
                                      naive_lcc_curve(G, removal_order(g, name, seed=4)))
    d = data_dir / "karnataka_villages"
    g = read_karnataka_village(d / "vil10_edges.csv", d / "vil10_meta.csv")
    G = undirected_nx(g)
    order = removal_order(g, "degree")
    np.testing.assert_array_equal(lcc_curve(g, order), naive_lcc_curve(G, order))


def test_robustness_index_definition():
    # star of 5: removing the hub first leaves singletons. s(Q) for Q=1..5 = 1/5 x4, then 0.
    g = from_arrays([1, 2, 3, 4], [0, 0, 0, 0])
    r = robustness(g, ("degree",))
    assert r.curves["degree"].tolist() == [5, 1, 1, 1, 1, 0]
    assert r.index("degree") == pytest.approx(4 / 25)  # Schneider et al. 2011: R = sum s(Q)/N
    d = r.to_dict(points=6)
    assert d["largest_share"]["degree"][0] == 1.0


def test_adaptive_orders_refuse_large_graphs_and_bad_orders():
    g = from_arrays(*support_network(600, 1200, seed=1), n=600)
    with pytest.raises(InputError, match="only offered"):
        robustness(g, ("adaptive_betweenness",))
    with pytest.raises(InputError):
        lcc_curve(g, np.zeros(600, dtype=int))
    with pytest.raises(InputError):
        robustness(g, ("sideways",))


def test_path_graph_deep_tree_no_recursion_limit():
    n = 50_000
    g = from_arrays(np.arange(n - 1), np.arange(1, n))
    c = lcc_curve(g, np.arange(n))
    assert c[0] == n and c[1] == n - 1 and c[-1] == 0
    G = nx.path_graph(10)
    g10 = from_arrays(np.arange(9), np.arange(1, 10))
    order = [5, 2, 8, 0, 1, 3, 4, 6, 7, 9]
    np.testing.assert_array_equal(lcc_curve(g10, order), naive_lcc_curve(G, order))
