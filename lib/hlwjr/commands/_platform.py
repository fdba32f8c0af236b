"""``hlwjr platform check --config PROJECT``: the set-up checks before any data is sent — a thin
shell over :func:`hlwjr.upload._check.check_platform`."""

from __future__ import annotations

import argparse
from typing import TextIO

__all__ = ["register"]


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "platform",
        help="平台对接自检：密钥格式、网络/代理/证书、本机时间、签名调用",
        description="在发送任何数据之前检查平台对接配置。",
    )
    sub = p.add_subparsers(dest="platform_command", metavar="COMMAND", parser_class=type(p))
    p.set_defaults(handler=lambda a, o, e: (p.print_help(o), 2)[1])
    c = sub.add_parser(
        "check",
        help="检查：平台接口描述、密钥格式、连通（代理/CA）、与平台的时间差、一次签名调用（退出码 0 = 全部通过）",
        description="逐项检查项目的平台配置并说明如何修正；不上传业务数据（国密网关平台会发送一次空数组，即当天签到）。",
    )
    c.add_argument("--config", required=True, metavar="PROJECT", help="项目目录或 hlwjr.toml")
    c.set_defaults(handler=_check)


def _check(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from ..upload._check import check_platform
    from ..upload._project import load_project

    checks = check_platform(load_project(args.config))
    for c in checks:
        print(c.line(), file=stdout)
    failed = [c for c in checks if c.ok is False]
    print("全部通过" if not failed else f"{len(failed)} 项未通过：按上面的说明修正后再运行", file=stdout)
    return 1 if failed else 0
