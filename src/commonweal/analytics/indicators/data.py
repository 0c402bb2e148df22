"""Readers for indicator data: long or wide CSV/Parquet, TraCR-style wide files, geographies.

Everything returns a validated polars frame in one of two canonical shapes:

- **long** (:data:`LONG_SCHEMA`): ``unit, period, indicator, value, moe`` -- one row per
  geography x indicator x period, ``value``/``moe`` nullable floats, ``period`` text
  (``""`` when the data have no period);
- **geographies** (:data:`GEOGRAPHY_SCHEMA`): ``code, name, level, parent``.

:func:`to_wide` turns a long frame into the wide frame the engine computes on. Problems are raised
as one :class:`~commonweal.errors.InputError` listing each bad cell by file, row (header = row 1)
and column. This is the only module of the indicators package that reads files.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import polars as pl

from commonweal.errors import InputError, Problem

__all__ = [
    "GEOGRAPHY_LEVELS",
    "GEOGRAPHY_SCHEMA",
    "LONG_SCHEMA",
    "read_geographies",
    "read_long",
    "read_table",
    "read_tracr",
    "read_wide",
    "to_wide",
]

LONG_SCHEMA = {
    "unit": pl.Utf8,
    "period": pl.Utf8,
    "indicator": pl.Utf8,
    "value": pl.Float64,
    "moe": pl.Float64,
}
GEOGRAPHY_SCHEMA = {"code": pl.Utf8, "name": pl.Utf8, "level": pl.Utf8, "parent": pl.Utf8}
GEOGRAPHY_LEVELS = ("nation", "state", "county", "tract", "block_group", "neighbourhood", "custom")
_MAX_PROBLEMS = 200


def read_table(path: str | Path) -> pl.DataFrame:
    """Read a CSV (every column as text, UTF-8 BOM tolerated) or a Parquet file."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"no such file: {p}", [Problem("file not found", file=str(p))])
    try:
        if p.suffix.lower() in (".parquet", ".pq"):
            return pl.read_parquet(p)
        return pl.read_csv(
            p, infer_schema_length=0, encoding="utf8-lossy", truncate_ragged_lines=False
        )
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError, OSError) as exc:
        raise InputError(f"cannot read {p.name}: {exc}", [Problem(str(exc), file=str(p))]) from exc


def _strip_bom(df: pl.DataFrame) -> pl.DataFrame:
    return df.rename({c: c.lstrip("\ufeff") for c in df.columns if c.startswith("\ufeff")})


def _numeric(
    df: pl.DataFrame,
    col: str,
    file: str | None,
    problems: list[Problem],
    sentinels: Iterable[float],
) -> pl.Expr:
    """Expression casting ``col`` to Float64 (empty -> null, sentinel -> null); bad cells noted."""
    dt = df.schema[col]
    if dt.is_numeric():
        e = pl.col(col).cast(pl.Float64)
    else:
        s = pl.col(col).cast(pl.Utf8).str.strip_chars()
        e = pl.when(s == "").then(None).otherwise(s).cast(pl.Float64, strict=False)
        bad = (
            df.with_row_index("_r")
            .filter(e.is_null() & s.is_not_null() & (s != ""))
            .head(_MAX_PROBLEMS)
        )
        for r in bad.iter_rows(named=True):
            problems.append(
                Problem(f"not a number: {r[col]!r}", file=file, row=int(r["_r"]) + 2, field=col)
            )
    sent = [float(v) for v in sentinels]
    if sent:
        e = pl.when(pl.any_horizontal([e == v for v in sent])).then(None).otherwise(e)
    return e


def _unit_expr(df: pl.DataFrame, col: str, width: int | None) -> pl.Expr:
    e = pl.col(col).cast(pl.Utf8).str.strip_chars()
    return e.str.zfill(width) if width else e


def _check_units(
    df: pl.DataFrame, key: list[str], file: str | None, problems: list[Problem]
) -> None:
    missing = df.with_row_index("_r").filter(pl.col("unit").is_null() | (pl.col("unit") == ""))
    for r in missing.head(_MAX_PROBLEMS).iter_rows(named=True):
        problems.append(Problem("empty unit code", file=file, row=int(r["_r"]) + 2, field="unit"))
    dup = df.with_row_index("_r").filter(pl.struct(key).is_duplicated())
    for r in dup.head(_MAX_PROBLEMS).iter_rows(named=True):
        what = ", ".join(f"{k}={r[k]!r}" for k in key)
        problems.append(Problem(f"duplicate row for {what}", file=file, row=int(r["_r"]) + 2))


