"""Alerts (告警) of ``hlwjr run``: a chat-robot webhook (企业微信/钉钉 JSON body) received by a
loopback HTTP server, and a command; fired exactly when the run failed, something was refused
or the source was empty, never otherwise; a failing webhook is logged and changes nothing."""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from ops_helpers import (
    LONG_NAME,
    hospital_rows,
    new_hospital,
)

from hlwjr import ConfigError
from hlwjr.operations._run import run_production
from hlwjr.upload._project import AlertSettings

pytestmark = pytest.mark.slow


class Receiver:
    """A webhook receiver on 127.0.0.1: keeps each JSON body; answers ``answer`` (status, body)."""

    def __init__(self):
        self.bodies: list[dict] = []
        self.answer = (200, {"errcode": 0, "errmsg": "ok"})
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                outer.bodies.append(json.loads(self.rfile.read(n).decode("utf-8")))
                status, body = outer.answer
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/cgi-bin/webhook/send?key=SECRETKEY"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def test_webhook_fires_for_refusals_only_and_carries_no_patient_data(strict_sandbox, tmp_path, monkeypatch, receiver):
    tables = hospital_rows(["2026-11-01", "2026-11-02"], 2)
    tables["visits"][0]["XM"] = LONG_NAME
    project, _, _ = new_hospital(tmp_path, strict_sandbox, monkeypatch, tables=tables, alerts={"webhook": receiver.url})
    r = run_production(project, date="2026-11-01")
    assert r.exit_code == 1 and r.record["alerts"] == [{"channel": "webhook", "ok": True}]
    [body] = receiver.bodies
    assert body["msgtype"] == "text" and "平台拒收" in body["text"]["content"]
    assert "2026-11-01" in body["text"]["content"] and LONG_NAME not in json.dumps(body, ensure_ascii=False)
    assert "SECRETKEY" not in r.path.read_text(encoding="utf-8")
    ok = run_production(project, date="2026-11-02")
    assert ok.exit_code == 0 and len(receiver.bodies) == 1 and ok.record["alerts"] == []


def test_a_failing_webhook_is_logged_and_changes_nothing(strict_sandbox, tmp_path, monkeypatch, receiver):
    receiver.answer = (200, {"errcode": 93000, "errmsg": "invalid webhook url"})
    project, _, _ = new_hospital(tmp_path, strict_sandbox, monkeypatch, alerts={"webhook": receiver.url})
    r = run_production(project, date="2026-11-09")  # nothing that day: 源数据为空
    assert r.exit_code == 1 and r.record["source_empty"]
    [a] = r.record["alerts"]
    assert not a["ok"] and "93000" in a["error"] and "SECRETKEY" not in a["error"]
    assert "源数据为空" in receiver.bodies[0]["text"]["content"]
    receiver.answer = (500, {})
    monkeypatch.setenv("HLWJR_TEST_HOOK", receiver.url)
    project, _, _ = new_hospital(
        tmp_path,
        strict_sandbox,
        monkeypatch,
        alerts={"webhook_env": "HLWJR_TEST_HOOK"},
        platform={"url": "http://127.0.0.1:9/x"},
    )
    r = run_production(project, date="2026-11-01")
    assert r.exit_code == 2 and "HTTP 500" in r.record["alerts"][0]["error"]
    assert "运行失败" in receiver.bodies[-1]["text"]["content"]


def test_alert_command_gets_the_message_and_the_kinds(strict_sandbox, tmp_path, monkeypatch):
    out = tmp_path / "alert.txt"
    monkeypatch.setenv("ALERT_OUT", str(out))
    script = (
        "import os,sys; f=open(os.environ['ALERT_OUT'],'w',encoding='utf-8'); "
        "f.write(os.environ['HLWJR_ALERT_KINDS']+chr(10)+sys.stdin.read())"
    )
    command = f'"{sys.executable}" -c "{script}"'
    project, _, _ = new_hospital(tmp_path, strict_sandbox, monkeypatch, alerts={"command": command})
    r = run_production(project, date="2026-11-09")
    assert r.record["alerts"] == [{"channel": "command", "ok": True}]
    kinds, text = out.read_text(encoding="utf-8").split("\n", 1)
    assert kinds == "source_empty" and "【hlwjr】" in text
    bad = new_hospital(
        tmp_path, strict_sandbox, monkeypatch, alerts={"command": f'"{sys.executable}" -c "raise SystemExit(3)"'}
    )[0]
    r = run_production(bad, date="2026-11-09")
    assert r.exit_code == 1 and "退出码 3" in r.record["alerts"][0]["error"]


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"webhook": "ftp://x"}, "http:// 或 https://"),
        ({"command": 3}, "必须是字符串"),
        ({"timeout": 0}, "正数"),
        ({"hook": "x"}, "未知的设置"),
    ],
)
def test_alert_settings_errors(data, needle):
    with pytest.raises(ConfigError, match=needle):
        AlertSettings.from_dict(data)


