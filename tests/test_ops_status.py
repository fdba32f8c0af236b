"""``hlwjr status``: per business day × data set from the ledger and the run records, the
reconciliation (source rows, keys mapped but not in the ledger, keys in the ledger no longer in
the source, the platform's verification log with the keys that differ), text and JSON."""

from __future__ import annotations

import json
import sqlite3

import pytest
from ops_helpers import (
    LONG_NAME,
    cli,
    days_from,
    hospital_rows,
    new_hospital,
    write_tables,
)

from hlwjr.operations._run import run_production
from hlwjr.operations._status import compute_status

pytestmark = pytest.mark.slow


@pytest.fixture
def three_days(strict_sandbox, tmp_path, monkeypatch):
    days = days_from("2026-11-01", 3)
    tables = hospital_rows(days, 4)
    tables["visits"][1]["ZT"] = "进行中"
    tables["visits"][2]["XM"] = LONG_NAME
    project, _, src = new_hospital(tmp_path, strict_sandbox, monkeypatch, tables=tables)
    for d in days:
        run_production(project, date=d)
    return project, tables, src


def test_status_rows_agree_with_the_runs_and_the_platform(three_days):
    project, _, _ = three_days
    st = compute_status(project, today="2026-11-03", days=7, platform=True)
    assert st.platform == "ok" and st.mismatches == []
    by = {(r["day"], r["dataset"]): r for r in st.rows}
    assert len(by) == 9
    v1 = by[("2026-11-01", "visit")]
    assert (v1["his_rows"], v1["waiting"], v1["mapped"], v1["sent"], v1["accepted"], v1["refused"]) == (
        4,
        1,
        3,
        3,
        2,
        1,
    )
    assert v1["success_rate"] == pytest.approx(2 / 3, abs=1e-4) and v1["last_status"] == "problems"
    assert by[("2026-11-03", "recipe")]["accepted"] == 4 and by[("2026-11-03", "recipe")]["pending"] == 0
    code, out, _ = cli("status", "--config", str(project.root), "--today", "2026-11-03", "--format", "json")
    assert code == 0 and json.loads(out)["rows"] == json.loads(st.to_json())["rows"]
    code, out, _ = cli("status", "--config", str(project.root), "--today", "2026-11-03", "--days", "2")
    assert code == 0 and "2026-11-01" not in out.split("最近的运行")[0] and "对账一致" in out
    assert LONG_NAME not in out


def test_a_record_deleted_in_his_after_sending_is_a_mismatch_with_its_key(three_days):
    project, tables, src = three_days
    gone = tables["visits"].pop(5)  # 2026-11-02, visit 1: sent, then deleted in HIS
    write_tables(src, tables)
    r = run_production(project, date="2026-11-02")
    assert r.exit_code == 1 and any(e["kind"] == "reconciliation" for e in r.record["alert_events"])
    st = compute_status(project, today="2026-11-03")
    [m] = st.mismatches
    assert m["check"] == "not_in_source" and m["day"] == "2026-11-02" and m["keys"][0].endswith(gone["FZID"])
    code, out, _ = cli("status", "--config", str(project.root), "--today", "2026-11-03")
    assert code == 1 and "源数据中已不存在" in out


def test_ledger_and_platform_disagreeing_lists_the_keys(three_days):
    project, _, _ = three_days
    with sqlite3.connect(project.ledger_path) as db:  # an acceptance the platform never had
        (day,) = db.execute("SELECT max(platform_day) FROM events").fetchone()
        db.execute(
            "INSERT INTO events (at, platform_day, dataset, key, hash, batch_no, status) "
            "VALUES (?, ?, 'visit', 'X|GHOST0001', 'h', 'b', 'accepted')",
            (day + " 00:00:00", day),
        )
    st = compute_status(project, today="2026-11-03", platform=True)
    [m] = [m for m in st.mismatches if m["check"] == "platform"]
    assert m["dataset"] == "visit" and m["keys"] == ["+X|GHOST0001"]


def test_status_without_any_run(strict_sandbox, tmp_path, monkeypatch):
    project, _, _ = new_hospital(tmp_path, strict_sandbox, monkeypatch)
    code, out, _ = cli("status", "--config", str(project.root))
    assert code == 0 and "没有运行记录" in out
    code, _, err = cli("status", "--config", str(project.root), "--days", "0")
    assert code == 2 and "--days" in err
