"""Benchmark: composite-index computation and Monte-Carlo rank uncertainty, commonweal vs pandas.

1. CDC SVI 2018 county index (3,142 counties) from the EP_* columns: commonweal's spec engine vs a
   straightforward pandas implementation of the same rules; both checked against CDC's file.
2. Monte-Carlo uncertainty: 84,000 units x 100 indicators x 1,000 Dirichlet weight draws, the
   units ranked in every draw, then each unit's median and 5-95 % rank interval. commonweal
   (serial and 2-process executor) vs a pandas loop (DataFrame.dot + Series.rank per draw).
   Both are checked to give identical ranks for the same weights.

Run: /work/venv/bin/python benchmarks/index_uncertainty.py   (pandas is in the `bench` extra)
The last line printed is one JSON object with the figures and ratios.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl

from commonweal.analytics.indicators import (
    Alternatives,
    compute,
    load_spec,
    parse_spec,
    run_uncertainty,
)
from commonweal.analytics.indicators.uncertainty import Config, UncertaintyModel, evaluate_configs
from commonweal.exec import Executor

DATA = (
    Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "svi" / "SVI2018_US_COUNTY.csv"
)
N_UNITS, N_IND, N_DRAWS, CONC, SEED = 84_000, 100, 1_000, 50.0, 2026


def _cpu() -> float:
    """CPU seconds of this process (all threads) and of its finished child processes."""
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + ch.ru_utime + ch.ru_stime


CPU: dict[str, float] = {}


def timed(fn, repeat: int = 1, name: str | None = None):  # type: ignore[no-untyped-def]
    """Median wall time over ``repeat`` runs; CPU seconds of the last run kept under ``name``.

    The machine these numbers come from is shared (see load_average_*): wall times there are
    inflated, CPU seconds much less so.
    """
    times, out = [], None
    for _ in range(repeat):
        c, t = _cpu(), time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
        if name:
            CPU[name] = _cpu() - c
    return statistics.median(times), out


# ---------------------------------------------------------------------------------------- SVI
THEMES = {
    1: ["POV", "UNEMP", "PCI", "NOHSDP"],
    2: ["AGE65", "AGE17", "DISABL", "SNGPNT"],
    3: ["MINRTY", "LIMENG"],
    4: ["MUNIT", "MOBILE", "CROWD", "NOVEH", "GROUPQ"],
}


def pandas_svi(df: pd.DataFrame) -> pd.DataFrame:
    """The SVI rules written directly in pandas (the peer a user would otherwise write)."""

    def prank(s: pd.Series) -> pd.Series:
        r = s.rank(method="min")
        return ((r - 1) / (s.notna().sum() - 1)).round(4)

    out = pd.DataFrame({"FIPS": df["FIPS"]})
    total = 0
    for k, vars_ in THEMES.items():
        spl = 0
        for v in vars_:
            x = df[f"EP_{v}"].astype(float).replace(-999, np.nan).round(1)
            e = prank(x)
            if v == "PCI":
                e = (1 - e).round(4)
            out[f"EPL_{v}"] = e
            spl = spl + e
        spl = spl.round(4)
        out[f"SPL_THEME{k}"] = spl
        out[f"RPL_THEME{k}"] = prank(spl)
        total = total + spl
    total = total.round(4)
    out["SPL_THEMES"], out["RPL_THEMES"] = total, prank(total)
    return out.fillna(-999)


def bench_svi() -> dict[str, object]:
    if not DATA.is_file():
        return {"skipped": f"{DATA} absent"}
    spec = load_spec("cdc-svi-2018-county")
    frame = pl.read_csv(DATA, schema_overrides={"FIPS": pl.Utf8})  # typed, as pandas reads it
    pdf = pd.read_csv(DATA, dtype={"FIPS": str})
    t_cw, res = timed(lambda: compute(spec, frame), 7)
    t_pd, pres = timed(lambda: pandas_svi(pdf), 7)
    cdc = pdf.set_index("FIPS")
    ours = pd.DataFrame(res.frame.to_dict(as_series=False)).set_index("FIPS")
    pres = pres.set_index("FIPS")
    cols = list(pres.columns)
    match_cw = {
        c: int((np.abs(ours[c].astype(float) - cdc[c]) < 1e-9).sum()) for c in spec.output_columns
    }
    match_pd = {c: int((np.abs(pres[c] - cdc[c]) < 1e-9).sum()) for c in cols}
    print(
        f"SVI 2018 county: commonweal {t_cw * 1e3:.1f} ms, pandas {t_pd * 1e3:.1f} ms (median of 7)"
    )
    print(
        f"  commonweal matches CDC in {sum(v == 3142 for v in match_cw.values())}/{len(match_cw)} columns "
        f"(all 3142 counties); pandas in {sum(v == 3142 for v in match_pd.values())}/{len(match_pd)}"
    )
    return {
        "svi_units": int(len(cdc)),
        "svi_commonweal_s": round(t_cw, 5),
        "svi_pandas_s": round(t_pd, 5),
        "svi_ratio_pandas_over_commonweal": round(t_pd / t_cw, 2),
        "svi_columns_exact": f"{sum(v == 3142 for v in match_cw.values())}/{len(match_cw)}",
        "svi_pandas_columns_exact": f"{sum(v == 3142 for v in match_pd.values())}/{len(match_pd)}",
    }


# ---------------------------------------------------------------------------------- Monte Carlo
def mc_spec():  # type: ignore[no-untyped-def]
    inds = "\n".join(f'[[indicator]]\ncode = "x{k:03d}"\nparent = "INDEX"\n' for k in range(N_IND))
    return parse_spec(
        tomllib.loads(f"""
