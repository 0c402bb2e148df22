"""The demo community's people as the activity seeders see them: read once from the registry, in
import order, so every seeded choice is a function of the seed and the stored community."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, union_all
from sqlalchemy.orm import Session, selectinload

from commonweal.registry.models import Member, Tie
from commonweal.registry.service import current_consents
from commonweal.registry.vocab import ConsentPurpose

__all__ = ["REFERENCE_YEAR", "Person", "people_of"]

REFERENCE_YEAR = 2025  # the demo generator's "this year" (fixed, so ages never depend on the clock)


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    external_id: str
    name: str
    age: int | None
    lives_alone: bool
    lat: float | None
    lon: float | None
    phone: str | None
    email: str | None
    research: bool  # research consent in force
    degree: int  # people tied to them, either direction

    @property
    def located(self) -> bool:
        return self.lat is not None and self.lon is not None

    @property
    def contact(self) -> str | None:
        return self.phone or self.email


def people_of(session: Session, *, organisation_id: int, community_id: int) -> list[Person]:
    """Every member of the community with what the seeders need, ordered by member id."""
    ends = union_all(
        select(Tie.from_member_id.label("m"), Tie.to_member_id.label("o")).where(
            Tie.community_id == community_id),
        select(Tie.to_member_id.label("m"), Tie.from_member_id.label("o")).where(
            Tie.community_id == community_id),
    ).subquery()
    degree: dict[int, int] = {
        int(m): int(n) for m, n in session.execute(
            select(ends.c.m, func.count(func.distinct(ends.c.o))).group_by(ends.c.m))}
    members = session.scalars(
        select(Member).where(Member.organisation_id == organisation_id,
                             Member.community_id == community_id)
        .options(selectinload(Member.consents)).order_by(Member.id))
    out = []
    for m in members:
        research = current_consents(m).get(ConsentPurpose.research)  # the registry's rule
        out.append(Person(m.id, m.external_id, m.display_name,
                          REFERENCE_YEAR - m.birth_year if m.birth_year is not None else None,
                          bool(m.lives_alone), m.lat, m.lon, m.phone, m.email,
                          bool(research and research.granted), int(degree.get(m.id, 0))))
    return out
