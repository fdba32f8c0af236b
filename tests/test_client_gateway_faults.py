"""What an independent gateway in front of the platform does to the client: error pages (HTML from
an nginx, empty bodies, cut-off or non-object JSON), 429/503 with ``Retry-After`` in both forms, a
token that dies mid-run, and answers that never come (read timeouts).

The real sandbox produces what it can (503 + Retry-After, the token rate limit's 429, early token
expiry, latency beyond the read timeout); a loopback "gateway" (stdlib ``http.server``) serves the
pages the sandbox never sends; ``httpx.MockTransport`` only scripts what no server here answers on
demand (HTTP-date ``Retry-After`` headers against a fixed ``Date``, a 401 with 1102 to a well-formed
request). Variations come from hypothesis."""

from __future__ import annotations

import http.server
import io
import json
import re
import threading
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_sandbox_faults import ORG, revisit

from hlwjr import AuthError, PlatformClient, TransportError
from hlwjr._privacy import id_check_char
from hlwjr.cli import parse_args, run
from hlwjr.sandbox import SandboxSettings, SyncASGITransport, create_app
from hlwjr.upload._answers import EXCERPT_CHARS, answer_defect, page_excerpt, read_json, retry_after

DATA = Path(__file__).parent / "data"
_TOKEN = {"code": 0, "msg": "成功", "data": {"access_token": "T1", "expires_in": 7200}}
_QUOTED = re.compile(r"“(.*?)”")


def id_number(n: int) -> str:
    first17 = f"11010119900307{n % 1000:03d}"
    return first17 + id_check_char(first17)


# --------------------------------------------------------------------------- a loopback gateway


class _Gateway(http.server.BaseHTTPRequestHandler):
    """Answers the token request like the sandbox, every other request with ``server.answer``."""

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.endswith("/api/token"):
            status, ctype, body = 200, "application/json", json.dumps(_TOKEN).encode()
        else:
            self.server.hits += 1
            status, ctype, body = self.server.answer
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.do_POST()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def gateway():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Gateway)
    server.hits = 0
    server.answer = (502, "text/html", b"")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


def _through(gateway, answer, *, retries: int, profile: str = "sandbox"):
    """Send one batch through the gateway answering ``answer``; the error, the waits, the hits."""
    gateway.answer, gateway.hits = answer, 0
    sleeps: list[float] = []
    url = f"http://127.0.0.1:{gateway.server_port}/hlwjr"
    with PlatformClient(profile, url, "APP", "good", sleep=sleeps.append, max_retries=retries) as c:
        body = c.encode_batch("B1", [json.dumps(revisit(1))])
        with pytest.raises(TransportError) as err:
            c.send_batch("revisit", "B1", body, 1)
    return err.value, sleeps, gateway.hits


_words = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="<>&“”"), min_size=1, max_size=60
).filter(str.strip)


@st.composite
def error_pages(draw):
    """An nginx-like error page: a title, a heading, a script and a style (marked with "&", which the
    words never hold), filler and an ID number."""
    title, heading, filler = draw(_words), draw(_words), draw(st.text("ab xyz", min_size=0, max_size=3000))
    secret_id = id_number(draw(st.integers(0, 999)))
    script = draw(_words) + "&" + draw(_words)
    page = (
        f"<!DOCTYPE html><html><head><title>{title}</title><style>body{{color:red}} /* & */</style>"
        f"<script>var x = '{script}';</script></head><body><center><h1>{heading}</h1></center>"
        f"<p>request for {secret_id}</p><hr><center>nginx</center>{filler}</body></html>"
    )
    return page, secret_id, script


