"""Explicit readers and writers for support networks: edge lists, ties CSV, GraphML, Karnataka CSVs,
networkx graphs. The only module of the package that touches files.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
import polars as pl

from commonweal.analytics.networks.graph import SupportGraph, from_edges
from commonweal.analytics.networks.kinds import SUPPORT_TYPES, UNSPECIFIED, kind_code
from commonweal.errors import InputError, Problem

__all__ = [
    "KARNATAKA_KINDS",
    "from_networkx",
    "read_edge_list",
    "read_graphml",
    "read_karnataka_village",
    "read_network",
    "to_networkx",
    "write_graphml",
]

KARNATAKA_KINDS: dict[str, str] = {
    "borrowmoney": "financial",
    "receivemoney": "financial",
    "keroricego": "practical",
    "keroricecome": "practical",
    "helpdecision": "information",
    "receiveadvice": "information",
    "visitgo": "companionship",
    "visitcome": "companionship",
}
"""Karnataka relation -> support kind. In the formatted files ``i -> j`` means "i receives from /
turns to j" for every relation (Banerjee et al. 2013, as formatted by latentnetworks/vimure)."""


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path.name} is not UTF-8 text", [Problem(str(exc), file=str(path))]) from None


def _kind_column(values: list[str | None], file: str) -> np.ndarray[Any, np.dtype[np.uint8]]:
    problems: list[Problem] = []
    out = np.empty(len(values), dtype=np.uint8)
    for row, value in enumerate(values, start=2):
        try:
            out[row - 2] = kind_code(value or "")
        except InputError as exc:
            problems.append(Problem(exc.message, file=file, row=row, field="support_type"))
    if problems:
        raise InputError(f"{file}: unknown support types", problems)
    return out


def read_edge_list(path: str | Path, *, kind: str | None = None) -> SupportGraph:
    """Read a tie file; the format is recognised from its first line.

    * the ``ties.csv`` of ``docs/formats.md`` (header with ``from_id,to_id``; ``support_types``
      ``;``-separated, one typed tie each; ``strength`` becomes the weight);
    * a CSV with a ``source,target`` header (any case; optional ``support_type``/``kind`` and
      ``weight`` columns), as in the Bangladesh village files;
    * a headerless list ``from to [weight]`` separated by whitespace or commas, ``#`` comments
      (SNAP). Each line means "from turns to to".

    Parameters
    ----------
    path : str or Path
    kind : str, optional
        Support kind for files that carry none (default ``unspecified``).

    Raises
    ------
    InputError
        Unreadable rows, with file and row.
    """
    p = Path(path)
    text = _read_text(p)
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        return from_edges([], [])
    default_kind = kind_code(kind or "")
    header = [c.strip().strip('"').lower() for c in lines[0].split(",")]
    if "from_id" in header or "source" in header:
        df = pl.read_csv(p, infer_schema=False, encoding="utf8-lossy")
        df = df.rename({c: c.strip().lower() for c in df.columns})
        a, b = ("from_id", "to_id") if "from_id" in df.columns else ("source", "target")
        if b not in df.columns:
            raise InputError(f"{p.name}: a {a!r} column needs a {b!r} column",
                             [Problem("missing column", file=p.name, field=b)])
        empty = df.with_row_index("row").filter(pl.col(a).is_null() | pl.col(b).is_null())
        if empty.height:
            raise InputError(f"{p.name}: ties without both ends", [
                Problem("empty id", file=p.name, row=int(r) + 2) for r in empty["row"].to_list()])
        weight_col = next((c for c in ("strength", "weight") if c in df.columns), None)
        weights = (df[weight_col].cast(pl.Float64, strict=False).fill_null(1.0).to_numpy()
                   if weight_col else np.ones(df.height))
        # in ties.csv ``kind`` is the relationship (kin, friend...), not the support kind
        cands = ("support_types",) if a == "from_id" else ("support_type", "kind", "type")
        kcol = next((c for c in cands if c in df.columns), None)
        if kcol == "support_types":
            exploded = df.with_columns(w=pl.Series(weights), row=pl.int_range(pl.len()))
            exploded = exploded.with_columns(pl.col(kcol).fill_null("").str.split(";"))
            exploded = exploded.explode(kcol)
            kinds = _kind_column(exploded[kcol].str.strip_chars().to_list(), p.name)
            return from_edges(exploded[a].to_numpy(), exploded[b].to_numpy(), kinds,
                              exploded["w"].to_numpy())
        kinds = (_kind_column(df[kcol].to_list(), p.name) if kcol
                 else np.full(df.height, default_kind, dtype=np.uint8))
        return from_edges(df[a].to_numpy(), df[b].to_numpy(), kinds, weights)
    src: list[str] = []
    dst: list[str] = []
    wts: list[float] = []
    problems: list[Problem] = []
    for row, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = [x for x in re.split(r"[\s,;]+", line.strip()) if x]
        if len(parts) < 2 or len(parts) > 3:
            problems.append(Problem("expected 'from to [weight]'", file=p.name, row=row))
            continue
        try:
            wts.append(float(parts[2]) if len(parts) == 3 else 1.0)
        except ValueError:
            problems.append(Problem(f"weight {parts[2]!r} is not a number", file=p.name, row=row))
            continue
        src.append(parts[0])
        dst.append(parts[1])
    if problems:
        raise InputError(f"{p.name}: unreadable lines", problems)
    kinds_arr = np.full(len(src), default_kind, dtype=np.uint8)
    return from_edges(src, dst, kinds_arr, np.asarray(wts))


