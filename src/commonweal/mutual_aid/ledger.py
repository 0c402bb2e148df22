"""The reciprocity ledger: a double-entry time bank in integer seconds.

Every transfer writes one :class:`LedgerTransfer` and exactly two :class:`LedgerEntry` rows,
``-amount`` on the payer and ``+amount`` on the payee, in one transaction, so the balances of an
organisation always sum to zero (TimeOverflow's Movement pair; Cyclos' limits). The cached
``balance_s`` of each account is updated in the same transaction, with the rows locked in id order
(``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` serialises writers), and
:func:`verify` re-derives every balance from the entries. Optional ``min_balance_s`` (a credit
limit) and ``max_balance_s`` are enforced inside the transfer.

Reciprocity (:func:`reciprocity`): a member *gives* when an ``exchange`` transfer pays them and
*receives* when one is paid from their account. Per member the give/receive ratio is
``given_s / received_s``; for the community, the share of active members who both gave and
received (Cahn's "co-production" idea of time banking: everyone both gives and receives).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from commonweal.errors import ConflictError, InputError, NotFoundError, Problem
from commonweal.mutual_aid.models import LedgerAccount, LedgerEntry, LedgerTransfer
from commonweal.mutual_aid.vocab import TransferKind
from commonweal.registry.models import Member

__all__ = [
    "MemberReciprocity",
    "Reciprocity",
    "account_for",
    "create_account",
    "get_account_or_raise",
    "list_accounts",
    "reciprocity",
    "statement",
    "transfer",
    "verify",
]


def get_account_or_raise(
    session: Session, *, organisation_id: int, account_id: int
) -> LedgerAccount:
    acc = session.get(LedgerAccount, account_id)
    if acc is None or acc.organisation_id != organisation_id:
        raise NotFoundError(f"no ledger account {account_id}")
    return acc


def account_for(
    session: Session, *, organisation_id: int, member_id: int | None, create: bool = True
) -> LedgerAccount | None:
    """The account of a member (or of the organisation, ``member_id=None``), made on first use."""
    q = select(LedgerAccount).where(LedgerAccount.organisation_id == organisation_id)
    q = q.where(
        LedgerAccount.member_id.is_(None)
        if member_id is None
        else LedgerAccount.member_id == member_id
    )
    acc = session.scalars(q.order_by(LedgerAccount.id)).first()
    if acc is None and create:
        acc = create_account(session, organisation_id=organisation_id, member_id=member_id)
    return acc


def create_account(
    session: Session,
    *,
    organisation_id: int,
    member_id: int | None,
    name: str | None = None,
    min_balance_s: int | None = None,
    max_balance_s: int | None = None,
) -> LedgerAccount:
    if member_id is not None:
        m = session.get(Member, member_id)
        if m is None or m.organisation_id != organisation_id:
            raise NotFoundError(f"no member {member_id}")
        name = name or m.display_name
    elif account_for(session, organisation_id=organisation_id, member_id=None, create=False):
        raise ConflictError("the organisation already has its account")
    if member_id is not None and account_for(
        session, organisation_id=organisation_id, member_id=member_id, create=False
    ):
        raise ConflictError(f"member {member_id} already has an account")
    if (
        min_balance_s is not None
        and min_balance_s > 0
        or max_balance_s is not None
        and max_balance_s < 0
    ):
        raise InputError(
            "limits must allow a zero balance",
            [Problem("min_balance_s <= 0 <= max_balance_s", field="min_balance_s")],
        )
    acc = LedgerAccount(
        organisation_id=organisation_id,
        member_id=member_id,
        name=name or "Organisation",
        balance_s=0,
        min_balance_s=min_balance_s,
        max_balance_s=max_balance_s,
    )
    session.add(acc)
    session.flush()
    return acc


def list_accounts(session: Session, *, organisation_id: int) -> Sequence[LedgerAccount]:
    return session.scalars(
        select(LedgerAccount)
        .where(LedgerAccount.organisation_id == organisation_id)
        .order_by(LedgerAccount.id)
    ).all()


def transfer(
    session: Session,
    *,
    organisation_id: int,
    from_account_id: int,
    to_account_id: int,
    amount_s: int,
    kind: TransferKind = TransferKind.exchange,
    memo: str | None = None,
    need_id: int | None = None,
    by_user_id: int | None = None,
    now: dt.datetime | None = None,
) -> LedgerTransfer:
    """Move ``amount_s`` seconds from one account to another: two entries, one transaction.

    Raises
    ------
    InputError
        A non-positive or non-integer amount, or the same account twice.
    NotFoundError
        An account of another organisation or none at all.
    ConflictError
        The transfer would take the payer below its ``min_balance_s`` or the payee above its
        ``max_balance_s`` (nothing is written).
    """
    if isinstance(amount_s, bool) or not isinstance(amount_s, int) or amount_s <= 0:
        raise InputError(
            "a transfer moves a positive whole number of seconds",
            [Problem(f"amount_s {amount_s!r}", field="amount_s")],
        )
    if from_account_id == to_account_id:
        raise InputError(
            "a transfer needs two different accounts",
            [Problem("same account twice", field="to_account_id")],
        )
    ids = sorted({from_account_id, to_account_id})
    locked = {
        a.id: a
        for a in session.scalars(
            select(LedgerAccount)
            .where(LedgerAccount.id.in_(ids), LedgerAccount.organisation_id == organisation_id)
            .order_by(LedgerAccount.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).all()
    }
    for i in ids:
        if i not in locked:
            raise NotFoundError(f"no ledger account {i}")
    payer, payee = locked[from_account_id], locked[to_account_id]
    if payer.min_balance_s is not None and payer.balance_s - amount_s < payer.min_balance_s:
        raise ConflictError(
            f"{payer.name}'s balance would fall below its limit ({payer.min_balance_s} s)"
        )
    if payee.max_balance_s is not None and payee.balance_s + amount_s > payee.max_balance_s:
        raise ConflictError(
            f"{payee.name}'s balance would rise above its limit ({payee.max_balance_s} s)"
        )
    t = LedgerTransfer(
        organisation_id=organisation_id,
        from_account_id=payer.id,
        to_account_id=payee.id,
        amount_s=amount_s,
        kind=kind,
        memo=memo,
        need_id=need_id,
        created_by_user_id=by_user_id,
        created_at=now or dt.datetime.now(dt.UTC),
    )
    session.add(t)
    session.flush()
    session.add_all(
        [
            LedgerEntry(
                organisation_id=organisation_id,
                transfer_id=t.id,
                account_id=payer.id,
                amount_s=-amount_s,
            ),
            LedgerEntry(
                organisation_id=organisation_id,
                transfer_id=t.id,
                account_id=payee.id,
                amount_s=amount_s,
            ),
        ]
    )
    payer.balance_s -= amount_s
    payee.balance_s += amount_s
    session.flush()
    return t


def verify(session: Session, *, organisation_id: int) -> list[str]:
    """Every way the ledger is inconsistent (empty when it is sound).

    Checks: each transfer has exactly two entries that sum to zero; each cached balance equals
    the sum of its entries; all balances sum to zero; no balance is outside its limits.
    """
    problems: list[str] = []
    per_transfer = session.execute(
        select(LedgerEntry.transfer_id, func.count(), func.sum(LedgerEntry.amount_s))
        .where(LedgerEntry.organisation_id == organisation_id)
        .group_by(LedgerEntry.transfer_id)
    ).all()
    for tid, n, total in per_transfer:
        if n != 2 or total != 0:
            problems.append(f"transfer {tid}: {n} entries summing to {total}")
    n_transfers = (
        session.scalar(
            select(func.count())
            .select_from(LedgerTransfer)
            .where(LedgerTransfer.organisation_id == organisation_id)
        )
        or 0
    )
    if n_transfers != len(per_transfer):
        problems.append(f"{n_transfers - len(per_transfer)} transfer(s) without entries")
    sums = dict(
        session.execute(
            select(LedgerEntry.account_id, func.sum(LedgerEntry.amount_s))
            .where(LedgerEntry.organisation_id == organisation_id)
            .group_by(LedgerEntry.account_id)
        ).all()
    )
    total = 0
    for acc in list_accounts(session, organisation_id=organisation_id):
        derived = int(sums.get(acc.id) or 0)
        total += acc.balance_s
        if derived != acc.balance_s:
            problems.append(f"account {acc.id}: cached {acc.balance_s} s, entries {derived} s")
        if acc.min_balance_s is not None and acc.balance_s < acc.min_balance_s:
            problems.append(f"account {acc.id} below its limit")
        if acc.max_balance_s is not None and acc.balance_s > acc.max_balance_s:
            problems.append(f"account {acc.id} above its limit")
    if total != 0:
        problems.append(f"balances sum to {total} s, not 0")
    return problems


def statement(
    session: Session,
    *,
    organisation_id: int,
    account_id: int,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> dict[str, object]:
    """An account statement: opening balance, each movement with the running balance, closing."""
    acc = get_account_or_raise(session, organisation_id=organisation_id, account_id=account_id)
    base = (
        select(LedgerEntry.amount_s, LedgerTransfer)
        .join(LedgerTransfer, LedgerTransfer.id == LedgerEntry.transfer_id)
        .where(LedgerEntry.account_id == acc.id)
    )
    opening = 0
    if since is not None:
        opening = int(
            session.scalar(
                select(func.coalesce(func.sum(LedgerEntry.amount_s), 0))
                .join(LedgerTransfer, LedgerTransfer.id == LedgerEntry.transfer_id)
                .where(LedgerEntry.account_id == acc.id, LedgerTransfer.created_at < since)
            )
            or 0
        )
        base = base.where(LedgerTransfer.created_at >= since)
    if until is not None:
        base = base.where(LedgerTransfer.created_at < until)
    running = opening
    lines = []
    for amount, t in session.execute(base.order_by(LedgerTransfer.created_at, LedgerTransfer.id)):
        running += int(amount)
        other = t.to_account_id if amount < 0 else t.from_account_id
        lines.append(
            {
                "transfer_id": t.id,
                "at": t.created_at.isoformat(),
                "amount_s": int(amount),
                "counterparty_account_id": other,
                "kind": str(t.kind),
                "memo": t.memo,
                "need_id": t.need_id,
                "balance_s": running,
            }
        )
    return {
        "account_id": acc.id,
        "name": acc.name,
        "member_id": acc.member_id,
        "opening_balance_s": opening,
        "closing_balance_s": running,
        "lines": lines,
    }


@dataclass(frozen=True, slots=True)
class MemberReciprocity:
    member_id: int
    given_s: int
    received_s: int
    ratio: float | None  # given / received; None when nothing was received

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Reciprocity:
    """Reciprocity of a community's exchanges (``exchange`` transfers between member accounts)."""

    members: tuple[MemberReciprocity, ...]
    active_members: int
    both_give_and_receive: int
    share_both: float | None
    total_exchanged_s: int

    def to_dict(self) -> dict[str, object]:
        return {
            "members": [m.to_dict() for m in self.members],
            "active_members": self.active_members,
            "both_give_and_receive": self.both_give_and_receive,
            "share_both": self.share_both,
            "total_exchanged_s": self.total_exchanged_s,
        }


