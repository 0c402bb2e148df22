"""Indicator data in the database: geographies, indicators and their values per period.

Files are read by the library readers (:mod:`commonweal.analytics.indicators.data`), which locate
every bad cell by file, row and column; this module writes what they return. A load is one
transaction of bulk statements: every value of the file is stored, or nothing is.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Integer, Select, Table, any_, bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from commonweal.analytics.indicators.spec import IndexSpec
from commonweal.db.statements import table_of
from commonweal.errors import InputError, NotFoundError, Problem
from commonweal.indicators.models import (
    Domain,
    Geography,
    GeographyLevel,
    Indicator,
    IndicatorValue,
)

if TYPE_CHECKING:
    # polars and the readers are imported where used: the web app imports this module at start-up
    import polars as pl

__all__ = [
    "FIPS_WIDTH",
    "FORMATS",
    "LoadReport",
    "geography_ids",
    "bulk_insert",
    "get_geography_or_raise",
    "get_indicator_or_raise",
    "indicator_meta_from_spec",
    "list_geographies",
    "list_indicators",
    "list_periods",
    "list_values",
    "load_geographies",
    "load_values",
    "read_values_file",
    "stored_frame",
]

FORMATS = ("wide", "long", "tracr")
# Width of FIPS/GEOID codes per level: all-digit codes shorter than this are zero-padded on load
# (spreadsheets strip the leading zero of 01001).
FIPS_WIDTH = {"state": 2, "county": 5, "tract": 11, "block_group": 12}
CHUNK = 5000
Progress = Callable[[int], None] | None


@dataclass(frozen=True)
class LoadReport:
    """What a load wrote."""

    periods: tuple[str, ...]
    geographies_created: int
    indicators_created: int
    values_inserted: int
    values_updated: int
    missing_values: int
    file: str | None = None
    indicators: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["periods"], d["indicators"] = list(self.periods), list(self.indicators)
        return d


# -- reading files ---------------------------------------------------------------------------


def read_values_file(
    path: str | Path,
    *,
    fmt: str = "wide",
    unit: str = "fips",
    period_column: str | None = None,
    columns: Sequence[str] = (),
    name_column: str | None = None,
    unit_width: int | None = None,
) -> tuple[pl.DataFrame, dict[str, str]]:
    """Read a values file into the long shape (``unit, period, indicator, value, moe``).

    Parameters
    ----------
    fmt
        ``wide`` (``unit[, period], <measure columns>``), ``long``
        (``unit, period, indicator, value[, moe]``) or ``tracr`` (NIST TraCR wide file).
    unit, period_column
        Column names of the unit code and the period (wide files).
    columns
        Wide files: which measure columns to load; shell-style patterns allowed (``EP_*``).
        Default: every column except the unit, the period and ``name_column``.
    name_column
        A column holding each unit's name (e.g. ``LOCATION``); returned as ``{code: name}``.
    unit_width
        Zero-pad unit codes to this width (FIPS: 5 for counties, 11 for tracts).
    """
    import polars as pl

    from commonweal.analytics.indicators import data as readers

    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    if fmt == "long":
        return readers.read_long(path, unit=unit, unit_width=unit_width), {}
    if fmt == "tracr":
        return readers.read_tracr(path), {}
    table = readers.read_table(path)
    table = table.rename({c: c.lstrip("\ufeff") for c in table.columns})
    measures: list[str] | None = None
    if columns:
        measures = [c for c in table.columns if any(fnmatch.fnmatchcase(c, pat) for pat in columns)]
        if not measures:
            raise InputError(
                f"no column of {Path(path).name} matches {', '.join(columns)}",
                [Problem("no matching measure columns", file=str(path))],
            )
    names: dict[str, str] = {}
    if name_column:
        if name_column not in table.columns:
            raise InputError(
                f"name column {name_column!r} is missing",
                [Problem("column missing", file=str(path), field=name_column)],
            )
        if unit in table.columns:
            key = pl.col(unit).cast(pl.Utf8).str.strip_chars()
            key = key.str.zfill(unit_width) if unit_width else key
            names = dict(table.select(key, pl.col(name_column).cast(pl.Utf8)).iter_rows())
    long = readers.read_wide(
        table,
        unit=unit,
        period=period_column,
        measures=measures,
        exclude=[name_column] if name_column else [],
        unit_width=unit_width,
        file=str(path),
    )
    return long, names


def indicator_meta_from_spec(spec: IndexSpec) -> dict[str, dict[str, Any]]:
    """Indicator metadata (name, domain, direction, unit, source, notes) keyed by data column."""
    out: dict[str, dict[str, Any]] = {}
    for i in spec.indicators:
        out[i.column] = {
            "name": i.name or i.code,
            "domain": i.domain or None,
            "direction": -1 if i.direction < 0 else 1,
            "unit": i.unit or None,
            "source": i.source or spec.source or None,
            "notes": i.notes or None,
        }
    return out


# -- writing ---------------------------------------------------------------------------------


def _check_lengths(codes: Iterable[str], limit: int, what: str, problems: list[Problem]) -> None:
    for c in codes:
        if len(c) > limit:
            problems.append(Problem(f"{what} {c[:40]!r}... is longer than {limit} characters"))
            if len(problems) > 50:
                return


def _domain(value: Any) -> Domain | None:
    return Domain(value) if value in Domain.__members__ else None


def load_geographies(
    session: Session, *, organisation_id: int, frame: pl.DataFrame
) -> tuple[int, int]:
    """Create or update geographies from :func:`read_geographies` output; returns (new, updated)."""
    problems: list[Problem] = []
    _check_lengths(frame["code"].to_list(), 32, "code", problems)
    if problems:
        raise InputError("geography codes too long", problems)
    existing = geography_ids(session, organisation_id)
    new = [
        {
            "organisation_id": organisation_id,
            "code": r["code"],
            "name": (r["name"] or r["code"])[:200],
            "level": GeographyLevel(r["level"]),
        }
        for r in frame.iter_rows(named=True)
        if r["code"] not in existing
    ]
    for start in range(0, len(new), CHUNK):
        session.execute(table_of(Geography).insert(), _with_times(new[start : start + CHUNK]))
    ids = geography_ids(session, organisation_id)
    upd = [
        {
            "_id": ids[r["code"]],
            "name": (r["name"] or r["code"])[:200],
            "level": GeographyLevel(r["level"]).value,
            "parent_id": ids.get(r["parent"]) if r["parent"] else None,
        }
        for r in frame.iter_rows(named=True)
    ]
    t = table_of(Geography)
    stmt = (
        update(t)
        .where(t.c.id == bindparam("_id"))
        .values(name=bindparam("name"), level=bindparam("level"), parent_id=bindparam("parent_id"))
    )
    for start in range(0, len(upd), CHUNK):
        session.execute(stmt, upd[start : start + CHUNK])
    return len(new), len(upd) - len(new)


def pg_array(values: list[int], item: Any) -> Any:
    """A PostgreSQL array literal parameter (``ARRAY[...]``) of ``values``."""
    from sqlalchemy import cast, literal
    from sqlalchemy.dialects.postgresql import ARRAY

    return cast(literal(values, ARRAY(item)), ARRAY(item))


def bulk_insert(
    session: Session, table: Table, rows: pl.DataFrame, *, on_progress: Progress = None
) -> None:
    """Insert a frame's rows (columns named as the table's) inside the session's transaction.

    PostgreSQL: ``COPY ... FROM STDIN`` (CSV) through psycopg; other databases: the driver's
    ``executemany`` on plain tuples, 5,000 rows at a time. Rows become Python tuples one chunk at
    a time, so 1.3M tract values never sit in memory as Python objects all at once.
    """
    conn = session.connection()
    cols = ", ".join(rows.columns)
    if conn.dialect.name == "postgresql":
        raw: Any = conn.connection.dbapi_connection
        sql = f"COPY {table.name} ({cols}) FROM STDIN WITH (FORMAT csv)"
        with raw.cursor() as cur, cur.copy(sql) as copy:
            for chunk in rows.iter_slices(CHUNK * 10):  # CSV written by polars (Rust), not row-wise
                copy.write(chunk.write_csv(include_header=False, null_value=""))
                if on_progress:
                    on_progress(chunk.height)
        return
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO {table.name} ({cols}) VALUES ({', '.join([mark] * rows.width)})"
    for chunk in rows.iter_slices(CHUNK):
        conn.exec_driver_sql(sql, chunk.rows())
        if on_progress:
            on_progress(chunk.height)


def _with_times(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from commonweal.db.base import utcnow

    now = utcnow()
    return [{**r, "created_at": now, "updated_at": now} for r in rows]


def geography_ids(session: Session, organisation_id: int) -> dict[str, int]:
    rows = session.execute(
        select(Geography.code, Geography.id).where(Geography.organisation_id == organisation_id)
    )
    return {str(c): int(i) for c, i in rows}


def _indicator_ids(session: Session, organisation_id: int) -> dict[str, int]:
    rows = session.execute(
        select(Indicator.code, Indicator.id).where(Indicator.organisation_id == organisation_id)
    )
    return {str(c): int(i) for c, i in rows}


def load_values(
    session: Session,
    *,
    organisation_id: int,
    long: pl.DataFrame,
    period: str | None = None,
    level: str = "county",
    names: Mapping[str, str] | None = None,
    indicator_meta: Mapping[str, Mapping[str, Any]] | None = None,
    file: str | None = None,
    on_progress: Progress = None,
) -> LoadReport:
    """Store a long frame (from the readers) for one organisation, in bulk.

    New geographies (at ``level``) and indicators are created on the way; a value that already
    exists for the same geography x indicator x period is replaced. All-digit codes of a US
    level are zero-padded to their FIPS width (:data:`FIPS_WIDTH`). ``period`` fills rows whose
    file had no period column; it is an error to give both. Runs inside the caller's transaction:
    on any error nothing is written.
    """
    import polars as pl

    problems: list[Problem] = []
    if level not in GeographyLevel.__members__:
        raise InputError(f"unknown level {level!r}; use one of {', '.join(GeographyLevel)}")
    periods_in = set(long["period"].unique().to_list())
    if period is not None:
        if periods_in - {""}:
            raise InputError(
                "the file has its own period column; leave out --period",
                [Problem("period given twice", file=file, field="period")],
            )
        long = long.with_columns(pl.lit(str(period).strip()).alias("period"))
    elif "" in periods_in:
        raise InputError(
            "the file has no period: say which period the values describe (e.g. --period 2018)",
            [Problem("no period", file=file, field="period")],
        )
    width = FIPS_WIDTH.get(level)
    if width:
        digits = pl.col("unit").str.contains(r"^[0-9]+$")
        long = long.with_columns(
            pl.when(digits).then(pl.col("unit").str.zfill(width)).otherwise(pl.col("unit"))
        )
        names = {(k.zfill(width) if k.isdigit() else k): v for k, v in (names or {}).items()}
    units = long["unit"].unique().to_list()
    codes = long["indicator"].unique().to_list()
    periods = sorted(long["period"].unique().to_list())
    _check_lengths(units, 32, "geography code", problems)
    _check_lengths(codes, 100, "indicator code", problems)
    _check_lengths(periods, 32, "period", problems)
    if problems:
        raise InputError(f"{len(problems)} problem(s) in {file or 'the data'}", problems)

    geo = geography_ids(session, organisation_id)
    names = names or {}
    new_geo = [
        {
            "organisation_id": organisation_id,
            "code": u,
            "name": (names.get(u) or u)[:200],
            "level": GeographyLevel(level).value,
        }
        for u in units
        if u not in geo
    ]
    for start in range(0, len(new_geo), CHUNK):
        session.execute(table_of(Geography).insert(), _with_times(new_geo[start : start + CHUNK]))
    if new_geo:
        geo = geography_ids(session, organisation_id)

    ind = _indicator_ids(session, organisation_id)
    meta = indicator_meta or {}
    new_ind = []
    for c in codes:
        if c in ind:
            continue
        m = dict(meta.get(c, {}))
        new_ind.append(
            {
                "organisation_id": organisation_id,
                "code": c,
                "name": str(m.get("name") or c)[:200],
                "domain": (d.value if (d := _domain(m.get("domain"))) else None),
                "direction": int(m.get("direction") or 1),
                "unit": m.get("unit"),
                "source": m.get("source"),
                "notes": m.get("notes"),
            }
        )
    if new_ind:
        session.execute(table_of(Indicator).insert(), _with_times(new_ind))
        ind = _indicator_ids(session, organisation_id)

    ind_ids = [ind[c] for c in codes]
    frame = long.select(
        pl.col("unit").replace_strict(geo, return_dtype=pl.Int64).alias("geography_id"),
        pl.col("indicator").replace_strict(ind, return_dtype=pl.Int64).alias("indicator_id"),
        "period",
        pl.col("value").fill_nan(None),
        pl.col("moe").fill_nan(None),
    ).with_columns(pl.lit(None, pl.Int64).alias("id"))
    if len(ind) > len(new_ind):  # some indicators existed before: their values may too
        q = select(
            IndicatorValue.geography_id,
            IndicatorValue.indicator_id,
            IndicatorValue.period,
            IndicatorValue.id,
        ).where(
            IndicatorValue.organisation_id == organisation_id,
            IndicatorValue.period.in_(periods),
        )
        schema = {
            "geography_id": pl.Int64,
            "indicator_id": pl.Int64,
            "period": pl.Utf8,
            "id": pl.Int64,
        }
        # one indicator at a time: a tract-level reload never holds 1.3M row objects at once
        old = pl.concat(
            [
                pl.DataFrame(
                    session.execute(q.where(IndicatorValue.indicator_id == i)).all(),
                    schema=schema,
                    orient="row",
                )
                for i in ind_ids
            ]
        )
        key = ["geography_id", "indicator_id", "period"]
        frame = frame.drop("id").join(old, on=key, how="left", maintain_order="left")
    replaced = frame.filter(pl.col("id").is_not_null())["id"].to_list()
    table = table_of(IndicatorValue)
    # a value loaded again is replaced: its old row is deleted and the new one inserted with the
    # others (nothing refers to value rows; one bulk path is much faster than row-wise UPDATEs)
    pg = session.connection().dialect.name == "postgresql"
    for start in range(0, len(replaced), CHUNK * 10 if pg else CHUNK):
        ids = replaced[start : start + (CHUNK * 10 if pg else CHUNK)]
        if pg:  # one array parameter instead of 50,000 bound values
            session.execute(delete(table).where(table.c.id == any_(pg_array(ids, Integer))))
        else:
            session.execute(delete(table).where(table.c.id.in_(ids)))
    rows = frame.select(
        pl.lit(organisation_id, pl.Int64).alias("organisation_id"),
        "geography_id",
        "indicator_id",
        "period",
        "value",
        "moe",
    )
    bulk_insert(session, table, rows, on_progress=on_progress)
    return LoadReport(
        periods=tuple(periods),
        geographies_created=len(new_geo),
        indicators_created=len(new_ind),
        values_inserted=rows.height - len(replaced),
        values_updated=len(replaced),
        missing_values=int(frame["value"].null_count()),
        file=file,
        indicators=tuple(sorted(codes)),
    )


# -- reading back ----------------------------------------------------------------------------


def stored_frame(
    session: Session, *, organisation_id: int, spec: IndexSpec, period: str
) -> pl.DataFrame:
    """The wide frame the engine needs (``<spec.unit>, <indicator columns>``) from stored values.

    Raises :class:`InputError` naming each indicator the spec needs that has no stored value
    in ``period``.
    """
    import polars as pl

    needed: list[str] = []
    for i in spec.indicators:
        needed += [i.column] + ([i.denominator] if i.denominator else [])
    needed = list(dict.fromkeys(needed))
    ind = {c: i for c, i in _indicator_ids(session, organisation_id).items() if c in set(needed)}
    rows = session.execute(
        select(Geography.code, Indicator.code, IndicatorValue.value)
        .join(Geography, Geography.id == IndicatorValue.geography_id)
        .join(Indicator, Indicator.id == IndicatorValue.indicator_id)
        .where(
            IndicatorValue.organisation_id == organisation_id,
            IndicatorValue.indicator_id.in_(list(ind.values())),
            IndicatorValue.period == period,
        )
    ).all()
    long = pl.DataFrame(
        rows, schema={"unit": pl.Utf8, "indicator": pl.Utf8, "value": pl.Float64}, orient="row"
    )
    present = set(long["indicator"].unique().to_list())
    missing = [c for c in needed if c not in present]
    if missing:
        raise InputError(
            f"no stored values for {len(missing)} indicator(s) the spec {spec.id!r} needs "
            f"in period {period!r}: {', '.join(missing)}",
            [Problem("indicator has no values in this period", field=c) for c in missing],
        )
    wide = long.pivot(on="indicator", index="unit", values="value", aggregate_function="first")
    return wide.rename({"unit": spec.unit}).select(spec.unit, *needed).sort(spec.unit)


def get_geography_or_raise(
    session: Session, *, organisation_id: int, geography_id: int
) -> Geography:
    g = session.get(Geography, geography_id)
    if g is None or g.organisation_id != organisation_id:
        raise NotFoundError(f"no geography {geography_id}")
    return g


def get_indicator_or_raise(
    session: Session, *, organisation_id: int, indicator_id: int
) -> Indicator:
    i = session.get(Indicator, indicator_id)
    if i is None or i.organisation_id != organisation_id:
        raise NotFoundError(f"no indicator {indicator_id}")
    return i


def _paged(session: Session, q: Select[Any], limit: int, offset: int) -> tuple[list[Any], int]:
    total = session.scalar(select(func.count()).select_from(q.order_by(None).subquery())) or 0
    return list(session.scalars(q.limit(limit).offset(offset))), int(total)


def list_geographies(
    session: Session,
    *,
    organisation_id: int,
    level: str | None = None,
    q: str | None = None,
    parent_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[Geography], int]:
    stmt = select(Geography).where(Geography.organisation_id == organisation_id)
    if level:
        stmt = stmt.where(Geography.level == level)
    if parent_id is not None:
        stmt = stmt.where(Geography.parent_id == parent_id)
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(func.lower(Geography.name).like(like) | Geography.code.like(f"{q}%"))
    return _paged(session, stmt.order_by(Geography.code), limit, offset)


def list_indicators(
    session: Session, *, organisation_id: int, domain: str | None = None
) -> list[Indicator]:
    stmt = select(Indicator).where(Indicator.organisation_id == organisation_id)
    if domain:
        stmt = stmt.where(Indicator.domain == domain)
    return list(session.scalars(stmt.order_by(Indicator.code)))


def list_periods(session: Session, *, organisation_id: int) -> list[str]:
    stmt = (
        select(IndicatorValue.period)
        .where(IndicatorValue.organisation_id == organisation_id)
        .distinct()
        .order_by(IndicatorValue.period)
    )
    return list(session.scalars(stmt))


def list_values(
    session: Session,
    *,
    organisation_id: int,
    indicator: str | None = None,
    period: str | None = None,
    geography: str | None = None,
    level: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """Values with their geography and indicator codes, filtered, ordered by code, paged."""
    stmt = (
        select(
            Geography.code.label("geography"),
            Geography.name.label("geography_name"),
            Indicator.code.label("indicator"),
            IndicatorValue.period,
            IndicatorValue.value,
            IndicatorValue.moe,
        )
        .join(Geography, Geography.id == IndicatorValue.geography_id)
        .join(Indicator, Indicator.id == IndicatorValue.indicator_id)
        .where(IndicatorValue.organisation_id == organisation_id)
    )
    if indicator:
        stmt = stmt.where(Indicator.code == indicator)
    if period:
        stmt = stmt.where(IndicatorValue.period == period)
    if geography:
        stmt = stmt.where(Geography.code == geography)
    if level:
        stmt = stmt.where(Geography.level == level)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.execute(
        stmt.order_by(Geography.code, Indicator.code, IndicatorValue.period)
        .limit(limit)
        .offset(offset)
    )
    return [dict(r._mapping) for r in rows], int(total)
