"""Loading the synthetic demo community (``commonweal.demo``) into the database through the
ordinary importers, so the demo exercises exactly what a real import does."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from commonweal.auth import service as auth
from commonweal.auth.models import Role, User
from commonweal.clock import SYSTEM_CLOCK, Clock
from commonweal.db.engine import transaction
from commonweal.registry import importer
from commonweal.registry import service as reg
from commonweal.registry.models import Organisation
from commonweal.registry.schemas import CommunityCreate

__all__ = ["DEMO_EMAIL", "DEMO_ORG", "DEMO_PASSWORD", "ensure_demo", "load_demo"]

DEMO_ORG = "Demo organisation"
DEMO_EMAIL = "demo@example.org"
DEMO_PASSWORD = "commonweal-demo"  # printed by `serve --demo`; for a local demo database only


def load_demo(
    factory: sessionmaker[Session],
    *,
    n_members: int = 400,
    seed: int = 7,
    community: str = "Riverside (demo)",
    org_name: str = DEMO_ORG,
) -> dict[str, Any]:
    """Generate the demo community and import it (one transaction). Replaces nothing: a community
    of that name that already exists is left as it is."""
    from commonweal.demo import write_community

    with transaction(factory) as s:
        org = s.scalar(select(Organisation).where(Organisation.name == org_name))
        if org is None:
            org = reg.create_organisation(s, name=org_name)
        existing = reg.get_community_by_name(s, organisation_id=org.id, name=community)
        if existing is not None:
            return {
                "organisation_id": org.id,
                "community_id": existing.id,
                "created": False,
                "counts": reg.community_counts(s, organisation_id=org.id, community_id=existing.id),
            }
        c = reg.create_community(
            s,
            organisation_id=org.id,
            data=CommunityCreate(
                name=community, description="A synthetic neighbourhood generated for the demo."
            ),
        )
        with tempfile.TemporaryDirectory() as tmp:
            write_community(Path(tmp), n_members, seed=seed)
            for entity, fn in (
                ("members", importer.import_members),
                ("ties", importer.import_ties),
                ("groups", importer.import_groups),
                ("assets", importer.import_assets),
            ):
                fn(
                    s,
                    organisation_id=org.id,
                    community_id=c.id,
                    source=Path(tmp) / f"{entity}.csv",
                    label=f"demo {entity}.csv",
                )
        return {
            "organisation_id": org.id,
            "community_id": c.id,
            "created": True,
            "counts": reg.community_counts(s, organisation_id=org.id, community_id=c.id),
        }


def ensure_demo(
    factory: sessionmaker[Session],
    *,
    n_members: int = 400,
    seed: int = 7,
    activity: bool = True,
    clock: Clock = SYSTEM_CLOCK,
) -> dict[str, Any]:
    """The demo organisation, its admin user and community: created once, reused after.

    With ``activity`` (the default) the community also gets what the other capabilities show --
    a survey wave, mutual aid with a time bank, check-in plans and a safety check, neighbourhood
    indicators with an index run and its own boundaries -- each part
    made once, through the ordinary services (:func:`commonweal.demo.seed_activity.seed_activity`).
    ``result["activity"]`` says what this call made (``None`` for a part that was there already).
    """
    result = load_demo(factory, n_members=n_members, seed=seed)
    with transaction(factory) as s:
        user = s.scalar(select(User).where(User.email == DEMO_EMAIL))
        if user is None:
            user = auth.create_user(
                s, email=DEMO_EMAIL, display_name="Demo coordinator", password=DEMO_PASSWORD
            )
        auth.grant_role(
            s, user_id=user.id, organisation_id=result["organisation_id"], role=Role.admin
        )
        user_id = user.id
    made: dict[str, Any] = {}
    if activity:
        from commonweal.demo.seed_activity import seed_activity

        made = seed_activity(
            factory,
            organisation_id=result["organisation_id"],
            community_id=result["community_id"],
            user_id=user_id,
            seed=seed,
            clock=clock,
        )
    return {**result, "activity": made, "email": DEMO_EMAIL, "password": DEMO_PASSWORD}