def reciprocity(
    session: Session, *, organisation_id: int, community_id: int | None = None
) -> Reciprocity:
    """Give/receive per member and the share of members who both give and receive.

    ``given_s`` sums exchange transfers *into* the member's account (they helped), ``received_s``
    those *out of* it (they were helped); ``ratio = given_s / received_s``. ``share_both`` is
    the number of members with both ``given_s > 0`` and ``received_s > 0`` over the members with
    either.
    """
    acc_member = select(LedgerAccount.id, LedgerAccount.member_id).where(
        LedgerAccount.organisation_id == organisation_id, LedgerAccount.member_id.is_not(None)
    )
    if community_id is not None:
        acc_member = acc_member.join(Member, Member.id == LedgerAccount.member_id).where(
            Member.community_id == community_id
        )
    member_of = dict(session.execute(acc_member).all())
    rows = session.execute(
        select(
            LedgerEntry.account_id,
            func.sum(case((LedgerEntry.amount_s > 0, LedgerEntry.amount_s), else_=0)),
            func.sum(case((LedgerEntry.amount_s < 0, -LedgerEntry.amount_s), else_=0)),
        )
        .join(LedgerTransfer, LedgerTransfer.id == LedgerEntry.transfer_id)
        .where(
            LedgerEntry.organisation_id == organisation_id,
            LedgerTransfer.kind == TransferKind.exchange,
            LedgerEntry.account_id.in_(list(member_of)),
        )
        .group_by(LedgerEntry.account_id)
    ).all()
    out = []
    for acc_id, given, received in rows:
        g, r = int(given or 0), int(received or 0)
        out.append(MemberReciprocity(int(member_of[acc_id] or 0), g, r, g / r if r else None))
    out.sort(key=lambda m: m.member_id)
    active = [m for m in out if m.given_s or m.received_s]
    both = sum(1 for m in active if m.given_s and m.received_s)
    return Reciprocity(
        tuple(out),
        len(active),
        both,
        both / len(active) if active else None,
        sum(m.given_s for m in out),
    )
