"""The maximum-likelihood core of the CFA engine: parameter table, model matrices, Fisher scoring.

Model per group *g* (LISREL all-y notation, as in lavaan)::

    Sigma_g = Lambda_g Phi_g Lambda_g' + Theta_g        mu_g = nu_g + Lambda_g alpha_g

Discrepancy (lavaan's ML, sample moments with divisor N_g)::

    F_g = log|Sigma_g| + tr(S_g Sigma_g^-1) - log|S_g| - p
          + (xbar_g - mu_g)' Sigma_g^-1 (xbar_g - mu_g)
    F   = sum_g (N_g / N) F_g,           chi-square T = N F

The estimate minimises F by Fisher scoring (Gauss-Newton with the expected information, step
halving when F does not decrease), which converges quadratically near the optimum. Standard errors
come from the expected information, ``cov(theta) = (N * I)^-1`` with
``I = sum_g (N_g/N) [ 1/2 tr(Sigma^-1 dSigma_a Sigma^-1 dSigma_b) + dmu_a' Sigma^-1 dmu_b ]``,
which is lavaan's default for complete-data ML (``information = "expected"``).

References: Bollen, K. A. (1989). *Structural Equations with Latent Variables*, ch. 4 and 7;
Rosseel, Y. (2012), lavaan, *J. Stat. Softw.* 48(2); Lee, S.-Y. & Jennrich, R. I. (1979),
A study of algorithms for covariance structure analysis, *Psychometrika* 44, 99-113.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from commonweal.analytics.surveys.syntax import ModelSpec, Term
from commonweal.errors import AnalysisError, Problem, SpecError

__all__ = ["Engine", "EngineFit", "GroupMoments", "Param", "build_table"]

Kind = Literal["loading", "lv_cov", "resid_cov", "intercept", "lv_mean"]
F64 = NDArray[np.float64]


@dataclass(slots=True)
class Param:
    """One row of the parameter table (one matrix cell in one group)."""

    group: int
    kind: Kind
    lhs: str
    rhs: str
    row: int
    col: int
    index: int  # position in the free-parameter vector, -1 when fixed
    value: float  # fixed value (or start value when free)
    label: str | None = None

    @property
    def op(self) -> str:
        return {"loading": "=~", "lv_cov": "~~", "resid_cov": "~~", "intercept": "~1",
                "lv_mean": "~1"}[self.kind]


@dataclass(frozen=True, slots=True)
class GroupMoments:
    """Sample moments of one group: covariance with divisor N (lavaan's ML convention)."""

    n: int
    mean: F64
    cov: F64


@dataclass(slots=True)
class EngineFit:
    theta: F64
    fmin: float
    iterations: int
    converged: bool
    grad_norm: float
    vcov: F64 | None
    messages: list[str] = field(default_factory=list)


def build_table(
    spec: ModelSpec,
    observed: tuple[str, ...],
    n_groups: int,
    *,
    std_lv: bool,
    meanstructure: bool,
    group_equal: frozenset[str],
) -> tuple[list[Param], int]:
    """Expand a model spec into a lavaan-like parameter table with equality constraints.

    ``group_equal`` may hold ``loadings``, ``intercepts``, ``residuals``, ``residual.covariances``,
    ``lv.variances``, ``lv.covariances`` and ``means`` (lavaan's names).
    """
    latent = spec.latent
    pos = {v: i for i, v in enumerate(observed)}
    lpos = {f: k for k, f in enumerate(latent)}
    rows: list[Param] = []
    shared: dict[tuple[object, ...], int] = {}
    labels: dict[str, int] = {}
    counter = [0]

    def new_index(key: tuple[object, ...] | None, label: str | None) -> int:
        if label is not None:
            if label not in labels:
                labels[label] = counter[0]
                counter[0] += 1
            return labels[label]
        if key is not None:
            if key not in shared:
                shared[key] = counter[0]
                counter[0] += 1
            return shared[key]
        counter[0] += 1
        return counter[0] - 1

    # user ~~ statements, keyed by unordered pair
    user_cov: dict[frozenset[str], tuple[str, str, Term]] = {}
    for lhs, term in spec.covariances:
        for name in (lhs, term.name):
            if name not in pos and name not in lpos:
                raise SpecError(
                    f"model syntax: {name!r} in '{lhs} ~~ {term.name}' is neither a factor "
                    "nor an indicator", [Problem(f"unknown variable {name!r}", file="model")])
        if (lhs in lpos) != (term.name in lpos):
            raise SpecError(
                f"model syntax: '{lhs} ~~ {term.name}' mixes a factor and an indicator",
                [Problem("covariance between a factor and an indicator", file="model")])
        user_cov[frozenset((lhs, term.name))] = (lhs, term.name, term)

    for g in range(n_groups):
        later = g > 0
        for f, terms in spec.factors.items():
            k = lpos[f]
            for j, t in enumerate(terms):
                i = pos[t.name]
                marker = j == 0 and not std_lv and not t.force_free and t.fixed is None
                if t.fixed is not None or marker:
                    lval = 1.0 if t.fixed is None else t.fixed
                    rows.append(Param(g, "loading", f, t.name, i, k, -1, lval, t.label))
                    continue
                key = ("loading", f, t.name) if "loadings" in group_equal else None
                idx = new_index(key, t.label)
                rows.append(Param(g, "loading", f, t.name, i, k, idx, np.nan, t.label))
        # latent variances and covariances
        for a, fa in enumerate(latent):
            for b in range(a + 1):
                fb = latent[b]
                user = user_cov.get(frozenset((fa, fb)))
                if a == b:
                    eq = "lv.variances" in group_equal
                    fixed_default = std_lv and not (later and "loadings" in group_equal)
                    default_val = 1.0 if fixed_default else None
                else:
                    eq = "lv.covariances" in group_equal
                    default_val = None
                val: float | None = default_val
                label: str | None = None
                if user is not None:
                    term = user[2]
                    val, label = term.fixed, term.label
                    if val is None and not term.force_free and default_val is not None:
                        val = default_val
                if val is not None:
                    rows.append(Param(g, "lv_cov", fa, fb, a, b, -1, val, label))
                else:
                    key = ("lv_cov", fa, fb) if eq else None
                    idx = new_index(key, label)
                    rows.append(Param(g, "lv_cov", fa, fb, a, b, idx, np.nan, label))
        # residual variances and user residual covariances
        for i, v in enumerate(observed):
            vuser = user_cov.get(frozenset((v,)))
            fixed = vuser[2].fixed if vuser is not None else None
            label = vuser[2].label if vuser is not None else None
            if fixed is not None:
                rows.append(Param(g, "resid_cov", v, v, i, i, -1, fixed, label))
            else:
                rkey = ("resid", v) if "residuals" in group_equal else None
                idx = new_index(rkey, label)
                rows.append(Param(g, "resid_cov", v, v, i, i, idx, np.nan, label))
        for pair, (lhs, rhs, cterm) in user_cov.items():
            if len(pair) == 2 and lhs in pos:
                i, j = sorted((pos[lhs], pos[rhs]), reverse=True)
                fixed = cterm.fixed
                label = cterm.label
                if fixed is not None:
                    rows.append(Param(g, "resid_cov", lhs, rhs, i, j, -1, fixed, label))
                else:
                    key = ("rcov", lhs, rhs) if "residual.covariances" in group_equal else None
                    rows.append(
                        Param(g, "resid_cov", lhs, rhs, i, j, new_index(key, label), np.nan, label))
        if meanstructure:
            for i, v in enumerate(observed):
                ikey = ("int", v) if "intercepts" in group_equal else None
                rows.append(Param(g, "intercept", v, "", i, 0, new_index(ikey, None), np.nan))
            free_means = later and "intercepts" in group_equal and "means" not in group_equal
            for k, f in enumerate(latent):
                if free_means:
                    rows.append(Param(g, "lv_mean", f, "", k, 0, new_index(None, None), np.nan))
                else:
                    rows.append(Param(g, "lv_mean", f, "", k, 0, -1, 0.0))
    return rows, counter[0]


class Engine:
    """Evaluate F, its gradient and expected information for a parameter table and data."""

    def __init__(
        self, table: list[Param], n_free: int, moments: list[GroupMoments], n_latent: int,
        meanstructure: bool,
    ) -> None:
        self.table = table
        self.q = n_free
        self.moments = moments
        self.p = moments[0].cov.shape[0]
        self.m = n_latent
        self.meanstructure = meanstructure
        self.n_total = sum(mo.n for mo in moments)
        self.weights = [mo.n / self.n_total for mo in moments]
        self.by_group = [[r for r in table if r.group == g] for g in range(len(moments))]
        self.logdet_s = []
        for mo in moments:
            sign, ld = np.linalg.slogdet(mo.cov)
            if sign <= 0:
                raise AnalysisError(
                    "the sample covariance matrix is not positive definite (an item is constant "
                    "or a linear combination of others); the model cannot be fitted")
            self.logdet_s.append(float(ld))

    def matrices(self, theta: F64, g: int) -> tuple[F64, F64, F64, F64, F64]:
        lam = np.zeros((self.p, self.m))
        phi = np.zeros((self.m, self.m))
        th = np.zeros((self.p, self.p))
        nu = np.zeros(self.p)
        al = np.zeros(self.m)
        for r in self.by_group[g]:
            v = r.value if r.index < 0 else theta[r.index]
            if r.kind == "loading":
                lam[r.row, r.col] = v
            elif r.kind == "lv_cov":
                phi[r.row, r.col] = phi[r.col, r.row] = v
            elif r.kind == "resid_cov":
                th[r.row, r.col] = th[r.col, r.row] = v
            elif r.kind == "intercept":
                nu[r.row] = v
            else:
                al[r.row] = v
        return lam, phi, th, nu, al

    def implied(self, theta: F64, g: int) -> tuple[F64, F64]:
        lam, phi, th, nu, al = self.matrices(theta, g)
        sigma = lam @ phi @ lam.T + th
        mu = nu + lam @ al if self.meanstructure else self.moments[g].mean.copy()
        return sigma, mu

    def derivatives(self, theta: F64, g: int) -> tuple[F64, F64]:
        """dSigma (q, p, p) and dmu (q, p) with respect to the free parameters, for group g."""
        lam, phi, _th, _nu, al = self.matrices(theta, g)
        ds = np.zeros((self.q, self.p, self.p))
        dm = np.zeros((self.q, self.p))
        lp = lam @ phi
        for r in self.by_group[g]:
            a = r.index
            if a < 0:
                continue
            if r.kind == "loading":
                i, k = r.row, r.col
                ds[a, i, :] += lp[:, k]
                ds[a, :, i] += lp[:, k]
                if self.meanstructure:
                    dm[a, i] += al[k]
            elif r.kind == "lv_cov":
                k, l_ = r.row, r.col
                outer = np.outer(lam[:, k], lam[:, l_])
                ds[a] += outer if k == l_ else outer + outer.T
            elif r.kind == "resid_cov":
                i, j = r.row, r.col
                ds[a, i, j] += 1.0
                if i != j:
                    ds[a, j, i] += 1.0
            elif r.kind == "intercept":
                dm[a, r.row] += 1.0
            else:
                dm[a] += lam[:, r.row]
        return ds, dm

    def objective(self, theta: F64) -> float:
        total = 0.0
        for g, mo in enumerate(self.moments):
            sigma, mu = self.implied(theta, g)
            sign, ld = np.linalg.slogdet(sigma)
            if sign <= 0:
                return np.inf
            inv = np.linalg.inv(sigma)
            d = mo.mean - mu
            fg = ld + np.trace(mo.cov @ inv) - self.logdet_s[g] - self.p + d @ inv @ d
            total += self.weights[g] * fg
        return float(total)

    def gradient_information(self, theta: F64) -> tuple[F64, F64]:
        grad = np.zeros(self.q)
        info = np.zeros((self.q, self.q))
        for g, mo in enumerate(self.moments):
            sigma, mu = self.implied(theta, g)
            inv = np.linalg.inv(sigma)
            ds, dm = self.derivatives(theta, g)
            d = mo.mean - mu
            gmat = inv @ (sigma - mo.cov - np.outer(d, d)) @ inv
            w = self.weights[g]
            grad += w * (np.einsum("ij,aij->a", gmat, ds) - 2.0 * dm @ (inv @ d))
            a_mats = np.einsum("ij,ajk->aik", inv, ds)
            info += w * (0.5 * np.einsum("aij,bji->ab", a_mats, a_mats) + dm @ inv @ dm.T)
        return grad, info

    def fit(self, start: F64, *, max_iter: int = 500, tol: float = 1e-10) -> EngineFit:
        theta = start.copy()
        f = self.objective(theta)
        if not np.isfinite(f):
            raise AnalysisError("the starting values give a model-implied covariance matrix that "
                                "is not positive definite")
        messages: list[str] = []
        converged = False
        gnorm = np.inf
        it = 0
        for it in range(1, max_iter + 1):  # noqa: B007
            grad, info = self.gradient_information(theta)
            gnorm = float(np.max(np.abs(grad)))
            if gnorm < tol:
                converged = True
                break
            try:
                step = np.linalg.solve(2.0 * info, -grad)
            except np.linalg.LinAlgError:
                step = -np.linalg.pinv(2.0 * info) @ grad
            t = 1.0
            while True:
                cand = theta + t * step
                fc = self.objective(cand)
                if np.isfinite(fc) and fc <= f + 1e-14 * abs(f):
                    break
                t /= 2.0
                if t < 1e-10:
                    break
            if t < 1e-10:
                # no descent along the scoring direction: try the gradient direction once
                cand = theta - 1e-3 * grad
                fc = self.objective(cand)
                if not (np.isfinite(fc) and fc < f):
                    messages.append("line search failed: no step decreases the discrepancy")
                    break
            theta, f_old, f = cand, f, fc
            if abs(f_old - f) < 1e-15 and gnorm < 1e-6:
                converged = True
                break
        grad, info = self.gradient_information(theta)
        gnorm = float(np.max(np.abs(grad)))
        if gnorm < 1e-6:
            converged = True
        vcov: F64 | None
        eig = np.linalg.eigvalsh(info)
        if eig[0] <= 1e-10 * max(eig[-1], 1.0):
            vcov = None
            messages.append(
                "the information matrix is singular: the model is not identified (standard "
                "errors cannot be computed)")
        else:
            vcov = np.asarray(np.linalg.inv(self.n_total * info), dtype=np.float64)
        return EngineFit(theta, f, it, converged, gnorm, vcov, messages)
