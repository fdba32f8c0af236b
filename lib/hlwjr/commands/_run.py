"""CLI: the production side (日常运行) — ``hlwjr run``, ``hlwjr status``, ``hlwjr refused``,
``hlwjr resend``, ``hlwjr backfill``; thin shells over :mod:`hlwjr.operations`."""

from __future__ import annotations

import argparse
from typing import TextIO

from .._exceptions import ConfigError, UploadError

__all__ = ["register"]


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "run",
        help="日常运行：采集上一个业务日（北京时间）的终态记录并上报，写运行记录 (exit 0/1/2)",
        description="生产环境的入口（cron / systemd timer / Windows 任务计划）：按 [run] 的窗口采集上一个已结束的"
        "业务日，只取终态记录（对照中声明了 final_when 时），按依赖顺序上报，写 .hlwjr/runs/ 运行记录。"
        "退出码 0 = 全部成功；1 = 有拒收、未确认批次、源数据为空或对账不一致；2 = 未能运行。",
    )
    p.add_argument("--config", required=True, metavar="PROJECT", help="项目目录或 hlwjr.toml")
    p.add_argument(
        "--date", metavar="YYYY-MM-DD", help="运行这一业务日的窗口（演练、补跑；默认：上一个已结束的业务日）"
    )
    p.add_argument(
        "--unless-done",
        action="store_true",
        help="同一夜的重试（如 01:30 之后 03:30、06:30 再排两次）：本业务日已有一次全部成功的运行时不再运行",
    )
    p.set_defaults(handler=_run)

    p = subparsers.add_parser(
        "status",
        help="运行状态与对账：每个业务日 × 数据集的源数据、映射、发送、成功、拒收、待确认、成功率、最近运行",
        description="按业务日与数据集汇总台账和运行记录；--platform 同时与平台验证日志核对（平台能查询时）。"
        "有对账不一致时退出码为 1。",
    )
    p.add_argument("--config", required=True, metavar="PROJECT", help="项目目录或 hlwjr.toml")
    p.add_argument("--days", type=int, default=30, help="显示最近多少个业务日（默认 30）")
    p.add_argument("--today", metavar="YYYY-MM-DD", help="截止的业务日（默认：上一个已结束的业务日）")
    p.add_argument("--format", choices=("text", "json"), default="text", help="text = 终端表格；json = 给脚本用")
    p.add_argument("--platform", action="store_true", help="同时读取平台验证日志，核对平台的计数")
    p.set_defaults(handler=_status)

    p = subparsers.add_parser(
        "refused",
        help="拒收清单：每条被平台拒收的记录（业务主键已脱敏）、数据集、字段和平台提示",
        description="列出台账中当前状态为“拒收”的记录：业务日期、数据集、业务主键（脱敏）、字段、平台提示、批次号。"
        "有拒收记录时退出码为 1。",
    )
    p.add_argument("--config", required=True, metavar="PROJECT", help="项目目录或 hlwjr.toml")
    p.add_argument("--day", metavar="YYYY-MM-DD", help="只列这一业务日的拒收记录")
    p.add_argument("--format", choices=("text", "csv"), default="text", help="text = 终端表格；csv = 给 Excel（UTF-8）")
    p.set_defaults(handler=_refused)

    p = subparsers.add_parser(
        "resend",
        help="重发拒收记录：按业务日重新映射这些记录，只发送现在能通过校验的（已修正的），其余继续列出",
        description="对拒收清单中的记录按业务日重新采集源数据：内容已修正的、或仅因被引用的记录当时缺失而拒收且"
        "现在能通过校验的，重新发送；平台已接收的记录从不重发。仍被拒收的记录在最后列出（退出码 1）。",
    )
    p.add_argument("--config", required=True, metavar="PROJECT", help="项目目录或 hlwjr.toml")
    p.add_argument("--refused", action="store_true", required=True, help="重发拒收清单中的记录")
    p.add_argument("--day", metavar="YYYY-MM-DD", help="只重发这一业务日的拒收记录")
    p.set_defaults(handler=_resend)

    p = subparsers.add_parser(
        "backfill",
        help="按日补采：逐日运行 --from 到 --to 每个业务日的窗口，只发送平台尚未接收的记录",
        description="数据源中断、HIS 补录之后使用：逐日采集并上报平台尚未接收的记录，每天写一份运行记录。"
        "平台已接收但内容已变化的记录：平台接口描述声明了更正方式时作为更正发送，否则只列出。",
    )
    p.add_argument("--config", required=True, metavar="PROJECT", help="项目目录或 hlwjr.toml")
    p.add_argument("--from", dest="first", required=True, metavar="YYYY-MM-DD", help="第一个业务日")
    p.add_argument("--to", dest="last", required=True, metavar="YYYY-MM-DD", help="最后一个业务日（含）")
    p.set_defaults(handler=_backfill)


def _run(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from ..operations._run import run_production
    from ..upload._project import load_project

    project = load_project(args.config)
    if args.unless_done:
        from ..operations._run import finished_run
        from ..operations._window import business_day, parse_day
        from ..upload._ledger import now_shanghai

        day = parse_day(args.date) if args.date else business_day(now_shanghai(), project.run.cutoff_hour)
        done = finished_run(project, day)
        if done is not None:
            record = done.get("file")
            print(f"业务日 {day} 已于 {done.get('ended')} 全部成功（运行记录 {record}），本次不再运行", file=stdout)
            return 0
    return _report(lambda: run_production(project, date=args.date), stdout, stderr)


def _status(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from ..operations._status import compute_status
    from ..upload._project import load_project

    if args.days < 1 or args.days > 3660:
        raise ConfigError(f"--days 应在 1 到 3660 之间，现在是 {args.days}", where="--days")
    project = load_project(args.config)
    st = compute_status(project, days=args.days, today=args.today, platform=args.platform)
    print(st.to_json() if args.format == "json" else st.to_text(), file=stdout)
    return 1 if st.mismatches else 0


def _refused(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from ..operations._refused import refused_list
    from ..upload._project import load_project

    listing = refused_list(load_project(args.config), day=args.day)
    text = listing.to_csv() if args.format == "csv" else listing.to_text()
    stdout.write(text if text.endswith("\n") else text + "\n")
    return 1 if listing.records else 0


def _resend(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from ..operations._refused import resend_refused
    from ..upload._project import load_project

    project = load_project(args.config)
    return _report(lambda: resend_refused(project, day=args.day), stdout, stderr)


def _backfill(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from ..operations._backfill import backfill
    from ..operations._window import day_range, parse_day
    from ..upload._project import load_project

    project = load_project(args.config)
    days = day_range(parse_day(args.first, "--from"), parse_day(args.last, "--to"))
    if len(days) > 366:
        raise ConfigError(f"补采范围 {len(days)} 天超过一年：请分段补采", where="--from")
    return _report(lambda: backfill(project, days[0], days[-1]), stdout, stderr)


def _report(work, stdout: TextIO, stderr: TextIO) -> int:
    """Run ``work`` (a run, resend or backfill), print its result; another run holding the lock
    is one line on stderr and exit 2."""

    try:
        result = work()
    except UploadError as exc:
        print(f"错误: {exc}", file=stderr)
        return 2
    print(result.to_text(), file=stdout)
    return result.exit_code
