"""Import, score and report a wave through the database: the stored path gives the library's
numbers, a bad file writes nothing, anonymous waves refuse member links."""

from __future__ import annotations

import polars as pl
import pytest
from sqlalchemy import func, select

from commonweal.analytics.surveys import (
    cronbach_alpha,
    fit_cfa,
    instrument_model,
    keyed_items,
    load_instrument,
    score_responses,
)
from commonweal.db.engine import transaction
from commonweal.errors import InputError
from commonweal.surveys import analysis
from commonweal.surveys import service as svc
from commonweal.surveys.models import SurveyResponse, SurveyScore
from tests.surveys.conftest import BSCS_ITEMS, import_frame, make_wave


def _count(world, model) -> int:
    with transaction(world.factory) as s:
        return s.scalar(select(func.count()).select_from(model))


def test_import_score_report_round_trip(world, bscs_frame, tmp_path) -> None:
    wave = make_wave(world)
    rep = import_frame(world, wave, bscs_frame, tmp_path)
    assert rep.responses == 300 and rep.scores == 300 * 5 and rep.attributes == ("site",)
    inst = load_instrument("bscs")
    # the library on the same frame is the reference for every stored number
    ref = score_responses(inst, bscs_frame, keep=["respondent", "site"])
    with transaction(world.factory) as s:
        stored = s.execute(
            select(SurveyResponse.respondent_key, SurveyScore.subscale, SurveyScore.value,
                   SurveyScore.rule)
            .join(SurveyScore, SurveyScore.response_id == SurveyResponse.id)).all()
        answers = s.scalar(select(SurveyResponse.answers)
                           .where(SurveyResponse.respondent_key == "r0003"))
    assert answers == {k: v for k, v in bscs_frame.row(3, named=True).items() if k in BSCS_ITEMS}
    by_key = {(k, sub): (v, rule) for k, sub, v, rule in stored}
    for row in ref.scores.iter_rows(named=True):
        for sub in ("needs_fulfillment", "influence", "total"):
            v, rule = by_key[(row["respondent"], sub)]
            assert v == pytest.approx(row[sub]) and rule == row[f"{sub}_rule"]
    with transaction(world.factory) as s:
        report = analysis.wave_report(s, organisation_id=world.org_a, survey_id=wave).to_dict()
    keyed = keyed_items(inst, bscs_frame)
    alpha = cronbach_alpha(keyed, ["bscs_1", "bscs_2"]).alpha
    rel = {r["subscale"]: r for r in report["reliability"]}
    assert rel["needs_fulfillment"]["alpha"] == pytest.approx(alpha, abs=1e-12)
    assert rel["total"]["k"] == 8
    direct = fit_cfa(instrument_model(inst), keyed)
    assert report["cfa"]["fitted"] and report["cfa"]["fit"]["chisq"] == pytest.approx(
        direct.fit.chisq, abs=1e-8)
    assert report["cfa"]["fit"]["df"] == direct.fit.df == 14
    total = next(x for x in report["subscales"] if x["subscale"] == "total")
    summary = next(x for x in ref.summaries if x.subscale == "total")
    assert total["n"] == summary.n and total["mean"] == pytest.approx(summary.mean)
    assert total["sd"] == pytest.approx(summary.sd) and sum(total["histogram"]["counts"]) == 300
    assert report["invariance"] is None and report["attributes"] == ["site"]
    with transaction(world.factory) as s:  # per-wave aggregates in SQL agree with the library
        [agg] = analysis.community_aggregates(s, organisation_id=world.org_a,
                                              community_id=world.community_a)
    sub = next(x for x in agg["subscales"] if x["subscale"] == "total")
    assert agg["n_responses"] == 300 and sub["n"] == summary.n
    assert sub["mean"] == pytest.approx(summary.mean) and sub["sd"] == pytest.approx(summary.sd)
    # re-scoring from the stored answers reproduces the stored scores
    with transaction(world.factory) as s:
        before = sorted(s.execute(select(SurveyScore.response_id, SurveyScore.subscale,
                                         SurveyScore.value)).all())
        assert svc.score_survey(s, organisation_id=world.org_a, survey_id=wave) == 1500
    with transaction(world.factory) as s:
        after = sorted(s.execute(select(SurveyScore.response_id, SurveyScore.subscale,
                                        SurveyScore.value)).all())
    assert [(a, b) for a, b, _ in after] == [(a, b) for a, b, _ in before]
    assert [v for *_, v in after] == pytest.approx([v for *_, v in before])


def test_bad_file_writes_nothing(world, bscs_frame, tmp_path) -> None:
    wave = make_wave(world)
    bad = bscs_frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 3).then(9).otherwise(pl.col("bscs_3")).alias("bscs_3"))
    with pytest.raises(InputError) as err:
        import_frame(world, wave, bad, tmp_path)
    [p] = err.value.problems
    assert (p.row, p.field, p.file) == (5, "bscs_3", "responses.csv")  # header is row 1
    assert _count(world, SurveyResponse) == 0 and _count(world, SurveyScore) == 0
    # a repeated respondent key and an unknown member: both located, nothing written
    dup = bscs_frame.head(4).with_columns(
        pl.Series("respondent", ["x", "y", "x", "z"]),
        pl.Series("member", ["a0", None, "nobody", "a1"]))
    with pytest.raises(InputError) as err:
        import_frame(world, wave, dup, tmp_path)
    assert {(p.row, p.field) for p in err.value.problems} == {(4, "respondent"), (4, "member")}
    assert _count(world, SurveyResponse) == 0 and _count(world, SurveyScore) == 0
    # the same file without the problems imports, links members, and cannot be imported twice
    ok = dup.with_columns(pl.Series("respondent", ["x", "y", "w", "z"]),
                          pl.Series("member", ["a0", None, None, "a1"]))
    assert import_frame(world, wave, ok, tmp_path).linked_to_members == 2
    with pytest.raises(InputError, match="nothing was imported"):
        import_frame(world, wave, ok, tmp_path)
    assert _count(world, SurveyResponse) == 4


