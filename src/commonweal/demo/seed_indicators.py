"""Indicators for the demo community: small neighbourhoods tiling the members' homes, each
with measures read off the registry, drawn from the organisation's own boundary set, and a small
composite index run over them with its rank uncertainty.

The real indicator data (CDC SVI) live outside the repository, so the demo derives its values from
what the demo registry holds: who lives alone, who has nobody to turn to, how many supporters
people name, and the community's assets. One measure is synthetic and says so in its code, name
and notes; it is stored for the indicator pages and left out of the index.

Writes go through the ordinary indicator services only: ``load_geographies``, ``load_values``,
``store_boundaries``, ``run_index`` and ``run_uncertainty_for``.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commonweal.demo._people import Person

__all__ = [
    "BOUNDARY_SET",
    "NEIGHBOURHOODS",
    "INDEX_SPEC",
    "SPEC_ID",
    "SYNTHETIC",
    "neighbourhood_boxes",
    "seed_indicators",
]

NEIGHBOURHOODS = 24  # ~16 of the 400 members each
BOUNDARY_SET = "neighbourhoods"
SPEC_ID = "demo-neighbourhood-fabric"
SYNTHETIC = "tree_canopy_pct_synthetic"
DRAWS = 200
_PAD = 0.0005  # degrees (~50 m) around the bounding box, so the outermost homes lie inside

# Higher = a stronger social fabric: fewer people on their own or without anyone to turn to, more
# supporters, more shared assets. Min-max within the demo's neighbourhoods, equal weights within
# each theme, the two themes averaged.
INDEX_SPEC = f"""
[index]
id = "{SPEC_ID}"
name = "Neighbourhood fabric index (demo)"
unit = "code"
source = "commonweal demo registry (synthetic community)"
reference = "docs/demo.md"

[defaults.indicator]
normalise = "minmax"
domain = "social"
round = 4

[defaults.node]
aggregate = "arithmetic"
score_round = 4
score_output = "{{code}}"

[[node]]
code = "FABRIC"
name = "Neighbourhood fabric"

[[node]]
code = "TIES"
name = "Support network"
parent = "FABRIC"

[[node]]
code = "ASSETS"
name = "Shared assets"
parent = "FABRIC"

[[indicator]]
code = "ISOLATED"
column = "isolated_pct"
name = "Members with no one to turn to"
parent = "TIES"
direction = -1
unit = "%"
notes = "Share of the neighbourhood's members with no outgoing support tie."

[[indicator]]
code = "ALONE"
column = "living_alone_pct"
name = "Members living alone"
parent = "TIES"
direction = -1
unit = "%"

[[indicator]]
code = "SUPPORTERS"
column = "supporters_mean"
name = "Supporters per member"
parent = "TIES"
unit = "people"
notes = "Mean number of distinct people a member turns to (outgoing support ties)."

