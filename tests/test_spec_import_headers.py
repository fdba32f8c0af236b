"""Importer: header layouts and required markers found in the audit of issue 2.

A table headed 数据项 | 中文名称 (no 字段名 column) holds the field codes under 数据项; a 必填 cell
such as 否（退费时必填） is a conditional requirement, never a plain "not required".
"""

from __future__ import annotations

import docx
import openpyxl
import pytest

from hlwjr.spec.importing._importer import import_spec, parse_required

ROWS = [
    ["序号", "数据项", "中文名称", "数据类型", "长度", "必填", "说明"],
    ["1", "recipeID", "处方号", "VARCHAR2(50)", "", "是", ""],
    ["2", "recipeType", "处方类型", "NUMBER(1)", "", "必填", "1-西药；2-中成药；3-中药饮片"],
    ["3", "refundReason", "退费原因", "字符型", "100", "否（退费时必填）", ""],
    ["4", "sex", "性别", "C1", "", "M", "见字典9.9"],
]


def _docx(path):
    doc = docx.Document()
    doc.add_heading("2.2.3 在线处方 uploadRecipeIndicators", level=3)
    t = doc.add_table(rows=len(ROWS), cols=len(ROWS[0]))
    for r, values in zip(t.rows, ROWS):
        for c, v in zip(r.cells, values):
            c.text = v
    doc.save(path)
    return path


def _xlsx(path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "在线处方"
    ws.append(["2.2.3 在线处方 uploadRecipeIndicators"])
    for r in ROWS:
        ws.append(r)
    wb.save(path)
    return path


@pytest.mark.parametrize("build, name", [(_docx, "doc.docx"), (_xlsx, "doc.xlsx")])
def test_data_item_column_holds_the_codes_when_a_chinese_name_column_follows(tmp_path, build, name):
    result = import_spec(build(tmp_path / name))
    ds = result.spec.dataset("recipe")
    assert [(f.key, f.name) for f in ds.fields.values()] == [
        ("recipeID", "处方号"),
        ("recipeType", "处方类型"),
        ("refundReason", "退费原因"),
        ("sex", "性别"),
    ]
    f = ds.fields
    assert (f["recipeID"].type, f["recipeID"].max_length, f["recipeID"].required) == ("string", 50, True)
    assert f["recipeType"].type == "integer"
    assert dict(result.spec.code_set(f["recipeType"].code_set).codes) == {"1": "西药", "2": "中成药", "3": "中药饮片"}
    # the description stays a description, not the name
    assert "西药" in (f["recipeType"].description or "")
    # 否（退费时必填）: conditional — imported as not required, with the condition kept and reported
    assert f["refundReason"].required is False
    assert "退费时必填" in (f["refundReason"].description or "")
    cond = [i for i in result.report.issues if i.field == "refundReason"]
    assert cond and "条件必填" in cond[0].message
    # an unresolved 见字典9.9 is reported, naming the row
    unresolved = [i for i in result.report.issues if i.field == "sex"]
    assert unresolved and "9.9" in unresolved[0].message and unresolved[0].severity == "error"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("否（退费时必填）", ("conditional", "退费时必填")),
        ("N(患者为儿童时必填)", ("conditional", "患者为儿童时必填")),
        ("否(选填)", (False, None)),
        ("Y(主键)", (True, None)),
        ("是（必填）", (True, None)),
        ("否", (False, None)),
    ],
)
def test_required_marker_with_a_condition_in_brackets(text, expected):
    assert parse_required(text) == expected


def test_inverted_column_keeps_its_meaning():
    # 允许为空 = 否 means "may not be empty" = required; brackets do not turn it conditional
    assert parse_required("否（主键）", inverted=True) == (True, None)


def test_unrecognised_columns_are_kept_in_the_description_and_reported(tmp_path):
    doc = docx.Document()
    doc.add_heading("2.1.4 机构信息 uploadUnit", level=3)
    rows = [
        ["字段名", "中文名称", "类型", "必填", "填报口径", "对应HIS表"],
        ["organID", "机构唯一号", "C..18", "M", "统一社会信用代码（18位）", "T_ORG.CREDIT_NO"],
        ["hosLevel", "医院级别", "N1", "R", "1:一级 2:二级 3:三级", "T_ORG.LEVEL"],
    ]
    t = doc.add_table(rows=len(rows), cols=len(rows[0]))
    for r, values in zip(t.rows, rows):
        for c, v in zip(r.cells, values):
            c.text = v
    path = tmp_path / "unit.docx"
    doc.save(path)
    result = import_spec(path)
    f = result.spec.dataset("unit").fields
    # 填报口径 is a description column: its enumeration becomes a code set
    assert dict(result.spec.code_set(f["hosLevel"].code_set).codes) == {"1": "一级", "2": "二级", "3": "三级"}
    assert f["hosLevel"].required is True and f["organID"].max_length == 18
    # 对应HIS表 is no field attribute: kept in the description, reported once for the table
    assert "对应HIS表：T_ORG.CREDIT_NO" in f["organID"].description
    assert "对应HIS表：T_ORG.LEVEL" in f["hosLevel"].description
    notes = [i for i in result.report.issues if "不是可识别的字段属性" in i.message]
    assert len(notes) == 1 and "对应HIS表" in notes[0].message and notes[0].row == 1


