"""Request signing of the platform profiles (``auth.mode`` in the profile YAML).

* ``token`` — :class:`~hlwjr.upload._client.TokenAuth` (appid + secret → bearer token);
* ``sm3-gateway`` — :class:`Sm3GatewayAuth`: the provincial "provinceDataUploadService" gateway
  (official SDK): no token; every request carries ``X-Ca-Key``, ``X-Ca-Nonce`` (uuid4),
  ``X-Ca-Timestamp`` (epoch ms), ``X-Content-MD5`` = SM3(body) upper hex, ``X-Service-Id``,
  ``X-Service-Method``; ``X-Ca-Signature`` = SM3 of those headers sorted by name as
  ``lowercase(name):value`` joined by ``&``; ``X-Ca-Signature-Headers`` = the names, comma-joined.
* ``hmac-gateway`` — :class:`HmacGatewayAuth`: the same gateway family's earlier wire format
  (the vendor's open-API SDK before 国密): the same headers and string to sign, but
  ``X-Content-MD5`` = Base64(MD5(body sent)) and ``X-Ca-Signature`` = Base64(HmacSHA256(appSecret,
  string to sign)); its body is plain JSON or AES (``body.codec: aes-ecb-base64``).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping

import httpx

from ..._exceptions import ConfigError
from ._digests import DIGESTS, ENCODINGS
from ._sm import gateway_key, sm3_hex

__all__ = ["HmacGatewayAuth", "SigningAuth", "Sm3GatewayAuth", "signed_headers"]

#: The headers signed besides every ``X-Ca-*`` header.
_ALSO_SIGNED = ("x-content-md5", "x-service-id", "x-service-method")


def signed_headers(headers: Mapping[str, str]) -> tuple[str, str]:
    """(string to sign, signed header names) over ``headers``: every ``X-Ca-*`` header (except
    the signature itself) and ``X-Content-MD5`` / ``X-Service-Id`` / ``X-Service-Method``."""
    low = {k.lower(): v for k, v in headers.items()}
    names = sorted(
        n
        for n in low
        if (n.startswith("x-ca-") and n not in ("x-ca-signature", "x-ca-signature-headers")) or n in _ALSO_SIGNED
    )
    return "&".join(f"{n}:{low[n]}" for n in names), ",".join(names)


class SigningAuth(httpx.Auth):
    """A request signed afresh each time it is sent (every retry too), no token: the profile's
    ``auth`` section says how (:meth:`sign`). ``clock`` returns epoch seconds and ``nonce`` a fresh
    nonce string — injectable for a platform's published examples."""

    requires_request_body = True
    _new_nonce: Callable[[], str] = staticmethod(lambda: str(uuid.uuid4()))

    def __init__(
        self,
        profile,
        appid: str,
        secret: str,
        *,
        clock: Callable[[], float] = time.time,
        nonce: Callable[[], str] | None = None,
    ) -> None:
        self.profile = profile
        self.appid = appid
        self.check_secret(secret)
        self._secret = secret
        self._clock = clock
        self._nonce = nonce or self._new_nonce
        self.renewals = 0

    def __repr__(self) -> str:  # never the secret
        return f"{type(self).__name__}(appid={self.appid!r})"

    def check_secret(self, secret: str) -> None:
        """Refuse a secret of the wrong shape at construction (before anything is sent)."""

    def invalidate(self) -> None:  # nothing cached
        return None

    def sign(self, request: httpx.Request) -> None:  # pragma: no cover - each mode signs
        raise NotImplementedError

    def auth_flow(self, request: httpx.Request):
        self.sign(request)
        yield request


class Sm3GatewayAuth(SigningAuth):
    """``auth.mode: sm3-gateway``: signs each request as the provincial gateway checks it."""

    def check_secret(self, secret: str) -> None:
        gateway_key(secret)  # 32 hex characters

    def content_digest(self, body: bytes) -> str:
        return sm3_hex(body)

    def signature(self, string_to_sign: str) -> str:
        return sm3_hex(string_to_sign)

    def sign(self, request: httpx.Request) -> None:
        a = self.profile.auth
        request.headers[a.get("key_header", "X-Ca-Key")] = self.appid
        request.headers[a.get("nonce_header", "X-Ca-Nonce")] = self._nonce()
        request.headers[a.get("timestamp_header", "X-Ca-Timestamp")] = str(int(self._clock() * 1000))
        request.headers[a.get("md5_header", "X-Content-MD5")] = self.content_digest(request.content)
        sts, names = signed_headers(request.headers)
        request.headers[a.get("signature_header", "X-Ca-Signature")] = self.signature(sts)
        request.headers[a.get("signature_headers_header", "X-Ca-Signature-Headers")] = names


class HmacGatewayAuth(Sm3GatewayAuth):
    """``auth.mode: hmac-gateway``: the gateway's earlier format, MD5 and HMAC-SHA256 in Base64."""

    def check_secret(self, secret: str) -> None:
        if not secret or secret != secret.strip():
            raise ConfigError(
                "appSecret 为空或首尾有空格：请按平台发放的原样填写（HmacSHA256 的密钥，区分大小写）",
                where="[platform] secret",
            )

    def content_digest(self, body: bytes) -> str:
        return ENCODINGS["base64"](DIGESTS["md5"](b"", body))

    def signature(self, string_to_sign: str) -> str:
        return ENCODINGS["base64"](DIGESTS["hmac-sha256"](self._secret.encode("utf-8"), string_to_sign.encode("utf-8")))
