"""Auth API: log in and out, who am I, API tokens, organisations, role grants, the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from commonweal.auth import service as auth_service
from commonweal.auth.models import Role, RoleGrant, User
from commonweal.auth.policy import Permission
from commonweal.errors import NotFoundError
from commonweal.registry import service as registry_service
from commonweal.web.deps import (
    COOKIE,
    CallerDep,
    OrgContext,
    SessionDep,
    client_address,
    clock_of,
    require,
)

__all__ = ["router", "set_session_cookie"]

router = APIRouter(prefix="/api/v1", tags=["auth"])


class LoginIn(BaseModel):
    email: str
    password: str


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    days: int | None = Field(default=90, ge=1, le=3650)


class OrgIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class GrantIn(BaseModel):
    email: str
    role: Role


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    settings = request.app.state.settings
    response.set_cookie(
        COOKIE,
        token,
        max_age=settings.session_max_age_seconds,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )


def _me(session: SessionDep, user: User) -> dict[str, object]:
    grants = auth_service.roles_of(session, user_id=user.id)
    orgs = {
        o.id: o
        for o in registry_service.list_organisations(session, [g.organisation_id for g in grants])
    }
    return {
        "id": user.id,
        "email": user.email,
        "display_name": user.display_name,
        "organisations": [
            {"id": g.organisation_id, "name": orgs[g.organisation_id].name, "role": str(g.role)}
            for g in grants
            if g.organisation_id in orgs
        ],
    }


@router.post("/auth/login")
def login(
    body: LoginIn, request: Request, response: Response, session: SessionDep
) -> dict[str, object]:
    user = auth_service.authenticate_throttled(
        session, email=body.email, password=body.password, client=client_address(request),
        now=clock_of(request).now(), secret=request.app.state.settings.secret_key)
    token, bs = auth_service.create_browser_session(
        session, user_id=user.id, max_age_seconds=request.app.state.settings.session_max_age_seconds
    )
    set_session_cookie(request, response, token)
    auth_service.audit(
        session,
        organisation_id=None,
        user_id=user.id,
        action="login",
        entity="user",
        entity_ids=[user.id],
    )
    return {**_me(session, user), "csrf_token": bs.csrf_token}


@router.post("/auth/logout", status_code=204)
def logout(request: Request, caller: CallerDep, session: SessionDep) -> Response:
    token = request.cookies.get(COOKIE)
    if token:
        auth_service.end_browser_session(session, token)
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/auth/me")
def me(caller: CallerDep, session: SessionDep) -> dict[str, object]:
    return _me(session, caller.user)


@router.post("/auth/tokens", status_code=201)
def create_token(body: TokenIn, caller: CallerDep, session: SessionDep) -> dict[str, object]:
    token, row = auth_service.create_api_token(
        session, user_id=caller.user.id, name=body.name, days=body.days
    )
    auth_service.audit(
        session,
        organisation_id=None,
        user_id=caller.user.id,
        action="create",
        entity="api_token",
        entity_ids=[row.id],
    )
    return {
        "token": token,
        "name": row.name,
        "expires_at": row.expires_at,
        "note": "shown once: store it now",
    }


@router.get("/orgs")
def my_organisations(caller: CallerDep, session: SessionDep) -> list[dict[str, object]]:
    return _me(session, caller.user)["organisations"]  # type: ignore[return-value]


@router.post("/orgs", status_code=201)
def create_organisation(body: OrgIn, caller: CallerDep, session: SessionDep) -> dict[str, object]:
    org = registry_service.create_organisation(session, name=body.name)
    auth_service.grant_role(
        session, user_id=caller.user.id, organisation_id=org.id, role=Role.admin
    )
    auth_service.audit(
        session,
        organisation_id=org.id,
        user_id=caller.user.id,
        action="create",
        entity="organisation",
        entity_ids=[org.id],
    )
    return {"id": org.id, "name": org.name, "slug": org.slug, "role": "admin"}


Admin = Annotated[OrgContext, Depends(require(Permission.users_manage))]
Auditor = Annotated[OrgContext, Depends(require(Permission.audit_read))]


@router.get("/orgs/{org_id}/roles")
def list_roles(ctx: Admin) -> list[dict[str, object]]:
    rows = ctx.session.execute(
        select(RoleGrant, User)
        .join(User, User.id == RoleGrant.user_id)
        .where(RoleGrant.organisation_id == ctx.organisation_id)
        .order_by(User.email)
    ).all()
    return [
        {"user_id": u.id, "email": u.email, "display_name": u.display_name, "role": str(g.role)}
        for g, u in rows
    ]


@router.post("/orgs/{org_id}/roles", status_code=201)
def grant(body: GrantIn, ctx: Admin) -> dict[str, object]:
    user = ctx.session.scalar(select(User).where(User.email == body.email.strip().lower()))
    if user is None:
        raise NotFoundError(f"no user with email {body.email}")
    auth_service.grant_role(
        ctx.session, user_id=user.id, organisation_id=ctx.organisation_id, role=body.role
    )
    ctx.audit("grant", "role", [user.id], ["role"], detail=str(body.role))
    return {"user_id": user.id, "role": str(body.role)}


@router.get("/orgs/{org_id}/audit")
def audit_log(
    ctx: Auditor,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, object]:
    rows, total = auth_service.list_audit(
        ctx.session, organisation_id=ctx.organisation_id, limit=limit, offset=offset
    )
    return {
        "total": total,
        "limit": limit,
        "offset": offset,
        "items": [
            {
                "at": r.at,
                "user_id": r.user_id,
                "action": r.action,
                "entity": r.entity,
                "entity_ids": r.entity_ids,
                "count": r.count,
                "fields": r.fields,
                "detail": r.detail,
            }
            for r in rows
        ],
    }
