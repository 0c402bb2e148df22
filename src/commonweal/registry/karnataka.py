"""Import the Karnataka village support networks (Banerjee, Chandrasekhar, Duflo & Jackson 2013).

Files (``../shared/data/networks/karnataka_villages``): ``vilN_meta.csv`` (pid, hhid, ppid, gender,
age, resp_status, religion, caste, didsurv; ``NA`` = missing) and ``vilN_edges.csv`` (respondent, i, j,
type, weight). In this encoding, for every type, ``i -> j`` means *i receives from / turns to j*, which
is commonweal's tie direction (from_id turns to to_id).

Mapping (documented in docs/import.md):

===============================  ===============
survey tie types                 support type
===============================  ===============
borrowmoney, receivemoney        financial
keroricego, keroricecome         practical
helpdecision, receiveadvice      information
visitgo, visitcome               companionship
===============================  ===============

Each distinct ordered pair becomes one tie of kind ``other`` (the survey does not say kin/friend)
carrying the union of its support types, source ``self_report``. Rows with i == j are dropped (a tie
joins two people). People named in ties but absent from the roster are added as members with the
attribute ``in_roster = false``, so no reported tie is lost.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from commonweal.registry.csvio import ProblemLog
from commonweal.registry.importer import ImportReport, member_id_map, tie_id_map, upsert_rows
from commonweal.registry.models import Member, Tie
from commonweal.registry.service import get_community_or_raise
from commonweal.registry.vocab import SupportType, TieKind, TieSource, support_to_mask

__all__ = ["KARNATAKA_SUPPORT", "import_karnataka_village", "read_karnataka_village"]

KARNATAKA_SUPPORT: dict[str, SupportType] = {
    "borrowmoney": SupportType.financial,
    "receivemoney": SupportType.financial,
    "keroricego": SupportType.practical,
    "keroricecome": SupportType.practical,
    "helpdecision": SupportType.information,
    "receiveadvice": SupportType.information,
    "visitgo": SupportType.companionship,
    "visitcome": SupportType.companionship,
}


def _na(v: str) -> str | None:
    v = v.strip()
    return None if v in ("", "NA") else v


def read_karnataka_village(
    meta_path: Path, edges_path: Path
) -> tuple[list[dict[str, Any]], dict[tuple[str, str], set[SupportType]], int]:
    """Parse one village. Returns (people, {(i, j): support types}, number of self-tie rows dropped).

    Raises ImportRowsError naming file, row and field for an unknown tie type or a missing id.
    """
    log = ProblemLog(meta_path.name)
    people: list[dict[str, Any]] = []
    with open(meta_path, encoding="utf-8-sig", newline="") as f:
        for row_no, row in enumerate(csv.DictReader(f), start=2):
            pid = _na(row.get("pid", ""))
            if pid is None:
                log.add("missing pid", row=row_no, field="pid")
                continue
            attrs: dict[str, str | int | None] = {
                k: _na(row.get(k, ""))
                for k in ("gender", "age", "religion", "caste", "resp_status")
            }
            if attrs["age"] is not None:
                try:
                    attrs["age"] = int(str(attrs["age"]))
                except ValueError:
                    log.add(f"age is not a number: {attrs['age']!r}", row=row_no, field="age")
            people.append(
                {
                    "external_id": pid,
                    "household": _na(row.get("hhid", "")),
                    "attributes": {k: v for k, v in attrs.items() if v is not None},
                }
            )
    log.raise_if_any(f"cannot import {meta_path.name}")
    elog = ProblemLog(edges_path.name)
    pairs: dict[tuple[str, str], set[SupportType]] = defaultdict(set)
    self_rows = 0
    with open(edges_path, encoding="utf-8-sig", newline="") as f:
        for row_no, row in enumerate(csv.DictReader(f), start=2):
            i, j, kind = _na(row.get("i", "")), _na(row.get("j", "")), row.get("type", "").strip()
            if i is None or j is None:
                elog.add("missing person id", row=row_no, field="i" if i is None else "j")
                continue
            if kind not in KARNATAKA_SUPPORT:
                elog.add(f"unknown tie type {kind!r}", row=row_no, field="type")
                continue
            if i == j:
                self_rows += 1
                continue
            pairs[(i, j)].add(KARNATAKA_SUPPORT[kind])
    elog.raise_if_any(f"cannot import {edges_path.name}")
    return people, dict(pairs), self_rows


def import_karnataka_village(
    session: Session, *, organisation_id: int, community_id: int, meta_path: Path, edges_path: Path
) -> ImportReport:
    """Import one village into a community (in the caller's transaction: all or nothing)."""
    get_community_or_raise(session, organisation_id=organisation_id, community_id=community_id)
    people, pairs, self_rows = read_karnataka_village(meta_path, edges_path)
    roster = {p["external_id"] for p in people}
    extra = sorted({x for pair in pairs for x in pair} - roster)
    rows = [
        {
            "organisation_id": organisation_id,
            "community_id": community_id,
            "external_id": p["external_id"],
            "display_name": f"Person {p['external_id']}",
            "household": p["household"],
            "attributes": {**p["attributes"], "in_roster": True},
            "languages": ["kn"],
        }
        for p in people
    ] + [
        {
            "organisation_id": organisation_id,
            "community_id": community_id,
            "external_id": x,
            "display_name": f"Person {x}",
            "household": None,
            "attributes": {"in_roster": False},
            "languages": ["kn"],
        }
        for x in extra
    ]
    created, updated = upsert_rows(
        session,
        Member,
        rows,
        member_id_map(session, community_id=community_id),
        lambda r: r["external_id"],
    )
    ids = member_id_map(session, community_id=community_id)

    existing = tie_id_map(session, community_id=community_id)
    tie_rows = [
        {
            "organisation_id": organisation_id,
            "community_id": community_id,
            "from_member_id": ids[i],
            "to_member_id": ids[j],
            "kind": TieKind.other,
            "support_mask": support_to_mask(sorted(types)),
            "source": TieSource.self_report,
            "reciprocal": (j, i) in pairs,
        }
        for (i, j), types in sorted(pairs.items())
    ]
    t_created, t_updated = upsert_rows(
        session,
        Tie,
        tie_rows,
        existing,
        lambda r: (r["from_member_id"], r["to_member_id"], r["kind"]),
    )
    report = ImportReport(
        "village",
        meta_path.name.replace("_meta.csv", ""),
        created + t_created,
        updated + t_updated,
        len(people),
    )
    report.notes = [
        f"{len(people)} people in the roster, {len(extra)} named in ties but not in the roster",
        f"{len(tie_rows)} ties (distinct ordered pairs); {self_rows} self-tie rows dropped",
    ]
    return report
