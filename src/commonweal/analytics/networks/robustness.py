"""Robustness curves of the undirected support graph, in one pass by reverse union-find.

Removing people in an order ``o_1, o_2, ...``, let ``s(Q)`` be the share of all ``N`` people still in
the largest connected body after the first ``Q`` removals. The robustness index is

    R = (1 / N) * sum_{Q=1}^{N} s(Q)                    (Schneider et al. 2011, PNAS 108:3838)

Instead of recomputing components after every removal, we add people back in reverse order and
join components with a union-find; the largest size after adding back everyone from position
``Q`` on is the largest body after ``Q`` removals. Only ties of a spanning forest can merge
components, so we first keep a maximum spanning forest for the tie weight "how long the tie lasts"
(the removal position of its first-removed end; Kruskal, via scipy, on a relabelling whose CSR
order is already sorted by that weight), then run the union-find over at most ``N - 1`` ties.

Orders: ``random`` (seeded), ``degree`` and ``betweenness`` (static: ranked once, highest first,
ties by internal id). ``adaptive_degree`` and ``adaptive_betweenness`` recompute the ranking after
every removal, which costs a full recomputation per person, so they are only offered up to
``adaptive_max_n`` people.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import minimum_spanning_tree

from commonweal.analytics.networks.graph import SupportGraph
from commonweal.errors import InputError

__all__ = ["ORDERS", "Robustness", "lcc_curve", "removal_order", "robustness"]

IntArray = npt.NDArray[np.int64]
ORDERS = ("random", "degree", "betweenness", "adaptive_degree", "adaptive_betweenness")


def lcc_curve(graph: SupportGraph, order: npt.ArrayLike) -> IntArray:
    """Largest component size after removing the first ``Q`` people of ``order``, ``Q = 0..N``.

    Parameters
    ----------
    graph : SupportGraph
    order : array_like of int
        A permutation of ``0..N-1`` (the removal order).

    Returns
    -------
    numpy.ndarray of int64, length ``N + 1``

    Examples
    --------
    >>> from commonweal.analytics.networks.graph import from_arrays
    >>> lcc_curve(from_arrays([0, 1], [1, 2]), [1, 0, 2]).tolist()
    [3, 1, 1, 0]
    """
    n = graph.n
    o = np.asarray(order, dtype=np.int64)
    if o.size != n or (n and (o.min() < 0 or o.max() >= n or np.bincount(o, minlength=n).max() > 1)):
        raise InputError("a removal order must list every person exactly once")
    rank = np.empty(n, dtype=np.int64)
    rank[o] = np.arange(n)
    u, v = graph.undirected
    out = np.zeros(n + 1, dtype=np.int64)
    out[:n] = 1
    if u.size == 0:
        return out
    ru, rv = rank[u], rank[v]
    when = np.minimum(ru, rv)  # the tie disappears with its first-removed end
    # Kruskal on weight n - when (>= 1) keeps a forest joining exactly what all ties join. Person
    # x is relabelled n - 1 - rank[x] and each tie sits in the row of its first-removed end, so
    # the CSR rows run by decreasing ``when`` and the weights are already sorted: scipy's stable
    # sort of them is then linear instead of n log n.
    row = (n - 1) - when
    col = (n - 1) - np.maximum(ru, rv)
    forest = minimum_spanning_tree(
        sp.csr_array(((row + 1).astype(np.float64), (row, col)), shape=(n, n))).tocsr()
    frow = np.repeat(np.arange(n, dtype=np.int64), np.diff(forest.indptr))
    fw = (n - 1) - frow  # forest ties by decreasing when (the CSR row order)
    # order within one removal step does not change the curve
    merged = _union_sizes(n, frow.tolist(), forest.indices.astype(np.int64).tolist())
    best = np.maximum.accumulate(np.asarray(merged, dtype=np.int64))
    # after Q removals the forest ties with when >= Q are present: a prefix of the list
    present = np.searchsorted(-fw, -np.arange(n + 1), side="right")
    has = present > 0
    out[has] = np.maximum(out[has], best[present[has] - 1])
    out[n] = 0
    return out


def _union_sizes(n: int, fu: list[int], fv: list[int]) -> list[int]:
    """Union-find over forest ties in order; size of the component each tie creates."""
    parent = list(range(n))
    size = [1] * n
    out = [0] * len(fu)
    for t in range(len(fu)):
        a = fu[t]
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        b = fv[t]
        while parent[b] != b:
            parent[b] = parent[parent[b]]
            b = parent[b]
        if size[a] < size[b]:
            a, b = b, a
        parent[b] = a
        size[a] += size[b]
        out[t] = size[a]
    return out


def _adaptive(graph: SupportGraph, by: str) -> IntArray:
    import networkit as nk

    n = graph.n
    alive = np.ones(n, dtype=bool)
    order: list[int] = []
    u, v = graph.undirected
    for _ in range(n):
        keep = alive[u] & alive[v]
        if not keep.any():
            break
        if by == "degree":
            score = np.bincount(np.concatenate((u[keep], v[keep])), minlength=n).astype(float)
        else:
            g = nk.Graph(n, False, False)
            g.addEdges((u[keep].astype(np.uint64), v[keep].astype(np.uint64)))
            score = np.asarray(nk.centrality.Betweenness(g).run().scores(), dtype=float)
        score[~alive] = -1.0
        pick = int(np.argmax(score))  # highest score, ties by lowest id
        order.append(pick)
        alive[pick] = False
    rest = np.flatnonzero(alive)
    return np.concatenate((np.asarray(order, dtype=np.int64), rest))


def removal_order(graph: SupportGraph, name: str, *, seed: int = 0,
                  betweenness: npt.ArrayLike | None = None, adaptive_max_n: int = 500) -> IntArray:
    """The removal order called ``name`` (one of :data:`ORDERS`)."""
    n = graph.n
    if name == "random":
        return np.random.default_rng(seed).permutation(n).astype(np.int64)
    if name == "degree":
        return np.argsort(-graph.degree, kind="stable").astype(np.int64)
    if name == "betweenness":
        if betweenness is None:
            from commonweal.analytics.networks.centrality import betweenness as bc

            betweenness = bc(graph, seed=seed).values
        return np.argsort(-np.asarray(betweenness, dtype=float), kind="stable").astype(np.int64)
    if name in ("adaptive_degree", "adaptive_betweenness"):
        if n > adaptive_max_n:
            raise InputError(f"{name} recomputes after every removal and is only offered up to "
                             f"{adaptive_max_n} people (this network has {n}); use a static order")
        return _adaptive(graph, name.removeprefix("adaptive_"))
    raise InputError(f"unknown removal order {name!r}; use one of {', '.join(ORDERS)}")


@dataclass(frozen=True, eq=False)
class Robustness:
    """Largest-body curves and robustness index per removal order."""

    n: int
    curves: dict[str, IntArray]
    notes: dict[str, str] = field(default_factory=dict)

    def share(self, name: str) -> npt.NDArray[np.float64]:
        """``s(Q)`` for ``Q = 0..N``: share of people in the largest body after Q removals."""
        return self.curves[name] / max(self.n, 1)

    def index(self, name: str) -> float:
        """Robustness index ``R`` of an order (Schneider et al. 2011)."""
        return float(self.curves[name][1:].sum()) / max(self.n, 1) ** 2

    def to_dict(self, points: int = 101) -> dict[str, Any]:
        """R per order and each curve sampled at ``points`` evenly spaced removal shares."""
        q = np.unique(np.rint(np.linspace(0, self.n, points)).astype(np.int64))
        return {
            "n": self.n,
            "R": {k: self.index(k) for k in self.curves},
            "removed_share": (q / max(self.n, 1)).tolist(),
            "largest_share": {k: self.share(k)[q].tolist() for k in self.curves},
            "notes": dict(self.notes),
        }


def robustness(
    graph: SupportGraph,
    orders: Sequence[str] = ("random", "degree", "betweenness"),
    *,
    seed: int = 0,
    betweenness: npt.ArrayLike | None = None,
    adaptive_max_n: int = 500,
) -> Robustness:
    """Robustness curves and R for each removal order (see the module docstring).

    Notes
    -----
    Checked against removing people one by one and recounting components with networkx.
    """
    curves: dict[str, IntArray] = {}
    notes: dict[str, str] = {}
    for name in orders:
        order = removal_order(graph, name, seed=seed, betweenness=betweenness,
                              adaptive_max_n=adaptive_max_n)
        curves[name] = lcc_curve(graph, order)
        notes[name] = ("recomputed after every removal" if name.startswith("adaptive")
                       else "seeded random order" if name == "random"
                       else "ranked once on the intact network (static)")
    return Robustness(graph.n, curves, notes)
