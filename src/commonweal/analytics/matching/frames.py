"""Polars frames in, matching records out (the column form of the data contract).

Column names are the field names of :class:`~.model.Need`, :class:`~.model.Offer` and
:class:`~.model.VolunteerState`. Tag columns (``languages``, ``accessibility``, ``skills``,
``categories``) may be list columns or strings separated by ``,`` or ``;``. Offer windows come
either as a ``windows`` list column of ``[start, end]`` pairs, or as ``window_start`` /
``window_end`` columns for a single window (null = any time). Times are numbers (seconds) or
timezone-aware ``Datetime`` columns. Missing optional columns take the record defaults.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl

from commonweal.errors import InputError, Problem

from .model import Need, Offer, VolunteerState

__all__ = ["needs_from_frame", "offers_from_frame", "volunteers_from_frame"]

_NEED_REQUIRED = ("id", "category", "lat", "lon", "window_start", "window_end")
_OFFER_REQUIRED = ("id", "volunteer_id", "categories", "lat", "lon")
_VOL_REQUIRED = ("volunteer_id", "monthly_cap")
_TAGS = ("languages", "accessibility", "skills", "categories")


def _seconds(df: pl.DataFrame, cols: tuple[str, ...], file: str) -> pl.DataFrame:
    problems = []
    for c in cols:
        dtype = df.schema.get(c)
        if isinstance(dtype, pl.Datetime):
            if dtype.time_zone is None:
                problems.append(Problem("datetime column has no time zone", file=file, field=c))
            else:
                df = df.with_columns(pl.col(c).dt.epoch("us").cast(pl.Float64) / 1e6)
    if problems:
        raise InputError(f"{file}: times must be seconds or time-zone-aware datetimes", problems)
    return df


def _check_columns(df: pl.DataFrame, required: tuple[str, ...], file: str) -> None:
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise InputError(
            f"{file}: missing column(s) {', '.join(missing)}",
            [Problem("required column is missing", file=file, field=c) for c in missing],
        )


def _tags(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(t.strip() for t in value.replace(";", ",").split(",") if t.strip())
    return tuple(str(v) for v in value if v is not None)


def _rows(
    df: pl.DataFrame, fields: tuple[str, ...], build: Callable[[dict[str, Any]], Any]
) -> list[Any]:
    out = []
    for row in df.iter_rows(named=True):
        kwargs = {k: v for k, v in row.items() if k in fields and v is not None}
        for t in _TAGS:
            if t in kwargs:
                kwargs[t] = _tags(kwargs[t])
        out.append(build(kwargs))
    return out


def needs_from_frame(df: pl.DataFrame) -> list[Need]:
    """Needs from a polars frame (one row per need); validate them with :func:`~.model.prepare`."""
    _check_columns(df, _NEED_REQUIRED, "needs")
    df = _seconds(df, ("window_start", "window_end"), "needs")
    return _rows(df, tuple(Need.__dataclass_fields__), lambda kw: Need(**kw))


def offers_from_frame(df: pl.DataFrame) -> list[Offer]:
    """Offers from a polars frame (one row per offer)."""
    _check_columns(df, _OFFER_REQUIRED, "offers")
    df = _seconds(df, ("window_start", "window_end"), "offers")
    fields = (*Offer.__dataclass_fields__, "window_start", "window_end")

    def build(kw: dict[str, Any]) -> Offer:
        start, end = kw.pop("window_start", None), kw.pop("window_end", None)
        if "windows" in kw:
            kw["windows"] = tuple(tuple(w) for w in kw["windows"])
        elif start is not None or end is not None:
            kw["windows"] = ((start, end),)
        return Offer(**kw)

    return _rows(df, fields, build)


def volunteers_from_frame(df: pl.DataFrame) -> list[VolunteerState]:
    """Volunteer states from a frame: ``volunteer_id``, ``monthly_cap``, ``taken_this_month``."""
    _check_columns(df, _VOL_REQUIRED, "volunteers")
    return _rows(df, tuple(VolunteerState.__dataclass_fields__), lambda kw: VolunteerState(**kw))
