"""Turning registry rows into what a caller may see: sensitive fields only with permission (and
audited by the caller), approximate coordinates for everyone else."""

from __future__ import annotations

from collections.abc import Sequence

from commonweal.registry.models import Asset, Member, Tie
from commonweal.registry.schemas import SENSITIVE_MEMBER_FIELDS, AssetRead, MemberRead, TieRead
from commonweal.registry.vocab import LocationPrecision, mask_to_support

__all__ = ["approximate", "asset_read", "member_read", "sensitive_fields_present", "tie_read"]


def approximate(
    lat: float | None, lon: float | None, precision: LocationPrecision
) -> tuple[float | None, float | None]:
    """Coarsen a location for roles that may not see it exactly: ~1 km grid (0.01 degree),
    ~10 km for members whose precision is ``area``."""
    if lat is None or lon is None:
        return None, None
    digits = 1 if precision == LocationPrecision.area else 2
    return round(lat, digits), round(lon, digits)


def member_read(m: Member, *, sensitive: bool) -> MemberRead:
    alat, alon = approximate(m.lat, m.lon, m.location_precision)
    base = MemberRead(
        id=m.id,
        community_id=m.community_id,
        external_id=m.external_id,
        display_name=m.display_name,
        languages=list(m.languages or []),
        birth_year=m.birth_year,
        household=m.household,
        lives_alone=m.lives_alone,
        location_precision=m.location_precision,
        approx_lat=alat,
        approx_lon=alon,
        attributes=dict(m.attributes or {}),
        updated_at=m.updated_at,
    )
    if sensitive:
        for f in SENSITIVE_MEMBER_FIELDS:
            setattr(base, f, getattr(m, f))
        base.sensitive_included = True
    return base


def sensitive_fields_present(members: Sequence[Member]) -> list[str]:
    """Names of the sensitive fields that hold a value in any of these members (for the audit)."""
    return [f for f in SENSITIVE_MEMBER_FIELDS if any(getattr(m, f) is not None for m in members)]


def tie_read(t: Tie, from_name: str | None = None, to_name: str | None = None) -> TieRead:
    return TieRead(
        id=t.id,
        community_id=t.community_id,
        from_member_id=t.from_member_id,
        to_member_id=t.to_member_id,
        from_name=from_name,
        to_name=to_name,
        kind=t.kind,
        support_types=mask_to_support(t.support_mask),
        strength=t.strength,
        reciprocal=t.reciprocal,
        since=t.since,
        source=t.source,
    )


def asset_read(a: Asset, *, sensitive: bool) -> AssetRead:
    r = AssetRead.model_validate(a)
    if not sensitive:
        r.notes = None
    return r
