"""Candidate generation: which offers may serve which needs, and the pair score components.

Geometry: points are mapped to the unit sphere in 3-D (``x = cos(lat) cos(lon)`` ...). The straight
chord between two points is a monotone function of their great-circle distance,
``chord = 2 sin(d / 2R)``, so a :class:`scipy.spatial.cKDTree` ball query on chords is exact for
great-circle radii anywhere on Earth (no projection error, no antimeridian trouble). Distances are
reported as great-circle km, ``d = 2 R asin(chord / 2)`` with ``R = 6371.0088`` km (mean radius).

One tree pair per category: needs of that category against offers covering it, queried with
:meth:`cKDTree.sparse_distance_matrix` up to the largest radius, then each pair is kept only when
within that offer's own ``max_distance_km``.

Hard constraints (a pair failing any is never a candidate): category; distance <= the offer's
max distance; positive overlap of time windows; a shared language when the need requires one;
vetting for sensitive categories; coverage of all accessibility needs (when configured); capacity
left on the offer and the volunteer; a requester is never matched to their own offer.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .model import CATEGORIES, MatchingProblem
from .scoring import COMPONENTS, MatchConfig, popcount

__all__ = [
    "EARTH_RADIUS_KM",
    "Candidates",
    "build_candidates",
    "great_circle_km",
    "score_pairs",
    "unit_vectors",
]

#: Mean Earth radius (IUGG), km.
EARTH_RADIUS_KM = 6371.0088
_BANDS = 4
_THREADS = 2


def unit_vectors(
    lat: npt.NDArray[np.float64], lon: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Points on the unit sphere for WGS84 degrees, shape ``(n, 3)``."""
    la, lo = np.radians(lat), np.radians(lon)
    return np.column_stack((np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)))


