"""Score survey responses with an instrument, vectorised over all respondents.

For each subscale: reverse-keyed items become ``min + max - value``; the score is the ``sum`` or
``mean`` of the items (or the single item for ``item``); the missing-data rule decides whether an
incomplete row is scored (``prorate``: mean of answered items, a sum scaled to all items) and
which rule was applied is recorded per respondent (``<subscale>_rule``: complete, prorated or
insufficient). Bands are attached (``<subscale>_band``).

Validation is strict: a value outside the item's response values, a non-numeric cell, a missing
item column or an unexpected column raises :class:`~commonweal.errors.InputError` naming the row
(header = row 1, as a spreadsheet counts) and column. Nothing is coerced.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import polars as pl

from commonweal.analytics.surveys.instruments import Instrument, Subscale
from commonweal.errors import InputError, Problem

__all__ = ["ScoreResult", "SubscaleSummary", "score_responses"]


@dataclass(frozen=True, slots=True)
class SubscaleSummary:
    subscale: str
    name: str
    scoring: str
    missing_rule: str
    n: int
    n_complete: int
    n_prorated: int
    n_insufficient: int
    mean: float | None
    sd: float | None
    min: float | None
    max: float | None
    bands: dict[str, int]
    converted: bool
    notes: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class ScoreResult:
    """Scores (one row per respondent, same order as the input) and a summary per subscale."""

    instrument: str
    scores: pl.DataFrame
    summaries: tuple[SubscaleSummary, ...]

    def to_dict(self) -> dict[str, object]:
        return {"instrument": self.instrument,
                "summaries": [s.to_dict() for s in self.summaries],
                "scores": self.scores.to_dicts()}


def _check_columns(inst: Instrument, frame: pl.DataFrame, keep: Sequence[str],
                   ignore_unknown: bool, file: str | None) -> None:
    problems = [Problem(f"item column {c!r} is missing", file=file, row=1, field=c)
                for c in inst.item_ids if c not in frame.columns]
    problems += [Problem(f"column {c!r} to keep is missing", file=file, row=1, field=c)
                 for c in keep if c not in frame.columns]
    if not ignore_unknown:
        known = set(inst.item_ids) | set(keep)
        problems += [Problem(f"unknown column {c!r} (not an item of {inst.id}; pass it as a "
                             "column to keep, or ignore unknown columns)", file=file, row=1,
                             field=c)
                     for c in frame.columns if c not in known]
    if problems:
        raise InputError(f"the responses do not match instrument {inst.id}", problems)


def _is_number(v: object) -> bool:
    if isinstance(v, bool):
        return False
    try:
        float(str(v))
    except ValueError:
        return False
    return True


def _matrix(inst: Instrument, frame: pl.DataFrame, file: str | None) -> np.ndarray:
    problems: list[Problem] = []
    cols = []
    for it in inst.items:
        s = frame[it.id]
        dt = s.dtype
        shown = f"{min(it.values)}..{max(it.values)}"
        expected = f"a number in {shown}" if it.continuous else f"one of {shown}"
        if dt == pl.Null:
            cols.append(np.full(frame.height, np.nan))
            continue
        if not dt.is_numeric() or dt == pl.Boolean:
            before = len(problems)
            for i, v in enumerate(s.to_list()):
                if v is None or (isinstance(v, str) and v.strip() == "") or _is_number(v):
                    continue
                problems.append(Problem(f"{v!r} is not a number (expected {expected})",
                                        file=file, row=i + 2, field=it.id))
            if len(problems) == before:
                problems.append(Problem(f"column holds {dt} values, not numbers", file=file,
                                        field=it.id))
            cols.append(np.full(frame.height, np.nan))
            continue
        x = s.cast(pl.Float64).to_numpy().astype(float, copy=True)
        present = ~np.isnan(x)
        bad = present & ~it.allows(x)
        for i in np.flatnonzero(bad)[:200]:
            v = x[i]
            text = str(int(v)) if v.is_integer() else str(v)
            problems.append(Problem(f"{text} is out of range (allowed: {shown})", file=file,
                                    row=int(i) + 2, field=it.id))
        cols.append(x)
    if problems:
        raise InputError(f"{len(problems)} response value(s) are not valid for {inst.id}",
                         problems)
    return np.column_stack(cols) if cols else np.empty((frame.height, 0))


def _band_labels(sub: Subscale, scores: np.ndarray) -> list[str | None]:
    out: list[str | None] = [None] * len(scores)
    for i, v in enumerate(scores):
        if np.isnan(v):
            continue
        for b in sub.bands:
            if b.contains(float(v)):
                out[i] = b.label
                break
    return out


def score_responses(
    instrument: Instrument,
    responses: pl.DataFrame,
    *,
    keep: Sequence[str] = (),
    ignore_unknown: bool = False,
    file: str | None = None,
) -> ScoreResult:
    """Score every respondent on every subscale of ``instrument``.

    Parameters
    ----------
    instrument : Instrument
        From :func:`load_instrument` or an instrument file.
    responses : polars.DataFrame
        One row per respondent, one column per item id; empty cells are missing answers.
    keep : sequence of str
        Extra columns (respondent id, group attributes) copied into the score table.
    ignore_unknown : bool
        Drop unexpected columns instead of raising.
    file : str, optional
        File name used in error messages.

    Returns
    -------
    ScoreResult
        ``scores`` has, per subscale ``s``: ``s`` (score), ``s_answered``, ``s_rule`` and, when
        the subscale has bands, ``s_band``.

    Raises
    ------
    InputError
        Missing item columns, unknown columns, non-numeric cells or out-of-range values, each
        with row and column.

    Examples
    --------
    >>> import polars as pl
    >>> from commonweal.analytics.surveys.instruments import load_instrument
    >>> r = score_responses(load_instrument("ucla3"),
    ...                     pl.DataFrame({"ucla3_1": [1, 3], "ucla3_2": [2, 3], "ucla3_3": [1, 2]}))
    >>> r.scores["loneliness"].to_list(), r.scores["loneliness_band"].to_list()
    ([4.0, 8.0], ['not lonely', 'lonely'])
    """
    if not isinstance(responses, pl.DataFrame):
        raise InputError("responses must be a polars DataFrame (use pl.from_pandas for pandas)")
    _check_columns(instrument, responses, keep, ignore_unknown, file)
    x = _matrix(instrument, responses, file)
    col = {it.id: j for j, it in enumerate(instrument.items)}
    keyed = x.copy()
    for j, it in enumerate(instrument.items):
        if it.reverse:
            keyed[:, j] = min(it.values) + max(it.values) - keyed[:, j]
    out: dict[str, pl.Series] = {c: responses[c] for c in keep}
    summaries = []
    for sub in instrument.subscales:
        idx = [col[i] for i in sub.items]
        block = keyed[:, idx]
        answered = np.sum(~np.isnan(block), axis=1)
        k = len(idx)
        with np.errstate(invalid="ignore"):
            mean = np.nanmean(np.where(answered[:, None] > 0, block, 0.0), axis=1)
        mean = np.where(answered > 0, mean, np.nan)
        ok = answered >= sub.missing.min_answered
        value = mean * k if sub.scoring == "sum" else mean
        value = np.where(ok, value, np.nan)
        rule = np.where(answered == k, "complete", np.where(ok, "prorated", "insufficient"))
        notes: list[str] = []
        converted = False
        if sub.conversion is not None:
            table = sub.conversion
            conv = np.array([table.get(int(v), np.nan) if not np.isnan(v) and float(v).is_integer()
                             else np.nan for v in value])
            lost = int(np.sum(~np.isnan(value) & np.isnan(conv)))
            if lost:
                notes.append(f"{lost} score(s) had no entry in the conversion table (prorated or "
                             "out of table) and are left missing")
            value, converted = conv, True
        elif sub.conversion_note:
            notes.append("raw score reported: " + sub.conversion_note)
        out[sub.id] = pl.Series(sub.id, value, dtype=pl.Float64).fill_nan(None)
        out[f"{sub.id}_answered"] = pl.Series(f"{sub.id}_answered", answered, dtype=pl.Int32)
        out[f"{sub.id}_rule"] = pl.Series(f"{sub.id}_rule", rule.tolist(), dtype=pl.String)
        bands: dict[str, int] = {}
        if sub.bands:
            labels = _band_labels(sub, value)
            out[f"{sub.id}_band"] = pl.Series(f"{sub.id}_band", labels, dtype=pl.String)
            for b in sub.bands:
                bands[b.label] = sum(1 for lab in labels if lab == b.label)
        scored = value[~np.isnan(value)]
        summaries.append(SubscaleSummary(
            subscale=sub.id, name=sub.name, scoring=sub.scoring,
            missing_rule=sub.missing.describe(), n=int(scored.size),
            n_complete=int(np.sum(rule == "complete")),
            n_prorated=int(np.sum(rule == "prorated")),
            n_insufficient=int(np.sum(rule == "insufficient")),
            mean=float(scored.mean()) if scored.size else None,
            sd=float(scored.std(ddof=1)) if scored.size > 1 else None,
            min=float(scored.min()) if scored.size else None,
            max=float(scored.max()) if scored.size else None,
            bands=bands, converted=converted, notes=tuple(notes)))
    return ScoreResult(instrument.id, pl.DataFrame(list(out.values())), tuple(summaries))
