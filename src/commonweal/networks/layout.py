"""Node positions for drawing a support network, computed on the server (the browser only draws).

Method (undirected support graph, each connected piece laid out on its own, then packed):

1. **PivotMDS** (Brandes & Pich 2007, "Eigensolver methods for progressive multidimensional
   scaling of large data", Graph Drawing 2006, LNCS 4372): breadth-first distances from ``k``
   pivots chosen by farthest-point sampling (``scipy.sparse.csgraph``), double-centred, and the
   two leading singular vectors give the start positions;
2. **Fruchterman-Reingold** refinement (1991, Software: Practice and Experience 21:1129): repulsion
   ``k^2 / d`` between every pair, attraction ``d^2 / k`` along ties, a linearly cooling step;
   dense NumPy, so it is only run on pieces of at most ``fr_max_n`` people;
3. pieces are scaled by the square root of their size and packed in shelves, largest first;
   people without ties go in a grid at the bottom.

Deterministic: no randomness (pivots start at the piece's first person). Checked by tests on
the Karnataka village networks (every tie drawn between placed people, no two people on one spot).
Browsers draw a few thousand nodes comfortably; :func:`pick_people` caps what is sent.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, shortest_path

__all__ = ["LAYOUT_METHOD", "drawing", "layout_positions", "pick_people"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def pick_people(degree: IntArray, priority: npt.NDArray[np.bool_], cap: int) -> IntArray:
    """Internal ids of at most ``cap`` people to draw: everyone if they fit, else the flagged
    (``priority``) first, then by degree (highest first), ties by id. Sorted ascending."""
    n = degree.size
    if n <= cap:
        return np.arange(n, dtype=np.int64)
    order = np.lexsort((np.arange(n), -degree, ~priority))
    return np.sort(order[:cap]).astype(np.int64)


def _pivot_mds(adj: sp.csr_array, n_pivots: int) -> FloatArray:
    n = adj.shape[0]
    k = min(n_pivots, n)
    pivots = [0]
    dist = shortest_path(adj, unweighted=True, directed=False, indices=[0])[0]
    cols = [dist]
    nearest = dist.copy()
    for _ in range(k - 1):
        p = int(np.argmax(nearest))
        if nearest[p] == 0:
            break
        pivots.append(p)
        d = shortest_path(adj, unweighted=True, directed=False, indices=[p])[0]
        cols.append(d)
        nearest = np.minimum(nearest, d)
    c = np.square(np.stack(cols, axis=1))
    c = -0.5 * (c - c.mean(axis=0) - c.mean(axis=1, keepdims=True) + c.mean())
    u, s, _ = np.linalg.svd(c, full_matrices=False)
    xy = u[:, :2] * s[:2]
    if xy.shape[1] < 2:  # a line: give it a second axis
        xy = np.column_stack((xy[:, 0], np.zeros(n)))
    return np.asarray(xy, dtype=np.float64)


def _fruchterman_reingold(xy: FloatArray, u: IntArray, v: IntArray,
                          iterations: int) -> FloatArray:
    n = xy.shape[0]
    pos = xy.copy()
    # scale so the mean tie is about one unit long: k = 1 is then the natural distance
    if u.size:
        mean_len = float(np.mean(np.linalg.norm(pos[u] - pos[v], axis=1)))
        pos /= max(mean_len, 1e-9)
    k = 1.0
    t0 = max(float(np.ptp(pos, axis=0).max()) / 10.0, 0.5)
    diag = np.arange(n)
    for it in range(iterations):
        x, y = pos[:, 0], pos[:, 1]
        dx = x[:, None] - x[None, :]
        dy = y[:, None] - y[None, :]
        f = dx * dx
        f += dy * dy
        np.maximum(f, 1e-4, out=f)
        np.divide(k * k, f, out=f)
        f[diag, diag] = 0.0
        rep = np.column_stack(((dx * f).sum(axis=1), (dy * f).sum(axis=1)))
        dv = pos[u] - pos[v]
        dl = np.sqrt((dv * dv).sum(axis=1))[:, None]
        pull = dv * dl / k
        att = np.zeros_like(pos)
        np.add.at(att, u, -pull)
        np.add.at(att, v, pull)
        disp = rep + att
        length = np.maximum(np.sqrt((disp * disp).sum(axis=1))[:, None], 1e-9)
        temp = t0 * (1.0 - it / iterations)
        pos += disp / length * np.minimum(length, temp)
    return pos


def _normalise(xy: FloatArray) -> FloatArray:
    """Centre and fit into the unit disc; long arms are pulled in (radius beyond the 90th
    percentile grows logarithmically) so the bulk of the piece gets the room."""
    xy = xy - np.median(xy, axis=0)
    if xy.size == 0:
        return xy
    radius = np.sqrt((xy ** 2).sum(axis=1))
    q = float(np.quantile(radius, 0.9))
    if q <= 0:
        return xy
    d = radius / q
    squeezed = np.where(d <= 1.0, d, 1.0 + np.log(np.maximum(d, 1.0)))
    scale = np.divide(squeezed, d, out=np.ones_like(d), where=d > 0)
    xy = xy * scale[:, None]
    top = float(np.sqrt((xy ** 2).sum(axis=1)).max())
    return xy / top if top > 0 else xy


def layout_positions(n: int, u: npt.ArrayLike, v: npt.ArrayLike, *, iterations: int = 80,
                     n_pivots: int = 40, fr_max_n: int = 2500) -> FloatArray:
    """Positions ``(n, 2)`` in ``[0, 1000] x [0, h]`` for ``n`` people and undirected ties ``u-v``.

    Parameters
    ----------
    n : int
        Number of people (ids ``0..n-1``).
    u, v : array_like of int
        Undirected ties.
    iterations : int
        Fruchterman-Reingold steps per piece.
    n_pivots : int
        PivotMDS pivots per piece.
    fr_max_n : int
        Pieces larger than this keep their PivotMDS positions (the refinement is ``O(n^2)``).

    Examples
    --------
    >>> xy = layout_positions(3, [0, 1], [1, 2])
    >>> xy.shape
    (3, 2)
    """
    a = np.asarray(u, dtype=np.int64)
    b = np.asarray(v, dtype=np.int64)
    out = np.zeros((n, 2), dtype=np.float64)
    if n == 0:
        return out
    adj = sp.csr_array((np.ones(a.size * 2, dtype=np.int8),
                        (np.concatenate((a, b)), np.concatenate((b, a)))), shape=(n, n))
    n_comp, labels = connected_components(adj, directed=False)
    sizes = np.bincount(labels, minlength=n_comp)
    order = np.lexsort((np.arange(n_comp), -sizes))
    width = 1000.0
    total_area = float((sizes[sizes > 1]).sum())
    unit = width / (2.2 * np.sqrt(max(total_area, 1.0)))  # radius of a piece = unit * sqrt(size)
    x = y = 0.0
    shelf = 0.0
    gap = max(unit, 4.0)
    singles: list[int] = []
    for c in order.tolist():
        members = np.flatnonzero(labels == c)
        if members.size == 1:
            singles.append(int(members[0]))
            continue
        r = unit * np.sqrt(members.size)
        if members.size == 2:
            local = np.array([[-1.0, 0.0], [1.0, 0.0]]) * 0.5
        else:
            index = np.full(n, -1, dtype=np.int64)
            index[members] = np.arange(members.size)
            keep = (index[a] >= 0) & (index[b] >= 0)
            cu, cv = index[a[keep]], index[b[keep]]
            sub = adj[members][:, members]
            local = _pivot_mds(sp.csr_array(sub), n_pivots)
            local += 1e-3 * np.column_stack((np.sin(np.arange(members.size)),
                                             np.cos(np.arange(members.size))))
            if members.size <= fr_max_n:
                local = _fruchterman_reingold(local, cu, cv, iterations)
            local = _normalise(local)
        placed = local * r
        lo, hi = placed.min(axis=0), placed.max(axis=0)
        w_piece, h_piece = float(hi[0] - lo[0]), float(hi[1] - lo[1])
        if x > 0 and x + w_piece > width:
            x, y, shelf = 0.0, y + shelf + gap, 0.0
        out[members] = placed - lo + np.array([x, y])
        x += w_piece + gap
        shelf = max(shelf, h_piece)
    if singles:
        y0 = y + shelf + 2 * gap if (x > 0 or y > 0) else 0.0
        step = max(min(unit * 1.2, 14.0), 5.0)
        per_row = max(int(width // step), 1)
        for i, p in enumerate(singles):
            out[p] = (step / 2 + (i % per_row) * step, y0 + (i // per_row) * step)
    return out


_FLAG_ORDER = ("articulation_point", "isolated", "dependent_on_one", "single_contact",
               "overloaded")
LAYOUT_METHOD = ("PivotMDS (Brandes & Pich 2007) + Fruchterman-Reingold (1991) per connected "
                 "piece, computed on the server with NumPy/SciPy; pieces packed by size")


def drawing(profile: Any, *, cap: int = 1500) -> dict[str, Any]:
    """What the browser needs to draw a profiled network: positions, flags, communities, ties.

    At most ``cap`` people are drawn (see :func:`pick_people`); ``truncated`` says so. Node ``id``
    is the graph's external id (for a stored community: the member id). ``flag`` is the person's
    most serious flag (single point of failure, isolated, dependent on one, single contact,
    overloaded) or ``""``. Edges are index pairs into ``nodes`` on the undirected support graph,
    with ``1`` when the support goes both ways.
    """
    g = profile.graph
    m = profile.members
    flags = np.full(g.n, "", dtype=object)
    for name in reversed(_FLAG_ORDER):
        flags[m[name].to_numpy()] = name
    priority = (m["articulation_point"].to_numpy() | m["dependent_on_one"].to_numpy()
                | m["single_contact"].to_numpy())
    keep = pick_people(g.degree, priority, cap)
    index = np.full(g.n, -1, dtype=np.int64)
    index[keep] = np.arange(keep.size)
    u, v = g.undirected
    inside = (index[u] >= 0) & (index[v] >= 0)
    uu, vv = index[u[inside]], index[v[inside]]
    xy = layout_positions(keep.size, uu, vv)
    # which undirected edges carry support both ways
    n64 = np.int64(g.n)
    pair_keys = np.sort(g.pair_src * n64 + g.pair_dst)
    rev = v[inside] * n64 + u[inside]
    fwd = u[inside] * n64 + v[inside]

    def present(keys: IntArray) -> npt.NDArray[np.bool_]:
        if pair_keys.size == 0:
            return np.zeros(keys.size, dtype=bool)
        pos = np.minimum(np.searchsorted(pair_keys, keys), pair_keys.size - 1)
        out: npt.NDArray[np.bool_] = pair_keys[pos] == keys
        return out

    both = present(fwd) & present(rev)
    ids = g.ids[keep].tolist()
    comm = m["community"].to_numpy()[keep].tolist()
    cut = m["cut_off"].to_numpy()[keep].tolist()
    deg = g.degree[keep].tolist()
    fl = flags[keep].tolist()
    xs = np.round(xy[:, 0], 1).tolist()
    ys = np.round(xy[:, 1], 1).tolist()
    nodes = [{"id": ids[i], "x": xs[i], "y": ys[i], "flag": fl[i], "community": comm[i],
              "degree": deg[i], "cut_off": cut[i]} for i in range(keep.size)]
    edges = np.column_stack((uu, vv, both.astype(np.int64))).tolist()
    return {"n_people": g.n, "n_drawn": int(keep.size), "truncated": bool(keep.size < g.n),
            "cap": cap, "method": LAYOUT_METHOD, "nodes": nodes, "edges": edges}