def great_circle_km(
    lat1: npt.NDArray[np.float64],
    lon1: npt.NDArray[np.float64],
    lat2: npt.NDArray[np.float64],
    lon2: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """Haversine great-circle distance in km (spherical Earth of radius :data:`EARTH_RADIUS_KM`)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    h = (
        np.sin((p2 - p1) / 2) ** 2
        + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    )
    out: npt.NDArray[np.float64] = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    return out


def _chord(km: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    out: npt.NDArray[np.float64] = 2 * np.sin(np.minimum(km / (2 * EARTH_RADIUS_KM), np.pi / 2))
    return out


@dataclass(frozen=True, eq=False)
class Candidates:
    """Feasible need-offer pairs as columns (one row per pair, sorted by need then offer).

    ``components`` has one column per name in :data:`~.scoring.COMPONENTS`; the ``fairness``
    column is 0 here (it depends on the assignment). ``score`` is the weighted sum of the other
    six components with normalised weights, i.e. a pair's score before its fairness share.
    """

    need: npt.NDArray[np.int64]
    offer: npt.NDArray[np.int64]
    volunteer: npt.NDArray[np.int64]
    distance_km: npt.NDArray[np.float64]
    overlap_s: npt.NDArray[np.float64]
    components: npt.NDArray[np.float64]
    score: npt.NDArray[np.float64]
    weights: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.need.shape[0])

    def pair_index(self) -> dict[tuple[int, int], int]:
        """Map ``(need, offer)`` positions to the candidate row."""
        return {
            (int(a), int(b)): k for k, (a, b) in enumerate(zip(self.need, self.offer, strict=True))
        }


def _overlap(
    problem: MatchingProblem, need: npt.NDArray[np.int64], offer: npt.NDArray[np.int64]
) -> npt.NDArray[np.float64]:
    """Seconds of overlap between each need's window and its offer's (merged) windows."""
    ns, ne = problem.need_start[need], problem.need_end[need]
    out = ne - ns  # offers without windows are available any time
    cnt = problem.win_ptr[offer + 1] - problem.win_ptr[offer]
    has = cnt > 0
    if has.any():
        rows = np.flatnonzero(has)
        c = cnt[rows]
        pos = np.repeat(np.arange(rows.shape[0]), c)
        w = np.repeat(problem.win_ptr[offer[rows]] - (np.cumsum(c) - c), c) + np.arange(
            pos.shape[0]
        )
        r = rows[pos]
        ov = np.minimum(ne[r], problem.win_end[w]) - np.maximum(ns[r], problem.win_start[w])
        out = out.copy()
        out[rows] = np.bincount(pos, weights=np.maximum(ov, 0.0), minlength=rows.shape[0])
    result: npt.NDArray[np.float64] = out
    return result


_Pairs = tuple[
    npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float64]
]


def _join(parts: list[_Pairs]) -> _Pairs:
    if not parts:
        return (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0))
    return (
        np.concatenate([p[0] for p in parts]).astype(np.int64),
        np.concatenate([p[1] for p in parts]).astype(np.int64),
        np.concatenate([p[2] for p in parts]),
        np.concatenate([p[3] for p in parts]),
    )


def _filter(
    problem: MatchingProblem,
    config: MatchConfig,
    need: npt.NDArray[np.int64],
    offer: npt.NDArray[np.int64],
    chord: npt.NDArray[np.float64],
) -> _Pairs:
    """Apply the pairwise hard constraints to pairs already within distance and category."""
    vol = problem.offer_vol[offer]
    shares_lang = (problem.need_lang[need] & problem.offer_lang[offer]).any(axis=1)
    keep = ~(problem.need_lang_required[need] & ~shares_lang)
    keep &= problem.need_requester[need] != vol
    if config.require_accessibility:
        keep &= ~((problem.need_access[need] & ~problem.offer_skills[offer]).any(axis=1))
    need, offer, chord = need[keep], offer[keep], chord[keep]
    overlap = _overlap(problem, need, offer)
    keep = overlap > 0
    return need[keep], offer[keep], chord[keep], overlap[keep]


def build_candidates(problem: MatchingProblem, config: MatchConfig | None = None) -> Candidates:
    """Generate the feasible need-offer pairs of ``problem`` and their score components.

    Parameters
    ----------
    problem : MatchingProblem
        From :func:`~.model.prepare`.
    config : MatchConfig, optional
        Weights and hard-constraint settings.

    Returns
    -------
    Candidates
        One row per pair satisfying every hard constraint (module docstring).
    """
    # imported here: Candidates, great_circle_km and score_pairs need no SciPy
    from scipy.spatial import cKDTree

    config = config or MatchConfig()
    sensitive = config.sensitive_mask()
    need_xyz = unit_vectors(problem.need_lat, problem.need_lon)
    offer_xyz = unit_vectors(problem.offer_lat, problem.offer_lon)
    offer_chord = _chord(problem.offer_maxkm)
    live_offer = (problem.offer_capacity > 0) & (problem.vol_remaining[problem.offer_vol] > 0)

    def category(k: int) -> _Pairs:
        needs_k = np.flatnonzero(problem.need_cat == k)
        offers_k = np.flatnonzero(((problem.offer_cats >> k) & 1).astype(bool) & live_offer)
        if (sensitive >> k) & 1:
            offers_k = offers_k[problem.offer_vetted[offers_k]]
        parts: list[_Pairs] = []
        if needs_k.size and offers_k.size:
            t_need = cKDTree(need_xyz[needs_k])
            # offers in radius bands, so each band's query overshoots its members' radii little
            by_radius = offers_k[np.argsort(offer_chord[offers_k], kind="stable")]
            for band in np.array_split(by_radius, min(_BANDS, by_radius.shape[0])):
                pairs = cKDTree(offer_xyz[band]).sparse_distance_matrix(
                    t_need, float(offer_chord[band[-1]]), output_type="ndarray"
                )
                o = band[pairs["i"]]
                keep = pairs["v"] <= offer_chord[o]
                parts.append(
                    _filter(problem, config, needs_k[pairs["j"][keep]], o[keep], pairs["v"][keep])
                )
        return _join(parts)

    # categories are independent: two threads (the kd-tree and numpy release the GIL)
    with ThreadPoolExecutor(max_workers=_THREADS) as pool:
        need, offer, chord, overlap = _join(list(pool.map(category, range(len(CATEGORIES)))))
    order = np.argsort(need * max(len(problem.offers), 1) + offer, kind="stable")
    need, offer, chord, overlap = need[order], offer[order], chord[order], overlap[order]

    dist = 2 * EARTH_RADIUS_KM * np.arcsin(np.clip(chord / 2, 0.0, 1.0))
    return score_pairs(problem, need, offer, config, distance_km=dist, overlap_s=overlap)


def score_pairs(
    problem: MatchingProblem,
    need: npt.NDArray[np.int64],
    offer: npt.NDArray[np.int64],
    config: MatchConfig | None = None,
    *,
    distance_km: npt.NDArray[np.float64] | None = None,
    overlap_s: npt.NDArray[np.float64] | None = None,
) -> Candidates:
    """Score components of given need-offer pairs, without checking any hard constraint.

    Used for candidates and for pairs a dispatcher forces (which may break a hard constraint;
    their distance component is then 0 beyond the offer's limit, their window component 0 without
    overlap). Parameters are positions into ``problem``; distances and overlaps are computed when
    not given.
    """
    config = config or MatchConfig()
    weights = config.weights.normalised()
    if distance_km is None:
        distance_km = great_circle_km(
            problem.need_lat[need],
            problem.need_lon[need],
            problem.offer_lat[offer],
            problem.offer_lon[offer],
        )
    if overlap_s is None:
        overlap_s = _overlap(problem, need, offer)
    comp = np.zeros((need.shape[0], len(COMPONENTS)))
    comp[:, 0] = np.clip(1.0 - distance_km / problem.offer_maxkm[offer], 0.0, 1.0)
    comp[:, 1] = 1.0
    wants = np.asarray((problem.need_skills | problem.need_access).any(axis=1), dtype=bool)
    sel = np.flatnonzero(wants[need])
    if sel.size:
        wanted = problem.need_skills[need[sel]] | problem.need_access[need[sel]]
        n_cov = popcount(wanted & problem.offer_skills[offer[sel]])
        comp[sel, 1] = n_cov / popcount(wanted)
    shares_lang = (problem.need_lang[need] & problem.offer_lang[offer]).any(axis=1)
    comp[:, 2] = np.where(problem.need_lang[need].any(axis=1), shares_lang, 1.0)
    comp[:, 3] = np.clip(overlap_s / (problem.need_end[need] - problem.need_start[need]), 0.0, 1.0)
    comp[:, 4] = problem.offer_vetted[offer]
    comp[:, 5] = (problem.need_urgency[need] - 1) / 3.0
    score = comp[:, :6] @ weights[:6]
    return Candidates(
        need=need,
        offer=offer,
        volunteer=problem.offer_vol[offer],
        distance_km=distance_km,
        overlap_s=overlap_s,
        components=comp,
        score=score,
        weights=weights,
    )
