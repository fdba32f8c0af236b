"""Importer: documents shaped like the official provincial interface documents (issue 12).

Every document here is built with python-docx / openpyxl with real merged cells: the 操作名称 and
说明 rows span the table (gridSpan), the 参数 header spans the key and name columns, and blank
direction cells continue the vertical merge above (vMerge).
"""

from __future__ import annotations

import docx
import openpyxl
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hlwjr.spec.importing._importer import import_spec, parse_enum, parse_type

RECIPE_ROWS = [
    ["orgCode", "机构编码", "输入", "Varchar(50)", "Y", ""],
    ["recipeNo", "处方号", "", "varchar2(50)", "Y", ""],
    ["sex", "性别", "", "Int", "N", "1男 2女"],
    ["fee", "金额", "", "Decimal(8,2)", "Y", "单位：元"],
    ["birthday", "出生日期", "", "Varcha(30)", "", "yyyyMMdd"],
    ["orderList", "处方列表数据集", "输入List", "", "Y", ""],
    ["[1..n]drugCode", "药品编码", "", "varchar(30)", "Y", ""],
    ["[0..1]dose", "剂量", "", "decimal(10,7)", "N", ""],
    ["remark", "备注", "输入", "Text", "N", ""],
    ["code", "返回码", "输出", "int", "Y", ""],
    ["msg", "返回信息", "", "Text", "Y", ""],
]


def _vmerge(cell, restart: bool) -> None:
    v = OxmlElement("w:vMerge")
    if restart:
        v.set(qn("w:val"), "restart")
    else:
        cell.text = ""
    cell._tc.get_or_add_tcPr().append(v)


def add_service_table(doc, method: str, desc: str, rows: list[list[str]], *, direction_head: str = "类型"):
    """操作名称 / 说明 rows merged across, a 参数 header over two columns, vMerge'd directions."""
    ncols = 6
    t = doc.add_table(rows=3 + len(rows), cols=ncols)
    t.style = "Table Grid"
    for r, (label, value) in enumerate(
        [("操作名称", f"X-Service-Id=hlw.{method}, X-Service-Method={method}"), ("说明", desc)]
    ):
        t.cell(r, 0).text = label
        t.cell(r, 1).merge(t.cell(r, ncols - 1)).text = value
    t.cell(2, 0).merge(t.cell(2, 1)).text = "参数"
    for c, h in enumerate([direction_head, "字段类型", "是否必填", "说明"], start=2):
        t.cell(2, c).text = h
    for i, values in enumerate(rows):
        for c, v in enumerate(values):
            if c != 2 or v:
                t.cell(3 + i, c).text = v
        if values[2] and i + 1 < len(rows) and not rows[i + 1][2]:
            _vmerge(t.cell(3 + i, 2), restart=True)
        elif not values[2]:
            _vmerge(t.cell(3 + i, 2), restart=False)
    return t


def add_header_table(doc) -> None:
    doc.add_paragraph("2.1 请求头")
    t = doc.add_table(rows=4, cols=4)
    for r, values in enumerate(
        [
            ["参数", "类型", "是否必填", "说明"],
            ["X-Ca-Key", "String", "Y", "应用标识"],
            ["X-Service-Id", "String", "Y", "服务标识"],
            ["X-Service-Method", "String", "Y", "服务方法"],
        ]
    ):
        for c, v in enumerate(values):
            t.cell(r, c).text = v


def recipe_docx(path, rows=RECIPE_ROWS, *, direction_head: str = "类型"):
    doc = docx.Document()
    doc.add_heading("互联网医院监管平台数据接口文档", level=0)
    add_header_table(doc)
    doc.add_heading("3.1 上传处方", level=2)
    add_service_table(doc, "uploadRecipe", "上传互联网医院处方", rows, direction_head=direction_head)
    doc.save(path)
    return path


