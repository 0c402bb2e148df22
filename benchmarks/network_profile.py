"""Benchmark: the full support-network profile, ours against networkx, on synthetic networks.

Synthetic support networks from ``commonweal.analytics.networks.support_network`` (heavy-tailed
contacts, clustered communities): 100k people / 1M typed ties and 1M / 10M.

* 100k / 1M: our ``profile_network`` (median of 3 runs) against the same profile computed with
  networkx in the same run (once): directed supporter/dependent counts per kind and flags,
  components, articulation points, bridges, core numbers, Louvain communities + modularity
  (networkx has no Leiden), reciprocity, robustness curves for the random and degree orders by
  recomputing components at 21 checkpoints (what a networkx user would do), and two-step reach
  (timed on 2,000 people, scaled to everyone -- stated in the output).
* 1M / 10M: ours only (networkx needs minutes and > 7 GB here), wall time and peak RSS of a fresh
  process.

Ours runs seeded single-threaded Leiden on a second thread alongside the other steps, so its
``steps_s`` overlap; ``steps_s["total"]`` is the profile's wall time (``profile_s`` adds building
the graph from the arrays). Modularity is reported at both scales (networkx: Louvain).

Each scale runs in its own subprocess so peak RSS is per scale. The last line is one JSON object.
Usage: ``python benchmarks/network_profile.py [--quick]``.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time


def _ours(n: int, m: int, repeats: int) -> dict[str, object]:
    import networkit as nk

    from commonweal.analytics.networks import from_arrays, profile_network, support_network

    nk.setNumberOfThreads(2)
    t0 = time.perf_counter()
    s, d, k = support_network(n, m, seed=1)
    gen = time.perf_counter() - t0
    walls, last = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        g = from_arrays(s, d, k, n=n)
        prof = profile_network(g, seed=1)
        walls.append(time.perf_counter() - t0)
        last = prof
    assert last is not None
    return {
        "generate_s": round(gen, 2),
        "profile_s_median": round(statistics.median(walls), 2),
        "profile_s_all": [round(w, 2) for w in walls],
        "steps_s": last.timings,
        "notes": last.notes,
        "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2),
        "summary": last.summary.to_dict(),
    }


def _networkx(n: int, m: int) -> dict[str, object]:
    import networkx as nx
    import numpy as np

    from commonweal.analytics.networks import SUPPORT_TYPES, support_network

    s, d, k = support_network(n, m, seed=1)
    steps: dict[str, float] = {}

    def tick(name: str, t0: float) -> None:
        steps[name] = round(time.perf_counter() - t0, 2)

    t_all = time.perf_counter()
    t0 = time.perf_counter()
    dg = nx.MultiDiGraph()
    dg.add_nodes_from(range(n))
    dg.add_edges_from((a, b, {"kind": SUPPORT_TYPES[c]})
                      for a, b, c in zip(s.tolist(), d.tolist(), k.tolist(), strict=True))
    g = nx.Graph(dg.to_undirected(as_view=True))
    g.remove_edges_from(nx.selfloop_edges(g))
    tick("build", t0)
    t0 = time.perf_counter()
    simple = nx.DiGraph(dg)
    n_sup = {v: simple.out_degree(v) for v in simple}
    n_dep = {v: simple.in_degree(v) for v in simple}
    per_kind = {}
    for kind in SUPPORT_TYPES[:5]:
        sub = nx.DiGraph((a, b) for a, b, kk in dg.edges(data="kind") if kk == kind)
        per_kind[kind] = dict(sub.out_degree())
    flags = {v: (n_sup[v] == 0, n_sup[v] == 1, n_dep[v] >= 5 and n_dep[v] >= 3 * n_sup[v])
             for v in simple}
    tick("members", t0)
    t0 = time.perf_counter()
    comps = list(nx.connected_components(g))
    aps = set(nx.articulation_points(g))
    bridges = list(nx.bridges(g))
    tick("cuts", t0)
    t0 = time.perf_counter()
    core = nx.core_number(g)
    tick("cores", t0)
    t0 = time.perf_counter()
    parts = nx.community.louvain_communities(g, seed=1)
    q = nx.community.modularity(g, parts)
    tick("communities", t0)
    t0 = time.perf_counter()
    rec = nx.overall_reciprocity(simple)
    tick("reciprocity", t0)
    t0 = time.perf_counter()
    rng = np.random.default_rng(1)
    deg = np.array([g.degree(v) for v in range(n)])
    for order in (rng.permutation(n), np.argsort(-deg, kind="stable")):
        h = g.copy()
        done = 0
        for frac in np.linspace(0, 1, 21):
            upto = int(round(frac * n))
            h.remove_nodes_from(order[done:upto].tolist())
            done = upto
            max((len(c) for c in nx.connected_components(h)), default=0)
    tick("robustness_21_checkpoints", t0)
    t0 = time.perf_counter()
    sample = rng.choice(n, 2000, replace=False)
    for v in sample.tolist():
        len(nx.single_source_shortest_path_length(simple, v, cutoff=2))
    steps["reach_2_scaled"] = round((time.perf_counter() - t0) * n / 2000, 2)
    measured = time.perf_counter() - t_all
    total = measured - (time.perf_counter() - t0) + steps["reach_2_scaled"]
    return {"profile_s": round(total, 2), "steps_s": steps, "modularity": q,
            "n_components": len(comps), "n_articulation_points": len(aps),
            "n_bridges": len(bridges), "max_core": max(core.values()), "reciprocity": rec,
            "flags": int(sum(sum(f) for f in flags.values())), "per_kind": len(per_kind),
            "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2)}


def _child(args: list[str]) -> dict[str, object]:
    out = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True,
                         text=True)
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _summary(res: dict[str, object]) -> dict[str, object]:
    summary = res["summary"]
    assert isinstance(summary, dict)
    return summary


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        which, n, m = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        res = _ours(n, m, int(sys.argv[5])) if which == "ours" else _networkx(n, m)
        print(json.dumps(res))
        return
    quick = "--quick" in sys.argv
    small = (20_000, 200_000) if quick else (100_000, 1_000_000)
    large = (100_000, 1_000_000) if quick else (1_000_000, 10_000_000)
    load0 = os.getloadavg()[0]
    ours_small = _child(["--child", "ours", str(small[0]), str(small[1]), "3"])
    print(f"ours  {small[0]:>9,} / {small[1]:>10,}: median {ours_small['profile_s_median']} s "
          f"{ours_small['steps_s']}", flush=True)
    nx_small = _child(["--child", "networkx", str(small[0]), str(small[1])])
    print(f"nx    {small[0]:>9,} / {small[1]:>10,}: {nx_small['profile_s']} s "
          f"{nx_small['steps_s']}", flush=True)
    ratio = float(nx_small["profile_s"]) / float(ours_small["profile_s_median"])  # type: ignore[arg-type]
    print(f"ratio networkx / ours: {ratio:.1f}x", flush=True)
    ours_large = _child(["--child", "ours", str(large[0]), str(large[1]), "1"])
    print(f"ours  {large[0]:>9,} / {large[1]:>10,}: {ours_large['profile_s_median']} s, "
          f"peak RSS {ours_large['peak_rss_gb']} GB {ours_large['steps_s']}", flush=True)
    figures = {
        "cores": os.cpu_count(),
        "load_avg_start": round(load0, 2),
        "load_avg_end": round(os.getloadavg()[0], 2),
        "small": {"n": small[0], "ties": small[1],
                  "ours_s_median": ours_small["profile_s_median"],
                  "ours_steps_s": ours_small["steps_s"],
                  "ours_modularity": _summary(ours_small)["modularity"],
                  "networkx_s": nx_small["profile_s"], "networkx_steps_s": nx_small["steps_s"],
                  "networkx_louvain_modularity": nx_small["modularity"],
                  "speedup": round(ratio, 1), "target_speedup": 50},
        "large": {"n": large[0], "ties": large[1],
                  "ours_s": ours_large["profile_s_median"], "steps_s": ours_large["steps_s"],
                  "generate_s": ours_large["generate_s"],
                  "modularity": _summary(ours_large)["modularity"],
                  "peak_rss_gb": ours_large["peak_rss_gb"], "target_s": 30, "target_rss_gb": 4,
                  "notes": ours_large["notes"]},
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
