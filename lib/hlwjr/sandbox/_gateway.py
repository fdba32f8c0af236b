"""The sandbox's gateway (``hlwjr sandbox serve --protocol tianjin | gateway-hmac``): the provincial
"provinceDataUploadService" wire protocol, checked the way the official SDK's gateway does — in its
国密 format (``tianjin``: SM3 signature and digest, SM4-CBC hex body) or its earlier one
(``gateway-hmac``: Base64 HmacSHA256(appSecret) signature, Base64 MD5 digest, Base64
AES/ECB/PKCS5 body under the account's encodingAesKey, which the sandbox derives from the
appSecret: :func:`sandbox_body_key`). The two differ only in their :class:`Suite`.

This module is the sandbox's own implementation of SM3, SM4-CBC and the ISO/IEC 7816-4 padding,
and of the HMAC/MD5/AES format (``cryptography`` and ``hashlib`` for the hashes and the ciphers);
it does not import the client's signing code, so a bug shared by both sides cannot pass the
golden-vector tests.

A request is checked in this order, each failure one gateway code: appKey (40002), account
frozen (40003), signature headers and signature (40010), X-Content-MD5 = SM3(body) (40010),
timestamp within ±5 minutes of real time (40011), nonce not seen before (40011), service id and
method (40001 / 40006), decryption with the appSecret (40004 when the padding or the JSON is
wrong — the mark of a wrong key; 40001 when the body is not hex or not a JSON array).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from ._wire import JsonTextError, json_loads

__all__ = [
    "SERVICE_ID",
    "SUITES",
    "GatewayError",
    "NonceBook",
    "RequestCheck",
    "Suite",
    "gateway_answer",
    "method_table",
    "sandbox_body_key",
    "sm3_upper",
    "sm4_decrypt",
    "sm4_encrypt",
]

SERVICE_ID = "his.provinceDataUploadService"
IV = bytes.fromhex("abcd0863ef9087ced675985321bedf67")
TIME_WINDOW_MS = 5 * 60 * 1000
_REQUIRED = ("x-ca-key", "x-ca-nonce", "x-ca-timestamp", "x-content-md5", "x-service-id", "x-service-method")
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+")


class GatewayError(Exception):
    """A gateway-level refusal: ``{"code": code, "msg": msg}``; ``signed`` the gateway's string to
    sign of a signature refusal, answered in ``X-Ca-Error-Message`` as the SDK's gateway does."""

    def __init__(self, code: int, msg: str, signed: str | None = None) -> None:
        super().__init__(msg)
        self.code, self.msg, self.signed = code, msg, signed

    @property
    def headers(self) -> dict[str, str] | None:
        """The answer's headers: the string to sign as UTF-8 bytes (a header is Latin-1 text)."""
        if self.signed is None:
            return None
        return {"X-Ca-Error-Message": self.signed.encode("utf-8").decode("latin-1")}


def gateway_answer(code: int = 200, msg: str = "请求成功", body: dict | None = None) -> dict:
    """The gateway's answer envelope."""
    out: dict = {"code": code, "msg": msg}
    if body is not None:
        out["body"] = body
    return out


def sm3_upper(data: bytes) -> str:
    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize().hex().upper()


def sm4_encrypt(plain: bytes, key: bytes) -> str:
    """SM4-CBC with the gateway IV and 7816-4 padding, lower-case hex (the sandbox's own copy)."""
    fill = 16 - len(plain) % 16
    e = Cipher(algorithms.SM4(key), modes.CBC(IV)).encryptor()
    return (e.update(plain + b"\x80" + bytes(fill - 1)) + e.finalize()).hex()


def sm4_decrypt(cipher: bytes, key: bytes) -> bytes | None:
    """The plaintext, or None when the 7816-4 padding is not there (a wrong key, mostly)."""
    if not cipher or len(cipher) % 16:
        return None
    d = Cipher(algorithms.SM4(key), modes.CBC(IV)).decryptor()
    plain = d.update(cipher) + d.finalize()
    i = len(plain) - 1
    while i >= 0 and plain[i] == 0 and len(plain) - i <= 16:
        i -= 1
    if i < 0 or plain[i] != 0x80 or len(plain) - i > 16:
        return None
    return plain[:i]


def _b64_md5(body: bytes) -> str:
    return base64.b64encode(hashlib.md5(body).digest()).decode("ascii")


def _b64_hmac(secret: str, text: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode("utf-8"), text, hashlib.sha256).digest()).decode("ascii")


def sandbox_body_key(secret: str) -> str:
    """The sandbox account's encodingAesKey (16 characters, AES-128): derived from its appSecret,
    so registration needs nothing more; a real platform issues it as a second key."""
    return hmac.new(secret.encode("utf-8"), b"encodingAesKey", hashlib.sha256).hexdigest()[:16]


def _sm4_body(body: bytes, secret: str) -> bytes | None:
    text = body.strip()
    if not _HEX.fullmatch(text.decode("latin-1")):
        raise GatewayError(40001, "参数错误：请求体应为 SM4 加密后的十六进制字符串")
    return sm4_decrypt(bytes.fromhex(text.decode("ascii")), bytes.fromhex(secret))


