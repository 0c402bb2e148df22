"""Exports: a whole community as JSON, members/ties/groups/assets as CSV in the import formats
(round-trip), ties as GraphML or a plain edge list, and one member's complete record."""

from __future__ import annotations

import csv
import io
from typing import Any
from xml.sax.saxutils import escape

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from commonweal.registry.models import Asset, Consent, Group, GroupMembership, Member, Tie
from commonweal.registry.service import (
    current_consents,
    get_community_or_raise,
    get_member_or_raise,
    member_groups,
)
from commonweal.registry.vocab import ConsentPurpose, mask_to_support

__all__ = [
    "export_community",
    "export_csv",
    "export_member",
    "export_ties_edgelist",
    "export_ties_graphml",
]

_MEMBER_FIELDS = (
    "external_id",
    "display_name",
    "phone",
    "email",
    "languages",
    "birth_year",
    "household",
    "lives_alone",
    "lat",
    "lon",
    "location_precision",
    "notes",
)


def _member_dict(m: Member) -> dict[str, Any]:
    d = {f: getattr(m, f) for f in _MEMBER_FIELDS}
    d["location_precision"] = str(m.location_precision)
    d["attributes"] = dict(m.attributes or {})
    d["consents"] = {str(p): c.granted for p, c in current_consents(m).items()}
    return d


def _tie_rows(session: Session, community_id: int) -> list[dict[str, Any]]:
    a, b = aliased(Member), aliased(Member)
    rows = session.execute(
        select(Tie, a.external_id, b.external_id)
        .join(a, a.id == Tie.from_member_id)
        .join(b, b.id == Tie.to_member_id)
        .where(Tie.community_id == community_id)
        .order_by(Tie.id)
    ).all()
    return [
        {
            "from_id": fa,
            "to_id": fb,
            "kind": str(t.kind),
            "support_types": [str(s) for s in mask_to_support(t.support_mask)],
            "strength": t.strength,
            "reciprocal": t.reciprocal,
            "since": t.since.isoformat() if t.since else None,
            "source": str(t.source),
        }
        for t, fa, fb in rows
    ]


def _groups(session: Session, community_id: int) -> list[dict[str, Any]]:
    out = []
    for g in session.scalars(
        select(Group).where(Group.community_id == community_id).order_by(Group.external_id)
    ):
        members = session.execute(
            select(Member.external_id, GroupMembership.role)
            .join(GroupMembership, GroupMembership.member_id == Member.id)
            .where(GroupMembership.group_id == g.id)
            .order_by(Member.external_id)
        ).all()
        out.append(
            {
                "external_id": g.external_id,
                "name": g.name,
                "kind": str(g.kind),
                "description": g.description,
                "members": [{"member": e, "role": r} for e, r in members],
            }
        )
    return out


def _assets(session: Session, community_id: int) -> list[dict[str, Any]]:
    steward = aliased(Member)
    rows = session.execute(
        select(Asset, steward.external_id)
        .outerjoin(steward, steward.id == Asset.steward_member_id)
        .where(Asset.community_id == community_id)
        .order_by(Asset.external_id)
    ).all()
    return [
        {
            "external_id": a.external_id,
            "name": a.name,
            "tangible": a.tangible,
            "kind": str(a.kind),
            "steward_member": s,
            "steward_org": a.steward_org,
            "lat": a.lat,
            "lon": a.lon,
            "capacity": a.capacity,
            "availability": a.availability,
            "condition": str(a.condition),
            "notes": a.notes,
        }
        for a, s in rows
    ]


def export_community(
    session: Session, *, organisation_id: int, community_id: int
) -> dict[str, Any]:
    """Everything about a community as one JSON-ready document (contains sensitive fields)."""
    c = get_community_or_raise(session, organisation_id=organisation_id, community_id=community_id)
    members = session.scalars(
        select(Member).where(Member.community_id == c.id).order_by(Member.external_id)
    ).all()
    return {
        "format": "commonweal-community/1",
        "community": {"name": c.name, "kind": str(c.kind), "description": c.description},
        "members": [_member_dict(m) for m in members],
        "ties": _tie_rows(session, c.id),
        "groups": _groups(session, c.id),
        "assets": _assets(session, c.id),
    }


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return ";".join(str(x) for x in v)
    return str(v)


