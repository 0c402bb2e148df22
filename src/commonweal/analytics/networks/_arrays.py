"""Small array helpers shared by the network modules (internal)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["sorted_unique"]


def sorted_unique(a: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """``np.unique`` for large integer arrays by sort + mask.

    numpy 2.x's hash-based ``unique`` is an order of magnitude slower than a plain sort on arrays of
    ten million int64 keys, so the graph code uses this instead.
    """
    s = np.sort(a)
    if s.size == 0:
        return s
    keep = np.empty(s.size, dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]
