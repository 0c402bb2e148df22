"""`commonweal checkins ...` on a temp SQLite file: today's check-ins, alerts (with the
'nobody reached' flag), a safety check started and closed; errors are messages, not tracebacks."""

from __future__ import annotations

import datetime as dt
import json

from typer.testing import CliRunner

from commonweal.checkins.escalation import add_event, create_alert
from commonweal.checkins.models import AlertReason
from commonweal.cli import app
from commonweal.db.engine import transaction


def test_checkins_commands(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from commonweal.cli._db import open_db
    from commonweal.registry import service as reg
    from commonweal.registry.schemas import CommunityCreate, MemberCreate
    from commonweal.settings import Settings

    url = f"sqlite:///{tmp_path / 'cw.db'}"
    factory = open_db(Settings(database_url=url))
    now = dt.datetime.now(dt.UTC)
    with transaction(factory) as s:
        org = reg.create_organisation(s, name="Riverside")
        c = reg.create_community(s, organisation_id=org.id, data=CommunityCreate(name="Mill"))
        m = reg.create_member(s, organisation_id=org.id, community_id=c.id,
                              data=MemberCreate(external_id="m1", display_name="Ada"))
        quiet = create_alert(s, organisation_id=org.id, member_id=m.id,
                             reason=AlertReason.missed, now=now)
        lost = create_alert(s, organisation_id=org.id, member_id=m.id,
                            reason=AlertReason.need_help, now=now)
        add_event(s, lost, "unreachable", now, detail="every message failed")
        ids = (quiet.id, lost.id)
    run = CliRunner().invoke
    r = run(app, ["--database-url", url, "checkins", "alerts", "--json"])
    assert r.exit_code == 0, r.output
    flags = {a["id"]: a["reached_nobody"] for a in json.loads(r.stdout)}
    assert flags == {ids[0]: False, ids[1]: True}
    r = run(app, ["--database-url", url, "checkins", "alerts"])
    assert r.output.count("NOBODY REACHED") == 1
    r = run(app, ["--database-url", url, "checkins", "safety-check", "--community", "Mill",
                  "--title", "Flood", "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["total"] == 1, r.output
    check_id = json.loads(r.stdout)["safety_check_id"]
    r = run(app, ["--database-url", url, "checkins", "close-safety-check", str(check_id)])
    assert r.exit_code == 0 and "closed: 0 safe, 0 need help, 1 no answer" in r.output
    r = run(app, ["--database-url", url, "checkins", "close-safety-check", str(check_id)])
    assert r.exit_code == 2 and "closed already" in r.output and "Traceback" not in r.output
