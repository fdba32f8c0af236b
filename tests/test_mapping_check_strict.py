"""``hlwjr map check`` is strict: a config that cannot upload is an error (exit 1) — required
fields without a rule, 无法提供 without a reason, a business data set without ``business_time`` —
and the mapping is tried on the source's first rows, every failing sample row named."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hlwjr import cli, load_mapping

SPEC = Path(__file__).parent / "data" / "mapping_spec"

RULES = {
    "organID": {"const": "12110000TEST00001X"},
    "bussID": {"column": "FZID"},
    "patientName": {"column": "XM"},
    "patientCertID": {"column": "SFZH"},
    "age": {"column": "NL"},
    "subjectCode": {"column": "KS"},
}


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = cli.run(cli.parse_args(list(map(str, argv))), out, err)
    return code, out.getvalue(), err.getvalue()


def _config(d: Path, rows: list[dict], *, fields=None, business_time: str | None = "KSSJ") -> Path:
    """A one-data-set mapping (visit ← visits.csv) in ``d``."""
    (d / "src").mkdir(parents=True, exist_ok=True)
    (d / "datasets").mkdir(exist_ok=True)
    with open(d / "src" / "visits.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=["FZID", "XM", "SFZH", "NL", "KS", "KSSJ"])
        w.writeheader()
        w.writerows(rows)
    top = {"kind": "hlwjr/mapping", "version": 1, "spec": {"id": "mapping-test"}, "sources": {"his": {"path": "src"}}}
    (d / "mapping.yaml").write_text(yaml.safe_dump(top, allow_unicode=True), encoding="utf-8")
    source = {"table": "visits"} | ({"business_time": business_time} if business_time else {})
    ds = {"kind": "hlwjr/mapping-dataset", "version": 1, "dataset": "visit", "source": source}
    ds["fields"] = RULES if fields is None else fields
    (d / "datasets" / "visit.yaml").write_text(yaml.safe_dump(ds, allow_unicode=True), encoding="utf-8")
    return d


def _row(i: int, good: bool = True) -> dict:
    return {
        "FZID": f"FZ{i:03d}",
        "XM": "测试患者" if good else "",
        "SFZH": "110101199003070011",
        "NL": "36",
        "KS": "03.01",
        "KSSJ": "2026-11-01 09:00:00",
    }


def test_a_complete_config_with_good_rows_passes(tmp_path):
    d = _config(tmp_path, [_row(i) for i in range(3)])
    code, out, _ = run("map", "check", "--mapping", d, "--spec", SPEC)
    assert code == 0, out
    assert "错误 0 个" in out


def test_unmapped_required_field_is_an_error_unless_draft(tmp_path):
    fields = {k: v for k, v in RULES.items() if k != "patientName"}
    d = _config(tmp_path, [_row(1)], fields=fields)
    code, out, _ = run("map", "check", "--mapping", d, "--spec", SPEC, "--sample", "0")
    assert code == 1
    assert "[错误]" in out and "必填字段 patientName（患者姓名）还没有对照规则" in out and "unavailable" in out
    code, out, _ = run("map", "check", "--mapping", d, "--spec", SPEC, "--sample", "0", "--draft")
    assert code == 0 and "[提醒]" in out and "patientName" in out


def test_unavailable_needs_a_reason(tmp_path):
    d = _config(tmp_path, [_row(1)], fields=RULES | {"patientName": {"unavailable": " "}})
    code, out, _ = run("map", "check", "--mapping", d, "--spec", SPEC, "--no-columns")
    assert code == 1 and "标为无法提供，但没有写原因" in out
    d = _config(tmp_path, [_row(1)], fields=RULES | {"patientName": {"unavailable": "互联网医院不采集姓名"}})
    code, out, _ = run("map", "check", "--mapping", d, "--spec", SPEC, "--no-columns")
    assert code == 0, out


def test_missing_business_time_is_an_error(tmp_path):
    d = _config(tmp_path, [_row(1)], business_time=None)
    code, out, _ = run("map", "check", "--mapping", d, "--spec", SPEC)
    assert code == 1 and "business_time" in out and "--date" in out
    issues = load_mapping(d).check(spec=SPEC, columns=False)  # the library default stays lenient
    assert not [i for i in issues if i.severity == "error"]


def test_bad_sample_rows_are_named_and_never_pass_silently(tmp_path):
    d = _config(tmp_path, [_row(1), _row(2, good=False), _row(3)])
    code, out, _ = run("map", "check", "--mapping", d, "--spec", SPEC)
    assert code == 0  # dirty data, not a wrong rule: the validator will hold the row back
    assert "样例第 2 行" in out and "患者姓名" in out and "3 行：1 行不合格" in out
    code, out, _ = run("map", "check", "--mapping", d, "--spec", SPEC, "--sample", "0")
    assert "样例" not in out


def test_source_override_is_where_the_samples_come_from(tmp_path):
    d = _config(tmp_path / "m", [_row(1)])
    other = _config(tmp_path / "other", [_row(1, good=False), _row(2, good=False)])
    code, out, _ = run("map", "check", "--mapping", d, "--spec", SPEC, "--source", f"his={other / 'src'}")
    assert code == 1 and "2 行：2 行不合格" in out and "全部样例行都不合格" in out


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(goods=st.lists(st.booleans(), min_size=1, max_size=12), n=st.integers(min_value=1, max_value=15))
def test_failing_sample_rows_are_exactly_the_bad_rows(tmp_path_factory, goods, n):
    d = _config(tmp_path_factory.mktemp("strict"), [_row(i, g) for i, g in enumerate(goods)])
    issues = load_mapping(d).check(spec=SPEC, sample=n, complete=True)
    shown = goods[:n]
    named = {int(i.where.rsplit("样例第 ", 1)[1].split(" ")[0]) for i in issues if "样例第" in i.where}
    assert named == {i + 1 for i, g in enumerate(shown) if not g}
    errors = [i for i in issues if i.severity == "error"]
    assert bool(errors) == (not any(shown))
    if not all(shown):
        assert any(f"{len(shown)} 行：{shown.count(False)} 行不合格" in i.message for i in issues)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(unmapped=st.sets(st.sampled_from(["patientName", "patientCertID", "age"]), min_size=1))
def test_a_draft_without_rules_for_some_required_fields_says_so_once(tmp_path_factory, unmapped):
    """The sample rows do not fail again, row by row, for a required field that has no rule yet."""
    fields = {k: v for k, v in RULES.items() if k not in unmapped}
    d = _config(tmp_path_factory.mktemp("draft"), [_row(i) for i in range(4)], fields=fields)
    code, out, _ = run("map", "check", "--mapping", d, "--spec", SPEC, "--draft")
    assert code == 0, out
    assert "样例" not in out
    for key in unmapped:
        assert out.count(f"必填字段 {key}") == 1
