"""Docs are checked by tests: the CLI reference is generated and current, every command has help,
every setting is documented, and the public API list is sorted and importable."""

from __future__ import annotations

from pathlib import Path

import typer

import commonweal
from commonweal.cli import app
from commonweal.cli.reference import cli_reference, iter_commands
from commonweal.settings import Settings

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_cli_reference_is_current() -> None:
    expected = cli_reference()
    actual = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert actual == expected, (
        "docs/cli.md is stale: python -m commonweal.cli.reference > docs/cli.md"
    )


def test_every_command_has_help() -> None:
    for path, cmd in iter_commands(typer.main.get_command(app)):
        assert (cmd.help or "").strip(), f"commonweal {' '.join(path)} has no help"


def test_every_setting_is_documented() -> None:
    text = (DOCS / "settings.md").read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert f"`COMMONWEAL_{name.upper()}`" in text, name


def test_public_api_sorted_and_complete() -> None:
    assert commonweal.__all__ == sorted(commonweal.__all__)
    for name in commonweal.__all__:
        assert hasattr(commonweal, name), name
