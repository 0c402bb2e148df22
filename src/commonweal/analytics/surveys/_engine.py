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
from typing import Literal, cast

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
        self._fixed: dict[tuple[int, str], F64] = {}
        self.idx = [self._index(g) for g in range(len(moments))]
        self.table_arrays = (
            np.array([r.group for r in table], dtype=np.intp),
            np.array([r.row for r in table], dtype=np.intp),
            np.array([r.col for r in table], dtype=np.intp),
            np.array([r.index for r in table], dtype=np.intp),
            np.array([r.kind for r in table]),
            np.array([r.value for r in table], dtype=np.float64),
        )
        self.logdet_s = []
        for mo in moments:
            sign, ld = np.linalg.slogdet(mo.cov)
            if sign <= 0:
                raise AnalysisError(
                    "the sample covariance matrix is not positive definite (an item is constant "
                    "or a linear combination of others); the model cannot be fitted")
            self.logdet_s.append(float(ld))

    def _index(self, g: int) -> dict[str, tuple[NDArray[np.intp], ...]]:
        """Per kind: (row, col, index, fixed value) arrays of group g's table rows."""
        out: dict[str, tuple[NDArray[np.intp], ...]] = {}
        rows = self.by_group[g]
        for kind in ("loading", "lv_cov", "resid_cov", "intercept", "lv_mean"):
            sel = [r for r in rows if r.kind == kind]
            out[kind] = (np.array([r.row for r in sel], dtype=np.intp),
                         np.array([r.col for r in sel], dtype=np.intp),
                         np.array([r.index for r in sel], dtype=np.intp))
            self._fixed[(g, kind)] = np.array([r.value for r in sel], dtype=np.float64)
        return out

    def _values(self, theta: F64, g: int, kind: str) -> F64:
        idx = self.idx[g][kind][2]
        fixed = self._fixed[(g, kind)]
        return np.where(idx >= 0, theta[np.maximum(idx, 0)], fixed) if idx.size else fixed

    def matrices(self, theta: F64, g: int) -> tuple[F64, F64, F64, F64, F64]:
        lam = np.zeros((self.p, self.m))
        phi = np.zeros((self.m, self.m))
        th = np.zeros((self.p, self.p))
        nu = np.zeros(self.p)
        al = np.zeros(self.m)
        ix = self.idx[g]
        r, c, _ = ix["loading"]
        lam[r, c] = self._values(theta, g, "loading")
        r, c, _ = ix["lv_cov"]
        v = self._values(theta, g, "lv_cov")
        phi[r, c] = v
        phi[c, r] = v
        r, c, _ = ix["resid_cov"]
        v = self._values(theta, g, "resid_cov")
        th[r, c] = v
        th[c, r] = v
        nu[ix["intercept"][0]] = self._values(theta, g, "intercept")
        al[ix["lv_mean"][0]] = self._values(theta, g, "lv_mean")
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
        ix = self.idx[g]
        r, c, a = ix["loading"]
        f = a >= 0
        r, c, a = r[f], c[f], a[f]
        if a.size:
            vals = lp[:, c].T  # (n, p)
            np.add.at(ds, (a, r), vals)  # row i of dSigma
            np.add.at(ds.transpose(0, 2, 1), (a, r), vals)  # column i (a view of ds)
            if self.meanstructure:
                np.add.at(dm, (a, r), al[c])
        r, c, a = ix["lv_cov"]
        f = a >= 0
        r, c, a = r[f], c[f], a[f]
        if a.size:
            outer = lam[:, r].T[:, :, None] * lam[:, c].T[:, None, :]
            off = r != c
            outer[off] += np.transpose(outer[off], (0, 2, 1))
            np.add.at(ds, a, outer)
        r, c, a = ix["resid_cov"]
        f = a >= 0
        r, c, a = r[f], c[f], a[f]
        if a.size:
            np.add.at(ds, (a, r, c), 1.0)
            off = r != c
            np.add.at(ds, (a[off], c[off], r[off]), 1.0)
        r, _, a = ix["intercept"]
        f = a >= 0
        np.add.at(dm, (a[f], r[f]), 1.0)
        r, _, a = ix["lv_mean"]
        f = a >= 0
        if f.any():
            np.add.at(dm, a[f], lam[:, r[f]].T)
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

    def _group_terms(self, theta: F64, g: int) -> tuple[F64, F64, F64, F64, F64]:
        mo = self.moments[g]
        sigma, mu = self.implied(theta, g)
        inv = cast(F64, np.linalg.inv(sigma))
        ds, dm = self.derivatives(theta, g)
        d = mo.mean - mu
        gmat = inv @ (sigma - mo.cov - np.outer(d, d)) @ inv
        grad = cast(F64, np.einsum("ij,aij->a", gmat, ds) - 2.0 * dm @ (inv @ d))
        return grad, inv, ds, dm, gmat

    def gradient(self, theta: F64) -> F64:
        """dF/dtheta, F = sum_g w_g F_g; per group tr(G dSigma_a) - 2 dmu_a' Sigma^-1 d with
        G = Sigma^-1 (Sigma - S - d d') Sigma^-1 and d = xbar - mu."""
        grad = np.zeros(self.q)
        for g in range(len(self.moments)):
            grad += self.weights[g] * self._group_terms(theta, g)[0]
        return grad

    def gradient_information(self, theta: F64) -> tuple[F64, F64]:
        grad = np.zeros(self.q)
        info = np.zeros((self.q, self.q))
        for g in range(len(self.moments)):
            gg, inv, ds, dm, _ = self._group_terms(theta, g)
            w = self.weights[g]
            grad += w * gg
            a_mats = np.matmul(inv, ds)  # (q, p, p)
            flat = a_mats.reshape(self.q, -1)
            flat_t = np.transpose(a_mats, (0, 2, 1)).reshape(self.q, -1)
            info += w * (0.5 * flat @ flat_t.T + dm @ inv @ dm.T)
        return grad, info

    def _line_search(self, theta: F64, f: float, step: F64, grad: F64) -> tuple[F64, float] | None:
        """Backtracking (Armijo) along ``step``; None when no step decreases F."""
        slope = float(grad @ step)
        if slope >= 0:
            return None
        t = 1.0
        while t >= 1e-10:
            cand = theta + t * step
            fc = self.objective(cand)
            if np.isfinite(fc) and fc <= f + 1e-4 * t * slope:
                return cand, fc
            t /= 2.0
        return None

    def fit(self, start: F64, *, max_iter: int = 500, tol: float = 1e-8) -> EngineFit:
        """Fisher scoring from ``start`` until the largest gradient is below 1e-3, then BFGS
        (initial Hessian 2 I, the scoring metric) to ``tol``: scoring is robust far from the
        optimum but only linear near it when the model misfits; BFGS finishes superlinearly."""
        theta = start.copy()
        f = self.objective(theta)
        if not np.isfinite(f):
            raise AnalysisError("the starting values give a model-implied covariance matrix that "
                                "is not positive definite")
        messages: list[str] = []
        converged = False
        it = 0
        grad, info = self.gradient_information(theta)
        hess = 2.0 * info
        while it < max_iter:
            gnorm = float(np.max(np.abs(grad)))
            if gnorm < tol:
                converged = True
                break
            it += 1
            scoring = gnorm > 1e-3
            try:
                step = cast(F64, np.linalg.solve(hess, -grad))
            except np.linalg.LinAlgError:
                step = -np.linalg.pinv(hess) @ grad
            found = self._line_search(theta, f, step, grad)
            if found is None:
                found = self._line_search(theta, f, -grad, grad)  # steepest descent fallback
            if found is None:
                if gnorm < 1e-6:
                    converged = True  # at machine precision of F
                else:
                    messages.append("line search failed: no step decreases the discrepancy")
                break
            new_theta, f_new = found
            stalled = f - f_new <= 1e-15 * max(1.0, abs(f))
            f = f_new
            if stalled and gnorm < 1e-6:
                theta = new_theta
                converged = True  # F no longer changes in floating point
                break
            if scoring:
                grad_new, info = self.gradient_information(new_theta)
                hess = 2.0 * info
            else:
                grad_new = self.gradient(new_theta)
                s_vec, y_vec = new_theta - theta, grad_new - grad
                sy = float(s_vec @ y_vec)
                if sy > 1e-16:
                    hs = hess @ s_vec
                    hess = hess - np.outer(hs, hs) / float(s_vec @ hs) + np.outer(y_vec, y_vec) / sy
            theta, grad = new_theta, grad_new
        grad, info = self.gradient_information(theta)
        gnorm = float(np.max(np.abs(grad)))
        if gnorm < tol:
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
