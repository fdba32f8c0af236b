"""Reading an export as a person does: summary and signature lines under the table (合计、制表人)
are not records, a cover sheet is not the table — each decision said in the source's notes."""

from __future__ import annotations

import csv
import io

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hlwjr
from hlwjr.sources._read import iter_source

FOOTERS = [
    "合计",
    "总计：",
    "小计",
    "制表人：张三",
    "打印时间：2026-12-01",
    "备注：无",
    "注：金额单位为元",
    "审核人：李四",
]


def _rows(n: int) -> list[list[str]]:
    return [[f"LS{i:04d}", "赵测试", "男", f"{i * 1.5:.2f}"] for i in range(1, n + 1)]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    n=st.integers(min_value=1, max_value=40),
    footers=st.lists(st.sampled_from(FOOTERS), max_size=3),
    title=st.booleans(),
    encoding=st.sampled_from(["utf-8-sig", "gb18030"]),
    excel=st.booleans(),
)
def test_lines_under_the_table_are_dropped_with_a_note_and_records_kept(
    tmp_path_factory, n, footers, title, encoding, excel
):
    d = tmp_path_factory.mktemp("footer")
    lines = ([["某某医院 复诊明细导出"]] if title else []) + [["流水号", "姓名", "性别", "金额"]] + _rows(n)
    lines += [[text, "", "", "697.50" if text.startswith("合") else ""] for text in footers]
    if excel:
        path = d / "export.xlsx"
        wb = openpyxl.Workbook()
        for line in lines:
            wb.active.append(line)
        wb.save(path)
    else:
        path = d / "export.csv"
        buf = io.StringIO()
        csv.writer(buf).writerows(lines)
        path.write_bytes(buf.getvalue().encode(encoding))
    df = hlwjr.read_source(path)
    assert df["流水号"].tolist() == [f"LS{i:04d}" for i in range(1, n + 1)]
    description = df.attrs["source_info"]["description"]
    assert (f"末尾 {len(footers)} 行" in description) == bool(footers)
    assert "张三" not in description and "李四" not in description  # the keyword only, never the person
    chunks = list(iter_source(path, chunksize=7))
    assert sum(len(c) for c in chunks) == n


def test_a_record_whose_key_starts_like_a_footer_word_inside_the_table_is_kept(tmp_path):
    path = tmp_path / "export.csv"
    rows = [["流水号", "备注"], ["合计A", "x"], ["LS1", "y"], ["LS2", "合计"]]
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    assert hlwjr.read_source(path)["流水号"].tolist() == ["合计A", "LS1", "LS2"]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cover=st.lists(st.sampled_from(["本表为复诊数据导出", "字段说明见附件", "导出人：王五"]), min_size=0, max_size=3),
    position=st.integers(min_value=1, max_value=2),
)
def test_a_cover_sheet_is_passed_over_for_the_table(tmp_path_factory, cover, position):
    path = tmp_path_factory.mktemp("cover") / "export.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "说明"
    for line in cover:
        wb.active.append([line])
    for k in range(1, position + 1):
        ws = wb.create_sheet(f"数据{k}")
        ws.append(["流水号", "姓名", "性别"])
        for i in range(3 + k):  # the second data sheet is larger
            ws.append([f"LS{i}", "赵测试", "女"])
    wb.save(path)
    df = hlwjr.read_source(path)
    chosen = f"数据{position}"
    assert df.attrs["source_info"]["sheet"] == chosen and len(df) == 3 + position
    assert f"第一个工作表「说明」不是数据表，已读取「{chosen}」" in df.attrs["source_info"]["description"]
    if cover:  # a sheet asked for by name is read as told
        assert hlwjr.read_source(path, sheet="说明").attrs["source_info"]["sheet"] == "说明"


def test_a_full_row_that_starts_like_a_footer_word_is_a_record(tmp_path):
    path = tmp_path / "export.csv"
    rows = [["备注", "流水号", "姓名", "金额"], ["x", "LS1", "赵测试", "1"], ["说明：复诊", "LS2", "钱测试", "2"]]
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    assert hlwjr.read_source(path)["流水号"].tolist() == ["LS1", "LS2"]
