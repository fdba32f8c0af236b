"""指标对照表 round trip: ``hlwjr map export`` writes the table colleagues review, ``hlwjr map import``
takes their edits back (diff first, --dry-run, located refusals, only changed files rewritten)."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

import hlwjr
from hlwjr import cli
from hlwjr.mapping._table import SHEET, TABLE_COLUMNS

ROOT = Path(__file__).parents[1]


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = cli.run(cli.parse_args(list(map(str, argv))), out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def exported(tmp_path):
    shutil.copytree(ROOT / "mapping" / "demo", tmp_path / "m")
    code, out, _ = run("map", "export", "--mapping", tmp_path / "m", "--out", tmp_path / "表.xlsx")
    assert code == 0, out
    return tmp_path / "m", tmp_path / "表.xlsx"


def _snapshot(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def _edit(path: Path, edits: dict[tuple[str, str], dict[str, str]], out: Path | None = None) -> Path:
    wb = load_workbook(path)
    ws = wb[SHEET]
    col = {c.value: c.column for c in ws[1]}
    for row in ws.iter_rows(min_row=2):
        key = (row[col["数据集"] - 1].value, row[col["字段"] - 1].value)
        for name, value in edits.get(key, {}).items():
            row[col[name] - 1].value = value
    wb.save(out or path)
    return out or path


def test_one_row_per_spec_field_with_rule_status_and_description(exported):
    m_dir, table = exported
    spec = hlwjr.load_spec()
    m = hlwjr.load_mapping(m_dir)
    ws = load_workbook(table)[SHEET]
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == TABLE_COLUMNS
    assert len(rows) - 1 == sum(len(spec.dataset(c).fields) for c in m.datasets)
    by = {(r[0], r[2]): dict(zip(TABLE_COLUMNS, r)) for r in rows[1:]}
    sex = by[("revisit", "sex")]
    assert sex["中文名"] == spec.dataset("revisit").fields["sex"].name and sex["规则"].startswith("{column:")
    assert "sex" in sex["值域对照"] and sex["状态"] in ("已通过", "待审")
    assert by[("revisit", "patientName")]["说明"]
    assert by[("revisit", "organID")]["样例值"]  # no demo source here: the reason is said instead

    unmapped = [r for r in by.values() if r["状态"] == "未对照"]
    assert all(r["规则说明"] == "（未对照）" and not r["规则"] for r in unmapped)


def test_sample_values_are_mapped_and_masked(tmp_path, monkeypatch):
    from hlwjr.demo._hospital import generate_demo_hospital

    h = generate_demo_hospital(tmp_path / "demo", days=1)
    monkeypatch.setenv("HLWJR_DEMO_DIR", str(h.out_dir))
    code, out, _ = run("map", "export", "--mapping", ROOT / "mapping" / "demo", "--out", tmp_path / "t.xlsx")
    assert code == 0, out
    rows = list(load_workbook(tmp_path / "t.xlsx")[SHEET].iter_rows(values_only=True))
    by = {(r[0], r[2]): dict(zip(TABLE_COLUMNS, r)) for r in rows[1:]}
    cert = by[("revisit", "patientCertID")]["样例值"]
    assert cert and "*" in cert and not hlwjr.check_id_number(cert.split("；")[0])
    assert by[("revisit", "sex")]["样例值"].split("；")[0] in ("0", "1", "2")
    assert "*" not in by[("revisit", "organID")]["样例值"]  # an institution code is not personal data
    code, out, _ = run("map", "import", "--mapping", ROOT / "mapping" / "demo", "--in", tmp_path / "t.xlsx")
    assert code == 0 and "没有需要导入的修改" in out


def test_importing_the_unchanged_table_changes_nothing(exported):
    m_dir, table = exported
    before = _snapshot(m_dir)
    code, out, _ = run("map", "import", "--mapping", m_dir, "--in", table)
    assert code == 0 and "没有需要导入的修改" in out
    assert _snapshot(m_dir) == before


def test_edits_come_back_with_a_diff_first(exported):
    m_dir, table = exported
    before = _snapshot(m_dir)
    _edit(
        table,
        {
            ("revisit", "patientName"): {"规则": "p.XM"},  # 状态 still 已通过: the changed rule needs review
            ("revisit", "cardNo"): {"规则": "{column: JZKH}", "状态": "已通过", "审核人": "业务科 李老师"},
            ("revisit", "mobile"): {"备注": "患者本人手机"},
        },
    )
    code, out, _ = run("map", "import", "--mapping", m_dir, "--in", table, "--dry-run")
    assert code == 0 and "3 个字段有修改" in out and "预演" in out
    assert "--- datasets/revisit.yaml" in out and "+" in out and "p.XM" in out
    assert _snapshot(m_dir) == before
    code, out, _ = run("map", "import", "--mapping", m_dir, "--in", table)
    assert code == 0 and "已写回" in out
    after = _snapshot(m_dir)
    assert [k for k in after if after[k] != before[k]] == ["datasets/revisit.yaml"]
    rv = hlwjr.load_mapping(m_dir).dataset("revisit").fields
    assert (rv["patientName"].column, rv["patientName"].status) == ("p.XM", "suggested")
    assert (rv["cardNo"].column, rv["cardNo"].status, rv["cardNo"].reviewer) == ("JZKH", "accepted", "业务科 李老师")
    assert rv["mobile"].comment == "患者本人手机"
    assert (m_dir / "mapping.yaml").read_bytes() == before["mapping.yaml"]  # comments and all


@pytest.mark.parametrize(
    "edits, message",
    [
        ({("revisit", "patientName"): {"规则": "{column: BRXM, code_map: nosuch}"}}, "值域对照表 'nosuch' 未定义"),
        ({("revisit", "patientName"): {"规则": "{column: [BRXM"}}, "「规则」无法解析"),
        ({("revisit", "patientName"): {"规则": "{colum: BRXM}"}}, "colum"),
        ({("revisit", "patientName"): {"状态": "OK"}}, "「状态」应为"),
        ({("revisit", "patientName"): {"字段": "patientNam"}}, "「字段」patientNam 不是数据集 revisit"),
        ({("revisit", "patientName"): {"数据集": "nosuch"}}, "「数据集」nosuch 不在对照配置中"),
    ],
)
def test_bad_rows_are_refused_with_sheet_row_and_column(exported, edits, message):
    m_dir, table = exported
    before = _snapshot(m_dir)
    _edit(table, edits)
    code, _out, err = run("map", "import", "--mapping", m_dir, "--in", table)
    assert code == 2 and message in err and f"「{SHEET}」第 " in err, err
    assert _snapshot(m_dir) == before


def test_an_unknown_column_is_refused(exported):
    m_dir, table = exported
    wb = load_workbook(table)
    wb[SHEET].cell(1, len(TABLE_COLUMNS) + 1, "我的意见")
    wb.save(table)
    code, _, err = run("map", "import", "--mapping", m_dir, "--in", table)
    assert code == 2 and "未知的列「我的意见」" in err and "第 1 行" in err


_cols = st.sampled_from(["BRXM", "SFZH", "LXDH", "JZKH", "p.XM", "NL"])
_fields = st.sampled_from(["patientName", "mobile", "cardNo", "age", "diseasesHistory", "originalDiagnosis"])


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.dictionaries(_fields, _cols, min_size=1))
def test_any_rule_edits_round_trip(tmp_path_factory, edits):
    d = tmp_path_factory.mktemp("tbl")
    shutil.copytree(ROOT / "mapping" / "demo", d / "m")
    m = hlwjr.load_mapping(d / "m")
    before = {k: r.to_dict() for k, r in m.dataset("revisit").fields.items()}
    from hlwjr.mapping._table import export_table, import_table

    export_table(m, d / "t.xlsx")
    _edit(d / "t.xlsx", {("revisit", k): {"规则": v} for k, v in edits.items()})
    import_table(m, d / "t.xlsx")
    m.save()
    again = hlwjr.load_mapping(d / "m").dataset("revisit").fields
    for key, rule in again.items():
        if key in edits:
            assert rule.column == edits[key]
            assert rule.status == ("suggested" if before.get(key, {}).get("column") != edits[key] else rule.status)
        else:
            assert rule.to_dict() == before[key]
    export_table(hlwjr.load_mapping(d / "m"), d / "t2.xlsx")
    assert import_table(hlwjr.load_mapping(d / "m"), d / "t2.xlsx") == []


def test_the_table_as_a_word_document_for_review(exported, tmp_path):
    from docx import Document

    mapping_dir = exported[0]
    code, out, err = run("map", "export", "--mapping", mapping_dir, "--out", tmp_path / "t.docx", "--samples", "0")
    assert code == 0, out + err
    doc = Document(str(tmp_path / "t.docx"))
    m = hlwjr.load_mapping(mapping_dir)
    assert len(doc.tables) == len(m.datasets)
    first = doc.tables[0]
    assert [c.text for c in first.rows[0].cells][:4] == ["字段", "中文名", "类型", "必填"]
    spec = m.spec()
    code0 = next(iter(m.datasets))
    assert len(first.rows) == 1 + len(list(spec.dataset(code0)))
    assert "hlwjr/mapping-table" in doc.core_properties.subject
    assert any("version" in p.text for p in doc.paragraphs)
    code, _, err = run("map", "export", "--mapping", str(mapping_dir), "--out", str(tmp_path / "t.pdf"))
    assert code == 2 and ".docx" in err
