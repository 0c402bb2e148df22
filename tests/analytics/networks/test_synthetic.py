import numpy as np
import pytest

from commonweal.analytics.networks.synthetic import support_network
from commonweal.errors import InputError


def test_exact_count_distinct_no_self_ties_and_seeded():
    src, dst, kind = support_network(2000, 12000, seed=7)
    assert src.shape == dst.shape == kind.shape == (12000,)
    assert (src != dst).all()
    keys = (src * 2000 + dst) * 8 + kind
    assert np.unique(keys).size == 12000
    assert set(np.unique(kind)) <= {0, 1, 2, 3, 4}
    again = support_network(2000, 12000, seed=7)
    assert all(np.array_equal(a, b) for a, b in zip((src, dst, kind), again, strict=True))
    other = support_network(2000, 12000, seed=8)
    assert not np.array_equal(src, other[0])


def test_heavy_tailed_and_clustered():
    n = 20000
    src, dst, _ = support_network(n, 100000, seed=3, mixing=0.1)
    indeg = np.bincount(dst, minlength=n)
    # heavy tail: the busiest supporter has far more dependents than the mean
    assert indeg.max() > 10 * indeg.mean()
    # some people name nobody (isolated in the directed sense)
    assert (np.bincount(src, minlength=n) == 0).sum() > 0
    # reciprocity: some ties are returned
    pairs = set(zip(src.tolist(), dst.tolist(), strict=True))
    rec = np.mean([(d, s) in pairs for s, d in pairs])
    assert 0.1 < rec < 0.7


def test_bad_arguments():
    with pytest.raises(InputError):
        support_network(1, 0, seed=0)
    with pytest.raises(InputError):
        support_network(10, 10, seed=0, reciprocity=0.8, multi_kind=0.5)
