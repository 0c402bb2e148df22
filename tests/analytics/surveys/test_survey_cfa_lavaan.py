"""The CFA engine against lavaan 0.6's printed output for Holzinger & Swineford (1939).

Source of every pinned number (unless stated otherwise): the lavaan tutorial, CFA page, output of
``summary(cfa(HS.model, data = HolzingerSwineford1939), fit.measures = TRUE)`` as printed by
lavaan 0.6 (https://lavaan.ugent.be/tutorial/cfa.html; also yrosseel/lavaan.org.old,
tutorial.src/cfa.md), and the lavaan parameter table it prints.
"""

from __future__ import annotations

import pytest

from commonweal.analytics.surveys import fit_cfa

HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"

R3 = {"abs": 5e-4}  # "matches to 3 decimals"


def test_hs_global_fit_matches_lavaan(hs_fit):
    f = hs_fit.fit
    assert hs_fit.converged
    assert f.n == 301 and f.npar == 21 and f.df == 24
    assert f.chisq == pytest.approx(85.306, **R3)
    assert f.baseline_chisq == pytest.approx(918.852, **R3) and f.baseline_df == 36
    assert f.cfi == pytest.approx(0.931, **R3)
    assert f.tli == pytest.approx(0.896, **R3)
    assert f.rmsea == pytest.approx(0.092, **R3)
    assert f.rmsea_ci_lower == pytest.approx(0.071, **R3)
    assert f.rmsea_ci_upper == pytest.approx(0.114, **R3)
    assert f.rmsea_pclose == pytest.approx(0.001, **R3)
    assert f.srmr == pytest.approx(0.065, **R3)
    assert f.loglik == pytest.approx(-3737.745, **R3)
    assert f.loglik_h1 == pytest.approx(-3695.092, **R3)
    assert f.aic == pytest.approx(7517.490, **R3)
    assert f.bic == pytest.approx(7595.339, **R3)
    assert f.sabic == pytest.approx(7528.739, **R3)


@pytest.mark.parametrize(
    ("lhs", "rhs", "est", "se"),
    [
        ("visual", "x2", 0.554, 0.100),
        ("visual", "x3", 0.729, 0.109),
        ("textual", "x5", 1.113, 0.065),
        ("textual", "x6", 0.926, 0.055),
        ("speed", "x8", 1.180, 0.165),
        ("speed", "x9", 1.082, 0.151),
    ],
)
def test_hs_loadings_and_standard_errors(hs_fit, lhs, rhs, est, se):
    e = hs_fit.estimate(lhs, "=~", rhs)
    assert e.est == pytest.approx(est, **R3)
    assert e.se == pytest.approx(se, **R3)


def test_hs_marker_loadings_fixed(hs_fit):
    for lhs, rhs in [("visual", "x1"), ("textual", "x4"), ("speed", "x7")]:
        e = hs_fit.estimate(lhs, "=~", rhs)
        assert e.est == 1.0 and not e.free and e.se is None


@pytest.mark.parametrize(
    ("a", "b", "est", "se"),
    [("textual", "visual", 0.408, 0.074), ("speed", "visual", 0.262, 0.056),
     ("speed", "textual", 0.173, 0.049)],
)
def test_hs_factor_covariances(hs_fit, a, b, est, se):
    e = hs_fit.estimate(a, "~~", b)
    assert e.est == pytest.approx(est, **R3)
    assert e.se == pytest.approx(se, **R3)


def test_hs_variances(hs_fit):
    resid = [(0.549, 0.114), (1.134, 0.102), (0.844, 0.091), (0.371, 0.048), (0.446, 0.058),
             (0.356, 0.043), (0.799, 0.081), (0.488, 0.074), (0.566, 0.071)]
    for i, (v, se) in enumerate(resid, start=1):
        e = hs_fit.estimate(f"x{i}", "~~", f"x{i}")
        assert (e.est, e.se) == (pytest.approx(v, **R3), pytest.approx(se, **R3))
    for f, v, se in [("visual", 0.809, 0.145), ("textual", 0.979, 0.112),
                     ("speed", 0.384, 0.086)]:
        e = hs_fit.estimate(f, "~~", f)
        assert (e.est, e.se) == (pytest.approx(v, **R3), pytest.approx(se, **R3))


def test_hs_z_values(hs_fit):
    # z-values as printed by lavaan 0.6-11 (tutorial CFA page)
    assert hs_fit.estimate("visual", "=~", "x2").z == pytest.approx(5.554, **R3)
    assert hs_fit.estimate("visual", "=~", "x3").z == pytest.approx(6.685, **R3)
    assert hs_fit.estimate("textual", "=~", "x5").z == pytest.approx(17.014, **R3)
    assert hs_fit.estimate("textual", "~~", "visual").z == pytest.approx(5.552, **R3)
    assert hs_fit.estimate("speed", "~~", "textual").z == pytest.approx(3.518, **R3)
    assert hs_fit.estimate("x9", "~~", "x9").z == pytest.approx(8.003, **R3)


def test_std_lv_gives_same_fit_and_standardized_solution(hs, hs_fit):
    alt = fit_cfa(HS_MODEL, hs, std_lv=True)
    assert alt.fit.chisq == pytest.approx(hs_fit.fit.chisq, abs=1e-6)
    for e in hs_fit.estimates:
        assert alt.estimate(e.lhs, e.op, e.rhs).std_all == pytest.approx(e.std_all, abs=1e-6)
    # std.lv loading x1 = sqrt(0.809) * 1 = 0.900 (lavaan std.lv column; factor_analyzer too)
    assert alt.estimate("visual", "=~", "x1").est == pytest.approx(0.900, **R3)
    assert alt.estimate("visual", "~~", "visual").est == 1.0


def test_omega_from_cfa(hs_fit):
    # omega = (sum lambda)^2 phi / ((sum lambda)^2 phi + sum theta); the field note computed
    # .625 / .885 / .688 from semopy's (lavaan-equal) estimates with the same formula
    assert hs_fit.omega_of("visual") == pytest.approx(0.625, **R3)
    assert hs_fit.omega_of("textual") == pytest.approx(0.885, **R3)
    assert hs_fit.omega_of("speed") == pytest.approx(0.688, **R3)


def test_result_serialises(hs_fit):
    import json

    d = hs_fit.to_dict()
    text = json.dumps(d, allow_nan=False)
    assert d["fit"]["df"] == 24 and len(d["estimates"]) == 24
    assert '"chisq": 85.30' in text
