"""Communities (Leiden, seeded) and bonding vs bridging ties, on the undirected support graph.

A tie is **bonding** when both people are in the same community and **bridging** otherwise
(Putnam 2000's distinction, operationalised on detected communities). Communities come from
NetworKit's parallel Leiden (Traag, Waltman & van Eck 2019), which guarantees connected
communities; modularity ``Q = sum_c [L_c / m - (d_c / 2m)^2]`` (Newman 2006) equals
``networkx.algorithms.community.modularity`` on the same partition.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from commonweal.analytics.networks._seeded import NK_SEED_LOCK
from commonweal.analytics.networks.cuts import canonical_components
from commonweal.analytics.networks.graph import SupportGraph

__all__ = ["Communities", "communities"]

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class Communities:
    """Community of each person (0 = largest), modularity, and bonding/bridging tie counts."""

    labels: IntArray
    modularity: float
    bonding: IntArray
    bridging: IntArray
    seed: int

    @property
    def n_communities(self) -> int:
        """Number of communities (people without ties are their own community)."""
        return int(self.labels.max()) + 1 if self.labels.size else 0

    @property
    def bridging_share(self) -> float:
        """Share of ties of the undirected support graph that bridge communities."""
        total = int(self.bonding.sum() + self.bridging.sum())
        return float(self.bridging.sum()) / total if total else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Summary figures (labels live in the member profile)."""
        return {"n_communities": self.n_communities, "modularity": self.modularity,
                "bridging_share": self.bridging_share, "seed": self.seed}


def modularity(graph: SupportGraph, labels: IntArray) -> float:
    """Newman modularity of a partition of the undirected support graph (unweighted)."""
    u, v = graph.undirected
    m = u.size
    if m == 0:
        return 0.0
    inside = np.bincount(labels[u][labels[u] == labels[v]], minlength=int(labels.max()) + 1)
    deg = np.bincount(labels, weights=graph.degree, minlength=int(labels.max()) + 1)
    return float(inside.sum() / m - np.sum((deg / (2.0 * m)) ** 2))


def communities(graph: SupportGraph, *, seed: int = 0, iterations: int = 3) -> Communities:
    """Leiden communities of the undirected support graph, reproducible for a given seed.

    NetworKit's Leiden runs single-threaded here so the same seed gives the same partition, and
    holds the seed lock (see ``_seeded``) so another seeded run cannot reseed it midway.

    Examples
    --------
    >>> from commonweal.analytics.networks.graph import from_arrays
    >>> c = communities(from_arrays([0, 1, 2, 3, 4, 5, 2], [1, 2, 0, 4, 5, 3, 3]), seed=1)
    >>> c.n_communities, int(c.bridging.sum()) // 2
    (2, 1)
    """
    import networkit as nk

    n = graph.n
    if graph.n_edges == 0:
        labels = np.arange(n, dtype=np.int64)
    else:
        g = graph.networkit()
        threads = nk.getMaxNumberOfThreads()
        nk.setNumberOfThreads(1)  # per calling thread
        try:
            with NK_SEED_LOCK:
                nk.engineering.setSeed(seed, False)
                leiden = nk.community.ParallelLeiden(g, randomize=True,
                                                     iterations=iterations).run()
            raw = np.asarray(leiden.getPartition().getVector(), dtype=np.int64)
        finally:
            nk.setNumberOfThreads(threads)
        labels, _ = canonical_components(raw)
    u, v = graph.undirected
    same = labels[u] == labels[v]
    bonding = np.bincount(np.concatenate((u[same], v[same])), minlength=n).astype(np.int64)
    bridging = np.bincount(np.concatenate((u[~same], v[~same])), minlength=n).astype(np.int64)
    return Communities(labels, modularity(graph, labels), bonding, bridging, seed)
