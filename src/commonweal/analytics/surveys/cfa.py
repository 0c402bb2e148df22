"""Confirmatory factor analysis by maximum likelihood, single- and multi-group, lavaan conventions.

Conventions (as lavaan 0.6 ``cfa()``): sample covariance with divisor N; the first loading of each
factor fixed to 1 (or ``std_lv=True``: factor variances fixed to 1, all loadings free); factor
covariances free; listwise deletion of incomplete rows; with groups a mean structure is added
(intercepts free, factor means fixed to 0, freed in groups 2.. when intercepts are held equal);
standard errors from the expected information; z = est/SE, two-sided normal p.

Checked against lavaan's printed output for Holzinger & Swineford (1939), three-factor model
(https://lavaan.ugent.be/tutorial/cfa.html) and semTools' invariance sequence by school.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import polars as pl
from scipy import stats

from commonweal.analytics.surveys._engine import (
    F64,
    Engine,
    EngineFit,
    GroupMoments,
    Param,
    build_table,
)
from commonweal.analytics.surveys.fitmeasures import FitMeasures, compute_fit_measures
from commonweal.analytics.surveys.syntax import ModelSpec, parse_model
from commonweal.errors import AnalysisError, InputError, Problem

__all__ = ["CFA", "CFAResult", "ParameterEstimate", "fit_cfa"]

GROUP_EQUAL = frozenset({"loadings", "intercepts", "residuals", "residual.covariances",
                         "lv.variances", "lv.covariances", "means"})


@dataclass(frozen=True, slots=True)
class ParameterEstimate:
    """One parameter as lavaan's ``parameterEstimates(standardized = TRUE)`` prints it."""

    group: str | None
    lhs: str
    op: str
    rhs: str
    label: str | None
    free: bool
    est: float
    se: float | None
    z: float | None
    pvalue: float | None
    std_lv: float
    std_all: float
    se_std_all: float | None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class CFAResult:
    """A fitted CFA: estimates, fit measures, reliability (omega) and plainly stated problems.

    ``heywood`` lists inadmissible estimates (negative variances, standardized loadings or factor
    correlations beyond 1); ``warnings`` lists everything else worth reading before trusting it.
    """

    model: str
    observed: tuple[str, ...]
    latent: tuple[str, ...]
    groups: tuple[str, ...]
    n_obs: tuple[int, ...]
    n_dropped: int
    std_lv: bool
    group_equal: tuple[str, ...]
    converged: bool
    iterations: int
    fit: FitMeasures
    estimates: tuple[ParameterEstimate, ...]
    omega: tuple[tuple[str, str, float], ...]
    heywood: tuple[str, ...]
    warnings: tuple[str, ...]

    def estimate(self, lhs: str, op: str, rhs: str, group: str | None = None) -> ParameterEstimate:
        """The estimate for ``lhs op rhs`` (in ``group`` for a multi-group model)."""
        for e in self.estimates:
            if (e.lhs, e.op, e.rhs) == (lhs, op, rhs) and (group is None or e.group == group):
                return e
        raise KeyError(f"no parameter {lhs} {op} {rhs}" + (f" in group {group}" if group else ""))

    def omega_of(self, factor: str, group: str | None = None) -> float:
        for g, f, w in self.omega:
            if f == factor and (group is None or g == group):
                return w
        raise KeyError(factor)

    def to_dict(self) -> dict[str, object]:
        return {
            "model": self.model,
            "observed": list(self.observed),
            "latent": list(self.latent),
            "groups": list(self.groups),
            "n_obs": list(self.n_obs),
            "n_dropped": self.n_dropped,
            "std_lv": self.std_lv,
            "group_equal": list(self.group_equal),
            "converged": self.converged,
            "iterations": self.iterations,
            "fit": self.fit.to_dict(),
            "estimates": [e.to_dict() for e in self.estimates],
            "omega": [{"group": g or None, "factor": f, "omega": w} for g, f, w in self.omega],
            "heywood": list(self.heywood),
            "warnings": list(self.warnings),
        }


