"""Request dependencies: the database session (one transaction per request), the caller, and the
organisation context that every tenant route goes through (the one authorization check)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from commonweal.auth import service as auth_service
from commonweal.auth.models import BrowserSession, Role, User
from commonweal.auth.policy import Permission, allowed
from commonweal.clock import SYSTEM_CLOCK, Clock
from commonweal.db.engine import transaction
from commonweal.errors import AuthenticationError, NotFoundError, PermissionDeniedError
from commonweal.settings import Settings

__all__ = [
    "client_address",
    "clock_of",
    "COOKIE",
    "Caller",
    "CallerDep",
    "OrgContext",
    "SessionDep",
    "get_caller",
    "get_optional_caller",
    "get_session",
    "require",
]

COOKIE = "cw_session"
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def get_session(request: Request) -> Iterator[Session]:
    with transaction(request.app.state.session_factory) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def clock_of(request: Request) -> Clock:
    """The application's clock (``app.state.clock``; tests install a :class:`FakeClock`)."""
    clock: Clock = getattr(request.app.state, "clock", None) or SYSTEM_CLOCK
    return clock


def client_address(request: Request) -> str | None:
    """The peer's address as the server sees it (behind a proxy, run uvicorn with
    ``--proxy-headers`` and ``--forwarded-allow-ips`` so this is the real client)."""
    return request.client.host if request.client else None


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@dataclass
class Caller:
    user: User
    browser_session: BrowserSession | None  # None when authenticated by API token


def _resolve(request: Request, session: Session) -> Caller | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        user = auth_service.user_for_api_token(session, auth[7:].strip())
        if user is None:
            raise AuthenticationError("invalid or expired API token")
        return Caller(user, None)
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    found = auth_service.user_for_session(session, token)
    if found is None:
        return None
    user, bs = found
    if request.method in _UNSAFE:
        sent = request.headers.get("x-csrf-token") or getattr(request.state, "form_csrf", None)
        if not sent or not secrets.compare_digest(sent, bs.csrf_token):
            raise PermissionDeniedError(
                "missing or wrong CSRF token for a cookie-authenticated change"
            )
    return Caller(user, bs)


def get_optional_caller(request: Request, session: SessionDep) -> Caller | None:
    return _resolve(request, session)


def get_caller(request: Request, session: SessionDep) -> Caller:
    caller = _resolve(request, session)
    if caller is None:
        raise AuthenticationError(
            "log in first (session cookie or 'Authorization: Bearer <token>')"
        )
    return caller


CallerDep = Annotated[Caller, Depends(get_caller)]


@dataclass
class OrgContext:
    """Everything a tenant route needs: session, caller, organisation and role, and an audit hook."""

    session: Session
    caller: Caller
    organisation_id: int
    role: Role
    settings: Settings
    _granted: frozenset[Permission] = field(default_factory=frozenset)

    @property
    def user_id(self) -> int:
        return self.caller.user.id

    def can(self, permission: Permission) -> bool:
        return allowed(self.role, permission)

    def audit(
        self,
        action: str,
        entity: str,
        ids: Sequence[int | str] = (),
        fields: Sequence[str] = (),
        detail: str | None = None,
    ) -> None:
        auth_service.audit(
            self.session,
            organisation_id=self.organisation_id,
            user_id=self.user_id,
            action=action,
            entity=entity,
            entity_ids=ids,
            fields=fields,
            detail=detail,
        )


def require(permission: Permission) -> Callable[..., OrgContext]:
    """Dependency factory: the caller must hold ``permission`` in the path's ``org_id``.

    A caller with no role in the organisation gets 404 (we do not confirm it exists); a caller with
    a role that lacks the permission gets 403.
    """

    def dependency(
        org_id: int, request: Request, session: SessionDep, caller: CallerDep
    ) -> OrgContext:
        role = auth_service.role_in(session, user_id=caller.user.id, organisation_id=org_id)
        if role is None:
            raise NotFoundError(f"no organisation {org_id}")
        if not allowed(role, permission):
            raise PermissionDeniedError(f"your role ({role}) does not allow {permission}")
        return OrgContext(session, caller, org_id, role, get_settings(request))

    return dependency
