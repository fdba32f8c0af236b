"""Fault injection runtime (故障注入): latency, 5xx / 系统繁忙 answers, and dropped connections.

"Commit, then drop the connection before answering" is done for real: a raw ASGI middleware
swallows the response the handler produced (after the upload was committed) and closes the
server's TCP transport, so the client sees ``httpx.RemoteProtocolError`` ("Server disconnected
without sending a response") — exactly what makes a naive client upload duplicates.  In-process
(``httpx.ASGITransport`` / Starlette ``TestClient``) there is no socket; there the middleware
raises the same ``httpx.RemoteProtocolError`` into the client.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

from ._settings import Faults

__all__ = ["DROP_MARK", "DropConnectionMiddleware", "FaultInjector"]

#: Scope key of the per-request marker a handler sets to ask for a dropped connection.
DROP_MARK = "hlwjr.sandbox.drop"


class FaultInjector:
    """Decides, per request, whether to delay, fail or drop, from the current :class:`Faults`."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.rng = random.Random(faults.seed)
        self.injected = {"errors": 0, "drops": 0}

    def reseed(self) -> None:
        self.rng = random.Random(self.faults.seed)

    async def delay(self) -> None:
        if self.faults.latency_ms:
            await asyncio.sleep(self.faults.latency_ms / 1000)

    def _fire(self, next_attr: str, rate: float, counter: str) -> bool:
        """Whether an injected fault fires now: first the ``*_next`` countdown, then the rate."""
        f = self.faults
        if getattr(f, next_attr) > 0:
            setattr(f, next_attr, getattr(f, next_attr) - 1)
        elif not (rate and self.rng.random() < rate):
            return False
        self.injected[counter] += 1
        return True

    def error_now(self) -> str | None:
        """The error kind to answer with now, or None (counts down ``error_next``)."""
        return self.faults.error_kind if self._fire("error_next", self.faults.error_rate, "errors") else None

    def drop_now(self) -> bool:
        return self._fire("drop_next", self.faults.drop_rate, "drops")

    def token_lifetime(self, ttl: float) -> float:
        early = self.faults.token_expire_after
        return min(ttl, early) if early is not None else ttl


def _server_transport(send: Any):
    """The asyncio transport behind uvicorn's ``send`` (its RequestResponseCycle), if any."""
    cycle = getattr(send, "__self__", None)
    return cycle, getattr(cycle, "transport", None)


class DropConnectionMiddleware:
    """Raw ASGI middleware: when a handler marked the request, answer nothing and close the socket.

    It must be the outermost layer (it needs the server's own ``send``), so the sandbox app calls it
    from its ``__call__`` rather than through Starlette's middleware stack.
    """

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        mark: dict = {}
        scope[DROP_MARK] = mark

        async def guarded_send(message) -> None:
            if mark.get("drop"):
                return  # the committed answer is never sent
            await send(message)

        await self.app(scope, receive, guarded_send)
        if not mark.get("drop"):
            return
        cycle, transport = _server_transport(send)
        if transport is None:
            import httpx  # in-process: no socket to close; give the client the same error

            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response (沙箱故障注入：已提交后断开连接)"
            )
        transport.close()
        # Let uvicorn notice the lost connection, so it neither logs nor sends a 500 for us.
        for _ in range(200):
            if getattr(cycle, "disconnected", True):
                break
            await asyncio.sleep(0.005)
