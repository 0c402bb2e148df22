"""US county boundaries from the bundled TopoJSON (us-atlas 3.0.1 ``counties-10m.json``, ISC).

The file is vendored under ``web/static/vendor/us-atlas/`` for the map page; the API decodes the
same file to GeoJSON here (TopoJSON spec 1.0: quantised, delta-encoded arcs; a negative arc index
``~i`` is arc ``i`` reversed; consecutive arcs of a ring share their end point). Source: US Census
Bureau cartographic boundary files 2017, 1:10,000,000, via Mike Bostock's us-atlas.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["COUNTIES_FILE", "county_features"]

COUNTIES_FILE = (
    Path(__file__).resolve().parents[1]
    / "web"
    / "static"
    / "vendor"
    / "us-atlas"
    / "counties-10m.json"
)


def _topology() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(COUNTIES_FILE.read_text(encoding="utf-8"))
    return doc


def _decode_arcs(topo: dict[str, Any], digits: int) -> list[list[list[float]]]:
    tr = topo.get("transform")
    out: list[list[list[float]]] = []
    for arc in topo["arcs"]:
        a = np.asarray(arc, dtype=np.float64)
        if tr:
            a = np.cumsum(a, axis=0) * np.asarray(tr["scale"]) + np.asarray(tr["translate"])
        out.append(np.round(a, digits).tolist())
    return out


def _ring(arcs: list[list[list[float]]], refs: list[int]) -> list[list[float]]:
    pts: list[list[float]] = []
    for k, ref in enumerate(refs):
        seg = arcs[ref] if ref >= 0 else arcs[~ref][::-1]
        pts.extend(seg if k == 0 else seg[1:])
    return pts


@functools.cache
def county_features(digits: int = 4) -> dict[str, dict[str, Any]]:
    """Every county of the bundled file as a GeoJSON geometry and name, keyed by 5-digit FIPS."""
    topo = _topology()
    arcs = _decode_arcs(topo, digits)
    out: dict[str, dict[str, Any]] = {}
    for g in topo["objects"]["counties"]["geometries"]:
        if g.get("type") == "Polygon":
            geom = {"type": "Polygon", "coordinates": [_ring(arcs, r) for r in g["arcs"]]}
        elif g.get("type") == "MultiPolygon":
            geom = {
                "type": "MultiPolygon",
                "coordinates": [[_ring(arcs, r) for r in poly] for poly in g["arcs"]],
            }
        else:
            continue
        out[str(g["id"]).zfill(5)] = {
            "geometry": geom,
            "name": (g.get("properties") or {}).get("name", ""),
        }
    return out
