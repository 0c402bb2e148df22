"""Scoring of need-offer pairs: named components in [0, 1], weights, plain-language reasons.

The score of a suggestion is a weighted sum of seven named components, each in [0, 1]:

==============  =====================================================================  =======
component       value                                                                  weight
==============  =====================================================================  =======
``distance``    ``1 - d / r`` (``d`` great-circle km, ``r`` the offer's max distance)    0.25
``fit``         share of the need's wanted skills and accessibility needs the offer     0.15
                covers (1 when it wants none)
``language``    1 when the need names no language or the two share one, else 0          0.10
``window``      overlap of the offer's windows with the need's window, as a share of    0.10
                the need's window
``vetting``     1 when the volunteer is vetted                                          0.05
``urgency``     ``(u - 1) / 3`` for urgency ``u`` in 1..4                              0.25
``fairness``    ``1 - (j - 1) / cap`` for the volunteer's ``j``-th match this month     0.10
                (counting matches already taken), ``cap`` their monthly cap
==============  =====================================================================  =======

Weights are normalised to sum to 1, so every suggestion scores in [0, 1] and the objective of an
assignment is the sum of its suggestions' scores. The first six components depend only on the pair;
``fairness`` depends on how many matches the volunteer gets, with a *decreasing* marginal value
(a concave utility of load), which spreads work across volunteers; the assignment realises it by
giving each volunteer one slot per remaining match, slot ``j`` worth
``w_fairness * (1 - (j-1)/cap)``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from commonweal.errors import InputError, Problem

from .model import CATEGORIES, SENSITIVE_CATEGORIES, MatchingProblem

__all__ = [
    "COMPONENTS",
    "MatchConfig",
    "ScoreWeights",
    "describe_pair",
    "describe_pairs",
    "fairness_value",
    "popcount",
]

#: Names of the score components, in the column order of ``Candidates.components``
#: (``fairness`` is last and is filled in per assignment).
COMPONENTS: tuple[str, ...] = (
    "distance",
    "fit",
    "language",
    "window",
    "vetting",
    "urgency",
    "fairness",
)

_LANGUAGE_NAMES = {
    "en": "English",
    "es": "Spanish",
    "fr": "French",
    "de": "German",
    "pt": "Portuguese",
    "it": "Italian",
    "zh": "Chinese",
    "ar": "Arabic",
    "ru": "Russian",
    "uk": "Ukrainian",
    "pl": "Polish",
    "vi": "Vietnamese",
    "ko": "Korean",
    "ja": "Japanese",
    "hi": "Hindi",
    "bn": "Bengali",
    "ur": "Urdu",
    "tl": "Tagalog",
    "ht": "Haitian Creole",
    "so": "Somali",
    "fa": "Persian",
    "tr": "Turkish",
    "yi": "Yiddish",
    "asl": "ASL",
    "bsl": "BSL",
}


@dataclass(frozen=True, slots=True)
class ScoreWeights:
    """Weights of the score components (non-negative; normalised to sum to 1 when used)."""

    distance: float = 0.25
    fit: float = 0.15
    language: float = 0.10
    window: float = 0.10
    vetting: float = 0.05
    urgency: float = 0.25
    fairness: float = 0.10

    def normalised(self) -> npt.NDArray[np.float64]:
        """The weights in :data:`COMPONENTS` order, divided by their sum."""
        w = np.array([getattr(self, c) for c in COMPONENTS], dtype=np.float64)
        bad = [
            Problem(f"weight {getattr(self, c)!r} must be finite and >= 0", field=c)
            for c, x in zip(COMPONENTS, w, strict=True)
            if not np.isfinite(x) or x < 0
        ]
        if bad or w.sum() <= 0:
            raise InputError("score weights must be non-negative with a positive sum", bad)
        out: npt.NDArray[np.float64] = w / w.sum()
        return out

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class MatchConfig:
    """Settings of a matching run.

    Parameters
    ----------
    weights : ScoreWeights
        Component weights (defaults in the module docstring).
    sensitive_categories : frozenset of str
        Categories that only vetted volunteers may take (hard constraint).
    require_accessibility : bool
        When true (default) an offer must cover every accessibility need of the need.
    objective : {"score", "urgent_first"}
        ``"score"`` maximises the total score. ``"urgent_first"`` is lexicographic: first the number
        of filled slots of needs with urgency >= ``urgent_level``, then the total score.
    urgent_level : int
        Urgency counted as urgent (3 = high).
    default_monthly_cap : int
        Monthly cap for volunteers without a :class:`~.model.VolunteerState`.
    """

    weights: ScoreWeights = field(default_factory=ScoreWeights)
    sensitive_categories: frozenset[str] = SENSITIVE_CATEGORIES
    require_accessibility: bool = True
    objective: Literal["score", "urgent_first"] = "score"
    urgent_level: int = 3
    default_monthly_cap: int = 8

    def sensitive_mask(self) -> int:
        """Bit mask over category codes of the sensitive categories."""
        unknown = [c for c in self.sensitive_categories if c not in CATEGORIES]
        if unknown:
            raise InputError(
                "unknown sensitive categories",
                [Problem(f"unknown category {c!r}", field="sensitive_categories") for c in unknown],
            )
        if self.objective not in ("score", "urgent_first"):
            raise InputError(
                "bad objective",
                [
                    Problem(
                        f"{self.objective!r} is not 'score' or 'urgent_first'", field="objective"
                    )
                ],
            )
        return sum(1 << CATEGORIES.index(c) for c in self.sensitive_categories)


_POP8 = np.array([bin(i).count("1") for i in range(256)], dtype=np.int64)


def popcount(masks: npt.NDArray[np.uint64]) -> npt.NDArray[np.int64]:
    """Number of set bits per row of a ``(n, words)`` uint64 mask array."""
    if masks.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    if hasattr(np, "bitwise_count"):  # numpy >= 2
        fast: npt.NDArray[np.int64] = np.bitwise_count(masks).sum(axis=1, dtype=np.int64)
        return fast
    as_bytes = np.ascontiguousarray(masks).view(np.uint8).reshape(masks.shape[0], -1)
    out: npt.NDArray[np.int64] = _POP8[as_bytes].sum(axis=1)
    return out


def fairness_value(
    rank: npt.NDArray[np.int64], cap: npt.NDArray[np.int64]
) -> npt.NDArray[np.float64]:
    """Fairness component of a volunteer's ``rank``-th match this month: ``1 - (rank-1)/cap``."""
    out: npt.NDArray[np.float64] = 1.0 - (rank - 1) / np.maximum(cap, 1)
    return out