def read_karnataka_village(edges: str | Path, meta: str | Path | None = None) -> SupportGraph:
    """Read one Karnataka village (``vilN_edges.csv``, optional ``vilN_meta.csv``).

    Everyone in ``meta`` is a person of the network, with or without ties (``pid`` as a string);
    ``i -> j`` is a tie "i turns to j" of the kind :data:`KARNATAKA_KINDS` gives its relation.
    Ties reported by both people are one tie. Unknown relations are an :class:`InputError`.
    """
    e = Path(edges)
    df = pl.read_csv(e, infer_schema=False)
    missing = {"i", "j", "type"} - set(df.columns)
    if missing:
        raise InputError(f"{e.name}: missing columns {sorted(missing)}")
    bad = df.with_row_index("row").filter(~pl.col("type").is_in(list(KARNATAKA_KINDS)))
    if bad.height:
        raise InputError(f"{e.name}: unknown relation types", [
            Problem(f"unknown relation {t!r}", file=e.name, row=int(r) + 2, field="type")
            for r, t in zip(bad["row"].to_list(), bad["type"].to_list(), strict=True)])
    kinds = np.asarray([SUPPORT_TYPES.index(KARNATAKA_KINDS[t]) for t in df["type"].to_list()],
                       dtype=np.uint8)
    people = None
    if meta is not None:
        people = pl.read_csv(Path(meta), infer_schema=False)["pid"].to_numpy()
    return from_edges(df["i"].to_numpy(), df["j"].to_numpy(), kinds, people=people)


def _graphml_keys(root: ET.Element, ns: str) -> dict[str, tuple[str, str]]:
    keys = {}
    for k in root.iter(f"{ns}key"):
        keys[k.get("id", "")] = (k.get("for", ""), k.get("attr.name", k.get("id", "")))
    return keys


def read_graphml(
    path: str | Path, *, id_attr: str | None = None, kind_attr: str = "support_type",
    weight_attr: str = "weight", gives_to: bool = False,
) -> SupportGraph:
    """Read GraphML. Directed edges mean "source turns to target" unless ``gives_to=True``
    (then "source supports target"); an undirected edge is support both ways.

    Node ids come from ``id_attr`` if given, else from a ``name``/``vertex.names``/``label`` node
    attribute when present, else the GraphML node id. Edge attribute ``kind_attr`` holds a support
    kind name, ``weight_attr`` a weight.
    """
    p = Path(path)
    try:
        root = ET.parse(p).getroot()
    except ET.ParseError as exc:
        raise InputError(f"{p.name} is not valid GraphML: {exc}") from None
    ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    keys = _graphml_keys(root, ns)
    graph_el = root.find(f"{ns}graph")
    if graph_el is None:
        raise InputError(f"{p.name}: no <graph> element")
    default_directed = graph_el.get("edgedefault", "directed") == "directed"
    node_names = {name for (_for, name) in keys.values() if _for == "node"}
    use = id_attr or next((c for c in ("name", "vertex.names", "label") if c in node_names), None)
    ids: dict[str, str] = {}
    for node in graph_el.iter(f"{ns}node"):
        gid = node.get("id", "")
        label = gid
        if use:
            for data in node.iter(f"{ns}data"):
                if keys.get(data.get("key", ""), ("", ""))[1] == use and data.text:
                    label = data.text.strip()
        ids[gid] = label
    src, dst, kinds, wts = [], [], [], []
    for row, edge in enumerate(graph_el.iter(f"{ns}edge"), start=1):
        a, b = edge.get("source", ""), edge.get("target", "")
        if a not in ids or b not in ids:
            raise InputError(f"{p.name}: edge {row} refers to an unknown node")
        attrs = {keys.get(d.get("key", ""), ("", d.get("key", "")))[1]: (d.text or "").strip()
                 for d in edge.iter(f"{ns}data")}
        k = kind_code(attrs.get(kind_attr, "")) if attrs.get(kind_attr) else UNSPECIFIED
        try:
            w = float(attrs[weight_attr]) if attrs.get(weight_attr) else 1.0
        except ValueError:
            raise InputError(f"{p.name}: edge {row} has a non-numeric weight") from None
        directed = edge.get("directed", "true" if default_directed else "false") == "true"
        pairs = [(a, b), (b, a)] if not directed else [(b, a) if gives_to else (a, b)]
        for x, y in pairs:
            src.append(ids[x])
            dst.append(ids[y])
            kinds.append(k)
            wts.append(w)
    return from_edges(src, dst, np.asarray(kinds, dtype=np.uint8), np.asarray(wts),
                      people=list(ids.values()))


