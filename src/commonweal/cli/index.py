"""`commonweal index ...` commands: composite indices (compute, verify, uncertainty, gap)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from commonweal.cli._common import console, friendly_errors, print_json, progress

if TYPE_CHECKING:
    import polars as pl  # imported where used, so that `commonweal --help` does not load it

app = typer.Typer(
    help="Composite indices: compute, verify, uncertainty, structural-vs-felt gap.",
    no_args_is_help=True,
)

_SPEC = typer.Option(
    ..., "--spec", "-s", help="Bundled spec name (see `index specs`) or a TOML file."
)
_JSON = typer.Option(False, "--json", help="Print one JSON document to stdout.")
_FORMAT = typer.Option(
    "wide", "--format", help="Input layout: wide, long (unit,period,indicator,value) or tracr."
)


def _csv_list(text: str | None) -> tuple[str, ...]:
    return tuple(t.strip() for t in (text or "").split(",") if t.strip())


def _load_data(path: Path, fmt: str, unit: str) -> pl.DataFrame:
    from commonweal.analytics.indicators import data
    from commonweal.errors import InputError

    if fmt == "wide":
        return data.read_table(path)
    if fmt == "long":
        return data.to_wide(data.read_long(path), unit=unit)
    if fmt == "tracr":
        return data.to_wide(data.read_tracr(path), unit=unit, period="period")
    raise InputError(f"unknown --format {fmt!r}; use wide, long or tracr")


def _write(frame: pl.DataFrame, out: Path) -> None:
    if out.suffix.lower() in (".parquet", ".pq"):
        frame.write_parquet(out)
    else:
        frame.write_csv(out)


def _labelled(
    table: pl.DataFrame, data: pl.DataFrame, unit: str, label: str | None, width: int | None
) -> pl.DataFrame:
    """Add the ``label`` column of the input data next to each unit (same order as ``table``)."""
    if not label:
        return table
    from commonweal.errors import InputError

    if label not in data.columns:
        raise InputError(f"--label column {label!r} is not in the data")
    import polars as pl

    key = pl.col(unit).cast(pl.Utf8)
    labels = data.select(key.str.zfill(width) if width else key, pl.col(label).cast(pl.Utf8))
    out = table.join(labels, on=unit, how="left", maintain_order="left")
    return out.select(unit, label, *[c for c in table.columns if c != unit])


@app.command("specs")
@friendly_errors
def specs_cmd(as_json: bool = _JSON) -> None:
    """List the bundled index specifications."""
    from commonweal.analytics.indicators import bundled_specs

    specs = bundled_specs()
    if as_json:
        print_json(specs)
        return
    for name, title in specs.items():
        console.print(f"[bold]{name}[/]  {title}", highlight=False)


@app.command("compute")
@friendly_errors
def compute_cmd(
    data_file: Path = typer.Argument(..., help="Data file (CSV or Parquet)."),
    spec: str = _SPEC,
    fmt: str = _FORMAT,
    out: Optional[Path] = typer.Option(  # noqa: UP045
        None, "--out", "-o", help="Write the result (CSV or .parquet)."
    ),
    as_json: bool = _JSON,
) -> None:
    """Compute an index for every unit of DATA_FILE with a specification."""
    from commonweal.analytics.indicators import compute, load_spec

    s = load_spec(spec)
    result = compute(s, _load_data(data_file, fmt, s.unit), file=str(data_file))
    if out:
        _write(result.frame, out)
    if as_json:
        print_json(result.to_dict())
    elif not out:
        console.print(result.frame)


@app.command("verify")
@friendly_errors
def verify_cmd(
    published: Path = typer.Argument(..., help="Published index file (inputs and outputs)."),
    spec: str = _SPEC,
    tolerance: float = typer.Option(
        0.0, "--tolerance", help="Largest difference that counts as a match."
    ),
    max_rows: int = typer.Option(50, "--max-rows", help="Mismatches to list (all are counted)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write every mismatch to CSV."),  # noqa: UP045
    as_json: bool = _JSON,
) -> None:
    """Recompute a published index with a spec; report every mismatch by unit and column.

    Exit code 1 when any cell differs.
    """
    from commonweal.analytics.indicators import load_spec, read_table, verify

    report = verify(
        load_spec(spec), read_table(published), tolerance=tolerance, file=str(published)
    )
    if out:
        report.mismatch_frame().write_csv(out)
    if as_json:
        print_json(report.to_dict(max_mismatches=max_rows))
    else:
        console.print(
            f"[bold]{report.spec_id}[/]: {report.n_units} units, "
            f"{len(report.mismatches)} mismatching cell(s)",
            highlight=False,
        )
        for c in report.columns:
            mark = "ok " if c.matched == c.compared else "BAD"
            console.print(
                f"  {mark} {c.column:<14} {c.matched}/{c.compared}", highlight=False, markup=False
            )
        if report.mismatches:
            console.print(report.mismatch_frame().head(max_rows))
    if not report.ok:
        raise typer.Exit(1)


@app.command("uncertainty")
@friendly_errors
def uncertainty_cmd(
    data_file: Path = typer.Argument(..., help="Data file (CSV or Parquet), one period."),
    spec: str = _SPEC,
    fmt: str = _FORMAT,
    draws: int = typer.Option(1000, "--draws", help="Monte-Carlo draws."),
    seed: int = typer.Option(
        0, "--seed", help="Seed; the same seed gives the same result on every backend."
    ),
    normalisations: str = typer.Option(
        "", "--normalisations", help="Alternatives, e.g. spec,minmax,zscore."
    ),
    aggregations: str = typer.Option(
        "", "--aggregations", help="Alternatives, e.g. spec,arithmetic,geometric."
    ),
    imputations: str = typer.Option(
        "", "--imputations", help="Alternatives, e.g. spec,mean,median."
    ),
    concentration: Optional[float] = typer.Option(  # noqa: UP045
        None, "--weights-concentration", help="Dirichlet concentration around the nominal weights."
    ),
    sobol: int = typer.Option(
        0, "--sobol", help="Also run a Sobol analysis with this many base samples."
    ),
    backend: str = typer.Option("serial", "--backend", help="serial, processes or dask."),
    workers: Optional[int] = typer.Option(None, "--workers", help="Worker processes/threads."),  # noqa: UP045
    address: Optional[str] = typer.Option(None, "--address", help="Dask scheduler address."),  # noqa: UP045
    top: int = typer.Option(10, "--top", help="How many of the least stable units to show."),
    label: Optional[str] = typer.Option(  # noqa: UP045
        None, "--label", help="A data column to show next to each unit (e.g. LOCATION)."
    ),
    out: Optional[Path] = typer.Option(  # noqa: UP045
        None, "--out", "-o", help="Write every unit's rank summary."
    ),
    as_json: bool = _JSON,
) -> None:
    """Monte-Carlo rank distribution of each unit (and optional Sobol sensitivity)."""
    from commonweal.analytics.indicators import (
        Alternatives,
        load_spec,
        run_sensitivity,
        run_uncertainty,
    )
    from commonweal.exec import Executor

    s = load_spec(spec)
    frame = _load_data(data_file, fmt, s.unit)
    alt = Alternatives(
        _csv_list(normalisations), _csv_list(imputations), _csv_list(aggregations), concentration
    )
    doc: dict[str, object] = {"spec": s.id}
    with Executor(backend, workers=workers, address=address) as ex:
        with progress("Monte-Carlo draws", draws) as advance:
            res = run_uncertainty(
                s, frame, alternatives=alt, n_draws=draws, seed=seed, executor=ex, on_done=advance
            )
        table = _labelled(res.frame(), frame, s.unit, label, s.unit_width)
        doc["uncertainty"] = res.to_dict(top=top) | {"least_stable": table.head(top).to_dicts()}
        if sobol:
            d = sum(len(o) > 1 for o in (alt.normalisations, alt.imputations, alt.aggregations))
            d += concentration is not None
            with progress("Sobol runs", sobol * (d + 2)) as advance:
                sa = run_sensitivity(
                    s,
                    frame,
                    alternatives=alt,
                    n_base=sobol,
                    seed=seed,
                    executor=ex,
                    on_done=advance,
                )
            doc["sensitivity"] = sa.to_dict()
    if out:
        _write(table, out)
    if as_json:
        print_json(doc)
        return
    console.print(
        f"[bold]{s.id}[/]: {draws} draws, seed {seed}; least stable units:", highlight=False
    )
    console.print(table.head(top))
    if sobol:
        console.print("Sobol indices of the ranks (variance-weighted over units):")
        console.print(sa.frame())


@app.command("gap")
@friendly_errors
def gap_cmd(
    structural_file: Path = typer.Argument(..., help="Index or indicator table (CSV/Parquet)."),
    survey_file: Path = typer.Argument(..., help="Survey aggregates per place (CSV/Parquet)."),
    on: str = typer.Option(..., "--on", help="Place column of the structural table."),
    survey_on: Optional[str] = typer.Option(  # noqa: UP045
        None, "--survey-on", help="Place column of the survey table."
    ),
    structural: str = typer.Option(..., "--structural", help="Structural score column."),
    felt: str = typer.Option(..., "--felt", help="Felt-belonging columns, comma-separated."),
    direction: int = typer.Option(
        1, "--direction", help="-1 when a higher structural score means less investment."
    ),
    high: float = typer.Option(0.75, "--high", help="Structural percent rank counted as high."),
    low: float = typer.Option(0.25, "--low", help="Felt percent rank counted as low."),
    n_column: Optional[str] = typer.Option(None, "--n-column", help="Respondents per place."),  # noqa: UP045
    min_respondents: int = typer.Option(0, "--min-respondents", help="Leave out smaller samples."),
    as_json: bool = _JSON,
) -> None:
    """Flag places where structural investment is high but felt belonging is low."""
    from commonweal.analytics.indicators import read_table, structural_felt_gap

    res = structural_felt_gap(
        read_table(structural_file),
        read_table(survey_file),
        on=on,
        felt_on=survey_on,
        structural_column=structural,
        felt_columns=_csv_list(felt),
        structural_direction=direction,
        structural_high=high,
        felt_low=low,
        n_column=n_column,
        min_respondents=min_respondents,
    )
    if as_json:
        print_json(res.to_dict())
        return
    console.print(
        f"{res.flagged().height} of {res.frame.height} places flagged "
        f"(structural >= {high:.0%}, felt <= {low:.0%}):",
        highlight=False,
    )
    console.print(res.flagged())
