"""A standalone HTML report for a survey data file: scores, reliability, CFA fit, invariance.

The page is one self-contained HTML string: inline CSS, plots as inline SVG drawn here in Python,
no JavaScript and no external resource, so it opens offline and can be archived or e-mailed.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import numpy as np
import polars as pl

from commonweal.analytics.surveys.cfa import CFAResult, fit_cfa
from commonweal.analytics.surveys.instruments import Instrument
from commonweal.analytics.surveys.invariance import InvarianceResult, measurement_invariance
from commonweal.analytics.surveys.reliability import cronbach_alpha
from commonweal.analytics.surveys.scoring import ScoreResult, score_responses
from commonweal.analytics.surveys.syntax import parse_model
from commonweal.errors import CommonwealError

__all__ = ["build_report", "histogram_svg", "instrument_model", "keyed_items"]

_CSS = """
body{font-family:system-ui,sans-serif;max-width:62rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5rem 0}td,th{padding:.2rem .6rem;text-align:right;
border-bottom:1px solid #eee}th{background:#f4f4f4}.n{white-space:nowrap}
td:first-child,th:first-child{text-align:left}
.warn{background:#fff4e5;border-left:4px solid #e69500;padding:.5rem 1rem}
.muted{color:#666;font-size:.9rem}.plots{display:flex;flex-wrap:wrap;gap:1rem}
figure{margin:0}figcaption{font-size:.85rem;text-align:center}
"""


def _f(x: float | None, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    return f"{x:.{digits}f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    def cell(c: object) -> str:
        text = str(c)
        cls = ' class="n"' if len(text) <= 16 else ""
        return f"<td{cls}>{html.escape(text)}</td>"

    body = "".join("<tr>" + "".join(cell(c) for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def histogram_svg(values: Sequence[float] | np.ndarray, title: str, *, bins: int = 12,
                  width: int = 300, height: int = 180) -> str:
    """An inline SVG histogram of ``values`` (missing values ignored)."""
    x = np.asarray([v for v in values if v is not None], dtype=float)
    x = x[np.isfinite(x)]
    pad_l, pad_b, pad_t = 34, 28, 10
    w, h = width - pad_l - 8, height - pad_b - pad_t
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'role="img" aria-label="{html.escape(title)}">']
    if x.size == 0:
        parts.append(f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle">'
                     "no scores</text>")
        return "".join(parts) + "</svg>"
    levels = np.unique(x)
    if levels.size <= 25:  # discrete scores (sums, means of few items): one bar per value
        step = float(np.min(np.diff(levels))) if levels.size > 1 else 1.0
        lo, hi = float(levels[0]) - step / 2, float(levels[-1]) + step / 2
        bins = int(round((hi - lo) / step))
    else:
        lo, hi = float(x.min()), float(x.max())
    if hi == lo:
        lo, hi = lo - 0.5, hi + 0.5
    counts, edges = np.histogram(x, bins=bins, range=(lo, hi))
    top = max(int(counts.max()), 1)
    bw = w / bins
    for i, c in enumerate(counts):
        bh = h * c / top
        parts.append(f'<rect x="{pad_l + i * bw + 1:.1f}" y="{pad_t + h - bh:.1f}" '
                     f'width="{max(bw - 2, 1):.1f}" height="{bh:.1f}" fill="#4a7fb5">'
                     f"<title>{edges[i]:.2f}-{edges[i + 1]:.2f}: {c}</title></rect>")
    y0 = pad_t + h
    parts.append(f'<line x1="{pad_l}" y1="{y0}" x2="{pad_l + w}" y2="{y0}" stroke="#333"/>')
    parts.append(f'<line x1="{pad_l}" y1="{pad_t}" x2="{pad_l}" y2="{y0}" stroke="#333"/>')
    first, last = (levels[0], levels[-1]) if levels.size <= 25 else (lo, hi)
    for value in (first, last):
        xpos = pad_l + w * (float(value) - lo) / (hi - lo)
        parts.append(f'<text x="{xpos:.1f}" y="{y0 + 14}" font-size="10" '
                     f'text-anchor="middle">{float(value):.3g}</text>')
    parts.append(f'<text x="{pad_l - 4}" y="{pad_t + 8}" font-size="10" text-anchor="end">'
                 f"{top}</text>")
    parts.append(f'<text x="{pad_l + w / 2}" y="{height - 4}" font-size="11" '
                 f'text-anchor="middle">{html.escape(title)} (n = {x.size})</text>')
    return "".join(parts) + "</svg>"


def keyed_items(inst: Instrument, responses: pl.DataFrame) -> pl.DataFrame:
    """Item columns with reverse-keyed items reversed (min + max - value), as floats."""
    exprs = []
    for it in inst.items:
        col = pl.col(it.id).cast(pl.Float64)
        if it.reverse:
            col = min(it.values) + max(it.values) - col
        exprs.append(col.alias(it.id))
    return responses.select(exprs)


def instrument_model(inst: Instrument) -> str | None:
    """A correlated-factors CFA model: one factor per disjoint subscale of two or more items."""
    used: set[str] = set()
    lines = []
    for sub in inst.subscales:
        if len(sub.items) >= 2 and not used & set(sub.items):
            lines.append(f"{sub.id} =~ {' + '.join(sub.items)}")
            used |= set(sub.items)
    return "\n".join(lines) if lines else None


def _cfa_section(res: CFAResult) -> str:
    f = res.fit
    out = ["<h2>Confirmatory factor analysis (ML)</h2>",
           f"<pre>{html.escape(res.model.strip())}</pre>"]
    if res.heywood or res.warnings:
        items = "".join(f"<li>{html.escape(w)}</li>" for w in (*res.heywood, *res.warnings))
        out.append('<div class="warn"><strong>Read before trusting:</strong>'
                   f"<ul>{items}</ul></div>")
    out.append(_table(
        ["chi-square", "df", "p", "CFI", "TLI", "RMSEA (90% CI)", "SRMR", "AIC", "BIC"],
        [[_f(f.chisq), f.df, _f(f.pvalue), _f(f.cfi), _f(f.tli),
          f"{_f(f.rmsea)} ({_f(f.rmsea_ci_lower)}-{_f(f.rmsea_ci_upper)})", _f(f.srmr),
          _f(f.aic, 1), _f(f.bic, 1)]]))
    multi = bool(res.groups)
    rows = [([e.group or ""] if multi else []) + [
             f"{e.lhs} {e.op} {e.rhs}", _f(e.est), _f(e.se), _f(e.z), _f(e.pvalue),
             _f(e.std_all)]
            for e in res.estimates if e.op == "=~" or (e.op == "~~" and e.lhs != e.rhs)]
    lead = ["group"] if multi else []
    out.append(_table([*lead, "parameter", "estimate", "SE", "z", "p", "std.all"], rows))
    out.append(_table([*lead, "factor", "omega"],
                      [([g] if multi else []) + [fac, _f(w)] for g, fac, w in res.omega]))
    return "".join(out)


def _invariance_section(inv: InvarianceResult) -> str:
    rows = [[s.level, _f(s.chisq), s.df, _f(s.cfi), _f(s.rmsea), _f(s.srmr),
             _f(s.delta_chisq), s.delta_df if s.delta_df is not None else "-",
             _f(s.delta_pvalue), _f(s.delta_cfi), _f(s.delta_rmsea),
             s.verdict] for s in inv.steps]
    groups = ", ".join(f"{g} (n = {n})" for g, n in zip(inv.groups, inv.n_obs, strict=True))
    return (f"<h2>Measurement invariance by {html.escape(inv.group)}</h2>"
            f'<p class="muted">Groups: {html.escape(groups)}</p>'
            + _table(["level", "chi-square", "df", "CFI", "RMSEA", "SRMR", "delta chi-sq",
                      "delta df", "p", "delta CFI", "delta RMSEA", "verdict"], rows)
            + f"<p>{html.escape(inv.verdict)}</p>"
            '<p class="muted">A step holds when delta CFI &gt; -0.010 (Cheung &amp; Rensvold '
            "2002) and delta RMSEA &lt; 0.015 (Chen 2007).</p>")


def build_report(
    data: pl.DataFrame,
    *,
    instrument: Instrument | None = None,
    model: str | None = None,
    group: str | None = None,
    title: str | None = None,
    source: str = "",
) -> str:
    """Build the HTML report. Sections that cannot be computed say why instead of failing.

    Parameters
    ----------
    data : polars.DataFrame
        Responses (item columns) or any numeric data the ``model`` refers to.
    instrument : Instrument, optional
        Score the responses and analyse reliability per subscale.
    model : str, optional
        lavaan-style CFA model; defaults to one factor per subscale of ``instrument``.
    group : str, optional
        Column for the invariance sequence.
    """
    parts = [f"<h1>{html.escape(title or 'Survey report')}</h1>",
             f'<p class="muted">{html.escape(source)} {data.height} rows, '
             f"{data.width} columns. Made by commonweal.</p>"]
    analysis = data
    if instrument is not None:
        parts.append(f"<p>Instrument: <strong>{html.escape(instrument.name)}</strong>. "
                     f'<span class="muted">{html.escape(instrument.citation)}</span></p>')
        keep = [c for c in data.columns if c not in instrument.item_ids]
        scored: ScoreResult = score_responses(instrument, data, keep=keep)
        rows = [[s.name, s.scoring, s.missing_rule, s.n, s.n_prorated, s.n_insufficient,
                 _f(s.mean, 2), _f(s.sd, 2),
                 "; ".join(f"{k}: {v}" for k, v in s.bands.items())] for s in scored.summaries]
        parts.append("<h2>Scores</h2>" + _table(
            ["subscale", "scoring", "missing-data rule", "scored", "prorated", "not scored",
             "mean", "SD", "bands"], rows))
        figs = "".join(f"<figure>{histogram_svg(scored.scores[s.subscale].to_list(), s.name)}"
                       "</figure>" for s in scored.summaries)
        parts.append(f'<div class="plots">{figs}</div>')
        analysis = pl.concat([keyed_items(instrument, data),
                              data.select(keep)], how="horizontal")
        model = model or instrument_model(instrument)
    rel_sets: list[tuple[str, list[str]]] = []
    if instrument is not None:
        rel_sets = [(s.name, list(s.items)) for s in instrument.subscales if len(s.items) >= 2]
    elif model:
        spec = parse_model(model)
        rel_sets = [(f, [t.name for t in ts]) for f, ts in spec.factors.items()]
    if rel_sets:
        rows = []
        for name, items in rel_sets:
            try:
                a = cronbach_alpha(analysis, items)
                rows.append([name, len(items), a.n, _f(a.alpha),
                             f"{_f(a.ci_lower)}-{_f(a.ci_upper)}",
                             ", ".join(f"{i.item} {_f(i.item_total_r, 2)}" for i in a.items)])
            except CommonwealError as exc:
                rows.append([name, len(items), "-", "-", "-", exc.message])
        parts.append("<h2>Reliability (Cronbach's alpha, 95% CI)</h2>" + _table(
            ["scale", "items", "n", "alpha", "95% CI", "corrected item-total r"], rows))
    if model:
        try:
            parts.append(_cfa_section(fit_cfa(model, analysis, allow_nonconvergence=True)))
        except CommonwealError as exc:
            parts.append(f'<h2>Confirmatory factor analysis</h2><p class="warn">Not fitted: '
                         f"{html.escape(exc.message)}</p>")
        if group:
            try:
                parts.append(_invariance_section(measurement_invariance(model, analysis, group)))
            except CommonwealError as exc:
                parts.append(f'<h2>Measurement invariance</h2><p class="warn">Not fitted: '
                             f"{html.escape(exc.message)}</p>")
    elif group:
        parts.append('<p class="warn">Invariance needs a model (or an instrument with '
                     "multi-item subscales).</p>")
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title or 'Survey report')}</title><style>{_CSS}</style></head>"
            f"<body>{''.join(parts)}</body></html>")
