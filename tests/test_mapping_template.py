"""Master-data template (基础数据模板): ``hlwjr template`` writes it from the spec, a hospital fills
it, ``map apply`` reads it back; validate / upload --dry-run point at it when references are missing."""

from __future__ import annotations

import io
import json
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from hlwjr import cli, load_spec
from hlwjr.mapping._template import (
    HEADER_ROW,
    TEMPLATE_KIND,
    TEMPLATE_VERSION,
    master_data_hint,
    master_datasets,
    template_columns,
    write_template,
)
from hlwjr.sources._read import read_source


def hlwjr_check_id(note: str) -> bool:
    import re

    from hlwjr import check_id_number

    return any(check_id_number(m) for m in re.findall(r"\d{17}[\dXx]", str(note)))


ROOT = Path(__file__).parents[1]
EXAMPLES = ROOT / "lib" / "hlwjr" / "specs" / "beijing-reference" / "examples"
MINISPEC = Path(__file__).parent / "data" / "upload_minispec"


@pytest.fixture(scope="module")
def spec():
    return load_spec(None)


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = cli.run(cli.parse_args(list(map(str, argv))), out, err)
    return code, out.getvalue(), err.getvalue()


def _fill(path, spec, rows_by_dataset: dict[str, list[dict]], out=None):
    """Type records into the template as a person would: one row per record from row 4."""
    wb = load_workbook(path)
    meta = {r[0]: r[2] for r in wb["meta"].iter_rows(min_row=8, values_only=True) if r[0]}
    for code, rows in rows_by_dataset.items():
        ws = wb[meta[code]]
        headers = template_columns(spec.dataset(code))
        for i, rec in enumerate(rows, start=HEADER_ROW + 1):
            for j, key in enumerate(headers, start=1):
                v = rec.get(key)
                ws.cell(i, j, None if v is None else str(v))
    wb.save(out or path)
    return out or path


def test_master_datasets_come_from_the_spec_references(spec):
    assert [d.code for d in master_datasets(spec)] == ["unit", "dept", "doctor"]
    assert [d.code for d in master_datasets(spec, ["revisit"])] == ["unit", "dept", "doctor"]  # doctor needs both
    # a spec with other names: referenced data sets that refer to nothing themselves
    mini = load_spec(MINISPEC)
    tops = {d.code: d for d in mini.top_level()}
    for d in master_datasets(mini):
        assert not d.references
        assert any(d.code in (set(o.depends_on) | {t for r in o.references for t in r.datasets}) for o in tops.values())


def test_template_layout_headers_required_dropdowns_and_meta(spec, tmp_path):
    out = tmp_path / "基础数据.xlsx"
    sheets = write_template(spec, out)
    assert list(sheets) == ["unit", "dept", "doctor"]
    wb = load_workbook(out)
    assert wb.sheetnames[: len(sheets)] == list(sheets.values())
    meta = {r[0]: r[1] for r in wb["meta"].iter_rows(values_only=True) if r and r[0]}
    assert meta["kind"] == TEMPLATE_KIND and meta["version"] == TEMPLATE_VERSION and meta["spec"] == spec.id
    for code, title in sheets.items():
        ds, ws = spec.dataset(code), wb[title]
        header = [c.value for c in ws[HEADER_ROW] if c.value]
        assert header == list(template_columns(ds).values())
        for f, h in zip([f for f in ds if f.type != "array"], header):
            assert h.endswith("*") == bool(f.is_required)
            assert h.rstrip("*").startswith(f.name)
        notes = [c.value for c in ws[2]]
        assert all(notes[: len(header)])
        coded = {f.key for f in ds if f.code_set and f.type != "array"}
        assert len(ws.data_validations.dataValidation) == len(coded)
        for dv in ws.data_validations.dataValidation:
            assert dv.type == "list" and "值域" in dv.formula1
        assert not any(hlwjr_check_id(n) for n in notes if n), "a full ID-card number in the template"
        if ds.fields.get("organID") is not None and ds.fields["organID"].example:
            assert str(ds.fields["organID"].example) in notes[list(template_columns(ds)).index("organID")]


