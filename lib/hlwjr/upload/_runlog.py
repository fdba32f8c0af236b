"""The per-run log (运行日志): what one ``hlwjr upload`` did, line by line, as it happened.

``<work_dir>/logs/upload-<time>-<pid>.jsonl`` (0600; the newest 60 are kept): one JSON object per
line — ``start``, every ``batch`` answered (data set, batch number, records, outcome), every
``retry`` (attempt, wait, reason) and ``give_up``, then ``end`` with the totals, or ``abort``
with the error. Each line is flushed as written, so a run killed by a signal (SIGKILL, a power
cut) still shows where it stopped; the next run finds a log without ``end`` and says so.
No record content and no business key is written here — batch numbers and counts only.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._ledger import now_shanghai

__all__ = ["RunLog", "UnfinishedRun", "last_unfinished_run"]

_KEEP = 60


def _logs_dir(work_dir: Path) -> Path:
    return Path(work_dir) / "logs"


class RunLog:
    """An append-only JSON-lines log of one run; thread-safe (batches may be sent in parallel)."""

    def __init__(self, work_dir: Path, command: str = "upload", **start: Any) -> None:
        d = _logs_dir(work_dir)
        d.mkdir(mode=0o700, parents=True, exist_ok=True)
        now = now_shanghai()  # the name sorts by time, to the microsecond
        self.path = d / f"{command}-{now:%Y%m%d-%H%M%S-%f}-{os.getpid()}.jsonl"
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._fh = os.fdopen(fd, "a", encoding="utf-8")
        self._lock = threading.Lock()
        self.retries = 0
        self.gave_up: list[str] = []
        self.event("start", command=command, pid=os.getpid(), **start)
        _rotate(d)

    def event(self, kind: str, **fields: Any) -> None:
        line = json.dumps({"at": f"{now_shanghai():%Y-%m-%d %H:%M:%S}", "event": kind, **fields}, ensure_ascii=False)
        with self._lock:
            if self._fh.closed:
                return
            self._fh.write(line + "\n")
            self._fh.flush()

    def retry(self, *, attempt: int, wait: float, reason: str, path: str = "") -> None:
        """What :class:`PlatformClient` reports before it waits and tries again."""
        self.retries += 1
        self.event("retry", attempt=attempt, wait=round(wait, 3), reason=reason, path=path)

    def give_up(self, *, attempts: int, reason: str, path: str = "") -> None:
        self.gave_up.append(reason)
        self.event("give_up", attempts=attempts, reason=reason, path=path)

    def close(self, kind: str = "end", **fields: Any) -> None:
        self.event(kind, **fields)
        with self._lock:
            self._fh.close()


def _rotate(d: Path) -> None:
    for old in sorted(d.glob("*.jsonl"), reverse=True)[_KEEP:]:
        with contextlib.suppress(OSError):
            old.unlink()


@dataclass(frozen=True)
class UnfinishedRun:
    """A run whose log has no ``end``/``abort``: it was killed, or the machine stopped."""

    path: Path
    started: str
    last_event: dict[str, Any]

    def to_text(self) -> str:
        last = self.last_event
        where = (
            f"最后发送的是 {last.get('dataset')} 批次 {last.get('batch_no')}（{last.get('at')}）"
            if last.get("event") == "batch"
            else f"最后一条记录：{last.get('event')}（{last.get('at')}）"
        )
        return (
            f"上次运行（开始于 {self.started}，日志 {self.path.name}）没有正常结束，可能被中止：{where}。"
            "已发出而未确认的批次记在台账中，本次已先按原批次号核对/重放，不会重复"
        )


def last_unfinished_run(work_dir: Path, command: str = "upload") -> UnfinishedRun | None:
    """The newest log of ``command`` if it has no ``end``/``abort`` line. Called under the upload
    lock, so that run cannot still be going."""
    logs = sorted(_logs_dir(work_dir).glob(f"{command}-*.jsonl"), reverse=True)
    if not logs:
        return None
    events = _read_events(logs[0])
    if not events or events[-1].get("event") in ("end", "abort"):
        return None
    return UnfinishedRun(logs[0], str(events[0].get("at", "")), events[-1])


def _read_events(path: Path) -> list[dict[str, Any]]:
    out = []
    with contextlib.suppress(OSError):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                value = json.loads(line)
                if isinstance(value, dict):
                    out.append(value)
    return out  # a line cut short by the kill is skipped
