"""The benchmark script runs end to end at a tiny size and ends with one JSON object."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "benchmarks" / "matching.py"


@pytest.mark.slow
def test_benchmark_script_prints_json_last_line():
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "--needs", "300", "--offers", "300", "--repeat", "1"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    figures = json.loads(out.strip().splitlines()[-1])
    assert figures["needs"] == 300 and figures["candidate_pairs"] > 0
    assert figures["optimal"]["total_score"] >= figures["greedy"]["total_score"] - 1e-9
    assert figures["optimal"]["slots_filled"] <= figures["optimal"]["slots_total"]
