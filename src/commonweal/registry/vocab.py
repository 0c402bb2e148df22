"""The registry's controlled vocabularies, in the language of the field."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "AssetCondition",
    "AssetKind",
    "CommunityKind",
    "ConsentPurpose",
    "GroupKind",
    "LocationPrecision",
    "SUPPORT_BITS",
    "SupportType",
    "TieKind",
    "TieSource",
    "mask_to_support",
    "support_to_mask",
]


class CommunityKind(StrEnum):
    neighbourhood = "neighbourhood"
    team = "team"
    congregation = "congregation"
    village = "village"
    network = "network"
    other = "other"


class LocationPrecision(StrEnum):
    exact = "exact"
    street = "street"
    neighbourhood = "neighbourhood"
    area = "area"


class ConsentPurpose(StrEnum):
    contact = "contact"
    research = "research"
    sharing = "sharing"


class GroupKind(StrEnum):
    team = "team"
    household = "household"
    affinity = "affinity"
    practice = "practice"
    peer_support = "peer_support"
    other = "other"


class TieKind(StrEnum):
    kin = "kin"
    friend = "friend"
    neighbour = "neighbour"
    colleague = "colleague"
    peer_supporter = "peer_supporter"
    mentor = "mentor"
    professional = "professional"
    other = "other"


class TieSource(StrEnum):
    self_report = "self_report"
    observed = "observed"
    exchange = "exchange"


class SupportType(StrEnum):
    emotional = "emotional"
    practical = "practical"
    financial = "financial"
    information = "information"
    companionship = "companionship"


# Support types are stored as a bit mask (one integer column, cheap to load for network analysis).
SUPPORT_BITS: dict[SupportType, int] = {t: 1 << i for i, t in enumerate(SupportType)}


def support_to_mask(types: list[SupportType] | list[str]) -> int:
    mask = 0
    for t in types:
        mask |= SUPPORT_BITS[SupportType(t)]
    return mask


def mask_to_support(mask: int) -> list[SupportType]:
    return [t for t, bit in SUPPORT_BITS.items() if mask & bit]


class AssetKind(StrEnum):
    place = "place"
    facility = "facility"
    equipment = "equipment"
    vehicle = "vehicle"
    skill = "skill"
    organisation = "organisation"
    program = "program"
    fund = "fund"
    trust = "trust"
    other = "other"


class AssetCondition(StrEnum):
    good = "good"
    fair = "fair"
    poor = "poor"
    unknown = "unknown"
