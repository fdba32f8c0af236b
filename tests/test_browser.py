"""The real-browser test: JupyterLab on a free loopback port, Debian's Chromium driven by Playwright,
notebook 03_字段对照_map_fields run with "Run All Cells", one dropdown of the MappingEditor changed,
and the preview and the progress text must change in the page.  A screenshot is saved under the
test's directory and under ``test-output/`` (git-ignored)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
NOTEBOOK = "03_字段对照_map_fields.ipynb"
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _skip_reason() -> str | None:
    if not CHROMIUM.exists():
        return "Chromium 未安装（/usr/bin/chromium）：`make browser` 用 apt-get 安装；无法安装的环境跳过浏览器测试"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright 未安装（pip install playwright）"
    return None


@pytest.fixture
def own_sandbox(tmp_path):
    from hlwjr.sandbox import Sandbox

    sb = Sandbox(tmp_path / "sandbox").start()
    yield sb
    sb.stop()


@pytest.fixture
def jupyterlab(tmp_path, own_sandbox):
    """JupyterLab as a subprocess on a free loopback port, its state in tmp_path; stopped by PID."""
    from hlwjr.commands._lab import free_port, lab_command
    from hlwjr.sandbox._settings import ADMIN_TOKEN_ENV
    from hlwjr.workbench._workbench import SANDBOX_URL_ENV

    root = tmp_path / "lab"
    (root / "notebooks").mkdir(parents=True)
    shutil.copy(ROOT / "notebooks" / NOTEBOOK, root / "notebooks" / NOTEBOOK)
    state = tmp_path / "jupyter"
    settings = state / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}), encoding="utf-8")
    env = dict(os.environ)
    env.update(
        {
            "JUPYTER_CONFIG_DIR": str(state / "config"),
            "JUPYTER_RUNTIME_DIR": str(state / "runtime"),
            "JUPYTER_DATA_DIR": str(state / "data"),
            "JUPYTERLAB_SETTINGS_DIR": str(state / "settings"),
            "JUPYTERLAB_WORKSPACES_DIR": str(state / "workspaces"),
            SANDBOX_URL_ENV: own_sandbox.url,
            ADMIN_TOKEN_ENV: own_sandbox.admin_token,
        }
    )
    port, token = free_port(), "hlwjr-browser-test"
    cmd = lab_command(root, port=port, token=token, open_browser=False, python=sys.executable)
    cmd += ["--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    log = open(tmp_path / "jupyterlab.log", "wb")  # noqa: SIM115 - closed when the server stops
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise AssertionError(
                    "JupyterLab 启动失败:\n" + (tmp_path / "jupyterlab.log").read_text(errors="replace")[-3000:]
                )
            try:
                if httpx.get(f"{base}/api/status", params={"token": token}, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("JupyterLab 90 秒内未就绪")
            time.sleep(0.3)
        yield {"url": f"{base}/lab/tree/notebooks/{NOTEBOOK}?token={token}", "root": root}
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()


def test_mapping_editor_in_a_real_browser(jupyterlab, tmp_path):
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    shots = [tmp_path / "mapping_editor.png", ROOT / "test-output" / "browser" / "mapping_editor.png"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=ARGS,
            viewport={"width": 1600, "height": 1400},
        )
        try:
            page = browser.new_page()
            page.set_default_timeout(120_000)
            page.goto(jupyterlab["url"])
            page.wait_for_selector(".jp-Notebook")
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")
            try:  # JupyterLab may ask which kernel to use; the notebook names python3
                page.locator(".jp-Dialog .jp-mod-accept").click(timeout=4000)
            except Exception:
                pass
            page.click("li.lm-MenuBar-item:has-text('Run')")
            page.click(
                "li.lm-Menu-item[data-command='runmenu:run-all-cells'], li.lm-Menu-item[data-command='runmenu:run-all']"
            )
            progress = page.locator(".hlwjr-progress-text")
            progress.wait_for()
            select = page.locator(".hlwjr-col-patientName select")
            select.wait_for()
            preview = page.locator(".hlwjr-preview-table")
            before_progress, before_preview = progress.inner_text(), preview.inner_text()
            assert "必填字段已对照" in before_progress
            assert "patientName" in before_preview
            select.scroll_into_view_if_needed()
            # patient name from the doctor's name column (ys.XM): a visible change. Options are
            # labelled "COLUMN · score" for suggestions, plain "COLUMN" otherwise.
            labels = select.locator("option").all_inner_texts()
            label = next((t for t in labels if t.split()[0] == "ys.XM"), None)
            assert label, labels
            select.select_option(label=label)
            page.wait_for_function(
                "([a, b]) => document.querySelector('.hlwjr-progress-text').innerText !== a && "
                "document.querySelector('.hlwjr-preview-table').innerText !== b",
                arg=[before_progress, before_preview],
                timeout=60_000,
            )
            after_progress, after_preview = progress.inner_text(), preview.inner_text()
            assert after_progress != before_progress and after_preview != before_preview
            assert "取列 ys.XM" in after_preview
            page.locator(".hlwjr-progress").scroll_into_view_if_needed()
            for shot in shots:
                shot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(shot))
            # the changed row and the preview below it
            page.locator(".hlwjr-preview-table").scroll_into_view_if_needed()
            changed = [s.with_name("mapping_editor_preview.png") for s in shots]
            for shot in changed:
                page.screenshot(path=str(shot))
            shots += changed
            # at scale: search narrows the rows, the shown suggestions are accepted at once
            rows = page.locator("[class*='hlwjr-col-'] select")
            all_rows = rows.count()
            search = page.locator(".hlwjr-search input")
            search.scroll_into_view_if_needed()
            search.fill("patient")
            page.wait_for_function(
                "n => document.querySelectorAll(\"[class*='hlwjr-col-'] select\").length < n", arg=all_rows
            )
            assert 0 < rows.count() < all_rows
            page.locator(".hlwjr-accept-shown").click()
            page.wait_for_function("() => document.body.innerText.includes('条显示中的建议')")
            page.locator(".hlwjr-filter button:has-text('待审核')").click()
            page.set_viewport_size({"width": 1280, "height": 1000})
            page.wait_for_timeout(500)
            overflow = page.evaluate(
                "() => [...document.querySelectorAll('.widget-gridbox')].map(g => g.scrollWidth - g.clientWidth)"
            )
            assert overflow and max(overflow) <= 1, overflow  # nothing clipped at 1280 px
            filtered = [s.with_name("mapping_editor_filter_1280.png") for s in shots[:2]]
            for shot in filtered:
                page.screenshot(path=str(shot))
            shots += filtered
            assert not page.locator(".hlwjr-errors .hlwjr-error").count(), page.locator(".hlwjr-errors").inner_text()
        finally:
            browser.close()
    assert all(s.stat().st_size > 10_000 for s in shots)
