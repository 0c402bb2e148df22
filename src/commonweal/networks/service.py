"""The support network of a stored community: load it fast, profile it, ask what-if questions.

``community_graph`` reads the community's members and ties with two plain Core statements (member
ids; then ``from, to, support_mask, strength`` of every tie) straight into NumPy arrays -- no ORM
object per tie -- and builds the analytics :class:`~commonweal.analytics.networks.SupportGraph`
whose external ids are the member ids as strings. One registry tie carrying several support types
becomes one typed tie per type; a tie with no support type is ``unspecified``. The tie weight is
its strength (1-5), 1.0 when unknown.

Profiles are cached per process keyed by a fingerprint of the stored network (counts, largest ids
and last update of members and ties), so the summary, member, curve and layout routes of one page
share one computation, and any change to the network gives a fresh one.
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commonweal.analytics.networks.kinds import SUPPORT_TYPES
from commonweal.errors import InputError
from commonweal.registry.models import Member, Tie
from commonweal.registry.service import get_community_or_raise, member_names
from commonweal.registry.vocab import SUPPORT_BITS

if TYPE_CHECKING:  # the analytics (SciPy, polars, NetworKit) load on first use, not at start-up
    from commonweal.analytics.networks import NetworkProfile, SupportGraph, WhatIf

__all__ = [
    "FLAGS",
    "community_graph",
    "community_profile",
    "external_ids",
    "member_names",
    "member_rows",
    "whatif_add",
    "whatif_remove",
]

FLAGS: dict[str, str] = {
    "isolated": "no one to turn to",
    "single_contact": "only one person to turn to",
    "dependent_on_one": "one person gives every kind of support they get",
    "articulation_point": "single point of failure: others are cut off if they leave",
    "overloaded": "many people lean on them",
}
"""The member flags the routes filter on, with the words the page uses."""

_CACHE: OrderedDict[tuple[Any, ...], NetworkProfile] = OrderedDict()
_CACHE_SIZE = 4
_LOCK = threading.Lock()


def _rows(session: Session, stmt: Any) -> list[tuple[Any, ...]]:
    """All rows of a Core statement as plain DBAPI tuples (no Row objects)."""
    result = session.connection().execute(stmt)
    rows = cast(list[tuple[Any, ...]],
                result.cursor.fetchall() if result.cursor is not None else [])
    result.close()
    return rows


def _int_matrix(rows: list[tuple[Any, ...]], width: int) -> npt.NDArray[np.int64]:
    flat = np.fromiter(itertools.chain.from_iterable(rows), dtype=np.int64,
                       count=len(rows) * width)
    return flat.reshape(len(rows), width)


def community_graph(session: Session, *, organisation_id: int, community_id: int) -> SupportGraph:
    """The community's support network as a :class:`SupportGraph` (ids = member ids as strings).

    Everyone in the community is a person of the graph, with or without ties. A tie
    ``from -> to`` means "from turns to to". Ties whose ends are not both members of the community
    are left out and counted in ``graph.attrs["ties_outside"]``.

    Raises
    ------
    NotFoundError
        No such community in this organisation.
    """
    from commonweal.analytics.networks.graph import from_arrays
    get_community_or_raise(session, organisation_id=organisation_id, community_id=community_id)
    session.flush()
    people = _rows(session, select(Member.id).where(
        Member.organisation_id == organisation_id, Member.community_id == community_id,
    ).order_by(Member.id))
    member_ids = _int_matrix(people, 1).ravel()
    ties = _rows(session, select(
        Tie.from_member_id, Tie.to_member_id, Tie.support_mask, func.coalesce(Tie.strength, 0),
    ).where(Tie.organisation_id == organisation_id, Tie.community_id == community_id))
    t = _int_matrix(ties, 4)
    n = member_ids.size
    s = np.searchsorted(member_ids, t[:, 0]) if n else np.zeros(len(ties), dtype=np.int64)
    d = np.searchsorted(member_ids, t[:, 1]) if n else np.zeros(len(ties), dtype=np.int64)
    inside = (s < n) & (d < n)
    inside[inside] &= (member_ids[s[inside]] == t[inside, 0]) & (member_ids[d[inside]] == t[inside, 1])
    s, d, mask, strength = s[inside], d[inside], t[inside, 2], t[inside, 3]
    weight = np.where(strength > 0, strength, 1).astype(np.float64)
    parts_s, parts_d, parts_k, parts_w = [], [], [], []
    for support, bit in SUPPORT_BITS.items():
        has = (mask & bit) != 0
        parts_s.append(s[has])
        parts_d.append(d[has])
        parts_k.append(np.full(int(has.sum()), SUPPORT_TYPES.index(support.value), np.uint8))
        parts_w.append(weight[has])
    none = mask == 0
    parts_s.append(s[none])
    parts_d.append(d[none])
    parts_k.append(np.full(int(none.sum()), SUPPORT_TYPES.index("unspecified"), np.uint8))
    parts_w.append(weight[none])
    graph = from_arrays(np.concatenate(parts_s), np.concatenate(parts_d),
                        np.concatenate(parts_k), np.concatenate(parts_w),
                        n=n, ids=member_ids.astype(str))
    graph.attrs["ties_outside"] = int((~inside).sum())
    graph.attrs["registry_ties"] = int(inside.sum())
    return graph


def _fingerprint(session: Session, organisation_id: int, community_id: int) -> tuple[Any, ...]:
    m = session.connection().execute(select(
        func.count(Member.id), func.max(Member.id), func.max(Member.updated_at),
    ).where(Member.organisation_id == organisation_id,
            Member.community_id == community_id)).one()
    t = session.connection().execute(select(
        func.count(Tie.id), func.max(Tie.id), func.max(Tie.updated_at),
    ).where(Tie.organisation_id == organisation_id, Tie.community_id == community_id)).one()
    engine = session.connection().engine
    return (str(engine.url), id(engine), organisation_id, community_id, *m, *t)


def community_profile(session: Session, *, organisation_id: int, community_id: int,
                      seed: int = 0, cache: bool = True, **options: Any) -> NetworkProfile:
    """:func:`~commonweal.analytics.networks.profile_network` of a stored community.

    ``options`` go to ``profile_network`` (orders, brokerage, rules, ...). With ``cache`` the
    profile is reused while the stored network is unchanged (same fingerprint, same options).
    """
    from commonweal.analytics.networks.summary import profile_network
    get_community_or_raise(session, organisation_id=organisation_id, community_id=community_id)
    session.flush()
    key = (*_fingerprint(session, organisation_id, community_id), seed,
           tuple(sorted((k, repr(v)) for k, v in options.items())))
    if cache:
        with _LOCK:
            hit = _CACHE.get(key)
            if hit is not None:
                _CACHE.move_to_end(key)
                return hit
    graph = community_graph(session, organisation_id=organisation_id, community_id=community_id)
    profile = profile_network(graph, seed=seed, **options)
    if cache:
        with _LOCK:
            _CACHE[key] = profile
            while len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
    return profile


@dataclass(frozen=True)
class MemberRows:
    """One page of the per-member profile."""

    items: list[dict[str, Any]]
    total: int


_ORDER = {
    "articulation_point": [("cut_off", True), ("n_dependents", True)],
    "overloaded": [("n_dependents", True)],
}


def member_rows(profile: NetworkProfile, *, flag: str | None = None, limit: int = 50,
                offset: int = 0) -> MemberRows:
    """Members of the profile, optionally only those with ``flag`` (one of :data:`FLAGS`).

    Rows carry ``member_id`` (int) and the measures; the most at-risk come first (for single
    points of failure: most people cut off first).
    """
    import polars as pl
    m = profile.members
    if flag is not None:
        if flag not in FLAGS:
            raise InputError(f"unknown flag {flag!r}; use one of {', '.join(FLAGS)}")
        m = m.filter(pl.col(flag))
    m = m.with_columns(pl.col("id").cast(pl.Int64).alias("member_id"))
    order = _ORDER.get(flag or "", [])
    if order:
        m = m.sort([c for c, _ in order] + ["member_id"],
                   descending=[d for _, d in order] + [False])
    else:
        m = m.sort("member_id")
    total = m.height
    page = m.slice(offset, limit)
    keep = ["member_id", "n_supporters", "n_dependents", "n_kinds_received", "isolated",
            "single_contact", "dependent_on_one", "main_supporter", "overloaded",
            "articulation_point", "cut_off", "component", "in_main_body", "core", "betweenness",
            "community", "bonding_ties", "bridging_ties", "reach_2"]
    rows = page.select([c for c in keep if c in page.columns]).to_dicts()
    for r in rows:
        ms = r.get("main_supporter")
        r["main_supporter"] = int(ms) if ms not in (None, "") else None
    return MemberRows(rows, total)


def _graph_for(session: Session, organisation_id: int, community_id: int) -> SupportGraph:
    """The community's graph: from a cached profile of the unchanged network, else loaded."""
    get_community_or_raise(session, organisation_id=organisation_id, community_id=community_id)
    session.flush()
    fp = _fingerprint(session, organisation_id, community_id)
    with _LOCK:
        for key, profile in _CACHE.items():
            if key[:len(fp)] == fp:
                return profile.graph
    return community_graph(session, organisation_id=organisation_id, community_id=community_id)


