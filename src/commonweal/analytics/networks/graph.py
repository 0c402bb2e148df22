"""The compact support graph: our own id mapping, typed directed ties, and the views measures use.

Two graphs are derived from the same ties, and every measure says which one it uses:

* the **directed typed graph** -- a tie ``i -> j`` of kind ``k`` means "i turns to j for k"
  (``j`` is one of ``i``'s supporters). Supporters, dependents and the flags use it;
* the **undirected support graph** -- ``i`` and ``j`` are adjacent when there is a tie in either
  direction, of any kind. Components, articulation points, bridges, cores, betweenness,
  communities and robustness use it.

Self-ties are dropped; repeated ``(i, j, kind)`` ties are merged (largest weight kept).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
import scipy.sparse as sp

from commonweal.analytics.networks._arrays import sorted_unique
from commonweal.analytics.networks.kinds import N_KINDS, UNSPECIFIED
from commonweal.errors import InputError

__all__ = ["SupportGraph", "from_arrays", "from_edges"]

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class SupportGraph:
    """Typed, weighted, directed support ties between ``n`` people with internal ids ``0..n-1``.

    Build it with :func:`from_arrays`, :func:`from_edges` or a reader in
    :mod:`commonweal.analytics.networks.io`; do not fill the fields by hand.

    Attributes
    ----------
    ids : numpy.ndarray
        External id of each person (``ids[i]`` for internal id ``i``), as strings.
    src, dst : numpy.ndarray of int64
        Distinct typed ties, sorted by ``(src, dst, kind)``: ``src[e]`` turns to ``dst[e]``.
    kind : numpy.ndarray of uint8
        Support-kind code of each tie (see :data:`~commonweal.analytics.networks.SUPPORT_TYPES`).
    weight : numpy.ndarray of float64
        Tie weight (1.0 when the source gives none).
    dropped_self_ties : int
        How many self-ties the input had (they are not kept).
    """

    ids: npt.NDArray[np.str_]
    src: IntArray
    dst: IntArray
    kind: npt.NDArray[np.uint8]
    weight: npt.NDArray[np.float64]
    dropped_self_ties: int = 0
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Number of people."""
        return int(self.ids.size)

    @property
    def n_ties(self) -> int:
        """Number of distinct typed directed ties."""
        return int(self.src.size)

    @cached_property
    def index(self) -> dict[str, int]:
        """External id -> internal id."""
        return {str(x): i for i, x in enumerate(self.ids.tolist())}

    def internal(self, external: Sequence[str]) -> IntArray:
        """Internal ids of external ids; unknown ids raise :class:`InputError`."""
        idx = self.index
        missing = [str(x) for x in external if str(x) not in idx]
        if missing:
            raise InputError(f"unknown member ids: {', '.join(missing[:20])}")
        return np.asarray([idx[str(x)] for x in external], dtype=np.int64)

    # ---- directed pairs ---------------------------------------------------------------------
    @cached_property
    def _pairs(self) -> tuple[IntArray, IntArray, npt.NDArray[np.uint8]]:
        """Distinct directed pairs ``(s, d)`` and the bitmask of kinds on each pair."""
        if self.src.size == 0:
            e = np.empty(0, dtype=np.int64)
            return e, e.copy(), np.empty(0, dtype=np.uint8)
        key = self.src * np.int64(self.n) + self.dst  # ties are sorted, so keys are sorted
        start = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
        bits = np.left_shift(np.uint8(1), self.kind).astype(np.uint8)
        mask = np.bitwise_or.reduceat(bits, start).astype(np.uint8)
        return self.src[start], self.dst[start], mask

    @property
    def pair_src(self) -> IntArray:
        """Source of each distinct directed pair (the person who turns to someone)."""
        return self._pairs[0]

    @property
    def pair_dst(self) -> IntArray:
        """Target of each distinct directed pair (the supporter)."""
        return self._pairs[1]

    @property
    def pair_kinds(self) -> npt.NDArray[np.uint8]:
        """Bitmask of support kinds on each distinct directed pair (bit ``k`` = kind code ``k``)."""
        return self._pairs[2]

    # ---- undirected support graph -----------------------------------------------------------
    @cached_property
    def _undirected_keys(self) -> tuple[IntArray, IntArray]:
        """Sorted keys ``u * n + v`` (``u < v``) of the undirected edges, and of the mutual ones.

        A distinct directed pair gives its unordered key once, so a key appears twice exactly when
        the pair is tied both ways (mutual).
        """
        s, d, _ = self._pairs
        n = np.int64(self.n)
        key = np.sort(np.minimum(s, d) * n + np.maximum(s, d))
        if key.size == 0:
            return key, key.copy()
        first = np.empty(key.size, dtype=bool)
        first[0] = True
        np.not_equal(key[1:], key[:-1], out=first[1:])
        return key[first], key[1:][~first[1:]]

    @cached_property
    def undirected(self) -> tuple[IntArray, IntArray]:
        """Edges ``(u, v)``, ``u < v``, of the undirected support graph (sorted, distinct)."""
        key = self._undirected_keys[0]
        n = np.int64(self.n)
        return key // n, key % n

    @cached_property
    def mutual(self) -> tuple[IntArray, IntArray]:
        """Pairs ``(u, v)``, ``u < v``, tied both ways (``u`` turns to ``v`` and ``v`` to ``u``)."""
        key = self._undirected_keys[1]
        n = np.int64(self.n)
        return key // n, key % n

    @property
    def n_edges(self) -> int:
        """Number of edges of the undirected support graph."""
        return int(self.undirected[0].size)

    @cached_property
    def csr(self) -> sp.csr_array:
        """Symmetric 0/1 adjacency (CSR, int8) of the undirected support graph."""
        u, v = self.undirected
        rows = np.concatenate((u, v))
        cols = np.concatenate((v, u))
        data = np.ones(rows.size, dtype=np.int8)
        return sp.csr_array((data, (rows, cols)), shape=(self.n, self.n))

    @cached_property
    def degree(self) -> IntArray:
        """Degree in the undirected support graph (number of distinct people tied either way)."""
        u, v = self.undirected
        return np.bincount(np.concatenate((u, v)), minlength=self.n).astype(np.int64)

    def networkit(self) -> Any:
        """The undirected support graph as an (unweighted) ``networkit.Graph``; cached."""
        g = self.__dict__.get("_nk")
        if g is None:
            import networkit as nk

            g = nk.Graph(self.n, False, False)
            u, v = self.undirected
            if u.size:
                g.addEdges((u.astype(np.uint64), v.astype(np.uint64)))
            self.__dict__["_nk"] = g
        return g

    def subgraph_without(self, people: IntArray) -> SupportGraph:
        """The same people, with every tie to or from ``people`` removed (ids keep their meaning)."""
        gone = np.zeros(self.n, dtype=bool)
        gone[people] = True
        keep = ~(gone[self.src] | gone[self.dst])
        return SupportGraph(self.ids, self.src[keep], self.dst[keep], self.kind[keep],
                            self.weight[keep], 0, dict(self.attrs))

    def to_frame(self) -> pl.DataFrame:
        """The ties as a polars frame ``from_id, to_id, support_type, weight`` (external ids)."""
        from commonweal.analytics.networks.kinds import SUPPORT_TYPES

        names = np.asarray(SUPPORT_TYPES)
        return pl.DataFrame({
            "from_id": self.ids[self.src],
            "to_id": self.ids[self.dst],
            "support_type": names[self.kind],
            "weight": self.weight,
        })


