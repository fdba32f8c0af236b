"""The sandbox as a real server: ``hlwjr sandbox serve`` in a separate process on 127.0.0.1 —
start-up time, SIGTERM, the real dropped connection, restart persistence, logs without secrets —
and the ``hlwjr sandbox`` CLI."""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from hlwjr import cli
from hlwjr.sandbox import Sandbox

DATA = Path(__file__).parent / "data"
SPEC = str(DATA / "sandbox_spec")
ORG = "12110000MB0T12345N"

pytestmark = pytest.mark.slow


def revisit(i):
    return {
        "organID": ORG,
        "bussID": f"R{i}",
        "patientName": "张三",
        "patientCertID": "11010119900307123X",
        "patientSex": "1",
        "visitTime": "2026-11-01 09:00:00",
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_starts_fast_and_stops_on_sigterm(tmp_path):
    port = free_port()
    out = tmp_path / "serve.log"
    t0 = time.monotonic()
    with open(out, "wb") as f:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hlwjr.cli",
                "sandbox",
                "serve",
                "--port",
                str(port),
                "--data-dir",
                str(tmp_path / "d"),
                "--spec",
                SPEC,
            ],
            stdout=f,
            stderr=subprocess.STDOUT,
        )
    try:
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/hlwjr/sandbox/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, out.read_text()
            assert time.monotonic() - t0 < 10, "sandbox did not answer within 10 s"
            time.sleep(0.02)
        started = time.monotonic() - t0
        assert started < 3.0, f"hlwjr sandbox serve took {started:.2f} s to answer (limit 3 s)"
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        rc = proc.wait(timeout=15)
    assert rc == 0
    text = out.read_text()
    assert "沙箱平台已停止" in text and "Traceback" not in text


def test_sandbox_process_end_to_end(tmp_path):
    data_dir = tmp_path / "sb"
    with Sandbox(data_dir, spec=SPEC) as sb:
        assert sb.url.startswith("http://127.0.0.1:") and sb.url.endswith("/hlwjr")
        appid, secret = sb.register(ORG, "北京沙箱测试互联网医院")
        sb.set_clock("2026-11-01 10:00:00")
        with httpx.Client(base_url=sb.url, timeout=10) as c:
            tok = c.post("/api/token", json={"appid": appid, "secret": secret}).json()["data"]["access_token"]
            auth = {"Authorization": f"Bearer {tok}"}
            # the real thing: committed, then the socket is closed without an answer
            sb.set_faults(drop_next=1)
            with pytest.raises(httpx.RemoteProtocolError):
                c.post("/api/upload/revisit", json={"batchNo": "B1", "records": [revisit(0), revisit(1)]}, headers=auth)
            r = c.post("/api/upload/revisit", json={"batchNo": "B1", "records": [revisit(0), revisit(1)]}, headers=auth)
            assert r.headers["x-hlwjr-replay"] == "1" and r.json()["data"]["success"] == 2
            sb.set_faults(error_next=1)
            assert (
                c.post("/api/upload/revisit", json={"batchNo": "B2", "records": [revisit(2)]}, headers=auth).status_code
                == 503
            )
            assert sb.set_faults(reset=True)["injected"] == {"errors": 1, "drops": 1}
        first_pid = sb.pid
    assert sb.process.returncode == 0

    # restart on the same data directory: nothing is lost (orgs, token, records, clock, log)
    with Sandbox(data_dir, spec=SPEC) as sb2:
        assert sb2.pid != first_pid
        assert sb2.clock()["today"] == "2026-11-01"
        with httpx.Client(base_url=sb2.url, timeout=10) as c:
            r = c.post("/api/upload/revisit", json={"batchNo": "B3", "records": [revisit(1), revisit(3)]}, headers=auth)
            assert [x["status"] for x in r.json()["data"]["results"]] == ["duplicate", "ok"]
            log = c.get("/api/verify-log", headers=auth).json()["data"]
            assert log["days"][0]["date"] == "2026-11-01" and log["days"][0]["uploaded"] == 4
            page = c.get("/verify-log", headers=auth).text
            assert "北京沙箱测试互联网医院" in page
    server_log = (data_dir / "sandbox-server.log").read_text(encoding="utf-8")
    assert "POST /hlwjr/api/upload/revisit" in server_log
    assert secret not in server_log and tok not in server_log
    assert "11010119900307123X" not in server_log


def test_sandbox_reports_a_failed_start(tmp_path):
    bad_spec = tmp_path / "nospec"
    bad_spec.mkdir()
    sb = Sandbox(tmp_path / "sb", spec=bad_spec, startup_timeout=20)
    from hlwjr import ConfigError

    with pytest.raises(ConfigError, match="启动失败"):
        sb.start()
    assert sb.process.poll() is not None


