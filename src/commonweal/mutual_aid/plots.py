"""Server-drawn inline SVG for the time bank (no script, so the page's CSP holds)."""

from __future__ import annotations

import html
from collections.abc import Sequence

__all__ = ["give_receive_svg"]

GIVEN, RECEIVED = "#009E73", "#D55E00"  # Okabe-Ito: readable with colour-vision deficiency


def give_receive_svg(rows: Sequence[tuple[str, float, float]], *, width: int = 680,
                     bar: int = 18) -> str:
    """Diverging bars: hours each member gave (right, green) and received (left, orange).

    ``rows`` are ``(name, given_hours, received_hours)``, drawn in the given order.

    Examples
    --------
    >>> svg = give_receive_svg([("Ada", 2.0, 0.5), ("Ben", 0.0, 1.5)])
    >>> svg.startswith("<svg") and "Ada" in svg and "2.0 h given" in svg
    True
    """
    label_w, pad_t, pad_b = 150, 24, 8
    half = (width - label_w - 20) / 2
    mid = label_w + 10 + half
    top = max([max(g, r) for _, g, r in rows] + [1e-9])
    height = pad_t + pad_b + bar * len(rows)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" class="give-receive-plot" role="img" '
             'aria-labelledby="gr-title"><title id="gr-title">Hours each member gave (right) and '
             "received (left) through the time bank</title>",
             f'<text x="{mid - 6:.1f}" y="14" text-anchor="end" font-size="12" '
             f'fill="{RECEIVED}">received</text>',
             f'<text x="{mid + 6:.1f}" y="14" font-size="12" fill="{GIVEN}">gave</text>']
    for i, (name, given, received) in enumerate(rows):
        y = pad_t + i * bar
        wr, wg = half * received / top, half * given / top
        parts.append(f'<text x="{label_w}" y="{y + bar * 0.7:.1f}" text-anchor="end" '
                     f'font-size="12">{html.escape(name)}</text>')
        parts.append(f'<rect x="{mid - wr:.1f}" y="{y + 2}" width="{wr:.1f}" height="{bar - 4}" '
                     f'fill="{RECEIVED}"><title>{html.escape(name)}: {received:.1f} h received'
                     "</title></rect>")
        parts.append(f'<rect x="{mid:.1f}" y="{y + 2}" width="{wg:.1f}" height="{bar - 4}" '
                     f'fill="{GIVEN}"><title>{html.escape(name)}: {given:.1f} h given</title></rect>')
    parts.append(f'<line x1="{mid:.1f}" y1="{pad_t - 4}" x2="{mid:.1f}" y2="{height - pad_b}" '
                 'stroke="#555"/></svg>')
    return "".join(parts)
