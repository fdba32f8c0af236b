"""Round trip: reference spec → exported Word/Excel document → import gives back the same spec.

Fields, types, lengths, precision, required flags (including conditional rule names), code sets
and their codes, keys, dependencies, rules and references must survive for every data set of the
reference spec (and of the small core test spec).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import hlwjr
from hlwjr.spec._export import export_spec
from hlwjr.spec.importing._importer import import_spec

MINI = Path(__file__).parent / "data" / "core_minispec"

_FIELD_ATTRS = (
    "name",
    "type",
    "max_length",
    "min_length",
    "precision",
    "total_digits",
    "required",
    "minimum",
    "maximum",
    "pattern",
    "const",
    "item",
    "min_items",
    "aliases",
    "provenance",
    "example",
    "description",
)


def _assert_same(spec, again):
    assert list(again.datasets) == list(spec.datasets)
    for code, ds in spec.datasets.items():
        got = again.datasets[code]
        assert list(got.fields) == list(ds.fields), code
        for key, f in ds.fields.items():
            g = got.fields[key]
            for attr in _FIELD_ATTRS:
                assert getattr(g, attr) == getattr(f, attr), f"{code}.{key}.{attr}"
            if f.code_set:
                assert g.code_set == f.code_set, f"{code}.{key}"
                assert dict(again.code_set(g.code_set).codes) == dict(spec.code_set(f.code_set).codes)
            else:
                assert g.code_set is None, f"{code}.{key} gained a code set"
        for attr in ("name", "key", "depends_on", "parent", "aliases", "rules", "references"):
            assert getattr(got, attr) == getattr(ds, attr), f"{code}.{attr}"
    assert list(again.code_sets) == list(spec.code_sets)
    for cid, cs in spec.code_sets.items():
        got = again.code_sets[cid]
        for attr in ("name", "standard", "complete", "aliases", "parents", "notes"):
            assert getattr(got, attr) == getattr(cs, attr), f"{cid}.{attr}"
        assert dict(got.codes) == dict(cs.codes), cid
    assert (again.id, again.version, again.title, again.official) == (spec.id, spec.version, spec.title, spec.official)
    if spec.notice:
        assert again.notice == spec.notice
    else:  # an imported spec always says where it came from
        assert "hlwjr spec import" in again.notice
    assert dict(again.provenance_tags) == dict(spec.provenance_tags)


@pytest.fixture(scope="module", params=["docx", "xlsx"])
def reference_round_trip(request, tmp_path_factory):
    spec = hlwjr.load_spec("beijing-reference")
    d = tmp_path_factory.mktemp(f"rt-{request.param}")
    doc = export_spec(spec, d / f"reference.{request.param}")
    return spec, import_spec(doc, d / "spec")


def test_reference_spec_round_trips(reference_round_trip):
    spec, result = reference_round_trip
    assert spec.datasets, "the reference spec has no data sets yet"
    _assert_same(spec, result.spec)
    assert result.report.ok, result.report.to_text()
    assert not result.report.warnings, result.report.to_text()


def test_reference_round_trip_written_directory_loads(reference_round_trip):
    spec, result = reference_round_trip
    again = hlwjr.load_spec(result.out_dir)
    _assert_same(spec, again)
    for ds in again.datasets.values():
        assert ds.json_schema() == spec.dataset(ds.code).json_schema() | {"$id": ds.json_schema()["$id"]}


@pytest.mark.parametrize("fmt", ["docx", "xlsx"])
def test_core_mini_spec_round_trips(tmp_path, fmt):
    spec = hlwjr.load_spec(MINI)
    result = import_spec(export_spec(spec, tmp_path / f"mini.{fmt}"))
    _assert_same(spec, result.spec)
    assert result.report.ok and result.out_dir is None


@pytest.mark.parametrize("fmt", ["docx", "xlsx"])
def test_tricky_values_round_trip(tmp_path, fmt):
    import dataclasses

    from hlwjr.spec._write import write_spec

    spec = hlwjr.load_spec(MINI)
    a = spec.datasets["a"]
    b = spec.datasets["b"]
    af = dict(a.fields)
    af["age"] = dataclasses.replace(af["age"], const=None, maximum=150.5, example=41, total_digits=3)
    af["flag"] = hlwjr.Field(
        key="flag", name="标志（固定）", type="integer", const=1, description="第一行\n第二行：说明"
    )
    af["ratio"] = hlwjr.Field(key="ratio", name="比例", type="decimal", precision=4, minimum=0.0, maximum=1.0)
    af["code"] = hlwjr.Field(
        key="code",
        name="编码",
        pattern=r"^\d{6}[A-Z]?$",
        max_length=7,
        example="110101",
        aliases={"ws": "DE01.00.002.00", "pinyin": "BM"},
        provenance="I",
    )
    bf = dict(b.fields)
    bf["orderList"] = dataclasses.replace(bf["orderList"], example=[{"drname": "阿莫西林"}])
    sex = dataclasses.replace(spec.code_sets["sex"], name="性别（GB/T 2261.1）", notes={"9": "未说明"}, complete=False)
    datasets = dict(spec.datasets)
    datasets["a"] = dataclasses.replace(a, name="复诊接口", fields=af, description="复诊。\n第二段说明")
    datasets["b"] = dataclasses.replace(b, fields=bf)
    tricky = dataclasses.replace(spec, datasets=datasets, code_sets={"sex": sex}, notice="测试声明")
    d = write_spec(tricky, tmp_path / "tricky")
    tricky = hlwjr.load_spec(d)
    result = import_spec(export_spec(tricky, tmp_path / f"tricky.{fmt}"))
    _assert_same(tricky, result.spec)
    assert result.spec.dataset("a").description == "复诊。 第二段说明"  # a data set's description: one paragraph
