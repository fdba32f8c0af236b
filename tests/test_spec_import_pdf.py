"""Interface documents published as PDF: ruled field tables and dictionaries read like Word's, a
table split across pages read as one (a row broken by the page one row), running page headers/footers
and page numbers left out, headings found by size; a PDF without a text layer (a scan) refused with what to do."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hlwjr import SpecImportError
from hlwjr.spec.importing._importer import import_spec

reportlab = pytest.importorskip("reportlab")
from reportlab.lib import colors  # noqa: E402
from reportlab.lib.pagesizes import A4  # noqa: E402
from reportlab.lib.styles import ParagraphStyle  # noqa: E402
from reportlab.pdfbase import pdfmetrics  # noqa: E402
from reportlab.pdfbase.cidfonts import UnicodeCIDFont  # noqa: E402
from reportlab.pdfgen import canvas  # noqa: E402
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle  # noqa: E402

pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
BODY = ParagraphStyle("body", fontName="STSong-Light", fontSize=10)
HEADING = ParagraphStyle("heading", fontName="STSong-Light", fontSize=14)
_SETTINGS = settings(
    max_examples=int(__import__("os").environ.get("PDF_EXAMPLES", 8)),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

HEADERS = [
    ["序号", "数据项", "数据元名称", "类型及长度", "约束", "备注"],
    ["序号", "字段名", "中文名称", "数据类型", "是否必填", "说明"],
    ["No", "字段代码", "字段名称", "类型", "必填", "描述"],
]
TYPES = [("VARCHAR2(18)", "string"), ("NUMBER(3)", "integer"), ("NUMBER(10,2)", "decimal"), ("DATE", "date")]
REQUIRED = {"M": True, "O": False, "是": True, "否": False, "Y": True, "N": False}


def _table(rows, spans=()):
    t = Table(rows, repeatRows=1)
    style = [("FONTNAME", (0, 0), (-1, -1), "STSong-Light"), ("GRID", (0, 0), (-1, -1), 0.5, colors.black)]
    t.setStyle(TableStyle(style + list(spans)))
    return t


def _three_line(rows, **kw):
    """A 三线表: rules above and below the header row and below the last row, no vertical rules."""
    t = Table(rows, **kw)
    rules = [("LINEABOVE", (0, 0), (-1, 0), 1, colors.black), ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black)]
    rules.append(("LINEBELOW", (0, -1), (-1, -1), 1, colors.black))
    t.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), "STSong-Light"), *rules]))
    return t


def _running(title):
    def draw(c, doc):
        c.setFont("STSong-Light", 9)
        c.drawString(250, 20, f"第 {doc.page} 页")
        c.drawString(180, 815, title)

    return draw


def _fields(n, header, marks):
    rows = [header]
    for i in range(1, n + 1):
        type_text, _ = TYPES[i % len(TYPES)]
        mark = marks[i % 2]
        rows.append([str(i), f"field{i}", f"字段名称{i}", type_text, mark, "见字典 CV02.01.101" if i == 2 else ""])
    return rows


@given(
    n=st.integers(min_value=3, max_value=90),
    header=st.sampled_from(HEADERS),
    marks=st.sampled_from([("M", "O"), ("是", "否"), ("Y", "N")]),
    running=st.booleans(),
)
@_SETTINGS
def test_a_pdf_field_table_over_pages_reads_as_one_data_set(tmp_path, n, header, marks, running):
    story = [Paragraph("3.2 在线复诊信息上传", HEADING), Paragraph("接口地址：/api/revisit/upload", BODY)]
    story += [_table(_fields(n, header, marks)), Spacer(1, 12), Paragraph("附录A 字典", HEADING)]
    dictionary = [["字典编码", "值", "含义"], ["CV02.01.101", "01", "居民身份证"]]
    dictionary += [["", "02", "护照"], ["", "03", "军官证"]]
    story.append(_table(dictionary, [("SPAN", (0, 1), (0, 3))]))
    draw = _running("互联网医院监管平台数据接口规范 V2.3") if running else (lambda c, d: None)
    SimpleDocTemplate(str(tmp_path / "doc.pdf"), pagesize=A4).build(story, onFirstPage=draw, onLaterPages=draw)
    spec = import_spec(tmp_path / "doc.pdf").spec
    (ds,) = spec.datasets.values()
    assert ds.name == "在线复诊信息上传"
    assert list(ds.fields) == [f"field{i}" for i in range(1, n + 1)]
    for i, f in enumerate(ds.fields.values(), start=1):
        assert f.name == f"字段名称{i}"
        assert f.type == TYPES[i % len(TYPES)][1]
        assert f.required == REQUIRED[marks[i % 2]]
    assert dict(spec.code_set(ds.fields["field2"].code_set).codes) == {"01": "居民身份证", "02": "护照", "03": "军官证"}


def test_a_pdf_without_text_is_refused_as_a_scan(tmp_path):
    c = canvas.Canvas(str(tmp_path / "scan.pdf"), pagesize=A4)
    c.rect(100, 100, 300, 400, fill=1)
    c.showPage()
    c.save()
    with pytest.raises(SpecImportError, match="扫描件"):
        import_spec(tmp_path / "scan.pdf")


def test_a_damaged_pdf_is_refused_with_one_line(tmp_path):
    (tmp_path / "bad.pdf").write_bytes(b"%PDF-1.7\n garbage")
    with pytest.raises(SpecImportError, match="无法作为 PDF 打开"):
        import_spec(tmp_path / "bad.pdf")


WRAP = ParagraphStyle("wrap", fontName="STSong-Light", fontSize=9, wordWrap="CJK")
LONG_FIELDS = [
    ("patientCertificateNumber", "患者证件号码（居民身份证号码）", "VARCHAR2(18)", "string"),
    ("prescriptionIssueDateTime", "处方开具日期时间", "DATETIME", "datetime"),
    ("totalSettlementAmount", "结算总金额（元，保留两位小数）", "NUMBER(12,2)", "decimal"),
]


@given(widths=st.tuples(*(st.integers(min_value=34, max_value=90) for _ in range(3))))
@_SETTINGS
def test_cells_wrapped_by_a_narrow_column_read_whole(tmp_path, widths):
    """A narrow column prints VARCHAR2(18) as VARC / HAR2( / 18): the lines are one value again; an
    enumeration written one item a line stays one item a line."""
    header = [Paragraph(h, WRAP) for h in ["序号", "数据项", "数据元名称", "类型及长度", "约束", "备注"]]
    rows = [header] + [
        [Paragraph(x, WRAP) for x in (str(i), key, name, type_text, "M", "1:男<br/>2:女" if i == 1 else "")]
        for i, (key, name, type_text, _t) in enumerate(LONG_FIELDS, start=1)
    ]
    t = Table(rows, colWidths=[22, widths[0], widths[1], widths[2], 22, 80])
    t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black)]))
    SimpleDocTemplate(str(tmp_path / "doc.pdf"), pagesize=A4).build([Paragraph("3.3 在线处方 recipe", HEADING), t])
    (ds,) = import_spec(tmp_path / "doc.pdf").spec.datasets.values()
    assert [(k, f.name, f.type) for k, f in ds.fields.items()] == [(k, n, t) for k, n, _x, t in LONG_FIELDS]
    assert ds.fields["patientCertificateNumber"].max_length == 18
    assert ds.fields["patientCertificateNumber"].description.splitlines() == ["1:男", "2:女"]


@given(n=st.integers(min_value=2, max_value=12), header=st.sampled_from(HEADERS), note=st.booleans())
@_SETTINGS
def test_a_three_line_table_without_vertical_rules_is_read(tmp_path, n, header, note):
    """三线表: rules above and below the header and below the last row only — columns by alignment;
    the title and the note around it stay paragraphs."""
    t = _three_line(_fields(n, header, ("M", "O")))
    story = [Paragraph("3.4 在线咨询 consult", HEADING), Paragraph("说明：咨询结束后上传。", BODY), t]
    if note:
        story.append(Paragraph("注：以上字段按国家标准填写。", BODY))
    SimpleDocTemplate(str(tmp_path / "doc.pdf"), pagesize=A4).build(story)
    (ds,) = import_spec(tmp_path / "doc.pdf").spec.datasets.values()
    assert ds.code == "consult" and ds.name == "在线咨询"
    assert list(ds.fields) == [f"field{i}" for i in range(1, n + 1)]
    assert [f.required for f in ds.fields.values()] == [i % 2 == 0 for i in range(1, n + 1)]  # M on even rows


@given(n=st.integers(min_value=45, max_value=110), repeat=st.booleans(), header=st.sampled_from(HEADERS))
@_SETTINGS
def test_a_three_line_table_over_pages_reads_as_one_data_set(tmp_path, n, repeat, header):
    """A 三线表 longer than a page, its header repeated on each page or not: one data set, every row."""
    t = _three_line(_fields(n, header, ("M", "O")), repeatRows=1 if repeat else 0)
    story = [Paragraph("3.5 在线处方 recipe", HEADING), t, Paragraph("注：处方明细见 3.6。", BODY)]
    draw = _running("互联网医院监管平台数据接口规范 V2.3")
    SimpleDocTemplate(str(tmp_path / "doc.pdf"), pagesize=A4).build(story, onFirstPage=draw, onLaterPages=draw)
    (ds,) = import_spec(tmp_path / "doc.pdf").spec.datasets.values()
    assert ds.code == "recipe"
    assert list(ds.fields) == [f"field{i}" for i in range(1, n + 1)]


@given(n=st.integers(min_value=2, max_value=8))
@_SETTINGS
def test_prose_on_the_page_after_a_finished_three_line_table_stays_prose(tmp_path, n):
    """A 三线表 closed by its bottom rule does not go on: the next page's text is paragraphs."""
    from reportlab.platypus import PageBreak

    prose = "本接口的数据由医院信息系统每日定时汇总上传 每条记录对应一次复诊 字段含义见上表"
    story = [Paragraph("3.6 在线复诊 revisit", HEADING), _three_line(_fields(n, HEADERS[1], ("是", "否")))]
    story += [PageBreak(), Paragraph(prose, BODY), Paragraph("附录B 其他说明", HEADING)]
    SimpleDocTemplate(str(tmp_path / "doc.pdf"), pagesize=A4).build(story)
    result = import_spec(tmp_path / "doc.pdf")
    (ds,) = result.spec.datasets.values()
    assert list(ds.fields) == [f"field{i}" for i in range(1, n + 1)] and result.report.tables == 1


