"""Platform client (平台接口客户端): talks to the supervision platform, driven by a platform
profile (平台接口描述, a small YAML file in ``hlwjr/platforms/``).

The profile says where the token comes from (URL, the appid/secret field names, where the token
and its lifetime sit in the answer), how the token is sent, the upload URL and body envelope,
the batch limit and how to read success, per-record results and error codes. Sandbox → real
platform is a change of profile and URL, nothing else.

This module is the **one place** where ``httpx`` exceptions are translated into
:class:`~hlwjr.TransportError` / :class:`~hlwjr.AuthError` / :class:`~hlwjr.PlatformRejected`,
and where every answer is classified once:

* transient (connect errors, timeouts, HTTP 5xx/429, 系统繁忙, a gateway's error page) → retried
  with exponential backoff and jitter, at least as long as the answer's ``Retry-After`` (seconds or
  HTTP-date, obeyed up to ``retry_after_max``), bounded by ``max_retries``;
* unknown outcome (a read timeout, a dropped connection, a 2xx answer that is no JSON object) →
  replayed under the same batchNo where the profile says replays are safe, else never re-sent;
* auth (token expired) → renewed once by :class:`TokenAuth`; refused appid/secret → ``AuthError``;
* data rejection → never retried; returned per record with the platform's reasons.
"""

from __future__ import annotations

import json
import random
import re
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import httpx

from .._exceptions import AuthError, ConfigError, PlatformRejected, TransportError
from ._answers import (
    answer_defect,
    answer_snippet,
    busy_hint,
    busy_message,
    ledger_advice,
    read_json,
    retry_after,
    shown_url,
    signing_difference,
    upstream_may_have_it,
    without_password,
)
from ._profile import _METHOD_NAME, PlatformProfile, _get, code_key
from ._project import check_platform_url
from ._results import ACCEPTED, REJECTED, BatchResult, RecordResult, business_errors, culprit, refused_with
from .profiles import CODECS, SIGNING, body_codec

__all__ = ["PlatformClient", "TokenAuth"]


class _Transient(Exception):
    """Internal: an answer worth retrying (5xx, busy, dropped connection)."""

    def __init__(self, message: str, *, ambiguous: bool = False, retry_after: float | None = None, hint: str = ""):
        super().__init__(message)
        self.message = message
        self.ambiguous = ambiguous
        self.retry_after = retry_after
        self.hint = hint  # what to do, when the message alone does not say it


# --------------------------------------------------------------------------- auth


