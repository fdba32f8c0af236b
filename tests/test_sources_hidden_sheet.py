"""A workbook whose first sheet is hidden (an HIS's old data or lookup sheet): the visible table is read."""

from __future__ import annotations

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