def _check_excerpt(message: str, page: str, secret_id: str) -> None:
    quoted = _QUOTED.search(message)
    assert quoted, message
    excerpt = quoted.group(1)
    assert len(excerpt) <= EXCERPT_CHARS and "<" not in excerpt and ">" not in excerpt
    assert page not in message and "<html" not in message and "<script" not in message
    assert secret_id not in message


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(page=error_pages(), status=st.sampled_from([500, 502, 503, 504]), retries=st.integers(0, 3))
def test_a_gateways_error_page_is_told_in_a_few_words(gateway, page, status, retries):
    html_page, secret_id, _script = page
    err, sleeps, hits = _through(gateway, (status, "text/html; charset=utf-8", html_page.encode()), retries=retries)
    message = str(err)
    assert "&" not in message  # scripts and styles are no text a person reads
    assert f"HTTP {status}" in message and "text/html" in message and "不是 JSON" in message
    _check_excerpt(message, html_page, secret_id)
    assert "网关暂时不可用，稍后重试" in message and "[platform] url" in message
    assert hits == retries + 1 and len(sleeps) == retries
    assert (f"已重试 {retries} 次" in message) if retries else ("未重试" in message and "已重试" not in message)
    assert "同一批次号" in message  # the sandbox profile replays: what the ledger does with the batch


def test_the_excerpt_is_what_a_person_reads():
    page = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><hr>nginx/1.24</body>"
    response = httpx.Response(502, html=page)
    assert page_excerpt(response) == "502 Bad Gateway nginx/1.24"
    gbk = httpx.Response(
        503, content="<p>服务暂停&nbsp;维护中</p>".encode("gbk"), headers={"Content-Type": "text/html"}
    )
    assert page_excerpt(gbk) == "服务暂停 维护中"


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(max_size=400),
    n=st.integers(0, 999),
    charset=st.sampled_from(["utf-8", "gb18030"]),
    huge=st.booleans(),
)
def test_any_page_gives_a_short_masked_excerpt(text, n, charset, huge):
    secret_id = id_number(n)
    page = f"{text}<b>{secret_id}</b>{text}" + ("<div>" * 50_000 if huge else "")
    response = httpx.Response(
        502, content=page.encode(charset, errors="replace"), headers={"Content-Type": "text/html"}
    )
    excerpt = page_excerpt(response)
    assert len(excerpt) <= EXCERPT_CHARS and secret_id not in excerpt and "\n" not in excerpt
    assert answer_defect(response, read_json(response)).startswith("HTTP 502，内容类型 text/html")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    answer=st.one_of(
        st.just(b""),
        st.just(b"  \r\n"),
        st.integers(1, 140).map(lambda n: json.dumps(_accepted_answer(3), ensure_ascii=False).encode()[:n]),
        st.one_of(
            st.lists(st.integers(), max_size=3), st.text(max_size=20), st.integers(), st.none(), st.booleans()
        ).map(lambda v: json.dumps(v).encode()),
    ),
    status=st.sampled_from([200, 201, 202]),
    ctype=st.sampled_from(["application/json", "text/plain", None]),
)
def test_an_unreadable_2xx_answer_is_an_unknown_outcome(gateway, answer, status, ctype):
    """Empty, cut-off or non-object JSON with a 2xx: the platform may have stored the batch, so it
    is never recorded as refused (that would send it again under a new batchNo: a duplicate)."""
    err, _sleeps, hits = _through(gateway, (status, ctype, answer), retries=1)
    message = str(err)
    assert err.ambiguous and f"HTTP {status}" in message and "是否已收到未知" in message
    assert f"内容类型 {ctype or '未声明'}" in message
    kind = "应答为空" if not answer.strip() else "JSON 不是对象" if _is_json(answer) else "JSON 不完整"
    assert kind in message and "同一批次号" in message and hits == 2  # replayed under the same batchNo


def _is_json(raw: bytes) -> bool:
    try:
        json.loads(raw)
    except ValueError:
        return False
    return True


def _accepted_answer(n: int) -> dict:
    return {
        "code": 0,
        "msg": "成功",
        "data": {"batchNo": "B1", "results": [{"index": i, "status": "ok", "errors": []} for i in range(n)]},
    }


