"""An appendix that lists every dictionary in one table (字典编码 | 值 | 含义, 值域名称 | 代码 | 名称 …):
one code set per dictionary, whatever the header words, column order, merged (blank) dictionary
cells or a page break that splits the table; fields that say 见字典 X link to that code set."""

from __future__ import annotations

import docx
import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hlwjr.spec.importing._importer import import_spec

_SETTINGS = settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

DICTIONARIES = {
    "CV02.01.101": ("身份证件类别代码", {"01": "居民身份证", "02": "护照", "03": "港澳居民来往内地通行证"}),
    "GB/T 2261.1": ("性别代码", {"0": "未知的性别", "1": "男", "2": "女", "9": "未说明的性别"}),
    "DICT_PAY": ("支付渠道", {"1": "医保", "2": "自费", "3": "商业保险"}),
    "CV06.00.102": ("就诊类别代码", {"100": "门诊", "200": "急诊", "300": "住院"}),
}
SET_HEADS = ["字典编码", "字典代码", "值域代码", "代码表编号", "字典"]
CODE_HEADS = ["值", "代码", "代码值", "字典值"]
NAME_HEADS = ["含义", "名称", "代码名称", "值含义"]


def _field_table(doc, used):
    doc.add_heading("3.2 在线复诊信息上传", level=2)
    t = doc.add_table(rows=1 + len(used), cols=4)
    for c, h in enumerate(["数据项", "中文名称", "类型", "备注"]):
        t.cell(0, c).text = h
    for r, sid in enumerate(used, start=1):
        for c, v in enumerate([f"f{r}", f"字段{r}", "VARCHAR2(3)", f"见字典 {sid}"]):
            t.cell(r, c).text = v


def _rows(order, with_name, merged):
    rows = []
    for sid in order:
        name, codes = DICTIONARIES[sid]
        for i, (code, meaning) in enumerate(codes.items()):
            shown = sid if i == 0 or not merged else ""
            rows.append([shown] + ([name if shown else ""] if with_name else []) + [code, meaning])
    return rows


@given(
    order=st.permutations(list(DICTIONARIES)),
    heads=st.tuples(st.sampled_from(SET_HEADS), st.sampled_from(CODE_HEADS), st.sampled_from(NAME_HEADS)),
    with_name=st.booleans(),
    merged=st.booleans(),
    split=st.integers(min_value=0, max_value=12),
)
@_SETTINGS
def test_one_table_of_every_dictionary_becomes_a_code_set_each(tmp_path, order, heads, with_name, merged, split):
    doc = docx.Document()
    _field_table(doc, order)
    doc.add_heading("附录A 字典", level=2)
    header = [heads[0]] + (["字典名称"] if with_name else []) + list(heads[1:])
    rows = _rows(order, with_name, merged)
    parts = [rows[:split], rows[split:]] if 0 < split < len(rows) else [rows]
    for k, part in enumerate(parts):
        t = doc.add_table(rows=1 + len(part), cols=len(header))
        for c, h in enumerate(header):
            t.cell(0, c).text = h  # a table split by a page break repeats its header
        for r, cells in enumerate(part, start=1):
            for c, v in enumerate(cells):
                t.cell(r, c).text = v
        if k == 0 and len(parts) > 1:
            doc.add_paragraph("（续表）")
    doc.save(tmp_path / "doc.docx")
    spec = import_spec(tmp_path / "doc.docx").spec
    (ds,) = spec.datasets.values()
    for r, sid in enumerate(order, start=1):
        cs = spec.code_set(ds.fields[f"f{r}"].code_set)
        assert dict(cs.codes) == DICTIONARIES[sid][1], sid
        if with_name:
            assert cs.name == DICTIONARIES[sid][0]


def test_an_excel_sheet_of_dictionaries_with_a_merged_dictionary_column(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "复诊"
    ws.append(["字段名", "中文名称", "数据类型", "说明"])
    ws.append(["xb", "性别", "varchar(1)", "见字典 GB/T 2261.1"])
    dicts = wb.create_sheet("字典")
    dicts.append(["值域代码", "值域名称", "代码", "名称"])
    first = True
    for code, meaning in DICTIONARIES["GB/T 2261.1"][1].items():
        dicts.append(["GB/T 2261.1" if first else None, "性别代码" if first else None, code, meaning])
        first = False
    dicts.merge_cells(start_row=2, start_column=1, end_row=5, end_column=1)
    wb.save(tmp_path / "doc.xlsx")
    spec = import_spec(tmp_path / "doc.xlsx").spec
    cs = spec.code_set(spec.dataset("复诊").fields["xb"].code_set)
    assert dict(cs.codes) == DICTIONARIES["GB/T 2261.1"][1]


def test_a_two_column_dictionary_table_is_still_one_code_set(tmp_path):
    """字典编码 | 名称 alone is a plain code table: the codes are in the 字典编码 column."""
    doc = docx.Document()
    doc.add_heading("附录B 性别代码", level=2)
    t = doc.add_table(rows=3, cols=2)
    t.cell(0, 0).text, t.cell(0, 1).text = "字典编码", "名称"
    t.cell(1, 0).text, t.cell(1, 1).text = "1", "男"
    t.cell(2, 0).text, t.cell(2, 1).text = "2", "女"
    _field_table(doc, [])
    doc.save(tmp_path / "doc.docx")
    report = import_spec(tmp_path / "doc.docx").report
    assert [(c["name"], c["codes"]) for c in report.code_sets] == [("性别代码", 2)]


def test_a_dictionary_named_by_identifier_but_missing_is_listed_for_review(tmp_path):
    doc = docx.Document()
    _field_table(doc, ["DICT_NOWHERE"])
    doc.save(tmp_path / "doc.docx")
    result = import_spec(tmp_path / "doc.docx")
    assert any("DICT_NOWHERE" in str(i) and i.severity == "error" for i in result.report.issues)
