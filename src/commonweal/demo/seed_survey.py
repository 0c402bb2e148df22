"""A demo survey wave: the Brief Sense of Community Scale answered by about 200 members.

Answers come from a latent-factor model, then go through the ordinary import
(:func:`commonweal.surveys.service.import_responses`, from a CSV file) like any export would:

* a general sense of community ``g`` per respondent, higher for people with more support ties
  (``g = 0.4 x + sqrt(1 - 0.16) z`` with ``x`` the standardised ``log(1 + contacts)``);
* the four BSCS dimensions (needs fulfilment, membership, influence, emotional connection) load
  0.75 on ``g`` (inter-factor correlations about 0.56, near the 0.5-0.8 reported by Peterson, Speer
  & McMillan 2008);
* each item ``y = l f + sqrt(1 - l^2) e`` with loadings 0.72-0.90 (influence items the
  weakest, as in the validation studies), shown on the 1-5 agreement scale as
  ``clip(round(3.4 + shift + 1.1 y), 1, 5)`` (the rounding lowers the loadings by about 0.1:
  standardised CFA loadings come out near 0.65-0.90, subscale alphas near 0.65-0.82);
* 4 % of respondents skip one item.

Responses are linked to the member only where research consent is in force; the others are stored
unlinked. A respondent attribute ``age_band`` (``18-49``, ``50+``) lets the report's invariance
section be tried.
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from commonweal.demo._people import Person
from commonweal.surveys import service as surveys
from commonweal.surveys.models import SurveyStatus
from commonweal.surveys.schemas import SurveyCreate

__all__ = ["SURVEY_TITLE", "seed_survey"]

SURVEY_TITLE = "Sense of community (demo wave)"
INSTRUMENT = "bscs"
RESPONDENTS = 200
# item -> (dimension, loading, shift of the item's mean on the 1-5 scale)
ITEMS: dict[str, tuple[int, float, float]] = {
    "bscs_1": (0, 0.88, 0.1), "bscs_2": (0, 0.85, 0.0),
    "bscs_3": (1, 0.90, 0.2), "bscs_4": (1, 0.88, 0.3),
    "bscs_5": (2, 0.78, -0.5), "bscs_6": (2, 0.72, -0.3),
    "bscs_7": (3, 0.90, 0.0), "bscs_8": (3, 0.88, 0.1),
}
G_ON_SUPPORT = 0.4
DIMENSION_ON_G = 0.75
SKIP_SHARE = 0.04


def simulate_answers(people: list[Person], rng: np.random.Generator) -> np.ndarray:
    """Answers (respondents x 8 items, 1-5, NaN = skipped) for ``people`` from the model above."""
    n = len(people)
    x = np.log1p(np.array([p.degree for p in people], dtype=float))
    x = (x - x.mean()) / (x.std() or 1.0)
    g = G_ON_SUPPORT * x + np.sqrt(1 - G_ON_SUPPORT**2) * rng.standard_normal(n)
    f = DIMENSION_ON_G * g[:, None] + np.sqrt(1 - DIMENSION_ON_G**2) * rng.standard_normal((n, 4))
    out = np.empty((n, len(ITEMS)))
    for j, (dim, load, shift) in enumerate(ITEMS.values()):
        y = load * f[:, dim] + np.sqrt(1 - load**2) * rng.standard_normal(n)
        out[:, j] = np.clip(np.rint(3.4 + shift + 1.1 * y), 1, 5)
    skip = np.flatnonzero(rng.random(n) < SKIP_SHARE)
    out[skip, rng.integers(0, len(ITEMS), skip.size)] = np.nan
    return out


def seed_survey(session: Session, *, organisation_id: int, community_id: int,
                people: list[Person], rng: np.random.Generator, today: dt.date
                ) -> dict[str, Any]:
    """Create the closed wave (opened six weeks before ``today``) and import its responses."""
    adults = [p for p in people if p.age is not None and p.age >= 18]
    k = min(RESPONDENTS, len(adults))
    chosen = [adults[i] for i in sorted(rng.choice(len(adults), size=k, replace=False))]
    answers = simulate_answers(chosen, rng)
    opens = today - dt.timedelta(days=42)
    wave = surveys.create_survey(
        session, organisation_id=organisation_id, community_id=community_id,
        data=SurveyCreate(title=SURVEY_TITLE, instrument_id=INSTRUMENT, opens_on=opens,
                          closes_on=opens + dt.timedelta(days=28), status=SurveyStatus.closed))
    start = dt.datetime.combine(opens, dt.time(15, 0), tzinfo=dt.UTC)  # 9:00 in Calgary (MDT)
    offsets = np.sort(rng.uniform(0, 27 * 86400 + 12 * 3600, size=k))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bscs-demo-wave.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["respondent", "member", "submitted_at", "age_band", *ITEMS])
            for i, (p, row) in enumerate(zip(chosen, answers, strict=True)):
                when = start + dt.timedelta(seconds=float(offsets[i]))
                w.writerow([f"r{i + 1:03d}", p.external_id if p.research else "",
                            when.isoformat().replace("+00:00", "Z"),
                            "18-49" if (p.age or 0) < 50 else "50+",
                            *("" if np.isnan(v) else int(v) for v in row)])
        report = surveys.import_responses(session, organisation_id=organisation_id,
                                          survey_id=wave.id, path=path,
                                          label="demo bscs-demo-wave.csv")
    return {"survey_id": wave.id, "responses": report.responses,
            "linked_to_members": report.linked_to_members, "scores": report.scores}
