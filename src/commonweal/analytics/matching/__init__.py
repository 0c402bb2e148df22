"""Needs/offers matching for mutual aid: candidates, named-component scores, optimal assignment.

Pure computation (no I/O, no database). The usual flow::

    problem = prepare(needs, offers, volunteers)        # validate -> column arrays
    cands = build_candidates(problem, config)           # spatial index + hard constraints
    best = optimal_assignment(problem, config, candidates=cands)   # exact (network LP, HiGHS)
    base = greedy_assignment(problem, config, candidates=cands)    # the greedy dispatcher
    again = reoptimise(problem, best, accepted=[...], overrides=[...], rejected=[...])

:func:`match` does the first three steps in one call. See ``docs/matching.md``.
"""

from __future__ import annotations

from collections.abc import Sequence

from .assign import optimal_assignment, reoptimise
from .candidates import Candidates, build_candidates, great_circle_km, score_pairs
from .frames import needs_from_frame, offers_from_frame, volunteers_from_frame
from .greedy import greedy_assignment
from .model import (
    CATEGORIES,
    SENSITIVE_CATEGORIES,
    URGENCY_LEVELS,
    MatchingProblem,
    Need,
    Offer,
    VolunteerState,
    normalise_category,
    repeat_window,
)
from .result import MatchResult, Suggestion, assignment_value
from .scoring import COMPONENTS, MatchConfig, ScoreWeights
from .validate import prepare

__all__ = [
    "CATEGORIES",
    "COMPONENTS",
    "SENSITIVE_CATEGORIES",
    "URGENCY_LEVELS",
    "Candidates",
    "MatchConfig",
    "MatchResult",
    "MatchingProblem",
    "Need",
    "Offer",
    "ScoreWeights",
    "Suggestion",
    "VolunteerState",
    "assignment_value",
    "build_candidates",
    "great_circle_km",
    "greedy_assignment",
    "match",
    "needs_from_frame",
    "normalise_category",
    "offers_from_frame",
    "optimal_assignment",
    "prepare",
    "reoptimise",
    "repeat_window",
    "score_pairs",
    "volunteers_from_frame",
]


def match(
    needs: Sequence[Need],
    offers: Sequence[Offer],
    volunteers: Sequence[VolunteerState] = (),
    config: MatchConfig | None = None,
) -> MatchResult:
    """Validate, generate candidates and return the optimal assignment in one call.

    >>> r = match([Need("n1", "groceries", 51.5, -0.12, 0, 3600)],
    ...           [Offer("o1", "v1", ("groceries",), 51.501, -0.12, windows=((0, 7200),))])
    >>> r.pairs(), r.suggestions[0].reasons[0]
    ([('n1', 'o1')], '0.1 km away (limit 3 km)')
    """
    config = config or MatchConfig()
    problem = prepare(needs, offers, volunteers, default_monthly_cap=config.default_monthly_cap)
    return optimal_assignment(problem, config, candidates=build_candidates(problem, config))
