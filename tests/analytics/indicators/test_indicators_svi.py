"""CDC/ATSDR SVI 2018: recompute every EPL_*, SPL_*, RPL_* and F_* of the published US county file
from the EP_* columns alone. Outside reference: CDC's file ../shared/data/svi/SVI2018_US_COUNTY.csv
(CDC/ATSDR Social Vulnerability Index 2018 Database US), compared at its 4 published decimals."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from commonweal.analytics.indicators import compute, load_spec, verify

SPEC = load_spec("cdc-svi-2018-county")
EP_COLUMNS = [i.column for i in SPEC.indicators]


@pytest.fixture(scope="module")
def recomputed(svi2018: pl.DataFrame) -> pl.DataFrame:
    # only the unit and the EP_* inputs go in: nothing published downstream is visible
    result = compute(SPEC, svi2018.select(["FIPS", *EP_COLUMNS]))
    published = svi2018.with_columns(pl.col("FIPS").str.zfill(5))
    return result.frame.join(
        published.select(["FIPS", *SPEC.output_columns]), on="FIPS", suffix="__cdc"
    )


def test_every_output_column_is_declared_and_published(svi2018: pl.DataFrame) -> None:
    cols = SPEC.output_columns
    assert len(cols) == 15 * 2 + 4 * 3 + 3  # EPL+F per variable; SPL/RPL/F per theme; overall
    assert set(cols) <= set(svi2018.columns)


@pytest.mark.parametrize("column", SPEC.output_columns)
def test_column_matches_cdc_for_every_county(recomputed: pl.DataFrame, column: str) -> None:
    ours = recomputed[column].cast(pl.Float64).to_numpy()
    cdc = recomputed[f"{column}__cdc"].cast(pl.Float64).to_numpy()
    assert recomputed.height == 3142
    bad = np.flatnonzero(np.abs(ours - cdc) > 1e-9)
    assert bad.size == 0, recomputed[bad.tolist()].select("FIPS", column, f"{column}__cdc").head(5)


def test_missing_values_propagate_like_cdc(recomputed: pl.DataFrame) -> None:
    # Rio Arriba NM (35039) lacks POV/UNEMP/PCI: theme 1 and the overall index are -999 in CDC's
    # file, its other themes are ranked, and F_NOHSDP is still 0.
    row = recomputed.filter(pl.col("FIPS") == "35039").row(0, named=True)
    for c in (
        "EPL_POV",
        "SPL_THEME1",
        "RPL_THEME1",
        "SPL_THEMES",
        "RPL_THEMES",
        "F_THEME1",
        "F_TOTAL",
    ):
        assert row[c] == -999 == float(row[f"{c}__cdc"])
    assert row["RPL_THEME2"] == float(row["RPL_THEME2__cdc"]) == 0.8758
    assert row["F_NOHSDP"] == 0


def test_rank_ties_use_the_smallest_rank(recomputed: pl.DataFrame) -> None:
    # most counties share their 1-decimal EP_POV with another county; tied counties share one EPL
    assert recomputed["EPL_POV"].n_unique() < 0.5 * recomputed.height
    assert recomputed["EPL_POV"].min() == -999  # Rio Arriba, not ranked
    assert recomputed.filter(pl.col("EPL_POV") >= 0)["EPL_POV"].min() == 0.0


def test_verify_reports_nothing_on_cdc_file(svi2018: pl.DataFrame) -> None:
    report = verify(SPEC, svi2018)
    assert report.ok and report.n_units == 3142
    assert all(c.matched == c.compared == 3142 for c in report.columns)


def test_verify_lists_each_altered_cell_by_unit_and_column(svi2018: pl.DataFrame) -> None:
    bad = svi2018.with_columns(
        pl.when(pl.col("FIPS") == "01001")
        .then(pl.lit("0.1234"))
        .otherwise(pl.col("RPL_THEMES"))
        .alias("RPL_THEMES"),
        pl.when(pl.col("FIPS") == "56045")
        .then(pl.lit("1"))
        .otherwise(pl.col("F_POV"))
        .alias("F_POV"),
    )
    report = verify(SPEC, bad, file="altered.csv")
    got = {(m.unit, m.column) for m in report.mismatches}
    assert got == {("01001", "RPL_THEMES"), ("56045", "F_POV")}
    d = report.to_dict()
    assert d["n_mismatches"] == 2 and d["ok"] is False
    m = next(x for x in d["mismatches"] if x["column"] == "RPL_THEMES")
    assert m["published"] == 0.1234 and m["recomputed"] != 0.1234


def test_verify_catches_a_wrong_input_choice(svi2018: pl.DataFrame) -> None:
    # CDC's first 2020 release ranked a count (E_HBURD) instead of the percentage; simulate the same
    # kind of error on 2018 by publishing EPL_POV ranked on the count E_POV.
    from commonweal.analytics.indicators import percent_rank, round_values

    e = svi2018["E_POV"].cast(pl.Float64).to_numpy()
    e = np.where(e == -999, np.nan, e)
    wrong = np.where(np.isnan(e), -999, round_values(percent_rank(e), 4))
    bad = svi2018.with_columns(pl.Series("EPL_POV", wrong))
    report = verify(SPEC, bad)
    by_col = {c.column: c for c in report.columns}
    assert by_col["EPL_POV"].share < 0.2
    assert by_col["EPL_UNEMP"].share == 1.0