def test_an_unreadable_answer_is_not_re_sent_where_replays_are_unsafe(gateway):
    """A profile without batch replay (tianjin): one request, then the analyst's --resolve."""
    gateway.answer, gateway.hits = (200, "text/html", b"<html><body>OK</body></html>"), 0
    url = f"http://127.0.0.1:{gateway.server_port}/hlwjr"
    secret = "0123456789abcdef0123456789abcdef"
    with PlatformClient("tianjin", url, "APP", secret, sleep=lambda s: None, max_retries=3) as c:
        body = c.encode_batch("T1", [json.dumps(revisit(1))])
        with pytest.raises(TransportError) as err:
            c.send_batch("revisit", "T1", body, 1)
    assert gateway.hits == 1 and err.value.ambiguous
    assert "--resolve T1=accepted" in str(err.value) and "不会自动重发" in str(err.value)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    page=error_pages(), status=st.sampled_from([500, 502, 503, 504]), profile=st.sampled_from(["tianjin", "sandbox"])
)
def test_a_gateway_error_page_after_forwarding_is_never_re_sent_where_replays_are_unsafe(
    gateway, page, status, profile
):
    """nginx's 500/502/504 page: the platform behind it may have stored the batch, so a profile
    without replay sends it once and asks for --resolve; a 503 (not taken) is retried, and a
    profile with replay retries every one under the same batchNo."""
    gateway.answer, gateway.hits = (status, "text/html", page[0].encode()), 0
    url = f"http://127.0.0.1:{gateway.server_port}/hlwjr"
    secret = "0123456789abcdef0123456789abcdef" if profile == "tianjin" else "good"
    with PlatformClient(profile, url, "APP", secret, sleep=lambda s: None, max_retries=2) as c:
        body = c.encode_batch("T1", [json.dumps(revisit(1))])
        with pytest.raises(TransportError) as err:
            c.send_batch("revisit", "T1", body, 1)
    once = profile == "tianjin" and status != 503
    assert gateway.hits == (1 if once else 3)
    assert bool(getattr(err.value, "ambiguous", False)) is (status != 503)  # 503: the platform did not take it
    if once:
        assert "--resolve T1=accepted" in str(err.value) and "是否已收到未知" in str(err.value)
    assert page[1] not in str(err.value)  # the page's ID number is never shown


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(page=error_pages(), status=st.sampled_from([301, 302, 400, 405, 408, 413, 451]))
def test_a_3xx_or_4xx_page_is_no_platform_refusal(gateway, page, status):
    """A proxy's or firewall's page before the platform: refused at once with the page in a few
    words and its status kept (a 413 page from nginx still splits the batch, as the sender does)."""
    from hlwjr import PlatformRejected

    html_page, secret_id, _script = page
    gateway.answer, gateway.hits = (status, "text/html", html_page.encode()), 0
    url = f"http://127.0.0.1:{gateway.server_port}/hlwjr"
    with PlatformClient("sandbox", url, "APP", "good", sleep=lambda s: None) as c:
        with pytest.raises(PlatformRejected) as err:
            c.send_batch("revisit", "B1", c.encode_batch("B1", [json.dumps(revisit(1))]), 1)
    message = str(err.value)
    assert f"HTTP {status}" in message and "代理" in message and gateway.hits == 1
    assert err.value.status == status and err.value.code is None
    _check_excerpt(message, html_page, secret_id)


def test_a_page_where_a_query_expected_json_is_a_clear_refusal(gateway):
    """No batch went out (a verification-log query, a clock): a 2xx page is not retried as an
    unknown outcome, and the run's platform-day lookup falls back to Beijing time on it."""
    from hlwjr import PlatformRejected
    from hlwjr.upload._uploader import _day_fn

    gateway.answer, gateway.hits = (200, "text/html", b"<html><title>Welcome</title><body>index</body></html>"), 0
    url = f"http://127.0.0.1:{gateway.server_port}/hlwjr"
    with PlatformClient("sandbox", url, "APP", "good", sleep=lambda s: None) as c:
        with pytest.raises(PlatformRejected, match="不是平台接口的应答.*HTTP 200.*Welcome index"):
            c.verify_log()
        assert gateway.hits == 1
        assert len(_day_fn(c)()) == 10


