"""Body codecs of the platform profiles (``body.codec`` in the profile YAML), applied once by
the client when a batch is encoded — the ledger keeps the exact bytes sent, so a replay is
byte-identical.

* ``json`` — the JSON text as UTF-8 (the sandbox's token API);
* ``sm4-cbc-hex`` — SM4-CBC(key = bytes.fromhex(appSecret), the gateway's fixed IV, ISO/IEC
  7816-4 padding) of the UTF-8 JSON, sent as the lower-case hex string itself.
"""

from __future__ import annotations

from ..._exceptions import ConfigError
from ._sm import gateway_key, sm4_cbc_decrypt_hex, sm4_cbc_encrypt_hex

__all__ = ["CODECS", "JsonCodec", "Sm4CbcHexCodec", "body_codec"]


class JsonCodec:
    """``body.codec: json``: the body is the JSON text."""

    name = "json"

    def __init__(self, secret: str = "") -> None:
        pass

    def encode(self, plain: bytes) -> bytes:
        return plain

    def decode(self, body: bytes) -> bytes:
        return body


class Sm4CbcHexCodec:
    """``body.codec: sm4-cbc-hex``: the body is SM4-CBC(JSON) as lower-case hex."""

    name = "sm4-cbc-hex"

    def __init__(self, secret: str) -> None:
        self._key = gateway_key(secret)

    def __repr__(self) -> str:
        return "Sm4CbcHexCodec(key=***)"

    def encode(self, plain: bytes) -> bytes:
        return sm4_cbc_encrypt_hex(plain, self._key).encode("ascii")

    def decode(self, body: bytes) -> bytes:
        return sm4_cbc_decrypt_hex(body, self._key)


CODECS = {c.name: c for c in (JsonCodec, Sm4CbcHexCodec)}


def body_codec(name: str | None, secret: str, where: str = "body.codec"):
    """The codec object named by the profile (default ``json``)."""
    cls = CODECS.get(name or "json")
    if cls is None:
        raise ConfigError(f"body.codec 只能是 {' 或 '.join(CODECS)}，现在是 {name!r}", where=where)
    return cls(secret)