def _moments(x: F64) -> GroupMoments:
    mean = x.mean(axis=0)
    c = x - mean
    return GroupMoments(n=x.shape[0], mean=mean, cov=c.T @ c / x.shape[0])


def _prepare(
    data: pl.DataFrame | Mapping[str, Sequence[float]], observed: tuple[str, ...], group: str | None
) -> tuple[list[tuple[str, F64]], int]:
    frame = data if isinstance(data, pl.DataFrame) else pl.DataFrame(dict(data))
    missing = [v for v in observed if v not in frame.columns]
    if group is not None and group not in frame.columns:
        missing.append(group)
    if missing:
        raise InputError(
            f"the data lack column(s) the model needs: {', '.join(missing)}",
            [Problem(f"column {c!r} not found", field=c) for c in missing])
    problems = []
    for v in observed:
        dt = frame.schema[v]
        if not (dt.is_numeric() or dt == pl.Null):
            bad = frame.with_row_index("_r").filter(pl.col(v).is_not_null()).head(1)
            row = int(bad["_r"][0]) + 2 if bad.height else None
            shown = bad[v][0] if bad.height else None
            problems.append(Problem(f"column is {dt}, not numeric (e.g. {shown!r})", row=row,
                                    field=v))
    if problems:
        raise InputError("indicator columns must be numeric", problems)
    num = frame.select([pl.col(v).cast(pl.Float64) for v in observed]).to_numpy()
    keep = np.all(np.isfinite(num), axis=1)
    gcol = None
    if group is not None:
        gcol = frame[group].cast(pl.String).to_list()
        keep &= np.array([g is not None for g in gcol], dtype=bool)
    dropped = int((~keep).sum())
    if group is None:
        return [("", num[keep])], dropped
    assert gcol is not None
    labels: list[str] = []
    for g, k in zip(gcol, keep, strict=True):
        if k and g not in labels:
            labels.append(str(g))
    garr = np.array([str(g) for g in gcol], dtype=object)
    return [(lab, num[keep & (garr == lab)]) for lab in labels], dropped


def _start_values(table: list[Param], n_free: int, moments: list[GroupMoments],
                  spec: ModelSpec, observed: tuple[str, ...], std_lv: bool) -> F64:
    start = np.full(n_free, np.nan)
    pos = {v: i for i, v in enumerate(observed)}
    for g, mo in enumerate(moments):
        s = mo.cov
        phi0: dict[str, float] = {}
        lam0: dict[tuple[str, str], float] = {}
        for f, terms in spec.factors.items():
            idx = [pos[t.name] for t in terms]
            m = idx[0]
            others = [s[m, j] for j in idx[1:]]
            if std_lv:
                phi0[f] = 1.0
                for j in idx:
                    rest = [abs(s[j, k]) for k in idx if k != j]
                    lam0[(f, observed[j])] = math.sqrt(max(np.mean(rest) if rest else 0.5 * s[j, j],
                                                           0.05 * s[j, j]))
            else:
                phi = float(np.mean(np.abs(others))) if others else 0.5 * s[m, m]
                phi0[f] = max(phi, 0.05 * s[m, m])
                for j in idx:
                    lam0[(f, observed[j])] = s[m, j] / phi0[f] if j != m else 1.0
        for r in table:
            if r.group != g or r.index < 0 or not np.isnan(start[r.index]):
                continue
            if r.kind == "loading":
                val = lam0.get((r.lhs, r.rhs), 1.0)
            elif r.kind == "lv_cov":
                val = phi0.get(r.lhs, 1.0) if r.lhs == r.rhs else 0.0
            elif r.kind == "resid_cov":
                val = 0.5 * s[r.row, r.row] if r.row == r.col else 0.0
            elif r.kind == "intercept":
                val = float(mo.mean[r.row])
            else:
                val = 0.0
            start[r.index] = val
        for t_row in table:
            user_start = spec_start(spec, t_row) if t_row.group == g else None
            if t_row.index >= 0 and user_start is not None:
                start[t_row.index] = user_start
    return np.asarray(np.nan_to_num(start, nan=0.0), dtype=np.float64)


