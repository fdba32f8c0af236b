"""``hlwjr validate`` on a workbook: the sheet is chosen by the one file reader (sources), a hidden
sheet is never read unless named (--sheet), and the choice is said; a chosen sheet that cannot be
read is an error, not silently replaced by another sheet."""

from __future__ import annotations

import io
import json

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from validate_helpers import SPEC_DIR, doctor, pharmacist

from hlwjr import cli


def _run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = cli.run(cli.parse_args(list(argv)), out, err)
    return code, out.getvalue(), err.getvalue()


def _workbook(path, sheets):
    """``sheets``: (name, state, records or rows) — records as dicts get their keys as the header."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, state, rows in sheets:
        ws = wb.create_sheet(name)
        if rows and isinstance(rows[0], dict):
            rows = [list(rows[0]), *[list(r.values()) for r in rows]]
        for r in rows:
            ws.append(r)
        ws.sheet_state = state
    wb.save(path)
    return str(path)


@settings(max_examples=10, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(state=st.sampled_from(["hidden", "veryHidden"]), name=st.sampled_from(["doctor", "旧数据", "Sheet1"]))
def test_a_hidden_sheet_of_old_records_is_passed_over_and_named(tmp_path, state, name):
    old = [doctor(sex="男", doctorName=f"旧{i}") for i in range(3)]  # more records, all bad
    path = _workbook(
        tmp_path / f"d{state}{name}.xlsx", [(name, state, old), ("当前", "visible", [doctor(), pharmacist()])]
    )
    code, out, err = _run("validate", "-d", "doctor", path, "--spec", str(SPEC_DIR))
    assert code == 0, out + err
    assert "校验 2 条记录" in out and f"隐藏的工作表 「{name}」 未读取" in out
    code, out, _ = _run("validate", "-d", "doctor", path, "--spec", str(SPEC_DIR), "--sheet", name, "--format", "json")
    assert code == 1 and json.loads(out)["records"] == {"doctor": 3}


def test_the_sheet_with_the_field_keys_is_read_and_its_errors_are_not_hidden(tmp_path):
    bad = [["doctorCertID", "doctorName", "doctorName"], ["x", "张三", "张三"]]
    path = _workbook(
        tmp_path / "d.xlsx",
        [
            ("说明", "visible", [["本文件为医师备案数据"]]),
            ("数据", "visible", bad),
            ("字典", "visible", [["代码", "名称"]]),
        ],
    )
    code, _, err = _run("validate", "-d", "doctor", path, "--spec", str(SPEC_DIR))
    assert code == 1 and "列名重复" in err and "[数据]" in err
