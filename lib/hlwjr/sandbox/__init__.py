"""The sandbox platform (沙箱平台): a local server that behaves like the Beijing supervision
platform's 互联网医院接入平台, for rehearsing the whole onboarding — register (appid + secret),
get a token, upload, see rejections, watch the 验证日志 fill up, and see the "may apply" verdict.

* :func:`create_app` — the platform as an ASGI app (in-process tests: ``httpx.ASGITransport``);
* :class:`Sandbox` — the same app served by uvicorn in a subprocess on 127.0.0.1 (notebooks, demo);
* :class:`SyncASGITransport` — a synchronous ``httpx`` transport into the in-process app;
* :class:`SandboxSettings` — limits, token lifetime, 验证日志 rule (:class:`VerifyRule`), faults
  (:class:`Faults`).

Command line: ``hlwjr sandbox serve`` and ``hlwjr sandbox register``.
"""

from __future__ import annotations

import importlib

__all__ = ["Faults", "Sandbox", "SandboxService", "SandboxSettings", "SyncASGITransport", "VerifyRule", "create_app"]

_LAZY = {
    "create_app": "._app",
    "SandboxService": "._service",
    "Sandbox": "._server",
    "SandboxSettings": "._settings",
    "VerifyRule": "._settings",
    "Faults": "._settings",
    "SyncASGITransport": "._transport",
}


def __getattr__(name: str):
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'hlwjr.sandbox' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
