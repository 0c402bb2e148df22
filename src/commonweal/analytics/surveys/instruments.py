"""Survey instruments as declarative TOML files bundled in the package (and readers for them).

An instrument file declares items (id, text, response options), reverse-keyed items, subscales
with their scoring rule (``sum``, ``mean`` or ``item``) and missing-data rule, bands/cut-offs with
their sources, the citation, and a ``[licence]`` table stating exactly what is known about reuse.
Licensed instruments ship no item text (``text_shipped = false``); a licensed user supplies the
text from a file with :func:`read_item_text` and :meth:`Instrument.with_item_text`.

The schema is documented in ``docs/surveys.md``.
"""

from __future__ import annotations

import csv
import tomllib
from dataclasses import asdict, dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from commonweal.errors import NotFoundError, Problem, SpecError

__all__ = [
    "Band",
    "Instrument",
    "Item",
    "Licence",
    "MissingRule",
    "ResponseOption",
    "Subscale",
    "instrument_from_dict",
    "instrument_to_dict",
    "list_instruments",
    "load_instrument",
    "read_conversion_table",
    "read_instrument_file",
    "read_item_text",
]

Scoring = Literal["sum", "mean", "item"]
LICENCE_BASES = ("open-licence", "free-non-commercial", "published-no-licence-found",
                 "proprietary", "unknown")


@dataclass(frozen=True, slots=True)
class ResponseOption:
    value: int
    label: str


@dataclass(frozen=True, slots=True)
class Item:
    """An item. A Likert item's answer is one of its options' values. A ``continuous`` item (a
    test score, a visual analogue scale) takes any finite number from its lowest to its highest
    option value; reverse keying works the same (``min + max - value``)."""

    id: str
    text: str | None
    options: tuple[ResponseOption, ...]
    reverse: bool = False
    continuous: bool = False

    @property
    def values(self) -> tuple[int, ...]:
        return tuple(o.value for o in self.options)

    def allows(self, x: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
        """Which of the (non-missing) numbers ``x`` are valid answers to this item."""
        if self.continuous:
            return np.isfinite(x) & (x >= min(self.values)) & (x <= max(self.values))
        return np.isin(x, np.array(self.values, dtype=float))

    def reversed_value(self, value: float) -> float:
        """Reverse keying: min + max - value over this item's response values."""
        return min(self.values) + max(self.values) - value


@dataclass(frozen=True, slots=True)
class MissingRule:
    """``complete``: every item needed. ``prorate``: score when at least ``min_answered`` items are
    answered (mean of the answered items; a sum is scaled up to all items)."""

    rule: Literal["complete", "prorate"]
    min_answered: int
    source: str

    def describe(self) -> str:
        if self.rule == "complete":
            return "all items must be answered"
        return f"prorated when at least {self.min_answered} items are answered"


@dataclass(frozen=True, slots=True)
class Band:
    """A band ``lower <= score < upper`` (``upper`` None means no upper limit)."""

    label: str
    lower: float
    upper: float | None
    source: str

    def contains(self, score: float) -> bool:
        return score >= self.lower and (self.upper is None or score < self.upper)


@dataclass(frozen=True, slots=True)
class Subscale:
    id: str
    name: str
    items: tuple[str, ...]
    scoring: Scoring
    missing: MissingRule
    bands: tuple[Band, ...] = ()
    conversion: dict[int, float] | None = None
    conversion_note: str | None = None


@dataclass(frozen=True, slots=True)
class Licence:
    basis: str
    statement: str
    text_shipped: bool
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Instrument:
    id: str
    name: str
    citation: str
    licence: Licence
    items: tuple[Item, ...]
    subscales: tuple[Subscale, ...]
    instructions: str | None = None
    notes: str | None = None

    def item(self, item_id: str) -> Item:
        for it in self.items:
            if it.id == item_id:
                return it
        raise KeyError(item_id)

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.items)

    def subscale(self, subscale_id: str) -> Subscale:
        for s in self.subscales:
            if s.id == subscale_id:
                return s
        raise KeyError(subscale_id)

    def with_item_text(self, texts: dict[str, str]) -> Instrument:
        """A copy with item text filled in (for licensed instruments; text never ships)."""
        unknown = sorted(set(texts) - set(self.item_ids))
        if unknown:
            raise SpecError(f"item text for unknown item(s) of {self.id}",
                            [Problem("not an item of this instrument", field=u) for u in unknown])
        items = tuple(replace(i, text=texts.get(i.id, i.text)) for i in self.items)
        return replace(self, items=items)

    def with_conversion(self, subscale_id: str, table: dict[int, float]) -> Instrument:
        """A copy whose subscale converts raw scores by ``table`` (e.g. SWEMWBS metric scores)."""
        sub = self.subscale(subscale_id)
        subs = tuple(replace(s, conversion=dict(table)) if s is sub else s
                     for s in self.subscales)
        return replace(self, subscales=subs)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _err(where: str, msg: str, field: str | None = None) -> SpecError:
    return SpecError(f"instrument {where}: {msg}", [Problem(msg, file=where, field=field)])


