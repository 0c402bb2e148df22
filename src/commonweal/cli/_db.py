"""Opening the database from the CLI: engine from settings, migrations applied, org/community lookup."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from commonweal.errors import InputError, NotFoundError

if TYPE_CHECKING:
    # The rest is imported where used: every command module imports this one, and Alembic and the
    # registry models should not load for `commonweal --help`.
    from sqlalchemy.orm import Session, sessionmaker

    from commonweal.registry.models import Community, Organisation
    from commonweal.settings import Settings

__all__ = ["audit_command", "open_db", "resolve_community", "resolve_org", "transaction"]


def transaction(factory: sessionmaker[Session]) -> AbstractContextManager[Session]:
    """:func:`commonweal.db.engine.transaction`, imported on first use (SQLAlchemy is not needed
    to print help)."""
    from commonweal.db.engine import transaction

    return transaction(factory)


def open_db(settings: Settings) -> sessionmaker[Session]:
    """The session factory for the configured database, brought up to the newest schema."""
    from commonweal.db.engine import make_engine, make_session_factory
    from commonweal.db.migrate import upgrade

    engine = make_engine(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    upgrade(engine)
    return make_session_factory(engine)


def resolve_org(session: Session, name: str | None, *, create: bool = False) -> Organisation:
    """The organisation named ``name`` (by name or slug); with no name, the only one there is.

    The command is written to the organisation's audit log (see :func:`audit_command`)."""
    org = _find_org(session, name, create=create)
    audit_command(session, org.id)
    return org


def audit_command(session: Session, organisation_id: int) -> None:
    """One audit row per CLI command and organisation: the command (``commonweal import
    members``, never its arguments, which may name people) and who ran it (the operating-system
    account and host), in the command's own transaction."""
    import getpass
    import socket

    from commonweal.auth.service import audit

    try:  # Typer >= 0.2x carries its own copy of click
        from typer._click.globals import get_current_context
    except ImportError:  # pragma: no cover - older Typer runs on click itself
        from click import get_current_context  # type: ignore[no-redef]
    ctx = get_current_context(silent=True)
    command = ctx.command_path if ctx is not None else "commonweal"
    try:
        who = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (containers)
        who = "unknown"
    audit(session, organisation_id=organisation_id, user_id=None, action="cli", entity="command",
          detail=f"{command} (by {who}@{socket.gethostname()})"[:500])


def _find_org(session: Session, name: str | None, *, create: bool) -> Organisation:
    from sqlalchemy import select

    from commonweal.registry import service as reg
    from commonweal.registry.models import Organisation

    if name is None:
        orgs = session.scalars(select(Organisation).order_by(Organisation.id)).all()
        if len(orgs) == 1:
            return orgs[0]
        if not orgs:
            if create:
                return reg.create_organisation(session, name="My organisation")
            raise NotFoundError("no organisation yet: run `commonweal users create-admin` first")
        raise InputError(
            f"several organisations exist: name one with --org ({', '.join(o.name for o in orgs)})"
        )
    org = session.scalar(
        select(Organisation).where((Organisation.name == name) | (Organisation.slug == name))
    )
    if org is None:
        if create:
            return reg.create_organisation(session, name=name)
        raise NotFoundError(f"no organisation named {name!r}")
    return org


def resolve_community(session: Session, org: Organisation, name: str, *, create: bool) -> Community:
    from commonweal.registry import service as reg
    from commonweal.registry.schemas import CommunityCreate

    c = reg.get_community_by_name(session, organisation_id=org.id, name=name)
    if c is None:
        if not create:
            raise NotFoundError(f"no community named {name!r} in {org.name}")
        c = reg.create_community(session, organisation_id=org.id, data=CommunityCreate(name=name))
    return c
