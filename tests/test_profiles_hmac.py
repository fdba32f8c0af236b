"""The gateway's earlier format (``auth.mode: hmac-gateway``, ``body.codec: aes-ecb-base64``):
the client against known answers computed with the OpenSSL command line (``openssl enc
-aes-128-ecb``, ``openssl md5``, ``openssl dgst -sha256 -hmac``) for the SDK demo's keys, and
against the sandbox's own implementation on generated requests: signature, digest and body agree,
and any change to a signed header, the body or a key is refused."""

from __future__ import annotations

import json

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hlwjr import ConfigError
from hlwjr.sandbox._gateway import SUITES, GatewayError, RequestCheck, sandbox_body_key
from hlwjr.upload._profile import PlatformProfile
from hlwjr.upload.profiles import AesEcbBase64Codec, HmacGatewayAuth, body_codec

# the SDK demo's appSecret and encodingAesKey; the answers come from OpenSSL, not from hlwjr
SECRET, AES_KEY = "123", "1234567890123456"
ENC_1 = b"e7sIKmyWcNwjarkjr4FSJQ=="  # Base64(AES-128-ECB/PKCS5("[1]"))
MD5_1 = "8W4kJhL1nkKtgsrmbL8Pgw=="  # Base64(MD5(ENC_1))
SIGNATURE = "6B6lniwT3ZDYYLoC9sCpxihzw5ECwmAkARUpzHsscpk="
APPKEY, NONCE, TS = "wnw", "8d708068-0a36-47d3-8ff4-011fdace7d63", 1718185594026
METHOD = "uploadRecipeIndicators"
PROFILE = PlatformProfile.load("gateway-hmac")


def signed(body: bytes, *, appid=APPKEY, secret=SECRET, method=METHOD, nonce=NONCE, ts=TS) -> httpx.Request:
    auth = HmacGatewayAuth(PROFILE, appid, secret, clock=lambda: ts / 1000, nonce=lambda: nonce)
    headers = {"X-Service-Id": "his.provinceDataUploadService", "X-Service-Method": method}
    request = httpx.Request("POST", "http://gw.test/openapi/api", content=body, headers=headers)
    auth.sign(request)
    return request


def test_aes_body_of_a_short_array_is_openssls():
    codec = body_codec("aes-ecb-base64", SECRET, body_key=AES_KEY)
    assert codec.encode(b"[1]") == ENC_1 and codec.decode(ENC_1) == b"[1]"


def test_digest_and_signature_are_openssls():
    r = signed(ENC_1)
    assert r.headers["X-Content-MD5"] == MD5_1 and r.headers["X-Ca-Signature"] == SIGNATURE
    assert r.headers["X-Ca-Signature-Headers"] == (
        "x-ca-key,x-ca-nonce,x-ca-timestamp,x-content-md5,x-service-id,x-service-method"
    )


def test_the_profile_is_the_gateway_with_hmac_and_aes():
    assert PROFILE.auth["mode"] == "hmac-gateway" and PROFILE.codec_name == "aes-ecb-base64"
    assert PROFILE.names_the_service and not PROFILE.replay_safe


@pytest.mark.parametrize("key", [None, "", "short", "x" * 17, "长" * 16])
def test_a_missing_or_misshapen_body_key_is_named_never_shown(key):
    with pytest.raises(ConfigError) as exc:
        AesEcbBase64Codec(SECRET, key)
    text = str(exc.value)
    assert "encodingAesKey" in text and (not key or key not in text)
    if not key:
        assert "HLWJR_BODY_KEY" in text and "body_key_file" in text


def test_an_empty_or_padded_secret_is_refused_before_anything_is_sent():
    for bad in ("", " 123", "123\n"):
        with pytest.raises(ConfigError, match="appSecret"):
            HmacGatewayAuth(PROFILE, APPKEY, bad)


def test_repr_shows_no_key():
    assert AES_KEY not in repr(AesEcbBase64Codec(SECRET, AES_KEY))
    assert "s3cr3t-value" not in repr(HmacGatewayAuth(PROFILE, APPKEY, "s3cr3t-value"))


records = st.lists(
    st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=30) | st.integers() | st.none(), max_size=5),
    max_size=5,
)
secrets = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Zs", "Cc")), min_size=1, max_size=40)


@settings(max_examples=60, deadline=None)
@given(batch=records, secret=secrets)
def test_the_sandbox_reads_what_the_client_sends(batch, secret):
    body = AesEcbBase64Codec(secret, sandbox_body_key(secret)).encode(json.dumps(batch).encode("utf-8"))
    r = signed(body, secret=secret)
    check = RequestCheck(r.headers, r.content, SUITES["gateway-hmac"])
    check.signature(secret)
    assert check.records(secret) == batch


