"""CLI: hlwjr profile / map check / map apply / map suggest / map codes (in-process, real files)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from hlwjr import cli
from hlwjr._demo_data import generate_demo_hospital

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
    code, out, err = run("map", "check", "--mapping", tmp_path)
    assert code == 2 and "缺少 mapping.yaml" in err


def test_map_apply_writes_jsonl_and_reports(demo, tmp_path, monkeypatch):
    monkeypatch.setenv("HLWJR_DEMO_DIR", str(demo.out_dir))
    out_file, issues = tmp_path / "recipe.jsonl", tmp_path / "issues.csv"
    code, out, _ = run("map", "apply", "--mapping", ROOT / "mapping" / "demo", "--dataset", "recipe",
                       "--date", "2026-11-02", "--out", out_file, "--issues", issues)
    lines = out_file.read_text(encoding="utf-8").splitlines()
    assert len(lines) >= 55 and json.loads(lines[0])["orderList"]
    assert f"已写出 {len(lines)} 条记录" in out and "未对照的本地值" in out
    assert code == 1  # rows were rejected (planted unmapped codes): problems found
    assert issues.read_bytes().startswith(b"\xef\xbb\xbf")
    assert not re.search(r"\d{17}[\dX]", out)


def test_map_apply_source_override_and_json(demo, tmp_path):
    code, out, _ = run("map", "apply", "--mapping", ROOT / "mapping" / "demo", "--dataset", "在线复诊",
                       "--date", "2026-11-01", "--source", f"his={demo.csv_dir}", "--format", "json")
    data = json.loads(out)
    assert data["dataset"] == "revisit" and data["records"] >= 60


def test_map_suggest_json(demo):
    code, out, _ = run("map", "suggest", "--dataset", "recipe", "--source", f"sqlite:///{demo.database}#prescriptions",
                       "--format", "json", "--top", "2")
    data = json.loads(out)
    by = {f["field"]: f for f in data["fields"]}
    assert code == 0 and by["recipeID"]["candidates"][0]["column"] == "CFBH"
    assert by["recipeID"]["candidates"][0]["score"] > 0.9 and by["recipeID"]["candidates"][0]["reasons"]
    code, text, _ = run("map", "suggest", "--dataset", "recipe", "--source", demo.csv_dir / "prescriptions.csv")
    assert "recipeID（处方号" in text and "CFBH" in text


def test_map_codes(demo):
    code, out, _ = run("map", "codes", "--code-set", "sex", "--source", demo.csv_dir / "patients.csv", "--column", "XB",
                       "--format", "json")
    got = {r["local"]: r["code"] for r in json.loads(out)}
    assert got["M"] == "1" and got["F"] == "2"
    code, _, err = run("map", "codes", "--code-set", "sex", "--source", demo.csv_dir / "patients.csv", "--column", "QQ")
    assert code == 1 and "列 QQ 不存在" in err
