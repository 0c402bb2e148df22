"""Continuous items: a storage-side extension of the library's instrument schema.

The library's instruments have Likert items (integer response values; anything else is rejected).
A wave may also measure continuous scores -- test scores such as the Holzinger-Swineford tests, a
visual analogue scale -- by marking an item of an uploaded definition ``continuous = true``; its
options give the allowed range (lowest and highest value). Such a value must be a finite number
in that range; it is scored by the library exactly like a response value (reverse keying
``min + max - value`` over the declared range, sum/mean, missing-data rules, bands), through an
instrument whose continuous items list the observed values as their allowed values.

This works around the library, which has no continuous items (``analytics/surveys`` is owned by
another engineer); it relies on :class:`ResponseOption` not checking the type of ``value``.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

from commonweal.analytics.surveys.instruments import Instrument, ResponseOption
from commonweal.errors import InputError, Problem

if TYPE_CHECKING:
    import polars as pl  # annotations only: this module is imported at web and CLI start-up

__all__ = ["continuous_items", "scoring_instrument"]


def continuous_items(definition: dict[str, Any]) -> set[str]:
    """Ids of the items a stored definition marks ``continuous = true``."""
    return {str(it.get("id")) for it in definition.get("items", [])
            if isinstance(it, dict) and it.get("continuous") is True}


def scoring_instrument(definition: dict[str, Any], inst: Instrument, frame: pl.DataFrame,
                       file: str) -> Instrument:
    """``inst`` ready to score ``frame``: continuous items checked and their observed values allowed.

    Raises
    ------
    InputError
        A continuous item's cell is not a finite number in the declared range (row and column).
    """
    cont = continuous_items(definition)
    if not cont:
        return inst
    problems: list[Problem] = []
    items = []
    for it in inst.items:
        if it.id not in cont or it.id not in frame.columns:
            items.append(it)
            continue
        lo, hi = min(it.values), max(it.values)
        observed: set[float] = set()
        for i, v in enumerate(frame[it.id].to_list()):
            if v is None or (isinstance(v, str) and not v.strip()):
                continue
            try:
                x = float(v)
            except (TypeError, ValueError):
                problems.append(Problem(f"{v!r} is not a number", file=file, row=i + 2,
                                        field=it.id))
                continue
            if not math.isfinite(x) or not lo <= x <= hi:
                problems.append(Problem(f"{v} is outside {lo}..{hi}", file=file, row=i + 2,
                                        field=it.id))
                continue
            observed.add(x)
        values = sorted(observed | {float(lo), float(hi)})
        options = tuple(ResponseOption(cast(int, x), "") for x in values)
        items.append(replace(it, options=options))
    if problems:
        raise InputError(f"{file}: {len(problems)} value(s) of continuous items are not valid",
                         problems[:200])
    return replace(inst, items=tuple(items))
