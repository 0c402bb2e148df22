"""Server-side layout and the SVG robustness plot (pure functions)."""

from __future__ import annotations

import numpy as np

from commonweal.analytics.networks import from_arrays, profile_network
from commonweal.networks.layout import drawing, layout_positions, pick_people
from commonweal.networks.plots import robustness_svg


def test_layout_separates_pieces_and_keeps_ties_short() -> None:
    # two 6-cycles and two people without ties
    u = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    v = [1, 2, 3, 4, 5, 0, 7, 8, 9, 10, 11, 6]
    xy = layout_positions(14, u, v)
    assert xy.shape == (14, 2) and np.isfinite(xy).all()
    assert len({tuple(p) for p in np.round(xy, 3)}) == 14
    a, b = xy[:6].mean(axis=0), xy[6:12].mean(axis=0)
    spread = max(np.linalg.norm(xy[:6] - a, axis=1).max(), np.linalg.norm(xy[6:12] - b, axis=1).max())
    assert np.linalg.norm(a - b) > 2 * spread  # the pieces do not overlap
    tie = np.linalg.norm(xy[u] - xy[v], axis=1)
    assert tie.max() < 2.5 * tie.min()  # a cycle drawn as a ring, not a tangle


def test_pick_people_caps_flagged_first() -> None:
    deg = np.array([5, 0, 3, 9, 1], dtype=np.int64)
    pri = np.array([False, True, False, False, False])
    assert pick_people(deg, pri, 10).tolist() == [0, 1, 2, 3, 4]
    assert pick_people(deg, pri, 3).tolist() == [0, 1, 3]


def test_drawing_marks_the_cut_vertex_and_mutual_ties() -> None:
    # 0 <-> 1 both ways, 1 -> 2: 1 is the articulation point
    p = profile_network(from_arrays([0, 1, 1], [1, 0, 2], n=3))
    d = drawing(p, cap=10)
    flags = {n["id"]: n["flag"] for n in d["nodes"]}
    assert flags["1"] == "articulation_point" and flags["2"] == "isolated"
    assert sorted(map(tuple, d["edges"])) == [(0, 1, 1), (1, 2, 0)]


def test_robustness_svg_has_one_line_per_order() -> None:
    p = profile_network(from_arrays([0, 1, 2, 3], [1, 2, 3, 0], n=5))
    svg = robustness_svg(p.robustness.to_dict(11))
    assert svg.count("<polyline") == 3 and "betweenness" in svg and "<script" not in svg
    assert f"R = {p.robustness.index('degree'):.3f}" in svg
