"""The ``tianjin`` profile (国密 gateway: SM3 signature, SM4-CBC hex body, code 200 + body.msgCode)
against a small gateway written here from the SDK rules — with ``cryptography`` directly, not
hlwjr's signing code — on loopback."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time

import httpx
import pytest
import uvicorn
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from hlwjr import AuthError, ConfigError, Ledger, PlatformClient, TransportError
from hlwjr.upload._profile import PlatformProfile

APPKEY, SECRET = "ngari5fd5ad2196834aa7", "bbf1dd188b8b4629853f06f118d11e4a"
IV = bytes.fromhex("abcd0863ef9087ced675985321bedf67")


def sm3(text: str) -> str:
    h = hashes.Hash(hashes.SM3())
    h.update(text.encode())
    return h.finalize().hex().upper()


def decrypt(hex_body: str, secret: str) -> bytes:
    d = Cipher(algorithms.SM4(bytes.fromhex(secret)), modes.CBC(IV)).decryptor()
    plain = d.update(bytes.fromhex(hex_body)) + d.finalize()
    stripped = plain.rstrip(b"\0")
    if not stripped.endswith(b"\x80"):
        raise ValueError("bad padding")
    return stripped[:-1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve_app(app):
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


def _answer(record: dict) -> dict:
    missing = [k for k in ("organID", "recipeID") if not record.get(k)]
    return {"msgCode": -99, "msg": "|".join(missing)} if missing else {"msgCode": 200, "msg": "请求成功"}


def gateway_app(state: dict):
    """A gateway from the SDK rules: signature, digest, timestamp, nonce, decryption, -99."""

    async def api(request: Request):
        h = request.headers
        body = (await request.body()).decode()
        if state.get("force"):
            return JSONResponse({"code": state["force"], "msg": "forced"})
        if state.get("not_json"):
            return PlainTextResponse("<html>gateway error</html>")
        if h.get("x-ca-key") != APPKEY:
            return JSONResponse({"code": 40002, "msg": "appKey不存在"})
        names = h.get("x-ca-signature-headers", "").split(",")
        if sorted(names) != names or not {"x-ca-key", "x-ca-nonce", "x-ca-timestamp", "x-content-md5"} <= set(names):
            return JSONResponse({"code": 40010, "msg": "签名不合法"})
        sts = "&".join(f"{n}:{h.get(n)}" for n in names)
        if h.get("x-ca-signature") != sm3(sts) or h.get("x-content-md5") != sm3(body):
            return JSONResponse({"code": 40010, "msg": "签名不合法"})
        if abs(int(h["x-ca-timestamp"]) - time.time() * 1000) > 300_000:
            return JSONResponse({"code": 40011, "msg": "请求已过期"})
        if h["x-ca-nonce"] in state["nonces"]:
            return JSONResponse({"code": 40011, "msg": "请求已过期"})
        state["nonces"].add(h["x-ca-nonce"])
        state["calls"] += 1
        if state.get("busy", 0) > 0:
            state["busy"] -= 1
            return JSONResponse({"code": -1, "msg": "系统繁忙"})
        try:
            records = json.loads(decrypt(body, SECRET))
        except ValueError:
            return JSONResponse({"code": 40004, "msg": "appKey与appSecret不匹配"})
        if not isinstance(records, list):
            return JSONResponse({"code": 40001, "msg": "参数错误"})
        if state.get("list_body"):  # body as a list: one {msgCode, msg} per record (or one for all)
            answers = [_answer(r) for r in records]
            if all(a["msgCode"] == 200 for a in answers):
                state["stored"].extend(records)
            verdict = [next((a for a in answers if a["msgCode"] != 200), answers[0])]
            return JSONResponse({"code": 200, "body": answers if state["list_body"] == "each" else verdict})
        for r in records:
            missing = [k for k in ("organID", "recipeID") if not r.get(k)]
            if missing:
                return JSONResponse({"code": 200, "body": {"msgCode": -99, "msg": "|".join(missing)}})
        state["methods"].append(h.get("x-service-method"))
        state["stored"].extend(records)
        return JSONResponse({"code": 200, "body": {"msgCode": 200, "msg": "请求成功"}})

    return Starlette(routes=[Route("/openapi/api", api, methods=["POST"])])


@pytest.fixture(scope="module")
def gateway():
    state = {"calls": 0, "stored": [], "methods": [], "nonces": set()}
    with serve_app(gateway_app(state)) as url:
        yield url, state


@pytest.fixture(autouse=True)
def _reset(request):
    if "gateway" in request.fixturenames:
        state = request.getfixturevalue("gateway")[1]
        state.pop("force", None)
        state.pop("not_json", None)
        state.pop("list_body", None)
    yield


def _client(url, secret=SECRET, **kw):
    return PlatformClient(
        "tianjin",
        url,
        APPKEY,
        secret,
        max_retries=3,
        backoff_base=0.001,
        dataset_aliases={"recipe": ("DS07a", "uploadRecipeIndicators", "RecipeIndicatorsReq")},
        **kw,
    )


def _send(c, batch_no, records):
    body = c.encode_batch(batch_no, [json.dumps(r, ensure_ascii=False) for r in records])
    return c.send_batch("recipe", batch_no, body, len(records))


def test_encrypted_signed_array_upload_accepted(gateway):
    url, state = gateway
    with _client(url) as c:
        recs = [{"organID": "O1", "recipeID": f"R{i}", "name": "王试"} for i in range(3)]
        body = c.encode_batch("B1", [json.dumps(r, ensure_ascii=False) for r in recs])
        assert body == body.lower() and json.loads(decrypt(body.decode(), SECRET))[0]["recipeID"] == "R0"
        res = c.send_batch("recipe", "B1", body, 3)
    assert res.accepted == 3 and res.code == 200
    assert state["methods"][-1] == "uploadRecipeIndicators" and state["stored"][-1]["name"] == "王试"


def test_minus_99_rejects_the_batch_with_field_names(gateway):
    url, _ = gateway
    with _client(url) as c:
        res = _send(c, "B2", [{"organID": "O1", "recipeID": "R1"}, {"organID": "O1"}])
    assert res.rejected == 2 and res.whole_batch and res.accepted == 0
    assert res.results[0].errors[0]["field"] == "recipeID"


@pytest.mark.parametrize("style", ["each", "one"])
@pytest.mark.parametrize("bad", [None, 0, 2])
def test_a_body_sent_as_a_list_of_answers(gateway, style, bad):
    """``body`` may be ``[{msgCode, msg}, …]``: all well → all accepted; one record wrong → the
    whole batch refused, the wrong record with its fields, the others free to go again."""
    url, state = gateway
    state["list_body"] = style
    recs = [{"organID": "O1", "recipeID": f"L{i}"} for i in range(3)]
    if bad is not None:
        del recs[bad]["recipeID"]
    with _client(url) as c:
        res = _send(c, f"BL{style}{bad}", recs)
    if bad is None:
        assert res.accepted == 3 and not res.whole_batch
        return
    assert res.accepted == 0 and res.whole_batch and res.rejected == 3
    if style == "each":
        assert res.results[bad].errors[0]["field"] == "recipeID"
        others = [r for r in res.results if r.index != bad]
        assert all(r.errors[0]["rule"] == "whole_batch" for r in others)


def test_busy_is_retried_with_a_fresh_nonce(gateway):
    url, state = gateway
    state["busy"] = 2
    with _client(url) as c:
        before = state["calls"]
        res = _send(c, "B3", [{"organID": "O", "recipeID": "X"}])
        assert res.accepted == 1 and state["calls"] - before == 3 and c.stats["retries"] == 2


def test_wrong_secret_is_one_clear_auth_error(gateway):
    url, state = gateway
    stored = len(state["stored"])
    with _client(url, secret="0" * 32) as c, pytest.raises(AuthError, match="40004.*appSecret") as e:
        _send(c, "B4", [{"organID": "O", "recipeID": "Y"}])
    assert "0" * 32 not in str(e.value) and len(state["stored"]) == stored


@pytest.mark.parametrize(
    ("code", "exc", "words"),
    [
        (40007, AuthError, "白名单"),
        (40003, AuthError, "冻结"),
        (40010, AuthError, "签名不合法"),
        (40011, TransportError, "请检查本机时间"),
    ],
)
def test_each_gateway_code_says_what_to_fix(gateway, code, exc, words):
    url, state = gateway
    state["force"] = code
    with _client(url) as c, pytest.raises(exc, match=words):
        _send(c, "B5", [{"organID": "O", "recipeID": "Z"}])


def test_an_answer_that_is_not_json_marks_nothing_accepted(gateway):
    url, state = gateway
    state["not_json"] = True
    with _client(url) as c:
        with pytest.raises(Exception) as e:
            _send(c, "B6", [{"organID": "O", "recipeID": "Z"}])
    assert "JSON" in str(e.value)


def test_the_retired_hmac_profile_says_use_tianjin():
    with pytest.raises(ConfigError, match="tianjin"):
        PlatformProfile.load("ngari-tianjin")


@pytest.mark.parametrize("bad", ["ngari-secret-123", SECRET[:-2], SECRET.upper() + "x"])
def test_a_secret_of_the_wrong_shape_fails_at_construction(bad):
    with pytest.raises(ConfigError, match="32 位十六进制") as e:
        PlatformClient("tianjin", "http://gw.test", APPKEY, bad)
    assert bad not in str(e.value)


def test_method_names_come_from_the_spec_aliases_else_the_template():
    c = PlatformClient(
        "tianjin",
        "http://gw.test",
        APPKEY,
        SECRET,
        dataset_aliases={
            "complaint": ("DS12", "pushMedicalDispute", "医疗争议"),
            "recipe_detail": ("DS07b", "RecipeDetailIndicatorsReq"),
        },
    )
    assert c.service_method("complaint") == "pushMedicalDispute"
    assert c.service_method("recipe_detail") == "uploadRecipeDetailIndicators"


def test_dropped_connection_is_not_resent_without_batch_replay(tmp_path):
    """The gateway has no batch number: an ambiguous failure must not be retried (it could duplicate)."""
    calls = []

    def handler(request):
        calls.append(request)
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.")

    c = PlatformClient(
        "tianjin", "http://platform.test", APPKEY, SECRET, transport=httpx.MockTransport(handler), backoff_base=0.001
    )
    body = c.encode_batch("B7", ['{"organID":"O","recipeID":"Z"}'])
    with pytest.raises(TransportError, match="未自动重发") as e:
        c.send_batch("recipe", "B7", body, 1)
    assert e.value.ambiguous and len(calls) == 1
    from hlwjr.upload._sender import Uploader

    with Ledger(tmp_path / "l.sqlite") as led:
        led.open_batch("recipe", "B7", [("O|Z", "h")], body)
        led.mark_sent("B7")
        resolved, notes = Uploader(c, led).recover()
        assert resolved == 0 and "不会被自动重发" in notes[0] and len(calls) == 1


# -- hlwjr upload against the independent gateway ------------------------------------------


def recording_gateway(state: dict):
    """Like ``gateway_app`` (rules from the SDK), for any data set: every accepted record counted
    by method, so a record seen twice shows."""

    async def api(request: Request):
        h = request.headers
        body = (await request.body()).decode()
        if h.get("x-ca-key") != APPKEY:
            return JSONResponse({"code": 40002, "msg": "appKey不存在"})
        names = h.get("x-ca-signature-headers", "").split(",")
        sts = "&".join(f"{n}:{h.get(n)}" for n in names)
        if sorted(names) != names or h.get("x-ca-signature") != sm3(sts) or h.get("x-content-md5") != sm3(body):
            return JSONResponse({"code": 40010, "msg": "签名不合法"})
        if abs(int(h["x-ca-timestamp"]) - time.time() * 1000) > 300_000 or h["x-ca-nonce"] in state["nonces"]:
            return JSONResponse({"code": 40011, "msg": "请求已过期"})
        state["nonces"].add(h["x-ca-nonce"])
        if h.get("x-service-id") != "his.provinceDataUploadService":
            return JSONResponse({"code": 40001, "msg": "参数错误"})
        try:
            records = json.loads(decrypt(body, SECRET))
        except ValueError:
            return JSONResponse({"code": 40004, "msg": "appKey与appSecret不匹配"})
        if not records:
            return JSONResponse({"code": 200, "body": {"msgCode": -98, "msg": "数据为空"}})
        for r in records:
            key = (h["x-service-method"], json.dumps(r, sort_keys=True, ensure_ascii=False))
            state["seen"][key] = state["seen"].get(key, 0) + 1
        return JSONResponse({"code": 200, "body": {"msgCode": 200, "msg": "请求成功"}})

    return Starlette(routes=[Route("/openapi/api", api, methods=["POST"])])


@pytest.mark.slow
def test_hlwjr_upload_to_the_independent_gateway(tmp_path, monkeypatch):
    import io

    from hlwjr.cli import parse_args, run
    from hlwjr.demo._hospital import DEMO_ORGAN_ID, DEMO_ORGAN_NAME, generate_demo_hospital
    from hlwjr.demo._run import find_demo_mapping
    from hlwjr.upload._project import write_project

    hospital = generate_demo_hospital(tmp_path / "hospital", days=1, per_day=40)
    state = {"nonces": set(), "seen": {}}

    def project(name, secret):
        monkeypatch.setenv(f"HLWJR_IG_{name}", secret)
        return write_project(
            tmp_path / name,
            {
                "mapping_dir": str(find_demo_mapping()),
                "project": {"name": DEMO_ORGAN_NAME, "org_code": DEMO_ORGAN_ID, "phase": "test"},
                "platform": {"profile": "tianjin", "url": url, "appid": APPKEY, "secret_env": f"HLWJR_IG_{name}"},
                "sources": {"his": hospital.sqlite_url},
            },
        ).parent

    def upload(root):
        out, err = io.StringIO(), io.StringIO()
        code = run(parse_args(["upload", "--config", str(root), "--date", hospital.days[0], "--no-progress"]), out, err)
        return code, out.getvalue(), err.getvalue()

    with serve_app(recording_gateway(state)) as url:
        good = project("GOOD", SECRET)
        code, out, err = upload(good)
        assert code == 0, out[-2000:] + err
        seen = dict(state["seen"])
        assert sum(seen.values()) >= 300 and max(seen.values()) == 1
        methods = {m for m, _ in seen}
        assert {"uploadRecipeIndicators", "uploadReferralIndicators", "pushMedicalDispute"} <= methods
        code, out, err = upload(good)  # rerun: nothing sent again
        assert code == 0 and state["seen"] == seen
        bad = project("BAD", "1" * 32)
        code, out, err = upload(bad)
        assert code != 0 and "40004" in err and "1" * 32 not in out + err and state["seen"] == seen
