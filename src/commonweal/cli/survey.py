"""`commonweal survey ...` commands: instruments, scoring, CFA/invariance, reports, exports."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from commonweal.cli._common import console, err_console, friendly_errors, print_json

if TYPE_CHECKING:
    import polars as pl  # imported where used, so that `commonweal --help` does not load it

    from commonweal.analytics.surveys import CFAResult, Instrument

app = typer.Typer(help="Survey instruments, scoring and psychometrics (CFA, invariance).",
                  no_args_is_help=True)

_FORMATS = ("csv", "kobo", "redcap")


def _read_frame(path: Path) -> pl.DataFrame:
    import polars as pl

    from commonweal.errors import InputError, Problem

    try:
        return pl.read_csv(path, infer_schema_length=None, encoding="utf8-lossy")
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError) as exc:
        raise InputError(f"cannot read {path.name} as CSV",
                         [Problem(str(exc).splitlines()[0], file=path.name)]) from exc


def _instrument(name: str, item_text: Path | None, conversion: Path | None) -> Instrument:
    from commonweal.analytics.surveys import instruments as ins

    path = Path(name)
    inst = ins.read_instrument_file(path) if path.suffix == ".toml" else ins.load_instrument(name)
    if item_text is not None:
        inst = inst.with_item_text(ins.read_item_text(item_text))
    if conversion is not None:
        subs = [s.id for s in inst.subscales if s.conversion_note] or [inst.subscales[0].id]
        inst = inst.with_conversion(subs[0], ins.read_conversion_table(conversion))
    return inst


def _model_text(model: str) -> str:
    p = Path(model)
    if "=~" not in model and p.is_file():
        return p.read_text(encoding="utf-8")
    return model


@app.command("instruments")
@friendly_errors
def instruments_cmd(json_out: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the bundled instruments with the licence basis for each."""
    from commonweal.analytics.surveys import list_instruments

    insts = list_instruments()
    if json_out:
        print_json([{"id": i.id, "name": i.name, "items": len(i.items),
                     "subscales": [s.id for s in i.subscales], "licence_basis": i.licence.basis,
                     "text_shipped": i.licence.text_shipped, "licence": i.licence.statement,
                     "citation": i.citation} for i in insts])
        return
    from rich.table import Table

    table = Table("id", "name", "items", "ships", "licence basis")
    for i in insts:
        table.add_row(i.id, i.name, str(len(i.items)),
                      "text + scoring" if i.licence.text_shipped else "scoring only",
                      i.licence.basis)
    console.print(table)


