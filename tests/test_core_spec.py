"""The spec model and loader: a small hand-written spec, and every kind of malformed file."""

from __future__ import annotations

import shutil
from pathlib import Path

import jsonschema
import pytest

import hlwjr
from hlwjr.spec._write import write_spec

MINI = Path(__file__).parent / "data" / "core_minispec"


@pytest.fixture
def mini(tmp_path):
    d = tmp_path / "spec"
    shutil.copytree(MINI, d)
    return d


def test_loads_and_looks_up_by_code_alias_and_name():
    spec = hlwjr.load_spec(MINI)
    assert spec.id == "t" and not spec.official
    assert "非官方" in spec.label
    assert spec.dataset("处方").code == "b"
    assert spec.dataset("a").field("性别").code_set == "sex"
    assert spec.code_set("GB/T 2261.1").name_of("2") == "女性"
    assert [d.code for d in spec.top_level()] == ["a", "b"]
    assert spec.children("b")[0].code == "b_line"


def test_json_schema_is_valid_draft_2020_12_and_says_what_spec_says():
    spec = hlwjr.load_spec(MINI)
    schema = spec.dataset("b").json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert set(schema["required"]) == {"recipeID", "bussID", "orderList"}
    assert schema["properties"]["orderList"]["items"]["properties"]["drname"]["maxLength"] == 100
    assert schema["properties"]["d"]["format"] == "date-time-cn"
    a = spec.dataset("a").json_schema()
    assert a["properties"]["sex"]["enum"] == ["0", "1", "2", "9"]
    # a conditional requirement is a rule, not part of "required"
    assert "guardianName" not in a["required"]
    v = jsonschema.Draft202012Validator(a)
    assert not list(v.iter_errors({"bussID": "x", "sex": "1"}))
    assert [e.validator for e in v.iter_errors({"bussID": "x", "sex": "M"})] == ["enum"]


def test_write_round_trip(tmp_path):
    spec = hlwjr.load_spec(MINI)
    out = write_spec(spec, tmp_path / "copy")
    again = hlwjr.load_spec(out)
    for code, ds in spec.datasets.items():
        assert again.dataset(code).fields == ds.fields
        assert again.dataset(code).rules == ds.rules
        assert again.dataset(code).references == ds.references
    assert dict(again.code_sets["sex"].codes) == dict(spec.code_sets["sex"].codes)


def test_write_refuses_non_empty_target(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep.txt").write_text("mine")
    with pytest.raises(hlwjr.SpecError, match="非空"):
        write_spec(hlwjr.load_spec(MINI), tmp_path / "x")
    assert (tmp_path / "x" / "keep.txt").read_text() == "mine"


@pytest.mark.parametrize(
    "file, old, new, message",
    [
        ("datasets/a.yaml", "max_length: 64", "max_lenght: 64", "未知属性 max_lenght"),
        ("datasets/a.yaml", "code_set: sex", "code_set: gender", "值域 'gender' 不存在"),
        ("datasets/a.yaml", "type: integer", "type: int", "字段类型 'int' 无效"),
        ("datasets/a.yaml", "key: [bussID]", "key: [bussNo]", "业务主键"),
        ("datasets/a.yaml", "required: guardian", "required: nobody", "条件规则 'nobody'"),
        ("datasets/b.yaml", "datasets: [a]", "datasets: [zz]", "引用的数据集 'zz' 不存在"),
        ("datasets/b.yaml", "item: b_line", "item: nope", "子数据集 'nope' 不存在"),
        ("datasets/b.yaml", "depends_on: [a]", "depends_on: [a, b]", "循环"),
        ("spec.yaml", "title: T", "title: [unclosed", "YAML 格式错误"),
        ("codesets/sex.csv", "1,男性", "1,男性,extra", "第 3 行有 3 列"),
        ("codesets/sex.csv", "2,女性", "1,女性", "code 1 重复"),
    ],
)
def test_malformed_spec_names_file_and_fix(mini, file, old, new, message):
    p = mini / file
    text = p.read_text(encoding="utf-8")
    assert old in text
    p.write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(hlwjr.SpecError) as info:
        hlwjr.load_spec(mini)
    assert message in str(info.value)
    assert Path(file).name in str(info.value)


def test_unknown_dataset_and_code_set_list_the_choices():
    spec = hlwjr.load_spec(MINI)
    with pytest.raises(hlwjr.SpecError, match="可用数据集"):
        spec.dataset("nope")
    with pytest.raises(hlwjr.SpecError, match="可用"):
        spec.code_set("nope")
    with pytest.raises(hlwjr.SpecError, match="没有字段"):
        spec.dataset("a").field("nope")


def test_missing_spec_directory_is_a_clear_error(tmp_path):
    with pytest.raises(hlwjr.SpecError, match="找不到规范"):
        hlwjr.load_spec(tmp_path / "missing")
    with pytest.raises(hlwjr.SpecError, match="缺少 spec.yaml"):
        hlwjr.load_spec(tmp_path)
