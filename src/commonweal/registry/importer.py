"""CSV imports for members, ties, groups and assets (formats in docs/formats.md).

Every import validates the whole file first and reports every bad row with file, row and field;
with any problem nothing is written. Writes happen in the caller's transaction (use
``commonweal.db.transaction``), so an import is all or nothing. Rows whose key already exists are
updated (re-importing the same file is harmless).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from commonweal.registry.csvio import (
    CsvTable,
    ProblemLog,
    parse_bool,
    parse_list,
    read_csv,
    validate_row,
)
from commonweal.registry.models import Asset, Consent, Group, GroupMembership, Member, Tie
from commonweal.registry.schemas import AssetCreate, GroupCreate, MemberCreate, TieCreate
from commonweal.registry.service import get_community_or_raise
from commonweal.registry.vocab import ConsentPurpose, support_to_mask

__all__ = [
    "ASSET_COLUMNS",
    "GROUP_COLUMNS",
    "ImportReport",
    "MEMBER_COLUMNS",
    "TIE_COLUMNS",
    "import_assets",
    "import_groups",
    "import_members",
    "import_ties",
    "member_id_map",
    "tie_id_map",
    "upsert_rows",
]

Source = str | Path | IO[str] | IO[bytes]
Progress = Callable[[int], None] | None
CHUNK = 5000

MEMBER_COLUMNS = (
    ("external_id", "display_name"),
    (
        "phone",
        "email",
        "languages",
        "birth_year",
        "household",
        "lives_alone",
        "lat",
        "lon",
        "location_precision",
        "consent_contact",
        "consent_research",
        "consent_sharing",
        "notes",
    ),
)
TIE_COLUMNS = (
    ("from_id", "to_id", "kind"),
    ("support_types", "strength", "reciprocal", "since", "source"),
)
GROUP_COLUMNS = (("external_id", "name", "kind"), ("description", "members"))
ASSET_COLUMNS = (
    ("external_id", "name", "tangible", "kind"),
    (
        "steward_member",
        "steward_org",
        "lat",
        "lon",
        "capacity",
        "availability",
        "condition",
        "notes",
    ),
)


@dataclass
class ImportReport:
    entity: str
    file: str
    created: int = 0
    updated: int = 0
    rows: int = 0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "file": self.file,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "notes": self.notes,
        }


def member_id_map(session: Session, *, community_id: int) -> dict[str, int]:
    rows = session.execute(
        select(Member.external_id, Member.id).where(Member.community_id == community_id)
    ).all()
    return {str(e): int(i) for e, i in rows}


def tie_id_map(session: Session, *, community_id: int) -> dict[tuple[int, int, str], int]:
    """Existing ties of a community by their key (from, to, kind) -> id, for upserts."""
    rows = session.execute(
        select(Tie.id, Tie.from_member_id, Tie.to_member_id, Tie.kind).where(
            Tie.community_id == community_id
        )
    ).all()
    return {(f, t, k): i for i, f, t, k in rows}


def _convert(
    row: dict[str, str],
    *,
    row_no: int,
    log: ProblemLog,
    bools: Sequence[str] = (),
    lists: Sequence[str] = (),
    ints: Sequence[str] = (),
    floats: Sequence[str] = (),
) -> tuple[dict[str, Any], set[str]]:
    """Parse typed cells; empty cells are dropped (= not given). Logs a problem per bad cell.

    Returns the parsed cells and the names of the bad ones. Callers still validate the rest of the
    row, so that every problem of a row is reported at once.
    """
    out: dict[str, Any] = {}
    bad: set[str] = set()
    for name, value in row.items():
        if value == "":
            continue
        try:
            if name in bools:
                out[name] = parse_bool(value)
            elif name in lists:
                out[name] = parse_list(value)
            elif name in ints:
                out[name] = int(value)
            elif name in floats:
                out[name] = float(value)
            else:
                out[name] = value
        except ValueError:
            kind = (
                "true/false" if name in bools else "a whole number" if name in ints else "a number"
            )
            log.add(f"expected {kind}, got {value!r}", row=row_no, field=name)
            bad.add(name)
    return out, bad


def upsert_rows(
    session: Session,
    model: Any,
    rows: list[dict[str, Any]],
    existing: dict[Any, int],
    key: Callable[[dict[str, Any]], Any],
    progress: Progress = None,
) -> tuple[int, int]:
    """Insert rows whose key is new and update (by primary key) those whose key exists."""
    new = [r for r in rows if key(r) not in existing]
    old = [{**r, "id": existing[key(r)]} for r in rows if key(r) in existing]
    for start in range(0, len(new), CHUNK):
        session.execute(insert(model), new[start : start + CHUNK])
        if progress:
            progress(len(new[start : start + CHUNK]))
    for start in range(0, len(old), CHUNK):
        session.execute(update(model), old[start : start + CHUNK])
        if progress:
            progress(len(old[start : start + CHUNK]))
    return len(new), len(old)


def _check_duplicates(rows: list[tuple[int, Any]], log: ProblemLog, what: str, field: str) -> None:
    first: dict[Any, int] = {}
    for row_no, k in rows:
        if k in first:
            log.add(f"duplicate {what} {k!r} (first on row {first[k]})", row=row_no, field=field)
        else:
            first[k] = row_no


def _open(
    session: Session,
    *,
    organisation_id: int,
    community_id: int,
    source: Source,
    columns: tuple[tuple[str, ...], tuple[str, ...]],
    label: str | None,
    allow_prefix: str | None = None,
    keyed: bool = True,
) -> tuple[CsvTable, ProblemLog, dict[str, int]]:
    """What every import starts with: the community exists (in this organisation), the file's
    header is right, ``external_id`` is unique in the file (``keyed``), and the member id map."""
    get_community_or_raise(session, organisation_id=organisation_id, community_id=community_id)
    table = read_csv(
        source, required=columns[0], optional=columns[1], allow_prefix=allow_prefix, label=label
    )
    log = ProblemLog(table.label)
    if keyed:
        _check_duplicates(
            [(n, r["external_id"]) for n, r in table.rows], log, "external_id", "external_id"
        )
    return table, log, member_id_map(session, community_id=community_id)


def import_members(
    session: Session,
    *,
    organisation_id: int,
    community_id: int,
    source: Source,
    label: str | None = None,
    on_progress: Progress = None,
) -> ImportReport:
    table, log, existing = _open(
        session,
        organisation_id=organisation_id,
        community_id=community_id,
        source=source,
        label=label,
        columns=MEMBER_COLUMNS,
        allow_prefix="attr_",
    )
    rows: list[dict[str, Any]] = []
    consents: list[tuple[str, ConsentPurpose, bool]] = []
    for row_no, raw in table.rows:
        cells, bad = _convert(
            raw,
            row_no=row_no,
            log=log,
            bools=("lives_alone", "consent_contact", "consent_research", "consent_sharing"),
            lists=("languages",),
            ints=("birth_year",),
            floats=("lat", "lon"),
        )
        attrs = {k[5:]: cells.pop(k) for k in list(cells) if k.startswith("attr_")}
        given = {
            p: cells.pop(f"consent_{p.value}")
            for p in ConsentPurpose
            if f"consent_{p.value}" in cells
        }
        m = validate_row(
            MemberCreate, {**cells, "attributes": attrs}, log=log, row=row_no, skip=bad
        )
        if m is None or bad:
            continue
        rows.append(
            {**m.model_dump(), "organisation_id": organisation_id, "community_id": community_id}
        )
        consents.extend((m.external_id, p, g) for p, g in given.items())
    log.raise_if_any("member import failed")
    created, updated = upsert_rows(
        session, Member, rows, existing, lambda r: r["external_id"], on_progress
    )
    if consents:
        ids = member_id_map(session, community_id=community_id)
        session.execute(
            insert(Consent),
            [
                {
                    "organisation_id": organisation_id,
                    "member_id": ids[ext],
                    "purpose": p,
                    "granted": g,
                }
                for ext, p, g in consents
            ],
        )
    return ImportReport("members", table.label, created, updated, len(table.rows))


def import_ties(
    session: Session,
    *,
    organisation_id: int,
    community_id: int,
    source: Source,
    label: str | None = None,
    on_progress: Progress = None,
) -> ImportReport:
    table, log, ids = _open(
        session,
        organisation_id=organisation_id,
        community_id=community_id,
        source=source,
        label=label,
        columns=TIE_COLUMNS,
        keyed=False,
    )
    rows: list[dict[str, Any]] = []
    keys: list[tuple[int, Any]] = []
    for row_no, raw in table.rows:
        cells, bad = _convert(
            raw,
            row_no=row_no,
            log=log,
            bools=("reciprocal",),
            lists=("support_types",),
            ints=("strength",),
        )
        ends = {}
        for col in ("from_id", "to_id"):
            ends[col] = ids.get(cells[col])
            if ends[col] is None:
                log.add(
                    f"no member with external_id {cells[col]!r} in this community",
                    row=row_no,
                    field=col,
                )
        data = {k: v for k, v in cells.items() if k not in ("from_id", "to_id")}
        skip = bad | {"from_member_id", "to_member_id"} if None in ends.values() else bad
        t = validate_row(
            TieCreate,
            {**data, "from_member_id": ends["from_id"] or 0, "to_member_id": ends["to_id"] or -1},
            log=log,
            row=row_no,
            skip=skip,
        )
        if t is None or bad or None in ends.values():
            continue
        rec = t.model_dump(exclude={"support_types"})
        rec.update(
            organisation_id=organisation_id,
            community_id=community_id,
            support_mask=support_to_mask(t.support_types),
        )
        rows.append(rec)
        keys.append((row_no, (rec["from_member_id"], rec["to_member_id"], rec["kind"])))
    _check_duplicates(keys, log, "tie (from, to, kind)", "kind")
    log.raise_if_any("tie import failed")
    existing = tie_id_map(session, community_id=community_id)
    created, updated = upsert_rows(
        session,
        Tie,
        rows,
        existing,
        lambda r: (r["from_member_id"], r["to_member_id"], r["kind"]),
        on_progress,
    )
    return ImportReport("ties", table.label, created, updated, len(table.rows))


def import_groups(
    session: Session,
    *,
    organisation_id: int,
    community_id: int,
    source: Source,
    label: str | None = None,
    on_progress: Progress = None,
) -> ImportReport:
    table, log, ids = _open(
        session,
        organisation_id=organisation_id,
        community_id=community_id,
        source=source,
        label=label,
        columns=GROUP_COLUMNS,
    )
    groups: list[dict[str, Any]] = []
    members: list[tuple[str, int, str]] = []
    for row_no, raw in table.rows:
        cells = {k: v for k, v in raw.items() if v != ""}
        spec = cells.pop("members", "")
        g = validate_row(GroupCreate, cells, log=log, row=row_no)
        for item in parse_list(spec):
            ext, _, role = item.partition(":")
            if ext not in ids:
                log.add(
                    f"no member with external_id {ext!r} in this community",
                    row=row_no,
                    field="members",
                )
            elif g is not None:
                members.append((g.external_id, ids[ext], role or "member"))
        if g is not None:
            groups.append(
                {**g.model_dump(), "organisation_id": organisation_id, "community_id": community_id}
            )
    log.raise_if_any("group import failed")
    existing = dict(
        session.execute(
            select(Group.external_id, Group.id).where(Group.community_id == community_id)
        ).all()
    )
    created, updated = upsert_rows(
        session, Group, groups, existing, lambda r: r["external_id"], on_progress
    )
    gids = dict(
        session.execute(
            select(Group.external_id, Group.id).where(Group.community_id == community_id)
        ).all()
    )
    have = {
        (g, m): i
        for i, g, m in session.execute(
            select(GroupMembership.id, GroupMembership.group_id, GroupMembership.member_id).where(
                GroupMembership.group_id.in_(list(gids.values()))
            )
        ).all()
    }
    upsert_rows(
        session,
        GroupMembership,
        [
            {"organisation_id": organisation_id, "group_id": gids[g], "member_id": m, "role": r}
            for g, m, r in {(g, m): (g, m, r) for g, m, r in members}.values()
        ],
        have,
        lambda r: (r["group_id"], r["member_id"]),
    )
    return ImportReport("groups", table.label, created, updated, len(table.rows))


def import_assets(
    session: Session,
    *,
    organisation_id: int,
    community_id: int,
    source: Source,
    label: str | None = None,
    on_progress: Progress = None,
) -> ImportReport:
    table, log, ids = _open(
        session,
        organisation_id=organisation_id,
        community_id=community_id,
        source=source,
        label=label,
        columns=ASSET_COLUMNS,
    )
    rows: list[dict[str, Any]] = []
    for row_no, raw in table.rows:
        cells, bad = _convert(
            raw,
            row_no=row_no,
            log=log,
            bools=("tangible",),
            ints=("capacity",),
            floats=("lat", "lon"),
        )
        steward = cells.pop("steward_member", None)
        if steward is not None:
            if steward in ids:
                cells["steward_member_id"] = ids[steward]
            else:
                log.add(
                    f"no member with external_id {steward!r} in this community",
                    row=row_no,
                    field="steward_member",
                )
                bad.add("steward_member")
        a = validate_row(AssetCreate, cells, log=log, row=row_no, skip=bad)
        if a is not None and not bad:
            rows.append(
                {**a.model_dump(), "organisation_id": organisation_id, "community_id": community_id}
            )
    log.raise_if_any("asset import failed")
    existing = dict(
        session.execute(
            select(Asset.external_id, Asset.id).where(Asset.community_id == community_id)
        ).all()
    )
    created, updated = upsert_rows(
        session, Asset, rows, existing, lambda r: r["external_id"], on_progress
    )
    return ImportReport("assets", table.label, created, updated, len(table.rows))