def test_cli_register_prints_appid_and_secret(tmp_path):
    out, err = io.StringIO(), io.StringIO()
    rc = cli.run(
        cli.parse_args(
            ["sandbox", "register", "--data-dir", str(tmp_path), "--org-code", ORG, "--org-name", "北京某互联网医院"]
        ),
        out,
        err,
    )
    assert rc == 0
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("appid: ") and lines[1].startswith("secret: ")
    appid, secret = lines[0].split(": ")[1], lines[1].split(": ")[1]
    assert "只显示这一次" in err.getvalue()
    from hlwjr.sandbox._store import Store

    store = Store(tmp_path)
    assert store.check_secret(appid, secret) and not store.check_secret(appid, secret + "x")
    store.close()
    out = io.StringIO()
    assert cli.run(cli.parse_args(["sandbox", "orgs", "--data-dir", str(tmp_path)]), out, err) == 0
    assert ORG in out.getvalue() and secret not in out.getvalue()


def test_cli_register_bad_org_code(tmp_path):
    err = io.StringIO()
    rc = cli.run(
        cli.parse_args(["sandbox", "register", "--data-dir", str(tmp_path), "--org-code", "123", "--org-name", "x"]),
        io.StringIO(),
        err,
    )
    assert rc == 2 and "统一社会信用代码" in err.getvalue()


def test_cli_serve_refuses_non_loopback_and_bad_flags(tmp_path):
    err = io.StringIO()
    rc = cli.run(
        cli.parse_args(["sandbox", "serve", "--host", "0.0.0.0", "--data-dir", str(tmp_path)]), io.StringIO(), err
    )
    assert rc == 2 and "回环" in err.getvalue()
    err = io.StringIO()
    rc = cli.run(
        cli.parse_args(["sandbox", "serve", "--error-rate", "3", "--data-dir", str(tmp_path)]), io.StringIO(), err
    )
    assert rc == 2 and "error_rate" in err.getvalue()


def test_cli_serve_port_in_use_is_one_clear_line(tmp_path):
    """A second ``hlwjr sandbox serve`` on a taken port: one Chinese line naming --port, exit 2,
    no banner pretending it started, nothing of uvicorn's English log."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out, err = io.StringIO(), io.StringIO()
        rc = cli.run(
            cli.parse_args(["sandbox", "serve", "--port", str(port), "--data-dir", str(tmp_path / "d")]), out, err
        )
    assert rc == 2 and f"端口 {port} 已被占用" in err.getvalue() and "--port" in err.getvalue()
    assert "沙箱平台:" not in out.getvalue() and "Traceback" not in err.getvalue()


def test_cli_orgs_does_not_create_a_data_dir(tmp_path):
    out = io.StringIO()
    rc = cli.run(cli.parse_args(["sandbox", "orgs", "--data-dir", str(tmp_path / "nowhere")]), out, io.StringIO())
    assert rc == 0 and "还没有沙箱数据" in out.getvalue() and not (tmp_path / "nowhere").exists()


def test_serve_args_roundtrip():
    from hlwjr.commands._sandbox import settings_from_args
    from hlwjr.sandbox import SandboxSettings
    from hlwjr.sandbox._server import serve_args

    s = SandboxSettings.from_kwargs(
        whole_batch=True,
        token_ttl=60,
        min_daily_records=5,
        per_dataset=True,
        required_datasets=("revisit",),
        latency_ms=10,
        error_kind="busy",
        token_expire_after=5.0,
        clock="2026-11-01 09:00:00",
    )
    args = cli.parse_args(["sandbox", "serve", *serve_args(s)])
    assert settings_from_args(args) == s


def test_session_sandbox_server_fixture(sandbox_server):
    """The shared loopback server other areas use: reference spec, registration, clean state."""
    health = httpx.get(sandbox_server.url + "/sandbox/health", timeout=10).json()["data"]
    assert health["spec"] == "beijing-reference"
    appid, secret = sandbox_server.register("12110105MB0T23456W", "北京市测试第二互联网医院")
    r = httpx.post(sandbox_server.url + "/api/token", json={"appid": appid, "secret": secret}, timeout=10)
    assert r.json()["code"] == 0
    assert sandbox_server.set_faults(reset=True)["error_next"] == 0


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc to list open files")
def test_damaged_sandbox_database_is_a_config_error_and_leaves_no_open_file(tmp_path):
    from hlwjr import ConfigError
    from hlwjr.sandbox._store import DB_NAME, Store

    bad = tmp_path / DB_NAME
    bad.write_bytes(b"this is not sqlite" * 100)
    for _ in range(3):
        with pytest.raises(ConfigError, match="沙箱数据目录"):
            Store(tmp_path)
    still_open = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            still_open.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            pass
    assert [p for p in still_open if p.startswith(str(bad))] == []
