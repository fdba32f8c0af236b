"""Importer: layouts the official documents use beyond marked rows (issue 12 leftovers).

Nested lists whose child rows are marked only by indentation (leading spaces, full-width spaces,
a tab, or Word paragraph indentation) — built with python-docx / openpyxl, layouts varied.
"""

from __future__ import annotations

import docx
import openpyxl
from docx.shared import Pt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hlwjr.spec.importing._importer import import_spec

_SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
HEADER = ["字段名", "中文名称", "数据类型", "是否必填", "说明"]
INDENTS = st.sampled_from(["  ", "    ", "\u3000", "\u3000\u3000", "\t", "paragraph"])
HEAD_TYPES = st.sampled_from(["", "List", "Object", "varchar(50)", "数组"])


def _rows(before: int, children: int, after: int, head_type: str) -> list[tuple[bool, list[str]]]:
    """(indented?, cells): fields, a list head, its indented children, then normal fields again."""
    rows = [(False, [f"field{i}", f"字段{i}", "varchar(20)", "Y", ""]) for i in range(before)]
    rows.append((False, ["orderList", "处方明细列表", head_type, "Y", ""]))
    rows += [(True, [f"child{i}", f"明细{i}", "int", "N", ""]) for i in range(children)]
    rows += [(False, [f"tail{i}", f"尾项{i}", "Decimal(8,2)", "N", "单位：元"]) for i in range(after)]
    return rows


def _docx(path, rows, indent: str):
    doc = docx.Document()
    doc.add_heading("3.1 上传处方 uploadRecipe", level=2)
    t = doc.add_table(rows=1 + len(rows), cols=len(HEADER))
    for c, h in enumerate(HEADER):
        t.cell(0, c).text = h
    for r, (indented, cells) in enumerate(rows, start=1):
        for c, v in enumerate(cells):
            cell = t.cell(r, c)
            if c == 0 and indented and indent == "paragraph":
                cell.text = v
                cell.paragraphs[0].paragraph_format.left_indent = Pt(12)
            else:
                cell.text = (indent if c == 0 and indented else "") + v
    doc.save(path)
    return path


def _xlsx(path, rows, indent: str):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "在线处方"
    ws.append(["上传处方 uploadRecipe"])
    ws.append(HEADER)
    for indented, cells in rows:
        ws.append([(indent if c == 0 and indented else "") + v for c, v in enumerate(cells)])
    wb.save(path)
    return path


def _assert_nested(spec, before: int, children: int, after: int) -> None:
    (code,) = [d.code for d in spec.datasets.values() if not d.parent]
    ds = spec.dataset(code)
    assert list(ds.fields) == [f"field{i}" for i in range(before)] + ["orderList"] + [f"tail{i}" for i in range(after)]
    order = ds.fields["orderList"]
    assert order.type == "array"
    child = spec.dataset(order.item)
    assert [(f.key, f.type, f.required) for f in child.fields.values()] == [
        (f"child{i}", "integer", False) for i in range(children)
    ]
    assert all(ds.fields[f"tail{i}"].type == "decimal" for i in range(after))


@given(
    indent=INDENTS,
    head_type=HEAD_TYPES,
    before=st.integers(1, 3),
    children=st.integers(1, 4),
    after=st.integers(1, 3),
)
@_SETTINGS
def test_word_rows_marked_only_by_indentation_are_the_lists_children(
    tmp_path, indent, head_type, before, children, after
):
    path = _docx(tmp_path / "doc.docx", _rows(before, children, after, head_type), indent)
    _assert_nested(import_spec(path).spec, before, children, after)


@given(
    indent=INDENTS.filter(lambda x: x != "paragraph"),
    head_type=HEAD_TYPES,
    before=st.integers(1, 3),
    children=st.integers(1, 4),
    after=st.integers(1, 3),
)
@_SETTINGS
def test_excel_rows_marked_only_by_indentation_are_the_lists_children(
    tmp_path, indent, head_type, before, children, after
):
    path = _xlsx(tmp_path / "doc.xlsx", _rows(before, children, after, head_type), indent)
    _assert_nested(import_spec(path).spec, before, children, after)


def test_two_indented_lists_in_one_table_each_get_their_children(tmp_path):
    rows = [
        (False, ["orgCode", "机构编码", "varchar(20)", "Y", ""]),
        (False, ["orderList", "处方明细", "", "Y", ""]),
        (True, ["drugCode", "药品编码", "varchar(30)", "Y", ""]),
        (False, ["diagList", "诊断列表", "List", "Y", ""]),
        (True, ["diagCode", "诊断编码", "varchar(30)", "Y", ""]),
        (True, ["diagName", "诊断名称", "varchar(60)", "N", ""]),
    ]
    spec = import_spec(_docx(tmp_path / "doc.docx", rows, "\u3000")).spec
    ds = spec.dataset(next(d.code for d in spec.datasets.values() if not d.parent))
    assert list(ds.fields) == ["orgCode", "orderList", "diagList"]
    assert list(spec.dataset(ds.fields["orderList"].item).fields) == ["drugCode"]
    assert list(spec.dataset(ds.fields["diagList"].item).fields) == ["diagCode", "diagName"]


