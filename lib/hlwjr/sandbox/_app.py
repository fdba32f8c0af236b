"""The sandbox platform as an ASGI app (FastAPI): the supervision platform's API under ``/hlwjr``.

Endpoints (envelope ``{"code": 0, "msg": "成功", "data": ...}``)::

    POST /hlwjr/api/token                    appid + secret → access_token (令牌)
    POST /hlwjr/api/upload/{dataset_code}    Bearer token; {"batchNo", "records": [...]}
    GET  /hlwjr/api/verify-log               验证日志 per day and data set + verdict
    GET  /hlwjr/api/verify-log/records       each uploaded record with its result and errors
    GET  /hlwjr/verify-log                   the human page (HTML)
    /hlwjr/sandbox/...                       rehearsal controls: health, clock, faults, register, orgs
"""

from __future__ import annotations

import hmac
import json
import logging
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from .._exceptions import ConfigError
from ._clock import advance_seconds, parse_beijing_time
from ._faults import DROP_MARK, DropConnectionMiddleware
from ._service import SandboxService, _UploadQueue
from ._settings import Faults, SandboxSettings
from ._wire import PREFIX, ApiError, _envelope, _json, install_log_redaction, json_loads

__all__ = ["ApiError", "SandboxService", "create_app", "install_log_redaction"]

log = logging.getLogger("hlwjr.sandbox")


async def _read_json(request: Request, limit: int) -> Any:
    """The request body as JSON, refusing bodies over ``limit`` bytes (Content-Length and streamed)."""
    cl = request.headers.get("content-length")
    too_big = ApiError(413, 4130, f"请求体过大：上限 {limit} 字节，请减少每批记录数")
    if cl is not None:
        try:
            if int(cl) > limit:
                raise too_big
        except ValueError:
            raise ApiError(400, 2001, "Content-Length 请求头不是整数") from None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_big
    if not body.strip():
        raise ApiError(400, 2001, "请求体不是合法JSON：请求体为空")
    try:
        return json_loads(bytes(body))
    except UnicodeDecodeError as exc:
        raise ApiError(400, 2001, f"请求体不是合法JSON：不是UTF-8编码（第 {exc.start} 字节）") from None
    except json.JSONDecodeError as exc:
        raise ApiError(400, 2001, f"请求体不是合法JSON：第 {exc.lineno} 行第 {exc.colno} 列 {exc.msg}") from None
    except ValueError as exc:  # NaN / Infinity
        raise ApiError(400, 2001, f"请求体不是合法JSON：{exc}") from None
    except RecursionError:
        raise ApiError(400, 2001, "请求体不是合法JSON：嵌套层数过深") from None


async def _read_object(request: Request, limit: int) -> dict:
    obj = await _read_json(request, limit)
    if not isinstance(obj, dict):
        raise ApiError(400, 2002, f"请求体必须是对象（JSON object），收到的是 {type(obj).__name__}")
    return obj


