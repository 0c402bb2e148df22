"""Solvers of the assignment network (see :mod:`.assign` for the model): OR-tools min-cost flow,
HiGHS LP by column generation, HiGHS MILP as a last resort."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from commonweal.errors import AnalysisError

from .candidates import Candidates
from .model import MatchingProblem
from .scoring import MatchConfig

__all__ = ["Network", "free_network", "member", "solve_highs", "solve_ortools", "take"]

_TOL = 1e-9
_SCALE = 1e9  # integer costs for OR-tools: score units of 1e-9


def member(keys: npt.NDArray[np.int64], among: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """``keys in among`` by binary search (``np.isin`` hashes the big array, slow at 1M keys)."""
    if among.size == 0:
        return np.zeros(keys.shape[0], dtype=bool)
    srt = np.sort(among)
    pos = np.minimum(np.searchsorted(srt, keys), srt.shape[0] - 1)
    out: npt.NDArray[np.bool_] = srt[pos] == keys
    return out


def take(c: Candidates, keep: npt.NDArray[np.bool_] | npt.NDArray[np.int64]) -> Candidates:
    return Candidates(
        need=c.need[keep],
        offer=c.offer[keep],
        volunteer=c.volunteer[keep],
        distance_km=c.distance_km[keep],
        overlap_s=c.overlap_s[keep],
        components=c.components[keep],
        score=c.score[keep],
        weights=c.weights,
    )


def _initial_columns(
    cands: Candidates, q: npt.NDArray[np.int64], per_slot: int, value: npt.NDArray[np.float64]
) -> npt.NDArray[np.bool_]:
    """Each need's ``per_slot * q_n`` best candidates by value."""
    if len(cands) == 0:
        return np.zeros(0, dtype=bool)
    order = np.lexsort((-value, cands.need))
    sn = cands.need[order]
    start = np.searchsorted(sn, sn, side="left")
    rank = np.arange(sn.shape[0]) - start
    keep = np.zeros(len(cands), dtype=bool)
    keep[order] = rank < per_slot * q[sn]
    return keep


@dataclass(frozen=True, eq=False)
class Network:
    """The free part of the problem after fixed pairs took their capacity."""

    edges: npt.NDArray[np.int64]  # candidate rows that may still be chosen
    value: npt.NDArray[np.float64]  # objective coefficient of each of those rows
    need_q: npt.NDArray[np.int64]
    offer_cap: npt.NDArray[np.int64]
    slot_vol: npt.NDArray[np.int64]
    slot_val: npt.NDArray[np.float64]
    group: npt.NDArray[np.int64]  # per free edge: its (need, volunteer) group, -1 if alone
    group_need: npt.NDArray[np.int64]  # per group: the need


def solve_ortools(
    problem: MatchingProblem, cands: Candidates, net: Network
) -> npt.NDArray[np.int64] | None:
    """Min-cost flow with OR-tools (cost scaling); ``None`` when OR-tools is absent or declines."""
    try:
        from ortools.graph.python import (  # type: ignore[import-untyped,import-not-found,unused-ignore]
            min_cost_flow,
        )
    except ImportError:  # optional dependency
        return None
    n_need, n_off, n_vol = len(problem.needs), len(problem.offers), len(problem.volunteer_ids)
    src, n0, o0, v0 = 0, 1, 1 + n_need, 1 + n_need + n_off
    sink = v0 + n_vol
    total = int(net.need_q.sum())
    biggest = float(max(net.value.max(initial=0.0), net.slot_val.max(initial=0.0), 1.0))
    scale = min(_SCALE, 2.0**59 / (biggest * (sink + 2) * 8))
    e = net.edges
    g0 = sink + 1  # (need, volunteer) group nodes: a need's volunteers are distinct people
    n_grp = net.group_need.shape[0]
    edge_tail = np.where(net.group >= 0, g0 + net.group, n0 + cands.need[e])
    tails = np.concatenate(
        (
            np.full(n_need, src),
            edge_tail,
            o0 + np.arange(n_off),
            v0 + net.slot_vol,
            [src],
            n0 + net.group_need,
        )
    )
    heads = np.concatenate(
        (
            n0 + np.arange(n_need),
            o0 + cands.offer[e],
            v0 + problem.offer_vol,
            np.full(net.slot_vol.shape[0], sink),
            [sink],
            g0 + np.arange(n_grp),
        )
    )
    caps = np.concatenate(
        (
            net.need_q,
            np.ones(e.shape[0], dtype=np.int64),
            net.offer_cap,
            np.ones(net.slot_vol.shape[0], dtype=np.int64),
            [total],
            np.ones(n_grp, dtype=np.int64),
        )
    )
    costs = np.concatenate(
        (
            np.zeros(n_need, dtype=np.int64),
            -np.rint(net.value * scale).astype(np.int64),
            np.zeros(n_off, dtype=np.int64),
            -np.rint(net.slot_val * scale).astype(np.int64),
            [0],
            np.zeros(n_grp, dtype=np.int64),
        )
    )
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32),
        heads.astype(np.int32),
        caps.astype(np.int64),
        costs.astype(np.int64),
    )
    supplies = np.zeros(g0 + n_grp, dtype=np.int64)
    supplies[src], supplies[sink] = total, -total
    flow.set_nodes_supplies(np.arange(g0 + n_grp, dtype=np.int32), supplies)
    if flow.solve() != flow.OPTIMAL:
        return None
    x = flow.flows(np.arange(n_need, n_need + e.shape[0], dtype=np.int32))
    return e[np.asarray(x) > 0]