NOTES = "本字段填写患者在医院信息系统中的唯一标识，须与挂号记录一致；如为复诊患者，应与首诊记录保持一致，不得重复生成"
NAMES = "患者就诊时所持有效身份证件的号码（居民身份证、护照、港澳居民来往内地通行证等）"


def _wrapped_fields(n, header, lengths, name_lengths):
    """Field rows whose 名称 and 说明 cells are Paragraphs of the given lengths (they wrap in the
    narrow columns); row 1's 说明 is an enumeration, one item a line."""
    rows = [[Paragraph(h, WRAP) for h in header]]
    for i in range(1, n + 1):
        type_text, _ = TYPES[i % len(TYPES)]
        note = "1:男<br/>2:女" if i == 1 else NOTES[: lengths[i % len(lengths)]]
        name = f"字段名称{i}" + NAMES[: name_lengths[i % len(name_lengths)]]
        cells = [str(i), f"field{i}", name, type_text, ("M", "O")[i % 2], note]
        rows.append([Paragraph(c, WRAP) for c in cells])
    return rows


def _expected_names(n, name_lengths):
    return [f"字段名称{i}" + NAMES[: name_lengths[i % len(name_lengths)]] for i in range(1, n + 1)]


@given(
    n=st.integers(min_value=2, max_value=9),
    header=st.sampled_from(HEADERS),
    lengths=st.lists(st.integers(min_value=0, max_value=len(NOTES)), min_size=1, max_size=4),
    name_lengths=st.lists(st.integers(min_value=0, max_value=30), min_size=1, max_size=3),
    valign=st.sampled_from(["TOP", "MIDDLE"]),
    widths=st.tuples(st.integers(min_value=60, max_value=110), st.integers(min_value=50, max_value=140)),
    rules=st.sampled_from(["none", "three_line", "between_rows"]),
)
@_SETTINGS
def test_a_three_line_table_with_wrapped_cells_reads_one_row_a_field(
    tmp_path, n, header, lengths, name_lengths, valign, widths, rules
):
    """Cells wrapped over lines in a table without vertical rules (top-aligned or vertically centred;
    no rules, the 三线表's, or a rule under every row): each field one row, its wrapped 名称 and 说明
    whole."""
    rows = _wrapped_fields(n, header, lengths, name_lengths)
    widths = [26, 90, widths[0], 72, 30, widths[1]]
    t = _three_line(rows, colWidths=widths) if rules == "three_line" else Table(rows, colWidths=widths)
    if rules == "between_rows":
        t.setStyle(TableStyle([("LINEBELOW", (0, 0), (-1, -1), 0.5, colors.black)]))
    t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), valign)]))
    story = [Paragraph("3.7 在线复诊 revisit", HEADING), t, Spacer(1, 12), Paragraph("附录C 其他", HEADING)]
    SimpleDocTemplate(str(tmp_path / "doc.pdf"), pagesize=A4).build(story)
    result = import_spec(tmp_path / "doc.pdf")
    (ds,) = result.spec.datasets.values()
    assert list(ds.fields) == [f"field{i}" for i in range(1, n + 1)]
    assert [f.name for f in ds.fields.values()] == _expected_names(n, name_lengths)
    assert [f.type for f in ds.fields.values()] == [TYPES[i % len(TYPES)][1] for i in range(1, n + 1)]
    assert ds.fields["field1"].description.splitlines() == ["1:男", "2:女"]
    for i in range(2, n + 1):
        assert (ds.fields[f"field{i}"].description or "").replace("\n", "") == NOTES[: lengths[i % len(lengths)]]


