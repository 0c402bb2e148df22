"""Tie rows for any range of members, identical whichever way the community is cut into chunks.

Every directed row ``a -> b`` is produced while handling ``a`` (the person who turns to ``b``), and
every decision about the pair -- direction, reciprocity, strength, support types, date, source --
is a hash of ``(seed, min(a, b), max(a, b), kind)`` (see :mod:`commonweal.demo._random`). The rows
of members ``lo..hi`` are therefore complete and final without looking at other chunks; within a
chunk they are sorted by (from, to, kind) and have no duplicates.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
from numpy.typing import NDArray

from commonweal.demo import _model as m
from commonweal.demo._random import field_uniform, hash_keys, sorted_unique, uniform
from commonweal.demo.population import Population
from commonweal.demo.structure import (
    NEIGHBOUR_REACH,
    Structure,
    neighbour_pairs,
    ring_reach,
)

__all__ = ["TIE_COLUMNS", "tie_arrays", "ties_frame"]

I64 = NDArray[np.int64]
B = NDArray[np.bool_]

TIE_COLUMNS = (
    "from_id",
    "to_id",
    "kind",
    "support_types",
    "strength",
    "reciprocal",
    "since",
    "source",
)
_SOURCES = ("self_report", "observed", "exchange")


def _direction(seed: int, a: I64, b: I64, kind: I64) -> tuple[B, B]:
    """(row a->b exists, tie is reciprocal) for candidate pairs, from the pair's hash."""
    u = field_uniform(
        hash_keys(seed, m.SALT_DIRECTION, np.minimum(a, b), np.maximum(a, b), kind), 0
    )
    r = m.RECIPROCAL_SHARE[kind]
    both = u < r
    low_to_high = ~both & (u < r + (1.0 - r) / 2.0)
    exists = both | (low_to_high & (a < b)) | (~both & ~low_to_high & (a > b))
    return exists, both


def _household_kin(pop: Population, lo: int, hi: int) -> tuple[I64, I64, I64, B]:
    h0, h1 = int(pop.household[lo]), int(pop.household[hi - 1]) + 1
    start, size = pop.hh_start[h0:h1], pop.hh_size[h0:h1].astype(np.int64)
    froms, tos = [], []
    for i in range(6):
        for j in range(6):
            if i != j:
                ok = (i < size) & (j < size)
                froms.append(start[ok] + i)
                tos.append(start[ok] + j)
    a, b = np.concatenate(froms), np.concatenate(tos)
    ok = (pop.age[b] >= 14) & (a >= lo) & (a < hi)
    a, b = a[ok], b[ok]
    return a, b, np.full(len(a), m.HOUSEHOLD_KIN, dtype=np.int64), pop.age[a] >= 14


def _neighbours(pop: Population, seed: int, lo: int, hi: int) -> tuple[I64, I64, I64, B]:
    h0, h1 = int(pop.household[lo]), int(pop.household[hi - 1]) + 1
    hh = np.arange(h0, h1, dtype=np.int64)
    froms, tos = [], []
    for d in range(1, NEIGHBOUR_REACH + 1):
        for forward in (True, False):
            x = hh if forward else hh - d
            x = x[x >= 0]
            x = x[neighbour_pairs(pop, seed, x, d)]
            y = x + d
            dd = np.full_like(x, d)
            rx = pop.hh_start[x] + (
                uniform(hash_keys(seed, m.SALT_NEIGHBOUR_REP_X, x, dd)) * pop.hh_nadult[x]
            ).astype(np.int64)
            ry = pop.hh_start[y] + (
                uniform(hash_keys(seed, m.SALT_NEIGHBOUR_REP_Y, x, dd)) * pop.hh_nadult[y]
            ).astype(np.int64)
            froms.append(rx if forward else ry)
            tos.append(ry if forward else rx)
    a, b = np.concatenate(froms), np.concatenate(tos)
    ok = (a >= lo) & (a < hi)
    a, b = a[ok], b[ok]
    return a, b, np.full(len(a), m.NEIGHBOUR, dtype=np.int64), np.zeros(len(a), dtype=np.bool_)


def _group_ring(st: Structure, seed: int, lo: int, hi: int) -> tuple[I64, I64, I64, B]:
    slots = st.m_slot[st.m_ptr[lo] : st.m_ptr[hi]]
    g = np.searchsorted(st.g_start, slots, "right") - 1
    start = st.g_start[g]
    size = st.g_start[g + 1] - start
    pos = slots - start
    reach = ring_reach(size)
    a_all = st.g_members[slots].astype(np.int64)
    froms, tos, kinds = [], [], []
    for d in range(1, 4):
        for forward in (True, False):
            other = (pos + d) % size if forward else (pos - d) % size
            low = pos if forward else other
            keep = (d <= reach) & (
                uniform(hash_keys(seed, m.SALT_GROUP_KEEP, g, low, np.full_like(g, d)))
                < st.group_keep
            )
            froms.append(a_all[keep])
            tos.append(st.g_members[start[keep] + other[keep]].astype(np.int64))
            kinds.append(m.GROUP_TIE_KIND[st.g_kind[g[keep]]])
    a, b, k = np.concatenate(froms), np.concatenate(tos), np.concatenate(kinds)
    return a, b, k, np.zeros(len(a), dtype=np.bool_)


