"""Indicator tables: geographies, indicators, their values per period, index runs and results.

Everything is organisation-scoped (a county planner's data is theirs): geographies and indicators
are unique by code *within* an organisation, so two organisations may both hold county ``01001``.

- ``geography``: FIPS/GEOID or custom code, name, level, parent (a tree: nation > state > county
  > tract, or custom neighbourhoods).
- ``indicator``: code, name, domain (social, economic, physical, institutional, natural),
  direction (+1 = higher is more of what the index measures), unit, source, notes.
- ``indicator_value``: one value (nullable = missing) and margin of error per geography x
  indicator x period (unique).
- ``index_run``: one computation of an index spec over one period. The spec's TOML text and its
  SHA-256 are stored, so a run can be re-derived and audited after the bundled file changes.
- ``index_result``: run x geography: score, rank (1 = highest score), percentile, and every other
  output column of the spec (theme scores, indicator percentiles, flags) as JSON.
- ``index_uncertainty``: run x geography: Monte-Carlo rank distribution (nominal, median, 5th and
  95th percentile, mean absolute shift). The analysis parameters live on the run.
- ``boundary_set``: an organisation's own map boundaries (wards, districts, villages...): a named
  set of GeoJSON geometries keyed by geography code, drawn instead of the bundled US counties.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from commonweal.db.base import Base, TenantMixin, TimestampMixin
from commonweal.db.base import str_enum as _enum

__all__ = [
    "BoundarySet",
    "Domain",
    "Geography",
    "GeographyLevel",
    "IndexResult",
    "IndexRun",
    "IndexUncertainty",
    "Indicator",
    "IndicatorValue",
    "RunStatus",
]


class GeographyLevel(StrEnum):
    nation = "nation"
    state = "state"
    county = "county"
    tract = "tract"
    block_group = "block_group"
    neighbourhood = "neighbourhood"
    custom = "custom"


class Domain(StrEnum):
    """The five resilience domains (NIST / BRIC capitals, grouped)."""

    social = "social"
    economic = "economic"
    physical = "physical"  # built environment and infrastructure
    institutional = "institutional"
    natural = "natural"


class RunStatus(StrEnum):
    running = "running"
    done = "done"
    failed = "failed"



class BoundarySet(TenantMixin, TimestampMixin, Base):
    """Map boundaries of an organisation: ``features`` maps a geography code to
    ``{"name": ..., "geometry": <GeoJSON Polygon or MultiPolygon, EPSG:4326>}``."""

    __tablename__ = "boundary_set"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    n_features: Mapped[int] = mapped_column(Integer)
    features: Mapped[dict[str, Any]] = mapped_column(JSON)


class Geography(TenantMixin, TimestampMixin, Base):
    __tablename__ = "geography"
    __table_args__ = (UniqueConstraint("organisation_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[GeographyLevel] = mapped_column(_enum(GeographyLevel, "geography_level"))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("geography.id", ondelete="SET NULL"), index=True
    )


class Indicator(TenantMixin, TimestampMixin, Base):
    __tablename__ = "indicator"
    __table_args__ = (
        UniqueConstraint("organisation_id", "code"),
        CheckConstraint("direction IN (-1, 1)", name="direction_sign"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    domain: Mapped[Domain | None] = mapped_column(_enum(Domain, "indicator_domain"))
    direction: Mapped[int] = mapped_column(Integer, default=1)
    unit: Mapped[str | None] = mapped_column(String(50))
    source: Mapped[str | None] = mapped_column(String(300))
    notes: Mapped[str | None] = mapped_column(Text)


class IndicatorValue(TenantMixin, Base):
    __tablename__ = "indicator_value"
    __table_args__ = (
        UniqueConstraint("geography_id", "indicator_id", "period"),
        Index("ix_indicator_value_indicator_period", "indicator_id", "period"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    geography_id: Mapped[int] = mapped_column(ForeignKey("geography.id", ondelete="CASCADE"))
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(32))
    value: Mapped[float | None] = mapped_column(Float)
    moe: Mapped[float | None] = mapped_column(Float)


class IndexRun(TenantMixin, TimestampMixin, Base):
    __tablename__ = "index_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    spec_id: Mapped[str] = mapped_column(String(100), index=True)
    spec_name: Mapped[str] = mapped_column(String(200))
    spec_hash: Mapped[str] = mapped_column(String(64))
    spec_source: Mapped[str] = mapped_column(Text)  # the TOML text the run was computed with
    period: Mapped[str] = mapped_column(String(32))
    index_column: Mapped[str] = mapped_column(String(100))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[RunStatus] = mapped_column(_enum(RunStatus, "index_run_status"))
    n_units: Mapped[int] = mapped_column(Integer, default=0)
    uncertainty: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # parameters and summary
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )


class IndexResult(TenantMixin, Base):
    __tablename__ = "index_result"
    __table_args__ = (UniqueConstraint("run_id", "geography_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("index_run.id", ondelete="CASCADE"))
    geography_id: Mapped[int] = mapped_column(
        ForeignKey("geography.id", ondelete="CASCADE"), index=True
    )
    score: Mapped[float | None] = mapped_column(Float)
    rank: Mapped[int | None] = mapped_column(Integer)
    percentile: Mapped[float | None] = mapped_column(Float)
    outputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    flags: Mapped[int | None] = mapped_column(Integer)


class IndexUncertainty(TenantMixin, Base):
    __tablename__ = "index_uncertainty"
    __table_args__ = (UniqueConstraint("run_id", "geography_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("index_run.id", ondelete="CASCADE"))
    geography_id: Mapped[int] = mapped_column(
        ForeignKey("geography.id", ondelete="CASCADE"), index=True
    )
    nominal_rank: Mapped[float | None] = mapped_column(Float)
    median_rank: Mapped[float | None] = mapped_column(Float)
    rank_p05: Mapped[float | None] = mapped_column(Float)
    rank_p95: Mapped[float | None] = mapped_column(Float)
    mean_abs_shift: Mapped[float | None] = mapped_column(Float)
