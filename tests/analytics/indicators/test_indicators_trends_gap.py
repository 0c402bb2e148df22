"""Change over time, comparability warnings, panel trends, and the structural-vs-felt gap."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from commonweal.analytics.indicators import (
    change,
    comparability_warnings,
    compute,
    load_spec,
    structural_felt_gap,
    trend,
)
from commonweal.errors import InputError


def test_svi_2018_to_2020_variable_set_warning() -> None:
    # CDC changed the variable set between SVI 2018 and 2020 (POV -> POV150, PCI dropped,
    # HBURD and UNINSUR added; LIMENG moved from theme 3 to theme 2)
    w = comparability_warnings(
        spec_a=load_spec("cdc-svi-2018-county"),
        spec_b=load_spec("cdc-svi-2020-county"),
        label_a="2018",
        label_b="2020",
    )
    kinds = {x.kind: x for x in w}
    assert "POV150" in kinds["variables"].message and "PCI" in kinds["variables"].message
    assert "LIMENG: THEME3 -> THEME2" in kinds["structure"].details


def test_connecticut_planning_regions_warning(svi2018: pl.DataFrame) -> None:
    units18 = svi2018["FIPS"].to_list()
    ct_regions = [f"09{k}" for k in range(110, 200, 10)]
    units22 = [u for u in units18 if not u.startswith("09")] + ct_regions
    (w,) = comparability_warnings(units_a=units18, units_b=units22, label_a="2018", label_b="2022")
    assert w.kind == "geography" and "8 unit(s) gone, 9 new" in w.message
    (detail,) = w.details
    assert detail.startswith("state 09: 8 gone") and "planning regions" in detail


def test_change_between_periods(svi2018: pl.DataFrame) -> None:
    spec = load_spec("cdc-svi-2018-county")
    a = compute(spec, svi2018).frame
    b = a.with_columns(
        pl.when(pl.col("FIPS") == "01001")
        .then(0.9999)
        .otherwise(pl.col("RPL_THEMES"))
        .alias("RPL_THEMES")
    )
    b = b.filter(pl.col("FIPS") != "56045")
    res = change(a, b, unit="FIPS", column="RPL_THEMES", label_a="2018", label_b="2018x")
    row = res.frame.filter(pl.col("FIPS") == "01001").row(0, named=True)
    assert row["change"] == pytest.approx(0.9999 - row["value_2018"])
    assert row["rank_2018x"] == 2 and row["rank_change"] < 0
    assert res.frame.height == 3141 and res.warnings[0].kind == "geography"


def test_trend_slope_equals_numpy_polyfit() -> None:
    rng = np.random.default_rng(2)
    rows = []
    for u in ("a", "b"):
        for t in range(2010, 2016):
            rows.append(
                {
                    "unit": u,
                    "period": str(t),
                    "indicator": "x",
                    "value": 3.0 * t + rng.normal() if u == "a" else None,
                    "moe": None,
                }
            )
    rows[2]["value"] = None
    long = pl.DataFrame(
        rows,
        schema={
            "unit": pl.Utf8,
            "period": pl.Utf8,
            "indicator": pl.Utf8,
            "value": pl.Float64,
            "moe": pl.Float64,
        },
    )
    out = trend(long)
    t = np.array([2010, 2011, 2013, 2014, 2015], dtype=float)
    y = long.filter((pl.col("unit") == "a") & pl.col("value").is_not_null())["value"].to_numpy()
    assert out.filter(pl.col("unit") == "a")["slope"][0] == pytest.approx(np.polyfit(t, y, 1)[0])
    assert out.filter(pl.col("unit") == "a")["n_periods"][0] == 5
    assert out.filter(pl.col("unit") == "b").height == 0


def test_gap_flags_high_structure_low_belonging() -> None:
    places = [f"P{k}" for k in range(8)]
    structural = pl.DataFrame({"place": places, "capital": [1, 2, 3, 4, 5, 6, 7, 8]})
    felt = pl.DataFrame(
        {
            "place_id": places,
            "influence": [3.0, 3.1, 3.2, 3.3, 3.4, 3.5, 1.0, 4.0],
            "needs": [3.0, 3.1, 3.2, 3.3, 3.4, 3.5, 1.2, 4.1],
            "n": [30, 30, 30, 30, 30, 30, 30, 3],
        }
    )
    res = structural_felt_gap(
        structural,
        felt,
        on="place",
        felt_on="place_id",
        structural_column="capital",
        felt_columns=["influence", "needs"],
        n_column="n",
        min_respondents=10,
    )
    assert res.excluded == ("P7",)
    flagged = res.flagged()
    assert flagged["place"].to_list() == ["P6"]
    row = flagged.row(0, named=True)
    assert row["structural_pct"] == 1.0 and row["felt_pct"] == 0.0 and row["gap"] == 1.0
    # a vulnerability index (higher = less investment) is turned around
    inv = structural_felt_gap(
        structural.with_columns(-pl.col("capital")),
        felt,
        on="place",
        felt_on="place_id",
        structural_column="capital",
        felt_columns=["influence"],
        structural_direction=-1,
    )
    assert "P6" in inv.flagged()["place"].to_list()
    with pytest.raises(InputError, match="cannot join"):
        structural_felt_gap(
            structural, felt, on="place", structural_column="capital", felt_columns=["influence"]
        )
