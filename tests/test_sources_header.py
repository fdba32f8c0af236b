"""Excel/CSV header rows: a two-level or partly blank header is not skipped for the first record,
and a record read as the header is refused without showing its ID or phone number."""

from __future__ import annotations

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hlwjr
from hlwjr.sources._read import read_source

ID = "110101198001010011"
PHONE = "13812345678"


def _xlsx(path, rows, merge=None):
    wb = openpyxl.Workbook()
    for r in rows:
        wb.active.append(r)
    for m in merge or []:
        wb.active.merge_cells(m)
    wb.save(path)
    return path


def test_two_level_merged_header_is_refused_not_read_from_the_first_record(tmp_path):
    path = _xlsx(
        tmp_path / "v.xlsx",
        [["就诊号", "患者信息", None, "费用"], [None, "姓名", "身份证号", "金额"], ["MZ1", "张伟", ID, 1.5]],
        merge=["B1:C1", "A1:A2"],
    )
    with pytest.raises(hlwjr.SourceError, match="表头第 3 列为空.*合并单元格") as info:
        read_source(path)
    assert ID not in str(info.value) and "第1行" in str(info.value)


@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(width=st.integers(3, 9), blank=st.data(), titles=st.integers(0, 2))
def test_header_with_one_blank_name_is_found_not_the_record_below(tmp_path, width, blank, titles):
    col = blank.draw(st.integers(1, width - 2))
    header = [f"列{i}" for i in range(width)]
    header[col] = None
    rows = [["某医院门诊明细"]] * titles + [header, [f"v{i}" for i in range(width)]]
    with pytest.raises(hlwjr.SourceError, match=f"表头第 {col + 1} 列为空") as info:
        read_source(_xlsx(tmp_path / f"b{width}{col}{titles}.xlsx", rows))
    assert f"第{titles + 1}行" in str(info.value)


@pytest.mark.parametrize("value", [ID, PHONE, "11010119800101001X"])
@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_record_read_as_header_is_refused_masked(tmp_path, value, suffix):
    path = tmp_path / f"v{suffix}"
    if suffix == ".csv":
        path.write_text(f"MZ1,张伟,{value}\nMZ2,李娜,{value}\n", encoding="utf-8")
    else:
        _xlsx(path, [["MZ1", "张伟", value], ["MZ2", "李娜", value]])
    with pytest.raises(hlwjr.SourceError, match="表头第 3 列.*像身份证号或手机号") as info:
        read_source(path)
    assert value not in str(info.value)


def test_title_rows_above_a_full_header_are_still_skipped(tmp_path):
    path = _xlsx(
        tmp_path / "t.xlsx",
        [["某医院门诊明细"], ["导出时间：2026-01-06"], ["就诊号", "姓名", "金额"], ["MZ1", "张伟", 3]],
    )
    df = read_source(path)
    assert list(df.columns) == ["就诊号", "姓名", "金额"] and df["就诊号"].tolist() == ["MZ1"]
