"""Fixtures of the indicator storage tests: the CDC SVI 2018 county file and a tiny spec."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import shared_data

# A two-theme index over two measures, small enough to check by hand.
TINY_SPEC = """
[index]
id = "tiny"
name = "Tiny index"
unit = "fips"
unit_width = 5

[defaults.indicator]
normalise = "minmax"
domain = "social"
round = 4

[defaults.node]
aggregate = "arithmetic"
score_round = 4
score_output = "{code}"

[[node]]
code = "TOTAL"
name = "Total"

[[indicator]]
code = "A"
column = "m_a"
parent = "TOTAL"

[[indicator]]
code = "B"
column = "m_b"
parent = "TOTAL"
direction = -1
"""


@pytest.fixture
def svi2018() -> Path:
    return shared_data("svi", "SVI2018_US_COUNTY.csv")


@pytest.fixture
def tiny_spec(tmp_path: Path) -> Path:
    p = tmp_path / "tiny.toml"
    p.write_text(TINY_SPEC, encoding="utf-8")
    return p