def read_network(path: str | Path, *, meta: str | Path | None = None,
                 kind: str | None = None) -> SupportGraph:
    """Read any supported file, choosing the reader by name and content (see the readers)."""
    p = Path(path)
    if p.suffix.lower() in (".graphml", ".xml"):
        return read_graphml(p)
    if re.fullmatch(r"vil\d+_edges\.csv", p.name):
        m = Path(meta) if meta else p.with_name(p.name.replace("_edges", "_meta"))
        return read_karnataka_village(p, m if m.exists() else None)
    return read_edge_list(p, kind=kind)


def from_networkx(g: Any, *, kind_attr: str = "support_type",
                  weight_attr: str = "weight") -> SupportGraph:
    """Build from a networkx graph; directed edges mean "u turns to v", undirected both ways."""
    nodes = [str(x) for x in g.nodes]
    src, dst, kinds, wts = [], [], [], []
    directed = g.is_directed()
    for u, v, data in g.edges(data=True):
        k = kind_code(str(data[kind_attr])) if data.get(kind_attr) else UNSPECIFIED
        w = float(data.get(weight_attr, 1.0))
        for x, y in ([(u, v)] if directed else [(u, v), (v, u)]):
            src.append(str(x))
            dst.append(str(y))
            kinds.append(k)
            wts.append(w)
    return from_edges(src, dst, np.asarray(kinds, dtype=np.uint8), np.asarray(wts), people=nodes)


def to_networkx(graph: SupportGraph, node_attrs: pl.DataFrame | None = None) -> Any:
    """A ``networkx.MultiDiGraph`` of the typed ties (key = support kind), nodes = external ids,
    with the columns of ``node_attrs`` (one row per person, in internal-id order) as attributes."""
    import networkx as nx  # type: ignore[import-untyped]

    g = nx.MultiDiGraph()
    ids = graph.ids.tolist()
    rows = node_attrs.to_dicts() if node_attrs is not None else [{} for _ in ids]
    g.add_nodes_from((i, r) for i, r in zip(ids, rows, strict=True))
    for s, d, k, w in zip(graph.src.tolist(), graph.dst.tolist(), graph.kind.tolist(),
                          graph.weight.tolist(), strict=True):
        g.add_edge(ids[s], ids[d], key=SUPPORT_TYPES[k], support_type=SUPPORT_TYPES[k], weight=w)
    return g


def _graphml_type(dtype: pl.DataType) -> str:
    if dtype == pl.Boolean:
        return "boolean"
    if dtype.is_integer():
        return "long"
    if dtype.is_float():
        return "double"
    return "string"


def write_graphml(path: str | Path, graph: SupportGraph,
                  node_attrs: pl.DataFrame | Mapping[str, Any] | None = None) -> None:
    """Write the typed ties as directed GraphML ("source turns to target"), with per-person
    attributes (e.g. the member profile) as node data."""
    frame = pl.DataFrame(node_attrs) if node_attrs is not None else pl.DataFrame()
    cols = [c for c in frame.columns if c != "id"]
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">']
    for i, c in enumerate(cols):
        out.append(f'  <key id="n{i}" for="node" attr.name="{escape(c)}" '
                   f'attr.type="{_graphml_type(frame[c].dtype)}"/>')
    out.append('  <key id="e_kind" for="edge" attr.name="support_type" attr.type="string"/>')
    out.append('  <key id="e_w" for="edge" attr.name="weight" attr.type="double"/>')
    out.append('  <graph id="support" edgedefault="directed">')
    ids = [escape(str(x), {'"': "&quot;"}) for x in graph.ids.tolist()]
    columns = [frame[c].to_list() for c in cols]
    for r, node in enumerate(ids):
        datas = "".join(
            f'<data key="n{i}">{escape(str(v).lower() if isinstance(v, bool) else str(v))}</data>'
            for i, col in enumerate(columns) if (v := col[r]) is not None)
        out.append(f'    <node id="{node}">{datas}</node>')
    for s, d, k, w in zip(graph.src.tolist(), graph.dst.tolist(), graph.kind.tolist(),
                          graph.weight.tolist(), strict=True):
        out.append(f'    <edge source="{ids[s]}" target="{ids[d]}"><data key="e_kind">'
                   f'{SUPPORT_TYPES[k]}</data><data key="e_w">{w!r}</data></edge>')
    out.append("  </graph>\n</graphml>\n")
    Path(path).write_text("\n".join(out), encoding="utf-8")
