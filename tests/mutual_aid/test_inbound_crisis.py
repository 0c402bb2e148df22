"""Signed inbound SMS/e-mail, crisis reports with verification, and their CSV/GeoJSON/HXL exports."""

from __future__ import annotations

import csv
import io
import json

import pytest

from commonweal.mutual_aid.inbound import SIGNATURE_HEADER, TIMESTAMP_HEADER, parse_text, sign
from tests.helpers import login, make_client


def _signed(secret: str, body: bytes, clock, age_s: int = 0) -> dict[str, str]:
    ts = int(clock.now().timestamp()) - age_s
    return {TIMESTAMP_HEADER: str(ts), SIGNATURE_HEADER: sign(secret, body, ts)}


def _secret(client, world) -> str:
    login(client, *world.users["coordinator_a"])
    r = client.post(f"/api/v1/orgs/{world.org_a}/aid/inbound-secret")
    assert r.status_code == 200
    return r.json()["secret"]


def test_parse_text_grammar() -> None:
    m = parse_text("NEED groceries at 12 Elm Street: two bags, diabetic", "+447700900123")
    assert (m.kind, m.category, m.place, m.text) == (
        "need",
        "groceries",
        "12 Elm Street",
        "two bags, diabetic",
    )
    m = parse_text("sos shelter 51.5123,-0.1201 roof collapsed, family of 4", None)
    assert (m.kind, m.category, m.lat, m.lon) == ("report", "shelter", 51.5123, -0.1201)
    assert m.text == "roof collapsed, family of 4" and m.urgency == 3
    m = parse_text("HELP meds critical: insulin", "x")
    assert (m.category, m.urgency, m.text) == ("prescriptions", 4, "insulin")
    m = parse_text("need a lift to the clinic", "x")
    assert (m.category, m.text) == ("other", "a lift to the clinic")


def test_signed_sms_becomes_a_need_with_its_channel(world, clock) -> None:
    client = make_client(world.factory)
    secret = _secret(client, world)
    url = f"/api/v1/orgs/{world.org_a}/inbound/sms"
    body = json.dumps(
        {"from": "+44 7700 900555", "text": "NEED groceries at 4 Wren Row: milk and bread"}
    ).encode()
    hook = make_client(world.factory)  # the gateway: no session, only the signature
    hook.app.state.clock = clock
    r = hook.post(
        url,
        content=body,
        headers={"content-type": "application/json", **_signed(secret, body, clock)},
    )
    assert r.status_code == 201, r.text
    assert r.json()["created"] == "need" and r.json()["channel"] == "sms"
    need = client.get(f"/api/v1/orgs/{world.org_a}/aid/needs/{r.json()['id']}").json()
    assert (need["channel"], need["category"], need["address"], need["contact"]) == (
        "sms",
        "groceries",
        "4 Wren Row",
        "+44 7700 900555",
    )
    # Twilio-style form body works too
    form = b"From=%2B447700900666&Body=NEED+transport%3A+to+the+clinic"
    r = hook.post(
        url,
        content=form,
        headers={
            "content-type": "application/x-www-form-urlencoded",
            **_signed(secret, form, clock),
        },
    )
    assert r.status_code == 201 and r.json()["created"] == "need"
    # wrong or missing signature: refused, nothing recorded; another org's secret does not work
    good = _signed(secret, body, clock)
    for headers in (
        {},
        {SIGNATURE_HEADER: "sha256=00", TIMESTAMP_HEADER: good[TIMESTAMP_HEADER]},
        _signed("guess", body, clock),
        {SIGNATURE_HEADER: good[SIGNATURE_HEADER]},  # right signature, no timestamp
        {**good, TIMESTAMP_HEADER: "soon"},
    ):
        r = hook.post(url, content=body, headers={"content-type": "application/json", **headers})
        assert r.status_code == 403
    # a replay: a signature made more than five minutes ago (or ahead) is refused
    for age in (301, -301):
        r = hook.post(
            url,
            content=body,
            headers={"content-type": "application/json", **_signed(secret, body, clock, age)},
        )
        assert r.status_code == 403
    r = hook.post(
        url,
        content=body,
        headers={"content-type": "application/json", **_signed(secret, body, clock, 299)},
    )
    assert r.status_code == 201
    r = hook.post(
        f"/api/v1/orgs/{world.org_b}/inbound/sms",
        content=body,
        headers={"content-type": "application/json", **_signed(secret, body, clock)},
    )
    assert r.status_code == 403
    # a signed but bad payload is a 422 with the problem named
    for bad in (
        b"{not json",
        json.dumps({"from": "x"}).encode(),
        json.dumps({"text": "hello there"}).encode(),
        b"[1, 2]",
    ):
        r = hook.post(
            url,
            content=bad,
            headers={"content-type": "application/json", **_signed(secret, bad, clock)},
        )
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["problems"]


