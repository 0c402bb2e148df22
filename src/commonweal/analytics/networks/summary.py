"""The full resilience profile of a support network: per member, per bridge, and for the community.

:func:`profile_network` runs every measure once and returns a :class:`NetworkProfile`. Which graph
each measure uses (see :mod:`commonweal.analytics.networks.graph`):

* directed typed graph: supporters, dependents, flags, reach, reciprocity, support-load Gini;
* undirected support graph: components and main body, articulation points, bridges, cut-off
  counts, cores, betweenness, communities, bonding/bridging ties, robustness.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import polars as pl

from commonweal.analytics.networks.centrality import Betweenness, betweenness, core_numbers
from commonweal.analytics.networks.communities import Communities, communities
from commonweal.analytics.networks.cuts import CutStructure, Engine, cut_structure
from commonweal.analytics.networks.graph import SupportGraph
from commonweal.analytics.networks.profile import FlagRules, member_measures
from commonweal.analytics.networks.robustness import Robustness, robustness

__all__ = ["NetworkProfile", "NetworkSummary", "gini", "profile_network", "reciprocity"]


def gini(x: npt.ArrayLike) -> float:
    """Gini coefficient ``G = sum_i (2i - n - 1) x_(i) / (n sum x)`` (ascending order, i = 1..n).

    0 when everyone carries the same load, near 1 when one person carries it all; 0 for all zeros.

    Examples
    --------
    >>> gini([1, 1, 1, 1]), gini([0, 0, 0, 4])
    (0.0, 0.75)
    """
    a = np.sort(np.asarray(x, dtype=np.float64))
    n = a.size
    total = a.sum()
    if n == 0 or total == 0:
        return 0.0
    i = np.arange(1, n + 1)
    return float(np.sum((2 * i - n - 1) * a) / (n * total))


def reciprocity(graph: SupportGraph) -> float:
    """Share of distinct directed pairs ``i -> j`` whose reverse ``j -> i`` also exists (any kind).

    Equals ``networkx.overall_reciprocity`` on the ``DiGraph`` of distinct pairs. Each mutual
    pair counts both of its directed pairs.
    """
    n_pairs = graph.pair_src.size
    if n_pairs == 0:
        return 0.0
    return float(2 * graph.mutual[0].size) / n_pairs


@dataclass(frozen=True)
class NetworkSummary:
    """Community-level figures (shares are of all people in the network)."""

    n_people: int
    n_ties: int
    n_edges: int
    share_isolated: float
    share_single_contact: float
    share_dependent_on_one: float
    n_overloaded: int
    main_body_share: float
    n_components: int
    reciprocity: float
    modularity: float
    n_communities: int
    bridging_share: float
    support_load_gini: float
    n_articulation_points: int
    n_bridges: int
    n_single_points_of_failure: int
    max_cut_off: int
    robustness_index: dict[str, float]
    betweenness_method: str
    betweenness_error: float | None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True, eq=False)
class NetworkProfile:
    """Everything :func:`profile_network` computed.

    Attributes
    ----------
    members : polars.DataFrame
        One row per person (internal-id order): the columns of
        :func:`~commonweal.analytics.networks.profile.member_measures` plus ``component``,
        ``in_main_body``, ``articulation_point``, ``cut_off``, ``core``, ``betweenness``,
        ``community``, ``bonding_ties``, ``bridging_ties``.
    bridges : polars.DataFrame
        ``u, v`` (external ids), ``in_main_body``, ``cut_off`` (smaller side).
    """

    graph: SupportGraph
    members: pl.DataFrame
    bridges: pl.DataFrame
    summary: NetworkSummary
    robustness: Robustness
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self, *, members: bool = True) -> dict[str, Any]:
        """JSON-ready: summary, robustness curves, notes, and (optionally) members and bridges."""
        out: dict[str, Any] = {
            "summary": self.summary.to_dict(),
            "robustness": self.robustness.to_dict(),
            "notes": list(self.notes),
            "timings_s": dict(self.timings),
        }
        if members:
            out["members"] = self.members.to_dicts()
            out["bridges"] = self.bridges.to_dicts()
        return out


def profile_network(
    graph: SupportGraph,
    *,
    seed: int = 0,
    rules: FlagRules | None = None,
    orders: Sequence[str] = ("random", "degree", "betweenness"),
    brokerage: Literal["auto", "exact", "kadabra", "skip"] = "auto",
    exact_max_n: int = 5000,
    kadabra_max_n: int = 50_000,
    kadabra_error: float = 0.01,
    reach_max_n: int = 200_000,
    engine: Engine = "networkit",
) -> NetworkProfile:
    """Profile a support network: member measures and flags, single points of failure, cores,
    brokerage, communities, community summary and robustness curves.

    Parameters
    ----------
    graph : SupportGraph
    seed : int
        Seeds Leiden, KADABRA and the random removal order (same seed, same answer).
    rules : FlagRules, optional
        Flag thresholds.
    orders : sequence of str
        Removal orders for the robustness curves (see
        :data:`~commonweal.analytics.networks.robustness.ORDERS`).
    brokerage : {"auto", "exact", "kadabra", "skip"}
        ``auto``: exact betweenness up to ``exact_max_n`` people, KADABRA with additive error
        ``kadabra_error`` up to ``kadabra_max_n``, skipped above (the note says so, and the
        ``betweenness`` removal order is then dropped).
    reach_max_n : int
        ``reach_2`` is computed up to this many people (null above, with a note).
    engine : {"networkit", "networkx"}
        Engine of the biconnected components (identical answers; networkx for small graphs).

    Returns
    -------
    NetworkProfile

    Notes
    -----
    Leiden runs single-threaded (so the seed fixes the partition) on a second thread while the
    other steps run; ``timings`` holds each step's own seconds and ``total`` the wall time.
    """
    timings: dict[str, float] = {}
    notes: list[str] = []
    n = graph.n
    t_start = time.perf_counter()

    def timed(name: str, t0: float) -> None:
        timings[name] = round(time.perf_counter() - t0, 4)

    bc: Betweenness | None = None
    bc_note = ""
    mode = brokerage
    if mode == "auto":
        mode = "exact" if n <= exact_max_n else "kadabra" if n <= kadabra_max_n else "skip"

    def brokerage_step() -> tuple[Betweenness | None, str]:
        t0 = time.perf_counter()
        out: Betweenness | None = None
        if mode == "exact":
            out = betweenness(graph, exact_max_n=max(n, 3), seed=seed)
            note = ""
        elif mode == "kadabra":
            out = betweenness(graph, exact_max_n=0, error=kadabra_error, seed=seed)
            note = (f"betweenness estimated by KADABRA: every value within {out.error:.4g} "
                    f"with probability {1 - out.delta:.2f}")
        else:
            note = (f"betweenness skipped ({n} people > {kadabra_max_n}); pass "
                    "brokerage='kadabra' to estimate it (slow), bridging ties show brokers")
        timed("betweenness", t0)
        return out, note

    def community_step() -> Communities:
        t0 = time.perf_counter()
        out = communities(graph, seed=seed)
        timed("communities", t0)
        return out

    import networkit as nk

    if graph.n_edges:
        graph.networkit()  # build the shared NetworKit graph once, before a second thread reads it
    if mode == "kadabra":
        # KADABRA reseeds NetworKit's global generator, which would reseed Leiden's mid-run
        bc, bc_note = brokerage_step()
    # Leiden (single-threaded, so the seed fixes the partition) runs on a second thread while the
    # other steps run on this one: it is C++ without the GIL, so the profile uses two cores.
    threads = nk.getMaxNumberOfThreads()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="leiden") as pool:
        comm_future = pool.submit(community_step)
        # leave Leiden its core (OpenMP teams that oversubscribe the cores spin at barriers); the
        # thread count is per calling thread, so this does not touch Leiden's
        nk.setNumberOfThreads(max(1, threads - 1))
        try:
            t0 = time.perf_counter()
            reach = n <= reach_max_n
            members = member_measures(graph, rules, reach=reach)
            if not reach:
                members = members.with_columns(pl.lit(None, dtype=pl.Int64).alias("reach_2"))
                notes.append(f"reach_2 not computed above {reach_max_n} people")
            timed("members", t0)
            t0 = time.perf_counter()
            cuts: CutStructure = cut_structure(graph, engine=engine)
            timed("cuts", t0)
            t0 = time.perf_counter()
            core = core_numbers(graph)
            timed("cores", t0)
            if mode != "kadabra":
                bc, bc_note = brokerage_step()
            if bc_note:
                notes.append(bc_note)
            t0 = time.perf_counter()
            use_orders = [o for o in orders if bc is not None or o != "betweenness"]
            if len(use_orders) < len(orders):
                notes.append("betweenness removal order dropped: no betweenness at this size")
            rob = robustness(graph, use_orders, seed=seed,
                             betweenness=None if bc is None else bc.values)
            timed("robustness", t0)
        finally:
            nk.setNumberOfThreads(threads)
        comm: Communities = comm_future.result()
    steps = ("members", "cuts", "cores", "betweenness", "communities", "robustness")
    timings = {k: timings[k] for k in steps}
    # communities ran alongside the other steps, so the steps add up to more than the total
    timings["total"] = round(time.perf_counter() - t_start, 4)
    members = members.with_columns(
        pl.Series("component", cuts.component),
        pl.Series("in_main_body", cuts.in_main),
        pl.Series("articulation_point", cuts.articulation),
        pl.Series("cut_off", cuts.cut_off),
        pl.Series("core", core),
        pl.Series("betweenness", bc.values if bc is not None else np.full(n, None), pl.Float64),
        pl.Series("community", comm.labels),
        pl.Series("bonding_ties", comm.bonding),
        pl.Series("bridging_ties", comm.bridging),
    )
    bridges = pl.DataFrame({
        "u": graph.ids[cuts.bridge_u], "v": graph.ids[cuts.bridge_v],
        "in_main_body": cuts.bridge_in_main, "cut_off": cuts.bridge_cut_off,
    }, schema={"u": pl.String, "v": pl.String, "in_main_body": pl.Boolean, "cut_off": pl.Int64})

    def share(column: str) -> float:
        return float(members[column].sum()) / n if n else 0.0

    n_ap = int(cuts.articulation.sum())
    summary = NetworkSummary(
        n_people=n,
        n_ties=graph.n_ties,
        n_edges=graph.n_edges,
        share_isolated=share("isolated"),
        share_single_contact=share("single_contact"),
        share_dependent_on_one=share("dependent_on_one"),
        n_overloaded=int(members["overloaded"].sum()),
        main_body_share=cuts.main_size / n if n else 0.0,
        n_components=int(cuts.component_sizes.size),
        reciprocity=reciprocity(graph),
        modularity=comm.modularity,
        n_communities=comm.n_communities,
        bridging_share=comm.bridging_share,
        support_load_gini=gini(members["n_dependents"].to_numpy()),
        n_articulation_points=n_ap,
        n_bridges=int(cuts.bridge_u.size),
        n_single_points_of_failure=n_ap + int(cuts.bridge_u.size),
        max_cut_off=int(cuts.cut_off.max()) if n else 0,
        robustness_index={k: rob.index(k) for k in rob.curves},
        betweenness_method=bc.method if bc is not None else "skipped",
        betweenness_error=bc.error if bc is not None else None,
    )
    return NetworkProfile(graph, members, bridges, summary, rob, timings, notes)
