"""What every HTML page shares: the template environment, the top bar (who is logged in, the
organisation/community switcher), safe redirects, pagination, form CSRF, and security headers."""

from __future__ import annotations

import datetime as dt
import functools
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, Form, Request
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session
from starlette.responses import Response

from commonweal import __version__
from commonweal.auth import service as auth_service
from commonweal.auth.models import Role
from commonweal.auth.policy import Permission, allowed
from commonweal.errors import AuthenticationError, PermissionDeniedError
from commonweal.registry import service as registry_service
from commonweal.web.deps import COOKIE, Caller, OrgContext, SessionDep, require

__all__ = [
    "PAGE_SIZE",
    "SECURITY_HEADERS",
    "CommunityReader",
    "FormCaller",
    "MemberReader",
    "Pager",
    "Shell",
    "SwitcherOrg",
    "build_shell",
    "first_community",
    "form_caller",
    "is_partial",
    "make_templates",
    "render",
    "safe_next",
    "shell_for",
]

HERE = Path(__file__).parent
TEMPLATES_DIR = HERE / "templates"
PAGE_SIZE = 50

# Pages: read the community (counts, groups, assets) / read members (names, profiles, ties).
CommunityReader = Annotated[OrgContext, Depends(require(Permission.community_read))]
MemberReader = Annotated[OrgContext, Depends(require(Permission.member_read))]

# Everything a page loads comes from this server; nothing inline, nothing from elsewhere.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # pages show personal data: never keep them in a shared cache or the back-forward cache on disk
    "Cache-Control": "no-store",
}


