"""networkx references for the tests (the outside reference every structural number is held to)."""

import networkx as nx
import numpy as np


def undirected_nx(g):
    G = nx.Graph()
    G.add_nodes_from(range(g.n))
    u, v = g.undirected
    G.add_edges_from(zip(u.tolist(), v.tolist(), strict=True))
    return G


def directed_nx(g):
    D = nx.DiGraph()
    D.add_nodes_from(range(g.n))
    D.add_edges_from(zip(g.pair_src.tolist(), g.pair_dst.tolist(), strict=True))
    return D


def naive_lcc_curve(G, order):
    """Remove people one by one and recount components (the slow, obvious way)."""
    H = G.copy()
    out = [max((len(c) for c in nx.connected_components(H)), default=0)]
    for x in order:
        H.remove_node(int(x))
        out.append(max((len(c) for c in nx.connected_components(H)), default=0))
    return np.asarray(out)
