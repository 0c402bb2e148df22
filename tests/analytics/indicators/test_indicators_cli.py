"""`commonweal index ...` commands through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from commonweal.cli import app

runner = CliRunner()


def test_specs_lists_bundled() -> None:
    r = runner.invoke(app, ["index", "specs", "--json"])
    assert r.exit_code == 0 and "cdc-svi-2018-county" in json.loads(r.stdout)


def test_verify_json_on_cdc_file(svi2018_path: Path) -> None:
    r = runner.invoke(
        app, ["index", "verify", "--spec", "cdc-svi-2018-county", str(svi2018_path), "--json"]
    )
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["ok"] and doc["n_units"] == 3142 and len(doc["columns"]) == 45


def test_verify_exit_code_and_mismatch_csv(svi2018: pl.DataFrame, tmp_path: Path) -> None:
    f = tmp_path / "pub.csv"
    svi2018.with_columns(
        pl.when(pl.col("FIPS") == "01001")
        .then(pl.lit("0.5"))
        .otherwise(pl.col("EPL_POV"))
        .alias("EPL_POV")
    ).write_csv(f)
    out = tmp_path / "mm.csv"
    r = runner.invoke(
        app, ["index", "verify", "-s", "cdc-svi-2018-county", str(f), "--json", "-o", str(out)]
    )
    assert r.exit_code == 1
    doc = json.loads(r.stdout)
    assert doc["n_mismatches"] == 1 and doc["mismatches"][0]["unit"] == "01001"
    assert pl.read_csv(out)["column"].to_list() == ["EPL_POV"]


def test_compute_writes_result(svi2018: pl.DataFrame, tmp_path: Path) -> None:
    svi2018.select(
        "FIPS",
        "EP_POV",
        "EP_UNEMP",
        "EP_PCI",
        "EP_NOHSDP",
        "EP_AGE65",
        "EP_AGE17",
        "EP_DISABL",
        "EP_SNGPNT",
        "EP_MINRTY",
        "EP_LIMENG",
        "EP_MUNIT",
        "EP_MOBILE",
        "EP_CROWD",
        "EP_NOVEH",
        "EP_GROUPQ",
    ).head(100).write_parquet(tmp_path / "in.parquet")
    out = tmp_path / "out.csv"
    r = runner.invoke(
        app,
        [
            "index",
            "compute",
            "-s",
            "cdc-svi-2018-county",
            str(tmp_path / "in.parquet"),
            "-o",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    assert pl.read_csv(out).height == 100


def test_compute_reports_located_errors(tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text("FIPS,EP_POV\n01001,12.5\n")
    r = runner.invoke(app, ["index", "compute", "-s", "cdc-svi-2018-county", str(f)])
    assert r.exit_code == 2 and "EP_UNEMP" in r.output and "Traceback" not in r.output


def test_uncertainty_json(svi2018: pl.DataFrame, tmp_path: Path) -> None:
    f = tmp_path / "svi.csv"
    svi2018.head(300).write_csv(f)
    args = [
        "index",
        "uncertainty",
        "-s",
        "cdc-svi-2018-county",
        str(f),
        "--draws",
        "30",
        "--seed",
        "4",
        "--normalisations",
        "spec,minmax",
        "--weights-concentration",
        "10",
        "--sobol",
        "8",
        "--top",
        "3",
        "--json",
    ]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert len(doc["uncertainty"]["least_stable"]) == 3
    assert [f["factor"] for f in doc["sensitivity"]["factors"]] == ["normalisations", "weights"]
    assert json.loads(runner.invoke(app, args).stdout) == doc  # seeded


def test_gap_json(tmp_path: Path) -> None:
    s, v = tmp_path / "s.csv", tmp_path / "v.csv"
    pl.DataFrame({"fips": ["1", "2", "3", "4"], "bric": [1.0, 2.0, 3.0, 4.0]}).write_csv(s)
    pl.DataFrame({"fips": ["1", "2", "3", "4"], "bscs_influence": [3.0, 3.5, 4.0, 1.0]}).write_csv(
        v
    )
    r = runner.invoke(
        app,
        [
            "index",
            "gap",
            str(s),
            str(v),
            "--on",
            "fips",
            "--structural",
            "bric",
            "--felt",
            "bscs_influence",
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    assert [p["fips"] for p in json.loads(r.stdout)["flagged"]] == ["4"]
