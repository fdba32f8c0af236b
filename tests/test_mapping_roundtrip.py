"""Saving a mapping is a round trip: only changed files are rewritten, and then over their own text —
comments, key order, shorthand and flow styles of the unchanged parts kept (ruamel.yaml); code-map
CSVs keep their line endings; ``Mapping.diff()`` shows the change before it is saved."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hlwjr

ROOT = Path(__file__).parents[1]


@pytest.fixture
def demo_copy(tmp_path):
    shutil.copytree(ROOT / "mapping" / "demo", tmp_path / "m")
    return tmp_path / "m"


def _snapshot(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def test_saving_an_unchanged_mapping_rewrites_nothing(demo_copy):
    before = _snapshot(demo_copy)
    m = hlwjr.load_mapping(demo_copy)
    for name in m.code_maps:
        m.code_map(name)  # loaded code maps are saved only when they change
    assert m.diff() == "" and m.changes() == []
    m.save()
    assert _snapshot(demo_copy) == before


def test_one_changed_rule_changes_one_line_of_one_file(demo_copy):
    before = _snapshot(demo_copy)
    m = hlwjr.load_mapping(demo_copy)
    m.dataset("revisit").set_rule("patientName", column="p.XM")
    diff = m.diff()
    assert "datasets/revisit.yaml" in diff and "p.XM" in diff
    assert sum(1 for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")) == 1
    m.save()
    after = _snapshot(demo_copy)
    assert [k for k in after if after[k] != before[k]] == ["datasets/revisit.yaml"]
    old = before["datasets/revisit.yaml"].decode().splitlines()
    new = after["datasets/revisit.yaml"].decode().splitlines()
    assert len(old) == len(new) and sum(a != b for a, b in zip(old, new)) == 1
    assert hlwjr.load_mapping(demo_copy).dataset("revisit").fields["patientName"].column == "p.XM"


def test_comments_shorthand_and_notes_survive_a_change(tmp_path):
    d = tmp_path / "m"
    (d / "datasets").mkdir(parents=True)
    (d / "mapping.yaml").write_text(
        "# 我院对照（请勿删除本注释）\nkind: hlwjr/mapping\nversion: 1\nspec: mapping-test\n"
        "x-owner: 信息科 张工\nsources:\n  his: src   # HIS 导出目录\n",
        encoding="utf-8",
    )
    (d / "datasets" / "visit.yaml").write_text(
        "kind: hlwjr/mapping-dataset\nversion: 1\ndataset: visit\nsource: {table: visits}\n"
        "fields:\n  # 患者信息\n  patientName: BRXM   # 姓名列\n  bussID: {column: FZID, status: accepted}\n",
        encoding="utf-8",
    )
    m = hlwjr.load_mapping(d)
    m.dataset("visit").set_rule("age", column="NL")
    m.hospital = "测试医院"
    m.save()
    top = (d / "mapping.yaml").read_text(encoding="utf-8")
    assert top.startswith("# 我院对照（请勿删除本注释）") and "x-owner: 信息科 张工" in top
    assert "his: src   # HIS 导出目录" in top and "hospital: 测试医院" in top
    ds = (d / "datasets" / "visit.yaml").read_text(encoding="utf-8")
    assert "  # 患者信息\n  patientName: BRXM   # 姓名列\n" in ds
    assert "bussID: {column: FZID, status: accepted}" in ds and ds.index("bussID") < ds.index("age")
    again = hlwjr.load_mapping(d)
    assert again.dataset("visit").to_dict() == m.dataset("visit").to_dict()


@pytest.mark.parametrize("eol", ["\r\n", "\n"])
def test_code_maps_keep_their_line_endings_and_unchanged_ones_are_not_rewritten(demo_copy, eol):
    sex = demo_copy / "codes" / "sex.csv"
    text = sex.read_text(encoding="utf-8-sig").replace("\r\n", "\n").replace("\n", eol)
    sex.write_bytes(("\ufeff" + text).encode("utf-8"))
    other = demo_copy / "codes" / "yes-no.csv"
    other_before = other.read_bytes()
    m = hlwjr.load_mapping(demo_copy)
    m.code_map("yes-no")
    m.code_map("sex").set("男士", "1", name="男", status="accepted")
    assert "codes/sex.csv" in m.diff() and "男士" in m.diff()
    m.save()
    raw = sex.read_bytes()
    assert raw.startswith("\ufeff".encode()) and "男士".encode() in raw
    lines = raw.split(b"\n")[:-1]
    assert all(line.endswith(b"\r") for line in lines) == (eol == "\r\n")
    assert other.read_bytes() == other_before


_columns = st.sampled_from(["BRXM", "SFZH", "LXDH", "XB", "p.XM", "NL", "KSDM"])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.dictionaries(st.sampled_from(["patientName", "mobile", "cardNo", "age", "diseasesHistory"]), _columns))
def test_any_edit_reads_back_and_leaves_other_rules_as_written(tmp_path_factory, edits):
    d = tmp_path_factory.mktemp("rt") / "m"
    shutil.copytree(ROOT / "mapping" / "demo", d)
    original = (d / "datasets" / "revisit.yaml").read_text(encoding="utf-8").splitlines()
    m = hlwjr.load_mapping(d)
    dm = m.dataset("revisit")
    for key, col in edits.items():
        dm.set_rule(key, column=col)
    m.save()
    assert hlwjr.load_mapping(d).dataset("revisit").to_dict() == dm.to_dict()
    saved = (d / "datasets" / "revisit.yaml").read_text(encoding="utf-8").splitlines()
    untouched = [line for line in original if not any(line.lstrip().startswith(f"{k}:") for k in edits)]
    assert all(line in saved for line in untouched)
