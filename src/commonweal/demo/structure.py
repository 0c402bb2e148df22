"""Who can be tied to whom: group memberships, sparse explicit ties, and the calibration.

Three kinds of structure, all held as O(members) arrays so that tie rows can later be produced for
any range of members without the rest of the community:

* **explicit ties** (a few per hundred members): kin in related households, youth mentoring,
  care professionals and their older clients, and the one contact of each single-contact older
  adult. Drawn here from a sequential generator, stored as directed rows sorted by ``from``.
* **the neighbour lattice**: households are numbered along a Z-order curve inside each
  neighbourhood; households ``x`` and ``x + d`` (``d`` = 1..4, same neighbourhood) are neighbours
  with probability ``NEIGHBOUR_KEEP``. Decided by hashing ``(x, d)``, nothing stored.
* **groups** (Feld's foci, 1981): each person joins ``Poisson(lambda * w)`` groups, where the
  activity ``w`` is lognormal (sigma 1.0), which gives the heavy tail of contacts. Within a
  group, members sit on a ring in random order and each is tied to the ring neighbours at distance
  1..3 with probability ``q`` (a Watts-Strogatz ring, 1998, thinned), which gives triangles.
  80 % of a person's groups are in their own neighbourhood.

``lambda`` and ``q`` are solved so that the expected number of tie rows is ``mean_ties * n``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from commonweal.demo import _model as m
from commonweal.demo._random import hash_keys, sorted_unique, uniform
from commonweal.demo.names import GROUP_TEMPLATES
from commonweal.demo.population import Population

__all__ = ["GROUP_RING_REACH", "NEIGHBOUR_KEEP", "NEIGHBOUR_REACH", "Structure", "build_structure"]

I32 = NDArray[np.int32]
I64 = NDArray[np.int64]
B = NDArray[np.bool_]

NEIGHBOUR_REACH = 4  # households this far apart along the curve can be neighbours
NEIGHBOUR_KEEP = 0.3
GROUP_RING_REACH = 3
MEMBERSHIP_CAP = 40
MEAN_GROUP_SIZE = 14.0
_BLOCK = 1 << 19


@dataclass(frozen=True, slots=True)
class Structure:
    """Tie structure of one community (internal)."""

    ex_from: I64  # explicit directed rows, sorted by (from, to, kind)
    ex_to: I64
    ex_kind: I64
    ex_recip: B
    g_start: I64  # n_groups + 1 offsets into g_members
    g_members: I32  # members of each group, in ring order (position 0 holds the group's role)
    g_kind: I32  # index into GROUP_KINDS
    g_nb: I32
    g_template: I32
    m_ptr: I64  # n + 1 offsets into m_slot
    m_slot: I64  # positions in g_members, grouped by member
    group_keep: float
    expected_rows: float

    @property
    def n_groups(self) -> int:
        return len(self.g_kind)


def household_kin_rows(pop: Population) -> int:
    """Rows of kin inside households: everyone turns to each housemate aged 14 or over."""
    adults = np.bincount(pop.household, weights=pop.age >= 14, minlength=pop.n_households)
    return int(((pop.hh_size - 1) * adults).sum())


def neighbour_pairs(pop: Population, seed: int, x: I64, d: int) -> B:
    """Whether households ``x`` and ``x + d`` are neighbours with a tie (a pure function)."""
    y = x + d
    ok = y < pop.n_households
    yy = np.minimum(y, pop.n_households - 1)
    ok &= (pop.hh_nb[x] == pop.hh_nb[yy]) & pop.hh_eligible[x] & pop.hh_eligible[yy]
    keep = uniform(hash_keys(seed, m.SALT_NEIGHBOUR_KEEP, x, np.full_like(x, d))) < NEIGHBOUR_KEEP
    return ok & keep


def _nb_member_range(pop: Population, nb: I64) -> tuple[I64, I64]:
    lo = pop.hh_start[pop.nb_hh_start[nb]]
    hi = pop.hh_start[pop.nb_hh_start[nb + 1]]
    return lo, hi


def _rep(pop: Population, rng: np.random.Generator, hh: I64) -> I64:
    """A random adult of each household."""
    return pop.hh_start[hh] + (rng.random(len(hh)) * pop.hh_nadult[hh]).astype(np.int64)


def _explicit_ties(pop: Population, rng: np.random.Generator) -> tuple[I64, I64, I64, B]:
    n, n_hh = pop.n, pop.n_households
    blocked = pop.isolated | pop.single_contact
    froms: list[I64] = []
    tos: list[I64] = []
    kinds: list[I64] = []
    recips: list[B] = []

    def add(a: I64, b: I64, kind: int, recip: B) -> None:
        keep = a != b
        a, b, recip = a[keep], b[keep], recip[keep]
        froms.extend([a, b[recip]])
        tos.extend([b, a[recip]])
        kinds.append(np.full(len(a) + int(recip.sum()), kind, dtype=np.int64))
        recips.extend([recip, recip[recip]])

    def orient(a: I64, b: I64, kind: int) -> None:
        recip = rng.random(len(a)) < m.RECIPROCAL_SHARE[kind]
        flip = ~recip & (rng.random(len(a)) < 0.5)
        add(np.where(flip, b, a), np.where(flip, a, b), kind, recip)

    # kin in related households (adult children, siblings, parents), more for older people alone
    hh = np.arange(n_hh, dtype=np.int64)
    older_alone_hh = (pop.hh_size == 1) & (pop.age[pop.hh_start[:-1]] >= 65)
    links = np.minimum(rng.poisson(0.5 + 0.8 * older_alone_hh), 3) * pop.hh_eligible
    src = np.repeat(hh, links)
    local = rng.random(len(src)) < 0.65
    lo, hi = pop.nb_hh_start[pop.hh_nb[src]], pop.nb_hh_start[pop.hh_nb[src] + 1]
    dst = np.where(
        local,
        lo + (rng.random(len(src)) * (hi - lo)).astype(np.int64),
        rng.integers(0, n_hh, len(src)),
    )
    ok = (dst != src) & pop.hh_eligible[dst]
    a, b = _rep(pop, rng, src[ok]), _rep(pop, rng, dst[ok])
    pair = sorted_unique(np.minimum(a, b) * n + np.maximum(a, b))
    orient(pair // n, pair % n, m.KIN)

    member = np.arange(n, dtype=np.int64)
    nb_of = pop.hh_nb[pop.household].astype(np.int64)

    def pick_in_nb(who: I64, ok_fn: NDArray[np.bool_], tries: int = 8) -> I64:
        """For each person, the first of ``tries`` random members of their neighbourhood with
        ``ok_fn`` true (-1 when none)."""
        lo, hi = _nb_member_range(pop, nb_of[who])
        out = np.full(len(who), -1, dtype=np.int64)
        for _ in range(tries):
            cand = lo + (rng.random(len(who)) * (hi - lo)).astype(np.int64)
            good = (out < 0) & ok_fn[cand] & (cand != who)
            out[good] = cand[good]
        return out

    # youth mentoring: 6 % of people aged 14-24 turn to a mentor aged 30-70 nearby
    free = ~blocked
    youth = member[(pop.age >= 14) & (pop.age <= 24) & free & (rng.random(n) < 0.06)]
    mentor = pick_in_nb(youth, (pop.age >= 30) & (pop.age <= 70) & free)
    got = mentor >= 0
    add(youth[got], mentor[got], m.MENTOR, np.zeros(int(got.sum()), dtype=np.bool_))

    # care professionals (0.4 % of adults 25-64) and their clients (30 % of people 70+)
    pro = member[(pop.age >= 25) & (pop.age < 65) & free & (rng.random(n) < 0.004)]
    client_p = np.where(pop.age >= 70, 0.30, np.where(pop.age >= 18, 0.01, 0.0))
    client = member[free & (rng.random(n) < client_p)]
    if len(pro) and len(client):
        pro_nb = nb_of[pro]
        c_nb = nb_of[client]
        plo = np.searchsorted(pro_nb, c_nb, "left")
        phi = np.searchsorted(pro_nb, c_nb, "right")
        idx = np.where(
            phi > plo,
            plo + (rng.random(len(client)) * (phi - plo)).astype(np.int64),
            rng.integers(0, len(pro), len(client)),
        )
        add(client, pro[idx], m.PROFESSIONAL, np.zeros(len(client), dtype=np.bool_))

    # the one contact of each single-contact older adult: kin elsewhere or a neighbour
    single = member[pop.single_contact]
    adult_free = free & (pop.age >= 18)
    as_kin = rng.random(len(single)) < 0.55
    near = pick_in_nb(single, adult_free)
    far = np.full(len(single), -1, dtype=np.int64)
    for _ in range(8):
        cand = rng.integers(0, n, len(single))
        good = (far < 0) & adult_free[cand]
        far[good] = cand[good]
    use_far = as_kin & (rng.random(len(single)) < 0.5)
    partner = np.where(use_far, far, near)
    got = partner >= 0
    for kind, sel in ((m.KIN, as_kin & got), (m.NEIGHBOUR, ~as_kin & got)):
        add(single[sel], partner[sel], kind, rng.random(int(sel.sum())) < 0.3)

    f, t, k = np.concatenate(froms), np.concatenate(tos), np.concatenate(kinds)
    r = np.concatenate(recips)
    key = sorted_unique(((f * n + t) * 9 + k) * 2 + r)
    key = key[np.concatenate([[True], key[1:] // 2 != key[:-1] // 2])] if len(key) else key
    r = (key % 2).astype(np.bool_)
    key //= 2
    return key // 9 // n, key // 9 % n, key % 9, r


def _groups(
    pop: Population, rng: np.random.Generator, memberships: float
) -> tuple[I64, I32, I32, I32, I32]:
    n, k_nb = pop.n, pop.n_neighbourhoods
    free = ~(pop.isolated | pop.single_contact) & (pop.age >= 12)
    w = rng.lognormal(-0.5, 1.0, n) * np.where(pop.age >= 65, 0.6, 1.0) * free
    lam = memberships / max(float(w.sum()), 1e-12)
    count = np.minimum(rng.poisson(lam * w), MEMBERSHIP_CAP)
    all_who = np.repeat(np.arange(n, dtype=np.int32), count)
    del w, count
    n_groups = max(1, round(len(all_who) / MEAN_GROUP_SIZE))
    nb_p = np.diff(pop.hh_start[pop.nb_hh_start]).astype(np.float64)
    nb_p /= nb_p.sum()
    g_nb = np.sort(rng.choice(k_nb, size=n_groups, p=nb_p)).astype(np.int32)
    gs = np.searchsorted(g_nb, np.arange(k_nb + 1)).astype(np.int64)
    cum = np.concatenate([[0.0], np.cumsum(rng.lognormal(0.0, 0.9, n_groups))])
    keys: list[I64] = []
    for b0 in range(0, len(all_who), _BLOCK):  # in blocks, to bound temporary memory
        who = all_who[b0 : b0 + _BLOCK].astype(np.int64)
        nb = pop.hh_nb[pop.household[who]].astype(np.int64)
        away = rng.random(len(who)) >= 0.8
        nb[away] = rng.choice(k_nb, size=int(away.sum()), p=nb_p)
        lo, hi = cum[gs[nb]], cum[gs[nb + 1]]
        empty = hi <= lo
        lo[empty], hi[empty] = 0.0, cum[-1]
        u = lo + rng.random(len(who)) * (hi - lo)
        g = np.clip(np.searchsorted(cum, u, "right") - 1, 0, n_groups - 1)
        keys.append(g * n + who)
    del all_who
    key = sorted_unique(np.concatenate(keys)) if keys else np.zeros(0, dtype=np.int64)
    del keys
    g, who = key // n, key % n
    del key
    size = np.bincount(g, minlength=n_groups)
    keep_group = size >= 3
    new_id = np.cumsum(keep_group) - 1
    sel = keep_group[g]
    g, who = new_id[g[sel]], who[sel]
    n_kept = int(keep_group.sum())
    order = np.argsort(g * (1 << 31) + rng.integers(0, 1 << 31, len(g)))
    g_members = who[order].astype(np.int32)
    g_start = np.searchsorted(g[order], np.arange(n_kept + 1)).astype(np.int64)
    g_kind = rng.choice(len(m.GROUP_KINDS), size=n_groups, p=m.GROUP_KIND_SHARES)[keep_group]
    n_templates = np.array([len(t) for t in GROUP_TEMPLATES])
    g_template = (rng.random(n_kept) * n_templates[g_kind]).astype(np.int32)
    return g_start, g_members, g_kind.astype(np.int32), g_nb[keep_group], g_template


def ring_reach(size: I64) -> I64:
    """Ring distance up to which group members are tied (at most 3, and below half the ring)."""
    return np.minimum(GROUP_RING_REACH, (size - 1) // 2)


def build_structure(pop: Population, *, seed: int, mean_ties: float) -> Structure:
    """Draw explicit ties and groups; solve ``lambda`` and ``q`` for ``mean_ties`` rows/member."""
    rng = np.random.default_rng([seed, 1])
    ex_from, ex_to, ex_kind, ex_recip = _explicit_ties(pop, rng)
    fixed = float(household_kin_rows(pop) + len(ex_from))
    x = np.arange(pop.n_households, dtype=np.int64)
    lattice_pairs = sum(int(neighbour_pairs(pop, seed, x, d).sum()) for d in range(1, 5))
    fixed += lattice_pairs * (1.0 + m.RECIPROCAL_SHARE[m.NEIGHBOUR])
    target = max(0.0, mean_ties * pop.n - fixed)
    # about 2 * 3 ring partners per membership, kept with q ~ 0.6, 1.5 rows per tie, shared by two
    g_start, g_members, g_kind, g_nb, g_template = _groups(pop, rng, target / 2.7)
    size = np.diff(g_start)
    rows_per_pair = 1.0 + m.RECIPROCAL_SHARE[m.GROUP_TIE_KIND[g_kind]]
    capacity = float((size * ring_reach(size) * rows_per_pair).sum())
    q = min(1.0, target / capacity) if capacity > 0 else 0.0
    order = np.argsort(g_members, kind="stable")
    m_ptr = np.searchsorted(g_members[order], np.arange(pop.n + 1)).astype(np.int64)
    return Structure(
        ex_from=ex_from,
        ex_to=ex_to,
        ex_kind=ex_kind,
        ex_recip=ex_recip,
        g_start=g_start,
        g_members=g_members,
        g_kind=g_kind,
        g_nb=g_nb,
        g_template=g_template,
        m_ptr=m_ptr,
        m_slot=order.astype(np.int64),
        group_keep=q,
        expected_rows=fixed + q * capacity,
    )
