"""Token platforms of other provinces: a token request sent as a form (clientId + clientSecret,
a millisecond timestamp) or as query parameters, and the token carried as a query parameter
(``?access_token=``) instead of a header — read from the platform profile, against a gateway
that speaks only that way. A query can hold the secret or the token: no message shows a query."""

from __future__ import annotations

import json
import time
from importlib import resources
from urllib.parse import parse_qsl

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from hlwjr import AuthError, ConfigError
from hlwjr.sandbox import SyncASGITransport
from hlwjr.upload._client import PlatformClient

APPID, SECRET = "client-7f3a", "s3cr3t-Q9+/="
_SANDBOX = (resources.files("hlwjr") / "platforms" / "sandbox.yaml").read_text(encoding="utf-8")


def _gateway(encoding: str, seen: list) -> Starlette:
    """A province gateway: the token only as ``encoding`` says, the token only as ?access_token=."""

    async def token(request: Request):
        if encoding == "form":
            got = dict(parse_qsl((await request.body()).decode()))
            ok_shape = request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded")
        else:
            got, ok_shape = dict(request.query_params), request.method == "GET"
        seen.append(("token", got))
        if not ok_shape or got.get("clientId") != APPID or got.get("clientSecret") != SECRET:
            return JSONResponse({"code": 1001, "msg": "clientId 或 clientSecret 错误"}, status_code=401)
        return JSONResponse({"code": 0, "msg": "ok", "data": {"access_token": "TOKEN-abc", "expires_in": 3600}})

    async def upload(request: Request):
        seen.append(("upload", dict(request.query_params), request.headers.get("authorization")))
        if request.query_params.get("access_token") != "TOKEN-abc":
            return JSONResponse({"code": 1101, "msg": "token 无效"}, status_code=401)
        body = json.loads(await request.body())
        results = [{"index": i, "status": "ok"} for i in range(len(body["records"]))]
        return JSONResponse(
            {"code": 0, "msg": "ok", "data": {"results": results, "received_at": "2026-11-04 10:00:00"}}
        )

    methods = ["POST"] if encoding == "form" else ["GET"]
    return Starlette(
        routes=[
            Route("/gw/oauth/token", token, methods=methods),
            Route("/gw/api/upload/{ds}", upload, methods=["POST"]),
        ]
    )


def _profile(tmp_path, encoding: str):
    text = _SANDBOX.replace("  path: /api/token\n  method: POST\n", f"  path: /oauth/token\n  encoding: {encoding}\n")
    text = text.replace(
        '  body: {appid: "{appid}", secret: "{secret}"}',
        '  body: {clientId: "{appid}", clientSecret: "{secret}", ts: "{timestamp}"}',
    )
    text = text.replace('  header: Authorization\n  format: "Bearer {token}"\n', "  param: access_token\n")
    assert "encoding" in text and "param: access_token" in text
    path = tmp_path / f"province-{encoding}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@given(encoding=st.sampled_from(["form", "query"]))
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_form_or_query_token_and_a_token_in_the_query_reach_the_gateway(tmp_path_factory, encoding):
    seen: list = []
    transport = SyncASGITransport(_gateway(encoding, seen))
    profile = _profile(tmp_path_factory.mktemp("p"), encoding)
    before = int(time.time() * 1000)
    with PlatformClient(str(profile), "http://gw.test/gw", APPID, SECRET, transport=transport) as client:
        client.check_auth()
        body = client.encode_batch("B1", [json.dumps({"organID": "O", "bussID": "1"})])
        result = client.send_batch("revisit", "B1", body, 1)
    assert [r.status for r in result.results] == ["accepted"]
    kind, sent = seen[0]
    assert kind == "token" and sent["clientId"] == APPID and before <= int(sent["ts"]) <= int(time.time() * 1000)
    upload = next(s for s in seen if s[0] == "upload")
    assert upload[1] == {"access_token": "TOKEN-abc"} and upload[2] is None  # no Authorization header


@pytest.mark.parametrize("encoding", ["form", "query"])
def test_a_refused_token_request_never_shows_the_secret(tmp_path, encoding):
    transport = SyncASGITransport(_gateway(encoding, []))
    profile = _profile(tmp_path, encoding)
    with PlatformClient(str(profile), "http://gw.test/gw", APPID, "wrong-" + SECRET, transport=transport) as client:
        with pytest.raises(AuthError) as info:
            client.check_auth()
    shown = f"{info.value.message} {info.value.where}"
    assert SECRET not in shown and "wrong-" not in shown and "clientSecret=" not in shown


def test_an_unknown_token_encoding_is_refused(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(_SANDBOX.replace("  method: POST\n", "  method: POST\n  encoding: xml\n", 1), encoding="utf-8")
    with pytest.raises(ConfigError, match="token.encoding 只能是 json / form / query"):
        PlatformClient(str(path), "http://gw.test/gw", APPID, SECRET)
