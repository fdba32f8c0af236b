"""Ledger guard (台账守护): the ledger is never the only memory.

Inside ``ledger.sqlite`` the ``meta`` table holds the ledger's id (a UUID made when it was
created) and its sequence (``seq``, +1 on every committed write). Beside it, ``ledger.id`` — a
small JSON file (``kind: hlwjr/ledger-id``) — keeps the same id, the highest sequence seen and the
number of accepted records, rewritten after every commit. Before a run opens the ledger,
:func:`check_ledger` compares the two::

    ledger.id   ledger.sqlite                      verdict
    ─────────   ─────────────────────────────────  ─────────────────────────────────
    absent      absent                             new project (the platform is asked
                                                   elsewhere whether it already has data)
    absent      present                            adopted: ledger.id is written
    present     absent                             lost       → LedgerError
    present     empty / no id                      emptied    → LedgerError
    present     another id                         replaced   → LedgerError
    present     seq lower than ledger.id's         older copy → LedgerError
    any         PRAGMA quick_check fails           damaged    → LedgerError

Every verdict that stops a run says what happened and what to do (``hlwjr ledger rebuild``).
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path

from .._exceptions import LedgerError

__all__ = ["LedgerIdentity", "check_ledger", "read_identity", "witness_path", "write_witness"]

WITNESS_KIND = "hlwjr/ledger-id"
_REBUILD = "请运行 `hlwjr ledger rebuild --config 项目目录` 从平台验证日志或最近的备份恢复台账，恢复前不会发送任何数据"


@dataclass(frozen=True)
class LedgerIdentity:
    """Who a ledger is (id) and how far it has got (seq, accepted)."""

    ledger_id: str
    seq: int
    accepted: int = 0


def witness_path(ledger_path: Path) -> Path:
    return Path(ledger_path).with_name("ledger.id")


def read_witness(ledger_path: Path) -> LedgerIdentity | None:
    """What ``ledger.id`` says, or None when there is none (a project that never uploaded)."""
    path = witness_path(ledger_path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return LedgerIdentity(str(data["ledger_id"]), int(data["seq"]), int(data.get("accepted", 0)))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise LedgerError(
            f"台账标识文件 {path} 无法读取或已损坏（{exc}）：它记录了台账的身份，用来防止重复上传。{_REBUILD}",
            where=str(path),
        ) from exc


def write_witness(ledger_path: Path, identity: LedgerIdentity) -> None:
    """Rewrite ``ledger.id`` (0600, atomically); it never goes backwards."""
    path = witness_path(ledger_path)
    old = _quiet_witness(ledger_path)
    if old and old.ledger_id == identity.ledger_id and old.seq > identity.seq:
        return
    body = {
        "kind": WITNESS_KIND,
        "version": 1,
        "ledger_id": identity.ledger_id,
        "seq": identity.seq,
        "accepted": identity.accepted,
        "note": "hlwjr 上传台账的身份与进度；请勿删除或修改（删除不会让已接收的记录被重发，但会让上传停下来）",
    }
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(body, fh, ensure_ascii=False, indent=2)
    os.replace(tmp, path)


def _quiet_witness(ledger_path: Path) -> LedgerIdentity | None:
    try:
        return read_witness(ledger_path)
    except LedgerError:
        return None


def read_identity(db: sqlite3.Connection) -> LedgerIdentity | None:
    """The identity stored inside an open ledger, None when it has none (new or emptied)."""
    try:
        meta = dict(db.execute("SELECT k, v FROM meta WHERE k IN ('ledger_id', 'seq')").fetchall())
        accepted = db.execute("SELECT count(*) FROM records WHERE state='accepted'").fetchone()[0]
    except sqlite3.DatabaseError:
        return None
    if "ledger_id" not in meta:
        return None
    return LedgerIdentity(meta["ledger_id"], int(meta.get("seq", 0)), int(accepted))


def new_identity(db: sqlite3.Connection) -> LedgerIdentity:
    """Give a freshly created ledger its id (inside an open transaction or autocommit)."""
    ledger_id = uuid.uuid4().hex
    db.execute("INSERT OR IGNORE INTO meta VALUES ('ledger_id', ?)", (ledger_id,))
    db.execute("INSERT OR IGNORE INTO meta VALUES ('seq', '0')")
    return read_identity(db) or LedgerIdentity(ledger_id, 0)


def check_ledger(ledger_path: Path) -> LedgerIdentity | None:
    """Stop with :class:`LedgerError` when the ledger is not the one the last run left behind.

    Returns what ``ledger.id`` says (None for a project that never wrote a ledger).
    """
    path = Path(ledger_path)
    witness = read_witness(path)
    if witness is None:
        if path.exists():
            _check_health(path)
        return None
    if not path.exists():
        raise LedgerError(
            f"上传台账 {path} 不见了，而本项目已经上传过（台账标识 {witness.ledger_id[:8]}，"
            f"{witness.accepted} 条已被平台接收）。若照常上传，平台会把这些记录再收一遍，当天就不能达标。{_REBUILD}",
            where=str(path),
        )
    if path.stat().st_size == 0:
        raise LedgerError(
            f"上传台账 {path} 已被清空（0 字节），而本项目已有 {witness.accepted} 条记录被平台接收。{_REBUILD}",
            where=str(path),
        )
    _check_health(path)
    _check_same(path, witness)
    return witness


def _check_health(path: Path) -> None:
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    except sqlite3.DatabaseError as exc:
        raise _damaged(path, str(exc)) from exc
    try:
        rows = db.execute("PRAGMA quick_check").fetchall()
    except sqlite3.DatabaseError as exc:
        raise _damaged(path, str(exc)) from exc
    finally:
        db.close()
    if rows != [("ok",)]:
        raise _damaged(path, "；".join(str(r[0]) for r in rows[:3]))


def _damaged(path: Path, detail: str) -> LedgerError:
    return LedgerError(
        f"上传台账 {path} 已损坏（SQLite 完整性检查未通过: {detail}）。损坏的台账可能漏记已接收的记录。{_REBUILD}",
        where=str(path),
    )


def _check_same(path: Path, witness: LedgerIdentity) -> None:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        found = read_identity(db)
    finally:
        db.close()
    if found is None:
        raise LedgerError(
            f"上传台账 {path} 是空的或不是本项目的台账，而本项目已有 {witness.accepted} 条记录被平台接收"
            f"（台账被清空或替换）。{_REBUILD}",
            where=str(path),
        )
    if found.ledger_id != witness.ledger_id:
        raise LedgerError(
            f"上传台账 {path} 被换成了另一个台账（标识 {found.ledger_id[:8]}，本项目的是 {witness.ledger_id[:8]}）。"
            f"请放回原来的台账，或{_REBUILD[2:]}",
            where=str(path),
        )
    if found.seq < witness.seq:
        raise LedgerError(
            f"上传台账 {path} 是一个旧副本（进度 {found.seq}，上次运行已到 {witness.seq}；"
            f"旧副本里有 {found.accepted} 条已接收，上次运行结束时是 {witness.accepted} 条）：其后被接收的记录"
            f"会被重发。{_REBUILD}",
            where=str(path),
        )
