"""Readiness (达标情况) from the ledger: per-day counts, streak, today's gap, verdict, comparison
with the platform's verification log, and the evidence pack."""

from __future__ import annotations

import json

import openpyxl
import pytest

from hlwjr import Ledger, compute_readiness
from hlwjr.readiness._evidence import write_evidence_pack
from hlwjr.readiness._readiness import platform_counts
from hlwjr.upload._ledger import content_hash, record_json
from hlwjr.upload._project import Thresholds
from hlwjr.upload._results import BatchResult, RecordResult

ID = "110101199003071234"


def _day(led, day, dataset, n_ok, n_rej=0, n_dup=0, tag=""):
    recs = [
        {"organID": "O", "id": f"{dataset}{day}{tag}{i}", "patientCertID": ID, "patientName": "张三丰"}
        for i in range(n_ok + n_rej + n_dup)
    ]
    batch = f"B-{dataset}-{day}{tag}"
    body = json.dumps(
        {"batchNo": batch, "records": [json.loads(record_json(r)) for r in recs]}, ensure_ascii=False
    ).encode()
    keys = [f"O|{r['id']}" for r in recs]
    led.open_batch(dataset, batch, [(k, content_hash(r)) for k, r in zip(keys, recs)], body)
    led.mark_sent(batch)
    status = ["accepted"] * n_ok + ["rejected"] * n_rej + ["duplicate"] * n_dup
    led.record_answer(
        BatchResult(dataset, batch, len(recs), 0, "", [RecordResult(i, s) for i, s in enumerate(status)]),
        platform_day=day,
        keys=keys,
    )


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
    _day(ledger, "2026-11-02", "visit", 29, n_rej=1)  # one rejection breaks 100 %
    _day(ledger, "2026-11-03", "visit", 30)
    _day(ledger, "2026-11-04", "visit", 18)  # today, in progress
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
    "today": "2026-11-02",
    "may_apply": False,
    "streak": 2,
    "days": [
        {
            "date": "2026-11-01",
            "uploaded": 30,
            "success": 30,
            "failed": 0,
            "duplicate": 0,
            "datasets": [{"dataset": "visit", "uploaded": 30, "success": 30, "failed": 0, "duplicate": 0}],
        },
        {
            "date": "2026-11-02",
            "uploaded": 31,
            "success": 30,
            "failed": 0,
            "duplicate": 1,
            "datasets": [{"dataset": "visit", "uploaded": 31, "success": 30, "failed": 0, "duplicate": 1}],
        },
    ],
}


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


def test_invalid_today_is_a_config_error(ledger):
    from hlwjr._exceptions import ConfigError

    _day(ledger, "2026-11-01", "visit", 30)
    for bad in ("2026-13-01", "2026-02-30", "yesterday", "2026/11/01"):
        with pytest.raises(ConfigError, match="无效") as e:
            compute_readiness(ledger, today=bad)
        assert e.value.where == "--today"
    # a platform clock that is not a date is ignored, not a crash
    r = compute_readiness(ledger, platform_log={"today": "not-a-day", "days": []}, today=None)
    assert len(r.today) == 10


def test_evidence_pack_speaks_chinese(ledger, tmp_path):
    for d in ("2026-11-01", "2026-11-02"):
        _day(ledger, d, "visit", 31)
    _day(ledger, "2026-11-03", "visit", 28, n_rej=2)
    r = compute_readiness(ledger, today="2026-11-03")
    paths = write_evidence_pack(r, tmp_path / "ev", ledger=ledger)
    wb = openpyxl.load_workbook(paths["xlsx"])
    header = [c.value for c in wb["每日统计"][1]]
    assert header == ["日期（平台日）", "数据集", "上传", "成功", "拒收", "重复", "成功率", "达标", "未达标原因"]
    values = [[c.value for c in row] for row in wb["每日统计"].iter_rows(min_row=2)]
    assert values[-1][:6] == ["2026-11-03", "合计", 30, 28, 2, 0] and values[-1][7] == "否"
    assert "拒收 2 条" in values[-1][8]
    log_header = [c.value for c in wb["上传日志"][1]]
    assert "批次号 batchNo" in log_header and "结果" in log_header
    assert {c.value for c in wb["上传日志"]["F"][1:]} == {"成功", "拒收"}
    html = paths["html"].read_text(encoding="utf-8")
    assert "<th>成功率</th>" in html and "93.3%" in html and "合计" in html


def test_evidence_pack_unwritable_directory_is_a_clear_error(ledger, tmp_path):
    from hlwjr._exceptions import ConfigError

    _day(ledger, "2026-11-01", "visit", 30)
    r = compute_readiness(ledger, today="2026-11-01")
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(ConfigError, match="无法创建证据包目录") as e:
        write_evidence_pack(r, blocker / "ev", ledger=ledger)
    assert "--out" in str(e.value)


