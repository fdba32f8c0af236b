"""The upload lock: one upload per project at a time (a second run started by cron waits or stops).

Portable (Linux, macOS, Windows) through :mod:`filelock`: an OS lock on ``upload.lock`` that the
OS releases when the process dies, even on SIGKILL or a Windows Task Scheduler "end task". The
holder's process id is written beside it (``upload.lock.owner``) so a refused run can say who.
"""

from __future__ import annotations

import os
from pathlib import Path

import filelock

from .._exceptions import UploadError

__all__ = ["UploadLock"]


class UploadLock:
    """A lock file (``<work_dir>/upload.lock``) so that two runs (e.g. cron + a person) never
    upload at the same time."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = filelock.FileLock(str(self.path), mode=0o600)

    @property
    def _owner(self) -> Path:
        return self.path.with_name(self.path.name + ".owner")

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire(timeout=0)
        except filelock.Timeout:
            try:
                holder = self._owner.read_text(encoding="utf-8").strip()
            except OSError:
                holder = ""
            raise UploadError(
                f"另一个上传正在进行（进程 {holder or '?'}）；请等它结束后再运行", where=str(self.path)
            ) from None
        self._owner.write_text(str(os.getpid()), encoding="utf-8")

    def release(self) -> None:
        if self._lock.is_locked:
            self._lock.release()

    def __enter__(self) -> UploadLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
