"""`commonweal network profile` / `villages` on real files, through typer's CliRunner."""

import json

from typer.testing import CliRunner

from commonweal.cli import app

runner = CliRunner()


def test_profile_json_and_outputs(data_dir, tmp_path):
    path = data_dir / "koster_arang_dak" / "tangible_support.graphml"
    out_csv, out_gml = tmp_path / "m.csv", tmp_path / "g.graphml"
    res = runner.invoke(app, ["network", "profile", str(path), "--json", "--seed", "2",
                              "--members-csv", str(out_csv), "--graphml", str(out_gml)])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["summary"]["n_people"] == 108 and len(doc["members"]) == 108
    assert out_csv.read_text().startswith("id,n_supporters")
    assert "articulation_point" in out_gml.read_text()


def test_profile_text_karnataka(data_dir):
    res = runner.invoke(app, ["network", "profile",
                              str(data_dir / "karnataka_villages" / "vil1_edges.csv")])
    assert res.exit_code == 0, res.output
    assert "isolated" in res.stdout and "robustness R" in res.stdout


def test_villages_json(data_dir, tmp_path):
    for n in (1, 10):
        for part in ("edges", "meta"):
            src = data_dir / "karnataka_villages" / f"vil{n}_{part}.csv"
            (tmp_path / src.name).write_bytes(src.read_bytes())
    res = runner.invoke(app, ["network", "villages", str(tmp_path), "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)["villages"]
    assert [r["village"] for r in rows] == ["vil1", "vil10"]
    assert 0.3 < rows[0]["share_isolated"] < 0.7


def test_bad_file_is_a_clean_error(tmp_path):
    bad = tmp_path / "ties.csv"
    bad.write_text("from_id,to_id,kind,support_types\na,b,kin,hugs\n")
    res = runner.invoke(app, ["network", "profile", str(bad)])
    assert res.exit_code == 2
    assert "Traceback" not in res.output
    res = runner.invoke(app, ["network", "villages", str(tmp_path)])
    assert res.exit_code == 2
