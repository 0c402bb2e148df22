"""Map boundaries: the bundled US counties, and an organisation's own (wards, districts, villages).

**Own boundaries.** A GeoJSON FeatureCollection (EPSG:4326 longitude/latitude, as RFC 7946 says)
whose features are Polygons or MultiPolygons, each naming its geography code in a property (or as
the feature's ``id``). It is checked feature by feature (the "row" of a problem is the feature's
position, 1-based) and stored as a named :class:`BoundarySet`; maps and the GeoJSON export draw a
unit from the organisation's own boundaries first and from the bundled counties otherwise.

**US counties** come from the bundled TopoJSON (us-atlas 3.0.1 ``counties-10m.json``, ISC).

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
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from commonweal.errors import InputError, NotFoundError, Problem
from commonweal.indicators.models import BoundarySet

__all__ = [
    "COUNTIES_FILE",
    "boundary_shapes",
    "county_features",
    "delete_boundaries",
    "list_boundaries",
    "parse_boundaries",
    "store_boundaries",
]

MAX_FEATURES = 20_000

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


def _coords_ok(geometry: dict[str, Any]) -> str | None:
    """Why ``geometry`` is not a usable Polygon/MultiPolygon in longitude/latitude, or None."""
    kind = geometry.get("type")
    if kind not in ("Polygon", "MultiPolygon"):
        return f"geometry must be a Polygon or MultiPolygon, not {kind!r}"
    polys = [geometry.get("coordinates")] if kind == "Polygon" else geometry.get("coordinates")
    if not isinstance(polys, list) or not polys:
        return "geometry has no coordinates"
    for poly in polys:
        if not isinstance(poly, list) or not poly:
            return "a polygon has no rings"
        for ring in poly:
            try:
                a = np.asarray(ring, dtype=np.float64)
            except (TypeError, ValueError):
                return "coordinates must be [longitude, latitude] numbers"
            if a.ndim != 2 or a.shape[0] < 4 or a.shape[1] < 2:
                return "a ring needs at least 4 [longitude, latitude] positions"
            if not np.isfinite(a[:, :2]).all():
                return "coordinates must be finite numbers"
            if (np.abs(a[:, 0]) > 180).any() or (np.abs(a[:, 1]) > 90).any():
                return ("coordinates are outside longitude -180..180 / latitude -90..90 "
                        "(the file must be EPSG:4326 longitude, latitude)")
    return None


def parse_boundaries(doc: Any, *, code_property: str = "code", name_property: str = "name",
                     file: str = "boundaries") -> dict[str, dict[str, Any]]:
    """Check a GeoJSON FeatureCollection (parsed, or its JSON text or bytes); returns
    ``{code: {"name", "geometry"}}``.

    Raises
    ------
    InputError
        With one located problem per bad feature (row = the feature's position, 1-based).
    """
    if isinstance(doc, str | bytes):
        try:
            doc = json.loads(doc)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"{file} is not JSON: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise InputError(f"{file}: not a GeoJSON FeatureCollection",
                         [Problem("the top level must be {\"type\": \"FeatureCollection\"}",
                                  file=file, field="type")])
    feats = doc.get("features")
    if not isinstance(feats, list) or not feats:
        raise InputError(f"{file}: the FeatureCollection has no features",
                         [Problem("no features", file=file, field="features")])
    if len(feats) > MAX_FEATURES:
        raise InputError(f"{file}: {len(feats)} features; at most {MAX_FEATURES} per set",
                         [Problem("too many features", file=file, field="features")])
    out: dict[str, dict[str, Any]] = {}
    problems: list[Problem] = []
    for i, f in enumerate(feats, start=1):
        if not isinstance(f, dict) or f.get("type") != "Feature":
            problems.append(Problem("not a GeoJSON Feature", file=file, row=i, field="type"))
            continue
        props: dict[str, Any] = (f["properties"] if isinstance(f.get("properties"), dict)
                                 else {})
        raw = props.get(code_property, f.get("id"))
        code = str(raw).strip() if raw is not None else ""
        if not code or len(code) > 32:
            problems.append(Problem(f"no geography code (property {code_property!r} or the "
                                    "feature's id, at most 32 characters)", file=file, row=i,
                                    field=code_property))
            continue
        if code in out:
            problems.append(Problem(f"code {code!r} repeats", file=file, row=i,
                                    field=code_property))
            continue
        geometry = f.get("geometry")
        why = _coords_ok(geometry) if isinstance(geometry, dict) else "the feature has no geometry"
        if why is not None:
            problems.append(Problem(why, file=file, row=i, field="geometry"))
            continue
        assert isinstance(geometry, dict)
        name = props.get(name_property)
        out[code] = {"name": str(name)[:200] if name is not None else code,
                     "geometry": {"type": geometry["type"],
                                  "coordinates": geometry["coordinates"]}}
    if problems:
        raise InputError(f"{file}: {len(problems)} feature(s) cannot be used; nothing was stored",
                         problems[:200])
    return out


def store_boundaries(session: Session, *, organisation_id: int, name: str,
                     features: dict[str, dict[str, Any]]) -> BoundarySet:
    """Create or replace the organisation's boundary set ``name``."""
    name = name.strip()
    if not name or len(name) > 100:
        raise InputError("a boundary set needs a name of 1 to 100 characters",
                         [Problem("bad name", field="name")])
    bs = session.scalar(select(BoundarySet).where(BoundarySet.organisation_id == organisation_id,
                                                  BoundarySet.name == name))
    if bs is None:
        bs = BoundarySet(organisation_id=organisation_id, name=name, n_features=0, features={})
        session.add(bs)
    bs.features, bs.n_features = features, len(features)
    session.flush()
    return bs


def list_boundaries(session: Session, *, organisation_id: int) -> list[dict[str, Any]]:
    """Name, feature count and update time of each of the organisation's boundary sets."""
    rows = session.execute(select(BoundarySet.id, BoundarySet.name, BoundarySet.n_features,
                                  BoundarySet.updated_at)
                           .where(BoundarySet.organisation_id == organisation_id)
                           .order_by(BoundarySet.name)).all()
    return [{"id": i, "name": n, "n_features": k, "updated_at": u} for i, n, k, u in rows]


def delete_boundaries(session: Session, *, organisation_id: int, name: str) -> None:
    from commonweal.registry.service import rowcount

    gone = session.execute(delete(BoundarySet).where(
        BoundarySet.organisation_id == organisation_id, BoundarySet.name == name))
    if not rowcount(gone):
        raise NotFoundError(f"no boundary set named {name!r}")


def boundary_shapes(session: Session, *, organisation_id: int
                    ) -> dict[str, dict[str, Any]]:
    """The organisation's own shapes by code (all its sets; a later-named set wins a clash)."""
    out: dict[str, dict[str, Any]] = {}
    for (features,) in session.execute(select(BoundarySet.features).where(
            BoundarySet.organisation_id == organisation_id).order_by(BoundarySet.name)):
        out.update(features)
    return out

