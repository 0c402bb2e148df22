"""The time bank: balances always sum to zero and limits hold under random transfers."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sqlalchemy import func, select

from commonweal.db.engine import make_engine, make_session_factory, transaction
from commonweal.db.models import Base
from commonweal.errors import ConflictError, InputError
from commonweal.mutual_aid import ledger
from commonweal.mutual_aid.models import LedgerAccount, LedgerEntry
from commonweal.registry import service as reg
from commonweal.registry.schemas import CommunityCreate, MemberCreate


class LedgerMachine(RuleBasedStateMachine):
    """Random transfers (some refused by limits, some invalid) between members and the
    organisation; after every step: balances sum to 0, cache equals entries, no limit broken."""

    @initialize(
        limits=st.lists(
            st.tuples(
                st.one_of(st.none(), st.integers(-20_000, 0)),
                st.one_of(st.none(), st.integers(0, 20_000)),
            ),
            min_size=2,
            max_size=5,
        )
    )
    def setup(self, limits) -> None:
        self.engine = make_engine("sqlite://")
        Base.metadata.create_all(self.engine)
        self.factory = make_session_factory(self.engine)
        with transaction(self.factory) as s:
            org = reg.create_organisation(s, name="Time bank")
            c = reg.create_community(s, organisation_id=org.id, data=CommunityCreate(name="T"))
            self.org = org.id
            self.accounts = [ledger.create_account(s, organisation_id=org.id, member_id=None).id]
            for i, (lo, hi) in enumerate(limits):
                m = reg.create_member(
                    s,
                    organisation_id=org.id,
                    community_id=c.id,
                    data=MemberCreate(external_id=f"m{i}", display_name=f"M{i}"),
                )
                self.accounts.append(
                    ledger.create_account(
                        s,
                        organisation_id=org.id,
                        member_id=m.id,
                        min_balance_s=lo,
                        max_balance_s=hi,
                    ).id
                )
        self.model = dict.fromkeys(self.accounts, 0)
        self.refused = 0

    @rule(a=st.integers(0, 5), b=st.integers(0, 5), amount=st.integers(-5, 30_000))
    def transfer(self, a: int, b: int, amount: int) -> None:
        src = self.accounts[a % len(self.accounts)]
        dst = self.accounts[b % len(self.accounts)]
        try:
            with transaction(self.factory) as s:
                ledger.transfer(
                    s,
                    organisation_id=self.org,
                    from_account_id=src,
                    to_account_id=dst,
                    amount_s=amount,
                )
        except (ConflictError, InputError):
            self.refused += 1
            return
        self.model[src] -= amount
        self.model[dst] += amount

    @invariant()
    def balances_sum_to_zero_and_limits_hold(self) -> None:
        if not hasattr(self, "factory"):
            return
        with transaction(self.factory) as s:
            accs = s.scalars(select(LedgerAccount)).all()
            assert sum(a.balance_s for a in accs) == 0
            # the entries themselves (not only the cached balances) sum to zero
            assert s.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_s), 0))) == 0
            for a in accs:
                assert a.balance_s == self.model[a.id]
                assert a.min_balance_s is None or a.balance_s >= a.min_balance_s
                assert a.max_balance_s is None or a.balance_s <= a.max_balance_s
            assert ledger.verify(s, organisation_id=self.org) == []

    def teardown(self) -> None:
        if hasattr(self, "engine"):
            self.engine.dispose()


TestLedgerInvariant = LedgerMachine.TestCase
TestLedgerInvariant.settings = settings(
    max_examples=20,
    stateful_step_count=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def test_transfer_statement_and_reciprocity(world) -> None:
    """On both databases: two entries per transfer, a refused transfer writes nothing, the
    statement runs the balance, and reciprocity counts givers and receivers."""
    a0, a1, a2 = (world.members_a[k] for k in ("a0", "a1", "a2"))
    with transaction(world.factory) as s:
        acc = {
            m: ledger.create_account(
                s, organisation_id=world.org_a, member_id=m, min_balance_s=-7200
            ).id
            for m in (a0, a1, a2)
        }
        org_acc = ledger.create_account(s, organisation_id=world.org_a, member_id=None).id
        ledger.transfer(
            s,
            organisation_id=world.org_a,
            from_account_id=org_acc,
            to_account_id=acc[a0],
            amount_s=7200,
            kind="grant",
        )
        ledger.transfer(
            s,
            organisation_id=world.org_a,
            from_account_id=acc[a0],
            to_account_id=acc[a1],
            amount_s=3600,
        )  # a1 helped a0 for an hour
        ledger.transfer(
            s,
            organisation_id=world.org_a,
            from_account_id=acc[a1],
            to_account_id=acc[a0],
            amount_s=1800,
        )  # a0 helped a1 for 30 min
        ledger.transfer(
            s,
            organisation_id=world.org_a,
            from_account_id=acc[a2],
            to_account_id=acc[a1],
            amount_s=5400,
        )
    with pytest.raises(ConflictError, match="below its limit"):
        with transaction(world.factory) as s:
            ledger.transfer(
                s,
                organisation_id=world.org_a,
                from_account_id=acc[a2],
                to_account_id=acc[a1],
                amount_s=1801,
            )  # -5400 - 1801 < -7200
    with transaction(world.factory) as s:
        assert ledger.verify(s, organisation_id=world.org_a) == []
        st_ = ledger.statement(s, organisation_id=world.org_a, account_id=acc[a0])
        assert [ln["amount_s"] for ln in st_["lines"]] == [7200, -3600, 1800]
        assert [ln["balance_s"] for ln in st_["lines"]] == [7200, 3600, 5400]
        rec = ledger.reciprocity(s, organisation_id=world.org_a)
        by = {m.member_id: m for m in rec.members}
        # the grant is not an exchange: a0 gave 1800 and received 3600
        assert (by[a0].given_s, by[a0].received_s, by[a0].ratio) == (1800, 3600, 0.5)
        assert (by[a1].given_s, by[a1].received_s) == (9000, 1800)
        assert (by[a2].given_s, by[a2].received_s, by[a2].ratio) == (0, 5400, 0.0)
        assert rec.both_give_and_receive == 2 and rec.share_both == pytest.approx(2 / 3)
        # a transfer across organisations is refused as "not found"
        b_acc = ledger.create_account(
            s, organisation_id=world.org_b, member_id=world.members_b["b0"]
        ).id
    from commonweal.errors import NotFoundError

    with pytest.raises(NotFoundError):
        with transaction(world.factory) as s:
            ledger.transfer(
                s,
                organisation_id=world.org_a,
                from_account_id=acc[a0],
                to_account_id=b_acc,
                amount_s=60,
            )
    # the time-bank page: dispatchers see who gives and who receives, with a plot
    from tests.helpers import login, make_client

    page = f"/o/{world.org_a}/c/{world.community_a}/aid/ledger"
    coord = make_client(world.factory)
    login(coord, *world.users["coordinator_a"])
    r = coord.get(page, headers={"accept": "text/html"})
    assert r.status_code == 200, r.text
    assert 'data-share-both="0.667"' in r.text and "3 members who took part" in r.text
    assert "3.0 hours exchanged" in r.text  # 3600 + 1800 + 5400 s
    row = r.text.split(f'data-member="{a1}"')[1].split("</tr>")[0]
    assert "<td>2.5</td>" in row and "<td>0.5</td>" in row  # a1 gave 2.5 h, received 0.5 h
    assert '<svg' in r.text and "h given</title>" in r.text
    assert "all balances sum to zero" in r.text
    vol = make_client(world.factory)
    login(vol, *world.users["volunteer_a"])
    assert vol.get(page, headers={"accept": "text/html"}).status_code == 403


def test_ledger_api(world) -> None:
    from tests.helpers import login, make_client

    client = make_client(world.factory)
    login(client, *world.users["coordinator_a"])
    base = f"/api/v1/orgs/{world.org_a}/ledger"
    a = client.post(
        f"{base}/accounts", json={"member_id": world.members_a["a0"], "min_balance_s": -3600}
    ).json()
    b = client.post(f"{base}/accounts", json={"member_id": world.members_a["a1"]}).json()
    assert (
        client.post(f"{base}/accounts", json={"member_id": world.members_a["a1"]}).status_code
        == 409
    )
    r = client.post(
        f"{base}/transfers",
        json={
            "from_account_id": a["id"],
            "to_account_id": b["id"],
            "amount_s": 3600,
            "memo": "lift to clinic",
        },
    )
    assert r.status_code == 201 and r.json()["kind"] == "exchange"
    r = client.post(
        f"{base}/transfers",
        json={"from_account_id": a["id"], "to_account_id": b["id"], "amount_s": 1},
    )
    assert r.status_code == 409  # a's credit limit is one hour
    for bad in (0, -5, 1.5):
        r = client.post(
            f"{base}/transfers",
            json={"from_account_id": a["id"], "to_account_id": b["id"], "amount_s": bad},
        )
        assert r.status_code == 422
    st = client.get(f"{base}/accounts/{a['id']}/statement").json()
    assert (st["opening_balance_s"], st["closing_balance_s"]) == (0, -3600)
    assert client.get(f"{base}/verify").json() == {"ok": True, "problems": []}
    rec = client.get(f"{base}/reciprocity").json()
    assert rec["total_exchanged_s"] == 3600 and rec["both_give_and_receive"] == 0
    # volunteers do not run the ledger
    vol = make_client(world.factory)
    login(vol, *world.users["volunteer_a"])
    assert vol.get(f"{base}/accounts").status_code == 403
    assert (
        vol.post(
            f"{base}/transfers",
            json={"from_account_id": b["id"], "to_account_id": a["id"], "amount_s": 60},
        ).status_code
        == 403
    )
