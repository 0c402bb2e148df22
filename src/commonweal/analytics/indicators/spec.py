"""Declarative index specifications: a tree of indicators -> themes/capitals -> index, in TOML.

A spec file has an ``[index]`` table, optional ``[defaults.indicator]`` / ``[defaults.node]``
tables, and arrays of ``[[node]]`` and ``[[indicator]]`` tables. Every indicator and node names
its ``parent``; the one node without a parent is the root. String values may contain ``{code}``,
which is replaced by the item's code (so ``output = "EPL_{code}"`` in the defaults names every
indicator's output column). See ``docs/indicators.md`` for every key. Errors are raised as
:class:`~commonweal.errors.SpecError` naming the file, the item and the key.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from commonweal.analytics.indicators.aggregate import AGGREGATIONS
from commonweal.analytics.indicators.impute import (
    IMPUTATION_METHODS,
    TREATMENT_METHODS,
    Imputation,
    Treatment,
)
from commonweal.analytics.indicators.normalise import METHODS, TIE_RULES, Normalisation
from commonweal.errors import Problem, SpecError

__all__ = [
    "DOMAINS",
    "Flag",
    "IndexSpec",
    "Indicator",
    "Node",
    "bundled_specs",
    "load_spec",
    "parse_spec",
]

DOMAINS = ("social", "economic", "physical", "infrastructure", "institutional", "natural", "")
_FLAG_OPS = (">=", ">", "<=", "<")


@dataclass(frozen=True, slots=True)
class Flag:
    """Flag a unit when ``value <op> threshold`` (CDC SVI: ``EPL >= 0.90``)."""

    op: str = ">="
    threshold: float = 0.9
    output: str | None = None


@dataclass(frozen=True, slots=True)
class Indicator:
    """A leaf of the index tree: one input column and how it becomes a normalised score."""

    code: str
    column: str
    parent: str
    name: str = ""
    domain: str = ""
    unit: str = ""
    source: str = ""
    notes: str = ""
    direction: int = 1
    weight: float = 1.0
    denominator: str | None = None
    multiplier: float = 1.0
    input_round: int | None = None
    imputation: Imputation = field(default_factory=Imputation)
    treatment: Treatment = field(default_factory=Treatment)
    normalisation: Normalisation = field(default_factory=Normalisation)
    round: int | None = None
    output: str | None = None
    flag: Flag | None = None


@dataclass(frozen=True, slots=True)
class Node:
    """A theme, capital or the index itself: aggregates its children, then optionally normalises."""

    code: str
    parent: str | None
    children: tuple[str, ...] = ()
    name: str = ""
    weight: float = 1.0
    aggregation: str = "arithmetic"
    inputs: str = "score"
    missing: str = "any"
    min_available: float = 1.0
    score_round: int | None = None
    score_output: str | None = None
    normalisation: Normalisation | None = None
    round: int | None = None
    output: str | None = None
    flag_count: str | None = None


@dataclass(frozen=True, slots=True)
class IndexSpec:
    """A validated index specification (see the module docstring)."""

    id: str
    name: str
    unit: str
    root: str
    nodes: tuple[Node, ...]
    indicators: tuple[Indicator, ...]
    period: str | None = None
    unit_width: int | None = None
    sentinels: tuple[float, ...] = ()
    output_sentinel: float | None = None
    rounding: str = "half_up"
    description: str = ""
    reference: str = ""
    source: str = ""

    def node(self, code: str) -> Node:
        return {n.code: n for n in self.nodes}[code]

    def children_of(self, code: str) -> tuple[str, ...]:
        return self.node(code).children

    @property
    def output_columns(self) -> list[str]:
        cols: list[str] = []
        for i in self.indicators:
            cols += [c for c in (i.output, i.flag.output if i.flag else None) if c]
        for n in self.nodes:
            cols += [c for c in (n.score_output, n.output, n.flag_count) if c]
        return cols

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "unit": self.unit,
            "root": self.root,
            "indicators": [i.code for i in self.indicators],
            "nodes": {n.code: list(n.children) for n in self.nodes},
            "reference": self.reference,
        }


class _Reader:
    """Pulls typed keys out of one TOML table, collecting located problems."""

    def __init__(
        self, table: dict[str, Any], where: str, file: str | None, problems: list[Problem]
    ):
        self.t, self.where, self.file, self.problems = table, where, file, problems
        self.used: set[str] = set()

    def bad(self, key: str, msg: str) -> None:
        self.problems.append(Problem(f"{self.where}: {msg}", file=self.file, field=key))

    def get(self, key: str, typ: type | tuple[type, ...], default: Any = None) -> Any:
        self.used.add(key)
        if key not in self.t:
            return default
        v = self.t[key]
        if typ is float and isinstance(v, int) and not isinstance(v, bool):
            v = float(v)
        if not isinstance(v, typ) or (isinstance(v, bool) and typ in (int, float)):
            name = typ.__name__ if isinstance(typ, type) else "/".join(t.__name__ for t in typ)
            self.bad(key, f"{key!r} must be {name}, got {v!r}")
            return default
        return v

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        v = self.get(key, str, default)
        if v not in choices:
            self.bad(key, f"{key!r} must be one of {', '.join(c for c in choices if c)}, got {v!r}")
            return default
        return str(v)

    def unknown(self, allowed: set[str]) -> None:
        for k in self.t:
            if k not in allowed:
                self.bad(k, f"unknown key {k!r}")


def _sub(v: Any, code: str) -> Any:
    return v.replace("{code}", code) if isinstance(v, str) else v


def _merged(defaults: dict[str, Any], item: dict[str, Any], code: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for src in (defaults, item):
        for k, v in src.items():
            if isinstance(v, dict) and isinstance(out.get(k), dict):
                out[k] = {**out[k], **{kk: _sub(vv, code) for kk, vv in v.items()}}
            elif isinstance(v, dict):
                out[k] = {kk: _sub(vv, code) for kk, vv in v.items()}
            else:
                out[k] = _sub(v, code)
    return out


def _normalisation(r: _Reader, key: str) -> Normalisation | None:
    raw = r.get(key, (str, dict))
    if raw is None:
        return None
    if isinstance(raw, str):
        raw = {"method": raw}
    sub = _Reader(raw, f"{r.where}.{key}", r.file, r.problems)
    spec = Normalisation(
        method=sub.choice("method", METHODS, "none"),
        ties=sub.choice("ties", TIE_RULES, "min"),
        kind=sub.choice("kind", ("weak", "strict", "mean"), "weak"),
        lower=sub.get("lower", float),
        upper=sub.get("upper", float),
        clip=sub.get("clip", bool, True),
        reference=sub.get("reference", float),
        scale=sub.get("scale", float, 1.0),
    )
    sub.unknown(sub.used)
    if spec.method == "goalposts" and (spec.lower is None or spec.upper is None):
        r.bad(key, "goalposts need 'lower' and 'upper'")
    if spec.method == "dist_to_ref" and spec.reference is None:
        r.bad(key, "dist_to_ref needs 'reference'")
    return spec


def _indicator(
    item: dict[str, Any], where: str, file: str | None, problems: list[Problem]
) -> Indicator:
    r = _Reader(item, where, file, problems)
    code = r.get("code", str, "")
    imp_raw = r.get("impute", (str, dict), "none")
    imp = {"method": imp_raw} if isinstance(imp_raw, str) else imp_raw
    ir = _Reader(imp, f"{where}.impute", file, problems)
    imputation = Imputation(ir.choice("method", IMPUTATION_METHODS, "none"), ir.get("group", str))
    ir.unknown(ir.used)
    if imputation.method.startswith("group_") and not imputation.group:
        r.bad("impute", "group imputation needs 'group' (a column name)")
    tr_raw = r.get("treat", (str, dict), "none")
    tr = {"method": tr_raw} if isinstance(tr_raw, str) else tr_raw
    trr = _Reader(tr, f"{where}.treat", file, problems)
    treatment = Treatment(
        trr.choice("method", TREATMENT_METHODS, "none"),
        trr.get("lower", float, 0.0),
        trr.get("upper", float, 1.0),
        trr.get("winmax", int, 5),
        trr.get("skew", float, 2.0),
        trr.get("kurtosis", float, 3.5),
    )
    trr.unknown(trr.used)
    flag = None
    fl = r.get("flag", dict)
    if fl is not None:
        fr = _Reader(fl, f"{where}.flag", file, problems)
        flag = Flag(
            fr.choice("op", _FLAG_OPS, ">="), fr.get("threshold", float, 0.9), fr.get("output", str)
        )
        fr.unknown(fr.used)
    direction = r.get("direction", int, 1)
    if direction not in (1, -1):
        r.bad("direction", f"'direction' must be 1 or -1, got {direction!r}")
    ind = Indicator(
        code=code,
        column=r.get("column", str, code),
        parent=r.get("parent", str, ""),
        name=r.get("name", str, ""),
        domain=r.choice("domain", DOMAINS, ""),
        unit=r.get("unit", str, ""),
        source=r.get("source", str, ""),
        notes=r.get("notes", str, ""),
        direction=direction,
        weight=r.get("weight", float, 1.0),
        denominator=r.get("denominator", str),
        multiplier=r.get("multiplier", float, 1.0),
        input_round=r.get("input_round", int),
        imputation=imputation,
        treatment=treatment,
        normalisation=_normalisation(r, "normalise") or Normalisation(),
        round=r.get("round", int),
        output=r.get("output", str),
        flag=flag,
    )
    r.unknown(r.used)
    if not code:
        r.bad("code", "every indicator needs a 'code'")
    if not ind.parent:
        r.bad("parent", "every indicator needs a 'parent' node")
    return ind


def _node(item: dict[str, Any], where: str, file: str | None, problems: list[Problem]) -> Node:
    r = _Reader(item, where, file, problems)
    code = r.get("code", str, "")
    node = Node(
        code=code,
        parent=r.get("parent", str),
        name=r.get("name", str, ""),
        weight=r.get("weight", float, 1.0),
        aggregation=r.choice("aggregate", AGGREGATIONS, "arithmetic"),
        inputs=r.choice("inputs", ("score", "normalised"), "score"),
        missing=r.choice("missing", ("any", "threshold"), "any"),
        min_available=r.get("min_available", float, 1.0),
        score_round=r.get("score_round", int),
        score_output=r.get("score_output", str),
        normalisation=_normalisation(r, "normalise"),
        round=r.get("round", int),
        output=r.get("output", str),
        flag_count=r.get("flag_count", str),
    )
    r.unknown(r.used)
    if not code:
        r.bad("code", "every node needs a 'code'")
    if not 0.0 <= node.min_available <= 1.0:
        r.bad("min_available", "'min_available' is a share between 0 and 1")
    return node


def parse_spec(data: dict[str, Any], file: str | None = None) -> IndexSpec:
    """Validate a parsed TOML document into an :class:`IndexSpec` (raises a located SpecError)."""
    problems: list[Problem] = []
    top = _Reader(data, "spec", file, problems)
    index = top.get("index", dict, {})
    defaults = top.get("defaults", dict, {})
    raw_nodes = top.get("node", list, [])
    raw_inds = top.get("indicator", list, [])
    top.unknown(top.used)
    ir = _Reader(index, "[index]", file, problems)
    d_ind = defaults.get("indicator", {}) if isinstance(defaults, dict) else {}
    d_node = defaults.get("node", {}) if isinstance(defaults, dict) else {}
    nodes = [
        _node(
            _merged(d_node, n, str(n.get("code", ""))),
            f"[[node]] #{k + 1} {n.get('code', '')!r}",
            file,
            problems,
        )
        for k, n in enumerate(raw_nodes)
        if isinstance(n, dict)
    ]
    inds = [
        _indicator(
            _merged(d_ind, i, str(i.get("code", ""))),
            f"[[indicator]] #{k + 1} {i.get('code', '')!r}",
            file,
            problems,
        )
        for k, i in enumerate(raw_inds)
        if isinstance(i, dict)
    ]
    codes = [n.code for n in nodes] + [i.code for i in inds]
    for c in {c for c in codes if codes.count(c) > 1}:
        problems.append(Problem(f"code {c!r} is used more than once", file=file, field="code"))
    node_codes = {n.code for n in nodes}
    items: list[Node | Indicator] = [*nodes, *inds]
    for it in items:
        if it.parent is not None and it.parent not in node_codes:
            kind = "node" if isinstance(it, Node) else "indicator"
            problems.append(
                Problem(
                    f"{kind} {it.code!r}: parent {it.parent!r} is not a node",
                    file=file,
                    field="parent",
                )
            )
    roots = [n.code for n in nodes if n.parent is None]
    if len(roots) != 1:
        problems.append(
            Problem(
                f"the tree needs exactly one root node (no parent), found {roots}",
                file=file,
                field="parent",
            )
        )
    if not inds:
        problems.append(
            Problem("the spec has no [[indicator]] tables", file=file, field="indicator")
        )
    children: dict[str, list[str]] = {n.code: [] for n in nodes}
    for it in items:
        if it.parent in children:
            children[it.parent].append(it.code)
    for c, ch in children.items():
        if not ch:
            problems.append(Problem(f"node {c!r} has no children", file=file, field="parent"))
    # cycles: walk up from each node
    parent_of = {n.code: n.parent for n in nodes}
    for n in nodes:
        seen, p = {n.code}, n.parent
        while p is not None and p in parent_of:
            if p in seen:
                problems.append(
                    Problem(f"node {n.code!r} is in a cycle of parents", file=file, field="parent")
                )
                break
            seen.add(p)
            p = parent_of[p]
    sentinels = ir.get("sentinels", list, [])
    if any(not isinstance(s, int | float) for s in sentinels):
        ir.bad("sentinels", "'sentinels' must be a list of numbers")
        sentinels = []
    spec = IndexSpec(
        id=ir.get("id", str, ""),
        name=ir.get("name", str, ""),
        unit=ir.get("unit", str, "unit"),
        root=roots[0] if len(roots) == 1 else "",
        nodes=tuple(replace(n, children=tuple(children.get(n.code, []))) for n in nodes),
        indicators=tuple(inds),
        period=ir.get("period", str),
        unit_width=ir.get("unit_width", int),
        sentinels=tuple(float(s) for s in sentinels),
        output_sentinel=ir.get("output_sentinel", float),
        rounding=ir.choice("rounding", ("half_up", "half_even"), "half_up"),
        description=ir.get("description", str, ""),
        reference=ir.get("reference", str, ""),
        source=ir.get("source", str, ""),
    )
    ir.unknown(ir.used)
    if not spec.id:
        ir.bad("id", "[index] needs an 'id'")
    if problems:
        raise SpecError(
            f"index specification {file or ''} is not valid".replace("  ", " "), problems
        )
    return spec


def bundled_specs() -> dict[str, str]:
    """Names of the specifications shipped with commonweal -> their titles."""
    out: dict[str, str] = {}
    folder = resources.files("commonweal.analytics.indicators").joinpath("specs")
    for f in sorted(folder.iterdir(), key=lambda t: t.name):
        if f.name.endswith(".toml"):
            doc = tomllib.loads(f.read_text(encoding="utf-8"))
            out[f.name[:-5]] = str(doc.get("index", {}).get("name", ""))
    return out


def load_spec(name_or_path: str | Path) -> IndexSpec:
    """Load a bundled spec by name (see :func:`bundled_specs`) or a TOML file by path."""
    p = Path(name_or_path)
    if p.suffix == ".toml" or p.exists():
        if not p.is_file():
            raise SpecError(f"no such index specification file: {p}")
        text, file = p.read_text(encoding="utf-8"), str(p)
    else:
        res = resources.files("commonweal.analytics.indicators").joinpath(
            "specs", f"{name_or_path}.toml"
        )
        if not res.is_file():
            known = ", ".join(bundled_specs())
            raise SpecError(f"unknown index specification {str(name_or_path)!r}; bundled: {known}")
        text, file = res.read_text(encoding="utf-8"), f"{name_or_path}.toml"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{file} is not valid TOML: {exc}", [Problem(str(exc), file=file)]) from exc
    return parse_spec(data, file)
