"""Which platform a ledger speaks for (台账与平台绑定).

The ledger's "accepted" means *accepted by the platform it sent to*. When an operator points the
project at another platform — the production gateway after the test phase, another province, a
colleague's appid — and keeps the ledger, every record the first platform accepted would be taken
as already accepted by the second and never sent there (a silent loss), and switching back would
send them twice. So the ledger remembers, in its ``meta`` table, the platform of its first real
upload: the gateway's host and path, the appid and the organisation code (not the scheme or port:
an ``http`` → ``https`` or port change of the same gateway is no new platform).

* a ledger without a binding (new, or from before bindings) is bound on its first real upload;
* a ledger that has never sent a record follows the configuration silently;
* otherwise a different platform stops the run before anything is sent (:class:`LedgerError`),
  saying what differs and what to do: separate test and production channels (each its own
  ledger), or ``hlwjr ledger rebind`` when it really is the same platform under a new address.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from .._exceptions import LedgerError

__all__ = ["binding_text", "check_binding", "platform_binding", "rebind", "stored_binding"]

_KEY = "platform"
_PARTS = {"host": "平台地址", "path": "接口路径", "appid": "appid", "org_code": "机构代码"}


def platform_binding(project) -> dict[str, str]:
    """What identifies the platform a project uploads to (host and path of the URL, appid, org)."""
    url = urlsplit(project.platform.url.strip())
    return {
        "host": (url.hostname or "").lower(),
        "path": url.path.rstrip("/"),
        "appid": project.platform.appid.strip(),
        "org_code": str(project.org_code or "").strip(),
    }


def stored_binding(ledger) -> dict[str, str] | None:
    """The platform the ledger speaks for, None before its first real upload."""
    value = ledger.meta(_KEY)
    return None if value is None else json.loads(value)


def _store(ledger, binding: dict[str, str]) -> None:
    ledger.set_meta(_KEY, json.dumps(binding, ensure_ascii=False))


def binding_text(binding: dict[str, str]) -> str:
    """A binding as messages show it: ``gateway.example.cn/api，appid A1，机构 1211…``."""
    b = {k: binding.get(k) or "（空）" for k in _PARTS}
    return f"{b['host']}{binding.get('path', '')}，appid {b['appid']}，机构 {b['org_code']}"


def check_binding(ledger, project) -> None:
    """Bind an unbound ledger; stop when a ledger that has sent records speaks for another platform."""
    current, stored = platform_binding(project), stored_binding(ledger)
    if stored == current:
        return
    sent = ledger.record_count()
    if stored is None or not sent:
        _store(ledger, current)
        return
    differs = "、".join(label for k, label in _PARTS.items() if stored.get(k) != current.get(k))
    raise LedgerError(
        f"上传台账 {ledger.path} 记着发往另一个平台的 {sent} 条记录（台账：{binding_text(stored)}；现在的配置："
        f"{binding_text(current)}；不同的是 {differs}）。照常上传，那个平台已接收的记录会被当作本平台已接收而不再发送，"
        "换回时又会重复发送。从测试切换到正式：请在 hlwjr.toml 分别声明 [platform.test] 与 [platform.production] "
        "并设置 phase（每个阶段有自己的台账，见 docs/project-config.md「测试与正式分开」）；确是同一个平台换了地址或 "
        "appid：运行 `hlwjr ledger rebind --config 项目目录` 确认后再上传。在此之前不会发送任何数据",
        where=str(ledger.path),
    )


def rebind(ledger, project) -> tuple[dict[str, str] | None, dict[str, str]]:
    """Bind the ledger to the configured platform (the operator confirmed it is the same one);
    returns (old, new)."""
    old, new = stored_binding(ledger), platform_binding(project)
    _store(ledger, new)
    return old, new
