"""Small random matching instances for the matching tests (deterministic in the seed)."""

from __future__ import annotations

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
