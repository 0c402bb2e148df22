"""Pydantic schemas of survey waves, responses and scores (``XCreate``, ``XUpdate``, ``XRead``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from commonweal.registry.schemas import Page
from commonweal.surveys.models import InstrumentSource, SurveyStatus

__all__ = [
    "Page",
    "ResponseRead",
    "ScoreRead",
    "SurveyCreate",
    "SurveyRead",
    "SurveyUpdate",
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def _check_dates(opens_on: dt.date | None, closes_on: dt.date | None) -> None:
    if opens_on is not None and closes_on is not None and closes_on < opens_on:
        raise ValueError("closes_on is before opens_on")


class SurveyCreate(_In):
    """A wave. Name a bundled instrument (``instrument_id``) or upload a definition (the TOML
    schema of ``docs/surveys.md`` as a JSON object, ``instrument_definition``), not both."""

    title: str = Field(min_length=1, max_length=200)
    instrument_id: str | None = Field(default=None, min_length=1, max_length=64)
    instrument_definition: dict[str, Any] | None = None
    opens_on: dt.date | None = None
    closes_on: dt.date | None = None
    status: SurveyStatus = SurveyStatus.draft
    anonymous: bool = False

    @model_validator(mode="after")
    def _one_instrument(self) -> SurveyCreate:
        if (self.instrument_id is None) == (self.instrument_definition is None):
            raise ValueError("give either instrument_id (bundled) or instrument_definition")
        _check_dates(self.opens_on, self.closes_on)
        return self


class SurveyUpdate(_In):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    opens_on: dt.date | None = None
    closes_on: dt.date | None = None
    status: SurveyStatus | None = None

    @model_validator(mode="after")
    def _dates(self) -> SurveyUpdate:
        _check_dates(self.opens_on, self.closes_on)
        return self


class SurveyRead(_Out):
    id: int
    community_id: int
    title: str
    instrument_id: str
    instrument_source: InstrumentSource
    opens_on: dt.date | None
    closes_on: dt.date | None
    status: SurveyStatus
    anonymous: bool
    created_at: dt.datetime


class ResponseRead(BaseModel):
    """One response. ``member_id``, ``respondent_key`` and ``submitted_at`` are None for roles that
    get de-identified data (researchers); ``submitted_on`` (the date only) is always given."""

    id: int
    survey_id: int
    member_id: int | None
    respondent_key: str | None
    submitted_at: dt.datetime | None
    submitted_on: dt.date | None
    channel: str
    answers: dict[str, Any]
    attributes: dict[str, Any]


class ScoreRead(BaseModel):
    response_id: int
    member_id: int | None
    respondent_key: str | None
    subscale: str
    value: float | None
    band: str | None
    rule: str
    answered: int
