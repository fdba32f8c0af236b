"""Messages say how to fix what Excel and exports typically do to data (audit of issue 3).

IDs and phones in 科学计数法, codes read as decimals (``1.0``), Excel date serials written as text,
dates in another common layout (``2026/11/5 20:00``), 18-digit numbers that lost their last digits
— each is reported by the rule that catches it, with a hint saying what to do.
"""

from __future__ import annotations

import io
import json

import pytest
from validate_helpers import SPEC_DIR, doctor, pharmacist, problems, revisit

from hlwjr import cli


def _messages(records, dataset):
    _, report = problems({dataset: records})
    return {(p.field, p.rule): p.message for p in report.problems if p.row is not None}


@pytest.mark.parametrize(
    "field, value, rule, fragment",
    [
        ("doctorCertID", "1.10101E+17", "id_number", "科学计数法"),
        ("mobile", "1.38123E+10", "pattern", "科学计数法"),
        ("sex", "1.0", "code_set", "应为代码 1"),
        ("birthday", "29221", "date", "Excel 日期序列号（29221 = 1980-01-01）"),
        ("birthday", "1980/1/1", "date", "可改为 1980-01-01"),
        ("birthday", "19800101", "date", "可改为 1980-01-01"),
        ("birthday", "1980年1月1日", "date", "可改为 1980-01-01"),
    ],
)
def test_doctor_fields_mangled_by_excel_get_a_fix_hint(field, value, rule, fragment):
    msgs = _messages([doctor(**{field: value}), pharmacist()], "doctor")
    assert fragment in msgs[(field, rule)]


@pytest.mark.parametrize(
    "value, fragment",
    [
        ("2026/11/1 9:30", "可改为 2026-11-01 09:30:00"),
        ("2026-11-01T09:30:00", "可改为 2026-11-01 09:30:00"),
        ("2026/11/01", "缺少时间部分"),
    ],
)
def test_datetime_in_another_layout_suggests_the_platform_layout(value, fragment):
    msgs = _messages([revisit(endDate=value)], "revisit")
    assert fragment in msgs[("endDate", "datetime")]


def test_no_false_suggestion_for_an_impossible_date_or_a_time_in_a_date_field():
    for bad in ("1980/02/30", "1980-01-01 08:00:00"):
        msgs = _messages([doctor(birthday=bad), pharmacist()], "doctor")
        assert "可改为" not in msgs[("birthday", "date")], bad


def test_an_eighteen_digit_number_warns_that_excel_kept_only_15_digits():
    msgs = _messages([doctor(doctorCertID=110101198001010010), pharmacist()], "doctor")
    assert "15 位" in msgs[("doctorCertID", "type")]


def test_the_cli_says_how_rows_of_a_table_file_are_counted(tmp_path):
    import pandas as pd

    f = tmp_path / "doctors.csv"
    pd.DataFrame([doctor(sex="男"), pharmacist()]).to_csv(f, index=False)
    out = io.StringIO()
    code = cli.run(cli.parse_args(["validate", "-d", "doctor", str(f), "--spec", str(SPEC_DIR)]), out, io.StringIO())
    assert code == 1
    assert "不含表头" in out.getvalue() and "第 N+1 行" in out.getvalue()
    # JSON lines: record N is line N, so no such note
    j = tmp_path / "doctors.jsonl"
    j.write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in [doctor(sex="男"), pharmacist()]), encoding="utf-8"
    )
    out = io.StringIO()
    cli.run(cli.parse_args(["validate", "-d", "doctor", str(j), "--spec", str(SPEC_DIR)]), out, io.StringIO())
    assert "不含表头" not in out.getvalue()