def test_the_direction_column_is_no_type_and_the_type_comes_from_the_type_notations(tmp_path):
    result = import_spec(recipe_docx(tmp_path / "doc.docx"))
    ds = result.spec.dataset("recipe")
    f = ds.fields
    assert list(f) == ["orgCode", "recipeNo", "sex", "fee", "birthday", "orderList", "remark"]
    assert [(x.name, x.type, x.max_length) for x in (f["orgCode"], f["recipeNo"], f["birthday"])] == [
        ("机构编码", "string", 50),
        ("处方号", "string", 50),
        ("出生日期", "string", 30),
    ]
    assert (f["sex"].type, f["fee"].type, f["fee"].total_digits, f["fee"].precision) == ("integer", "decimal", 8, 2)
    assert f["remark"].type == "string"
    assert [x.required for x in f.values()] == [True, True, False, True, False, True, False]
    assert not [i for i in result.report.issues if "无法识别的数据类型" in i.message]


def test_output_rows_are_the_response_description_never_fields(tmp_path):
    result = import_spec(recipe_docx(tmp_path / "doc.docx"))
    ds = result.spec.dataset("recipe")
    assert "code" not in ds.fields and "msg" not in ds.fields
    assert "响应参数（输出）" in ds.description and "返回码" in ds.description


def test_rows_above_the_header_give_the_method_name_and_description(tmp_path):
    result = import_spec(recipe_docx(tmp_path / "doc.docx"))
    ds = result.spec.dataset("recipe")
    assert "uploadRecipe" in ds.aliases
    assert ds.description.startswith("上传互联网医院处方")


def test_the_request_header_table_is_not_a_data_set(tmp_path):
    result = import_spec(recipe_docx(tmp_path / "doc.docx"))
    assert [d.code for d in result.spec.datasets.values()] == ["recipe", "recipe_order_list"]
    assert any("请求头" in i.message for i in result.report.issues)


def test_cardinality_marked_rows_are_the_child_data_set_of_the_list(tmp_path):
    result = import_spec(recipe_docx(tmp_path / "doc.docx"))
    order = result.spec.dataset("recipe").fields["orderList"]
    assert order.type == "array"
    child = result.spec.dataset(order.item)
    assert [(x.key, x.type) for x in child.fields.values()] == [("drugCode", "string"), ("dose", "decimal")]
    assert (child.fields["dose"].total_digits, child.fields["dose"].precision) == (10, 7)
    assert not any(k.startswith(("0_", "1_")) for d in result.spec.datasets.values() for k in d.fields)


def test_description_notes_are_no_trouble_and_inline_enums_become_code_sets(tmp_path):
    result = import_spec(recipe_docx(tmp_path / "doc.docx"))
    f = result.spec.dataset("recipe").fields
    assert dict(result.spec.code_set(f["sex"].code_set).codes) == {"1": "男", "2": "女"}
    assert f["fee"].code_set is None and "单位：元" in f["fee"].description
    assert f["birthday"].code_set is None
    assert not [i for i in result.report.issues if i.severity == "error"]


def test_tree_marked_children_and_a_list_type_work_too(tmp_path):
    rows = [
        ["orgCode", "机构编码", "输入", "Varchar(50)", "Y", ""],
        ["items", "明细", "", "List", "Y", ""],
        ["└itemCode", "项目编码", "", "varchar(20)", "Y", ""],
        ["└amount", "数量", "", "int", "Y", ""],
        ["note", "备注", "", "varchar(100)", "N", ""],
    ]
    ds = import_spec(recipe_docx(tmp_path / "doc.docx", rows)).spec.dataset("recipe")
    assert list(ds.fields) == ["orgCode", "items", "note"]
    assert ds.fields["items"].type == "array"


