"""Comparing two spec editions: added/removed/changed data sets, fields and codes, with impact."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import hlwjr
from hlwjr.spec._diff import diff_specs

MINI = Path(__file__).parent / "data" / "core_minispec"


def _edit(tmp_path, edits: dict[str, list[tuple[str, str]]], name="new") -> Path:
    d = tmp_path / name
    shutil.copytree(MINI, d)
    for file, pairs in edits.items():
        p = d / file
        text = p.read_text(encoding="utf-8") if p.exists() else ""
        for old, new in pairs:
            if old is None:
                text += new
            else:
                assert old in text, (file, old)
                text = text.replace(old, new)
        p.write_text(text, encoding="utf-8")
    return d


def test_identical_specs_have_no_differences():
    d = diff_specs(MINI, MINI)
    assert not d and len(d) == 0
    assert "没有差异" in d.to_text()
    assert d.to_frame().empty


@pytest.fixture
def changed(tmp_path):
    new = _edit(
        tmp_path,
        {
            "datasets/a.yaml": [
                (
                    "{key: bussID, name: 复诊ID, max_length: 64, required: true}",
                    "{key: bussID, name: 复诊ID, max_length: 32, required: true}",
                ),
                (
                    "{key: age, name: 年龄, type: integer, minimum: 0}",
                    "{key: age, name: 年龄, type: decimal, minimum: 0}",
                ),
                (
                    "  - {key: guardianName, name: 监护人, required: guardian}\n",
                    "  - {key: guardianName, name: 监护人, required: guardian}\n"
                    "  - {key: mobile, name: 手机号, max_length: 20, required: true}\n"
                    "  - {key: note, name: 备注, max_length: 200}\n",
                ),
            ],
            "datasets/b.yaml": [
                ("{key: d, name: 日期, type: datetime}", "{key: dt, name: 日期, type: datetime}"),
                (
                    "{key: fee, name: 金额, type: decimal, precision: 2, total_digits: 12}",
                    "{key: fee, name: 处方金额, type: decimal, precision: 4, total_digits: 14, required: true}",
                ),
            ],
            "datasets/b_line.yaml": [("max_length: 100", "max_length: 200")],
            "codesets/sex.csv": [("9,未说明的性别\n", "9,未说明\n"), ("0,未知的性别\n", ""), (None, "3,第三类\n")],
            "spec.yaml": [
                ("datasets: [a, b, b_line]", "datasets: [a, b, b_line, c]"),
                ('spec_version: "1"', 'spec_version: "2"'),
            ],
            "datasets/c.yaml": [
                (None, "code: c\nname: 评价\nkey: [eid]\nfields:\n  - {key: eid, name: 评价ID, required: true}\n")
            ],
        },
    )
    return diff_specs(MINI, new)


def _one(d, **kw):
    found = [c for c in d.changes if all(getattr(c, k) == v for k, v in kw.items())]
    assert len(found) == 1, (kw, [str(c) for c in d.changes])
    return found[0]


def test_field_changes_with_impact(changed):
    c = _one(changed, dataset="a", field="bussID", attribute="max_length")
    assert (c.old, c.new, c.impact) == (64, 32, "breaking") and "最大长度: 64 → 32" in c.message
    c = _one(changed, dataset="b_line", field="drname", attribute="max_length")
    assert (c.old, c.new, c.impact) == (100, 200, "compatible")
    c = _one(changed, dataset="a", field="age", attribute="type")
    assert (c.old, c.new, c.impact) == ("integer", "decimal", "breaking")
    c = _one(changed, dataset="b", field="fee", attribute="precision")
    assert (c.old, c.new) == (2, 4)
    assert _one(changed, dataset="b", field="fee", attribute="total_digits").new == 14
    c = _one(changed, dataset="b", field="fee", attribute="required")
    assert c.impact == "breaking" and "非必填 → 必填" in c.message
    c = _one(changed, dataset="b", field="fee", attribute="name")
    assert (c.old, c.new, c.impact) == ("金额", "处方金额", "info")


def test_added_removed_and_renamed_fields(changed):
    c = _one(changed, object="field", change="added", field="mobile")
    assert c.impact == "breaking" and "必填" in c.message
    assert _one(changed, object="field", change="added", field="note").impact == "compatible"
    c = _one(changed, object="field", change="renamed")
    assert (c.dataset, c.old, c.new) == ("b", "d", "dt")
    assert not changed.filter(object="field", change="removed")


def test_data_sets_and_codes(changed):
    c = _one(changed, object="dataset", change="added")
    assert c.dataset == "c" and c.impact == "breaking"
    assert _one(changed, object="code", change="removed").code == "0"
    assert _one(changed, object="code", change="added").code == "3"
    c = _one(changed, object="code", change="changed")
    assert (c.code, c.old, c.new) == ("9", "未说明的性别", "未说明")
    assert changed.new_version == "2"


def test_frame_text_and_json(changed):
    df = changed.to_frame()
    assert list(df.columns) == [
        "object",
        "change",
        "dataset",
        "field",
        "code_set",
        "code",
        "attribute",
        "old",
        "new",
        "impact",
        "message",
    ]
    assert len(df) == len(changed)
    assert df.loc[df["attribute"] == "required", "new"].iloc[0] == "是"
    text = changed.to_text()
    assert text.startswith("规范对比: t 1 → t 2")
    assert "数据集 a:" in text and "值域 sex:" in text and "[需处理]" in text
    js = changed.to_dict()
    assert js["summary"]["breaking"] == len(changed.breaking) and js["summary"]["total"] == len(changed)


def test_removed_data_set_and_code_set(tmp_path):
    new = _edit(
        tmp_path,
        {
            "spec.yaml": [
                ("datasets: [a, b, b_line]", "datasets: [a]"),
                ("code_sets:\n  - {id: sex, name: 性别, standard: GB/T 2261.1}\n", ""),
            ],
            "datasets/a.yaml": [("code_set: sex, ", "")],
        },
    )
    d = diff_specs(MINI, new)
    assert {c.dataset for c in d.filter(object="dataset", change="removed")} == {"b", "b_line"}
    assert _one(d, object="code_set", change="removed").code_set == "sex"
    assert _one(d, field="sex", attribute="code_set").impact == "compatible"


def test_against_the_reference_spec_itself():
    assert not diff_specs("beijing-reference", hlwjr.load_spec("beijing-reference"))


def test_html_for_notebooks(changed):
    html = changed._repr_html_()
    assert "需处理" in html and "<table" in html
    assert "没有差异" in diff_specs(MINI, MINI)._repr_html_()


def test_description_changes_only_on_request(tmp_path):
    new = _edit(
        tmp_path,
        {
            "datasets/a.yaml": [
                (
                    "{key: age, name: 年龄, type: integer, minimum: 0}",
                    "{key: age, name: 年龄, type: integer, minimum: 0, description: 周岁}",
                )
            ]
        },
    )
    assert not diff_specs(MINI, new)
    c = _one(diff_specs(MINI, new, descriptions=True), field="age", attribute="description")
    assert c.impact == "info" and "说明有改动" in c.message


def test_a_dropped_data_set_is_not_matched_to_one_that_keeps_its_code(tmp_path):
    """Old ``a`` is gone and the new ``b_line`` now carries a's Chinese name: ``b_line`` is still
    ``b_line`` (same code), so ``a`` is reported as removed, not as renamed to ``b_line``."""
    new = _edit(
        tmp_path,
        {
            "spec.yaml": [("datasets: [a, b, b_line]", "datasets: [b, b_line]")],
            "datasets/b.yaml": [
                ("depends_on: [a]\n", ""),
                ("references:\n  - {fields: {bussID: bussID}, datasets: [a]}\n", ""),
            ],
            "datasets/b_line.yaml": [("name: 处方明细", "name: 复诊")],
        },
    )
    d = diff_specs(MINI, new)
    kinds = {(c.object, c.change, c.dataset) for c in d.changes}
    assert ("dataset", "removed", "a") in kinds
    assert not any(c.object == "dataset" and c.change == "renamed" for c in d.changes)
