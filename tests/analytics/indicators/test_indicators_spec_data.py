"""Spec validation (located SpecErrors) and the file readers (located InputErrors)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from commonweal.analytics.indicators import (
    bundled_specs,
    compute,
    load_spec,
    parse_spec,
    read_geographies,
    read_long,
    read_tracr,
    read_wide,
    to_wide,
)
from commonweal.errors import InputError, SpecError

GOOD = """
[index]
id = "t"
unit = "geo"
[defaults.indicator]
normalise = "minmax"
[[node]]
code = "ROOT"
aggregate = "arithmetic"
[[node]]
code = "A"
parent = "ROOT"
[[indicator]]
code = "x"
parent = "A"
[[indicator]]
code = "y"
parent = "ROOT"
direction = -1
"""


def test_bundled_specs_all_load() -> None:
    names = bundled_specs()
    for want in (
        "cdc-svi-2018-county",
        "cdc-svi-2018-tract",
        "cdc-svi-2020-county",
        "cdc-svi-2020-tract",
        "bric-template",
        "social-capital-template",
    ):
        assert want in names
        load_spec(want)
    s20 = load_spec("cdc-svi-2020-county")
    assert len(s20.indicators) == 16 and s20.node("THEME3").children == ("MINRTY",)


def test_good_spec_tree() -> None:
    s = parse_spec(tomllib.loads(GOOD))
    assert s.root == "ROOT" and s.node("ROOT").children == ("A", "y")


@pytest.mark.parametrize(
    ("edit", "where"),
    [
        (
            GOOD.replace('code = "y"\nparent = "ROOT"', 'code = "y"\nparent = "NOPE"'),
            "parent 'NOPE'",
        ),
        (GOOD.replace('normalise = "minmax"', 'normalise = "minmaxx"'), "normalise"),
        (GOOD.replace("direction = -1", "direction = 2"), "'direction' must be 1 or -1"),
        (GOOD.replace("direction = -1", 'colour = "red"'), "unknown key 'colour'"),
        (GOOD.replace('code = "A"\nparent = "ROOT"', 'code = "A"'), "exactly one root"),
        (
            GOOD.replace('aggregate = "arithmetic"', 'aggregate = "median"'),
            "'aggregate' must be one of",
        ),
    ],
)
def test_spec_errors_are_located(edit: str, where: str) -> None:
    with pytest.raises(SpecError) as ei:
        parse_spec(tomllib.loads(edit), "my.toml")
    text = str(ei.value)
    assert where in text and "my.toml" in text


def test_spec_error_names_the_item_and_key() -> None:
    bad = GOOD.replace("direction = -1", 'weight = "heavy"')
    with pytest.raises(SpecError) as ei:
        parse_spec(tomllib.loads(bad), "w.toml")
    p = ei.value.problems[0]
    assert p.field == "weight" and "'y'" in p.message


def test_unknown_spec_name_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="bundled"):
        load_spec("no-such-spec")
    f = tmp_path / "bad.toml"
    f.write_text("[index\n")
    with pytest.raises(SpecError, match="not valid TOML"):
        load_spec(f)


def test_read_wide_locates_bad_cells(tmp_path: Path) -> None:
    f = tmp_path / "w.csv"
    f.write_text("geo,period,a,b\n01,2020,1.5,\n02,2020,abc,3\n03,2020,-999,4\n")
    with pytest.raises(InputError) as ei:
        read_wide(f, unit="geo", period="period")
    (p,) = ei.value.problems
    assert (p.row, p.field) == (3, "a") and "abc" in p.message
    f.write_text("geo,period,a,b\n01,2020,1.5,\n02,2020,2,3\n03,2020,-999,4\n")
    long = read_wide(f, unit="geo", period="period")
    assert long.height == 6
    vals = dict(zip(zip(long["unit"], long["indicator"], strict=True), long["value"], strict=True))
    assert vals[("01", "b")] is None and vals[("03", "a")] is None and vals[("02", "a")] == 2.0


def test_read_long_duplicates_and_moe(tmp_path: Path) -> None:
    f = tmp_path / "l.csv"
    f.write_text("unit,period,indicator,value,moe\nA,2020,x,1,0.5\nA,2020,x,2,\nB,2020,x,3,\n")
    with pytest.raises(InputError) as ei:
        read_long(f)
    assert ei.value.problems[0].row == 2 and "duplicate" in ei.value.problems[0].message
    f.write_text("unit,period,indicator,value,moe\nA,2020,x,1,0.5\nA,2020,y,2,\nB,2020,x,3,\n")
    long = read_long(f)
    assert long["moe"].to_list() == [0.5, None, None]
    wide = to_wide(long, unit="geo")
    assert wide.columns == ["geo", "x", "y"] and wide.height == 2


def test_read_tracr_pads_fips_and_keeps_empty_as_missing(tmp_path: Path) -> None:
    # TraCR (NIST doi:10.18434/mds2-3978) layout: UID, fips (leading zero lost), period, measures
    f = tmp_path / "tracr.csv"
    f.write_text(
        "UID,fips,period,ECNVIT510101,SOCWB310201\n1,1001,2016,5.2,\n2,1001,2017,,7\n3,56045,2017,1,2\n"
    )
    long = read_tracr(f)
    assert set(long["unit"]) == {"01001", "56045"}
    assert long.filter(
        (pl.col("unit") == "01001")
        & (pl.col("period") == "2017")
        & (pl.col("indicator") == "ECNVIT510101")
    )["value"].to_list() == [None]
    wide = to_wide(long, unit="fips", period="period")
    assert wide.height == 3 and "UID" not in wide.columns


def test_read_geographies(tmp_path: Path) -> None:
    f = tmp_path / "g.csv"
    f.write_text(
        "code,name,level,parent\nUS,United States,nation,\n09,Connecticut,state,US\n"
        "09110,Capitol,county,09\nX1,Riverside,neighbourhood,09999\n"
    )
    with pytest.raises(InputError) as ei:
        read_geographies(f)
    assert ei.value.problems[0].row == 5 and ei.value.problems[0].field == "parent"


def test_engine_reports_missing_columns_and_bad_numbers() -> None:
    spec = load_spec("bric-template")
    with pytest.raises(InputError) as ei:
        compute(spec, pl.DataFrame({"FIPS": ["01001"], "EDU_COLLEGE": ["x"]}))
    assert any(p.field == "GINI" for p in ei.value.problems)


def test_bric_template_equals_manual_computation() -> None:
    # BRIC construction (Cutter et al. 2014): min-max each variable, mean within capital, sum.
    spec = load_spec("bric-template")
    rng = np.random.default_rng(3)
    cols = [i.column for i in spec.indicators]
    data = {c: rng.random(40) * 100 for c in cols}
    data["GINI"][5] = np.nan  # one missing in a 3-variable capital: threshold 0.5 keeps the unit
    frame = pl.DataFrame({"FIPS": [f"{k:05d}" for k in range(40)], **data})
    res = compute(spec, frame).frame
    mm = {}
    for i in spec.indicators:
        x = data[i.column]
        f = (x - np.nanmin(x)) / (np.nanmax(x) - np.nanmin(x))
        mm[i.code] = 1 - f if i.direction < 0 else f
    total = np.zeros(40)
    for cap in ("SOCIAL", "ECONOMIC", "COMMUNITY", "INSTITUTIONAL", "HOUSING", "ENVIRONMENTAL"):
        kids = [i.code for i in spec.indicators if i.parent == cap]
        m = np.nanmean(np.column_stack([mm[k] for k in kids]), axis=1)
        np.testing.assert_allclose(res[cap].to_numpy(), m)
        total += m
    np.testing.assert_allclose(res["BRIC"].to_numpy(), total)
    assert 0 <= res["BRIC"].min() and res["BRIC"].max() <= 6


def test_periods_are_normalised_separately_and_denominators() -> None:
    spec = parse_spec(
        tomllib.loads("""