def _aes_body(body: bytes, secret: str) -> bytes | None:
    try:
        cipher = base64.b64decode(body.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise GatewayError(40001, "参数错误：请求体应为 AES 加密后的 Base64 文本") from None
    if not cipher or len(cipher) % 16:
        return None
    d = Cipher(algorithms.AES(sandbox_body_key(secret).encode("ascii")), modes.ECB()).decryptor()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(d.update(cipher) + d.finalize()) + unpadder.finalize()
    except ValueError:  # the padding is not there: another key
        return None


@dataclass(frozen=True)
class Suite:
    """How one format of the gateway signs, digests and encrypts (everything else is shared)."""

    name: str
    signature: Callable[[str, bytes], str]  # (appSecret, signed string) → X-Ca-Signature
    digest: Callable[[bytes], str]  # body → X-Content-MD5
    decrypt: Callable[[bytes, str], bytes | None]  # (body, appSecret) → JSON bytes, None: wrong key
    sign_name: str
    digest_name: str
    key_name: str  # the key the body is decrypted with


SUITES = {
    "tianjin": Suite("tianjin", lambda _secret, text: sm3_upper(text), sm3_upper, _sm4_body, "SM3", "SM3", "appSecret"),
    "gateway-hmac": Suite("gateway-hmac", _b64_hmac, _b64_md5, _aes_body, "HmacSHA256", "MD5", "encodingAesKey"),
}


class NonceBook:
    """Nonces seen within the time window (a replayed request is refused)."""

    def __init__(self, window_ms: int = TIME_WINDOW_MS, limit: int = 200_000) -> None:
        self.window_ms, self.limit = window_ms, limit
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def first_use(self, key: str, nonce: str, now_ms: float) -> bool:
        with self._lock:
            while self._seen and (
                len(self._seen) > self.limit or next(iter(self._seen.values())) < now_ms - 2 * self.window_ms
            ):
                self._seen.popitem(last=False)
            k = f"{key}\n{nonce}"
            if k in self._seen:
                return False
            self._seen[k] = now_ms
            return True


def method_table(spec) -> dict[str, str]:
    """``X-Service-Method`` → data set code: every alias of a data set, and
    ``upload<CodeInCamelCase>Indicators`` for those without a method alias (inferred names)."""
    table: dict[str, str] = {}
    for code, ds in spec.datasets.items():
        camel = "".join(p[:1].upper() + p[1:] for p in code.split("_"))
        table.setdefault(f"upload{camel}Indicators", code)
        for alias in getattr(ds, "aliases", ()) or ():
            table[str(alias)] = code
    return table


class RequestCheck:
    """Checks one gateway request's headers and body; the pieces the service needs after it."""

    def __init__(self, headers: Mapping[str, str], body: bytes, suite: Suite = SUITES["tianjin"]) -> None:
        self.h = {k.lower(): v for k, v in headers.items()}
        self.body = body
        self.suite = suite

    @property
    def app_key(self) -> str:
        key = self.h.get("x-ca-key", "").strip()
        if not key:
            raise GatewayError(40002, "appKey不存在：缺少请求头 X-Ca-Key")
        return key

    def signature(self, secret: str = "") -> None:
        """The signed headers, the signature (HMAC formats: under ``secret``) and the body digest."""
        names = [n.strip() for n in self.h.get("x-ca-signature-headers", "").split(",") if n.strip()]
        missing = [n for n in _REQUIRED if n not in names or n not in self.h]
        if missing:
            raise GatewayError(40010, f"签名不合法：未签名或缺少请求头 {', '.join(missing)}")
        text = "&".join(f"{n}:{self.h.get(n, '')}" for n in sorted(set(names)))
        su = self.suite
        expected = su.signature(secret, text.encode("utf-8")).encode("utf-8")
        if not hmac.compare_digest(self.h.get("x-ca-signature", "").encode("utf-8"), expected):
            raise GatewayError(
                40010, f"签名不合法：X-Ca-Signature 与按请求头计算的 {su.sign_name} 签名不一致", signed=text
            )
        if self.h["x-content-md5"] != su.digest(self.body):
            raise GatewayError(
                40010, f"签名不合法：X-Content-MD5 与请求体的 {su.digest_name} 摘要不一致（请求体被改动？）"
            )

    def freshness(self, nonces: NonceBook, now_ms: float | None = None) -> None:
        now_ms = time.time() * 1000 if now_ms is None else now_ms
        try:
            ts = int(self.h["x-ca-timestamp"])
        except ValueError:
            raise GatewayError(40011, "请求已过期：X-Ca-Timestamp 不是毫秒时间戳") from None
        skew = (ts - now_ms) / 1000
        if abs(skew) * 1000 > TIME_WINDOW_MS:
            raise GatewayError(40011, f"请求已过期：请求时间与网关相差 {skew:+.0f} 秒（允许 ±300 秒）")
        if not nonces.first_use(self.app_key, self.h["x-ca-nonce"], now_ms):
            raise GatewayError(40011, "请求已过期：X-Ca-Nonce 已使用过（重放的请求）")

    def dataset(self, methods: Mapping[str, str]) -> str:
        if self.h["x-service-id"] != SERVICE_ID:
            raise GatewayError(40001, f"参数错误：X-Service-Id 应为 {SERVICE_ID}")
        method = self.h["x-service-method"]
        if method not in methods:
            raise GatewayError(40006, f"无权限：未开通接口 {method}")
        return methods[method]

    def records(self, app_secret: str) -> list:
        plain = self.suite.decrypt(self.body, app_secret)
        if plain is None:
            raise GatewayError(40004, f"appKey与appSecret不匹配：请求体无法用该 appKey 的 {self.suite.key_name} 解密")
        try:
            records = json_loads(plain)  # exact numbers; lone surrogates refused
        except JsonTextError as exc:
            raise GatewayError(40001, f"参数错误：解密后的 JSON {exc}") from None
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise GatewayError(40004, "appKey与appSecret不匹配：解密结果不是 JSON（密钥不对？）") from None
        if not isinstance(records, list):
            raise GatewayError(40001, f"参数错误：解密后应为 JSON 数组，收到的是 {type(records).__name__}")
        return records

    def plain_json(self) -> object:
        try:
            return json_loads(self.body)
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise GatewayError(40001, "参数错误：文件上传的请求体应为 JSON") from None
