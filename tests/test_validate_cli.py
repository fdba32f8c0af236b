"""``hlwjr validate``: exit codes, text and JSON output, reports, files of every kind."""

from __future__ import annotations

import io
import json

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from validate_helpers import SPEC_DIR, doctor, pharmacist, revisit

from hlwjr import cli


def run(argv):
    out, err = io.StringIO(), io.StringIO()
    try:
        args = cli.parse_args(argv)
    except Exception as exc:  # usage errors surface as ConfigError from the parser
        return 2, "", str(exc)
    code = cli.run(args, out, err)
    return code, out.getvalue(), err.getvalue()


def write_jsonl(path, records):
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    return path


def test_clean_file_exits_0(tmp_path):
    f = write_jsonl(tmp_path / "d.jsonl", [doctor(), pharmacist()])
    code, out, err = run(["validate", "--dataset", "doctor", str(f), "--spec", str(SPEC_DIR)])
    assert code == 0, err
    assert "全部通过" in out


def test_problems_exit_1_with_text_json_and_reports(tmp_path):
    f = write_jsonl(tmp_path / "d.jsonl", [doctor(sex="男"), pharmacist(doctorYears=-2)])
    code, out, _ = run(
        ["validate", "-d", "医护药人员备案", str(f), "--spec", str(SPEC_DIR), "--report", str(tmp_path / "r.xlsx")]
    )
    assert code == 1
    assert "code_set" in out and "第1行" in out and "应填代码 1" in out and (tmp_path / "r.xlsx").exists()
    code, out, _ = run(
        [
            "validate",
            "-d",
            "doctor",
            str(f),
            "--spec",
            str(SPEC_DIR),
            "--format",
            "json",
            "--report",
            str(tmp_path / "r.html"),
        ]
    )
    data = json.loads(out)
    assert code == 1 and data["ok"] is False and data["errors"] == 2 and data["bad_rows"]["doctor"] == [0, 1]
    assert {p["rule"] for p in data["problems"]} == {"code_set", "minimum"}
    assert (tmp_path / "r.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_csv_keeps_leading_zeros_and_converts_numbers(tmp_path):
    rows = [revisit(bussID="FZ1"), revisit(bussID="FZ2", age="五十六")]
    frame = pd.DataFrame(rows)
    f = tmp_path / "r.csv"
    frame.to_csv(f, index=False, encoding="utf-8-sig")
    code, out, _ = run(
        ["validate", "-d", "revisit", str(f), "--spec", str(SPEC_DIR), "--format", "json", "--skip", "reference"]
    )
    data = json.loads(out)
    assert code == 1
    assert [(p["row"], p["field"], p["rule"]) for p in data["problems"]] == [(1, "age", "type")]


def test_with_other_datasets_checks_references(tmp_path):
    d = write_jsonl(tmp_path / "d.jsonl", [doctor(), pharmacist()])
    r = write_jsonl(
        tmp_path / "r.jsonl",
        [
            revisit(),
            revisit(bussID="FZ2", doctorCertID=pharmacist()["doctorCertID"]),
            revisit(bussID="FZ3", doctorCertID="11010519491231002X"),
        ],
    )
    code, out, _ = run(
        ["validate", "-d", "revisit", str(r), "--spec", str(SPEC_DIR), "--with", f"doctor={d}", "--format", "json"]
    )
    data = json.loads(out)
    refs = [p for p in data["problems"] if p["rule"] == "reference"]
    assert code == 1 and [p["row"] for p in refs] == [2]
    assert "11010519491231002X" not in out


def test_usage_and_file_errors(tmp_path):
    f = write_jsonl(tmp_path / "d.jsonl", [doctor()])
    assert run(["validate", str(f), "--spec", str(SPEC_DIR)])[0] == 2  # --dataset missing
    code, _, err = run(["validate", "-d", "nope", str(f), "--spec", str(SPEC_DIR)])
    assert code == 2 and "没有数据集" in err
    code, _, err = run(["validate", "-d", "doctor", str(tmp_path / "missing.jsonl"), "--spec", str(SPEC_DIR)])
    assert code == 2 and "不存在" in err
    (tmp_path / "x.parquet").write_bytes(b"")
    assert run(["validate", "-d", "doctor", str(tmp_path / "x.parquet"), "--spec", str(SPEC_DIR)])[0] == 2
    assert run(["validate", "-d", "doctor", str(f), "--spec", str(SPEC_DIR), "--report", "r.pdf"])[0] == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(doctor()) + "\n{not json\n", encoding="utf-8")
    code, _, err = run(["validate", "-d", "doctor", str(bad), "--spec", str(SPEC_DIR)])
    assert code == 1 and "第 2 行" in err and "JSON" in err


def test_excel_input(tmp_path):
    f = tmp_path / "d.xlsx"
    pd.DataFrame([doctor(), pharmacist()]).to_excel(f, index=False)
    code, out, err = run(["validate", "-d", "doctor", str(f), "--spec", str(SPEC_DIR)])
    assert code == 0, out + err


# ------------------------------------------- one file reader: validate reads as map apply does


def _doctor_csv(rows, *, title: str | None = None) -> str:
    frame = pd.DataFrame(rows)
    text = frame.to_csv(index=False)
    return (f"{title}\n" if title else "") + text


def test_validate_reads_files_like_map_apply(tmp_path):
    from hlwjr import read_source

    f = tmp_path / "d.csv"
    f.write_text(_doctor_csv([doctor(), pharmacist()], title="医护药人员备案导出（2026-11-01）"), encoding="gbk")
    code, out, err = run(["validate", "-d", "doctor", str(f), "--spec", str(SPEC_DIR)])
    assert code == 0, out + err  # the title row above the header is skipped, GBK detected
    assert len(read_source(f)) == 2

    dup = tmp_path / "dup.csv"
    header = ",".join([*doctor(), "doctorName"])
    dup.write_text(header + "\n" + ",".join(str(v) for v in [*doctor().values(), "x"]) + "\n", encoding="utf-8")
    code, _, err = run(["validate", "-d", "doctor", str(dup), "--spec", str(SPEC_DIR)])
    assert code == 1 and "列名重复" in err and "doctorName" in err

    broken = tmp_path / "broken.csv"
    good = _doctor_csv([doctor()]).encode("gbk")
    broken.write_bytes(good[:-3] + b"\xff\xfe" + good[-3:])
    code, _, err = run(["validate", "-d", "doctor", str(broken), "--spec", str(SPEC_DIR)])
    assert code != 0 and "字节" in err and "Traceback" not in err


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    columns=st.lists(
        st.sampled_from(["病人姓名", "性别", "申请时间", "就诊流水号", "FYJE", "结束时间"]), min_size=1, unique=True
    )
)
def test_a_raw_export_is_told_to_be_mapped_first(tmp_path_factory, columns):
    f = tmp_path_factory.mktemp("raw") / "export.csv"
    f.write_text(",".join(columns) + "\n" + ",".join("x" for _ in columns) + "\n", encoding="utf-8")
    code, out, err = run(["validate", "--dataset", "revisit", str(f)])
    assert code == 2, out + err
    assert "都不是数据集 revisit" in err and "hlwjr map suggest --dataset revisit" in err
    if "申请时间" in columns:
        assert "申请时间→applyDate" in err