PROSE = [
    "本接口的数据由医院信息系统每日定时汇总上传，每条记录对应一次复诊，字段含义见上表。",
    "注：以上字段均按国家卫生健康委员会发布的数据元标准填写。",
    "Data are uploaded daily by the hospital information system, one record per visit.",
]


@given(
    n=st.integers(min_value=2, max_value=10),
    header=st.sampled_from(HEADERS),
    prose=st.lists(st.sampled_from(PROSE), max_size=2),
    gap=st.sampled_from([0, 6, 30]),
    second=st.sampled_from(["ruled", "three_line", "borderless"]),
    before=st.booleans(),
    header_size=st.sampled_from([8.5, 10, 11]),
)
@_SETTINGS
def test_a_borderless_table_ends_where_its_text_stops_fitting_the_columns(
    tmp_path, n, header, prose, gap, second, before, header_size
):
    """A table with no rules at all ends where the text stops fitting its columns: the prose after it
    stays paragraphs, the heading after it titles the next table (ruled, 三线表 or borderless again,
    on the same page); a 三线表 above it on the page lends it no rules; its header may be printed a
    size smaller or larger than its rows."""
    dictionary = _three_line([["字典编码", "值", "含义"], ["CV02.01.101", "01", "居民身份证"], ["", "02", "护照"]])
    story = [dictionary, Paragraph(PROSE[1], BODY)] if before else []
    story += [
        Paragraph("3.8 在线复诊 revisit", HEADING),
        Table(
            _fields(n, header, ("M", "O")),
            style=[("FONTNAME", (0, 0), (-1, -1), "STSong-Light"), ("FONTSIZE", (0, 0), (-1, 0), header_size)],
        ),
    ]
    story += [Spacer(1, gap)] + [Paragraph(p, BODY) for p in prose] + [Paragraph("3.9 在线处方 recipe", HEADING)]
    rows = [[c.replace("field", "item") for c in r] for r in _fields(3, HEADERS[1], ("是", "否"))]
    plain = Table(rows, style=[("FONTNAME", (0, 0), (-1, -1), "STSong-Light")])
    story.append({"ruled": _table(rows), "three_line": _three_line(rows), "borderless": plain}[second])
    SimpleDocTemplate(str(tmp_path / "doc.pdf"), pagesize=A4).build(story)
    result = import_spec(tmp_path / "doc.pdf")
    revisit, recipe = result.spec.datasets.values()
    assert (revisit.code, revisit.name, recipe.code, recipe.name) == ("revisit", "在线复诊", "recipe", "在线处方")
    assert list(revisit.fields) == [f"field{i}" for i in range(1, n + 1)]
    assert list(recipe.fields) == ["item1", "item2", "item3"]
    assert [f.required for f in recipe.fields.values()] == [False, True, False]
    written = " ".join(f"{f.name} {f.description or ''}" for ds in (revisit, recipe) for f in ds.fields.values())
    assert not any(p[:8] in written for p in prose) and result.report.tables == 2 + before


