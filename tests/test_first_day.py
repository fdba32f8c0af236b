"""A new hospital's first day, end to end with a hospital that is not the demo: one GBK export of
online revisits (pinyin-initial columns) and no master data →

template (基础数据) → fill → map suggest --write → editor changes (headless) → map check →
validate → upload to the sandbox → readiness,

with no hand-edited file and no invented value: every value comes from the export, the hospital's
own master records typed into the template, or a decision made in the editor."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hospital2_helpers import ORGAN_ID, master_records, revisit_export
from openpyxl import load_workbook

import hlwjr
from hlwjr import cli
from hlwjr.mapping._template import HEADER_ROW, template_columns

pytestmark = pytest.mark.slow

DAY = "2026-11-02"


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = cli.run(cli.parse_args(list(map(str, argv))), out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    from hlwjr.sandbox import Sandbox

    sb = Sandbox(tmp_path_factory.mktemp("sandbox-first-day"))
    sb.start()
    yield sb
    sb.stop()


def _type_into_template(path: Path, spec, records: dict[str, list[dict]]) -> None:
    """What the hospital's staff do in Excel: one row per record under the header."""
    wb = load_workbook(path)
    sheets = {r[0]: r[2] for r in wb["meta"].iter_rows(min_row=8, values_only=True) if r[0]}
    for code, rows in records.items():
        ws = wb[sheets[code]]
        for i, rec in enumerate(rows, start=HEADER_ROW + 1):
            for j, key in enumerate(template_columns(spec.dataset(code)), start=1):
                if rec.get(key) is not None:
                    ws.cell(i, j, str(rec[key]))
    wb.save(path)


def test_a_new_hospital_from_one_export_to_a_test_upload(tmp_path, sandbox, monkeypatch):
    spec = hlwjr.load_spec()
    monkeypatch.chdir(tmp_path)
    export = revisit_export(n=45, seed=3, children=False)
    export.to_csv("复诊导出.csv", index=False, encoding="gbk")
    masters = master_records()

    # 1. a draft from the export: every rule 待审, business_time set
    code, out, _ = run("map", "suggest", "--dataset", "revisit", "--source", "复诊导出.csv", "--write", "m")
    assert code == 0 and "business_time = SQSJ" in out

    # 2. the master-data template, registered in the mapping, filled by the hospital
    code, out, _ = run("template", "--out", "基础数据.xlsx", "--mapping", "m")
    assert code == 0 and "unit, dept, doctor" in out
    _type_into_template(tmp_path / "基础数据.xlsx", spec, masters)

    # 3. the editor (headless): what the draft left open, decided by the analyst
    mapping = hlwjr.load_mapping("m")
    from hlwjr.widgets import MappingEditor

    ed = MappingEditor(mapping, "revisit", sample=5, reviewer="信息科")
    open_required = [k for k in spec.dataset("revisit").required_fields if k not in ed.dataset_mapping.fields]
    assert open_required == ["unitID"]  # everything else the export has was found
    unit_id = masters["unit"][0]["unitID"]  # assigned at registration, on the institution's record
    ed.set_rule("unitID", kind="const", param=unit_id)
    for key in ed.dataset_mapping.fields:
        ed.accept(key)
    assert ed.last_error is None, ed.error_message
    ed.save()
    assert "配置检查通过" in ed.save_status.value, ed.save_status.value

    # 4. map check: strict, sample rows mapped and validated
    code, out, _ = run("map", "check", "--mapping", "m")
    assert code == 0, out
    assert "错误 0 个" in out

    # 5. map apply + validate with the master data: nothing refused
    for c in ("unit", "dept", "doctor"):
        assert run("map", "apply", "--mapping", "m", "--dataset", c, "--out", f"{c}.jsonl")[0] == 0
    code, out, _ = run("map", "apply", "--mapping", "m", "--dataset", "revisit", "--date", DAY, "--out", "rv.jsonl")
    assert code == 0, out
    day_rows = int((export["SQSJ"].str[:10] == DAY).sum())
    assert f"记录 {day_rows} 条" in out  # business_time picked the day, not the backlog
    code, out, _ = run("validate", "rv.jsonl", "--dataset", "revisit")
    assert "基础数据" in out and "hlwjr template" in out  # alone: the hint
    code, out, _ = run("validate", "rv.jsonl", "--dataset", "revisit", "--with", "doctor=doctor.jsonl")
    assert code == 0, out
    assert "0 条记录会被平台拒收" in out and "基础数据" not in out

    # 6. upload to the sandbox, then readiness from the same ledger
    appid, secret = sandbox.register(ORGAN_ID, masters["unit"][0]["organName"])
    monkeypatch.setenv("HLWJR_FIRST_DAY_SECRET", secret)
    from hlwjr.upload._project import write_project

    write_project(
        tmp_path / "proj",
        {
            "datasets": ["unit", "dept", "doctor", "revisit"],
            "mapping_dir": str(tmp_path / "m"),
            "project": {"name": "第二家医院", "org_code": ORGAN_ID, "spec": "beijing-reference", "phase": "production"},
            "platform": {
                "profile": "sandbox",
                "url": sandbox.url,
                "appid": appid,
                "secret_env": "HLWJR_FIRST_DAY_SECRET",
            },
        },
    )
    code, out, _ = run("upload", "--config", tmp_path / "proj", "--date", DAY, "--dry-run", "--no-progress")
    assert code == 0, out
    assert "缺少" not in out
    code, out, _ = run("upload", "--config", tmp_path / "proj", "--date", DAY, "--no-progress")
    assert code == 0, out
    readiness = hlwjr.compute_readiness(hlwjr.load_project(tmp_path / "proj"), ask_platform_clock=False)
    per_day = readiness.per_day
    accepted = per_day[per_day["dataset"] == "revisit"]["accepted"].sum()
    assert accepted == day_rows  # the readiness counts what the upload ledger holds
    with hlwjr.Ledger(hlwjr.load_project(tmp_path / "proj").ledger_path) as ledger:
        counts = {c: states.get("accepted", 0) for c, states in ledger.counts().items()}
    assert counts == {"unit": 1, "dept": len(masters["dept"]), "doctor": len(masters["doctor"]), "revisit": day_rows}
