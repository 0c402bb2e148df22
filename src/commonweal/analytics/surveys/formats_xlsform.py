"""XLSForm (ODK, KoboToolbox) import and export of instruments, and Kobo/ODK response CSVs.

Export writes the three standard sheets -- ``survey`` (one ``select_one`` row per item inside a
``table-list`` group), ``choices`` (one list per distinct response set; choice names are the
numeric values so exports score directly) and ``settings`` -- plus a ``commonweal`` sheet holding
what XLSForm cannot say (subscales, scoring and missing-data rules, reverse keys, bands, licence)
as JSON. Form tools ignore that sheet; :func:`read_xlsform` reads it back, so an export round-trips.
A form without it imports with its items and one summed ``total`` subscale.

Reference: https://xlsform.org/en/ and https://docs.getodk.org/form-reference/ (checked by
parsing our export with pyxform, the reference XLSForm converter, in the tests).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import polars as pl
from openpyxl import Workbook, load_workbook  # type: ignore[import-untyped]

from commonweal.analytics.surveys.instruments import (
    Instrument,
    instrument_from_dict,
    instrument_to_dict,
)
from commonweal.errors import InputError, Problem, SpecError

__all__ = ["decode_responses", "read_csv_rows", "read_kobo_responses", "read_xlsform",
           "write_xlsform"]

_META_SHEET = "commonweal"
_SKIP_TYPES = {"begin_group", "end_group", "begin group", "end group", "note", "calculate",
               "start", "end", "today", "deviceid", "begin_repeat", "end_repeat"}


def _option_lists(inst: Instrument) -> dict[tuple[tuple[int, str], ...], str]:
    lists: dict[tuple[tuple[int, str], ...], str] = {}
    for it in inst.items:
        key = tuple((o.value, o.label) for o in it.options)
        if key not in lists:
            lists[key] = f"{inst.id}_r{len(lists) + 1}"
    return lists


def write_xlsform(inst: Instrument, path: str | Path, *, version: str = "1") -> Path:
    """Write ``inst`` as an XLSForm workbook (.xlsx) and return the path.

    Raises
    ------
    SpecError
        If an item has no text (a licensed instrument whose text was not supplied).
    """
    missing = [it.id for it in inst.items if not it.text]
    if missing:
        raise SpecError(
            f"{inst.id}: item text is not available ({inst.licence.basis}); supply the licensed "
            "text first (read_item_text + with_item_text)",
            [Problem("no item text", field=m) for m in missing])
    lists = _option_lists(inst)
    wb = Workbook()
    survey = wb.active
    assert survey is not None
    survey.title = "survey"
    survey.append(["type", "name", "label", "hint", "required", "appearance"])
    # table-list (a Likert grid) needs one choice list per group: one group per run of items
    runs: list[tuple[str, list[str]]] = []
    for it in inst.items:
        list_name = lists[tuple((o.value, o.label) for o in it.options)]
        if runs and runs[-1][0] == list_name:
            runs[-1][1].append(it.id)
        else:
            runs.append((list_name, [it.id]))
    for n, (list_name, ids) in enumerate(runs, start=1):
        group = inst.id if n == 1 else f"{inst.id}_{n}"
        label = (inst.instructions or inst.name) if n == 1 else inst.name
        survey.append(["begin_group", group, label, "", "", "table-list"])
        for item_id in ids:
            survey.append([f"select_one {list_name}", item_id, inst.item(item_id).text, "", "",
                           ""])
        survey.append(["end_group", "", "", "", "", ""])
    choices = wb.create_sheet("choices")
    choices.append(["list_name", "name", "label"])
    for key, name in lists.items():
        for value, label in key:
            choices.append([name, str(value), label])
    settings = wb.create_sheet("settings")
    settings.append(["form_title", "form_id", "version"])
    settings.append([inst.name, inst.id, version])
    meta = wb.create_sheet(_META_SHEET)
    doc = instrument_to_dict(inst)
    for item in doc["items"]:
        item.pop("text", None)
        item.pop("options", None)
    meta.append(["key", "value"])
    meta.append(["instrument", json.dumps(doc, ensure_ascii=False)])
    out = Path(path)
    wb.save(out)
    return out


def _rows(ws: Any) -> list[dict[str, Any]]:
    it = ws.iter_rows(values_only=True)
    try:
        header = [str(h).strip() if h is not None else "" for h in next(it)]
    except StopIteration:
        return []
    out = []
    for row in it:
        if row is None or all(v is None for v in row):
            continue
        out.append({h: v for h, v in zip(header, row, strict=False) if h})
    return out


def _label(row: dict[str, Any]) -> str | None:
    if row.get("label"):
        return str(row["label"])
    for k, v in row.items():
        if k.startswith("label::") and v:
            return str(v)
    return None


def read_xlsform(path: str | Path) -> Instrument:
    """Read an instrument from an XLSForm workbook (ours or any with numeric choice names)."""
    p = Path(path)
    try:
        wb = load_workbook(p, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several unrelated types for bad files
        raise SpecError(f"{p.name}: not a readable .xlsx workbook ({exc})",
                        [Problem(str(exc), file=p.name)]) from exc
    for sheet in ("survey", "choices"):
        if sheet not in wb.sheetnames:
            raise SpecError(f"{p.name}: an XLSForm needs a {sheet!r} sheet",
                            [Problem(f"no sheet {sheet!r}", file=p.name)])
    choices: dict[str, list[dict[str, Any]]] = {}
    for n, row in enumerate(_rows(wb["choices"]), start=2):
        name = str(row.get("name", "")).strip()
        try:
            value = int(float(name))
        except ValueError as exc:
            raise SpecError(f"{p.name}: choice names must be numbers to be scored",
                            [Problem(f"choice name {name!r}", file=f"{p.name}:choices", row=n,
                                     field="name")]) from exc
        choices.setdefault(str(row.get("list_name")), []).append(
            {"value": value, "label": _label(row) or name})
    items = []
    for n, row in enumerate(_rows(wb["survey"]), start=2):
        typ = str(row.get("type") or "").strip()
        if not typ or typ in _SKIP_TYPES or not typ.startswith("select_one"):
            continue
        list_name = typ.split(None, 1)[1].strip() if " " in typ else ""
        if list_name not in choices:
            raise SpecError(f"{p.name}: unknown choice list {list_name!r}",
                            [Problem("no such list_name", file=f"{p.name}:survey", row=n,
                                     field="type")])
        items.append({"id": str(row.get("name")), "text": _label(row),
                      "options": choices[list_name]})
    meta: dict[str, Any] | None = None
    if _META_SHEET in wb.sheetnames:
        for row in _rows(wb[_META_SHEET]):
            if row.get("key") == "instrument":
                meta = json.loads(str(row["value"]))
    title, form_id = p.stem, p.stem
    if "settings" in wb.sheetnames:
        srows = _rows(wb["settings"])
        if srows:
            title = str(srows[0].get("form_title") or title)
            form_id = str(srows[0].get("form_id") or form_id)
    wb.close()
    if meta is None:
        meta = {"id": form_id, "name": title, "citation": "imported from XLSForm " + p.name,
                "licence": {"basis": "unknown", "text_shipped": True,
                            "statement": "imported; reuse terms not recorded in the form"},
                "subscales": [{"id": "total", "name": "Total", "scoring": "sum",
                               "items": [i["id"] for i in items]}]}
        meta["items"] = items
    else:
        extra = {i["id"]: i for i in meta.get("items", [])}
        merged = []
        for i in items:
            d = dict(extra.get(i["id"], {}))
            d.update(i)
            merged.append(d)
        meta["items"] = merged
        meta["licence"] = dict(meta["licence"], text_shipped=True)
    return instrument_from_dict(meta, p.name)


def decode_responses(
    header: list[str], rows: list[dict[str, str]], inst: Instrument, names: dict[str, str],
    file: str,
) -> pl.DataFrame:
    """Turn exported string rows into a typed frame: item columns as integers, others as text.

    ``names`` maps each export column to the item id it holds. A cell may hold the choice value
    or its exact label (exports "with labels"); anything else is an error naming row and column.
    """
    problems: list[Problem] = []
    items = {it.id: it for it in inst.items}
    data: dict[str, list[Any]] = {c: [] for c in header}
    for r, row in enumerate(rows, start=2):
        for col in header:
            cell = (row.get(col) or "").strip()
            item_id = names.get(col)
            if item_id is None:
                data[col].append(cell or None)
                continue
            it = items[item_id]
            value: int | None = None
            if cell:
                by_label = {o.label: o.value for o in it.options}
                try:
                    number = float(cell)
                    value = int(number) if number.is_integer() else None
                    if value is None or value not in it.values:
                        problems.append(Problem(f"{cell} is out of range (allowed: "
                                                f"{min(it.values)}..{max(it.values)})",
                                                file=file, row=r, field=col))
                except ValueError:
                    if cell in by_label:
                        value = by_label[cell]
                    else:
                        problems.append(Problem(f"{cell!r} is neither a response value nor "
                                                "a response label", file=file, row=r, field=col))
            data[col].append(value)
    if problems:
        raise InputError(f"{file}: {len(problems)} response value(s) are not valid", problems)
    series = []
    for col, values in data.items():
        name = names.get(col, col)
        dtype = pl.Int64 if col in names else pl.String
        series.append(pl.Series(name, values, dtype=dtype))
    return pl.DataFrame(series)


def read_csv_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows of a CSV export as strings (``,`` or ``;`` separated, BOM accepted)."""
    text = path.read_text(encoding="utf-8-sig")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    rows = list(reader)
    if not reader.fieldnames:
        raise InputError(f"{path.name}: empty file", [Problem("no header", file=path.name)])
    return list(reader.fieldnames), rows


def read_kobo_responses(path: str | Path, inst: Instrument) -> pl.DataFrame:
    """Read a KoboToolbox or ODK Central CSV export of a form built from ``inst``.

    Group prefixes in column names (``group/item`` from Kobo, ``group-item`` from ODK Central)
    are removed; both ``,`` and ``;`` separators are accepted; metadata columns (``_id``,
    ``_uuid``, ``KEY``, ...) are kept as text. Missing item columns are an error.
    """
    p = Path(path)
    header, rows = read_csv_rows(p)
    ids = set(inst.item_ids)
    names: dict[str, str] = {}
    for col in header:
        tail = col.replace("-", "/").rsplit("/", 1)[-1]
        if tail in ids:
            names[col] = tail
    absent = sorted(ids - set(names.values()))
    if absent:
        raise InputError(f"{p.name}: the export lacks item column(s) of {inst.id}",
                         [Problem("column not found", file=p.name, row=1, field=a)
                          for a in absent])
    return decode_responses(header, rows, inst, names, p.name)