def from_arrays(
    src: npt.ArrayLike,
    dst: npt.ArrayLike,
    kind: npt.ArrayLike | None = None,
    weight: npt.ArrayLike | None = None,
    *,
    n: int | None = None,
    ids: Sequence[str] | npt.ArrayLike | None = None,
) -> SupportGraph:
    """Build a :class:`SupportGraph` from integer edge arrays (internal ids ``0..n-1``).

    Parameters
    ----------
    src, dst : array_like of int
        ``src[e]`` turns to ``dst[e]`` (``dst[e]`` supports ``src[e]``).
    kind : array_like of int, optional
        Support-kind codes; ``unspecified`` when omitted.
    weight : array_like of float, optional
        Tie weights; 1.0 when omitted. Repeated ``(src, dst, kind)`` ties keep the largest weight.
    n : int, optional
        Number of people (people without ties count too); default ``max id + 1``.
    ids : sequence of str, optional
        External ids, one per person; default ``"0".."n-1"``.

    Returns
    -------
    SupportGraph

    Raises
    ------
    InputError
        Negative or out-of-range ids, mismatched lengths, unknown kind codes.

    Examples
    --------
    >>> g = from_arrays([0, 1, 1], [1, 0, 2], n=4)
    >>> g.n, g.n_ties, g.n_edges
    (4, 3, 2)
    """
    s = np.asarray(src, dtype=np.int64).ravel()
    d = np.asarray(dst, dtype=np.int64).ravel()
    if s.shape != d.shape:
        raise InputError(f"src and dst differ in length ({s.size} vs {d.size})")
    k = (np.full(s.size, UNSPECIFIED, dtype=np.uint8) if kind is None
         else np.asarray(kind).astype(np.int64).ravel())
    w = np.ones(s.size) if weight is None else np.asarray(weight, dtype=np.float64).ravel()
    if k.shape != s.shape or w.shape != s.shape:
        raise InputError("kind and weight must have one entry per tie")
    if s.size and (min(int(s.min()), int(d.min())) < 0):
        raise InputError("person ids must be non-negative integers")
    if k.size and (int(k.min()) < 0 or int(k.max()) >= N_KINDS):
        raise InputError(f"support-kind codes must be in 0..{N_KINDS - 1}")
    if w.size and not np.isfinite(w).all():
        raise InputError("tie weights must be finite numbers")
    top = int(max(s.max(), d.max())) + 1 if s.size else 0
    if n is None:
        n = top if ids is None else len(np.asarray(ids))
    if top > n:
        raise InputError(f"a tie refers to person {top - 1} but there are only {n} people")
    id_arr = (np.arange(n).astype(str) if ids is None else np.asarray(ids).astype(str).ravel())
    if id_arr.size != n:
        raise InputError(f"{id_arr.size} ids given for {n} people")
    self_ties = s == d
    n_self = int(self_ties.sum())
    if n_self:
        keep = ~self_ties
        s, d, k, w = s[keep], d[keep], k[keep], w[keep]
    key = (s * np.int64(n) + d) * np.int64(N_KINDS) + k.astype(np.int64)
    if w.size == 0 or bool((w == w[0]).all()):
        # one weight for all (the common case): a plain sort is much cheaper than an argsort
        w0 = float(w[0]) if w.size else 1.0
        key = sorted_unique(key)
        w = np.full(key.size, w0)
    else:
        order = np.argsort(key, kind="stable")
        key, w = key[order], w[order]
        start = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if key.size else key
        w = np.maximum.reduceat(w, start) if key.size else w  # repeated ties keep the largest
        key = key[start]
    pair = key // N_KINDS
    return SupportGraph(
        ids=id_arr,
        src=pair // n,
        dst=pair % n,
        kind=(key % N_KINDS).astype(np.uint8),
        weight=w.astype(np.float64),
        dropped_self_ties=n_self,
    )