def create_app(data_dir: str | Path, *, spec: Any = None, settings: SandboxSettings | None = None) -> FastAPI:
    """The sandbox platform (沙箱平台) as a FastAPI app, its state in SQLite under ``data_dir``.

    ``spec`` is a :class:`hlwjr.Spec`, a spec name or directory (default: the reference spec);
    ``settings`` a :class:`SandboxSettings`.  ``app.state.sandbox`` is the :class:`SandboxService`.
    """
    service = SandboxService(data_dir, spec, settings)
    install_log_redaction()
    app = SandboxApp(
        title="hlwjr 沙箱平台（互联网医院接入平台模拟）",
        docs_url=f"{PREFIX}/docs",
        openapi_url=f"{PREFIX}/openapi.json",
        redoc_url=None,
    )
    app.state.sandbox = service
    queue = _UploadQueue(service)
    app.state.upload_queue = queue
    limit = service.settings.max_body_bytes

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        return _json(_envelope(exc.data, exc.code, exc.msg), exc.status, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 404:
            return _json(_envelope(None, 4040, f"接口不存在：{request.url.path}（接口均在 {PREFIX}/api/ 下）"), 404)
        if exc.status_code == 405:
            return _json(_envelope(None, 4050, f"请求方法 {request.method} 不被 {request.url.path} 支持"), 405)
        return _json(_envelope(None, exc.status_code * 10, str(exc.detail)), exc.status_code)

    @app.exception_handler(ConfigError)
    async def _config_error(request: Request, exc: ConfigError):
        return _json(_envelope(None, 2000, f"参数错误：{exc}"), 400)

    @app.exception_handler(OverflowError)
    @app.exception_handler(UnicodeError)
    @app.exception_handler(RecursionError)
    async def _input_error(request: Request, exc: Exception):
        """The one net for input the checks above did not foresee: a 400, never a 500 (logged)."""
        log.warning("input error on %s: %s", request.url.path, type(exc).__name__, exc_info=exc)
        code, msg = _input_problem(exc)
        return _json(_envelope(None, code, msg), 400)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception):
        log.exception("sandbox internal error on %s", request.url.path)
        return _json(_envelope(None, 5000, f"沙箱内部错误：{type(exc).__name__}（详见服务器日志）"), 500)

    async def _api_faults() -> None:
        await service.faults.delay()
        kind = service.faults.error_now()
        if kind == "busy":
            raise ApiError(200, 5001, "系统繁忙，请稍后重试")
        if kind == "http503":
            raise ApiError(503, 5001, "系统繁忙，请稍后重试", headers={"Retry-After": "1"})
        if kind == "http500":
            raise ApiError(500, 5000, "服务器内部错误（沙箱故障注入）")

    # -- platform API ----------------------------------------------------------------------
    @app.post(f"{PREFIX}/api/token")
    async def token(request: Request):
        """获取令牌: ``{"appid", "secret"}`` → ``{"access_token", "token_type", "expires_in"}``."""
        await _api_faults()
        body = await _read_object(request, 64 * 1024)
        return _json(_envelope(service.issue_token(body.get("appid"), body.get("secret"))))

    @app.post(PREFIX + "/api/upload/{dataset_code}")
    async def upload(dataset_code: str, request: Request):
        """数据上传: one batch of records of one data set (at most ``max_batch``)."""
        await _api_faults()
        org = service.authenticate(request.headers.get("authorization"))
        service.dataset(dataset_code)
        body = await _read_object(request, limit)
        pending = service.prepare_upload(org, dataset_code, body)
        if isinstance(pending, tuple):
            status, payload, replayed = pending
        else:
            try:
                status, payload, replayed = await queue.submit(pending)
            except RecursionError:
                raise ApiError(400, 2001, "请求体不是合法JSON：记录嵌套层数过深") from None
        if not replayed and service.faults.drop_now():
            mark = request.scope.get(DROP_MARK)
            if mark is not None:
                mark["drop"] = True
                log.info("fault: dropping connection after commit (appid=%s)", org.appid)
        headers = {"X-Hlwjr-Replay": "1"} if replayed else None
        return Response(payload.encode("utf-8"), status_code=status, media_type="application/json", headers=headers)

    @app.get(f"{PREFIX}/api/verify-log")
    async def verify_log(request: Request):
        """验证日志: ``?from=YYYY-MM-DD&to=YYYY-MM-DD&dataset=CODE``."""
        await _api_faults()
        org = service.authenticate(request.headers.get("authorization"))
        q = request.query_params
        return _json(_envelope(service.verify_log(org, q.get("from"), q.get("to"), q.get("dataset"))))

    @app.get(f"{PREFIX}/api/verify-log/records")
    async def verify_records(request: Request):
        """验证日志明细: ``?date=YYYY-MM-DD&dataset=CODE&status=fail,duplicate&limit=&offset=``."""
        await _api_faults()
        org = service.authenticate(request.headers.get("authorization"))
        q = request.query_params
        limit_, offset = _int_param(q, "limit", 1000, 1, 10000), _int_param(q, "offset", 0, 0, MAX_OFFSET)
        return _json(
            _envelope(
                service.verify_records(
                    org,
                    date=q.get("date"),
                    dataset=q.get("dataset"),
                    status=q.get("status"),
                    limit=limit_,
                    offset=offset,
                )
            )
        )

    if service.settings.protocol != "token":
        _install_gateway(app, service, queue, limit, _api_faults)

    # -- human page ----------------------------------------------------------------------
    @app.get(PREFIX, include_in_schema=False)
    @app.get(f"{PREFIX}/", include_in_schema=False)
    async def index():
        return RedirectResponse(f"{PREFIX}/verify-log")

    @app.get(f"{PREFIX}/verify-log", response_class=HTMLResponse)
    async def verify_log_page(request: Request):
        """验证日志页面 (HTML): ``?org=统一社会信用代码&from=&to=&dataset=``; needs the organisation's
        token (Bearer header or the login cookie) or the admin token — else 401 with a login form."""
        from ._page import PageDenied, page_viewer, render_login_page, render_verify_log_page

        try:
            viewer = page_viewer(service, request.headers, request.cookies)
            return HTMLResponse(render_verify_log_page(service, request.query_params, viewer))
        except PageDenied as exc:
            return HTMLResponse(render_login_page(service, request.query_params, exc.msg), exc.status)

    @app.post(f"{PREFIX}/verify-log", response_class=HTMLResponse)
    async def verify_log_login(request: Request):
        """验证日志页面登录: form ``appid`` + ``secret`` → a token in an HttpOnly cookie, back to the page."""
        from ._page import PAGE_COOKIE, PageDenied, login_answer, render_login_page

        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > 64 * 1024:
                break
        try:
            token, url, ttl = login_answer(service, bytes(body))
        except PageDenied as exc:
            return HTMLResponse(render_login_page(service, request.query_params, exc.msg), exc.status)
        answer = RedirectResponse(url, status_code=303)
        answer.set_cookie(PAGE_COOKIE, token, max_age=ttl, path=PREFIX, httponly=True, samesite="strict")
        return answer

    # -- rehearsal controls ----------------------------------------------------------------
    def _admin(request: Request, *, required: bool) -> None:
        expected = service.admin_token
        if expected is None:
            if required:
                raise ApiError(
                    403,
                    1201,
                    "管理接口未启用：请在启动沙箱前设置环境变量 HLWJR_SANDBOX_ADMIN_TOKEN，"
                    "或用命令 hlwjr sandbox register 注册",
                )
            return
        given = request.headers.get("x-admin-token") or ""
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise ApiError(403, 1202, "管理令牌错误：请求头 X-Admin-Token 应为环境变量 HLWJR_SANDBOX_ADMIN_TOKEN 的值")

    @app.get(f"{PREFIX}/sandbox/health")
    async def health():
        return _json(
            _envelope(
                {
                    "status": "ok",
                    "spec": service.spec.id,
                    "spec_version": service.spec.version,
                    "clock": service.clock.as_dict(),
                    "uploads": dict(queue.stats),
                }
            )
        )

    @app.post(f"{PREFIX}/sandbox/echo")
    async def echo(request: Request):
        """联通性测试: reads the body (same size limit as uploads) and answers its size — no auth,
        no validation, no storage; the HTTP-only baseline of ``benchmarks/bench_sandbox.py``."""
        n = 0
        async for chunk in request.stream():
            n += len(chunk)
            if n > limit:
                raise ApiError(413, 4130, f"请求体过大：上限 {limit} 字节")
        return _json(_envelope({"bytes": n}))

    @app.get(f"{PREFIX}/sandbox/settings")
    async def get_settings(request: Request):
        _admin(request, required=False)
        s = service.settings
        return _json(
            _envelope(
                {
                    "token_ttl": s.token_ttl,
                    "token_rate_per_minute": s.token_rate_per_minute,
                    "max_batch": s.max_batch,
                    "max_body_bytes": s.max_body_bytes,
                    "whole_batch": s.whole_batch,
                    "rule": s.rule.as_dict(),
                    "faults": s.faults.as_dict(),
                    "admin": service.admin_token is not None,
                }
            )
        )

    @app.get(f"{PREFIX}/sandbox/clock")
    async def get_clock(request: Request):
        _admin(request, required=False)
        return _json(_envelope(service.clock.as_dict()))

    @app.post(f"{PREFIX}/sandbox/clock")
    async def set_clock(request: Request):
        """设置沙箱时钟: ``{"now": "2026-11-01 09:00:00"}``, ``{"advance_days": 1, "advance_hours": 0,
        "advance_seconds": 0}`` or ``{"reset": true}``."""
        _admin(request, required=False)
        body = await _read_object(request, 64 * 1024)
        unknown = set(body) - {"now", "advance_days", "advance_hours", "advance_seconds", "reset"}
        if unknown:
            raise ApiError(
                400,
                2000,
                f"未知参数 {', '.join(sorted(unknown))}；可用 now、advance_days、advance_hours、advance_seconds、reset",
            )
        advance = advance_seconds(body)  # ConfigError → 2000
        now = body.get("now")
        if now is not None:
            if not isinstance(now, str):
                raise ApiError(400, 2000, "now 应为北京时间字符串 YYYY-MM-DD HH:MM:SS")
            parse_beijing_time(now)
        return _json(_envelope(service.set_clock(now, advance=advance, reset=bool(body.get("reset")))))

    @app.get(f"{PREFIX}/sandbox/faults")
    async def get_faults(request: Request):
        _admin(request, required=False)
        return _json(_envelope({**service.faults.faults.as_dict(), "injected": dict(service.faults.injected)}))

    @app.post(f"{PREFIX}/sandbox/faults")
    async def set_faults(request: Request):
        """故障注入: any of ``latency_ms, error_rate, error_kind, error_next, drop_rate, drop_next,
        token_expire_after, seed``; ``{"reset": true}`` clears them all first."""
        _admin(request, required=False)
        body = await _read_object(request, 64 * 1024)
        faults = service.faults.faults
        if body.pop("reset", False):
            fresh = Faults()
            for k, v in fresh.as_dict().items():
                setattr(faults, k, v)
        faults.update(body)
        if "seed" in body:
            service.faults.reseed()
        return _json(_envelope({**faults.as_dict(), "injected": dict(service.faults.injected)}))

    @app.post(f"{PREFIX}/sandbox/tokens/expire")
    async def expire_tokens(request: Request):
        """让所有已发令牌立即过期 (rehearse "token expired → get a new one")."""
        _admin(request, required=False)
        n = service.store.expire_tokens(service.clock.now())
        service.forget_caches()
        return _json(_envelope({"expired": n}))

    @app.post(f"{PREFIX}/sandbox/register")
    async def register(request: Request):
        """注册机构: ``{"org_code": 统一社会信用代码, "org_name": 机构名称}`` → appid + secret (shown once)."""
        _admin(request, required=True)
        body = await _read_object(request, 64 * 1024)
        code, name = body.get("org_code"), body.get("org_name")
        if not isinstance(code, str) or not isinstance(name, str):
            raise ApiError(400, 2008, "缺少必填参数：org_code（统一社会信用代码）和 org_name（机构名称）")
        appid, secret, reset = service.store.register(code, name)
        service.forget_caches()
        log.info("registered org appid=%s reset=%s", appid, reset)
        return _json(_envelope({"appid": appid, "secret": secret, "org_code": code.strip(), "reset": reset}))

    @app.get(f"{PREFIX}/sandbox/orgs")
    async def orgs(request: Request):
        _admin(request, required=True)
        return _json(_envelope([o.as_dict() for o in service.store.orgs()]))

    @app.post(PREFIX + "/sandbox/orgs/{appid}/{action}")
    async def org_action(appid: str, action: str, request: Request):
        """停用/启用账号: ``/sandbox/orgs/{appid}/disable`` or ``/enable``."""
        _admin(request, required=True)
        if action not in ("disable", "enable"):
            raise ApiError(404, 4040, f"未知操作 {action!r}：可用 disable、enable")
        if not service.store.set_active(appid, action == "enable"):
            raise ApiError(404, 1001, f"appid不存在：{appid}")
        service.forget_caches()
        return _json(_envelope({"appid": appid, "active": action == "enable"}))

    return app


