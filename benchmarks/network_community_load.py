"""Benchmark: loading a stored community's support network from the database.

A community of 100k members and 1M registry ties (random support masks, so about 2.5M typed ties)
in a SQLite file. We time :func:`commonweal.networks.service.community_graph` (member ids, then
``from, to, support_mask, strength`` straight from the DBAPI cursor into NumPy, one typed tie per
support bit) against what a user of the ORM would otherwise write in the same run: load ``Tie``
objects with ``session.scalars(select(Tie))`` and build the same graph from their attributes.
Both give the same graph (checked). Medians of 3 runs (ORM once: it is slow). The last line is
one JSON object.

Usage: ``python benchmarks/network_community_load.py [--quick]`` (quick: 10k members / 100k ties).
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sqlalchemy import insert, select

from commonweal.analytics.networks import SUPPORT_TYPES, from_arrays
from commonweal.db.engine import make_engine, make_session_factory, transaction
from commonweal.db.models import Base
from commonweal.networks.service import community_graph
from commonweal.registry import service as reg
from commonweal.registry.models import Member, Tie
from commonweal.registry.schemas import CommunityCreate
from commonweal.registry.vocab import SUPPORT_BITS


def build(path: Path, n: int, m: int) -> tuple[object, int, int]:
    engine = make_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    factory = make_session_factory(engine)
    rng = np.random.default_rng(1)
    with transaction(factory) as s:
        org = reg.create_organisation(s, name="Bench")
        c = reg.create_community(s, organisation_id=org.id, data=CommunityCreate(name="big"))
        org_id, cid = org.id, c.id
        s.execute(insert(Member), [
            {"organisation_id": org_id, "community_id": cid, "external_id": f"p{i}",
             "display_name": f"Person {i}", "languages": [], "attributes": {}}
            for i in range(n)])
        ids = np.asarray(s.scalars(select(Member.id).where(Member.community_id == cid)
                                   .order_by(Member.id)).all())
        a = rng.integers(0, n, size=int(m * 1.2))
        b = rng.integers(0, n, size=a.size)
        keep = a != b
        key = np.unique(a[keep].astype(np.int64) * n + b[keep])[:m]
        rng.shuffle(key)
        fa, fb = ids[key // n], ids[key % n]
        masks = rng.integers(0, 32, size=key.size)
        strength = rng.integers(0, 6, size=key.size)
        rows = [{"organisation_id": org_id, "community_id": cid, "from_member_id": int(x),
                 "to_member_id": int(y), "kind": "friend", "support_mask": int(k),
                 "strength": int(w) or None, "reciprocal": False, "source": "self_report"}
                for x, y, k, w in zip(fa, fb, masks, strength, strict=True)]
        for lo in range(0, len(rows), 100_000):
            s.execute(insert(Tie), rows[lo:lo + 100_000])
    return factory, org_id, cid


def orm_graph(session, org_id: int, cid: int):  # type: ignore[no-untyped-def]
    """What a user would write: ORM objects, Python loops over their attributes."""
    members = session.scalars(select(Member).where(Member.community_id == cid)).all()
    index = {m.id: i for i, m in enumerate(sorted(members, key=lambda m: m.id))}
    src, dst, kind, weight = [], [], [], []
    for t in session.scalars(select(Tie).where(Tie.organisation_id == org_id,
                                               Tie.community_id == cid)):
        types = [SUPPORT_TYPES.index(st.value) for st, bit in SUPPORT_BITS.items()
                 if t.support_mask & bit] or [SUPPORT_TYPES.index("unspecified")]
        for k in types:
            src.append(index[t.from_member_id])
            dst.append(index[t.to_member_id])
            kind.append(k)
            weight.append(float(t.strength or 1))
    ids = [str(m) for m in sorted(index)]
    return from_arrays(src, dst, kind, weight, n=len(ids), ids=ids)


def main() -> None:
    quick = "--quick" in sys.argv
    n, m = (10_000, 100_000) if quick else (100_000, 1_000_000)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        factory, org_id, cid = build(Path(tmp) / "bench.db", n, m)
        print(f"built {n} members / {m} ties in {time.perf_counter() - t0:.1f} s")
        ours = []
        for _ in range(3):
            with transaction(factory) as s:  # type: ignore[arg-type]
                t0 = time.perf_counter()
                g = community_graph(s, organisation_id=org_id, community_id=cid)
                ours.append(time.perf_counter() - t0)
        print(f"ours (arrays): median {statistics.median(ours):.2f} s  runs {ours}")
        with transaction(factory) as s:  # type: ignore[arg-type]
            t0 = time.perf_counter()
            g2 = orm_graph(s, org_id, cid)
            orm = time.perf_counter() - t0
        print(f"ORM objects:  {orm:.2f} s")
        same = (g.n == g2.n and g.n_ties == g2.n_ties and np.array_equal(g.src, g2.src)
                and np.array_equal(g.dst, g2.dst) and np.array_equal(g.kind, g2.kind)
                and np.array_equal(g.weight, g2.weight))
        print(f"same graph: {same}; typed ties {g.n_ties}; ratio {orm / statistics.median(ours):.1f}x")
        print(json.dumps({"benchmark": "network_community_load", "members": n, "registry_ties": m,
                          "typed_ties": g.n_ties, "ours_median_s": round(statistics.median(ours), 3),
                          "orm_s": round(orm, 3),
                          "speedup": round(orm / statistics.median(ours), 1), "same_graph": same}))


if __name__ == "__main__":
    main()