@given(
    n=st.integers(min_value=2, max_value=8),
    header=st.sampled_from([*HEADERS, ["No", "Field", "中文 名称", "Data Type", "Required", "Description"]]),
    order=st.permutations(range(6)),
    centred=st.booleans(),
    ruled=st.booleans(),
)
@_SETTINGS
def test_columns_in_any_order_with_a_centred_header_are_read(tmp_path, n, header, order, centred, ruled):
    """A table without vertical rules, its columns in any order, its header centred over left-aligned
    values (they start left of the header's words), header words with a space inside: every field
    with its name, type and 必填."""
    rows = [[r[i] for i in order] for r in _fields(n, header, ("M", "O"))]
    rows[1][order.index(5)] = "患者在本院的唯一标识，与挂号记录一致"
    t = _three_line(rows) if ruled else Table(rows, style=[("FONTNAME", (0, 0), (-1, -1), "STSong-Light")])
    t.setStyle(TableStyle([("ALIGN", (0, 0), (-1, 0), "CENTER" if centred else "LEFT")]))
    story = [Paragraph("3.10 在线咨询 consult", HEADING), t, Paragraph("附录D 其他", HEADING)]
    SimpleDocTemplate(str(tmp_path / "doc.pdf"), pagesize=A4).build(story)
    (ds,) = import_spec(tmp_path / "doc.pdf").spec.datasets.values()
    assert list(ds.fields) == [f"field{i}" for i in range(1, n + 1)]
    assert [f.name for f in ds.fields.values()] == [f"字段名称{i}" for i in range(1, n + 1)]
    assert [f.type for f in ds.fields.values()] == [TYPES[i % len(TYPES)][1] for i in range(1, n + 1)]
    assert [f.required for f in ds.fields.values()] == [i % 2 == 0 for i in range(1, n + 1)]


MEANINGS = [
    "居民身份证",
    "中国人民解放军军官证（含文职干部证）",
    "港澳居民来往内地通行证",
    "台湾居民来往大陆通行证",
    "护照",
]


