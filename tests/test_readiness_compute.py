"""Readiness (达标情况) from the ledger: per-day counts, streak, today's gap, verdict, comparison
with the platform's verification log, and the evidence pack."""

from __future__ import annotations

import json

import openpyxl
import pytest

from hlwjr import Ledger, compute_readiness
from hlwjr._client import BatchResult, RecordResult
from hlwjr._ledger import content_hash, record_json
from hlwjr._project import Thresholds
from hlwjr._readiness import platform_counts, write_evidence_pack

ID = "110101199003071234"


def _day(led, day, dataset, n_ok, n_rej=0, n_dup=0, tag=""):
    recs = [{"organID": "O", "id": f"{dataset}{day}{tag}{i}", "patientCertID": ID, "patientName": "张三丰"}
            for i in range(n_ok + n_rej + n_dup)]
    batch = f"B-{dataset}-{day}{tag}"
    body = json.dumps({"batchNo": batch, "records": [json.loads(record_json(r)) for r in recs]},
                      ensure_ascii=False).encode()
    keys = [f"O|{r['id']}" for r in recs]
    led.open_batch(dataset, batch, [(k, content_hash(r)) for k, r in zip(keys, recs)], body)
    led.mark_sent(batch)
    status = ["accepted"] * n_ok + ["rejected"] * n_rej + ["duplicate"] * n_dup
    led.record_answer(BatchResult(dataset, batch, len(recs), 0, "", [RecordResult(i, s) for i, s in enumerate(status)]),
                      platform_day=day, keys=keys)


@pytest.fixture
def ledger(tmp_path):
    with Ledger(tmp_path / "ledger.sqlite") as led:
        yield led


def test_three_clean_days_may_apply(ledger):
    for d in ("2026-11-01", "2026-11-02", "2026-11-03"):
        _day(ledger, d, "visit", 20)
        _day(ledger, d, "recipe", 16)
    r = compute_readiness(ledger, today="2026-11-03")
    assert r.may_apply and r.streak == 3 and r.streak_days == ["2026-11-01", "2026-11-02", "2026-11-03"]
    assert "可以申请" in r.verdict and r.gap_text == "今天已达标"
    tot = r.per_day[r.per_day["dataset"] == "*"]
    assert list(tot["accepted"]) == [36, 36, 36] and all(tot["qualifies"])


def test_gap_and_broken_day(ledger):
    _day(ledger, "2026-11-01", "visit", 30)
    _day(ledger, "2026-11-02", "visit", 29, n_rej=1)      # one rejection breaks 100 %
    _day(ledger, "2026-11-03", "visit", 30)
    _day(ledger, "2026-11-04", "visit", 18)               # today, in progress
    r = compute_readiness(ledger, today="2026-11-04")
    assert not r.may_apply and r.streak == 1 and r.today_needed == {"*": 12}
    assert r.gap_text == "今天还需 12 条成功记录"
    assert "尚不能申请" in r.verdict and "还需 2 天" in r.verdict
    assert "成功率" in r.days["2026-11-02"]["reasons"][0]


def test_duplicates_block_today(ledger):
    _day(ledger, "2026-11-05", "visit", 40, n_dup=1)
    r = compute_readiness(ledger, today="2026-11-05")
    assert any("重复" in b for b in r.today_blocked) and not r.days["2026-11-05"]["qualifies"]


def test_per_dataset_rule(ledger):
    t = Thresholds(per_dataset=True, required_datasets=("visit", "recipe"), consecutive_days=1)
    _day(ledger, "2026-11-01", "visit", 30)
    _day(ledger, "2026-11-01", "recipe", 10)
    r = compute_readiness(ledger, thresholds=t, today="2026-11-01")
    assert not r.may_apply and r.today_needed == {"visit": 0, "recipe": 20}
    assert "recipe 20 条" in r.gap_text


SANDBOX_LOG = {
    "today": "2026-11-02", "may_apply": False, "streak": 2,
    "days": [
        {"date": "2026-11-01", "uploaded": 30, "success": 30, "failed": 0, "duplicate": 0,
         "datasets": [{"dataset": "visit", "uploaded": 30, "success": 30, "failed": 0, "duplicate": 0}]},
        {"date": "2026-11-02", "uploaded": 31, "success": 30, "failed": 0, "duplicate": 1,
         "datasets": [{"dataset": "visit", "uploaded": 31, "success": 30, "failed": 0, "duplicate": 1}]},
    ]}


def test_comparison_with_platform_log(ledger):
    _day(ledger, "2026-11-01", "visit", 30)
    _day(ledger, "2026-11-02", "visit", 30)
    counts, verdict = platform_counts(SANDBOX_LOG)
    assert counts[("2026-11-02", "visit")]["duplicate"] == 1 and verdict["may_apply"] is False
    r = compute_readiness(ledger, platform_log=SANDBOX_LOG)
    assert r.today == "2026-11-02"  # the platform's day, not the wall clock
    fields = {(d["day"], d["field"]) for d in r.disagreements}
    assert ("2026-11-02", "duplicate") in fields
    assert "不一致" in r.to_text() and "不一致" in r.verdict


def test_agreement_reported(ledger):
    _day(ledger, "2026-11-01", "visit", 30)
    log = {"today": "2026-11-01", "days": [SANDBOX_LOG["days"][0]]}
    r = compute_readiness(ledger, platform_log=log)
    assert r.disagreements == [] and "一致" in r.to_text()


def test_empty_ledger(ledger):
    r = compute_readiness(ledger, today="2026-11-01")
    assert not r.may_apply and r.streak == 0 and "还没有任何上传记录" in r.to_text()
    assert json.loads(r.to_json())["may_apply"] is False


def test_evidence_pack(ledger, tmp_path):
    for d in ("2026-11-01", "2026-11-02", "2026-11-03"):
        _day(ledger, d, "visit", 31)
    r = compute_readiness(ledger, today="2026-11-03")
    paths = write_evidence_pack(r, tmp_path / "ev", ledger=ledger)
    html = paths["html"].read_text(encoding="utf-8")
    assert "data:image/png;base64," in html and "可以申请" in html and "B-visit-2026-11-01" in html
    assert ID not in html and "110101********1234" in html  # masked samples only
    assert paths["png"].read_bytes()[:4] == b"\x89PNG"
    wb = openpyxl.load_workbook(paths["xlsx"])
    assert {"达标结论", "每日统计", "上传日志", "样例记录(脱敏)", "对照版本", "平台对比"} <= set(wb.sheetnames)
    text = " ".join(str(c.value) for ws in wb for row in ws.iter_rows() for c in row if c.value is not None)
    assert ID not in text and "张三丰" not in text
    assert not list((tmp_path / "ev").glob("*.tmp*"))


def test_notebook_display(ledger):
    _day(ledger, "2026-11-01", "visit", 30)
    r = compute_readiness(ledger, today="2026-11-01")
    assert "尚不能申请" in r._repr_html_() and "<table" in r._repr_html_()
