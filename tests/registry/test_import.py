# ruff: noqa: E501  (CSV fixtures are data, one record per line)
"""CSV imports: good files land, bad files report every problem by file/row/field and write nothing."""

from __future__ import annotations

import io

import polars as pl
import pytest
from sqlalchemy import func, select

from commonweal.db.engine import transaction
from commonweal.errors import ImportRowsError
from commonweal.registry import export, importer
from commonweal.registry import service as reg
from commonweal.registry.karnataka import KARNATAKA_SUPPORT, import_karnataka_village
from commonweal.registry.models import Consent, Member, Tie
from commonweal.registry.schemas import CommunityCreate
from commonweal.registry.vocab import SupportType, support_to_mask
from tests.helpers import shared_data

MEMBERS = """external_id,display_name,phone,email,languages,birth_year,household,lives_alone,lat,lon,consent_contact,attr_street
m1,Ada Okafor,+1-555-0101,ada@example.org,en;yo,1948,h1,true,51.50,-0.12,true,Mill Lane
m2,Bea Lindqvist,,,sv,1990,h2,false,51.51,-0.13,,Mill Lane
m3,Cai Ramos,,,es,1985,h2,false,,,false,
"""
TIES = """from_id,to_id,kind,support_types,strength,reciprocal,since,source
m1,m2,neighbour,practical;companionship,4,true,2020-05-01,self_report
m2,m1,neighbour,practical,3,true,,
m3,m2,kin,emotional;financial,5,false,,observed
"""
GROUPS = """external_id,name,kind,description,members
g1,Mill Lane helpers,affinity,Neighbours who help,m1:lead;m2
"""
ASSETS = """external_id,name,tangible,kind,steward_member,lat,lon,capacity,condition
a1,Community hall,true,facility,m2,51.5,-0.12,120,good
a2,First aid skills,false,skill,m1,,,,unknown
"""
BAD_MEMBERS = """external_id,display_name,birth_year,lives_alone,lat,lon,email,favourite_colour
m1,Ada,19x8,true,51.5,-0.1,ada@example.org,red
m2,,1990,maybe,51.5,-0.1,not-an-email,blue
m1,Dup,1990,false,95,-0.1,,green
m4,Dee,1990,false,51.5,,,green
"""


def _community(factory, name: str = "Mill Lane") -> tuple[int, int]:
    with transaction(factory) as s:
        org = reg.create_organisation(s, name="Org")
        c = reg.create_community(s, organisation_id=org.id, data=CommunityCreate(name=name))
        return org.id, c.id


def _run(factory, fn, org: int, com: int, text: str, label: str):
    with transaction(factory) as s:
        return fn(s, organisation_id=org, community_id=com, source=io.StringIO(text), label=label)


def test_import_all_entities_and_round_trip(db) -> None:
    org, com = _community(db)
    assert _run(db, importer.import_members, org, com, MEMBERS, "members.csv").created == 3
    assert _run(db, importer.import_ties, org, com, TIES, "ties.csv").created == 3
    assert _run(db, importer.import_groups, org, com, GROUPS, "groups.csv").created == 1
    assert _run(db, importer.import_assets, org, com, ASSETS, "assets.csv").created == 2
    with transaction(db) as s:
        ada = s.scalar(select(Member).where(Member.external_id == "m1"))
        assert ada.languages == ["en", "yo"] and ada.lives_alone is True
        assert ada.attributes == {"street": "Mill Lane"}
        assert {(c.purpose, c.granted) for c in s.scalars(select(Consent))} == {
            ("contact", True),
            ("contact", False),
        }
        tie = s.scalar(select(Tie).where(Tie.kind == "kin"))
        assert tie.support_mask == support_to_mask(["emotional", "financial"])
        # Export in the import format, re-import into a fresh community: identical export.
        csvs = {
            e: export.export_csv(s, organisation_id=org, community_id=com, entity=e)
            for e in ("members", "ties", "groups", "assets")
        }
        c2 = reg.create_community(s, organisation_id=org, data=CommunityCreate(name="Copy"))
        c2_id = c2.id
    for e, fn in (
        ("members", importer.import_members),
        ("ties", importer.import_ties),
        ("groups", importer.import_groups),
        ("assets", importer.import_assets),
    ):
        _run(db, fn, org, c2_id, csvs[e], f"{e}.csv")
    with transaction(db) as s:
        for e in csvs:
            assert (
                export.export_csv(s, organisation_id=org, community_id=c2_id, entity=e) == csvs[e]
            )
    # Re-importing the same file updates instead of duplicating.
    rep = _run(db, importer.import_members, org, com, MEMBERS, "members.csv")
    assert (rep.created, rep.updated) == (0, 3)


