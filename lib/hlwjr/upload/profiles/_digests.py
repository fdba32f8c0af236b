"""The digests and text encodings the security profiles sign with, in one place: ``hashlib`` and
``hmac`` for MD5/SHA-256, ``cryptography`` (OpenSSL) for SM3 — never a hand-written hash.

``DIGESTS[name](key, data)``: plain hashes ignore the key; ``ENCODINGS[name](digest)`` the text
sent (``hex``, upper-case ``HEX``, ``base64``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac

__all__ = ["DIGESTS", "ENCODINGS", "sm3"]


def sm3(data: bytes) -> bytes:
    """SM3 (GB/T 32905) of ``data``."""
    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize()


def _hmac_sm3(key: bytes, data: bytes) -> bytes:
    h = crypto_hmac.HMAC(key, hashes.SM3())
    h.update(data)
    return h.finalize()


#: algorithm → digest(key, data); plain hashes ignore the key (put {secret} in the string instead)
DIGESTS: dict[str, Callable[[bytes, bytes], bytes]] = {
    "md5": lambda key, data: hashlib.md5(data).digest(),
    "sha256": lambda key, data: hashlib.sha256(data).digest(),
    "sm3": lambda key, data: sm3(data),
    "hmac-sha256": lambda key, data: hmac.new(key, data, hashlib.sha256).digest(),
    "hmac-sm3": _hmac_sm3,
}
ENCODINGS: dict[str, Callable[[bytes], str]] = {
    "hex": lambda b: b.hex(),
    "HEX": lambda b: b.hex().upper(),
    "base64": lambda b: base64.b64encode(b).decode("ascii"),
}
