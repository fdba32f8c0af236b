"""Fault injection (故障注入), in-process: latency, 5xx / 系统繁忙, early token expiry, and
"commit, then drop the connection" (in-process it surfaces as httpx.RemoteProtocolError; the
real socket drop is tested on a loopback server in test_sandbox_server.py)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from hlwjr import ConfigError
from hlwjr.sandbox import Faults, SandboxSettings

DATA = Path(__file__).parent / "data"
ORG = "12110000MB0T12345N"


@pytest.fixture
def sandbox_spec():
    return DATA / "sandbox_spec"


def revisit(i):
    return {
        "organID": ORG,
        "bussID": f"R{i}",
        "patientName": "张三",
        "patientSex": "1",
        "visitTime": "2026-11-01 09:00:00",
    }


@pytest.fixture
def get_token(sandbox_client, sandbox_credentials):
    def get():
        r = sandbox_client.post(
            "/hlwjr/api/token", json={"appid": sandbox_credentials.appid, "secret": sandbox_credentials.secret}
        )
        return r

    return get


@pytest.fixture
def auth(get_token):
    return {"Authorization": "Bearer " + get_token().json()["data"]["access_token"]}


def faults(client, **values):
    r = client.post("/hlwjr/sandbox/faults", json=values)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def up(client, auth, batch, recs):
    return client.post("/hlwjr/api/upload/revisit", json={"batchNo": batch, "records": recs}, headers=auth)


def count(app, table):
    return app.state.sandbox.store.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


@pytest.mark.parametrize("kind, status, code", [("http503", 503, 5001), ("busy", 200, 5001), ("http500", 500, 5000)])
def test_error_next(sandbox_app, sandbox_client, auth, kind, status, code):
    faults(sandbox_client, error_next=2, error_kind=kind)
    for _ in range(2):
        r = up(sandbox_client, auth, "B1", [revisit(0)])
        assert (r.status_code, r.json()["code"]) == (status, code)
        assert r.json()["msg"]
    assert count(sandbox_app, "upload_log") == 0  # nothing processed
    assert up(sandbox_client, auth, "B1", [revisit(0)]).json()["code"] == 0
    assert faults(sandbox_client)["injected"]["errors"] == 2


def test_error_rate_is_reproducible_with_a_seed(sandbox_client, auth):
    def run():
        faults(sandbox_client, reset=True, error_rate=0.5, seed=7)
        return [sandbox_client.get("/hlwjr/api/verify-log", headers=auth).status_code for _ in range(20)]

    first, second = run(), run()
    assert first == second and 503 in first and 200 in first


def test_latency(sandbox_client, auth):
    faults(sandbox_client, latency_ms=150)
    t = time.perf_counter()
    assert up(sandbox_client, auth, "B1", [revisit(0)]).json()["code"] == 0
    assert time.perf_counter() - t >= 0.15


def test_token_expires_early(sandbox_app, sandbox_client, get_token):
    faults(sandbox_client, token_expire_after=60)
    tok = get_token().json()["data"]
    assert tok["expires_in"] == 7200  # the token *says* two hours
    auth = {"Authorization": "Bearer " + tok["access_token"]}
    assert up(sandbox_client, auth, "B1", [revisit(0)]).json()["code"] == 0
    sandbox_app.state.sandbox.set_clock(advance=61)
    r = up(sandbox_client, auth, "B2", [revisit(1)])
    assert (r.status_code, r.json()["code"]) == (401, 1101)


def test_expire_all_tokens_now(sandbox_client, auth):
    assert sandbox_client.post("/hlwjr/sandbox/tokens/expire").json()["data"]["expired"] == 1
    assert up(sandbox_client, auth, "B1", [revisit(0)]).json()["code"] == 1101


def test_drop_after_commit_then_replay(sandbox_app, sandbox_client, auth):
    faults(sandbox_client, drop_next=1)
    with pytest.raises(httpx.RemoteProtocolError):
        up(sandbox_client, auth, "B1", [revisit(0), revisit(1)])
    assert count(sandbox_app, "records") == 2  # committed before the connection was dropped
    r = up(sandbox_client, auth, "B1", [revisit(0), revisit(1)])  # a careful client re-sends the same batchNo
    assert r.headers["x-hlwjr-replay"] == "1" and r.json()["data"]["success"] == 2
    naive = up(sandbox_client, auth, "B2", [revisit(0), revisit(1)])  # a naive one makes duplicates
    assert naive.json()["data"]["duplicate"] == 2


def test_faults_validation(sandbox_client):
    for bad in ({"error_rate": 2}, {"error_kind": "teapot"}, {"latency_ms": -1}, {"nonsense": 1}, {"drop_next": "x"}):
        r = sandbox_client.post("/hlwjr/sandbox/faults", json=bad)
        assert (r.status_code, r.json()["code"]) == (400, 2000), bad
    assert faults(sandbox_client)["error_rate"] == 0.0  # nothing half-applied


@pytest.mark.parametrize("sandbox_settings", [SandboxSettings(faults=Faults(error_next=1, error_kind="busy"))])
def test_faults_from_settings(sandbox_client, get_token):
    assert get_token().json()["code"] == 5001
    assert get_token().json()["code"] == 0


def test_settings_validation():
    with pytest.raises(ConfigError):
        SandboxSettings(max_batch=0).validate()
    with pytest.raises(ConfigError, match="未知的沙箱设置"):
        SandboxSettings.from_kwargs(no_such=1)
    s = SandboxSettings.from_kwargs(whole_batch=True, min_daily_records=10, latency_ms=5)
    assert s.whole_batch and s.rule.min_daily_records == 10 and s.faults.latency_ms == 5
