"""Imputation of missing indicator values and outlier treatment (winsorisation).

All functions take a float array with NaN for missing values and return a new array.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from commonweal.errors import AnalysisError

__all__ = [
    "IMPUTATION_METHODS",
    "TREATMENT_METHODS",
    "Imputation",
    "Treatment",
    "impute",
    "impute_panel",
    "treat",
]

FloatArray = NDArray[np.float64]

IMPUTATION_METHODS = (
    "none",
    "mean",
    "median",
    "group_mean",
    "group_median",
    "panel_linear",
    "panel_constant",
)
TREATMENT_METHODS = ("none", "quantile", "coinr")


@dataclass(frozen=True, slots=True)
class Imputation:
    """How missing values of one indicator are filled.

    ``mean``/``median`` use all units of the same period; ``group_mean``/``group_median`` use the
    units sharing the value of the ``group`` column (for example the state); ``panel_linear``
    interpolates linearly between a unit's own earlier and later periods (constant beyond the ends);
    ``panel_constant`` carries the nearest earlier value forward (else the next one back).
    """

    method: str = "none"
    group: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {"method": self.method, "group": self.group}


@dataclass(frozen=True, slots=True)
class Treatment:
    """Outlier treatment of one indicator before normalisation.

    ``quantile`` clips to the ``lower``/``upper`` quantiles. ``coinr`` follows COINr's
    ``Treat()`` default (Becker et al. 2022): while |skewness| > ``skew`` and kurtosis > ``kurtosis``,
    winsorise one more point at the side of the skew, at most ``winmax`` points.
    """

    method: str = "none"
    lower: float = 0.0
    upper: float = 1.0
    winmax: int = 5
    skew: float = 2.0
    kurtosis: float = 3.5

    def to_dict(self) -> dict[str, object]:
        return {
            "method": self.method,
            "lower": self.lower,
            "upper": self.upper,
            "winmax": self.winmax,
            "skew": self.skew,
            "kurtosis": self.kurtosis,
        }


def impute(
    x: FloatArray, spec: Imputation, groups: NDArray[np.object_] | None = None
) -> FloatArray:
    """Fill missing values within one period (panel methods are applied by :func:`impute_panel`)."""
    x = np.asarray(x, dtype=np.float64).copy()
    miss = np.isnan(x)
    m = spec.method
    if m in ("none", "panel_linear", "panel_constant") or not miss.any() or miss.all():
        return x
    if m in ("mean", "median"):
        fill = np.nanmean(x) if m == "mean" else np.nanmedian(x)
        x[miss] = fill
        return x
    if m in ("group_mean", "group_median"):
        if groups is None:
            raise AnalysisError(f"imputation {m!r} needs a 'group' column in the data")
        stat = np.nanmean if m == "group_mean" else np.nanmedian
        for g in np.unique(groups[miss]):
            in_g = groups == g
            vals = x[in_g & ~miss]
            if vals.size:
                x[in_g & miss] = stat(vals)
        return x
    raise AnalysisError(f"unknown imputation {m!r}; use one of {', '.join(IMPUTATION_METHODS)}")


def impute_panel(
    values: FloatArray, periods: FloatArray, units: NDArray[np.object_], method: str
) -> FloatArray:
    """Fill a unit's missing periods from its own other periods.

    ``values``, ``periods`` and ``units`` are aligned 1-D arrays (one row per unit-period).
    ``panel_linear`` interpolates linearly in the period value and holds the first/last observed
    value beyond the ends (a unit with a single observed period gets that value everywhere,
    COINr issue #63); ``panel_constant`` carries the last observation forward, then backward.
    Units with no observed period stay missing.
    """
    out = np.asarray(values, dtype=np.float64).copy()
    if method not in ("panel_linear", "panel_constant"):
        return out
    order = np.lexsort((periods, units))
    u_sorted = units[order]
    bounds = np.flatnonzero(np.r_[True, u_sorted[1:] != u_sorted[:-1], True])
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        idx = order[a:b]
        v = out[idx]
        ok = ~np.isnan(v)
        if ok.all() or not ok.any():
            continue
        t = periods[idx].astype(np.float64)
        if method == "panel_linear":
            v[~ok] = np.interp(t[~ok], t[ok], v[ok])
        else:
            last = np.where(ok, np.arange(v.size), -1)
            np.maximum.accumulate(last, out=last)
            first_ok = int(np.argmax(ok))
            fill_idx = np.where(last >= 0, last, first_ok)
            v = v[fill_idx]
        out[idx] = v
    return out


def _skew_kurt(v: FloatArray) -> tuple[float, float]:
    n = v.size
    if n < 4:
        return 0.0, 0.0
    d = v - v.mean()
    m2 = float(np.mean(d**2))
    if m2 == 0.0:
        return 0.0, 0.0
    skew = float(np.mean(d**3)) / m2**1.5
    kurt = float(np.mean(d**4)) / m2**2 - 3.0
    return skew, kurt


def treat(x: FloatArray, spec: Treatment) -> FloatArray:
    """Winsorise one indicator (see :class:`Treatment`); missing values stay missing."""
    x = np.asarray(x, dtype=np.float64).copy()
    ok = ~np.isnan(x)
    if spec.method == "none" or np.count_nonzero(ok) < 3:
        return x
    if spec.method == "quantile":
        lo, hi = np.nanquantile(x, [spec.lower, spec.upper])
        x[ok] = np.clip(x[ok], lo, hi)
        return x
    if spec.method == "coinr":
        v = x[ok]
        for _ in range(spec.winmax):
            skew, kurt = _skew_kurt(v)
            if not (abs(skew) > spec.skew and kurt > spec.kurtosis):
                break
            s = np.sort(v)
            if skew > 0:  # highest value down to the next highest
                v = np.where(v == s[-1], s[s < s[-1]].max() if (s < s[-1]).any() else s[-1], v)
            else:
                v = np.where(v == s[0], s[s > s[0]].min() if (s > s[0]).any() else s[0], v)
        x[ok] = v
        return x
    raise AnalysisError(
        f"unknown treatment {spec.method!r}; use one of {', '.join(TREATMENT_METHODS)}"
    )
