"""The per-run log: retries and give-ups are counted in the summary and written as they happen;
a run that was killed leaves a trace of where it stopped, and the next run says so."""

from __future__ import annotations

import json
import os
import stat

import pytest
from test_upload_sandbox import make_records, new_project

from hlwjr import TransportError
from hlwjr.upload._runlog import RunLog, last_unfinished_run
from hlwjr.upload._uploader import upload_records

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("fresh_faults")]


def events(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_retries_are_counted_reported_and_logged(sandbox, tmp_path, monkeypatch):
    project, org = new_project(tmp_path, sandbox, monkeypatch)
    sandbox.set_faults(error_next=2, error_kind="busy")
    summary = upload_records(project, make_records(org, 5))
    assert summary.ok and summary.retries == 2
    text = summary.to_text()
    assert "重试 2 次" in text and str(summary.run_log) in text
    log = events(summary.run_log)
    kinds = [e["event"] for e in log]
    assert kinds[0] == "start" and kinds[-1] == "end" and kinds.count("retry") == 2
    assert log[-1]["accepted"] == summary.total("accepted") and log[-1]["retries"] == 2
    batches = [e for e in log if e["event"] == "batch"]
    assert sum(e["records"] for e in batches) == summary.total("sent")
    assert stat.S_IMODE(os.stat(summary.run_log).st_mode) == 0o600
    body = summary.run_log.read_text(encoding="utf-8")
    assert "V000001" not in body and "王试" not in body  # counts and batch numbers, never records


def test_giving_up_is_logged_as_abort_with_the_reason(sandbox, tmp_path, monkeypatch):
    project, org = new_project(tmp_path, sandbox, monkeypatch, max_retries=1)
    assert upload_records(project, make_records(org, 2, prefix="A")).ok
    sandbox.set_faults(error_rate=1.0, error_kind="busy")
    with pytest.raises(TransportError, match="已重试 1 次仍失败"):
        upload_records(project, make_records(org, 2, prefix="B"))
    newest = sorted((project.work_dir / "logs").glob("upload-*.jsonl"))[-1]
    log = events(newest)
    assert [e["event"] for e in log][-3:] == ["retry", "give_up", "abort"]
    assert "已重试" in log[-1]["error"]
    assert last_unfinished_run(project.work_dir) is None  # an abort is a finished run


def test_a_killed_run_is_noticed_by_the_next_one(sandbox, tmp_path, monkeypatch):
    project, org = new_project(tmp_path, sandbox, monkeypatch)
    assert upload_records(project, make_records(org, 2, prefix="A")).ok
    killed = RunLog(project.work_dir, date="2026-11-01")  # what a SIGKILL leaves: no end line …
    killed.event("batch", dataset="visit", batch_no="ORG-visit-20261101-abc", records=2, accepted=2)
    killed._fh.write('{"at": "2026-11-01 10:00:01", "event": "bat')  # … and a line cut short
    killed._fh.close()
    unfinished = last_unfinished_run(project.work_dir)
    assert unfinished is not None and unfinished.last_event["batch_no"] == "ORG-visit-20261101-abc"
    summary = upload_records(project, make_records(org, 2, prefix="B"))
    assert summary.ok
    note = "\n".join(summary.notes)
    assert "没有正常结束" in note and "ORG-visit-20261101-abc" in note
    assert last_unfinished_run(project.work_dir) is None


def test_logs_rotate(tmp_path):
    for _ in range(65):
        RunLog(tmp_path).close()
    assert len(list((tmp_path / "logs").glob("*.jsonl"))) <= 60
