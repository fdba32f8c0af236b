"""Writing files the user will open: all or nothing, with ordinary permissions.

Every report, export, code map, config and spec directory hlwjr writes goes through
:func:`atomic_write` (or :func:`give_default_mode` for a directory built in a temp place): the
content is written to a temporary file beside the target and renamed over it only when complete,
so a crash or an error never leaves a half-written file under the real name (不留半截文件).
Files that hold patients' records are written ``private=True``: owner-only (0600, dirs 0700).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["atomic_write", "give_default_mode", "open_private", "write_key"]


def _umask() -> int:
    """The process umask, read without changing it where the OS allows (Linux /proc)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def give_default_mode(path: str | os.PathLike, *, directory: bool = False) -> None:
    """Give a file or directory made by ``tempfile`` (0600/0700) the usual mode (0644/0755 under
    umask 022) before it is renamed into place, so a report or spec written for colleagues is
    readable like any other file the user creates."""
    os.chmod(path, (0o777 if directory else 0o666) & ~_umask())


def atomic_write(
    target: str | os.PathLike, write: Callable[[Path], object], *, make_parents: bool = True, private: bool = False
) -> Path:
    """Call ``write(tmp_path)`` on a temporary file beside ``target``, then rename it into place.

    On any error the temporary file is removed and ``target`` is left as it was. ``private``: the
    file holds patients' records (mapped records, the evidence pack, a hospital export): it stays
    owner-only (0600) and directories created for it are 0700.
    """
    target = Path(target).expanduser()
    if make_parents and not target.parent.exists():
        target.parent.mkdir(mode=0o700 if private else 0o777, parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=target.suffix or ".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        if not private:
            give_default_mode(tmp)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def open_private(path: str | os.PathLike, mode: str = "wb"):
    """Open a file that will hold patients' records for writing, owner-only (0600) from its first
    byte — also when a file of that name was left behind with other permissions."""
    path = Path(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    if hasattr(os, "fchmod"):  # POSIX; elsewhere the mode given to os.open is all there is
        os.fchmod(fd, 0o600)
    return os.fdopen(fd, mode)


def write_key(path: str | os.PathLike, value: str) -> Path:
    """A platform key (secret, encodingAesKey) into a file of its own, owner-only (0600, its new
    directories 0700) from its first byte, all or nothing; keep it out of git."""
    return atomic_write(path, lambda tmp: tmp.write_text(value + "\n", encoding="utf-8"), private=True)
