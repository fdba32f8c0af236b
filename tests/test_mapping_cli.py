"""CLI: hlwjr profile / map check / map apply / map suggest / map codes (in-process, real files)."""

from __future__ import annotations

import io
import json
import re
import stat
from pathlib import Path

import pytest

from hlwjr import cli
from hlwjr.demo._hospital import generate_demo_hospital

ROOT = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return generate_demo_hospital(tmp_path_factory.mktemp("demo_cli"))


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = cli.run(cli.parse_args(list(map(str, argv))), out, err)
    return code, out.getvalue(), err.getvalue()


def test_profile_csv_masks_ids(demo):
    code, out, _ = run("profile", demo.csv_dir / "patients.csv")
    assert code == 0
    assert "编码 gbk" in out and "身份证号" in out and "手机号" in out
    assert not re.search(r"\d{17}[\dX]", out) and not re.search(r"1990000\d{4}", out)


def test_profile_sql_json(demo):
    code, out, _ = run("profile", f"sqlite:///{demo.database}", "--table", "visits", "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["rows"] == demo.tables["visits"]
    assert {c["column"]: c["kind"] for c in data["columns"]}["SQSJ"] == "datetime"


def test_map_check_demo(demo, monkeypatch):
    monkeypatch.setenv("HLWJR_DEMO_DIR", str(demo.out_dir))
    code, out, _ = run("map", "check", "--mapping", ROOT / "mapping" / "demo")
    assert code == 0, out
    assert "错误 0 个" in out


def test_map_check_reports_errors(tmp_path):
    code, _out, err = run("map", "check", "--mapping", tmp_path)
    assert code == 2 and "缺少 mapping.yaml" in err


def test_map_apply_writes_jsonl_and_reports(demo, tmp_path, monkeypatch):
    monkeypatch.setenv("HLWJR_DEMO_DIR", str(demo.out_dir))
    out_file, issues = tmp_path / "recipe.jsonl", tmp_path / "issues.csv"
    code, out, _ = run(
        "map",
        "apply",
        "--mapping",
        ROOT / "mapping" / "demo",
        "--dataset",
        "recipe",
        "--date",
        "2026-11-02",
        "--out",
        out_file,
        "--issues",
        issues,
    )
    lines = out_file.read_text(encoding="utf-8").splitlines()
    assert len(lines) >= 55 and json.loads(lines[0])["orderList"]
    assert stat.S_IMODE(out_file.stat().st_mode) == 0o600  # patients' records: owner-only
    assert f"已写出 {len(lines)} 条记录" in out and "未对照的本地值" in out
    assert code == 1  # rows were rejected (planted unmapped codes): problems found
    assert issues.read_bytes().startswith(b"\xef\xbb\xbf")
    assert not re.search(r"\d{17}[\dX]", out)


def test_map_apply_source_override_and_json(demo, tmp_path):
    _code, out, _ = run(
        "map",
        "apply",
        "--mapping",
        ROOT / "mapping" / "demo",
        "--dataset",
        "在线复诊",
        "--date",
        "2026-11-01",
        "--source",
        f"his={demo.csv_dir}",
        "--format",
        "json",
    )
    data = json.loads(out)
    assert data["dataset"] == "revisit" and data["records"] >= 60


def test_map_suggest_json(demo):
    code, out, _ = run(
        "map",
        "suggest",
        "--dataset",
        "recipe",
        "--source",
        f"sqlite:///{demo.database}#prescriptions",
        "--format",
        "json",
        "--top",
        "2",
    )
    data = json.loads(out)
    by = {f["field"]: f for f in data["fields"]}
    assert code == 0 and by["recipeID"]["candidates"][0]["column"] == "CFBH"
    assert by["recipeID"]["candidates"][0]["score"] > 0.9 and by["recipeID"]["candidates"][0]["reasons"]
    code, text, _ = run("map", "suggest", "--dataset", "recipe", "--source", demo.csv_dir / "prescriptions.csv")
    assert "recipeID（处方号" in text and "CFBH" in text


def test_map_codes(demo):
    code, out, _ = run(
        "map",
        "codes",
        "--code-set",
        "sex",
        "--source",
        demo.csv_dir / "patients.csv",
        "--column",
        "XB",
        "--format",
        "json",
    )
    got = {r["local"]: r["code"] for r in json.loads(out)}
    assert got["M"] == "1" and got["F"] == "2"
    code, _, err = run("map", "codes", "--code-set", "sex", "--source", demo.csv_dir / "patients.csv", "--column", "QQ")
    assert code == 1 and "列 QQ 不存在" in err


def test_map_codes_csv_is_a_code_map_file(demo, tmp_path):
    """The CSV output has exactly the code-map columns: saved as codes/<name>.csv it is a code map."""
    import csv as csv_mod

    from hlwjr.mapping._codemaps import CODE_MAP_COLUMNS, load_code_map

    args = ("map", "codes", "--code-set", "sex", "--source", demo.csv_dir / "patients.csv", "--column", "XB")
    code, out, _ = run(*args, "--format", "csv")
    assert code == 0
    rows = list(csv_mod.reader(io.StringIO(out)))
    assert rows[0] == CODE_MAP_COLUMNS
    (tmp_path / "sex.csv").write_text(out, encoding="utf-8")
    cm = load_code_map(tmp_path / "sex.csv")
    assert cm.lookup()["M"] == "1" and set(cm.entries["status"]) == {"suggested"}
    code, out, _ = run(*args, "--out", tmp_path / "codes" / "性别.csv")
    assert code == 0 and "code_set: sex" in out
    again = load_code_map(tmp_path / "codes" / "性别.csv")
    assert again.entries.equals(cm.entries)
    code, _, err = run(*args, "--out", tmp_path / "x.xlsx")
    assert code == 2 and ".csv" in err


@pytest.mark.parametrize("column, kind", [("SFZH", "身份证号"), ("LXDH", "手机号"), ("BRXM", "姓名")])
def test_map_codes_refuses_identifying_columns(demo, column, kind):
    """Listing the 'local values' of an ID/phone/name column would print every person's value unmasked."""
    code, out, err = run(
        "map",
        "codes",
        "--code-set",
        "sex",
        "--source",
        demo.csv_dir / "patients.csv",
        "--column",
        column,
        "--format",
        "csv",
    )
    assert code == 2 and f"列 {column} 看起来是{kind}" in err and "请换一列" in err
    assert out == "" and not re.search(r"\d{17}[\dX]|1[3-9]\d{9}", err)


def test_map_apply_with_date_counts_the_days_rows(demo, monkeypatch):
    monkeypatch.setenv("HLWJR_DEMO_DIR", str(demo.out_dir))
    _code, out, _ = run(
        "map",
        "apply",
        "--mapping",
        ROOT / "mapping" / "demo",
        "--dataset",
        "recipe",
        "--date",
        "2026-11-02",
        "--format",
        "json",
    )
    got = json.loads(out)
    assert got["day_rows"] == got["records"] + got["rejected_rows"] < got["source_rows"]
    dup = [i for i in got["issues"] if i["rule"] == "duplicate_row"]
    assert dup and all(re.match(r"与第 \d+ 行完全相同", i["message"]) and i["key"] for i in dup)


def test_map_suggest_proposes_standard_codes_for_coded_fields(demo):
    code, out, _ = run(
        "map", "suggest", "--dataset", "revisit", "--source", f"sqlite:///{demo.database}#visits", "--format", "json"
    )
    by = {f["field"]: f for f in json.loads(out)["fields"]}
    sex = {c["local"]: c for c in by["sex"]["codes"]}
    assert code == 0 and sex["M"]["code"] == "1" and sex["F"]["code"] == "2" and sex["M"]["count"] > 100
    assert {c["status"] for c in by["sex"]["codes"]} == {"suggested"}  # never accepted automatically
    pay = {c["local"]: c["code"] for c in by["paymentChannel"]["codes"]}
    assert pay == {"ZFB": "1", "WX": "2", "YL": "3"}
    assert "codes" not in by["patientName"] and "codes" not in by["patientCertID"]  # no code set / personal data
    _, text, _ = run("map", "suggest", "--dataset", "revisit", "--source", f"sqlite:///{demo.database}#visits")
    assert re.search(r"值域 sex，列 XB 的本地值 → 标准代码: .*M→1 男性", text)


def test_source_options_that_do_not_fit_the_source_are_usage_errors(demo):
    csv_file = demo.csv_dir / "patients.csv"
    db = f"sqlite:///{demo.database}"
    for argv, words in [
        (("profile", csv_file, "--table", "x"), "没有表或查询"),
        (("profile", db, "--table", "patients", "--sheet", "x"), "--sheet 只用于 Excel"),
        (("profile", csv_file, "--min-count", "0"), "至少为 1"),
        (("map", "suggest", "--dataset", "recipe", "--source", csv_file, "--top", "0"), "至少为 1"),
    ]:
        code, out, err = run(*argv)
        assert code == 2 and words in err and out == "", (argv, err)
    code, out, _ = run("profile", db, "--query", "SELECT XB FROM patients")
    assert code == 0 and "XB" in out


def test_map_suggest_writes_a_draft_that_is_never_accepted(demo, tmp_path):
    import hlwjr

    out = tmp_path / "mapping" / "newhosp"
    code, text, _ = run(
        "map", "suggest", "--dataset", "revisit", "--source", f"sqlite:///{demo.database}#visits", "--write", out
    )
    assert code == 0 and "已写出对照草稿" in text.splitlines()[-2]
    assert "business_time = SQSJ" in text.splitlines()[-1]
    code, _, _ = run(
        "map", "suggest", "--dataset", "recipe", "--source", demo.csv_dir / "prescriptions.csv", "--write", out
    )
    assert code == 0
    m = hlwjr.load_mapping(out)
    assert m.spec_id == "beijing-reference" and set(m.datasets) == {"revisit", "recipe"}
    rv = m.dataset("revisit")
    assert rv.source.table == "visits" and m.sources[rv.source.source or "his"].url == f"sqlite:///{demo.database}"
    rules = rv.fields
    assert {r.status for r in rules.values()} == {"suggested"} and all(r.score and r.comment for r in rules.values())
    assert (rules["patientName"].column, rules["patientCertID"].column) == ("BRXM", "SFZH")
    assert rules["startDate"].format == "%Y%m%d%H%M%S"  # reformatted to YYYY-MM-DD HH:MM:SS
    assert rules["sex"].code_map == "sex"
    sex = m.code_map("sex").entries.set_index("local")
    assert sex.loc["M", "code"] == "1" and set(sex["status"]) == {"suggested"}
    rx = m.dataset("recipe")
    assert rx.source.table == "prescriptions" and m.sources[rx.source.source].path == str(demo.csv_dir)
    assert not [i for i in m.check() if i.severity == "error"]
    assert (rv.source.business_time, rv.source.business_time_format) == ("SQSJ", "%Y%m%d%H%M%S")
    records = hlwjr.apply_mapping(out, "revisit").records  # the draft runs
    assert len(records) > 300 and set(records["sex"].dropna()) <= {"0", "1", "2"}
    # an existing data set is never overwritten
    code, _, err = run(
        "map", "suggest", "--dataset", "revisit", "--source", f"sqlite:///{demo.database}#visits", "--write", out
    )
    assert code == 2 and "不会覆盖" in err