@pytest.mark.parametrize(
    "type_text, length, expected",
    [
        ("AN6..20", "", (20, 6)),  # WS 363 / GB/T 7408: 6 to 20 characters
        ("AN..18", "", (18, None)),
        ("VARCHAR2", "6..20", (20, 6)),
        ("C..50", "", (50, None)),
    ],
)
def test_a_length_range_keeps_its_maximum_and_minimum(type_text, length, expected):
    from hlwjr.spec.importing._importer import parse_type

    t = parse_type(type_text, length or None)
    assert (t.type, t.max_length, t.min_length) == ("string", *expected)


def test_min_length_survives_import_export_import(tmp_path):
    from hlwjr.spec._export import export_spec

    doc = docx.Document()
    doc.add_heading("2.2.1 在线咨询 uploadConsult", level=3)
    rows = [
        ["字段名", "中文名称", "类型", "必填"],
        ["bussID", "咨询记录ID", "AN6..20", "M"],
        ["note", "备注", "AN..200", "O"],
    ]
    t = doc.add_table(rows=len(rows), cols=len(rows[0]))
    for r, values in zip(t.rows, rows):
        for c, v in zip(r.cells, values):
            c.text = v
    doc.save(tmp_path / "a.docx")
    first = import_spec(tmp_path / "a.docx", tmp_path / "spec1").spec
    f = first.dataset("consult").fields["bussID"]
    assert (f.max_length, f.min_length) == (20, 6)
    assert first.dataset("consult").json_schema()["properties"]["bussID"]["minLength"] == 6
    export_spec(first, tmp_path / "b.docx")
    again = import_spec(tmp_path / "b.docx").spec.dataset("consult").fields
    assert (again["bussID"].max_length, again["bussID"].min_length) == (20, 6)
    assert (again["note"].max_length, again["note"].min_length) == (200, None)


@pytest.mark.parametrize(
    "type_text, kind, problem",
    [
        ("YYYY-MM-DD", "date", False),
        ("yyyy-MM-dd HH:mm:ss", "datetime", False),
        ("yyyyMMdd", "string", True),  # another layout than the spec's: flagged, never silently a date
        ("yyyyMMddHHmmss", "string", True),
    ],
)
def test_a_date_format_written_in_the_type_column(type_text, kind, problem):
    from hlwjr.spec.importing._importer import parse_type

    t = parse_type(type_text)
    assert t.type == kind and bool(t.problem) is problem


@pytest.mark.parametrize(
    "title, expected",
    [
        ("三、在线处方上传接口", (None, "在线处方上传", None)),
        ("（三）在线处方", (None, "在线处方", None)),
        ("第三节 在线处方 uploadRecipe", (None, "在线处方", "uploadRecipe")),
        ("2.2.3 上传在线处方信息 /api/recipe/upload", ("2.2.3", "上传在线处方信息", None)),
        ("2.2.3 在线处方 POST /api/upload uploadRecipeIndicators", ("2.2.3", "在线处方", "uploadRecipeIndicators")),
        ("A.1 性别（GB/T 2261.1）", ("A.1", "性别", "GB/T 2261.1")),
    ],
)
def test_data_set_titles_lose_ordinals_and_endpoint_paths(title, expected):
    from hlwjr.spec.importing._tables import _parse_title

    assert _parse_title(title)[:3] == expected


def test_excel_codes_typed_as_numbers_keep_the_zeros_their_format_shows(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "在线复诊"
    ws.append(["2.2.2 在线复诊 uploadReferral"])
    ws.append(["字段名", "中文名称", "类型", "必填", "值域"])
    ws.append(["patientCertType", "证件类型", "C2", "是", "见字典3.2"])
    cs = wb.create_sheet("3.2 证件类型")
    cs.append(["3.2 证件类型"])
    cs.append(["代码", "名称"])
    for code, name in [(1, "居民身份证"), (3, "护照")]:
        cs.append([code, name])
        cs.cell(cs.max_row, 1).number_format = "00"  # shown as 01, 03 in Excel
    path = tmp_path / "spec.xlsx"
    wb.save(path)
    result = import_spec(path)
    f = result.spec.dataset("在线复诊").fields["patientCertType"]
    assert dict(result.spec.code_set(f.code_set).codes) == {"01": "居民身份证", "03": "护照"}
