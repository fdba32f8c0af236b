"""Ledger recovery (台账备份与重建): rotating backups, and rebuilding a lost ledger from the
platform's verification log or from the last backup.

* :func:`backup_ledger` — a consistent copy (SQLite backup API) under ``<work_dir>/backups/``,
  0600, the newest ``keep`` kept; ``hlwjr upload`` makes one after every run that sent data.
* :func:`platform_accepted` — the keys the platform accepted, as one-way digests
  (:func:`hlwjr._privacy.key_digest`), where the profile's verification log lists them.
* :func:`refuse_if_platform_has_data` — a project with no ledger and no ``ledger.id`` is new only
  if the platform agrees: when it already holds accepted records of this organisation, sending
  would duplicate them, so the run stops.
* :func:`rebuild_ledger` — ``hlwjr ledger rebuild``: the platform's log when it can list keys
  (every source record whose key the platform accepted is marked accepted), otherwise the
  newest backup; the old file is kept aside, never deleted.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._exceptions import ConfigError, LedgerError, PlatformRejected, TransportError
from .._privacy import key_digest
from ._guard import LedgerIdentity, check_ledger, new_identity, read_identity, read_witness, witness_path, write_witness
from ._ledger import KEY_SEP, Ledger, _ts, content_hash, now_shanghai, record_json, record_key
from ._mapped import _as_dicts, _map_records

__all__ = [
    "RebuildReport",
    "backup_ledger",
    "list_backups",
    "platform_accepted",
    "rebuild_ledger",
    "refuse_if_platform_has_data",
]

_PAGE = 10000


def _backup_dir(ledger_path: Path) -> Path:
    return Path(ledger_path).parent / "backups"


def list_backups(ledger_path: Path) -> list[Path]:
    """The ledger's backups, newest first."""
    d = _backup_dir(ledger_path)
    return sorted(d.glob("ledger-*.sqlite"), reverse=True) if d.is_dir() else []


def _private_file(path: Path) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)


def backup_ledger(ledger_path: Path, *, keep: int = 10) -> Path:
    """A consistent copy of the ledger in ``backups/ledger-<time>-<seq>.sqlite`` (0600); only the
    newest ``keep`` backups are kept. A ledger unchanged since the newest backup is not copied
    again (that backup is returned), so idle runs never push older states out."""
    src_path = Path(ledger_path)
    d = _backup_dir(src_path)
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    src = sqlite3.connect(str(src_path), timeout=30)
    try:
        ident = read_identity(src)
        seq = ident.seq if ident else 0
        newest = list_backups(src_path)[:1]
        if seq and newest and newest[0].stem.endswith(f"-{seq:08d}"):
            target = newest[0]
        else:
            target = d / f"ledger-{now_shanghai():%Y%m%d-%H%M%S}-{seq:08d}.sqlite"
            _copy_into(src, target)
    finally:
        src.close()
    for old in list_backups(src_path)[keep:]:
        old.unlink(missing_ok=True)
    return target


def _copy_into(src: sqlite3.Connection, target: Path) -> None:
    """SQLite's online backup into a private temporary file, then an atomic rename."""
    tmp = target.with_name(f".{target.name}.tmp")
    _private_file(tmp)
    dst = sqlite3.connect(str(tmp))
    try:
        src.backup(dst)
    finally:
        dst.close()
    os.replace(tmp, target)


# ------------------------------------------------------------------------------- platform


def platform_accepted(client) -> dict[str, tuple[str, str, str | None]] | None:
    """``{key digest: (data set, platform day, received at)}`` of every record the platform
    accepted, or None when its verification log cannot list keys."""
    first = client.verify_log_records(status="ok,duplicate", limit=_PAGE, offset=0)
    if not isinstance(first, dict) or not isinstance(first.get("records"), list):
        return None
    rows = first["records"]
    if rows and "key_digest" not in rows[0]:
        return None
    out: dict[str, tuple[str, str, str | None]] = {}
    total, offset = int(first.get("total") or len(rows)), 0
    while True:
        for r in rows:
            if r.get("key_digest"):
                out.setdefault(r["key_digest"], (r.get("dataset"), r.get("date"), r.get("received_at")))
        offset += len(rows)
        if not rows or offset >= total:
            return out
        page = client.verify_log_records(status="ok,duplicate", limit=_PAGE, offset=offset)
        rows = page.get("records", []) if isinstance(page, dict) else []