def _member_strs(graph: SupportGraph, ids: Sequence[int]) -> list[str]:
    out = [str(int(x)) for x in ids]
    graph.internal(out)  # unknown or other-community ids raise InputError
    return out


def whatif_remove(session: Session, *, organisation_id: int, community_id: int,
                  member_ids: Sequence[int], seed: int = 0) -> WhatIf:
    """What if these members left? (Nothing is written.) Ids in the result are member ids."""
    from commonweal.analytics.networks.whatif import remove_members
    if not member_ids:
        raise InputError("name at least one member to remove")
    graph = _graph_for(session, organisation_id, community_id)
    return remove_members(graph, _member_strs(graph, member_ids), seed=seed)


def whatif_add(session: Session, *, organisation_id: int, community_id: int,
               ties: Sequence[tuple[int, int]], kinds: Sequence[str] | None = None,
               seed: int = 0) -> WhatIf:
    """What if these ties were made (``from`` turns to ``to``)? (Nothing is written.)"""
    from commonweal.analytics.networks.whatif import add_ties
    if not ties:
        raise InputError("give at least one tie to add")
    graph = _graph_for(session, organisation_id, community_id)
    f = _member_strs(graph, [a for a, _ in ties])
    t = _member_strs(graph, [b for _, b in ties])
    if any(a == b for a, b in zip(f, t, strict=True)):
        raise InputError("a tie joins two different members")
    return add_ties(graph, f, t, kinds, seed=seed)


def external_ids(session: Session, *, organisation_id: int, community_id: int) -> dict[int, str]:
    """Member id -> the member's external id (the id of the source register) in one community."""
    return {int(i): str(e) for i, e in _rows(session, select(Member.id, Member.external_id).where(
        Member.organisation_id == organisation_id, Member.community_id == community_id))}
