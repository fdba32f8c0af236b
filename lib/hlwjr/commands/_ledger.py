"""CLI: ``hlwjr ledger check|backup|rebuild|rebind|prune`` (上传台账) — thin shells over
:mod:`hlwjr.upload._guard`, :mod:`hlwjr.upload._recovery` and :mod:`hlwjr.upload._binding`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from .._exceptions import ConfigError

__all__ = ["register"]


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "ledger",
        help="上传台账：检查、备份、重建 (the upload ledger)",
        description="上传台账记着哪些记录已被平台接收；它丢失、被清空、被替换或损坏时，hlwjr upload 会停下来，"
        "用这里的命令检查和恢复。",
    )
    sub = p.add_subparsers(dest="ledger_command", metavar="COMMAND", required=True)
    _command(sub, "check", _check, "检查台账的身份与完整性 (exit 0 = 正常)")
    _command(sub, "backup", _backup, "立即备份台账（每次上传后也会自动备份）")
    r = _command(
        sub,
        "rebuild",
        _rebuild,
        "重建台账：优先依据平台验证日志，否则依据最近的备份",
        "平台的验证日志能列出已接收的记录时（沙箱可以），按数据源中的记录与平台核对后重建；"
        "否则用最近的、属于本项目的备份恢复。原台账改名保留，不会删除。",
    )
    r.add_argument("--from-backup", metavar="FILE", help="用这个备份恢复（不询问平台）")
    r.add_argument("--force", action="store_true", help="备份之后平台又接收过记录时，仍然用这个备份")
    _command(
        sub,
        "rebind",
        _rebind,
        "确认台账属于现在配置的平台（同一个平台换了地址或 appid 时）",
        "台账记着它发往的平台（地址、appid、机构代码）。平台换了地址或 appid 而确是同一个平台时，"
        "用它确认；从测试切换到正式请改用 [platform.test] / [platform.production]（各有自己的台账）。",
    )
    q = _command(
        sub,
        "prune",
        _prune,
        "清除早已应答批次的报文内容（记录与应答保留），让台账不再无限增长",
        "台账为重发未应答的批次保存每个批次发出的原始报文；批次应答之后它只是一份患者数据的副本。"
        "这里把早于 --older-than 天前应答的批次报文清空并压缩台账；记录的状态、批次号、应答与事件都保留，"
        "去重和达标统计不受影响。较新的批次（申请材料的样例记录取自它们）保留。",
    )
    q.add_argument("--older-than", type=int, default=180, metavar="DAYS", help="应答早于这么多天的批次（缺省 180）")


def _command(sub, name: str, handler, help: str, description: str | None = None) -> argparse.ArgumentParser:
    """A ``hlwjr ledger`` sub-command: every one works on a project (``--config``)."""
    c = sub.add_parser(name, help=help, description=description)
    c.add_argument("--config", required=True, metavar="PROJECT", help="项目目录或 hlwjr.toml")
    c.set_defaults(handler=handler)
    return c


def _check(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from ..upload._guard import check_ledger
    from ..upload._project import load_project
    from ..upload._recovery import list_backups

    project = load_project(args.config)
    witness = check_ledger(project.ledger_path)  # raises LedgerError (exit 2) with what to do
    if witness is None and not project.ledger_path.exists():
        print(f"还没有上传台账（{project.ledger_path}）：本项目尚未上传过", file=stdout)
        return 0
    backups = list_backups(project.ledger_path)
    newest = f"，最近的备份 {backups[0].name}" if backups else "，还没有备份"
    status = "尚无标识"
    if witness:
        status = f"标识 {witness.ledger_id[:8]}，进度 {witness.seq}，已接收 {witness.accepted} 条"
    print(f"台账正常: {project.ledger_path}（{status}{newest}）", file=stdout)
    print(f"  {_platform_line(project)}", file=stdout)
    return 0


def _platform_line(project) -> str:
    """Which platform the ledger speaks for, and how much of it is kept batch bodies (prunable)."""
    from ..upload._binding import binding_text, stored_binding
    from ..upload._ledger import Ledger

    with Ledger(project.ledger_path) as ledger:
        bound = stored_binding(ledger)
        bodies = ledger.stored_bodies()
    where = "尚未绑定平台（第一次上传时绑定）" if bound is None else f"属于 {binding_text(bound)}"
    return f"{where}；保存着 {bodies[0]} 个批次的报文（{bodies[1] / 1e6:.1f} MB，可用 hlwjr ledger prune 清理旧的）"


def _backup(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from ..upload._guard import check_ledger
    from ..upload._project import load_project
    from ..upload._recovery import backup_ledger

    project = load_project(args.config)
    if not project.ledger_path.exists():
        raise ConfigError(f"还没有上传台账 {project.ledger_path}，无需备份", where=str(project.config_file))
    check_ledger(project.ledger_path)  # never back up a damaged or foreign ledger over good backups
    print(f"已备份: {backup_ledger(project.ledger_path)}", file=stdout)
    return 0


def _rebuild(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from ..upload._client import PlatformClient
    from ..upload._lock import UploadLock
    from ..upload._project import load_project
    from ..upload._recovery import rebuild_ledger

    project = load_project(args.config)
    project.ledger_path.parent.mkdir(parents=True, exist_ok=True)
    with UploadLock(Path(project.ledger_path).parent / "upload.lock"):
        if args.from_backup:
            report = rebuild_ledger(project, backup=Path(args.from_backup), force=args.force)
        else:
            with PlatformClient.from_project(project) as client:
                client.max_retries = min(client.max_retries, 2)  # a platform that is down: the backup, soon
                report = rebuild_ledger(project, client=client, force=args.force)
    print(report.to_text(), file=stdout)
    return 0


def _rebind(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from ..upload._binding import binding_text, rebind
    from ..upload._ledger import Ledger
    from ..upload._lock import UploadLock
    from ..upload._project import load_project

    project = load_project(args.config)
    if not project.ledger_path.exists():
        where = str(project.config_file)
        raise ConfigError(f"还没有上传台账 {project.ledger_path}：第一次上传时会自动绑定", where=where)
    with UploadLock(Path(project.ledger_path).parent / "upload.lock"), Ledger.for_project(project) as ledger:
        old, new = rebind(ledger, project)
    if old == new:
        print(f"台账 {project.ledger_path} 本来就属于 {binding_text(new)}，无需确认", file=stdout)
        return 0
    was = "" if old is None else f"（原来：{binding_text(old)}）"
    print(f"台账 {project.ledger_path} 已确认属于 {binding_text(new)}{was}", file=stdout)
    return 0


def _prune(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from datetime import timedelta

    from ..upload._ledger import Ledger, now_shanghai
    from ..upload._lock import UploadLock
    from ..upload._project import load_project

    if args.older_than < 1:
        raise ConfigError(f"--older-than 应为正整数天数，实际为 {args.older_than}", where="--older-than")
    project = load_project(args.config)
    if not project.ledger_path.exists():
        raise ConfigError(f"还没有上传台账 {project.ledger_path}：无需清理", where=str(project.config_file))
    before = (now_shanghai() - timedelta(days=args.older_than)).strftime("%Y-%m-%d")
    with UploadLock(Path(project.ledger_path).parent / "upload.lock"), Ledger.for_project(project) as ledger:
        n, freed = ledger.prune_bodies(before)
    print(
        f"已清空 {n} 个 {before} 之前应答的批次报文，台账缩小 {freed / 1e6:.1f} MB（记录、批次号与应答均保留）",
        file=stdout,
    )
    return 0
