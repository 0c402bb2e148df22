"""A member with data in every domain is exported completely and then erased completely; the time
bank still balances afterwards."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from commonweal.checkins import models as ck
from commonweal.checkins import service as checkins
from commonweal.db.engine import transaction
from commonweal.mutual_aid import ledger
from commonweal.mutual_aid import models as ma
from commonweal.mutual_aid import service as aid
from commonweal.mutual_aid.clock import FakeClock
from commonweal.mutual_aid.schemas import NeedCreate
from commonweal.mutual_aid.vocab import Channel
from commonweal.registry.models import Member, Tie
from tests.helpers import login, make_client

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def _give_member_data_everywhere(world) -> tuple[int, int]:
    mid, other = world.members_a["a0"], world.members_a["a1"]
    with transaction(world.factory) as s:
        checkins.start_session(
            s,
            organisation_id=world.org_a,
            member_id=mid,
            now=NOW,
            expected_end_at=NOW + dt.timedelta(hours=2),
        )
        aid.create_need(
            s,
            organisation_id=world.org_a,
            community_id=world.community_a,
            data=NeedCreate(
                category="groceries",
                address="12 Mill Lane",
                contact="+1-555-0100",
                private_notes="PRIVATE-NEED",
                lat=51.5,
                lon=-0.12,
                requester_member_id=mid,
            ),
            channel=Channel.web,
            clock=FakeClock(NOW),
        )
        mine = ledger.create_account(s, organisation_id=world.org_a, member_id=mid)
        theirs = ledger.create_account(s, organisation_id=world.org_a, member_id=other)
        ledger.transfer(
            s,
            organisation_id=world.org_a,
            from_account_id=theirs.id,
            to_account_id=mine.id,
            amount_s=3600,
            now=NOW,
        )
    return mid, other


def test_export_then_erase_everywhere(world) -> None:
    mid, other = _give_member_data_everywhere(world)
    client = make_client(world.factory)
    login(client, *world.users["admin_a"])
    doc = client.get(f"/api/v1/orgs/{world.org_a}/members/{mid}/export").json()
    assert doc["member"]["email"] == "a0@example.org"
    assert len(doc["checkins"]["checkins"]) == 1
    assert doc["mutual_aid"]["needs"][0]["private_notes"] == "PRIVATE-NEED"
    assert doc["mutual_aid"]["time_bank_accounts"][0]["balance_s"] == 3600

    r = client.delete(f"/api/v1/orgs/{world.org_a}/members/{mid}")
    assert r.status_code == 200, r.text
    with transaction(world.factory) as s:
        assert s.get(Member, mid) is None
        assert not s.scalars(
            select(Tie).where((Tie.from_member_id == mid) | (Tie.to_member_id == mid))
        ).all()
        assert not s.scalars(select(ck.Checkin).where(ck.Checkin.member_id == mid)).all()
        needs = s.scalars(select(ma.AidNeed).where(ma.AidNeed.organisation_id == world.org_a))
        assert all(n.private_notes != "PRIVATE-NEED" for n in needs)
        accounts = s.scalars(
            select(ma.LedgerAccount).where(ma.LedgerAccount.organisation_id == world.org_a)
        ).all()
        assert all(a.member_id != mid for a in accounts)
        assert sum(a.balance_s for a in accounts) == 0
        assert ledger.verify(s, organisation_id=world.org_a) == []  # books still balance
        assert any(a.member_id == other and a.balance_s == -3600 for a in accounts)
