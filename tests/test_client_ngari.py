"""The ngari/Tianjin-style profile (signed gateway headers, JSON array body, code 200 +
body.msgCode) against a small in-test Starlette server on loopback: the profile abstraction works
for a platform that looks nothing like the sandbox."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import socket
import threading
import time

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from hlwjr import AuthError, Ledger, PlatformClient, TransportError
from hlwjr.upload._client import PlatformProfile, SignatureAuth

APPID, SECRET = "ngari-app", "ngari-secret-123"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve_app(app):
    """Serve an ASGI app with uvicorn in a thread on a free loopback port; yields its URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 10
    while not server.started:
        if time.time() > deadline:
            raise RuntimeError("in-test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def ngari_app(state: dict):
    """A tiny ngari-style gateway: verifies the HMAC signature and answers like the TJ platform."""

    async def api(request: Request):
        body = await request.body()
        h = request.headers
        if h.get("x-ca-key") != APPID:
            return JSONResponse({"code": 40004, "msg": "密钥不匹配"})
        names = h.get("x-ca-signature-headers", "").split(",")
        sts = "&".join(f"{n}:{h.get(n)}" for n in sorted(names))
        want = base64.b64encode(hmac.new(SECRET.encode(), sts.encode(), hashlib.sha256).digest()).decode()
        md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
        if h.get("x-ca-signature") != want or h.get("x-content-md5") != md5 or "x-service-method" not in names:
            return JSONResponse({"code": 40010, "msg": "签名不合法"})
        state["calls"] += 1
        if state.get("busy", 0) > 0:
            state["busy"] -= 1
            return JSONResponse({"code": -1, "msg": "系统繁忙"})
        records = json.loads(body)
        if not isinstance(records, list):
            return JSONResponse({"code": 40001, "msg": "参数错"})
        missing = sorted({k for r in records for k in ("organID", "recipeID") if not r.get(k)})
        if missing:
            return JSONResponse({"code": 200, "body": {"msgCode": -99, "msg": "|".join(missing)}})
        state["methods"].append(h.get("x-service-method"))
        state["stored"].extend(records)
        return JSONResponse({"code": 200, "body": {"msgCode": 200, "msg": "请求成功"}})

    return Starlette(routes=[Route("/openapi/api", api, methods=["POST"])])


@pytest.fixture(scope="module")
def ngari():
    state = {"calls": 0, "stored": [], "methods": []}
    with serve_app(ngari_app(state)) as url:
        yield url, state


def _client(url, secret=SECRET, **kw):
    return PlatformClient(
        "ngari-tianjin",
        url,
        APPID,
        secret,
        max_retries=3,
        backoff_base=0.001,
        dataset_aliases={"recipe": ("DS07a", "uploadRecipeIndicators")},
        **kw,
    )


def test_signed_array_upload_accepted(ngari):
    url, state = ngari
    with _client(url) as c:
        recs = [json.dumps({"organID": "O1", "recipeID": f"R{i}"}) for i in range(3)]
        body = c.encode_batch("B1", recs)
        assert json.loads(body)[0]["recipeID"] == "R0"  # a bare JSON array, no envelope
        res = c.send_batch("recipe", "B1", body, 3)
    assert res.accepted == 3 and res.code == 200
    assert state["methods"][-1] == "uploadRecipeIndicators"


def test_minus_99_rejects_whole_batch_with_field_names(ngari):
    url, _ = ngari
    with _client(url) as c:
        recs = [json.dumps({"organID": "O1", "recipeID": "R1"}), json.dumps({"organID": "O1"})]
        res = c.send_batch("recipe", "B2", c.encode_batch("B2", recs), 2)
    assert res.rejected == 2 and res.whole_batch
    assert res.results[0].errors[0]["field"] == "recipeID"


def test_busy_is_retried(ngari):
    url, state = ngari
    state["busy"] = 2
    with _client(url) as c:
        before = state["calls"]
        res = c.send_batch("recipe", "B3", c.encode_batch("B3", [json.dumps({"organID": "O", "recipeID": "X"})]), 1)
        assert res.accepted == 1 and state["calls"] - before == 3 and c.stats["retries"] == 2


def test_wrong_secret_is_one_clear_auth_error(ngari):
    url, _ = ngari
    with _client(url, secret="wrong") as c, pytest.raises(AuthError, match="40010"):
        c.send_batch("recipe", "B4", c.encode_batch("B4", ['{"organID":"O","recipeID":"Y"}']), 1)


def test_signature_matches_the_documented_string_to_sign():
    profile = PlatformProfile.load("ngari-tianjin")
    auth = SignatureAuth(profile, "k", "s")
    sts, names = auth.string_to_sign({"X-Ca-Key": "k", "X-Ca-Nonce": "n", "X-Ca-Timestamp": "1"})
    assert sts == "x-ca-key:k&x-ca-nonce:n&x-ca-timestamp:1" and names == "x-ca-key,x-ca-nonce,x-ca-timestamp"
    want = base64.b64encode(hmac.new(b"s", sts.encode(), hashlib.sha256).digest()).decode()
    assert auth.sign({"X-Ca-Key": "k", "X-Ca-Nonce": "n", "X-Ca-Timestamp": "1"}) == want


def test_dropped_connection_is_not_resent_without_batch_replay(tmp_path):
    """ngari has no batchNo: an ambiguous failure must not be retried (it could duplicate)."""
    import httpx

    calls = []

    def handler(request):
        calls.append(request)
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.")

    c = PlatformClient(
        "ngari-tianjin",
        "http://platform.test",
        APPID,
        SECRET,
        transport=httpx.MockTransport(handler),
        backoff_base=0.001,
    )
    with pytest.raises(TransportError, match="未自动重发") as e:
        c.send_batch("recipe", "B5", b'[{"organID":"O","recipeID":"Z"}]', 1)
    assert e.value.ambiguous and len(calls) == 1
    # and the uploader leaves such a batch for a human to check, never resending it
    from hlwjr.upload._sender import Uploader

    with Ledger(tmp_path / "l.sqlite") as led:
        led.open_batch("recipe", "B5", [("O|Z", "h")], b'[{"organID":"O","recipeID":"Z"}]')
        led.mark_sent("B5")
        resolved, notes = Uploader(c, led).recover()
        assert resolved == 0 and "不会被自动重发" in notes[0] and len(calls) == 1
