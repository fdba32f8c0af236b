"""``hlwjr platform check`` without a network: the secret's shape, an unreachable URL and a clock
20 minutes off, each one Chinese line saying what to fix."""

from __future__ import annotations

import email.utils
import io
import time

import httpx

from hlwjr.cli import parse_args, run
from hlwjr.upload._check import check_platform
from hlwjr.upload._project import load_project, write_project


def project(tmp_path, monkeypatch, secret, url="http://gw.test"):
    monkeypatch.setenv("HLWJR_CHECK_SECRET", secret)
    root = write_project(
        tmp_path / "p",
        {
            "project": {"name": "医院", "org_code": "12110000MB0T12345N"},
            "platform": {"profile": "tianjin", "url": url, "appid": "k", "secret_env": "HLWJR_CHECK_SECRET"},
        },
    ).parent
    return load_project(root)


def by_name(checks):
    return {c.name: c for c in checks}


def test_a_secret_of_the_wrong_shape_stops_the_check(tmp_path, monkeypatch):
    checks = by_name(check_platform(project(tmp_path, monkeypatch, "not-hex")))
    assert checks["密钥"].ok is False and "32 位十六进制" in checks["密钥"].message
    assert "not-hex" not in checks["密钥"].message and "网络连通" not in checks


def test_clock_twenty_minutes_off_says_check_the_local_time(tmp_path, monkeypatch):
    def handler(request):
        date = email.utils.formatdate(time.time() - 20 * 60, usegmt=True)
        return httpx.Response(
            200, json={"code": 200, "body": {"msgCode": -98, "msg": "数据为空"}}, headers={"Date": date}
        )

    checks = by_name(check_platform(project(tmp_path, monkeypatch, "a" * 32), transport=httpx.MockTransport(handler)))
    assert checks["本机时间"].ok is False and "请检查本机时间" in checks["本机时间"].message
    assert "20 分钟" in checks["本机时间"].message
    assert checks["身份验证"].ok is True


def test_ip_whitelist_refusal_is_named(tmp_path, monkeypatch):
    def handler(request):
        return httpx.Response(200, json={"code": 40007, "msg": "IP不在白名单"})

    checks = by_name(check_platform(project(tmp_path, monkeypatch, "a" * 32), transport=httpx.MockTransport(handler)))
    assert checks["身份验证"].ok is False and "白名单" in checks["身份验证"].message


def test_unreachable_url_via_cli(tmp_path, monkeypatch):
    import socket

    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    p = project(tmp_path, monkeypatch, "a" * 32, url=f"http://127.0.0.1:{port}")
    out, err = io.StringIO(), io.StringIO()
    code = run(parse_args(["platform", "check", "--config", str(p.root)]), out, err)
    assert code == 1 and "[失败] 网络连通" in out.getvalue() and "Traceback" not in err.getvalue()


def test_token_profile_gets_a_token(sandbox_app, sandbox_credentials, tmp_path, monkeypatch):
    from hlwjr.sandbox import SyncASGITransport

    monkeypatch.setenv("HLWJR_CHECK_TOKEN", sandbox_credentials.secret)
    root = write_project(
        tmp_path / "tok",
        {
            "project": {"name": "医院", "org_code": sandbox_credentials.org_code},
            "platform": {
                "profile": "sandbox",
                "url": "http://sandbox.test/hlwjr",
                "appid": sandbox_credentials.appid,
                "secret_env": "HLWJR_CHECK_TOKEN",
            },
        },
    ).parent
    checks = by_name(check_platform(load_project(root), transport=SyncASGITransport(sandbox_app)))
    assert checks["网络连通"].ok and checks["身份验证"].ok and "令牌" in checks["身份验证"].message
    monkeypatch.setenv("HLWJR_CHECK_TOKEN", "wrong")
    checks = by_name(check_platform(load_project(root), transport=SyncASGITransport(sandbox_app)))
    assert checks["身份验证"].ok is False and "wrong" not in checks["身份验证"].message