@given(
    k=st.integers(min_value=2, max_value=5),
    width=st.integers(min_value=40, max_value=120),
    valign=st.sampled_from(["TOP", "MIDDLE"]),
    ruled=st.booleans(),
)
@_SETTINGS
def test_a_dictionary_without_vertical_rules_reads_wrapped_meanings_whole(tmp_path, k, width, valign, ruled):
    """A code table (字典) without vertical rules, its 含义 wrapped in a narrow column and its 字典编码
    written once for the set: each code with its whole meaning."""
    rows = [[Paragraph(h, WRAP) for h in ("字典编码", "值", "含义")]]
    rows += [
        [Paragraph("CV02.01.101" if i == 0 else "", WRAP), f"0{i + 1}", Paragraph(m, WRAP)]
        for i, m in enumerate(MEANINGS[:k])
    ]
    t = _three_line(rows, colWidths=[80, 30, width]) if ruled else Table(rows, colWidths=[80, 30, width])
    t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), valign), ("FONTNAME", (0, 0), (-1, -1), "STSong-Light")]))
    story = [Paragraph("3.11 在线复诊 revisit", HEADING), _table(_fields(3, HEADERS[1], ("是", "否")))]
    story += [Paragraph("附录A 字典", HEADING), t, Paragraph("附录B 其他说明", HEADING)]
    SimpleDocTemplate(str(tmp_path / "doc.pdf"), pagesize=A4).build(story)
    spec = import_spec(tmp_path / "doc.pdf").spec
    (ds,) = spec.datasets.values()
    codes = dict(spec.code_set(ds.fields["field2"].code_set).codes)
    assert codes == {f"0{i + 1}": m for i, m in enumerate(MEANINGS[:k])}


@given(
    n=st.integers(min_value=25, max_value=45),
    repeat=st.booleans(),
    valign=st.sampled_from(["TOP", "MIDDLE"]),
    lengths=st.lists(st.integers(min_value=0, max_value=len(NOTES)), min_size=1, max_size=3),
    ruled=st.booleans(),
    split=st.booleans(),
)
# a row broken over the page under a repeated header: its rest sits between the header and the next row
@example(n=25, repeat=True, valign="TOP", lengths=[49], ruled=False, split=True)
@example(n=25, repeat=True, valign="TOP", lengths=[49], ruled=True, split=True)
# the last row's rest alone at the next page's top, the table ending there (a heading after it)
@example(n=25, repeat=False, valign="TOP", lengths=[0, 25, 0], ruled=False, split=True)
@example(n=25, repeat=True, valign="TOP", lengths=[0, 25, 0], ruled=True, split=True)
# the last row's rest alone under the header repeated on the next page
@example(n=39, repeat=True, valign="TOP", lengths=[49], ruled=False, split=True)
@example(n=39, repeat=True, valign="TOP", lengths=[49], ruled=True, split=True)
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_wrapped_table_without_vertical_rules_over_pages_reads_every_row(
    tmp_path, n, repeat, valign, lengths, ruled, split
):
    """Wrapped cells in a table without vertical rules over several pages (header repeated or not,
    running page header and footer, a top-aligned row broken over the page as Word allows — reportlab
    draws a centred one broken over the page on top of the next row): every field once,
    its 说明 whole."""
    rows = _wrapped_fields(n, HEADERS[0], lengths, [0])
    kw = {
        "colWidths": [26, 90, 70, 72, 30, 120],
        "repeatRows": 1 if repeat else 0,
        "splitInRow": int(split and valign == "TOP"),
    }
    t = _three_line(rows, **kw) if ruled else Table(rows, **kw)
    t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), valign)]))
    story = [Paragraph("3.12 在线处方 recipe", HEADING), t, Paragraph("附录E 其他", HEADING)]
    draw = _running("互联网医院监管平台数据接口规范 V2.3")
    SimpleDocTemplate(str(tmp_path / "doc.pdf"), pagesize=A4).build(story, onFirstPage=draw, onLaterPages=draw)
    (ds,) = import_spec(tmp_path / "doc.pdf").spec.datasets.values()
    assert list(ds.fields) == [f"field{i}" for i in range(1, n + 1)]
    for i in range(2, n + 1):
        assert (ds.fields[f"field{i}"].description or "").replace("\n", "") == NOTES[: lengths[i % len(lengths)]]


