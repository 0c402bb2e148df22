"""Normalisation of one indicator (a 1-D array, NaN = missing), ranking with tie rules, rounding.

Every function takes a float array in which NaN marks a missing value, ignores the missing values
when it computes statistics (minimum, mean, the number of ranked units N) and returns NaN where the
input was missing. ``direction = -1`` turns an indicator around so that higher always means "more"
of what the index measures: bounded methods (min-max, percent rank, percentile, goalposts,
fraction of max) return ``1 - f(x)``; unbounded ones (z-score, rank, distance to reference) use
``f(-x)`` or its analogue. ``1 - percent_rank(x)`` is exactly the rule CDC uses for per-capita
income in the SVI (rank descending, tied units take the highest position).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from commonweal.errors import AnalysisError

__all__ = [
    "METHODS",
    "TIE_RULES",
    "Normalisation",
    "normalise",
    "percent_rank",
    "percentile",
    "rank",
    "round_values",
]

FloatArray = NDArray[np.float64]

TIE_RULES = ("min", "max", "average", "ordinal")
METHODS = (
    "none",
    "minmax",
    "zscore",
    "rank",
    "percent_rank",
    "percentile",
    "goalposts",
    "dist_to_ref",
    "fraction_of_max",
)


@dataclass(frozen=True, slots=True)
class Normalisation:
    """How one indicator (or node score) is put on a common scale.

    Parameters
    ----------
    method
        One of :data:`METHODS`.
    ties
        Tie rule for ``rank`` and ``percent_rank``: ``min`` (SQL ``PERCENT_RANK``, CDC SVI),
        ``max``, ``average`` or ``ordinal`` (first come first served).
    kind
        For ``percentile``: ``weak`` (share of values <= x), ``strict`` (share < x) or ``mean``
        (their average), the conventions of ``scipy.stats.percentileofscore``; returned on 0-1.
    lower, upper
        Goalposts (``goalposts``) or the target range of ``minmax`` (default 0 and 1).
    clip
        Clip goalpost scores to [0, 1].
    reference
        For ``dist_to_ref``: the reference value (the score is ``x / reference``).
    scale
        Multiply the result (for example 100 for scores on 0-100).
    """

    method: str = "none"
    ties: str = "min"
    kind: str = "weak"
    lower: float | None = None
    upper: float | None = None
    clip: bool = True
    reference: float | None = None
    scale: float = 1.0

    def to_dict(self) -> dict[str, object]:
        return {
            "method": self.method,
            "ties": self.ties,
            "kind": self.kind,
            "lower": self.lower,
            "upper": self.upper,
            "clip": self.clip,
            "reference": self.reference,
            "scale": self.scale,
        }


def rank(x: FloatArray, ties: str = "min") -> FloatArray:
    """Rank of each value among the non-missing values, 1 = smallest.

    Ties: ``min`` gives every member of a run of equal values the smallest of their ranks,
    ``max`` the largest, ``average`` the mean, ``ordinal`` the order of appearance.
    Missing values (NaN) get NaN.
    """
    x = np.asarray(x, dtype=np.float64)
    out = np.full(x.shape, np.nan)
    ok = ~np.isnan(x)
    v = x[ok]
    n = v.size
    if n == 0:
        return out
    order = np.argsort(v, kind="stable")
    s = v[order]
    pos = np.arange(1, n + 1, dtype=np.float64)
    if ties == "ordinal":
        r_sorted = pos
    else:
        new_run = np.empty(n, dtype=bool)
        new_run[0] = True
        np.not_equal(s[1:], s[:-1], out=new_run[1:])
        run_id = np.cumsum(new_run) - 1
        starts = pos[new_run]
        ends = np.append(starts[1:] - 1, n)
        if ties == "min":
            r_sorted = starts[run_id]
        elif ties == "max":
            r_sorted = ends[run_id]
        elif ties == "average":
            r_sorted = ((starts + ends) / 2.0)[run_id]
        else:
            raise AnalysisError(f"unknown tie rule {ties!r}; use one of {', '.join(TIE_RULES)}")
    r = np.empty(n)
    r[order] = r_sorted
    out[ok] = r
    return out


def percent_rank(x: FloatArray, ties: str = "min") -> FloatArray:
    """Percent rank ``(r - 1) / (N - 1)`` with N the number of non-missing values.

    With ``ties="min"`` this is SQL ``PERCENT_RANK()`` / Excel ``PERCENTRANK.INC`` and the CDC/ATSDR
    SVI rule ("all sequences of ties are assigned the smallest of the corresponding ranks",
    SVI 2000 documentation). A single non-missing value gets 0.
    """
    r = rank(x, ties)
    n = int(np.count_nonzero(~np.isnan(r)))
    if n <= 1:
        return np.where(np.isnan(r), np.nan, 0.0)
    return (r - 1.0) / (n - 1.0)


def percentile(x: FloatArray, kind: str = "weak") -> FloatArray:
    """Percentile score on 0-1: ``weak`` = share of values <= x, ``strict`` = share < x, ``mean``.

    Same conventions as ``scipy.stats.percentileofscore`` (divided by 100).
    """
    x = np.asarray(x, dtype=np.float64)
    ok = ~np.isnan(x)
    v = np.sort(x[ok])
    n = v.size
    out = np.full(x.shape, np.nan)
    if n == 0:
        return out
    le = np.searchsorted(v, x[ok], side="right").astype(np.float64)
    lt = np.searchsorted(v, x[ok], side="left").astype(np.float64)
    if kind == "weak":
        out[ok] = le / n
    elif kind == "strict":
        out[ok] = lt / n
    elif kind == "mean":
        out[ok] = (le + lt) / (2.0 * n)
    else:
        raise AnalysisError(f"unknown percentile kind {kind!r}; use weak, strict or mean")
    return out


def _minmax(x: FloatArray, lo: float, hi: float) -> FloatArray:
    with np.errstate(all="ignore"):
        mn, mx = np.nanmin(x), np.nanmax(x)
    if not np.isfinite(mn):
        return x.copy()
    if mx == mn:
        return np.where(np.isnan(x), np.nan, (lo + hi) / 2.0)
    return lo + (x - mn) / (mx - mn) * (hi - lo)


def _zscore(x: FloatArray) -> FloatArray:
    ok = ~np.isnan(x)
    if np.count_nonzero(ok) < 2:
        return np.where(ok, 0.0, np.nan)
    sd = float(np.nanstd(x, ddof=1))
    mean = float(np.nanmean(x))
    if sd == 0.0:
        return np.where(ok, 0.0, np.nan)
    return (x - mean) / sd


def normalise(x: FloatArray, spec: Normalisation, direction: int = 1) -> FloatArray:
    """Normalise one indicator.

    Formulas (x over non-missing units; ``d`` = direction):

    - ``minmax``: ``lo + (x - min) / (max - min) * (hi - lo)``; d = -1 gives ``hi + lo - f``.
    - ``zscore``: ``d * (x - mean) / sd`` (sd with ddof = 1).
    - ``rank``: rank of ``d * x`` (1 = lowest) under the tie rule.
    - ``percent_rank``: ``(r - 1) / (N - 1)``; d = -1 gives ``1 - f`` (CDC SVI per-capita income).
    - ``percentile``: share of values <= x (``weak``); d = -1 gives ``1 - f``.
    - ``goalposts``: ``(x - lower) / (upper - lower)`` clipped to [0, 1]; d = -1 gives ``1 - f``.
    - ``dist_to_ref``: ``x / reference``; d = -1 gives ``reference / x``.
    - ``fraction_of_max``: ``x / max``; d = -1 gives ``1 - f``.

    References: OECD/JRC (2008) *Handbook on Constructing Composite Indicators*, section 5;
    Becker et al. (2022) COINr, JOSS 7(78) 4567 (same method names).
    """
    x = np.asarray(x, dtype=np.float64)
    m = spec.method
    if m == "none":
        out = x * (1.0 if direction >= 0 else -1.0)
    elif m == "minmax":
        lo = 0.0 if spec.lower is None else spec.lower
        hi = 1.0 if spec.upper is None else spec.upper
        out = _minmax(x, lo, hi)
        if direction < 0:
            out = hi + lo - out
    elif m == "zscore":
        out = _zscore(x) * (1.0 if direction >= 0 else -1.0)
    elif m == "rank":
        out = rank(x if direction >= 0 else -x, spec.ties)
    elif m in ("percent_rank", "percentile", "fraction_of_max"):
        if m == "percent_rank":
            out = percent_rank(x, spec.ties)
        elif m == "percentile":
            out = percentile(x, spec.kind)
        else:
            with np.errstate(all="ignore"):
                mx = np.nanmax(x) if np.any(~np.isnan(x)) else np.nan
            out = x / mx if mx else np.full(x.shape, np.nan)
        if direction < 0:
            out = 1.0 - out
    elif m == "goalposts":
        if spec.lower is None or spec.upper is None or spec.upper == spec.lower:
            raise AnalysisError("goalposts need distinct 'lower' and 'upper' values")
        out = (x - spec.lower) / (spec.upper - spec.lower)
        if spec.clip:
            out = np.clip(out, 0.0, 1.0)
        if direction < 0:
            out = 1.0 - out
    elif m == "dist_to_ref":
        if spec.reference is None or spec.reference == 0:
            raise AnalysisError("dist_to_ref needs a non-zero 'reference' value")
        with np.errstate(divide="ignore", invalid="ignore"):
            out = x / spec.reference if direction >= 0 else spec.reference / x
    else:
        raise AnalysisError(f"unknown normalisation {m!r}; use one of {', '.join(METHODS)}")
    if spec.scale != 1.0:
        out = out * spec.scale
    return np.asarray(out, dtype=np.float64)


def round_values(x: FloatArray, digits: int | None, mode: str = "half_up") -> FloatArray:
    """Round to ``digits`` decimals: ``half_up`` (away from zero, as SAS/Excel ROUND) or ``half_even``.

    ``half_up`` scales by 10**digits and adds a guard of 1e-9 so that binary noise such as
    ``0.12345 -> 0.1234499999`` does not decide the result. ``digits=None`` returns ``x`` unchanged.
    """
    if digits is None:
        return x
    if mode == "half_even":
        return np.round(x, digits)
    f = 10.0**digits
    with np.errstate(invalid="ignore"):
        return np.sign(x) * np.floor(np.abs(x) * f + 0.5 + 1e-9) / f