def _language_name(code: str) -> str:
    return _LANGUAGE_NAMES.get(code, code)


def _km(x: float) -> str:
    return f"{x:.1f}".removesuffix(".0")


def _hours(seconds: float) -> str:
    h = seconds / 3600.0
    if h >= 48:
        return f"{h / 24:.0f} days"
    if h >= 1:
        return f"{h:.1f} h".replace(".0 h", " h")
    return f"{max(seconds / 60.0, 1):.0f} min"


def describe_pair(
    problem: MatchingProblem,
    need: int,
    offer: int,
    distance_km: float,
    overlap_s: float,
    rank: int,
) -> tuple[str, ...]:
    """Plain-language reasons for matching need ``need`` with offer ``offer``.

    Examples: ``"1.2 km away (limit 3 km)"``, ``"speaks Spanish"``, ``"windows overlap 2 h"``,
    ``"urgent"``, ``"vetted volunteer"``, ``"volunteer's 3rd match this month (cap 8)"``.
    """
    return describe_pairs(
        problem,
        np.array([need], dtype=np.int64),
        np.array([offer], dtype=np.int64),
        np.array([distance_km]),
        np.array([overlap_s]),
        np.array([rank], dtype=np.int64),
    )[0]


def _mask_ints(masks: npt.NDArray[np.uint64]) -> list[int]:
    """Each row of a ``(n, words)`` mask array as one Python int."""
    out = [0] * masks.shape[0]
    for k in range(masks.shape[1]):
        col = masks[:, k].tolist()
        out = [o | (int(c) << (64 * k)) for o, c in zip(out, col, strict=True)]
    return out


def describe_pairs(
    problem: MatchingProblem,
    need: npt.NDArray[np.int64],
    offer: npt.NDArray[np.int64],
    distance_km: npt.NDArray[np.float64],
    overlap_s: npt.NDArray[np.float64],
    rank: npt.NDArray[np.int64],
) -> list[tuple[str, ...]]:
    """:func:`describe_pair` for many pairs at once (the masks are combined in bulk)."""
    tags = problem.tags
    cache: dict[int, list[str]] = {}

    def tag_list(bits: int) -> list[str]:
        if bits not in cache:
            out, b = [], bits
            while b:
                low = b & -b
                out.append(tags[low.bit_length() - 1])
                b ^= low
            cache[bits] = out
        return cache[bits]

    n_lang = _mask_ints(problem.need_lang[need])
    o_lang = _mask_ints(problem.offer_lang[offer])
    wanted = _mask_ints(problem.need_skills[need] | problem.need_access[need])
    o_skill = _mask_ints(problem.offer_skills[offer])
    limit = problem.offer_maxkm[offer].tolist()
    cats = problem.need_cat[need].tolist()
    need_len = (problem.need_end[need] - problem.need_start[need]).tolist()
    vetted = problem.offer_vetted[offer].tolist()
    urgency = problem.need_urgency[need].tolist()
    cap = problem.vol_cap[problem.offer_vol[offer]].tolist()
    urgency_words = {1: "low urgency", 2: "normal urgency", 3: "urgent", 4: "critical"}
    result = []
    for i, (d, ov, r) in enumerate(
        zip(distance_km.tolist(), overlap_s.tolist(), rank.tolist(), strict=True)
    ):
        reasons = [
            f"{d:.1f} km away (limit {_km(limit[i])} km)",
            f"offers {CATEGORIES[cats[i]].replace('_', ' ')}",
        ]
        shared = tag_list(n_lang[i] & o_lang[i])
        if shared:
            reasons.append("speaks " + ", ".join(_language_name(t) for t in shared))
        elif n_lang[i]:
            spoken = ", ".join(_language_name(t) for t in tag_list(n_lang[i]))
            reasons.append(f"no shared language (person speaks {spoken})")
        covered = tag_list(wanted[i] & o_skill[i])
        missing = tag_list(wanted[i] & ~o_skill[i])
        if covered:
            reasons.append("has " + ", ".join(t.replace("_", " ") for t in covered))
        if missing:
            reasons.append("lacks " + ", ".join(t.replace("_", " ") for t in missing))
        if ov >= need_len[i]:
            reasons.append(f"available for the whole {_hours(need_len[i])} window")
        else:
            reasons.append(f"windows overlap {_hours(ov)}")
        reasons.append("vetted volunteer" if vetted[i] else "not vetted")
        reasons.append(urgency_words[urgency[i]])
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(r if r < 20 else r % 10, "th")
        reasons.append(f"volunteer's {r}{suffix} match this month (cap {cap[i]})")
        result.append(tuple(reasons))
    return result
