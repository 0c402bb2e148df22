"""A person's data across every domain: one complete subject-access export and one complete erasure.

The registry holds the member; surveys, check-ins and mutual aid hold rows that point at them. This
module is the one place that knows all of them, so "export everything" and "erase everything" cannot
forget a domain (a test erases a member who has data in every domain and looks for leftovers).

Erasure rules:

* rows that exist only for the person (check-in plans, check-ins, alerts, safety targets, survey
  responses and scores, access links, needs they asked for, offers they made) are deleted;
* messages addressed to them (outbox rows with their phone or email) are deleted;
* the time bank keeps its books balanced: their account is detached and renamed, not deleted, so
  every counterparty's balance still adds up (the hours were really given and received);
* references by others (who acknowledged an alert, who marked someone safe) are set to NULL.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from commonweal.registry import export as registry_export
from commonweal.registry import service as registry_service

__all__ = ["erase_member_everywhere", "export_member_everywhere"]


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, str | int | float | bool | list | dict) or value is None:
        return value
    return str(value)


def _rows(session: Session, model: Any, where: Any) -> list[dict[str, Any]]:
    cols = [c.key for c in model.__table__.columns]
    return [
        {c: _plain(getattr(r, c)) for c in cols if c != "organisation_id"}
        for r in session.scalars(select(model).where(where)).all()
    ]


def export_member_everywhere(
    session: Session, *, organisation_id: int, member_id: int
) -> dict[str, Any]:
    """Everything commonweal holds about one member, in every domain (a subject-access export)."""
    from commonweal.checkins import models as ck
    from commonweal.mutual_aid import models as ma
    from commonweal.surveys import models as sv

    doc = registry_export.export_member(
        session, organisation_id=organisation_id, member_id=member_id
    )
    org = organisation_id
    responses = _rows(
        session,
        sv.SurveyResponse,
        (sv.SurveyResponse.member_id == member_id) & (sv.SurveyResponse.organisation_id == org),
    )
    doc["surveys"] = {"responses": responses}
    doc["checkins"] = {
        "plans": _rows(
            session,
            ck.CheckinPlan,
            (ck.CheckinPlan.member_id == member_id) & (ck.CheckinPlan.organisation_id == org),
        ),
        "checkins": _rows(
            session,
            ck.Checkin,
            (ck.Checkin.member_id == member_id) & (ck.Checkin.organisation_id == org),
        ),
        "alerts": _rows(
            session, ck.Alert, (ck.Alert.member_id == member_id) & (ck.Alert.organisation_id == org)
        ),
        "safety_checks": _rows(
            session,
            ck.SafetyTarget,
            (ck.SafetyTarget.member_id == member_id) & (ck.SafetyTarget.organisation_id == org),
        ),
    }
    doc["mutual_aid"] = {
        "needs": _rows(
            session,
            ma.AidNeed,
            (ma.AidNeed.requester_member_id == member_id) & (ma.AidNeed.organisation_id == org),
        ),
        "offers": _rows(
            session,
            ma.AidOffer,
            (ma.AidOffer.member_id == member_id) & (ma.AidOffer.organisation_id == org),
        ),
        "time_bank_accounts": _rows(
            session,
            ma.LedgerAccount,
            (ma.LedgerAccount.member_id == member_id) & (ma.LedgerAccount.organisation_id == org),
        ),
    }
    return doc


def erase_member_everywhere(
    session: Session, *, organisation_id: int, member_id: int
) -> dict[str, int]:
    """Erase a member in every domain (one transaction: the caller's). Returns rows touched."""
    from commonweal.checkins import models as ck
    from commonweal.mutual_aid import models as ma
    from commonweal.surveys import models as sv

    m = registry_service.get_member_or_raise(
        session, organisation_id=organisation_id, member_id=member_id
    )
    org = organisation_id

    def run(stmt: Any) -> int:
        return registry_service.rowcount(session.execute(stmt))

    counts = {
        "survey_responses": run(
            delete(sv.SurveyResponse).where(
                sv.SurveyResponse.member_id == m.id, sv.SurveyResponse.organisation_id == org
            )
        ),
        "messages_to_member": run(
            delete(ck.OutboxMessage).where(
                ck.OutboxMessage.recipient_member_id == m.id,
                ck.OutboxMessage.organisation_id == org,
            )
        ),
        "aid_needs": run(
            delete(ma.AidNeed).where(
                ma.AidNeed.requester_member_id == m.id, ma.AidNeed.organisation_id == org
            )
        ),
        "aid_offers": run(
            delete(ma.AidOffer).where(
                ma.AidOffer.member_id == m.id, ma.AidOffer.organisation_id == org
            )
        ),
        "time_bank_accounts_detached": run(
            update(ma.LedgerAccount)
            .where(ma.LedgerAccount.member_id == m.id, ma.LedgerAccount.organisation_id == org)
            .values(member_id=None, name=f"erased member #{m.id}")
        ),
    }
    # check-in plans, check-ins, alerts (and their messages), safety targets, access links go with
    # the member through ON DELETE CASCADE; references by others are SET NULL.
    counts.update(registry_service.erase_member(session, organisation_id=org, member_id=m.id))
    return counts