def _need(d: dict[str, Any], key: str, typ: type | tuple[type, ...], where: str) -> Any:
    if key not in d:
        raise _err(where, f"missing required field {key!r}", key)
    if not isinstance(d[key], typ):
        raise _err(where, f"field {key!r} has the wrong type ({type(d[key]).__name__})", key)
    return d[key]


def _options(raw: Any, where: str) -> tuple[ResponseOption, ...]:
    if not isinstance(raw, list) or not raw:
        raise _err(where, "response options must be a non-empty list", "options")
    out = []
    for o in raw:
        if not isinstance(o, dict) or not isinstance(o.get("value"), int) or not isinstance(
            o.get("label"), str
        ):
            raise _err(where, f"bad response option {o!r} (need integer value and label)",
                       "options")
        out.append(ResponseOption(o["value"], o["label"]))
    if len({o.value for o in out}) != len(out):
        raise _err(where, "response option values repeat", "options")
    return tuple(out)


def instrument_from_dict(d: dict[str, Any], where: str = "<dict>") -> Instrument:
    """Validate and build an :class:`Instrument` from a parsed TOML document."""
    iid = _need(d, "id", str, where)
    sets = {k: _options(v, where) for k, v in d.get("response_sets", {}).items()}
    default_set = d.get("default_responses")
    items: list[Item] = []
    text_shipped = bool(_need(d, "licence", dict, where).get("text_shipped", False))
    for raw in _need(d, "items", list, where):
        item_id = _need(raw, "id", str, where)
        set_name = raw.get("responses", default_set)
        if "options" in raw:
            opts = _options(raw["options"], where)
        elif set_name in sets:
            opts = sets[set_name]
        else:
            raise _err(where, f"item {item_id}: unknown response set {set_name!r}", item_id)
        text = raw.get("text")
        if text is not None and not text_shipped:
            raise _err(where, f"item {item_id} has text but the licence says text is not "
                       "shipped", item_id)
        continuous = raw.get("continuous", False)
        if not isinstance(continuous, bool):
            raise _err(where, f"item {item_id}: continuous must be true or false", item_id)
        if continuous and len(opts) < 2:
            raise _err(where, f"item {item_id}: a continuous item needs its lowest and highest "
                       "value as options", item_id)
        items.append(Item(item_id, text, opts, bool(raw.get("reverse", False)), continuous))
    ids = [i.id for i in items]
    if len(set(ids)) != len(ids):
        raise _err(where, "item ids repeat", "items")
    subs: list[Subscale] = []
    for raw in _need(d, "subscales", list, where):
        sid = _need(raw, "id", str, where)
        members = tuple(_need(raw, "items", list, where))
        bad = [m for m in members if m not in ids]
        if bad:
            raise _err(where, f"subscale {sid} names unknown items {bad}", sid)
        scoring = raw.get("scoring", "sum")
        if scoring not in ("sum", "mean", "item"):
            raise _err(where, f"subscale {sid}: scoring must be sum, mean or item", sid)
        if scoring == "item" and len(members) != 1:
            raise _err(where, f"subscale {sid}: scoring 'item' needs exactly one item", sid)
        m = raw.get("missing", {"rule": "complete"})
        rule = m.get("rule", "complete")
        if rule not in ("complete", "prorate"):
            raise _err(where, f"subscale {sid}: missing rule must be complete or prorate", sid)
        k = int(m.get("min_answered", len(members))) if rule == "prorate" else len(members)
        if not 1 <= k <= len(members):
            raise _err(where, f"subscale {sid}: min_answered must be 1..{len(members)}", sid)
        missing = MissingRule(rule, k, str(m.get("source", "commonweal default (no published "
                                                  "rule found)")))
        bands = tuple(
            Band(str(b["label"]), float(b["lower"]),
                 float(b["upper"]) if b.get("upper") is not None else None, str(b["source"]))
            for b in raw.get("bands", [])
        )
        subs.append(Subscale(sid, str(raw.get("name", sid)), members, scoring, missing, bands,
                             None, raw.get("conversion_note")))
    lic = d["licence"]
    basis = _need(lic, "basis", str, where)
    if basis not in LICENCE_BASES:
        raise _err(where, f"licence basis must be one of {', '.join(LICENCE_BASES)}", "basis")
    return Instrument(
        id=iid, name=_need(d, "name", str, where), citation=_need(d, "citation", str, where),
        licence=Licence(basis, _need(lic, "statement", str, where), text_shipped,
                        lic.get("url")),
        items=tuple(items), subscales=tuple(subs), instructions=d.get("instructions"),
        notes=d.get("notes"),
    )