@given(
    n=st.integers(min_value=1, max_value=4),
    rest=st.integers(min_value=1, max_value=3),
    top=st.integers(min_value=30, max_value=55),
)
@_SETTINGS
def test_a_row_broken_over_a_page_is_one_row(tmp_path, n, rest, top):
    """A top-aligned row broken over the page (Word's 允许跨行断页): the 说明 lines at the top of the next
    page belong to the previous page's last row, not to the next row."""
    c = canvas.Canvas(str(tmp_path / "doc.pdf"), pagesize=A4)
    xs, y = [60, 100, 200, 300, 380, 420], 780

    def row(cells, y):
        for x, text in zip(xs, cells, strict=True):
            if text:
                c.drawString(x, y, text)

    c.setFont("STSong-Light", 14)
    c.drawString(60, y, "3.13 在线咨询 consult")
    c.setFont("STSong-Light", 10)
    row(["序号", "字段名", "中文名称", "数据类型", "必填", "说明"], y - 30)
    rows = int((y - 30 - top * 10) // 18)
    for i in range(1, rows + 1):
        row([str(i), f"field{i}", f"字段名称{i}", "VARCHAR2(18)", "M", "说明第1行"], y - 30 - 18 * i)
    c.showPage()
    c.setFont("STSong-Light", 10)
    for k in range(rest):
        c.drawString(420, 740 - 12 * k, f"续{k + 2}行")
    for i in range(rows + 1, rows + n + 1):
        row([str(i), f"field{i}", f"字段名称{i}", "DATE", "O", ""], 740 - 12 * (rest - 1) - 18 * (i - rows))
    c.showPage()
    c.save()
    (ds,) = import_spec(tmp_path / "doc.pdf").spec.datasets.values()
    assert list(ds.fields) == [f"field{i}" for i in range(1, rows + n + 1)]
    assert ds.fields[f"field{rows}"].description.replace("\n", "") == "说明第1行" + "".join(
        f"续{k + 2}行" for k in range(rest)
    )
    assert not ds.fields[f"field{rows + 1}"].description


@given(
    x=st.sampled_from([200, 300, 420, 480]),
    caption=st.sampled_from(["续表", "续表3.13", "（续）"]),
    gap=st.integers(min_value=14, max_value=30),
)
@_SETTINGS
def test_a_caption_above_the_header_repeated_on_the_next_page_is_not_a_row_s_rest(tmp_path, x, caption, gap):
    """A 续表 caption typed above the header repeated on the next page, in a column of the table: the
    previous page's last row keeps its 说明 (the caption is not its rest)."""
    c = canvas.Canvas(str(tmp_path / "doc.pdf"), pagesize=A4)
    xs = [60, 100, 200, 300, 380, 420]

    def row(cells, y):
        for left, text in zip(xs, cells, strict=True):
            if text:
                c.drawString(left, y, text)

    header = ["序号", "字段名", "中文名称", "数据类型", "必填", "说明"]
    c.setFont("STSong-Light", 14)
    c.drawString(60, 780, "3.13 在线咨询 consult")
    c.setFont("STSong-Light", 10)
    row(header, 750)
    rows = 36
    for i in range(1, rows + 1):
        row([str(i), f"field{i}", f"字段名称{i}", "DATE", "O", "说明"], 750 - 18 * i)
    c.showPage()
    c.setFont("STSong-Light", 10)
    c.drawString(x, 740 + gap, caption)
    row(header, 740)
    for i in range(rows + 1, rows + 4):
        row([str(i), f"field{i}", f"字段名称{i}", "DATE", "O", ""], 740 - 18 * (i - rows))
    c.showPage()
    c.save()
    (ds,) = import_spec(tmp_path / "doc.pdf").spec.datasets.values()
    assert list(ds.fields) == [f"field{i}" for i in range(1, rows + 4)]
    assert ds.fields[f"field{rows}"].description == "说明"


@given(
    width=st.integers(min_value=50, max_value=90),
    valign=st.sampled_from(["TOP", "MIDDLE"]),
    ruled=st.booleans(),
    unnumbered=st.integers(min_value=1, max_value=3),
)
@_SETTINGS
def test_a_wrapped_field_code_is_one_row_when_a_number_column_numbers_the_rows(
    tmp_path, width, valign, ruled, unnumbered
):
    """A field code wrapped by a narrow column (patientCertificat / eNumber) in a table without
    vertical rules: 序号 numbering the rows keeps them apart; a row written without 序号 stays a row."""
    header = [Paragraph(h, WRAP) for h in ("序号", "字段名", "中文名称", "数据类型", "必填", "说明")]
    rows, keys, i = [header], [], 0
    for n, (key, name, type_text, _t) in enumerate(LONG_FIELDS * 2):
        code = f"{key}{n}"
        numbered = n != unnumbered
        i += numbered
        rows.append([str(i) if numbered else "", Paragraph(code, WRAP), name[:6], type_text, "M", ""])
        keys.append(code)
    t = (
        _three_line(rows, colWidths=[30, width, 80, 80, 30, 60])
        if ruled
        else Table(rows, colWidths=[30, width, 80, 80, 30, 60])
    )
    t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), valign), ("FONTNAME", (0, 0), (-1, -1), "STSong-Light")]))
    SimpleDocTemplate(str(tmp_path / "doc.pdf"), pagesize=A4).build([Paragraph("3.14 在线处方 recipe", HEADING), t])
    (ds,) = import_spec(tmp_path / "doc.pdf").spec.datasets.values()
    assert list(ds.fields) == keys


# ruled field tables drawn page by page: (header, column widths, what each column holds)
RULED_LAYOUTS = [
    (["序号", "数据元标识", "字段代码", "数据元名称", "数据类型", "长度", "说明"], [26, 80, 80, 70, 50, 28, 180]),
    (["序号", "字段代码", "字段名称", "数据类型", "是否必填", "备注"], [28, 96, 84, 76, 40, 190]),
    (["字段名", "中文名称", "类型", "必填", "描述"], [100, 90, 80, 40, 200]),
]
ENUM = ["1:居民身份证", "2:护照", "3:港澳居民来往内地通行证", "4:台湾居民来往大陆通行证", "9:其他证件"]
PARTS = ["本字段填写患者在医院", "信息系统中的唯一标识", "须与挂号记录保持一致", "复诊患者与首诊一致", "不得重复生成"]


