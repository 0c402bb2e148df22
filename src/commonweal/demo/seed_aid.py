"""Demo mutual aid: offers of help, open needs, and exchanges that went through the ordinary
workflow (need -> dispatcher assigns an offer -> started -> completed, on a moving clock), so the
completions book time-bank hours and record exchange ties exactly as real ones do.

Six people trade help over the month before the demo was loaded, in a small circle in which
five of them both give and receive (the time-bank page's reciprocity); seven offers stay active;
five needs of older members wait on the board and one more is in progress. Every need is placed at
its requester's home (only the ~1 km approximation is public), so all of it lies inside the
community's area.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from commonweal.clock import FakeClock
from commonweal.demo._people import Person
from commonweal.mutual_aid import ledger, workflow
from commonweal.mutual_aid import service as aid
from commonweal.mutual_aid.models import AidNeed, AidOffer
from commonweal.mutual_aid.schemas import NeedCreate, OfferCreate
from commonweal.mutual_aid.vocab import Category, Channel

__all__ = ["seed_aid"]

# offers: (helper index, categories, description, max km)
OFFERS: tuple[tuple[int, tuple[Category, ...], str, float], ...] = (
    (1, (Category.groceries, Category.repairs), "Weekly shop on Saturdays; small fix-it jobs", 3.0),
    (2, (Category.prepared_food,), "Batch-cooks on Sundays, happy to make extra portions", 2.0),
    (0, (Category.information,), "Retired bookkeeper: help with forms and letters", 2.0),
    (5, (Category.transport,), "Has a car; lifts to appointments on weekdays", 5.0),
    (4, (Category.translation,), "Interprets Arabic and English", 4.0),
    (6, (Category.check_in, Category.emotional_support), "Phone buddy, evenings", 10.0),
    (7, (Category.transport, Category.groceries), "Cargo bike; short errands nearby", 2.0),
)
# completed exchanges: (requester index, offer index, category, hours, description)
EXCHANGES: tuple[tuple[int, int, Category, float, str], ...] = (
    (0, 0, Category.groceries, 1.5, "Groceries for the week; cannot carry heavy bags"),
    (1, 1, Category.prepared_food, 2.0, "A few cooked meals while recovering from surgery"),
    (2, 2, Category.information, 1.0, "Help filling in a housing benefit form"),
    (3, 0, Category.repairs, 2.0, "A dripping kitchen tap"),
    (4, 3, Category.transport, 1.0, "A lift to the eye clinic and back"),
    (5, 4, Category.translation, 1.0, "Interpreting at a parent-teacher meeting"),
)
# open needs of older members: (category, urgency, description)
OPEN_NEEDS: tuple[tuple[Category, int, str], ...] = (
    (Category.groceries, 2, "Milk, bread and fruit; has been unwell this week"),
    (Category.transport, 3, "A lift to a hospital appointment tomorrow morning"),
    (Category.check_in, 1, "Would like a weekly phone call; lives alone since spring"),
    (Category.repairs, 2, "Smoke alarm keeps beeping: needs a new battery, cannot reach it"),
    (Category.prepared_food, 2, "Hot meals for a few days after a fall"),
)
IN_PROGRESS = (Category.transport, 2, "A lift to the pharmacy and the bank", 6)  # + offer index


def _located(people: list[Person], lo: int, hi: int) -> list[Person]:
    return [p for p in people if p.located and p.age is not None and lo <= p.age <= hi]


def _need(person: Person, category: Category, urgency: int, text: str,
          **extra: Any) -> NeedCreate:
    return NeedCreate(category=category, urgency=urgency, description=text, lat=person.lat,
                      lon=person.lon, contact=person.contact, requester_member_id=person.id,
                      **extra)


def seed_aid(session: Session, *, organisation_id: int, community_id: int, user_id: int,
             people: list[Person], rng: np.random.Generator, now: dt.datetime) -> dict[str, Any]:
    """Offers, completed exchanges, one need in progress and open needs (see the module doc)."""
    elders = _located(people, 65, 95)
    helpers = _located(people, 20, 64)
    order = rng.permutation(len(elders))
    circle_elder, requesters = elders[order[0]], [elders[i] for i in order[1:7]]
    circle = [circle_elder, *(helpers[i] for i in rng.choice(len(helpers), 7, replace=False))]

    offers: list[AidOffer] = []
    for who, cats, text, km in OFFERS:
        p = circle[who]
        offers.append(aid.create_offer(
            session, organisation_id=organisation_id, community_id=community_id,
            data=OfferCreate(categories=list(cats), description=text, capacity=2,
                             max_distance_km=km, lat=p.lat, lon=p.lon, contact=p.contact,
                             member_id=p.id),
            channel=Channel.sms if p.phone else Channel.email, user_id=None, dispatcher=True))

    clock = FakeClock(now - dt.timedelta(days=30))  # the last exchange ends 3-15 days ago
    org = organisation_id
    done: list[AidNeed] = []
    for taker, offer_i, category, hours, text in EXCHANGES:
        clock.advance(hours=float(rng.uniform(48, 72)))
        need = aid.create_need(session, community_id=community_id,
                               data=_need(circle[taker], category, 2, text),
                               channel=Channel.sms, organisation_id=org, clock=clock)
        clock.advance(hours=float(rng.uniform(1, 5)))
        workflow.assign(session, need_id=need.id, volunteer_user_id=None,
                        offer_id=offers[offer_i].id, by_user_id=user_id,
                        organisation_id=org, clock=clock)
        clock.advance(hours=float(rng.uniform(12, 30)))
        workflow.start(session, need_id=need.id, user_id=user_id, dispatcher=True,
                       organisation_id=org, clock=clock)
        clock.advance(hours=hours)
        workflow.complete(session, need_id=need.id, user_id=user_id, dispatcher=True,
                          duration_s=int(hours * 3600), organisation_id=org, clock=clock)
        done.append(need)

    category, urgency, text, offer_i = IN_PROGRESS
    clock.set(now - dt.timedelta(hours=3))
    busy = aid.create_need(session, community_id=community_id,
                           data=_need(requesters[0], category, urgency, text),
                           channel=Channel.web, organisation_id=org, clock=clock)
    clock.advance(minutes=40)
    workflow.assign(session, need_id=busy.id, volunteer_user_id=None,
                    offer_id=offers[offer_i].id, by_user_id=user_id, organisation_id=org,
                    clock=clock)
    clock.advance(minutes=50)
    workflow.start(session, need_id=busy.id, user_id=user_id, dispatcher=True,
                   organisation_id=org, clock=clock)

    open_needs: list[AidNeed] = []
    tomorrow = (now + dt.timedelta(days=1)).replace(hour=16, minute=0, second=0, microsecond=0)
    for k, (category, urgency, text) in enumerate(OPEN_NEEDS):
        clock.set(now - dt.timedelta(hours=float(rng.uniform(2, 60))))
        extra: dict[str, Any] = {}
        if category == Category.transport:
            extra = {"window_start": tomorrow, "window_end": tomorrow + dt.timedelta(hours=3)}
        open_needs.append(aid.create_need(
            session, community_id=community_id,
            data=_need(requesters[k + 1], category, urgency, text, **extra),
            channel=(Channel.sms, Channel.email, Channel.web)[k % 3], organisation_id=org,
            clock=clock))
    problems = ledger.verify(session, organisation_id=organisation_id)
    recip = ledger.reciprocity(session, organisation_id=organisation_id, community_id=community_id)
    return {"offers": len(offers), "open_needs": len(open_needs), "in_progress": 1,
            "completed": len(done), "hours_exchanged": recip.total_exchanged_s / 3600,
            "both_give_and_receive": recip.both_give_and_receive, "ledger_problems": problems}