def spec_start(spec: ModelSpec, row: Param) -> float | None:
    if row.kind == "loading":
        for t in spec.factors.get(row.lhs, ()):
            if t.name == row.rhs:
                return t.start
    return None


def _standardized(engine: Engine, theta: F64) -> tuple[F64, F64]:
    """std.lv and std.all values for every row of the parameter table (vectorised).

    std.lv: lambda sqrt(phi_kk), phi_kl / sqrt(phi_kk phi_ll), alpha_k / sqrt(phi_kk);
    std.all additionally divides by the model-implied SD of the indicator(s).
    """
    grp, row, col, idx, kind, fixed = engine.table_arrays
    v = np.where(idx >= 0, theta[np.maximum(idx, 0)], fixed)
    sphi = np.zeros((len(engine.moments), engine.m))
    ssig = np.zeros((len(engine.moments), engine.p))
    for g in range(len(engine.moments)):
        lam, phi, th, _nu, _al = engine.matrices(theta, g)
        sphi[g] = np.sqrt(np.abs(np.diag(phi)))
        ssig[g] = np.sqrt(np.abs(np.diag(lam @ phi @ lam.T + th)))
    with np.errstate(divide="ignore", invalid="ignore"):
        sp_r = sphi[grp, np.minimum(row, engine.m - 1)]
        sp_c = sphi[grp, np.minimum(col, engine.m - 1)]
        ss_r, ss_c = ssig[grp, row], ssig[grp, np.minimum(col, engine.p - 1)]
        lv = np.select(
            [kind == "loading", kind == "lv_cov", kind == "lv_mean"],
            [v * sp_c, v / (sp_r * sp_c), v / sp_r], default=v)
        al = np.select(
            [kind == "loading", kind == "lv_cov", kind == "resid_cov", kind == "intercept",
             kind == "lv_mean"],
            [lv / ss_r, lv, v / (ss_r * ss_c), v / ss_r, lv], default=v)
    return np.nan_to_num(lv), np.nan_to_num(al)


def _omega(engine: Engine, theta: F64, spec: ModelSpec, groups: list[str]
           ) -> list[tuple[str, str, float]]:
    """McDonald's omega per factor from the fitted model (Raykov 2001; semTools compRelSEM).

    omega_k = (sum_i lambda_ik)^2 phi_kk / [(sum_i lambda_ik)^2 phi_kk + sum_{i,j in k} theta_ij]
    """
    out = []
    for g, label in enumerate(groups):
        lam, phi, th, _nu, _al = engine.matrices(theta, g)
        for k, f in enumerate(spec.latent):
            idx = np.flatnonzero(lam[:, k])
            num = float(lam[idx, k].sum() ** 2 * phi[k, k])
            den = num + float(th[np.ix_(idx, idx)].sum())
            out.append((label, f, num / den if den > 0 else float("nan")))
    return out


def _heywood(engine: Engine, theta: F64, std_all: F64, groups: list[str]) -> list[str]:
    found = []
    for n, r in enumerate(engine.table):
        where = f" in group {groups[r.group]}" if len(groups) > 1 else ""
        v = r.value if r.index < 0 else theta[r.index]
        if r.kind in ("lv_cov", "resid_cov") and r.lhs == r.rhs and v < 0:
            what = "factor" if r.kind == "lv_cov" else "residual"
            found.append(f"negative {what} variance for {r.lhs}{where}: {v:.4f} (Heywood case)")
        elif r.kind == "loading" and abs(std_all[n]) > 1.0:
            found.append(f"standardized loading {r.lhs} =~ {r.rhs}{where} is {std_all[n]:.3f} "
                         "(beyond 1: Heywood case)")
        elif r.kind == "lv_cov" and r.lhs != r.rhs and abs(std_all[n]) > 1.0:
            found.append(f"factor correlation {r.lhs} ~~ {r.rhs}{where} is {std_all[n]:.3f} "
                         "(beyond 1: inadmissible)")
    return found


