"""Global fit measures of an ML factor model, computed the way lavaan 0.6 computes them.

With T = N F_ML (F_ML the minimised discrepancy, groups weighted by N_g/N), df = moments - free
parameters, and the independence (baseline) model fitted per group (diagonal covariance, free
means) with T_B and df_B:

* CFI  = 1 - max(T - df, 0) / max(T_B - df_B, T - df, 0)            (Bentler 1990)
* TLI  = (T_B/df_B - T/df) / (T_B/df_B - 1)                         (Tucker & Lewis 1973)
* RMSEA = sqrt(G) sqrt(max(T - df, 0) / (df N)), 90% CI by inverting the non-central chi-square
  distribution in its non-centrality, p-close = P(RMSEA <= .05)    (Browne & Cudeck 1993)
* SRMR (Bentler): root mean square of (s_ij - sigma_ij) / sqrt(s_ii s_jj) over the lower triangle
  (and of the mean residuals (xbar_i - mu_i)/sqrt(s_ii) when means are modelled), weighted over
  groups by N_g/N
* logL = -sum_g N_g/2 [p log 2 pi + log|Sigma_g| + tr(S_g Sigma_g^-1)
                        + (xbar-mu)' Sigma^-1 (xbar-mu)]
* AIC = -2 logL + 2k, BIC = -2 logL + k log N, SABIC = -2 logL + k log((N + 2)/24)

Checked against lavaan's printed output for the Holzinger-Swineford three-factor model
(lavaan tutorial, https://lavaan.ugent.be/tutorial/cfa.html).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import optimize, stats

from commonweal.analytics.surveys._engine import F64, Engine

__all__ = ["FitMeasures", "compute_fit_measures"]


@dataclass(frozen=True, slots=True)
class FitMeasures:
    """Fit of one model. ``None`` where a measure is undefined (e.g. RMSEA with df = 0).

    ``chisq_groups`` is each group's contribution N_g F_g to the chi-square (lavaan's
    "Chi-square for each group")."""

    n: int
    npar: int
    chisq: float
    df: int
    pvalue: float | None
    baseline_chisq: float
    baseline_df: int
    cfi: float | None
    tli: float | None
    rmsea: float | None
    rmsea_ci_lower: float | None
    rmsea_ci_upper: float | None
    rmsea_pclose: float | None
    srmr: float
    loglik: float
    loglik_h1: float
    aic: float
    bic: float
    sabic: float
    chisq_groups: tuple[float, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _ncp_bound(t: float, df: int, prob: float) -> float:
    """Smallest non-centrality lam >= 0 with P(chi2(df, lam) <= t) = prob (0 if none)."""

    def f(lam: float) -> float:
        return float(stats.ncx2.cdf(t, df, lam) if lam > 0 else stats.chi2.cdf(t, df)) - prob

    if f(0.0) < 0:
        return 0.0
    hi = max(t, 1.0)
    while f(hi) > 0:
        hi *= 2.0
    return float(optimize.brentq(f, 0.0, hi, xtol=1e-12, rtol=1e-12))


def _srmr_group(s: F64, sigma: F64, xbar: F64, mu: F64, means: bool) -> float:
    sd = np.sqrt(np.diag(s))
    resid = (s - sigma) / np.outer(sd, sd)
    il = np.tril_indices(s.shape[0])
    vals = list(resid[il])
    if means:
        vals.extend((xbar - mu) / sd)
    return float(np.sqrt(np.mean(np.square(vals))))


def compute_fit_measures(engine: Engine, theta: F64, fmin: float) -> FitMeasures:
    """Every global fit measure of a fitted model (see the module docstring for formulas)."""
    p = engine.p
    n = engine.n_total
    g_count = len(engine.moments)
    k = engine.q
    per_group = p * (p + 1) // 2 + (p if engine.meanstructure else 0)
    df = g_count * per_group - k
    t = max(n * fmin, 0.0)
    pvalue = float(stats.chi2.sf(t, df)) if df > 0 else None

    tb = 0.0
    ll0 = 0.0
    ll1 = 0.0
    srmr = 0.0
    chisq_groups = []
    for g, mo in enumerate(engine.moments):
        s = mo.cov
        tb += mo.n * (float(np.sum(np.log(np.diag(s)))) - engine.logdet_s[g])
        sigma, mu = engine.implied(theta, g)
        _, ld = np.linalg.slogdet(sigma)
        inv = np.linalg.inv(sigma)
        d = mo.mean - mu
        ll0 += -mo.n / 2 * (p * math.log(2 * math.pi) + ld + np.trace(s @ inv) + d @ inv @ d)
        fg = ld + np.trace(s @ inv) - engine.logdet_s[g] - p + d @ inv @ d
        chisq_groups.append(float(mo.n * fg))
        ll1 += -mo.n / 2 * (p * math.log(2 * math.pi) + engine.logdet_s[g] + p)
        srmr += engine.weights[g] * _srmr_group(s, sigma, mo.mean, mu, engine.meanstructure)
    dfb = g_count * p * (p - 1) // 2

    cfi: float | None = None
    tli: float | None = None
    denom = max(tb - dfb, t - df, 0.0)
    if denom > 0:
        cfi = 1.0 - max(t - df, 0.0) / denom
    if df > 0 and dfb > 0 and tb / dfb != 1.0:
        tli = (tb / dfb - t / df) / (tb / dfb - 1.0)

    rmsea = lo = hi = pclose = None
    if df > 0:
        scale = math.sqrt(g_count)
        rmsea = scale * math.sqrt(max(t - df, 0.0) / (df * n))
        lam_lo = _ncp_bound(t, df, 0.95)
        lam_hi = _ncp_bound(t, df, 0.05)
        lo = scale * math.sqrt(lam_lo / (df * n))
        hi = scale * math.sqrt(lam_hi / (df * n))
        ncp_close = df * n * 0.05**2 / g_count
        pclose = float(1.0 - stats.ncx2.cdf(t, df, ncp_close))

    ll0 = float(ll0)
    return FitMeasures(
        n=n, npar=k, chisq=t, df=df, pvalue=pvalue, baseline_chisq=tb, baseline_df=dfb,
        cfi=cfi, tli=tli, rmsea=rmsea, rmsea_ci_lower=lo, rmsea_ci_upper=hi,
        rmsea_pclose=pclose, srmr=srmr, loglik=ll0, loglik_h1=float(ll1),
        aic=-2 * ll0 + 2 * k, bic=-2 * ll0 + k * math.log(n),
        sabic=-2 * ll0 + k * math.log((n + 2) / 24), chisq_groups=tuple(chisq_groups),
    )
