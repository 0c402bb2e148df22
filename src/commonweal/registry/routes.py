"""Registry API: thin routes over the registry services. Every route goes through ``require``."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, UploadFile
from fastapi.responses import PlainTextResponse, Response

from commonweal.auth.policy import Permission
from commonweal.registry import export as export_service
from commonweal.registry import importer
from commonweal.registry import service as svc
from commonweal.registry.models import Member
from commonweal.registry.schemas import (
    AssetCreate,
    AssetRead,
    AssetUpdate,
    CommunityCreate,
    CommunityRead,
    ConsentCreate,
    ConsentRead,
    GroupCreate,
    GroupMemberRead,
    GroupRead,
    MemberCreate,
    MemberRead,
    MembershipCreate,
    MemberUpdate,
    Page,
    TieCreate,
    TieRead,
)
from commonweal.registry.views import asset_read, member_read, sensitive_fields_present, tie_read
from commonweal.registry.vocab import SupportType, TieKind
from commonweal.web.deps import OrgContext, require

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/orgs/{org_id}", tags=["registry"])

Read = Annotated[OrgContext, Depends(require(Permission.community_read))]
MembersRead = Annotated[OrgContext, Depends(require(Permission.member_read))]
Write = Annotated[OrgContext, Depends(require(Permission.registry_write))]
Export = Annotated[OrgContext, Depends(require(Permission.export))]
Erase = Annotated[OrgContext, Depends(require(Permission.member_erase))]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0)]


def _members_out(ctx: OrgContext, members: list[Member] | tuple[Member, ...]) -> list[MemberRead]:
    sensitive = ctx.can(Permission.sensitive_read)
    if sensitive and members:
        ctx.audit(
            "read_sensitive",
            "member",
            [m.id for m in members],
            sensitive_fields_present(list(members)),
        )
    return [member_read(m, sensitive=sensitive) for m in members]


# communities ---------------------------------------------------------------------------------------
@router.get("/communities", response_model=list[CommunityRead])
def list_communities(ctx: Read) -> list[CommunityRead]:
    return [
        CommunityRead.model_validate(c)
        for c in svc.list_communities(ctx.session, organisation_id=ctx.organisation_id)
    ]


@router.post("/communities", response_model=CommunityRead, status_code=201)
def create_community(body: CommunityCreate, ctx: Write) -> CommunityRead:
    c = svc.create_community(ctx.session, organisation_id=ctx.organisation_id, data=body)
    ctx.audit("create", "community", [c.id])
    return CommunityRead.model_validate(c)


@router.get("/communities/{community_id}")
def get_community(community_id: int, ctx: Read) -> dict[str, object]:
    c = svc.get_community_or_raise(
        ctx.session, organisation_id=ctx.organisation_id, community_id=community_id
    )
    counts = svc.community_counts(
        ctx.session, organisation_id=ctx.organisation_id, community_id=c.id
    )
    return {**CommunityRead.model_validate(c).model_dump(mode="json"), "counts": counts}


# members -------------------------------------------------------------------------------------------
@router.get("/communities/{community_id}/members", response_model=Page[MemberRead])
def list_members(
    community_id: int,
    ctx: MembersRead,
    q: str | None = None,
    household: str | None = None,
    lives_alone: bool | None = None,
    group_id: int | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[MemberRead]:
    svc.get_community_or_raise(
        ctx.session, organisation_id=ctx.organisation_id, community_id=community_id
    )
    rows, total = svc.list_members(
        ctx.session,
        organisation_id=ctx.organisation_id,
        community_id=community_id,
        q=q,
        household=household,
        lives_alone=lives_alone,
        group_id=group_id,
        limit=limit,
        offset=offset,
    )
    return Page(items=_members_out(ctx, tuple(rows)), total=total, limit=limit, offset=offset)


@router.post("/communities/{community_id}/members", response_model=MemberRead, status_code=201)
def create_member(community_id: int, body: MemberCreate, ctx: Write) -> MemberRead:
    m = svc.create_member(
        ctx.session, organisation_id=ctx.organisation_id, community_id=community_id, data=body
    )
    ctx.audit("create", "member", [m.id], list(body.model_fields_set))
    return member_read(m, sensitive=ctx.can(Permission.sensitive_read))


@router.get("/members/{member_id}", response_model=MemberRead)
def get_member(member_id: int, ctx: MembersRead) -> MemberRead:
    m = svc.get_member_or_raise(
        ctx.session, organisation_id=ctx.organisation_id, member_id=member_id
    )
    return _members_out(ctx, (m,))[0]


@router.patch("/members/{member_id}", response_model=MemberRead)
def update_member(member_id: int, body: MemberUpdate, ctx: Write) -> MemberRead:
    m = svc.update_member(
        ctx.session, organisation_id=ctx.organisation_id, member_id=member_id, data=body
    )
    ctx.audit("update", "member", [m.id], sorted(body.model_fields_set))
    return member_read(m, sensitive=ctx.can(Permission.sensitive_read))


@router.delete("/members/{member_id}", status_code=200)
def erase_member(member_id: int, ctx: Erase) -> dict[str, object]:
    from commonweal.members import erase_member_everywhere

    counts = erase_member_everywhere(
        ctx.session, organisation_id=ctx.organisation_id, member_id=member_id
    )
    ctx.audit("erase", "member", [member_id], detail=f"rows removed: {counts}")
    return {"erased": member_id, "removed": counts}


@router.get("/members/{member_id}/export")
def export_member(member_id: int, ctx: Export) -> dict[str, object]:
    from commonweal.members import export_member_everywhere

    doc = export_member_everywhere(
        ctx.session, organisation_id=ctx.organisation_id, member_id=member_id
    )
    ctx.audit("export", "member", [member_id], ["all"])
    return doc


@router.get("/members/{member_id}/consents", response_model=list[ConsentRead])
def member_consents(member_id: int, ctx: MembersRead) -> list[ConsentRead]:
    m = svc.get_member_or_raise(
        ctx.session, organisation_id=ctx.organisation_id, member_id=member_id
    )
    return [ConsentRead.model_validate(c) for c in m.consents]


@router.post("/members/{member_id}/consents", response_model=ConsentRead, status_code=201)
def record_consent(member_id: int, body: ConsentCreate, ctx: Write) -> ConsentRead:
    c = svc.record_consent(
        ctx.session,
        organisation_id=ctx.organisation_id,
        member_id=member_id,
        purpose=body.purpose,
        granted=body.granted,
        by_user_id=ctx.user_id,
    )
    ctx.audit("create", "consent", [c.id], ["purpose", "granted"])
    return ConsentRead.model_validate(c)


@router.get("/members/{member_id}/ties", response_model=Page[TieRead])
def member_ties(
    member_id: int,
    ctx: MembersRead,
    direction: Literal["in", "out", "both"] = "both",
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[TieRead]:
    svc.get_member_or_raise(ctx.session, organisation_id=ctx.organisation_id, member_id=member_id)
    rows, total = svc.list_ties(
        ctx.session,
        organisation_id=ctx.organisation_id,
        member_id=member_id,
        direction=direction,
        limit=limit,
        offset=offset,
    )
    return Page(items=[tie_read(*r) for r in rows], total=total, limit=limit, offset=offset)


@router.get("/members/{member_id}/groups")
def member_groups(member_id: int, ctx: MembersRead) -> list[dict[str, object]]:
    svc.get_member_or_raise(ctx.session, organisation_id=ctx.organisation_id, member_id=member_id)
    return [
        {"group_id": g.id, "name": g.name, "kind": str(g.kind), "role": r}
        for g, r in svc.member_groups(
            ctx.session, organisation_id=ctx.organisation_id, member_id=member_id
        )
    ]


# ties ----------------------------------------------------------------------------------------------
@router.get("/communities/{community_id}/ties", response_model=Page[TieRead])
def list_ties(
    community_id: int,
    ctx: MembersRead,
    kind: TieKind | None = None,
    support_type: SupportType | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[TieRead]:
    svc.get_community_or_raise(
        ctx.session, organisation_id=ctx.organisation_id, community_id=community_id
    )
    rows, total = svc.list_ties(
        ctx.session,
        organisation_id=ctx.organisation_id,
        community_id=community_id,
        kind=kind,
        support_type=support_type,
        limit=limit,
        offset=offset,
    )
    return Page(items=[tie_read(*r) for r in rows], total=total, limit=limit, offset=offset)


@router.post("/ties", response_model=TieRead, status_code=201)
def create_tie(body: TieCreate, ctx: Write) -> TieRead:
    t = svc.create_tie(ctx.session, organisation_id=ctx.organisation_id, data=body)
    ctx.audit("create", "tie", [t.id])
    return tie_read(t)


@router.delete("/ties/{tie_id}", status_code=204)
def delete_tie(tie_id: int, ctx: Write) -> Response:
    svc.delete_tie(ctx.session, organisation_id=ctx.organisation_id, tie_id=tie_id)
    ctx.audit("delete", "tie", [tie_id])
    return Response(status_code=204)


# groups --------------------------------------------------------------------------------------------
@router.get("/communities/{community_id}/groups", response_model=Page[GroupRead])
def list_groups(
    community_id: int, ctx: Read, limit: Limit = 50, offset: Offset = 0
) -> Page[GroupRead]:
    svc.get_community_or_raise(
        ctx.session, organisation_id=ctx.organisation_id, community_id=community_id
    )
    rows, total = svc.list_groups(
        ctx.session,
        organisation_id=ctx.organisation_id,
        community_id=community_id,
        limit=limit,
        offset=offset,
    )
    items = [GroupRead.model_validate(g).model_copy(update={"member_count": n}) for g, n in rows]
    return Page(items=items, total=total, limit=limit, offset=offset)


@router.post("/communities/{community_id}/groups", response_model=GroupRead, status_code=201)
def create_group(community_id: int, body: GroupCreate, ctx: Write) -> GroupRead:
    g = svc.create_group(
        ctx.session, organisation_id=ctx.organisation_id, community_id=community_id, data=body
    )
    ctx.audit("create", "group", [g.id])
    return GroupRead.model_validate(g)


@router.get("/groups/{group_id}", response_model=GroupRead)
def get_group(group_id: int, ctx: Read) -> GroupRead:
    return GroupRead.model_validate(
        svc.get_group_or_raise(ctx.session, organisation_id=ctx.organisation_id, group_id=group_id)
    )


@router.get("/groups/{group_id}/members", response_model=list[GroupMemberRead])
def group_members(group_id: int, ctx: MembersRead) -> list[GroupMemberRead]:
    return [
        GroupMemberRead(member_id=m.id, display_name=m.display_name, role=gm.role)
        for gm, m in svc.group_members(
            ctx.session, organisation_id=ctx.organisation_id, group_id=group_id
        )
    ]


@router.post("/groups/{group_id}/members", status_code=201)
def add_group_member(group_id: int, body: MembershipCreate, ctx: Write) -> dict[str, object]:
    gm = svc.add_membership(
        ctx.session,
        organisation_id=ctx.organisation_id,
        group_id=group_id,
        member_id=body.member_id,
        role=body.role,
    )
    ctx.audit("create", "group_membership", [gm.id])
    return {"group_id": group_id, "member_id": body.member_id, "role": gm.role}


@router.delete("/groups/{group_id}/members/{member_id}", status_code=204)
def remove_group_member(group_id: int, member_id: int, ctx: Write) -> Response:
    svc.remove_membership(
        ctx.session, organisation_id=ctx.organisation_id, group_id=group_id, member_id=member_id
    )
    ctx.audit("delete", "group_membership", [group_id, member_id])
    return Response(status_code=204)


# assets --------------------------------------------------------------------------------------------
@router.get("/communities/{community_id}/assets", response_model=Page[AssetRead])
def list_assets(
    community_id: int,
    ctx: Read,
    kind: str | None = None,
    tangible: bool | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[AssetRead]:
    svc.get_community_or_raise(
        ctx.session, organisation_id=ctx.organisation_id, community_id=community_id
    )
    rows, total = svc.list_assets(
        ctx.session,
        organisation_id=ctx.organisation_id,
        community_id=community_id,
        kind=kind,
        tangible=tangible,
        limit=limit,
        offset=offset,
    )
    sens = ctx.can(Permission.sensitive_read)
    return Page(
        items=[asset_read(a, sensitive=sens) for a in rows], total=total, limit=limit, offset=offset
    )


@router.post("/communities/{community_id}/assets", response_model=AssetRead, status_code=201)
def create_asset(community_id: int, body: AssetCreate, ctx: Write) -> AssetRead:
    a = svc.create_asset(
        ctx.session, organisation_id=ctx.organisation_id, community_id=community_id, data=body
    )
    ctx.audit("create", "asset", [a.id])
    return asset_read(a, sensitive=True)


@router.get("/assets/{asset_id}", response_model=AssetRead)
def get_asset(asset_id: int, ctx: Read) -> AssetRead:
    a = svc.get_asset_or_raise(ctx.session, organisation_id=ctx.organisation_id, asset_id=asset_id)
    return asset_read(a, sensitive=ctx.can(Permission.sensitive_read))


@router.patch("/assets/{asset_id}", response_model=AssetRead)
def update_asset(asset_id: int, body: AssetUpdate, ctx: Write) -> AssetRead:
    a = svc.update_asset(
        ctx.session, organisation_id=ctx.organisation_id, asset_id=asset_id, data=body
    )
    ctx.audit("update", "asset", [a.id], sorted(body.model_fields_set))
    return asset_read(a, sensitive=True)


@router.delete("/assets/{asset_id}", status_code=204)
def delete_asset(asset_id: int, ctx: Write) -> Response:
    svc.delete_asset(ctx.session, organisation_id=ctx.organisation_id, asset_id=asset_id)
    ctx.audit("delete", "asset", [asset_id])
    return Response(status_code=204)


# import / export -----------------------------------------------------------------------------------
_IMPORTERS = {
    "members": importer.import_members,
    "ties": importer.import_ties,
    "groups": importer.import_groups,
    "assets": importer.import_assets,
}


@router.post("/communities/{community_id}/import/{entity}")
def import_file(
    community_id: int,
    entity: Literal["members", "ties", "groups", "assets"],
    file: UploadFile,
    ctx: Write,
) -> dict[str, object]:
    report = _IMPORTERS[entity](
        ctx.session,
        organisation_id=ctx.organisation_id,
        community_id=community_id,
        source=file.file,
        label=file.filename or f"{entity}.csv",
    )
    ctx.audit(
        "import",
        entity,
        [community_id],
        detail=f"{report.created} created, {report.updated} updated from {report.file}",
    )
    return report.to_dict()


@router.get("/communities/{community_id}/export")
def export_community(community_id: int, ctx: Export) -> dict[str, object]:
    doc = export_service.export_community(
        ctx.session, organisation_id=ctx.organisation_id, community_id=community_id
    )
    ctx.audit("export", "community", [community_id], ["all"])
    return doc


@router.get("/communities/{community_id}/export/{name}")
def export_file(
    community_id: int,
    name: Literal[
        "members.csv", "ties.csv", "groups.csv", "assets.csv", "ties.graphml", "ties.txt"
    ],
    ctx: Export,
) -> PlainTextResponse:
    kw = {"organisation_id": ctx.organisation_id, "community_id": community_id}
    if name == "ties.graphml":
        body, media = export_service.export_ties_graphml(ctx.session, **kw), "application/xml"
    elif name == "ties.txt":
        body, media = export_service.export_ties_edgelist(ctx.session, **kw), "text/plain"
    else:
        body = export_service.export_csv(ctx.session, entity=name.removesuffix(".csv"), **kw)
        media = "text/csv"
    ctx.audit("export", name.split(".")[0], [community_id], ["all"])
    return PlainTextResponse(
        body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