def _install_gateway(app: FastAPI, service: SandboxService, queue: _UploadQueue, limit: int, faults) -> None:
    """``--protocol tianjin | gateway-hmac``: the gateway ``POST /openapi/api`` (tianjin: SM4 body,
    SM3 signature; gateway-hmac: AES body, HmacSHA256 signature) and ``POST /openapi/api/uploadFile``
    (plain JSON body), answering ``{"code", "msg", "body"}``."""
    from ._gateway import GatewayError, gateway_answer

    async def read(request: Request) -> bytes:
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise GatewayError(40001, f"参数错误：请求体过大，上限 {limit} 字节，请减少每次记录数")
        return bytes(body)

    async def guarded(request: Request, work) -> Response:
        try:
            await faults()
            return _json(await work(await read(request)))
        except GatewayError as exc:
            log.info("gateway refused code=%s %s", exc.code, exc.msg)
            return _json(gateway_answer(exc.code, exc.msg), headers=exc.headers)
        except ApiError as exc:
            if exc.code in (5000, 5001):  # injected faults: busy → -1 系统繁忙; 5xx stays an HTTP 5xx
                status = exc.status if exc.status >= 500 else 200
                return _json(gateway_answer(-1, f"系统繁忙：{exc.msg}"), status, exc.headers)
            return _json(gateway_answer(40001, f"参数错误：{exc.msg}"))

    @app.post("/openapi/api")
    async def gateway_upload(request: Request):
        """国密网关上传: SM4-CBC hex body of a JSON array, SM3-signed X-Ca-* headers."""

        async def work(body: bytes) -> dict:
            pending = service.gateway_prepare(request.headers, body)
            if isinstance(pending, dict):
                return pending
            _, payload, _ = await queue.submit(pending)
            if service.faults.drop_now():
                mark = request.scope.get(DROP_MARK)
                if mark is not None:
                    mark["drop"] = True
            return service.gateway_result(payload)

        return await guarded(request, work)

    @app.post("/openapi/api/uploadFile")
    async def gateway_file(request: Request):
        """国密网关文件上传: same headers, plain JSON body, X-Content-MD5 = SM3(body)."""

        async def work(body: bytes) -> dict:
            check = service.gateway_check(request.headers, body)
            org = service.org(check.app_key)
            if org is None:
                raise GatewayError(40002, "appKey不存在：请核对 X-Ca-Key")
            check.signature(service.store.gateway_key(org.appid) or "")
            check.freshness(service.nonces)
            check.plain_json()
            return gateway_answer(body={"msgCode": 200, "msg": "请求成功"})

        return await guarded(request, work)


