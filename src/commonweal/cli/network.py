"""`commonweal network ...` commands: profile support networks from files (no database)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

import typer

from commonweal.cli._common import console, friendly_errors, print_json

app = typer.Typer(help="Support-network analysis from files.", no_args_is_help=True)

_LABELS = [
    ("n_people", "people"), ("n_edges", "ties (undirected)"), ("share_isolated", "isolated"),
    ("share_single_contact", "single contact"), ("share_dependent_on_one", "dependent on one"),
    ("n_overloaded", "overloaded supporters"), ("main_body_share", "main-body share"),
    ("reciprocity", "reciprocity"), ("modularity", "modularity"),
    ("support_load_gini", "support-load Gini"), ("n_articulation_points", "articulation points"),
    ("n_bridges", "bridges"), ("robustness_index", "robustness R"),
]


@app.command("profile")
@friendly_errors
def profile(
    path: Path = typer.Argument(..., help="Ties file: ties.csv, edge list, GraphML, vilN_edges.csv."),
    meta: Optional[Path] = typer.Option(  # noqa: UP045 - typer needs Optional
        None, "--meta", help="Karnataka vilN_meta.csv (default: next to the edges file)."),
    kind: Optional[str] = typer.Option(  # noqa: UP045
        None, "--kind", help="Support kind for files that carry none."),
    seed: int = typer.Option(0, "--seed", help="Seed for communities and random removal."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
    members_csv: Optional[Path] = typer.Option(  # noqa: UP045
        None, "--members-csv", help="Write the per-member profile as CSV."),
    graphml: Optional[Path] = typer.Option(  # noqa: UP045
        None, "--graphml", help="Write GraphML with the profile as node attributes."),
) -> None:
    """Profile a support network: flags, single points of failure, communities, robustness."""
    from commonweal.analytics.networks import profile_network, read_network, write_graphml

    graph = read_network(path, meta=meta, kind=kind)
    result = profile_network(graph, seed=seed)
    if members_csv:
        result.members.write_csv(members_csv)
    if graphml:
        write_graphml(graphml, graph, result.members)
    if as_json:
        print_json(result.to_dict(members=graph.n <= 100_000))
        return
    s = result.summary.to_dict()
    for key, label in _LABELS:
        value = s[key]
        if isinstance(value, dict):
            value = ", ".join(f"{k} {v:.3f}" for k, v in value.items())
        elif isinstance(value, float):
            value = f"{value:.3f}"
        console.print(f"{label:>24}: {value}")
    for note in result.notes:
        console.print(f"note: {note}")


@app.command("villages")
@friendly_errors
def villages(
    folder: Path = typer.Argument(..., help="Folder of Karnataka vilN_edges.csv / vilN_meta.csv."),
    seed: int = typer.Option(0, "--seed"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Profile every Karnataka village in a folder and print the per-village shares."""
    from commonweal.analytics.networks import profile_network, read_karnataka_village
    from commonweal.errors import InputError

    files = sorted(folder.glob("vil*_edges.csv"),
                   key=lambda p: int(re.sub(r"\D", "", p.name) or 0))
    if not files:
        raise InputError(f"no vilN_edges.csv files in {folder}")
    rows = []
    for f in files:
        m = f.with_name(f.name.replace("_edges", "_meta"))
        g = read_karnataka_village(f, m if m.exists() else None)
        s = profile_network(g, seed=seed, orders=("random", "degree")).summary
        rows.append({"village": f.name.split("_")[0], "people": s.n_people,
                     "share_isolated": s.share_isolated,
                     "share_single_contact": s.share_single_contact,
                     "main_body_share": s.main_body_share,
                     "articulation_points": s.n_articulation_points, "bridges": s.n_bridges,
                     "R_degree": s.robustness_index["degree"]})
    if as_json:
        print_json({"villages": rows})
        return
    console.print(f"{'village':>8} {'people':>6} {'isolated':>9} {'single':>7} {'main':>6} "
                  f"{'APs':>4} {'bridges':>7} {'R_deg':>6}")
    for r in rows:
        console.print(f"{r['village']:>8} {r['people']:>6} {r['share_isolated']:>9.3f} "
                      f"{r['share_single_contact']:>7.3f} {r['main_body_share']:>6.3f} "
                      f"{r['articulation_points']:>4} {r['bridges']:>7} {r['R_degree']:>6.3f}")
