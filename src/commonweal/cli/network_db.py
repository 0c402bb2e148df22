"""Database-backed `commonweal network ...` commands: profile a stored community and ask what-if
questions of it (nothing is written).

They attach to the ``network`` group of :mod:`commonweal.cli.network` (the file-based commands
live there); each is a few lines over :mod:`commonweal.networks.service`. Members are named by
their external id (the id in the register you imported), as in the import files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from commonweal.cli._common import console, friendly_errors, print_json, settings_from_ctx
from commonweal.cli._db import open_db, resolve_community, resolve_org, transaction
from commonweal.cli.network import app
from commonweal.errors import InputError

__all__ = ["app"]

_JSON = typer.Option(False, "--json", help="Print one JSON document to stdout.")
_ORG = typer.Option(None, "--org", help="Organisation name or slug (default: the only one).")
_COMMUNITY = typer.Option(..., "--community", help="Community name.")
_SUMMARY = [
    ("n_people", "people"), ("n_edges", "ties (undirected)"), ("share_isolated", "isolated"),
    ("share_single_contact", "single contact"), ("share_dependent_on_one", "dependent on one"),
    ("n_overloaded", "overloaded supporters"), ("main_body_share", "main-body share"),
    ("n_components", "pieces"), ("reciprocity", "reciprocity"),
    ("n_articulation_points", "single points of failure"), ("max_cut_off", "most cut off"),
    ("n_bridges", "bridges"), ("robustness_index", "robustness R"),
]


def _split(values: list[str]) -> list[str]:
    return [v.strip() for raw in values for v in raw.split(",") if v.strip()]


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {v:.3f}" for k, v in value.items())
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


@app.command("community")
@friendly_errors
def community_cmd(
    ctx: typer.Context,
    community: str = _COMMUNITY,
    org: Optional[str] = _ORG,  # noqa: UP045 - typer needs Optional
    seed: int = typer.Option(0, "--seed", help="Seed for communities and random removal."),
    output: Optional[Path] = typer.Option(  # noqa: UP045
        None, "-o", "--output", help="Write the per-member profile: .csv, or .graphml (the ties "
        "with the profile as node attributes)."),
    as_json: bool = _JSON,
) -> None:
    """Profile a stored community's support network (flags, single points of failure, R)."""
    import polars as pl

    from commonweal.analytics.networks import write_graphml
    from commonweal.networks import service

    if output is not None and output.suffix.lower() not in (".csv", ".graphml"):
        raise InputError(f"-o {output.name}: write .csv or .graphml")
    factory = open_db(settings_from_ctx(ctx))
    with transaction(factory) as s:
        o = resolve_org(s, org)
        c = resolve_community(s, o, community, create=False)
        p = service.community_profile(s, organisation_id=o.id, community_id=c.id, seed=seed,
                                      cache=False)
        ext = service.external_ids(s, organisation_id=o.id, community_id=c.id)
    members = p.members.with_columns(
        pl.col("id").cast(pl.Int64).alias("member_id"),
        pl.col("id").replace_strict({str(k): v for k, v in ext.items()}, default=None)
        .alias("external_id"),
    )
    if output is not None:
        if output.suffix.lower() == ".csv":
            members.write_csv(output)
        else:
            write_graphml(output, p.graph, members)
    if as_json:
        out = p.to_dict(members=False)
        out["community"] = {"id": c.id, "name": c.name, "organisation": o.name}
        if p.graph.n <= 100_000:
            out["members"] = members.to_dicts()
            out["bridges"] = p.bridges.to_dicts()
        print_json(out)
        return
    console.print(f"[bold]{c.name}[/] ({o.name})")
    s_ = p.summary.to_dict()
    for key, label in _SUMMARY:
        console.print(f"{label:>26}: {_show(s_[key])}")
    for note in p.notes:
        console.print(f"note: {note}")
    if output is not None:
        console.print(f"wrote {output}")


@app.command("whatif")
@friendly_errors
def whatif_cmd(
    ctx: typer.Context,
    community: str = _COMMUNITY,
    remove: list[str] = typer.Option(
        [], "--remove", help="External id of a member who leaves (repeat, or comma-separated)."),
    add: list[str] = typer.Option(
        [], "--add", help="A tie that would be made, FROM:TO external ids, FROM turns to TO "
        "(repeat, or comma-separated)."),
    support_type: Optional[str] = typer.Option(  # noqa: UP045
        None, "--support-type", help="Support kind of the added ties (default unspecified)."),
    org: Optional[str] = _ORG,  # noqa: UP045
    seed: int = typer.Option(0, "--seed"),
    as_json: bool = _JSON,
) -> None:
    """What if members left (who is cut off or isolated), or ties were made (flags and R)?"""
    from commonweal.networks import service

    gone, ties = _split(remove), _split(add)
    if bool(gone) == bool(ties):
        raise InputError("give either --remove or --add (one scenario at a time)")
    factory = open_db(settings_from_ctx(ctx))
    with transaction(factory) as s:
        o = resolve_org(s, org)
        c = resolve_community(s, o, community, create=False)
        ext = service.external_ids(s, organisation_id=o.id, community_id=c.id)
        by_ext = {v: k for k, v in ext.items()}

        def member(x: str) -> int:
            if x not in by_ext:
                raise InputError(f"no member with external id {x!r} in {c.name}")
            return by_ext[x]

        if gone:
            w = service.whatif_remove(s, organisation_id=o.id, community_id=c.id,
                                      member_ids=[member(x) for x in gone], seed=seed)
        else:
            pairs = []
            for t in ties:
                a, sep, b = t.partition(":")
                if not sep or not a or not b:
                    raise InputError(f"--add {t!r}: write FROM:TO")
                pairs.append((member(a), member(b)))
            kinds = [support_type] * len(pairs) if support_type else None
            w = service.whatif_add(s, organisation_id=o.id, community_id=c.id, ties=pairs,
                                   kinds=kinds, seed=seed)
    d = w.to_dict()
    for key in ("removed", "newly_isolated", "newly_single_contact", "no_longer_isolated",
                "cut_off"):
        d[key] = [ext[int(x)] for x in d[key]]
    if as_json:
        print_json(d)
        return
    if d["removed"]:
        console.print(f"if {', '.join(d['removed'])} left:")
    else:
        console.print(f"with {d['added_ties']} new ties:")
    for key, label in (("cut_off", "cut off from the main body"),
                       ("newly_isolated", "newly isolated"),
                       ("newly_single_contact", "down to one contact"),
                       ("no_longer_isolated", "no longer isolated")):
        if d[key] or (d["removed"] and key in ("cut_off", "newly_isolated")):
            console.print(f"{label:>28}: {len(d[key])} {' '.join(d[key][:50])}")
    console.print(f"{'main body':>28}: {d['main_body_before']} -> {d['main_body_after']}")
    for k, v in d["flags_before"].items():
        console.print(f"{k.replace('_', ' '):>28}: {v} -> {d['flags_after'][k]}")
    for k, v in d["robustness_before"].items():
        console.print(f"{'R ' + k:>28}: {v:.3f} -> {d['robustness_after'][k]:.3f}")
