"""``Sandbox``: the sandbox platform served by uvicorn in a subprocess on 127.0.0.1.

For notebooks, ``make demo`` and tests that need a real socket::

    with Sandbox("work/sandbox") as sb:            # a free port on 127.0.0.1
        appid, secret = sb.register("12110000400000000X", "北京示例互联网医院")
        sb.set_clock("2026-11-01 09:00:00")
        ... upload to sb.url (http://127.0.0.1:PORT/hlwjr) ...
        sb.set_clock(days=1)                        # next day

The listening socket is bound here and handed to the child (no race for the port); the child is
stopped by PID (SIGTERM, then SIGKILL).  Registration and rehearsal controls go through the admin
endpoints, protected by a random admin token the child receives in ``HLWJR_SANDBOX_ADMIN_TOKEN``.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import socket
import subprocess
import sys
import time
import weakref
from pathlib import Path
from typing import Any

from .._exceptions import ConfigError, TransportError
from ._settings import ADMIN_TOKEN_ENV, Faults, SandboxSettings, VerifyRule

__all__ = ["Sandbox", "serve_args"]

LOG_NAME = "sandbox-server.log"


def serve_args(settings: SandboxSettings, spec: Any = None) -> list[str]:
    """The ``hlwjr sandbox serve`` flags that reproduce ``settings`` (defaults omitted)."""
    d = SandboxSettings()
    args: list[str] = []
    flag_map = [
        ("token_ttl", "--token-ttl"),
        ("token_rate_per_minute", "--token-rate"),
        ("max_batch", "--max-batch"),
        ("max_body_bytes", "--max-body-bytes"),
        ("clock", "--clock"),
    ]
    for name, flag in flag_map:
        v = getattr(settings, name)
        if v != getattr(d, name) and v is not None:
            args += [flag, str(v)]
    if settings.whole_batch:
        args.append("--whole-batch")
    if settings.protocol != d.protocol:
        args += ["--protocol", settings.protocol]
    r, dr = settings.rule, VerifyRule()
    for name, flag in [
        ("min_daily_records", "--min-daily"),
        ("min_success_rate", "--min-success-rate"),
        ("consecutive_days", "--consecutive-days"),
    ]:
        if getattr(r, name) != getattr(dr, name):
            args += [flag, str(getattr(r, name))]
    if r.allow_duplicates:
        args.append("--allow-duplicates")
    if r.per_dataset:
        args.append("--per-dataset")
    if r.required_datasets:
        args += ["--required-datasets", ",".join(r.required_datasets)]
    f, df = settings.faults, Faults()
    for name, flag in [
        ("latency_ms", "--latency-ms"),
        ("error_rate", "--error-rate"),
        ("error_kind", "--error-kind"),
        ("error_next", "--error-next"),
        ("drop_rate", "--drop-rate"),
        ("drop_next", "--drop-next"),
        ("token_expire_after", "--token-expire-after"),
        ("seed", "--fault-seed"),
    ]:
        v = getattr(f, name)
        if v != getattr(df, name) and v is not None:
            args += [flag, str(v)]
    if spec is not None:
        spec_arg = getattr(spec, "path", None) or spec
        args += ["--spec", str(spec_arg)]
    return args


def _stop_process(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    if proc.poll() is not None:
        return
    try:
        proc.terminate()  # SIGTERM on POSIX, TerminateProcess on Windows
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)
    except ProcessLookupError:
        pass


class Sandbox:
    """The sandbox platform in a subprocess: ``.url``, ``.register()``, ``.set_clock()``, ``.stop()``.

    ``settings`` are keyword arguments of :class:`SandboxSettings`, :class:`VerifyRule` or
    :class:`Faults` (``whole_batch=True``, ``min_daily_records=10``, ``latency_ms=50``…);
    ``protocol="tianjin"`` also serves the 国密 gateway at :attr:`gateway_url` ``/openapi/api``;
    ``protocol="gateway-hmac"`` the same gateway in its earlier format (HmacSHA256, AES body, the
    account's encodingAesKey from :meth:`body_key`).
    """

    def __init__(
        self,
        data_dir: str | os.PathLike,
        port: int | None = None,
        *,
        host: str = "127.0.0.1",
        spec: Any = None,
        startup_timeout: float = 30.0,
        **settings: Any,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.host = host
        self.port = port
        self.spec = spec
        self.startup_timeout = startup_timeout
        admin = settings.pop("admin_token", None)
        self.settings = SandboxSettings.from_kwargs(**settings)
        self.admin_token = admin or os.environ.get(ADMIN_TOKEN_ENV) or secrets.token_urlsafe(24)
        self.process: subprocess.Popen | None = None
        self._finalizer = None

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        if self.port is None:
            raise ConfigError("沙箱尚未启动：先调用 start()（或用 with Sandbox(...) as sb:）")
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The platform URL to configure in a project (``http://127.0.0.1:PORT/hlwjr``)."""
        return self.base_url + "/hlwjr"

    @property
    def gateway_url(self) -> str:
        """The gateway's URL for a ``profile = "tianjin"`` (or ``"gateway-hmac"``) project, the
        sandbox started with that protocol: requests go to ``<gateway_url>/openapi/api``."""
        if self.settings.protocol == "token":
            raise ConfigError("沙箱未以网关协议启动：请用 Sandbox(..., protocol='tianjin') 或 protocol='gateway-hmac'")
        return self.base_url

    @staticmethod
    def body_key(secret: str) -> str:
        """The encodingAesKey of a sandbox account (``--protocol gateway-hmac``), from its secret."""
        from ._gateway import sandbox_body_key

        return sandbox_body_key(secret)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def log_path(self) -> Path:
        return self.data_dir / LOG_NAME

    def start(self) -> Sandbox:
        if self.process is not None and self.process.poll() is None:
            return self
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port or 0))
            sock.listen(128)
        except OSError as exc:
            sock.close()
            raise ConfigError(f"无法监听 {self.host}:{self.port}: {exc}（端口被占用？换一个端口或不指定端口）") from exc
        self.port = sock.getsockname()[1]
        fd = sock.fileno()
        cmd = [
            sys.executable,
            "-m",
            "hlwjr.cli",
            "sandbox",
            "serve",
            "--fd",
            str(fd),
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
            *serve_args(self.settings, self.spec),
        ]
        env = dict(os.environ)
        env[ADMIN_TOKEN_ENV] = self.admin_token
        env.setdefault("PYTHONUNBUFFERED", "1")
        log_fd = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(log_fd, "ab") as logf:
            try:
                self.process = subprocess.Popen(
                    cmd, pass_fds=(fd,), stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT, env=env
                )
            finally:
                sock.close()
        self._finalizer = weakref.finalize(self, _stop_process, self.process)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        import httpx

        deadline = time.monotonic() + self.startup_timeout
        while True:
            if self.process.poll() is not None:
                raise ConfigError(
                    f"沙箱进程启动失败（退出码 {self.process.returncode}）：\n{self._log_tail()}",
                    where=str(self.log_path),
                )
            try:
                r = httpx.get(self.base_url + "/hlwjr/sandbox/health", timeout=2.0)
                if r.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise ConfigError(
                    f"沙箱 {self.startup_timeout:.0f} 秒内未就绪：\n{self._log_tail()}", where=str(self.log_path)
                )
            time.sleep(0.05)

    def _log_tail(self, n: int = 20) -> str:
        try:
            lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-n:])

    def stop(self, timeout: float = 10.0) -> int | None:
        """Stop the server (SIGTERM by PID, SIGKILL after ``timeout``); returns its exit code."""
        if self.process is None:
            return None
        _stop_process(self.process, timeout)
        if self._finalizer is not None:
            self._finalizer.detach()
        return self.process.returncode

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.process and self.process.poll() is None else "stopped"
        return f"<Sandbox {self.url if self.port else self.data_dir} {state}>"

    # -- rehearsal controls -----------------------------------------------------------------
    def _control(self, method: str, path: str, payload: dict | None = None) -> Any:
        import httpx

        try:
            r = httpx.request(
                method, self.url + path, json=payload, timeout=30.0, headers={"X-Admin-Token": self.admin_token}
            )
        except httpx.HTTPError as exc:
            raise TransportError(f"无法连接沙箱 {self.url}: {exc}") from exc
        try:
            body = r.json()
        except ValueError:
            raise TransportError(f"沙箱返回了非JSON应答（HTTP {r.status_code}）", where=path) from None
        if r.status_code != 200 or body.get("code") != 0:
            raise ConfigError(f"沙箱拒绝了请求：{body.get('msg')}（code {body.get('code')}）", where=path)
        return body["data"]

    def register(self, org_code: str, org_name: str) -> tuple[str, str]:
        """Register a hospital (or issue it a new secret) → ``(appid, secret)``."""
        data = self._control("POST", "/sandbox/register", {"org_code": org_code, "org_name": org_name})
        return data["appid"], data["secret"]

    def set_clock(
        self, now: str | None = None, *, days: float = 0, hours: float = 0, seconds: float = 0, reset: bool = False
    ) -> dict:
        """Set the sandbox clock to ``now`` (Beijing time ``YYYY-MM-DD HH:MM:SS``) and/or advance it."""
        payload: dict = {"advance_days": days, "advance_hours": hours, "advance_seconds": seconds}
        if now is not None:
            payload["now"] = now
        if reset:
            payload["reset"] = True
        return self._control("POST", "/sandbox/clock", payload)

    def clock(self) -> dict:
        return self._control("GET", "/sandbox/clock")

    def set_faults(self, *, reset: bool = False, **faults: Any) -> dict:
        """Change fault injection (``latency_ms``, ``error_rate``, ``error_kind``, ``error_next``,
        ``drop_rate``, ``drop_next``, ``token_expire_after``, ``seed``); ``reset=True`` clears first."""
        names = {f.name for f in dataclasses.fields(Faults)}
        unknown = set(faults) - names
        if unknown:
            raise ConfigError(f"未知的故障注入项: {', '.join(sorted(unknown))}；可用: {', '.join(sorted(names))}")
        return self._control("POST", "/sandbox/faults", {**faults, **({"reset": True} if reset else {})})

    def expire_tokens(self) -> int:
        """Make every issued token expire now."""
        return self._control("POST", "/sandbox/tokens/expire", {})["expired"]

    def disable(self, appid: str) -> None:
        self._control("POST", f"/sandbox/orgs/{appid}/disable", {})

    def enable(self, appid: str) -> None:
        self._control("POST", f"/sandbox/orgs/{appid}/enable", {})