@app.command("score")
@friendly_errors
def score_cmd(
    responses: Path = typer.Argument(..., help="Responses CSV (one row per respondent)."),
    instrument: str = typer.Option(..., "--instrument", "-i",
                                   help="Bundled instrument id, or a .toml instrument file."),
    fmt: str = typer.Option("csv", "--format", help="csv, kobo (Kobo/ODK export) or redcap."),
    keep: list[str] = typer.Option([], "--keep", help="Extra column to copy (repeatable)."),
    ignore_unknown: bool = typer.Option(False, "--ignore-unknown",
                                        help="Ignore columns that are not items."),
    item_text: Optional[Path] = typer.Option(None, "--item-text",  # noqa: UP045
                                             help="CSV item,text for a licensed instrument."),
    conversion: Optional[Path] = typer.Option(None, "--conversion",  # noqa: UP045
                                              help="CSV raw,converted score table."),
    output: Optional[Path] = typer.Option(None, "-o", "--output",  # noqa: UP045
                                          help="Write scores as CSV."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Score responses with an instrument (subscale scores, rule applied, bands)."""
    from commonweal.analytics.surveys import (
        read_kobo_responses,
        read_redcap_responses,
        score_responses,
    )
    from commonweal.errors import InputError

    if fmt not in _FORMATS:
        raise InputError(f"--format must be one of {', '.join(_FORMATS)}")
    inst = _instrument(instrument, item_text, conversion)
    if fmt == "csv":
        frame = _read_frame(responses)
    elif fmt == "kobo":
        frame = read_kobo_responses(responses, inst)
        ignore_unknown = True
    else:
        frame = read_redcap_responses(responses, inst)
        ignore_unknown = True
    res = score_responses(inst, frame, keep=keep, ignore_unknown=ignore_unknown,
                          file=responses.name)
    if output is not None:
        res.scores.write_csv(output)
    if json_out:
        print_json(res.to_dict())
        return
    from rich.table import Table

    table = Table("subscale", "rule", "scored", "prorated", "not scored", "mean", "sd", "bands")
    for s in res.summaries:
        table.add_row(s.name, s.missing_rule, str(s.n), str(s.n_prorated), str(s.n_insufficient),
                      "-" if s.mean is None else f"{s.mean:.2f}",
                      "-" if s.sd is None else f"{s.sd:.2f}",
                      ", ".join(f"{k} {v}" for k, v in s.bands.items()))
    console.print(table)
    for s in res.summaries:
        for note in s.notes:
            err_console.print(f"[yellow]note:[/] {s.name}: {note}", highlight=False)
    if output is not None:
        err_console.print(f"scores written to {output}")


def _p(p: float | None) -> str:
    if p is None:
        return "p undefined"
    return "p < .001" if p < 0.001 else f"p = {p:.3f}"


def _print_cfa(res: CFAResult) -> None:
    f = res.fit
    groups = (" groups " + ", ".join(f"{g} ({n})" for g, n in zip(res.groups, res.n_obs,
                                                                  strict=True))
              if res.groups else f" N = {res.n_obs[0]}")
    console.print(f"[bold]ML CFA[/]{groups}; {'converged' if res.converged else 'NOT CONVERGED'}"
                  f" after {res.iterations} iterations; {res.n_dropped} incomplete rows dropped",
                  highlight=False)
    console.print(
        f"chi-square {f.chisq:.3f} on {f.df} df ({_p(f.pvalue)});"
        f" CFI {f.cfi or float('nan'):.3f}; TLI {f.tli or float('nan'):.3f}; RMSEA "
        f"{f.rmsea or float('nan'):.3f} [{f.rmsea_ci_lower or 0:.3f}, {f.rmsea_ci_upper or 0:.3f}]"
        f" p-close {f.rmsea_pclose or float('nan'):.3f}; SRMR {f.srmr:.3f}", highlight=False)
    console.print(f"logL {f.loglik:.3f}; AIC {f.aic:.3f}; BIC {f.bic:.3f}; SABIC {f.sabic:.3f}",
                  highlight=False)
    from rich.table import Table

    table = Table("group", "lhs", "op", "rhs", "est", "se", "z", "p", "std.all")
    for e in res.estimates:
        table.add_row(e.group or "", e.lhs, e.op, e.rhs, f"{e.est:.3f}",
                      "" if e.se is None else f"{e.se:.3f}", "" if e.z is None else f"{e.z:.3f}",
                      "" if e.pvalue is None else f"{e.pvalue:.3f}", f"{e.std_all:.3f}")
    console.print(table)
    console.print("omega: " + "; ".join(f"{(g + ' ') if g else ''}{fac} {w:.3f}"
                                        for g, fac, w in res.omega), highlight=False)
    for w in (*res.heywood, *res.warnings):
        err_console.print(f"[bold yellow]warning:[/] {w}", highlight=False)


@app.command("cfa")
@friendly_errors
def cfa_cmd(
    data: Path = typer.Argument(..., help="Data CSV."),
    model: str = typer.Option(..., "--model", "-m",
                              help="lavaan-style model text (or a file holding it)."),
    group: Optional[str] = typer.Option(None, "--group", help="Grouping column."),  # noqa: UP045
    invariance: bool = typer.Option(False, "--invariance",
                                    help="Fit configural/metric/scalar/strict by --group."),
    std_lv: bool = typer.Option(False, "--std-lv", help="Fix factor variances to 1."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Fit a CFA by maximum likelihood (lavaan conventions); optionally test invariance."""
    from commonweal.analytics.surveys import fit_cfa, measurement_invariance
    from commonweal.errors import InputError

    frame = _read_frame(data)
    text = _model_text(model)
    if invariance:
        if not group:
            raise InputError("--invariance needs --group COLUMN")
        inv = measurement_invariance(text, frame, group, std_lv=std_lv)
        if json_out:
            print_json(inv.to_dict())
            return
        def g(x: float | None, d: int = 3) -> str:
            return "-" if x is None else f"{x:.{d}f}"

        typer.echo(f"{'level':<11}{'chisq':>9}{'df':>4}{'CFI':>7}{'RMSEA':>7}{'SRMR':>7}"
                      f"{'d.chisq':>9}{'d.df':>5}{'p':>7}{'d.CFI':>8}{'d.RMSEA':>8}  verdict")
        for s in inv.steps:
            verdict = s.verdict
            typer.echo(
                f"{s.level:<11}{g(s.chisq):>9}{s.df:>4}{g(s.cfi):>7}{g(s.rmsea):>7}"
                f"{g(s.srmr):>7}{g(s.delta_chisq):>9}"
                f"{'-' if s.delta_df is None else s.delta_df:>5}{g(s.delta_pvalue):>7}"
                f"{g(s.delta_cfi):>8}{g(s.delta_rmsea):>8}  {verdict}")
        typer.echo(inv.verdict)
        return
    res = fit_cfa(text, frame, group=group, std_lv=std_lv)
    if json_out:
        print_json(res.to_dict())
        return
    _print_cfa(res)


@app.command("report")
@friendly_errors
def report_cmd(
    data: Path = typer.Argument(..., help="Responses or data CSV."),
    output: Path = typer.Option(..., "-o", "--output", help="HTML file to write."),
    instrument: Optional[str] = typer.Option(None, "--instrument", "-i",  # noqa: UP045
                                             help="Instrument id or .toml file."),
    model: Optional[str] = typer.Option(None, "--model", "-m",  # noqa: UP045
                                        help="CFA model (default: one factor per subscale)."),
    group: Optional[str] = typer.Option(None, "--group",  # noqa: UP045
                                        help="Column for the invariance table."),
    title: Optional[str] = typer.Option(None, "--title", help="Report title."),  # noqa: UP045
) -> None:
    """Write a standalone HTML report (scores, reliability, CFA, invariance; inline SVG)."""
    from commonweal.analytics.surveys import build_report

    frame = _read_frame(data)
    inst = _instrument(instrument, None, None) if instrument else None
    page = build_report(frame, instrument=inst, model=_model_text(model) if model else None,
                        group=group, title=title, source=data.name)
    output.write_text(page, encoding="utf-8")
    err_console.print(f"report written to {output}")


@app.command("export")
@friendly_errors
def export_cmd(
    instrument: str = typer.Option(..., "--instrument", "-i", help="Instrument id or .toml."),
    to: str = typer.Option(..., "--to", help="xlsform or redcap."),
    output: Path = typer.Option(..., "-o", "--output", help="File to write (.xlsx or .csv)."),
    item_text: Optional[Path] = typer.Option(None, "--item-text",  # noqa: UP045
                                             help="CSV item,text for a licensed instrument."),
) -> None:
    """Export an instrument as an XLSForm (ODK/Kobo) or a REDCap data dictionary."""
    from commonweal.analytics.surveys import write_redcap_dictionary, write_xlsform
    from commonweal.errors import InputError

    inst = _instrument(instrument, item_text, None)
    if to == "xlsform":
        write_xlsform(inst, output)
    elif to == "redcap":
        write_redcap_dictionary(inst, output)
    else:
        raise InputError("--to must be xlsform or redcap")
    err_console.print(f"{to} written to {output}")
