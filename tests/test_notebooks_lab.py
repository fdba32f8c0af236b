"""``hlwjr lab`` (``make lab``): the sandbox and JupyterLab on loopback, opening the setup
notebook; both stopped by PID when the command is stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from hlwjr import cli
from hlwjr.commands._lab import START_NOTEBOOK, find_notebooks, lab_command, project_uses_sandbox

ROOT = Path(__file__).resolve().parents[1]


def test_lab_is_a_cli_command():
    args = cli.parse_args(["lab", "--project", "p", "--port", "8899", "--no-browser"])
    assert args.project == "p" and args.port == 8899 and args.no_browser and callable(args.handler)


def test_lab_command_is_loopback_and_opens_the_setup_notebook(tmp_path):
    cmd = lab_command(tmp_path, port=8899, token="t", open_browser=False, python="py")
    assert cmd[:4] == ["py", "-m", "jupyter", "lab"]
    assert "--ServerApp.ip=127.0.0.1" in cmd and "--ServerApp.port=8899" in cmd and "--no-browser" in cmd
    assert f"--LabApp.default_url=/lab/tree/notebooks/{START_NOTEBOOK}" in cmd
    assert f"--ServerApp.root_dir={tmp_path}" in cmd


def test_finds_the_notebooks_and_knows_when_the_sandbox_is_needed(tmp_path):
    assert find_notebooks(ROOT / "tests") == ROOT
    assert project_uses_sandbox(tmp_path / "new-project")  # the demo: no hlwjr.toml yet
    from hlwjr.upload._project import write_project

    write_project(
        tmp_path / "real",
        {
            "project": {"name": "医院", "org_code": "91110108MA01AB12CN"},
            "platform": {"profile": "tianjin", "url": "https://example.invalid/api"},
        },
    )
    assert not project_uses_sandbox(tmp_path / "real")


@pytest.mark.slow
def test_lab_starts_sandbox_and_jupyterlab_and_stops_both(tmp_path):
    from hlwjr.commands._lab import free_port

    port = free_port()
    env = dict(
        os.environ,
        JUPYTER_RUNTIME_DIR=str(tmp_path / "rt"),
        JUPYTER_CONFIG_DIR=str(tmp_path / "cfg"),
        JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "ws"),
        JUPYTER_DATA_DIR=str(tmp_path / "data"),
        PYTHONUNBUFFERED="1",
    )
    log = tmp_path / "lab.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hlwjr.cli",
                "lab",
                "--project",
                str(tmp_path / "project"),
                "--port",
                str(port),
                "--token",
                "lab-test",
                "--no-browser",
            ],
            cwd=ROOT,
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
            try:
                r = httpx.get(
                    f"http://127.0.0.1:{port}/api/contents/notebooks/{START_NOTEBOOK}",
                    params={"token": "lab-test", "content": "0"},
                    timeout=2,
                )
                if r.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
            time.sleep(0.3)
        text = log.read_text(errors="replace")
        sandbox_url = next(
            line.split("沙箱平台: ")[1].split("（")[0] for line in text.splitlines() if "沙箱平台: " in line
        )
        assert httpx.get(sandbox_url + "/sandbox/health", timeout=5).status_code == 200
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(30)
    assert "沙箱已停止" in log.read_text(errors="replace")
    with pytest.raises(httpx.HTTPError):
        httpx.get(sandbox_url + "/sandbox/health", timeout=2)
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{port}/api/status", timeout=2)


def test_the_printed_address_carries_the_access_token():
    from urllib.parse import parse_qs, unquote, urlsplit

    from hlwjr.commands._lab import lab_url

    url = urlsplit(lab_url(8899, "abc123"))
    assert (url.hostname, url.port) == ("127.0.0.1", 8899)
    assert unquote(url.path) == f"/lab/tree/notebooks/{START_NOTEBOOK}"
    assert parse_qs(url.query) == {"token": ["abc123"]}
