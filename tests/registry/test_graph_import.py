"""Ties from network files: counts equal networkx's reading of the same file; GraphML round-trips."""

from __future__ import annotations

import networkx as nx
from sqlalchemy import func, select

from commonweal.analytics.networks.io import read_graphml, read_network
from commonweal.db.engine import transaction
from commonweal.registry import export
from commonweal.registry import service as reg
from commonweal.registry.graph_import import import_support_graph
from commonweal.registry.models import Member, Tie
from commonweal.registry.schemas import CommunityCreate
from tests.helpers import shared_data


def _community(s, org_id: int, name: str) -> int:
    return reg.create_community(s, organisation_id=org_id, data=CommunityCreate(name=name)).id


def test_koster_graphml_counts_match_networkx(db, tmp_path) -> None:
    path = shared_data("networks", "koster_arang_dak", "tangible_support.graphml")
    g = nx.read_graphml(path)  # outside reference: networkx's GraphML reader
    expected_pairs = {(a, b) for a, b in g.edges() if a != b}
    if not g.is_directed():
        expected_pairs |= {(b, a) for a, b in expected_pairs}
    with transaction(db) as s:
        org = reg.create_organisation(s, name="Koster")
        cid = _community(s, org.id, "Arang Dak")
        import_support_graph(
            s, organisation_id=org.id, community_id=cid, graph=read_network(path), label=path.name
        )
        assert s.scalar(select(func.count()).select_from(Tie)) == len(expected_pairs)
        assert s.scalar(select(func.count()).select_from(Member)) == g.number_of_nodes()
        # Round trip: export GraphML, import into a new community, same ties.
        out = tmp_path / "ties.graphml"
        out.write_text(export.export_ties_graphml(s, organisation_id=org.id, community_id=cid))
        cid2 = _community(s, org.id, "Copy")
        import_support_graph(
            s, organisation_id=org.id, community_id=cid2, graph=read_graphml(out), label=out.name
        )

        def ties(c: int) -> list[str]:
            return sorted(
                export.export_ties_edgelist(s, organisation_id=org.id, community_id=c).splitlines()
            )

        assert ties(cid2) == ties(cid)


def test_edge_list_with_self_ties(db) -> None:
    path = shared_data("networks", "bangladesh_village", "cash_support_edges.csv")
    lines = path.read_text(encoding="utf-8-sig").splitlines()[1:]
    rows = [tuple(line.split(",")) for line in lines if line.strip()]
    expected = {p for p in rows if p[0] != p[1]}
    self_rows = sum(1 for p in rows if p[0] == p[1])
    with transaction(db) as s:
        org = reg.create_organisation(s, name="Bangladesh")
        cid = _community(s, org.id, "Village")
        rep = import_support_graph(
            s, organisation_id=org.id, community_id=cid, graph=read_network(path), label=path.name
        )
        assert s.scalar(select(func.count()).select_from(Tie)) == len(expected)
        assert f"{self_rows} self-ties dropped" in " ".join(rep.notes)
