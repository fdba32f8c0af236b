"""The sandbox's wire format: the JSON envelope ``{code, msg, data}``, strict JSON in and out,
API errors, masked business keys and log redaction.
"""

from __future__ import annotations

import decimal
import functools
import json
import logging
import re
from typing import Any

from fastapi.responses import Response

from .._privacy import mask_key as _privacy_mask_key
from ..validation._numbers import loads_exact
from ._store import KEY_SEP

PREFIX = "/hlwjr"
_OK_MSG = "成功"
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# The sandbox decides business-key duplicates itself (a status, not a failure): the engine's
# ``already_accepted`` is skipped and its top-level ``duplicate_key`` ignored (a repeated line
# number inside one record's orderList stays a failure).
_SKIP_RULES = ("already_accepted",)


class ApiError(Exception):
    """An answer with a non-zero code: HTTP status, platform code, Chinese message."""

    def __init__(self, status: int, code: int, msg: str, data: Any = None, headers: dict | None = None) -> None:
        super().__init__(msg)
        self.status, self.code, self.msg, self.data, self.headers = status, code, msg, data, headers


try:  # orjson: 3-10x faster JSON; the standard library is the fallback
    import orjson as _orjson
except ImportError:  # pragma: no cover - orjson is a dependency
    _orjson = None


_LONG_DIGITS = re.compile(rb"[0-9]{20,}")  # orjson reads integers beyond 64 bits as floats


class JsonTextError(ValueError):
    """A request body that is JSON but not Unicode text: a lone surrogate (``"\\ud800"``)."""


def json_loads(data: bytes) -> Any:
    """Parse a request body: strict UTF-8 JSON, NaN/Infinity refused, numbers exact (integers of
    any size, :class:`NumberText` beyond the double range), lone surrogates refused
    (:class:`JsonTextError`)."""
    if _orjson is not None and not _LONG_DIGITS.search(data):
        try:
            return _orjson.loads(data)
        except _orjson.JSONDecodeError:
            pass  # the standard parser gives the precise message (or reads huge numbers exactly)
    obj = loads_exact(data)
    where = _surrogate_path(obj)
    if where is not None:
        raise JsonTextError(f"{where} 含有单独的代理码位（如 \\ud800），不是合法的 Unicode 文本；请检查源数据的编码")
    return obj


def _surrogate_path(obj: Any) -> str | None:
    """Where the first string (key or value) with a lone surrogate is, e.g. ``records[0].organID``."""
    stack = [("请求体", obj)]
    while stack:
        path, v = stack.pop()
        if isinstance(v, str):
            if _has_surrogate(v):
                return path
        elif isinstance(v, dict):  # pushed in reverse: the first one in the text is reported
            for k, x in reversed(v.items()):
                if _has_surrogate(k):
                    return f"{path} 的字段名"
                stack.append((f"{path}.{k}" if path != "请求体" else k, x))
        elif isinstance(v, list):
            stack.extend((f"{path}[{i}]", v[i]) for i in range(len(v) - 1, -1, -1))
    return None


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _fragment(obj: Any):
    if isinstance(obj, decimal.Decimal):
        return _orjson.Fragment(str(obj))
    raise TypeError(f"{type(obj).__name__} 不能写成JSON")


def _wide_ints(obj: Any) -> Any:
    """A copy with integers beyond 64 bits as raw JSON fragments (orjson writes up to 64 bits)."""
    if isinstance(obj, bool) or obj is None:
        return obj
    if isinstance(obj, int):
        return _orjson.Fragment(str(obj)) if not -(2**63) <= obj < 2**64 else obj
    if isinstance(obj, dict):
        return {k: _wide_ints(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_wide_ints(v) for v in obj]
    return obj


def json_dumps(obj: Any, *, sort_keys: bool = False) -> bytes:
    """Compact UTF-8 JSON (non-ASCII kept as is; numbers of any size written exactly)."""
    if _orjson is not None:
        option = _orjson.OPT_SORT_KEYS if sort_keys else 0
        try:
            return _orjson.dumps(obj, option=option, default=_fragment)
        except TypeError:  # an integer beyond 64 bits
            return _orjson.dumps(_wide_ints(obj), option=option, default=_fragment)
    return json.dumps(obj, ensure_ascii=False, sort_keys=sort_keys, separators=(",", ":"), default=str).encode("utf-8")


def _json(payload: Any, status: int = 200, headers: dict | None = None) -> Response:
    return Response(json_dumps(payload), status_code=status, media_type="application/json", headers=headers)


def _envelope(data: Any = None, code: int = 0, msg: str = _OK_MSG) -> dict:
    return {"code": code, "msg": msg, "data": data}


@functools.lru_cache(maxsize=8192)
def mask_key(biz_key: str | None) -> str | None:
    """A stored business key for display: parts joined by ``|``, ID/phone numbers masked."""
    return _privacy_mask_key(biz_key, KEY_SEP)


class _RedactFilter(logging.Filter):
    _pat = re.compile(r"((?:access_?token|token|secret|appsecret)=)[^&\s\"]+", re.I)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(self._pat.sub(r"\1***", a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = self._pat.sub(r"\1***", record.msg)
        return True


def install_log_redaction() -> None:
    """Make sure no token or secret appears in uvicorn's access log (query strings redacted)."""
    for name in ("uvicorn.access", "uvicorn.error", "hlwjr.sandbox"):
        lg = logging.getLogger(name)
        if not any(isinstance(f, _RedactFilter) for f in lg.filters):
            lg.addFilter(_RedactFilter())
