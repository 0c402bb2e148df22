"""Survey tables: a wave (an instrument given to a community between two dates), its responses
(linked to a member, or anonymous) and the stored subscale scores of each response.

Privacy lives in the columns: ``answers``, ``member_id`` and ``respondent_key`` of a response are
*sensitive* (see :mod:`commonweal.surveys.views`); aggregates are computed from ``survey_score``.
The instrument definition is stored with the wave (a snapshot of the bundled file, or the uploaded
definition as given), so a wave is scored the same way even after the bundled file changes.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from commonweal.db.base import Base, TenantMixin, TimestampMixin, utcnow
from commonweal.db.base import str_enum as _enum

__all__ = [
    "InstrumentSource",
    "Survey",
    "SurveyResponse",
    "SurveyScore",
    "SurveyStatus",
]


class SurveyStatus(StrEnum):
    draft = "draft"
    open = "open"
    closed = "closed"


class InstrumentSource(StrEnum):
    bundled = "bundled"  # a snapshot of one of the package's instrument files
    uploaded = "uploaded"  # an instrument definition supplied by the organisation



class Survey(TenantMixin, TimestampMixin, Base):
    """A wave: one instrument given to one community between ``opens_on`` and ``closes_on``."""

    __tablename__ = "survey"
    __table_args__ = (
        CheckConstraint("closes_on IS NULL OR opens_on IS NULL OR closes_on >= opens_on",
                        name="dates_ordered"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    instrument_id: Mapped[str] = mapped_column(String(64))
    instrument_source: Mapped[InstrumentSource] = mapped_column(
        _enum(InstrumentSource, "survey_instrument_source")
    )
    instrument_definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    opens_on: Mapped[dt.date | None]
    closes_on: Mapped[dt.date | None]
    status: Mapped[SurveyStatus] = mapped_column(
        _enum(SurveyStatus, "survey_status"), default=SurveyStatus.draft
    )
    anonymous: Mapped[bool] = mapped_column(default=False)


class SurveyResponse(TenantMixin, Base):
    """One respondent's answers ``{item_id: value}`` (sensitive; reads are audited)."""

    __tablename__ = "survey_response"
    __table_args__ = (UniqueConstraint("survey_id", "respondent_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"),
                                           index=True)
    # erasing a member erases their identified responses (and, by cascade, their scores)
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), index=True
    )
    respondent_key: Mapped[str] = mapped_column(String(100))
    submitted_at: Mapped[dt.datetime | None]
    imported_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    channel: Mapped[str] = mapped_column(String(32))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    # other columns of the import (school, age group, ...): respondent attributes used to group
    # the invariance analysis; quasi-identifiers, so only answer-reading roles see them
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class SurveyScore(TenantMixin, Base):
    """One subscale score of one response, with the missing-data rule applied and the band."""

    __tablename__ = "survey_score"
    __table_args__ = (
        UniqueConstraint("response_id", "subscale"),
        CheckConstraint("rule IN ('complete', 'prorated', 'insufficient')", name="rule"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"),
                                           index=True)
    response_id: Mapped[int] = mapped_column(
        ForeignKey("survey_response.id", ondelete="CASCADE"), index=True
    )
    subscale: Mapped[str] = mapped_column(String(64))
    value: Mapped[float | None] = mapped_column(Float)
    band: Mapped[str | None] = mapped_column(String(100))
    rule: Mapped[str] = mapped_column(String(16))
    answered: Mapped[int] = mapped_column(Integer)
