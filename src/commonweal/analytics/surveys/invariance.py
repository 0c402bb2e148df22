"""Measurement invariance across groups: configural, metric, scalar, strict.

Each step adds equality constraints to the previous one (lavaan ``group.equal``)::

    configural   same pattern, everything free per group (factor means fixed to 0)
    metric       + equal loadings                         ("weak")
    scalar       + equal intercepts; factor means free in groups 2..  ("strong")
    strict       + equal residual variances

Nested steps are compared by the likelihood-ratio (chi-square difference) test
Delta T = T_k - T_(k-1) on Delta df, and by the change in CFI and RMSEA. A step is judged to hold
when Delta CFI > -0.010 (Cheung & Rensvold 2002, *Struct. Equ. Modeling* 9:233) and
Delta RMSEA < 0.015 (Chen 2007, *Struct. Equ. Modeling* 14:464); the chi-square difference test is
reported beside them because with large samples it rejects trivial differences.

Checked against semTools::measurementInvariance for the Holzinger-Swineford model by school
(configural 115.85/48, metric 124.04/54, scalar 164.10/60).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import polars as pl
from scipy import stats

from commonweal.analytics.surveys.cfa import CFAResult, fit_cfa
from commonweal.analytics.surveys.syntax import ModelSpec, parse_model

__all__ = ["InvarianceResult", "InvarianceStep", "STEPS", "measurement_invariance"]

STEPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("configural", ()),
    ("metric", ("loadings",)),
    ("scalar", ("loadings", "intercepts")),
    ("strict", ("loadings", "intercepts", "residuals")),
)
_IF_NOT = {
    "metric": "the factors may mean different things in different groups; do not compare "
              "correlations or regressions with them across groups",
    "scalar": "do not compare factor means or mean scale scores across groups",
    "strict": "observed scale scores may be more reliable in one group than another",
}
_MEANING = {
    "configural": "the same factors are measured by the same items in every group",
    "metric": "loadings are equal, so correlations and regressions with the factors can be "
              "compared across groups",
    "scalar": "intercepts are equal too, so factor means (and mean scale scores) can be compared "
              "across groups",
    "strict": "residual variances are equal too, so observed scale scores are equally reliable "
              "in every group",
}
CFI_CUT = -0.010
RMSEA_CUT = 0.015


@dataclass(frozen=True, slots=True)
class InvarianceStep:
    """One row of the invariance table; deltas are this step minus the previous one."""

    level: str
    group_equal: tuple[str, ...]
    chisq: float
    df: int
    npar: int
    cfi: float | None
    tli: float | None
    rmsea: float | None
    srmr: float
    aic: float
    bic: float
    delta_chisq: float | None
    delta_df: int | None
    delta_pvalue: float | None
    delta_cfi: float | None
    delta_rmsea: float | None
    holds: bool | None
    converged: bool
    heywood: tuple[str, ...]
    reached: bool = True  # False once an earlier step was rejected

    @property
    def verdict(self) -> str:
        """``holds``/``rejected`` against the previous step; ``not reached`` after a rejection."""
        if self.holds is None:
            return "-"
        if not self.reached:
            return "not reached"
        return "holds" if self.holds else "rejected"

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["verdict"] = self.verdict
        return d


@dataclass(frozen=True, slots=True)
class InvarianceResult:
    group: str
    groups: tuple[str, ...]
    n_obs: tuple[int, ...]
    steps: tuple[InvarianceStep, ...]
    supported: str | None
    verdict: str
    fits: tuple[CFAResult, ...]

    def step(self, level: str) -> InvarianceStep:
        for s in self.steps:
            if s.level == level:
                return s
        raise KeyError(level)

    def to_dict(self) -> dict[str, object]:
        return {
            "group": self.group,
            "groups": list(self.groups),
            "n_obs": list(self.n_obs),
            "steps": [s.to_dict() for s in self.steps],
            "supported": self.supported,
            "verdict": self.verdict,
        }


def _fmt_p(p: float) -> str:
    return "p < .001" if p < 0.001 else f"p = {p:.3f}".replace("0.", ".")


def measurement_invariance(
    model: str | ModelSpec,
    data: pl.DataFrame | Mapping[str, Sequence[float]],
    group: str,
    *,
    std_lv: bool = False,
    levels: Sequence[str] = ("configural", "metric", "scalar", "strict"),
) -> InvarianceResult:
    """Fit the invariance sequence across the groups in column ``group`` and judge each step.

    Parameters
    ----------
    model : str or ModelSpec
        lavaan-style measurement model.
    data : polars.DataFrame
        Respondents with the indicator columns and the grouping column (any attribute).
    group : str
        Column whose distinct values define the groups (order of first appearance).
    std_lv : bool
        Identify factors by unit variances in the first group instead of marker loadings.
    levels : sequence of str
        Which steps to fit, in order (a prefix of configural, metric, scalar, strict).

    Returns
    -------
    InvarianceResult
        Table of fits and differences, the most restrictive level supported, and a
        plain-language verdict.

    Raises
    ------
    AnalysisError
        If a step does not converge (the message names the step).
    """
    spec = model if isinstance(model, ModelSpec) else parse_model(model)
    wanted = [s for s in STEPS if s[0] in levels]
    fits: list[CFAResult] = []
    steps: list[InvarianceStep] = []
    prev: CFAResult | None = None
    reached = True
    for level, eq in wanted:
        res = fit_cfa(spec, data, group=group, group_equal=eq, std_lv=std_lv,
                      allow_nonconvergence=True)
        f = res.fit
        d_chi = d_df = d_p = d_cfi = d_rmsea = None
        holds: bool | None = None
        if prev is not None:
            pf = prev.fit
            d_chi = f.chisq - pf.chisq
            d_df = f.df - pf.df
            d_p = float(stats.chi2.sf(max(d_chi, 0.0), d_df)) if d_df > 0 else None
            if f.cfi is not None and pf.cfi is not None:
                d_cfi = f.cfi - pf.cfi
            if f.rmsea is not None and pf.rmsea is not None:
                d_rmsea = f.rmsea - pf.rmsea
            holds = (res.converged and (d_cfi is None or d_cfi > CFI_CUT)
                     and (d_rmsea is None or d_rmsea < RMSEA_CUT))
        steps.append(InvarianceStep(
            level=level, group_equal=eq, chisq=f.chisq, df=f.df, npar=f.npar, cfi=f.cfi,
            tli=f.tli, rmsea=f.rmsea, srmr=f.srmr, aic=f.aic, bic=f.bic, delta_chisq=d_chi,
            delta_df=d_df, delta_pvalue=d_p, delta_cfi=d_cfi, delta_rmsea=d_rmsea, holds=holds,
            converged=res.converged, heywood=res.heywood, reached=reached))
        if holds is False:
            reached = False
        fits.append(res)
        prev = res
    supported, verdict = _verdict(steps, group)
    first = fits[0]
    return InvarianceResult(group=group, groups=first.groups, n_obs=first.n_obs,
                            steps=tuple(steps), supported=supported, verdict=verdict,
                            fits=tuple(fits))


def _verdict(steps: list[InvarianceStep], group: str) -> tuple[str | None, str]:
    lines: list[str] = []
    conf = steps[0]
    if not conf.converged:
        return None, (f"The configural model by {group} did not converge; invariance cannot be "
                      "judged. Check the model in each group separately.")
    fit_ok = (conf.cfi or 0) >= 0.90 and (conf.rmsea if conf.rmsea is not None else 0) <= 0.10
    lines.append(
        f"Configural model by {group}: CFI = {conf.cfi:.3f}, RMSEA = "
        f"{conf.rmsea if conf.rmsea is not None else float('nan'):.3f}"
        + (" (acceptable)." if fit_ok else " (poor: the factor structure itself may differ "
           "between groups, so the later steps are hard to interpret)."))
    supported = "configural"
    for s in steps[1:]:
        chi = (f"chi-square difference {s.delta_chisq:.2f} on {s.delta_df} df, "
               f"{_fmt_p(s.delta_pvalue)}" if s.delta_pvalue is not None else "")
        deltas = f"delta CFI = {s.delta_cfi:+.3f}, delta RMSEA = {s.delta_rmsea:+.3f}"
        if s.holds:
            lines.append(f"{s.level.capitalize()} invariance holds ({deltas}; {chi}): "
                         f"{_MEANING[s.level]}."
                         + (" The chi-square test rejects it, but with this sample size it "
                            "flags small differences." if (s.delta_pvalue or 1) < 0.05 else ""))
            supported = s.level
        else:
            why = "did not converge" if not s.converged else deltas
            lines.append(f"{s.level.capitalize()} invariance does not hold ({why}; {chi}). "
                         f"So {_IF_NOT[s.level]}; look for the items responsible (partial "
                         "invariance).")
            break
    lines.append(f"Highest level supported: {supported}.")
    return supported, " ".join(lines)
