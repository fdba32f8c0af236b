"""Reading a platform's answer as it arrives (平台应答): the JSON body however it is encoded, what
is wrong with an answer that is no JSON object (a gateway's HTML error page, an empty or cut-off
body), a short readable excerpt of such a page, and the wait a ``Retry-After`` header asks for.

Pure functions over ``httpx.Response``; :mod:`._client` decides what each answer means.
"""

from __future__ import annotations

import html
import json
import re
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from .._privacy import mask_text
from .profiles import signed_headers

__all__ = [
    "EXCERPT_CHARS",
    "answer_defect",
    "answer_snippet",
    "busy_hint",
    "busy_message",
    "ledger_advice",
    "page_excerpt",
    "read_json",
    "retry_after",
    "shown_url",
    "signing_difference",
    "upstream_may_have_it",
    "without_password",
]

#: The most characters of a page quoted in a message (never the whole page).
EXCERPT_CHARS = 80
#: The head of a page that is read for its excerpt (a gateway's page says what it is up front).
_PAGE_HEAD = 64 * 1024

_HIDDEN = re.compile(r"<(script|style|head)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TITLE = re.compile(r"<title\b[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<!--.*?-->|<[^>]*>|<[^>]*$", re.DOTALL)
_SPACE = re.compile(r"\s+")
_SECONDS = re.compile(r"\d{1,12}(?:\.\d+)?")


def read_json(response: httpx.Response) -> Any:
    """The answer's JSON, or None when it is not JSON. Besides UTF-8, gateways answer with a byte
    order mark or in their declared (or undeclared) GBK/GB18030 charset: all are read."""
    raw = response.content
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        pass
    for encoding in dict.fromkeys(e for e in (response.charset_encoding, "utf-8-sig", "gb18030") if e):
        try:
            return json.loads(raw.decode(encoding).lstrip("\ufeff"))
        except (LookupError, UnicodeDecodeError, json.JSONDecodeError):
            continue
    return None


def _text(response: httpx.Response) -> str:
    raw = response.content
    for encoding in dict.fromkeys(e for e in (response.charset_encoding, "utf-8") if e):
        try:
            return raw.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return raw.decode("gb18030", errors="replace")


def page_excerpt(response: httpx.Response, limit: int = EXCERPT_CHARS) -> str:
    """The answer's text as a person reads it: tags, scripts and styles stripped, entities decoded,
    white space collapsed (a page's ``<title>`` first), ID and phone numbers masked, at most
    ``limit`` characters."""
    text = _text(response)[:_PAGE_HEAD]
    title = _TITLE.search(text)
    body = _TAG.sub(" ", _HIDDEN.sub(" ", text))
    words = _SPACE.sub(" ", html.unescape(body)).strip()
    head = _SPACE.sub(" ", html.unescape(_TAG.sub(" ", title.group(1)))).strip() if title else ""
    if head and head not in words:
        words = f"{head} {words}".strip()
    words = mask_text(words)
    return words if len(words) <= limit else words[: limit - 1].rstrip() + "…"


def _content_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip()[:60] or "未声明"


def _cut_off(text: str) -> bool:
    """JSON that breaks off: it opens like JSON and the parser ran out of text."""
    stripped = text.strip().lstrip("\ufeff")
    if not stripped.startswith(("{", "[")):
        return False
    try:
        json.loads(stripped)
    except json.JSONDecodeError as exc:
        return exc.pos >= len(stripped.rstrip()) - 1 or "Unterminated" in exc.msg
    return False


_KINDS = {list: "数组", str: "字符串", bool: "布尔值", int: "数字", float: "数字", type(None): "null"}


def answer_defect(response: httpx.Response, data: Any) -> str | None:
    """Why the answer is no platform answer (``data`` = :func:`read_json` of it), in Chinese: HTTP
    status, content type and what the body is; None when it is a JSON object."""
    if isinstance(data, dict):
        return None
    head = f"HTTP {response.status_code}，内容类型 {_content_type(response)}"
    text = _text(response)
    if not text.strip():
        return f"{head}，应答为空"
    if data is None and text.strip() != "null":
        if _cut_off(text):
            return f"{head}，JSON 不完整（{len(response.content)} 字节处中断）：{page_excerpt(response)}"
        return f"{head}，不是 JSON：“{page_excerpt(response) or '（只有标签，无文字）'}”"
    return f"{head}，JSON 不是对象而是{_KINDS.get(type(data), '其他值')}：{page_excerpt(response)}"


def retry_after(response: httpx.Response, now: float) -> float | None:
    """The seconds a ``Retry-After`` header asks to wait (delay-seconds or an HTTP-date); an
    HTTP-date is counted from the answer's own ``Date`` header when it has one (so the local
    clock's error does not matter), else from ``now`` (epoch seconds). None when absent or
    unreadable; never negative."""
    value = (response.headers.get("Retry-After") or "").strip()
    if not value:
        return None
    if _SECONDS.fullmatch(value):
        return float(value)
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return max(0.0, when - _answer_time(response, now))


def _answer_time(response: httpx.Response, now: float) -> float:
    try:
        return parsedate_to_datetime(response.headers.get("Date", "")).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return now


def busy_message(doing: str, response: httpx.Response, data: Any, code: Any, msg: Any) -> str:
    """A transient answer in words: a gateway's page (HTTP status, content type, an excerpt) or the
    platform's own busy code and message."""
    defect = answer_defect(response, data)
    if defect:
        return f"{doing}网关或平台暂时不可用（{defect}）"
    return f"{doing}平台繁忙（HTTP {response.status_code}，code {code}）：{msg}"


def busy_hint(response: httpx.Response, data: Any, *, busy: bool = True) -> str:
    """What to do about an answer worth another try: wait for a gateway's page to go away, or check
    the address when it stays; wait for a busy platform. ``busy=False``: a 2xx that cannot be read."""
    if not busy:
        return "应答一直如此时，请检查 [platform] url 与 proxy 是否指向平台接口。"
    if answer_defect(response, data):
        return "网关暂时不可用，稍后重试；一直如此请检查 [platform] url 与 proxy 是否指向平台接口。"
    return "平台繁忙，稍后重试。"


def ledger_advice(batch: str | None, *, replay_safe: bool) -> str:
    """What becomes of a batch that got no readable answer, as the uploader and the ledger do it:
    replayed under its own batchNo next run (``replay_safe`` platforms), else held for the analyst's
    ``--resolve``."""
    if batch is None:
        return "稍后重试"
    if replay_safe:
        return (
            f"批次 {batch} 已记在台账中（已发送、未确认）：下次运行先用同一批次号、相同内容重放，"
            "平台按批次号返回原结果，不会重复上报，也不会丢失"
        )
    return (
        f"批次 {batch} 在台账中记为已发送、未确认，不会自动重发（平台不支持按批次号重放，重发可能重复）："
        f"请在平台验证日志中核对，然后运行 hlwjr upload --config <项目> --resolve {batch}=accepted"
        "（平台已接收）或 …=missing（平台未收到，下次重发）"
    )


def without_password(url: str | None) -> str:
    """A proxy URL for messages: ``http://user:pass@host:port`` → ``http://***@host:port``."""
    text = str(url or "")
    scheme, sep, rest = text.rpartition("://")
    if "@" in rest:
        rest = "***@" + rest.rpartition("@")[2]
    return f"{scheme}{sep}{rest}"


def shown_url(url: httpx.URL) -> str:
    """A request's URL as messages show it: without its query, which may carry a token or, for a
    query-encoded token request, appid and secret."""
    return str(url.copy_with(query=None))


# a gateway's own error page after it forwarded the request: the platform behind it may have stored it
_UPSTREAM_UNKNOWN = (500, 502, 504)


def upstream_may_have_it(response: httpx.Response, code: Any) -> bool:
    """A 500/502/504 without the platform's own answer code: a gateway (nginx, 前置机) saying the
    platform failed or timed out after the request reached it — whether it stored the batch is
    unknown (a 503 or 429 says it was not taken; the platform's own busy code says so too)."""
    return response.status_code in _UPSTREAM_UNKNOWN and code is None


def answer_snippet(response: httpx.Response) -> str:
    """What a person reads in an answer that is not the platform's JSON (never the whole page)."""
    data = read_json(response)
    return answer_defect(response, data) or f"HTTP {response.status_code}，{page_excerpt(response)}"


def signing_difference(response: httpx.Response, *, keyed: bool) -> str | None:
    """What a gateway's ``X-Ca-Error-Message`` (its string to sign, sent back with a signature
    refusal) says against the request as sent: the headers that reached it changed, or — the same
    text on both sides — the secret that signed it is not the platform's (``keyed``: an HMAC
    signature; an unkeyed SM3 one then means the signature header itself was changed). None
    without one."""
    theirs = response.headers.get("x-ca-error-message")
    if not theirs or response.request is None:
        return None
    ours, _names = signed_headers(response.request.headers)
    sent, got = _signed_items(ours), _signed_items(theirs)
    changed = [n for n in sorted(set(sent) | set(got)) if sent.get(n) != got.get(n)]
    if not changed and keyed:
        return (
            "网关验签所用的请求头与本机发送的一致：签名不符只能是密钥（appSecret）不对，"
            "请核对是否为该 appKey、当前环境的密钥"
        )
    if not changed:
        return "网关验签所用的请求头与本机发送的一致：X-Ca-Signature 本身在途中被改动，请检查代理"
    shown = "；".join(f"{n}（本机 {_cut(sent.get(n))}，网关收到 {_cut(got.get(n))}）" for n in changed[:3])
    return f"网关收到的请求头与本机发送的不同：{shown}——请检查代理或网关是否改写了请求头"


def _signed_items(text: str) -> dict[str, str]:
    items = (part.partition(":") for part in text.split("&") if part)
    return {name.strip().lower(): value for name, _, value in items}


def _cut(value: str | None) -> str:
    if value is None:
        return "无"
    return mask_text(value if len(value) <= 60 else value[:57] + "…")
