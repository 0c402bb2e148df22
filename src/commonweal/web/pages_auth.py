"""Log in, log out, the start page, and the organisation/community switcher."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select

from commonweal.auth import service as auth_service
from commonweal.auth.models import User
from commonweal.auth.routes import set_session_cookie
from commonweal.errors import AuthenticationError, RateLimitedError
from commonweal.web.deps import (
    COOKIE,
    Caller,
    SessionDep,
    client_address,
    clock_of,
    get_optional_caller,
)
from commonweal.web.pages_common import (
    FormCaller,
    build_shell,
    first_community,
    render,
    safe_next,
)

__all__ = ["LOGIN_COOKIE", "router"]

router = APIRouter(include_in_schema=False)

# Double-submit token for the login form: a page on another site cannot read this cookie, so it
# cannot log a victim's browser into the attacker's account (login CSRF).
LOGIN_COOKIE = "cw_login"

OptionalCaller = Annotated[Caller | None, Depends(get_optional_caller)]


def _login_page(
    request: Request,
    session: SessionDep,
    *,
    next_url: str,
    email: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    token = secrets.token_urlsafe(24)
    no_users = (session.scalar(select(func.count()).select_from(User)) or 0) == 0
    response = render(
        request,
        "login.html",
        {
            "next": next_url,
            "email": email,
            "error": error,
            "login_token": token,
            "no_users": no_users,
        },
        status_code=status_code,
    )
    settings = request.app.state.settings
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=settings.cookie_secure,
        path="/login",
    )
    return response


@router.get("/login")
def login_form(
    request: Request, session: SessionDep, caller: OptionalCaller, next: str | None = None
) -> Response:
    target = safe_next(next)
    if caller is not None:
        return RedirectResponse(target, status_code=303)
    return _login_page(request, session, next_url=target)


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
    login_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    target = safe_next(next)
    sent = request.cookies.get(LOGIN_COOKIE, "")
    if not sent or not login_token or not secrets.compare_digest(sent, login_token):
        return _login_page(
            request,
            session,
            next_url=target,
            email=email,
            status_code=400,
            error="The login form expired (or cookies are blocked). Try again.",
        )
    try:
        user = auth_service.authenticate_throttled(
            session, email=email, password=password, client=client_address(request),
            now=clock_of(request).now(), secret=request.app.state.settings.secret_key)
    except (AuthenticationError, RateLimitedError) as exc:
        limited = isinstance(exc, RateLimitedError)
        return _login_page(
            request,
            session,
            next_url=target,
            email=email,
            status_code=429 if limited else 401,
            error=f"Too many failed logins: {exc.message.split(': ', 1)[1]}."
            if limited else "Wrong email or password.",
        )
    old = request.cookies.get(COOKIE)
    if old:  # never keep a session id from before the login (session fixation)
        auth_service.end_browser_session(session, old)
    token, _ = auth_service.create_browser_session(
        session, user_id=user.id, max_age_seconds=request.app.state.settings.session_max_age_seconds
    )
    auth_service.audit(
        session,
        organisation_id=None,
        user_id=user.id,
        action="login",
        entity="user",
        entity_ids=[user.id],
        detail="web",
    )
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(request, response, token)
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep, caller: FormCaller) -> Response:
    token = request.cookies.get(COOKIE)
    if token:
        auth_service.end_browser_session(session, token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/")
def start(request: Request, session: SessionDep, caller: OptionalCaller) -> Response:
    if caller is None:
        return RedirectResponse("/login", status_code=303)
    grants = auth_service.roles_of(session, user_id=caller.user.id)
    target = first_community(session, [g.organisation_id for g in grants])
    if target is not None:
        return RedirectResponse(target, status_code=303)
    return render(
        request,
        "no_organisation.html",
        {"shell": build_shell(session, caller), "title": "No organisation yet"},
    )


@router.get("/go")
def go(to: str = "/") -> Response:
    """Where the switcher's form lands without JavaScript: a redirect to a path on this site."""
    return RedirectResponse(safe_next(to), status_code=303)
