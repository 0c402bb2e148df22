"""Generate the CLI reference (docs/cli.md) from the command tree itself, so it cannot drift:
``python -m commonweal.cli.reference > docs/cli.md``; a test compares the two."""

from __future__ import annotations

from typing import Any

import typer

__all__ = ["cli_reference", "iter_commands"]


def iter_commands(group: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """Every (path, command) below ``group`` (Typer vendors click, so this is duck-typed)."""
    out: list[tuple[tuple[str, ...], Any]] = []
    if hasattr(group, "commands"):
        for name in sorted(group.commands):
            cmd = group.commands[name]
            out.append(((*path, name), cmd))
            out.extend(iter_commands(cmd, (*path, name)))
    return out


def _first_paragraph(text: str | None) -> str:
    return (text or "").strip().split("\n\n")[0].replace("\n", " ")


def cli_reference() -> str:
    from commonweal.cli import app

    root = typer.main.get_command(app)
    lines = [
        "# Command-line reference",
        "",
        "Generated from the commands themselves (`python -m commonweal.cli.reference`).",
        "Every command also answers `--help`.",
        "",
    ]
    for path, cmd in iter_commands(root):
        lines.append(f"{'#' * min(len(path) + 1, 4)} `commonweal {' '.join(path)}`")
        lines.append("")
        lines.append(_first_paragraph(cmd.help))
        lines.append("")
        params = [p for p in cmd.params if p.name != "help"]
        if params and not hasattr(cmd, "commands"):
            for p in params:
                if p.param_type_name == "argument":
                    lines.append(f"- `{(p.name or '').upper()}` (argument)")
                else:
                    names = ", ".join(f"`{o}`" for o in p.opts)
                    helptext = _first_paragraph(getattr(p, "help", "") or "")
                    lines.append(f"- {names}: {helptext}".rstrip(": "))
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    import sys

    sys.stdout.write(cli_reference())
