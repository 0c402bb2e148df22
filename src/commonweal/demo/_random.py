"""Counter-based randomness: a pure function of (seed, salt, integer keys) -> uniform 64-bit values.

The tie generator decides everything about a pair of people (is there a tie, which way does it
point, how strong is it) from a hash of the pair, not from a sequential random stream. Both ends of
a tie therefore reach the same decision independently, which is what lets the writer stream the
community in chunks of members and still produce exactly the rows the in-memory generator does.

The mixer is SplitMix64's finaliser (Steele, Lea & Flood 2014, "Fast splittable pseudorandom
number generators", OOPSLA), applied once per key component.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["field_uniform", "hash_keys", "sorted_unique", "uniform"]

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_G = np.uint64(_GOLDEN)


def _mix_int(x: int) -> int:
    z = (x + _GOLDEN) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def _mix(z: NDArray[np.uint64]) -> NDArray[np.uint64]:
    # array arithmetic on uint64 wraps modulo 2**64 without warnings, as SplitMix64 needs
    z = z + _G
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def hash_keys(seed: int, salt: int, *keys: NDArray[np.integer]) -> NDArray[np.uint64]:
    """Hash equal-length non-negative integer arrays into uniform 64-bit values.

    Parameters
    ----------
    seed, salt
        The community seed and a constant naming the decision being made (so that, e.g., the
        direction and the strength of a tie are independent).
    *keys
        One or more arrays of the same length, all values >= 0.

    Returns
    -------
    numpy.ndarray of uint64
    """
    base = _mix_int(_mix_int(seed & _MASK) ^ (salt & _MASK))
    h = np.full(len(keys[0]), base, dtype=np.uint64)
    for key in keys:
        h = _mix(h ^ key.astype(np.uint64))
    return h


def uniform(h: NDArray[np.uint64]) -> NDArray[np.float64]:
    """Map 64-bit hashes to floats uniform on [0, 1) (top 53 bits)."""
    return (h >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


def field_uniform(h: NDArray[np.uint64], field: int) -> NDArray[np.float64]:
    """The ``field``-th 12-bit slice of ``h`` (field 0..4) as a float uniform on [0, 1).

    Five independent coarse uniforms (resolution 1/4096) from one hash, for cheap yes/no draws.
    """
    bits = (h >> np.uint64(12 * field)) & np.uint64(0xFFF)
    return bits.astype(np.float64) * (1.0 / 4096.0)


def sorted_unique(keys: NDArray[np.int64]) -> NDArray[np.int64]:
    """Sorted distinct values of ``keys``.

    Same result as ``numpy.unique``, whose hash-based path in numpy 2.3+ is an order of magnitude
    slower than sorting for millions of int64 keys.
    """
    out = np.sort(keys)
    if len(out) < 2:
        return out
    keep: NDArray[np.bool_] = np.concatenate([[True], out[1:] != out[:-1]])
    result: NDArray[np.int64] = out[keep]
    return result
