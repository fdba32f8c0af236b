"""Body codecs of the platform profiles (``body.codec`` in the profile YAML), applied once by
the client when a batch is encoded — the ledger keeps the exact bytes sent, so a replay is
byte-identical.

* ``json`` — the JSON text as UTF-8 (the sandbox's token API);
* ``sm4-cbc-hex`` — SM4-CBC(key = bytes.fromhex(appSecret), the gateway's fixed IV, ISO/IEC
  7816-4 padding) of the UTF-8 JSON, sent as the lower-case hex string itself;
* ``aes-ecb-base64`` — AES/ECB/PKCS5Padding under the platform's second key, ``encodingAesKey``
  (its 16, 24 or 32 characters as bytes: AES-128/192/256), of the UTF-8 JSON, sent as Base64 text
  (the gateway's earlier format, beside ``auth.mode: hmac-gateway``). The key is read like the
  secret: from ``[platform] body_key_env`` (default ``HLWJR_BODY_KEY``) or ``body_key_file``.

A codec is built from the secret and, for the codecs that need one, the body key.
"""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from ..._exceptions import ConfigError
from ._sm import gateway_key, sm4_cbc_decrypt_hex, sm4_cbc_encrypt_hex

__all__ = ["CODECS", "AesEcbBase64Codec", "JsonCodec", "Sm4CbcHexCodec", "body_codec", "missing_body_key"]


class JsonCodec:
    """``body.codec: json``: the body is the JSON text."""

    name = "json"
    needs_body_key = False

    def __init__(self, secret: str = "", body_key: str | None = None) -> None:
        pass

    def encode(self, plain: bytes) -> bytes:
        return plain

    def decode(self, body: bytes) -> bytes:
        return body


class Sm4CbcHexCodec:
    """``body.codec: sm4-cbc-hex``: the body is SM4-CBC(JSON) as lower-case hex."""

    name = "sm4-cbc-hex"
    needs_body_key = False

    def __init__(self, secret: str, body_key: str | None = None) -> None:
        self._key = gateway_key(secret)

    def __repr__(self) -> str:
        return "Sm4CbcHexCodec(key=***)"

    def encode(self, plain: bytes) -> bytes:
        return sm4_cbc_encrypt_hex(plain, self._key).encode("ascii")

    def decode(self, body: bytes) -> bytes:
        return sm4_cbc_decrypt_hex(body, self._key)


class AesEcbBase64Codec:
    """``body.codec: aes-ecb-base64``: the body is Base64(AES/ECB/PKCS5(JSON)) under encodingAesKey."""

    name = "aes-ecb-base64"
    needs_body_key = True

    def __init__(self, secret: str = "", body_key: str | None = None) -> None:
        self._key = aes_body_key(body_key)

    def __repr__(self) -> str:
        return "AesEcbBase64Codec(key=***)"

    def encode(self, plain: bytes) -> bytes:
        padder = padding.PKCS7(128).padder()
        e = Cipher(algorithms.AES(self._key), modes.ECB()).encryptor()
        cipher = e.update(padder.update(plain) + padder.finalize()) + e.finalize()
        return base64.b64encode(cipher)

    def decode(self, body: bytes) -> bytes:
        """The JSON bytes of a body this codec made (a stored batch); ``ValueError`` on bad Base64,
        length or padding (another key)."""
        cipher = base64.b64decode(body, validate=True)
        d = Cipher(algorithms.AES(self._key), modes.ECB()).decryptor()
        unpadder = padding.PKCS7(128).unpadder()
        return unpadder.update(d.update(cipher) + d.finalize()) + unpadder.finalize()


def aes_body_key(body_key: str | None) -> bytes:
    """encodingAesKey as the AES key bytes; ConfigError naming what to set when it is absent or of a
    length AES does not take (the key itself is never shown)."""
    if not body_key:
        raise ConfigError(missing_body_key(), where="[platform] body_key")
    key = body_key.strip().encode("utf-8")
    if len(key) not in (16, 24, 32):
        raise ConfigError(
            f"encodingAesKey 应为 16、24 或 32 个字符（AES-128/192/256），现在是 {len(key)} 个字节：请核对是否复制完整",
            where="[platform] body_key",
        )
    return key


def missing_body_key(env: str = "HLWJR_BODY_KEY", path=None) -> str:
    """What to do when the platform's second key is nowhere: where to put it (``env``, ``path``)."""
    where = f"，或在文件 {path} 中写入" if path else "，或在 [platform] 中用 body_key_file 指定一个 git 忽略的文件"
    return (
        f"该平台的请求体用 AES 加密，需要平台发放的第二把密钥 encodingAesKey：请设置环境变量 {env}{where}"
        "（不要写进 hlwjr.toml）"
    )


CODECS = {c.name: c for c in (JsonCodec, Sm4CbcHexCodec, AesEcbBase64Codec)}


def body_codec(name: str | None, secret: str, where: str = "body.codec", body_key: str | None = None):
    """The codec object named by the profile (default ``json``); ``body_key`` for the codecs that
    need a second key (``needs_body_key``)."""
    cls = CODECS.get(name or "json")
    if cls is None:
        raise ConfigError(f"body.codec 只能是 {' 或 '.join(CODECS)}，现在是 {name!r}", where=where)
    return cls(secret, body_key)
