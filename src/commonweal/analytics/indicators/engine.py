"""The one engine that computes any index specification.

Pipeline per indicator (within each period): sentinel values -> missing, denominate
(``x / denominator * multiplier``), round the input, impute, treat outliers, normalise with
direction, round, flag. Then, bottom-up through the tree, each node aggregates its children's
scores (or normalised scores), rounds the score, optionally normalises it (for example the CDC SVI
percentile rank of a theme sum), rounds again, and counts its leaves' flags. The same tree code
evaluates many weight draws at once for the Monte-Carlo uncertainty analysis.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from numpy.typing import NDArray

from commonweal.analytics.indicators.aggregate import aggregate
from commonweal.analytics.indicators.impute import Imputation, impute, impute_panel, treat
from commonweal.analytics.indicators.normalise import Normalisation, normalise, round_values
from commonweal.analytics.indicators.spec import IndexSpec, Node
from commonweal.errors import InputError, Problem

__all__ = [
    "IndexResult",
    "LeafData",
    "compute",
    "evaluate_tree",
    "leaf_matrix",
    "prepare_frame",
]

FloatArray = NDArray[np.float64]
_MONOTONE = ("minmax", "zscore", "rank", "percent_rank", "percentile")


@dataclass(frozen=True)
class LeafData:
    """Normalised indicator scores as a matrix, with the unit and period of each row."""

    units: NDArray[np.object_]
    periods: NDArray[np.object_] | None
    matrix: FloatArray  # (n_units, n_indicators), NaN = missing
    groups: tuple[NDArray[np.intp] | slice, ...] = field(default=())  # rows of each period
    has_missing: NDArray[np.bool_] | None = None  # per indicator: any missing value?


@dataclass(frozen=True)
class IndexResult:
    """The computed index: one row per unit (and period), every output column of the spec."""

    spec_id: str
    unit: str
    index_column: str
    frame: pl.DataFrame

    def ranks(self, descending: bool = True) -> pl.DataFrame:
        """Unit and rank of the index (1 = highest value when ``descending``), ties share the min."""
        col = pl.col(self.index_column)
        return self.frame.select(
            self.unit, self.index_column, col.rank("min", descending=descending).alias("rank")
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "spec": self.spec_id,
            "unit": self.unit,
            "index_column": self.index_column,
            "n_units": self.frame.height,
            "columns": self.frame.columns,
            "rows": self.frame.to_dicts(),
        }


def _needed_columns(spec: IndexSpec) -> list[str]:
    cols: list[str] = []
    for i in spec.indicators:
        cols.append(i.column)
        if i.denominator:
            cols.append(i.denominator)
    return list(dict.fromkeys(cols))


def prepare_frame(spec: IndexSpec, frame: pl.DataFrame, file: str | None = None) -> pl.DataFrame:
    """Check and cast the columns the spec needs; zero-pad unit codes; sentinel values -> null.

    Raises :class:`InputError` naming each missing column and each cell that is not a number
    (row numbers count the header as row 1, as a spreadsheet does).
    """
    problems: list[Problem] = []
    needed = [spec.unit, *_needed_columns(spec)]
    groups = [i.imputation.group for i in spec.indicators if i.imputation.group]
    needed += [g for g in groups if g not in needed]
    if spec.period and spec.period in frame.columns:
        needed.append(spec.period)
    for c in needed:
        if c not in frame.columns:
            problems.append(
                Problem(
                    f"column {c!r} is missing (the spec {spec.id!r} needs it)", file=file, field=c
                )
            )
    if problems:
        raise InputError(f"the data do not fit index specification {spec.id!r}", problems)
    unit = pl.col(spec.unit).cast(pl.Utf8)
    if spec.unit_width:
        unit = unit.str.zfill(spec.unit_width)
    exprs = [unit.alias(spec.unit)]
    if spec.period and spec.period in frame.columns:
        exprs.append(pl.col(spec.period))
    numeric = _needed_columns(spec)
    schema = frame.schema
    for c in numeric:
        dt = schema[c]
        if dt.is_numeric():
            e = pl.col(c).cast(pl.Float64)
        else:
            s = pl.col(c).cast(pl.Utf8).str.strip_chars()
            e = pl.when(s == "").then(None).otherwise(s).cast(pl.Float64, strict=False)
            bad = frame.with_row_index("_row").filter(e.is_null() & s.is_not_null() & (s != ""))
            for r in bad.head(20).iter_rows(named=True):
                problems.append(
                    Problem(f"not a number: {r[c]!r}", file=file, row=int(r["_row"]) + 2, field=c)
                )
        if spec.sentinels:
            hit = pl.any_horizontal([e == v for v in spec.sentinels])
            e = pl.when(hit).then(None).otherwise(e)
        exprs.append(e.alias(c))
    for g in groups:
        if g not in (spec.unit, spec.period) and g not in numeric:
            exprs.append(pl.col(g))
    if problems:
        raise InputError("some cells are not numbers", problems)
    out = frame.select(exprs)
    key = [spec.unit] + ([spec.period] if spec.period and spec.period in out.columns else [])
    dup = out.group_by(key).len().filter(pl.col("len") > 1)
    if dup.height:
        first = dup.row(0, named=True)
        raise InputError(
            f"{dup.height} unit(s) appear more than once, e.g. {first}",
            [Problem("duplicate unit", file=file, field=spec.unit)],
        )
    return out


def leaf_matrix(
    spec: IndexSpec,
    frame: pl.DataFrame,
    *,
    normalisation: Normalisation | None = None,
    imputation: Imputation | None = None,
    rounding: bool = True,
) -> LeafData:
    """Normalised score of every indicator (columns in spec order) for a prepared frame.

    ``normalisation`` / ``imputation`` override every indicator's own method (direction is kept);
    the uncertainty analysis uses this to try alternatives.
    """
    units = frame[spec.unit].to_numpy().astype(object)
    has_period = bool(spec.period and spec.period in frame.columns)
    periods = frame[spec.period].to_numpy().astype(object) if has_period and spec.period else None
    groups: tuple[NDArray[np.intp] | slice, ...]
    if periods is not None:
        _, inv = np.unique(periods.astype(str), return_inverse=True)
        groups = tuple(np.flatnonzero(inv == g) for g in range(int(inv.max()) + 1))
    else:
        groups = (slice(None),)
    # filled indicator by indicator as (k, n); returned as its (n, k) transpose
    out = np.full((len(spec.indicators), frame.height), np.nan)
    for j, ind in enumerate(spec.indicators):
        x = frame[ind.column].to_numpy().astype(np.float64)
        if ind.denominator:
            d = frame[ind.denominator].to_numpy().astype(np.float64)
            with np.errstate(divide="ignore", invalid="ignore"):
                x = np.where(d > 0, x / d * ind.multiplier, np.nan)
        elif ind.multiplier != 1.0:
            x = x * ind.multiplier
        if rounding:
            x = round_values(x, ind.input_round, spec.rounding)
        imp = imputation or ind.imputation
        if imp.method.startswith("panel_") and periods is not None:
            per = np.array([float(p) for p in periods])
            x = impute_panel(x, per, units, imp.method)
        grp = frame[imp.group].to_numpy().astype(object) if imp.group else None
        norm = normalisation or ind.normalisation
        for g in groups:
            v = impute(x[g], imp, grp[g] if grp is not None else None)
            v = treat(v, ind.treatment)
            v = normalise(v, norm, ind.direction)
            out[j, g] = round_values(v, ind.round, spec.rounding) if rounding else v
    has_missing = np.isnan(out).any(axis=1)
    return LeafData(
        units=units, periods=periods, matrix=out.T, groups=groups, has_missing=has_missing
    )


def _post_order(spec: IndexSpec) -> list[Node]:
    nodes = {n.code: n for n in spec.nodes}
    order: list[Node] = []

    def visit(code: str) -> None:
        for ch in nodes[code].children:
            if ch in nodes:
                visit(ch)
        order.append(nodes[code])

    visit(spec.root)
    return order


def _normalise_columns(
    v: FloatArray, norm: Normalisation, groups: Sequence[NDArray[np.intp] | slice]
) -> FloatArray:
    out = np.full(v.shape, np.nan)
    for g in groups:
        for b in range(v.shape[1]):
            out[g, b] = normalise(v[g, b], norm)
    return out


def evaluate_tree(
    spec: IndexSpec,
    leaves: LeafData,
    *,
    weights: Mapping[str, FloatArray] | None = None,
    aggregation: str | Mapping[str, str] | None = None,
    rounding: bool = True,
    normalise_root: bool = True,
    only_needed: bool = False,
) -> dict[str, tuple[FloatArray, FloatArray | None]]:
    """Scores of every node, for one or many weight draws.

    ``weights`` maps a node code to a ``(n_children, n_draws)`` array (children in spec order);
    nodes not in it use the spec's weights. ``aggregation`` overrides the aggregation of every node
    (a string) or of named nodes (a mapping). Returns ``code -> (score, normalised or None)``, each
    ``(n_units, n_draws)``. With ``normalise_root=False`` a monotone root normalisation is skipped
    (ranks do not change), which the Monte-Carlo analysis uses to save time; with
    ``only_needed`` a node's normalisation is computed only when its parent aggregates it or it is
    the root.
    """
    node_by_code = {n.code: n for n in spec.nodes}
    leaf_pos = {ind.code: j for j, ind in enumerate(spec.indicators)}
    leaf_w = {ind.code: ind.weight for ind in spec.indicators}
    node_w = {n.code: n.weight for n in spec.nodes}
    L = leaves.matrix
    res: dict[str, tuple[FloatArray, FloatArray | None]] = {}
    for node in _post_order(spec):
        kids = node.children
        if weights is not None and node.code in weights:
            W = np.asarray(weights[node.code], dtype=np.float64)
        else:
            W = np.array([[leaf_w.get(k, node_w.get(k, 1.0))] for k in kids])
        method = (
            aggregation
            if isinstance(aggregation, str)
            else (aggregation or {}).get(node.code, node.aggregation)
        )
        if all(k in leaf_pos for k in kids):
            cols = [leaf_pos[k] for k in kids]
            X: FloatArray = L if cols == list(range(L.shape[1])) else L[:, cols]
        else:
            vals: list[FloatArray] = []
            for k in kids:
                if k in leaf_pos:
                    vals.append(L[:, leaf_pos[k]][:, None])
                else:
                    sc, nz = res[k]
                    vals.append(nz if (node.inputs == "normalised" and nz is not None) else sc)
            B = max(max(v.shape[1] for v in vals), W.shape[1])
            X = np.stack([np.broadcast_to(v, (L.shape[0], B)) for v in vals])
        complete = None
        if X is L or X.ndim == 2:
            if leaves.has_missing is not None:
                complete = not bool(leaves.has_missing[[leaf_pos[k] for k in kids]].any())
        score = aggregate(
            method, X, W, missing=node.missing, min_available=node.min_available, complete=complete
        )
        if rounding:
            score = round_values(score, node.score_round, spec.rounding)
        normed: FloatArray | None = None
        parent = node_by_code.get(node.parent) if node.parent else None
        unused = only_needed and parent is not None and parent.inputs != "normalised"
        if node.normalisation is not None and not unused:
            skip = (
                not normalise_root
                and node.code == spec.root
                and node.normalisation.method in _MONOTONE
            )
            if not skip:
                normed = _normalise_columns(score, node.normalisation, leaves.groups)
                if rounding:
                    normed = round_values(normed, node.round, spec.rounding)
        res[node.code] = (score, normed)
    return res


def _flag(v: FloatArray, op: str, thr: float) -> FloatArray:
    with np.errstate(invalid="ignore"):
        f = {">=": v >= thr, ">": v > thr, "<=": v <= thr, "<": v < thr}[op]
    return np.where(np.isnan(v), np.nan, f.astype(np.float64))


def compute(spec: IndexSpec, frame: pl.DataFrame, *, file: str | None = None) -> IndexResult:
    """Compute an index for every unit (and period) of a wide frame.

    Parameters
    ----------
    spec
        A validated specification (:func:`~commonweal.analytics.indicators.load_spec`).
    frame
        One row per unit (and period): the unit column, the indicator columns the spec names.
    file
        Name used in error messages.

    Returns
    -------
    IndexResult
        ``frame`` holds the unit (and period) and every output column the spec declares, in spec
        order; missing values are the spec's ``output_sentinel`` (CDC: -999) or null.

    Examples
    --------
    >>> import polars as pl
    >>> from commonweal.analytics.indicators import compute, load_spec
    >>> spec = load_spec("bric-template")
    """
    prepared = prepare_frame(spec, frame, file)
    leaves = leaf_matrix(spec, prepared)
    tree = evaluate_tree(spec, leaves)
    cols: dict[str, FloatArray] = {}
    flags: dict[str, FloatArray] = {}
    int_cols: set[str] = set()
    for j, ind in enumerate(spec.indicators):
        v = leaves.matrix[:, j]
        if ind.output:
            cols[ind.output] = v
        if ind.flag is not None:
            flags[ind.code] = _flag(v, ind.flag.op, ind.flag.threshold)
            if ind.flag.output:
                cols[ind.flag.output] = flags[ind.code]
                int_cols.add(ind.flag.output)
    leaves_under: dict[str, list[str]] = {}
    for node in _post_order(spec):
        acc: list[str] = []
        for k in node.children:
            acc += leaves_under.get(
                k, [k] if k in flags or any(i.code == k for i in spec.indicators) else []
            )
        leaves_under[node.code] = acc
        score, normed = tree[node.code]
        if node.score_output:
            cols[node.score_output] = score[:, 0]
        if node.output:
            cols[node.output] = (normed if normed is not None else score)[:, 0]
        if node.flag_count:
            fl = [flags[c] for c in acc if c in flags]
            if fl:
                stack = np.column_stack(fl)
                cnt = np.nansum(stack, axis=1)
                if node.missing == "any":
                    cnt = np.where(np.isnan(stack).any(axis=1), np.nan, cnt)
                cols[node.flag_count] = cnt
                int_cols.add(node.flag_count)
    ordered = [c for c in spec.output_columns if c in cols]
    data: dict[str, object] = {spec.unit: prepared[spec.unit]}
    if leaves.periods is not None and spec.period:
        data[spec.period] = prepared[spec.period]
    sent = spec.output_sentinel
    for c in ordered:
        v = cols[c]
        if c in int_cols:
            s = pl.Series(c, np.where(np.isnan(v), 0, v).astype(np.int64)).to_frame()
            ser = s.select(
                pl.when(pl.Series(np.isnan(v)))
                .then(None if sent is None else int(sent))
                .otherwise(pl.col(c))
                .alias(c)
            ).to_series()
        else:
            ser = pl.Series(c, np.where(np.isnan(v), np.nan if sent is None else sent, v))
            if sent is None:
                ser = ser.fill_nan(None)
        data[c] = ser
    root = spec.node(spec.root)
    index_col = root.output or root.score_output or ordered[-1]
    return IndexResult(
        spec_id=spec.id, unit=spec.unit, index_column=index_col, frame=pl.DataFrame(data)
    )
