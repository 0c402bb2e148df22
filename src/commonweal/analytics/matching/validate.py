"""Validation of matching input: records in, :class:`~.model.MatchingProblem` column arrays out.

Every problem is collected (file ``needs``/``offers``/``volunteers``, 1-based row, field) and
raised together as one :class:`~commonweal.errors.InputError`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from commonweal.errors import InputError, Problem

from .model import (
    CATEGORIES,
    URGENCY_LEVELS,
    MatchingProblem,
    Need,
    Offer,
    VolunteerState,
    _as_seconds,
    normalise_category,
)

__all__ = ["prepare"]


def _tags(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({str(v).strip().lower() for v in values if str(v).strip()}))


class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, file: str, row: int, fld: str, message: str) -> None:
        self.problems.append(Problem(message, file=file, row=row, field=fld))


def _check_point(
    c: _Collector, file: str, row: int, lat: object, lon: object
) -> tuple[float, float]:
    out = [0.0, 0.0]
    for k, (name, value, bound) in enumerate((("lat", lat, 90.0), ("lon", lon, 180.0))):
        try:
            v = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            c.add(file, row, name, f"{name} {value!r} is not a number")
            continue
        if not math.isfinite(v) or abs(v) > bound:
            c.add(file, row, name, f"{name} {v} is outside [-{bound:g}, {bound:g}]")
        out[k] = v
    return out[0], out[1]


def _check_window(
    c: _Collector, file: str, row: int, fld: str, start: object, end: object
) -> tuple[float, float] | None:
    try:
        s, e = _as_seconds(start), _as_seconds(end)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        c.add(
            file,
            row,
            fld,
            f"window ({start!r}, {end!r}) is not two times (seconds or aware datetimes)",
        )
        return None
    if not (math.isfinite(s) and math.isfinite(e)):
        c.add(file, row, fld, "window bounds must be finite")
        return None
    if e <= s:
        c.add(file, row, fld, f"window ends ({e:g}) at or before it starts ({s:g})")
        return None
    return s, e


def _check_int(c: _Collector, file: str, row: int, fld: str, value: object, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        c.add(file, row, fld, f"{fld} {value!r} is not a whole number")
        return low
    if value < low:
        c.add(file, row, fld, f"{fld} {value} is below {low}")
        return low
    return int(value)


def _urgency(c: _Collector, row: int, value: object) -> int:
    if isinstance(value, str):
        level = URGENCY_LEVELS.get(value.strip().lower())
        if level is None:
            c.add(
                "needs",
                row,
                "urgency",
                f"unknown urgency {value!r}; use 1-4 or {sorted(URGENCY_LEVELS)}",
            )
            return 2
        return level
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or not 1 <= value <= 4:
        c.add("needs", row, "urgency", f"urgency {value!r} is not 1-4")
        return 2
    return int(value)


def _masks(
    sets: Sequence[tuple[str, ...]], vocab: dict[str, int], words: int
) -> npt.NDArray[np.uint64]:
    out = np.zeros((len(sets), words), dtype=np.uint64)
    for i, tags in enumerate(sets):
        for t in tags:
            b = vocab[t]
            out[i, b >> 6] |= np.uint64(1) << np.uint64(b & 63)
    return out


def _unique_ids(c: _Collector, file: str, ids: Sequence[str]) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, x in enumerate(ids):
        if not isinstance(x, str) or not x:
            c.add(file, i + 1, "id", f"id {x!r} must be a non-empty string")
        elif x in index:
            c.add(file, i + 1, "id", f"duplicate id {x!r} (first at row {index[x] + 1})")
        else:
            index[x] = i
    return index


def prepare(
    needs: Sequence[Need],
    offers: Sequence[Offer],
    volunteers: Sequence[VolunteerState] = (),
    *,
    default_monthly_cap: int = 8,
) -> MatchingProblem:
    """Validate needs, offers and volunteer states and build the column arrays.

    Volunteers of an offer who have no :class:`VolunteerState` get ``default_monthly_cap`` and
    nothing taken yet.

    Raises
    ------
    InputError
        Listing every bad value with its file (``needs``/``offers``/``volunteers``), 1-based row and
        field: unknown category, latitude/longitude out of range, window ending before it starts,
        negative capacity, duplicate ids, unknown urgency ...
    """
    c = _Collector()
    need_index = _unique_ids(c, "needs", [n.id for n in needs])
    offer_index = _unique_ids(c, "offers", [o.id for o in offers])
    n, m = len(needs), len(offers)

    need_cat = np.zeros(n, dtype=np.int64)
    need_ll = np.zeros((n, 2))
    need_win = np.zeros((n, 2))
    need_urg = np.full(n, 2, dtype=np.int64)
    need_q = np.ones(n, dtype=np.int64)
    need_lang, need_acc, need_sk = [], [], []
    vocab: dict[str, int] = {}

    def learn(tags: tuple[str, ...]) -> tuple[str, ...]:
        for t in tags:
            vocab.setdefault(t, len(vocab))
        return tags

    for i, nd in enumerate(needs):
        r = i + 1
        cat = normalise_category(nd.category) if isinstance(nd.category, str) else None
        if cat is None:
            c.add(
                "needs",
                r,
                "category",
                f"unknown category {nd.category!r}; known: {', '.join(CATEGORIES)}",
            )
        else:
            need_cat[i] = CATEGORIES.index(cat)
        need_ll[i] = _check_point(c, "needs", r, nd.lat, nd.lon)
        w = _check_window(c, "needs", r, "window_end", nd.window_start, nd.window_end)
        need_win[i] = w if w is not None else (0.0, 1.0)
        need_urg[i] = _urgency(c, r, nd.urgency)
        need_q[i] = _check_int(c, "needs", r, "quantity", nd.quantity, 1)
        need_lang.append(learn(_tags(nd.languages)))
        need_acc.append(learn(_tags(nd.accessibility)))
        need_sk.append(learn(_tags(nd.skills)))
        if nd.language_required and not nd.languages:
            c.add("needs", r, "languages", "language_required is set but no language is given")

    vol_order: dict[str, int] = {}
    vol_cap: list[int] = []
    vol_taken: list[int] = []
    for i, vs in enumerate(volunteers):
        r = i + 1
        if not isinstance(vs.volunteer_id, str) or not vs.volunteer_id:
            c.add("volunteers", r, "volunteer_id", "volunteer_id must be a non-empty string")
            continue
        if vs.volunteer_id in vol_order:
            c.add("volunteers", r, "volunteer_id", f"duplicate volunteer {vs.volunteer_id!r}")
            continue
        vol_order[vs.volunteer_id] = len(vol_cap)
        vol_cap.append(_check_int(c, "volunteers", r, "monthly_cap", vs.monthly_cap, 0))
        vol_taken.append(_check_int(c, "volunteers", r, "taken_this_month", vs.taken_this_month, 0))

    offer_vol = np.zeros(m, dtype=np.int64)
    offer_cats = np.zeros(m, dtype=np.int64)
    offer_ll = np.zeros((m, 2))
    offer_km = np.ones(m)
    offer_cap = np.zeros(m, dtype=np.int64)
    offer_vet = np.zeros(m, dtype=bool)
    offer_lang, offer_sk = [], []
    win_ptr = [0]
    win_s: list[float] = []
    win_e: list[float] = []
    for j, of in enumerate(offers):
        r = j + 1
        if not isinstance(of.volunteer_id, str) or not of.volunteer_id:
            c.add("offers", r, "volunteer_id", "volunteer_id must be a non-empty string")
        else:
            if of.volunteer_id not in vol_order:
                vol_order[of.volunteer_id] = len(vol_cap)
                vol_cap.append(default_monthly_cap)
                vol_taken.append(0)
            offer_vol[j] = vol_order[of.volunteer_id]
        cats = (of.categories,) if isinstance(of.categories, str) else tuple(of.categories)
        if not cats:
            c.add("offers", r, "categories", "an offer needs at least one category")
        for cat_name in cats:
            cat = normalise_category(cat_name) if isinstance(cat_name, str) else None
            if cat is None:
                c.add(
                    "offers",
                    r,
                    "categories",
                    f"unknown category {cat_name!r}; known: {', '.join(CATEGORIES)}",
                )
            else:
                offer_cats[j] |= 1 << CATEGORIES.index(cat)
        offer_ll[j] = _check_point(c, "offers", r, of.lat, of.lon)
        try:
            km = float(of.max_distance_km)
        except (TypeError, ValueError):
            km = float("nan")
        if not math.isfinite(km) or km <= 0:
            c.add(
                "offers",
                r,
                "max_distance_km",
                f"max_distance_km {of.max_distance_km!r} must be > 0",
            )
            km = 1.0
        offer_km[j] = km
        offer_cap[j] = _check_int(c, "offers", r, "capacity", of.capacity, 0)
        offer_vet[j] = bool(of.vetted)
        offer_lang.append(learn(_tags(of.languages)))
        offer_sk.append(learn(_tags(of.skills)))
        ws: list[tuple[float, float]] = []
        for k, pair in enumerate(of.windows):
            try:
                start, end = pair
            except (TypeError, ValueError):
                c.add("offers", r, f"windows[{k}]", f"window {pair!r} is not a (start, end) pair")
                continue
            w = _check_window(c, "offers", r, f"windows[{k}]", start, end)
            if w is not None:
                ws.append(w)
        merged: list[tuple[float, float]] = []
        for s, e in sorted(ws):
            if merged and s <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], e))
            else:
                merged.append((s, e))
        win_s.extend(s for s, _ in merged)
        win_e.extend(e for _, e in merged)
        win_ptr.append(len(win_s))

    if c.problems:
        raise InputError(f"{len(c.problems)} problem(s) in the matching input", c.problems)

    person_index = {v: k for k, v in enumerate(vol_order)}
    requester = np.array(
        [person_index.get(nd.requester_id, -1) if nd.requester_id else -1 for nd in needs],
        dtype=np.int64,
    )
    words = max(1, (len(vocab) + 63) // 64)
    return MatchingProblem(
        needs=tuple(needs),
        offers=tuple(offers),
        volunteer_ids=tuple(vol_order),
        tags=tuple(sorted(vocab, key=vocab.__getitem__)),
        need_cat=need_cat,
        need_lat=need_ll[:, 0].copy(),
        need_lon=need_ll[:, 1].copy(),
        need_urgency=need_urg,
        need_start=need_win[:, 0].copy(),
        need_end=need_win[:, 1].copy(),
        need_quantity=need_q,
        need_lang=_masks(need_lang, vocab, words),
        need_lang_required=np.array([bool(nd.language_required) for nd in needs], dtype=bool),
        need_access=_masks(need_acc, vocab, words),
        need_skills=_masks(need_sk, vocab, words),
        need_requester=requester,
        offer_vol=offer_vol,
        offer_cats=offer_cats,
        offer_lat=offer_ll[:, 0].copy(),
        offer_lon=offer_ll[:, 1].copy(),
        offer_maxkm=offer_km,
        offer_capacity=offer_cap,
        offer_lang=_masks(offer_lang, vocab, words),
        offer_vetted=offer_vet,
        offer_skills=_masks(offer_sk, vocab, words),
        win_ptr=np.array(win_ptr, dtype=np.int64),
        win_start=np.array(win_s, dtype=np.float64),
        win_end=np.array(win_e, dtype=np.float64),
        vol_cap=np.array(vol_cap, dtype=np.int64),
        vol_taken=np.array(vol_taken, dtype=np.int64),
        need_index=need_index,
        offer_index=offer_index,
    )
