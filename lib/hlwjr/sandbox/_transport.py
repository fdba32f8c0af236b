"""A synchronous httpx transport that drives an ASGI app in-process (no socket).

``httpx.ASGITransport`` is async-only and Starlette's ``TestClient`` now warns about httpx; this
transport wraps ``httpx.ASGITransport`` and runs it on a private event loop thread (an anyio
blocking portal), so an ordinary ``httpx.Client`` — and any code built on one, such as the upload
client — can talk to the sandbox in-process::

    client = httpx.Client(transport=SyncASGITransport(create_app(dir)), base_url="http://sandbox.test")

Exceptions the app raises reach the caller unchanged (``raise_app_exceptions=True``), so the
injected "drop after commit" fault arrives as ``httpx.RemoteProtocolError``, as on a real socket.
"""

from __future__ import annotations

import threading

import httpx

__all__ = ["SyncASGITransport"]


class SyncASGITransport(httpx.BaseTransport):
    """``httpx.BaseTransport`` over an ASGI app, for synchronous clients and tests."""

    def __init__(self, app, *, raise_app_exceptions: bool = True, client: tuple[str, int] = ("127.0.0.1", 50000)):
        self._inner = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions, client=client)
        self._lock = threading.Lock()
        self._portal_cm = None
        self._portal = None

    def _portal_(self):
        with self._lock:
            if self._portal is None:
                from anyio.from_thread import start_blocking_portal

                self._portal_cm = start_blocking_portal()
                self._portal = self._portal_cm.__enter__()
                # An unclosed client must not hang interpreter exit on the portal's thread.
                register = getattr(threading, "_register_atexit", None)
                if register is not None:
                    register(self.close)
            return self._portal

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        inner_request = httpx.Request(
            request.method, request.url, headers=request.headers, content=body, extensions=request.extensions
        )

        async def roundtrip():
            response = await self._inner.handle_async_request(inner_request)
            try:
                content = await response.aread()
            finally:
                await response.aclose()
            return response.status_code, response.headers.raw, content

        status, headers, content = self._portal_().call(roundtrip)
        return httpx.Response(status, headers=headers, content=content, request=request)

    def close(self) -> None:
        with self._lock:
            if self._portal_cm is not None:
                self._portal_cm.__exit__(None, None, None)
                self._portal_cm = self._portal = None
