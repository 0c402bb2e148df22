"""The report of a wave, computed from the stored answers and scores with the library.

* per-subscale aggregates from ``survey_score`` (n, rules applied, mean, SD, range, band counts,
  a histogram of the scores);
* reliability per subscale of two or more items: Cronbach's alpha with Feldt's 95% CI and the
  corrected item-total correlations (:func:`cronbach_alpha`, on reverse-keyed items);
* a CFA of the instrument's subscale model (one correlated factor per disjoint subscale of two or
  more items, :func:`instrument_model`), fitted by ML (:func:`fit_cfa`) when every factor has at
  least two items and there are enough complete respondents: N >= max(50, 5 per free parameter)
  (the rule of thumb of Bentler & Chou 1987);
* the measurement-invariance sequence by a respondent attribute when asked
  (:func:`measurement_invariance`).

Sections that cannot be computed say why instead of failing. :func:`redact_report` applies the
small-cell suppression for roles that may not read answers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commonweal.errors import CommonwealError, InputError
from commonweal.surveys.models import Survey, SurveyResponse, SurveyScore
from commonweal.surveys.service import (
    answers_frame,
    get_survey_or_raise,
    instrument_of,
    list_surveys,
)

__all__ = ["MIN_CELL", "WaveReport", "community_aggregates", "redact_report", "wave_report"]

MIN_CELL = 5  # aggregates over fewer respondents are not shown to roles that cannot read answers
MIN_CFA_N = 50
N_PER_PARAMETER = 5


@dataclass
class WaveReport:
    """``data`` is the JSON report; ``values`` the scores per subscale (for plots, never JSON)."""

    data: dict[str, Any]
    values: dict[str, list[float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-safe data (non-finite numbers become None)."""
        cleaned: dict[str, Any] = _finite(self.data)
        return cleaned