def _when(value: dt.datetime | dt.date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%d %b %Y, %H:%M UTC")
    return value.strftime("%d %b %Y")


def _label(value: object) -> str:
    """``peer_support`` -> ``peer support`` (enum values shown to people)."""
    return str(value).replace("_", " ")


def _labels(values: Iterable[object]) -> str:
    return ", ".join(_label(v) for v in values)


def _count_of(n: int, noun: str) -> str:
    """``3|count_of("group")`` -> ``3 groups``; ``1`` -> ``1 group``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


@functools.cache
def make_templates() -> Jinja2Templates:
    """The page templates. One environment per process: compiled templates are shared by apps."""
    templates = Jinja2Templates(directory=TEMPLATES_DIR)
    env = templates.env
    env.globals["version"] = __version__
    env.filters["when"] = _when
    env.filters["label"] = _label
    env.filters["labels"] = _labels
    env.filters["count_of"] = _count_of
    env.trim_blocks = True
    env.lstrip_blocks = True
    return templates


@dataclass(frozen=True)
class SwitcherOrg:
    id: int
    name: str
    role: str
    communities: list[tuple[int, str]]


@dataclass(frozen=True)
class Shell:
    """The top bar: who is logged in, where they are, where they can go."""

    user_name: str
    csrf_token: str
    orgs: list[SwitcherOrg]
    org_id: int | None = None
    community_id: int | None = None
    role: Role | None = None
    nav: list[tuple[str, str, str]] = field(default_factory=list)  # (key, label, url)

    @property
    def here(self) -> str:
        if self.org_id is None:
            return ""
        if self.community_id is None:
            return f"/o/{self.org_id}"
        return f"/o/{self.org_id}/c/{self.community_id}"


def build_shell(
    session: Session,
    caller: Caller,
    *,
    org_id: int | None = None,
    community_id: int | None = None,
    role: Role | None = None,
) -> Shell:
    grants = auth_service.roles_of(session, user_id=caller.user.id)
    role_of = {g.organisation_id: g.role for g in grants}
    orgs = [
        SwitcherOrg(
            o.id,
            o.name,
            str(role_of[o.id]),
            [
                (c.id, c.name)
                for c in registry_service.list_communities(session, organisation_id=o.id)
            ],
        )
        for o in registry_service.list_organisations(session, list(role_of))
    ]
    nav: list[tuple[str, str, str]] = []
    if org_id is not None and community_id is not None:
        base = f"/o/{org_id}/c/{community_id}"
        nav.append(("overview", "Overview", base))
        if allowed(role, Permission.member_read):
            nav.append(("members", "Members", f"{base}/members"))
        nav += [("groups", "Groups", f"{base}/groups"), ("assets", "Assets", f"{base}/assets")]
        if allowed(role, Permission.survey_read):
            nav.append(("surveys", "Surveys", f"{base}/surveys"))
        if allowed(role, Permission.member_read):
            nav.append(("network", "Network", f"{base}/network"))
        if allowed(role, Permission.aid_read):
            nav.append(("aid", "Mutual aid", f"{base}/aid"))
        if allowed(role, Permission.checkins_read):
            nav.append(("checkins", "Check-ins", f"/o/{org_id}/checkins"))
    csrf = caller.browser_session.csrf_token if caller.browser_session is not None else ""
    return Shell(caller.user.display_name, csrf, orgs, org_id, community_id, role, nav)


def shell_for(ctx: OrgContext, community_id: int | None = None) -> Shell:
    return build_shell(
        ctx.session,
        ctx.caller,
        org_id=ctx.organisation_id,
        community_id=community_id,
        role=ctx.role,
    )


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
    vary_partial: bool = False,
) -> Response:
    """Render a template with the security headers every page carries."""
    headers = dict(SECURITY_HEADERS)
    if vary_partial:
        headers["Vary"] = "HX-Request, HX-Target"
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(
        request, name, context, status_code=status_code, headers=headers
    )


def is_partial(request: Request, target: str) -> bool:
    """True for an HTMX request that swaps only ``#target`` (not a boosted or history request)."""
    return (
        request.headers.get("hx-request") == "true"
        and request.headers.get("hx-target") == target
        and request.headers.get("hx-history-restore-request") != "true"
    )


def safe_next(value: str | None, default: str = "/") -> str:
    """A redirect target after login: only a path on this site, never another host.

    Rejects absolute URLs (``http://evil.example``), scheme-relative ones (``//evil.example``),
    backslash tricks browsers normalise to ``//`` (``/\\evil.example``) and control characters.
    """
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    if any(ch in value for ch in "\\\r\n\t\x00") or any(ord(ch) < 32 for ch in value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


@dataclass(frozen=True)
class Pager:
    page: int
    total: int
    size: int = PAGE_SIZE

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def first(self) -> int:
        return min(self.total, self.offset + 1)

    @property
    def last(self) -> int:
        return min(self.total, self.offset + self.size)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def form_caller(
    request: Request, session: SessionDep, csrf_token: Annotated[str, Form()] = ""
) -> Caller:
    """The logged-in browser behind a plain HTML form post, with the form's CSRF token checked.

    Forms cannot send the ``X-CSRF-Token`` header, so the token travels as a hidden field and is
    compared (in constant time) with the browser session's.
    """
    token = request.cookies.get(COOKIE)
    found = auth_service.user_for_session(session, token) if token else None
    if found is None:
        raise AuthenticationError("log in first")
    user, browser_session = found
    if not csrf_token or not secrets.compare_digest(csrf_token, browser_session.csrf_token):
        raise PermissionDeniedError(
            "this form has expired or did not come from this site: reload the page and try again"
        )
    return Caller(user, browser_session)


FormCaller = Annotated[Caller, Depends(form_caller)]


def first_community(session: Session, organisation_ids: Sequence[int]) -> str | None:
    """URL of the first community of the first organisation (by name), or of that organisation."""
    orgs = registry_service.list_organisations(session, list(organisation_ids))
    if not orgs:
        return None
    communities = registry_service.list_communities(session, organisation_id=orgs[0].id)
    if not communities:
        return f"/o/{orgs[0].id}"
    return f"/o/{orgs[0].id}/c/{communities[0].id}"
