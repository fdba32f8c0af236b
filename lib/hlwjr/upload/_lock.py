"""The upload lock: one upload per project at a time (a second run started by cron waits or stops)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from .._exceptions import (
    UploadError,
)

# --------------------------------------------------------------------------- lock


class UploadLock:
    """A lock file (``<work_dir>/upload.lock``) so that two runs (e.g. cron + a person) never
    upload at the same time. The OS releases it when the process dies, even on SIGKILL."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                holder = os.read(fd, 64).decode(errors="replace").strip()
            finally:
                os.close(fd)
            raise UploadError(
                f"另一个上传正在进行（进程 {holder or '?'}）；请等它结束后再运行", where=str(self.path)
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> UploadLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
