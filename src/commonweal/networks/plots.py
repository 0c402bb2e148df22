"""Server-drawn inline SVG of the robustness curves (no script, so the page's CSP holds).

The curve of an order plots ``s(Q)``, the share of everyone still in the largest connected body,
against ``Q / N``, the share of people removed in that order; ``R`` is the area under it
(Schneider et al. 2011, PNAS 108:3838).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["ORDER_COLOURS", "robustness_svg"]

# Okabe-Ito colours (distinguishable with colour-vision deficiency)
ORDER_COLOURS: dict[str, str] = {
    "random": "#0072B2",
    "degree": "#D55E00",
    "betweenness": "#009E73",
    "adaptive_degree": "#CC79A7",
    "adaptive_betweenness": "#E69F00",
}
_DASH = {"random": "", "degree": "6 3", "betweenness": "2 3"}


def robustness_svg(curves: Mapping[str, Any], *, width: int = 680, height: int = 320) -> str:
    """Inline SVG of robustness curves given as ``Robustness.to_dict()``.

    Parameters
    ----------
    curves : mapping
        ``removed_share`` (x), ``largest_share`` ({order: y}), ``R`` ({order: index}).

    Examples
    --------
    >>> svg = robustness_svg({"removed_share": [0, 1], "largest_share": {"random": [1, 0]},
    ...                       "R": {"random": 0.5}})
    >>> svg.startswith("<svg") and "random" in svg
    True
    """
    xs: Sequence[float] = curves.get("removed_share", [])
    ys: Mapping[str, Sequence[float]] = curves.get("largest_share", {})
    rs: Mapping[str, float] = curves.get("R", {})
    pad_l, pad_r, pad_t, pad_b = 52, 210, 12, 40
    w, h = width - pad_l - pad_r, height - pad_t - pad_b
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" class="robustness-plot" role="img" '
             'aria-labelledby="rob-title"><title id="rob-title">Share of people still in the '
             "largest connected body as people are removed, per removal order</title>"]

    def px(x: float) -> float:
        return pad_l + w * x

    def py(y: float) -> float:
        return pad_t + h * (1.0 - y)

    for t in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(f'<line x1="{px(0):.1f}" y1="{py(t):.1f}" x2="{px(1):.1f}" y2="{py(t):.1f}" '
                     'stroke="#e4e1d8"/>')
        parts.append(f'<text x="{pad_l - 6}" y="{py(t) + 4:.1f}" font-size="11" '
                     f'text-anchor="end" fill="#535a60">{t:.0%}</text>')
        parts.append(f'<text x="{px(t):.1f}" y="{pad_t + h + 16}" font-size="11" '
                     f'text-anchor="middle" fill="#535a60">{t:.0%}</text>')
    parts.append(f'<line x1="{px(0)}" y1="{py(0)}" x2="{px(1)}" y2="{py(0)}" stroke="#333"/>')
    parts.append(f'<line x1="{px(0)}" y1="{py(0)}" x2="{px(0)}" y2="{py(1)}" stroke="#333"/>')
    parts.append(f'<text x="{pad_l + w / 2}" y="{height - 6}" font-size="12" '
                 'text-anchor="middle">share of people removed</text>')
    parts.append(f'<text x="12" y="{pad_t + h / 2}" font-size="12" text-anchor="middle" '
                 f'transform="rotate(-90 12 {pad_t + h / 2})">largest body</text>')
    for i, (name, y) in enumerate(ys.items()):
        colour = ORDER_COLOURS.get(name, "#333333")
        pts = " ".join(f"{px(float(a)):.1f},{py(float(b)):.1f}"
                       for a, b in zip(xs, y, strict=False))
        dash = _DASH.get(name, "")
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        label = html.escape(name.replace("_", " "))
        r = rs.get(name)
        r_text = f" (R = {r:.3f})" if r is not None else ""
        parts.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2"'
                     f"{dash_attr}><title>{label}{r_text}</title></polyline>")
        ly = pad_t + 14 + 20 * i
        lx = pad_l + w + 12
        parts.append(f'<line x1="{lx}" y1="{ly - 4}" x2="{lx + 22}" y2="{ly - 4}" '
                     f'stroke="{colour}" stroke-width="2"{dash_attr}/>')
        parts.append(f'<text x="{lx + 28}" y="{ly}" font-size="12">{label}{r_text}</text>')
    return "".join(parts) + "</svg>"
