"""Bilingual and English-headed interface documents: a field table headed Field Code | Chinese Name |
Data Type | Length | Required | Description (in any of the usual English words, in any order), an
inverted Optional / Nullable column, a 不可为空 column (the negation is "required"), English
required markers (M/O, Y/N, Mandatory/Optional, Conditional …) and a dictionary headed Code |
Meaning are read like their Chinese twins."""

from __future__ import annotations

import docx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reportlab.lib.pagesizes import A4
from reportlab.platypus import Paragraph, SimpleDocTemplate
from test_spec_import_pdf import BODY, HEADING, _three_line

from hlwjr.spec.importing._importer import import_spec, parse_required

KEY = st.sampled_from(["Field Code", "Field Name", "Field", "Element", "Parameter", "Column Name", "Identifier"])
NAME = st.sampled_from(["Chinese Name", "中文名称", "Label", "Caption", "Display Name", "Meaning"])
TYPE = st.sampled_from(["Data Type", "Type", "Format", "Field Type"])
LENGTH = st.sampled_from(["Length", "Size", "Max Length", "Len"])
DESCRIPTION = st.sampled_from(["Description", "Remarks", "Notes", "Comment", "Explanation"])
REQUIRED = st.sampled_from(
    [
        ("Required", {"yes": "Y", "no": "N"}, False),
        ("Mandatory", {"yes": "Yes", "no": "No"}, False),
        ("M/O", {"yes": "M", "no": "O"}, False),
        ("Obligation", {"yes": "Mandatory", "no": "Optional"}, False),
        ("不可为空", {"yes": "是", "no": "否"}, False),
        ("Not Null", {"yes": "Y", "no": "N"}, False),
        ("Optional", {"yes": "N", "no": "Y"}, True),
        ("Nullable", {"yes": "No", "no": "Yes"}, True),
    ]
)
FIELDS = [("recipeID", "处方号", "VARCHAR2(50)", True), ("fee", "处方金额", "NUMBER(10,2)", True)]
FIELDS += [("remark", "备注信息", "VARCHAR2(200)", False), ("sex", "性别", "VARCHAR2(1)", False)]
_SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _table(doc, rows):
    t = doc.add_table(rows=len(rows), cols=len(rows[0]))
    for r, values in zip(t.rows, rows):
        for c, v in zip(r.cells, values):
            c.text = v


@given(
    key=KEY,
    name=NAME,
    type_=TYPE,
    length=LENGTH,
    description=DESCRIPTION,
    required=REQUIRED,
    order=st.permutations(range(4)),
    seq=st.sampled_from([None, "No.", "SN", "Seq", "序号"]),
)
@_SETTINGS
def test_an_english_headed_field_table_reads_like_a_chinese_one(
    tmp_path_factory, key, name, type_, length, description, required, order, seq
):
    req_head, marks, _inverted = required
    head = [key] + [[name, type_, length, req_head][i] for i in order] + [description]
    rows = [([seq] if seq else []) + head]
    for n, (k, zh, t, req) in enumerate(FIELDS, start=1):
        cells = {name: zh, type_: t, length: "", req_head: marks["yes" if req else "no"]}
        rows.append(
            ([str(n)] if seq else []) + [k] + [cells[h] for h in head[1:-1]] + ["1:男 2:女" if k == "sex" else ""]
        )
    doc = docx.Document()
    doc.add_heading("3.2 在线处方 recipe", level=2)
    _table(doc, rows)
    doc.add_heading("附录A 性别 sex", level=2)
    _table(doc, [["Code", "Meaning"], ["1", "男"], ["2", "女"]])
    path = tmp_path_factory.mktemp("en") / "doc.docx"
    doc.save(path)
    spec = import_spec(path).spec
    ds = spec.dataset("recipe")
    assert [(k, f.name) for k, f in ds.fields.items()] == [(k, zh) for k, zh, _t, _r in FIELDS]
    assert [f.required for f in ds.fields.values()] == [r for *_x, r in FIELDS]
    assert [f.type for f in ds.fields.values()] == ["string", "decimal", "string", "string"]
    assert ds.fields["recipeID"].max_length == 50


@given(word=st.sampled_from(["C", "Conditional", "Conditionally required", "cond", "条件必填"]), cond=st.booleans())
def test_conditional_markers_keep_their_condition(word, cond):
    text = f"{word}: when refunded" if cond else word
    assert parse_required(text) == ("conditional", "when refunded" if cond else None)


@given(head=st.permutations(["Chinese Name", "Data Type", "Required", "Description"]))
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_pdf_three_line_table_with_english_headers_is_read(tmp_path_factory, head):

    values = {"Chinese Name": "处方号", "Data Type": "VARCHAR2(50)", "Required": "Y", "Description": "院内唯一"}
    rows = [["Field Code", *head]] + [[f"field{i}", *(values[h] for h in head)] for i in range(1, 6)]
    path = tmp_path_factory.mktemp("pdf") / "doc.pdf"
    story = [Paragraph("3.2 在线处方 recipe", HEADING), Paragraph("Fields of the upload:", BODY), _three_line(rows)]
    SimpleDocTemplate(str(path), pagesize=A4).build(story)
    ds = import_spec(path).spec.dataset("recipe")
    assert list(ds.fields) == [f"field{i}" for i in range(1, 6)]
    assert all(f.name == "处方号" and f.required and f.max_length == 50 for f in ds.fields.values())