def fit_cfa(
    model: str | ModelSpec,
    data: pl.DataFrame | Mapping[str, Sequence[float]],
    *,
    group: str | None = None,
    group_equal: Iterable[str] = (),
    std_lv: bool = False,
    meanstructure: bool | None = None,
    max_iter: int = 500,
    allow_nonconvergence: bool = False,
) -> CFAResult:
    """Fit a CFA by maximum likelihood (lavaan conventions) and return estimates and fit.

    Parameters
    ----------
    model : str or ModelSpec
        lavaan-style syntax, e.g. ``"visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6"``.
    data : polars.DataFrame or mapping of column -> values
        One row per respondent; incomplete rows on the indicators are dropped (listwise).
    group : str, optional
        Column to fit a multi-group model by (adds a mean structure).
    group_equal : iterable of str
        Parameters held equal across groups: ``loadings``, ``intercepts``, ``residuals``,
        ``residual.covariances``, ``lv.variances``, ``lv.covariances``, ``means``.
    std_lv : bool
        Identify factors by fixing their variances to 1 instead of the first loading.
    meanstructure : bool, optional
        Model intercepts; default True with groups and False without (as lavaan).
    allow_nonconvergence : bool
        Return an unconverged result (``converged=False``) instead of raising.

    Returns
    -------
    CFAResult

    Raises
    ------
    SpecError
        Malformed model syntax or an unknown ``group_equal`` name.
    InputError
        Missing or non-numeric columns (named).
    AnalysisError
        Too few rows, a singular sample covariance, or non-convergence.

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> rng = np.random.default_rng(1)
    >>> f = rng.normal(size=500)
    >>> df = pl.DataFrame({f"y{i}": f + rng.normal(size=500) for i in range(1, 4)})
    >>> round(fit_cfa("f =~ y1 + y2 + y3", df).fit.df)
    0
    """
    spec = model if isinstance(model, ModelSpec) else parse_model(model)
    eq = frozenset(group_equal)
    unknown = eq - GROUP_EQUAL
    if unknown:
        from commonweal.errors import SpecError

        raise SpecError(f"unknown group_equal value(s): {', '.join(sorted(unknown))}",
                        [Problem(f"choose from {', '.join(sorted(GROUP_EQUAL))}")])
    observed = spec.observed
    parts, dropped = _prepare(data, observed, group)
    meanstructure = (group is not None) if meanstructure is None else meanstructure
    for label, x in parts:
        if x.shape[0] < 2:
            where = f" in group {label!r}" if label else ""
            raise AnalysisError(f"too few complete rows{where} ({x.shape[0]}) to fit the model")
    moments = [_moments(x) for _, x in parts]
    groups = [label for label, _ in parts]
    for label, mo in zip(groups, moments, strict=True):
        if np.linalg.slogdet(mo.cov)[0] <= 0:
            where = f" in group {label!r}" if label else ""
            raise AnalysisError(
                f"the sample covariance matrix{where} is not positive definite ({mo.n} complete "
                f"rows for {len(observed)} indicators; an item may be constant or a linear "
                "combination of others); the model cannot be fitted")
    table, n_free = build_table(spec, observed, len(parts), std_lv=std_lv,
                                meanstructure=meanstructure, group_equal=eq)
    engine = Engine(table, n_free, moments, len(spec.latent), meanstructure)
    start = _start_values(table, n_free, moments, spec, observed, std_lv)
    res: EngineFit = engine.fit(start, max_iter=max_iter)
    if not res.converged and not allow_nonconvergence:
        raise AnalysisError(
            f"the CFA did not converge after {res.iterations} iterations (largest gradient "
            f"{res.grad_norm:.2g}); estimates would not be trustworthy. "
            + " ".join(res.messages))
    return _result(spec, engine, res, groups, dropped, std_lv, eq)