@pytest.mark.parametrize("status", [502, 503, 504])
def test_platform_check_says_what_the_gateway_answered(gateway, status, tmp_path, monkeypatch):
    """``hlwjr platform check`` against a gateway whose token interface answers an error page."""
    from hlwjr.upload._check import check_platform
    from hlwjr.upload._project import load_project, write_project

    class TokenDown(_Gateway):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = f"<html><head><title>{status} Service Unavailable</title></head><body>nginx</body></html>"
            self.send_response(status)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body.encode())

        def do_GET(self):
            self.do_POST()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), TokenDown)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("HLWJR_TEST_GW_SECRET", "good")
    cfg = {
        "project": {"name": "测试医院", "org_code": ORG},
        "platform": {
            "profile": "sandbox",
            "url": f"http://127.0.0.1:{server.server_port}/hlwjr",
            "appid": "APP",
            "secret_env": "HLWJR_TEST_GW_SECRET",
        },
    }
    out = io.StringIO()
    try:
        proj = write_project(tmp_path / "proj", cfg)
        checks = check_platform(load_project(proj))
        code = run(parse_args(["platform", "check", "--config", str(proj)]), out, io.StringIO())
    finally:
        server.shutdown()
        server.server_close()
    auth = checks[-1]
    assert auth.ok is False, [c.line() for c in checks]
    assert f"HTTP {status}" in auth.message and "text/html" in auth.message and "code None" not in auth.message
    assert f"“{status} Service Unavailable nginx”" in auth.message and "未重试" in auth.message
    assert "网关暂时不可用，稍后重试" in auth.message and "已重试 0 次" not in auth.message
    printed = out.getvalue()
    assert code == 1 and auth.message in printed and "<" not in printed and "code None" not in printed


def test_platform_check_on_a_gateway_profile_speaks_of_no_ledger(gateway, tmp_path, monkeypatch):
    """The 国密 gateway's check signs in with an empty array outside any ledger: its message for an
    error page neither mentions the ledger nor asks for --resolve."""
    from hlwjr.upload._check import check_platform
    from hlwjr.upload._project import load_project, write_project

    page = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
    gateway.answer = (502, "text/html", page)
    monkeypatch.setenv("HLWJR_TEST_GW_SECRET", "a" * 32)
    url = f"http://127.0.0.1:{gateway.server_port}/hlwjr"
    platform = {"profile": "tianjin", "url": url, "appid": "k", "secret_env": "HLWJR_TEST_GW_SECRET"}
    proj = write_project(tmp_path / "p", {"project": {"name": "医院", "org_code": ORG}, "platform": platform})
    auth = check_platform(load_project(proj))[-1]
    assert auth.ok is False and "HTTP 502" in auth.message and "“502 Bad Gateway nginx”" in auth.message
    assert "台账" not in auth.message and "--resolve" not in auth.message and "未重试" in auth.message


# --------------------------------------------------------------------------- Retry-After


_DATE = datetime(2026, 11, 2, 8, 0, 0, tzinfo=UTC)


@st.composite
def retry_after_headers(draw):
    """(headers, the wait they ask for or None): delay-seconds, an HTTP-date after the answer's
    Date (or before it: no wait), or something unreadable."""
    form = draw(st.sampled_from(["seconds", "date", "past", "junk"]))
    headers = {"Date": format_datetime(_DATE, usegmt=True)}
    if form == "seconds":
        wait = draw(st.integers(0, 600))
        return {**headers, "Retry-After": str(wait)}, float(wait)
    if form in ("date", "past"):
        wait = draw(st.integers(1, 600)) * (1 if form == "date" else -1)
        return {**headers, "Retry-After": format_datetime(_DATE + timedelta(seconds=wait), usegmt=True)}, max(0, wait)
    return {**headers, "Retry-After": draw(st.sampled_from(["soon", "-5", "1e3", "", "Mon, 99 Foo"]))}, None


@settings(max_examples=80, deadline=None)
@given(header=retry_after_headers())
def test_retry_after_reads_both_forms(header):
    headers, wait = header
    assert retry_after(httpx.Response(503, headers=headers), now=0.0) == wait