[[indicator]]
code = "ASSETS_PER_100"
column = "assets_per_100"
name = "Community assets per 100 members"
parent = "ASSETS"
domain = "physical"
unit = "per 100 people"
notes = "Assets placed at their own coordinates, else at their steward's home."
"""

_OTHER_META: dict[str, dict[str, Any]] = {
    "members": {"name": "Members placed in the neighbourhood", "domain": "social",
                "direction": 1, "unit": "people",
                "source": "commonweal demo registry (synthetic community)",
                "notes": "Members with coordinates whose home falls in the neighbourhood."},
    SYNTHETIC: {"name": "Tree canopy cover (SYNTHETIC, random)", "domain": "natural",
                "direction": 1, "unit": "%", "source": "synthetic: random numbers, not a survey",
                "notes": "Drawn at random for the demo, not derived from anything; "
                         "not part of the index."},
}


Box = tuple[float, float, float, float]  # south, west, north, east (degrees)


def _split(points: list[tuple[float, float]], box: Box, leaves: int) -> list[Box]:
    """Cut ``box`` into ``leaves`` rectangles holding about equally many ``points``: across its
    longer side, between two distinct coordinates, recursively (a k-d tree)."""
    if leaves <= 1 or len(points) < 2:
        return [box]
    s, w, n, e = box
    tall = (n - s) >= (e - w) * math.cos(math.radians((n + s) / 2))
    for axis in ((0, 1) if tall else (1, 0)):
        vals = sorted(p[axis] for p in points)
        cuts = [i for i in range(1, len(vals)) if vals[i - 1] < vals[i]]
        if cuts:
            break
    else:
        return [box]  # every point at one place: nothing to cut between
    want = len(vals) * (leaves // 2) / leaves
    k = min(cuts, key=lambda i: (abs(i - want), i))
    cut = (vals[k - 1] + vals[k]) / 2
    low = [p for p in points if p[axis] < cut]
    high = [p for p in points if p[axis] > cut]
    n_low = min(leaves - 1, max(1, round(leaves * len(low) / len(points))))
    lo, hi = ((s, w, cut, e), (cut, w, n, e)) if axis == 0 else ((s, w, n, cut), (s, cut, n, e))
    return _split(low, lo, n_low) + _split(high, hi, leaves - n_low)


def neighbourhood_boxes(points: Sequence[tuple[float, float]], n: int = NEIGHBOURHOODS
                        ) -> dict[str, Box]:
    """Up to ``n`` rectangles tiling the bounding box of ``points`` (lat, lon), padded by about
    50 m, each holding about as many points as the others (as census tracts are drawn to hold
    similar populations); coded N01... from the north-west, in reading order."""
    pts = list(points)
    box = (min(p[0] for p in pts) - _PAD, min(p[1] for p in pts) - _PAD,
           max(p[0] for p in pts) + _PAD, max(p[1] for p in pts) + _PAD)
    boxes = sorted(_split(pts, box, n), key=lambda b: (-round(b[2], 9), round(b[1], 9)))
    return {f"N{k:02d}": b for k, b in enumerate(boxes, start=1)}


def _locate(boxes: dict[str, Box], lat: float, lon: float) -> str | None:
    """The neighbourhood holding a point (the first one, on a shared edge), or None outside."""
    for code, (s, w, n, e) in boxes.items():
        if s <= lat <= n and w <= lon <= e:
            return code
    return None


def _feature(code: str, name: str, box: Box) -> dict[str, Any]:
    s, w, n, e = (round(v, 6) for v in box)
    ring = [[w, s], [e, s], [e, n], [w, n], [w, s]]  # lon/lat, counter-clockwise, closed
    return {"type": "Feature", "properties": {"code": code, "name": name},
            "geometry": {"type": "Polygon", "coordinates": [ring]}}


def _share_moe(k: int, n: int) -> tuple[float, float]:
    """Percentage and its 95 % margin (normal approximation) of ``k`` out of ``n``."""
    p = k / n
    return round(100 * p, 2), round(196 * math.sqrt(p * (1 - p) / n), 2)


def seed_indicators(s: Session, *, organisation_id: int, community_id: int, user_id: int,
                    people: list[Person], rng: Any, period: str) -> dict[str, Any] | None:
    """Store the neighbourhoods, their values for ``period``, the boundary set and one index run
    with its rank uncertainty; returns what was made (``None`` when nobody has coordinates)."""
    import polars as pl

    from commonweal.analytics.indicators import Alternatives
    from commonweal.indicators import boundaries, runs
    from commonweal.indicators import service as indicators
    from commonweal.registry.models import Asset, Tie

    homes = {p.id: (float(p.lat), float(p.lon)) for p in people
             if p.lat is not None and p.lon is not None}
    if not homes:
        return None
    boxes = neighbourhood_boxes(list(homes.values()))
    home_code = {m: _locate(boxes, *p) for m, p in homes.items()}
    names = {code: f"Neighbourhood {code[1:]}" for code in boxes}

    # registry reads: distinct people each member turns to, and where each asset is
    turns_to: dict[int, int] = {
        int(m): int(n) for m, n in s.execute(
            select(Tie.from_member_id, func.count(func.distinct(Tie.to_member_id)))
            .where(Tie.organisation_id == organisation_id, Tie.community_id == community_id)
            .group_by(Tie.from_member_id))}
    asset_code: list[str] = []
    for lat, lon, steward in s.execute(
            select(Asset.lat, Asset.lon, Asset.steward_member_id)
            .where(Asset.organisation_id == organisation_id, Asset.community_id == community_id)
            .order_by(Asset.id)):
        where = (_locate(boxes, float(lat), float(lon)) if lat is not None and lon is not None
                 else home_code.get(steward) if steward is not None else None)
        if where is not None:
            asset_code.append(where)
    n_assets = Counter(asset_code)

    members: dict[str, list[Person]] = defaultdict(list)
    for p in people:
        if (c := home_code.get(p.id)) is not None:
            members[c].append(p)
    rows: list[tuple[str, str, float, float | None]] = []
    canopy = rng.uniform(8.0, 35.0, size=len(boxes))
    for k, code in enumerate(boxes):
        group = members[code]
        n = len(group)
        alone = _share_moe(sum(p.lives_alone for p in group), n)
        isolated = _share_moe(sum(turns_to.get(p.id, 0) == 0 for p in group), n)
        rows += [
            (code, "members", float(n), None),
            (code, "living_alone_pct", *alone),
            (code, "isolated_pct", *isolated),
            (code, "supporters_mean",
             round(sum(turns_to.get(p.id, 0) for p in group) / n, 3), None),
            (code, "assets_per_100", round(100 * n_assets[code] / n, 2), None),
            (code, SYNTHETIC, round(float(canopy[k]), 1), None),
        ]
    long = pl.DataFrame(rows, schema={"unit": pl.Utf8, "indicator": pl.Utf8,
                                      "value": pl.Float64, "moe": pl.Float64}, orient="row")
    long = long.with_columns(pl.lit(period).alias("period")).select(
        "unit", "period", "indicator", "value", "moe")

    geo = pl.DataFrame({"code": list(names), "name": list(names.values()),
                        "level": ["neighbourhood"] * len(names), "parent": [None] * len(names)},
                       schema={"code": pl.Utf8, "name": pl.Utf8, "level": pl.Utf8,
                               "parent": pl.Utf8})
    indicators.load_geographies(s, organisation_id=organisation_id, frame=geo)
    spec, _ = runs.resolve_spec(text=INDEX_SPEC)
    meta = {**indicators.indicator_meta_from_spec(spec), **_OTHER_META}
    report = indicators.load_values(s, organisation_id=organisation_id, long=long,
                                    level="neighbourhood", names=names, indicator_meta=meta,
                                    file="demo neighbourhood values")
    doc = {"type": "FeatureCollection",
           "features": [_feature(code, names[code], box) for code, box in boxes.items()]}
    shapes = boundaries.parse_boundaries(doc, file="demo neighbourhoods")
    bset = boundaries.store_boundaries(s, organisation_id=organisation_id, name=BOUNDARY_SET,
                                       features=shapes)
    run = runs.run_index(s, organisation_id=organisation_id, spec_text=INDEX_SPEC,
                         period=period, created_by=user_id)
    alternatives = Alternatives(normalisations=("spec", "zscore", "rank"),
                                weight_concentration=20.0)
    runs.run_uncertainty_for(s, organisation_id=organisation_id, run_id=run.id,
                             alternatives=alternatives, n_draws=DRAWS,
                             seed=int(rng.integers(0, 2**31)))
    return {
        "neighbourhoods": len(boxes),
        "members_placed": sum(len(g) for g in members.values()),
        "assets_placed": len(asset_code),
        "period": period,
        "values": report.values_inserted,
        "indicators": len(report.indicators),
        "boundary_set": bset.name,
        "run_id": run.id,
        "n_units": run.n_units,
        "uncertainty_draws": DRAWS,
    }
