"""Indices and indicators over time: change between periods, trends over a panel, and warnings
when the variable set or the geography changed between periods.

Comparisons across vintages are only meaningful when the same variables were measured for the
same units. CDC, for example, changed the SVI variable set between 2018 and 2020, Alaska split
Valdez-Cordova (02261) into 02063 and 02066 in 2020, and Connecticut replaced its 8 counties with
9 planning regions in the 2022 data. :func:`comparability_warnings` finds such breaks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import polars as pl

from commonweal.analytics.indicators.spec import IndexSpec
from commonweal.errors import InputError

__all__ = [
    "KNOWN_GEOGRAPHY_CHANGES",
    "ChangeResult",
    "ComparabilityWarning",
    "change",
    "comparability_warnings",
    "trend",
]

# Documented US county changes (Census Bureau, "Substantial changes to counties and county
# equivalent entities"): code prefix -> explanation.
KNOWN_GEOGRAPHY_CHANGES: dict[str, str] = {
    "09": "Connecticut replaced its 8 counties (09001-09015) by 9 planning regions (09110-09190) in 2022",
    "02261": "Alaska's Valdez-Cordova Census Area (02261) was split into 02063 and 02066 in 2019/2020",
    "02270": "Alaska's Wade Hampton (02270) was renamed Kusilvak Census Area (02158) in 2015",
    "46113": "South Dakota's Shannon County (46113) was renamed Oglala Lakota County (46102) in 2015",
    "51515": "Virginia's Bedford city (51515) was merged into Bedford County (51019) in 2013",
}


@dataclass(frozen=True, slots=True)
class ComparabilityWarning:
    """Why two periods may not be comparable."""

    kind: str  # "variables" | "structure" | "geography"
    message: str
    details: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "message": self.message, "details": list(self.details)}


def comparability_warnings(
    *,
    spec_a: IndexSpec | None = None,
    spec_b: IndexSpec | None = None,
    units_a: Iterable[str] | None = None,
    units_b: Iterable[str] | None = None,
    label_a: str = "period A",
    label_b: str = "period B",
    state_prefix: int | None = 2,
) -> list[ComparabilityWarning]:
    """Warn when the variable set, the tree or the geography differs between two periods.

    Units are grouped by their first ``state_prefix`` characters (the state FIPS code) so a
    boundary change reads as "state 09: 8 units gone, 9 new"; known changes are explained.
    """
    out: list[ComparabilityWarning] = []
    if spec_a is not None and spec_b is not None:
        va = {i.code: i.column for i in spec_a.indicators}
        vb = {i.code: i.column for i in spec_b.indicators}
        gone, new = sorted(set(va) - set(vb)), sorted(set(vb) - set(va))
        if gone or new:
            out.append(
                ComparabilityWarning(
                    "variables",
                    f"the variable set changed between {label_a} and {label_b}: "
                    f"{len(gone)} dropped ({', '.join(gone) or '-'}), "
                    f"{len(new)} added ({', '.join(new) or '-'}); "
                    "index values are not directly comparable",
                    tuple([f"dropped {c}" for c in gone] + [f"added {c}" for c in new]),
                )
            )
        pa = {i.code: i.parent for i in spec_a.indicators}
        pb = {i.code: i.parent for i in spec_b.indicators}
        moved = sorted(c for c in set(pa) & set(pb) if pa[c] != pb[c])
        if moved:
            out.append(
                ComparabilityWarning(
                    "structure",
                    f"{len(moved)} indicator(s) moved to another theme: {', '.join(moved)}",
                    tuple(f"{c}: {pa[c]} -> {pb[c]}" for c in moved),
                )
            )
    if units_a is not None and units_b is not None:
        ua, ub = set(map(str, units_a)), set(map(str, units_b))
        gone_u, new_u = sorted(ua - ub), sorted(ub - ua)
        if gone_u or new_u:
            groups: dict[str, tuple[list[str], list[str]]] = {}
            for u in gone_u:
                groups.setdefault(u[:state_prefix] if state_prefix else "", ([], []))[0].append(u)
            for u in new_u:
                groups.setdefault(u[:state_prefix] if state_prefix else "", ([], []))[1].append(u)
            details = []
            for g, (gu, nu) in sorted(groups.items()):
                where = f"state {g}: " if g else ""
                text = f"{where}{len(gu)} gone ({', '.join(gu[:10])}), {len(nu)} new ({', '.join(nu[:10])})"
                hints = {
                    KNOWN_GEOGRAPHY_CHANGES[k]
                    for k in KNOWN_GEOGRAPHY_CHANGES
                    if any(u.startswith(k) for u in gu + nu) and (len(k) > 2 or (gu and nu))
                }
                if hints:
                    text += " -- " + "; ".join(sorted(hints))
                details.append(text)
            out.append(
                ComparabilityWarning(
                    "geography",
                    f"the geography changed between {label_a} and {label_b}: {len(gone_u)} unit(s) gone, "
                    f"{len(new_u)} new; compare only units present in both",
                    tuple(details),
                )
            )
    return out


@dataclass(frozen=True)
class ChangeResult:
    """Change of one column between two periods, per unit present in both."""

    frame: pl.DataFrame
    warnings: tuple[ComparabilityWarning, ...] = field(default=())

    def to_dict(self) -> dict[str, object]:
        return {"warnings": [w.to_dict() for w in self.warnings], "rows": self.frame.to_dicts()}


def change(
    a: pl.DataFrame,
    b: pl.DataFrame,
    *,
    unit: str,
    column: str,
    spec_a: IndexSpec | None = None,
    spec_b: IndexSpec | None = None,
    label_a: str = "a",
    label_b: str = "b",
    sentinel: float | None = -999,
) -> ChangeResult:
    """Value and rank (1 = highest) of ``column`` in both periods, their difference, and warnings.

    ``a`` and ``b`` are result frames of the two periods (for example ``IndexResult.frame``).
    """
    for df, lab in ((a, label_a), (b, label_b)):
        for c in (unit, column):
            if c not in df.columns:
                raise InputError(f"column {c!r} is missing from {lab}")

    def prep(df: pl.DataFrame, lab: str) -> pl.DataFrame:
        v = pl.col(column).cast(pl.Float64)
        if sentinel is not None:
            v = pl.when(v == sentinel).then(None).otherwise(v)
        return df.select(pl.col(unit).cast(pl.Utf8), v.alias(f"value_{lab}")).with_columns(
            pl.col(f"value_{lab}").rank("min", descending=True).alias(f"rank_{lab}")
        )

    pa, pb = prep(a, label_a), prep(b, label_b)
    joined = pa.join(pb, on=unit, how="inner").with_columns(
        (pl.col(f"value_{label_b}") - pl.col(f"value_{label_a}")).alias("change"),
        (pl.col(f"rank_{label_b}").cast(pl.Int64) - pl.col(f"rank_{label_a}").cast(pl.Int64)).alias(
            "rank_change"
        ),
    )
    warns = comparability_warnings(
        spec_a=spec_a,
        spec_b=spec_b,
        units_a=pa[unit].to_list(),
        units_b=pb[unit].to_list(),
        label_a=label_a,
        label_b=label_b,
    )
    return ChangeResult(joined.sort(unit), tuple(warns))


def trend(long: pl.DataFrame, *, min_periods: int = 2) -> pl.DataFrame:
    """Least-squares slope per unit and indicator over a panel (long frame from ``read_long``).

    ``slope = sum((t - mean t)(y - mean y)) / sum((t - mean t)^2)`` over the unit's non-missing
    periods (periods must be numbers, e.g. years); also the first and last period and value.
    Units with fewer than ``min_periods`` observations get a null slope.
    """
    df = long.filter(pl.col("value").is_not_null()).with_columns(
        pl.col("period").cast(pl.Float64, strict=False).alias("_t")
    )
    if df["_t"].null_count():
        raise InputError("trend needs numeric periods (for example years)")
    t, y = pl.col("_t"), pl.col("value")
    dt, dy = t - t.mean(), y - y.mean()
    out = (
        df.sort("_t")
        .group_by(["unit", "indicator"], maintain_order=True)
        .agg(
            pl.len().alias("n_periods"),
            ((dt * dy).sum() / (dt * dt).sum()).alias("slope"),
            t.first().alias("first_period"),
            t.last().alias("last_period"),
            y.first().alias("first_value"),
            y.last().alias("last_value"),
        )
    )
    return out.with_columns(
        pl.when(pl.col("n_periods") >= min_periods)
        .then(pl.col("slope"))
        .otherwise(None)
        .fill_nan(None)
    ).sort(["indicator", "unit"])
