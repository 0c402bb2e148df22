"""Structural vs felt: places where structural investment is high but felt belonging is low.

Joins an index or indicator table (structural capacity, e.g. a BRIC-style community-capital score)
with survey aggregates per place (e.g. the mean Influence and Needs Fulfillment subscales of the
Brief Sense of Community Scale, Peterson, Speer & McMillan 2008, J. Community Psychol. 36(1):61-73)
and puts both on the same percent-rank scale over the places present in both. A place is flagged
when its structural percent rank is at least ``structural_high`` and its felt percent rank at most
``felt_low``. The gap is ``structural_pct - felt_pct``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from commonweal.analytics.indicators.normalise import percent_rank
from commonweal.errors import InputError, Problem

__all__ = ["GapResult", "structural_felt_gap"]


@dataclass(frozen=True)
class GapResult:
    """Per place: structural and felt scores, their percent ranks, the gap and the flag."""

    unit: str
    frame: pl.DataFrame
    structural_high: float
    felt_low: float
    excluded: tuple[str, ...]

    def flagged(self) -> pl.DataFrame:
        return self.frame.filter(pl.col("flag")).sort("gap", descending=True)

    def to_dict(self) -> dict[str, object]:
        return {
            "unit": self.unit,
            "n_places": self.frame.height,
            "structural_high": self.structural_high,
            "felt_low": self.felt_low,
            "n_flagged": int(self.frame["flag"].sum()),
            "flagged": self.flagged().to_dicts(),
            "excluded_small_samples": list(self.excluded),
        }


def structural_felt_gap(
    structural: pl.DataFrame,
    felt: pl.DataFrame,
    *,
    on: str,
    structural_column: str,
    felt_columns: Sequence[str],
    felt_on: str | None = None,
    structural_direction: int = 1,
    structural_high: float = 0.75,
    felt_low: float = 0.25,
    n_column: str | None = None,
    min_respondents: int = 0,
    sentinel: float | None = -999,
) -> GapResult:
    """Flag places with high structural investment and low felt belonging.

    Parameters
    ----------
    structural
        One row per place: ``on`` and ``structural_column`` (use ``structural_direction=-1`` when
        higher means *less* investment, e.g. a vulnerability index).
    felt
        Survey aggregates per place: ``felt_on`` (default ``on``) and ``felt_columns`` (means,
        higher = more belonging); optionally ``n_column`` with the respondent count.
    structural_high, felt_low
        Percent-rank cut-offs (0-1) for "high" and "low".
    min_respondents
        Places with fewer respondents are left out (and listed in ``excluded``).

    Returns
    -------
    GapResult
        ``felt_pct`` is the percent rank of the mean of the felt columns' percent ranks.
    """
    felt_on = felt_on or on
    problems = [
        Problem(f"column {c!r} is missing from the structural table", field=c)
        for c in (on, structural_column)
        if c not in structural.columns
    ]
    problems += [
        Problem(f"column {c!r} is missing from the survey table", field=c)
        for c in (felt_on, *felt_columns, *([n_column] if n_column else []))
        if c not in felt.columns
    ]
    if problems:
        raise InputError("cannot join structural and felt measures", problems)
    if not felt_columns:
        raise InputError("give at least one felt (survey) column")
    s = structural.select(
        pl.col(on).cast(pl.Utf8).alias(on),
        pl.col(structural_column).cast(pl.Float64).alias("structural"),
    )
    if sentinel is not None:
        s = s.with_columns(
            pl.when(pl.col("structural") == sentinel)
            .then(None)
            .otherwise(pl.col("structural"))
            .alias("structural")
        )
    f = felt.select(
        pl.col(felt_on).cast(pl.Utf8).alias(on),
        *[pl.col(c).cast(pl.Float64) for c in felt_columns],
        *([pl.col(n_column).cast(pl.Float64).alias("n_respondents")] if n_column else []),
    )
    excluded: tuple[str, ...] = ()
    if n_column and min_respondents:
        small = f.filter(pl.col("n_respondents") < min_respondents)
        excluded = tuple(small[on].to_list())
        f = f.filter(pl.col("n_respondents") >= min_respondents)
    j = s.join(f, on=on, how="inner").drop_nulls(["structural", *felt_columns])
    if j.height < 2:
        raise InputError(f"only {j.height} place(s) have both a structural score and survey means")
    st = j["structural"].to_numpy().astype(np.float64)
    s_pct = percent_rank(st if structural_direction >= 0 else -st)
    f_parts = np.column_stack(
        [percent_rank(j[c].to_numpy().astype(np.float64)) for c in felt_columns]
    )
    f_pct = percent_rank(f_parts.mean(axis=1))
    out = j.with_columns(
        pl.Series("structural_pct", np.round(s_pct, 6)),
        pl.Series("felt_pct", np.round(f_pct, 6)),
        pl.Series("gap", np.round(s_pct - f_pct, 6)),
        pl.Series("flag", (s_pct >= structural_high) & (f_pct <= felt_low)),
    )
    return GapResult(on, out, structural_high, felt_low, excluded)