def test_email_report_verification_and_exports(world, clock) -> None:
    client = make_client(world.factory)
    secret = _secret(client, world)
    body = json.dumps(
        {
            "from": "warden@example.org",
            "subject": "REPORT shelter at Mill Bridge",
            "text": "Water over the road, 51.5201, -0.1302, cars stuck",
        }
    ).encode()
    hook = make_client(world.factory)
    hook.app.state.clock = clock
    r = hook.post(
        f"/api/v1/orgs/{world.org_a}/inbound/email",
        content=body,
        headers={"content-type": "application/json", **_signed(secret, body, clock)},
    )
    assert r.status_code == 201 and r.json()["created"] == "crisis_report"
    rid = r.json()["id"]
    base = f"/api/v1/orgs/{world.org_a}/crisis"
    r2 = client.post(
        f"{base}/reports",
        json={
            "title": 'Elderly man trapped, =HYPERLINK("x")',
            "category": "other",
            "severity": 4,
            "lat": 51.51,
            "lon": -0.11,
            "location_name": "Tower block B",
        },
    )
    r3 = client.post(
        f"{base}/reports",
        json={"title": "Same flood", "category": "shelter", "lat": 51.5202, "lon": -0.1301},
    )
    ids = [rid, r2.json()["id"], r3.json()["id"]]
    assert (
        client.post(f"{base}/reports/{ids[1]}/status", json={"status": "verified"}).json()["status"]
        == "verified"
    )
    r = client.post(f"{base}/reports/{ids[2]}/status", json={"status": "duplicate"})
    assert r.status_code == 422  # a duplicate must name its original
    r = client.post(
        f"{base}/reports/{ids[2]}/status", json={"status": "duplicate", "duplicate_of_id": ids[0]}
    )
    assert r.json()["duplicate_of_id"] == ids[0]
    rep = client.get(f"{base}/reports/{rid}").json()
    assert (rep["channel"], rep["category"], rep["location_name"], rep["lat"]) == (
        "email",
        "shelter",
        "Mill Bridge",
        51.5201,
    )
    # filters + GeoJSON (RFC 7946: [lon, lat])
    gj = client.get(f"{base}/reports.geojson", params={"status": ["unverified", "verified"]})
    assert gj.headers["content-type"].startswith("application/geo+json")
    feats = gj.json()["features"]
    assert {f["id"] for f in feats} == {ids[0], ids[1]}
    f0 = next(f for f in feats if f["id"] == ids[0])
    assert f0["geometry"] == {"type": "Point", "coordinates": [-0.1302, 51.5201]}
    assert [
        f["id"]
        for f in client.get(f"{base}/reports.geojson", params={"min_severity": 4}).json()[
            "features"
        ]
    ] == [ids[1]]
    bbox = client.get(f"{base}/reports.geojson", params={"bbox": "-0.12,51.505,-0.10,51.515"})
    assert [f["id"] for f in bbox.json()["features"]] == [ids[1]]
    # plain CSV, formula-safe
    rows = list(csv.DictReader(io.StringIO(client.get(f"{base}/reports.csv").text)))
    assert len(rows) == 3 and rows[0]["id"] == str(ids[1])  # most severe first
    assert rows[0]["title"].startswith("Elderly")
    # HXL: the hashtag row parses with libhxl (HXL Standard's own Python library)
    text = client.get(f"{base}/reports.csv", params={"hxl": True, "status": "verified"}).text
    lines = text.splitlines()
    assert lines[1].startswith("#meta+id,#description+title,#sector,#severity,#status,#loc+name")
    hxl = pytest.importorskip("hxl", reason="libhxl not installed (pip install libhxl)")
    data = hxl.data(io.BytesIO(text.encode("utf-8")))
    assert [c.display_tag for c in data.columns][:8] == [
        "#meta+id",
        "#description+title",
        "#sector",
        "#severity",
        "#status",
        "#loc+name",
        "#geo+lat",
        "#geo+lon",
    ]
    fresh = hxl.data(io.BytesIO(text.encode("utf-8")))
    rows_hxl = list(fresh.with_rows("#status=verified"))
    assert len(rows_hxl) == 1 and rows_hxl[0].get("#loc+name") == "Tower block B"
    assert rows_hxl[0].get("#geo+lat") == "51.51" and rows_hxl[0].get("#sector") == "other"
    # the reporter's contact only for dispatchers
    vol = make_client(world.factory)
    login(vol, *world.users["volunteer_a"])
    assert vol.get(f"{base}/reports/{rid}").json()["reporter_contact"] is None
    assert client.get(f"{base}/reports/{rid}").json()["reporter_contact"] == "warden@example.org"
