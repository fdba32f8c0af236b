"""``hlwjr sandbox serve|register|orgs``: the local stand-in for the supervision platform (沙箱平台).

Imports stay lazy: ``hlwjr sandbox serve`` must answer within 3 seconds.
"""

from __future__ import annotations

import argparse
import errno
import ipaddress
import os
import signal
import sys
from typing import TextIO

from .._exceptions import ConfigError

DEFAULT_DATA_DIR = os.path.join(".hlwjr", "sandbox")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "sandbox",
        help="沙箱平台：本地模拟互联网医院接入平台（注册、令牌、上传、验证日志）",
        description="沙箱平台：本地模拟北京市互联网医院接入平台，用于演练对接全过程。",
    )
    sub = p.add_subparsers(dest="sandbox_command", metavar="COMMAND", parser_class=type(p))
    p.set_defaults(handler=lambda a, o, e: (p.print_help(o), 2)[1])

    s = sub.add_parser(
        "serve",
        help="启动沙箱平台（uvicorn，默认只监听 127.0.0.1）",
        description="启动沙箱平台。接口前缀 /hlwjr；验证日志页面 /hlwjr/verify-log。"
        "管理接口（注册机构）需环境变量 HLWJR_SANDBOX_ADMIN_TOKEN。",
    )
    s.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1；非回环地址需 --allow-remote）")
    s.add_argument("--port", type=int, default=8081, help="端口（默认 8081）")
    s.add_argument("--fd", type=int, default=None, help=argparse.SUPPRESS)
    s.add_argument("--allow-remote", action="store_true", help="允许监听非回环地址（沙箱无TLS，慎用）")
    s.add_argument("--data-dir", default=DEFAULT_DATA_DIR, help=f"数据目录，SQLite 保存于此（默认 {DEFAULT_DATA_DIR}）")
    s.add_argument("--spec", default=None, help="接口规范：名称或目录（默认 beijing-reference）")
    g = s.add_argument_group("平台参数")
    g.add_argument("--token-ttl", type=int, default=7200, help="令牌有效期，秒（默认 7200）")
    g.add_argument("--token-rate", type=int, default=30, help="每个appid每分钟最多获取令牌次数（默认 30）")
    g.add_argument("--max-batch", type=int, default=100, help="每批最多记录数（默认 100）")
    g.add_argument("--max-body-bytes", type=int, default=8 * 1024 * 1024, help="请求体上限，字节（默认 8 MiB）")
    g.add_argument("--whole-batch", action="store_true", help="整批拒收模式：一条失败则整批不入库（code 2010）")
    g.add_argument("--clock", default=None, help="把沙箱时钟设为此北京时间启动，如 '2026-11-01 09:00:00'")
    g.add_argument(
        "--protocol",
        default="token",
        choices=["token", "tianjin", "gateway-hmac"],
        help="接口协议：token（沙箱令牌接口，默认）、tianjin（另开国密网关 /openapi/api：SM3 签名、SM4 加密）"
        "或 gateway-hmac（同一网关国密之前的格式：HmacSHA256 签名、AES 加密，encodingAesKey 见 register 的输出）",
    )
    r = s.add_argument_group("验证日志达标规则")
    r.add_argument("--min-daily", type=int, default=30, help="单日最少上传条数（默认 30）")
    r.add_argument("--min-success-rate", type=float, default=1.0, help="最低成功率，0-1（默认 1 即 100%%）")
    r.add_argument("--allow-duplicates", action="store_true", help="重复数据不影响达标")
    r.add_argument("--consecutive-days", type=int, default=3, help="需连续达标天数（默认 3）")
    r.add_argument("--per-dataset", action="store_true", help="按数据集分别计算达标（默认按各数据集合计）")
    r.add_argument("--required-datasets", default="", help="按数据集计时必须达标的数据集，逗号分隔")
    f = s.add_argument_group("故障注入（演练客户端重试）")
    f.add_argument("--latency-ms", type=int, default=0, help="每个接口应答延迟，毫秒")
    f.add_argument("--error-rate", type=float, default=0.0, help="随机失败比例 0-1")
    f.add_argument(
        "--error-kind",
        default="http503",
        choices=["http503", "http500", "busy"],
        help="失败方式：http503 / http500 / busy（HTTP 200 + code 5001 系统繁忙）",
    )
    f.add_argument("--error-next", type=int, default=0, help="接下来 N 次接口调用失败")
    f.add_argument("--drop-rate", type=float, default=0.0, help="上传已入库但断开连接不应答的比例 0-1")
    f.add_argument("--drop-next", type=int, default=0, help="接下来 N 次上传入库后断开连接")
    f.add_argument("--token-expire-after", type=float, default=None, help="令牌实际在 N 秒后失效（早于 expires_in）")
    f.add_argument("--fault-seed", type=int, default=None, help="随机故障的种子（可复现）")
    s.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    s.add_argument("--no-access-log", action="store_true", help="不输出访问日志")
    s.set_defaults(handler=_serve)

    g = sub.add_parser("register", help="注册机构，签发 appid 和 secret（secret 只显示一次）")
    g.add_argument("--data-dir", default=DEFAULT_DATA_DIR, help=f"沙箱数据目录（默认 {DEFAULT_DATA_DIR}）")
    g.add_argument("--org-code", required=True, help="统一社会信用代码（18位）")
    g.add_argument("--org-name", required=True, help="机构名称")
    g.set_defaults(handler=_register)

    o = sub.add_parser("orgs", help="列出已注册机构（不显示 secret）")
    o.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    o.set_defaults(handler=_orgs)