TYPE_NOTATIONS = {
    "Varchar(50)": ("string", 50, None),
    "varchar2(50)": ("string", 50, None),
    "VARCHAR(20)": ("string", 20, None),
    "Varcha(30)": ("string", 30, None),
    "varcahr(12)": ("string", 12, None),
    "Int": ("integer", None, None),
    "int": ("integer", None, None),
    "Decimal(8,2)": ("decimal", None, 2),
    "decimal(10,7)": ("decimal", None, 7),
    "Text": ("string", None, None),
    "datetime": ("datetime", None, None),
    "date": ("date", None, None),
}


@given(
    notations=st.lists(st.sampled_from(sorted(TYPE_NOTATIONS)), min_size=3, max_size=8),
    direction=st.sampled_from(["输入", "入参", "输入List"]),
    head=st.sampled_from(["类型", "参数类型", "输入输出", "方向"]),
    required=st.sampled_from([("Y", "N"), ("是", "否"), ("必填", "")]),
)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_type_notation_under_any_direction_header(tmp_path, notations, direction, head, required):
    rows = [
        [f"field{i}", f"字段{i}", direction if i == 0 else "", n, required[i % 2], ""] for i, n in enumerate(notations)
    ]
    rows[0][2] = "输入" if direction == "输入List" else direction
    path = recipe_docx(tmp_path / "doc.docx", rows, direction_head=head)
    f = import_spec(path).spec.dataset("recipe").fields
    assert list(f) == [f"field{i}" for i in range(len(notations))]
    for i, n in enumerate(notations):
        want_type, want_len, want_prec = TYPE_NOTATIONS[n]
        got = f[f"field{i}"]
        assert (got.type, got.name) == (want_type, f"字段{i}")
        assert got.max_length == want_len and got.precision == want_prec
        assert got.required is (required[i % 2] in ("Y", "是", "必填"))