def test_readiness_cli_bad_today_and_out_are_one_line_errors(tmp_path, monkeypatch):
    import io

    from hlwjr import cli
    from hlwjr.upload._project import write_project

    root = write_project(
        tmp_path / "proj",
        {
            "project": {"name": "测试医院", "org_code": "O"},
            "platform": {
                "profile": "sandbox",
                "url": "http://127.0.0.1:9/hlwjr",
                "appid": "a",
                "secret_env": "HLWJR_TEST_SECRET",
            },
        },
    ).parent
    from hlwjr.upload._project import load_project

    project = load_project(root)
    project.ledger_path.parent.mkdir(parents=True, exist_ok=True)
    with Ledger(project.ledger_path) as led:
        _day(led, "2026-11-01", "visit", 30)
    (tmp_path / "file").write_text("x", encoding="utf-8")
    for argv, text in (
        (["--today", "2026-13-01"], "日期 '2026-13-01' 无效"),
        (["--format", "html", "--out", str(tmp_path / "file" / "ev"), "--today", "2026-11-01"], "无法创建证据包目录"),
    ):
        out, err = io.StringIO(), io.StringIO()
        rc = cli.run(cli.parse_args(["readiness", "--config", str(root), "--no-platform", *argv]), out, err)
        assert rc == 2 and text in err.getvalue() and "Traceback" not in err.getvalue()


def test_text_names_the_earlier_run_behind_the_verdict(ledger):
    """Three clean days earlier, nothing today: the current streak is 0 but the hospital may apply;
    the text says which run the verdict rests on, so the two numbers do not look contradictory."""
    for d in ("2026-11-01", "2026-11-02", "2026-11-03"):
        _day(ledger, d, "visit", 30)
    r = compute_readiness(ledger, today="2026-11-06")
    text = r.to_text()
    assert r.may_apply and r.streak == 0
    assert "连续达标天数: 0" in text and "最长连续达标: 3 天（2026-11-01 至 2026-11-03）" in text
    assert "最长连续达标" not in compute_readiness(ledger, today="2026-11-03").to_text()


def test_mapping_versions_carry_the_git_revision(tmp_path):
    """The evidence pack names the mapping and code maps by revision: the last commit that changed
    each file, and whether the working copy has changes not yet committed (reviewed like code)."""
    import shutil
    import subprocess
    from types import SimpleNamespace

    from hlwjr.readiness._evidence import _mapping_versions

    if shutil.which("git") is None:
        pytest.skip("git not installed")
    root = tmp_path / "proj"
    (root / "mapping" / "codes").mkdir(parents=True)
    (root / "mapping" / "mapping.yaml").write_text("kind: hlwjr/mapping\nversion: 1\n", encoding="utf-8")
    (root / "mapping" / "codes" / "sex.csv").write_text("source,target\n男,1\n", encoding="utf-8")
    git = ["git", "-C", str(root), "-c", "user.name=审核人", "-c", "user.email=a@example.org"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "对照 v1"], check=True)
    (root / "mapping" / "codes" / "sex.csv").write_text("source,target\n男,1\n女,2\n", encoding="utf-8")
    (root / "mapping" / "codes" / "new.csv").write_text("source,target\n", encoding="utf-8")
    v = _mapping_versions(SimpleNamespace(mapping_dir=root / "mapping", root=root)).set_index("file")
    head = subprocess.run(
        [*git, "log", "-1", "--format=%h %cs"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert v.loc["mapping/mapping.yaml", "revision"] == head and v.loc["mapping/mapping.yaml", "version"] == "1"
    assert v.loc["mapping/codes/sex.csv", "revision"] == f"{head}，有未提交的修改"
    assert v.loc["mapping/codes/new.csv", "revision"] == "未提交（不在版本库中）"
    # outside a repository: no revision, still the content hash
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "m.yaml").write_text("version: 1\n", encoding="utf-8")
    w = _mapping_versions(SimpleNamespace(mapping_dir=plain, root=tmp_path))
    assert list(w["revision"]) == [""] and len(w["sha256"][0]) == 16


def test_evidence_pack_with_an_unloadable_spec_opens_no_ledger(tmp_path, monkeypatch):
    """The spec is loaded before the ledger is opened: a spec error leaves no connection behind."""
    from hlwjr import ConfigError
    from hlwjr.readiness import _readiness as _readiness
    from hlwjr.upload._project import load_project, write_project

    root = write_project(
        tmp_path / "proj",
        {
            "project": {"name": "测试医院", "org_code": "O", "spec": str(tmp_path / "no-such-spec")},
            "platform": {
                "profile": "sandbox",
                "url": "http://127.0.0.1:9/hlwjr",
                "appid": "a",
                "secret_env": "HLWJR_TEST_SECRET",
            },
        },
    ).parent
    project = load_project(root)
    project.ledger_path.parent.mkdir(parents=True, exist_ok=True)
    with Ledger(project.ledger_path) as led:
        _day(led, "2026-11-01", "visit", 3)
        r = compute_readiness(led, today="2026-11-01")
    opened = []
    monkeypatch.setattr(_readiness, "Ledger", lambda *a, **k: opened.append(a) or Ledger(*a, **k))
    with pytest.raises(ConfigError):
        write_evidence_pack(r, tmp_path / "ev", project=project)
    assert opened == []
