"""The ``commonweal`` command line: thin commands over library calls.

Each command group lives in its own module and exposes ``app``; this module mounts them.
"""

from __future__ import annotations

import typer

from commonweal.cli import checkins, index, network, registry, serve, survey, users

__all__ = ["app", "main"]

app = typer.Typer(
    name="commonweal",
    help="See and strengthen a community's social fabric: map, measure, mobilize, plan.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    ctx: typer.Context,
    database_url: str | None = typer.Option(
        None,
        "--database-url",
        help="Database URL (default: COMMONWEAL_DATABASE_URL or ./commonweal.db).",
    ),
) -> None:
    """commonweal: map, measure, mobilize, plan."""
    from commonweal.settings import Settings

    ctx.obj = Settings(database_url=database_url) if database_url else Settings()


app.command("serve")(serve.serve)
app.command("demo")(registry.demo)
app.command("export")(registry.export)
app.add_typer(registry.db_app, name="db")
app.add_typer(registry.import_app, name="import")
app.add_typer(users.app, name="users")
survey.app.add_typer(__import__("commonweal.cli.survey_db", fromlist=["app"]).app, name="waves")
app.add_typer(survey.app, name="survey")
app.add_typer(network.app, name="network")
__import__("commonweal.cli.network_db")  # database-backed `network community` and `network whatif`
app.add_typer(index.app, name="index")
__import__("commonweal.cli.index_db")  # database-backed `index` commands (load, run, runs, ...)
checkins.mount(app)  # `commonweal checkins ...` and `commonweal worker`
app.add_typer(__import__("commonweal.cli.aid", fromlist=["app"]).app, name="aid")


def main() -> None:
    app()
