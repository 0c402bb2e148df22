"""Registry services. Keyword-only, session first, and every query scoped to an organisation.

``get_x`` returns ``X | None``; ``get_x_or_raise`` raises :class:`NotFoundError`, also when the object
exists in another organisation (we never reveal which).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from commonweal.errors import ConflictError, InputError, NotFoundError
from commonweal.registry.models import (
    Asset,
    Community,
    Consent,
    Group,
    GroupMembership,
    Member,
    Organisation,
    Tie,
)
from commonweal.registry.schemas import (
    AssetCreate,
    AssetUpdate,
    CommunityCreate,
    GroupCreate,
    MemberCreate,
    MemberUpdate,
    TieCreate,
)
from commonweal.registry.vocab import ConsentPurpose, SupportType, TieKind, support_to_mask

__all__ = [
    "add_membership",
    "community_counts",
    "create_asset",
    "create_community",
    "create_group",
    "create_member",
    "create_organisation",
    "create_tie",
    "current_consents",
    "delete_asset",
    "delete_tie",
    "erase_member",
    "get_asset_or_raise",
    "get_community",
    "get_community_by_name",
    "get_community_or_raise",
    "get_group_or_raise",
    "get_member_or_raise",
    "get_organisation",
    "get_organisation_by_slug",
    "get_tie_or_raise",
    "group_members",
    "list_assets",
    "list_communities",
    "list_groups",
    "list_members",
    "list_organisations",
    "list_ties",
    "member_groups",
    "newest_members",
    "paginate",
    "record_consent",
    "rowcount",
    "remove_membership",
    "slugify",
    "update_asset",
    "update_member",
]


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:80] or "org"


T = TypeVar("T")


def paginate(
    session: Session, query: Select[T], *, limit: int, offset: int
) -> tuple[Sequence[T], int]:
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    return session.scalars(query.limit(limit).offset(offset)).all(), total


def rowcount(result: Any) -> int:
    """Rows a DELETE/UPDATE touched (CursorResult.rowcount; typed loosely by SQLAlchemy)."""
    return int(result.rowcount)


def _flush_or_conflict(session: Session, what: str) -> None:
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise ConflictError(f"{what} conflicts with an existing record") from exc


# --- organisations and communities ---------------------------------------------------------------


def create_organisation(session: Session, *, name: str, slug: str | None = None) -> Organisation:
    org = Organisation(name=name.strip(), slug=slug or slugify(name))
    session.add(org)
    _flush_or_conflict(session, f"organisation {name!r}")
    return org


def get_organisation(session: Session, organisation_id: int) -> Organisation | None:
    return session.get(Organisation, organisation_id)


def get_organisation_by_slug(session: Session, slug: str) -> Organisation | None:
    return session.scalar(select(Organisation).where(Organisation.slug == slug))


def list_organisations(session: Session, ids: Sequence[int]) -> Sequence[Organisation]:
    return session.scalars(
        select(Organisation).where(Organisation.id.in_(ids)).order_by(Organisation.name)
    ).all()


def create_community(session: Session, *, organisation_id: int, data: CommunityCreate) -> Community:
    c = Community(organisation_id=organisation_id, **data.model_dump())
    session.add(c)
    _flush_or_conflict(session, f"community {data.name!r}")
    return c


def list_communities(session: Session, *, organisation_id: int) -> Sequence[Community]:
    return session.scalars(
        select(Community)
        .where(Community.organisation_id == organisation_id)
        .order_by(Community.name)
    ).all()


def get_community(session: Session, *, organisation_id: int, community_id: int) -> Community | None:
    c = session.get(Community, community_id)
    return c if c is not None and c.organisation_id == organisation_id else None


def get_community_or_raise(
    session: Session, *, organisation_id: int, community_id: int
) -> Community:
    c = get_community(session, organisation_id=organisation_id, community_id=community_id)
    if c is None:
        raise NotFoundError(f"no community {community_id}")
    return c


def get_community_by_name(session: Session, *, organisation_id: int, name: str) -> Community | None:
    return session.scalar(
        select(Community).where(
            Community.organisation_id == organisation_id, Community.name == name
        )
    )


def community_counts(
    session: Session, *, organisation_id: int, community_id: int
) -> dict[str, int]:
    def count(model: Any) -> int:
        return (
            session.scalar(
                select(func.count())
                .select_from(model)
                .where(model.organisation_id == organisation_id, model.community_id == community_id)
            )
            or 0
        )

    return {
        "members": count(Member),
        "ties": count(Tie),
        "groups": count(Group),
        "assets": count(Asset),
        "living_alone": session.scalar(
            select(func.count())
            .select_from(Member)
            .where(
                Member.organisation_id == organisation_id,
                Member.community_id == community_id,
                Member.lives_alone.is_(True),
            )
        )
        or 0,
    }


def newest_members(
    session: Session, *, organisation_id: int, community_id: int, limit: int = 10
) -> Sequence[Member]:
    return session.scalars(
        select(Member)
        .where(Member.organisation_id == organisation_id, Member.community_id == community_id)
        .order_by(Member.updated_at.desc(), Member.id.desc())
        .limit(limit)
    ).all()


# --- members -------------------------------------------------------------------------------------


def member_names(session: Session, *, organisation_id: int,
                 member_ids: Sequence[int]) -> dict[int, str]:
    """Display names of these members (of this organisation only; others are left out)."""
    out: dict[int, str] = {}
    ids = sorted({int(x) for x in member_ids})
    for lo in range(0, len(ids), 900):  # stay under SQLite's bound-parameter limit
        chunk = ids[lo:lo + 900]
        for mid, name in session.execute(select(Member.id, Member.display_name).where(
                Member.organisation_id == organisation_id, Member.id.in_(chunk))):
            out[int(mid)] = str(name)
    return out


def create_member(
    session: Session, *, organisation_id: int, community_id: int, data: MemberCreate
) -> Member:
    get_community_or_raise(session, organisation_id=organisation_id, community_id=community_id)
    m = Member(organisation_id=organisation_id, community_id=community_id, **data.model_dump())
    session.add(m)
    _flush_or_conflict(session, f"member external_id {data.external_id!r}")
    return m


def get_member_or_raise(session: Session, *, organisation_id: int, member_id: int) -> Member:
    m = session.get(Member, member_id)
    if m is None or m.organisation_id != organisation_id:
        raise NotFoundError(f"no member {member_id}")
    return m


def update_member(
    session: Session, *, organisation_id: int, member_id: int, data: MemberUpdate
) -> Member:
    m = get_member_or_raise(session, organisation_id=organisation_id, member_id=member_id)
    changes = data.model_dump(exclude_unset=True)
    for key, value in changes.items():
        setattr(m, key, value)
    if (m.lat is None) != (m.lon is None):
        raise InputError("lat and lon must be given together")
    session.flush()
    return m


def list_members(
    session: Session,
    *,
    organisation_id: int,
    community_id: int | None = None,
    q: str | None = None,
    household: str | None = None,
    lives_alone: bool | None = None,
    group_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[Sequence[Member], int]:
    query = select(Member).where(Member.organisation_id == organisation_id)
    if community_id is not None:
        query = query.where(Member.community_id == community_id)
    if q:
        like = f"%{q.lower()}%"
        query = query.where(
            or_(
                func.lower(Member.display_name).like(like),
                func.lower(Member.external_id).like(like),
            )
        )
    if household is not None:
        query = query.where(Member.household == household)
    if lives_alone is not None:
        query = query.where(Member.lives_alone.is_(lives_alone))
    if group_id is not None:
        query = query.join(GroupMembership, GroupMembership.member_id == Member.id).where(
            GroupMembership.group_id == group_id
        )
    return paginate(
        session, query.order_by(Member.display_name, Member.id), limit=limit, offset=offset
    )


def erase_member(session: Session, *, organisation_id: int, member_id: int) -> dict[str, int]:
    """Erase a member completely: profile, consents, ties both ways, memberships; stewardship cleared.

    Returns the counts of rows removed. The caller audits the erasure (ids only). On SQLite,
    ``secure_delete`` overwrites the freed pages.
    """
    m = get_member_or_raise(session, organisation_id=organisation_id, member_id=member_id)
    counts = {
        "ties": rowcount(
            session.execute(
                delete(Tie).where(or_(Tie.from_member_id == m.id, Tie.to_member_id == m.id))
            )
        ),
        "memberships": rowcount(
            session.execute(delete(GroupMembership).where(GroupMembership.member_id == m.id))
        ),
        "consents": rowcount(session.execute(delete(Consent).where(Consent.member_id == m.id))),
    }
    for asset in session.scalars(select(Asset).where(Asset.steward_member_id == m.id)):
        asset.steward_member_id = None
    session.delete(m)
    session.flush()
    counts["members"] = 1
    return counts


def record_consent(
    session: Session,
    *,
    organisation_id: int,
    member_id: int,
    purpose: ConsentPurpose,
    granted: bool,
    by_user_id: int | None,
) -> Consent:
    get_member_or_raise(session, organisation_id=organisation_id, member_id=member_id)
    c = Consent(
        organisation_id=organisation_id,
        member_id=member_id,
        purpose=purpose,
        granted=granted,
        recorded_by_user_id=by_user_id,
    )
    session.add(c)
    session.flush()
    return c


def current_consents(member: Member) -> dict[ConsentPurpose, Consent]:
    latest: dict[ConsentPurpose, Consent] = {}
    for c in member.consents:  # ordered by recorded_at
        latest[c.purpose] = c
    return latest


# --- groups --------------------------------------------------------------------------------------


def create_group(
    session: Session, *, organisation_id: int, community_id: int, data: GroupCreate
) -> Group:
    get_community_or_raise(session, organisation_id=organisation_id, community_id=community_id)
    g = Group(organisation_id=organisation_id, community_id=community_id, **data.model_dump())
    session.add(g)
    _flush_or_conflict(session, f"group external_id {data.external_id!r}")
    return g


def get_group_or_raise(session: Session, *, organisation_id: int, group_id: int) -> Group:
    g = session.get(Group, group_id)
    if g is None or g.organisation_id != organisation_id:
        raise NotFoundError(f"no group {group_id}")
    return g


def list_groups(
    session: Session,
    *,
    organisation_id: int,
    community_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[tuple[Group, int]], int]:
    counts = (
        select(GroupMembership.group_id, func.count().label("n"))
        .group_by(GroupMembership.group_id)
        .subquery()
    )
    query = (
        select(Group, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.group_id == Group.id)
        .where(Group.organisation_id == organisation_id)
    )
    if community_id is not None:
        query = query.where(Group.community_id == community_id)
    total = (
        session.scalar(
            select(func.count())
            .select_from(Group)
            .where(
                Group.organisation_id == organisation_id,
                *([Group.community_id == community_id] if community_id is not None else []),
            )
        )
        or 0
    )
    rows = session.execute(query.order_by(Group.name).limit(limit).offset(offset)).all()
    return [(g, int(n)) for g, n in rows], total


def add_membership(
    session: Session, *, organisation_id: int, group_id: int, member_id: int, role: str = "member"
) -> GroupMembership:
    g = get_group_or_raise(session, organisation_id=organisation_id, group_id=group_id)
    m = get_member_or_raise(session, organisation_id=organisation_id, member_id=member_id)
    if m.community_id != g.community_id:
        raise InputError("member and group belong to different communities")
    gm = GroupMembership(organisation_id=organisation_id, group_id=g.id, member_id=m.id, role=role)
    session.add(gm)
    _flush_or_conflict(session, "membership")
    return gm


def remove_membership(
    session: Session, *, organisation_id: int, group_id: int, member_id: int
) -> None:
    get_group_or_raise(session, organisation_id=organisation_id, group_id=group_id)
    n = rowcount(
        session.execute(
            delete(GroupMembership).where(
                GroupMembership.group_id == group_id,
                GroupMembership.member_id == member_id,
                GroupMembership.organisation_id == organisation_id,
            )
        )
    )
    if not n:
        raise NotFoundError(f"member {member_id} is not in group {group_id}")


def group_members(
    session: Session, *, organisation_id: int, group_id: int
) -> list[tuple[GroupMembership, Member]]:
    get_group_or_raise(session, organisation_id=organisation_id, group_id=group_id)
    rows = session.execute(
        select(GroupMembership, Member)
        .join(Member, Member.id == GroupMembership.member_id)
        .where(GroupMembership.group_id == group_id)
        .order_by(Member.display_name)
    ).all()
    return [(gm, m) for gm, m in rows]


def member_groups(
    session: Session, *, organisation_id: int, member_id: int
) -> list[tuple[Group, str]]:
    rows = session.execute(
        select(Group, GroupMembership.role)
        .join(GroupMembership, GroupMembership.group_id == Group.id)
        .where(GroupMembership.member_id == member_id, Group.organisation_id == organisation_id)
        .order_by(Group.name)
    ).all()
    return [(g, r) for g, r in rows]


# --- ties ----------------------------------------------------------------------------------------


def create_tie(session: Session, *, organisation_id: int, data: TieCreate) -> Tie:
    a = get_member_or_raise(session, organisation_id=organisation_id, member_id=data.from_member_id)
    b = get_member_or_raise(session, organisation_id=organisation_id, member_id=data.to_member_id)
    if a.community_id != b.community_id:
        raise InputError("a tie joins two members of the same community")
    fields = data.model_dump(exclude={"support_types"})
    t = Tie(
        organisation_id=organisation_id,
        community_id=a.community_id,
        support_mask=support_to_mask(data.support_types),
        **fields,
    )
    session.add(t)
    _flush_or_conflict(session, f"a {data.kind} tie from {a.id} to {b.id}")
    return t


def get_tie_or_raise(session: Session, *, organisation_id: int, tie_id: int) -> Tie:
    t = session.get(Tie, tie_id)
    if t is None or t.organisation_id != organisation_id:
        raise NotFoundError(f"no tie {tie_id}")
    return t


def delete_tie(session: Session, *, organisation_id: int, tie_id: int) -> None:
    session.delete(get_tie_or_raise(session, organisation_id=organisation_id, tie_id=tie_id))
    session.flush()


def list_ties(
    session: Session,
    *,
    organisation_id: int,
    community_id: int | None = None,
    member_id: int | None = None,
    direction: str = "both",
    kind: TieKind | None = None,
    support_type: SupportType | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[tuple[Tie, str, str]], int]:
    """Ties with both endpoint names. ``direction`` is ``out`` (member turns to), ``in`` or ``both``."""
    a, b = aliased(Member), aliased(Member)
    query = (
        select(Tie, a.display_name, b.display_name)
        .join(a, a.id == Tie.from_member_id)
        .join(b, b.id == Tie.to_member_id)
        .where(Tie.organisation_id == organisation_id)
    )
    if community_id is not None:
        query = query.where(Tie.community_id == community_id)
    if member_id is not None:
        if direction == "out":
            query = query.where(Tie.from_member_id == member_id)
        elif direction == "in":
            query = query.where(Tie.to_member_id == member_id)
        elif direction == "both":
            query = query.where(or_(Tie.from_member_id == member_id, Tie.to_member_id == member_id))
        else:
            raise InputError(f"direction must be out, in or both, not {direction!r}")
    if kind is not None:
        query = query.where(Tie.kind == kind)
    if support_type is not None:
        query = query.where(Tie.support_mask.op("&")(support_to_mask([support_type])) != 0)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = session.execute(query.order_by(Tie.id).limit(limit).offset(offset)).all()
    return [(t, fa, fb) for t, fa, fb in rows], total


# --- assets --------------------------------------------------------------------------------------


def create_asset(
    session: Session, *, organisation_id: int, community_id: int, data: AssetCreate
) -> Asset:
    get_community_or_raise(session, organisation_id=organisation_id, community_id=community_id)
    if data.steward_member_id is not None:
        get_member_or_raise(
            session, organisation_id=organisation_id, member_id=data.steward_member_id
        )
    a = Asset(organisation_id=organisation_id, community_id=community_id, **data.model_dump())
    session.add(a)
    _flush_or_conflict(session, f"asset external_id {data.external_id!r}")
    return a


def get_asset_or_raise(session: Session, *, organisation_id: int, asset_id: int) -> Asset:
    a = session.get(Asset, asset_id)
    if a is None or a.organisation_id != organisation_id:
        raise NotFoundError(f"no asset {asset_id}")
    return a


def update_asset(
    session: Session, *, organisation_id: int, asset_id: int, data: AssetUpdate
) -> Asset:
    a = get_asset_or_raise(session, organisation_id=organisation_id, asset_id=asset_id)
    changes = data.model_dump(exclude_unset=True)
    if changes.get("steward_member_id") is not None:
        get_member_or_raise(
            session, organisation_id=organisation_id, member_id=changes["steward_member_id"]
        )
    for key, value in changes.items():
        setattr(a, key, value)
    session.flush()
    return a


def delete_asset(session: Session, *, organisation_id: int, asset_id: int) -> None:
    session.delete(get_asset_or_raise(session, organisation_id=organisation_id, asset_id=asset_id))
    session.flush()


def list_assets(
    session: Session,
    *,
    organisation_id: int,
    community_id: int | None = None,
    kind: str | None = None,
    tangible: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[Sequence[Asset], int]:
    query = select(Asset).where(Asset.organisation_id == organisation_id)
    if community_id is not None:
        query = query.where(Asset.community_id == community_id)
    if kind is not None:
        query = query.where(Asset.kind == kind)
    if tangible is not None:
        query = query.where(Asset.tangible.is_(tangible))
    return paginate(session, query.order_by(Asset.name, Asset.id), limit=limit, offset=offset)
