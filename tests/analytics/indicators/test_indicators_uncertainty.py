"""Monte-Carlo rank uncertainty and Sobol sensitivity: reproducible, backend-independent, and
correct on cases whose answer is known."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import stats

from commonweal.analytics.indicators import (
    Alternatives,
    load_spec,
    run_sensitivity,
    run_uncertainty,
)
from commonweal.analytics.indicators.uncertainty import rank_columns
from commonweal.errors import AnalysisError
from commonweal.exec import Executor

SVI = load_spec("cdc-svi-2018-county")
ALT = Alternatives(
    normalisations=("spec", "minmax"), imputations=("spec", "mean"), weight_concentration=20.0
)


def test_rank_columns_matches_scipy_min_ranks() -> None:
    v = np.round(np.random.default_rng(1).random((3, 50)), 1)
    v[0, 4] = np.nan
    r = rank_columns(v)
    for row, rr in zip(v, r, strict=True):
        ok = ~np.isnan(row)
        np.testing.assert_array_equal(rr[ok], stats.rankdata(-row[ok], method="min"))
        assert (rr[~ok] == 0).all()


def test_no_uncertainty_gives_cdc_ranks(svi2018: pl.DataFrame) -> None:
    # with nothing varying, every draw reproduces the nominal ranking, which is the ranking of CDC's
    # published RPL_THEMES (outside reference) for all counties with an index
    res = run_uncertainty(SVI, svi2018, alternatives=Alternatives(), n_draws=3, seed=0)
    cdc = svi2018["RPL_THEMES"].cast(pl.Float64).to_numpy()
    ok = cdc != -999
    np.testing.assert_array_equal(res.nominal_rank[ok], stats.rankdata(-cdc[ok], method="min"))
    np.testing.assert_array_equal(res.median_rank[ok], res.nominal_rank[ok])
    assert np.nanmax(res.q95 - res.q05) == 0


def test_seeded_and_identical_on_every_backend(svi2018: pl.DataFrame) -> None:
    frame = svi2018.head(400)
    runs = {}
    for backend in ("serial", "processes", "dask"):
        with Executor(backend, workers=2) as ex:
            runs[backend] = run_uncertainty(
                SVI,
                frame,
                alternatives=ALT,
                n_draws=60,
                seed=11,
                executor=ex,
                batch=16,
                keep_ranks=True,
            )
    ref = runs["serial"].ranks
    assert ref is not None and ref.shape == (60, 400)
    for r in runs.values():
        np.testing.assert_array_equal(r.ranks, ref)
    other = run_uncertainty(SVI, frame, alternatives=ALT, n_draws=60, seed=12, keep_ranks=True)
    assert not np.array_equal(other.ranks, ref)


def test_uncertainty_output_shape_and_order(svi2018: pl.DataFrame) -> None:
    res = run_uncertainty(SVI, svi2018, alternatives=ALT, n_draws=40, seed=3)
    df = res.frame()
    assert df.height == 3142 and df.columns[:4] == [
        "FIPS",
        "nominal_rank",
        "median_rank",
        "rank_q05",
    ]
    w = df["interval_width"].drop_nulls().to_numpy()
    assert (np.diff(w) <= 0).all()  # least stable first
    d = res.to_dict(top=5)
    assert len(d["least_stable"]) == 5 and d["n_draws"] == 40
    rio = df.filter(pl.col("FIPS") == "35039").row(0, named=True)
    assert rio["nominal_rank"] is None  # no overall SVI in CDC's file; mean imputation may rank it


def test_incompatible_alternatives_are_refused(svi2018: pl.DataFrame) -> None:
    alt = Alternatives(normalisations=("zscore",), aggregations=("geometric",))
    with pytest.raises(AnalysisError, match="negative"):
        run_uncertainty(SVI, svi2018.head(50), alternatives=alt, n_draws=2)


def _toy(n: int = 60) -> tuple[pl.DataFrame, object]:
    import tomllib

    from commonweal.analytics.indicators import parse_spec

    spec = parse_spec(
        tomllib.loads("""