def instrument_to_dict(inst: Instrument) -> dict[str, Any]:
    """The inverse of :func:`instrument_from_dict`: a TOML-shaped document (options inline)."""
    doc: dict[str, Any] = {"id": inst.id, "name": inst.name, "citation": inst.citation}
    if inst.instructions:
        doc["instructions"] = inst.instructions
    if inst.notes:
        doc["notes"] = inst.notes
    lic: dict[str, Any] = {"basis": inst.licence.basis, "text_shipped": inst.licence.text_shipped,
                           "statement": inst.licence.statement}
    if inst.licence.url:
        lic["url"] = inst.licence.url
    doc["licence"] = lic
    items = []
    for it in inst.items:
        d: dict[str, Any] = {"id": it.id}
        if it.text is not None:
            d["text"] = it.text
        if it.reverse:
            d["reverse"] = True
        if it.continuous:
            d["continuous"] = True
        d["options"] = [{"value": o.value, "label": o.label} for o in it.options]
        items.append(d)
    doc["items"] = items
    subs = []
    for sub in inst.subscales:
        sd: dict[str, Any] = {"id": sub.id, "name": sub.name, "items": list(sub.items),
                              "scoring": sub.scoring,
                              "missing": {"rule": sub.missing.rule,
                                          "min_answered": sub.missing.min_answered,
                                          "source": sub.missing.source}}
        if sub.bands:
            sd["bands"] = [{k: v for k, v in asdict(b).items() if v is not None}
                           for b in sub.bands]
        if sub.conversion_note:
            sd["conversion_note"] = sub.conversion_note
        subs.append(sd)
    doc["subscales"] = subs
    return doc


def read_instrument_file(path: str | Path) -> Instrument:
    """Read an instrument from a TOML file of the bundled schema."""
    p = Path(path)
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"instrument {p.name}: not valid TOML ({exc})",
                        [Problem(str(exc), file=str(p))]) from exc
    return instrument_from_dict(doc, p.name)


def _bundled() -> dict[str, Any]:
    folder = resources.files("commonweal.analytics.surveys") / "instruments"
    return {f.name.removesuffix(".toml"): f for f in folder.iterdir()
            if f.name.endswith(".toml")}


def list_instruments() -> tuple[Instrument, ...]:
    """Every bundled instrument, sorted by id."""
    return tuple(load_instrument(name) for name in sorted(_bundled()))


def load_instrument(name: str) -> Instrument:
    """A bundled instrument by id (``bscs``, ``ucla3``, ``pss10``, ...).

    Raises
    ------
    NotFoundError
        No bundled instrument has that id (the message lists the ids that exist).
    """
    files = _bundled()
    if name not in files:
        raise NotFoundError(f"no bundled instrument {name!r}; choose from "
                            f"{', '.join(sorted(files))}")
    doc = tomllib.loads(files[name].read_text(encoding="utf-8"))
    return instrument_from_dict(doc, f"{name}.toml")


def read_item_text(path: str | Path) -> dict[str, str]:
    """Item text for a licensed instrument from a CSV with columns ``item,text``."""
    p = Path(path)
    with p.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or not {"item", "text"} <= set(reader.fieldnames):
            raise SpecError(f"{p.name}: item text file needs columns 'item' and 'text'",
                            [Problem("header must include item,text", file=str(p), row=1)])
        out: dict[str, str] = {}
        for n, row in enumerate(reader, start=2):
            if not row["item"] or not row["text"]:
                raise SpecError(f"{p.name}: empty item or text",
                                [Problem("empty cell", file=str(p), row=n)])
            out[row["item"].strip()] = row["text"].strip()
    return out


def read_conversion_table(path: str | Path) -> dict[int, float]:
    """A raw-to-converted score table from a CSV with columns ``raw,converted``."""
    p = Path(path)
    with p.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or not {"raw", "converted"} <= set(reader.fieldnames):
            raise SpecError(f"{p.name}: conversion table needs columns 'raw' and 'converted'",
                            [Problem("header must include raw,converted", file=str(p), row=1)])
        out: dict[int, float] = {}
        for n, row in enumerate(reader, start=2):
            try:
                out[int(row["raw"])] = float(row["converted"])
            except (TypeError, ValueError) as exc:
                raise SpecError(f"{p.name}: not a number",
                                [Problem(str(exc), file=str(p), row=n)]) from exc
    return out