def export_csv(session: Session, *, organisation_id: int, community_id: int, entity: str) -> str:
    """One entity as CSV in exactly the import format (docs/formats.md), so files round-trip."""
    doc = export_community(session, organisation_id=organisation_id, community_id=community_id)
    rows: list[dict[str, Any]]
    if entity == "members":
        attr_keys = sorted({k for m in doc["members"] for k in m["attributes"]})
        rows = []
        for m in doc["members"]:
            r = {f: m[f] for f in _MEMBER_FIELDS}
            for p in ConsentPurpose:
                r[f"consent_{p.value}"] = m["consents"].get(p.value)
            for k in attr_keys:
                r[f"attr_{k}"] = m["attributes"].get(k)
            rows.append(r)
        header = [
            *_MEMBER_FIELDS,
            *(f"consent_{p.value}" for p in ConsentPurpose),
            *(f"attr_{k}" for k in attr_keys),
        ]
    elif entity == "ties":
        rows = doc["ties"]
        header = [
            "from_id",
            "to_id",
            "kind",
            "support_types",
            "strength",
            "reciprocal",
            "since",
            "source",
        ]
    elif entity == "groups":
        rows = [
            {**g, "members": [f"{x['member']}:{x['role']}" for x in g["members"]]}
            for g in doc["groups"]
        ]
        header = ["external_id", "name", "kind", "description", "members"]
    elif entity == "assets":
        rows = doc["assets"]
        header = [
            "external_id",
            "name",
            "tangible",
            "kind",
            "steward_member",
            "steward_org",
            "lat",
            "lon",
            "capacity",
            "availability",
            "condition",
            "notes",
        ]
    else:
        from commonweal.errors import InputError

        raise InputError(f"cannot export {entity!r}: choose members, ties, groups or assets")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow([_cell(r.get(h)) for h in header])
    return buf.getvalue()


def export_ties_edgelist(session: Session, *, organisation_id: int, community_id: int) -> str:
    """Plain edge list: ``from_id to_id`` per line (whitespace-separated, as SNAP and networkx read)."""
    get_community_or_raise(session, organisation_id=organisation_id, community_id=community_id)
    return "".join(f"{t['from_id']} {t['to_id']}\n" for t in _tie_rows(session, community_id))


def export_ties_graphml(session: Session, *, organisation_id: int, community_id: int) -> str:
    """GraphML (directed): nodes are members (id = external_id), edges are ties with attributes."""
    c = get_community_or_raise(session, organisation_id=organisation_id, community_id=community_id)
    members = session.execute(
        select(Member.external_id, Member.display_name)
        .where(Member.community_id == c.id)
        .order_by(Member.external_id)
    ).all()
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">',
        '<key id="name" for="node" attr.name="name" attr.type="string"/>',
        '<key id="kind" for="edge" attr.name="kind" attr.type="string"/>',
        '<key id="support_types" for="edge" attr.name="support_types" attr.type="string"/>',
        '<key id="strength" for="edge" attr.name="strength" attr.type="int"/>',
        '<key id="reciprocal" for="edge" attr.name="reciprocal" attr.type="boolean"/>',
        f'<graph id="{escape(c.name, {chr(34): "&quot;"})}" edgedefault="directed">',
    ]
    q = {'"': "&quot;"}
    for ext, name in members:
        out.append(f'<node id="{escape(ext, q)}"><data key="name">{escape(name)}</data></node>')
    for t in _tie_rows(session, c.id):
        data = [
            f'<data key="kind">{t["kind"]}</data>',
            f'<data key="support_types">{";".join(t["support_types"])}</data>',
            f'<data key="reciprocal">{"true" if t["reciprocal"] else "false"}</data>',
        ]
        if t["strength"] is not None:
            data.append(f'<data key="strength">{t["strength"]}</data>')
        out.append(
            f'<edge source="{escape(t["from_id"], q)}" target="{escape(t["to_id"], q)}">'
            + "".join(data)
            + "</edge>"
        )
    out += ["</graph>", "</graphml>"]
    return "\n".join(out) + "\n"


def export_member(session: Session, *, organisation_id: int, member_id: int) -> dict[str, Any]:
    """Everything commonweal holds about one person (a subject-access export)."""
    m = get_member_or_raise(session, organisation_id=organisation_id, member_id=member_id)
    a, b = aliased(Member), aliased(Member)
    ties = session.execute(
        select(Tie, a.external_id, b.external_id)
        .join(a, a.id == Tie.from_member_id)
        .join(b, b.id == Tie.to_member_id)
        .where((Tie.from_member_id == m.id) | (Tie.to_member_id == m.id))
    ).all()
    consents = session.scalars(
        select(Consent).where(Consent.member_id == m.id).order_by(Consent.recorded_at)
    ).all()
    return {
        "format": "commonweal-member/1",
        "member": _member_dict(m),
        "consent_history": [
            {
                "purpose": str(c.purpose),
                "granted": c.granted,
                "recorded_at": c.recorded_at.isoformat(),
            }
            for c in consents
        ],
        "ties": [
            {
                "from_id": fa,
                "to_id": fb,
                "kind": str(t.kind),
                "support_types": [str(s) for s in mask_to_support(t.support_mask)],
            }
            for t, fa, fb in ties
        ],
        "groups": [
            {"name": g.name, "role": r}
            for g, r in member_groups(session, organisation_id=organisation_id, member_id=m.id)
        ],
    }
