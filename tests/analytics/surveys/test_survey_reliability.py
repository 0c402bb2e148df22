"""Cronbach's alpha against pingouin 0.7 on Holzinger-Swineford (field note: visual .6261,
textual .8827, speed .6885), and the Feldt interval against its closed form."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from commonweal.analytics.surveys import cronbach_alpha
from commonweal.errors import AnalysisError, InputError


@pytest.mark.parametrize(("items", "alpha"), [(["x1", "x2", "x3"], 0.6261),
                                              (["x4", "x5", "x6"], 0.8827),
                                              (["x7", "x8", "x9"], 0.6885)])
def test_alpha_matches_pingouin(hs, items, alpha):
    r = cronbach_alpha(hs, items)
    assert r.alpha == pytest.approx(alpha, abs=5e-5)
    assert r.n == 301 and r.k == 3
    assert r.ci_lower < r.alpha < r.ci_upper


def test_feldt_interval_and_item_statistics(hs):
    r = cronbach_alpha(hs, ["x4", "x5", "x6"])
    f_hi = stats.f.ppf(0.975, 300, 600)
    assert r.ci_lower == pytest.approx(1 - (1 - r.alpha) * f_hi, abs=1e-12)
    x = hs.select(["x4", "x5", "x6"]).to_numpy()
    rest = x[:, 1] + x[:, 2]
    assert r.items[0].item_total_r == pytest.approx(np.corrcoef(x[:, 0], rest)[0, 1], abs=1e-12)
    two = cronbach_alpha(hs, ["x5", "x6"]).alpha
    assert r.items[0].alpha_if_deleted == pytest.approx(two, abs=1e-12)


def test_alpha_arrays_and_errors():
    x = np.array([[1, 2, 2], [2, 3, 3], [3, 3, 4], [4, 5, 4], [np.nan, 1, 1]])
    r = cronbach_alpha(x)
    assert r.n == 4 and r.n_dropped == 1
    with pytest.raises(InputError):
        cronbach_alpha(x[:, :1])
    with pytest.raises(AnalysisError):
        cronbach_alpha(np.ones((5, 3)))
