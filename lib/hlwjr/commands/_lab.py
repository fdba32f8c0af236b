"""``hlwjr lab`` (``make lab``): the analyst's workbench — the sandbox platform (when the project
rehearses against it) and JupyterLab on 127.0.0.1, opening ``notebooks/00_开始_setup.ipynb``.

The sandbox's URL and admin token are handed to the notebooks' kernels through the environment
(``HLWJR_SANDBOX_URL``, ``HLWJR_SANDBOX_ADMIN_TOKEN``), so every notebook talks to the same sandbox
and its data (``<project>/.hlwjr/sandbox``) survives restarts.  Ctrl-C stops JupyterLab and the
sandbox (by PID).
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import TextIO
from urllib.parse import quote

from .._exceptions import ConfigError

__all__ = ["START_NOTEBOOK", "find_notebooks", "free_port", "lab_command", "project_uses_sandbox", "register"]

START_NOTEBOOK = "00_开始_setup.ipynb"


def free_port(host: str = "127.0.0.1") -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def find_notebooks(start: Path | None = None) -> Path:
    """The workbench root: the directory holding ``notebooks/00_开始_setup.ipynb`` (the current
    directory or a parent, else the repository this package is installed from)."""
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents, Path(__file__).resolve().parents[3]):
        if (d / "notebooks" / START_NOTEBOOK).exists():
            return d
    raise ConfigError(f"找不到 notebooks/{START_NOTEBOOK}：请在仓库根目录运行 `make lab`", where=str(here))


def project_uses_sandbox(project_dir: Path) -> bool:
    """True when the project rehearses against the sandbox (no ``hlwjr.toml`` yet = the demo, or
    ``[platform] profile = "sandbox"``)."""
    from ..upload._project import PROJECT_FILE, load_project

    config = project_dir / PROJECT_FILE
    if not config.exists():
        return True
    return load_project(config).platform.profile == "sandbox"


def lab_url(port: int, token: str) -> str:
    """The address to open: the setup notebook on the loopback port, with the access token."""
    return f"http://127.0.0.1:{port}/lab/tree/notebooks/{quote(START_NOTEBOOK)}?token={token}"


def lab_command(
    root: Path, *, port: int, token: str | None = None, open_browser: bool = True, python: str | None = None
) -> list[str]:
    """The JupyterLab command line: loopback only, rooted at ``root``, opening the setup notebook."""
    cmd = [
        python or sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}",
        f"--LabApp.default_url=/lab/tree/notebooks/{START_NOTEBOOK}",
    ]
    if token is not None:
        cmd.append(f"--IdentityProvider.token={token}")
    if not open_browser:
        cmd.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--ServerApp.allow_root=True")  # containers and CI run as root
    return cmd


def _run(args, stdout: TextIO, stderr: TextIO) -> int:
    from ..sandbox._settings import ADMIN_TOKEN_ENV
    from ..workbench._workbench import DEFAULT_PROJECT_DIR, SANDBOX_URL_ENV

    root = find_notebooks(Path(args.root) if args.root else None)
    project = Path(args.project) if args.project else (root / "notebooks" / DEFAULT_PROJECT_DIR).resolve()
    env = dict(os.environ)
    sandbox = None
    if not args.no_sandbox and project_uses_sandbox(project):
        from ..sandbox import Sandbox

        sandbox = Sandbox(project / ".hlwjr" / "sandbox").start()
        env[SANDBOX_URL_ENV] = sandbox.url
        env[ADMIN_TOKEN_ENV] = sandbox.admin_token
        print(f"沙箱平台: {sandbox.url}（进程 {sandbox.pid}，数据 {sandbox.data_dir}）", file=stdout)
    port = args.port or free_port()
    token = args.token or secrets.token_hex(24)  # ours, so the printed address can carry it
    cmd = lab_command(root, port=port, token=token, open_browser=not args.no_browser)
    print(f"JupyterLab: {lab_url(port, token)}（Ctrl-C 停止；地址含访问令牌，勿外传）", file=stdout)
    if args.project:
        print(f"项目目录: {project}（在笔记本参数单元格中设 PROJECT_DIR = {str(project)!r}）", file=stdout)
    stdout.flush()
    proc = None

    def _terminate(signum, frame):  # `kill PID` stops JupyterLab and the sandbox too
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        proc = subprocess.Popen(cmd, cwd=root, env=env)
        return proc.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if sandbox is not None:
            sandbox.stop()
            print("沙箱已停止", file=stdout)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "lab",
        help="启动工作台：沙箱平台 + JupyterLab（打开 00_开始_setup）",
        description="启动分析员工作台：项目使用沙箱时先启动沙箱平台，再在 127.0.0.1 上启动 "
        "JupyterLab 并打开 notebooks/00_开始_setup.ipynb。",
    )
    p.add_argument("--project", metavar="DIR", help="项目目录（hlwjr.toml 所在；默认演示项目 demo-out/workbench）")
    p.add_argument("--root", metavar="DIR", help="工作台根目录（含 notebooks/；默认当前目录或仓库）")
    p.add_argument("--port", type=int, default=None, help="JupyterLab 端口（默认取一个空闲端口）")
    p.add_argument("--token", default=None, help="JupyterLab 访问令牌（默认由 JupyterLab 生成）")
    p.add_argument("--no-browser", action="store_true", help="不自动打开浏览器")
    p.add_argument("--no-sandbox", action="store_true", help="不启动沙箱（连接真实平台时）")
    p.set_defaults(handler=_run)
