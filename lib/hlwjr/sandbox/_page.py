"""The human 验证日志 page, server-rendered (Jinja2, autoescaped), as the platform's own page shows it.

Like the API it needs a credential: the organisation's token (``Authorization: Bearer …``, or
the cookie set by the page's own appid + secret login form) shows that organisation only; the
admin token (``X-Admin-Token``) shows any organisation and the list of them.  Without one the
answer is a 401 page with the login form — it never names a registered organisation.
"""

from __future__ import annotations

import functools
import hmac
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from ._service import SandboxService
from ._store import Org
from ._wire import PREFIX, ApiError

__all__ = ["PAGE_COOKIE", "PageDenied", "Viewer", "login_answer", "page_viewer", "render_verify_log_page"]

#: the cookie that carries the page's token after a login (HttpOnly, SameSite=Strict)
PAGE_COOKIE = "hlwjr_page_token"
_MAX_FORM = 8 * 1024
_QUERY_KEYS = ("org", "from", "to", "dataset")


class PageDenied(Exception):
    """No (valid) credential for the page: HTTP status and a Chinese message."""

    def __init__(self, status: int, msg: str) -> None:
        super().__init__(msg)
        self.status, self.msg = status, msg


@dataclass
class Viewer:
    """Who looks at the page: one organisation (its token) or the administrator."""

    org: Org | None = None
    admin: bool = False


def page_viewer(service: SandboxService, headers, cookies) -> Viewer:
    """The credential of a page request, or :class:`PageDenied` (401)."""
    given_admin = headers.get("x-admin-token")
    if given_admin is not None:
        expected = service.admin_token
        if expected is None or not hmac.compare_digest(given_admin.encode(), expected.encode()):
            raise PageDenied(401, "管理令牌错误：请求头 X-Admin-Token 应为环境变量 HLWJR_SANDBOX_ADMIN_TOKEN 的值")
        return Viewer(admin=True)
    header = headers.get("authorization")
    if header is None and cookies.get(PAGE_COOKIE):
        header = "Bearer " + cookies[PAGE_COOKIE]
    if header is None:
        raise PageDenied(401, "请登录：验证日志只向本机构显示，请输入机构的 appid 和 secret")
    try:
        return Viewer(org=service.authenticate(header))
    except ApiError as exc:
        raise PageDenied(401, f"{exc.msg}（请重新登录）") from None


def login_answer(service: SandboxService, body: bytes) -> tuple[str, str, int]:
    """The page's login form posted: ``appid``, ``secret`` (+ the query to return to) →
    (token, URL of the page, token lifetime) or :class:`PageDenied`."""
    if len(body) > _MAX_FORM:
        raise PageDenied(413, f"登录表单过大：上限 {_MAX_FORM} 字节")
    form = urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    field = {k: (v[0] if v else "") for k, v in form.items()}
    try:
        issued = service.issue_token(field.get("appid", "").strip(), field.get("secret", ""))
    except ApiError as exc:
        raise PageDenied(exc.status if exc.status in (401, 429) else 401, exc.msg) from None
    back = {k: field[k] for k in _QUERY_KEYS if field.get(k)}
    url = f"{PREFIX}/verify-log" + ("?" + urllib.parse.urlencode(back) if back else "")
    return issued["access_token"], url, int(issued["expires_in"])


def render_login_page(service: SandboxService, query, message: str) -> str:
    """The 401 page: the message and the appid + secret form (no organisation is named)."""
    keep = {k: query.get(k) for k in _QUERY_KEYS if query.get(k)}
    return _env().get_template("login.html").render(message=message, keep=keep, spec=service.spec)


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


def render_verify_log_page(service: SandboxService, query, viewer: Viewer) -> str:
    """HTML of the 验证日志 for one organisation: the viewer's own, or for the administrator
    ``?org=`` 统一社会信用代码 or appid (the only one by default); :class:`PageDenied` (403) when an
    organisation asks for another one."""
    wanted = (query.get("org") or query.get("appid") or "").strip()
    org = None
    error = None
    if not viewer.admin:
        org = viewer.org
        if wanted and wanted not in (org.org_code, org.appid):
            raise PageDenied(403, f"无权查看其他机构的验证日志：当前登录的是 {org.org_name}（{org.org_code}）")
        orgs = [org]
    else:
        orgs = service.store.orgs()
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
