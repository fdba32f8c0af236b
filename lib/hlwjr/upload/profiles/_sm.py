"""国密 primitives for the gateway profiles: SM3 digests and SM4-CBC with ISO/IEC 7816-4 padding.

The hash and the cipher come from ``cryptography`` (OpenSSL); only the padding is ours:
``0x80`` then ``0x00`` up to the block boundary, and a whole extra block when the plaintext
already fills whole blocks (not PKCS#7).
"""

from __future__ import annotations

import re

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from ..._exceptions import ConfigError
from ._digests import sm3

__all__ = [
    "GATEWAY_IV",
    "gateway_key",
    "pad_7816",
    "sm3_hex",
    "sm4_cbc_decrypt_hex",
    "sm4_cbc_encrypt_hex",
    "unpad_7816",
]

BLOCK = 16
#: The fixed IV of the provincial "provinceDataUploadService" gateway (official SDK).
GATEWAY_IV = bytes.fromhex("abcd0863ef9087ced675985321bedf67")
_HEX32 = re.compile(r"[0-9a-fA-F]{32}")


def sm3_hex(data: bytes | str) -> str:
    """SM3 (GB/T 32905) of ``data`` (a str is UTF-8 encoded) as upper-case hex."""
    return sm3(data.encode("utf-8") if isinstance(data, str) else data).hex().upper()


def pad_7816(data: bytes) -> bytes:
    """ISO/IEC 7816-4 padding to a multiple of 16 bytes (always adds 1..16 bytes)."""
    return data + b"\x80" + b"\x00" * (BLOCK - 1 - len(data) % BLOCK)


def unpad_7816(data: bytes) -> bytes:
    """Remove ISO/IEC 7816-4 padding; ``ValueError`` when there is none."""
    if not data or len(data) % BLOCK:
        raise ValueError("长度不是 16 字节的整数倍")
    end = data.rstrip(b"\x00")
    if not end.endswith(b"\x80") or len(data) - len(end) >= BLOCK:
        raise ValueError("填充不是 ISO/IEC 7816-4（0x80 后跟 0x00）")
    return end[:-1]


def gateway_key(secret: str, where: str = "[platform] secret") -> bytes:
    """The 16-byte SM4 key of a 32-hex-character appSecret; ``ConfigError`` (never showing the
    secret) for any other shape."""
    if not isinstance(secret, str) or not _HEX32.fullmatch(secret.strip()):
        n = len(secret.strip()) if isinstance(secret, str) else 0
        raise ConfigError(
            f"平台密钥 (appSecret) 应为 32 位十六进制字符（0-9、a-f），现在是 {n} 个字符且不全是十六进制："
            "请从平台“机构信息”页面重新复制完整的 appSecret（不要带空格或引号）",
            where=where,
        )
    return bytes.fromhex(secret.strip())


def sm4_cbc_encrypt_hex(plain: bytes, key: bytes, iv: bytes = GATEWAY_IV) -> str:
    """SM4-CBC(key, iv) of ``plain`` with 7816-4 padding, as lower-case hex."""
    enc = Cipher(algorithms.SM4(key), modes.CBC(iv)).encryptor()
    return (enc.update(pad_7816(plain)) + enc.finalize()).hex()


def sm4_cbc_decrypt_hex(cipher_hex: str | bytes, key: bytes, iv: bytes = GATEWAY_IV) -> bytes:
    """The plaintext of :func:`sm4_cbc_encrypt_hex`; ``ValueError`` on bad hex or padding."""
    raw = bytes.fromhex(cipher_hex.decode("ascii") if isinstance(cipher_hex, bytes) else cipher_hex)
    dec = Cipher(algorithms.SM4(key), modes.CBC(iv)).decryptor()
    return unpad_7816(dec.update(raw) + dec.finalize())
