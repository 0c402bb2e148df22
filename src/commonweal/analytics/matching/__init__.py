"""Needs/offers matching for mutual aid: candidates, named-component scores, optimal assignment.

Pure computation (no I/O, no database). The usual flow::

    problem = prepare(needs, offers, volunteers)        # validate -> column arrays
    cands = build_candidates(problem, config)           # spatial index + hard constraints
    best = optimal_assignment(problem, config, candidates=cands)   # exact (network LP, HiGHS)
    base = greedy_assignment(problem, config, candidates=cands)    # the greedy dispatcher
    again = reoptimise(problem, best, accepted=[...], overrides=[...], rejected=[...])

:func:`match` does the first three steps in one call. See ``docs/matching.md``.

The names below are loaded on first use (PEP 562), so that reading the vocabulary
(``CATEGORIES``, ``normalise_category``) does not import SciPy's spatial index and optimiser or
polars: the web app and the CLI import this package at start-up.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from commonweal._lazy import lazy_names

if TYPE_CHECKING:
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

# public name -> the submodule defining it
_LAZY: dict[str, str] = {
    "optimal_assignment": "assign",
    "reoptimise": "assign",
    "Candidates": "candidates",
    "build_candidates": "candidates",
    "great_circle_km": "candidates",
    "score_pairs": "candidates",
    "needs_from_frame": "frames",
    "offers_from_frame": "frames",
    "volunteers_from_frame": "frames",
    "greedy_assignment": "greedy",
    "CATEGORIES": "model",
    "SENSITIVE_CATEGORIES": "model",
    "URGENCY_LEVELS": "model",
    "MatchingProblem": "model",
    "Need": "model",
    "Offer": "model",
    "VolunteerState": "model",
    "normalise_category": "model",
    "repeat_window": "model",
    "MatchResult": "result",
    "Suggestion": "result",
    "assignment_value": "result",
    "COMPONENTS": "scoring",
    "MatchConfig": "scoring",
    "ScoreWeights": "scoring",
    "prepare": "validate",
}


__getattr__, __dir__ = lazy_names(__name__, _LAZY, __all__)


def match(
    needs: Sequence[Need],
    offers: Sequence[Offer],
    volunteers: Sequence[VolunteerState] = (),
    config: MatchConfig | None = None,
) -> MatchResult:
    """Validate, generate candidates and return the optimal assignment in one call.

    >>> from commonweal.analytics.matching import Need, Offer, match
    >>> r = match([Need("n1", "groceries", 51.5, -0.12, 0, 3600)],
    ...           [Offer("o1", "v1", ("groceries",), 51.501, -0.12, windows=((0, 7200),))])
    >>> r.pairs(), r.suggestions[0].reasons[0]
    ([('n1', 'o1')], '0.1 km away (limit 3 km)')
    """
    from .assign import optimal_assignment
    from .candidates import build_candidates
    from .scoring import MatchConfig
    from .validate import prepare

    config = config or MatchConfig()
    problem = prepare(needs, offers, volunteers, default_monthly_cap=config.default_monthly_cap)
    return optimal_assignment(problem, config, candidates=build_candidates(problem, config))