def test_bad_csv_reports_every_problem_and_writes_nothing(db) -> None:
    org, com = _community(db)
    _run(db, importer.import_members, org, com, MEMBERS, "members.csv")
    with transaction(db) as s:
        before = s.scalar(select(func.count()).select_from(Member))
    with pytest.raises(ImportRowsError) as info:
        _run(db, importer.import_members, org, com, BAD_MEMBERS, "bad.csv")
    # Unknown column is reported first (header problems stop before rows are read).
    assert [(p.file, p.row, p.field) for p in info.value.problems] == [
        ("bad.csv", 1, "favourite_colour")
    ]
    fixed = (
        BAD_MEMBERS.replace(",favourite_colour", "")
        .replace(",red", "")
        .replace(",blue", "")
        .replace(",green", "")
    )
    with pytest.raises(ImportRowsError) as info:
        _run(db, importer.import_members, org, com, fixed, "bad.csv")
    where = {(p.row, p.field) for p in info.value.problems}
    assert where == {
        (2, "birth_year"),  # 19x8 is not a number
        (3, "lives_alone"),  # maybe
        (3, "display_name"),  # empty required value
        (3, "email"),  # not an email
        (4, "external_id"),  # duplicate of row 2
        (4, "lat"),  # 95 out of range
        (5, None),  # lat without lon (a whole-row check)
    }
    assert all(p.file == "bad.csv" for p in info.value.problems)
    assert "nothing was written" in info.value.message
    with transaction(db) as s:
        assert s.scalar(select(func.count()).select_from(Member)) == before


def test_ties_to_unknown_members_are_located(db) -> None:
    org, com = _community(db)
    _run(db, importer.import_members, org, com, MEMBERS, "members.csv")
    bad = "from_id,to_id,kind\nm1,m9,friend\nm1,m1,friend\nm1,m2,cousin\n"
    with pytest.raises(ImportRowsError) as info:
        _run(db, importer.import_ties, org, com, bad, "ties.csv")
    assert {(p.row, p.field) for p in info.value.problems} == {(2, "to_id"), (3, None), (4, "kind")}
    with transaction(db) as s:
        assert s.scalar(select(func.count()).select_from(Tie)) == 0


def test_karnataka_village_1_counts_match_raw_files(db) -> None:
    meta = shared_data("networks", "karnataka_villages", "vil1_meta.csv")
    edges = shared_data("networks", "karnataka_villages", "vil1_edges.csv")
    # Expected counts computed straight from the raw files with polars (independent of importer).
    raw_meta = pl.read_csv(meta, infer_schema_length=0)
    raw = pl.read_csv(edges, infer_schema_length=0).filter(pl.col("i") != pl.col("j"))
    raw = raw.with_columns(
        pl.col("type")
        .replace_strict({k: v.value for k, v in KARNATAKA_SUPPORT.items()})
        .alias("support")
    )
    people = set(raw_meta["pid"]) | set(raw["i"]) | set(raw["j"])
    expected_pairs = raw.select("i", "j").unique().height
    expected_per_type = {
        t: raw.filter(pl.col("support") == t).select("i", "j").unique().height
        for t in raw["support"].unique()
    }
    org, com = _community(db, "Village 1")
    with transaction(db) as s:
        rep = import_karnataka_village(
            s, organisation_id=org, community_id=com, meta_path=meta, edges_path=edges
        )
    with transaction(db) as s:
        assert s.scalar(select(func.count()).select_from(Member)) == len(people) == 843
        assert s.scalar(select(func.count()).select_from(Tie)) == expected_pairs
        for t, n in expected_per_type.items():
            bit = support_to_mask([SupportType(t)])
            got = s.scalar(
                select(func.count()).select_from(Tie).where(Tie.support_mask.op("&")(bit) != 0)
            )
            assert got == n, t
    assert "5 self-tie rows dropped" in " ".join(rep.notes)
