"""Components, articulation points, bridges and who would be cut off: on the undirected support graph.

Definitions (undirected support graph: a tie in either direction, of any kind):

* **main body**: the largest connected component (ties between equal sizes go to the component
  holding the smallest internal id, so every engine picks the same one);
* **articulation point**: a person whose removal disconnects their component;
* **bridge**: a tie whose removal disconnects its component;
* **cut off** (articulation point ``a`` in a component of ``C`` people): the number of *other*
  people of that component who would no longer be in its largest remaining piece if ``a`` left,
  ``C - 1 - max piece``. For ``a`` in the main body this is "how many people would be cut off from
  the main body" (we keep calling the largest remaining piece the main body even if another
  component were then as large);
* **bridge cut off**: the size of the smaller side of the bridge.

All of it comes from one block-cut tree (biconnected components and the articulation points
joining them), not from re-running components per person: root each component's tree at its
largest block, sum people over subtrees, and the pieces left by ``a`` are its child subtrees and
everything above it (Hopcroft & Tarjan 1973; block-cut tree as in Harary 1969).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order, connected_components

from commonweal.analytics.networks.graph import SupportGraph
from commonweal.errors import InputError

__all__ = [
    "CutStructure",
    "Engine",
    "canonical_components",
    "components_scipy",
    "cut_structure",
]

IntArray = npt.NDArray[np.int64]
Engine = Literal["networkit", "networkx"]


@dataclass(frozen=True, eq=False)
class CutStructure:
    """Connectivity of the undirected support graph, per person and per bridge.

    Attributes
    ----------
    component : int64 array
        Component of each person; 0 is the main body, then by decreasing size.
    component_sizes : int64 array
        Size of each component (``component_sizes[0]`` is the main body).
    articulation : bool array
        Whether each person is an articulation point.
    cut_off : int64 array
        People cut off from the largest piece of the person's component if they left (0 unless
        an articulation point).
    bridge_u, bridge_v : int64 arrays
        Bridges as ``u < v``.
    bridge_cut_off : int64 array
        Size of the smaller side of each bridge.
    """

    component: IntArray
    component_sizes: IntArray
    articulation: npt.NDArray[np.bool_]
    cut_off: IntArray
    bridge_u: IntArray
    bridge_v: IntArray
    bridge_cut_off: IntArray

    @property
    def in_main(self) -> npt.NDArray[np.bool_]:
        """Whether each person is in the main body."""
        out: npt.NDArray[np.bool_] = self.component == 0
        return out

    @property
    def main_size(self) -> int:
        """Size of the main body (0 for an empty graph)."""
        return int(self.component_sizes[0]) if self.component_sizes.size else 0

    @property
    def bridge_in_main(self) -> npt.NDArray[np.bool_]:
        """Whether each bridge lies in the main body."""
        out: npt.NDArray[np.bool_] = self.component[self.bridge_u] == 0
        return out


def canonical_components(labels: npt.ArrayLike) -> tuple[IntArray, IntArray]:
    """Relabel components: by decreasing size, ties by smallest member id. Returns (labels, sizes)."""
    lab = np.asarray(labels, dtype=np.int64)
    if lab.size == 0:
        return lab, np.empty(0, dtype=np.int64)
    _, first, inv = np.unique(lab, return_index=True, return_inverse=True)
    sizes = np.bincount(inv)
    order = np.lexsort((first, -sizes))  # size desc, then first member
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = np.arange(order.size)
    return rank[inv], sizes[order].astype(np.int64)


def _blocks_networkit(graph: SupportGraph) -> tuple[IntArray, list[list[int]]]:
    import networkit as nk

    g = graph.networkit()
    cc = nk.components.ConnectedComponents(g).run()
    labels = np.asarray(cc.getPartition().getVector(), dtype=np.int64)
    blocks = nk.components.BiconnectedComponents(g).run().getComponents()
    return labels, blocks


def _blocks_networkx(graph: SupportGraph) -> tuple[IntArray, list[list[int]]]:
    import networkx as nx  # type: ignore[import-untyped]

    g = nx.Graph()
    g.add_nodes_from(range(graph.n))
    u, v = graph.undirected
    g.add_edges_from(zip(u.tolist(), v.tolist(), strict=True))
    labels = np.empty(graph.n, dtype=np.int64)
    for i, comp in enumerate(nx.connected_components(g)):
        labels[list(comp)] = i
    return labels, [list(b) for b in nx.biconnected_components(g)]


def cut_structure(graph: SupportGraph, *, engine: Engine = "networkit") -> CutStructure:
    """Components, articulation points, bridges and cut-off counts of the undirected support graph.

    Parameters
    ----------
    graph : SupportGraph
    engine : {"networkit", "networkx"}
        Where the biconnected components come from (networkx is for small graphs and for
        checking; both give identical results).

    Returns
    -------
    CutStructure

    Notes
    -----
    Articulation points are the people in two or more biconnected components; bridges are the
    two-person biconnected components (Hopcroft & Tarjan 1973). Checked against networkx's
    ``articulation_points`` and ``bridges`` and against removing each person and recounting.

    Examples
    --------
    >>> from commonweal.analytics.networks.graph import from_arrays
    >>> cs = cut_structure(from_arrays([0, 1, 2, 2], [1, 2, 0, 3]))
    >>> cs.articulation.tolist(), cs.cut_off.tolist()
    ([False, False, True, False], [0, 0, 1, 0])
    """
    if engine == "networkit":
        labels, blocks = _blocks_networkit(graph)
    elif engine == "networkx":
        labels, blocks = _blocks_networkx(graph)
    else:
        raise InputError(f"unknown engine {engine!r}; use 'networkit' or 'networkx'")
    component, sizes = canonical_components(labels)
    return _from_blocks(graph.n, component, sizes, blocks)


def _from_blocks(
    n: int, component: IntArray, sizes: IntArray, blocks: Sequence[Sequence[int]]
) -> CutStructure:
    blocks = [b for b in blocks if len(b) >= 2]
    blens = np.fromiter((len(b) for b in blocks), dtype=np.int64, count=len(blocks))
    members = (np.fromiter((x for b in blocks for x in b), dtype=np.int64, count=int(blens.sum()))
               if blocks else np.empty(0, dtype=np.int64))
    bid = np.repeat(np.arange(len(blocks), dtype=np.int64), blens)
    count = np.bincount(members, minlength=n)
    articulation = count >= 2
    n_blocks = len(blocks)
    # tree nodes: blocks 0..B-1, articulation points B..B+A-1, a virtual root B+A
    ap_ids = np.flatnonzero(articulation)
    ap_node = np.full(n, -1, dtype=np.int64)
    ap_node[ap_ids] = n_blocks + np.arange(ap_ids.size)
    n_tree = n_blocks + ap_ids.size + 1
    root = n_tree - 1
    weight = np.zeros(n_tree, dtype=np.int64)
    weight[:n_blocks] = np.bincount(bid[~articulation[members]], minlength=n_blocks)
    weight[n_blocks:root] = 1
    is_ap_member = articulation[members]
    tu = bid[is_ap_member]
    tv = ap_node[members[is_ap_member]]
    # each component's tree hangs from the virtual root by its largest block
    bcomp = component[members[np.r_[0, np.cumsum(blens)[:-1]]]] if n_blocks else bid
    order = np.lexsort((-blens, bcomp))
    first = np.ones(order.size, dtype=bool)
    first[1:] = bcomp[order][1:] != bcomp[order][:-1]
    top_blocks = order[first]
    rows = np.concatenate((tu, tv, top_blocks, np.full(top_blocks.size, root)))
    cols = np.concatenate((tv, tu, np.full(top_blocks.size, root), top_blocks))
    adj = sp.csr_array((np.ones(rows.size, dtype=np.int8), (rows, cols)), shape=(n_tree, n_tree))
    bfs, pred = breadth_first_order(adj, root, directed=False, return_predecessors=True)
    pred = pred.astype(np.int64)
    sub = weight.tolist()
    pl = pred.tolist()
    for x in bfs[::-1].tolist():
        p = pl[x]
        if p >= 0:
            sub[p] += sub[x]
    subtree = np.asarray(sub, dtype=np.int64)
    # pieces left by an articulation point: its child blocks, and the rest of its component
    cut_off = np.zeros(n, dtype=np.int64)
    if ap_ids.size:
        blocks_idx = np.arange(n_blocks)
        parent = pred[:n_blocks]
        child_of_ap = parent >= n_blocks
        child_of_ap &= parent < root
        max_child = np.zeros(n_tree, dtype=np.int64)
        np.maximum.at(max_child, parent[child_of_ap], subtree[blocks_idx[child_of_ap]])
        t = ap_node[ap_ids]
        csize = sizes[component[ap_ids]]
        above = csize - subtree[t]
        largest = np.maximum(above, max_child[t])
        cut_off[ap_ids] = csize - 1 - largest
    # bridges: two-person blocks
    two = np.flatnonzero(blens == 2)
    starts = np.r_[0, np.cumsum(blens)[:-1]]
    a = members[starts[two]] if two.size else np.empty(0, dtype=np.int64)
    b = members[starts[two] + 1] if two.size else np.empty(0, dtype=np.int64)
    bu, bv = np.minimum(a, b), np.maximum(a, b)
    csize_b = sizes[component[bu]] if two.size else np.empty(0, dtype=np.int64)
    side = subtree[two] if two.size else np.empty(0, dtype=np.int64)
    if two.size:
        at_top = pred[two] == root
        # a top-level bridge block: the component is a tree hung at this bridge; a side is an
        # endpoint's own subtree (1 if it is not an articulation point)
        end = np.where(articulation[bu], subtree[np.maximum(ap_node[bu], 0)], 1)
        side = np.where(at_top, end, side)
    bridge_cut = np.minimum(side, csize_b - side) if two.size else side
    order_b = np.lexsort((bv, bu))
    return CutStructure(
        component=component,
        component_sizes=sizes,
        articulation=articulation,
        cut_off=cut_off,
        bridge_u=bu[order_b].astype(np.int64),
        bridge_v=bv[order_b].astype(np.int64),
        bridge_cut_off=np.asarray(bridge_cut, dtype=np.int64)[order_b],
    )


def components_scipy(graph: SupportGraph) -> tuple[IntArray, IntArray]:
    """Canonical components via scipy (used by the robustness module and for checking)."""
    _, labels = connected_components(graph.csr, directed=False)
    return canonical_components(labels)