def read_long(
    path: str | Path | pl.DataFrame,
    *,
    unit: str = "unit",
    period: str | None = "period",
    indicator: str = "indicator",
    value: str = "value",
    moe: str | None = "moe",
    sentinels: Iterable[float] = (-999,),
    unit_width: int | None = None,
) -> pl.DataFrame:
    """Read a long file: one row per unit x indicator (x period), with an optional margin of error.

    Column names are given by the keyword arguments; ``period``/``moe`` may be absent from the
    file. Empty cells and ``sentinels`` become missing. Returns a frame with :data:`LONG_SCHEMA`.
    """
    file = None if isinstance(path, pl.DataFrame) else str(path)
    df = _strip_bom(path if isinstance(path, pl.DataFrame) else read_table(path))
    problems: list[Problem] = []
    for c in (unit, indicator, value):
        if c not in df.columns:
            problems.append(Problem(f"required column {c!r} is missing", file=file, field=c))
    if problems:
        raise InputError("the long file lacks required columns", problems)
    sent = list(sentinels)
    exprs = [
        _unit_expr(df, unit, unit_width).alias("unit"),
        (
            pl.col(period).cast(pl.Utf8).str.strip_chars()
            if period and period in df.columns
            else pl.lit("")
        ).alias("period"),
        pl.col(indicator).cast(pl.Utf8).str.strip_chars().alias("indicator"),
        _numeric(df, value, file, problems, sent).alias("value"),
        (
            _numeric(df, moe, file, problems, [])
            if moe and moe in df.columns
            else pl.lit(None, pl.Float64)
        ).alias("moe"),
    ]
    out = df.select(exprs)
    _check_units(out, ["unit", "period", "indicator"], file, problems)
    if problems:
        raise InputError(f"{len(problems)} problem(s) in the long file", problems)
    return out.cast(LONG_SCHEMA)  # type: ignore[arg-type]


def read_wide(
    path: str | Path | pl.DataFrame,
    *,
    unit: str,
    period: str | None = None,
    measures: Iterable[str] | None = None,
    exclude: Iterable[str] = (),
    moe_columns: Mapping[str, str] | None = None,
    sentinels: Iterable[float] = (-999,),
    unit_width: int | None = None,
    file: str | None = None,
) -> pl.DataFrame:
    """Read a wide file (``unit[, period], <measure columns>``) into the long shape.

    ``measures`` defaults to every column other than the unit, the period, ``exclude`` and the
    margin-of-error columns named in ``moe_columns`` (measure -> its MOE column). Empty cells mean
    missing, never zero. ``file`` names the source in errors when ``path`` is a frame.
    """
    file = file if isinstance(path, pl.DataFrame) else str(path)
    df = _strip_bom(path if isinstance(path, pl.DataFrame) else read_table(path))
    problems: list[Problem] = []
    for c in [unit] + ([period] if period else []):
        if c not in df.columns:
            problems.append(Problem(f"required column {c!r} is missing", file=file, field=c))
    moe_map = dict(moe_columns or {})
    skip = {unit, period, *exclude, *moe_map.values()}
    cols = list(measures) if measures is not None else [c for c in df.columns if c not in skip]
    for c in [*cols, *moe_map.values()]:
        if c not in df.columns:
            problems.append(Problem(f"column {c!r} is missing", file=file, field=c))
    if problems:
        raise InputError("the wide file lacks required columns", problems)
    sent = list(sentinels)
    base = [_unit_expr(df, unit, unit_width).alias("unit")]
    base.append(
        (pl.col(period).cast(pl.Utf8).str.strip_chars() if period else pl.lit("")).alias("period")
    )
    vals = [_numeric(df, c, file, problems, sent).alias(c) for c in cols]
    moes = [_numeric(df, m, file, problems, []).alias(f"__moe__{c}") for c, m in moe_map.items()]
    wide = df.select(base + vals + moes)
    _check_units(wide, ["unit", "period"], file, problems)
    if problems:
        raise InputError(f"{len(problems)} problem(s) in the wide file", problems)
    long = wide.select(["unit", "period", *cols]).unpivot(
        index=["unit", "period"], on=cols, variable_name="indicator", value_name="value"
    )
    if moes:
        m = (
            wide.select(["unit", "period", *[f"__moe__{c}" for c in moe_map]])
            .unpivot(index=["unit", "period"], variable_name="indicator", value_name="moe")
            .with_columns(pl.col("indicator").str.strip_prefix("__moe__"))
        )
        long = long.join(m, on=["unit", "period", "indicator"], how="left")
    else:
        long = long.with_columns(pl.lit(None, pl.Float64).alias("moe"))
    return long.select(list(LONG_SCHEMA)).cast(LONG_SCHEMA)  # type: ignore[arg-type]


