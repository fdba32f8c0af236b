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

__all__ = ["Sm3GatewayAuth", "signed_headers"]

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


class Sm3GatewayAuth(httpx.Auth):
    """``auth.mode: sm3-gateway``: signs each request (and each retry, with a fresh nonce and
    timestamp) as the provincial gateway checks it.  ``clock`` returns epoch seconds and ``nonce``
    a fresh nonce string — injectable for the golden vectors."""

    requires_request_body = True

    def __init__(
        self,
        profile,
        appid: str,
        secret: str,
        *,
        clock: Callable[[], float] = time.time,
        nonce: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self.profile = profile
        self.appid = appid
        gateway_key(secret)  # shape check at construction: 32 hex characters
        self._clock = clock
        self._nonce = nonce
        self.renewals = 0

    def __repr__(self) -> str:
        return f"Sm3GatewayAuth(appid={self.appid!r})"

    def invalidate(self) -> None:  # nothing cached
        return None

    def sign(self, request: httpx.Request) -> None:
        a = self.profile.auth
        request.headers[a.get("key_header", "X-Ca-Key")] = self.appid
        request.headers[a.get("nonce_header", "X-Ca-Nonce")] = self._nonce()
        request.headers[a.get("timestamp_header", "X-Ca-Timestamp")] = str(int(self._clock() * 1000))
        request.headers[a.get("md5_header", "X-Content-MD5")] = sm3_hex(request.content)
        sts, names = signed_headers(request.headers)
        request.headers[a.get("signature_header", "X-Ca-Signature")] = sm3_hex(sts)
        request.headers[a.get("signature_headers_header", "X-Ca-Signature-Headers")] = names

    def auth_flow(self, request: httpx.Request):
        self.sign(request)
        yield request
