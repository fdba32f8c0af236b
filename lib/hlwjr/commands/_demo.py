"""CLI: ``hlwjr demo data`` (演示医院数据) and ``hlwjr demo run`` (完整流程演示, ``make demo``)."""

from __future__ import annotations

import argparse
from typing import TextIO

from .._exceptions import ConfigError

__all__ = ["register"]


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "demo",
        help="演示医院：生成数据 / 跑完整流程 (demo hospital)",
        description="演示医院（合成测试数据）：生成 HIS 数据，或在本地沙箱上跑完整的接入流程。",
    )
    sub = p.add_subparsers(dest="demo_command", metavar="COMMAND")
    d = sub.add_parser(
        "data",
        help="生成演示医院的 HIS 数据（SQLite + GBK CSV）",
        description="生成确定性的合成演示医院数据（含预埋的脏数据），写到 --out 目录。",
    )
    d.add_argument("--out", required=True, metavar="DIR", help="输出目录")
    d.add_argument("--days", type=int, default=5, help="业务天数（默认 5）")
    d.add_argument("--start", default="2026-11-01", metavar="YYYY-MM-DD", help="第一天（默认 2026-11-01）")
    d.add_argument("--seed", type=int, default=20261101, help="随机种子（同一种子生成完全相同的文件）")
    d.set_defaults(handler=_data)
    r = sub.add_parser(
        "run",
        help="完整流程：沙箱 → 注册 → 映射 → 校验 → 连续 3 天上传 → 达标结论",
        description="生成演示医院，启动本地沙箱，注册，映射、校验（列出暂缓的脏数据），按沙箱时钟演练 3 天上传，"
        "打印达标结论并与沙箱验证日志核对，最后停止沙箱。退出码 0 表示可以申请。",
    )
    r.add_argument("--out", required=True, metavar="DIR", help="输出目录（演示医院、沙箱数据、项目、证据包）")
    r.add_argument("--days", type=int, default=3, help="演练天数（默认 3）")
    r.add_argument(
        "--protocol",
        default="token",
        choices=["token", "tianjin", "gateway-hmac"],
        help="接口协议：token（沙箱令牌接口，默认）、tianjin（国密网关：SM3 签名 + SM4 加密，profile = tianjin）"
        "或 gateway-hmac（同一网关国密之前的格式：HmacSHA256 签名 + AES 加密）",
    )
    r.set_defaults(handler=_run)
    p.set_defaults(handler=_help(p))


def _help(parser):
    def handler(args, stdout, stderr) -> int:
        parser.print_help(stdout)
        return 2

    return handler


def _data(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from ..demo._hospital import generate_demo_hospital

    if args.days < 1:
        raise ConfigError("--days 至少为 1")
    h = generate_demo_hospital(args.out, days=args.days, start=args.start, seed=args.seed)
    print(f"演示医院数据已写入 {h.out_dir}", file=stdout)
    print(f"  数据库: {h.database}", file=stdout)
    print(f"  CSV:    {h.csv_dir}", file=stdout)
    print(f"  业务日: {', '.join(h.days)}", file=stdout)
    for t, n in h.tables.items():
        print(f"  {t:<22}{n:>7} 行", file=stdout)
    return 0


def _run(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from ..demo._run import run_demo

    if args.days < 3:
        raise ConfigError("--days 至少为 3（达标需要连续 3 天）")
    run = run_demo(args.out, stdout=stdout, days=args.days, protocol=args.protocol)
    if run.ok:
        print("\n演示完成：可以申请，且与沙箱验证日志一致。", file=stdout)
        return 0
    print("\n演示完成，但结论不是“可以申请”或与验证日志不一致，见上文。", file=stdout)
    return 1
