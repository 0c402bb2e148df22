"""Fixtures for the indicator tests: CDC's published SVI 2018 county file (../shared/data/svi)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"
SVI2018 = DATA / "svi" / "SVI2018_US_COUNTY.csv"


@pytest.fixture(scope="session")
def svi2018_path() -> Path:
    if not SVI2018.is_file():
        pytest.skip(f"reference data absent: {SVI2018}")
    return SVI2018


@pytest.fixture(scope="session")
def svi2018(svi2018_path: Path) -> pl.DataFrame:
    """CDC/ATSDR SVI 2018 US county file, every column as text (as published)."""
    return pl.read_csv(svi2018_path, infer_schema_length=0)
