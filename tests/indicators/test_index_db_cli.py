"""`commonweal index load/run/runs/run-uncertainty/compare` on a SQLite file (CliRunner)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from commonweal.cli import app

WIDE_2018 = "fips,name,m_a,m_b\n1001,Autauga,1,10\n1003,Baldwin,2,30\n1005,Barbour,3,20\n"
WIDE_2019 = "fips,name,m_a,m_b\n1001,Autauga,2,10\n1003,Baldwin,2,35\n1005,Barbour,1,20\n"


def test_load_run_uncertainty_compare(tmp_path, tiny_spec) -> None:
    runner = CliRunner()
    db = ["--database-url", f"sqlite:///{tmp_path / 'cw.db'}"]

    def call(*args: str):
        res = runner.invoke(app, [*db, "index", *args])
        return res

    for year, text in (("2018", WIDE_2018), ("2019", WIDE_2019)):
        f = tmp_path / f"v{year}.csv"
        f.write_text(text)
        res = call("load", str(f), "--period", year, "--name-column", "name", "--json")
        assert res.exit_code == 0, res.output
        doc = json.loads(res.stdout)
        assert doc["values_inserted"] == 6 and doc["periods"] == [year]
    res = call("run", "--spec", str(tiny_spec), "--period", "2018", "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    # min-max by hand (see test_values_api): 01005 highest with 0.75
    assert doc["top"][0] == {"code": "01005", "name": "Barbour", "score": 0.75, "rank": 1}
    assert call("run", "--spec", str(tiny_spec), "--period", "2019").exit_code == 0
    res = call("runs", "--json")
    assert [r["period"] for r in json.loads(res.stdout)] == ["2019", "2018"]
    res = call("run-uncertainty", "1", "--draws", "8", "--weights-concentration", "5", "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["uncertainty"]["n_draws"] == 8 and len(doc["least_stable"]) == 3
    res = call("compare", "1", "2", "--json")
    assert res.exit_code == 0, res.output
    rows = {r["code"]: r for r in json.loads(res.stdout)["rows"]}
    assert rows["01005"]["change"] is not None
    # errors are one clear line, no traceback; nothing is written
    bad = tmp_path / "bad.csv"
    bad.write_text("fips,m_a\n1001,x\n")
    res = call("load", str(bad), "--period", "2020")
    out = " ".join(res.output.split())  # rich wraps long lines
    assert res.exit_code == 2 and "row 2, field 'm_a'" in out and "Traceback" not in out
    res = call("run", "--spec", str(tiny_spec), "--period", "2020")
    assert res.exit_code == 2 and "m_a" in res.output
