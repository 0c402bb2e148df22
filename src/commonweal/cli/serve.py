"""`commonweal serve`: the web application (API and pages)."""

from __future__ import annotations

import typer

from commonweal.cli._common import console, friendly_errors, settings_from_ctx
from commonweal.cli._db import open_db

__all__ = ["serve"]


def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8000, "--port", help="Port."),
    demo: bool = typer.Option(False, "--demo", help="Load the demo community and a demo login."),
    workers: int = typer.Option(1, "--workers", min=1, help="Worker processes (PostgreSQL)."),
) -> None:
    """Serve the web app and API (embedded SQLite by default)."""
    import uvicorn

    from commonweal.web.app import create_app

    settings = settings_from_ctx(ctx)
    factory = open_db(settings)
    if demo:
        from commonweal.registry.demo import ensure_demo

        info = ensure_demo(factory)
        console.print(f"demo community loaded: {info['counts']}")
        made = info.get("activity") or {}
        if made.get("survey"):
            console.print(f"demo survey wave: {made['survey']['responses']} responses")
        if made.get("mutual_aid"):
            aid = made["mutual_aid"]
            console.print(
                f"demo mutual aid: {aid['open_needs']} open needs, {aid['offers']} offers, "
                f"{aid['completed']} completed exchanges ({aid['hours_exchanged']:g} h)"
            )
        if made.get("checkins"):
            ch = made["checkins"]
            console.print(
                f"demo check-ins: {ch['plans']} plans, a safety check of "
                f"{ch['safety_check']['total']} people"
            )
        if made.get("indicators"):
            ind = made["indicators"]
            console.print(
                f"demo indicators: {ind['neighbourhoods']} neighbourhoods, an index run with rank "
                f"uncertainty (/o/{info['organisation_id']}/indicators/runs/{ind['run_id']})"
            )
        console.print(
            f"log in as [bold]{info['email']}[/] with password [bold]{info['password']}[/]"
        )
    console.print(f"commonweal on [bold]http://{host}:{port}/[/]  (API docs: /api/docs)")
    if workers > 1:
        import os

        os.environ["COMMONWEAL_DATABASE_URL"] = settings.database_url
        uvicorn.run(
            "commonweal.web.asgi:app", host=host, port=port, workers=workers, log_level="warning"
        )
    else:
        uvicorn.run(
            create_app(settings, session_factory=factory), host=host, port=port, log_level="warning"
        )


serve = friendly_errors(serve)
