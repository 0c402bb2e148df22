"""Fixtures of the survey-wave tests: simulated BSCS responses and a wave in organisation A."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from commonweal.analytics.surveys.simulate import simulate_factor_data, to_likert
from commonweal.db.engine import transaction
from commonweal.surveys import service as svc
from commonweal.surveys.schemas import SurveyCreate

BSCS_ITEMS = [f"bscs_{i}" for i in range(1, 9)]


def simulated_bscs(n: int = 300, seed: int = 7) -> pl.DataFrame:
    """BSCS-shaped respondents: 4 correlated factors x 2 items, cut into 1..5 answers, with a
    respondent key and a ``site`` attribute."""
    lam = np.zeros((8, 4))
    for f in range(4):
        lam[2 * f, f], lam[2 * f + 1, f] = 1.0, 0.8
    phi = np.full((4, 4), 0.4) + np.eye(4) * 0.6
    raw = simulate_factor_data(lam, phi, [0.5] * 8, n, names=BSCS_ITEMS, seed=seed)
    items = to_likert(raw, 5, low=1)
    return items.with_columns(
        pl.Series("respondent", [f"r{i:04d}" for i in range(n)]),
        pl.Series("site", ["north" if i % 2 else "south" for i in range(n)]),
    ).select(["respondent", "site", *BSCS_ITEMS])


def make_wave(world, *, instrument: str = "bscs", anonymous: bool = False,
              org: str = "a") -> int:
    with transaction(world.factory) as s:
        w = svc.create_survey(
            s, organisation_id=getattr(world, f"org_{org}"),
            community_id=getattr(world, f"community_{org}"),
            data=SurveyCreate(title=f"Belonging {org.upper()} spring", instrument_id=instrument,
                              anonymous=anonymous))
        return w.id


def import_frame(world, survey_id: int, frame: pl.DataFrame, tmp_path: Path, **kw):
    path = tmp_path / "responses.csv"
    frame.write_csv(path)
    with transaction(world.factory) as s:
        return svc.import_responses(s, organisation_id=world.org_a, survey_id=survey_id,
                                    path=path, **kw)


@pytest.fixture
def sqlite_world(sqlite_db):
    """``world`` on SQLite only: for page tests (the services below are tested on both)."""
    from tests.helpers import build_world

    return build_world(sqlite_db)


@pytest.fixture
def bscs_frame() -> pl.DataFrame:
    return simulated_bscs()
