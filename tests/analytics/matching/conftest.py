"""Small random matching instances for the matching tests (deterministic in the seed)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from commonweal.analytics.matching import Need, Offer, VolunteerState

CENTRE = (52.52, 13.405)  # Berlin
H = 3600.0


def random_instance(
    seed: int,
    n_needs: int | None = None,
    n_offers: int | None = None,
    cats: tuple[str, ...] = ("groceries", "prescriptions", "transport"),
    spread_km: float = 3.0,
):
    """Needs, offers and volunteer states of a small random neighbourhood."""
    rng = np.random.default_rng(seed)
    n_needs = n_needs if n_needs is not None else int(rng.integers(2, 6))
    n_offers = n_offers if n_offers is not None else int(rng.integers(2, 5))
    n_vol = max(1, int(rng.integers(1, n_offers + 1)))
    deg = spread_km / 111.2

    def point():
        return (
            float(CENTRE[0] + rng.uniform(-deg, deg)),
            float(CENTRE[1] + rng.uniform(-deg, deg) / np.cos(np.radians(CENTRE[0]))),
        )

    needs = []
    for i in range(n_needs):
        lat, lon = point()
        start = float(rng.uniform(0, 20)) * H
        lang = str(rng.choice(["en", "es", "tr"]))
        needs.append(
            Need(
                f"n{i}",
                str(rng.choice(cats)),
                lat,
                lon,
                start,
                start + float(rng.uniform(1, 6)) * H,
                urgency=int(rng.integers(1, 5)),
                quantity=int(rng.choice([1, 1, 2])),
                languages=(lang,),
                language_required=bool(rng.random() < 0.2),
                accessibility=("wheelchair",) if rng.random() < 0.15 else (),
                skills=("driving",) if rng.random() < 0.3 else (),
            )
        )
    offers = []
    for j in range(n_offers):
        lat, lon = point()
        k = int(rng.integers(1, len(cats) + 1))
        wins = []
        for _ in range(int(rng.integers(0, 3))):
            s = float(rng.uniform(0, 22)) * H
            wins.append((s, s + float(rng.uniform(1, 8)) * H))
        skills = tuple(t for t, p in (("wheelchair", 0.3), ("driving", 0.5)) if rng.random() < p)
        offers.append(
            Offer(
                f"o{j}",
                f"v{j % n_vol}",
                tuple(rng.choice(cats, size=k, replace=False).tolist()),
                lat,
                lon,
                max_distance_km=float(rng.uniform(1.5, 6.0)),
                capacity=int(rng.integers(1, 3)),
                windows=tuple(wins),
                languages=tuple(
                    rng.choice(
                        ["en", "es", "tr"], size=int(rng.integers(1, 3)), replace=False
                    ).tolist()
                ),
                vetted=bool(rng.random() < 0.6),
                skills=skills,
            )
        )
    volunteers = []
    for v in range(n_vol):
        cap = int(rng.integers(1, 5))
        volunteers.append(VolunteerState(f"v{v}", cap, int(rng.integers(0, cap))))
    return needs, offers, volunteers


@pytest.fixture
def make_instance():
    return random_instance


def objective(problem, cands, rows):
    """Total score written out independently: pair scores + w_f * sum_v sum_j (1 - (j-1)/cap_v)."""
    w_fair = cands.weights[6]
    total = float(sum(cands.score[r] for r in rows))
    per_vol: dict[int, int] = {}
    for r in rows:
        v = int(cands.volunteer[r])
        per_vol[v] = per_vol.get(v, 0) + 1
    for v, n in per_vol.items():
        t, cap = int(problem.vol_taken[v]), int(problem.vol_cap[v])
        total += w_fair * sum(1 - (j - 1) / cap for j in range(t + 1, t + n + 1))
    return total


def brute_force(problem, cands, config, fixed=frozenset()):
    """Best (key, rows) over all feasible subsets of candidate rows, by depth-first enumeration."""
    need_left = problem.need_quantity.astype(int).tolist()
    offer_left = problem.offer_capacity.astype(int).tolist()
    vol_left = np.maximum(problem.vol_cap - problem.vol_taken, 0).astype(int).tolist()
    pair_used: set[tuple[int, int]] = set()  # a need's volunteers are distinct people
    urgent = problem.need_urgency >= config.urgent_level
    best = [(-math.inf, -math.inf), ()]
    chosen: list[int] = []

    def key(rows):
        score = objective(problem, cands, rows)
        if config.objective == "urgent_first":
            return (sum(bool(urgent[cands.need[r]]) for r in rows), score)
        return (0, score)

    def dfs(e):
        if e == len(cands):
            k = key(chosen)
            if k > best[0]:
                best[0], best[1] = k, tuple(chosen)
            return
        n, o, v = int(cands.need[e]), int(cands.offer[e]), int(cands.volunteer[e])
        if need_left[n] and offer_left[o] and vol_left[v] and (n, v) not in pair_used:
            pair_used.add((n, v))
            need_left[n] -= 1
            offer_left[o] -= 1
            vol_left[v] -= 1
            chosen.append(e)
            dfs(e + 1)
            chosen.pop()
            pair_used.discard((n, v))
            need_left[n] += 1
            offer_left[o] += 1
            vol_left[v] += 1
        if e not in fixed:
            dfs(e + 1)

    dfs(0)
    return best[0], best[1]


@pytest.fixture
def oracle():
    """Independent objective and brute-force optimum used as the reference in tests."""
    return SimpleNamespace(objective=objective, brute_force=brute_force)
