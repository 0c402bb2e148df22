"""Reading registry CSV files: header checks, cell parsing, located problems (file, row, field)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

from pydantic import BaseModel, ValidationError

from commonweal.errors import ImportRowsError, Problem

__all__ = ["CsvTable", "ProblemLog", "parse_bool", "parse_list", "read_csv", "validate_row"]

M = TypeVar("M", bound=BaseModel)

MAX_PROBLEMS = 1000
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}


@dataclass
class ProblemLog:
    """Collects problems up to a cap but keeps counting, so a user sees the size of the mess."""

    file: str
    problems: list[Problem] = field(default_factory=list)
    count: int = 0

    def add(self, message: str, *, row: int | None = None, field: str | None = None) -> None:
        self.count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(message, file=self.file, row=row, field=field))

    def raise_if_any(self, what: str) -> None:
        if self.count:
            shown = (
                "" if self.count <= len(self.problems) else f" (first {len(self.problems)} shown)"
            )
            raise ImportRowsError(
                f"{what}: {self.count} problem(s) in {self.file}{shown}; nothing was written",
                self.problems,
            )


@dataclass
class CsvTable:
    label: str
    header: list[str]
    rows: list[tuple[int, dict[str, str]]]


def read_csv(
    source: str | Path | IO[str] | IO[bytes],
    *,
    required: Sequence[str],
    optional: Sequence[str],
    allow_prefix: str | None = None,
    label: str | None = None,
) -> CsvTable:
    """Read a whole CSV into memory with its data-row numbers (header = row 1).

    Raises ImportRowsError for a missing/unknown column or ragged rows, naming the file and row.
    """
    if isinstance(source, (str, Path)):
        path = Path(source)
        name = label or path.name
        text: IO[str] = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115
    else:
        name = label or str(getattr(source, "name", None) or "upload.csv")
        raw = source.read()
        if isinstance(raw, bytes):
            try:
                raw = raw.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise ImportRowsError(
                    f"{name} is not UTF-8 text", [Problem(f"bad byte at {exc.start}", file=name)]
                ) from None
        text = io.StringIO(raw.lstrip("\ufeff"))
    log = ProblemLog(name)
    try:
        reader = csv.reader(text)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise ImportRowsError(
                f"{name} is empty", [Problem("no header row", file=name)]
            ) from None
        known = set(required) | set(optional)
        for col in required:
            if col not in header:
                log.add(f"required column {col!r} is missing", row=1, field=col)
        seen: set[str] = set()
        for col in header:
            if col in seen:
                log.add(f"column {col!r} appears twice", row=1, field=col)
            seen.add(col)
            if col not in known and not (allow_prefix and col.startswith(allow_prefix)):
                log.add(f"unknown column {col!r}", row=1, field=col)
        log.raise_if_any(f"cannot import {name}")
        rows: list[tuple[int, dict[str, str]]] = []
        for rownum, values in enumerate(reader, start=2):
            if not values or all(not v.strip() for v in values):
                continue
            if len(values) != len(header):
                log.add(f"{len(values)} cells where the header has {len(header)}", row=rownum)
                continue
            rows.append((rownum, {h: v.strip() for h, v in zip(header, values, strict=True)}))
        log.raise_if_any(f"cannot import {name}")
    except csv.Error as exc:
        raise ImportRowsError(f"{name} is not valid CSV", [Problem(str(exc), file=name)]) from None
    except UnicodeDecodeError as exc:
        raise ImportRowsError(
            f"{name} is not UTF-8 text", [Problem(f"bad byte at {exc.start}", file=name)]
        ) from None
    finally:
        text.close()
    return CsvTable(name, header, rows)


def parse_bool(value: str) -> bool:
    v = value.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def parse_list(value: str) -> list[str]:
    return [p.strip() for p in value.split(";") if p.strip()]


def validate_row(
    model: type[M],
    data: dict[str, Any],
    *,
    log: ProblemLog,
    row: int,
    skip: set[str] | frozenset[str] = frozenset(),
) -> M | None:
    """Validate one row's converted values; every failing field is logged with its column name.

    ``skip`` names fields already reported (a cell that could not be parsed), so the same cell
    is not reported twice.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"]) or None
            if loc in skip or (err["type"] == "missing" and loc in skip):
                continue
            msg = err["msg"].removeprefix("Value error, ")
            log.add(msg, row=row, field=loc)
        return None


def iter_cells(row: dict[str, str], names: Sequence[str]) -> Iterator[tuple[str, str]]:
    for n in names:
        v = row.get(n, "")
        if v != "":
            yield n, v