def from_edges(
    from_ids: Sequence[Any] | npt.ArrayLike,
    to_ids: Sequence[Any] | npt.ArrayLike,
    kinds: npt.ArrayLike | None = None,
    weights: npt.ArrayLike | None = None,
    *,
    people: Sequence[Any] | npt.ArrayLike | None = None,
) -> SupportGraph:
    """Build a :class:`SupportGraph` from external ids (any hashable, compared as strings).

    Internal ids follow ``people`` (if given: include people without ties here), then the order in
    which new ids first appear in ``from_ids``/``to_ids``.

    Parameters
    ----------
    from_ids, to_ids : sequence
        ``from_ids[e]`` turns to ``to_ids[e]``.
    kinds : array_like of int, optional
        Support-kind codes (see :func:`~commonweal.analytics.networks.kinds.kind_codes`).
    weights : array_like of float, optional
    people : sequence, optional
        Everyone in the community, including people without ties.

    Examples
    --------
    >>> g = from_edges(["ana", "bo"], ["bo", "cy"], people=["dee"])
    >>> g.ids.tolist()
    ['dee', 'ana', 'bo', 'cy']
    """
    f = pl.Series("f", np.asarray(from_ids).astype(str).ravel())
    t = pl.Series("t", np.asarray(to_ids).astype(str).ravel())
    if f.len() != t.len():
        raise InputError(f"from and to ids differ in length ({f.len()} vs {t.len()})")
    pre = pl.Series("p", np.asarray(people if people is not None else []).astype(str).ravel())
    if pre.len() != pre.n_unique():
        dup = pre.filter(pre.is_duplicated()).unique().to_list()[:10]
        raise InputError(f"people listed twice: {', '.join(map(str, dup))}")
    interleaved = pl.concat([pre, pl.concat([f, t]).alias("p")]).unique(maintain_order=True)
    ids = interleaved.to_numpy().astype(str)
    mapping = pl.DataFrame({"id": interleaved, "i": np.arange(ids.size, dtype=np.int64)})
    s = pl.DataFrame({"id": f}).join(mapping, on="id", how="left", maintain_order="left")["i"]
    d = pl.DataFrame({"id": t}).join(mapping, on="id", how="left", maintain_order="left")["i"]
    return from_arrays(s.to_numpy(), d.to_numpy(), kinds, weights, n=ids.size, ids=ids)