def _platform_total(client) -> int | None:
    try:
        page = client.verify_log_records(status="ok,duplicate", limit=1, offset=0)
    except (ConfigError, PlatformRejected):  # no listable log there (404, refused): cannot tell
        return None
    if not isinstance(page, dict) or "total" not in page:
        return None
    return int(page["total"] or 0)


def refuse_if_platform_has_data(client, ledger: Ledger, *, fresh: bool) -> None:
    """A fresh ledger (no ledger, no ``ledger.id`` before this run) while the platform already
    holds this organisation's accepted records: the local memory was lost, stop before sending.
    The fresh, empty ledger is removed again so the next run asks once more."""
    if not fresh:
        return
    total = _platform_total(client)
    if not total:
        return
    ledger.close()
    for p in (ledger.path, *_sidecars(ledger.path), witness_path(ledger.path)):
        p.unlink(missing_ok=True)
    raise LedgerError(
        f"本机没有上传台账（{ledger.path}），但平台上已有本机构 {total} 条已接收的记录：台账丢失或换了电脑/目录。"
        "照常上传会让这些记录在平台上重复。请运行 `hlwjr ledger rebuild --config 项目目录` 从平台验证日志重建台账",
        where=str(ledger.path),
    )


def _sidecars(path: Path) -> list[Path]:
    return [path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


# ------------------------------------------------------------------------------- rebuild


@dataclass
class RebuildReport:
    """What ``hlwjr ledger rebuild`` did."""

    source: str  # "platform" | "backup"
    ledger_path: Path
    kept_aside: Path | None = None
    backup: Path | None = None
    adopted: dict[str, int] = field(default_factory=dict)  # data set → records marked accepted
    platform_total: int = 0
    unmatched: int = 0  # accepted on the platform, not found in the source
    gap: int = 0  # accepted after the backup was made (backup mode)
    notes: list[str] = field(default_factory=list)

    def to_text(self) -> str:
        lines = [f"台账已重建: {self.ledger_path}"]
        if self.kept_aside:
            lines.append(f"  原台账已保留为 {self.kept_aside}（未删除）")
        if self.source == "platform":
            n = sum(self.adopted.values())
            lines.append(f"  依据: 平台验证日志（平台上已接收 {self.platform_total} 条）")
            lines += [f"  {ds}: {k} 条标记为已接收" for ds, k in sorted(self.adopted.items())]
            lines.append(f"  合计 {n} 条；今后不会再发送它们")
            if self.unmatched:
                lines.append(f"  另有 {self.unmatched} 条在平台上已接收、但当前数据源中找不到（它们不会被发送）")
        else:
            lines.append(f"  依据: 备份 {self.backup}")
            if self.gap:
                lines.append(f"  注意: 备份之后平台又接收了约 {self.gap} 条记录，备份中没有（已按 --force 继续）")
        lines += [f"  {n}" for n in self.notes]
        return "\n".join(lines)


def _keep_aside(path: Path) -> Path | None:
    if not path.exists():
        for s in _sidecars(path):
            s.unlink(missing_ok=True)
        return None
    aside = path.with_name(f"{path.name}.replaced-{now_shanghai():%Y%m%d-%H%M%S}")
    os.replace(path, aside)
    for s in _sidecars(path):
        if s.exists():
            os.replace(s, aside.with_name(aside.name + s.name[len(path.name) :]))
    return aside


def rebuild_ledger(
    project, *, client=None, backup: Path | None = None, force: bool = False, records=None
) -> RebuildReport:
    """Rebuild the project's ledger: from the platform's verification log when it lists keys (and
    no ``backup`` is named), otherwise from ``backup`` or the newest backup. ``records``
    (``{data set: records}``) are the candidates to match against the platform; by default the
    project's mapping is run over its whole source."""
    path = Path(project.ledger_path)
    accepted, why = None, None
    if backup is None and client is not None:
        try:
            accepted = platform_accepted(client)
        except TransportError as exc:  # the platform is down: the newest backup, still gap-checked
            why = f"平台暂时无法连接（{exc.message}），改用最近的备份；平台恢复后可再运行一次从平台重建"
    if accepted is not None:
        return _from_platform(project, path, accepted, records)
    report = _from_backup(path, backup, force=force)
    if why:
        report.notes.insert(0, why)
    return report


def _from_platform(project, path: Path, accepted: dict[str, tuple], records) -> RebuildReport:
    from ..spec._load import load_spec

    spec = load_spec(project.spec)
    notes: list[str] = []
    if records is None:
        codes = list(project.datasets) or [d.code for d in spec.top_level()]
        records, _, _ = _map_records(project, spec, [spec.dataset(c).code for c in codes], None, notes, set())
    rows, matched = [], set()
    for code, recs in records.items():
        key_fields = spec.dataset(code).key
        for r in _as_dicts(recs):
            parts = record_key(r, key_fields)
            hit = accepted.get(key_digest(parts))
            if hit is None:
                continue
            matched.add(key_digest(parts))
            rows.append((code, KEY_SEP.join(parts), _hash(r), hit[1] or _ts()[:10], hit[2]))
    report = RebuildReport("platform", path, kept_aside=_keep_aside(path), platform_total=len(accepted))
    witness_path(path).unlink(missing_ok=True)
    with Ledger(path) as ledger:
        ledger.identity = new_identity(ledger._db)
        ledger.adopt_accepted(rows)
    _reopen_guarded(path)
    for code, *_ in rows:
        report.adopted[code] = report.adopted.get(code, 0) + 1
    report.unmatched = len(accepted) - len(matched)
    report.notes = notes
    return report


def _hash(record: dict[str, Any]) -> str:
    try:
        return content_hash(record_json(record))
    except (TypeError, ValueError):
        return ""


def _from_backup(path: Path, backup: Path | None, *, force: bool) -> RebuildReport:
    witness = read_witness(path)
    chosen = Path(backup) if backup else _newest_matching(path, witness)
    if chosen is None or not chosen.is_file():
        raise LedgerError(
            "无法重建台账：平台接口描述没有可列出已接收记录的验证日志，也没有台账备份"
            f"（{_backup_dir(path)}）。请联系平台导出本机构已接收记录的清单，核对后再上传",
            where=str(path),
        )
    src = sqlite3.connect(f"file:{chosen}?mode=ro", uri=True)
    try:
        ident = read_identity(src)
        ok = src.execute("PRAGMA quick_check").fetchall() == [("ok",)]
    except sqlite3.DatabaseError:
        ident, ok = None, False
    if not ok or ident is None:
        src.close()
        raise LedgerError(f"备份 {chosen} 不是完好的 hlwjr 台账，不能用来恢复；请换一个备份", where=str(chosen))
    gap = max(0, witness.accepted - ident.accepted) if witness and witness.ledger_id == ident.ledger_id else 0
    if gap and not force:
        src.close()
        raise LedgerError(
            f"备份 {chosen.name} 之后平台又接收了约 {gap} 条记录，备份中没有：用它恢复，这些记录会被重发成重复。"
            "请先在平台验证日志中核对；确认要用这个备份时加 --force",
            where=str(chosen),
        )
    report = RebuildReport("backup", path, kept_aside=_keep_aside(path), backup=chosen, gap=gap)
    _private_file(path)
    dst = sqlite3.connect(str(path))
    try:
        src.backup(dst)
        seq = max(ident.seq, witness.seq if witness else 0) + 1
        dst.execute("UPDATE meta SET v=? WHERE k='seq'", (str(seq),))
        dst.commit()
    finally:
        dst.close()
        src.close()
    write_witness(path, LedgerIdentity(ident.ledger_id, seq, ident.accepted))
    _reopen_guarded(path)
    return report


def _newest_matching(path: Path, witness: LedgerIdentity | None) -> Path | None:
    backups = list_backups(path)
    if witness is None:
        return backups[0] if backups else None
    for b in backups:
        db = sqlite3.connect(f"file:{b}?mode=ro", uri=True)
        try:
            ident = read_identity(db)
        finally:
            db.close()
        if ident and ident.ledger_id == witness.ledger_id:
            return b
    return None


def _reopen_guarded(path: Path) -> None:
    """Open the rebuilt ledger the way a run will, so ``ledger.id`` matches it."""
    check_ledger(path)
    ledger = Ledger(path)
    try:
        ledger.identity = read_identity(ledger._db)
        ledger._note_progress(count_accepted=True)
    finally:
        ledger.close()
