"""Per-member support measures and flags, on the directed typed graph.

For a person ``v`` (a tie ``v -> u`` means "v turns to u"):

* ``n_supporters``: distinct people ``v`` turns to (out-neighbours), overall and per kind
  (``supporters_<kind>``);
* ``n_dependents``: distinct people who turn to ``v`` (in-neighbours), overall and per kind;
* ``isolated``: no supporter at all (``n_supporters == 0``; they may still support others);
* ``single_contact``: exactly one supporter;
* ``dependent_on_one``: ``v`` receives at least ``dependent_min_kinds`` kinds of support and
  exactly one supporter provides every one of those kinds (``main_supporter`` names them);
* ``overloaded``: at least ``overload_min_dependents`` people lean on ``v`` and they are at least
  ``overload_ratio`` times as many as ``v``'s own supporters;
* ``reach_2``: distinct people ``v`` can reach in one or two steps along "turns to" ties
  (supporters and their supporters), ``v`` excluded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl
import scipy.sparse as sp

from commonweal.analytics.networks.graph import SupportGraph
from commonweal.analytics.networks.kinds import SUPPORT_TYPES
from commonweal.errors import InputError

__all__ = ["FlagRules", "member_measures", "two_step_reach"]

IntArray = npt.NDArray[np.int64]
_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.int64)


@dataclass(frozen=True)
class FlagRules:
    """Thresholds of the member flags (see the module docstring)."""

    overload_min_dependents: int = 5
    overload_ratio: float = 3.0
    dependent_min_kinds: int = 2

    def __post_init__(self) -> None:
        if self.overload_min_dependents < 1 or self.overload_ratio <= 0:
            raise InputError("overload thresholds must be positive")
        if self.dependent_min_kinds < 1:
            raise InputError("dependent_min_kinds must be at least 1")


def two_step_reach(graph: SupportGraph, *, chunk: int = 65536) -> IntArray:
    """Number of distinct people reachable in one or two "turns to" steps (self excluded).

    ``reach_2(v) = |N+(v) ∪ N+(N+(v))| - [v in it]``. With ``A`` the 0/1 "turns to" matrix, row
    ``v`` of ``(A + I) A`` has its non-zeros exactly on ``N+(v) ∪ N+(N+(v))`` (entries count paths,
    so none cancels), and ``v`` is in that set exactly when one of ``v``'s supporters also turns to
    ``v`` (a mutual pair; there are no self-ties). One sparse product in row chunks, so memory stays bounded;
    only the number of non-zeros per row is read. Checked against networkx
    ``single_source_shortest_path_length`` with ``cutoff=2`` on a ``DiGraph``.
    """
    n = graph.n
    s, d = graph.pair_src, graph.pair_dst
    out = np.zeros(n, dtype=np.int64)
    if s.size == 0:
        return out
    # pairs are sorted by (source, target): build the CSR arrays directly
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(s, minlength=n), out=indptr[1:])
    a = sp.csr_array((np.ones(s.size, dtype=np.int32), d, indptr), shape=(n, n))
    b = (a + sp.eye_array(n, dtype=np.int32, format="csr")).tocsr()
    for lo in range(0, n, chunk):
        hi = min(n, lo + chunk)
        out[lo:hi] = np.diff((b[lo:hi] @ a).indptr)
    # drop v itself, reached back through a returned tie
    mu, mv = graph.mutual
    out -= (np.bincount(np.concatenate((mu, mv)), minlength=n) > 0).astype(np.int64)
    return out


def member_measures(graph: SupportGraph, rules: FlagRules | None = None,
                    *, reach: bool = True) -> pl.DataFrame:
    """Supporters, dependents, per-kind counts and flags of every person (directed typed graph).

    Parameters
    ----------
    graph : SupportGraph
    rules : FlagRules, optional
        Flag thresholds (defaults as in :class:`FlagRules`).
    reach : bool
        Also compute ``reach_2`` (the costliest column on large graphs).

    Returns
    -------
    polars.DataFrame
        One row per person in internal-id order: ``id``, ``n_supporters``, ``n_dependents``,
        ``supporters_<kind>``, ``dependents_<kind>``, ``n_kinds_received``, ``isolated``,
        ``single_contact``, ``dependent_on_one``, ``main_supporter``, ``overloaded``, ``reach_2``.

    Examples
    --------
    >>> from commonweal.analytics.networks.graph import from_arrays
    >>> m = member_measures(from_arrays([0, 0, 1], [1, 1, 2], [0, 1, 0]))
    >>> m["n_supporters"].to_list(), m["dependent_on_one"].to_list()
    ([1, 1, 0], [True, False, False])
    """
    rules = rules or FlagRules()
    n = graph.n
    s, d, mask = graph.pair_src, graph.pair_dst, graph.pair_kinds
    n_sup = np.bincount(s, minlength=n).astype(np.int64)
    n_dep = np.bincount(d, minlength=n).astype(np.int64)
    cols: dict[str, object] = {"id": graph.ids, "n_supporters": n_sup, "n_dependents": n_dep}
    for k, name in enumerate(SUPPORT_TYPES):
        has = (mask >> np.uint8(k)) & np.uint8(1) == 1
        cols[f"supporters_{name}"] = np.bincount(s[has], minlength=n).astype(np.int64)
    for k, name in enumerate(SUPPORT_TYPES):
        has = (mask >> np.uint8(k)) & np.uint8(1) == 1
        cols[f"dependents_{name}"] = np.bincount(d[has], minlength=n).astype(np.int64)
    received = np.zeros(n, dtype=np.uint8)
    if s.size:
        starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])  # pairs are sorted by source
        received[s[starts]] = np.bitwise_or.reduceat(mask, starts)
    n_kinds = _POPCOUNT[received]
    covers = mask == received[s]
    n_cover = np.bincount(s[covers], minlength=n)
    dependent = (n_kinds >= rules.dependent_min_kinds) & (n_cover == 1)
    main = np.full(n, -1, dtype=np.int64)
    main[s[covers]] = d[covers]
    cols.update({
        "n_kinds_received": n_kinds,
        "isolated": n_sup == 0,
        "single_contact": n_sup == 1,
        "dependent_on_one": dependent,
        "main_supporter": graph.ids[np.maximum(main, 0)],
        "overloaded": (n_dep >= rules.overload_min_dependents)
        & (n_dep >= rules.overload_ratio * n_sup),
    })
    if reach:
        cols["reach_2"] = two_step_reach(graph)
    frame = pl.DataFrame(cols)
    return frame.with_columns(
        pl.when(pl.col("dependent_on_one")).then(pl.col("main_supporter")).otherwise(None)
        .alias("main_supporter"))
