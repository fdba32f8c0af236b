"""PlatformClient with the sandbox profile against faults no server produces on demand
(httpx.MockTransport): token caching and renewal, classification of every answer, bounded
retries with backoff, and the one translation point of transport errors."""

from __future__ import annotations

import json

import httpx
import pytest

from hlwjr import AuthError, ConfigError, PlatformClient, PlatformRejected, TransportError
from hlwjr.upload._client import TokenAuth
from hlwjr.upload._profile import PlatformProfile


class FakePlatform:
    """A scripted platform: ``script`` is a list of callables/answers consumed per upload call."""

    def __init__(self, script=(), expires_in=7200):
        self.script = list(script)
        self.tokens = 0
        self.uploads = []
        self.expires_in = expires_in
        self.valid = set()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/api/token"):
            body = json.loads(request.content)
            if body.get("secret") != "good":
                return httpx.Response(401, json={"code": 1002, "msg": "secret错误"})
            self.tokens += 1
            tok = f"T{self.tokens}"
            self.valid = {tok}
            return httpx.Response(
                200, json={"code": 0, "msg": "成功", "data": {"access_token": tok, "expires_in": self.expires_in}}
            )
        auth = request.headers.get("Authorization", "")
        if auth.removeprefix("Bearer ") not in self.valid:
            return httpx.Response(401, json={"code": 1101, "msg": "token无效或已过期"})
        self.uploads.append(request)
        step = self.script.pop(0) if self.script else None
        if callable(step):
            return step(request)
        if isinstance(step, httpx.Response):
            return step
        body = json.loads(request.content)
        return httpx.Response(
            200,
            json={
                "code": 0,
                "msg": "成功",
                "data": {
                    "batchNo": body["batchNo"],
                    "total": len(body["records"]),
                    "results": [{"index": i, "status": "ok", "errors": []} for i in range(len(body["records"]))],
                },
            },
        )


def client(fake, secret="good", **kw):
    sleeps = []
    c = PlatformClient(
        "sandbox",
        "http://platform.test",
        "APP",
        secret,
        transport=httpx.MockTransport(fake),
        sleep=sleeps.append,
        rng=lambda: 1.0,
        **kw,
    )
    c.sleeps = sleeps
    return c


def body(c, n=2, batch="B1"):
    return c.encode_batch(batch, [json.dumps({"organID": "O", "recipeID": f"R{i}"}) for i in range(n)])


def test_token_cached_across_requests():
    fake = FakePlatform()
    with client(fake) as c:
        for i in range(3):
            assert c.send_batch("recipe", f"B{i}", body(c, batch=f"B{i}"), 2).accepted == 2
    assert fake.tokens == 1


def test_token_renewed_before_expiry():
    fake = FakePlatform(expires_in=100)  # renew_before is 300 s → every request renews
    with client(fake) as c:
        c.send_batch("recipe", "B1", body(c), 2)
        c.send_batch("recipe", "B2", body(c, batch="B2"), 2)
    assert fake.tokens == 2


def test_token_expired_answer_renews_once():
    fake = FakePlatform()
    with client(fake) as c:
        c.send_batch("recipe", "B1", body(c), 2)
        fake.valid = set()  # the platform forgets the token (expired early)
        assert c.send_batch("recipe", "B2", body(c, batch="B2"), 2).accepted == 2
    assert fake.tokens == 2


def test_token_refused_twice_is_an_auth_error():
    fake = FakePlatform(script=[httpx.Response(401, json={"code": 1101, "msg": "token无效或已过期"})] * 2)
    with client(fake) as c, pytest.raises(AuthError, match="仍然拒绝"):
        c.send_batch("recipe", "B1", body(c), 2)


def test_wrong_secret_is_one_clear_message():
    fake = FakePlatform()
    with client(fake, secret="bad") as c, pytest.raises(AuthError) as e:
        c.send_batch("recipe", "B1", body(c), 2)
    assert "1002" in str(e.value) and "secret" in str(e.value) and "bad" not in str(e.value).replace("badge", "")


def test_5xx_and_busy_retried_with_backoff_and_jitter():
    fake = FakePlatform(
        script=[
            httpx.Response(503, json={"code": 5001, "msg": "系统繁忙"}),
            httpx.Response(200, json={"code": 5001, "msg": "系统繁忙"}),
            httpx.Response(500, text="oops"),
        ]
    )
    with client(fake, backoff_base=0.5) as c:
        assert c.send_batch("recipe", "B1", body(c), 2).accepted == 2
        assert c.sleeps == [0.5, 1.0, 2.0]  # exponential (jitter factor 1.0 here)
    # jitter: a random factor in [0.5, 1]
    c2 = PlatformClient("sandbox", "http://x.test", "A", "good", rng=lambda: 0.0, backoff_base=1.0)
    assert c2._backoff(3, None) == 4.0 and c2._backoff(30, None) == c2.backoff_max / 2
    c2.close()


def test_retries_are_bounded():
    fake = FakePlatform(script=[httpx.Response(503, json={"code": 5001, "msg": "系统繁忙"})] * 10)
    with client(fake, max_retries=2) as c, pytest.raises(TransportError, match="已重试 2 次") as e:
        c.send_batch("recipe", "B1", body(c), 2)
    assert len(fake.uploads) == 3 and "台账" in str(e.value)


def test_dropped_connection_replays_the_same_batch():
    sent = []

    def drop(request):
        sent.append(request.content)
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.")

    fake = FakePlatform(script=[drop])
    with client(fake) as c:
        b = body(c)
        assert c.send_batch("recipe", "B1", b, 2).accepted == 2
    assert sent[0] == fake.uploads[-1].content == b  # byte-identical replay, same batchNo


