"""What every CLI command shares: settings, clean errors (never a traceback), JSON output, progress."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from commonweal.errors import CommonwealError, InputError

__all__ = [
    "console",
    "err_console",
    "friendly_errors",
    "print_json",
    "progress",
    "settings_from_ctx",
]

P = ParamSpec("P")
R = TypeVar("R")

console = Console()
err_console = Console(stderr=True)


def friendly_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn commonweal errors (and unreadable files) into a clear message and exit code 2."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except InputError as exc:
            err_console.print(f"[bold red]error:[/] {exc.message}", highlight=False)
            for p in exc.problems[:200]:
                err_console.print(f"  - {p}", highlight=False, markup=False)
            if len(exc.problems) > 200:
                err_console.print(f"  ... and {len(exc.problems) - 200} more")
            raise typer.Exit(2) from None
        except CommonwealError as exc:
            err_console.print(f"[bold red]error:[/] {exc.message}", highlight=False)
            raise typer.Exit(2) from None
        except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
            err_console.print(f"[bold red]error:[/] cannot read {exc.filename}: {exc.strerror}")
            raise typer.Exit(2) from None

    return wrapper


def print_json(obj: Any) -> None:
    """Write one JSON document to stdout (no rich markup, so it pipes cleanly)."""
    sys.stdout.write(json.dumps(obj, indent=2, default=str, allow_nan=False) + "\n")


@contextmanager
def progress(description: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A rich progress bar on stderr; yields ``advance(n)``. Quiet when stderr is not a terminal."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    ) as bar:
        task = bar.add_task(description, total=total)

        def advance(n: int = 1) -> None:
            bar.advance(task, n)

        yield advance


def settings_from_ctx(ctx: typer.Context) -> Any:
    """The Settings object the root callback built (``commonweal --database-url ...``)."""
    from commonweal.settings import Settings

    obj = ctx.find_root().obj
    if isinstance(obj, Settings):
        return obj
    return Settings()