def _finite(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def _num(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _histogram(values: list[float]) -> dict[str, list[float] | list[int]]:
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return {"edges": [], "counts": []}
    levels = np.unique(x)
    if levels.size <= 25:
        return {"values": levels.tolist(),
                "counts": [int(np.sum(x == v)) for v in levels]}
    counts, edges = np.histogram(x, bins=12)
    return {"edges": edges.tolist(), "counts": counts.astype(int).tolist()}


def _subscales(session: Session, survey: Survey) -> tuple[list[dict[str, Any]],
                                                          dict[str, list[float]]]:
    inst = instrument_of(survey)
    rows = session.execute(
        select(SurveyScore.subscale, SurveyScore.value, SurveyScore.band, SurveyScore.rule)
        .where(SurveyScore.organisation_id == survey.organisation_id,
               SurveyScore.survey_id == survey.id)).all()
    out, values = [], {}
    for sub in inst.subscales:
        mine = [r for r in rows if r[0] == sub.id]
        vals = [float(r[1]) for r in mine if r[1] is not None]
        x = np.asarray(vals, dtype=float)
        bands = {b.label: sum(1 for r in mine if r[2] == b.label) for b in sub.bands}
        out.append({
            "subscale": sub.id, "name": sub.name, "scoring": sub.scoring,
            "missing_rule": sub.missing.describe(), "items": list(sub.items), "n": len(vals),
            "n_complete": sum(1 for r in mine if r[3] == "complete"),
            "n_prorated": sum(1 for r in mine if r[3] == "prorated"),
            "n_insufficient": sum(1 for r in mine if r[3] == "insufficient"),
            "mean": _num(float(x.mean())) if x.size else None,
            "sd": _num(float(x.std(ddof=1))) if x.size > 1 else None,
            "min": _num(float(x.min())) if x.size else None,
            "max": _num(float(x.max())) if x.size else None,
            "bands": bands, "histogram": _histogram(vals)})
        values[sub.id] = vals
    return out, values


def _free_parameters(model: str) -> int:
    from commonweal.analytics.surveys import parse_model

    spec = parse_model(model)
    p = sum(len(ts) for ts in spec.factors.values())
    m = len(spec.factors)
    return (p - m) + p + m * (m + 1) // 2


def wave_report(session: Session, *, organisation_id: int, survey_id: int,
                group: str | None = None) -> WaveReport:
    """Compute the report of a wave (see the module docstring for what is in it)."""
    # imported here, not at module level: the psychometrics need SciPy, which the web app and the
    # CLI should not load at start-up
    from commonweal.analytics.surveys import (
        cronbach_alpha,
        fit_cfa,
        instrument_model,
        keyed_items,
        measurement_invariance,
        parse_model,
    )

    survey = get_survey_or_raise(session, organisation_id=organisation_id, survey_id=survey_id)
    inst = instrument_of(survey)
    attrs = sorted({k for (a,) in session.execute(
        select(SurveyResponse.attributes).where(SurveyResponse.survey_id == survey.id))
        for k in a} - set(inst.item_ids))
    if group is not None and group not in attrs:
        raise InputError(f"no respondent attribute {group!r} in this wave"
                         + (f" (there are: {', '.join(attrs)})" if attrs else ""))
    ids, frame = answers_frame(session, survey, [group] if group else [])
    subscales, values = _subscales(session, survey)
    data: dict[str, Any] = {
        "survey_id": survey.id, "title": survey.title,
        "instrument": {"id": inst.id, "name": inst.name, "citation": inst.citation},
        "n_responses": len(ids), "attributes": attrs, "subscales": subscales,
        "reliability": [], "cfa": None, "invariance": None, "suppressed": False}
    analysis = keyed_items(inst, frame)
    if group:
        analysis = analysis.with_columns(frame[group])
    for sub in inst.subscales:
        if len(sub.items) < 2:
            continue
        row: dict[str, Any] = {"subscale": sub.id, "name": sub.name, "k": len(sub.items)}
        try:
            a = cronbach_alpha(analysis, list(sub.items))
            row.update(n=a.n, alpha=a.alpha, ci_lower=a.ci_lower, ci_upper=a.ci_upper,
                       items=[{"item": i.item, "item_total_r": _num(i.item_total_r),
                               "alpha_if_deleted": i.alpha_if_deleted} for i in a.items])
        except CommonwealError as exc:
            row["error"] = exc.message
        data["reliability"].append(row)
    model = instrument_model(inst)
    cfa: dict[str, Any] = {"model": model, "fitted": False, "reason": None}
    if model is None:
        cfa["reason"] = "the instrument has no subscale of two or more items to model"
    else:
        items = [t.name for ts in parse_model(model).factors.values() for t in ts]
        n_complete = int(np.sum(np.all(np.isfinite(
            analysis.select(items).to_numpy().astype(float)), axis=1)))
        need = max(MIN_CFA_N, N_PER_PARAMETER * _free_parameters(model))
        cfa["n_complete"], cfa["n_needed"] = n_complete, need
        if n_complete < need:
            cfa["reason"] = (f"{n_complete} complete respondents; the CFA needs at least {need} "
                             f"({N_PER_PARAMETER} per free parameter, at least {MIN_CFA_N})")
        else:
            try:
                res = fit_cfa(model, analysis.select(items), allow_nonconvergence=True)
                cfa.update(fitted=True, converged=res.converged, n=res.n_obs[0],
                           fit=res.fit.to_dict(),
                           loadings=[e.to_dict() for e in res.estimates if e.op == "=~"],
                           omega={f: w for _, f, w in res.omega},
                           heywood=list(res.heywood), warnings=list(res.warnings))
            except CommonwealError as exc:
                cfa["reason"] = exc.message
        if group and cfa["fitted"]:
            try:
                inv = measurement_invariance(model, analysis.select([*items, group]), group)
                data["invariance"] = inv.to_dict()
            except CommonwealError as exc:
                data["invariance"] = {"group": group, "error": exc.message}
        elif group:
            data["invariance"] = {"group": group,
                                  "error": "no CFA was fitted, so invariance cannot be tested"}
    data["cfa"] = cfa
    return WaveReport(data, values)


def community_aggregates(session: Session, *, organisation_id: int, community_id: int,
                         min_cell: int = 0) -> list[dict[str, Any]]:
    """Per wave and per subscale: n, mean and SD of the stored scores of a community's waves,
    newest wave first, to follow a measure across waves. Means and SDs of fewer than
    ``min_cell`` scores are None (small-cell suppression)."""
    waves = list_surveys(session, organisation_id=organisation_id, community_id=community_id)
    rows = session.execute(
        select(SurveyScore.survey_id, SurveyScore.subscale, func.count(SurveyScore.value),
               func.avg(SurveyScore.value), func.avg(SurveyScore.value * SurveyScore.value))
        .where(SurveyScore.organisation_id == organisation_id,
               SurveyScore.survey_id.in_([w.id for w in waves]))
        .group_by(SurveyScore.survey_id, SurveyScore.subscale)).all()
    stats = {(r[0], r[1]): (int(r[2]), r[3], r[4]) for r in rows}
    counts = dict(session.execute(
        select(SurveyResponse.survey_id, func.count()).where(
            SurveyResponse.organisation_id == organisation_id,
            SurveyResponse.survey_id.in_([w.id for w in waves]))
        .group_by(SurveyResponse.survey_id)).all())
    out = []
    for w in waves:
        subs = []
        for sub in instrument_of(w).subscales:
            n, mean, sq = stats.get((w.id, sub.id), (0, None, None))
            sd = (math.sqrt(max(float(sq) - float(mean) ** 2, 0.0) * n / (n - 1))
                  if n > 1 and mean is not None and sq is not None else None)
            shown = n >= max(min_cell, 1)
            subs.append({"subscale": sub.id, "name": sub.name, "n": n,
                         "mean": float(mean) if shown and mean is not None else None,
                         "sd": sd if shown else None})
        n_resp = int(counts.get(w.id, 0))
        out.append({"survey_id": w.id, "title": w.title, "instrument_id": w.instrument_id,
                    "opens_on": w.opens_on.isoformat() if w.opens_on else None,
                    "closes_on": w.closes_on.isoformat() if w.closes_on else None,
                    "n_responses": n_resp, "subscales": subs})
    return out


def redact_report(report: WaveReport, min_cell: int = MIN_CELL) -> WaveReport:
    """Small-cell suppression for roles that may not read answers (volunteers).

    With fewer than ``min_cell`` responses nothing but the count is shown. Otherwise subscale
    means and SDs need ``min_cell`` scores, band counts below ``min_cell`` become None ("fewer
    than 5"), the minimum, maximum and histograms (single people's scores) are dropped, and the
    invariance table is dropped when a group has fewer than ``min_cell`` respondents.
    """
    d = dict(report.data)
    d["suppressed"], d["min_cell"] = True, min_cell
    if d["n_responses"] < min_cell:
        d["subscales"] = [{"subscale": s["subscale"], "name": s["name"]} for s in d["subscales"]]
        d["reliability"], d["cfa"], d["invariance"] = [], None, None
        return WaveReport(d, {})
    subs = []
    for s in d["subscales"]:
        s = {k: v for k, v in s.items() if k not in ("min", "max", "histogram")}
        if s["n"] < min_cell:
            s["mean"] = s["sd"] = None
        s["bands"] = {k: (v if v == 0 or v >= min_cell else None) for k, v in s["bands"].items()}
        subs.append(s)
    d["subscales"] = subs
    inv = d.get("invariance")
    if inv and "n_obs" in inv and min(inv["n_obs"]) < min_cell:
        d["invariance"] = {"group": inv["group"],
                           "error": f"a group has fewer than {min_cell} respondents"}
    return WaveReport(d, {})