def _ruled_cells(header, i, name, note, seq=True):
    """One field row's cells (a cell a list of lines) for a layout's header."""
    by_head = {"序号": [str(i)] if seq else [], "数据元标识": [f"DE02.01.{i:03d}.00"], "字段代码": [f"field{i}"]}
    by_head |= {"字段名": [f"field{i}"], "数据元名称": name, "字段名称": name, "中文名称": name, "长度": ["18"]}
    by_head |= {"数据类型": ["VARCHAR" if "长度" in header else "VARCHAR2(18)"], "类型": ["VARCHAR2(18)"]}
    by_head |= {"是否必填": ["是"], "必填": ["M"], "说明": note, "备注": note, "描述": note}
    return [by_head[h] for h in header]


def _draw_ruled(c, rows, widths, top):
    """Rows (cells of lines) as a ruled table from ``top`` down, every cell's lines top-aligned."""
    xs = [40 + sum(widths[:k]) for k in range(len(widths) + 1)]
    c.setFont("STSong-Light", 9)
    y = top
    c.line(xs[0], y, xs[-1], y)
    for row in rows:
        for x, cell in zip(xs, row, strict=False):
            for k, text in enumerate(cell):
                c.drawString(x + 3, y - 12 - 12 * k, text)
        y -= 12 * max(1, *(len(cell) for cell in row)) + 6
        c.line(xs[0], y, xs[-1], y)
    for x in xs:
        c.line(x, top, x, y)


def _pages(tmp_path, pages, running):
    """A PDF of pages, each a list of ("table", rows, widths) / ("text", text, size) drawn top down."""
    c = canvas.Canvas(str(tmp_path / "doc.pdf"), pagesize=A4)
    for number, items in enumerate(pages, start=1):
        if running:
            c.setFont("STSong-Light", 9)
            c.drawString(180, 815, "互联网医院监管平台数据接口规范 V2.3")
            c.drawString(260, 20, f"第 {number} 页")
        y = 780
        for kind, value, extra in items:
            if kind == "text":
                c.setFont("STSong-Light", extra)
                c.drawString(40, y, value)
                y -= 2 * extra
            else:
                _draw_ruled(c, value, extra, y)
                y -= sum(12 * max(1, *(len(cell) for cell in row)) + 6 for row in value) + 20
        c.showPage()
    c.save()
    return import_spec(tmp_path / "doc.pdf")


@given(
    layout=st.sampled_from(RULED_LAYOUTS),
    before=st.integers(min_value=0, max_value=20),
    lines=st.integers(min_value=2, max_value=5),
    kept=st.integers(min_value=1, max_value=4),
    enum=st.booleans(),
    name_wraps=st.booleans(),
    after=st.integers(min_value=0, max_value=3),
    repeat=st.booleans(),
    running=st.booleans(),
    numbered=st.booleans(),
)
@_SETTINGS
def test_a_ruled_row_broken_over_a_page_is_one_field(
    tmp_path, layout, before, lines, kept, enum, name_wraps, after, repeat, running, numbered
):
    """A ruled field table's row broken by the page (its long 说明 / 值域 wrapped past the page's foot,
    its 名称 too or not; the row with its 序号 or without): the lines at the top of the next page — in
    a first row with 序号 and code empty, under the header repeated or not — belong to the previous
    page's last field."""
    header, widths = layout
    kept = min(kept, lines - 1)
    note = (ENUM if enum else PARTS)[:lines]
    name = [f"字段名称{before + 1}", "患者证件号码"] if name_wraps else [f"字段名称{before + 1}"]
    name_kept = name[:1] if name_wraps and kept < 2 else name
    rows = [[[h] for h in header]]
    rows += [_ruled_cells(header, i, [f"字段名称{i}"], ["见字典"]) for i in range(1, before + 1)]
    rows.append(_ruled_cells(header, before + 1, name_kept, note[:kept], seq=numbered))
    rest = [[c[len(k) :] for c, k in zip(_ruled_cells(header, 0, name, note), rows[-1], strict=True)]]
    rest[0] = [[] if h in ("序号", "字段名", "字段代码", "数据元标识") else c for h, c in zip(header, rest[0])]
    more = ([[[h] for h in header]] if repeat else []) + rest
    more += [_ruled_cells(header, i, [f"字段名称{i}"], ["见字典"]) for i in range(before + 2, before + 2 + after)]
    page_one = [("text", "3.2 在线复诊信息上传 revisit", 14), ("table", rows, widths)]
    result = _pages(tmp_path, [page_one, [("table", more, widths), ("text", "附录A 其他说明", 14)]], running)
    (ds,) = result.spec.datasets.values()
    assert list(ds.fields) == [f"field{i}" for i in range(1, before + 2 + after)]
    broken = ds.fields[f"field{before + 1}"]
    assert broken.name == "".join(name)
    if enum:
        assert broken.description.splitlines() == note
    else:
        assert broken.description.replace("\n", "") == "".join(note)
    assert all(ds.fields[f"field{i}"].description == "见字典" for i in range(1, before + 2 + after) if i != before + 1)
    assert not result.report.errors


