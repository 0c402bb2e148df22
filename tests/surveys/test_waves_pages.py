"""Survey pages: the waves of a community, a wave's report with SVG plots for roles that read
answers, suppression for volunteers, the nav link, no inline script, the import form.

On SQLite only: the pages add no query of their own; the services are tested on both databases."""

from __future__ import annotations

from tests.helpers import login, make_client
from tests.surveys.conftest import import_frame, make_wave, simulated_bscs


def test_wave_pages_by_role(sqlite_world, tmp_path) -> None:
    world = sqlite_world
    wave = make_wave(world)
    import_frame(world, wave, simulated_bscs(150), tmp_path)
    small = make_wave(world, instrument="ucla3")
    import_frame(world, small, simulated_bscs(3).select(
        respondent="respondent", ucla3_1="bscs_1", ucla3_2="bscs_2", ucla3_3="bscs_3")
        .with_columns(__import__("polars").all().exclude("respondent").clip(1, 3)), tmp_path)

    client = make_client(world.factory)
    login(client, *world.users["coordinator_a"])
    r = client.get(f"/o/{world.org_a}/c/{world.community_a}")
    assert f'href="/o/{world.org_a}/c/{world.community_a}/surveys"' in r.text  # the nav link
    r = client.get(f"/o/{world.org_a}/c/{world.community_a}/surveys")
    assert r.status_code == 200 and "Belonging A spring" in r.text and ">150<" in r.text
    assert "Sense of community (total) " in r.text  # the mean score of each subscale
    r = client.get(f"/o/{world.org_a}/surveys/{wave}")
    assert r.status_code == 200, r.text
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert "<script>" not in r.text and " style=" not in r.text
    assert r.text.count("<svg") == 5  # one histogram per subscale
    assert "Cronbach" in r.text and "Chi-square" in r.text
    assert "Not fitted" not in r.text and '<td class="num">14</td>' in r.text  # CFA df 14
    r = client.get(f"/o/{world.org_a}/surveys/{wave}", params={"group": "site"})
    assert "Measurement invariance" in r.text
    r = client.get(f"/o/{world.org_a}/surveys/{wave}", params={"group": "shoe size"})
    assert r.status_code == 200 and "no respondent attribute" in r.text

    volunteer = make_client(world.factory)
    login(volunteer, *world.users["volunteer_a"])
    r = volunteer.get(f"/o/{world.org_a}/surveys/{wave}")
    assert r.status_code == 200 and "<svg" not in r.text and "could single people out" in r.text
    assert "Cronbach" in r.text  # 150 respondents: aggregates are shown
    r = volunteer.get(f"/api/v1/orgs/{world.org_a}/communities/{world.community_a}"
                      "/surveys/aggregates")
    by_title = {w["title"]: w for w in r.json()}
    assert by_title["Belonging A spring"]["subscales"][0]["mean"] is not None
    assert by_title["Belonging A spring"]["n_responses"] == 150
    r = volunteer.get(f"/o/{world.org_a}/surveys/{small}")
    assert "Too few responses" in r.text and "Cronbach" not in r.text

    member = make_client(world.factory)
    login(member, *world.users["member_a"])
    assert member.get(f"/o/{world.org_a}/surveys/{wave}").status_code == 403
    r = member.get(f"/o/{world.org_a}/c/{world.community_a}")
    assert "/surveys" not in r.text
    other = make_client(world.factory)
    login(other, *world.users["admin_b"])
    r = other.get(f"/o/{world.org_a}/surveys/{wave}")
    assert r.status_code == 404 and "Belonging A" not in r.text
    r = other.get(f"/o/{world.org_b}/surveys/{wave}")
    assert r.status_code == 404 and "Belonging A" not in r.text


def test_import_form(sqlite_world) -> None:
    world = sqlite_world
    import io

    from sqlalchemy import func, select

    from commonweal.db.engine import transaction
    from commonweal.surveys.models import SurveyResponse

    wave = make_wave(world)
    buf = io.BytesIO()
    simulated_bscs(30).write_csv(buf)
    good = buf.getvalue()
    bad = good.replace(b"\n", b"\nr9999,north,1,2,3,4,5,6,7,8\n", 1)  # row 2: bscs_6 to _8 > 5
    client = make_client(world.factory)
    token = login(client, *world.users["coordinator_a"])
    url = f"/o/{world.org_a}/surveys/{wave}/import"
    page = client.get(f"/o/{world.org_a}/surveys/{wave}")
    assert f'action="{url}"' in page.text
    r = client.post(url, data={"csrf_token": token, "format": "csv"},
                    files={"file": ("bad.csv", bad)})
    assert r.status_code == 422 and "Nothing was imported" in r.text
    assert "row 2, column bscs_6" in r.text and "row 2, column bscs_8" in r.text
    with transaction(world.factory) as s:
        assert s.scalar(select(func.count()).select_from(SurveyResponse)) == 0
    r = client.post(url, data={"csrf_token": token, "format": "csv"},
                    files={"file": ("good.csv", good)})
    assert r.status_code == 200 and "30 responses imported and scored from good.csv" in r.text
    assert r.text.count("<svg") == 5
    volunteer = make_client(world.factory)
    token = login(volunteer, *world.users["volunteer_a"])
    assert f'action="{url}"' not in volunteer.get(f"/o/{world.org_a}/surveys/{wave}").text
    r = volunteer.post(url, data={"csrf_token": token}, files={"file": ("good.csv", good)})
    assert r.status_code == 403
    with transaction(world.factory) as s:
        assert s.scalar(select(func.count()).select_from(SurveyResponse)) == 30
