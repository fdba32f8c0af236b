"""Mapping config (指标对照配置): YAML schema, round trip, checks against spec and source, editing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

import hlwjr
from hlwjr.mapping._codemaps import load_code_map
from hlwjr.mapping._model import FieldRule

DATA = Path(__file__).parent / "data"
SPEC = DATA / "mapping_spec"


@pytest.fixture
def mdir(tmp_path):
    d = tmp_path / "m"
    shutil.copytree(DATA / "mapping_small", d)
    return d


def test_load_and_describe(mdir):
    m = hlwjr.load_mapping(mdir)
    assert (m.spec_id, m.spec_version) == ("mapping-test", "0.0.1")
    assert set(m.datasets) == {"visit", "recipe"}
    visit = m.dataset("visit")
    kinds = {r.field: r.kind for r in visit.rules()}
    assert kinds["sex"] == "code" and kinds["birthday"] == "date" and kinds["cardNo"] == "unavailable"
    assert kinds["organID"] == "const" and kinds["note"] == "concat" and kinds["age"] == "derive"
    assert m.dataset("recipe").rule("orderList").kind == "children"
    frame = visit.to_frame(hlwjr.load_spec(SPEC))
    assert list(frame["field"])[:3] == ["organID", "bussID", "patientName"]
    assert frame.set_index("field").loc["organID", "status"] == "accepted"
    assert frame.set_index("field").loc["sex", "rule"].startswith("值域对照 p.XB → sex")


def test_round_trip_is_identical(mdir, tmp_path):
    m = hlwjr.load_mapping(mdir)
    out = m.save(tmp_path / "copy")
    m2 = hlwjr.load_mapping(out)
    assert m2.to_dict() == m.to_dict()
    for code in m.datasets:
        assert m2.dataset(code).to_dict() == m.dataset(code).to_dict()
    again = m2.save(tmp_path / "copy2")
    for f in ("mapping.yaml", "datasets/visit.yaml", "datasets/recipe.yaml", "codes/sex.csv"):
        assert (again / f).read_bytes() == (out / f).read_bytes(), f
    text = (out / "datasets" / "visit.yaml").read_text(encoding="utf-8")
    assert "kind: hlwjr/mapping-dataset" in text and "trim" not in text and "status: suggested" not in text


def test_demo_mapping_round_trips(tmp_path):
    m = hlwjr.load_mapping(Path(__file__).parents[1] / "mapping" / "demo")
    m2 = hlwjr.load_mapping(m.save(tmp_path / "demo"))
    assert {c: d.to_dict() for c, d in m2.datasets.items()} == {c: d.to_dict() for c, d in m.datasets.items()}
    assert m2.dataset("recipe").rule("orderList").children.fields["admission"].status == "accepted"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["fields"].__setitem__("age", {"column": "X", "derive": "trim"}), "需要且只需要"),
        (lambda d: d["fields"].__setitem__("age", {"column": "X", "colour": 1}), "未知的键 colour"),
        (lambda d: d["fields"].__setitem__("age", {"column": "X", "status": "ok"}), "审核状态"),
        (lambda d: d["fields"].__setitem__("age", {"derive": "age_from_moon", "args": ["X"]}), "未知的派生函数"),
        (lambda d: d["fields"].__setitem__("age", {"derive": "yuan_from_fen", "args": []}), "需要 1 个参数列"),
        (lambda d: d["fields"].__setitem__("age", {"const": 1, "default": "0"}), "default 只能与 code_map"),
        (lambda d: d.__setitem__("version", 9), "不支持的对照文件版本"),
        (lambda d: d.pop("source"), "缺少 source"),
    ],
)
def test_schema_errors_name_file_and_field(mdir, edit, message):
    path = mdir / "datasets" / "visit.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(hlwjr.MappingError, match=message) as exc:
        hlwjr.load_mapping(mdir)
    assert "visit.yaml" in str(exc.value)


def test_top_level_errors(mdir):
    (mdir / "mapping.yaml").write_text("kind: something\nversion: 1\n", encoding="utf-8")
    with pytest.raises(hlwjr.MappingError, match="kind 应为 hlwjr/mapping"):
        hlwjr.load_mapping(mdir)
    (mdir / "mapping.yaml").write_text(
        "kind: hlwjr/mapping\nversion: 1\nspec: {id: x}\nsources: [a\n", encoding="utf-8"
    )
    with pytest.raises(hlwjr.MappingError, match="YAML 格式错误") as exc:
        hlwjr.load_mapping(mdir)
    assert "第" in str(exc.value)
    with pytest.raises(hlwjr.MappingError, match="缺少 mapping.yaml"):
        hlwjr.load_mapping(mdir / "datasets")


def test_check_clean_config(mdir):
    issues = hlwjr.load_mapping(mdir).check(spec=SPEC)
    assert [i for i in issues if i.severity == "error"] == []


def test_check_finds_spec_and_source_problems(mdir):
    m = hlwjr.load_mapping(mdir)
    visit = m.dataset("visit")
    visit.set_rule("patientNmae", column="BRXM")  # unknown field (typo)
    visit.set_rule("mobile", column="LXDHH")  # missing column
    visit.set_rule("price", column="GHFY", format="%Y%m%d")  # date format on a decimal field
    cm = m.code_map("sex")
    cm.set("W", "7")  # target not in the code set
    issues = m.check(spec=SPEC)
    text = "\n".join(str(i) for i in issues)
    assert "没有字段 'patientNmae'，是否应为 patientName？" in text
    assert "列 'LXDHH' 不在数据源 visits 中，是否应为 LXDH？" in text
    assert "format 只用于日期/日期时间字段" in text
    assert "对照目标代码 7 不在值域 sex（性别）中" in text
    with pytest.raises(hlwjr.MappingError):
        m.validate(spec=SPEC)


def test_check_missing_join_key_and_code_map(mdir):
    m = hlwjr.load_mapping(mdir)
    m.dataset("visit").source.joins[0].keys = {"BRIDX": "BRID"}
    m.dataset("visit").set_rule("sex", column="p.XB", code_map="gender")
    text = "\n".join(str(i) for i in m.check(spec=SPEC))
    assert "关联键 BRIDX 不在主表 visits 中" in text
    assert "未定义的值域对照表 'gender'" in text


def test_editing_operations_for_widgets(mdir, tmp_path):
    m = hlwjr.load_mapping(mdir)
    visit = m.dataset("visit")
    r = visit.set_column("patientName", "BRXM")
    assert r.status == "suggested" and r.column == "BRXM"
    visit.set_column("sex", "XB")
    assert visit.rule("sex").code_map == "sex"  # keeps its code map
    visit.set_review("patientName", "accepted", reviewer="王分析", comment="已核对", at="2026-11-21 09:00:00")
    with pytest.raises(hlwjr.MappingError):
        visit.set_review("patientName", "maybe")
    visit.set_rule("cardNo", unavailable="HIS 不记录")
    m.save()
    m2 = hlwjr.load_mapping(mdir)
    r2 = m2.dataset("visit").rule("patientName")
    assert (r2.status, r2.reviewer, r2.reviewed_at, r2.comment) == (
        "accepted",
        "王分析",
        "2026-11-21 09:00:00",
        "已核对",
    )
    assert isinstance(r2, FieldRule) and r2.column == "BRXM"


def test_code_map_csv_read_write(mdir, tmp_path):
    m = hlwjr.load_mapping(mdir)
    cm = m.code_map("sex")
    assert cm.lookup() == {"M": "1", "F": "2", "U": "0"}
    cm.set("男", "1", local_name="男", status="suggested")
    cm.set("M", "1", comment="复核")
    p = cm.save(tmp_path / "sex.csv")
    assert p.read_bytes().startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for Excel
    back = load_code_map(p)
    assert back.lookup()["男"] == "1" and len(back.entries) == 4
    bad = tmp_path / "bad.csv"
    bad.write_text("local,code\nM,1\nM,2\n", encoding="gbk")
    with pytest.raises(hlwjr.MappingError, match="出现多次") as exc:
        load_code_map(bad)
    assert "第3行" in str(exc.value)
    bad.write_text("value,code\nM,1\n", encoding="utf-8")
    with pytest.raises(hlwjr.MappingError, match="缺少列 local"):
        load_code_map(bad)


def test_one_error_when_every_data_set_misses_the_same_source(mdir):
    m = hlwjr.load_mapping(mdir)
    m.sources["his"].path = "no-such-export-dir/his.sqlite"
    unreadable = [i for i in m.check(spec=SPEC) if "数据源无法读取" in i.message]
    assert len(unreadable) == 1, unreadable
    assert "文件不存在" in unreadable[0].message and "另有 1 个数据集" in unreadable[0].message
    assert "visit" in unreadable[0].message or "recipe" in unreadable[0].message


def test_saving_in_place_keeps_each_data_set_in_its_own_file(mdir, tmp_path):
    """A data set file named other than ``<code>.yaml`` (e.g. ``01_visit.yaml``) is written back to
    itself: a second ``visit.yaml`` beside it would make the next load fail (在多个文件中配置)."""
    src = next(
        p
        for p in (mdir / "datasets").glob("*.yaml")
        if yaml.safe_load(p.read_text(encoding="utf-8"))["dataset"] == "visit"
    )
    renamed = src.with_name("01_visit.yaml")
    src.rename(renamed)
    m = hlwjr.load_mapping(mdir)
    m.dataset("visit").set_rule("cardNo", unavailable="HIS 不记录")
    m.save()
    assert not (mdir / "datasets" / "visit.yaml").exists() and renamed.is_file()
    m2 = hlwjr.load_mapping(mdir)
    assert m2.dataset("visit").rule("cardNo").unavailable == "HIS 不记录"
    # saved to another directory: the usual <code>.yaml names
    out = m2.save(tmp_path / "copy")
    assert (out / "datasets" / "visit.yaml").is_file()
    assert set(hlwjr.load_mapping(out).datasets) == {"visit", "recipe"}


def test_saving_a_code_map_without_a_path_says_where_to_save():
    from hlwjr.mapping._suggest import suggest_code_map

    cm = suggest_code_map("sex", hlwjr.load_spec().code_set("GB/T 2261.1"), ["男", "女"])
    with pytest.raises(hlwjr.MappingError, match="save"):
        cm.save()