def _solve_lp(
    problem: MatchingProblem, cands: Candidates, net: Network, cols: npt.NDArray[np.int64]
) -> tuple[
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
]:
    """Solve the LP restricted to candidate rows ``cols``; return x and the three dual vectors."""
    n_need, n_off, n_vol = len(problem.needs), len(problem.offers), len(problem.volunteer_ids)
    k, s = cols.shape[0], net.slot_vol.shape[0]
    n_grp = net.group_need.shape[0]
    ones, ar = np.ones(k), np.arange(k)
    grp = net.group[np.searchsorted(net.edges, cols)]
    in_grp = grp >= 0
    a_ub = sparse.csr_array(
        (
            np.concatenate((ones, ones, ones[in_grp])),
            (
                np.concatenate(
                    (cands.need[cols], n_need + cands.offer[cols], n_need + n_off + grp[in_grp])
                ),
                np.concatenate((ar, ar, ar[in_grp])),
            ),
        ),
        shape=(n_need + n_off + n_grp, k + s),
    )
    b_ub = np.concatenate((net.need_q, net.offer_cap, np.ones(n_grp))).astype(np.float64)
    a_eq = sparse.csr_array(
        (
            np.concatenate((ones, -np.ones(s))),
            (np.concatenate((cands.volunteer[cols], net.slot_vol)), np.arange(k + s)),
        ),
        shape=(n_vol, k + s),
    )
    c = -np.concatenate((net.value[np.searchsorted(net.edges, cols)], net.slot_val))
    res = linprog(
        c,
        A_ub=a_ub,
        b_ub=b_ub,
        A_eq=a_eq,
        b_eq=np.zeros(n_vol),
        bounds=(0.0, 1.0),
        method="highs-ds",
    )
    if res.status != 0:
        raise AnalysisError(f"the assignment LP did not solve: {res.message}")
    marg = np.asarray(res.ineqlin.marginals)
    return (
        np.asarray(res.x[:k]),
        marg[:n_need],
        marg[n_need : n_need + n_off],
        np.asarray(res.eqlin.marginals),
        marg[n_need + n_off :],
    )


def solve_highs(
    problem: MatchingProblem, cands: Candidates, net: Network, per_slot: int
) -> npt.NDArray[np.int64]:
    """Column generation on the LP with HiGHS (exact in floating point; slower than OR-tools)."""
    e = net.edges
    if e.shape[0] == 0:
        return e
    sub = take(cands, e)
    active = e[_initial_columns(sub, net.need_q, per_slot, net.value)]
    is_active = np.zeros(e.shape[0], dtype=bool)
    is_active[np.searchsorted(e, active)] = True
    for _ in range(200):
        cols = e[is_active]
        x, pi_n, pi_o, pi_v, pi_g = _solve_lp(problem, cands, net, cols)
        pi_edge_g = pi_g[net.group] if pi_g.size else np.zeros(e.shape[0])
        pi_edge_g[net.group < 0] = 0.0
        reduced = -net.value - (
            pi_n[cands.need[e]] + pi_o[cands.offer[e]] + pi_v[cands.volunteer[e]] + pi_edge_g
        )
        enter = (~is_active) & (reduced < -_TOL)
        if not enter.any():
            break
        is_active |= enter
    else:
        raise AnalysisError("column generation did not converge in 200 rounds")
    if np.abs(x - np.round(x)).max(initial=0.0) > 1e-6:
        return _solve_milp(problem, cands, net)
    return cols[np.round(x) > 0.5]