@given(indent=INDENTS)
@_SETTINGS
def test_a_table_indented_throughout_has_no_nesting(tmp_path, indent):
    rows = [(True, [f"field{i}", f"字段{i}", "varchar(20)", "Y", ""]) for i in range(4)]
    spec = import_spec(_docx(tmp_path / "doc.docx", rows, indent)).spec
    (ds,) = spec.datasets.values()
    assert list(ds.fields) == [f"field{i}" for i in range(4)]
    assert all(f.type == "string" for f in ds.fields.values())


# -- tables without a header row ---------------------------------------------------------------

FIELDS = [
    ("orgCode", "机构编码", "Varchar(50)", "50", "Y", "医疗机构统一社会信用代码，按平台下发的编码填写"),
    ("recipeNo", "处方号", "varchar2(32)", "32", "是", ""),
    ("patientAge", "患者年龄", "Int", "3", "N", "周岁"),
    ("fee", "处方金额", "Decimal(8,2)", "10", "否", "单位：元，保留两位小数"),
    ("visitTime", "就诊时间", "datetime", "", "Y", "格式yyyy-MM-dd HH:mm:ss"),
    ("remark", "备注", "Text", "", "N", "医生填写的补充说明，可为空"),
]
EXPECTED = {
    "orgCode": ("string", True),
    "recipeNo": ("string", True),
    "patientAge": ("integer", False),
    "fee": ("decimal", False),
    "visitTime": ("datetime", True),
    "remark": ("string", False),
}


@given(
    order=st.permutations(range(6)),
    rows=st.lists(st.sampled_from(range(len(FIELDS))), min_size=3, max_size=6, unique=True),
    with_length=st.booleans(),
)
@_SETTINGS
def test_a_field_table_without_a_header_row_is_read_by_content(tmp_path, order, rows, with_length):
    columns = [c for c in order if with_length or c != 3]
    doc = docx.Document()
    doc.add_heading("3.2 上传处方 uploadRecipe", level=2)
    t = doc.add_table(rows=len(rows), cols=len(columns))
    for r, fi in enumerate(rows):
        for c, src in enumerate(columns):
            t.cell(r, c).text = FIELDS[fi][src]
    doc.save(tmp_path / "doc.docx")
    result = import_spec(tmp_path / "doc.docx")
    (ds,) = result.spec.datasets.values()
    keys = [FIELDS[fi][0] for fi in rows]
    assert list(ds.fields) == keys
    assert {k: (f.type, f.required) for k, f in ds.fields.items()} == {k: EXPECTED[k] for k in keys}
    assert [f.name for f in ds.fields.values()] == [FIELDS[fi][1] for fi in rows]
    assert any("没有表头" in i.message for i in result.report.issues)


def test_a_table_of_codes_without_a_header_is_not_a_field_table(tmp_path):
    doc = docx.Document()
    doc.add_heading("3.3 上传处方 uploadRecipe", level=2)
    t = doc.add_table(rows=2, cols=4)
    for c, h in enumerate(HEADER[:4]):
        t.cell(0, c).text = h
    for c, v in enumerate(["orgCode", "机构编码", "varchar(20)", "Y"]):
        t.cell(1, c).text = v
    doc.add_paragraph("附录 性别代码")
    codes = doc.add_table(rows=3, cols=2)
    for r, (code, name) in enumerate([("1", "男"), ("2", "女"), ("9", "未说明")]):
        codes.cell(r, 0).text, codes.cell(r, 1).text = code, name
    doc.save(tmp_path / "doc.docx")
    result = import_spec(tmp_path / "doc.docx")
    (ds,) = result.spec.datasets.values()
    assert list(ds.fields) == ["orgCode"]
    assert not any("没有表头" in i.message for i in result.report.issues)


@given(
    order=st.permutations(range(6)),
    rows=st.lists(st.sampled_from(range(len(FIELDS))), min_size=3, max_size=6, unique=True),
    title=st.booleans(),
)
@_SETTINGS
def test_an_excel_sheet_of_fields_without_a_header_row_is_read_by_content(tmp_path, order, rows, title):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "在线处方"
    if title:
        ws.append(["上传处方 uploadRecipe"])
    for fi in rows:
        ws.append([FIELDS[fi][src] for src in order])
    wb.save(tmp_path / "doc.xlsx")
    result = import_spec(tmp_path / "doc.xlsx")
    (ds,) = result.spec.datasets.values()
    keys = [FIELDS[fi][0] for fi in rows]
    assert list(ds.fields) == keys
    assert {k: (f.type, f.required) for k, f in ds.fields.items()} == {k: EXPECTED[k] for k in keys}
    assert any("没有表头" in i.message for i in result.report.issues)