# --------------------------------------------- thresholds: in a row, deadlines, stale batches
from types import SimpleNamespace  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from hlwjr.operations._run import _alert_events, _missing_sign_ins, _stale_batches  # noqa: E402


def _record(refused: int, **extra):
    return {
        "kind": "run",
        "error": None,
        "datasets": [{"dataset": "visit", "rejected": refused}],
        "n_refused": refused,
        "unconfirmed": [],
        "source_empty": False,
        "totals": {},
        **extra,
    }


@settings(max_examples=60, deadline=None)
@given(history=st.lists(st.integers(0, 3), max_size=8), now=st.integers(0, 3), n=st.integers(1, 4))
def test_an_interface_refused_n_runs_in_a_row_is_alerted_exactly_then(history, now, n):
    records = [_record(r) for r in history]
    events = _alert_events(_record(now), AlertSettings(interface_failures=n), records)
    streak = 0
    for r in [*history, now][::-1]:
        if not r:
            break
        streak += 1
    failing = [e for e in events if e["kind"] == "interface_failing"]
    assert bool(failing) == (streak >= n)
    if failing:
        assert f"连续 {streak} 次" in failing[0]["message"]


@pytest.mark.parametrize("failures, after, alerted", [(1, 1, True), (1, 2, False), (2, 2, True), (3, 2, True)])
def test_a_failed_run_is_alerted_from_the_nth_failure_on(failures, after, alerted):
    rec = _record(0, error="平台无法访问", consecutive_failures=failures)
    kinds = [e["kind"] for e in _alert_events(rec, AlertSettings(after_failures=after), [])]
    assert ("run_failed" in kinds) == alerted


def test_unanswered_batches_older_than_the_limit_are_alerted(tmp_path):
    from hlwjr.upload._ledger import Ledger

    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        ledger.open_batch("visit", "B-old", [("k1", "h1")], b"[]", sent=True)
        ledger.open_batch("visit", "B-new", [("k2", "h2")], b"[]", sent=True)
        ledger._db.execute("UPDATE batches SET created_at='2020-01-01 00:00:00' WHERE batch_no='B-old'")
        stale = _stale_batches(ledger, 24)
    assert [b["batch_no"] for b in stale] == ["B-old"]
    events = _alert_events(_record(0, unconfirmed_stale=stale), AlertSettings(), [])
    assert [e["kind"] for e in events] == ["unconfirmed_stale"] and "2020-01-01" in events[0]["message"]


def test_a_missing_daily_sign_in_is_alerted_after_the_deadline(tmp_path, monkeypatch):
    from hlwjr.upload import _ledger as ledger_mod
    from hlwjr.upload._ledger import Ledger
    from hlwjr.upload._profile import PlatformProfile

    client = SimpleNamespace(profile=PlatformProfile.load("tianjin"))
    rec = _record(0, platform_day="2026-11-01")
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        for hour, deadline, missing in ((9, 18, []), (19, 18, ["complaint"]), (19, None, [])):
            noon = ledger_mod.now_shanghai().replace(hour=hour)
            monkeypatch.setattr(ledger_mod, "now_shanghai", lambda noon=noon: noon)
            project = SimpleNamespace(alerts=AlertSettings(sign_in_deadline=deadline))
            assert _missing_sign_ins(project, ledger, client, rec) == missing
    events = _alert_events(_record(0, platform_day="2026-11-01", sign_in_missing=["complaint"]), AlertSettings(), [])
    assert events[0]["kind"] == "sign_in_missing" and "complaint" in events[0]["message"]


@pytest.mark.parametrize(
    "bad", [{"after_failures": 0}, {"interface_failures": "3"}, {"sign_in_deadline": 24}, {"unconfirmed_hours": -1}]
)
def test_alert_thresholds_are_checked(bad):
    with pytest.raises(ConfigError, match=next(iter(bad))):
        AlertSettings.from_dict(bad)