def test_an_excel_sheet_with_merged_rows_above_the_header(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "上传处方"
    ws.append(["3.1 上传处方"])
    ws.append(["操作名称", "X-Service-Id=hlw.recipe, X-Service-Method=uploadRecipe"])
    ws.merge_cells("B2:F2")
    ws.append(["参数", None, "类型", "字段类型", "是否必填", "说明"])
    ws.merge_cells("A3:B3")
    for r in RECIPE_ROWS:
        ws.append(r)
    # direction cells blank under a vertical merge
    ws.merge_cells("C4:C8")
    ws.merge_cells("C9:C11")
    ws.merge_cells("C13:C14")
    path = tmp_path / "doc.xlsx"
    wb.save(path)
    result = import_spec(path)
    ds = result.spec.dataset("recipe")
    assert "uploadRecipe" in ds.aliases
    assert list(ds.fields) == ["orgCode", "recipeNo", "sex", "fee", "birthday", "orderList", "remark"]
    assert ds.fields["fee"].precision == 2
    assert [x.key for x in result.spec.dataset(ds.fields["orderList"].item).fields.values()] == ["drugCode", "dose"]


def test_enum_styles_seen_in_practice():
    assert parse_enum("0失效，1有效") == {"0": "失效", "1": "有效"}
    assert parse_enum("0 否 1 是") == {"0": "否", "1": "是"}
    assert parse_enum("1西药 2成药 3草药,对于…统一传1") == {"1": "西药", "2": "成药", "3": "草药"}
    assert parse_enum("卡类型：1身份证 2护照") == {"1": "身份证", "2": "护照"}
    assert parse_enum("-1 取消 0 正常 1 完成") == {"-1": "取消", "0": "正常", "1": "完成"}
    assert parse_enum("01 门诊 02 住院") == {"01": "门诊", "02": "住院"}
    for text in ("单位：元", "默认元为单位", "yyyyMMdd", "0-10分", "如：2.5mg*24片", "X、CT、MRI", "见科室码表"):
        assert parse_enum(text) is None, text


def test_type_typos_are_read_and_noted():
    t = parse_type("Varcha(30)")
    assert (t.type, t.max_length, t.problem) == ("string", 30, None)
    assert "笔误" in t.note
    assert parse_type("ListObject").type == "array"
    assert parse_type("输入").problem is not None


def test_a_bare_two_column_dictionary_workbook_is_one_code_set(tmp_path):
    import time

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "国家临床版2.0疾病诊断编码"
    ws.append(["疾病诊断编码", "疾病诊断名称"])
    for i in range(36000):
        ws.append([f"A{i // 1000:02d}.{i % 1000:03d}", f"疾病{i}"])
    path = tmp_path / "dict.xlsx"
    wb.save(path)
    start = time.perf_counter()
    result = import_spec(path)
    elapsed = time.perf_counter() - start
    assert not result.spec.datasets
    (cs,) = result.spec.code_sets.values()
    assert cs.name == "国家临床版2.0疾病诊断编码"
    assert len(cs.codes) == 36000 and cs.codes["A00.001"] == "疾病1"
    assert elapsed < 20  # a shared CI machine; benchmarks/ measures the < 3 s target


def test_a_dictionary_only_spec_writes_and_loads(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "科室代码"
    ws.append(["科室代码", "科室名称"])
    for code, name in [("01", "内科"), ("02", "外科"), ("03", "妇产科")]:
        ws.append([code, name])
    path = tmp_path / "dept.xlsx"
    wb.save(path)
    result = import_spec(path, tmp_path / "spec")
    (cs,) = result.spec.code_sets.values()
    assert dict(cs.codes) == {"01": "内科", "02": "外科", "03": "妇产科"}


def test_a_one_cell_row_announces_a_list(tmp_path):
    doc = docx.Document()
    doc.add_heading("3.2 上传会诊 uploadConsultation", level=2)
    t = doc.add_table(rows=6, cols=4)
    rows = [
        ["参数名", "参数说明", "字段类型", "是否必填"],
        ["consultNo", "会诊号", "varchar(32)", "Y"],
        ["meetClinicResults 会诊结果 ListObject 会诊结果列表", None, None, None],
        ["resultCode", "结果编码", "varchar(10)", "Y"],
        ["resultText", "结果说明", "Text", "N"],
    ]
    for r, values in enumerate(rows):
        if values[1] is None:
            t.cell(r, 0).merge(t.cell(r, 3)).text = values[0]
            continue
        for c, v in enumerate(values):
            t.cell(r, c).text = v
    doc.save(tmp_path / "doc.docx")
    spec = import_spec(tmp_path / "doc.docx").spec
    ds = spec.dataset("consultation")
    assert list(ds.fields) == ["consultNo", "meetClinicResults"]
    lst = ds.fields["meetClinicResults"]
    assert (lst.type, lst.name) == ("array", "会诊结果")
    assert list(spec.dataset(lst.item).fields) == ["resultCode", "resultText"]


CONDITION_ROWS = [
    ["rationalFlag", "合理用药标志", "输入", "int", "Y", "0 否 1 是"],
    ["rationalResult", "合理用药结果", "", "varchar(200)", "N", "rationalFlag=1时必填"],
    ["herbDose", "草药剂数", "", "int", "N", "草药处方必填"],
    ["deliveryAddr", "配送地址", "", "varchar(200)", "N", "deliveryType=0或1时需要传入配送地址"],
    ["deliveryType", "配送方式", "", "int", "Y", "0 自提 1 配送 2 其他"],
    ["visitTime", "就诊时间", "", "varchar(19)", "Y", "格式yyyy-MM-dd HH:mm:ss"],
    ["birthday", "出生日期", "", "varchar(8)", "Y", "yyyyMMdd"],
]


def test_conditions_in_the_description_become_required_if_rules_or_review_items(tmp_path):
    result = import_spec(recipe_docx(tmp_path / "doc.docx", CONDITION_ROWS))
    ds = result.spec.dataset("recipe")
    rules = {r.name: r for r in ds.rules}
    f = ds.fields
    assert f["rationalResult"].required == "required_if_rationalResult"
    assert dict(rules["required_if_rationalResult"].params) == {
        "fields": ["rationalResult"],
        "when": {"field": "rationalFlag", "op": "eq", "value": "1"},
    }
    when = dict(rules[f["deliveryAddr"].required].params)["when"]
    assert when == {"field": "deliveryType", "op": "in", "value": ["0", "1"]}
    assert f["herbDose"].required is False and "草药处方必填" in f["herbDose"].description
    assert any(i.field == "herbDose" and "人工核对" in i.message for i in result.report.issues)


def test_date_formats_in_the_description_set_the_format(tmp_path):
    f = import_spec(recipe_docx(tmp_path / "doc.docx", CONDITION_ROWS)).spec.dataset("recipe").fields
    assert f["visitTime"].type == "datetime"
    assert (f["birthday"].type, f["birthday"].pattern) == ("string", r"^\d{8}$")


def test_the_report_shows_the_shape_of_each_data_set(tmp_path):
    rows = RECIPE_ROWS[:-2] + CONDITION_ROWS[1:2]
    report = import_spec(recipe_docx(tmp_path / "doc.docx", rows)).report
    text = report.to_text()
    assert "方法 uploadRecipe" in text and "子列表 orderList" in text
    assert "条件必填 rationalResult" in text
    (recipe,) = [d for d in report.datasets if d["code"] == "recipe"]
    assert recipe["lists"] == ["orderList"] and recipe["conditional"] == ["rationalResult"]


def _plain_table(doc, rows):
    t = doc.add_table(rows=len(rows), cols=len(rows[0]))
    for r, values in enumerate(rows):
        for c, v in enumerate(values):
            t.cell(r, c).text = v


def test_appendix_dictionaries_are_code_sets_linked_by_name(tmp_path):
    doc = docx.Document()
    doc.add_heading("3.1 上传处方", level=2)
    add_service_table(
        doc,
        "uploadRecipe",
        "上传处方",
        [
            ["deptCode", "科室编码", "输入", "varchar(20)", "Y", "见科室码表"],
            ["drugClass", "药品分类", "", "varchar(20)", "Y", "药品分类代码字典"],
            ["cardType", "卡类型", "", "varchar(2)", "Y", "见字典4.3"],
        ],
    )
    doc.add_heading("附录", level=1)
    doc.add_heading("4.1 科室码表", level=2)
    _plain_table(
        doc,
        [["序号", "科室代码", "科室名称", "备注"], ["1", "03", "内科", ""], ["2", "03.01", "心血管内科", ""]]
        + [["3", "03.02", "呼吸内科", ""], ["4", "04", "外科", ""]],
    )
    doc.add_heading("4.2 药品分类代码字典", level=2)
    _plain_table(doc, [["分类编码", "分类名称"], ["1", "西药"], ["2", "中成药"]])
    doc.add_heading("4.3 卡类型", level=2)
    _plain_table(doc, [["序号", "值", "含义"], ["1", "01", "身份证"], ["2", "02", "护照"]])
    doc.save(tmp_path / "doc.docx")
    spec = import_spec(tmp_path / "doc.docx").spec
    f = spec.dataset("recipe").fields
    dept = spec.code_set(f["deptCode"].code_set)
    assert list(dept.codes) == ["03", "03.01", "03.02", "04"]
    assert dict(dept.parents) == {"03.01": "03", "03.02": "03"}
    assert dict(spec.code_set(f["drugClass"].code_set).codes) == {"1": "西药", "2": "中成药"}
    assert dict(spec.code_set(f["cardType"].code_set).codes) == {"01": "身份证", "02": "护照"}


def test_two_tables_under_one_heading_are_told_apart_by_method_name(tmp_path):
    doc = docx.Document()
    doc.add_heading("3.1 处方", level=2)
    add_service_table(doc, "uploadRecipe", "上传处方", RECIPE_ROWS[:2])
    add_service_table(
        doc, "uploadRecipeCancel", "撤销处方", [["cancelReason", "撤销原因", "输入", "varchar(200)", "Y", ""]]
    )
    doc.save(tmp_path / "doc.docx")
    spec = import_spec(tmp_path / "doc.docx").spec
    assert list(spec.dataset("uploadRecipe").fields) == ["orgCode", "recipeNo"]
    assert list(spec.dataset("uploadRecipeCancel").fields) == ["cancelReason"]


def test_a_key_cell_merged_over_the_name_column(tmp_path):
    doc = docx.Document()
    doc.add_heading("3.1 上传处方", level=2)
    t = add_service_table(doc, "uploadRecipe", "上传处方", RECIPE_ROWS[:3])
    t.cell(4, 0).merge(t.cell(4, 1)).text = "recipeNo"
    doc.save(tmp_path / "doc.docx")
    f = import_spec(tmp_path / "doc.docx").spec.dataset("recipe").fields
    assert list(f) == ["orgCode", "recipeNo", "sex"]
    assert (f["recipeNo"].type, f["recipeNo"].max_length, f["sex"].name) == ("string", 50, "性别")


def test_return_code_and_signature_tables_are_reported_not_imported(tmp_path):
    doc = docx.Document()
    doc.add_heading("3.1 上传处方", level=2)
    add_service_table(doc, "uploadRecipe", "上传处方", RECIPE_ROWS[:2])
    doc.add_heading("5.1 业务返回码", level=2)
    _plain_table(doc, [["错误代码", "错误描述", "处理建议"], ["0", "成功", ""], ["1001", "签名错误", "检查密钥"]])
    doc.add_heading("5.2 签名规则", level=2)
    _plain_table(doc, [["步骤", "内容"], ["1", "参数按字典序排序"], ["2", "拼接后做 SM3 摘要"]])
    doc.save(tmp_path / "doc.docx")
    result = import_spec(tmp_path / "doc.docx")
    assert [d.code for d in result.spec.datasets.values()] == ["recipe"]
    notes = [i.message for i in result.report.issues if i.severity == "info"]
    assert any("返回码表" in m for m in notes) and any("签名规则表" in m for m in notes)
    assert not result.report.errors


@given(
    marker=st.sampled_from(["[0..1]", "[1..n]", "[0..n]", "└", "└─ ", "[1..1]"]),
    children=st.integers(min_value=1, max_value=5),
    after=st.integers(min_value=0, max_value=3),
    merged=st.booleans(),
)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_child_marker_any_number_of_children(tmp_path, marker, children, after, merged):
    rows = [["orgCode", "机构编码", "输入", "Varchar(50)", "Y", ""], ["orderList", "处方列表", "输入List", "", "Y", ""]]
    rows += [[f"{marker}child{i}", f"子项{i}", "", "varchar(10)", "Y", ""] for i in range(children)]
    rows += [[f"tail{i}", f"尾项{i}", "输入" if i == 0 else "", "int", "N", ""] for i in range(after)]
    rows += [["code", "返回码", "输出", "int", "Y", ""], ["msg", "返回信息", "", "Text", "Y", ""]]
    doc = docx.Document()
    doc.add_heading("3.1 上传处方", level=2)
    t = add_service_table(doc, "uploadRecipe", "上传处方", rows)
    if not merged:  # blank direction cells without a merge: they continue the row above all the same
        for r in t.rows[3:]:
            for el in r.cells[2]._tc.xpath("./w:tcPr/w:vMerge"):
                el.getparent().remove(el)
    doc.save(tmp_path / "doc.docx")
    spec = import_spec(tmp_path / "doc.docx").spec
    ds = spec.dataset("recipe")
    assert list(ds.fields) == ["orgCode", "orderList"] + [f"tail{i}" for i in range(after)]
    assert list(spec.dataset(ds.fields["orderList"].item).fields) == [f"child{i}" for i in range(children)]


def test_a_password_protected_or_old_binary_file_gets_one_clear_line(tmp_path):
    import pytest

    from hlwjr import SpecImportError

    path = tmp_path / "加密文档.docx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    with pytest.raises(SpecImportError, match="密码.*另存为 .docx"):
        import_spec(path)


def _cli(*argv):
    import io

    from hlwjr import cli

    out, err = io.StringIO(), io.StringIO()
    rc = cli.run(cli.parse_args(list(argv)), out, err)
    return rc, out.getvalue(), err.getvalue()


def test_cli_writes_review_yaml_beside_the_spec_and_strict_refuses(tmp_path):
    import yaml

    from hlwjr import load_spec

    doc = recipe_docx(tmp_path / "doc.docx", CONDITION_ROWS)
    rc, out, err = _cli("spec", "import", str(doc), "--out", str(tmp_path / "strict"), "--strict")
    assert rc == 1 and "--strict" in err and not (tmp_path / "strict").exists()
    rc, out, _ = _cli("spec", "import", str(doc), "--out", str(tmp_path / "spec"))
    assert "方法 uploadRecipe" in out and "review.yaml" in out
    review = yaml.safe_load((tmp_path / "spec" / "review.yaml").read_text(encoding="utf-8"))
    herb = [i for i in review["items"] if i.get("field") == "herbDose"]
    assert herb and herb[0]["row"] == 6 and "表格2" in herb[0]["table"]
    assert load_spec(tmp_path / "spec").dataset("recipe").fields["rationalResult"].is_conditional


def test_profile_out_drafts_response_codes_by_meaning(tmp_path):
    import yaml

    doc = docx.Document()
    add_header_table(doc)
    doc.add_heading("3.1 上传处方", level=2)
    add_service_table(doc, "uploadRecipe", "上传处方", RECIPE_ROWS[:2])
    doc.add_heading("5.1 业务返回码", level=2)
    _plain_table(
        doc,
        [["序号", "返回码", "返回信息"], ["1", "0", "成功"], ["2", "1001", "签名错误"], ["3", "1101", "token已过期"]]
        + [["4", "5001", "系统繁忙，请稍后重试"], ["5", "2001", "数据格式不合法"]],
    )
    doc.save(tmp_path / "doc.docx")
    _, out, _ = _cli("spec", "import", str(tmp_path / "doc.docx"), "--profile-out", str(tmp_path / "p.yaml"))
    assert "平台配置草稿" in out
    text = (tmp_path / "p.yaml").read_text(encoding="utf-8")
    assert text.startswith("# 草稿")
    prof = yaml.safe_load(text)
    assert prof["draft"] is True and "X-Ca-Key" in prof["request_headers"]
    assert prof["response"]["success_codes"] == [0]
    assert prof["response"]["codes"] == {"auth": [1001], "token_expired": [1101], "busy": [5001], "rejected": [2001]}


@given(order=st.permutations(range(6)))
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_column_roles_do_not_depend_on_the_column_order(tmp_path, order):
    header = ["参数名", "参数说明", "类型", "字段类型", "是否必填", "说明"]
    rows = [header] + [r[:2] + [r[2] or "输入", *r[3:]] for r in CONDITION_ROWS[:1] + RECIPE_ROWS[1:5]]
    doc = docx.Document()
    doc.add_heading("3.1 上传处方 uploadRecipe", level=2)
    _plain_table(doc, [[r[i] for i in order] for r in rows])
    doc.save(tmp_path / "doc.docx")
    f = import_spec(tmp_path / "doc.docx").spec.dataset("recipe").fields
    assert [(x.key, x.name, x.type) for x in f.values()] == [
        ("rationalFlag", "合理用药标志", "integer"),
        ("recipeNo", "处方号", "string"),
        ("sex", "性别", "integer"),
        ("fee", "金额", "decimal"),
        ("birthday", "出生日期", "string"),
    ]
    assert [x.required for x in f.values()] == [True, True, False, True, False]
