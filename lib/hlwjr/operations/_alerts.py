"""Alerts (告警): a command and/or a chat-robot webhook (企业微信/钉钉: ``{"msgtype": "text",
"text": {"content": "…"}}``). A failing alert is written to the run record; it never changes the
run's result."""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

__all__ = ["alert_text", "send_alerts"]

#: alert kind → what it means (Chinese, for the message)
KINDS = {
    "run_failed": "运行失败",
    "refused": "平台拒收",
    "unconfirmed": "未确认批次",
    "source_empty": "源数据为空",
    "reconciliation": "对账不一致",
    "interface_failing": "接口连续失败",
    "sign_in_missing": "未签到",
    "unconfirmed_stale": "未确认批次超时",
}


def alert_text(project_name: str, business_day: str, events: list[dict[str, Any]]) -> str:
    """The message: one line per event, no patient data (keys are masked before they get here)."""
    lines = [f"【hlwjr】{project_name} 业务日期 {business_day}"]
    for e in events:
        lines.append(f"- {KINDS.get(e['kind'], e['kind'])}：{e['message']}")
    return "\n".join(lines)


def send_alerts(settings, text: str, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fire the configured command and webhook; returns one outcome per channel (ok / error)."""
    outcomes = []
    if not events or not settings.enabled:
        return outcomes
    if settings.command:
        outcomes.append(_run_command(settings.command, text, events, settings.timeout))
    url = settings.webhook_url()
    if url:
        outcomes.append(_post_webhook(url, text, settings.timeout))
    elif settings.webhook_env:
        outcomes.append({"channel": "webhook", "ok": False, "error": f"环境变量 {settings.webhook_env} 没有设置"})
    return outcomes


def _run_command(command: str, text: str, events: list[dict[str, Any]], timeout: float) -> dict[str, Any]:
    """The command gets the message on stdin and in ``HLWJR_ALERT_TEXT``, the kinds in
    ``HLWJR_ALERT_KINDS`` (comma-separated); run by the system shell (cmd.exe on Windows)."""
    env = dict(os.environ)
    env["HLWJR_ALERT_TEXT"] = text
    env["HLWJR_ALERT_KINDS"] = ",".join(e["kind"] for e in events)
    try:
        done = subprocess.run(
            command, shell=True, input=text, text=True, env=env, capture_output=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return {"channel": "command", "ok": False, "error": f"告警命令无法运行: {exc}"}
    if done.returncode != 0:
        err = (done.stderr or "").strip()[:200]
        return {"channel": "command", "ok": False, "error": f"告警命令退出码 {done.returncode}: {err}"}
    return {"channel": "command", "ok": True}


def _post_webhook(url: str, text: str, timeout: float) -> dict[str, Any]:
    import httpx

    body = {"msgtype": "text", "text": {"content": text}}
    host = httpx.URL(url).host  # the URL's query holds the robot's key: never written anywhere
    try:
        r = httpx.post(
            url,
            content=json.dumps(body, ensure_ascii=False).encode(),
            timeout=timeout,
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
    except httpx.HTTPError as exc:
        return {"channel": "webhook", "ok": False, "error": f"告警 webhook（{host}）无法访问: {type(exc).__name__}"}
    if r.status_code >= 300:
        return {"channel": "webhook", "ok": False, "error": f"告警 webhook（{host}）返回 HTTP {r.status_code}"}
    try:  # 企业微信/钉钉 answer 200 with {"errcode": 0}; another code is a failure
        code = r.json().get("errcode", 0)
    except (ValueError, AttributeError):
        code = 0
    if code not in (0, "0", None):
        return {"channel": "webhook", "ok": False, "error": f"告警 webhook（{host}）返回 errcode {code}"}
    return {"channel": "webhook", "ok": True}
