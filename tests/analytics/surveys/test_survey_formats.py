"""XLSForm and REDCap round trips; pyxform (the reference XLSForm converter) parses our export;
Kobo/ODK and REDCap response exports are read and scored."""

from __future__ import annotations

import csv

import pytest

from commonweal.analytics.surveys import (
    list_instruments,
    load_instrument,
    read_kobo_responses,
    read_redcap_dictionary,
    read_redcap_responses,
    read_xlsform,
    score_responses,
    write_redcap_dictionary,
    write_xlsform,
)
from commonweal.analytics.surveys.formats_redcap import REDCAP_COLUMNS
from commonweal.errors import InputError, SpecError

TEXT_SHIPPED = [i.id for i in list_instruments() if i.licence.text_shipped]


@pytest.mark.parametrize("name", TEXT_SHIPPED)
def test_xlsform_round_trip(tmp_path, name):
    inst = load_instrument(name)
    path = write_xlsform(inst, tmp_path / f"{name}.xlsx")
    assert read_xlsform(path) == inst


@pytest.mark.parametrize("name", ["bscs", "collective_efficacy", "ons4"])
def test_pyxform_parses_our_xlsform(tmp_path, name):
    xls2xform = pytest.importorskip("pyxform.xls2xform")
    path = write_xlsform(load_instrument(name), tmp_path / f"{name}.xlsx")
    result = xls2xform.convert(xlsform=str(path))
    assert "<h:html" in result.xform
    for it in load_instrument(name).items:
        assert f"/{it.id}" in result.xform


def test_foreign_xlsform_imports_items(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "survey"
    ws.append(["type", "name", "label::English (en)"])
    ws.append(["start", "start", ""])
    ws.append(["select_one yn", "q1", "Question one"])
    ws.append(["select_one yn", "q2", "Question two"])
    ch = wb.create_sheet("choices")
    ch.append(["list_name", "name", "label::English (en)"])
    ch.append(["yn", "0", "No"])
    ch.append(["yn", "1", "Yes"])
    wb.save(tmp_path / "f.xlsx")
    inst = read_xlsform(tmp_path / "f.xlsx")
    assert inst.item_ids == ("q1", "q2") and inst.item("q1").text == "Question one"
    assert inst.licence.basis == "unknown" and inst.subscales[0].scoring == "sum"


def test_xlsform_with_text_choices_is_rejected(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "survey"
    ws.append(["type", "name", "label"])
    ws.append(["select_one yn", "q1", "Q"])
    ch = wb.create_sheet("choices")
    ch.append(["list_name", "name", "label"])
    ch.append(["yn", "yes", "Yes"])
    wb.save(tmp_path / "f.xlsx")
    with pytest.raises(SpecError) as exc:
        read_xlsform(tmp_path / "f.xlsx")
    assert exc.value.problems[0].row == 2


@pytest.mark.parametrize("name", TEXT_SHIPPED)
def test_redcap_round_trip(tmp_path, name):
    inst = load_instrument(name)
    write_redcap_dictionary(inst, tmp_path / "dd.csv")
    with (tmp_path / "dd.csv").open() as fh:
        header = next(csv.reader(fh))
    assert tuple(header) == REDCAP_COLUMNS and len(header) == 18
    assert read_redcap_dictionary(tmp_path / "dd.csv") == inst


def test_redcap_dictionary_content():
    text = write_redcap_dictionary(load_instrument("brs"))
    assert "1, Strongly disagree | 2, Disagree" in text
    assert "mean([brs_1], (6 - [brs_2])" in text
    assert ",radio," in text and ",calc," in text


def test_licensed_instrument_export_needs_text(tmp_path):
    with pytest.raises(SpecError, match="licensed"):
        write_xlsform(load_instrument("cdrisc10"), tmp_path / "x.xlsx")
    with pytest.raises(SpecError):
        write_redcap_dictionary(load_instrument("wemwbs"))


def test_kobo_export_with_groups_semicolons_and_labels(tmp_path):
    inst = load_instrument("ucla3")
    p = tmp_path / "kobo.csv"
    p.write_text(
        "start;end;ucla3/ucla3_1;ucla3/ucla3_2;ucla3/ucla3_3;_id;_uuid\n"
        "2024-01-01;2024-01-01;1;2;3;11;u-1\n"
        "2024-01-02;2024-01-02;Often;Often;;12;u-2\n")
    df = read_kobo_responses(p, inst)
    assert df["ucla3_1"].to_list() == [1, 3] and df["ucla3_3"].to_list() == [3, None]
    assert df["_uuid"].to_list() == ["u-1", "u-2"]
    s = score_responses(inst, df, keep=["_id"], ignore_unknown=True).scores
    assert s["loneliness"].to_list() == [6.0, None]
    assert s["loneliness_rule"].to_list() == ["complete", "insufficient"]


def test_odk_central_export_and_bad_cell(tmp_path):
    inst = load_instrument("ucla3")
    p = tmp_path / "odk.csv"
    p.write_text("SubmissionDate,g-ucla3_1,g-ucla3_2,g-ucla3_3,KEY\n"
                 "x,1,1,1,uuid:1\nx,1,7,maybe,uuid:2\n")
    with pytest.raises(InputError) as exc:
        read_kobo_responses(p, inst)
    found = {(q.row, q.field) for q in exc.value.problems}
    assert found == {(3, "g-ucla3_2"), (3, "g-ucla3_3")}


def test_redcap_response_export(tmp_path):
    inst = load_instrument("brs")
    p = tmp_path / "rc.csv"
    cols = ["record_id", "redcap_event_name"] + list(inst.item_ids) + ["brs_complete"]
    p.write_text(",".join(cols) + "\n1,baseline_arm_1,5,1,5,1,5,1,2\n"
                 "2,baseline_arm_1,Agree,Disagree,4,2,4,2,2\n")
    df = read_redcap_responses(p, inst)
    s = score_responses(inst, df, keep=["record_id"], ignore_unknown=True).scores
    assert s["resilience"].to_list() == [5.0, 4.0]
    missing = tmp_path / "m.csv"
    missing.write_text("record_id,brs_1\n1,3\n")
    with pytest.raises(InputError, match="lacks item"):
        read_redcap_responses(missing, inst)


def test_redcap_labels_export_uses_field_labels_as_header(tmp_path):
    inst = load_instrument("ucla3")
    p = tmp_path / "labels.csv"
    header = ["Record ID"] + [f'"{it.text}"' for it in inst.items]
    p.write_text(",".join(header) + "\n1,Hardly ever,Often,Some of the time\n")
    df = read_redcap_responses(p, inst)
    assert [df[i][0] for i in inst.item_ids] == [1, 3, 2]
