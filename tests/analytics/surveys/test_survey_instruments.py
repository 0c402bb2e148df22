"""Bundled instruments: what the issue requires of each, and licence honesty."""

from __future__ import annotations

import pytest

from commonweal.analytics.surveys import (
    instrument_from_dict,
    instrument_to_dict,
    list_instruments,
    load_instrument,
    read_instrument_file,
    read_item_text,
)
from commonweal.errors import NotFoundError, SpecError

LICENSED = {"cdrisc25", "cdrisc10", "cdrisc2", "wemwbs", "swemwbs"}


def test_all_bundled_load_and_round_trip():
    insts = list_instruments()
    assert {i.id for i in insts} >= {"bscs", "ucla3", "lsns6", "brs", "pss10",
                                      "collective_efficacy", "psychological_safety", "ons4"}
    for inst in insts:
        assert instrument_from_dict(instrument_to_dict(inst)) == inst
        assert inst.citation and inst.licence.statement


def test_licensed_instruments_ship_no_item_text():
    for inst in list_instruments():
        if inst.id in LICENSED:
            assert inst.licence.basis == "proprietary" and not inst.licence.text_shipped
            assert all(it.text is None for it in inst.items)
        else:
            assert inst.licence.text_shipped and all(it.text for it in inst.items)


def test_item_counts_and_keys():
    def rev(name):
        return [i + 1 for i, it in enumerate(load_instrument(name).items) if it.reverse]

    bscs = load_instrument("bscs")
    assert len(bscs.items) == 8 and len(bscs.subscales) == 5  # 4 subscales + total
    assert {o.value for o in bscs.items[0].options} == {1, 2, 3, 4, 5}
    assert rev("brs") == [2, 4, 6] and rev("pss10") == [4, 5, 7, 8]
    assert rev("psychological_safety") == [1, 3, 5] and len(load_instrument(
        "psychological_safety").items) == 7
    ce = load_instrument("collective_efficacy")
    assert [it.id for it in ce.items if it.reverse] == ["ce_cohesion_4", "ce_cohesion_5"]
    assert {s.id for s in ce.subscales} >= {"social_cohesion", "informal_control"}
    assert len(load_instrument("cdrisc25").items) == 25
    assert len(load_instrument("cdrisc10").items) == 10
    assert len(load_instrument("cdrisc2").items) == 2
    ons = load_instrument("ons4")
    assert all(s.scoring == "item" for s in ons.subscales) and len(ons.items) == 4


def test_bands_carry_sources():
    ucla = load_instrument("ucla3").subscale("loneliness")
    assert [b.label for b in ucla.bands if b.contains(6)] == ["lonely"]
    assert [b.label for b in ucla.bands if b.contains(5)] == ["not lonely"]
    lsns = load_instrument("lsns6").subscale("total")
    assert [b.label for b in lsns.bands if b.contains(11)] == ["at risk of social isolation"]
    assert [b.label for b in lsns.bands if b.contains(12)] == ["not at risk"]
    for inst in list_instruments():
        for s in inst.subscales:
            assert all(b.source for b in s.bands)


def test_unknown_instrument():
    with pytest.raises(NotFoundError, match="choose from"):
        load_instrument("nope")


def test_bad_instrument_files(tmp_path):
    p = tmp_path / "x.toml"
    p.write_text('id = "x"\nname = "X"\n')
    with pytest.raises(SpecError, match="licence"):
        read_instrument_file(p)
    p.write_text("id = [")
    with pytest.raises(SpecError, match="TOML"):
        read_instrument_file(p)
    doc = instrument_to_dict(load_instrument("cdrisc2"))
    doc["items"][0]["text"] = "leaked text"
    with pytest.raises(SpecError, match="text is not"):
        instrument_from_dict(doc)
    doc = instrument_to_dict(load_instrument("brs"))
    doc["subscales"][0]["items"].append("brs_99")
    with pytest.raises(SpecError, match="unknown items"):
        instrument_from_dict(doc)


def test_licensed_user_supplies_text(tmp_path):
    p = tmp_path / "text.csv"
    p.write_text("item,text\ncdrisc2_1,My first licensed item\ncdrisc2_2,Second\n")
    inst = load_instrument("cdrisc2").with_item_text(read_item_text(p))
    assert inst.item("cdrisc2_1").text == "My first licensed item"
    with pytest.raises(SpecError):
        inst.with_item_text({"other": "x"})
