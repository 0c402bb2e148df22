"""`commonweal survey ...` through typer's CliRunner."""

from __future__ import annotations

import json

import polars as pl
from typer.testing import CliRunner

from commonweal.cli import app

runner = CliRunner()
MODEL = "visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6; speed =~ x7 + x8 + x9"


def test_instruments_lists_licence_basis():
    r = runner.invoke(app, ["survey", "instruments", "--json"])
    assert r.exit_code == 0, r.output
    rows = {d["id"]: d for d in json.loads(r.stdout)}
    assert rows["cdrisc25"]["text_shipped"] is False
    assert rows["ons4"]["licence_basis"] == "open-licence"


def test_cfa_json_matches_lavaan(hs_path):
    r = runner.invoke(app, ["survey", "cfa", "--model", MODEL, str(hs_path), "--json"])
    assert r.exit_code == 0, r.output
    fit = json.loads(r.stdout)["fit"]
    # lavaan tutorial (CFA page): chi-square 85.306 on 24 df, CFI .931
    assert round(fit["chisq"], 3) == 85.306 and fit["df"] == 24 and round(fit["cfi"], 3) == 0.931


def test_cfa_text_output(hs_path):
    r = runner.invoke(app, ["survey", "cfa", "-m", MODEL, str(hs_path)])
    assert r.exit_code == 0, r.output
    assert "85.306" in r.output and "7517.490" in r.output


def test_cfa_invariance_json(hs_path):
    r = runner.invoke(app, ["survey", "cfa", "-m", MODEL, str(hs_path), "--group", "school",
                            "--invariance", "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    # semTools::measurementInvariance (see test_survey_invariance.py for the source)
    assert [round(s["chisq"], 2) for s in d["steps"]][:3] == [115.85, 124.04, 164.10]
    assert d["supported"] == "metric"


def test_invariance_needs_group(hs_path):
    r = runner.invoke(app, ["survey", "cfa", "-m", MODEL, str(hs_path), "--invariance"])
    assert r.exit_code == 2 and "--group" in r.output


def test_report_is_standalone_html(hs_path, tmp_path):
    out = tmp_path / "report.html"
    r = runner.invoke(app, ["survey", "report", str(hs_path), "-m", MODEL, "--group", "school",
                            "-o", str(out)])
    assert r.exit_code == 0, r.output
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page.lower()
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "85.306" in page and "Measurement invariance by school" in page


def test_report_with_instrument_has_svg_plots(tmp_path):
    import numpy as np

    from commonweal.analytics.surveys.simulate import simulate_factor_data, to_likert

    lam = np.kron(np.eye(4), np.ones((2, 1))) * 0.8
    phi = 0.5 * np.ones((4, 4)) + 0.5 * np.eye(4)
    cont = simulate_factor_data(lam, phi, np.full(8, 0.4), 600, seed=4,
                                names=[f"bscs_{i}" for i in range(1, 9)])
    df = to_likert(cont).with_columns(pl.Series("site", ["north", "south"] * 300))
    p = tmp_path / "bscs.csv"
    df.write_csv(p)
    out = tmp_path / "r.html"
    r = runner.invoke(app, ["survey", "report", str(p), "-i", "bscs", "--group", "site",
                            "-o", str(out)])
    assert r.exit_code == 0, r.output
    page = out.read_text()
    assert page.count("<svg") == 5 and "<script" not in page.lower()
    assert "Reliability" in page and "Confirmatory factor analysis" in page
    assert "Measurement invariance by site" in page


def test_score_command(tmp_path):
    p = tmp_path / "r.csv"
    pl.DataFrame({"id": [1, 2], "ucla3_1": [1, 3], "ucla3_2": [1, 3],
                  "ucla3_3": [1, None]}).write_csv(p)
    out = tmp_path / "s.csv"
    r = runner.invoke(app, ["survey", "score", "--instrument", "ucla3", str(p), "--keep", "id",
                            "-o", str(out), "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["summaries"][0]["n_insufficient"] == 1
    assert pl.read_csv(out)["loneliness"].to_list() == [3.0, None]


def test_score_command_reports_bad_cells(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("ucla3_1,ucla3_2,ucla3_3\n1,2,3\n9,2,3\n")
    r = runner.invoke(app, ["survey", "score", "-i", "ucla3", str(p)])
    assert r.exit_code == 2
    assert "row 3" in r.output and "ucla3_1" in r.output and "Traceback" not in r.output


def test_export_command(tmp_path):
    out = tmp_path / "bscs.xlsx"
    r = runner.invoke(app, ["survey", "export", "-i", "bscs", "--to", "xlsform", "-o", str(out)])
    assert r.exit_code == 0 and out.exists()
    r = runner.invoke(app, ["survey", "export", "-i", "cdrisc25", "--to", "redcap", "-o",
                            str(tmp_path / "x.csv")])
    assert r.exit_code == 2 and "licensed" in r.output


def test_score_kobo_export_and_instrument_file(tmp_path):
    from commonweal.analytics.surveys import instrument_to_dict, load_instrument

    p = tmp_path / "kobo.csv"
    p.write_text("start;ucla3/ucla3_1;ucla3/ucla3_2;ucla3/ucla3_3;_uuid\n"
                 "x;3;3;3;u1\nx;1;1;1;u2\n")
    r = runner.invoke(app, ["survey", "score", "-i", "ucla3", "--format", "kobo", str(p),
                            "--keep", "_uuid", "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert [row["loneliness_band"] for row in d["scores"]] == ["lonely", "not lonely"]

    # a user's own instrument file (TOML) works wherever a bundled id does
    doc = instrument_to_dict(load_instrument("ucla3"))
    lines = ['id = "mine"', 'name = "My loneliness"', f'citation = "{doc["citation"]}"',
             "[licence]", 'basis = "unknown"', "text_shipped = false", 'statement = "test"']
    for it in doc["items"]:
        lines += ["[[items]]", f'id = "{it["id"]}"',
                  "options = [" + ", ".join(f'{{ value = {o["value"]}, label = "{o["label"]}" }}'
                                            for o in it["options"]) + "]"]
    lines += ["[[subscales]]", 'id = "sum3"', 'items = ["ucla3_1", "ucla3_2", "ucla3_3"]',
              'scoring = "sum"']
    toml = tmp_path / "mine.toml"
    toml.write_text("\n".join(lines) + "\n")
    csvp = tmp_path / "r.csv"
    csvp.write_text("ucla3_1,ucla3_2,ucla3_3\n1,2,3\n")
    r = runner.invoke(app, ["survey", "score", "-i", str(toml), str(csvp), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["scores"][0]["sum3"] == 6.0


def test_cfa_estimator_follows_sklearn_contract(hs):
    from commonweal.analytics.surveys import CFA

    est = CFA(MODEL.replace(";", "\n"), std_lv=True)
    assert est.fit(hs) is est
    assert est.result_.fit.df == 24 and est.fit_measures_.chisq > 0
    assert not hasattr(CFA(MODEL), "result_")
