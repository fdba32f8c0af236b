"""CLI: ``hlwjr upload`` (每日上传) and ``hlwjr readiness`` (达标情况) — thin shells over
:func:`hlwjr.run_upload` and :func:`hlwjr.compute_readiness`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from .._days import parse_day
from .._exceptions import ConfigError, HlwjrError

__all__ = ["register"]


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "upload",
        help="上传当天数据：映射 → 校验 → 按依赖顺序发送，跳过已接收的 (daily upload)",
        description="把某天的数据映射、校验后上传到平台；已被平台接收的记录不会再发，校验未过的记录暂缓并列出问题。"
        "可以重复运行，也可以放进 cron。",
    )
    p.add_argument("--config", required=True, metavar="PROJECT", help="项目目录或 hlwjr.toml")
    p.add_argument("--dataset", action="append", metavar="CODE", help="只上传这个数据集（可重复）")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="业务日期（默认：全部映射到的记录）")
    p.add_argument(
        "--limit",
        type=int,
        metavar="N",
        help="每个数据集最多发送 N 条（所引用的记录因此未发送的，本次也不发，留待下次）",
    )
    p.add_argument("--dry-run", action="store_true", help="只映射和校验，不发送")
    p.add_argument(
        "--update",
        action="store_true",
        help="把已被平台接收、但内容已变化的记录作为更正重发（仅当平台接口描述声明了更正方式）",
    )
    p.add_argument("--no-progress", action="store_true", help="不显示进度条")
    p.add_argument(
        "--resolve",
        action="append",
        metavar="BATCH=accepted|missing",
        help="人工核对发送后未收到应答的批次（平台不支持按批次号重放时）：先在平台验证日志中查到该批次，"
        "accepted = 平台已接收（不再发送），missing = 平台未收到（下次运行重新发送）。"
        "只处理核对，不上传；可重复",
    )
    p.add_argument(
        "--resolve-day",
        metavar="YYYY-MM-DD",
        help="配合 --resolve …=accepted：平台验证日志中该批次计入的日期（默认：发送当天）",
    )
    p.set_defaults(handler=_upload)

    r = subparsers.add_parser(
        "readiness",
        help="达标情况：每日统计、连续天数、今天还差多少、能否申请 (exit 0 = 可以申请)",
        description="根据上传台账计算每天（北京时间）各数据集的上传、成功、拒收、重复和成功率，连续达标天数与结论；"
        "平台提供验证日志时与之核对。退出码 0 表示可以申请。",
    )
    r.add_argument("--config", required=True, metavar="PROJECT", help="项目目录或 hlwjr.toml")
    r.add_argument(
        "--format",
        choices=("text", "json", "html"),
        default="text",
        help="text（默认）、json，或 html（证据包：HTML + Excel + 趋势图）",
    )
    r.add_argument("--out", metavar="DIR", help="证据包输出目录（--format html；默认 <工作目录>/evidence）")
    r.add_argument("--today", metavar="YYYY-MM-DD", help="按这一天计算（默认：平台时钟或北京时间今天）")
    r.add_argument("--no-platform", action="store_true", help="不与平台验证日志核对")
    r.set_defaults(handler=_readiness)


def _upload(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from ..upload._project import load_project
    from ..upload._uploader import run_upload

    if args.limit is not None and args.limit < 1:
        raise ConfigError("--limit 必须是正整数")
    project = load_project(args.config)
    if args.resolve:
        return _resolve(project, args.resolve, args.resolve_day, stdout)
    if args.resolve_day:
        raise ConfigError("--resolve-day 只能和 --resolve 一起使用", where="--resolve-day")
    summary = run_upload(
        project,
        datasets=args.dataset,
        date=args.date,
        limit=args.limit,
        dry_run=args.dry_run,
        progress=False if args.no_progress else None,
        update=args.update,
    )
    print(summary.to_text(), file=stdout)
    return 0 if summary.ok else 1


def _resolve(project, items: list[str], day: str | None, stdout: TextIO) -> int:
    """``--resolve BATCH=accepted|missing``: settle unanswered batches by hand (人工核对)."""

    from ..upload._ledger import Ledger
    from ..upload._lock import UploadLock

    pairs = []
    for item in items:
        batch_no, sep, outcome = item.rpartition("=")
        if not sep or not batch_no or outcome not in ("accepted", "missing"):
            raise ConfigError(f"--resolve {item!r} 格式不对：应为 批次号=accepted 或 批次号=missing", where="--resolve")
        pairs.append((batch_no.strip(), outcome))
    if day is not None:
        day = parse_day(day, "--resolve-day").isoformat()
    if not project.ledger_path.exists():
        raise ConfigError(f"还没有上传台账 {project.ledger_path}：没有需要核对的批次", where=str(project.config_file))
    with Ledger(project.ledger_path) as ledger, UploadLock(Path(ledger.path).parent / "upload.lock"):
        for batch_no, outcome in pairs:
            n = ledger.resolve_batch(batch_no, outcome, platform_day=day)
            what = "记为平台已接收，不会再发送" if outcome == "accepted" else "记为平台未收到，下次运行时重新发送"
            print(f"批次 {batch_no}: {n} 条记录{what}", file=stdout)
        left = ledger.unresolved_batches()
    if left:
        print(f"仍有 {len(left)} 个批次未确认: " + "，".join(b.batch_no for b in left), file=stdout)
    return 0


def _readiness(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from ..readiness._evidence import write_evidence_pack
    from ..readiness._readiness import compute_readiness
    from ..upload._project import load_project

    project = load_project(args.config)
    platform_log = None
    reachable = not args.no_platform
    if not args.no_platform:
        try:
            from ..upload._client import PlatformClient

            with PlatformClient.from_project(project) as client:
                platform_log = client.verify_log()
        except HlwjrError as exc:
            reachable = False
            print(f"注意: 无法读取平台验证日志，仅按台账计算（{exc}）", file=stderr)
    r = compute_readiness(project, platform_log=platform_log, today=args.today, ask_platform_clock=reachable)
    if args.format == "json":
        print(r.to_json(), file=stdout)
    elif args.format == "html":
        out = Path(args.out) if args.out else project.work_dir / "evidence"
        paths = write_evidence_pack(r, out, project=project)
        print(r.to_text(), file=stdout)
        print(f"证据包: {paths['html']}  {paths['xlsx']}  {paths['png']}", file=stdout)
    else:
        print(r.to_text(), file=stdout)
    return 0 if r.may_apply and not r.disagreements else 1
