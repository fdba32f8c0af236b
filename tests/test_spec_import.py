"""Importing realistic interface documents (接口文档) built here with python-docx and openpyxl.

Each document carries what the real ones do: varying Chinese header words, many type notations,
required markers, merged cells, tables split across pages, titles above tables (or in Excel title
rows / sheet names), inline enumerations, 见字典 references to appendix code tables, and a few
cells that cannot be interpreted — which the import report must name with table and row.
"""

from __future__ import annotations

from pathlib import Path

import docx
import openpyxl
import pytest
from docx.enum.text import WD_BREAK

import hlwjr
from hlwjr.spec.importing._importer import import_spec, parse_enum, parse_required, parse_type

# --------------------------------------------------------------------------------------------
# document builders


def _table(doc, rows):
    t = doc.add_table(rows=len(rows), cols=len(rows[0]))
    for r, values in zip(t.rows, rows):
        for c, v in zip(r.cells, values):
            c.text = v
    return t


def build_docx(path: Path) -> Path:
    doc = docx.Document()
    doc.add_heading("北京市互联网医院数据接口文档", level=0)
    doc.add_paragraph("版本：V1.2")
    # a revision-history table every real document has
    _table(doc, [["版本", "日期", "修订人", "修订内容"], ["V1.2", "2021-04-01", "平台", "新增处方明细"]])
    doc.add_heading("2 业务类接口", level=1)

    # -- 2.2.2 online revisit: headers 序号/字段名/中文名称/数据类型/长度/是否必填/值域/说明 ----------
    doc.add_heading("2.2.2 在线复诊 uploadReferralIndicators", level=2)
    doc.add_paragraph("接口说明：上传互联网在线复诊记录，复诊结束后上传。")
    doc.add_paragraph("业务主键：organID, bussID")
    header = ["序号", "字段名", "中文名称", "数据类型", "长度", "是否必填", "值域", "说明"]
    rows = [
        header,
        ["1", "organID", "机构唯一号", "VARCHAR2", "18", "是", "", "统一社会信用代码"],
        ["2", "bussID", "复诊记录ID", "VARCHAR2(64)", "", "是", "", "复诊业务主键"],
        ["", "患者信息", "", "", "", "", "", ""],  # a group row, merged across the table below
        ["3", "sex", "性别", "字符型", "1", "否", "1:男 2:女 9:未说明", ""],
        ["4", "age", "年龄", "INT", "", "Y", "", "周岁"],
        ["5", "returnVisitPrice", "复诊价格", "NUMBER(10,2)", "", "N", "", "单位：元"],
        ["6", "subjectCode", "诊疗科目代码", "VARCHAR2", "10", "必填", "见字典3.1", ""],
        ["7", "applyDate", "申请时间", "DATETIME", "", "必填", "", "yyyy-MM-dd HH:mm:ss"],
    ]
    t = _table(doc, rows)
    t.cell(3, 0).merge(t.cell(3, 7))  # group row merged across all columns
    t.cell(3, 0).text = "患者信息"
    # the 值域 and 说明 cells of the sex row merged: python-docx repeats the text in both columns
    t.cell(4, 6).merge(t.cell(4, 7))
    # split across pages: the rest follows in a second table repeating the header
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    _table(
        doc,
        [
            header,
            ["8", "visitDate", "就诊日期", "DATE", "", "可选", "", ""],
            ["9", "answerFlag", "是否回复", "C..1", "", "M", "0 否 1 是", ""],
            ["10", "guardianName", "监护人姓名", "AN..50", "", "C", "", "年龄小于6岁时必填"],
            ["11", "weird", "奇怪字段", "XYZ(5)", "", "是", "", ""],
            ["12", "cardNo", "就诊卡号", "varchar(24)", "", "也许", "", ""],
            ["13", "score", "评分", "N4,1", "", "O", "", ""],
        ],
    )

    # -- 2.2.3 prescription: 数据项/英文名/类型/必填/值域/备注, types with inline lengths ----------
    doc.add_heading("2.2.3 在线处方 uploadRecipeIndicators", level=2)
    doc.add_paragraph("唯一标识：recipeID")
    doc.add_paragraph("依赖：uploadReferralIndicators")
    doc.add_paragraph("表2-3 在线处方字段说明")  # a caption: a weaker title than the numbered heading
    t = _table(
        doc,
        [
            ["序号", "数据项", "英文名", "类型", "必填", "值域", "备注"],
            ["1", "处方号", "recipeID", "AN..64", "√", "", ""],
            ["2", "复诊记录ID", "bussID", "AN..64", "√", "", "对应在线复诊 bussID"],
            ["3", "处方类型", "recipeType", "N1", "√", "1-西药；2-中成药；3-中草药", ""],
            ["4", "费别", "costType", "C1", "", "1=自费,2=医保", ""],
            ["5", "处方金额", "totalFee", "N10,2", "", "", ""],
            ["6", "开方日期", "datein", "日期时间", "√", "", ""],
            ["7", "患者性别", "patientSex", "C1", "√", "参见附录A.1", ""],
            ["8", "剂型", "dosageForm", "C..4", "", "见附录A.9", ""],
            ["9", "处方明细", "orderList", "数组", "√", "见2.2.3.1", "至少一条"],
        ],
    )
    t.cell(1, 3).merge(t.cell(2, 3))  # the same type for two rows: a vertical merge
    doc.add_heading("2.2.3.1 处方明细", level=3)
    _table(
        doc,
        [
            ["字段代码", "字段名称", "类型及长度", "约束", "说明"],
            ["drcode", "院内药品代码", "VARCHAR2(50)", "M", ""],
            ["drname", "药品名称", "VARCHAR2(100)", "M", ""],
            ["dosage", "每次剂量", "NUMBER(8,3)", "O", ""],
            ["useDays", "用药天数", "INTEGER", "O", ""],
            ["", "", "", "", "此行只有说明"],
        ],
    )

    # -- appendix code tables ---------------------------------------------------------------
    doc.add_heading("3 字典", level=1)
    doc.add_heading("3.1 诊疗科目字典", level=2)
    _table(doc, [["代码", "名称"], ["01", "预防保健科"], ["03", "内科"], ["03.01", "呼吸内科专业"]])
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    _table(doc, [["03.02", "消化内科专业"], ["07", "儿科"]])  # split, no repeated header
    doc.add_heading("附录A 代码表", level=1)
    doc.add_paragraph("A.1 性别代码（GB/T 2261.1-2003）")
    _table(doc, [["值", "含义"], ["0", "未知的性别"], ["1", "男性"], ["2", "女性"], ["9", "未说明的性别"]])
    doc.save(path)
    return path