@settings(max_examples=40, deadline=None)
@given(
    secret=secrets,
    change=st.sampled_from(["body", "secret", "x-ca-key", "x-ca-nonce", "x-ca-timestamp", "x-service-method"]),
)
def test_any_change_to_what_is_signed_is_refused(secret, change):
    body = AesEcbBase64Codec(secret, sandbox_body_key(secret)).encode(b'[{"a": 1}]')
    r = signed(body, secret=secret)
    headers, content, key = dict(r.headers), r.content, secret
    if change == "body":
        content = AesEcbBase64Codec(secret, sandbox_body_key(secret)).encode(b'[{"a": 2}]')
    elif change == "secret":
        key = secret + "x"
    else:
        headers[change] = headers[change] + "0"
    with pytest.raises(GatewayError) as exc:
        RequestCheck(headers, content, SUITES["gateway-hmac"]).signature(key)
    assert exc.value.code == 40010


@settings(max_examples=30, deadline=None)
@given(secret=secrets, other=st.text(st.characters(codec="ascii", categories=("L", "N")), min_size=16, max_size=16))
def test_a_body_under_another_key_is_40004_not_garbage(secret, other):
    if other == sandbox_body_key(secret):
        return
    body = AesEcbBase64Codec(secret, other).encode(b'[{"a": 1}]')
    with pytest.raises(GatewayError) as exc:
        RequestCheck({}, body, SUITES["gateway-hmac"]).records(secret)
    assert exc.value.code in (40004, 40001)


def test_the_body_key_comes_from_the_environment_or_a_git_ignored_file(tmp_path, monkeypatch):
    from hlwjr.upload._project import load_project, write_project

    platform = {"profile": "gateway-hmac", "url": "http://127.0.0.1:1", "appid": "a", "body_key_file": "k/body"}
    root = write_project(tmp_path / "p", {"project": {"name": "医院"}, "platform": platform}).parent
    monkeypatch.delenv("HLWJR_BODY_KEY", raising=False)
    with pytest.raises(ConfigError, match="找不到请求体密钥文件") as exc:
        load_project(root).body_key()
    assert "encodingAesKey" in str(exc.value)
    (root / "k").mkdir()
    (root / "k" / "body").write_text(AES_KEY + "\n", encoding="utf-8")
    assert load_project(root).body_key() == AES_KEY
    monkeypatch.setenv("HLWJR_BODY_KEY", " abcdefghijklmnop ")
    assert load_project(root).body_key() == "abcdefghijklmnop"  # the environment wins, pasted spaces go


@pytest.mark.parametrize("setting", ["body_key", "aes_key", "encoding_aes_key", "encodingAesKey"])
def test_a_body_key_written_into_the_config_is_refused_unshown(tmp_path, setting):
    from hlwjr.upload._project import load_project

    (tmp_path / "hlwjr.toml").write_text(f'[platform]\nprofile = "gateway-hmac"\n{setting} = "{AES_KEY}"\n')
    with pytest.raises(ConfigError) as exc:
        load_project(tmp_path)
    assert setting in str(exc.value) and AES_KEY not in str(exc.value)


def _refusal(request: httpx.Request, signed: str | None) -> httpx.Response:
    headers = {"X-Ca-Error-Message": signed} if signed is not None else {}
    return httpx.Response(200, json={"code": 40010, "msg": "签名不合法"}, headers=headers, request=request)


@given(header=st.sampled_from(["x-ca-key", "x-ca-nonce", "x-service-method", "x-content-md5"]), keyed=st.booleans())
def test_the_gateways_string_to_sign_names_what_changed_on_the_way(header, keyed):
    """A signature refusal carries the gateway's string to sign (X-Ca-Error-Message): compared with
    the request as sent, it names a header a proxy changed, else the secret (an HMAC signature) or
    the signature header itself (an unkeyed SM3 one)."""
    from hlwjr.upload._answers import signing_difference
    from hlwjr.upload.profiles import signed_headers

    r = signed(ENC_1)
    ours, _ = signed_headers(r.headers)
    assert signing_difference(_refusal(r, None), keyed=keyed) is None
    same = signing_difference(_refusal(r, ours), keyed=keyed)
    assert ("appSecret" in same) is keyed and ("被改动" in same) is not keyed
    theirs = "&".join(p if not p.startswith(header + ":") else f"{header}:rewritten" for p in ours.split("&"))
    changed = signing_difference(_refusal(r, theirs), keyed=keyed)
    assert header in changed and "rewritten" in changed and "代理" in changed
