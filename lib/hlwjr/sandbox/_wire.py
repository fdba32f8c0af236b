"""The sandbox's wire format: the JSON envelope ``{code, msg, data}``, strict JSON in and out,
API errors, masked business keys and log redaction.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from typing import Any

from fastapi.responses import Response

from .._privacy import mask_key as _privacy_mask_key
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


def _reject_constant(name: str):
    raise ValueError(f"{name} 不是合法的JSON数值")


def json_loads(data: bytes) -> Any:
    """Parse a request body (UTF-8 JSON; NaN/Infinity refused, as by strict platforms)."""
    if _orjson is not None:
        try:
            return _orjson.loads(data)
        except _orjson.JSONDecodeError:
            pass  # the standard parser gives the precise message (or accepts huge integers)
    return json.loads(data, parse_constant=_reject_constant)


def json_dumps(obj: Any, *, sort_keys: bool = False) -> bytes:
    """Compact UTF-8 JSON (non-ASCII kept as is)."""
    if _orjson is not None:
        try:
            return _orjson.dumps(obj, option=_orjson.OPT_SORT_KEYS if sort_keys else 0)
        except TypeError:
            pass  # e.g. an integer beyond 64 bits
    return json.dumps(obj, ensure_ascii=False, sort_keys=sort_keys, separators=(",", ":")).encode("utf-8")


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
