"""Optimal assignment of offers to needs: min-cost flow (OR-tools) or the same LP with HiGHS.

Formulation (variables on the sparse candidate graph)::

    maximise   sum_e (s_e + B u_e) x_e  +  sum_v sum_{k=1..r_v} f_vk y_vk
    subject to sum_{e at need n}          x_e <= q_n   (need wants q_n volunteers)
               sum_{e at need n, vol. v}  x_e <= 1     (... and they are distinct people)
               sum_{e at offer o}         x_e <= c_o   (offer capacity)
               sum_{e at volunteer v}     x_e  = sum_k y_vk   (r_v slots left this month)
               0 <= x_e <= 1,  0 <= y_vk <= 1

``s_e`` is the pair score without fairness, ``f_vk = w_fairness * (1 - (t_v + k - 1) / cap_v)``
the fairness share of the volunteer's ``(t_v + k)``-th match this month. It decreases in ``k``,
so slots fill in order and the load utility is concave: work is spread. With
``objective="urgent_first"`` each pair of an urgent need earns ``B = 1 + (number of slots)``
more, which exceeds any possible difference in total score, so the optimum first maximises the
urgent slots filled and then the score (lexicographic); with ``"score"`` (default) ``B = 0``.

This is the LP of a min-cost flow on the network
``source -> need -> (need, volunteer) -> offer -> volunteer -> slot -> sink`` (plus a
zero-cost source -> sink bypass, so unprofitable flow is simply not sent). Network matrices are
totally unimodular, so the LP has integral optimal vertices and the flow optimum *is* the optimal
assignment (integrality theorem, Ahuja, Magnanti & Orlin 1993, *Network Flows*, ch. 9).

Solvers:

* ``"ortools"``: OR-tools' cost-scaling min-cost flow on that network, costs scaled to integers
  in units of 1e-9 score; exact for the rounded scores. Fast (10,000 x 10,000 in about a second).
* ``"highs"``: SciPy's HiGHS dual simplex on the LP, by column generation: solve on each need's
  best candidates, then *price* every left-out pair with the duals (reduced cost
  ``-(s_e + B u_e) - (pi_n + pi_g + pi_o + pi_v)``) and add improving pairs until none is left,
  which by LP duality is an optimum of the full LP. The vertex is checked to be integral; if it
  is not (numerical trouble), the MILP is solved with HiGHS branch-and-bound. Exact in floating
  point, no extra dependency, but slow on large inputs (minutes at 10,000 x 10,000).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from commonweal.errors import AnalysisError, InputError, Problem

from .candidates import Candidates, build_candidates, score_pairs
from .model import MatchingProblem
from .result import MatchResult, make_result
from .scoring import MatchConfig

__all__ = ["optimal_assignment", "reoptimise"]

_TOL = 1e-9
_SCALE = 1e9  # integer costs for OR-tools: score units of 1e-9


def _concat(a: Candidates, b: Candidates) -> Candidates:
    return Candidates(
        need=np.concatenate((a.need, b.need)),
        offer=np.concatenate((a.offer, b.offer)),
        volunteer=np.concatenate((a.volunteer, b.volunteer)),
        distance_km=np.concatenate((a.distance_km, b.distance_km)),
        overlap_s=np.concatenate((a.overlap_s, b.overlap_s)),
        components=np.vstack((a.components, b.components)),
        score=np.concatenate((a.score, b.score)),
        weights=a.weights,
    )


def _take(c: Candidates, keep: npt.NDArray[np.bool_] | npt.NDArray[np.int64]) -> Candidates:
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


def _resolve_pairs(
    problem: MatchingProblem, pairs: Iterable[tuple[str, str]], what: str
) -> list[tuple[int, int]]:
    out, problems = [], []
    for k, pair in enumerate(pairs):
        need_id, offer_id = pair
        n = problem.need_index.get(need_id)
        o = problem.offer_index.get(offer_id)
        if n is None:
            problems.append(
                Problem(f"unknown need {need_id!r}", file=what, row=k + 1, field="need_id")
            )
        if o is None:
            problems.append(
                Problem(f"unknown offer {offer_id!r}", file=what, row=k + 1, field="offer_id")
            )
        if n is not None and o is not None:
            out.append((n, o))
    if problems:
        raise InputError(f"bad {what} pairs", problems)
    return out


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
class _Network:
    """The free part of the problem after fixed pairs took their capacity."""

    edges: npt.NDArray[np.int64]  # candidate rows that may still be chosen
    value: npt.NDArray[np.float64]  # objective coefficient of each of those rows
    need_q: npt.NDArray[np.int64]
    offer_cap: npt.NDArray[np.int64]
    slot_vol: npt.NDArray[np.int64]
    slot_val: npt.NDArray[np.float64]
    group: npt.NDArray[np.int64]  # per free edge: its (need, volunteer) group, -1 if alone
    group_need: npt.NDArray[np.int64]  # per group: the need


def _solve_ortools(
    problem: MatchingProblem, cands: Candidates, net: _Network
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
    problem: MatchingProblem, cands: Candidates, net: _Network, cols: npt.NDArray[np.int64]
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


def _solve_highs(
    problem: MatchingProblem, cands: Candidates, net: _Network, per_slot: int
) -> npt.NDArray[np.int64]:
    """Column generation on the LP with HiGHS (exact in floating point; slower than OR-tools)."""
    e = net.edges
    if e.shape[0] == 0:
        return e
    sub = _take(cands, e)
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


def _solve_milp(
    problem: MatchingProblem, cands: Candidates, net: _Network
) -> npt.NDArray[np.int64]:
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


def _free_network(
    problem: MatchingProblem,
    cands: Candidates,
    config: MatchConfig,
    fixed_rows: npt.NDArray[np.int64],
) -> _Network:
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
        free &= ~np.isin(cands.need * n_vol + cands.volunteer, taken_pairs)
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
    key = cands.need[edges] * n_vol + cands.volunteer[edges]
    uniq, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    multi = (counts > 1) & (need_q[uniq // max(n_vol, 1)] > 1)
    group_id = np.cumsum(multi) - 1
    group = np.where(multi[inverse], group_id[inverse], -1).astype(np.int64)
    group_need = (uniq[multi] // max(n_vol, 1)).astype(np.int64)
    return _Network(edges, value, need_q, offer_cap, slot_vol, slot_val, group, group_need)


def optimal_assignment(
    problem: MatchingProblem,
    config: MatchConfig | None = None,
    *,
    candidates: Candidates | None = None,
    fixed: Iterable[tuple[str, str]] = (),
    forbidden: Iterable[tuple[str, str]] = (),
    solver: Literal["auto", "ortools", "highs"] = "auto",
    initial_per_slot: int = 6,
) -> MatchResult:
    """Maximum-score assignment of offers to needs under capacities and monthly caps.

    Parameters
    ----------
    problem : MatchingProblem
        From :func:`~.model.prepare`.
    config : MatchConfig, optional
        Weights, hard constraints and objective (``"score"`` or ``"urgent_first"``).
    candidates : Candidates, optional
        Precomputed :func:`~.candidates.build_candidates` output (built when omitted).
    fixed : iterable of (need_id, offer_id)
        Pairs that must be in the assignment (a dispatcher's decisions); they may break a hard
        constraint (the dispatcher knows best) but not a capacity, cap or need quantity.
    forbidden : iterable of (need_id, offer_id)
        Pairs that must not be used.
    solver : {"auto", "ortools", "highs"}
        ``"ortools"``: min-cost flow (OR-tools, optional dependency), exact for the scores rounded
        to 1e-9. ``"highs"``: the LP by column generation with SciPy's HiGHS, exact in floating
        point, slower on large inputs. ``"auto"``: OR-tools when installed, else HiGHS.
    initial_per_slot : int
        HiGHS only: columns per need slot in the first restricted LP (speed, not the result).

    Returns
    -------
    MatchResult
        Method ``"min-cost-flow"`` or ``"lp-highs"``; every suggestion carries components and
        reasons.

    Raises
    ------
    InputError
        Unknown ids in ``fixed``/``forbidden``, or fixed pairs exceeding a capacity.
    AnalysisError
        The solver failed, or ``solver="ortools"`` without OR-tools installed.
    """
    config = config or MatchConfig()
    cands = candidates if candidates is not None else build_candidates(problem, config)
    fixed_pairs = _resolve_pairs(problem, fixed, "fixed")
    forbid = set(_resolve_pairs(problem, forbidden, "forbidden")) - set(fixed_pairs)
    if forbid:
        drop = np.array(
            [(int(a), int(b)) in forbid for a, b in zip(cands.need, cands.offer, strict=True)],
            dtype=bool,
        )
        cands = _take(cands, ~drop)
    index = cands.pair_index() if fixed_pairs else {}
    extra = sorted({p for p in fixed_pairs if p not in index})
    if extra:
        arr = np.array(extra, dtype=np.int64)
        cands = _concat(cands, score_pairs(problem, arr[:, 0], arr[:, 1], config))
        index = cands.pair_index()
    fixed_rows = np.array(sorted({index[p] for p in fixed_pairs}), dtype=np.int64)
    _check_fixed(problem, cands, fixed_rows)
    net = _free_network(problem, cands, config, fixed_rows)

    chosen = None
    method = "min-cost-flow"
    if solver in ("auto", "ortools"):
        chosen = _solve_ortools(problem, cands, net)
        if chosen is None and solver == "ortools":
            raise AnalysisError("OR-tools is not installed or could not solve; use solver='highs'")
    if chosen is None:
        chosen = _solve_highs(problem, cands, net, initial_per_slot)
        method = "lp-highs"
    rows = np.concatenate((fixed_rows, chosen))
    return make_result(
        problem,
        cands,
        rows,
        method=method,
        config=config,
        fixed=frozenset(int(r) for r in fixed_rows),
    )


def _check_fixed(problem: MatchingProblem, cands: Candidates, rows: npt.NDArray[np.int64]) -> None:
    problems = []
    for name, ids, idx, cap in (
        ("need", [n.id for n in problem.needs], cands.need[rows], problem.need_quantity),
        ("offer", [o.id for o in problem.offers], cands.offer[rows], problem.offer_capacity),
        ("volunteer", list(problem.volunteer_ids), cands.volunteer[rows], problem.vol_remaining),
    ):
        used = np.bincount(idx, minlength=cap.shape[0])
        for i in np.flatnonzero(used > cap):
            problems.append(
                Problem(
                    f"{name} {ids[i]!r} gets {used[i]} fixed pairs but can take {cap[i]}",
                    file="fixed",
                )
            )
    if problems:
        raise InputError("the fixed pairs exceed a capacity", problems)


def reoptimise(
    problem: MatchingProblem,
    suggested: MatchResult,
    *,
    accepted: Iterable[tuple[str, str]] = (),
    overrides: Iterable[tuple[str, str]] = (),
    rejected: Iterable[tuple[str, str]] = (),
    config: MatchConfig | None = None,
    candidates: Candidates | None = None,
) -> MatchResult:
    """Re-optimise after a dispatcher's decisions, keeping those decisions fixed.

    Parameters
    ----------
    suggested : MatchResult
        The assignment the dispatcher reviewed.
    accepted : iterable of (need_id, offer_id)
        Suggested pairs the dispatcher accepted; they stay.
    overrides : iterable of (need_id, offer_id)
        Pairs the dispatcher chose instead; they stay, and the not-accepted suggestions for the
        same needs are treated as rejected.
    rejected : iterable of (need_id, offer_id)
        Pairs the dispatcher turned down; they are never suggested again in this run.

    Raises
    ------
    InputError
        An accepted pair that was not suggested, unknown ids, or decisions exceeding a capacity.
    """
    accepted, overrides, rejected = list(accepted), list(overrides), list(rejected)
    suggested_pairs = set(suggested.pairs())
    bad = [
        Problem(f"pair ({n!r}, {o!r}) was not suggested", file="accepted", row=k + 1)
        for k, (n, o) in enumerate(accepted)
        if (n, o) not in suggested_pairs
    ]
    if bad:
        raise InputError("accepted pairs must come from the suggestion", bad)
    overridden_needs = {n for n, _ in overrides}
    keep = set(accepted) | set(overrides)
    replaced = [p for p in suggested_pairs if p[0] in overridden_needs and p not in keep]
    return optimal_assignment(
        problem,
        config,
        candidates=candidates,
        fixed=[*accepted, *overrides],
        forbidden=[*rejected, *sorted(replaced)],
    )