def test_filled_template_maps_through_map_apply(spec, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run("template", "--out", "基础数据.xlsx", "--mapping", "m")
    assert code == 0, out
    assert "已登记到对照配置" in out
    records = {c: json.loads((EXAMPLES / f"{c}.json").read_text(encoding="utf-8")) for c in ("unit", "dept", "doctor")}
    _fill(tmp_path / "基础数据.xlsx", spec, records)
    for c, recs in records.items():
        code, out, _ = run("map", "apply", "--mapping", "m", "--dataset", c, "--out", f"{c}.jsonl")
        assert code == 0, out
        got = [json.loads(line) for line in Path(f"{c}.jsonl").read_text(encoding="utf-8").splitlines()]
        assert len(got) == len(recs)
        for g, want in zip(got, recs):
            for k, v in want.items():
                if not isinstance(v, list):
                    assert str(g[k]) == str(v), (c, k)
    code, out, _ = run("map", "check", "--mapping", "m", "--no-columns")
    assert code == 0, out


def test_template_refuses_bad_arguments(tmp_path):
    code, _, err = run("template", "--out", tmp_path / "x.csv")
    assert code == 2 and ".xlsx" in err
    code, _, err = run("template", "--out", tmp_path / "x.xlsx", "--dataset", "recipe_detail")
    assert code == 2 and "明细" in err
    code, _, err = run("template", "--out", tmp_path / "x.xlsx", "--dataset", "dept", "--for", "revisit")
    assert code == 2 and "只能用一个" in err
    assert not (tmp_path / "x.xlsx").exists()


_cell_text = st.text(alphabet=string.digits + string.ascii_letters + "测试科室·-（） ", min_size=1, max_size=20).filter(
    lambda s: s.strip() == s
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.lists(_cell_text, min_size=3, max_size=3), min_size=1, max_size=6))
def test_typed_values_read_back_unchanged_leading_zeros_kept(spec, tmp_path_factory, values):
    d = tmp_path_factory.mktemp("tpl")
    write_template(spec, d / "t.xlsx", datasets=["dept"], rows=10)
    keys = ["deptID", "deptName", "subjectCode"]
    _fill(d / "t.xlsx", spec, {"dept": [dict(zip(keys, v)) for v in values]})
    df = read_source(d / "t.xlsx", sheet=spec.dataset("dept").name)
    headers = template_columns(spec.dataset("dept"))
    assert list(df.columns) == list(headers.values())
    assert len(df) == len(values)
    for k, col in zip(keys, zip(*values)):
        assert [str(x) for x in df[headers[k]]] == list(col)


def _examples(code):
    return json.loads((EXAMPLES / f"{code}.json").read_text(encoding="utf-8"))


def test_validate_says_master_data_is_missing_and_how_to_get_it(tmp_path):
    code, out, _ = run("validate", EXAMPLES / "revisit.json", "--dataset", "revisit")
    assert code == 0
    assert "基础数据（医护药人员备案/科室与诊疗科目/机构信息）未提供" in out and "hlwjr template" in out
    doctors = tmp_path / "doctor.json"
    doctors.write_text(json.dumps(_examples("doctor")[:1], ensure_ascii=False), encoding="utf-8")
    code, out, _ = run("validate", EXAMPLES / "revisit.json", "--dataset", "revisit", "--with", f"doctor={doctors}")
    assert code == 1
    assert "缺少 1 条基础数据（医护药人员备案/科室与诊疗科目/机构信息），用 hlwjr template 生成模板" in out


def test_hint_counts_distinct_referenced_records(spec):
    from hlwjr.validation._engine import check

    rv = _examples("revisit")
    for r in rv:
        r["doctorCertID"] = rv[0]["doctorCertID"]
    report = check({"revisit": rv, "doctor": _examples("doctor")[1:2]}, spec=spec)
    assert master_data_hint(spec, report.to_frame()).startswith("缺少 1 条基础数据")
    assert master_data_hint(spec, check({"doctor": _examples("doctor")}, spec=spec).to_frame()) is None


def test_upload_dry_run_notes_missing_master_data(offline_project):
    from hlwjr.upload._uploader import upload_records

    project = offline_project
    s = upload_records(project, {"revisit": _examples("revisit")}, dry_run=True, validate=True)
    assert s.datasets["revisit"].invalid == len(_examples("revisit"))
    hints = [n for n in s.notes if "基础数据" in n]
    assert hints == ["缺少 2 条基础数据（医护药人员备案/科室与诊疗科目/机构信息），用 hlwjr template 生成模板"]


def test_header_found_when_an_editor_drops_the_defined_name(spec, tmp_path):
    """Some spreadsheet programs drop sheet-scoped names: the meta sheet still says where the header is."""
    write_template(spec, tmp_path / "t.xlsx", datasets=["dept"], rows=5)
    _fill(tmp_path / "t.xlsx", spec, {"dept": [{"deptID": "01", "deptName": "内科"}]})
    wb = load_workbook(tmp_path / "t.xlsx")
    ws = wb[spec.dataset("dept").name]
    for name in list(ws.defined_names):
        del ws.defined_names[name]
    wb.save(tmp_path / "t.xlsx")
    df = read_source(tmp_path / "t.xlsx", sheet=spec.dataset("dept").name)
    headers = template_columns(spec.dataset("dept"))
    assert list(df.columns) == list(headers.values()) and df[headers["deptID"]].tolist() == ["01"]
