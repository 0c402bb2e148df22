"""`commonweal aid ...` on a temp SQLite file: intake, board, matching with reasons, ledger,
sweep, secret and crisis exports; errors are messages with exit code 2, never tracebacks."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from commonweal.cli import app
from commonweal.db.engine import transaction
from commonweal.mutual_aid import crisis, ledger, service
from commonweal.mutual_aid.schemas import CrisisReportCreate, OfferCreate
from commonweal.mutual_aid.vocab import Channel


def _db(tmp_path):
    from commonweal.cli._db import open_db
    from commonweal.registry import service as reg
    from commonweal.registry.schemas import CommunityCreate, MemberCreate
    from commonweal.settings import Settings

    url = f"sqlite:///{tmp_path / 'cw.db'}"
    factory = open_db(Settings(database_url=url))
    with transaction(factory) as s:
        org = reg.create_organisation(s, name="Riverside Aid")
        c = reg.create_community(s, organisation_id=org.id, data=CommunityCreate(name="Riverside"))
        members = [
            reg.create_member(
                s,
                organisation_id=org.id,
                community_id=c.id,
                data=MemberCreate(external_id=f"m{i}", display_name=f"M{i}"),
            ).id
            for i in range(2)
        ]
        service.create_offer(
            s,
            organisation_id=org.id,
            community_id=c.id,
            channel=Channel.cli,
            user_id=None,
            dispatcher=True,
            data=OfferCreate(
                categories=["groceries"], lat=51.5, lon=-0.121, contact="+44 7700 900777"
            ),
        )
        accs = [ledger.create_account(s, organisation_id=org.id, member_id=m).id for m in members]
        import datetime as dt

        crisis.create_report(
            s,
            organisation_id=org.id,
            channel=Channel.cli,
            now=dt.datetime.now(dt.UTC),
            data=CrisisReportCreate(title="Bridge closed", lat=51.5, lon=-0.1),
        )
    return url, accs


def test_aid_commands(tmp_path) -> None:
    url, accs = _db(tmp_path)
    run = CliRunner().invoke
    base = ["--database-url", url, "aid"]
    r = run(
        app, [*base, "settings", "--community", "Riverside", "--mode", "peer_to_peer", "--json"]
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["moderation_mode"] == "peer_to_peer"
    r = run(
        app,
        [
            *base,
            "need",
            "--community",
            "Riverside",
            "--category",
            "food",
            "--address",
            "4 Wren Row",
            "--contact",
            "07700 900555",
            "--lat",
            "51.5",
            "--lon",
            "-0.12",
            "--area",
            "Mill Lane",
        ],
    )
    assert r.exit_code == 0 and "need #1 recorded" in r.output, r.output
    r = run(app, [*base, "needs", "--community", "Riverside", "--json"])
    board = json.loads(r.stdout)
    assert [(n["category"], n["channel"], n["area"]) for n in board] == [
        ("groceries", "cli", "Mill Lane")
    ]
    assert "4 Wren Row" not in r.stdout and "900555" not in r.stdout
    r = run(app, [*base, "match", "--community", "Riverside", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert [(s["need_id"], s["offer_id"]) for s in out["suggestions"]] == [(1, 1)]
    assert out["summary"]["optimal"]["needs_met"] == 1
    assert any("km away" in x for x in out["suggestions"][0]["reasons"])
    r = run(app, [*base, "transfer", str(accs[0]), str(accs[1]), "5400", "--memo", "ride"])
    assert r.exit_code == 0, r.output
    r = run(app, [*base, "balances", "--json"])
    doc = json.loads(r.stdout)
    assert doc["problems"] == [] and sorted(a["balance_s"] for a in doc["accounts"]) == [
        -5400,
        5400,
    ]
    r = run(app, [*base, "reciprocity", "--json"])
    assert json.loads(r.stdout)["total_exchanged_s"] == 5400
    r = run(app, [*base, "sweep", "--json"])
    assert json.loads(r.stdout) == {"expired_claims": [], "auto_approved_takeovers": []}
    r = run(app, [*base, "inbound-secret"])
    assert r.exit_code == 0 and len(r.stdout.strip()) >= 40
    target = tmp_path / "reports.csv"
    r = run(app, [*base, "crisis-export", str(target), "--format", "hxl"])
    assert r.exit_code == 0, r.output
    assert target.read_text().splitlines()[1].startswith("#meta+id,")
    gj = tmp_path / "reports.geojson"
    assert run(app, [*base, "crisis-export", str(gj), "--format", "geojson"]).exit_code == 0
    assert json.loads(gj.read_text())["features"][0]["geometry"]["coordinates"] == [-0.1, 51.5]
    # errors: a clear message and exit code 2
    r = run(app, [*base, "transfer", str(accs[0]), str(accs[0]), "60"])
    assert r.exit_code == 2 and "two different accounts" in r.output
    r = run(app, [*base, "need", "--community", "Nowhere", "--category", "food"])
    assert r.exit_code == 2 and "no community named" in r.output
    r = run(app, [*base, "crisis-export", str(target), "--format", "xls"])
    assert r.exit_code == 2 and "unknown format" in r.output
    r = run(app, [*base, "need", "--community", "Riverside", "--category", "spaceships"])
    assert r.exit_code == 2 and "--category" in r.output and "Traceback" not in r.output
    # every command on the organisation is in its audit log: which command and who, no arguments
    from sqlalchemy import create_engine, select

    from commonweal.auth.models import AuditEvent

    engine = create_engine(url)
    with engine.connect() as c:
        rows = c.execute(select(AuditEvent.detail).where(AuditEvent.action == "cli")).all()
    engine.dispose()
    details = [d for (d,) in rows]
    assert any(d.startswith("commonweal aid need (by ") for d in details), details
    assert any(d.startswith("commonweal aid needs (by ") for d in details)
    assert not any("Wren" in d or "900555" in d for d in details)  # arguments are never kept
