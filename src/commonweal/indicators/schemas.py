"""Pydantic schemas of the indicators API: reads of geographies, indicators, values and runs, and
the inputs that start an index run or an uncertainty analysis."""

from __future__ import annotations

import datetime as dt
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "GeographyRead",
    "IndicatorRead",
    "Page",
    "ResultRead",
    "RunCreate",
    "RunRead",
    "UncertaintyCreate",
    "UncertaintyRead",
    "ValueRead",
]

T = TypeVar("T")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class GeographyRead(_Out):
    id: int
    code: str
    name: str
    level: str
    parent_id: int | None


class IndicatorRead(_Out):
    id: int
    code: str
    name: str
    domain: str | None
    direction: int
    unit: str | None
    source: str | None
    notes: str | None


class ValueRead(_Out):
    geography: str
    geography_name: str
    indicator: str
    period: str
    value: float | None
    moe: float | None


class RunCreate(_In):
    """Compute an index over the values stored for ``period``: a bundled spec (by name, e.g.
    ``cdc-svi-2018-county`` or ``svi2018``) or the spec's TOML text."""

    period: str = Field(min_length=1, max_length=32)
    spec: str | None = Field(default=None, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")
    spec_toml: str | None = Field(default=None, max_length=200_000)

    @model_validator(mode="after")
    def _one_spec(self) -> RunCreate:
        if (self.spec is None) == (self.spec_toml is None):
            raise ValueError("give exactly one of spec (a bundled name) or spec_toml")
        if self.spec is not None and ("/" in self.spec or self.spec.endswith(".toml")):
            raise ValueError("spec names a bundled specification; send a file as spec_toml")
        return self


class RunRead(_Out):
    id: int
    spec_id: str
    spec_name: str
    spec_hash: str
    period: str
    index_column: str
    parameters: dict[str, Any]
    status: str
    n_units: int
    uncertainty: dict[str, Any] | None
    created_by: int | None
    created_at: dt.datetime


class ResultRead(_Out):
    code: str
    name: str
    score: float | None
    rank: int | None
    percentile: float | None
    flags: int | None
    outputs: dict[str, Any]


class UncertaintyCreate(_In):
    """A Monte-Carlo rank analysis (see ``commonweal index uncertainty``); runs in the request,
    so the number of draws is capped here (use the CLI with ``--backend dask`` for big runs)."""

    n_draws: int = Field(default=200, ge=1, le=2000)
    seed: int = Field(default=0, ge=0)
    normalisations: list[str] = Field(default_factory=list, max_length=10)
    imputations: list[str] = Field(default_factory=list, max_length=10)
    aggregations: list[str] = Field(default_factory=list, max_length=10)
    weight_concentration: float | None = Field(default=None, gt=0)


class UncertaintyJobCreate(UncertaintyCreate):
    """The same analysis run by ``commonweal worker`` outside the request (up to 20,000 draws)."""

    n_draws: int = Field(default=1000, ge=1, le=20_000)


class UncertaintyRead(_Out):
    code: str
    name: str
    nominal_rank: float | None
    median_rank: float | None
    rank_p05: float | None
    rank_p95: float | None
    interval_width: float | None
    mean_abs_shift: float | None
