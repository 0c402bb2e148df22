"""REDCap data dictionaries (instrument import/export) and REDCap CSV response exports.

A REDCap data dictionary is a CSV with 18 columns (A-R, below). An instrument exports as:

* a ``descriptive`` field ``<id>_about`` carrying the name and citation; its Field Annotation holds
  ``@COMMONWEAL=<json>`` with what REDCap cannot express (licence, scoring rules, bands);
* one ``radio`` field per item, choices ``1, Strongly disagree | 2, ...``, in a matrix group per
  response set (rendered as a grid); reverse-keyed items are annotated ``@COMMONWEAL-REVERSE``;
* one ``calc`` field per subscale, ``mean([a], (6 - [b]), ...)`` or ``sum(...)``, so REDCap shows a
  score too (REDCap's ``mean``/``sum`` skip blanks and know no minimum-answered rule; commonweal's
  scoring remains the reference).

Import reads radio/dropdown fields as items and ``@COMMONWEAL`` annotations when present; a
dictionary from elsewhere imports with its items and one summed ``total`` subscale.

References: REDCap data dictionary help ("18 columns A-R"); ReproNim reproschema2redcap.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import polars as pl

from commonweal.analytics.surveys.formats_xlsform import decode_responses, read_csv_rows
from commonweal.analytics.surveys.instruments import (
    Instrument,
    instrument_from_dict,
    instrument_to_dict,
)
from commonweal.errors import InputError, Problem, SpecError

__all__ = ["REDCAP_COLUMNS", "read_redcap_dictionary", "read_redcap_responses",
           "write_redcap_dictionary"]

REDCAP_COLUMNS = (
    "Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
    "Choices, Calculations, OR Slider Labels", "Field Note",
    "Text Validation Type OR Show Slider Number", "Text Validation Min", "Text Validation Max",
    "Identifier?", "Branching Logic (Show field only if...)", "Required Field?",
    "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name",
    "Matrix Ranking?", "Field Annotation",
)
_VAR, _FORM, _SECTION, _TYPE, _LABEL, _CHOICES = REDCAP_COLUMNS[:6]
_NOTE, _MATRIX, _ANNOT = REDCAP_COLUMNS[6], REDCAP_COLUMNS[15], REDCAP_COLUMNS[17]
_TAG = "@COMMONWEAL="


def _choices(options: Any) -> str:
    return " | ".join(f"{o.value}, {o.label}" for o in options)


def _term(inst: Instrument, item_id: str) -> str:
    it = inst.item(item_id)
    if it.reverse:
        return f"({min(it.values) + max(it.values)} - [{item_id}])"
    return f"[{item_id}]"


def write_redcap_dictionary(inst: Instrument, path: str | Path | None = None) -> str:
    """Write ``inst`` as a REDCap data dictionary CSV; returns the CSV text (and writes ``path``).

    Raises
    ------
    SpecError
        If an item has no text (licensed text not supplied).
    """
    missing = [it.id for it in inst.items if not it.text]
    if missing:
        raise SpecError(
            f"{inst.id}: item text is not available ({inst.licence.basis}); supply the licensed "
            "text first", [Problem("no item text", field=m) for m in missing])
    doc = instrument_to_dict(inst)
    meta = {k: v for k, v in doc.items() if k not in ("items",)}
    form = inst.id
    rows: list[dict[str, str]] = []

    def row(**kw: str) -> None:
        r = dict.fromkeys(REDCAP_COLUMNS, "")
        r.update({_FORM: form})
        for k, v in kw.items():
            r[{"var": _VAR, "section": _SECTION, "type": _TYPE, "label": _LABEL,
               "choices": _CHOICES, "note": _NOTE, "matrix": _MATRIX, "annot": _ANNOT}[k]] = v
        rows.append(r)

    row(var=f"{inst.id}_about", type="descriptive",
        label=f"{inst.name}. {inst.instructions or ''}".strip(), note=inst.citation,
        annot=_TAG + json.dumps(meta, ensure_ascii=False))
    sets: dict[str, str] = {}
    for it in inst.items:
        ch = _choices(it.options)
        matrix = sets.setdefault(ch, f"{inst.id}_m{len(sets) + 1}")
        row(var=it.id, type="radio", label=it.text or "", choices=ch, matrix=matrix,
            annot="@COMMONWEAL-REVERSE" if it.reverse else "")
    for sub in inst.subscales:
        fn = "sum" if sub.scoring == "sum" else "mean"
        calc = f"{fn}({', '.join(_term(inst, i) for i in sub.items)})"
        row(var=f"{inst.id}_score_{sub.id}", type="calc", label=sub.name, choices=calc,
            note=f"commonweal scoring: {sub.scoring}; {sub.missing.describe()}")
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(REDCAP_COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    text = buf.getvalue()
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text


def _parse_choices(text: str, where: str, n: int) -> list[dict[str, Any]]:
    out = []
    for part in text.split("|"):
        if not part.strip():
            continue
        code, _, label = part.partition(",")
        try:
            value = int(code.strip())
        except ValueError as exc:
            raise SpecError(f"{where}: choice codes must be integers to be scored",
                            [Problem(f"choice {part.strip()!r}", file=where, row=n,
                                     field=_CHOICES)]) from exc
        out.append({"value": value, "label": label.strip()})
    return out


def read_redcap_dictionary(path: str | Path, form: str | None = None) -> Instrument:
    """Read an instrument from a REDCap data dictionary CSV (one form, or ``form``)."""
    p = Path(path)
    header, rows = read_csv_rows(p)
    for col in (_VAR, _FORM, _TYPE, _LABEL, _CHOICES):
        if col not in header:
            raise SpecError(f"{p.name}: not a REDCap data dictionary (no column {col!r})",
                            [Problem("missing column", file=p.name, row=1, field=col)])
    forms = list(dict.fromkeys(r[_FORM] for r in rows))
    if form is None:
        if len(forms) != 1:
            raise SpecError(f"{p.name}: the dictionary has {len(forms)} forms; choose one of "
                            f"{', '.join(forms)}", [Problem("several forms", file=p.name)])
        form = forms[0]
    meta: dict[str, Any] | None = None
    items: list[dict[str, Any]] = []
    for n, r in enumerate(rows, start=2):
        if r[_FORM] != form:
            continue
        annot = r.get(_ANNOT, "") or ""
        if r[_TYPE] == "descriptive" and _TAG in annot:
            meta = json.loads(annot.split(_TAG, 1)[1])
        elif r[_TYPE] in ("radio", "dropdown"):
            items.append({"id": r[_VAR], "text": re.sub(r"<[^>]+>", "", r[_LABEL]).strip(),
                          "options": _parse_choices(r[_CHOICES], p.name, n),
                          "reverse": "@COMMONWEAL-REVERSE" in annot})
    if not items:
        raise SpecError(f"{p.name}: form {form!r} has no radio or dropdown fields",
                        [Problem("no items", file=p.name)])
    if meta is None:
        meta = {"id": form, "name": form, "citation": f"imported from REDCap dictionary {p.name}",
                "licence": {"basis": "unknown", "statement": "imported; reuse terms not recorded",
                            "text_shipped": True},
                "subscales": [{"id": "total", "name": "Total", "scoring": "sum",
                               "items": [i["id"] for i in items]}]}
    meta = dict(meta, items=items)
    meta["licence"] = dict(meta["licence"], text_shipped=True)
    return instrument_from_dict(meta, p.name)


def read_redcap_responses(path: str | Path, inst: Instrument) -> pl.DataFrame:
    """Read a REDCap "CSV (raw data)" or "CSV (labels)" export for ``inst``.

    Item columns become integers (labels are mapped to their codes); ``record_id``,
    ``redcap_event_name``, ``<form>_complete`` and other columns are kept as text.
    """
    p = Path(path)
    header, rows = read_csv_rows(p)
    ids = set(inst.item_ids)
    names = {c: c for c in header if c in ids}
    by_text = {it.text.strip(): it.id for it in inst.items if it.text}
    for c in header:  # "CSV (labels)" exports use the field labels as column names
        if c not in names and c.strip() in by_text and by_text[c.strip()] not in names.values():
            names[c] = by_text[c.strip()]
    absent = sorted(ids - set(names.values()))
    if absent:
        raise InputError(f"{p.name}: the export lacks item column(s) of {inst.id}",
                         [Problem("column not found", file=p.name, row=1, field=a)
                          for a in absent])
    return decode_responses(header, rows, inst, names, p.name)
