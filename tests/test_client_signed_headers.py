"""``auth.mode: signed-headers``: a platform whose document gives its signature in one line
(``sign = MD5(appId + timestamp + secret)``, ``Base64(HmacSHA256(secret, …))``) is a YAML
profile, no code. A gateway written here from that line — hashlib/hmac/cryptography directly, not
hlwjr's signing code — checks every request; the profile's mistakes are refused in Chinese."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hlwjr import AuthError, ConfigError, PlatformClient
from hlwjr.upload._profile import PlatformProfile

APPID, SECRET = "hos-1001", "s3cr3t-密钥"


def digest(algorithm: str, key: bytes, data: bytes) -> bytes:
    if algorithm == "md5":
        return hashlib.md5(data).digest()
    if algorithm == "sha256":
        return hashlib.sha256(data).digest()
    if algorithm == "hmac-sha256":
        return hmac.new(key, data, hashlib.sha256).digest()
    if algorithm == "sm3":
        h = hashes.Hash(hashes.SM3())
    else:
        h = crypto_hmac.HMAC(key, hashes.SM3())
    h.update(data)
    return h.finalize()


def encode(encoding: str, raw: bytes) -> str:
    return {"hex": raw.hex(), "HEX": raw.hex().upper(), "base64": base64.b64encode(raw).decode()}[encoding]


def auth_section(algorithm, encoding, unit, parts, names):
    return {
        "mode": "signed-headers",
        "algorithm": algorithm,
        "encoding": encoding,
        "timestamp": unit,
        "string_to_sign": "".join("{" + p + "}" for p in parts),
        "headers": {names[0]: "{appid}", names[1]: "{timestamp}", names[2]: "{nonce}", names[3]: "{signature}"},
    }


def profile(auth: dict) -> PlatformProfile:
    return PlatformProfile.from_dict(
        {
            "kind": "hlwjr/platform",
            "version": 1,
            "id": "signed",
            "auth": auth,
            "upload": {"path": "/api/upload/{dataset}", "max_batch": 100, "replay": "batch"},
            "response": {"code_field": "code", "success_codes": [0], "results_field": "data.results"},
        }
    )


class Gateway:
    """Checks each request against the signature line of its document (``auth``)."""

    def __init__(self, auth: dict, secret: str = SECRET) -> None:
        self.auth, self.secret, self.seen = auth, secret, []

    def expected(self, headers, method: str, path: str, body: bytes) -> str:
        a, h = self.auth, {k.lower(): v for k, v in headers.items()}
        names = list(a["headers"])
        values = {
            "appid": h[names[0].lower()],
            "timestamp": h[names[1].lower()],
            "nonce": h[names[2].lower()],
            "secret": self.secret,
            "method": method,
            "path": path,
            "body_md5": hashlib.md5(body).hexdigest(),
            "body_sha256": hashlib.sha256(body).hexdigest(),
            "body_sm3": digest("sm3", b"", body).hex(),
        }
        text = a["string_to_sign"].format_map(values).encode()
        return encode(a["encoding"], digest(a["algorithm"], self.secret.encode(), text))

    def __call__(self, environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        headers = {k[5:].replace("_", "-"): v for k, v in environ.items() if k.startswith("HTTP_")}
        names = list(self.auth["headers"])
        h = {k.lower(): v for k, v in headers.items()}
        stamp = int(h[names[1].lower()])
        now = time.time() * (1000 if self.auth["timestamp"] == "ms" else 1)
        ok = h[names[3].lower()] == self.expected(headers, environ["REQUEST_METHOD"], environ["PATH_INFO"], body)
        ok = ok and abs(now - stamp) < (300_000 if self.auth["timestamp"] == "ms" else 300)
        ok = ok and h[names[2].lower()] not in self.seen
        self.seen.append(h[names[2].lower()])
        if not ok:
            answer = {"code": 401, "msg": "签名错误"}
        else:
            n = len(json.loads(body)["records"])
            answer = {"code": 0, "msg": "成功", "data": {"results": [{"index": i, "status": "ok"} for i in range(n)]}}
        data = json.dumps(answer, ensure_ascii=False).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]


header_names = st.lists(
    st.sampled_from(["appId", "X-App-Key", "timestamp", "X-Timestamp", "nonce", "X-Nonce", "sign", "X-Signature"]),
    min_size=4,
    max_size=4,
    unique_by=str.lower,
)
parts = st.lists(
    st.sampled_from(["appid", "timestamp", "nonce", "secret", "method", "path", "body_md5", "body_sha256", "body_sm3"]),
    min_size=1,
    max_size=6,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    algorithm=st.sampled_from(["md5", "sha256", "sm3", "hmac-sha256", "hmac-sm3"]),
    encoding=st.sampled_from(["hex", "HEX", "base64"]),
    unit=st.sampled_from(["ms", "s"]),
    parts=parts,
    names=header_names,
    n=st.integers(min_value=1, max_value=5),
)
def test_every_signature_line_signs_as_its_gateway_checks(algorithm, encoding, unit, parts, names, n):
    auth = auth_section(algorithm, encoding, unit, parts, names)
    gateway = Gateway(auth)
    client = PlatformClient(
        profile(auth), "http://gw.test", APPID, SECRET, transport=httpx.WSGITransport(app=gateway), sleep=lambda s: 0
    )
    with client:
        body = client.encode_batch("B1", [json.dumps({"k": i}) for i in range(n)])
        result = client.send_batch("visit", "B1", body, n)
        again = client.send_batch("visit", "B1", body, n)  # signed afresh: a new nonce
    assert result.accepted == n == again.accepted
    assert len(set(gateway.seen)) == 2


def test_a_wrong_secret_is_refused_as_auth():
    auth = auth_section("md5", "HEX", "ms", ["appid", "timestamp", "secret"], ["appId", "timestamp", "nonce", "sign"])
    p = profile(auth)
    p.response["codes"] = {"auth": [401]}
    client = PlatformClient(
        p, "http://gw.test", APPID, "not-it", transport=httpx.WSGITransport(app=Gateway(auth)), max_retries=0
    )
    with client, pytest.raises(AuthError):
        client.send_batch("visit", "B1", client.encode_batch("B1", ["{}"]), 1)


@pytest.mark.parametrize(
    "change, words",
    [
        ({"algorithm": "sha1"}, "auth.algorithm 只能是"),
        ({"encoding": "b32"}, "auth.encoding 只能是"),
        ({"string_to_sign": "{appid}{token}"}, "未知的占位符 ['token']"),
        ({"string_to_sign": "{appid"}, "不是有效的模板"),
        ({"headers": {"sign": "{signature}", "key": "{secret}"}}, "密钥只参与签名"),
        ({"headers": {"appId": "{appid}"}}, "没有 {signature}"),
        ({"timestamp": "ns"}, "auth.timestamp 只能是 ms 或 s"),
    ],
)
def test_a_profile_that_could_not_sign_is_refused(change, words):
    auth = auth_section("md5", "hex", "ms", ["appid", "secret"], ["appId", "timestamp", "nonce", "sign"]) | change
    with pytest.raises(ConfigError) as exc:
        profile(auth)
    assert words in exc.value.message