def _result(spec: ModelSpec, engine: Engine, res: EngineFit, groups: list[str], dropped: int,
            std_lv: bool, eq: frozenset[str]) -> CFAResult:
    theta = res.theta
    fit = compute_fit_measures(engine, theta, res.fmin)
    lv, al = _standardized(engine, theta)
    se_all: F64 | None = None
    if res.vcov is not None:
        jac = np.zeros((len(engine.table), engine.q))
        for a in range(engine.q):
            h = 1e-6 * max(1.0, abs(theta[a]))
            tp, tm = theta.copy(), theta.copy()
            tp[a] += h
            tm[a] -= h
            jac[:, a] = (_standardized(engine, tp)[1] - _standardized(engine, tm)[1]) / (2 * h)
        se_all = np.sqrt(np.maximum(np.einsum("ia,ab,ib->i", jac, res.vcov, jac), 0.0))
    estimates = []
    multi = len(groups) > 1
    for n, r in enumerate(engine.table):
        free = r.index >= 0
        est = float(theta[r.index]) if free else r.value
        se = z = p = None
        if free and res.vcov is not None:
            se = float(math.sqrt(max(res.vcov[r.index, r.index], 0.0)))
            z = est / se if se > 0 else None
            p = float(2 * stats.norm.sf(abs(z))) if z is not None else None
        se_std = float(se_all[n]) if se_all is not None and se_all[n] > 1e-8 else None
        estimates.append(ParameterEstimate(
            group=groups[r.group] if multi else None, lhs=r.lhs, op=r.op, rhs=r.rhs,
            label=r.label, free=free, est=est, se=se, z=z, pvalue=p,
            std_lv=float(lv[n]), std_all=float(al[n]), se_std_all=se_std))
    warnings = list(res.messages)
    if not res.converged:
        warnings.insert(0, f"did not converge after {res.iterations} iterations "
                           f"(largest gradient {res.grad_norm:.2g}): do not trust these estimates")
    if fit.df < 0:
        warnings.append(f"the model has negative degrees of freedom ({fit.df}): not identified")
    for label, mo in zip(groups, engine.moments, strict=True):
        if mo.n < 10 * engine.p:
            where = f"group {label!r}" if label else "the sample"
            warnings.append(f"{where} has {mo.n} complete rows for {engine.p} indicators; ML "
                            "estimates and fit indices are unreliable in small samples")
    return CFAResult(
        model=spec.source, observed=spec.observed, latent=spec.latent,
        groups=tuple(groups) if multi else (), n_obs=tuple(m.n for m in engine.moments),
        n_dropped=dropped, std_lv=std_lv, group_equal=tuple(sorted(eq)),
        converged=res.converged, iterations=res.iterations, fit=fit,
        estimates=tuple(estimates), omega=tuple(_omega(engine, theta, spec, groups)),
        heywood=tuple(_heywood(engine, theta, al, groups)), warnings=tuple(warnings))


class CFA:
    """scikit-learn style wrapper around :func:`fit_cfa`.

    Examples
    --------
    >>> import numpy as np, polars as pl
    >>> rng = np.random.default_rng(0)
    >>> f = rng.normal(size=400)
    >>> df = pl.DataFrame({f"y{i}": f + rng.normal(size=400) for i in range(4)})
    >>> CFA("f =~ y0 + y1 + y2 + y3").fit(df).result_.fit.df
    2
    """

    def __init__(self, model: str, *, group: str | None = None,
                 group_equal: Iterable[str] = (), std_lv: bool = False,
                 meanstructure: bool | None = None, max_iter: int = 500) -> None:
        self.model = model
        self.group = group
        self.group_equal = tuple(group_equal)
        self.std_lv = std_lv
        self.meanstructure = meanstructure
        self.max_iter = max_iter

    def fit(self, data: pl.DataFrame | Mapping[str, Sequence[float]]) -> CFA:
        self.result_ = fit_cfa(self.model, data, group=self.group, group_equal=self.group_equal,
                               std_lv=self.std_lv, meanstructure=self.meanstructure,
                               max_iter=self.max_iter)
        self.fit_measures_ = self.result_.fit
        self.estimates_ = self.result_.estimates
        return self
