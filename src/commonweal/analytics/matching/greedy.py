"""The greedy dispatcher: the baseline the optimal assignment is compared against.

It does what a careful human dispatcher working down a list does: take the needs in order of
urgency (most urgent first, then earliest window, then input order) and give each one the best
remaining candidate, one slot at a time (distinct volunteers for a need wanting several), where
"best" is the same score the optimiser uses (pair score plus the fairness share of the volunteer's
next match). It never revisits a choice, which is why it can leave needs unmet that an optimal
assignment would meet.
"""

from __future__ import annotations

import numpy as np

from .candidates import Candidates, build_candidates
from .model import MatchingProblem
from .result import MatchResult, make_result
from .scoring import MatchConfig

__all__ = ["greedy_assignment"]


def greedy_assignment(
    problem: MatchingProblem,
    config: MatchConfig | None = None,
    *,
    candidates: Candidates | None = None,
) -> MatchResult:
    """Assign needs one at a time, most urgent first, each to its best remaining candidate.

    Parameters
    ----------
    problem : MatchingProblem
        From :func:`~.model.prepare`.
    config : MatchConfig, optional
        The same configuration as the optimal run, for a fair comparison.
    candidates : Candidates, optional
        Precomputed candidates (built when omitted).

    Returns
    -------
    MatchResult
        Method ``"greedy"``; same totals and reasons as :func:`~.assign.optimal_assignment`.
    """
    config = config or MatchConfig()
    cands = candidates if candidates is not None else build_candidates(problem, config)
    w_fair = float(cands.weights[6])
    offer_left = problem.offer_capacity.copy()
    vol_count = problem.vol_taken.copy()
    vol_left = problem.vol_remaining.copy()
    cap = np.maximum(problem.vol_cap, 1)
    # candidate rows are sorted by need: slice per need
    bounds = np.searchsorted(cands.need, np.arange(len(problem.needs) + 1))
    order = np.lexsort((np.arange(len(problem.needs)), problem.need_start, -problem.need_urgency))
    chosen: list[int] = []
    for n in order:
        lo, hi = int(bounds[n]), int(bounds[n + 1])
        if lo == hi:
            continue
        rows = np.arange(lo, hi)
        offers = cands.offer[rows]
        vols = cands.volunteer[rows]
        used = np.zeros(rows.shape[0], dtype=bool)
        for _ in range(int(problem.need_quantity[n])):
            ok = (~used) & (offer_left[offers] > 0) & (vol_left[vols] > 0)
            ok &= ~np.isin(vols, vols[used])  # a need's volunteers are distinct people
            if not ok.any():
                break
            val = cands.score[rows] + w_fair * (1.0 - vol_count[vols] / cap[vols])
            val[~ok] = -np.inf
            best = int(np.argmax(val))
            used[best] = True
            offer_left[offers[best]] -= 1
            vol_left[vols[best]] -= 1
            vol_count[vols[best]] += 1
            chosen.append(int(rows[best]))
    return make_result(problem, cands, chosen, method="greedy", config=config)
