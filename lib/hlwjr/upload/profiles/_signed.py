"""``auth.mode: signed-headers`` — the signature a platform document describes in one line, such
as ``sign = MD5(appId + timestamp + secret)`` in a ``sign`` header, or
``X-Signature = Base64(HmacSHA256(secret, appId + timestamp + nonce))``, written in the profile
YAML instead of code::

    auth:
      mode: signed-headers
      algorithm: hmac-sha256        # md5 | sha256 | sm3 | hmac-sha256 | hmac-sm3
      string_to_sign: "{appid}{timestamp}{nonce}"
      encoding: hex                 # hex | HEX (upper case) | base64
      timestamp: ms                 # ms | s (epoch)
      headers: {appId: "{appid}", timestamp: "{timestamp}", nonce: "{nonce}", sign: "{signature}"}

Placeholders: ``appid``, ``secret`` (only inside ``string_to_sign``: a secret is never sent),
``timestamp``, ``nonce`` (uuid4 hex), ``method`` (POST), ``path`` (/api/upload/recipe),
``body_md5`` / ``body_sha256`` / ``body_sm3`` (hex of the bytes sent); ``signature`` in headers.
Every request — every retry too — is signed afresh. The hashes come from ``hashlib``/``hmac``
and, for SM3, from ``cryptography``.
"""

from __future__ import annotations

import hashlib
import string
import uuid

import httpx

from ..._exceptions import ConfigError
from ._auth import SigningAuth
from ._digests import DIGESTS, ENCODINGS, sm3

__all__ = ["SignedHeadersAuth", "check_signed_headers"]


_SIGNED = ("appid", "secret", "timestamp", "nonce", "method", "path", "body_md5", "body_sha256", "body_sm3")
_SENT = tuple(p for p in _SIGNED if p != "secret") + ("signature",)


def _placeholders(template: str, where: str, source: str) -> set[str]:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise ConfigError(f"{where} 不是有效的模板（{exc}）：占位符写作 {{appid}}", where=source) from exc


def _require(ok: bool, message: str, source: str) -> None:
    if not ok:
        raise ConfigError(message, where=source)


def check_signed_headers(auth: dict, source: str) -> None:
    """Refuse a ``signed-headers`` profile that could not sign (or would send the secret)."""
    algorithm, encoding = auth.get("algorithm"), auth.get("encoding", "hex")
    _require(algorithm in DIGESTS, f"auth.algorithm 只能是 {' / '.join(DIGESTS)}，现在是 {algorithm!r}", source)
    _require(encoding in ENCODINGS, f"auth.encoding 只能是 {' / '.join(ENCODINGS)}，现在是 {encoding!r}", source)
    _require(auth.get("timestamp", "ms") in ("ms", "s"), "auth.timestamp 只能是 ms 或 s（纪元毫秒/秒）", source)
    sts = auth.get("string_to_sign")
    _require(
        isinstance(sts, str) and sts != "", "auth.string_to_sign 缺失：签名原文模板，如 {appid}{timestamp}", source
    )
    unknown = _placeholders(sts, "auth.string_to_sign", source) - set(_SIGNED)
    _require(not unknown, f"auth.string_to_sign 中未知的占位符 {sorted(unknown)}；可用：{', '.join(_SIGNED)}", source)
    headers = auth.get("headers")
    _require(isinstance(headers, dict) and headers, "auth.headers 缺失：请求头 → 模板，如 sign: '{signature}'", source)
    used = set()
    for name, template in headers.items():
        names = _placeholders(str(template), f"auth.headers.{name}", source)
        _require("secret" not in names, f"auth.headers.{name} 含 {{secret}}：密钥只参与签名，不能放进请求头", source)
        unknown = names - set(_SENT)
        _require(not unknown, f"auth.headers.{name} 中未知的占位符 {sorted(unknown)}；可用：{', '.join(_SENT)}", source)
        used |= names
    _require("signature" in used, "auth.headers 中没有 {signature}：签名要放进某个请求头", source)


class SignedHeadersAuth(SigningAuth):
    """Signs each request as ``auth`` of a ``signed-headers`` profile says."""

    _new_nonce = staticmethod(lambda: uuid.uuid4().hex)

    def values(self, request: httpx.Request) -> dict[str, str]:
        """The placeholders' values for ``request`` (``secret`` included: for the signature only)."""
        a = self.profile.auth
        now = self._clock()
        body = request.content
        return {
            "appid": self.appid,
            "secret": self._secret,
            "timestamp": str(int(now * 1000) if a.get("timestamp", "ms") == "ms" else int(now)),
            "nonce": self._nonce(),
            "method": request.method,
            "path": request.url.path,
            "body_md5": hashlib.md5(body).hexdigest(),
            "body_sha256": hashlib.sha256(body).hexdigest(),
            "body_sm3": sm3(body).hex(),
        }

    def sign(self, request: httpx.Request) -> None:
        a = self.profile.auth
        values = self.values(request)
        digest = DIGESTS[a["algorithm"]](self._secret.encode("utf-8"), a["string_to_sign"].format_map(values).encode())
        values["signature"] = ENCODINGS[a.get("encoding", "hex")](digest)
        del values["secret"]
        for name, template in a["headers"].items():
            request.headers[name] = str(template).format_map(values)
