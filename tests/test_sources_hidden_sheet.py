"""A workbook whose first sheet is hidden (an HIS's old data or lookup sheet): the visible table is read."""

from __future__ import annotations

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hlwjr
from hlwjr.sources._read import open_source


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(hidden=st.integers(1, 3), state=st.sampled_from(["hidden", "veryHidden"]))
def test_hidden_first_sheets_are_passed_over_with_a_note(tmp_path, hidden, state):
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for k in range(hidden):
        ws = wb.create_sheet(f"旧数据{k}")
        for r in [["x", "y"], [1, 2], [3, 4]]:
            ws.append(r)
        ws.sheet_state = state
    visits = wb.create_sheet("就诊")
    for r in [["就诊号", "姓名"], ["MZ1", "张伟"], ["MZ2", "李娜"]]:
        visits.append(r)
    path = tmp_path / f"h{hidden}{state}.xlsx"
    wb.save(path)
    src = open_source(path)
    df = src.read()
    assert src.info.sheet == "就诊" and df["就诊号"].tolist() == ["MZ1", "MZ2"]
    assert any("隐藏" in n for n in src.info.notes)


def test_a_named_hidden_sheet_is_still_read(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "旧数据"
    wb.active.append(["x"])
    wb.active.append(["1"])
    wb.active.sheet_state = "hidden"
    wb.create_sheet("就诊").append(["就诊号"])
    wb.save(tmp_path / "h.xlsx")
    assert open_source(tmp_path / "h.xlsx", sheet="旧数据").read()["x"].tolist() == ["1"]


_SHEET = st.tuples(st.booleans(), st.integers(0, 3))  # (hidden, how many of the wanted columns it has)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(sheets=st.lists(_SHEET, min_size=1, max_size=5).filter(lambda s: not all(h for h, _ in s)))
def test_a_hidden_sheet_is_never_read_unnamed_and_every_one_passed_over_is_named(tmp_path, sheets):
    keys = ["doctorCertID", "doctorName", "sex"]
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for k, (hidden, n_keys) in enumerate(sheets):
        ws = wb.create_sheet(f"表{k}")
        header = keys[:n_keys] + [f"其他{j}" for j in range(3 - n_keys)]
        for r in [header, [f"{k}a", "x", "y"], [f"{k}b", "x", "y"]]:
            ws.append(r)
        ws.sheet_state = "hidden" if hidden else "visible"
    path = tmp_path / f"s{len(sheets)}{sum(h for h, _ in sheets)}.xlsx"
    wb.save(path)
    src = open_source(path, prefer_columns=keys)
    src.read()
    visible = [(k, n) for k, (hidden, n) in enumerate(sheets) if not hidden]
    best = max(visible, key=lambda kn: kn[1])  # the first of the most keys
    assert src.info.sheet == f"表{best[0] if best[1] else visible[0][0]}"
    notes = "；".join(src.info.notes)
    assert all(f"「表{k}」" in notes for k, (hidden, _) in enumerate(sheets) if hidden)
    assert ("隐藏" in notes) == any(h for h, _ in sheets)


def test_a_visible_sheet_named_after_the_data_set_is_read_but_a_hidden_one_is_not(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "说明"
    wb.active.append(["本文件为医师备案数据"])
    for name, state in [("doctor", "hidden"), ("医师", "visible")]:
        ws = wb.create_sheet(name)
        ws.append(["a", "b"])
        ws.append([name, "1"])
        ws.sheet_state = state
    wb.save(tmp_path / "d.xlsx")
    src = open_source(tmp_path / "d.xlsx", prefer_sheets=["doctor", "医师"])
    assert src.read()["a"].tolist() == ["医师"]
    assert any("「doctor」" in n and "隐藏" in n for n in src.info.notes)


def test_a_workbook_with_every_sheet_hidden_is_refused_not_read(tmp_path):
    from hlwjr.sources._layout import choose_sheet

    wb = openpyxl.Workbook()  # Excel and openpyxl refuse to save one: checked on the workbook itself
    wb.create_sheet("旧数据")
    for ws in wb.worksheets:
        ws.sheet_state = "hidden"
    with pytest.raises(hlwjr.SourceError, match="都是隐藏的.*sheet"):
        choose_sheet(wb, wb.sheetnames, where="x.xlsx")
