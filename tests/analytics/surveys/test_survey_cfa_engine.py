"""CFA engine beyond the lavaan golden values: recovery, syntax, problems stated plainly."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from commonweal.analytics.surveys import fit_cfa, parse_model
from commonweal.analytics.surveys.simulate import simulate_factor_data
from commonweal.errors import AnalysisError, InputError, SpecError


def test_recovers_known_parameters_from_simulated_data():
    lam = np.array([[1.0, 0], [0.8, 0], [1.2, 0], [0, 1.0], [0, 0.7], [0, 0.9]])
    phi = np.array([[1.0, 0.4], [0.4, 0.6]])
    theta = np.array([0.5, 0.4, 0.6, 0.3, 0.5, 0.4])
    df = simulate_factor_data(lam, phi, theta, 20_000, seed=11,
                              names=["a1", "a2", "a3", "b1", "b2", "b3"])
    r = fit_cfa("A =~ a1 + a2 + a3\nB =~ b1 + b2 + b3", df)
    assert r.converged and r.fit.df == 8
    for (lhs, rhs), true in {("A", "a2"): 0.8, ("A", "a3"): 1.2, ("B", "b2"): 0.7,
                             ("B", "b3"): 0.9}.items():
        e = r.estimate(lhs, "=~", rhs)
        assert abs(e.est - true) < 4 * e.se  # within sampling error
        assert e.est == pytest.approx(true, abs=0.05)
    assert r.estimate("B", "~~", "A").est == pytest.approx(0.4, abs=0.03)
    assert r.estimate("B", "~~", "B").est == pytest.approx(0.6, abs=0.03)
    # correct model: the chi-square test should not reject at this seed, RMSEA near 0
    assert r.fit.rmsea < 0.02 and r.fit.cfi > 0.99


def test_recovers_group_differences_in_latent_means():
    lam = np.array([[1.0], [0.9], [0.8], [1.1]])
    theta = np.full(4, 0.5)
    nu = np.array([3.0, 2.5, 3.2, 2.8])
    g1 = simulate_factor_data(lam, [[1.0]], theta, 4000, intercepts=nu, seed=1)
    g2 = simulate_factor_data(lam, [[1.0]], theta, 4000, intercepts=nu, factor_means=[0.5],
                              seed=2)
    df = pl.concat([g1.with_columns(pl.lit("a").alias("g")),
                    g2.with_columns(pl.lit("b").alias("g"))])
    r = fit_cfa("f =~ y1 + y2 + y3 + y4", df, group="g",
                group_equal=("loadings", "intercepts"))
    mean_b = [e for e in r.estimates if e.op == "~1" and e.lhs == "f" and e.group == "b"][0]
    assert mean_b.free and mean_b.est == pytest.approx(0.5, abs=0.06)


def _exact(cov: np.ndarray, n: int, names: str, seed: int = 0) -> pl.DataFrame:
    """Data whose sample covariance (divisor N) is exactly ``cov``."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, cov.shape[0]))
    x -= x.mean(axis=0)
    chol = np.linalg.cholesky(np.cov(x.T, bias=True))
    x = x @ np.linalg.inv(chol).T @ np.linalg.cholesky(cov).T
    return pl.DataFrame({c: x[:, i] for i, c in enumerate(names)})


def test_heywood_case_is_reported_not_hidden():
    # One factor, three indicators: lambda_a^2 phi = r_ab r_ac / r_bc = .6 * .6 / .3 = 1.2 > 1,
    # so the ML solution has residual variance 1 - 1.2 = -0.2 for a (an exact Heywood case).
    cov = np.array([[1, 0.6, 0.6], [0.6, 1, 0.3], [0.6, 0.3, 1]])
    r = fit_cfa("f =~ a + b + c", _exact(cov, 500, "abc"))
    assert r.converged
    assert r.estimate("a", "~~", "a").est == pytest.approx(-0.2, abs=1e-6)
    assert r.estimate("f", "=~", "a").std_all == pytest.approx(np.sqrt(1.2), abs=1e-6)
    assert any("negative residual variance for a" in h for h in r.heywood)
    assert any("standardized loading f =~ a" in h for h in r.heywood)
    assert r.to_dict()["heywood"] == list(r.heywood)


