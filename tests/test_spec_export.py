"""Exporting a spec as a review document (Word / Excel) that reads like the platform's own."""

from __future__ import annotations

from pathlib import Path

import docx
import openpyxl
import pytest

import hlwjr
from hlwjr.spec._export import FIELD_TABLE_HEADER, export_spec, length_label, required_label, type_label

MINI = Path(__file__).parent / "data" / "core_minispec"


@pytest.fixture(scope="module")
def reference():
    return hlwjr.load_spec("beijing-reference")


@pytest.fixture(scope="module")
def ref_docx(reference, tmp_path_factory):
    return docx.Document(str(export_spec(reference, tmp_path_factory.mktemp("exp") / "ref.docx")))


def test_docx_title_page_states_id_version_and_notice(reference, ref_docx):
    paras = [p for p in ref_docx.paragraphs if p.text.strip()]
    assert paras[0].style.name == "Title" and paras[0].text == reference.title
    front = "\n".join(p.text for p in paras[:12])
    assert f"规范标识：{reference.id}" in front
    assert f"规范版本：{reference.version}" in front
    assert "官方文档：否" in front
    assert "非北京市官方文档" in front  # the notice, on the title page


def test_docx_one_section_per_data_set_with_field_table(reference, ref_docx):
    headings = [p.text for p in ref_docx.paragraphs if p.style.name == "Heading 2"]
    for ds in reference.datasets.values():
        title = next((h for h in headings if h.endswith(f" {ds.name} {ds.code}")), None)
        assert title is not None, ds.code
        if ds.section:
            assert title.startswith(ds.section + " ")
    field_tables = [t for t in ref_docx.tables if tuple(c.text for c in t.rows[0].cells) == FIELD_TABLE_HEADER]
    assert len(field_tables) == len(reference.datasets)
    recipe = reference.dataset("recipe")
    table = next(
        t
        for t in field_tables
        if len(t.rows) == len(recipe.fields) + 1 and t.rows[1].cells[1].text == next(iter(recipe.fields))
    )
    rows = {r.cells[1].text: [c.text for c in r.cells] for r in table.rows[1:]}
    for f in recipe.fields.values():
        row = rows[f.key]
        assert row[2] == f.name and row[3] == type_label(f) and row[4] == length_label(f)
        assert row[5] == required_label(f)
        if f.code_set:
            assert f"（{f.code_set}）" in row[6]


def test_docx_appendix_code_tables(reference, ref_docx):
    headings = [p.text for p in ref_docx.paragraphs if p.style.name.startswith("Heading")]
    assert "附录A 代码表" in headings
    sex = reference.code_set("sex")
    assert any(h.startswith("A.") and h.endswith(f"{sex.name}（{sex.id}）") for h in headings)
    code_tables = [t for t in ref_docx.tables if [c.text for c in t.rows[0].cells][:2] == ["代码", "名称"]]
    assert len(code_tables) == len(reference.code_sets)
    sizes = sorted(len(t.rows) - 1 for t in code_tables)
    assert sizes == sorted(len(cs.codes) for cs in reference.code_sets.values())


def test_xlsx_cover_sheet_per_data_set_and_code_sheet(reference, tmp_path):
    path = export_spec(reference, tmp_path / "ref.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[0] == "封面" and wb.sheetnames[-1] == "附录A 代码表"
    assert len(wb.sheetnames) == len(reference.datasets) + 2
    cover = [r[0] for r in wb["封面"].iter_rows(values_only=True) if r[0]]
    assert cover[0] == reference.title and f"规范标识：{reference.id}" in cover
    ws = wb[wb.sheetnames[1]]
    first = next(iter(reference.datasets.values()))
    assert ws["A1"].value.endswith(f"{first.name} {first.code}")
    header_row = next(r for r in ws.iter_rows(values_only=True) if r[0] == "序号")
    assert tuple(header_row[:8]) == FIELD_TABLE_HEADER


def test_labels():
    spec = hlwjr.load_spec(MINI)
    b = spec.dataset("b")
    assert (type_label(b.fields["fee"]), length_label(b.fields["fee"])) == ("数值", "12,2")
    assert required_label(spec.dataset("a").fields["guardianName"]) == "条件（guardian）"
    assert required_label(b.fields["recipeID"]) == "是" and required_label(b.fields["d"]) == "否"


def test_format_from_suffix_and_errors(tmp_path):
    assert export_spec(MINI, tmp_path / "a.xlsx").suffix == ".xlsx"
    assert export_spec(MINI, tmp_path / "b", format="docx") == tmp_path / "b.docx"
    with pytest.raises(hlwjr.ConfigError, match="不支持的导出格式"):
        export_spec(MINI, tmp_path / "c.pdf")
    with pytest.raises(hlwjr.ConfigError, match="扩展名"):
        export_spec(MINI, tmp_path / "d.docx", format="xlsx")
    with pytest.raises(hlwjr.SpecError, match="找不到规范"):
        export_spec("no-such-spec", tmp_path / "e.docx")
    # written whole or not at all: no temp files beside the outputs
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.xlsx", "b.docx"]
