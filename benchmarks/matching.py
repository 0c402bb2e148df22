"""Benchmark: optimal needs/offers matching vs a greedy dispatcher, 10,000 x 10,000 in one city.

Synthetic but realistic city (a 14 km x 14 km area of Brooklyn, NY, with neighbourhood clusters):

* categories of needs weighted as in COVID-19 mutual-aid request logs (groceries most common;
  shelter rare); each offer covers 1-3 categories, 40 % of volunteers vetted;
* one week; needs want a 2-8 h daytime window (20 % "any time this week"); offers have 1-4 weekly
  windows of 2-6 h (15 % any time); urgency 1-4 (20/50/22/8 %);
* languages: English, Spanish, Chinese, Russian, Haitian Creole, Bengali ...; 10 % of
  non-English needs require a shared language; wheelchair access on 5 % of transport needs;
  repair needs ask for trade skills;
* offers reach 1-2 km on foot or 3-6 km by car, capacity 1-3; 10,000 offers from about 7,000
  volunteers with monthly caps 4-10, part already used this month.

Timed (median of ``--repeat`` runs): candidate generation + optimal assignment (with reasons),
and the greedy dispatcher on the same candidates. Printed: totals (score, needs met, urgent needs
met, distance travelled) for both, ratios, and as the last line one JSON object.

    python benchmarks/matching.py [--needs 10000] [--offers 10000] [--repeat 3] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

os.environ.setdefault("OMP_NUM_THREADS", "2")

import numpy as np  # noqa: E402

from commonweal.analytics.matching import (  # noqa: E402
    MatchConfig,
    Need,
    Offer,
    VolunteerState,
    build_candidates,
    greedy_assignment,
    optimal_assignment,
    prepare,
)

CENTRE = (40.660, -73.945)  # Brooklyn
NEED_WEIGHTS = {
    "groceries": 30, "prepared_food": 10, "prescriptions": 8, "transport": 8, "childcare": 4,
    "check_in": 10, "translation": 3, "financial_help": 8, "shelter": 2, "repairs": 4,
    "emotional_support": 5, "information": 5, "other": 3,
}  # fmt: skip
LANGS = ["en", "es", "zh", "ru", "ht", "bn", "yi", "ar", "pl", "fr"]
NEED_LANG_P = [0.62, 0.18, 0.06, 0.04, 0.03, 0.02, 0.02, 0.01, 0.01, 0.01]
TRADES = ["plumbing", "electrical", "carpentry", "painting"]
DAY, HOUR = 86400.0, 3600.0


def _points(rng: np.random.Generator, n: int, hubs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    which = rng.integers(0, hubs.shape[0], n)
    spread_km = np.where(rng.random(n) < 0.7, 1.2, 4.0)
    dy = rng.normal(0, 1, n) * spread_km / 111.2
    dx = rng.normal(0, 1, n) * spread_km / (111.2 * np.cos(np.radians(CENTRE[0])))
    lat = np.clip(hubs[which, 0] + dy, CENTRE[0] - 0.063, CENTRE[0] + 0.063)
    lon = np.clip(hubs[which, 1] + dx, CENTRE[1] - 0.083, CENTRE[1] + 0.083)
    return lat, lon


def make_city(
    n_needs: int, n_offers: int, seed: int
) -> tuple[list[Need], list[Offer], list[VolunteerState]]:
    """Generate the synthetic city (deterministic in ``seed``)."""
    rng = np.random.default_rng(seed)
    hubs = np.column_stack(
        (CENTRE[0] + rng.uniform(-0.05, 0.05, 12), CENTRE[1] + rng.uniform(-0.07, 0.07, 12))
    )
    cats = list(NEED_WEIGHTS)
    p = np.array([NEED_WEIGHTS[c] for c in cats], dtype=float)
    p /= p.sum()
    needs: list[Need] = []
    lat, lon = _points(rng, n_needs, hubs)
    for i in range(n_needs):
        cat = cats[rng.choice(len(cats), p=p)]
        urg = int(rng.choice([1, 2, 3, 4], p=[0.2, 0.5, 0.22, 0.08]))
        if rng.random() < 0.2:
            start, end = 0.0, 7 * DAY
        else:
            day = int(rng.integers(0, 7))
            start = day * DAY + rng.uniform(8, 18) * HOUR
            end = start + rng.uniform(2, 8) * HOUR
        lang = LANGS[rng.choice(len(LANGS), p=NEED_LANG_P)]
        langs = (lang,) if lang == "en" else ((lang, "en") if rng.random() < 0.5 else (lang,))
        required = lang != "en" and (cat == "translation" or rng.random() < 0.1)
        access = ("wheelchair",) if cat == "transport" and rng.random() < 0.05 else ()
        skills = (TRADES[int(rng.integers(0, 4))],) if cat == "repairs" else ()
        qty = 2 if cat in ("repairs", "shelter") and rng.random() < 0.25 else 1
        needs.append(
            Need(f"n{i}", cat, float(lat[i]), float(lon[i]), start, end, urgency=urg, quantity=qty,
                 languages=langs, language_required=required, accessibility=access, skills=skills)
        )  # fmt: skip
    n_vol = max(1, int(n_offers * 0.7))
    volunteers = []
    for v in range(n_vol):
        cap = int(rng.integers(4, 11))
        volunteers.append(VolunteerState(f"v{v}", cap, int(rng.integers(0, cap // 2 + 1))))
    vetted = rng.random(n_vol) < 0.4
    second = rng.random(n_vol)
    olat, olon = _points(rng, n_offers, hubs)
    offers: list[Offer] = []
    for j in range(n_offers):
        v = j if j < n_vol else int(rng.integers(0, n_vol))
        k = int(rng.choice([1, 2, 3], p=[0.5, 0.35, 0.15]))
        ocats = tuple(cats[c] for c in rng.choice(len(cats), size=k, replace=False, p=p))
        driver = rng.random() < 0.35
        km = float(rng.uniform(3, 6) if driver else rng.uniform(1, 2))
        if rng.random() < 0.15:
            windows: tuple[tuple[float, float], ...] = ()
        else:
            windows = tuple(
                (d * DAY + s * HOUR, d * DAY + (s + rng.uniform(2, 6)) * HOUR)
                for d, s in zip(rng.choice(7, size=int(rng.integers(1, 5)), replace=False),
                                rng.uniform(8, 19, 4), strict=False)
            )  # fmt: skip
        langs = ("en",) if rng.random() < 0.9 else ()
        if second[v] < 0.3:
            langs = langs + (LANGS[1 + int(rng.integers(0, len(LANGS) - 1))],)
        skills: tuple[str, ...] = ()
        if "repairs" in ocats:
            skills = tuple(sorted(set(rng.choice(TRADES, size=2).tolist())))
        if "transport" in ocats and driver and rng.random() < 0.15:
            skills = skills + ("wheelchair",)
        offers.append(
            Offer(f"o{j}", f"v{v}", ocats, float(olat[j]), float(olon[j]), max_distance_km=km,
                  capacity=int(rng.integers(1, 4)), windows=windows, languages=langs or ("es",),
                  vetted=bool(vetted[v]), skills=skills)
        )  # fmt: skip
    return needs, offers, volunteers


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--needs", type=int, default=10_000)
    ap.add_argument("--offers", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    needs, offers, volunteers = make_city(args.needs, args.offers, args.seed)
    config = MatchConfig()
    t0 = time.perf_counter()
    problem = prepare(needs, offers, volunteers)
    t_prepare = time.perf_counter() - t0

    t_cand, t_opt, t_greedy, cpu_total = [], [], [], []
    for _ in range(args.repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        cands = build_candidates(problem, config)
        t1 = time.perf_counter()
        best = optimal_assignment(problem, config, candidates=cands)
        t2, c2 = time.perf_counter(), time.process_time()
        greedy = greedy_assignment(problem, config, candidates=cands)
        t3 = time.perf_counter()
        t_cand.append(t1 - t0)
        t_opt.append(t2 - t1)
        t_greedy.append(t3 - t2)
        cpu_total.append(c2 - c0)
    med = statistics.median
    total = med(a + b for a, b in zip(t_cand, t_opt, strict=True))
    load = os.getloadavg()[0]
    n_vol = len(problem.volunteer_ids)
    head = f"needs {len(needs):,}  offers {len(offers):,}  volunteers {n_vol:,}"
    print(f"{head}  candidate pairs {len(cands):,}")
    print(f"validate + arrays        {t_prepare:7.3f} s (once)")
    print(f"candidate generation     {med(t_cand):7.3f} s (median of {args.repeat})")
    print(f"optimal assignment       {med(t_opt):7.3f} s")
    print(f"candidates + optimal     {total:7.3f} s   (target < 5 s on 2 cores)")
    cpu = med(cpu_total)
    print(f"  same, CPU time         {cpu:7.3f} s   (load average {load:.1f} on this machine)")
    print(f"greedy dispatcher        {med(t_greedy):7.3f} s")
    print(f"{'':24s} {'optimal':>12s} {'greedy':>12s} {'ratio':>8s}")
    rows = [
        ("total score", best.total_score, greedy.total_score),
        ("needs met", best.needs_met, greedy.needs_met),
        ("slots filled", best.slots_filled, greedy.slots_filled),
        ("urgent needs met", best.urgent_needs_met, greedy.urgent_needs_met),
        ("distance km (total)", best.distance_km_total, greedy.distance_km_total),
        ("km per match", best.distance_km_total / max(best.slots_filled, 1),
         greedy.distance_km_total / max(greedy.slots_filled, 1)),
    ]  # fmt: skip
    for name, a, b in rows:
        print(f"{name:24s} {a:12,.2f} {b:12,.2f} {a / b if b else float('nan'):8.3f}")
    out = {
        "benchmark": "matching",
        "needs": len(needs),
        "offers": len(offers),
        "volunteers": len(problem.volunteer_ids),
        "candidate_pairs": len(cands),
        "repeat": args.repeat,
        "seconds_candidates": round(med(t_cand), 4),
        "seconds_optimal": round(med(t_opt), 4),
        "seconds_candidates_plus_optimal": round(total, 4),
        "cpu_seconds_candidates_plus_optimal": round(med(cpu_total), 4),
        "seconds_greedy": round(med(t_greedy), 4),
        "load_average_1min": round(load, 2),
        "solver": best.method,
        "under_5s": total < 5.0,
        "cpu_under_5s": med(cpu_total) < 5.0,
        "optimal": {k: v for k, v in best.summary().items() if k not in ("method", "objective")},
        "greedy": {k: v for k, v in greedy.summary().items() if k not in ("method", "objective")},
        "score_ratio_optimal_over_greedy": round(best.total_score / greedy.total_score, 4),
        "needs_met_gain": best.needs_met - greedy.needs_met,
        "urgent_needs_met_gain": best.urgent_needs_met - greedy.urgent_needs_met,
        "km_per_match_optimal": round(best.distance_km_total / max(best.slots_filled, 1), 4),
        "km_per_match_greedy": round(greedy.distance_km_total / max(greedy.slots_filled, 1), 4),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