[index]
id = "p"
unit = "geo"
period = "year"
[[node]]
code = "R"
aggregate = "arithmetic"
score_output = "R"
[[indicator]]
code = "rate"
column = "count"
denominator = "pop"
multiplier = 100
parent = "R"
normalise = "percent_rank"
output = "rate_pr"
""")
    )
    frame = pl.DataFrame(
        {
            "geo": ["a", "b", "c", "a", "b", "c"],
            "year": [1, 1, 1, 2, 2, 2],
            "count": [1, 2, 3, 30, 20, 10],
            "pop": [10, 10, 10, 100, 100, 0],
        }
    )
    res = compute(spec, frame).frame.sort(["year", "geo"])
    assert res["rate_pr"].to_list() == [0.0, 0.5, 1.0, 1.0, 0.0, None]


def test_group_imputation_treatment_and_copeland_through_a_spec() -> None:
    spec = parse_spec(
        tomllib.loads("""
[index]
id = "g"
unit = "geo"
sentinels = [-1]
[defaults.indicator]
parent = "R"
normalise = "none"
output = "{code}_n"
[[node]]
code = "R"
aggregate = "copeland"
score_output = "R"
[[indicator]]
code = "a"
impute = { method = "group_median", group = "state" }
[[indicator]]
code = "b"
treat = { method = "quantile", lower = 0.0, upper = 0.5 }
""")
    )
    frame = pl.DataFrame(
        {
            "geo": ["1", "2", "3", "4"],
            "state": ["x", "x", "y", "y"],
            "a": [1.0, -1, 5.0, 7.0],
            "b": [1.0, 2.0, 3.0, 100.0],
        }
    )
    res = compute(spec, frame).frame
    assert res["a_n"].to_list() == [1.0, 1.0, 5.0, 7.0]  # unit 2 gets state x's median
    assert res["b_n"].to_list() == [1.0, 2.0, 2.5, 2.5]  # clipped at the median
    # Copeland by hand (wins minus losses on the majority of inputs): unit 1 loses to 2 (tie on
    # a, lower b), to 3 and to 4 -> -3; unit 2: beats 1, loses to 3, 4 -> -1; unit 3: beats 1, 2,
    # loses to 4 on a (tie on b) -> 1; unit 4 beats all -> 3
    assert res["R"].to_list() == [-3.0, -1.0, 1.0, 3.0]