def read_tracr(path: str | Path | pl.DataFrame) -> pl.DataFrame:
    """Read a NIST TraCR-style wide file (``UID, fips, period, <measure columns>``).

    Dillard et al. (2025), *Tracking Community Resilience (TraCR) Database*, NIST,
    doi:10.18434/mds2-3978. ``fips`` is zero-padded to 5 characters (spreadsheets strip the
    leading zero), ``UID`` is ignored, empty cells are missing.
    """
    df = _strip_bom(path if isinstance(path, pl.DataFrame) else read_table(path))
    exclude = [c for c in df.columns if c.upper() == "UID"]
    file = None if isinstance(path, pl.DataFrame) else str(path)
    return read_wide(
        df, unit="fips", period="period", exclude=exclude, unit_width=5, sentinels=(), file=file
    )


def to_wide(long: pl.DataFrame, *, unit: str = "unit", period: str | None = None) -> pl.DataFrame:
    """Pivot a long frame to ``unit[, period], <one column per indicator>`` for the engine.

    With ``period=None`` the frame must hold one period (or none) and the period column is
    dropped; otherwise the period column is kept under that name.
    """
    periods = long["period"].unique().to_list()
    if period is None and len(periods) > 1:
        raise InputError(
            f"the data hold {len(periods)} periods ({', '.join(sorted(map(str, periods))[:5])}...); "
            "pick one or pass period= to keep them"
        )
    idx = ["unit"] if period is None else ["unit", "period"]
    wide = long.pivot(on="indicator", index=idx, values="value", aggregate_function="first")
    ren = {"unit": unit} | ({"period": period} if period else {})
    return wide.rename(ren)


def read_geographies(path: str | Path | pl.DataFrame) -> pl.DataFrame:
    """Read geographies: ``code, name, level[, parent]`` (FIPS/GEOID or custom codes).

    ``level`` is one of :data:`GEOGRAPHY_LEVELS`; every ``parent`` must be a code in the file
    (or empty). Returns a frame with :data:`GEOGRAPHY_SCHEMA`.
    """
    file = None if isinstance(path, pl.DataFrame) else str(path)
    df = _strip_bom(path if isinstance(path, pl.DataFrame) else read_table(path))
    problems: list[Problem] = []
    for c in ("code", "name", "level"):
        if c not in df.columns:
            problems.append(Problem(f"required column {c!r} is missing", file=file, field=c))
    if problems:
        raise InputError("the geography file lacks required columns", problems)
    out = df.select(
        pl.col("code").cast(pl.Utf8).str.strip_chars(),
        pl.col("name").cast(pl.Utf8),
        pl.col("level").cast(pl.Utf8).str.strip_chars().str.to_lowercase(),
        (
            pl.col("parent").cast(pl.Utf8).str.strip_chars()
            if "parent" in df.columns
            else pl.lit(None, pl.Utf8)
        ).alias("parent"),
    ).with_columns(
        pl.when(pl.col("parent") == "").then(None).otherwise(pl.col("parent")).alias("parent")
    )
    codes = set(out["code"].to_list())
    for k, r in enumerate(out.iter_rows(named=True)):
        if r["level"] not in GEOGRAPHY_LEVELS:
            problems.append(
                Problem(
                    f"unknown level {r['level']!r}; use one of {', '.join(GEOGRAPHY_LEVELS)}",
                    file=file,
                    row=k + 2,
                    field="level",
                )
            )
        if r["parent"] is not None and r["parent"] not in codes:
            problems.append(
                Problem(
                    f"parent {r['parent']!r} is not a code in this file",
                    file=file,
                    row=k + 2,
                    field="parent",
                )
            )
        if len(problems) >= _MAX_PROBLEMS:
            break
    dup = out.with_row_index("_r").filter(pl.col("code").is_duplicated())
    for r in dup.head(20).iter_rows(named=True):
        problems.append(
            Problem(f"duplicate code {r['code']!r}", file=file, row=int(r["_r"]) + 2, field="code")
        )
    if problems:
        raise InputError(f"{len(problems)} problem(s) in the geography file", problems)
    return out