[index]
id = "bench"
unit = "unit"
[defaults.indicator]
normalise = "minmax"
[[node]]
code = "INDEX"
aggregate = "arithmetic"
score_output = "INDEX"
{inds}
""")
    )


def pandas_mc(df: pd.DataFrame, weights: np.ndarray) -> pd.DataFrame:
    """Straightforward pandas: normalise once, then per draw a weighted mean and a rank."""
    norm = (df - df.min()) / (df.max() - df.min())
    ranks = {}
    for d in range(weights.shape[0]):
        score = norm.dot(weights[d]) / weights[d].sum()
        ranks[d] = score.rank(ascending=False, method="min").astype("int32")
    r = pd.DataFrame(ranks)
    return pd.DataFrame(
        {
            "median_rank": r.median(axis=1),
            "rank_q05": r.quantile(0.05, axis=1),
            "rank_q95": r.quantile(0.95, axis=1),
        }
    )


def bench_mc() -> dict[str, object]:
    rng = np.random.default_rng(SEED)
    # a latent "vulnerability" per unit plus indicator noise, so ranks carry signal
    x = rng.gamma(2.0, 10.0, size=(N_UNITS, 1)) + rng.gamma(2.0, 5.0, size=(N_UNITS, N_IND))
    cols = [f"x{k:03d}" for k in range(N_IND)]
    frame = pl.DataFrame(
        {"unit": [f"{k:06d}" for k in range(N_UNITS)], **{c: x[:, j] for j, c in enumerate(cols)}}
    )
    pdf = pd.DataFrame(x, columns=cols)
    spec = mc_spec()
    alt = Alternatives(weight_concentration=CONC)

    # identical ranks for identical weights (8 draws), commonweal vs pandas
    model = UncertaintyModel.build(spec, frame, alt)
    w = np.random.default_rng(1).dirichlet(np.full(N_IND, CONC / N_IND), size=8) * N_IND
    ours = evaluate_configs(model, [Config(0, 0, 0, {"INDEX": w[d]}) for d in range(8)])
    norm = (pdf - pdf.min()) / (pdf.max() - pdf.min())
    theirs = np.stack(
        [
            (norm.dot(w[d]) / w[d].sum()).rank(ascending=False, method="min").to_numpy()
            for d in range(8)
        ]
    )
    identical = bool(np.array_equal(ours, theirs.astype(np.int32)))
    print(f"ranks identical to pandas for the same 8 weight draws: {identical}")

    def run(backend: str):  # type: ignore[no-untyped-def]
        with Executor(backend, workers=2) as ex:
            return run_uncertainty(
                spec, frame, alternatives=alt, n_draws=N_DRAWS, seed=SEED, executor=ex, batch=64
            )

    t_serial, _ = timed(lambda: run("serial"), 1, "serial")
    t_proc, res = timed(lambda: run("processes"), 1, "processes")
    t_dask, _ = timed(lambda: run("dask"), 1, "dask")
    print(
        f"MC {N_UNITS} x {N_IND} x {N_DRAWS}: commonweal serial {t_serial:.2f} s, "
        f"processes(2) {t_proc:.2f} s, dask threads(2) {t_dask:.2f} s"
    )
    wd = np.random.default_rng(SEED).dirichlet(np.full(N_IND, CONC / N_IND), size=N_DRAWS) * N_IND
    t_pd, pres = timed(lambda: pandas_mc(pdf, wd), 1, "pandas")
    print(f"  pandas loop {t_pd:.2f} s")
    width = float(np.median(res.q95 - res.q05))
    best = min(t_serial, t_proc, t_dask)
    return {
        "mc_units": N_UNITS,
        "mc_indicators": N_IND,
        "mc_draws": N_DRAWS,
        "mc_commonweal_serial_s": round(t_serial, 3),
        "mc_commonweal_processes2_s": round(t_proc, 3),
        "mc_commonweal_dask_threads2_s": round(t_dask, 3),
        "mc_cpu_s_commonweal_serial": round(CPU["serial"], 2),
        "mc_cpu_s_commonweal_processes2": round(CPU["processes"], 2),
        "mc_cpu_s_commonweal_dask_threads2": round(CPU["dask"], 2),
        "mc_cpu_s_pandas": round(CPU["pandas"], 2),
        "mc_cpu_ratio_pandas_over_commonweal_serial": round(CPU["pandas"] / CPU["serial"], 2),
        "mc_pandas_s": round(t_pd, 3),
        "mc_ratio_pandas_over_commonweal_best": round(t_pd / best, 2),
        "mc_target_10s_met": best < 10.0,
        "mc_ranks_identical_to_pandas": identical,
        "mc_median_rank_interval_width": round(width, 1),
        "mc_pandas_median_rank_interval_width": round(
            float((pres["rank_q95"] - pres["rank_q05"]).median()), 1
        ),
    }


def main() -> None:
    out: dict[str, object] = {
        "benchmark": "index_uncertainty",
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "polars": pl.__version__,
        "pandas": pd.__version__,
    }
    out["load_average_1min_at_start"] = round(os.getloadavg()[0], 2)
    out |= bench_svi()
    out |= bench_mc()
    out["load_average_1min_at_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
