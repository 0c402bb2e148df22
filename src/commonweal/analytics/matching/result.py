"""Results of a matching run: suggestions with their reasons, and the totals that compare runs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .candidates import Candidates
from .model import MatchingProblem
from .scoring import COMPONENTS, MatchConfig, describe_pairs, fairness_value

__all__ = ["MatchResult", "Suggestion", "assignment_value", "make_result"]


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One suggested need-offer pair, with its score, components and reasons.

    ``score`` is the pair's weighted score including its fairness share; ``components`` holds the
    seven component values in [0, 1]; ``fixed`` is true for pairs a dispatcher accepted or forced.
    """

    need_id: str
    offer_id: str
    volunteer_id: str
    score: float
    distance_km: float
    components: dict[str, float]
    reasons: tuple[str, ...]
    fixed: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "need_id": self.need_id,
            "offer_id": self.offer_id,
            "volunteer_id": self.volunteer_id,
            "score": self.score,
            "distance_km": self.distance_km,
            "components": dict(self.components),
            "reasons": list(self.reasons),
            "fixed": self.fixed,
        }


@dataclass(frozen=True, slots=True)
class MatchResult:
    """An assignment of offers to needs and the figures to judge it by.

    ``total_score`` is the objective (sum of suggestion scores). A need is *met* when all of its
    ``quantity`` slots are filled; ``slots_filled`` counts assigned pairs. ``urgent_*`` count needs
    with urgency >= ``MatchConfig.urgent_level``. ``distance_km_total`` sums the pairs' distances.
    """

    method: str
    objective: str
    suggestions: tuple[Suggestion, ...]
    total_score: float
    needs_total: int
    needs_met: int
    slots_total: int
    slots_filled: int
    urgent_needs_total: int
    urgent_needs_met: int
    distance_km_total: float
    unmet_need_ids: tuple[str, ...]
    n_candidates: int

    def pairs(self) -> list[tuple[str, str]]:
        """The ``(need_id, offer_id)`` pairs of the assignment."""
        return [(s.need_id, s.offer_id) for s in self.suggestions]

    def summary(self) -> dict[str, object]:
        """The totals without the suggestions."""
        d = self.to_dict()
        d.pop("suggestions")
        d.pop("unmet_need_ids")
        return d

    def to_dict(self) -> dict[str, object]:
        return {
            "method": self.method,
            "objective": self.objective,
            "total_score": self.total_score,
            "needs_total": self.needs_total,
            "needs_met": self.needs_met,
            "slots_total": self.slots_total,
            "slots_filled": self.slots_filled,
            "urgent_needs_total": self.urgent_needs_total,
            "urgent_needs_met": self.urgent_needs_met,
            "distance_km_total": self.distance_km_total,
            "n_candidates": self.n_candidates,
            "unmet_need_ids": list(self.unmet_need_ids),
            "suggestions": [s.to_dict() for s in self.suggestions],
        }


def _ranks(problem: MatchingProblem, vol: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Rank of each chosen pair among its volunteer's matches this month (taken ones first)."""
    order = np.argsort(vol, kind="stable")
    sv = vol[order]
    start = np.searchsorted(sv, sv, side="left")
    rank = np.empty_like(vol)
    rank[order] = np.arange(vol.shape[0]) - start + 1
    out: npt.NDArray[np.int64] = rank + problem.vol_taken[vol]
    return out


def assignment_value(
    problem: MatchingProblem, cands: Candidates, rows: Sequence[int] | npt.NDArray[np.int64]
) -> float:
    """Objective of choosing candidate ``rows``: pair scores plus each volunteer's fairness shares.

    ``sum_e score_e + w_fairness * sum_v sum_{j=t_v+1}^{t_v+n_v} (1 - (j-1)/cap_v)``, with ``t_v``
    matches already taken this month and ``n_v`` chosen now.
    """
    r = np.asarray(rows, dtype=np.int64)
    if r.size == 0:
        return 0.0
    vol = cands.volunteer[r]
    fair = fairness_value(_ranks(problem, vol), problem.vol_cap[vol])
    return float(cands.score[r].sum() + cands.weights[6] * fair.sum())


def make_result(
    problem: MatchingProblem,
    cands: Candidates,
    rows: Sequence[int] | npt.NDArray[np.int64],
    *,
    method: str,
    config: MatchConfig,
    fixed: frozenset[int] = frozenset(),
) -> MatchResult:
    """Turn chosen candidate rows into a :class:`MatchResult` with reasons for every suggestion."""
    r = np.sort(np.asarray(rows, dtype=np.int64))
    vol = cands.volunteer[r]
    rank = _ranks(problem, vol)
    fair = fairness_value(rank, problem.vol_cap[vol])
    w_fair = cands.weights[6]
    suggestions = []
    reasons = describe_pairs(
        problem, cands.need[r], cands.offer[r], cands.distance_km[r], cands.overlap_s[r], rank
    )
    comps = cands.components[r].tolist()
    need_ids = [problem.needs[i].id for i in cands.need[r].tolist()]
    offer_ids = [problem.offers[i].id for i in cands.offer[r].tolist()]
    vol_ids = [problem.volunteer_ids[i] for i in vol.tolist()]
    scores = (cands.score[r] + w_fair * fair).tolist()
    dists = cands.distance_km[r].tolist()
    fair_list = fair.tolist()
    for k, row in enumerate(r.tolist()):
        comp = dict(zip(COMPONENTS, comps[k], strict=True))
        comp["fairness"] = fair_list[k]
        is_fixed = row in fixed
        suggestions.append(
            Suggestion(
                need_id=need_ids[k],
                offer_id=offer_ids[k],
                volunteer_id=vol_ids[k],
                score=scores[k],
                distance_km=dists[k],
                components=comp,
                reasons=reasons[k] + (("set by dispatcher",) if is_fixed else ()),
                fixed=is_fixed,
            )
        )
    filled = np.bincount(cands.need[r], minlength=len(problem.needs))
    met = filled >= problem.need_quantity
    urgent = problem.need_urgency >= config.urgent_level
    return MatchResult(
        method=method,
        objective=config.objective,
        suggestions=tuple(suggestions),
        total_score=float(sum(s.score for s in suggestions)),
        needs_total=len(problem.needs),
        needs_met=int(met.sum()),
        slots_total=int(problem.need_quantity.sum()),
        slots_filled=int(r.shape[0]),
        urgent_needs_total=int(urgent.sum()),
        urgent_needs_met=int((met & urgent).sum()),
        distance_km_total=float(cands.distance_km[r].sum()),
        unmet_need_ids=tuple(problem.needs[i].id for i in np.flatnonzero(~met)),
        n_candidates=len(cands),
    )
