"""Test helpers shared across the suite (importable as ``tests.helpers``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from commonweal.db.engine import transaction

SHARED_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def shared_data(*parts: str) -> Path:
    """A file of the shared reference data; skips the test cleanly when the folder is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared reference data not present: {path}")
    return path


@dataclass
class World:
    """Two organisations with users of every role, a community each and a few members and ties."""

    factory: sessionmaker[Session]
    org_a: int
    org_b: int
    community_a: int
    community_b: int
    members_a: dict[str, int]
    members_b: dict[str, int]
    users: dict[str, tuple[str, str]]  # key -> (email, password)


PASSWORD = "correct horse battery"


def build_world(factory: sessionmaker[Session]) -> World:
    from commonweal.auth import service as auth
    from commonweal.auth.models import Role
    from commonweal.registry import service as reg
    from commonweal.registry.schemas import CommunityCreate, MemberCreate, TieCreate

    users: dict[str, tuple[str, str]] = {}
    with transaction(factory) as s:
        orgs, comms, members = {}, {}, {}
        for tag in ("a", "b"):
            org = reg.create_organisation(s, name=f"Org {tag.upper()}")
            c = reg.create_community(
                s, organisation_id=org.id, data=CommunityCreate(name=f"Riverside {tag.upper()}")
            )
            ms = {}
            for i, name in enumerate(["Ada Okafor", "Bea Lindqvist", "Cai Ramos"]):
                m = reg.create_member(
                    s,
                    organisation_id=org.id,
                    community_id=c.id,
                    data=MemberCreate(
                        external_id=f"{tag}{i}",
                        display_name=f"{name} {tag.upper()}",
                        phone=f"+1-555-01{i}{len(tag)}",
                        email=f"{tag}{i}@example.org",
                        lat=51.5 + i / 100,
                        lon=-0.12,
                        lives_alone=i == 2,
                        notes="SECRET-NOTE",
                    ),
                )
                ms[f"{tag}{i}"] = m.id
            reg.create_tie(
                s,
                organisation_id=org.id,
                data=TieCreate(
                    from_member_id=ms[f"{tag}0"],
                    to_member_id=ms[f"{tag}1"],
                    kind="friend",
                    support_types=["emotional", "practical"],
                    strength=4,
                ),
            )
            reg.create_tie(
                s,
                organisation_id=org.id,
                data=TieCreate(
                    from_member_id=ms[f"{tag}2"],
                    to_member_id=ms[f"{tag}0"],
                    kind="neighbour",
                    support_types=["practical"],
                ),
            )
            orgs[tag], comms[tag], members[tag] = org.id, c.id, ms
            for role in Role:
                email = f"{role.value}.{tag}@example.org"
                u = auth.create_user(
                    s, email=email, display_name=f"{role.value} {tag}", password=PASSWORD
                )
                auth.grant_role(s, user_id=u.id, organisation_id=org.id, role=role)
                users[f"{role.value}_{tag}"] = (email, PASSWORD)
    return World(
        factory, orgs["a"], orgs["b"], comms["a"], comms["b"], members["a"], members["b"], users
    )


def make_client(factory: sessionmaker[Session]):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from commonweal.settings import Settings
    from commonweal.web.app import create_app

    app = create_app(
        Settings(database_url="sqlite://", environment="test"), session_factory=factory
    )
    return TestClient(app, raise_server_exceptions=False)


def login(client, email: str, password: str = PASSWORD) -> str:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    token: str = r.json()["csrf_token"]
    client.headers["X-CSRF-Token"] = token
    return token
