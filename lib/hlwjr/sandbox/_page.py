"""The human 验证日志 page, server-rendered (Jinja2, autoescaped), as the platform's own page shows it."""

from __future__ import annotations

import functools
from pathlib import Path

from ._service import SandboxService
from ._wire import ApiError

__all__ = ["render_verify_log_page"]

_TEMPLATES = Path(__file__).with_name("templates")
_MAX_FAILURES_PER_DAY = 200


@functools.lru_cache(maxsize=1)
def _env():
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def render_verify_log_page(service: SandboxService, query) -> str:
    """HTML of the 验证日志 for one organisation (``?org=`` 统一社会信用代码 or appid; the only one by default)."""
    orgs = service.store.orgs()
    wanted = (query.get("org") or query.get("appid") or "").strip()
    org = None
    error = None
    if wanted:
        org = next((o for o in orgs if wanted in (o.org_code, o.appid)), None)
        if org is None:
            error = f"没有注册统一社会信用代码或appid为 {wanted} 的机构"
    elif len(orgs) == 1:
        org = orgs[0]
    log = None
    failures: dict[str, dict] = {}
    if org is not None:
        try:
            log = service.verify_log(org, query.get("from"), query.get("to"), query.get("dataset"))
        except ApiError as exc:
            error, log = exc.msg, None
        if log is not None:
            for day in log["days"]:
                if day["failed"] or day["duplicate"]:
                    rows = service.verify_records(
                        org,
                        date=day["date"],
                        dataset=query.get("dataset") or None,
                        status="fail,duplicate",
                        limit=_MAX_FAILURES_PER_DAY,
                    )
                    failures[day["date"]] = rows
    template = _env().get_template("verify_log.html")
    return template.render(
        orgs=orgs,
        org=org,
        log=log,
        failures=failures,
        error=error,
        clock=service.clock.as_dict(),
        spec=service.spec,
        query=dict(query),
        max_failures=_MAX_FAILURES_PER_DAY,
    )