def build_xlsx(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "说明"
    ws.append(["互联网医院监管数据接口规范（Excel版）"])
    ws.append(["版本号：2.0"])

    ws = wb.create_sheet("在线咨询")
    ws.append(["2.2.1 在线咨询 uploadConsultIndicators"])
    ws.merge_cells("A1:G1")
    ws.append(["业务主键：bussID"])
    ws.append([])
    ws.append(["序号", "字段名", "中文名称", "类型", "长度", "必填", "说明"])
    ws.append([1, "bussID", "咨询记录ID", "VARCHAR2", 64, "Y", "主键"])
    ws.append([2, "patientName", "患者姓名", "VARCHAR2", 50, "Y", ""])
    ws.append([3, "mobile", "手机号", None, 20, "N", "例：13812345678"])
    ws.merge_cells("D6:D7")  # the same type for two rows
    ws.append([4, "consultationPrice", "咨询价格", "数值", "10,2", "N", "单位：元"])
    ws.append([5, "consultationType", "咨询类别", "字符", 2, "Y", "1：图文；2：语音；3：视频"])
    ws.append([6, "subjectCode", "诊疗科目", "字符", 10, "Y", "见字典3.1"])
    ws.append([7, "bad", "坏长度", "字符", "很长", "N", ""])
    ws.append([8, "startDate", "开始时间", "日期时间", None, "N", ""])

    ws = wb.create_sheet("处方审核")  # no title rows: the sheet name is the title
    ws.append(["字段名", "中文名", "数据类型", "是否必填", "值域"])
    ws.append(["recipeID", "处方号", "C..64", "是（主键）", ""])
    ws.append(["auditStatus", "审核结果", "C1", "是", "参见3.2"])
    ws.append(["auditTime", "审核时间", "DT15", "否", ""])

    ws = wb.create_sheet("字典")
    ws.append(["3.1 诊疗科目字典"])
    ws.append(["代码", "名称"])
    ws.append(["01", "预防保健科"])
    ws.append(["03", "内科"])
    ws.append([])
    ws.append(["3.2 审核结果字典"])
    ws.append(["编码", "说明", "备注"])
    ws.append(["1", "通过", ""])
    ws.append(["2", "不通过", "须填审核意见"])
    wb.save(path)
    return path


# --------------------------------------------------------------------------------------------
# parsing units


@pytest.mark.parametrize(
    "text, length, expect",
    [
        ("VARCHAR2(50)", None, ("string", 50, None, None)),
        ("varchar(20)", None, ("string", 20, None, None)),
        ("C..50", None, ("string", 50, None, None)),
        ("AN..18", None, ("string", 18, None, None)),
        ("N8", None, ("integer", None, None, 8)),
        ("N10,2", None, ("decimal", None, 2, 10)),
        ("NUMBER(10,2)", None, ("decimal", None, 2, 10)),
        ("NUMBER(10)", None, ("integer", None, None, 10)),
        ("字符型", "50", ("string", 50, None, None)),
        ("数值", "12,2", ("decimal", None, 2, 12)),
        ("数值", None, ("decimal", None, None, None)),
        ("DATE", None, ("date", None, None, None)),
        ("DATE(14)", None, ("datetime", None, None, None)),
        ("DATETIME", None, ("datetime", None, None, None)),
        ("日期时间", None, ("datetime", None, None, None)),
        ("DT15", None, ("datetime", None, None, None)),
        ("INT", None, ("integer", None, None, None)),
        ("varchar2（50）", None, ("string", 50, None, None)),
        ("VARCHAR2", "64.0", ("string", 64, None, None)),
        ("数组", None, ("array", None, None, None)),
        ("List<RecipeDetail>", None, ("array", None, None, None)),
    ],
)
def test_parse_type(text, length, expect):
    t = parse_type(text, length)
    assert (t.type, t.max_length, t.precision, t.total_digits) == expect
    assert t.problem is None


def test_parse_type_reports_what_it_cannot_read():
    assert parse_type("XYZ").problem and parse_type("XYZ").type == "string"
    assert "长度" in parse_type("字符", "很长").problem


@pytest.mark.parametrize(
    "text, expect",
    [
        ("是", True),
        ("否", False),
        ("Y", True),
        ("N", False),
        ("必填", True),
        ("必选", True),
        ("可选", False),
        ("M", True),
        ("O", False),
        ("R", True),
        ("√", True),
        ("空", False),
        ("", False),
        ("C", "conditional"),
        ("条件必填", "conditional"),
        ("也许", None),
    ],
)
def test_parse_required(text, expect):
    assert parse_required(text)[0] == expect


def test_parse_required_inverted_column():
    assert parse_required("是", inverted=True)[0] is False
    assert parse_required("否", inverted=True)[0] is True


@pytest.mark.parametrize(
    "text, expect",
    [
        ("1:男 2:女", {"1": "男", "2": "女"}),
        ("1-西药；2-中成药", {"1": "西药", "2": "中成药"}),
        ("0 否 1 是", {"0": "否", "1": "是"}),
        ("1=自费,2=医保", {"1": "自费", "2": "医保"}),
        ("性别：1：男；2：女；9：未说明", {"1": "男", "2": "女", "9": "未说明"}),
        ("1、西药 2、中成药 3、中草药", {"1": "西药", "2": "中成药", "3": "中草药"}),
        ("0:医院取药 1:物流配送 2:药店取药（默认0）", {"0": "医院取药", "1": "物流配送", "2": "药店取药"}),
        ("yyyy-MM-dd HH:mm:ss", None),
        ("单位：元，保留2位小数，如 10.50", None),
        ("见字典3.1", None),
    ],
)
def test_parse_enum(text, expect):
    assert parse_enum(text) == expect


# --------------------------------------------------------------------------------------------
# Word


@pytest.fixture(scope="module")
def docx_result(tmp_path_factory):
    d = tmp_path_factory.mktemp("docx")
    return import_spec(build_docx(d / "接口文档V1.2.docx"), d / "spec", spec_id="bj-v12")


def test_docx_spec_metadata(docx_result):
    spec = docx_result.spec
    assert spec.id == "bj-v12" and spec.version == "1.2"
    assert spec.title == "北京市互联网医院数据接口文档"
    assert not spec.official and "接口文档V1.2.docx" in spec.notice
    assert docx_result.out_dir is not None and (docx_result.out_dir / "spec.yaml").is_file()
    # what was written loads like any spec
    assert hlwjr.load_spec(docx_result.out_dir).datasets.keys() == spec.datasets.keys()


def test_docx_datasets_codes_titles_keys(docx_result):
    spec = docx_result.spec
    assert list(spec.datasets) == ["referral", "recipe", "cfmx"]
    rv = spec.dataset("uploadReferralIndicators")
    assert (rv.code, rv.name, rv.section) == ("referral", "在线复诊", "2.2.2")
    assert rv.key == ("organID", "bussID")
    assert "上传互联网在线复诊记录" in rv.description
    rc = spec.dataset("在线处方")
    assert rc.key == ("recipeID",) and rc.depends_on == ("referral",)
    assert "uploadRecipeIndicators" in rc.aliases and rc.description is None
    child = spec.dataset("cfmx")
    assert (child.name, child.parent, child.section) == ("处方明细", "recipe", "2.2.3.1")


def test_docx_fields_field_by_field(docx_result):
    rv = docx_result.spec.dataset("referral")
    # the split table is one data set; the group row is not a field
    assert list(rv.fields) == [
        "organID",
        "bussID",
        "sex",
        "age",
        "returnVisitPrice",
        "subjectCode",
        "applyDate",
        "visitDate",
        "answerFlag",
        "guardianName",
        "weird",
        "cardNo",
        "score",
    ]
    f = rv.fields
    assert (f["organID"].type, f["organID"].max_length, f["organID"].required) == ("string", 18, True)
    assert f["organID"].description == "统一社会信用代码"
    assert (f["bussID"].max_length, f["bussID"].name) == (64, "复诊记录ID")
    assert (f["sex"].type, f["sex"].max_length, f["sex"].required) == ("string", 1, False)
    assert (f["age"].type, f["age"].required) == ("integer", True)
    assert (f["returnVisitPrice"].type, f["returnVisitPrice"].total_digits, f["returnVisitPrice"].precision) == (
        "decimal",
        10,
        2,
    )
    assert f["returnVisitPrice"].required is False
    assert f["applyDate"].type == "datetime" and f["applyDate"].required is True
    assert f["visitDate"].type == "date" and f["visitDate"].required is False
    assert (f["answerFlag"].max_length, f["answerFlag"].required) == (1, True)
    assert f["guardianName"].required is False and f["guardianName"].max_length == 50
    assert (f["score"].type, f["score"].total_digits, f["score"].precision) == ("decimal", 4, 1)
    rc = docx_result.spec.dataset("recipe").fields
    assert (rc["recipeID"].name, rc["recipeID"].max_length, rc["recipeID"].required) == ("处方号", 64, True)
    assert rc["bussID"].max_length == 64  # type from a vertically merged cell
    assert (rc["recipeType"].type, rc["recipeType"].total_digits) == ("integer", 1)
    assert rc["costType"].required is False
    assert rc["datein"].type == "datetime"
    assert (rc["orderList"].type, rc["orderList"].item, rc["orderList"].required) == ("array", "cfmx", True)
    ch = docx_result.spec.dataset("cfmx").fields
    assert (ch["drcode"].name, ch["drcode"].max_length, ch["drcode"].required) == ("院内药品代码", 50, True)
    assert (ch["dosage"].type, ch["dosage"].total_digits, ch["dosage"].precision, ch["dosage"].required) == (
        "decimal",
        8,
        3,
        False,
    )
    assert ch["useDays"].type == "integer"


def test_docx_code_sets_inline_and_appendix(docx_result):
    spec = docx_result.spec
    rv, rc = spec.dataset("referral").fields, spec.dataset("recipe").fields
    # inline enumerations become code sets
    assert dict(spec.code_set(rv["sex"].code_set).codes) == {"1": "男", "2": "女", "9": "未说明"}
    assert dict(spec.code_set(rv["answerFlag"].code_set).codes) == {"0": "否", "1": "是"}
    assert dict(spec.code_set(rc["recipeType"].code_set).codes) == {"1": "西药", "2": "中成药", "3": "中草药"}
    assert dict(spec.code_set(rc["costType"].code_set).codes) == {"1": "自费", "2": "医保"}
    # 见字典3.1 → the appendix table titled 3.1, continued on the next page
    subj = spec.code_set(rv["subjectCode"].code_set)
    assert subj.name == "诊疗科目字典"
    assert dict(subj.codes) == {
        "01": "预防保健科",
        "03": "内科",
        "03.01": "呼吸内科专业",
        "03.02": "消化内科专业",
        "07": "儿科",
    }
    assert spec.code_set("3.1") is subj
    # 参见附录A.1 → A.1 with the standard named in its title
    sex = spec.code_set(rc["patientSex"].code_set)
    assert sex.standard == "GB/T 2261.1-2003" and sex.codes["2"] == "女性"
    # code-set membership reaches the JSON Schema
    schema = spec.dataset("recipe").json_schema()
    assert schema["properties"]["recipeType"]["enum"] == [1, 2, 3]
    assert schema["properties"]["patientSex"]["enum"] == ["0", "1", "2", "9"]


def test_docx_report_names_every_bad_cell(docx_result):
    report = docx_result.report
    assert not report.ok
    by_field = {(i.dataset, i.field): i for i in report.issues if i.field}
    weird = by_field[("referral", "weird")]
    assert weird.severity == "error" and weird.value == "XYZ(5)" and "类型" in weird.message
    assert weird.table.startswith("表格3（在线复诊续表）") and weird.row == 5  # second table of the split field table
    card = by_field[("referral", "cardNo")]
    assert card.severity == "error" and card.column == "是否必填" and card.value == "也许"
    dosage = by_field[("recipe", "dosageForm")]
    assert "A.9" in dosage.message and dosage.severity == "error"
    assert by_field[("referral", "guardianName")].severity == "info"  # conditional: write a rule
    messages = [str(i) for i in report.issues]
    assert any("分组标题行" in m and "患者信息" in m for m in messages)
    assert any("修订记录" in m for m in messages)
    assert any("此行只有说明" in m and "没有字段名" in m for m in messages)
    text = report.to_text()
    assert "在线复诊 [referral] 字段 13 个" in text and "XYZ(5)" in text
    frame = report.to_frame()
    assert {"table", "row", "column", "value", "severity", "message"} <= set(frame.columns)
    assert len(frame) == len(report.issues)


# --------------------------------------------------------------------------------------------
# Excel


@pytest.fixture(scope="module")
def xlsx_result(tmp_path_factory):
    d = tmp_path_factory.mktemp("xlsx")
    return import_spec(build_xlsx(d / "接口规范.xlsx"))


def test_xlsx_title_rows_sheet_names_and_fields(xlsx_result):
    spec = xlsx_result.spec
    assert xlsx_result.out_dir is None  # a dry run writes nothing
    assert spec.version == "2.0" and spec.title == "互联网医院监管数据接口规范（Excel版）"
    assert list(spec.datasets) == ["consult", "cfsh"]
    c = spec.dataset("consult")
    assert (c.name, c.section, c.key) == ("在线咨询", "2.2.1", ("bussID",))
    f = c.fields
    assert (f["bussID"].max_length, f["bussID"].required) == (64, True)
    assert (f["mobile"].type, f["mobile"].max_length) == ("string", 20)  # merged type cell filled down
    assert (f["consultationPrice"].type, f["consultationPrice"].total_digits, f["consultationPrice"].precision) == (
        "decimal",
        10,
        2,
    )
    assert dict(spec.code_set(f["consultationType"].code_set).codes) == {"1": "图文", "2": "语音", "3": "视频"}
    assert spec.code_set(f["subjectCode"].code_set).codes["03"] == "内科"
    assert f["startDate"].type == "datetime"
    a = spec.dataset("处方审核")
    assert a.code == "cfsh" and a.fields["auditTime"].type == "datetime"
    assert a.key == ("recipeID",) and a.fields["recipeID"].required is True  # 是（主键）
    assert any("推断" in i.message for i in xlsx_result.report.warnings if i.dataset == "cfsh")
    audit = spec.code_set(a.fields["auditStatus"].code_set)
    assert dict(audit.codes) == {"1": "通过", "2": "不通过"} and audit.notes == {"2": "须填审核意见"}


def test_xlsx_report_uses_sheet_and_excel_row(xlsx_result):
    bad = [i for i in xlsx_result.report.issues if i.field == "bad"]
    assert len(bad) == 1
    assert bad[0].table.startswith("工作表「在线咨询」") and bad[0].row == 11 and "很长" in bad[0].message
    # the phone number in a description never reaches the report unmasked
    assert "13812345678" not in xlsx_result.report.to_text()


# --------------------------------------------------------------------------------------------
# bad documents and all-or-nothing writing


def test_no_field_table_is_an_error_naming_the_file(tmp_path):
    doc = docx.Document()
    doc.add_paragraph("会议纪要")
    _table(doc, [["时间", "地点"], ["周一", "三楼"]])
    path = tmp_path / "纪要.docx"
    doc.save(path)
    with pytest.raises(hlwjr.SpecImportError, match="没有可识别的字段表") as exc:
        import_spec(path, tmp_path / "out")
    assert "纪要.docx" in str(exc.value) and "字段名" in str(exc.value)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name, match", [("a.wps", "不支持的文件类型"), ("missing.docx", "文件不存在")])
def test_unsupported_or_missing_file(tmp_path, name, match):
    if name.endswith(".wps"):  # WPS's own format: saved as .docx first
        (tmp_path / name).write_bytes(b"\x00WPS")
    with pytest.raises(hlwjr.SpecImportError, match=match):
        import_spec(tmp_path / name)


def test_corrupt_docx(tmp_path):
    (tmp_path / "bad.docx").write_bytes(b"not a zip")
    with pytest.raises(hlwjr.SpecImportError, match="无法作为 Word"):
        import_spec(tmp_path / "bad.docx")


def test_existing_target_untouched_unless_overwrite(tmp_path):
    src = build_docx(tmp_path / "doc.docx")
    out = tmp_path / "spec"
    out.mkdir()
    (out / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(hlwjr.SpecError, match="非空"):
        import_spec(src, out)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    res = import_spec(src, out, overwrite=True)
    assert (out / "spec.yaml").is_file() and not (out / "keep.txt").exists()
    assert res.spec.path == str(out.resolve())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["doc.docx", "spec"]  # no temp dirs left


# --------------------------------------------------------------------------------------------
# another Word layout: title row inside the table, two-line header, inverted 可否为空 column,
# WS data-element codes, dotted child keys, a reference by code-table name


def build_docx_layout_b(path: Path) -> Path:
    doc = docx.Document()
    doc.add_paragraph("监管数据采集接口说明")
    t = _table(
        doc,
        [
            ["表5 处方信息 RecipeInfo", "", "", "", "", "", ""],
            ["序号", "字段", "", "数据类型", "可否为空", "数据元标识符", "说明"],
            ["", "英文名称", "中文名称", "", "", "", ""],
            ["1", "CFBH", "处方编号", "VARCHAR2(50 BYTE)", "否", "DE01.00.001.00", ""],
            ["2", "XBDM", "性别代码", "VARCHAR2(1)", "是", "DE02.01.040.00", "见《性别代码》"],
            ["3", "KFSJ", "开方时间", "DATE(14)", "否", "", "yyyyMMddHHmmss"],
            ["4", "orderList", "药品明细", "List<Detail>", "否", "", ""],
            ["5", "orderList.YPMC", "药品名称", "VARCHAR2(200)", "否", "", ""],
            ["6", "orderList.YPSL", "药品数量", "NUMBER(8,2)", "是", "", ""],
            ["7", "CFBH", "处方编号", "VARCHAR2(50)", "否", "", "重复的一行"],
            ["8", "MZ", "民族", "VARCHAR2(2)", "是", "", "符合 GB/T 3304"],
            ["9", "KSDM", "科室代码", "VARCHAR2(10)", "是", "", "见诊疗科目字典"],
        ],
    )
    t.cell(0, 0).merge(t.cell(0, 6))
    t.cell(0, 0).text = "表5 处方信息 RecipeInfo"
    t.cell(1, 1).merge(t.cell(1, 2))
    t.cell(1, 1).text = "字段"
    for col, text in ((0, "序号"), (3, "数据类型"), (4, "可否为空"), (5, "数据元标识符"), (6, "说明")):
        t.cell(1, col).merge(t.cell(2, col))
        t.cell(1, col).text = text
    doc.add_paragraph("性别代码")
    _table(doc, [["代码值", "代码名称"], ["1", "男性"], ["2", "女性"]])
    doc.save(path)
    return path


def test_docx_layout_b(tmp_path):
    res = import_spec(build_docx_layout_b(tmp_path / "b.docx"))
    spec = res.spec
    assert spec.title == "监管数据采集接口说明"
    rc = spec.dataset("RecipeInfo")
    assert (rc.code, rc.name) == ("RecipeInfo", "处方信息")
    f = rc.fields
    assert list(f) == ["CFBH", "XBDM", "KFSJ", "orderList", "MZ", "KSDM"]
    assert (f["CFBH"].name, f["CFBH"].max_length, f["CFBH"].required) == ("处方编号", 50, True)
    assert f["CFBH"].aliases == {"ws": "DE01.00.001.00"}
    assert (f["XBDM"].required, f["XBDM"].max_length) == (False, 1)
    assert dict(spec.code_set(f["XBDM"].code_set).codes) == {"1": "男性", "2": "女性"}
    assert f["KFSJ"].type == "datetime"
    child = spec.dataset(f["orderList"].item)
    assert child.parent == "RecipeInfo" and f["orderList"].type == "array"
    assert (child.fields["YPMC"].max_length, child.fields["YPSL"].precision, child.fields["YPSL"].required) == (
        200,
        2,
        False,
    )
    dup = [i for i in res.report.issues if "重复" in i.message]
    assert len(dup) == 1 and dup[0].row == 10 and dup[0].severity == "error"
    # standards the document names without a table: codes from the reference spec, with a warning
    ref = hlwjr.load_spec()
    assert (f["MZ"].code_set, f["KSDM"].code_set) == ("nation", "subject")
    assert dict(spec.code_set("nation").codes) == dict(ref.code_set("nation").codes)
    assert "参考规范" in spec.code_set("subject").provenance
    warned = {i.field for i in res.report.warnings if "取自参考规范" in i.message}
    assert warned == {"MZ", "KSDM"}


def test_interface_info_table_above_the_field_table(tmp_path):
    doc = docx.Document()
    doc.add_heading("2.4.1 评价信息", level=2)
    _table(
        doc,
        [
            ["接口名称", "满意度评价"],
            ["接口方法", "uploadBusinessInfoAfter"],
            ["请求方式", "POST"],
            ["业务主键", "evaluateID"],
        ],
    )
    _table(
        doc,
        [
            ["参数名", "参数说明", "类型", "是否必传"],
            ["evaluateID", "评价记录ID", "String(64)", "是"],
            ["satisfaction", "满意度", "Integer", "否"],
        ],
    )
    doc.save(tmp_path / "c.docx")
    res = import_spec(tmp_path / "c.docx")
    ds = res.spec.dataset("uploadBusinessInfoAfter")
    assert (ds.code, ds.name, ds.section, ds.key) == ("business_info_after", "满意度评价", "2.4.1", ("evaluateID",))
    assert "请求方式：POST" in ds.description
    assert (ds.fields["evaluateID"].name, ds.fields["evaluateID"].max_length) == ("评价记录ID", 64)
    assert ds.fields["satisfaction"].type == "integer"
    assert res.report.ok and not res.report.issues


@pytest.mark.parametrize(
    "header, row",
    [
        (["序号", "字段名称", "字段代码", "类型", "长度", "必填"], ["1", "处方号", "recipeID", "varchar", "64", "是"]),
        (["名称", "代码", "数据类型", "是否必须"], ["处方号", "recipeID", "VARCHAR2(64)", "Y"]),
        (
            ["Field", "Name", "Type", "Length", "Required", "Description"],
            ["recipeID", "处方号", "String", "64", "M", ""],
        ),
        (
            ["数据项", "数据元标识符", "字段", "类型及长度", "可否为空"],
            ["处方号", "DE01.00.001.00", "recipeID", "AN..64", "否"],
        ),
        (["英文名", "中文名称", "类型（长度）", "约束", "值域"], ["*recipeID", "处方号", "C(64)", "", ""]),
    ],
)
def test_header_variants(tmp_path, header, row):
    doc = docx.Document()
    doc.add_paragraph("2.2.3 在线处方 uploadRecipeIndicators")
    _table(doc, [header, row])
    doc.save(tmp_path / "h.docx")
    res = import_spec(tmp_path / "h.docx")
    f = res.spec.dataset("recipe").fields["recipeID"]
    assert (f.name, f.type, f.max_length, f.required) == ("处方号", "string", 64, True)
    assert res.report.ok, res.report.to_text()


def test_excel_stacked_tables_without_blank_rows(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "接口"
    for r in (
        ["2.1.1 机构信息 uploadUnitIndicators"],
        ["字段名", "中文名称", "类型", "必填"],
        ["organID", "机构唯一号", "AN..18", "Y"],
        ["2.1.2 科室 uploadDeptIndicators"],
        ["字段名", "中文名称", "类型", "必填"],
        ["deptID", "科室代码", "AN..20", "N"],
    ):
        ws.append(r)
    wb.save(tmp_path / "s.xlsx")
    spec = import_spec(tmp_path / "s.xlsx").spec
    assert list(spec.datasets) == ["unit", "dept"]
    assert list(spec.dataset("unit").fields) == ["organID"] and spec.dataset("dept").section == "2.1.2"


def test_docx_table_inside_a_content_control_is_read(tmp_path):
    from docx.oxml import OxmlElement

    doc = docx.Document()
    doc.add_paragraph("2.2.1 在线咨询 uploadConsultIndicators")
    t = _table(doc, [["字段名", "中文名称", "类型", "必填"], ["bussID", "咨询记录ID", "AN..64", "Y"]])
    sdt, content = OxmlElement("w:sdt"), OxmlElement("w:sdtContent")
    t._tbl.addprevious(sdt)
    sdt.append(content)
    content.append(t._tbl)  # Word wraps tables in content controls (w:sdt) in many templates
    doc.save(tmp_path / "sdt.docx")
    assert list(import_spec(tmp_path / "sdt.docx").spec.dataset("consult").fields) == ["bussID"]


def test_report_html_for_notebooks(docx_result):
    html = docx_result.report._repr_html_()
    assert "导入报告" in html and "需要核对的单元格" in html and "XYZ(5)" in html


def test_excel_sheet_without_recognisable_header_is_reported(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "在线咨询"
    ws.append(["字段名", "中文名称", "类型", "必填"])
    ws.append(["bussID", "咨询记录ID", "AN..64", "Y"])
    other = wb.create_sheet("奇怪的表")
    other.append(["甲", "乙", "丙"])
    other.append(["1", "2", "3"])
    wb.save(tmp_path / "w.xlsx")
    res = import_spec(tmp_path / "w.xlsx")
    [issue] = [i for i in res.report.issues if i.table == "工作表「奇怪的表」"]
    assert issue.row == 1 and issue.severity == "warning" and "没有识别出字段表表头" in issue.message
    wb = openpyxl.Workbook()
    wb.active.append(["甲", "乙", "丙"])
    wb.save(tmp_path / "none.xlsx")
    with pytest.raises(hlwjr.SpecImportError, match="各工作表中都没有找到"):
        import_spec(tmp_path / "none.xlsx")


def test_child_fields_by_tree_marks_and_group_rows(tmp_path):
    doc = docx.Document()
    doc.add_paragraph("2.2.3 在线处方 uploadRecipeIndicators")
    _table(
        doc,
        [
            ["字段名", "中文名称", "类型", "必填"],
            ["recipeID", "处方号", "AN..64", "Y"],
            ["orderList", "处方明细", "List", "Y"],
            ["└drcode", "药品代码", "AN..50", "Y"],
            ["└ drname", "药品名称", "AN..100", "Y"],
            ["remark", "备注", "AN..500", "N"],
        ],
    )
    doc.add_paragraph("2.2.4 处方核销 uploadRecipeVerificationIndicators")
    t = _table(
        doc,
        [
            ["字段名", "中文名称", "类型", "必填"],
            ["recipeID", "处方号", "AN..64", "Y"],
            ["drugList", "药品列表", "Array", "Y"],
            ["药品列表（drugList）", "", "", ""],
            ["drcode", "药品代码", "AN..50", "Y"],
            ["amount", "数量", "N10,2", "N"],
        ],
    )
    t.cell(3, 0).merge(t.cell(3, 3))
    doc.save(tmp_path / "tree.docx")
    res = import_spec(tmp_path / "tree.docx")
    spec = res.spec
    recipe = spec.dataset("recipe")
    assert list(recipe.fields) == ["recipeID", "orderList", "remark"]
    detail = spec.dataset(recipe.fields["orderList"].item)
    assert detail.parent == "recipe" and list(detail.fields) == ["drcode", "drname"]
    assert detail.fields["drname"].max_length == 100
    ver = spec.dataset("recipe_verification")
    drugs = spec.dataset(ver.fields["drugList"].item)
    assert list(drugs.fields) == ["drcode", "amount"] and drugs.fields["amount"].precision == 2
    assert res.report.ok, res.report.to_text()


def test_excel_blank_row_inside_a_field_table(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "在线复诊"
    for r in (
        ["字段名", "中文名称", "类型", "必填"],
        ["bussID", "复诊记录ID", "AN..64", "Y"],
        [],
        ["age", "年龄", "N..3", "Y"],
        [],
        ["注：Y 表示必填"],
    ):
        ws.append(r)
    wb.save(tmp_path / "gap.xlsx")
    res = import_spec(tmp_path / "gap.xlsx")
    assert list(res.spec.dataset("在线复诊").fields) == ["bussID", "age"]
    assert res.report.ok


def test_docx_table_split_without_repeated_header(tmp_path):
    doc = docx.Document()
    doc.add_heading("2.2.1 在线咨询 uploadConsultIndicators", level=2)
    _table(doc, [["字段名", "中文名称", "类型", "是否必填"], ["bussID", "咨询记录ID", "AN..64", "Y"]])
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    doc.add_paragraph("（续表）")
    _table(doc, [["age", "年龄", "N..3", "Y"], ["sex", "性别", "C1", "可能"]])
    doc.save(tmp_path / "split.docx")
    res = import_spec(tmp_path / "split.docx")
    assert list(res.spec.dataset("consult").fields) == ["bussID", "age", "sex"]
    [bad] = res.report.errors
    assert (bad.table, bad.row, bad.column, bad.value) == ("表格2（在线咨询续表）", 2, "是否必填", "可能")