class SandboxApp(FastAPI):
    """FastAPI whose outermost layer can drop a connection after commit (fault injection)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._drop_layer = DropConnectionMiddleware(super().__call__)

    async def __call__(self, scope, receive, send) -> None:
        await self._drop_layer(scope, receive, send)


def _input_problem(exc: Exception) -> tuple[int, str]:
    if isinstance(exc, UnicodeError):
        return 2001, "请求中有不是合法 Unicode 的文本（如单独的代理码位 \\ud800）：请检查源数据的编码"
    if isinstance(exc, RecursionError):
        return 2001, "请求体不是合法JSON：嵌套层数过深"
    return 2000, "参数错误：数值超出范围（平台按 64 位整数或双精度浮点数读取）"


#: the largest ``offset`` of a records query (SQLite integers end at 2^63)
MAX_OFFSET = 10**9


def _int_param(q, name: str, default: int, lo: int, hi: int | None) -> int:
    raw = q.get(name)
    if raw is None or raw == "":
        return default
    try:
        v = int(raw) if len(raw) <= 30 else None
        if v is None:
            raise ValueError
    except ValueError:
        raise ApiError(400, 2000, f"参数 {name} 应为整数，收到 {raw!r}") from None
    if v < lo or (hi is not None and v > hi):
        raise ApiError(400, 2000, f"参数 {name} 应在 {lo} 到 {hi if hi is not None else '∞'} 之间")
    return v