class TokenAuth(httpx.Auth):
    """Token auth (令牌): gets a token from appid + secret, caches it, renews it before it expires
    and once more when the platform answers "token expired" (令牌过期, e.g. HTTP 401 / 1101)."""

    requires_response_body = True

    def __init__(
        self,
        profile: PlatformProfile,
        appid: str,
        secret: str,
        *,
        base_url: str = "",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.profile = profile
        self.base_url = base_url.rstrip("/")
        self.appid = appid
        self._secret = secret
        self._clock = clock
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.RLock()
        self.renewals = 0
        t = profile.token or {}
        self._renew_before = float(t.get("renew_before", 300))

    def __repr__(self) -> str:
        return f"TokenAuth(appid={self.appid!r}, token={'***' if self._token else None})"

    def invalidate(self) -> None:
        with self._lock:
            self._token = None
            self._expires_at = 0.0

    def _needs_token(self) -> bool:
        return self._token is None or self._clock() >= self._expires_at - self._renew_before

    def _token_request(self, request: httpx.Request) -> httpx.Request:
        t = self.profile.token or {}
        now_ms = str(int(time.time() * 1000))
        fill = {"{appid}": self.appid, "{secret}": self._secret, "{timestamp}": now_ms, "{timestamp_s}": now_ms[:-3]}
        body = {}
        for k, v in (t.get("body") or {"appid": "{appid}", "secret": "{secret}"}).items():
            body[k] = re.sub(r"\{(?:appid|secret|timestamp|timestamp_s)\}", lambda m: fill[m.group(0)], str(v))
        path = t.get("path", "/token")
        if self.base_url:
            url = httpx.URL(self.base_url + "/" + path.lstrip("/"))
        else:
            url = request.url.copy_with(path="/" + path.lstrip("/"), query=None, fragment=None)
        encoding = t.get("encoding", "json")
        if encoding == "form":
            return httpx.Request(t.get("method", "POST"), url, data=body)
        if encoding == "query":
            return httpx.Request(t.get("method", "GET"), url.copy_merge_params(body))
        return httpx.Request(t.get("method", "POST"), url, json=body)

    def _store(self, response: httpx.Response) -> None:
        t = self.profile.token or {}
        data = read_json(response)
        code = _get(data, self.profile.response.get("code_field", "code"))
        msg = _get(data, self.profile.response.get("message_field", "msg")) or ""
        status = response.status_code
        if status >= 500 or status == 429 or self.profile.has_code("busy", code):
            raise _Transient(
                busy_message("获取令牌时", response, data, code, msg),
                retry_after=_retry_after(response),
                hint=busy_hint(response, data),
            )
        if status == 404:
            raise ConfigError(
                f"平台地址不正确：令牌地址 {shown_url(response.request.url)} 返回 HTTP 404；请核对 [platform] url "
                f"（沙箱形如 http://127.0.0.1:8081/hlwjr）和平台接口描述 (profile)",
                where=shown_url(response.request.url),
            )
        token = _get(data, t.get("token_field", "data.access_token"))
        if status < 400 and code is None and not token:
            raise AuthError(self._not_token_answer(response), where=shown_url(response.request.url))
        if status >= 400 or not self.profile.is_success(code) or not token:
            detail = f"{code} {msg}".strip() if isinstance(data, dict) else answer_snippet(response)
            raise AuthError(
                f"平台拒绝了 appid {self.appid} 的令牌请求（{detail}）：请核对 appid 与密钥 (secret)"
                f"是否为平台发放的、账号是否已停用，以及平台地址是否正确",
                where=shown_url(response.request.url),
            )
        expires = _get(data, t.get("expires_field", "data.expires_in"))
        try:
            life = float(expires) if expires is not None else float(t.get("default_expires_in", 7200))
        except (TypeError, ValueError):
            life = float(t.get("default_expires_in", 7200))
        self._token = str(token)
        self._expires_at = self._clock() + life
        self.renewals += 1

    def _not_token_answer(self, response: httpx.Response) -> str:
        """An answer with neither code nor token (empty, a proxy's page, other JSON) is no refusal of
        the appid: the URL or the proxy reaches something else than the platform's token interface."""
        return (
            f"令牌地址的应答不是平台令牌接口的应答（{answer_snippet(response)}）：可能是代理或网关的页面，"
            "或平台地址不对；请核对 [platform] url 与 proxy（运行 `hlwjr platform check` 检查），"
            "appid 与密钥并未被拒绝。取不到令牌时不发送数据，修正后重新运行即可"
        )

    def _is_expired_answer(self, response: httpx.Response) -> bool:
        """The platform says the token is invalid or expired: one of the profile's ``token_expired``
        codes, or HTTP 401 unless its code is a refusal a new token cannot cure (账号停用, 格式错误)."""
        if response.status_code != 401 and not self.profile.codes("token_expired"):
            return False
        code = _get(read_json(response), self.profile.response.get("code_field", "code"))
        if self.profile.has_code("token_expired", code):
            return True
        return response.status_code == 401 and not self.profile.has_code("auth", code)

    def _apply(self, request: httpx.Request) -> None:
        a = self.profile.auth
        if a.get("param"):  # the token as a query parameter (?access_token=…), not a header
            request.url = request.url.copy_set_param(a["param"], self._token or "")
            return
        request.headers[a.get("header", "Authorization")] = a.get("format", "Bearer {token}").replace(
            "{token}", self._token or ""
        )

    def auth_flow(self, request: httpx.Request):
        with self._lock:
            if self._needs_token():
                token_response = yield self._token_request(request)
                self._store(token_response)
            used = self._token
            self._apply(request)
        response = yield request
        if self._is_expired_answer(response):
            with self._lock:
                if self._token == used:  # nobody renewed it meanwhile
                    token_response = yield self._token_request(request)
                    self._store(token_response)
                self._apply(request)
            response = yield request
            if self._is_expired_answer(response):
                data = read_json(response)
                msg = _get(data, self.profile.response.get("message_field", "msg")) or answer_snippet(response)
                raise AuthError(
                    f"令牌刚刚更新，平台仍然拒绝（{msg}）：请检查服务器时间、账号状态，或联系平台",
                    where=shown_url(request.url),
                )


def _make_auth(profile: PlatformProfile, appid: str, secret: str, url: str) -> httpx.Auth:
    """The request signing the profile's ``auth.mode`` names."""
    signing = SIGNING.get(profile.auth.get("mode", "token"))
    return signing(profile, appid, secret) if signing else TokenAuth(profile, appid, secret, base_url=url)


def _seconds(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _retry_after(response: httpx.Response) -> float | None:
    return retry_after(response, time.time())


# --------------------------------------------------------------------------- client


class PlatformClient:
    """HTTP client for one platform account (平台账号): token or gateway-signature auth, proxy, CA bundle,
    timeouts, bounded retries, and the classification of every answer."""

    def __init__(
        self,
        profile: PlatformProfile | str,
        url: str,
        appid: str,
        secret: str,
        *,
        proxy: str | None = None,
        verify: bool | str | Path = True,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        max_retries: int = 5,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        retry_after_max: float = 120.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
        dataset_aliases: dict[str, Iterable[str]] | None = None,
        body_key: str | None = None,
    ) -> None:
        self.profile = profile if isinstance(profile, PlatformProfile) else PlatformProfile.load(profile)
        check_platform_url(url)
        if not appid:
            raise ConfigError("没有 appid：请在 [platform] appid 中填写平台发放的 appid", where="[platform] appid")
        self.url = url.rstrip("/")
        self.appid = appid
        self.max_retries = max_retries
        self.read_timeout = read_timeout
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.retry_after_max = retry_after_max
        self._sleep = sleep
        self._rng = rng
        self.proxy = proxy
        self.dataset_aliases = {k: tuple(v) for k, v in (dataset_aliases or {}).items()}
        self.auth: httpx.Auth = _make_auth(self.profile, appid, secret, self.url)
        self.codec = body_codec(self.profile.codec_name, secret, where="[platform] secret", body_key=body_key)
        if isinstance(verify, (str, Path)):
            try:
                verify = ssl.create_default_context(cafile=str(verify))
            except (OSError, ssl.SSLError) as exc:
                raise ConfigError(f"CA 证书文件无法使用: {exc}", where=str(verify)) from exc
        timeout = httpx.Timeout(read_timeout, connect=connect_timeout)
        limits = httpx.Limits(max_keepalive_connections=16, max_connections=32)
        try:
            self._http = httpx.Client(
                base_url=self.url,
                auth=self.auth,
                timeout=timeout,
                proxy=proxy if transport is None else None,
                verify=verify,
                transport=transport,
                limits=limits,
                headers={"User-Agent": "hlwjr"},
            )
        except ValueError as exc:  # e.g. a proxy without its scheme: "10.1.1.1:8080"
            raise ConfigError(
                f"代理地址 {without_password(proxy)!r} 无法使用：应形如 http://10.1.1.1:8080", where="[platform] proxy"
            ) from exc
        self.stats = {"requests": 0, "retries": 0}
        self.observer: Any = None  # told of every retry and give-up (the run log): .retry(...), .give_up(...)

    @classmethod
    def from_project(
        cls,
        project,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        spec=None,
    ) -> PlatformClient:
        """The client for a :class:`~hlwjr.Project` (profile, URL, appid, secret, proxy, CA, timeouts)."""
        s = project.platform
        profile = s.profile
        if profile.endswith((".yaml", ".yml")):
            profile = str(project.resolve(profile))
        profile = PlatformProfile.load(profile)
        aliases = {}
        if spec is not None:
            aliases = {code: tuple(getattr(ds, "aliases", ()) or ()) for code, ds in spec.datasets.items()}
        return cls(
            profile,
            s.url,
            s.appid,
            project.secret(),
            proxy=s.proxy,
            verify=s.ca_bundle if s.ca_bundle is not None else s.verify,
            connect_timeout=s.connect_timeout,
            read_timeout=s.read_timeout,
            max_retries=s.max_retries,
            backoff_base=s.backoff_base,
            backoff_max=s.backoff_max,
            retry_after_max=s.retry_after_max,
            transport=transport,
            sleep=sleep,
            dataset_aliases=aliases,
            body_key=project.body_key(required=True) if CODECS[profile.codec_name].needs_body_key else None,
        )

    def __repr__(self) -> str:
        return f"PlatformClient(profile={self.profile.id!r}, url={self.url!r}, appid={self.appid!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PlatformClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---------------------------------------------------------------- the one translation point

    def _send_once(self, method: str, path: str, **kw) -> httpx.Response:
        self.stats["requests"] += 1
        try:
            return self._http.request(method, path, **kw)
        except _Transient:
            raise
        except httpx.ProxyError as exc:
            raise TransportError(
                f"无法通过代理 {without_password(self.proxy)} 连接平台: {exc}；请检查 [platform] proxy 设置和代理"
                "是否可用",
                where=self.url,
            ) from exc
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            if self.proxy:  # every connection goes to the proxy first
                raise _Transient(
                    f"无法连接代理 {without_password(self.proxy)}（{exc.__class__.__name__}: {exc}）：请检查 "
                    "[platform] proxy "
                    f"设置和代理服务是否可用"
                ) from exc
            raise _Transient(f"无法连接平台 {self.url}（{exc.__class__.__name__}: {exc}）") from exc
        except httpx.ReadTimeout as exc:  # the request went out: the platform may have stored it
            raise _Transient(
                f"等待平台应答超过 {self.read_timeout:g} 秒（[platform] read_timeout）仍未收到应答", ambiguous=True
            ) from exc
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            raise _Transient(f"平台连接中断，未收到应答（{exc.__class__.__name__}）", ambiguous=True) from exc
        except (httpx.WriteError, httpx.WriteTimeout, httpx.NetworkError) as exc:
            raise _Transient(f"发送到平台时网络错误（{exc.__class__.__name__}: {exc}）") from exc
        except httpx.UnsupportedProtocol as exc:
            raise ConfigError(f"平台地址不正确: {exc}", where="[platform] url") from exc
        except httpx.HTTPError as exc:
            raise TransportError(f"与平台通信失败: {exc.__class__.__name__}: {exc}", where=self.url) from exc

    def _classify(self, response: httpx.Response) -> tuple[str, Any, Any, str]:
        """(kind, data, code, message) with kind in ok | transient | unknown | auth | rejected | notfound;
        ``unknown``: a 2xx answer that cannot be read (the platform may have stored the request)."""
        r = self.profile.response
        data = read_json(response)
        code = _get(data, r.get("code_field", "code"))
        msg = _get(data, r.get("message_field", "msg"))
        defect = answer_defect(response, data)
        msg = defect if defect else str(msg) if msg is not None else ""
        status = response.status_code
        if status >= 500 or status == 429 or self.profile.has_code("busy", code):
            return "transient", data, code, busy_message("", response, data, code, msg)
        if self.profile.has_code("auth", code) or status in (401, 403):
            return "auth", data, code, msg
        if status == 404:
            return "notfound", data, code, msg
        if defect:
            return ("unknown" if status < 300 else "rejected"), data, code, defect
        if self.profile.is_success(code) or self.profile.has_code("whole_batch", code):
            return "ok", data, code, msg
        return "rejected", data, code, msg

    def _refusal(self, kind: str, response: httpx.Response, data: Any, code: Any, msg: str) -> Exception:
        """The error an answer that is neither ok nor transient raises."""
        where = shown_url(response.request.url)
        page = code is None and answer_defect(response, data) is not None
        if kind == "auth" and page:
            return AuthError(
                f"请求被拒绝（{msg}）：可能是平台前面的网关或防火墙拦截了本机，也可能是身份不对；请核对 "
                "[platform] url、proxy 和 appid（运行 `hlwjr platform check` 检查）",
                where=where,
            )
        if kind == "auth":
            keyed = self.profile.auth.get("mode") == "hmac-gateway"
            fix = (
                signing_difference(response, keyed=keyed)
                or self.profile.code_message(code)
                or "请核对 appid、密钥和账号状态"
            )
            return AuthError(f"平台拒绝了请求的身份（{code} {msg}）：{fix}", where=where)
        if kind == "notfound":
            return ConfigError(
                f"平台地址不正确：{where} 返回 HTTP 404；请核对 [platform] url 和平台接口描述 (profile)",
                where=where,
            )
        if page:
            text = f"应答不是平台接口的应答（{msg}）：可能是代理、防火墙或网关的页面；请检查 [platform] url 与 proxy"
        else:
            text = f"平台拒收（{code}）: {msg}"
        err = PlatformRejected(text, code=code, where=where)
        err.response = data  # type: ignore[attr-defined]
        err.status = response.status_code  # type: ignore[attr-defined]  # 413: body too large
        return err

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        delay = min(self.backoff_max, self.backoff_base * (2**attempt))
        delay = delay * (0.5 + 0.5 * self._rng())  # jitter
        if retry_after is not None:  # the platform said how long: at least that, at most retry_after_max
            delay = max(delay, min(retry_after, self.retry_after_max))
        return delay

    def _retry_or_raise(self, attempt: int, failure: _Transient, path: str, advice: str) -> None:
        """Wait and return when another attempt is allowed (the backoff, at least the answer's
        ``Retry-After``); raise ``TransportError`` when the retries ran out or the platform asks
        for a longer wait than ``retry_after_max``."""
        too_long = failure.retry_after is not None and failure.retry_after > self.retry_after_max
        if attempt < self.max_retries and not too_long:
            delay = self._backoff(attempt, failure.retry_after)
            self.stats["retries"] += 1
            self._observe("retry", attempt=attempt + 1, wait=delay, reason=failure.message, path=path)
            self._sleep(delay)
            return
        self._observe("give_up", attempts=attempt + 1, reason=failure.message, path=path)
        tries = self._tries_text(attempt, failure.retry_after, too_long)
        err = TransportError(f"{failure.message}；{tries}。{advice}", where=self.url)
        err.ambiguous = failure.ambiguous  # type: ignore[attr-defined]
        raise err from failure

    def _tries_text(self, attempt: int, retry_after: float | None, too_long: bool) -> str:
        done = f"已重试 {attempt} 次" if attempt else "请求 1 次"
        if too_long:
            return (
                f"{done}，平台要求 {_seconds(retry_after or 0)} 秒后再试（Retry-After），超过最长等待 "
                f"{_seconds(self.retry_after_max)} 秒（[platform] retry_after_max），未再重试"
            )
        text = f"{done}仍失败" if attempt else "请求 1 次未成功（未重试）"
        if retry_after is not None and attempt:
            text += f"（已按平台的 Retry-After 等待后重试，最近一次要求 {_seconds(retry_after)} 秒）"
        return text

    def _observe(self, what: str, **fields) -> None:
        method = getattr(self.observer, what, None)
        if method is not None:
            method(**fields)

    def request(
        self, method: str, path: str, *, idempotent: bool = True, batch: str | None = None, **kw
    ) -> tuple[Any, httpx.Response, int]:
        """Send with retries; returns (JSON data, response, attempts) of an ``ok`` answer.

        Raises ``TransportError`` (``.ambiguous`` True when the platform may have stored a
        non-idempotent request), ``AuthError`` or ``PlatformRejected`` (``.code``, ``.response``).
        ``batch``: the batch number the request carries (for the message saying what becomes of it).
        """
        attempt = 0
        while True:
            try:
                response = self._send_once(method, path, **kw)
            except _Transient as t:
                last = t
            else:
                kind, data, code, msg = self._classify(response)
                if kind == "unknown" and batch is None:
                    kind = "rejected"  # no batch whose fate is unknown: a page where the JSON should be
                if kind == "ok":
                    return data, response, attempt + 1
                if kind not in ("transient", "unknown"):
                    raise self._refusal(kind, response, data, code, msg)
                fix = self.profile.code_message(code) if kind == "transient" else None
                if kind == "unknown":
                    msg = f"平台应答无法读取（{msg}）"
                last = _Transient(
                    msg + (f"；{fix}" if fix else ""),
                    ambiguous=kind == "unknown" or (batch is not None and upstream_may_have_it(response, code)),
                    retry_after=_retry_after(response),
                    hint=busy_hint(response, data, busy=kind == "transient"),
                )
            if last.ambiguous and batch is not None:
                last.message += f"，批次 {batch} 平台是否已收到未知"
            advice = last.hint + ledger_advice(batch, replay_safe=self.profile.replay_safe)
            if last.ambiguous and not idempotent:
                err = TransportError(f"{last.message}；为免重复未自动重发。{advice}", where=self.url)
                err.ambiguous = True  # type: ignore[attr-defined]
                raise err from last.__cause__ or last
            self._retry_or_raise(attempt, last, path, advice)
            attempt += 1

    # ---------------------------------------------------------------- platform operations

    def check_auth(self) -> None:
        """Get a fresh token now (token auth), so that a wrong appid, secret or URL fails with one
        clear message before any upload; transient failures are retried like any request."""
        if not isinstance(self.auth, TokenAuth):
            return  # gateway signature: nothing to ask without sending data
        auth = self.auth
        attempt = 0
        while True:
            try:
                request = auth._token_request(httpx.Request("GET", self.url))
                response = self._send_once(
                    request.method,
                    str(request.url),
                    content=request.content,
                    headers={"Content-Type": request.headers.get("Content-Type", "application/json")},
                    auth=None,
                )
                with auth._lock:
                    auth._store(response)
                return
            except _Transient as t:
                self._retry_or_raise(attempt, t, "token", t.hint + "没有发送任何数据，也没有写入上传记录")
                attempt += 1

    def probe(self) -> httpx.Response:
        """One unauthenticated GET of the platform URL through the configured proxy and CA, no
        retries, httpx's exceptions as raised (``hlwjr platform check`` explains each)."""
        self.stats["requests"] += 1
        return self._http.get(self.url, auth=None)

    def service_method(self, dataset: str) -> str:
        """The gateway's method name for a data set (``X-Service-Method``): the data set's alias in
        the spec that is a method name (``uploadRecipeIndicators``, ``pushMedicalDispute``), else
        ``upload.method_template`` with the code in CamelCase (inferred)."""
        for alias in self.dataset_aliases.get(dataset, ()):
            if _METHOD_NAME.fullmatch(alias) and not alias.endswith("Req"):
                return alias
        tmpl = self.profile.upload.get("method_template", "{dataset}")
        camel = "".join(p[:1].upper() + p[1:] for p in dataset.split("_"))
        return tmpl.replace("{Dataset}", camel).replace("{dataset}", dataset)

    def encode_batch(self, batch_no: str, record_json: list[str]) -> bytes:
        """The exact body of a batch, from records already serialised to JSON, after the profile's
        body codec (kept in the ledger so that a replay sends byte-identical content)."""
        inner = "[" + ",".join(record_json) + "]"
        if not self.profile.envelope:
            return self.codec.encode(inner.encode("utf-8"))
        up = self.profile.upload
        return self.codec.encode(
            (
                "{"
                + json.dumps(up.get("batch_field", "batchNo"))
                + ":"
                + json.dumps(batch_no)
                + ","
                + json.dumps(up.get("records_field", "records"))
                + ":"
                + inner
                + "}"
            ).encode("utf-8")
        )

    def send_batch(self, dataset: str, batch_no: str, body: bytes, n: int, *, ledger: bool = True) -> BatchResult:
        """POST one batch (``body`` from :meth:`encode_batch`) and read the per-record answer.

        Transient failures are retried with the same batchNo when the profile says replays are
        safe; otherwise an ambiguous failure raises ``TransportError`` with ``ambiguous=True``.
        A request-level refusal raises ``PlatformRejected``; record-level rejections come back
        in the result. ``ledger=False``: a call no ledger records (``platform check``'s sign-in),
        whose messages do not speak of one.
        """
        up = self.profile.upload
        path = up["path"].replace("{dataset}", dataset)
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if self.profile.names_the_service:
            a = self.profile.auth
            headers[a.get("service_id_header", "X-Service-Id")] = a.get("service_id", "")
            headers[a.get("method_header", "X-Service-Method")] = self.service_method(dataset)
        data, _response, attempts = self.request(
            "POST",
            path,
            content=body,
            headers=headers,
            idempotent=self.profile.replay_safe,
            batch=batch_no if ledger else None,
        )
        result = self.parse_results(dataset, batch_no, n, data)
        result.attempts = attempts
        return result

    def parse_results(self, dataset: str, batch_no: str, n: int, data: Any) -> BatchResult:
        r = self.profile.response
        code = _get(data, r.get("code_field", "code"))
        msg = str(_get(data, r.get("message_field", "msg")) or "")
        whole = self.profile.has_code("whole_batch", code)
        bcode_field = r.get("business_code_field")
        if bcode_field:  # gateway: outer code, inner business msgCode, whole batch
            return self._business_result(dataset, batch_no, n, data, code, msg, whole)
        items = _get(data, r.get("results_field", "data.results"))
        smap = self.profile.status_map
        results: list[RecordResult] = []
        f_index, f_status = r.get("result_index", "index"), r.get("result_status", "status")
        f_errors = r.get("result_errors", "errors")
        if not whole and isinstance(items, list) and len(items) == n and n:
            # fast path, the usual answer: every record accepted, in order, without remarks
            ok = [raw for raw, st in smap.items() if st == ACCEPTED]
            try:
                if all(code_key(it[f_status]) in ok and not it.get(f_errors) for it in items) and [
                    it.get(f_index) for it in items
                ] == list(range(n)):
                    results = [RecordResult(i, ACCEPTED, []) for i in range(n)]
                    received = _get(data, r.get("received_at_field"))
                    return BatchResult(
                        dataset,
                        batch_no,
                        n,
                        code,
                        msg,
                        results,
                        data,
                        False,
                        received_at=str(received) if received else None,
                    )
            except (TypeError, KeyError, AttributeError):
                pass  # an unusual answer: the careful path below explains what is wrong
        if isinstance(items, list) and items:
            seen = set()
            for pos, item in enumerate(items):
                if not isinstance(item, dict):
                    raise PlatformRejected(
                        f"平台应答中第 {pos} 条结果不是 JSON 对象；请检查平台接口描述 response.results_field", code=code
                    )
                try:
                    idx = int(item.get(f_index, pos))
                except (TypeError, ValueError):
                    raise PlatformRejected(
                        f"平台应答中第 {pos} 条结果的序号 {item.get(f_index)!r} 不是整数；请检查平台接口描述 "
                        "response.result_index",
                        code=code,
                    ) from None
                raw_status = item.get(f_status)
                status = smap.get(code_key(raw_status), REJECTED if whole else None)
                if status is None:
                    raise PlatformRejected(
                        f"平台应答中第 {pos} 条的状态 {raw_status!r} 无法识别；请检查平台接口描述 response.status_map",
                        code=code,
                    )
                errs = item.get(f_errors) or []
                if whole and status != REJECTED:
                    status = REJECTED
                    errs = [{"rule": "whole_batch", "msg": f"整批拒收（{code} {msg}）：本条无错，随同批次被拒"}]
                results.append(RecordResult(idx, status, errs, item.get("key")))
                seen.add(idx)
            if seen == set(range(1, n + 1)) and n:  # numbered from 1 (第 1 条): unambiguous, 0 is absent
                for res in results:
                    res.index -= 1
                seen = set(range(n))
            if seen != set(range(n)):
                raise PlatformRejected(
                    f"平台应答的结果条数与批次不符（批次 {batch_no} 发送 {n} 条，应答 {len(items)} 条）", code=code
                )
        else:
            status = REJECTED if whole else ACCEPTED
            errs = [{"rule": "whole_batch", "msg": f"{code} {msg}"}] if whole else []
            results = [RecordResult(i, status, list(errs)) for i in range(n)]
        results.sort(key=lambda x: x.index)
        received = _get(data, r.get("received_at_field"))
        return BatchResult(
            dataset, batch_no, n, code, msg, results, data, whole, received_at=str(received) if received else None
        )

    def _business_result(
        self, dataset: str, batch_no: str, n: int, data: Any, code: Any, msg: str, whole: bool
    ) -> BatchResult:
        """The answer of a gateway with an outer ``code`` and an inner business ``msgCode``: all
        records accepted, or all rejected with the platform's reasons (fields for -99)."""
        r = self.profile.response
        if whole:  # the gateway refused the request's content (40001 参数错误)
            fix = self.profile.code_message(code)
            errors = [{"rule": f"platform:{code}", "msg": f"{msg}（{fix}）" if fix else msg or f"平台错误 {code}"}]
            return BatchResult(
                dataset, batch_no, n, code, msg, [RecordResult(i, REJECTED, list(errors)) for i in range(n)], data, True
            )
        answers = _business_answers(data, r["business_code_field"], r.get("business_message_field", "body.msg"))
        if answers is not None and len(answers) == n and n > 1:  # one {msgCode, msg} per record
            return self._per_record_business(dataset, batch_no, n, data, answers)
        bcode, bmsg = _first_failure(answers, self.profile) if answers else (None, "")
        if bcode is None:
            raise PlatformRejected(
                f"平台应答不是约定的格式（缺少 {r['business_code_field']}）："
                f"{json.dumps(data, ensure_ascii=False)[:200]}"
                "；本批未记为已接收，请核对平台地址和平台接口描述 (profile)",
                code=code,
            )
        ok = self.profile.is_success(bcode, "business_success_codes", (200,))
        if ok or (n == 0 and self.profile.is_success(bcode, "empty_success_codes", ())):
            return BatchResult(
                dataset, batch_no, n, bcode, bmsg or msg, [RecordResult(i, ACCEPTED) for i in range(n)], data
            )
        errors = business_errors(bcode, bmsg)
        named = culprit(bmsg, n)
        if named is None:
            results = [RecordResult(i, REJECTED, list(errors)) for i in range(n)]
        else:  # the platform named the bad record: the others were refused with it, and may go again
            results = refused_with({named: errors}, n)
        return BatchResult(dataset, batch_no, n, bcode, bmsg or msg, results, data, True)

    def _per_record_business(self, dataset: str, batch_no: str, n: int, data: Any, answers: list) -> BatchResult:
        """A gateway that answers each record of the batch with its own ``{msgCode, msg}``. An
        error anywhere rejects the whole batch (the gateway's rule for list interfaces): the
        failing records carry their reasons, the others a note that they may go again."""
        ok = [self.profile.is_success(c, "business_success_codes", (200,)) for c, _ in answers]
        bcode, bmsg = _first_failure(answers, self.profile)
        if all(ok):
            return BatchResult(dataset, batch_no, n, bcode, bmsg, [RecordResult(i, ACCEPTED) for i in range(n)], data)
        bad = {i: business_errors(*answers[i]) for i, good in enumerate(ok) if not good}
        return BatchResult(dataset, batch_no, n, bcode, bmsg, refused_with(bad, n), data, True)

    def server_now(self) -> str | None:
        """The platform's current time (``YYYY-MM-DD HH:MM:SS``, Beijing) if the profile knows a
        clock endpoint (the sandbox's settable rehearsal clock); ``None`` otherwise."""
        c = self.profile.clock
        if not c or not c.get("path"):
            return None
        if "success_codes" in c:  # a clock with its own envelope (the sandbox's, behind a gateway profile)
            response = self._send_once("GET", c["path"], auth=None)
            data = read_json(response)
            if response.status_code != 200 or _get(data, c.get("code_field", "code")) not in c["success_codes"]:
                return None
        else:
            data, _, _ = self.request("GET", c["path"], **({} if c.get("auth") else {"auth": None}))
        for f in (c.get("field"), "data.now", "data.time", "data.datetime", "now", "data"):
            v = _get(data, f) if f else None
            if isinstance(v, str) and len(v) >= 10:
                return v.replace("T", " ")[:19]
        return None

    def verify_log(self, **params) -> Any:
        """The platform's verification log (验证日志) as JSON ``data``; ``None`` if the profile has none."""
        v = self.profile.verify_log
        if not v or not v.get("path"):
            return None
        data, _, _ = self.request("GET", v["path"], params={k: x for k, x in params.items() if x is not None})
        return _get(data, v.get("data_field", "data"), data)

    def verify_log_records(self, **params) -> Any:
        v = self.profile.verify_log
        if not v or not v.get("records_path"):
            return None
        data, _, _ = self.request("GET", v["records_path"], params={k: x for k, x in params.items() if x is not None})
        return _get(data, "data", data)


def _business_answers(data: Any, code_field: str, message_field: str) -> list[tuple[Any, str]] | None:
    """The business answers (``body.msgCode`` / ``body.msg``) as (code, message) pairs: one pair
    when ``body`` is an object, one per element when the gateway sends ``body`` as a list."""
    parent, _, leaf = code_field.rpartition(".")
    mparent, _, mleaf = message_field.rpartition(".")
    container = _get(data, parent) if parent else data
    if isinstance(container, list) and parent == mparent:
        pairs = [(it.get(leaf), str(it.get(mleaf) or "")) for it in container if isinstance(it, dict)]
        return pairs if pairs and len(pairs) == len(container) and all(c is not None for c, _ in pairs) else None
    code = _get(data, code_field)
    return None if code is None else [(code, str(_get(data, message_field) or ""))]


def _first_failure(answers: list[tuple[Any, str]], profile) -> tuple[Any, str]:
    """The batch's business code and message: the first failing answer's, else the first."""
    for code, msg in answers:
        if not profile.is_success(code, "business_success_codes", (200,)):
            return code, msg
    return answers[0]
