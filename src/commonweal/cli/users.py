"""`commonweal users ...`: accounts, roles and API tokens."""

from __future__ import annotations

import getpass
import os

import typer

from commonweal.cli._common import console, friendly_errors, settings_from_ctx
from commonweal.cli._db import open_db, resolve_org, transaction

__all__ = ["app"]

app = typer.Typer(help="Users, roles and API tokens.", no_args_is_help=True)


def _password(given: str | None) -> str:
    if given:
        return given
    env = os.environ.get("COMMONWEAL_NEW_PASSWORD")
    if env:
        return env
    first = getpass.getpass("password (10+ characters): ")
    if getpass.getpass("again: ") != first:
        from commonweal.errors import InputError

        raise InputError("the two passwords differ")
    return first


@app.command("create-admin")
@friendly_errors
def create_admin(
    ctx: typer.Context,
    email: str = typer.Option(..., "--email", help="Login email."),
    org: str = typer.Option(..., "--org", help="Organisation (created if missing)."),
    name: str = typer.Option("Administrator", "--name"),
    password: str | None = typer.Option(
        None, "--password", help="Prompted when omitted (or COMMONWEAL_NEW_PASSWORD)."
    ),
) -> None:
    """Create the first administrator of an organisation."""
    from commonweal.auth import service as auth
    from commonweal.auth.models import Role

    factory = open_db(settings_from_ctx(ctx))
    with transaction(factory) as s:
        o = resolve_org(s, org, create=True)
        u = auth.create_user(s, email=email, display_name=name, password=_password(password))
        auth.grant_role(s, user_id=u.id, organisation_id=o.id, role=Role.admin)
        auth.audit(
            s,
            organisation_id=o.id,
            user_id=None,
            action="grant",
            entity="role",
            entity_ids=[u.id],
            fields=["role"],
            detail="admin via cli",
        )
    console.print(f"admin {email} created for {org!r}")


@app.command("grant")
@friendly_errors
def grant(
    ctx: typer.Context,
    email: str = typer.Option(..., "--email"),
    role: str = typer.Option(
        ..., "--role", help="admin | coordinator | volunteer | member | researcher"
    ),
    org: str | None = typer.Option(None, "--org"),
    create: bool = typer.Option(
        False, "--create", help="Create the user if missing (asks for a password)."
    ),
) -> None:
    """Give a user a role in an organisation."""
    from sqlalchemy import select

    from commonweal.auth import service as auth
    from commonweal.auth.models import Role, User
    from commonweal.errors import InputError, NotFoundError

    try:
        r = Role(role)
    except ValueError:
        raise InputError(f"unknown role {role!r}: use one of {', '.join(Role)}") from None
    factory = open_db(settings_from_ctx(ctx))
    with transaction(factory) as s:
        o = resolve_org(s, org)
        u = s.scalar(select(User).where(User.email == email.strip().lower()))
        if u is None:
            if not create:
                raise NotFoundError(f"no user {email}: add --create")
            u = auth.create_user(
                s, email=email, display_name=email.split("@")[0], password=_password(None)
            )
        auth.grant_role(s, user_id=u.id, organisation_id=o.id, role=r)
        auth.audit(
            s,
            organisation_id=o.id,
            user_id=None,
            action="grant",
            entity="role",
            entity_ids=[u.id],
            fields=["role"],
            detail=f"{r} via cli",
        )
    console.print(f"{email} is {r} in {o.name}")


@app.command("token")
@friendly_errors
def token(
    ctx: typer.Context,
    email: str = typer.Option(..., "--email"),
    name: str = typer.Option("cli", "--name"),
    days: int = typer.Option(90, "--days", min=1),
) -> None:
    """Create an API token for a user (printed once)."""
    from sqlalchemy import select

    from commonweal.auth import service as auth
    from commonweal.auth.models import User
    from commonweal.errors import NotFoundError

    factory = open_db(settings_from_ctx(ctx))
    with transaction(factory) as s:
        u = s.scalar(select(User).where(User.email == email.strip().lower()))
        if u is None:
            raise NotFoundError(f"no user {email}")
        t, _ = auth.create_api_token(s, user_id=u.id, name=name, days=days)
    typer.echo(t)


@app.command("list")
@friendly_errors
def list_users(ctx: typer.Context) -> None:
    """List users and their roles."""
    from sqlalchemy import select

    from commonweal.auth.models import RoleGrant, User
    from commonweal.registry.models import Organisation

    factory = open_db(settings_from_ctx(ctx))
    with transaction(factory) as s:
        rows = s.execute(
            select(User.email, Organisation.name, RoleGrant.role)
            .join(RoleGrant, RoleGrant.user_id == User.id)
            .join(Organisation, Organisation.id == RoleGrant.organisation_id)
            .order_by(User.email)
        ).all()
    for email, org, role in rows:
        console.print(f"{email}\t{org}\t{role}", highlight=False)