@given(
    layout=st.sampled_from(RULED_LAYOUTS),
    before=st.integers(min_value=1, max_value=15),
    first=st.sampled_from(["row", "no_seq", "text_after", "heading_before", "other_columns"]),
    repeat=st.booleans(),
    running=st.booleans(),
)
@_SETTINGS
def test_a_page_starting_with_a_row_of_its_own_keeps_it(tmp_path, layout, before, first, repeat, running):
    """What is not the rest of the previous page's last row stays out of it: a first row with its
    code (with 序号 or without), a row after a note closing the table or after a heading, a row of a
    table of other columns."""
    header, widths = layout
    head = [[h] for h in header]
    rows = [head] + [_ruled_cells(header, i, [f"字段名称{i}"], [f"说明{i}"]) for i in range(1, before + 1)]
    tail = [[] if h in ("序号", "字段名", "字段代码", "数据元标识") else [f"续{k}"] for k, h in enumerate(header)]
    own = _ruled_cells(header, before + 1, [f"字段名称{before + 1}"], [f"说明{before + 1}"], seq=first != "no_seq")
    more = ([head] if repeat else []) + ([own] if first in ("row", "no_seq") else [tail, own])
    page_one, page_two = [("text", "3.2 在线复诊信息上传 revisit", 14), ("table", rows, widths)], []
    if first == "text_after":
        page_one.append(("text", "注：以上字段均按国家标准填写。", 10))
    if first == "heading_before":
        page_two.append(("text", "3.3 在线处方信息上传 recipe", 14))
        more = [head, *more[1:]] if repeat else [head, *more]
    if first == "other_columns":
        more, widths = [r[1:] for r in more], widths[1:]
    result = _pages(tmp_path, [page_one, [*page_two, ("table", more, widths)]], running)
    revisit = next(iter(result.spec.datasets.values()))
    kept = [f"field{i}" for i in range(1, before + 1)]
    assert list(revisit.fields)[:before] == kept
    assert [revisit.fields[k].description for k in kept] == [f"说明{i}" for i in range(1, before + 1)]
    if first in ("row", "no_seq"):
        assert list(revisit.fields) == [*kept, f"field{before + 1}"]
        assert revisit.fields[f"field{before + 1}"].description == f"说明{before + 1}"
    if first == "heading_before":
        assert list(result.spec.datasets) == ["revisit", "recipe"]


@given(
    before=st.integers(min_value=1, max_value=12),
    split=st.booleans(),
    kept=st.integers(min_value=1, max_value=2),
    repeat=st.booleans(),
    running=st.booleans(),
)
@_SETTINGS
def test_a_ruled_code_table_broken_over_a_page_reads_each_code_once(tmp_path, before, split, kept, repeat, running):
    """A ruled 字典 whose 字典编码 is written on its first row only: a 含义 broken by the page goes on
    the previous page's last code; a first row with its own 值 stays a code (its 字典编码 empty too)."""
    meaning = ["中国人民解放军", "军官证（含文职", "干部证）"]
    head = [["字典编码"], ["值"], ["含义"]]
    rows = [head] + [[["CV02.01.101"] if i == 1 else [], [f"{i:02d}"], [f"证件{i}"]] for i in range(1, before + 1)]
    rows.append([[], [f"{before + 1:02d}"], meaning[:kept] if split else meaning])
    more = ([head] if repeat else []) + ([[[], [], meaning[kept:]]] if split else [])
    more.append([[], [f"{before + 2:02d}"], ["护照"]])
    fields = [
        [["序号"], ["字段名"], ["中文名称"], ["数据类型"], ["说明"]],
        [["1"], ["certType"], ["证件类型"], ["VARCHAR2(2)"], ["见字典 CV02.01.101"]],
    ]
    page_one = [("text", "3.2 在线复诊信息上传 revisit", 14), ("table", fields, [30, 90, 90, 90, 150])]
    page_one += [("text", "附录A 字典", 14), ("table", rows, [100, 40, 200])]
    spec = _pages(tmp_path, [page_one, [("table", more, [100, 40, 200])]], running).spec
    codes = dict(spec.code_set(spec.datasets["revisit"].fields["certType"].code_set).codes)
    expected = {f"{i:02d}": f"证件{i}" for i in range(1, before + 1)}
    expected |= {f"{before + 1:02d}": "".join(meaning), f"{before + 2:02d}": "护照"}
    assert {k: v.replace("\n", "") for k, v in codes.items()} == expected
