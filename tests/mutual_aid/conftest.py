"""Fixtures of the mutual-aid tests: a world with a second volunteer and a fake clock."""

from __future__ import annotations

import datetime as dt

import pytest

from commonweal.auth import service as auth
from commonweal.auth.models import Role
from commonweal.db.engine import transaction
from commonweal.mutual_aid.clock import FakeClock
from tests.helpers import PASSWORD


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC))


@pytest.fixture
def aid_world(world):
    """``world`` plus a second volunteer (``volunteer2_a``) in organisation A."""
    with transaction(world.factory) as s:
        u = auth.create_user(
            s, email="volunteer2.a@example.org", display_name="Vic Two", password=PASSWORD
        )
        auth.grant_role(s, user_id=u.id, organisation_id=world.org_a, role=Role.volunteer)
        world.users["volunteer2_a"] = ("volunteer2.a@example.org", PASSWORD)
        from sqlalchemy import select

        from commonweal.auth.models import User

        ids = {}
        for key in ("volunteer_a", "volunteer2_a", "coordinator_a", "member_a", "admin_b"):
            ids[key] = s.scalar(select(User.id).where(User.email == world.users[key][0]))
    world.user_ids = ids
    return world
