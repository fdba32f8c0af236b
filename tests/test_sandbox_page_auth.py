"""The 验证日志 page needs the organisation's credential like the API: its token (Bearer header
or the cookie of the page's own appid + secret login), or the admin token; anonymous callers get
a 401 login page that names no registered organisation."""

from __future__ import annotations

import pytest

from hlwjr.sandbox import SandboxSettings

OTHER = ("91110000600000000J", "另一家互联网医院")
ADMIN = "admin-token-for-tests"


@pytest.fixture
def sandbox_settings():
    return SandboxSettings(admin_token=ADMIN)


@pytest.fixture
def two_orgs(sandbox_app, sandbox_credentials):
    sandbox_app.state.sandbox.store.register(*OTHER)
    return sandbox_credentials


def bearer(client, creds) -> dict:
    tok = client.post("/hlwjr/api/token", json={"appid": creds.appid, "secret": creds.secret}).json()["data"]
    return {"Authorization": "Bearer " + tok["access_token"]}


def test_anonymous_gets_401_login_page_naming_no_organisation(sandbox_client, two_orgs):
    for path in ("/hlwjr/verify-log", f"/hlwjr/verify-log?org={two_orgs.org_code}", "/hlwjr/verify-log?org=x"):
        r = sandbox_client.get(path)
        assert r.status_code == 401 and r.headers["content-type"].startswith("text/html")
        assert "请登录" in r.text and 'name="secret"' in r.text
        for registered in (two_orgs.org_name, two_orgs.appid, *OTHER):  # (?org= is echoed back as typed)
            assert registered not in r.text
        assert "没有注册" not in r.text  # no probing which codes exist


def test_token_shows_only_its_own_organisation(sandbox_client, two_orgs):
    auth = bearer(sandbox_client, two_orgs)
    r = sandbox_client.get("/hlwjr/verify-log", headers=auth)
    assert r.status_code == 200 and two_orgs.org_name in r.text
    assert OTHER[0] not in r.text and OTHER[1] not in r.text
    other = sandbox_client.get(f"/hlwjr/verify-log?org={OTHER[0]}", headers=auth)
    assert other.status_code == 403 and "无权查看其他机构" in other.text and OTHER[1] not in other.text


@pytest.mark.parametrize("header", ["Bearer nonsense", "Basic abc", "Bearer "])
def test_bad_token_is_401(sandbox_client, two_orgs, header):
    r = sandbox_client.get("/hlwjr/verify-log", headers={"Authorization": header})
    assert r.status_code == 401 and "重新登录" in r.text and two_orgs.org_name not in r.text


def test_login_form_sets_an_httponly_cookie_and_returns_to_the_page(sandbox_client, two_orgs):
    form = {"appid": two_orgs.appid, "secret": two_orgs.secret, "dataset": "revisit"}
    r = sandbox_client.post("/hlwjr/verify-log", data=form)
    assert r.status_code == 303 and r.headers["location"] == "/hlwjr/verify-log?dataset=revisit"
    cookie = r.headers["set-cookie"]
    assert "hlwjr_page_token=" in cookie and "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
    page = sandbox_client.get(r.headers["location"])  # the client keeps the cookie, as a browser does
    assert page.status_code == 200 and two_orgs.org_name in page.text and OTHER[1] not in page.text


@pytest.mark.parametrize(
    ("form", "words"), [({"appid": "nobody", "secret": "x"}, "appid不存在"), ({"appid": "", "secret": ""}, "缺少")]
)
def test_login_refused_is_401_with_the_reason(sandbox_client, two_orgs, form, words):
    r = sandbox_client.post("/hlwjr/verify-log", data=form)
    assert r.status_code in (400, 401) and words in r.text and "set-cookie" not in r.headers
    assert two_orgs.org_name not in r.text


def test_wrong_secret_is_401(sandbox_client, two_orgs):
    r = sandbox_client.post("/hlwjr/verify-log", data={"appid": two_orgs.appid, "secret": "wrong"})
    assert r.status_code == 401 and "secret错误" in r.text


def test_admin_token_sees_every_organisation(sandbox_client, two_orgs):
    admin = {"X-Admin-Token": ADMIN}
    r = sandbox_client.get("/hlwjr/verify-log", headers=admin)
    assert r.status_code == 200 and two_orgs.org_name in r.text and OTHER[1] in r.text
    r = sandbox_client.get(f"/hlwjr/verify-log?org={OTHER[0]}", headers=admin)
    assert r.status_code == 200 and "没有注册" not in r.text
    assert "没有注册" in sandbox_client.get("/hlwjr/verify-log?org=nobody", headers=admin).text
    wrong = sandbox_client.get("/hlwjr/verify-log", headers={"X-Admin-Token": "guess"})
    assert wrong.status_code == 401 and OTHER[1] not in wrong.text


def test_admin_page_without_orgs(sandbox_client):
    r = sandbox_client.get("/hlwjr/verify-log", headers={"X-Admin-Token": ADMIN})
    assert r.status_code == 200 and "尚无注册机构" in r.text
