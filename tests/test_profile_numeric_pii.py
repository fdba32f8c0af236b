"""profile: phone and ID numbers exported as numbers (13812345678.0, 1.10101198001E17) are masked
in the min/max columns too, not only in the top values; an ID Excel stored as a number (its last
digits lost) is warned of by the profile and refused by validation, and never shown in full."""

from __future__ import annotations

import io
import re

import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from test_privacy_messy import id_numbers

import hlwjr
from hlwjr import cli, read_source
from hlwjr._privacy import check_id_number, id_check_char, id_problem
from hlwjr.mapping._conversions import as_text
from hlwjr.sources._profile import profile_frame, profile_source

_FULL = re.compile(r"(?<!\d)(1[3-9]\d{9}|\d{17}[\dXx])(?!\d)")


@settings(max_examples=40, deadline=None)
@given(
    phones=st.lists(st.integers(13_000_000_000, 19_999_999_999), min_size=1, max_size=8),
    style=st.sampled_from(["{}.0", " {}", "{}", "{}.00"]),
    name=st.sampled_from(["联系电话", "mobile", "金额", "x"]),
)
def test_numeric_phones_are_masked_in_min_and_max(phones, style, name):
    df = pd.DataFrame({name: [style.format(p) for p in phones]}, dtype="str")
    col = profile_frame(df, min_count=1).columns[0]
    shown = " ".join(str(v) for v in (col.min, col.max, *[v for v, _ in col.top_values]))
    assert not _FULL.search(shown), shown


def test_numeric_id_numbers_are_masked_in_min_and_max():
    df = pd.DataFrame({"身份证号": ["110101198001010011", "110101199002020022"]}, dtype="str")
    col = profile_frame(df, min_count=1).columns[0]
    assert not _FULL.search(f"{col.min} {col.max}"), (col.min, col.max)


# ------------------------------------------------ IDs stored as numbers: digits lost, never accepted
_FIX = "请在 Excel 中把该列设为文本后重新导出"


def _as_excel_number(number: str) -> float:
    """The cell Excel keeps when the ID is typed into a number cell: 15 significant digits."""
    return float(format(float(number.replace("X", "0")), ".15G"))


def _shows_significant_digits(shown, number: str) -> bool:
    """Does ``shown`` carry the 15 significant digits Excel kept (birth date and 顺序码 included)?"""
    return number[:15] in re.sub(r"[^0-9]", "", str(shown))


@settings(max_examples=30, deadline=None)
@given(numbers=st.lists(id_numbers(), min_size=1, max_size=6), style=st.sampled_from(["float", "sci", "SCI", "zeros"]))
def test_profile_warns_of_ids_stored_as_numbers(numbers, style):
    values = [_as_excel_number(n) for n in numbers]
    if style == "zeros":  # shown with the number format 0 and saved as CSV: 110101199001011000
        assume(all(id_check_char(n[:15] + "00") != "0" for n in numbers))
        values = [n[:15] + "000" for n in numbers]
    elif style != "float":
        values = [format(v, ".15G" if style == "SCI" else ".14e") for v in values]
    df = pd.DataFrame({"证件号": values + [None], "科室": ["内科"] * (len(values) + 1)})
    prof = profile_frame(df, source="患者.csv", min_count=1)
    assert prof.column("证件号").lost_digits == len(values) and prof.column("科室").lost_digits == 0
    (warning,) = prof.warnings
    assert "患者.csv" in warning and "「证件号」" in warning and f"{len(values)} 行" in warning and _FIX in warning
    shown = prof.to_frame().to_string() + prof._repr_html_()
    assert not any(_shows_significant_digits(shown, n) for n in numbers), shown


def test_profile_of_an_excel_file_with_ids_in_number_cells(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    number = "110101199003071233"
    wb = openpyxl.Workbook()
    wb.active.append(["姓名", "身份证号", "电话"])
    for i in range(6):
        wb.active.append(["张三", _as_excel_number(number), 13800138000 + i])
    wb.save(tmp_path / "患者.xlsx")
    df = read_source(tmp_path / "患者.xlsx")
    assert df["身份证号"].iloc[0] == "1.10101199003071E+17"  # as Excel shows it, not a plausible 18-digit ID
    prof = profile_source(tmp_path / "患者.xlsx", min_count=1)
    assert [c.column for c in prof.columns if c.lost_digits] == ["身份证号"]
    assert "患者.xlsx" in prof.warnings[0] and "6 行" in prof.warnings[0] and _FIX in prof.warnings[0]
    assert not _shows_significant_digits(prof.to_frame().to_string(), number)


@settings(max_examples=30, deadline=None)
@given(number=st.sampled_from(["110101199003071233", "11010519491231002X"]), style=st.integers(0, 4))
def test_validation_refuses_an_id_stored_as_a_number(number, style):
    excel = _as_excel_number(number)
    value = [excel, format(excel, ".15G"), int(number[:17]), "1.10101E+17", f"{excel:.0f}"[:15] + "000"][style]
    report = hlwjr.check([{"patientCertType": "01", "patientCertID": value}], "consult")
    (problem,) = [p for p in report.problems if p.field == "patientCertID"]
    assert problem.severity == "error" and not report.ok
    assert "文本" in problem.message and not _shows_significant_digits(problem.value, number)
    assert not _shows_significant_digits(report.to_frame().to_string(), number)


@pytest.mark.parametrize(
    "value", [1.10101199003071e17, "1.10101199003071E+17", "１.１０１０１E＋１７", 110101199003071233]
)
def test_id_problem_says_to_export_the_column_as_text(value):
    assert _FIX in id_problem(value)
    assert not check_id_number(value)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_hlwjr_profile_prints_the_warning_and_no_full_number(tmp_path, fmt):
    rows = "".join(f"张三,1.10101199003071E+17,138 0013 800{i}\n" for i in range(6))
    (tmp_path / "患者.csv").write_text("姓名,身份证号,联系电话\n" + rows, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    assert cli.run(cli.parse_args(["profile", str(tmp_path / "患者.csv"), "--format", fmt]), out, err) == 0
    text = out.getvalue()
    assert "「身份证号」" in text and "6 行" in text and _FIX in text
    assert not _shows_significant_digits(text, "110101199003071233") and "1380013800" not in text.replace(" ", "")


@settings(max_examples=30, deadline=None)
@given(numbers=st.lists(id_numbers(), min_size=1, max_size=5))
def test_mapping_never_turns_a_float_id_into_a_plausible_one(numbers):
    """pd.read_excel gives an ID column as floats: as text it reads as Excel shows it, and is refused."""
    column = pd.Series([_as_excel_number(n) for n in numbers] + [float("nan")])
    text = as_text(column)
    assert text.iloc[:-1].str.fullmatch(r"\d\.\d+E\+17").all() and text.isna().iloc[-1]
    report = hlwjr.check([{"patientCertType": "01", "patientCertID": t} for t in text.iloc[:-1]], "consult")
    refused = [p for p in report.problems if p.field == "patientCertID" and p.severity == "error"]
    assert len(refused) == len(numbers) and all(_FIX in p.message for p in refused)
