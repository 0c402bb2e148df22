"""Benchmark: commonweal's ML CFA engine against semopy, in the same run.

Workloads
  1. HS39 three-factor CFA (N = 301), the field's reference model.
  2. Invariance sequence by school (configural, metric, scalar, strict). semopy cannot constrain
     parameters across groups, so it is timed on what it can do: the configural model
     (``semopy.multigroup``, each group fitted on its own).
  3. A BSCS-shaped model (4 correlated factors x 2 items) on 10,000 simulated respondents.

Needs semopy (``pip install semopy``, in the ``bench`` extra). Prints medians and ratios
(semopy time / our time; > 1 means we are faster) and ends with ONE line of JSON.

Run: /work/venv/bin/python benchmarks/cfa.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl

from commonweal.analytics.surveys import fit_cfa, measurement_invariance
from commonweal.analytics.surveys.simulate import simulate_factor_data

HS = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "psychometrics" / \
    "HolzingerSwineford1939.csv"
HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
BSCS_MODEL = "\n".join(f"F{k} =~ b{2 * k - 1} + b{2 * k}" for k in range(1, 5))


def median_time(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    out = fn()  # warm-up (imports, caches)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def bscs_data(n: int = 10_000) -> pl.DataFrame:
    lam = np.kron(np.eye(4), np.array([[1.0], [0.9]]))
    phi = np.full((4, 4), 0.3) + np.diag([0.4, 0.5, 0.6, 0.45])
    return simulate_factor_data(lam, phi, np.full(8, 0.5), n, seed=2008,
                                names=[f"b{i}" for i in range(1, 9)])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()
    if not HS.exists():
        print(f"reference data not found: {HS}", file=sys.stderr)
        return 1
    try:
        import semopy
        from semopy.multigroup import multigroup
    except ImportError:
        print("semopy is not installed: pip install semopy", file=sys.stderr)
        return 1
    import pandas as pd

    warnings.filterwarnings("ignore")
    hs = pl.read_csv(HS)
    hs_pd = pd.read_csv(HS)
    bscs = bscs_data()
    bscs_pd = pd.DataFrame({c: bscs[c].to_numpy() for c in bscs.columns})
    r = args.repeat
    fig: dict[str, object] = {"repeat": r, "semopy_version": semopy.__version__}

    def semopy_fit(desc: str, df: object) -> tuple[float, float]:
        m = semopy.Model(desc)
        m.fit(df)
        st = semopy.calc_stats(m)
        return float(st["chi2"].iloc[0]), float(st["CFI"].iloc[0])

    # 1. HS39
    ours_t, ours = median_time(lambda: fit_cfa(HS_MODEL, hs), r)
    semopy_t, (s_chi, s_cfi) = median_time(lambda: semopy_fit(HS_MODEL, hs_pd), r)
    fig["hs39"] = {"ours_s": ours_t, "semopy_s": semopy_t, "ratio": semopy_t / ours_t,
                   "ours_chisq": round(ours.fit.chisq, 3), "semopy_chisq": round(s_chi, 3),
                   "lavaan_chisq": 85.306, "ours_cfi": round(ours.fit.cfi, 4),
                   "semopy_cfi": round(s_cfi, 4)}
    print(f"HS39 CFA:            ours {ours_t * 1e3:8.1f} ms   semopy {semopy_t * 1e3:8.1f} ms"
          f"   ratio {semopy_t / ours_t:5.2f}   chi2 ours {ours.fit.chisq:.3f} "
          f"semopy {s_chi:.3f} lavaan 85.306")

    # 2. invariance by school
    inv_t, inv = median_time(lambda: measurement_invariance(HS_MODEL, hs, "school"),
                             max(3, r // 3))
    conf_t, conf = median_time(lambda: fit_cfa(HS_MODEL, hs, group="school"), r)
    smg_t, _ = median_time(lambda: multigroup(HS_MODEL, hs_pd, "school"), max(3, r // 3))
    fig["invariance_school"] = {
        "ours_sequence_s": inv_t, "ours_configural_s": conf_t, "semopy_configural_s": smg_t,
        "ratio_configural": smg_t / conf_t,
        "chisq": {s.level: round(s.chisq, 3) for s in inv.steps},
        "df": {s.level: s.df for s in inv.steps}, "supported": inv.supported,
        "semopy_sequence": "not possible (no cross-group equality constraints)"}
    print(f"Invariance sequence: ours {inv_t * 1e3:8.1f} ms (4 models); configural ours "
          f"{conf_t * 1e3:.1f} ms vs semopy.multigroup {smg_t * 1e3:.1f} ms, ratio "
          f"{smg_t / conf_t:.2f}")
    for s in inv.steps:
        print(f"   {s.level:<10} chi2 {s.chisq:8.3f} df {s.df:3d} CFI {s.cfi:.3f} "
              f"RMSEA {s.rmsea:.3f}")

    # 3. BSCS-shaped, N = 10,000
    b_t, b = median_time(lambda: fit_cfa(BSCS_MODEL, bscs), r)
    sb_t, (sb_chi, _) = median_time(lambda: semopy_fit(BSCS_MODEL, bscs_pd), r)
    fig["bscs_10k"] = {"ours_s": b_t, "semopy_s": sb_t, "ratio": sb_t / b_t,
                       "ours_chisq": round(b.fit.chisq, 3), "semopy_chisq": round(sb_chi, 3),
                       "df": b.fit.df}
    print(f"BSCS 4x2, N=10,000:  ours {b_t * 1e3:8.1f} ms   semopy {sb_t * 1e3:8.1f} ms"
          f"   ratio {sb_t / b_t:5.2f}   chi2 ours {b.fit.chisq:.3f} semopy {sb_chi:.3f}")
    print(json.dumps(fig, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
