"""A fast synthetic social-support network: heavy-tailed contacts in clustered communities.

Used by the benchmark and by the demo-community generator. Pure numpy, vectorised: 1M people and
10M ties take a few seconds.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from commonweal.analytics.networks._arrays import sorted_unique
from commonweal.analytics.networks.kinds import N_KINDS
from commonweal.errors import InputError

__all__ = ["support_network"]

# Share of each named kind among generated ties (emotional, practical, financial, information,
# companionship); ``unspecified`` is never generated.
_KIND_SHARES = np.array([0.26, 0.24, 0.10, 0.18, 0.22])


def _community_sizes(
    rng: np.random.Generator, n: int, min_size: int, max_size: int, alpha: float
) -> npt.NDArray[np.int64]:
    """Heavy-tailed (truncated Pareto) community sizes that sum exactly to ``n``."""
    mean_guess = max(min_size, 1) * 4
    k = max(1, int(n / mean_guess * 1.5) + 8)
    sizes: list[npt.NDArray[np.int64]] = []
    total = 0
    while total < n:
        u = rng.random(k)
        # inverse CDF of a Pareto truncated to [min_size, max_size]
        lo, hi = float(min_size) ** -alpha, float(max_size) ** -alpha
        s = np.floor((lo - u * (lo - hi)) ** (-1.0 / alpha)).astype(np.int64)
        sizes.append(s)
        total += int(s.sum())
    all_sizes = np.concatenate(sizes)
    csum = np.cumsum(all_sizes)
    last = int(np.searchsorted(csum, n))
    out = all_sizes[: last + 1].copy()
    out[-1] -= int(csum[last] - n)
    return out[out > 0]


def support_network(
    n_people: int,
    n_ties: int,
    *,
    seed: int,
    mixing: float = 0.1,
    reciprocity: float = 0.15,
    multi_kind: float = 0.15,
    activity_sigma: float = 0.8,
    popularity_sigma: float = 1.4,
    community_min: int = 10,
    community_max: int = 2000,
    community_alpha: float = 1.2,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.uint8]]:
    """Generate a directed, typed support network as edge arrays.

    Model (a degree-corrected planted partition):

    * People are split into communities with truncated-Pareto sizes in
      ``[community_min, community_max]`` (exponent ``community_alpha``).
    * Each person has an *activity* ``a ~ LogNormal(0, activity_sigma)`` (how many people they turn
      to) and a *popularity* ``p ~ LogNormal(0, popularity_sigma)`` (how many turn to them), so
      contacts are heavy-tailed and some people end up with no ties at all.
    * A base tie ``i -> j`` ("i turns to j") draws ``i`` with probability proportional to ``a_i``;
      with probability ``1 - mixing`` ``j`` is drawn proportional to ``p_j`` within ``i``'s
      community, otherwise proportional to ``p_j`` among everyone.
    * A share ``reciprocity`` of the ties reverse a base tie (``j -> i``: support flows both ways),
      and a share ``multi_kind`` repeat a base pair with another kind (one person giving several
      kinds of support).
    * Kinds are drawn with fixed shares (emotional 26%, practical 24%, financial 10%, information
      18%, companionship 22%). Self-ties and duplicate ``(i, j, kind)`` triples are redrawn, so
      exactly ``n_ties`` distinct typed ties come back (if that many exist).

    Parameters
    ----------
    n_people, n_ties : int
        Number of people (ids ``0..n_people-1``) and of distinct typed ties.
    seed : int
        Seed of the numpy ``Generator``; the same seed gives the same network.
    mixing, reciprocity, multi_kind : float
        Shares in ``[0, 1]`` described above (``reciprocity + multi_kind <= 0.9``).
    activity_sigma, popularity_sigma : float
        Log-normal spreads of activity and popularity.
    community_min, community_max, community_alpha
        Community size range and Pareto exponent.

    Returns
    -------
    src, dst : numpy.ndarray of int64
        ``src[e]`` turns to ``dst[e]``.
    kind : numpy.ndarray of uint8
        Support-kind codes (index into :data:`commonweal.analytics.networks.SUPPORT_TYPES`).

    Raises
    ------
    InputError
        If the sizes or shares are out of range.

    Examples
    --------
    >>> src, dst, kind = support_network(1000, 5000, seed=1)
    >>> len(src), bool((src != dst).all())
    (5000, True)
    """
    if n_people < 2 or n_ties < 0:
        raise InputError("support_network needs n_people >= 2 and n_ties >= 0")
    if n_ties > n_people * (n_people - 1) * (N_KINDS - 1) // 4:
        raise InputError("too many ties for this many people")
    if not (0 <= mixing <= 1 and 0 <= reciprocity and 0 <= multi_kind):
        raise InputError("mixing, reciprocity and multi_kind must be shares in [0, 1]")
    if reciprocity + multi_kind > 0.9:
        raise InputError("reciprocity + multi_kind must be at most 0.9")
    rng = np.random.default_rng(seed)
    n = int(n_people)
    sizes = _community_sizes(rng, n, max(1, min(community_min, n)), max(community_max, 2),
                             community_alpha)
    comm_of_slot = np.repeat(np.arange(sizes.size), sizes)  # people sorted by community ("slots")
    starts = np.concatenate(([0], np.cumsum(sizes)))
    activity = rng.lognormal(0.0, activity_sigma, n)
    popularity = rng.lognormal(0.0, popularity_sigma, n)
    cum_p = np.cumsum(popularity)
    cum_p0 = np.concatenate(([0.0], cum_p))
    # final ids are a random permutation of slots, so communities are not contiguous id ranges
    perm = rng.permutation(n).astype(np.int64)

    def draw(m: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        # sources: multinomial counts by activity, so the queries below arrive sorted by slot
        counts = rng.multinomial(m, activity / activity.sum())
        i = np.repeat(np.arange(n, dtype=np.int64), counts)
        c = comm_of_slot[i]
        lo, hi = cum_p0[starts[c]], cum_p0[starts[c + 1]]
        local = rng.random(m) >= mixing
        u = np.where(local, lo + rng.random(m) * (hi - lo), rng.random(m) * cum_p[-1])
        j = np.minimum(np.searchsorted(cum_p, u, side="right"), n - 1)
        return i, j.astype(np.int64)

    def kinds(m: int) -> npt.NDArray[np.uint8]:
        cut = np.cumsum(_KIND_SHARES)
        codes = np.searchsorted(cut, rng.random(m) * cut[-1])
        out: npt.NDArray[np.uint8] = np.minimum(codes, cut.size - 1).astype(np.uint8)
        return out

    n_kinds = np.int64(N_KINDS)
    keys = np.empty(0, dtype=np.int64)
    factor = 1.25
    for _ in range(30):
        need = n_ties - keys.size
        if need <= 0:
            break
        m = int(need * factor) + 16
        n_rec = int(m * reciprocity)
        n_multi = int(m * multi_kind)
        n_base = m - n_rec - n_multi
        i, j = draw(n_base)
        pick_r = rng.integers(0, n_base, n_rec)
        pick_m = rng.integers(0, n_base, n_multi)
        s = np.concatenate((i, j[pick_r], i[pick_m]))
        d = np.concatenate((j, i[pick_r], j[pick_m]))
        k = kinds(s.size)
        ok = s != d
        before = keys.size
        keys = sorted_unique(np.concatenate((keys, (s[ok] * n + d[ok]) * n_kinds + k[ok])))
        gained = keys.size - before
        # raise the oversampling so the next round closes the gap (duplicates get likelier)
        factor = min(50.0, max(1.25, 1.3 * m / max(gained, 1)))
    if keys.size < n_ties:
        raise InputError("could not draw that many distinct ties; lower n_ties")
    keys = keys[rng.permutation(keys.size)[:n_ties]]
    kind = (keys % n_kinds).astype(np.uint8)
    pair = keys // n_kinds
    src = perm[pair // n]
    dst = perm[pair % n]
    return src, dst, kind
