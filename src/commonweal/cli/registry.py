"""`commonweal db|import|export|demo ...`: storage and the registry from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from commonweal.cli._common import console, friendly_errors, print_json, progress, settings_from_ctx
from commonweal.cli._db import open_db, resolve_community, resolve_org, transaction

__all__ = ["db_app", "demo", "export", "import_app"]

db_app = typer.Typer(help="Database commands.", no_args_is_help=True)
import_app = typer.Typer(
    help="Import registry files into a community (all or nothing).", no_args_is_help=True
)

Community = typer.Option(..., "--community", "-c", help="Community name (created if missing).")
Org = typer.Option(None, "--org", help="Organisation name (default: the only one).")


@db_app.command("upgrade")
@friendly_errors
def db_upgrade(ctx: typer.Context) -> None:
    """Create or migrate the database to the newest schema."""
    settings = settings_from_ctx(ctx)
    open_db(settings)
    console.print(f"database is up to date: {settings.database_url}")


def _import(ctx: typer.Context, entity: str, file: Path, community: str, org: str | None) -> None:
    from commonweal.registry import importer

    fn = {
        "members": importer.import_members,
        "ties": importer.import_ties,
        "groups": importer.import_groups,
        "assets": importer.import_assets,
    }[entity]
    factory = open_db(settings_from_ctx(ctx))
    lines = sum(1 for _ in open(file, "rb")) - 1
    with progress(f"importing {entity}", lines) as advance, transaction(factory) as s:
        o = resolve_org(s, org, create=True)
        c = resolve_community(s, o, community, create=True)
        report = fn(
            s,
            organisation_id=o.id,
            community_id=c.id,
            source=file,
            label=file.name,
            on_progress=advance,
        )
    console.print(
        f"{report.entity}: {report.created} created, {report.updated} updated "
        f"from {report.file} into {community!r}"
    )


def _entity_command(entity: str) -> None:
    @import_app.command(entity, help=f"Import {entity} from a CSV file (docs/formats.md).")
    @friendly_errors
    def command(
        ctx: typer.Context,
        file: Path = typer.Argument(..., exists=True, dir_okay=False),
        community: str = Community,
        org: str | None = Org,
    ) -> None:
        _import(ctx, entity, file, community, org)


for _entity in ("members", "ties", "groups", "assets"):
    _entity_command(_entity)


@import_app.command("graph")
@friendly_errors
def import_graph(
    ctx: typer.Context,
    file: Path = typer.Argument(
        ...,
        exists=True,
        dir_okay=False,
        help="GraphML, edge list (CSV with source,target or from_id,to_id; "
        "or whitespace-separated pairs), or a Karnataka vilN_edges.csv.",
    ),
    community: str = Community,
    kind: str = typer.Option("other", "--kind", help="Tie kind for the imported ties."),
    org: str | None = Org,
) -> None:
    """Import ties from a network file; people not yet in the community are added."""
    from commonweal.analytics.networks.io import read_network
    from commonweal.registry.graph_import import import_support_graph
    from commonweal.registry.vocab import TieKind

    try:
        tie_kind = TieKind(kind)
    except ValueError:
        from commonweal.errors import InputError

        raise InputError(f"unknown tie kind {kind!r}: use one of {', '.join(TieKind)}") from None
    graph = read_network(file)
    factory = open_db(settings_from_ctx(ctx))
    with transaction(factory) as s:
        o = resolve_org(s, org, create=True)
        c = resolve_community(s, o, community, create=True)
        rep = import_support_graph(
            s, organisation_id=o.id, community_id=c.id, graph=graph, label=file.name, kind=tie_kind
        )
    console.print(f"{file.name}: {'; '.join(rep.notes)}", highlight=False)


@import_app.command("villages")
@friendly_errors
def import_villages(
    ctx: typer.Context,
    folder: Path = typer.Argument(
        ...,
        exists=True,
        file_okay=False,
        help="Folder with vilN_meta.csv and vilN_edges.csv files.",
    ),
    only: list[int] = typer.Option([], "--village", help="Only these village numbers."),
    org: str | None = Org,
) -> None:
    """Import the Karnataka village networks, one community per village ("Village N")."""
    import re
    import time

    from commonweal.registry.karnataka import import_karnataka_village

    metas = sorted(folder.glob("vil*_meta.csv"), key=lambda p: int(re.findall(r"\d+", p.name)[0]))
    numbers = [int(re.findall(r"\d+", p.name)[0]) for p in metas]
    chosen = [(n, p) for n, p in zip(numbers, metas, strict=True) if not only or n in only]
    factory = open_db(settings_from_ctx(ctx))
    start = time.perf_counter()
    with progress("importing villages", len(chosen)) as advance:
        for n, meta in chosen:
            with transaction(factory) as s:
                o = resolve_org(s, org, create=True)
                c = resolve_community(s, o, f"Village {n}", create=True)
                rep = import_karnataka_village(
                    s,
                    organisation_id=o.id,
                    community_id=c.id,
                    meta_path=meta,
                    edges_path=folder / f"vil{n}_edges.csv",
                )
            console.print(f"Village {n}: {'; '.join(rep.notes)}", highlight=False)
            advance(1)
    console.print(f"{len(chosen)} villages in {time.perf_counter() - start:.1f} s")


def export(
    ctx: typer.Context,
    community: str = typer.Option(..., "--community", "-c", help="Community name."),
    fmt: str = typer.Option(
        "json",
        "--format",
        "-f",
        help="json | members.csv | ties.csv | groups.csv | assets.csv | ties.graphml | ties.txt",
    ),
    output: Path | None = typer.Option(None, "--output", "-o", help="File (default: stdout)."),
    org: str | None = Org,
) -> None:
    """Export a community (JSON, CSV in the import formats, GraphML, or an edge list)."""
    from commonweal.auth.service import audit
    from commonweal.errors import InputError
    from commonweal.registry import export as ex

    factory = open_db(settings_from_ctx(ctx))
    with transaction(factory) as s:
        o = resolve_org(s, org)
        c = resolve_community(s, o, community, create=False)
        kw = {"organisation_id": o.id, "community_id": c.id}
        if fmt == "json":
            text = json.dumps(ex.export_community(s, **kw), indent=2, default=str)
        elif fmt in ("members.csv", "ties.csv", "groups.csv", "assets.csv"):
            text = ex.export_csv(s, entity=fmt.removesuffix(".csv"), **kw)
        elif fmt == "ties.graphml":
            text = ex.export_ties_graphml(s, **kw)
        elif fmt == "ties.txt":
            text = ex.export_ties_edgelist(s, **kw)
        else:
            raise InputError(f"unknown format {fmt!r}")
        audit(
            s,
            organisation_id=o.id,
            user_id=None,
            action="export",
            entity="community",
            entity_ids=[c.id],
            fields=["all"],
            detail=f"cli {fmt}",
        )
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        console.print(f"wrote {output}")


export = friendly_errors(export)


def demo(
    ctx: typer.Context,
    members: int = typer.Option(400, "--members", "-n", min=10, help="How many people."),
    seed: int = typer.Option(7, "--seed", help="Random seed (same seed, same community)."),
    community: str = typer.Option("Riverside (demo)", "--community", "-c"),
    as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
) -> None:
    """Load a seeded synthetic demo community (people, households, ties, groups, assets)."""
    from commonweal.registry.demo import load_demo

    factory = open_db(settings_from_ctx(ctx))
    with progress("loading demo community", None):
        result = load_demo(factory, n_members=members, seed=seed, community=community)
    if as_json:
        print_json(result)
    else:
        console.print(f"demo community {community!r}: {result['counts']}")


demo = friendly_errors(demo)