@settings(max_examples=60, deadline=None)
@given(
    header=retry_after_headers(),
    status=st.sampled_from([429, 503]),
    retries=st.integers(1, 3),
    ceiling=st.sampled_from([5.0, 120.0, 300.0]),
)
def test_retry_after_is_obeyed_up_to_its_ceiling(header, status, retries, ceiling):
    headers, wait = header
    sent = []

    def platform(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/api/token"):
            return httpx.Response(200, json=_TOKEN)
        sent.append(request)
        return httpx.Response(status, json={"code": 5001, "msg": "系统繁忙"}, headers=headers)

    sleeps: list[float] = []
    c = PlatformClient(
        "sandbox",
        "http://platform.test",
        "APP",
        "good",
        transport=httpx.MockTransport(platform),
        sleep=sleeps.append,
        rng=lambda: 1.0,
        max_retries=retries,
        backoff_base=0.5,
        backoff_max=30.0,
        retry_after_max=ceiling,
    )
    with c, pytest.raises(TransportError) as err:
        c.send_batch("revisit", "B1", c.encode_batch("B1", [json.dumps(revisit(1))]), 1)
    message = str(err.value)
    if wait is not None and wait > ceiling:  # longer than we may wait: stop at once and say so
        assert sleeps == [] and len(sent) == 1 and "retry_after_max" in message
        assert f"平台要求 {wait:.0f} 秒后再试" in message
        return
    assert len(sent) == retries + 1 and f"已重试 {retries} 次" in message
    for attempt, slept in enumerate(sleeps):
        backoff = min(30.0, 0.5 * 2**attempt)
        assert slept == (max(backoff, wait) if wait is not None else backoff)
    assert ("Retry-After" in message) == (wait is not None)


def _sandbox(tmp_path, **settings_kw):
    app = create_app(tmp_path / "sandbox", spec=DATA / "sandbox_spec", settings=SandboxSettings(**settings_kw))
    appid, secret, _ = app.state.sandbox.store.register(ORG, "测试医院")
    transport = SyncASGITransport(app)
    return app, appid, secret, transport


def _sandbox_client(transport, appid, secret, **kw) -> PlatformClient:
    return PlatformClient("sandbox", "http://sandbox.test/hlwjr", appid, secret, transport=transport, **kw)


def test_sandbox_503_retry_after_is_honoured(tmp_path):
    app, appid, secret, transport = _sandbox(tmp_path)
    sleeps: list[float] = []
    try:
        with _sandbox_client(transport, appid, secret, sleep=sleeps.append, backoff_base=0.01) as c:
            c.check_auth()
            app.state.sandbox.faults.faults.error_kind = "http503"
            app.state.sandbox.faults.faults.error_next = 2
            result = c.send_batch("revisit", "B1", c.encode_batch("B1", [json.dumps(revisit(1))]), 1)
    finally:
        app.state.sandbox.store.close()
        transport.close()
    assert result.accepted == 1 and result.attempts == 3
    assert sleeps == [1.0, 1.0]  # the sandbox's Retry-After: 1, above the 0.01 s backoff


def test_sandbox_token_rate_limit_beyond_the_ceiling_stops_at_once(tmp_path):
    """The sandbox's token limit answers 429 + Retry-After (≈ 60 s): above retry_after_max the
    client neither waits nor hammers, and says how long the platform asked for."""
    app, appid, secret, transport = _sandbox(tmp_path, token_rate_per_minute=1)
    sleeps: list[float] = []
    try:
        with _sandbox_client(transport, appid, secret, sleep=sleeps.append, retry_after_max=10) as c:
            c.check_auth()
            c.auth.invalidate()
            with pytest.raises(TransportError) as err:
                c.check_auth()
    finally:
        app.state.sandbox.store.close()
        transport.close()
    message = str(err.value)
    assert sleeps == [] and "HTTP 429" in message and "1005" in message
    assert re.search(r"平台要求 (5\d|6\d) 秒后再试（Retry-After），超过最长等待 10 秒", message), message


# --------------------------------------------------------------------------- token expiry mid-run


@settings(max_examples=8, deadline=None)
@given(batches=st.integers(2, 5), expire_before=st.data())
def test_token_expiring_mid_run_is_renewed_once_and_the_batch_re_sent(tmp_path_factory, batches, expire_before):
    """The platform expires every token before batch k (its clock, not ours): the client renews
    once, re-sends that same batch, and the platform holds each record exactly once."""
    k = expire_before.draw(st.integers(1, batches - 1))
    app, appid, secret, transport = _sandbox(tmp_path_factory.mktemp("expiry"))
    service = app.state.sandbox
    try:
        with _sandbox_client(transport, appid, secret, sleep=lambda s: None) as c:
            for b in range(batches):
                if b == k:
                    service.store.expire_tokens(service.clock.now())
                    service.forget_caches()
                records = [json.dumps(revisit(b * 10 + i)) for i in range(3)]
                result = c.send_batch("revisit", f"B{b}", c.encode_batch(f"B{b}", records), 3)
                assert result.accepted == 3 and result.duplicate == 0
            assert c.auth.renewals == 2  # the first token and one renewal, nothing more
            uploaded = _uploaded(service, appid)
    finally:
        app.state.sandbox.store.close()
        transport.close()
    assert uploaded == {"uploaded": 3 * batches, "success": 3 * batches, "duplicate": 0}


def _uploaded(service, appid) -> dict[str, int]:
    """The sandbox's verification log (验证日志) summed over its days."""
    days = service.verify_log(service.org(appid))["days"]
    return {k: sum(int(d[k]) for d in days) for k in ("uploaded", "success", "duplicate")}


def test_a_token_refused_again_after_renewal_is_one_auth_error(tmp_path):
    """Tokens that die at once (sandbox fault token_expire_after=0): renew once, re-send once, stop."""
    app, appid, secret, transport = _sandbox(tmp_path)
    app.state.sandbox.faults.faults.token_expire_after = 0.0
    try:
        with _sandbox_client(transport, appid, secret, sleep=lambda s: None) as c:
            with pytest.raises(AuthError, match="令牌刚刚更新，平台仍然拒绝") as err:
                c.send_batch("revisit", "B1", c.encode_batch("B1", [json.dumps(revisit(1))]), 1)
            assert c.stats["requests"] == 1 and c.auth.renewals == 2
        assert _uploaded(app.state.sandbox, appid)["uploaded"] == 0
    finally:
        app.state.sandbox.store.close()
        transport.close()
    assert "token" in str(err.value) and "过期" in str(err.value)


def test_an_account_disabled_mid_run_is_no_token_to_renew_forever(tmp_path):
    """The sandbox disables the account between two batches (its tokens revoked: 1101): one renewal
    is tried, refused with 1003, and the run stops with the platform's reason; nothing stored."""
    app, appid, secret, transport = _sandbox(tmp_path)
    service = app.state.sandbox
    try:
        with _sandbox_client(transport, appid, secret, sleep=lambda s: None) as c:
            c.send_batch("revisit", "B1", c.encode_batch("B1", [json.dumps(revisit(1))]), 1)
            service.store.set_active(appid, False)
            service.forget_caches()
            with pytest.raises(AuthError, match="1003") as err:
                c.send_batch("revisit", "B2", c.encode_batch("B2", [json.dumps(revisit(2))]), 1)
            assert c.auth.renewals == 1 and c.stats["requests"] == 2
        assert _uploaded(service, appid)["uploaded"] == 1
    finally:
        service.store.close()
        transport.close()
    assert "账号停用" in str(err.value)


def test_a_401_a_new_token_cannot_cure_is_refused_without_renewal():
    """HTTP 401 with one of the profile's ``auth`` codes (1102 格式错误, 1003 账号停用): no token
    request, one AuthError with the platform's reason."""
    tokens = []

    def platform(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/api/token"):
            tokens.append(request)
            return httpx.Response(200, json=_TOKEN)
        return httpx.Response(401, json={"code": 1102, "msg": "Authorization格式错误"})

    with PlatformClient("sandbox", "http://p.test", "APP", "good", transport=httpx.MockTransport(platform)) as c:
        with pytest.raises(AuthError, match="1102 Authorization格式错误"):
            c.send_batch("revisit", "B1", c.encode_batch("B1", [json.dumps(revisit(1))]), 1)
    assert len(tokens) == 1


# --------------------------------------------------------------------------- read timeouts


def test_defect_helpers_agree_on_objects():
    ok = httpx.Response(200, json={"code": 0})
    assert answer_defect(ok, read_json(ok)) is None
