from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "psychometrics"
HS_FILE = DATA / "HolzingerSwineford1939.csv"
HS_MODEL = """
visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed   =~ x7 + x8 + x9
"""


@pytest.fixture(scope="session")
def hs() -> pl.DataFrame:
    if not HS_FILE.exists():
        pytest.skip(f"reference data not found: {HS_FILE}")
    return pl.read_csv(HS_FILE)


@pytest.fixture(scope="session")
def hs_fit(hs):
    from commonweal.analytics.surveys import fit_cfa

    return fit_cfa(HS_MODEL, hs)


@pytest.fixture(scope="session")
def hs_path() -> Path:
    if not HS_FILE.exists():
        pytest.skip(f"reference data not found: {HS_FILE}")
    return HS_FILE