def test_anonymous_wave_refuses_member_links(world, bscs_frame, tmp_path) -> None:
    wave = make_wave(world, anonymous=True)
    linked = bscs_frame.head(3).with_columns(pl.Series("member", ["a0", "a1", "a2"]))
    with pytest.raises(InputError) as err:
        import_frame(world, wave, linked, tmp_path)
    assert err.value.problems[0].field == "member"
    assert _count(world, SurveyResponse) == 0


def test_kobo_export_is_read_by_the_library(world, tmp_path) -> None:
    wave = make_wave(world, instrument="ucla3")
    # KoboToolbox export: ';' separated, group prefixes, labels instead of codes, metadata
    text = ("_uuid;start;loneliness/ucla3_1;loneliness/ucla3_2;loneliness/ucla3_3;"
            "_submission_time\n"
            "u1;2026-03-01;Hardly ever;Some of the time;Often;2026-03-01T10:00:00\n"
            "u2;2026-03-02;3;3;2;2026-03-02T11:30:00\n")
    path = tmp_path / "kobo.csv"
    path.write_text(text, encoding="utf-8")
    with transaction(world.factory) as s:
        rep = svc.import_responses(s, organisation_id=world.org_a, survey_id=wave, path=path,
                                   fmt="kobo")
    assert rep.responses == 2 and rep.attributes == ("start",)
    with transaction(world.factory) as s:
        rows = s.execute(select(SurveyResponse.respondent_key, SurveyResponse.submitted_at,
                                SurveyResponse.channel, SurveyScore.value)
                         .join(SurveyScore, SurveyScore.response_id == SurveyResponse.id)
                         .order_by(SurveyResponse.respondent_key)).all()
    assert [(r[0], r[1].hour, r[2], r[3]) for r in rows] == [("u1", 10, "kobo", 6.0),
                                                             ("u2", 11, "kobo", 8.0)]


def test_small_wave_is_suppressed_for_volunteers(world, bscs_frame, tmp_path) -> None:
    wave = make_wave(world)
    import_frame(world, wave, bscs_frame.head(4), tmp_path)
    with transaction(world.factory) as s:
        full = analysis.wave_report(s, organisation_id=world.org_a, survey_id=wave)
    assert full.data["subscales"][0]["mean"] is not None
    assert "too few" in (full.data["cfa"]["reason"] or "") or not full.data["cfa"]["fitted"]
    with transaction(world.factory) as s:
        shown = analysis.community_aggregates(s, organisation_id=world.org_a,
                                              community_id=world.community_a)
        hidden = analysis.community_aggregates(s, organisation_id=world.org_a,
                                               community_id=world.community_a, min_cell=5)
    assert shown[0]["subscales"][0]["mean"] is not None and shown[0]["n_responses"] == 4
    assert all(x["mean"] is None and x["sd"] is None for x in hidden[0]["subscales"])
    small = analysis.redact_report(full).to_dict()
    assert small["suppressed"] and small["reliability"] == [] and small["cfa"] is None
    assert all(set(s) == {"subscale", "name"} for s in small["subscales"])


def test_erasing_a_member_erases_their_responses(world, bscs_frame, tmp_path) -> None:
    from commonweal.registry import service as reg

    wave = make_wave(world)
    linked = bscs_frame.head(3).with_columns(pl.Series("member", ["a0", "a1", None]))
    import_frame(world, wave, linked, tmp_path)
    with transaction(world.factory) as s:
        reg.erase_member(s, organisation_id=world.org_a, member_id=world.members_a["a0"])
    with transaction(world.factory) as s:
        left = s.scalars(select(SurveyResponse.respondent_key)
                         .order_by(SurveyResponse.respondent_key)).all()
    assert left == ["r0001", "r0002"] and _count(world, SurveyScore) == 2 * 5


def test_redcap_export_is_read_by_the_library(world, tmp_path) -> None:
    wave = make_wave(world, instrument="ucla3")
    # REDCap "CSV (raw data)" export of a survey: record_id, the survey timestamp, the items,
    # the form's completion status
    path = tmp_path / "redcap.csv"
    path.write_text("record_id,redcap_survey_identifier,ucla3_timestamp,ucla3_1,ucla3_2,ucla3_3,"
                    "ucla3_complete\n"
                    "1,,2026-03-01 09:15:00,1,1,2,2\n"
                    "2,,[not completed],3,,3,0\n", encoding="utf-8")
    with transaction(world.factory) as s:
        rep = svc.import_responses(s, organisation_id=world.org_a, survey_id=wave, path=path,
                                   fmt="redcap")
    assert rep.responses == 2 and rep.attributes == ("redcap_survey_identifier",
                                                     "ucla3_complete")
    with transaction(world.factory) as s:
        rows = s.execute(select(SurveyResponse.respondent_key, SurveyResponse.submitted_at,
                                SurveyScore.value, SurveyScore.rule)
                         .join(SurveyScore, SurveyScore.response_id == SurveyResponse.id)
                         .order_by(SurveyResponse.respondent_key)).all()
    # ucla3 is scored only when complete (library rule): the second row is not scored
    assert [(r[0], r[1] and r[1].minute, r[2], r[3]) for r in rows] == [
        ("1", 15, 4.0, "complete"), ("2", None, None, "insufficient")]
