"""Request signing of the platform profiles (``auth.mode`` in the profile YAML).

* ``token`` — :class:`~hlwjr.upload._client.TokenAuth` (appid + secret → bearer token);
* ``sm3-gateway`` — :class:`Sm3GatewayAuth`: the provincial "provinceDataUploadService" gateway
  (official SDK): no token; every request carries ``X-Ca-Key``, ``X-Ca-Nonce`` (uuid4),
  ``X-Ca-Timestamp`` (epoch ms), ``X-Content-MD5`` = SM3(body) upper hex, ``X-Service-Id``,
  ``X-Service-Method``; ``X-Ca-Signature`` = SM3 of those headers sorted by name as
  ``lowercase(name):value`` joined by ``&``; ``X-Ca-Signature-Headers`` = the names, comma-joined.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping

import httpx

from ._sm import gateway_key, sm3_hex

__all__ = ["SigningAuth", "Sm3GatewayAuth", "signed_headers"]

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

    def sign(self, request: httpx.Request) -> None:
        a = self.profile.auth
        request.headers[a.get("key_header", "X-Ca-Key")] = self.appid
        request.headers[a.get("nonce_header", "X-Ca-Nonce")] = self._nonce()
        request.headers[a.get("timestamp_header", "X-Ca-Timestamp")] = str(int(self._clock() * 1000))
        request.headers[a.get("md5_header", "X-Content-MD5")] = sm3_hex(request.content)
        sts, names = signed_headers(request.headers)
        request.headers[a.get("signature_header", "X-Ca-Signature")] = sm3_hex(sts)
        request.headers[a.get("signature_headers_header", "X-Ca-Signature-Headers")] = names
