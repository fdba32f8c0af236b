"""``hlwjr validate --accepted DATASET=FILE``: a reference set (已备案/已接收) checked against, not validated."""

from __future__ import annotations

import io
import json

from validate_helpers import SPEC_DIR, doctor, pharmacist, recipe, revisit

from hlwjr import cli


def _run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = cli.run(cli.parse_args(list(argv)), out, err)
    return code, out.getvalue(), err.getvalue()


def _jsonl(path, records):
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    return str(path)


def test_references_resolve_against_an_accepted_roster_which_is_not_validated(tmp_path):
    recipes = _jsonl(tmp_path / "recipes.jsonl", [recipe()])
    # the roster has a record that would fail validation (sex 男): it is only a reference set
    roster = _jsonl(tmp_path / "filed.jsonl", [doctor(sex="男"), pharmacist()])
    visits = _jsonl(tmp_path / "visits.jsonl", [revisit()])
    code, out, err = _run(
        "validate",
        "-d",
        "recipe",
        recipes,
        "--spec",
        str(SPEC_DIR),
        "--accepted",
        f"doctor={roster}",
        "--accepted",
        f"revisit={visits}",
        "--format",
        "json",
    )
    assert code == 0, out + err
    payload = json.loads(out)
    assert payload["ok"] and payload["records"] == {"recipe": 1}
    assert not [p for p in payload["problems"] if p["rule"] == "reference"]


def test_a_reference_missing_from_the_accepted_set_is_an_error(tmp_path):
    recipes = _jsonl(tmp_path / "recipes.jsonl", [recipe()])
    visits = _jsonl(tmp_path / "visits.jsonl", [revisit(bussID="FZ999")])  # not the recipe's revisit
    code, out, _ = _run("validate", "-d", "recipe", recipes, "--spec", str(SPEC_DIR), "--accepted", f"revisit={visits}")
    assert code == 1
    assert "bussID [reference]" in out


def test_a_malformed_accepted_option_is_a_usage_error(tmp_path):
    recipes = _jsonl(tmp_path / "recipes.jsonl", [recipe()])
    code, _, err = _run("validate", "-d", "recipe", recipes, "--spec", str(SPEC_DIR), "--accepted", "doctor")
    assert code == 2 and "--accepted 应写成 数据集=文件" in err


def test_an_empty_file_is_never_reported_as_all_clear(tmp_path):
    for name, content in [
        ("header.csv", "organID,doctorCertID\n"),
        ("zero.csv", ""),
        ("none.jsonl", "\n"),
        ("none.json", "[]"),
    ]:
        f = tmp_path / name
        f.write_text(content, encoding="utf-8")
        code, out, err = _run("validate", "-d", "doctor", str(f), "--spec", str(SPEC_DIR))
        assert code == 1, name
        assert "全部通过" not in out and err.startswith("错误: ") and name in err
        assert ("没有记录" in err) or ("文件是空的" in err)


def test_an_unknown_rule_to_skip_suggests_the_right_id(tmp_path):
    recipes = _jsonl(tmp_path / "recipes.jsonl", [recipe()])
    code, _, err = _run("validate", "-d", "recipe", recipes, "--spec", str(SPEC_DIR), "--skip", "referenc")
    assert code == 2 and "referenc" in err and "是否想写 reference" in err and "docs/rules.md" in err


def test_a_workbook_with_a_cover_sheet_is_read_from_the_data_sets_sheet(tmp_path):
    import pandas as pd

    path = tmp_path / "doctors.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        pd.DataFrame({"说明": ["本文件为医师备案数据", "导出日期 2026-11-25"]}).to_excel(
            xw, sheet_name="说明", index=False
        )
        pd.DataFrame([doctor(sex="男"), pharmacist()]).to_excel(xw, sheet_name="data", index=False)
    code, out, _ = _run("validate", "-d", "doctor", str(path), "--spec", str(SPEC_DIR), "--format", "json")
    payload = json.loads(out)
    assert code == 1 and payload["records"] == {"doctor": 2}
    assert [(p["row"], p["field"], p["rule"]) for p in payload["problems"] if p["severity"] == "error"][0][:2] == (
        0,
        "sex",
    )
    assert not [p for p in payload["problems"] if p["rule"] == "unknown_field"]


def test_the_same_data_set_twice_is_a_usage_error_not_a_silent_replacement(tmp_path):
    recipes = _jsonl(tmp_path / "recipes.jsonl", [recipe()])
    other = _jsonl(tmp_path / "more.jsonl", [recipe(recipeID="CF002")])
    code, _, err = _run("validate", "-d", "recipe", recipes, "--spec", str(SPEC_DIR), "--with", f"recipe={other}")
    assert code == 2 and "已经给出过" in err


def test_codes_typed_as_numbers_in_excel_read_like_the_same_sheet_saved_as_csv(tmp_path):
    import openpyxl
    import pandas as pd
    from validate_helpers import ADULT_ID

    path = tmp_path / "visits.xlsx"
    pd.DataFrame([revisit(bussID="FZ001"), revisit(bussID="FZ002")]).to_excel(path, index=False)
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    head = [c.value for c in ws[1]]
    ws.cell(2, head.index("sex") + 1).value = 2  # 性别 typed as a number: fine, reads "2"
    ws.cell(3, head.index("patientCertType") + 1).value = 3  # 03 (护照) typed as a number: lost its zero
    ws.cell(3, head.index("patientCertID") + 1).value = int(ADULT_ID[:15] + "000")  # 18 digits: Excel keeps 15
    wb.save(path)
    code, out, _ = _run(
        "validate", "-d", "revisit", str(path), "--spec", str(SPEC_DIR), "--skip", "reference", "--format", "json"
    )
    found = {(p["row"], p["field"], p["rule"]): p["message"] for p in json.loads(out)["problems"]}
    assert code == 1
    assert not [k for k in found if k[0] == 0]  # the first record is clean
    assert "前导零" in found[(1, "patientCertType", "code_set")] and "03" in found[(1, "patientCertType", "code_set")]
    assert "15 位" in found[(1, "patientCertID", "type")]


def test_blank_lines_in_json_lines_are_no_records_and_the_numbering_says_so(tmp_path):
    f = tmp_path / "recipes.jsonl"
    f.write_text("\n" + json.dumps(recipe(recipeType="9"), ensure_ascii=False) + "\n\n", encoding="utf-8")
    code, out, _ = _run("validate", "-d", "recipe", str(f), "--spec", str(SPEC_DIR), "--skip", "reference")
    assert code == 1 and "校验 1 条记录" in out and "不是文件的行号" in out
    f.write_text(json.dumps(recipe(recipeType="9"), ensure_ascii=False) + "\n", encoding="utf-8")
    code, out, _ = _run("validate", "-d", "recipe", str(f), "--spec", str(SPEC_DIR), "--skip", "reference")
    assert code == 1 and "不是文件的行号" not in out
