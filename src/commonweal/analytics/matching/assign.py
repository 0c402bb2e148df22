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
  in units of 1e-9 score; exact for the rounded scores. Fast (10,000 x 10,000, 1.1 million
  candidate pairs, in 1-2 s).
* ``"highs"``: SciPy's HiGHS dual simplex on the LP, by column generation: solve on each need's
  best candidates, then *price* every left-out pair with the duals (reduced cost
  ``-(s_e + B u_e) - (pi_n + pi_g + pi_o + pi_v)``) and add improving pairs until none is left,
  which by LP duality is an optimum of the full LP. The vertex is checked to be integral; if it
  is not (numerical trouble), the MILP is solved with HiGHS branch-and-bound. Exact in floating
  point, no extra dependency, but slow on large inputs (10,000 x 10,000 did not finish in
  15 minutes); meant for small and medium runs and as the reference.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import numpy as np
import numpy.typing as npt

from commonweal.errors import AnalysisError, InputError, Problem

from .candidates import Candidates, build_candidates, score_pairs
from .flow import free_network, member, solve_highs, solve_ortools, take
from .model import MatchingProblem
from .result import MatchResult, make_result
from .scoring import MatchConfig

__all__ = ["optimal_assignment", "reoptimise"]


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
    m = max(len(problem.offers), 1)
    keys = cands.need * m + cands.offer
    fixed_keys = np.unique(np.array([n * m + o for n, o in fixed_pairs], dtype=np.int64))
    forbid = np.array(
        [n * m + o for n, o in _resolve_pairs(problem, forbidden, "forbidden")], dtype=np.int64
    )
    if forbid.size:
        keep = ~member(keys, forbid) | member(keys, fixed_keys)
        cands, keys = take(cands, keep), keys[keep]
    missing = fixed_keys[~member(fixed_keys, keys)]
    if missing.size:  # dispatcher pairs outside the candidates (they may break a hard rule)
        cands = _concat(cands, score_pairs(problem, missing // m, missing % m, config))
        keys = np.concatenate((keys, missing))
    fixed_rows = np.flatnonzero(member(keys, fixed_keys))
    _check_fixed(problem, cands, fixed_rows)
    net = free_network(problem, cands, config, fixed_rows)

    chosen = None
    method = "min-cost-flow"
    if solver in ("auto", "ortools"):
        chosen = solve_ortools(problem, cands, net)
        if chosen is None and solver == "ortools":
            raise AnalysisError("OR-tools is not installed or could not solve; use solver='highs'")
    if chosen is None:
        chosen = solve_highs(problem, cands, net, initial_per_slot)
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
