"""Recompute a published index file with a spec and report every mismatch by unit and column.

Published indices do contain errors (CDC's first SVI 2020 release ranked the count ``E_HBURD``
instead of the percentage ``EP_HBURD``; CDC corrected it on 12/22/2022). ``verify`` takes the
published file, recomputes every output column the spec declares from the file's own input
columns, and lists each cell that differs by more than ``tolerance``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from numpy.typing import NDArray

from commonweal.analytics.indicators.engine import compute
from commonweal.analytics.indicators.spec import IndexSpec
from commonweal.errors import InputError, Problem

__all__ = ["ColumnCheck", "Mismatch", "VerifyReport", "verify"]


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One published cell that the spec does not reproduce."""

    unit: str
    column: str
    published: float | None
    recomputed: float | None

    def to_dict(self) -> dict[str, object]:
        diff = (
            None
            if self.published is None or self.recomputed is None
            else round(self.recomputed - self.published, 10)
        )
        return {
            "unit": self.unit,
            "column": self.column,
            "published": self.published,
            "recomputed": self.recomputed,
            "difference": diff,
        }


@dataclass(frozen=True, slots=True)
class ColumnCheck:
    """How many units of one column were compared and how many matched."""

    column: str
    compared: int
    matched: int

    @property
    def share(self) -> float:
        return self.matched / self.compared if self.compared else 1.0

    def to_dict(self) -> dict[str, object]:
        return {
            "column": self.column,
            "compared": self.compared,
            "matched": self.matched,
            "share": round(self.share, 6),
        }


@dataclass(frozen=True)
class VerifyReport:
    """Result of :func:`verify`: per-column match counts and every mismatching cell."""

    spec_id: str
    unit: str
    n_units: int
    tolerance: float
    columns: tuple[ColumnCheck, ...]
    mismatches: tuple[Mismatch, ...]
    not_published: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when every compared cell matched."""
        return not self.mismatches

    def mismatch_frame(self) -> pl.DataFrame:
        rows = [m.to_dict() for m in self.mismatches]
        schema = {
            "unit": pl.Utf8,
            "column": pl.Utf8,
            "published": pl.Float64,
            "recomputed": pl.Float64,
            "difference": pl.Float64,
        }
        return pl.DataFrame(rows, schema=schema)

    def to_dict(self, max_mismatches: int | None = 1000) -> dict[str, object]:
        shown = self.mismatches if max_mismatches is None else self.mismatches[:max_mismatches]
        return {
            "spec": self.spec_id,
            "unit": self.unit,
            "n_units": self.n_units,
            "tolerance": self.tolerance,
            "ok": self.ok,
            "columns": [c.to_dict() for c in self.columns],
            "n_mismatches": len(self.mismatches),
            "mismatches": [m.to_dict() for m in shown],
            "not_published": list(self.not_published),
        }


def verify(
    spec: IndexSpec,
    published: pl.DataFrame,
    *,
    tolerance: float = 0.0,
    file: str | None = None,
) -> VerifyReport:
    """Recompute ``published`` with ``spec`` and compare every output column it contains.

    Parameters
    ----------
    spec
        The index specification the publisher claims to follow.
    published
        The published file: the spec's input columns (for the SVI the ``EP_*`` columns) and some
        or all of its output columns (``EPL_*``, ``SPL_*``, ``RPL_*``, ``F_*``).
    tolerance
        Largest absolute difference that still counts as a match (0 = equal at the published
        precision; a guard of 1e-9 absorbs binary noise).

    Returns
    -------
    VerifyReport
        One :class:`ColumnCheck` per compared column and one :class:`Mismatch` per differing
        cell, ordered by column then unit. A cell that is missing (sentinel or empty) on one side
        only is a mismatch.
    """
    outputs = [c for c in spec.output_columns if c in published.columns]
    if not outputs:
        raise InputError(
            f"the published file has none of the output columns of {spec.id!r}",
            [Problem(f"expected some of {', '.join(spec.output_columns[:6])}, ...", file=file)],
        )
    result = compute(spec, published, file=file)
    unit = spec.unit
    pub = published.select(
        pl.col(unit).cast(pl.Utf8).str.zfill(spec.unit_width or 0).alias(unit),
        *[
            pl.col(c).cast(pl.Utf8).str.strip_chars().cast(pl.Float64, strict=False).alias(c)
            for c in outputs
        ],
    )
    joined = result.frame.select(unit, *outputs).join(pub, on=unit, suffix="__pub", how="inner")
    units = joined[unit].to_list()
    sentinel = spec.output_sentinel
    checks: list[ColumnCheck] = []
    mism: list[Mismatch] = []

    def missing(v: NDArray[np.float64]) -> NDArray[np.bool_]:
        m: NDArray[np.bool_] = np.isnan(v)
        return m | (v == sentinel) if sentinel is not None else m

    for c in outputs:
        a = joined[c].cast(pl.Float64).fill_null(np.nan).to_numpy()
        b = joined[c + "__pub"].fill_null(np.nan).to_numpy()
        ma, mb = missing(a), missing(b)
        with np.errstate(invalid="ignore"):
            same = (ma & mb) | (~ma & ~mb & (np.abs(a - b) <= tolerance + 1e-9))
        checks.append(ColumnCheck(c, int(a.size), int(same.sum())))
        for k in np.flatnonzero(~same):
            mism.append(
                Mismatch(
                    unit=str(units[k]),
                    column=c,
                    published=None if mb[k] else float(b[k]),
                    recomputed=None if ma[k] else float(a[k]),
                )
            )
    return VerifyReport(
        spec_id=spec.id,
        unit=unit,
        n_units=joined.height,
        tolerance=tolerance,
        columns=tuple(checks),
        mismatches=tuple(mism),
        not_published=tuple(c for c in spec.output_columns if c not in outputs),
    )
