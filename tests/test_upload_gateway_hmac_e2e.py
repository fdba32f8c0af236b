"""End to end on the gateway's earlier format: ``hlwjr sandbox serve --protocol gateway-hmac`` in
its own process (HmacSHA256 signature, Base64 MD5, AES/ECB/PKCS5 body under encodingAesKey), the
demo hospital's day uploaded with ``hlwjr upload`` and ``profile = "gateway-hmac"``. The ledger
agrees with the sandbox's verification log, a second run sends nothing; a wrong appSecret, a wrong
encodingAesKey and a missing one each end with one clear line and nothing stored."""

from __future__ import annotations

import pytest
from gateway_world import cli, gateway_project, gateway_world, platform_counts

from hlwjr import Ledger, PlatformClient

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    with gateway_world(tmp_path_factory.mktemp("gateway-hmac"), "gateway-hmac", per_day=35) as w:
        yield w


def make_project(world, name: str, monkeypatch, *, secret: str, body_key: str | None):
    return gateway_project(world, name, monkeypatch, secret=secret, body_key=body_key)


def nothing_shown(world, text: str) -> bool:
    return world["secret"] not in text and world["body_key"] not in text and "Traceback" not in text


def test_upload_reconcile_and_rerun(world, monkeypatch):
    day = world["hospital"].days[0]
    root = make_project(world, "proj", monkeypatch, secret=world["secret"], body_key=world["body_key"])
    code, out, err = cli("upload", "--config", str(root), "--date", day, "--no-progress")
    assert code in (0, 1), out[-3000:] + err  # 1: the demo's planted dirty records are held back
    assert nothing_shown(world, out + err)
    stored = platform_counts(world)
    from hlwjr.upload._project import load_project

    with Ledger(load_project(root).ledger_path) as led:
        ledger_ok = {ds: c["accepted"] for ds, c in led.counts().items() if c.get("accepted")}
    assert ledger_ok and ledger_ok == stored, (ledger_ok, stored)
    assert sum(stored.values()) >= 100

    code2, out2, err2 = cli("upload", "--config", str(root), "--date", day, "--no-progress")
    assert code2 in (0, 1), out2[-2000:] + err2
    assert platform_counts(world) == stored


@pytest.mark.parametrize(
    ("name", "wrong", "code_", "word"),
    [("badsecret", "secret", "40010", "签名"), ("badkey", "body_key", "40004", "encodingAesKey")],
)
def test_a_wrong_key_stops_with_one_line_and_nothing_stored(world, monkeypatch, name, wrong, code_, word):
    before = platform_counts(world)
    keys = {"secret": world["secret"], "body_key": world["body_key"]}
    keys[wrong] = "0123456789abcdef" if wrong == "body_key" else "not-the-secret"
    root = make_project(world, name, monkeypatch, **keys)
    code, out, err = cli("upload", "--config", str(root), "--date", world["hospital"].days[0], "--no-progress")
    assert code != 0 and code_ in err and word in err, out[-2000:] + err
    assert len(err.strip().splitlines()) == 1 and nothing_shown(world, out + err)
    assert platform_counts(world) == before
    if wrong == "secret":  # the gateway's string to sign (X-Ca-Error-Message) is what was sent
        assert "只能是密钥（appSecret）不对" in err, err


def test_a_proxy_that_rewrites_a_signed_header_is_named(world):
    """A proxy between hospital and gateway changes a signed header: the gateway's string to sign,
    answered with the refusal, names the header and both values."""
    import httpx

    from hlwjr import AuthError

    class RewritingProxy(httpx.HTTPTransport):  # forwards a changed copy, as a proxy does
        def handle_request(self, request):
            headers = dict(request.headers)
            headers["x-service-method"] = headers["x-service-method"].lower()
            forwarded = httpx.Request(request.method, request.url, headers=headers, content=request.content)
            return super().handle_request(forwarded)

    sb = world["sandbox"]
    with PlatformClient(
        "gateway-hmac",
        sb.gateway_url,
        world["appid"],
        world["secret"],
        body_key=world["body_key"],
        transport=RewritingProxy(),
        max_retries=0,
    ) as client:
        with pytest.raises(AuthError) as exc:
            client.send_batch("complaint", "b1", client.encode_batch("b1", []), 0, ledger=False)
    text = str(exc.value)
    assert "x-service-method" in text and "网关收到 uploadcomplaintindicators" in text and "代理" in text, text


def test_a_missing_body_key_is_named_before_anything_is_sent(world, monkeypatch):
    root = make_project(world, "nokey", monkeypatch, secret=world["secret"], body_key=None)
    code, out, err = cli("upload", "--config", str(root), "--date", world["hospital"].days[0], "--no-progress")
    assert code == 2 and "encodingAesKey" in err and "HLWJR_E2E_BODY_KEY_NOKEY" in err, out + err  # where it reads it
    assert nothing_shown(world, out + err)


def test_platform_check_passes_and_names_a_wrong_secret(world, monkeypatch):
    good = make_project(world, "chk", monkeypatch, secret=world["secret"], body_key=world["body_key"])
    code, out, err = cli("platform", "check", "--config", str(good))
    assert code == 0, out + err
    for name in ("平台接口描述", "密钥", "网络连通", "本机时间", "身份验证"):
        assert f"[通过] {name}" in out
    bad = make_project(world, "chkbad", monkeypatch, secret="wrong", body_key=world["body_key"])
    code, out, err = cli("platform", "check", "--config", str(bad))
    assert code == 1 and "[失败] 身份验证" in out and "40010" in out and nothing_shown(world, out)
