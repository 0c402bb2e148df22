"""Cores and brokerage on the undirected support graph.

* **core number** (k-core / shell): the largest ``k`` such that the person is in a subgraph where
  everyone has at least ``k`` ties (Seidman 1983; Batagelj & Zaversnik 2003). Same values as
  ``networkx.core_number``.
* **betweenness** (brokerage): ``b(v) = sum_{s != v != t} sigma_st(v) / sigma_st`` over unordered
  pairs, normalised by ``(n-1)(n-2)/2`` as ``networkx.betweenness_centrality(normalized=True)``
  (Brandes 2001). Exact up to ``exact_max_n`` people; above, KADABRA (Borassi & Natale 2016), an
  adaptive sampling estimate whose every value is within ``error`` of the truth with probability
  at least ``1 - delta`` (the bound is stated in the result).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from commonweal.analytics.networks._seeded import NK_SEED_LOCK
from commonweal.analytics.networks.graph import SupportGraph
from commonweal.errors import InputError

__all__ = ["Betweenness", "betweenness", "core_numbers"]

FloatArray = npt.NDArray[np.float64]


def core_numbers(graph: SupportGraph) -> npt.NDArray[np.int64]:
    """Core number of each person on the undirected support graph (NetworKit CoreDecomposition).

    Examples
    --------
    >>> from commonweal.analytics.networks.graph import from_arrays
    >>> core_numbers(from_arrays([0, 1, 2, 2], [1, 2, 0, 3], n=5)).tolist()
    [2, 2, 2, 1, 0]
    """
    if graph.n == 0:
        return np.empty(0, dtype=np.int64)
    import networkit as nk

    cd = nk.centrality.CoreDecomposition(graph.networkit()).run()
    return np.rint(np.asarray(cd.scores(), dtype=np.float64)).astype(np.int64)


@dataclass(frozen=True, eq=False)
class Betweenness:
    """Betweenness per person and how it was obtained.

    ``error`` is the additive bound on every value (0 when exact), holding with probability at
    least ``1 - delta``.
    """

    values: FloatArray
    method: Literal["exact", "kadabra"]
    error: float
    delta: float

    def to_dict(self) -> dict[str, Any]:
        """Method and error bound (the values live in the member profile)."""
        return {"method": self.method, "error": self.error, "delta": self.delta}


def betweenness(
    graph: SupportGraph,
    *,
    exact_max_n: int = 5000,
    error: float = 0.01,
    delta: float = 0.1,
    seed: int = 0,
) -> Betweenness:
    """Normalised betweenness on the undirected support graph, exact or KADABRA-estimated.

    Parameters
    ----------
    graph : SupportGraph
    exact_max_n : int
        Graphs with at most this many people get exact Brandes betweenness.
    error, delta : float
        KADABRA's additive error and failure probability for larger graphs.
    seed : int
        Seed for the sampling.

    Returns
    -------
    Betweenness

    Notes
    -----
    Exact values equal ``networkx.betweenness_centrality(G, normalized=True)`` (checked in the tests
    on the Karnataka villages, Arang Dak, Bangladesh and ego-Facebook). KADABRA estimates the share
    of pairs whose shortest paths run through ``v`` on its own scale; ``x n / (2 (n - 2))`` (checked
    empirically against exact values) puts it on the scale above; the error is scaled the same way.
    """
    import networkit as nk

    n = graph.n
    if n < 3:
        return Betweenness(np.zeros(n), "exact", 0.0, 0.0)
    if not (0 < error < 1 and 0 < delta < 1):
        raise InputError("betweenness error and delta must be in (0, 1)")
    g = graph.networkit()
    if n <= exact_max_n:
        raw = np.asarray(nk.centrality.Betweenness(g, normalized=False).run().scores())
        # NetworKit counts ordered pairs on undirected graphs: halve, then normalise as networkx
        values = raw / 2.0 * 2.0 / ((n - 1) * (n - 2))
        return Betweenness(values, "exact", 0.0, 0.0)
    with NK_SEED_LOCK:
        nk.engineering.setSeed(seed, True)
        kad = nk.centrality.KadabraBetweenness(g, error, delta).run()
    scale = n / (2.0 * (n - 2))
    return Betweenness(np.asarray(kad.scores()) * scale, "kadabra", error * scale, delta)
