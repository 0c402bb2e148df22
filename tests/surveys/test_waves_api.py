"""The survey API: the Holzinger-Swineford data stored as a wave reproduces lavaan, answers are
redacted per role and their reads audited, a bad upload writes nothing."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from commonweal.auth.models import AuditEvent
from commonweal.db.engine import transaction
from commonweal.registry import service as reg
from commonweal.surveys.models import SurveyResponse, SurveyScore
from tests.helpers import login, make_client, shared_data
from tests.surveys.conftest import make_wave, simulated_bscs

HS39_OPTIONS = [{"value": 0, "label": "lowest score"}, {"value": 10, "label": "highest score"}]
HS39_INSTRUMENT = {
    "id": "hs39_tests",
    "name": "Holzinger & Swineford (1939) nine mental-ability tests",
    "citation": "Holzinger, K. J., & Swineford, F. (1939). A study in factor analysis.",
    "licence": {"basis": "unknown", "text_shipped": False,
                "statement": "test scores from the classic data set, no item text"},
    "items": [{"id": f"x{i}", "continuous": True, "options": HS39_OPTIONS}
              for i in range(1, 10)],
    "subscales": [
        {"id": name, "items": [f"x{i}" for i in items], "scoring": "mean"}
        for name, items in (("visual", (1, 2, 3)), ("textual", (4, 5, 6)),
                            ("speed", (7, 8, 9)))],
}


def _csv(frame) -> bytes:
    buf = io.BytesIO()
    frame.write_csv(buf)
    return buf.getvalue()


def _audits(world, entity: str) -> list[AuditEvent]:
    with transaction(world.factory) as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == "read_sensitive",
                                                       AuditEvent.entity == entity)))


def test_hs39_wave_reproduces_lavaan(world) -> None:
    path = shared_data("psychometrics", "HolzingerSwineford1939.csv")
    client = make_client(world.factory)
    login(client, *world.users["coordinator_a"])
    base = f"/api/v1/orgs/{world.org_a}"
    r = client.post(f"{base}/communities/{world.community_a}/surveys",
                    json={"title": "HS39", "instrument_definition": HS39_INSTRUMENT,
                          "opens_on": "1939-01-01", "closes_on": "1939-06-30",
                          "status": "closed", "anonymous": True})
    assert r.status_code == 201, r.text
    wave = r.json()["id"]
    assert r.json()["instrument_source"] == "uploaded"
    r = client.post(f"{base}/surveys/{wave}/responses/import",
                    files={"file": ("HolzingerSwineford1939.csv", path.read_bytes())})
    assert r.status_code == 200, r.text
    assert r.json()["responses"] == 301 and r.json()["scores"] == 903
    assert r.json()["attributes"] == ["sex", "ageyr", "agemo", "school", "grade"]
    r = client.get(f"{base}/surveys/{wave}/report", params={"group": "school"})
    assert r.status_code == 200, r.text
    rep = r.json()
    fit = rep["cfa"]["fit"]
    # lavaan 0.6, cfa(HS.model, data = HolzingerSwineford1939), printed output of the tutorial
    # (lavaan.ugent.be/tutorial/cfa.html): Test statistic 85.306, Degrees of freedom 24,
    # CFI 0.931, TLI 0.896, RMSEA 0.092, SRMR 0.065.
    assert round(fit["chisq"], 3) == 85.306 and fit["df"] == 24
    assert round(fit["cfi"], 3) == 0.931 and round(fit["tli"], 3) == 0.896
    assert round(fit["rmsea"], 3) == 0.092 and round(fit["srmr"], 3) == 0.065
    # pingouin 0.7 cronbach_alpha on the same three scales: .626, .883, .688
    alphas = {x["subscale"]: round(x["alpha"], 3) for x in rep["reliability"]}
    assert alphas == {"visual": 0.626, "textual": 0.883, "speed": 0.688}
    # semTools::measurementInvariance by school, as printed in M. Clark (2019) "Comparisons of
    # the Unseen": configural 115.85 on 48 df, metric 124.04 on 54 df
    steps = {s["level"]: s for s in rep["invariance"]["steps"]}
    assert round(steps["configural"]["chisq"], 2) == 115.85 and steps["configural"]["df"] == 48
    assert round(steps["metric"]["chisq"], 2) == 124.04 and steps["metric"]["df"] == 54
    assert rep["invariance"]["supported"] == "metric"


def test_answers_redacted_by_role_and_audited(world) -> None:
    frame = simulated_bscs(40).with_columns(
        member=__import__("polars").Series(["a0", "a1"] + [None] * 38))
    client = make_client(world.factory)
    login(client, *world.users["coordinator_a"])
    wave = make_wave(world)
    base = f"/api/v1/orgs/{world.org_a}/surveys/{wave}"
    r = client.post(f"{base}/responses/import", files={"file": ("b.csv", _csv(frame))})
    assert r.status_code == 200 and r.json()["linked_to_members"] == 2, r.text
    assert _audits(world, "survey_response") == []  # an import is not a read
    r = client.get(f"{base}/responses", params={"limit": 5})
    first = r.json()["items"][0]
    assert r.json()["total"] == 40 and first["member_id"] == world.members_a["a0"]
    assert first["respondent_key"] == "r0000" and set(first["answers"]) == {
        f"bscs_{i}" for i in range(1, 9)}
    [ev] = _audits(world, "survey_response")
    assert len(ev.entity_ids) == 5 and {"answers", "member_id"} <= set(ev.fields)
    assert "r0000" not in str(ev.fields) + str(ev.detail)  # field names, never values
    r = client.get(f"{base}/scores", params={"limit": 2})
    assert r.json()["items"][0]["respondent_key"] == "r0000" and len(r.json()["items"]) == 10
    assert len(_audits(world, "survey_score")) == 1

    with transaction(world.factory) as s:  # a1 refused research use; a0 agreed, then refused,
        for member, granted in (("a1", False), ("a0", False), ("a0", True)):  # then agreed
            reg.record_consent(s, organisation_id=world.org_a, member_id=world.members_a[member],
                               purpose="research", granted=granted, by_user_id=None)
    researcher = make_client(world.factory)
    login(researcher, *world.users["researcher_a"])
    r = researcher.get(f"{base}/responses", params={"limit": 40})
    items = r.json()["items"]
    assert r.status_code == 200 and len(items) == 39 and r.json()["total"] == 39
    with transaction(world.factory) as s:
        linked = dict(s.execute(select(SurveyResponse.member_id, SurveyResponse.id)
                                .where(SurveyResponse.member_id.is_not(None))).all())
    ids = {x["id"] for x in items}
    assert linked[world.members_a["a1"]] not in ids and linked[world.members_a["a0"]] in ids
    assert all(x["member_id"] is None and x["respondent_key"] is None for x in items)
    assert all(x["submitted_at"] is None for x in items) and items[0]["answers"]
    assert "r0000" not in r.text
    r = researcher.get(f"{base}/scores")
    assert all(x["respondent_key"] is None and x["member_id"] is None for x in r.json()["items"])
    ev = _audits(world, "survey_response")[-1]
    assert "member_id" not in ev.fields and "answers" in ev.fields
    assert researcher.post(f"{base}/score").status_code == 403  # reads, never writes

    volunteer = make_client(world.factory)
    login(volunteer, *world.users["volunteer_a"])
    assert volunteer.get(f"{base}/responses").status_code == 403
    assert volunteer.get(f"{base}/scores").status_code == 403
    r = volunteer.get(f"{base}/report")
    rep = r.json()
    assert r.status_code == 200 and rep["suppressed"] and rep["n_responses"] == 40
    assert all("min" not in s and "histogram" not in s for s in rep["subscales"])
    assert all(v is None or v == 0 or v >= 5 for s in rep["subscales"]
               for v in s["bands"].values())
    assert volunteer.get(f"{base}").json()["responses"]["total"] == 40
    member = make_client(world.factory)
    login(member, *world.users["member_a"])
    assert member.get(f"{base}/report").status_code == 403
    assert member.get(f"/api/v1/orgs/{world.org_a}/communities/{world.community_a}/surveys"
                      ).status_code == 403


def test_bad_upload_writes_nothing_and_says_where(world) -> None:
    frame = simulated_bscs(20)
    text = _csv(frame).decode().splitlines()
    cells = text[7].split(",")
    cells[4] = "often"  # row 8 (header = row 1), column bscs_3
    text[7] = ",".join(cells)
    client = make_client(world.factory)
    login(client, *world.users["coordinator_a"])
    wave = make_wave(world)
    r = client.post(f"/api/v1/orgs/{world.org_a}/surveys/{wave}/responses/import",
                    files={"file": ("bad.csv", "\n".join(text).encode())})
    assert r.status_code == 422
    [p] = r.json()["problems"]
    assert (p["row"], p["field"], p["file"]) == (8, "bscs_3", "bad.csv")
    with transaction(world.factory) as s:
        assert s.scalar(select(func.count()).select_from(SurveyResponse)) == 0
        assert s.scalar(select(func.count()).select_from(SurveyScore)) == 0


def test_wave_crud(world) -> None:
    client = make_client(world.factory)
    login(client, *world.users["coordinator_a"])
    base = f"/api/v1/orgs/{world.org_a}"
    r = client.post(f"{base}/communities/{world.community_a}/surveys",
                    json={"title": "Pulse", "instrument_id": "ucla3", "opens_on": "2026-03-01",
                          "closes_on": "2026-02-01"})
    assert r.status_code == 422  # closes before it opens
    r = client.post(f"{base}/communities/{world.community_a}/surveys",
                    json={"title": "Pulse", "instrument_id": "no_such_scale"})
    assert r.status_code == 404 and "ucla3" in r.text
    r = client.post(f"{base}/communities/{world.community_a}/surveys",
                    json={"title": "Pulse", "instrument_id": "ucla3", "opens_on": "2026-03-01"})
    wave = r.json()["id"]
    assert r.json()["status"] == "draft" and r.json()["responses"]["total"] == 0
    r = client.patch(f"{base}/surveys/{wave}", json={"status": "open", "title": "Pulse 1"})
    assert r.json()["status"] == "open" and r.json()["title"] == "Pulse 1"
    r = client.get(f"{base}/surveys/{wave}/instrument")
    assert [i["id"] for i in r.json()["items"]] == ["ucla3_1", "ucla3_2", "ucla3_3"]
    r = client.get(f"{base}/communities/{world.community_a}/surveys")
    assert [w["title"] for w in r.json()] == ["Pulse 1"]
    assert client.delete(f"{base}/surveys/{wave}").status_code == 204
    assert client.get(f"{base}/surveys/{wave}").status_code == 404


def test_only_managers_write(world) -> None:
    for role in ("volunteer_a", "researcher_a", "member_a"):
        client = make_client(world.factory)
        login(client, *world.users[role])
        r = client.post(f"/api/v1/orgs/{world.org_a}/communities/{world.community_a}/surveys",
                        json={"title": "X", "instrument_id": "ucla3"})
        assert r.status_code == 403, role