def test_factor_correlation_beyond_one_is_flagged():
    # two 2-indicator factors (BSCS-like): within r = .5, across r = .6 -> factor corr 1.2
    cov = np.full((4, 4), 0.6)
    cov[:2, :2] = cov[2:, 2:] = 0.5
    np.fill_diagonal(cov, 1.0)
    r = fit_cfa("F1 =~ a + b\nF2 =~ c + d", _exact(cov, 400, "abcd"), std_lv=True)
    assert r.estimate("F2", "~~", "F1").std_all == pytest.approx(1.2, abs=1e-5)
    assert any("factor correlation F2 ~~ F1" in h for h in r.heywood)


def test_nonconvergence_raises_analysis_error():
    rng = np.random.default_rng(1)
    df = pl.DataFrame({c: rng.normal(size=200) for c in ["a", "b", "c", "d"]})
    with pytest.raises(AnalysisError, match="did not converge"):
        fit_cfa("f =~ a + b + c + d", df, max_iter=1)
    r = fit_cfa("f =~ a + b + c + d", df, max_iter=1, allow_nonconvergence=True)
    assert not r.converged and "do not trust" in r.warnings[0]


def test_singular_covariance_is_an_analysis_error():
    df = pl.DataFrame({"a": [1.0, 2, 3, 4, 5], "b": [2.0, 4, 6, 8, 10], "c": [1.0, 0, 1, 0, 1]})
    with pytest.raises(AnalysisError, match="not positive definite"):
        fit_cfa("f =~ a + b + c", df)


def test_missing_and_non_numeric_columns_are_named():
    df = pl.DataFrame({"a": [1.0, 2.0, 3.0], "b": ["x", "2", "3"]})
    with pytest.raises(InputError) as exc:
        fit_cfa("f =~ a + b + c", df)
    assert exc.value.problems[0].field == "c"
    with pytest.raises(InputError) as exc:
        fit_cfa("f =~ a + b", df)
    p = exc.value.problems[0]
    assert p.field == "b" and p.row == 2 and "not numeric" in p.message


def test_listwise_deletion_counts_rows():
    rng = np.random.default_rng(2)
    f = rng.normal(size=200)
    data = {c: f + rng.normal(size=200) for c in "abc"}
    data["a"][:7] = np.nan
    r = fit_cfa("f =~ a + b + c", pl.DataFrame(data))
    assert r.n_dropped == 7 and r.n_obs == (193,)


def test_syntax_parser():
    spec = parse_model("""
        # a comment
        visual =~ x1 + 0.5*x2 + lab*x3 ; textual =~ NA*x4 +
                   x5
        x1 ~~ x4
        visual ~~ 1*visual
    """)
    assert spec.latent == ("visual", "textual")
    assert spec.observed == ("x1", "x2", "x3", "x4", "x5")
    t = spec.factors["visual"]
    assert t[1].fixed == 0.5 and t[2].label == "lab" and spec.factors["textual"][0].force_free
    assert len(spec.covariances) == 2


@pytest.mark.parametrize("bad", ["", "f =~ ", "f =~ a + + b", "y ~ x", "f =~ a\nf =~ b",
                                 "f =~ c(1,2)*a + b", "f =~ 1a", "just words"])
def test_syntax_errors_are_spec_errors(bad):
    with pytest.raises(SpecError):
        parse_model(bad)


def test_fixed_loading_and_residual_covariance_change_df(hs):
    base = fit_cfa("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6", hs)
    withcov = fit_cfa("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nx1 ~~ x4", hs)
    orth = fit_cfa("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nvisual ~~ 0*textual", hs)
    assert withcov.fit.df == base.fit.df - 1 and orth.fit.df == base.fit.df + 1
    assert withcov.fit.chisq <= base.fit.chisq <= orth.fit.chisq


def test_unknown_group_equal_is_rejected(hs):
    with pytest.raises(SpecError):
        fit_cfa("f =~ x1 + x2 + x3", hs, group="school", group_equal=("loading",))


def test_too_small_group_is_named():
    rng = np.random.default_rng(0)
    f = rng.normal(size=40)
    df = pl.DataFrame({c: f + rng.normal(size=40) for c in "abcd"}).with_columns(
        pl.Series("g", ["big"] * 37 + ["tiny"] * 3))
    with pytest.raises(AnalysisError, match="group 'tiny'"):
        fit_cfa("F =~ a + b + c + d", df, group="g")
