"""The demo community generator: determinism, the registry formats, integrity, input errors."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

from commonweal.demo import generate_community
from commonweal.errors import InputError

FORMATS = Path(__file__).resolve().parents[2] / "docs" / "formats.md"


def formats_columns() -> dict[str, list[str]]:
    """Columns of each file as documented in docs/formats.md (the contract with the importer)."""
    out: dict[str, list[str]] = {}
    current = None
    for line in FORMATS.read_text(encoding="utf-8").splitlines():
        head = re.match(r"^## (\w+)\.csv", line)
        if head:
            current = head.group(1)
            out[current] = []
        elif current and line.startswith("| `"):
            first_cell = line.split("|")[1]
            out[current] += [c for c in re.findall(r"`([^`]+)`", first_cell) if c != "attr_*"]
    return out


@pytest.fixture(scope="module")
def community():
    return generate_community(600, seed=11)


def test_same_seed_same_community_other_seed_differs():
    a, b = generate_community(300, seed=4), generate_community(300, seed=4)
    c = generate_community(300, seed=5)
    for name in ("members", "ties", "groups", "assets"):
        assert getattr(a, name).equals(getattr(b, name)), name
    assert not a.members.equals(c.members)
    assert not a.ties.equals(c.ties)


def test_columns_are_exactly_the_documented_formats(community):
    documented = formats_columns()
    assert set(documented) == {"members", "ties", "groups", "assets"}
    for name, columns in documented.items():
        assert getattr(community, name).columns == columns, name


def test_every_reference_resolves_and_there_are_no_self_or_duplicate_ties(community):
    members = set(community.members["external_id"])
    assert len(members) == community.members.height == 600
    ties = community.ties
    assert set(ties["from_id"]) <= members and set(ties["to_id"]) <= members
    assert (ties["from_id"] != ties["to_id"]).all()
    assert ties.select("from_id", "to_id", "kind").is_unique().all()
    group_members = [
        item.split(":")[0] for cell in community.groups["members"] for item in cell.split(";")
    ]
    assert group_members and set(group_members) <= members
    stewards = community.assets["steward_member"].drop_nulls()
    assert set(stewards) <= members
    assert community.groups["external_id"].is_unique().all()
    assert community.assets["external_id"].is_unique().all()


def test_a_reciprocal_tie_is_written_both_ways(community):
    recip = community.ties.filter(pl.col("reciprocal")).select("from_id", "to_id", "kind")
    back = recip.rename({"from_id": "to_id", "to_id": "from_id"}).select(recip.columns)
    assert recip.sort(recip.columns).equals(back.sort(recip.columns))
    one_way = community.ties.filter(~pl.col("reciprocal")).select("from_id", "to_id", "kind")
    assert one_way.join(back, on=["from_id", "to_id", "kind"]).height == 0


def test_values_are_in_the_documented_domains(community):
    m, t, g, a = community.members, community.ties, community.groups, community.assets
    assert set(t["kind"]) <= {
        "kin",
        "friend",
        "neighbour",
        "colleague",
        "peer_supporter",
        "mentor",
        "professional",
        "other",
    }
    types = {x for cell in t["support_types"] for x in cell.split(";")}
    assert types <= {"emotional", "practical", "financial", "information", "companionship"}
    assert t["strength"].is_between(1, 5).all()
    assert set(t["source"]) <= {"self_report", "observed", "exchange"}
    assert set(m["location_precision"].drop_nulls()) <= {"exact", "street", "neighbourhood", "area"}
    assert (m["lat"].is_null() == m["lon"].is_null()).all()
    assert m["birth_year"].drop_nulls().is_between(1900, 2025).all()
    assert m["phone"].drop_nulls().str.contains(r"^\+1-\d{3}-555-01\d\d$").all()
    assert m["email"].drop_nulls().str.ends_with("@example.org").all()
    assert set(g["kind"]) <= {"team", "household", "affinity", "practice", "peer_support", "other"}
    assert set(a["kind"]) <= {
        "place",
        "facility",
        "equipment",
        "vehicle",
        "skill",
        "organisation",
        "program",
        "fund",
        "trust",
        "other",
    }
    assert set(a["condition"].drop_nulls()) <= {"good", "fair", "poor", "unknown"}
    assert a.filter(~pl.col("tangible"))["lat"].is_null().all()
    assert {True, False} <= set(a["tangible"])
    # roughly at the default centre (Calgary City Hall) -- a city, not a continent
    assert m["lat"].drop_nulls().is_between(50.9, 51.2).all()
    assert m["lon"].drop_nulls().is_between(-114.3, -113.8).all()


def test_households_live_together_and_alone_flags_match(community):
    m = community.members
    sizes = m.group_by("household").agg(pl.len().alias("size"), pl.col("lives_alone").all())
    assert sizes["size"].is_between(1, 6).all()
    assert (sizes["lives_alone"] == (sizes["size"] == 1)).all()
    places = m.group_by("household").agg(pl.col("lat").n_unique())
    assert (places["lat"] == 1).all()


def test_names_are_varied():
    # in the default 400-member demo few people share a full name (housemates share surnames)
    assert generate_community(400, seed=1).members["display_name"].n_unique() > 340
    m = generate_community(2000, seed=1).members
    assert m["display_name"].n_unique() > 1300
    languages = {x for cell in m["languages"].drop_nulls() for x in cell.split(";")}
    assert len(languages) >= 8 and "en" in languages


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"n_members": 0}, "n_members"),
        ({"n_members": 10, "seed": -1}, "seed"),
        ({"n_members": 10, "mean_ties": 0.5}, "mean_ties"),
        ({"n_members": 10, "isolated_share": 1.5}, "isolated_share"),
        (
            {"n_members": 10, "isolated_share": 0.6, "single_contact_share": 0.6},
            "single_contact_share",
        ),
        ({"n_members": 10, "n_neighbourhoods": 0}, "n_neighbourhoods"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, field):
    kwargs = {"seed": 1, **kwargs}
    with pytest.raises(InputError) as err:
        generate_community(**kwargs)
    assert [p.field for p in err.value.problems] == [field]


def test_tiny_communities_work():
    for n in (1, 2, 7):
        c = generate_community(n, seed=3)
        assert c.members.height == n
        assert (c.ties["from_id"] != c.ties["to_id"]).all()
