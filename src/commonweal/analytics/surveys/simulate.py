"""Simulate respondents from a factor model with known parameters (for recovery tests, demos and
benchmarks).

    y = nu + Lambda eta + eps,   eta ~ N(alpha, Phi),   eps ~ N(0, Theta = diag(theta))
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
from numpy.typing import ArrayLike

from commonweal.errors import InputError

__all__ = ["simulate_factor_data", "to_likert"]


def simulate_factor_data(
    loadings: ArrayLike,
    phi: ArrayLike,
    residual_variances: ArrayLike,
    n: int,
    *,
    intercepts: ArrayLike | None = None,
    factor_means: ArrayLike | None = None,
    names: Sequence[str] | None = None,
    seed: int = 0,
) -> pl.DataFrame:
    """Draw ``n`` respondents from a CFA model.

    Examples
    --------
    >>> df = simulate_factor_data([[1.0], [0.8], [0.6]], [[1.0]], [0.5, 0.5, 0.5], 10)
    >>> df.shape
    (10, 3)
    """
    lam = np.atleast_2d(np.asarray(loadings, dtype=float))
    ph = np.atleast_2d(np.asarray(phi, dtype=float))
    th = np.asarray(residual_variances, dtype=float)
    p, m = lam.shape
    if ph.shape != (m, m) or th.shape != (p,):
        raise InputError("shapes of loadings, phi and residual variances do not agree")
    rng = np.random.default_rng(seed)
    mu_eta = np.zeros(m) if factor_means is None else np.asarray(factor_means, dtype=float)
    eta = rng.multivariate_normal(mu_eta, ph, size=n)
    eps = rng.normal(size=(n, p)) * np.sqrt(th)
    nu = np.zeros(p) if intercepts is None else np.asarray(intercepts, dtype=float)
    y = nu + eta @ lam.T + eps
    cols = list(names) if names is not None else [f"y{i + 1}" for i in range(p)]
    return pl.DataFrame({c: y[:, i] for i, c in enumerate(cols)})


def to_likert(frame: pl.DataFrame, categories: int = 5, *, low: int = 1) -> pl.DataFrame:
    """Cut each column at its quantiles into ``categories`` ordered integer responses."""
    out = {}
    for c in frame.columns:
        x = frame[c].to_numpy()
        cuts = np.quantile(x, np.linspace(0, 1, categories + 1)[1:-1])
        out[c] = (np.searchsorted(cuts, x) + low).astype(np.int64)
    return pl.DataFrame(out)
