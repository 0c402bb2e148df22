"""Importing ties from network files (GraphML, plain edge lists, SNAP-style lists, the Karnataka
CSVs) through the network readers of :mod:`commonweal.analytics.networks.io`.

People named in the file who are not yet members are added (``display_name`` = their id), so no tie
is lost. All typed ties of one ordered pair become ONE tie of the chosen kind carrying the union of
their support types (``unspecified`` adds none). Runs in the caller's transaction: all or nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from commonweal.registry.importer import ImportReport, member_id_map, tie_id_map, upsert_rows
from commonweal.registry.models import Member, Tie
from commonweal.registry.service import get_community_or_raise
from commonweal.registry.vocab import SUPPORT_BITS, SupportType, TieKind, TieSource

if TYPE_CHECKING:
    from commonweal.analytics.networks.graph import SupportGraph

__all__ = ["import_support_graph"]


def import_support_graph(
    session: Session,
    *,
    organisation_id: int,
    community_id: int,
    graph: SupportGraph,
    label: str,
    kind: TieKind = TieKind.other,
    source: TieSource = TieSource.self_report,
) -> ImportReport:
    from commonweal.analytics.networks.kinds import SUPPORT_TYPES

    get_community_or_raise(session, organisation_id=organisation_id, community_id=community_id)
    known = member_id_map(session, community_id=community_id)
    people = [str(x) for x in graph.ids]
    new_people = [
        {
            "organisation_id": organisation_id,
            "community_id": community_id,
            "external_id": p,
            "display_name": p,
            "attributes": {"added_from": label},
            "languages": [],
        }
        for p in people
        if p not in known
    ]
    created_m, _ = upsert_rows(session, Member, new_people, known, lambda r: r["external_id"])
    ids = member_id_map(session, community_id=community_id)
    bit_of = {
        code: SUPPORT_BITS[SupportType(name)]
        for code, name in enumerate(SUPPORT_TYPES)
        if name in SupportType.__members__
    }
    masks: dict[tuple[int, int], int] = {}
    for s, d, k in zip(graph.src.tolist(), graph.dst.tolist(), graph.kind.tolist(), strict=True):
        key = (ids[people[s]], ids[people[d]])
        masks[key] = masks.get(key, 0) | bit_of.get(k, 0)
    rows: list[dict[str, Any]] = [
        {
            "organisation_id": organisation_id,
            "community_id": community_id,
            "from_member_id": a,
            "to_member_id": b,
            "kind": kind,
            "support_mask": mask,
            "source": source,
            "reciprocal": (b, a) in masks,
        }
        for (a, b), mask in sorted(masks.items())
    ]
    existing = tie_id_map(session, community_id=community_id)
    created, updated = upsert_rows(
        session, Tie, rows, existing, lambda r: (r["from_member_id"], r["to_member_id"], r["kind"])
    )
    report = ImportReport("ties", label, created, updated, len(rows))
    report.notes = [
        f"{len(people)} people in the file, {created_m} added as new members",
        f"{len(rows)} ties (distinct ordered pairs); {graph.dropped_self_ties} self-ties dropped",
    ]
    return report