def settings_from_args(args):
    from ..sandbox._settings import Faults, SandboxSettings, VerifyRule

    rule = VerifyRule(
        min_daily_records=args.min_daily,
        min_success_rate=args.min_success_rate,
        allow_duplicates=args.allow_duplicates,
        consecutive_days=args.consecutive_days,
        per_dataset=args.per_dataset,
        required_datasets=tuple(x.strip() for x in args.required_datasets.split(",") if x.strip()),
    )
    faults = Faults(
        latency_ms=args.latency_ms,
        error_rate=args.error_rate,
        error_kind=args.error_kind,
        error_next=args.error_next,
        drop_rate=args.drop_rate,
        drop_next=args.drop_next,
        token_expire_after=args.token_expire_after,
        seed=args.fault_seed,
    )
    return SandboxSettings(
        token_ttl=args.token_ttl,
        token_rate_per_minute=args.token_rate,
        max_batch=args.max_batch,
        max_body_bytes=args.max_body_bytes,
        whole_batch=args.whole_batch,
        rule=rule,
        faults=faults,
        clock=args.clock,
        protocol=args.protocol,
    ).validate()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _serve(args, stdout: TextIO, stderr: TextIO) -> int:
    if not _is_loopback(args.host) and not args.allow_remote:
        raise ConfigError(
            f"监听地址 {args.host} 不是回环地址：沙箱没有TLS，默认只监听 127.0.0.1；确需对外监听请加 --allow-remote",
            where="--host",
        )
    if not 0 <= args.port <= 65535:
        raise ConfigError(f"端口 {args.port} 无效", where="--port")
    settings = settings_from_args(args)
    import socket

    # bind before anything is printed: a port in use is one clear line (exit 2), not uvicorn's log
    sockets = [socket.socket(fileno=args.fd)] if args.fd is not None else [_bind(args.host, args.port)]
    port = sockets[0].getsockname()[1]  # --port 0: the free port the system chose
    import uvicorn

    from ..sandbox._app import create_app
    from ..sandbox._wire import install_log_redaction

    try:
        app = create_app(args.data_dir, spec=args.spec, settings=settings)
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    import importlib.util

    # the fast path (httptools parser, uvloop event loop) when installed; h11/asyncio otherwise
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    config = uvicorn.Config(
        app,
        host=args.host,
        port=port,
        http=http,
        loop=loop,
        log_level=args.log_level,
        access_log=not args.no_access_log,
        server_header=False,
        lifespan="off",
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    import logging

    sandbox_log = logging.getLogger("hlwjr.sandbox")  # one summary line per upload, token, registration
    if not sandbox_log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(message)s"))
        sandbox_log.addHandler(handler)
        sandbox_log.setLevel(args.log_level.upper())
        sandbox_log.propagate = False
    install_log_redaction()
    service = app.state.sandbox
    admin = (
        "已启用（X-Admin-Token）" if service.admin_token else "未启用（设置 HLWJR_SANDBOX_ADMIN_TOKEN 以启用注册接口）"
    )
    gateway = {"tianjin": "国密网关", "gateway-hmac": "网关（HmacSHA256 + AES）"}.get(settings.protocol)
    gateway = f"  {gateway}: http://{args.host}:{port}/openapi/api" if gateway else ""
    print(
        f"沙箱平台: http://{args.host}:{port}/hlwjr  验证日志页面: http://{args.host}:{port}/hlwjr/verify-log{gateway}\n"
        f"数据目录: {os.path.abspath(args.data_dir)}  规范: {service.spec.id} {service.spec.version}  "
        f"沙箱时间: {service.clock.as_dict()['now']}  管理接口: {admin}",
        file=stdout,
        flush=True,
    )
    # uvicorn re-raises the SIGTERM it handled after a graceful shutdown; make that a clean exit 0.
    signal.signal(signal.SIGTERM, lambda *_: None)
    server.run(sockets=sockets)
    service.store.close()
    print("沙箱平台已停止", file=stdout, flush=True)
    return 0


def _bind(host: str, port: int):
    """The listening socket of ``hlwjr sandbox serve`` (uvicorn listens on it)."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ConfigError(f"监听地址 {host} 无法解析（{exc.strerror}）", where="--host") from exc
    family, kind, proto, _, addr = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(addr)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"端口 {port} 已被占用（可能已有一个沙箱在运行）：请换一个端口，如 --port {port + 1}，"
                f"或先停止占用该端口的程序",
                where="--port",
            ) from exc
        raise ConfigError(
            f"无法监听 {host}:{port}（{exc.strerror or exc}）：请换一个端口或地址", where="--port"
        ) from exc
    sock.set_inheritable(True)
    return sock


def _register(args, stdout: TextIO, stderr: TextIO) -> int:
    from ..sandbox._store import Store

    store = Store(args.data_dir)
    try:
        appid, secret, reset = store.register(args.org_code, args.org_name)
    finally:
        store.close()
    from ..sandbox._gateway import sandbox_body_key

    print(f"appid: {appid}", file=stdout)
    print(f"secret: {secret}", file=stdout)
    print(f"encodingAesKey: {sandbox_body_key(secret)}", file=stdout)
    note = "该机构已注册，已重新生成 secret，旧 secret 和已发令牌立即失效。" if reset else "已注册。"
    print(
        f"{note}secret 只显示这一次，请保存到环境变量 HLWJR_SECRET 或不纳入版本库的 secret 文件；"
        "encodingAesKey 只在 --protocol gateway-hmac 时用到（环境变量 HLWJR_BODY_KEY）。",
        file=stderr,
    )
    return 0


def _orgs(args, stdout: TextIO, stderr: TextIO) -> int:
    from ..sandbox._store import DB_NAME, Store

    if not os.path.exists(os.path.join(args.data_dir, DB_NAME)):  # a listing creates nothing
        print(
            f"数据目录 {os.path.abspath(args.data_dir)} 中还没有沙箱数据：用 hlwjr sandbox register --data-dir "
            f"{args.data_dir} 注册机构，或用 --data-dir 指向 hlwjr sandbox serve 的数据目录",
            file=stdout,
        )
        return 0
    store = Store(args.data_dir)
    try:
        orgs = store.orgs()
    finally:
        store.close()
    if not orgs:
        print("尚无注册机构（用 hlwjr sandbox register 注册）", file=stdout)
        return 0
    for o in orgs:
        print(f"{o.appid}\t{o.org_code}\t{o.org_name}\t{'启用' if o.active else '停用'}", file=stdout)
    return 0


if __name__ == "__main__":  # pragma: no cover
    from ..cli import main

    sys.exit(main(["sandbox", *sys.argv[1:]]))