def _solve_milp(problem: MatchingProblem, cands: Candidates, net: Network) -> npt.NDArray[np.int64]:
    """Fallback: the same model as an integer program (only if an LP vertex came out fractional)."""
    n_need, n_off, n_vol = len(problem.needs), len(problem.offers), len(problem.volunteer_ids)
    e = net.edges
    k, s = e.shape[0], net.slot_vol.shape[0]
    n_grp = net.group_need.shape[0]
    ar = np.arange(k)
    in_grp = net.group >= 0
    base = n_need + n_off + n_vol
    rows = np.concatenate(
        (
            cands.need[e],
            n_need + cands.offer[e],
            n_need + n_off + cands.volunteer[e],
            n_need + n_off + net.slot_vol,
            base + net.group[in_grp],
        )
    )
    a = sparse.csr_array(
        (
            np.concatenate((np.ones(3 * k), -np.ones(s), np.ones(int(in_grp.sum())))),
            (rows, np.concatenate((ar, ar, ar, k + np.arange(s), ar[in_grp]))),
        ),
        shape=(base + n_grp, k + s),
    )
    ub = np.concatenate((net.need_q, net.offer_cap, np.zeros(n_vol), np.ones(n_grp)))
    lb = np.concatenate(
        (np.full(n_need + n_off, -np.inf), np.zeros(n_vol), np.full(n_grp, -np.inf))
    )
    res = milp(
        -np.concatenate((net.value, net.slot_val)),
        constraints=LinearConstraint(a, lb, ub),
        integrality=np.ones(k + s),
        bounds=Bounds(0.0, 1.0),
    )
    if res.status != 0 or res.x is None:
        raise AnalysisError(f"the assignment could not be solved: {res.message}")
    out: npt.NDArray[np.int64] = e[np.round(res.x[:k]) > 0.5]
    return out


def free_network(
    problem: MatchingProblem,
    cands: Candidates,
    config: MatchConfig,
    fixed_rows: npt.NDArray[np.int64],
) -> Network:
    """Capacities left after the fixed pairs, the free candidate rows, and the volunteer slots."""
    n_vol = len(problem.volunteer_ids)
    need_q = problem.need_quantity - np.bincount(
        cands.need[fixed_rows], minlength=len(problem.needs)
    )
    offer_cap = problem.offer_capacity - np.bincount(
        cands.offer[fixed_rows], minlength=len(problem.offers)
    )
    vol_fixed = np.bincount(cands.volunteer[fixed_rows], minlength=n_vol)
    taken = problem.vol_taken + vol_fixed
    remaining = np.maximum(problem.vol_cap - taken, 0)
    free = np.ones(len(cands), dtype=bool)
    free[fixed_rows] = False
    free &= (
        (need_q[cands.need] > 0) & (offer_cap[cands.offer] > 0) & (remaining[cands.volunteer] > 0)
    )
    if fixed_rows.size:  # a volunteer fixed on a need is not suggested for it a second time
        taken_pairs = cands.need[fixed_rows] * n_vol + cands.volunteer[fixed_rows]
        free &= ~member(cands.need * n_vol + cands.volunteer, taken_pairs)
    edges = np.flatnonzero(free)
    value = cands.score[edges].copy()
    if config.objective == "urgent_first":
        bonus = 1.0 + float(problem.need_quantity.sum())
        value += bonus * (problem.need_urgency[cands.need[edges]] >= config.urgent_level)
    # volunteer slots: as many as the volunteer can still take and could possibly use
    degree = np.bincount(cands.volunteer[edges], minlength=n_vol)
    reach = np.bincount(problem.offer_vol, weights=offer_cap, minlength=n_vol).astype(np.int64)
    slots = np.minimum(np.minimum(remaining, degree), reach)
    slot_vol = np.repeat(np.arange(n_vol), slots)
    k_in = np.arange(slot_vol.shape[0]) - np.repeat(np.cumsum(slots) - slots, slots) + 1
    j = taken[slot_vol] + k_in
    slot_val = cands.weights[6] * (1.0 - (j - 1) / np.maximum(problem.vol_cap[slot_vol], 1))
    # a need wanting several volunteers gets distinct people: at most one pair per
    # (need, volunteer), a constraint only where a volunteer has several offers fitting the need
    group = np.full(edges.shape[0], -1, dtype=np.int64)
    several = np.flatnonzero(need_q[cands.need[edges]] > 1)
    key = cands.need[edges[several]] * n_vol + cands.volunteer[edges[several]]
    order = np.argsort(key, kind="stable")
    sk = key[order]
    first = np.r_[True, sk[1:] != sk[:-1]] if sk.size else np.zeros(0, dtype=bool)
    run = np.cumsum(first) - 1  # run id of each sorted key
    run_len = np.bincount(run) if sk.size else np.zeros(0, dtype=np.int64)
    multi_run = run_len > 1
    group_of_run = np.where(multi_run, np.cumsum(multi_run) - 1, -1)
    group[several[order]] = group_of_run[run]
    group_need = (sk[first][multi_run] // max(n_vol, 1)).astype(np.int64)
    return Network(edges, value, need_q, offer_cap, slot_vol, slot_val, group, group_need)
