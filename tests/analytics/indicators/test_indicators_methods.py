"""Normalisation, ranking, rounding, imputation, treatment and aggregation against SciPy/NumPy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from commonweal.analytics.indicators import (
    Imputation,
    Normalisation,
    Treatment,
    aggregate,
    impute,
    impute_panel,
    normalise,
    percent_rank,
    percentile,
    rank,
    round_values,
    treat,
)
from commonweal.analytics.indicators.aggregate import copeland
from commonweal.errors import AnalysisError

RNG = np.random.default_rng(7)
X = np.round(RNG.normal(10, 3, 200), 0)  # many ties
X[[3, 50]] = np.nan


@pytest.mark.parametrize("ties", ["min", "max", "average", "ordinal"])
def test_rank_matches_scipy_rankdata(ties: str) -> None:
    ok = ~np.isnan(X)
    ref = stats.rankdata(X[ok], method=ties)  # outside reference: scipy.stats.rankdata
    got = rank(X, ties)
    np.testing.assert_array_equal(got[ok], ref)
    assert np.isnan(got[~ok]).all()


def test_percent_rank_is_sql_percent_rank() -> None:
    ok = ~np.isnan(X)
    n = ok.sum()
    ref = (stats.rankdata(X[ok], method="min") - 1) / (n - 1)
    np.testing.assert_allclose(percent_rank(X)[ok], ref)


@pytest.mark.parametrize("kind", ["weak", "strict", "mean"])
def test_percentile_matches_scipy_percentileofscore(kind: str) -> None:
    ok = ~np.isnan(X)
    ref = [stats.percentileofscore(X[ok], v, kind=kind) / 100 for v in X[ok]]
    np.testing.assert_allclose(percentile(X, kind)[ok], ref)


def test_zscore_and_minmax_and_direction() -> None:
    ok = ~np.isnan(X)
    np.testing.assert_allclose(
        normalise(X, Normalisation("zscore"))[ok], stats.zscore(X[ok], ddof=1)
    )
    mm = normalise(X, Normalisation("minmax"))
    assert np.nanmin(mm) == 0 and np.nanmax(mm) == 1
    np.testing.assert_allclose(normalise(X, Normalisation("minmax"), -1), 1 - mm)
    np.testing.assert_allclose(normalise(X, Normalisation("percent_rank"), -1), 1 - percent_rank(X))
    np.testing.assert_allclose(
        normalise(X, Normalisation("zscore"), -1)[ok], -stats.zscore(X[ok], ddof=1)
    )


def test_goalposts_and_reference() -> None:
    x = np.array([0.0, 5.0, 10.0, 20.0])
    g = normalise(x, Normalisation("goalposts", lower=5, upper=15))
    np.testing.assert_allclose(g, [0, 0, 0.5, 1])
    np.testing.assert_allclose(normalise(x, Normalisation("dist_to_ref", reference=10)), x / 10)
    with pytest.raises(AnalysisError):
        normalise(x, Normalisation("goalposts"))


def test_round_half_up_vs_half_even() -> None:
    x = np.array([0.12345, 0.5, 1.5, 2.5, -0.125])
    np.testing.assert_allclose(round_values(x, 4), [0.1235, 0.5, 1.5, 2.5, -0.125])
    np.testing.assert_allclose(round_values(np.array([0.5, 1.5, 2.5]), 0), [1, 2, 3])
    np.testing.assert_allclose(round_values(np.array([0.5, 1.5, 2.5]), 0, "half_even"), [0, 2, 2])


def test_impute_mean_median_group() -> None:
    x = np.array([1.0, np.nan, 3.0, 10.0, np.nan, 30.0])
    np.testing.assert_allclose(impute(x, Imputation("mean")), [1, 11, 3, 10, 11, 30])
    np.testing.assert_allclose(impute(x, Imputation("median")), [1, 6.5, 3, 10, 6.5, 30])
    g = np.array(["a", "a", "a", "b", "b", "b"], dtype=object)
    np.testing.assert_allclose(impute(x, Imputation("group_mean", "g"), g), [1, 2, 3, 10, 20, 30])


def test_panel_imputation_interpolates_within_each_unit() -> None:
    units = np.array(["A"] * 4 + ["B"] * 3 + ["C"] * 2, dtype=object)
    t = np.array([2000, 2001, 2002, 2003, 2000, 2001, 2002, 2000, 2001], dtype=float)
    v = np.array([1.0, np.nan, 3.0, np.nan, np.nan, 5.0, np.nan, np.nan, np.nan])
    lin = impute_panel(v, t, units, "panel_linear")
    # outside reference: numpy.interp (holds the end values), COINr issue #63 (one observation)
    np.testing.assert_allclose(lin[:7], [1, 2, 3, 3, 5, 5, 5])
    assert np.isnan(lin[7:]).all()
    const = impute_panel(v, t, units, "panel_constant")
    np.testing.assert_allclose(const[:4], [1, 1, 3, 3])


def test_winsorising() -> None:
    x = np.r_[np.arange(100.0), 1e6]
    q = treat(x, Treatment("quantile", lower=0.0, upper=0.95))
    assert q.max() == pytest.approx(np.quantile(x, 0.95))
    c = treat(x, Treatment("coinr"))
    assert c.max() == 99.0 and abs(stats.skew(c)) < 2


W = np.array([[1.0], [2.0], [1.0]])
V = np.array([[0.2, 0.5, 0.9], [0.4, 0.1, 0.3], [0.7, 0.7, 0.7]])


def test_weighted_means_match_scipy() -> None:
    w = W[:, 0]
    np.testing.assert_allclose(
        aggregate("arithmetic", V, W)[:, 0], np.average(V, axis=1, weights=w)
    )
    np.testing.assert_allclose(
        aggregate("geometric", V, W)[:, 0], stats.gmean(V, axis=1, weights=w)
    )
    np.testing.assert_allclose(aggregate("harmonic", V, W)[:, 0], stats.hmean(V, axis=1, weights=w))
    np.testing.assert_allclose(aggregate("sum", V, W)[:, 0], V @ w)


def test_missing_rules() -> None:
    v = V.copy()
    v[0, 1] = np.nan
    assert np.isnan(aggregate("arithmetic", v, W)[0, 0])
    got = aggregate("arithmetic", v, W, missing="threshold", min_available=0.6)[0, 0]
    assert got == pytest.approx((0.2 * 1 + 0.9 * 1) / 2)
    assert np.isnan(aggregate("arithmetic", v, W, missing="threshold", min_available=0.9)[0, 0])


def test_three_d_inputs_equal_two_d() -> None:
    many = np.column_stack([W[:, 0], [1.0, 1.0, 3.0]])
    two = aggregate("arithmetic", V, many)
    three = aggregate(
        "arithmetic", np.stack([np.repeat(V[:, [c]], 2, axis=1) for c in range(3)]), many
    )
    np.testing.assert_allclose(two, three)


def test_copeland_matches_brute_force() -> None:
    x = RNG.random((12, 4))
    w = np.array([1.0, 2.0, 1.0, 0.5])
    ref = np.zeros(12)
    for i in range(12):
        for j in range(12):
            s = sum(w[c] * np.sign(x[i, c] - x[j, c]) for c in range(4))
            ref[i] += np.sign(s)
    np.testing.assert_allclose(copeland(x, w), ref)
    np.testing.assert_allclose(aggregate("copeland", x, w[:, None])[:, 0], ref)


def test_geometric_mean_rejects_negative_inputs() -> None:
    with pytest.raises(AnalysisError, match="non-negative"):
        aggregate("geometric", -V, W)
