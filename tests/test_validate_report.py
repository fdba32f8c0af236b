"""The report: flat table, summaries, Excel and HTML exports (atomic, escaped, Chinese)."""

from __future__ import annotations

import os

import openpyxl
import pytest
from validate_helpers import batch, doctor, line, pharmacist, problems, recipe, revisit

import hlwjr
from hlwjr.validation._report import COLUMNS, Problem, Report


@pytest.fixture
def report():
    b = batch(
        revisit=[revisit(age=-1, endDate="2026-02-30 10:00:00"), revisit(bussID="FZ002", sex="<script>")],
        recipe=[recipe(orderList=[line(1, dosage=""), line(2, totalPrice=20.0)])],
    )
    return problems(b)[1]


def test_flat_table_columns_and_types(report):
    frame = report.to_frame()
    assert tuple(frame.columns) == COLUMNS
    assert report.flatten().equals(frame)
    assert str(frame["row"].dtype) == "Int64"
    assert set(frame["severity"]) <= {"error", "warning"}
    assert report.n_errors == len(report.errors) and not report.ok
    assert report.bad_rows("revisit") == {0, 1} and report.bad_rows("recipe") == {0}
    assert report.bad_rows("doctor") == set()
    p = report.problems[0]
    assert isinstance(p, Problem) and str(p).startswith("[error]")


def test_summaries_by_rule_and_by_field(report):
    by_rule = report.by_rule()
    assert {"rule", "title", "severity", "problems", "records", "example"} <= set(by_rule.columns)
    assert by_rule["problems"].sum() == len(report)
    assert (by_rule.loc[by_rule["rule"] == "minimum", "title"] == "不小于最小值").all()
    by_field = report.by_field()
    row = by_field[(by_field["dataset"] == "revisit") & (by_field["field"] == "age")].iloc[0]
    assert row["name"] == "年龄" and "minimum" in row["rules"]
    child = by_field[by_field["field"] == "orderList.dosage"].iloc[0]
    assert child["name"] == "处方明细.每次剂量"
    assert "个错误" in report.summary()


def test_excel_export_has_every_problem_and_the_summaries(report, tmp_path):
    out = report.to_excel(tmp_path / "报告.xlsx")
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["汇总", "问题明细", "按规则", "按字段"]
    detail = wb["问题明细"]
    assert detail.max_row == len(report) + 1
    header = [c.value for c in detail[1]]
    assert header[:4] == ["数据集", "行号", "业务主键", "字段"]
    assert detail.cell(row=2, column=2).value == 1  # rows are 1-based in the workbook
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".")]  # no temp file left


def test_html_export_is_standalone_and_escaped(report, tmp_path):
    out = report.to_html(tmp_path / "r.html")
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and 'charset="utf-8"' in page
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "未通过" in page and "按规则" in page and "http" not in page.split("</style>")[0]


def test_exports_are_atomic(report, tmp_path, monkeypatch):
    target = tmp_path / "r.xlsx"
    target.write_bytes(b"previous report")

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Report, "by_field", boom)
    with pytest.raises(RuntimeError):
        report.to_excel(target)
    assert target.read_bytes() == b"previous report"
    assert sorted(os.listdir(tmp_path)) == ["r.xlsx"]
    monkeypatch.undo()
    with pytest.raises(hlwjr.ConfigError, match="不存在"):
        report.to_html(tmp_path / "missing" / "r.html")
    with pytest.raises(hlwjr.ConfigError, match=".xlsx"):
        report.to_excel(tmp_path / "r.csv")


def test_clean_report_and_combining():
    clean = problems(batch())[1]
    assert clean.ok and len(clean) == 0 and "全部通过" in clean.summary()
    assert clean.by_rule().empty and clean.by_field().empty
    a = problems([doctor(sex="x"), pharmacist()], "doctor")[1]
    b = problems([revisit(age=-1)], "revisit", skip=["reference"])[1]
    both = Report.combine([a, b])
    assert len(both) == len(a) + len(b) and both.counts == {"doctor": 2, "revisit": 1}
    assert both.for_dataset("revisit").n_errors == b.n_errors
    assert Report([Problem("x", 0, None, "f", "type", "error", None, "m")]).n_errors == 1
