"""Variance-based (Sobol) sensitivity of unit ranks to each uncertain choice.

Factors are the choices of :class:`~commonweal.analytics.indicators.uncertainty.Alternatives`
that vary: normalisation, imputation, aggregation (one uniform each, mapped to an option) and
weights (a group of uniforms, mapped through the gamma quantile function to Dirichlet draws).
Sampling follows Saltelli et al. (2010), Comput. Phys. Commun. 181:259-270: two base matrices
A and B of N scrambled-Sobol points, and for each factor i the matrix A_B^i (A with factor i's
columns from B), N (d + 2) evaluations in all. Per unit u with output y = rank of u:

- first order  S_i = mean(f(B) (f(A_B^i) - f(A))) / V            (Saltelli 2010, eq. b)
- total order  ST_i = mean((f(A) - f(A_B^i))^2) / (2 V)          (Jansen 1999)

with V the variance of f over A and B. The summary over units weights each unit by its variance
(aggregated Sobol indices, Gamboa, Janon, Klein & Lagnoux 2014, Electron. J. Stat. 8:575-603):
``S_i = sum_u V_u S_iu / sum_u V_u``. Bootstrap intervals resample the N rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl
from numpy.typing import NDArray
from scipy.stats import gamma, qmc

from commonweal.analytics.indicators.spec import IndexSpec
from commonweal.analytics.indicators.uncertainty import (
    Alternatives,
    Config,
    UncertaintyModel,
    evaluate_configs,
)
from commonweal.errors import AnalysisError
from commonweal.exec import Executor

__all__ = ["SensitivityResult", "run_sensitivity"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class SensitivityResult:
    """Aggregated first- and total-order Sobol indices of the ranks, per factor."""

    factors: tuple[str, ...]
    first_order: FloatArray
    total_order: FloatArray
    first_order_ci: FloatArray  # (n_factors, 2)
    total_order_ci: FloatArray
    n_base: int
    n_runs: int
    seed: int

    def frame(self) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "factor": list(self.factors),
                "first_order": self.first_order,
                "first_order_lo": self.first_order_ci[:, 0],
                "first_order_hi": self.first_order_ci[:, 1],
                "total_order": self.total_order,
                "total_order_lo": self.total_order_ci[:, 0],
                "total_order_hi": self.total_order_ci[:, 1],
            }
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "n_base": self.n_base,
            "n_runs": self.n_runs,
            "seed": self.seed,
            "factors": self.frame().to_dicts(),
        }


def _factor_layout(model: UncertaintyModel) -> list[tuple[str, int]]:
    alt = model.alternatives
    out: list[tuple[str, int]] = []
    for name in ("normalisations", "imputations", "aggregations"):
        if len(alt.options(name)) > 1:
            out.append((name, 1))
    if alt.weight_concentration is not None:
        out.append(("weights", sum(len(model.nominal_weights[n]) for n in model.weighted_nodes)))
    return out


def _to_config(model: UncertaintyModel, u: FloatArray, layout: list[tuple[str, int]]) -> Config:
    alt = model.alternatives
    idx = {"normalisations": 0, "imputations": 0, "aggregations": 0}
    weights: dict[str, FloatArray] = {}
    col = 0
    for name, width in layout:
        part = u[col : col + width]
        col += width
        if name == "weights":
            c = float(alt.weight_concentration or 1.0)
            k = 0
            for node in model.weighted_nodes:
                w0 = model.nominal_weights[node]
                g = gamma.ppf(np.clip(part[k : k + len(w0)], 1e-12, 1 - 1e-12), c * w0 / w0.sum())
                k += len(w0)
                weights[node] = g / g.sum() * w0.sum()
        else:
            m = len(alt.options(name))
            idx[name] = min(int(part[0] * m), m - 1)
    return Config(idx["normalisations"], idx["imputations"], idx["aggregations"], weights)


def _indices(ya: FloatArray, yb: FloatArray, yab: FloatArray) -> tuple[float, float]:
    """Aggregated S and ST for one factor; arrays are (N, n_units)."""
    var = np.concatenate([ya, yb]).var(axis=0)
    tot = var.sum()
    if tot == 0:
        return 0.0, 0.0
    s = float(np.mean(yb * (yab - ya), axis=0).sum() / tot)
    st = float((0.5 * np.mean((ya - yab) ** 2, axis=0)).sum() / tot)
    return s, st


def _bootstrap(ya: FloatArray, yb: FloatArray, yab: FloatArray, counts: FloatArray) -> FloatArray:
    """S and ST of :func:`_indices` for every bootstrap resample at once: (n_boot, 2).

    ``counts[b, r]`` is how often base row r is drawn in resample b. Sums over units are taken
    first, so each resample costs one product with ``counts`` instead of a pass over all units.
    """
    n = ya.shape[0]
    mean = counts @ (ya + yb) / (2 * n)  # per-unit means of the pooled A and B outputs
    sq = counts @ (ya**2 + yb**2).sum(axis=1) / (2 * n)
    tot = sq - (mean**2).sum(axis=1)
    num1 = counts @ (yb * (yab - ya)).sum(axis=1) / n
    numt = counts @ (0.5 * (ya - yab) ** 2).sum(axis=1) / n
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.column_stack(
            [np.where(tot > 0, num1 / tot, 0.0), np.where(tot > 0, numt / tot, 0.0)]
        )


def run_sensitivity(
    spec: IndexSpec,
    frame: pl.DataFrame,
    *,
    alternatives: Alternatives,
    n_base: int = 256,
    seed: int = 0,
    executor: Executor | None = None,
    batch: int = 64,
    n_bootstrap: int = 200,
    on_done: Callable[[int], None] | None = None,
) -> SensitivityResult:
    """First- and total-order Sobol indices of unit ranks (see the module docstring).

    ``n_base`` (N) should be a power of two (scrambled Sobol points); the index is evaluated
    N (d + 2) times for d varying factors. Seeded and reproducible on every backend.
    """
    model = UncertaintyModel.build(spec, frame, alternatives)
    layout = _factor_layout(model)
    if not layout:
        raise AnalysisError("nothing varies: give alternatives or a weight concentration")
    dims = sum(w for _, w in layout)
    ss = np.random.SeedSequence(seed)
    sampler = qmc.Sobol(d=2 * dims, scramble=True, seed=np.random.default_rng(ss))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore", UserWarning
        )  # non-power-of-two N is allowed, just less balanced
        base = sampler.random(n_base)
    a, b = base[:, :dims], base[:, dims:]
    mats = [a, b]
    col = 0
    for _, width in layout:
        ab = a.copy()
        ab[:, col : col + width] = b[:, col : col + width]
        col += width
        mats.append(ab)
    configs = [_to_config(model, row, layout) for m in mats for row in m]
    ranks = evaluate_configs(model, configs, executor=executor, batch=batch, on_done=on_done)
    y = ranks.astype(np.float64).reshape(len(mats), n_base, -1)
    keep = (ranks > 0).all(axis=0)  # units ranked in every run
    y = y[:, :, keep]
    d = len(layout)
    s1, st = np.zeros(d), np.zeros(d)
    ci1, cit = np.zeros((d, 2)), np.zeros((d, 2))
    rng = np.random.default_rng(ss.spawn(1)[0])
    boots = rng.integers(0, n_base, size=(n_bootstrap, n_base))
    counts = np.zeros((n_bootstrap, n_base))
    np.add.at(counts, (np.repeat(np.arange(n_bootstrap), n_base), boots.ravel()), 1.0)
    for i in range(d):
        s1[i], st[i] = _indices(y[0], y[1], y[2 + i])
        bs = _bootstrap(y[0], y[1], y[2 + i], counts) if n_bootstrap else np.zeros((1, 2))
        ci1[i] = np.quantile(bs[:, 0], [0.025, 0.975])
        cit[i] = np.quantile(bs[:, 1], [0.025, 0.975])
    return SensitivityResult(
        factors=tuple(name for name, _ in layout),
        first_order=s1,
        total_order=st,
        first_order_ci=ci1,
        total_order_ci=cit,
        n_base=n_base,
        n_runs=len(configs),
        seed=seed,
    )
