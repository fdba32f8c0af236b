"""Sources whose content is not what their extension says (HTML saved as .xls, an .xlsx named .csv)."""

from __future__ import annotations

import shutil

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hlwjr
from hlwjr.sources._read import read_source

HTML = (
    "<body><table><tr><td>就诊号</td><td>身份证号</td></tr>"
    "<tr><td>1</td><td>110101198001010011</td></tr></table></body></html>"
)


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(
    suffix=st.sampled_from([".xls", ".csv", ".txt", ".xlsx"]),
    lead=st.sampled_from(["", "  \r\n", "\ufeff", "\ufeff \n"]),
    tag=st.sampled_from(["<html>", "<HTML lang='zh'>", "<table border=1>", "<!DOCTYPE html>", "<?xml version='1.0'?>"]),
    encoding=st.sampled_from(["utf-8", "gb18030", "utf-16"]),
)
def test_html_table_is_refused_by_name_without_showing_ids(tmp_path, suffix, lead, tag, encoding):
    path = tmp_path / f"his{suffix}"
    path.write_bytes((lead + tag + HTML).encode(encoding))
    with pytest.raises(hlwjr.SourceError, match="网页（HTML/XML）表格") as info:
        read_source(path)
    assert str(path) in str(info.value)
    assert "110101198001010011" not in str(info.value)


def test_xlsx_named_csv_says_to_rename(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(["就诊号"])
    wb.save(tmp_path / "a.xlsx")
    shutil.copy(tmp_path / "a.xlsx", tmp_path / "a.csv")
    with pytest.raises(hlwjr.SourceError, match=r"扩展名改为 \.xlsx"):
        read_source(tmp_path / "a.csv")


def test_csv_named_xlsx_says_to_rename(tmp_path):
    path = tmp_path / "a.xlsx"
    path.write_bytes("就诊号,姓名\n1,张三\n".encode("gbk"))
    with pytest.raises(hlwjr.SourceError, match=r"扩展名改为 \.csv"):
        read_source(path)


def test_true_xlsx_and_csv_still_read(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(["就诊号"])
    wb.active.append(["MZ1"])
    wb.save(tmp_path / "a.xlsx")
    (tmp_path / "b.csv").write_text("就诊号\nMZ1\n", encoding="utf-8")
    assert read_source(tmp_path / "a.xlsx")["就诊号"].tolist() == ["MZ1"]
    assert read_source(tmp_path / "b.csv")["就诊号"].tolist() == ["MZ1"]
