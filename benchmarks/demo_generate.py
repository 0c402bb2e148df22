"""How fast does the demo generator write a community, and how much memory does it need?

1. ``write_community`` to a temporary directory at 100k members / ~1M ties and 1M members / ~10M
   ties (``mean_ties=10``), each in a fresh process: wall time, rows/s, peak RSS (whole process)
   and peak RSS above the process's footprint after imports.
2. The peer a user would otherwise pick: a Faker loop writing member rows (name, phone, email,
   birth year, coordinates, consent flags) with the csv module, against our members (population
   and members.csv only), same row count, same run. Printed as a ratio.

Run: ``/work/venv/bin/python benchmarks/demo_generate.py`` (``--quick`` for 10k/100k sizes).
Needs ``faker`` (``pip install 'commonweal[bench]'``); without it the comparison is skipped.
The last line is one JSON object with every figure.
"""

from __future__ import annotations

import csv
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def child_write(n: int, mean_ties: float) -> dict[str, object]:
    """Runs in a fresh process: stream one community to a temp dir and report."""
    from commonweal.demo import write_community

    base = _peak_mb()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        result = write_community(tmp, n, seed=1, mean_ties=mean_ties)
        seconds = time.perf_counter() - t0
        size = sum(p.stat().st_size for p in result.paths.values())
    rows = sum(result.rows.values())
    return {
        "members": n,
        "ties": result.rows["ties"],
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds),
        "ties_per_s": round(result.rows["ties"] / seconds),
        "peak_rss_mb": round(_peak_mb()),
        "peak_rss_above_imports_mb": round(_peak_mb() - base),
        "csv_mb": round(size / 1e6),
    }


def child_members_ours(n: int) -> float:
    """Our members.csv only (population + text + polars CSV), seconds."""
    from commonweal.demo.frames import members_frame
    from commonweal.demo.population import CALGARY, build_population

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        pop = build_population(
            n,
            seed=1,
            n_neighbourhoods=max(1, round(n**0.5 / 4)),
            isolated_share=0.12,
            single_contact_share=0.15,
            reference_year=2025,
            city=CALGARY,
        )
        members_frame(pop, 0, n).write_csv(Path(tmp) / "members.csv")
        return time.perf_counter() - t0


def child_members_faker(n: int) -> float:
    """The usual Faker approach: a Python loop of provider calls written with csv, seconds."""
    from faker import Faker

    fake = Faker("en_CA")
    Faker.seed(1)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        with open(Path(tmp) / "members.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(
                [
                    "external_id",
                    "display_name",
                    "phone",
                    "email",
                    "languages",
                    "birth_year",
                    "household",
                    "lives_alone",
                    "lat",
                    "lon",
                    "location_precision",
                    "consent_contact",
                    "consent_research",
                    "consent_sharing",
                    "notes",
                ]
            )
            for i in range(n):
                w.writerow(
                    [
                        f"m{i + 1}",
                        fake.name(),
                        fake.phone_number(),
                        fake.email(),
                        "en",
                        fake.year(),
                        f"h{i // 2 + 1}",
                        fake.boolean(28),
                        fake.latitude(),
                        fake.longitude(),
                        "street",
                        fake.boolean(92),
                        fake.boolean(55),
                        fake.boolean(35),
                        "",
                    ]
                )
        return time.perf_counter() - t0


def _run_child(*args: str) -> object:
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    quick = "--quick" in sys.argv
    sizes = [(10_000, 10.0), (100_000, 10.0)] if quick else [(100_000, 10.0), (1_000_000, 10.0)]
    n_compare = 10_000 if quick else 100_000
    figures: dict[str, object] = {"benchmark": "demo_generate", "quick": quick}

    for n, mean_ties in sizes:
        r = _run_child("write", str(n), str(mean_ties))
        assert isinstance(r, dict)
        figures[f"write_{n}"] = r
        print(
            f"write_community {n:>9,} members {r['ties']:>11,} ties: {r['seconds']:7.1f} s, "
            f"{r['rows_per_s']:>10,} rows/s, peak RSS {r['peak_rss_mb']} MB "
            f"({r['peak_rss_above_imports_mb']} MB above imports), CSV {r['csv_mb']} MB"
        )

    ours = [float(_run_child("ours", str(n_compare))) for _ in range(3)]  # type: ignore[arg-type]
    figures["members_ours_s_median"] = round(statistics.median(ours), 3)
    print(
        f"members.csv {n_compare:,} rows, ours:  median {statistics.median(ours):.2f} s "
        f"(runs {', '.join(f'{x:.2f}' for x in ours)})"
    )
    try:
        import faker  # noqa: F401
    except ImportError:
        print("faker not installed: comparison skipped (pip install 'commonweal[bench]')")
        figures["faker"] = None
    else:
        runs = 1 if not quick else 3
        theirs = [float(_run_child("faker", str(n_compare))) for _ in range(runs)]  # type: ignore[arg-type]
        med = statistics.median(theirs)
        figures["members_faker_s_median"] = round(med, 3)
        figures["faker_over_ours"] = round(med / statistics.median(ours), 1)
        print(
            f"members.csv {n_compare:,} rows, Faker: median {med:.2f} s over {runs} run(s); "
            f"ours is {med / statistics.median(ours):.0f}x faster"
        )
    figures["rows_compared"] = n_compare
    print(json.dumps(figures))


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        what, n = sys.argv[2], int(sys.argv[3])
        if what == "write":
            print(json.dumps(child_write(n, float(sys.argv[4]))))
        elif what == "ours":
            print(json.dumps(child_members_ours(n)))
        else:
            print(json.dumps(child_members_faker(n)))
    else:
        main()
