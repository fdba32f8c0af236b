"""Windows too: every module imports, and the upload lock works, with the POSIX-only modules
made unavailable (as on Windows Server, where hospital server rooms often run hlwjr)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

LIB = Path(__file__).resolve().parents[1] / "lib"

_WITHOUT_POSIX = textwrap.dedent(
    """
    import sys
    for name in ("fcntl", "termios", "resource", "pwd", "grp", "posix_ipc"):
        sys.modules[name] = None  # `import fcntl` now raises ImportError, as on Windows
    import importlib, pkgutil, hlwjr
    failed = []
    for m in pkgutil.walk_packages(hlwjr.__path__, "hlwjr."):
        try:
            importlib.import_module(m.name)
        except ImportError as exc:
            failed.append(f"{m.name}: {exc}")
    assert not failed, failed
    from hlwjr.upload._lock import UploadLock
    from hlwjr import UploadError
    lock = UploadLock(sys.argv[1])
    with lock:
        try:
            UploadLock(sys.argv[1]).acquire()
        except UploadError as exc:
            assert "另一个上传正在进行" in exc.message
        else:
            raise AssertionError("a second lock was granted")
    with UploadLock(sys.argv[1]):
        pass  # released: can be taken again
    print("ok", len(list(pkgutil.walk_packages(hlwjr.__path__, "hlwjr."))))
    """
)


def test_every_module_imports_and_the_lock_works_without_posix_modules(tmp_path):
    env_path = str(LIB)
    proc = subprocess.run(
        [sys.executable, "-c", _WITHOUT_POSIX, str(tmp_path / "upload.lock")],
        capture_output=True,
        text=True,
        timeout=240,
        env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.startswith("ok")
    assert int(proc.stdout.split()[1]) > 80
