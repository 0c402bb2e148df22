"""`commonweal survey waves ...` on a temporary SQLite database: create, import, report, score."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from commonweal.cli import app
from commonweal.db.engine import make_engine, make_session_factory, transaction
from commonweal.db.migrate import upgrade
from commonweal.registry import service as reg
from commonweal.registry.schemas import CommunityCreate
from tests.surveys.conftest import simulated_bscs


def test_waves_commands(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'cw.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with transaction(make_session_factory(engine)) as s:
        org = reg.create_organisation(s, name="Org")
        reg.create_community(s, organisation_id=org.id, data=CommunityCreate(name="Riverside"))
    engine.dispose()
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, ["--database-url", url, "survey", "waves", *args])

    r = run("create", "-c", "Riverside", "-i", "bscs", "--title", "Spring", "--opens",
            "2026-03-01", "--closes", "2026-03-31", "--json")
    assert r.exit_code == 0, r.output
    wave = json.loads(r.stdout)["id"]
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    frame = simulated_bscs(120)
    frame.write_csv(good)
    frame.head(5).with_columns(frame.head(5)["bscs_8"] * 0 + 7).write_csv(bad)  # 7 > 5
    r = run("import-responses", str(wave), str(bad))
    assert r.exit_code == 2 and "bscs_8" in r.output and "row 2" in r.output.lower()
    r = run("import-responses", str(wave), str(good), "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["responses"] == 120
    r = run("list", "-c", "Riverside", "--json")
    assert [(w["title"], w["responses"]) for w in json.loads(r.stdout)] == [("Spring", 120)]
    r = run("report", str(wave), "--json")
    rep = json.loads(r.stdout)
    assert rep["cfa"]["fitted"] and rep["cfa"]["fit"]["df"] == 14
    r = run("report", str(wave))
    assert r.exit_code == 0 and "alpha" in r.output and "chi-square" in r.output
    r = run("score", str(wave))
    assert r.exit_code == 0 and "600 scores" in r.output
    r = run("create", "-c", "Nowhere", "-i", "bscs", "--title", "X")
    assert r.exit_code == 2 and "Nowhere" in r.output
