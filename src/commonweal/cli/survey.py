"""`commonweal survey ...` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="survey commands.", no_args_is_help=True)