def test_data_rejection_is_not_retried_and_keeps_reasons():
    answer = {
        "code": 0,
        "msg": "部分失败",
        "data": {
            "results": [
                {"index": 0, "status": "ok", "errors": []},
                {
                    "index": 1,
                    "status": "fail",
                    "errors": [{"field": "patientCertID", "rule": "id_number", "msg": "校验位错误"}],
                },
            ]
        },
    }
    fake = FakePlatform(script=[httpx.Response(200, json=answer)])
    with client(fake) as c:
        res = c.send_batch("recipe", "B1", body(c), 2)
    assert (res.accepted, res.rejected) == (1, 1) and res.results[1].errors[0]["rule"] == "id_number"
    assert len(fake.uploads) == 1


def test_whole_batch_rejection_marks_innocent_records():
    answer = {
        "code": 2010,
        "msg": "整批拒收",
        "data": {
            "results": [
                {"index": 0, "status": "ok"},
                {"index": 1, "status": "fail", "errors": [{"msg": "缺少 recipeID"}]},
            ]
        },
    }
    fake = FakePlatform(script=[httpx.Response(200, json=answer)])
    with client(fake) as c:
        res = c.send_batch("recipe", "B1", body(c), 2)
    assert res.whole_batch and res.rejected == 2 and res.results[0].errors[0]["rule"] == "whole_batch"


def test_request_level_refusal_raises_platform_rejected():
    fake = FakePlatform(script=[httpx.Response(400, json={"code": 2005, "msg": "批量超过上限"})])
    with client(fake) as c, pytest.raises(PlatformRejected, match="2005") as e:
        c.send_batch("recipe", "B1", body(c), 2)
    assert e.value.code == 2005 and len(fake.uploads) == 1


def test_wrong_url_404_is_clear():
    def handler(request):
        return httpx.Response(404, text="<html>Not Found</html>")

    c = PlatformClient("sandbox", "http://platform.test/wrong", "A", "good", transport=httpx.MockTransport(handler))
    with pytest.raises(ConfigError, match="平台地址不正确.*404"):
        c.send_batch("recipe", "B1", body(c), 2)


def test_connect_errors_are_transient_then_translated():
    def handler(request):
        raise httpx.ConnectError("[Errno 111] Connection refused")

    c = PlatformClient(
        "sandbox",
        "http://platform.test",
        "A",
        "good",
        transport=httpx.MockTransport(handler),
        sleep=lambda s: None,
        max_retries=2,
    )
    with pytest.raises(TransportError, match="无法连接平台") as e:
        c.send_batch("recipe", "B1", body(c), 2)
    assert isinstance(e.value.__cause__, Exception)


def test_proxy_unreachable_is_one_clear_message():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    c = PlatformClient(
        "sandbox",
        "http://platform.test",
        "A",
        "good",
        proxy=f"http://127.0.0.1:{port}",
        sleep=lambda s: None,
        max_retries=1,
        connect_timeout=1,
    )
    with pytest.raises(TransportError) as e:
        c.send_batch("recipe", "B1", body(c), 2)
    c.close()
    assert "代理" in str(e.value) or "无法连接" in str(e.value)


def test_bad_settings_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="http"):
        PlatformClient("sandbox", "platform.test", "A", "s")
    with pytest.raises(ConfigError, match="appid"):
        PlatformClient("sandbox", "http://platform.test", "", "s")
    with pytest.raises(ConfigError, match="未知的平台接口描述"):
        PlatformProfile.load("nope")
    bad = tmp_path / "p.yaml"
    bad.write_text("kind: hlwjr/platform\nauth: {mode: magic}\nupload: {path: /u}\nresponse: {}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="auth.mode"):
        PlatformProfile.load(bad)
    ca = tmp_path / "ca.pem"
    ca.write_text("not a cert", encoding="utf-8")
    with pytest.raises(ConfigError, match="CA"):
        PlatformClient("sandbox", "https://platform.test", "A", "s", verify=ca)


def test_secret_never_in_repr():
    c = PlatformClient("sandbox", "http://platform.test", "APP", "very-secret")
    assert "very-secret" not in repr(c) and "very-secret" not in repr(c.auth)
    assert isinstance(c.auth, TokenAuth)
    c.close()


@pytest.mark.parametrize("index", [None, "first", [0]])
def test_result_index_not_an_integer_is_a_clear_refusal(index):
    # a malformed per-record answer must not escape as a bare TypeError/ValueError (traceback)
    answer = {
        "code": 0,
        "msg": "部分失败",
        "data": {
            "results": [{"index": index, "status": "fail", "errors": [{"msg": "x"}]}, {"index": 1, "status": "ok"}]
        },
    }
    fake = FakePlatform(script=[httpx.Response(200, json=answer)])
    with client(fake) as c, pytest.raises(PlatformRejected, match="序号.*不是整数"):
        c.send_batch("recipe", "B1", body(c), 2)


@pytest.mark.parametrize("proxy", ["10.1.1.1:8080", "ftp://10.1.1.1:21", "ftp://user:pa55word@10.1.1.1:21"])
def test_proxy_without_a_usable_scheme_is_a_config_error(proxy):
    """A proxy written without http:// in hlwjr.toml was a bare ValueError (a traceback from the CLI);
    a password in the proxy URL is never repeated in the message."""
    with pytest.raises(ConfigError, match="代理地址.*http://") as e:
        PlatformClient("sandbox", "http://platform.test", "A", "s", proxy=proxy)
    assert e.value.where == "[platform] proxy" and "pa55word" not in str(e.value)
    assert "10.1.1.1" in str(e.value)