def tie_arrays(
    pop: Population, st: Structure, seed: int, lo: int, hi: int
) -> dict[str, NDArray[np.int64] | NDArray[np.bool_]]:
    """Directed tie rows whose ``from`` is in members ``lo..hi-1``, as numpy arrays.

    Keys: ``from``, ``to`` (member indices), ``kind`` (internal code, see ``_model``), ``types``
    (5-bit mask), ``strength``, ``reciprocal``, ``since_days`` (days before 1 January of the
    reference year; -1 for kin), ``source`` (index into self_report/observed/exchange).
    """
    e0, e1 = np.searchsorted(st.ex_from, [lo, hi])
    parts = [
        _household_kin(pop, lo, hi),
        _neighbours(pop, seed, lo, hi),
        _group_ring(st, seed, lo, hi),
    ]
    a = np.concatenate([p[0] for p in parts])
    b = np.concatenate([p[1] for p in parts])
    k = np.concatenate([p[2] for p in parts])
    recip = np.concatenate([p[3] for p in parts])
    # lattice and ring candidates: direction and reciprocity from the pair's hash
    hashed = k != m.HOUSEHOLD_KIN
    exists, both = _direction(seed, a[hashed], b[hashed], k[hashed])
    recip[hashed] = both
    keep = np.ones(len(a), dtype=np.bool_)
    keep[hashed] = exists
    a = np.concatenate([a[keep], st.ex_from[e0:e1]])
    b = np.concatenate([b[keep], st.ex_to[e0:e1]])
    k = np.concatenate([k[keep], st.ex_kind[e0:e1]])
    recip = np.concatenate([recip[keep], st.ex_recip[e0:e1]])

    # rows repeated by several groups are identical (every attribute is a hash of the pair), so
    # distinct (from, to, kind, reciprocal) keys, sorted, are exactly the rows in output order
    n = pop.n
    key = sorted_unique(((a * n + b) * 9 + k) * 2 + recip)
    if len(key):
        key = key[np.concatenate([[True], key[1:] // 2 != key[:-1] // 2])]
    recip = (key % 2).astype(np.bool_)
    key //= 2
    k = key % 9
    a, b = key // 9 // n, key // 9 % n

    lo_id, hi_id = np.minimum(a, b), np.maximum(a, b)
    h = hash_keys(seed, m.SALT_TYPES, lo_id, hi_id, k)
    p = m.SUPPORT_TYPE_P[k]
    types = np.zeros(len(a), dtype=np.int64)
    for bit in range(5):
        types |= (field_uniform(h, bit) < p[:, bit]).astype(np.int64) << bit
    types = np.where(types == 0, 1 << m.PRIMARY_TYPE[k], types)
    h2 = hash_keys(seed, m.SALT_TYPES + 1, lo_id, hi_id, k)
    span = m.STRENGTH_RANGE[k]
    strength = span[:, 0] + (field_uniform(h2, 0) * (span[:, 1] - span[:, 0] + 1)).astype(np.int64)
    known_years = np.clip(np.minimum(pop.age[a], pop.age[b]) - 12, 1, 15)
    since_days = (30 + field_uniform(h2, 1) * (known_years * 365 - 30)).astype(np.int64)
    since_days = np.where(m.OUTPUT_KIND[k] == m.KIN, -1, since_days)
    su = field_uniform(h2, 2)
    source = np.where((m.OUTPUT_KIND[k] == m.KIN) | (su < 0.85), 0, np.where(su < 0.95, 1, 2))
    return {
        "from": a,
        "to": b,
        "kind": m.OUTPUT_KIND[k],
        "types": types,
        "strength": strength,
        "reciprocal": recip,
        "since_days": since_days,
        "source": source,
    }


_KINDS = pl.Series(m.KIND_NAMES)
_TYPES = pl.Series(m.support_type_table())
_SOURCE = pl.Series(_SOURCES)


def member_id_expr(column: str) -> pl.Expr:
    """``m1``, ``m2``, ... from a column of 0-based member indices."""
    return pl.concat_str([pl.lit("m"), (pl.col(column) + 1).cast(pl.String)])


def ties_frame(pop: Population, st: Structure, seed: int, lo: int, hi: int) -> pl.DataFrame:
    """The ties.csv rows of members ``lo..hi-1`` (see ``docs/formats.md``)."""
    t = tie_arrays(pop, st, seed, lo, hi)
    epoch = (dt.date(pop.reference_year, 1, 1) - dt.date(1970, 1, 1)).days
    days = t["since_days"].astype(np.int64)
    raw = pl.DataFrame(
        {
            "a": t["from"],
            "b": t["to"],
            "days": days,
            "since": np.where(days >= 0, epoch - days, 0).astype(np.int32),
        }
    )
    return raw.select(
        member_id_expr("a").alias("from_id"),
        member_id_expr("b").alias("to_id"),
        kind=_KINDS.gather(t["kind"]),
        support_types=_TYPES.gather(t["types"]),
        strength=pl.Series(t["strength"]).cast(pl.Int8),
        reciprocal=pl.Series(t["reciprocal"]),
        since=pl.when(pl.col("days") >= 0).then(pl.col("since").cast(pl.Date)),
        source=_SOURCE.gather(t["source"]),
    )
