"""A stored community's network equals the library's profile of the same files, and both equal
networkx (outside reference: networkx 3.x connected_components, articulation_points, bridges and
out-degrees, on a graph built with the csv module straight from the Karnataka files)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from sqlalchemy import func, select

from commonweal.analytics.networks import profile_network, read_karnataka_village
from commonweal.db.engine import transaction
from commonweal.errors import InputError, NotFoundError
from commonweal.networks import service
from commonweal.registry.models import Tie
from tests.networks._village import networkx_reference, store_village


def test_stored_village_profile_and_whatif_equal_files_and_networkx(db) -> None:
    v = store_village(db)
    with transaction(db) as s:
        g = service.community_graph(s, organisation_id=v.org_id, community_id=v.community_id)
        p = service.community_profile(s, organisation_id=v.org_id, community_id=v.community_id,
                                      cache=False)
    lib = profile_network(read_karnataka_village(v.edges, v.meta))
    directed, und = networkx_reference(v.edges, v.meta)
    # the same people and the same typed ties, whichever way they came in
    assert g.n == lib.graph.n == directed.number_of_nodes()
    assert g.n_ties == lib.graph.n_ties
    assert g.n_edges == lib.graph.n_edges == und.number_of_edges()
    assert {v.pid_of[int(x)] for x in g.ids} == set(lib.graph.ids.tolist())

    def pids(profile, column: str) -> set[str]:
        m = profile.members
        ids = m.filter(m[column])["id"].to_list()
        return {v.pid_of[int(x)] for x in ids} if profile is p else set(ids)

    # components (networkx: number_connected_components; main body = largest component)
    assert p.summary.n_components == lib.summary.n_components
    assert p.summary.n_components == nx.number_connected_components(und)
    main = max(nx.connected_components(und), key=len)
    assert pids(p, "in_main_body") == pids(lib, "in_main_body") == set(main)
    # single points of failure (networkx: articulation_points, bridges)
    assert pids(p, "articulation_point") == pids(lib, "articulation_point")
    assert pids(p, "articulation_point") == set(nx.articulation_points(und))
    ours = {frozenset((v.pid_of[int(a)], v.pid_of[int(b)]))
            for a, b in zip(p.bridges["u"], p.bridges["v"], strict=True)}
    assert ours == {frozenset(e) for e in zip(lib.bridges["u"], lib.bridges["v"], strict=True)}
    assert ours == {frozenset(e) for e in nx.bridges(und)}
    # isolated = no one to turn to; single contact = exactly one (networkx out-degree)
    out = dict(directed.out_degree())
    assert pids(p, "isolated") == pids(lib, "isolated") == {k for k, d in out.items() if d == 0}
    assert pids(p, "single_contact") == pids(lib, "single_contact") == {
        k for k, d in out.items() if d == 1}
    assert p.summary.share_isolated == lib.summary.share_isolated
    assert p.summary.robustness_index == pytest.approx(lib.summary.robustness_index)

    # what if the person who would cut off most people left: exactly whom networkx disconnects
    with transaction(db) as s:
        top = service.member_rows(p, flag="articulation_point", limit=2).items
        gone = [top[0]["member_id"]]
        w = service.whatif_remove(s, organisation_id=v.org_id, community_id=v.community_id,
                                  member_ids=gone)
        n_ties = s.scalar(select(func.count()).select_from(Tie))
    leaver = v.pid_of[gone[0]]
    rest = und.subgraph(main - {leaver})
    kept = max(nx.connected_components(rest), key=len)
    expected_cut = main - {leaver} - kept
    assert {v.pid_of[int(x)] for x in w.cut_off} == expected_cut
    assert len(expected_cut) == top[0]["cut_off"] > 0
    # newly isolated: everyone they turned to has gone
    expected_iso = {k for k in directed if k != leaver and directed.out_degree(k) > 0
                    and set(directed.successors(k)) <= {leaver}}
    assert {v.pid_of[int(x)] for x in w.newly_isolated} == expected_iso
    assert w.main_body_before == len(main) and w.main_body_after == len(kept)
    with transaction(db) as s:  # nothing written
        assert s.scalar(select(func.count()).select_from(Tie)) == n_ties


def test_support_mask_becomes_typed_ties_and_unspecified(world) -> None:
    # build_world: a0 -> a1 (emotional + practical), a2 -> a0 (practical)
    from commonweal.registry import service as reg
    from commonweal.registry.schemas import TieCreate

    with transaction(world.factory) as s:
        reg.create_tie(s, organisation_id=world.org_a, data=TieCreate(
            from_member_id=world.members_a["a1"], to_member_id=world.members_a["a2"],
            kind="kin", support_types=[]))
        g = service.community_graph(s, organisation_id=world.org_a,
                                    community_id=world.community_a)
    frame = g.to_frame().sort(["from_id", "to_id", "support_type"])
    a = {str(v): k for k, v in world.members_a.items()}
    got = [(a[f], a[t], k) for f, t, k in frame.select("from_id", "to_id", "support_type").rows()]
    assert sorted(got) == sorted([("a0", "a1", "emotional"), ("a0", "a1", "practical"),
                                  ("a2", "a0", "practical"), ("a1", "a2", "unspecified")])
    assert set(g.ids.tolist()) == {str(x) for x in world.members_a.values()}
    assert np.all(g.weight[g.src == g.index[str(world.members_a["a0"])]] == 4.0)  # strength 4


def test_other_organisation_and_bad_ids_are_refused(world) -> None:
    with transaction(world.factory) as s:
        with pytest.raises(NotFoundError):
            service.community_graph(s, organisation_id=world.org_b,
                                    community_id=world.community_a)
        with pytest.raises(InputError):  # a member of organisation B is not in A's community
            service.whatif_remove(s, organisation_id=world.org_a,
                                  community_id=world.community_a,
                                  member_ids=[world.members_b["b0"]])
        with pytest.raises(InputError):
            service.member_rows(service.community_profile(
                s, organisation_id=world.org_a, community_id=world.community_a), flag="lonely")


def test_profile_cache_sees_changes(world) -> None:
    from commonweal.registry import service as reg
    from commonweal.registry.schemas import TieCreate

    with transaction(world.factory) as s:
        before = service.community_profile(s, organisation_id=world.org_a,
                                           community_id=world.community_a)
        again = service.community_profile(s, organisation_id=world.org_a,
                                          community_id=world.community_a)
        assert again is before
        reg.create_tie(s, organisation_id=world.org_a, data=TieCreate(
            from_member_id=world.members_a["a1"], to_member_id=world.members_a["a2"],
            kind="kin", support_types=["emotional"]))
        after = service.community_profile(s, organisation_id=world.org_a,
                                          community_id=world.community_a)
    assert after is not before
    assert before.summary.share_isolated == pytest.approx(1 / 3)  # a1 turns to no one
    assert after.summary.share_isolated == 0.0
