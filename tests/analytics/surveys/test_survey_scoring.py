"""Scoring: hand-computed scores, missing-data rules recorded, strict validation."""

from __future__ import annotations

import polars as pl
import pytest

from commonweal.analytics.surveys import load_instrument, score_responses
from commonweal.errors import InputError


def test_pss10_reverse_keying_and_prorating():
    inst = load_instrument("pss10")
    row_full = {f"pss10_{i}": 4 for i in range(1, 11)}  # reverse items 4,5,7,8 -> 0
    row_prorated = dict(row_full, pss10_1=None, pss10_2=None)  # 8 answered
    row_short = dict(row_full, pss10_1=None, pss10_2=None, pss10_3=None)
    df = pl.DataFrame([row_full, row_prorated, row_short])
    res = score_responses(inst, df)
    s = res.scores
    assert s["stress"][0] == 24.0  # 6 * 4 + 4 * 0
    # prorated: answered items sum 16 (4 normal x 4 + 4 reversed x 0) over 8 -> mean 2 -> x10
    assert s["stress"][1] == pytest.approx(20.0)
    assert s["stress"][2] is None
    assert s["stress_rule"].to_list() == ["complete", "prorated", "insufficient"]
    assert s["stress_band"].to_list() == ["moderate stress", "moderate stress", None]
    summ = res.summaries[0]
    assert (summ.n, summ.n_complete, summ.n_prorated, summ.n_insufficient) == (2, 1, 1, 1)
    assert "8" in summ.missing_rule


def test_brs_mean_and_bands():
    inst = load_instrument("brs")
    df = pl.DataFrame({"brs_1": [5, 3], "brs_2": [1, 3], "brs_3": [5, 3], "brs_4": [1, 3],
                       "brs_5": [4, 3], "brs_6": [2, 3]})
    s = score_responses(inst, df).scores
    assert s["resilience"].to_list() == pytest.approx([28 / 6, 3.0])
    assert s["resilience_band"].to_list() == ["high resilience", "normal resilience"]


def test_bscs_subscales_and_ons4_items():
    bscs = load_instrument("bscs")
    df = pl.DataFrame({f"bscs_{i}": [i % 5 + 1] for i in range(1, 9)})
    s = score_responses(bscs, df).scores
    # item values 2, 3, 4, 5, 1, 2, 3, 4
    assert s["needs_fulfillment"][0] == 2.5 and s["total"][0] == pytest.approx(24 / 8)
    ons = load_instrument("ons4")
    df = pl.DataFrame({"ons4_life_satisfaction": [4, 9], "ons4_worthwhile": [5, 7],
                       "ons4_happiness": [6, 10], "ons4_anxiety": [1, 6]})
    s = score_responses(ons, df).scores
    assert s["life_satisfaction_band"].to_list() == ["low", "very high"]
    assert s["anxiety_band"].to_list() == ["very low", "high"]
    assert "total" not in s.columns  # ONS4 is never summed


def test_errors_name_row_and_column():
    inst = load_instrument("ucla3")
    df = pl.DataFrame({"id": ["a", "b", "c"], "ucla3_1": [1, 4, 2], "ucla3_2": [1, 2, 0],
                       "ucla3_3": [1, 2, 3]})
    with pytest.raises(InputError) as exc:
        score_responses(inst, df, keep=["id"], file="r.csv")
    probs = {(p.row, p.field) for p in exc.value.problems}
    assert probs == {(3, "ucla3_1"), (4, "ucla3_2")}
    assert "out of range" in str(exc.value)


def test_text_cells_are_not_coerced():
    inst = load_instrument("ucla3")
    df = pl.DataFrame({"ucla3_1": ["1", "often", "2"], "ucla3_2": [1, 2, 3],
                       "ucla3_3": [1.0, 2.5, 3.0]})
    with pytest.raises(InputError) as exc:
        score_responses(inst, df)
    msgs = {(p.row, p.field): p.message for p in exc.value.problems}
    assert "'often' is not a number" in msgs[(3, "ucla3_1")]
    assert "2.5 is out of range" in msgs[(3, "ucla3_3")]


def test_unknown_and_missing_columns():
    inst = load_instrument("ucla3")
    df = pl.DataFrame({"ucla3_1": [1], "ucla3_2": [1], "extra": [1]})
    with pytest.raises(InputError) as exc:
        score_responses(inst, df)
    fields = {p.field for p in exc.value.problems}
    assert fields == {"ucla3_3", "extra"}


def test_conversion_table_supplied_by_user():
    inst = load_instrument("swemwbs")
    df = pl.DataFrame({f"swemwbs_{i}": [3, 5] for i in range(1, 8)})
    raw = score_responses(inst, df)
    assert raw.scores["wellbeing"].to_list() == [21.0, 35.0]
    assert any("conversion" in n for n in raw.summaries[0].notes)
    table = {21: 19.25, 35: 35.0}  # a user-supplied table (values here are placeholders)
    conv = score_responses(inst.with_conversion("wellbeing", table), df)
    assert conv.scores["wellbeing"].to_list() == [19.25, 35.0] and conv.summaries[0].converted


def test_vectorised_over_many_respondents():
    import numpy as np

    rng = np.random.default_rng(0)
    inst = load_instrument("psychological_safety")
    x = rng.integers(1, 8, size=(50_000, 7))
    df = pl.DataFrame({f"ps_{i + 1}": x[:, i] for i in range(7)})
    s = score_responses(inst, df).scores["psychological_safety"].to_numpy()
    keyed = x.astype(float)
    keyed[:, [0, 2, 4]] = 8 - keyed[:, [0, 2, 4]]
    assert np.allclose(s, keyed.mean(axis=1))


def test_continuous_items_take_any_number_in_range():
    """A test score or a visual analogue scale: any finite number from the lowest to the highest
    option value; reverse keying over that range; bad cells located by row and column."""
    from commonweal.analytics.surveys import instrument_from_dict, instrument_to_dict

    doc = {
        "id": "vas", "name": "VAS", "citation": "test",
        "licence": {"basis": "open-licence", "statement": "test", "text_shipped": False},
        "response_sets": {"r": [{"value": 0, "label": "none"}, {"value": 10, "label": "worst"}]},
        "items": [{"id": "pain", "responses": "r", "continuous": True},
                  {"id": "ease", "responses": "r", "continuous": True, "reverse": True}],
        "subscales": [{"id": "burden", "items": ["pain", "ease"], "scoring": "mean"}],
    }
    inst = instrument_from_dict(doc)
    assert instrument_from_dict(instrument_to_dict(inst)) == inst  # round trip keeps the flag
    r = score_responses(inst, pl.DataFrame({"pain": [2.5, 10.0], "ease": [7.25, 0.0]}))
    # ease is reversed over 0..10: 10 - 7.25 = 2.75; mean(2.5, 2.75) = 2.625
    assert r.scores["burden"].to_list() == [2.625, 10.0]
    with pytest.raises(InputError) as exc:
        score_responses(inst, pl.DataFrame({"pain": [10.5, 3.0], "ease": [1.0, float("inf")]}),
                        file="vas.csv")
    where = {(p.row, p.field) for p in exc.value.problems}
    assert where == {(2, "pain"), (3, "ease")}
    assert "out of range (allowed: 0..10)" in exc.value.problems[0].message
    doc["items"][0]["continuous"] = "yes"
    with pytest.raises(InputError, match="continuous must be true or false"):
        instrument_from_dict(doc)
