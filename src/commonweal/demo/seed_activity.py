"""Activity for the demo community, so every capability has something to look at: a survey wave
(:mod:`~commonweal.demo.seed_survey`), mutual aid with a time bank
(:mod:`~commonweal.demo.seed_aid`), check-in plans with a safety check
(:mod:`~commonweal.demo.seed_checkins`), and neighbourhood indicators with an index run
(:mod:`~commonweal.demo.seed_indicators`).

Only the ordinary service functions write (no raw inserts). Each part runs in its own transaction
and only when its capability is still empty for the demo, so a second call adds nothing and an
older demo database gains what it lacks. Choices are drawn from ``numpy`` generators seeded by
``seed`` and the part's name; times are placed relative to ``now`` (the load time), so the check-in
page has today's calls and nothing lies in the future.
"""

from __future__ import annotations

import datetime as dt
import zlib
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from commonweal.clock import SYSTEM_CLOCK, Clock
from commonweal.db.engine import transaction

__all__ = ["seed_activity"]


def _rng(seed: int, part: str) -> Any:
    import numpy as np

    return np.random.default_rng([seed, zlib.crc32(part.encode())])


def _has_survey(s: Session, organisation_id: int, community_id: int) -> bool:
    from commonweal.demo.seed_survey import SURVEY_TITLE
    from commonweal.surveys import service as surveys

    return any(w.title == SURVEY_TITLE for w in surveys.list_surveys(
        s, organisation_id=organisation_id, community_id=community_id))


def _has_aid(s: Session, organisation_id: int, community_id: int) -> bool:
    from commonweal.mutual_aid import service as aid

    _, total = aid.list_needs(s, organisation_id=organisation_id, community_id=community_id,
                              approved=None, limit=1)
    return total > 0 or bool(aid.list_offers(s, organisation_id=organisation_id,
                                             community_id=community_id, active=None))


def _has_checkins(s: Session, organisation_id: int, community_id: int) -> bool:
    from commonweal.checkins import safety
    from commonweal.checkins import service as checkins
    from commonweal.registry.models import Member

    members = set(s.scalars(select(Member.id).where(Member.community_id == community_id)))
    plans = checkins.list_plans(s, organisation_id=organisation_id)
    checks = safety.list_safety_checks(s, organisation_id=organisation_id)
    return any(p.member_id in members for p in plans) or any(
        c.community_id == community_id for c in checks)


def _has_indicators(s: Session, organisation_id: int, community_id: int) -> bool:
    # organisation-scoped: the demo's boundary set or its index run means the part was made
    from commonweal.demo.seed_indicators import BOUNDARY_SET, SPEC_ID
    from commonweal.indicators import boundaries, runs

    return any(b["name"] == BOUNDARY_SET for b in boundaries.list_boundaries(
        s, organisation_id=organisation_id)) or bool(runs.list_runs(
            s, organisation_id=organisation_id, spec_id=SPEC_ID))


def seed_activity(factory: sessionmaker[Session], *, organisation_id: int, community_id: int,
                  user_id: int, seed: int = 7, clock: Clock = SYSTEM_CLOCK) -> dict[str, Any]:
    """Seed what is missing; returns, per part, what was made (``None``: it was there already).

    ``user_id`` is the coordinator who assigns, calls and marks (an admin of the organisation).
    """
    from commonweal.demo._people import people_of

    now = clock.now().astimezone(dt.UTC)
    out: dict[str, Any] = {"survey": None, "mutual_aid": None, "checkins": None,
                           "indicators": None}
    parts = (("survey", _has_survey), ("mutual_aid", _has_aid), ("checkins", _has_checkins),
             ("indicators", _has_indicators))
    for part, exists in parts:
        with transaction(factory) as s:
            if exists(s, organisation_id, community_id):
                continue
            people = people_of(s, organisation_id=organisation_id, community_id=community_id)
            if not people:
                break  # nothing to build on
            rng = _rng(seed, part)
            if part == "survey":
                from commonweal.demo.seed_survey import seed_survey

                out[part] = seed_survey(s, organisation_id=organisation_id,
                                        community_id=community_id, people=people, rng=rng,
                                        today=now.date())
            elif part == "mutual_aid":
                from commonweal.demo.seed_aid import seed_aid

                out[part] = seed_aid(s, organisation_id=organisation_id,
                                     community_id=community_id, user_id=user_id,
                                     people=people, rng=rng, now=now)
            elif part == "checkins":
                from commonweal.demo.seed_checkins import seed_checkins

                out[part] = seed_checkins(s, organisation_id=organisation_id,
                                          community_id=community_id, user_id=user_id,
                                          people=people, rng=rng, now=now)
            else:
                from commonweal.demo.seed_indicators import seed_indicators

                out[part] = seed_indicators(s, organisation_id=organisation_id,
                                            community_id=community_id, user_id=user_id,
                                            people=people, rng=rng, period=str(now.year))
    return out
