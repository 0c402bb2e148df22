"""Records and validation for needs/offers matching: the data contract of the matching engine.

A :class:`Need` is one request for help; an :class:`Offer` is one volunteer's standing offer of
help; a :class:`VolunteerState` carries the volunteer's monthly cap and how many matches they
already took this month. :func:`prepare` validates all three, collects every problem (with the
position and field of the bad value) into one :class:`~commonweal.errors.InputError`, and turns
the records into the column arrays (:class:`MatchingProblem`) that candidate generation, scoring
and assignment work on.

Conventions
-----------
* Times are seconds on one clock (Unix epoch seconds are the norm); timezone-aware
  :class:`datetime.datetime` values are accepted and converted with ``.timestamp()``.
* A need has one window ``[window_start, window_end)``. An offer has zero or more windows; zero
  windows means "any time". Recurring needs or offers are expanded into concrete windows by the
  caller (see :func:`repeat_window`).
* Languages, accessibility needs and skills are free tags, compared case-insensitively (ISO 639-1
  codes such as ``"es"`` are recommended for languages).
* ``row`` in a :class:`~commonweal.errors.Problem` is the 1-based position of the record in the
  sequence passed in; ``file`` is ``"needs"``, ``"offers"`` or ``"volunteers"``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt

__all__ = [
    "CATEGORIES",
    "SENSITIVE_CATEGORIES",
    "URGENCY_LEVELS",
    "MatchingProblem",
    "Need",
    "Offer",
    "VolunteerState",
    "normalise_category",
    "repeat_window",
]

#: The categories of help, in a fixed order (their index is the category code).
CATEGORIES: tuple[str, ...] = (
    "groceries",
    "prepared_food",
    "prescriptions",
    "transport",
    "childcare",
    "check_in",
    "translation",
    "financial_help",
    "shelter",
    "repairs",
    "emotional_support",
    "information",
    "other",
)
_ALIASES: dict[str, str] = {
    "prepared_meals": "prepared_food",
    "meals": "prepared_food",
    "medication": "prescriptions",
    "medicines": "prescriptions",
    "rides": "transport",
    "check_in_calls": "check_in",
    "check_ins": "check_in",
    "companionship": "check_in",
    "check_in_calls_and_companionship": "check_in",
    "financial": "financial_help",
    "money": "financial_help",
    "housing": "shelter",
}
#: Categories in which only a vetted volunteer may be matched (hard constraint, configurable).
SENSITIVE_CATEGORIES: frozenset[str] = frozenset(
    {"prescriptions", "childcare", "shelter", "financial_help"}
)
#: Named urgency levels; numbers 1-4 are accepted as well.
URGENCY_LEVELS: dict[str, int] = {"low": 1, "normal": 2, "high": 3, "urgent": 3, "critical": 4}

Time = float | int | datetime


def normalise_category(value: str) -> str | None:
    """Return the canonical category slug for ``value`` or ``None`` when it is unknown.

    Case, spaces and hyphens are ignored: ``"Check-in calls"`` becomes ``"check_in"``.
    """
    slug = "_".join(str(value).strip().lower().replace("-", " ").replace("/", " ").split())
    slug = _ALIASES.get(slug, slug)
    return slug if slug in CATEGORIES else None


@dataclass(frozen=True, slots=True)
class Need:
    """One request for help.

    Parameters
    ----------
    id : str
        Unique id of the need.
    category : str
        One of :data:`CATEGORIES` (aliases such as ``"companionship"`` are accepted).
    lat, lon : float
        WGS84 degrees of the place where help is needed.
    window_start, window_end : float or datetime
        When help is wanted, seconds on one clock; ``window_end > window_start``.
    urgency : int or str
        1 low, 2 normal, 3 high/urgent, 4 critical (names of :data:`URGENCY_LEVELS` accepted).
    quantity : int
        How many volunteers (offer slots) the need wants; 1 by default. A need is *met* when
        all of them are assigned.
    languages : tuple of str
        Languages the person speaks; empty means any language is fine.
    language_required : bool
        When true a volunteer must share one of ``languages`` (hard constraint).
    accessibility : tuple of str
        Accessibility needs (``"wheelchair"``, ``"step_free"``, ``"bsl"`` ...); the offer's
        ``skills`` must cover them (hard by default, see ``MatchConfig.require_accessibility``).
    skills : tuple of str
        Skills that would help (``"plumbing"``); scored by coverage, never required.
    requester_id : str or None
        Person asking; never matched to their own offer.
    description : str
        Free text, carried through untouched.
    """

    id: str
    category: str
    lat: float
    lon: float
    window_start: Time
    window_end: Time
    urgency: int | str = 2
    quantity: int = 1
    languages: tuple[str, ...] = ()
    language_required: bool = False
    accessibility: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()
    requester_id: str | None = None
    description: str = ""


@dataclass(frozen=True, slots=True)
class Offer:
    """One volunteer's offer of help.

    Parameters
    ----------
    id : str
        Unique id of the offer.
    volunteer_id : str
        The volunteer making it; monthly caps are shared across a volunteer's offers.
    categories : tuple of str
        Categories the offer covers.
    lat, lon : float
        WGS84 degrees of the volunteer's base.
    max_distance_km : float
        How far the volunteer will go (great-circle km; hard constraint).
    capacity : int
        How many needs this offer can take in this matching round.
    windows : tuple of (start, end)
        When the volunteer is available; empty means any time.
    languages : tuple of str
        Languages the volunteer speaks.
    vetted : bool
        Whether the volunteer has been vetted (background check, training).
    skills : tuple of str
        Skills and accessibility capabilities (``"wheelchair_vehicle"``, ``"bsl"``, ``"plumbing"``).
    description : str
        Free text, carried through untouched.
    """

    id: str
    volunteer_id: str
    categories: tuple[str, ...]
    lat: float
    lon: float
    max_distance_km: float = 3.0
    capacity: int = 1
    windows: tuple[tuple[Time, Time], ...] = ()
    languages: tuple[str, ...] = ()
    vetted: bool = False
    skills: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True, slots=True)
class VolunteerState:
    """A volunteer's load this month: at most ``monthly_cap`` matches, ``taken_this_month`` so far.

    Caps are shared by all of the volunteer's offers.
    """

    volunteer_id: str
    monthly_cap: int
    taken_this_month: int = 0


def repeat_window(
    start: Time, end: Time, every_s: float, count: int
) -> tuple[tuple[float, float], ...]:
    """Expand a recurring window into ``count`` concrete windows ``every_s`` seconds apart.

    >>> repeat_window(0, 3600, 86400, 2)
    ((0.0, 3600.0), (86400.0, 90000.0))
    """
    s, e = _as_seconds(start), _as_seconds(end)
    return tuple((s + k * every_s, e + k * every_s) for k in range(count))


@dataclass(frozen=True, eq=False)
class MatchingProblem:
    """Validated needs, offers and volunteers as column arrays (built by :func:`prepare`).

    Sets of tags are bit masks of shape ``(n, words)`` over ``tags`` (languages share the
    vocabulary).
    Offer windows are flattened: the windows of offer ``j`` are
    ``win_start[win_ptr[j]:win_ptr[j+1]]``, sorted and merged.
    """

    needs: tuple[Need, ...]
    offers: tuple[Offer, ...]
    volunteer_ids: tuple[str, ...]
    tags: tuple[str, ...]
    need_cat: npt.NDArray[np.int64]
    need_lat: npt.NDArray[np.float64]
    need_lon: npt.NDArray[np.float64]
    need_urgency: npt.NDArray[np.int64]
    need_start: npt.NDArray[np.float64]
    need_end: npt.NDArray[np.float64]
    need_quantity: npt.NDArray[np.int64]
    need_lang: npt.NDArray[np.uint64]
    need_lang_required: npt.NDArray[np.bool_]
    need_access: npt.NDArray[np.uint64]
    need_skills: npt.NDArray[np.uint64]
    need_requester: npt.NDArray[np.int64]
    offer_vol: npt.NDArray[np.int64]
    offer_cats: npt.NDArray[np.int64]
    offer_lat: npt.NDArray[np.float64]
    offer_lon: npt.NDArray[np.float64]
    offer_maxkm: npt.NDArray[np.float64]
    offer_capacity: npt.NDArray[np.int64]
    offer_lang: npt.NDArray[np.uint64]
    offer_vetted: npt.NDArray[np.bool_]
    offer_skills: npt.NDArray[np.uint64]
    win_ptr: npt.NDArray[np.int64]
    win_start: npt.NDArray[np.float64]
    win_end: npt.NDArray[np.float64]
    vol_cap: npt.NDArray[np.int64]
    vol_taken: npt.NDArray[np.int64]
    need_index: dict[str, int] = field(repr=False)
    offer_index: dict[str, int] = field(repr=False)

    @property
    def vol_remaining(self) -> npt.NDArray[np.int64]:
        """Matches each volunteer may still take this month (never negative)."""
        out: npt.NDArray[np.int64] = np.maximum(self.vol_cap - self.vol_taken, 0)
        return out


def _as_seconds(value: Time) -> float:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise TypeError("naive datetime")
        return value.timestamp()
    if isinstance(value, bool):
        raise TypeError("bool is not a time")
    return float(value)