[index]
id = "toy"
unit = "u"
[defaults.indicator]
normalise = "minmax"
parent = "R"
[[node]]
code = "R"
aggregate = "arithmetic"
[[indicator]]
code = "a"
[[indicator]]
code = "b"
[[indicator]]
code = "c"
""")
    )
    rng = np.random.default_rng(5)
    a = rng.random(n)
    frame = pl.DataFrame(
        {
            "u": [str(k) for k in range(n)],
            "a": a,
            "b": 1 - a + 0.05 * rng.random(n),
            "c": rng.random(n),
        }
    )
    return frame, spec


def test_sobol_only_varying_factor_explains_everything() -> None:
    frame, spec = _toy()
    # imputation alternatives change nothing (no missing values); weights change everything
    alt = Alternatives(imputations=("spec", "mean"), weight_concentration=2.0)
    res = run_sensitivity(spec, frame, alternatives=alt, n_base=128, seed=1, n_bootstrap=50)
    got = dict(zip(res.factors, zip(res.first_order, res.total_order, strict=True), strict=True))
    assert got["imputations"][0] == pytest.approx(0, abs=0.02) and got["imputations"][
        1
    ] == pytest.approx(0, abs=1e-12)
    assert got["weights"][0] == pytest.approx(1, abs=0.1) and got["weights"][1] == pytest.approx(
        1, abs=0.1
    )
    assert res.n_runs == 128 * 4
    again = run_sensitivity(spec, frame, alternatives=alt, n_base=128, seed=1, n_bootstrap=50)
    np.testing.assert_array_equal(again.first_order, res.first_order)


def test_sobol_additive_model_recovers_analytic_indices() -> None:
    # Outside reference: analytic Sobol indices of f = X1 + 2*X2 with two independent uniform
    # discrete factors (Saltelli et al. 2010): S1 = 1/5, S2 = 4/5, no interactions.
    from commonweal.analytics.indicators.sensitivity import _indices

    rng = np.random.default_rng(0)
    n = 20000
    a, b = rng.random((n, 2)), rng.random((n, 2))

    def f(x: np.ndarray) -> np.ndarray:
        return (x[:, 0] + 2 * x[:, 1])[:, None]

    ab1, ab2 = a.copy(), a.copy()
    ab1[:, 0], ab2[:, 1] = b[:, 0], b[:, 1]
    s1, st1 = _indices(f(a), f(b), f(ab1))
    s2, st2 = _indices(f(a), f(b), f(ab2))
    assert s1 == pytest.approx(0.2, abs=0.03) and st1 == pytest.approx(0.2, abs=0.03)
    assert s2 == pytest.approx(0.8, abs=0.03) and st2 == pytest.approx(0.8, abs=0.03)


def test_rank_summary_with_unranked_draws_matches_numpy() -> None:
    from commonweal.analytics.indicators.uncertainty import _summarise

    rng = np.random.default_rng(9)
    ranks = rng.integers(1, 50, size=(101, 30)).astype(np.int32)
    ranks[rng.random(ranks.shape) < 0.2] = 0  # unranked in some draws
    ranks[:, 3] = 0  # never ranked
    nominal = rng.integers(1, 50, size=30).astype(float)
    (q05, med, q95), shift = _summarise(ranks, nominal, (0.05, 0.5, 0.95), chunk=7)
    f = np.where(ranks == 0, np.nan, ranks.astype(float))
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        ref = [np.nanquantile(f, q, axis=0) for q in (0.05, 0.5, 0.95)]
    for got, want in zip((q05, med, q95), ref, strict=True):
        np.testing.assert_allclose(got, want)
    ok = ranks[:, 0] > 0
    assert shift[0] == pytest.approx(np.abs(ranks[ok, 0] - nominal[0]).mean())
    assert np.isnan(shift[3])


def test_bootstrap_shortcut_equals_resampling() -> None:
    from commonweal.analytics.indicators.sensitivity import _bootstrap, _indices

    rng = np.random.default_rng(4)
    ya, yb, yab = (rng.random((16, 9)) * 10 for _ in range(3))
    boots = rng.integers(0, 16, size=(5, 16))
    counts = np.zeros((5, 16))
    np.add.at(counts, (np.repeat(np.arange(5), 16), boots.ravel()), 1.0)
    got = _bootstrap(ya, yb, yab, counts)
    want = np.array([_indices(ya[r], yb[r], yab[r]) for r in boots])
    np.testing.assert_allclose(got, want)
