"""Sandbox platform API, in-process (SyncASGITransport over httpx.ASGITransport): registration,
token, upload (ok / fail / duplicate / replay / whole batch), bad input, security."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import httpx
import pytest

from hlwjr.sandbox import SandboxSettings, SyncASGITransport, create_app

DATA = Path(__file__).parent / "data"
ORG = "12110000MB0T12345N"
OTHER_ORG = "121100004000000014"


@pytest.fixture
def sandbox_spec():
    return DATA / "sandbox_spec"


def revisit(i, org=ORG, **over):
    rec = {
        "organID": org,
        "bussID": f"R{i}",
        "patientName": "张三",
        "patientCertID": "11010119900307123X",
        "patientSex": "1",
        "patientAge": 36,
        "visitTime": "2026-11-01 09:00:00",
    }
    rec.update(over)
    return rec


def recipe(i, buss="R0", org=ORG, **over):
    rec = {
        "organID": org,
        "recipeID": f"C{i}",
        "bussID": buss,
        "recipeFee": 12.5,
        "orderList": [{"drugName": "阿莫西林胶囊", "quantity": 2}],
    }
    rec.update(over)
    return rec


def token(client, creds) -> str:
    r = client.post("/hlwjr/api/token", json={"appid": creds.appid, "secret": creds.secret})
    assert r.status_code == 200, r.text
    return r.json()["data"]["access_token"]


@pytest.fixture
def auth(sandbox_client, sandbox_credentials):
    return {"Authorization": f"Bearer {token(sandbox_client, sandbox_credentials)}"}


def upload(client, auth, dataset, records, batch_no="B1"):
    return client.post(f"/hlwjr/api/upload/{dataset}", json={"batchNo": batch_no, "records": records}, headers=auth)


def count(app, table):
    return app.state.sandbox.store.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


# -- registration and token ---------------------------------------------------------------------
def test_token_good(sandbox_client, sandbox_credentials):
    r = sandbox_client.post(
        "/hlwjr/api/token", json={"appid": sandbox_credentials.appid, "secret": sandbox_credentials.secret}
    )
    body = r.json()
    assert r.status_code == 200 and body["code"] == 0 and body["msg"] == "成功"
    assert body["data"]["expires_in"] == 7200 and len(body["data"]["access_token"]) >= 32


@pytest.mark.parametrize(
    "payload, status, code",
    [
        ({"appid": "nobody", "secret": "x"}, 401, 1001),
        ({"appid": None, "secret": "x"}, 400, 2008),
        ({"secret": "x"}, 400, 2008),
    ],
)
def test_token_refused(sandbox_client, sandbox_credentials, payload, status, code):
    r = sandbox_client.post("/hlwjr/api/token", json=payload)
    assert (r.status_code, r.json()["code"]) == (status, code)
    assert r.json()["msg"]


def test_token_wrong_secret_and_disabled(sandbox_app, sandbox_client, sandbox_credentials):
    r = sandbox_client.post("/hlwjr/api/token", json={"appid": sandbox_credentials.appid, "secret": "wrong"})
    assert (r.status_code, r.json()["code"]) == (401, 1002)
    assert "secret错误" in r.json()["msg"]
    auth = {"Authorization": f"Bearer {token(sandbox_client, sandbox_credentials)}"}
    sandbox_app.state.sandbox.store.set_active(sandbox_credentials.appid, False)
    sandbox_app.state.sandbox.forget_caches()
    r = sandbox_client.post(
        "/hlwjr/api/token", json={"appid": sandbox_credentials.appid, "secret": sandbox_credentials.secret}
    )
    assert (r.status_code, r.json()["code"]) == (401, 1003)
    r = upload(sandbox_client, auth, "revisit", [revisit(0)])
    assert r.status_code == 401  # tokens of a disabled account die with it


def test_secret_is_stored_only_as_salted_hash(sandbox_app, sandbox_client, sandbox_credentials, sandbox_dir):
    tok = token(sandbox_client, sandbox_credentials)
    sandbox_app.state.sandbox.store.conn.execute("PRAGMA wal_checkpoint(FULL)")
    raw = b"".join(p.read_bytes() for p in Path(sandbox_dir).glob("sandbox.sqlite*"))
    assert sandbox_credentials.secret.encode() not in raw
    assert tok.encode() not in raw
    # a second registration of the same hospital keeps the appid and replaces the secret
    appid, secret, reset = sandbox_app.state.sandbox.store.register(ORG, "新名称")
    assert reset and appid == sandbox_credentials.appid and secret != sandbox_credentials.secret
    r = sandbox_client.post("/hlwjr/api/token", json={"appid": appid, "secret": sandbox_credentials.secret})
    assert r.json()["code"] == 1002


def test_register_rejects_bad_org_code(sandbox_app):
    from hlwjr import ConfigError

    with pytest.raises(ConfigError, match="校验位"):
        sandbox_app.state.sandbox.store.register("91110108MA01AB12CA", "某医院")
    with pytest.raises(ConfigError, match="18位"):
        sandbox_app.state.sandbox.store.register("123", "某医院")


def test_token_rate_limit(sandbox_dir, sandbox_spec):
    app = create_app(sandbox_dir, spec=sandbox_spec, settings=SandboxSettings(token_rate_per_minute=3))
    appid, secret, _ = app.state.sandbox.store.register(ORG, "医院")
    with httpx.Client(transport=SyncASGITransport(app), base_url="http://t") as c:
        codes = [c.post("/hlwjr/api/token", json={"appid": appid, "secret": secret}).json()["code"] for _ in range(4)]
        r = c.post("/hlwjr/api/token", json={"appid": appid, "secret": secret})
    assert codes == [0, 0, 0, 1005]
    assert r.status_code == 429 and "过于频繁" in r.json()["msg"] and int(r.headers["retry-after"]) > 0
    app.state.sandbox.store.close()


def test_admin_registration_endpoint(sandbox_dir, sandbox_spec):
    app = create_app(sandbox_dir, spec=sandbox_spec, settings=SandboxSettings(admin_token="adm-123"))
    with httpx.Client(transport=SyncASGITransport(app), base_url="http://t") as c:
        body = {"org_code": ORG, "org_name": "北京某互联网医院"}
        assert c.post("/hlwjr/sandbox/register", json=body).json()["code"] == 1202
        assert c.post("/hlwjr/sandbox/register", json=body, headers={"X-Admin-Token": "nope"}).status_code == 403
        r = c.post("/hlwjr/sandbox/register", json=body, headers={"X-Admin-Token": "adm-123"})
        data = r.json()["data"]
        assert r.status_code == 200 and data["appid"] and data["secret"] and data["reset"] is False
        assert c.post("/hlwjr/api/token", json={"appid": data["appid"], "secret": data["secret"]}).json()["code"] == 0
        # controls are protected too once an admin token is configured
        assert c.post("/hlwjr/sandbox/clock", json={"advance_days": 1}).status_code == 403
        orgs = c.get("/hlwjr/sandbox/orgs", headers={"X-Admin-Token": "adm-123"}).json()["data"]
        assert [o["org_code"] for o in orgs] == [ORG] and "secret" not in orgs[0]
        r = c.post(f"/hlwjr/sandbox/orgs/{data['appid']}/disable", headers={"X-Admin-Token": "adm-123"})
        assert r.json()["data"]["active"] is False
        assert (
            c.post("/hlwjr/api/token", json={"appid": data["appid"], "secret": data["secret"]}).json()["code"] == 1003
        )
    app.state.sandbox.store.close()


def test_admin_registration_disabled_without_token(sandbox_client, monkeypatch):
    r = sandbox_client.post("/hlwjr/sandbox/register", json={"org_code": ORG, "org_name": "x"})
    assert (r.status_code, r.json()["code"]) == (403, 1201)
    assert "HLWJR_SANDBOX_ADMIN_TOKEN" in r.json()["msg"]


# -- authorization -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "header, code",
    [
        (None, 1102),
        ("Token abc", 1102),
        ("Bearer", 1102),
        ("Bearer a b", 1102),
        ("Bearer not-a-token", 1101),
    ],
)
def test_upload_needs_valid_bearer_token(sandbox_app, sandbox_client, sandbox_credentials, header, code):
    headers = {"Authorization": header} if header else {}
    r = sandbox_client.post(
        "/hlwjr/api/upload/revisit", json={"batchNo": "1", "records": [revisit(0)]}, headers=headers
    )
    assert (r.status_code, r.json()["code"]) == (401, code)
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert count(sandbox_app, "upload_log") == 0


def test_every_api_call_but_token_needs_token(sandbox_client):
    for path in ("/hlwjr/api/verify-log", "/hlwjr/api/verify-log/records"):
        assert sandbox_client.get(path).status_code == 401


def test_expired_token_has_its_own_code(sandbox_app, sandbox_client, auth):
    assert upload(sandbox_client, auth, "revisit", [revisit(0)]).json()["code"] == 0
    sandbox_app.state.sandbox.set_clock(advance=7201)
    r = upload(sandbox_client, auth, "revisit", [revisit(1)], "B2")
    assert (r.status_code, r.json()["code"]) == (401, 1101) and "过期" in r.json()["msg"]


# -- upload ------------------------------------------------------------------------------------
def test_upload_ok(sandbox_app, sandbox_client, auth):
    r = upload(sandbox_client, auth, "revisit", [revisit(i) for i in range(3)])
    body = r.json()
    assert r.status_code == 200 and body["code"] == 0 and body["msg"] == "成功"
    d = body["data"]
    assert (d["batchNo"], d["total"], d["success"], d["failed"], d["duplicate"]) == ("B1", 3, 3, 0, 0)
    assert [x["status"] for x in d["results"]] == ["ok"] * 3
    assert d["results"][1] == {"index": 1, "key": f"{ORG}|R1", "status": "ok", "errors": []}
    assert count(sandbox_app, "records") == 3


def test_upload_by_alias(sandbox_client, auth):
    assert upload(sandbox_client, auth, "DS05", [revisit(0)]).json()["data"]["dataset"] == "revisit"


def test_upload_fail_names_field_and_rule(sandbox_app, sandbox_client, auth):
    bad = [revisit(0), revisit(1, patientSex="7", visitTime="2026-02-30 09:00:00"), revisit(2, patientName=None)]
    d = upload(sandbox_client, auth, "revisit", bad).json()["data"]
    assert (d["success"], d["failed"], d["duplicate"]) == (1, 2, 0)
    errs = {(e["field"], e["rule"]) for e in d["results"][1]["errors"]}
    assert ("patientSex", "code_set") in errs and ("visitTime", "datetime") in errs
    assert any(e["field"] == "patientName" for e in d["results"][2]["errors"])
    assert all(e["msg"] for r in d["results"] for e in r["errors"])
    assert count(sandbox_app, "records") == 1


def test_upload_child_records_and_reference_to_accepted(sandbox_client, auth):
    d = upload(sandbox_client, auth, "recipe", [recipe(0, buss="R0")]).json()["data"]
    assert d["failed"] == 1 and d["results"][0]["errors"][0]["rule"] == "reference"
    assert upload(sandbox_client, auth, "revisit", [revisit(0)], "B2").json()["data"]["success"] == 1
    rc = [recipe(1, buss="R0"), recipe(2, orderList=[]), recipe(3, orderList=[{"drugName": "x", "quantity": "a"}])]
    d = upload(sandbox_client, auth, "recipe", rc, "B3").json()["data"]
    assert [r["status"] for r in d["results"]] == ["ok", "fail", "fail"]
    assert d["results"][1]["errors"][0]["rule"] == "min_items"
    assert d["results"][2]["errors"][0]["field"].startswith("orderList[0]")


def test_duplicates_of_accepted_and_inside_batch(sandbox_app, sandbox_client, auth):
    upload(sandbox_client, auth, "revisit", [revisit(0), revisit(1)])
    d = upload(sandbox_client, auth, "revisit", [revisit(1), revisit(2), revisit(2), revisit(3)], "B2").json()["data"]
    assert [r["status"] for r in d["results"]] == ["duplicate", "ok", "duplicate", "ok"]
    assert (d["success"], d["failed"], d["duplicate"]) == (2, 0, 2)
    assert d["results"][0]["errors"][-1]["rule"] == "duplicate"
    assert count(sandbox_app, "records") == 4  # duplicates are counted, not stored again


def test_replay_returns_original_answer_and_counts_nothing(sandbox_app, sandbox_client, auth):
    recs = [revisit(0), revisit(1, patientSex="x")]
    first = upload(sandbox_client, auth, "revisit", recs)
    again = upload(sandbox_client, auth, "revisit", json.loads(json.dumps(recs)))
    assert again.status_code == 200 and again.headers["x-hlwjr-replay"] == "1"
    assert again.json() == first.json()
    assert count(sandbox_app, "upload_log") == 2 and count(sandbox_app, "batches") == 1
    # the same batchNo with other content is refused
    r = upload(sandbox_client, auth, "revisit", [revisit(0), revisit(1)])
    assert (r.status_code, r.json()["code"]) == (409, 2007)
    assert "batchNo" in r.json()["msg"]
    assert count(sandbox_app, "upload_log") == 2


def test_token_uploads_only_for_its_own_organisation(sandbox_app, sandbox_client, auth):
    d = upload(sandbox_client, auth, "revisit", [revisit(0, org=OTHER_ORG)]).json()["data"]
    assert d["results"][0]["status"] == "fail"
    assert d["results"][0]["errors"][-1]["rule"] == "organ_mismatch"
    assert count(sandbox_app, "records") == 0


def test_masked_keys_in_answers(sandbox_client, auth):
    doc = {"organID": ORG, "doctorCertID": "11010119900307123X", "doctorName": "王医生"}
    d = upload(sandbox_client, auth, "doctor", [doc]).json()["data"]
    assert d["results"][0]["key"] == f"{ORG}|110101********123X"


@pytest.mark.parametrize("sandbox_settings", [SandboxSettings(whole_batch=True)])
def test_whole_batch_mode(sandbox_app, sandbox_client, auth):
    r = upload(sandbox_client, auth, "revisit", [revisit(0), revisit(1, patientSex="x"), revisit(2)])
    body = r.json()
    assert r.status_code == 200 and body["code"] == 2010 and "整批拒收" in body["msg"]
    assert [x["status"] for x in body["data"]["results"]] == ["fail"] * 3
    assert body["data"]["results"][0]["errors"][0]["rule"] == "whole_batch"
    assert count(sandbox_app, "records") == 0
    good = upload(sandbox_client, auth, "revisit", [revisit(0), revisit(2)], "B2").json()
    assert good["code"] == 0 and good["data"]["success"] == 2


# -- bad input ---------------------------------------------------------------------------------
def raw_upload(client, auth, content, dataset="revisit", **headers):
    return client.post(
        f"/hlwjr/api/upload/{dataset}", content=content, headers={**auth, "Content-Type": "application/json", **headers}
    )


@pytest.mark.parametrize(
    "content, status, code, words",
    [
        (b"{bad json", 400, 2001, "JSON"),
        (b"", 400, 2001, "为空"),
        ('{"batchNo": "\xff"}'.encode("latin-1"), 400, 2001, "UTF-8"),
        (b"[1, 2]", 400, 2002, "对象"),
        (b'"text"', 400, 2002, "对象"),
        (b'{"batchNo": "1"}', 400, 2003, "records"),
        (b'{"batchNo": "1", "records": {"a": 1}}', 400, 2003, "数组"),
        (b'{"batchNo": "1", "records": "x"}', 400, 2003, "数组"),
        (b'{"batchNo": "1", "records": []}', 400, 2003, "空"),
        (b'{"records": [{}]}', 400, 2006, "batchNo"),
        (b'{"batchNo": "  ", "records": [{}]}', 400, 2006, "batchNo"),
        (b'{"batchNo": {"x": 1}, "records": [{}]}', 400, 2006, "batchNo"),
        (b'{"batchNo": "1", "records": [NaN]}', 400, 2001, "NaN"),
        (b"[" * 200_000 + b"]" * 200_000, 400, 2001, "嵌套"),
        (b'{"batchNo": "1", "records": [{"bussID": ' + b"[" * 1020 + b"]" * 1020 + b"}]}", 400, 2001, "嵌套"),
    ],
)
def test_bad_input(sandbox_app, sandbox_client, auth, content, status, code, words):
    r = raw_upload(sandbox_client, auth, content)
    body = r.json()
    assert (r.status_code, body["code"]) == (status, code), body
    assert words in body["msg"]
    assert count(sandbox_app, "upload_log") == 0 and count(sandbox_app, "batches") == 0


def test_unknown_dataset(sandbox_client, auth):
    r = upload(sandbox_client, auth, "nosuch", [revisit(0)])
    assert (r.status_code, r.json()["code"]) == (404, 2004)
    assert "revisit" in r.json()["msg"]


def test_batch_over_limit(sandbox_app, sandbox_client, auth):
    r = upload(sandbox_client, auth, "revisit", [revisit(i) for i in range(101)])
    assert (r.status_code, r.json()["code"]) == (400, 2005) and "100" in r.json()["msg"]
    assert count(sandbox_app, "records") == 0


def test_records_that_are_not_objects_fail_alone(sandbox_client, auth):
    d = upload(sandbox_client, auth, "revisit", [revisit(0), "text", 5]).json()["data"]
    assert [r["status"] for r in d["results"]] == ["ok", "fail", "fail"]


@pytest.mark.parametrize("sandbox_settings", [SandboxSettings(max_body_bytes=4096)])
def test_body_over_limit_is_413(sandbox_app, sandbox_client, auth):
    big = json.dumps({"batchNo": "1", "records": [revisit(i) for i in range(40)]}).encode()
    r = raw_upload(sandbox_client, auth, big)
    assert (r.status_code, r.json()["code"]) == (413, 4130)
    # without Content-Length (chunked): counted while streaming
    r = sandbox_client.post(
        "/hlwjr/api/upload/revisit",
        content=iter([big[:3000], big[3000:]]),
        headers={**auth, "Content-Type": "application/json"},
    )
    assert (r.status_code, r.json()["code"]) == (413, 4130)
    assert count(sandbox_app, "upload_log") == 0


def test_unknown_path_and_method_keep_the_envelope(sandbox_client):
    r = sandbox_client.get("/hlwjr/api/nothing")
    assert (r.status_code, r.json()["code"]) == (404, 4040)
    r = sandbox_client.get("/hlwjr/api/token")
    assert (r.status_code, r.json()["code"]) == (405, 4050)


def test_bad_query_parameters(sandbox_client, auth):
    r = sandbox_client.get("/hlwjr/api/verify-log?from=2026/11/01", headers=auth)
    assert (r.status_code, r.json()["code"]) == (400, 2000)
    r = sandbox_client.get("/hlwjr/api/verify-log/records?limit=x", headers=auth)
    assert (r.status_code, r.json()["code"]) == (400, 2000)
    r = sandbox_client.get("/hlwjr/api/verify-log/records?status=weird", headers=auth)
    assert r.status_code == 400
    r = sandbox_client.get("/hlwjr/api/verify-log?dataset=nosuch", headers=auth)
    assert (r.status_code, r.json()["code"]) == (404, 2004)


def test_impossible_dates_and_reversed_range_are_refused(sandbox_client, auth):
    """A date that matches YYYY-MM-DD but is not on the calendar (month 13, 30 Feb) is a 400 with a
    Chinese message naming the parameter, not an empty verification log."""
    for query, name in (("from=2026-13-01", "from"), ("to=2026-02-30", "to")):
        r = sandbox_client.get(f"/hlwjr/api/verify-log?{query}", headers=auth)
        assert (r.status_code, r.json()["code"]) == (400, 2000)
        assert f"参数 {name} 不是有效日期" in r.json()["msg"]
    r = sandbox_client.get("/hlwjr/api/verify-log/records?date=2026-11-31", headers=auth)
    assert (r.status_code, r.json()["code"]) == (400, 2000) and "不是有效日期" in r.json()["msg"]
    r = sandbox_client.get("/hlwjr/api/verify-log?from=2026-11-03&to=2026-11-01", headers=auth)
    assert (r.status_code, r.json()["code"]) == (400, 2000) and "晚于" in r.json()["msg"]
    r = sandbox_client.get("/hlwjr/verify-log?from=2026-13-01", headers=auth)
    assert r.status_code == 200 and "不是有效日期" in r.text


def test_failed_storage_leaves_nothing(sandbox_app, sandbox_client, auth, monkeypatch):
    store = sandbox_app.state.sandbox.store
    upload(sandbox_client, auth, "revisit", [revisit(0)])
    real = store.conn
    # simulate a failure in the middle of the transaction: the log insert fails after records went in
    original_save = type(store).save_batch

    def half_save(self, **kw):
        kw["log"] = [(0, None, None, None)]  # NOT NULL status → IntegrityError inside the transaction
        return original_save(self, **kw)

    monkeypatch.setattr(type(store), "save_batch", half_save)
    with pytest.raises(sqlite3.IntegrityError):
        upload(sandbox_client, auth, "revisit", [revisit(1)], "B2")
    assert real.execute("SELECT COUNT(*) FROM records").fetchone()[0] == 1
    assert real.execute("SELECT COUNT(*) FROM batches").fetchone()[0] == 1


# -- group processing (several requests validated together) -------------------------------------
def test_process_group_keeps_arrival_order_semantics(sandbox_app, sandbox_credentials):
    service = sandbox_app.state.sandbox
    org = service.store.org_by_appid(sandbox_credentials.appid)
    first = service.prepare_upload(org, "revisit", {"batchNo": "G1", "records": [revisit(0), revisit(1)]})
    recipes = service.prepare_upload(org, "recipe", {"batchNo": "G2", "records": [recipe(0, buss="R1")]})
    dup = service.prepare_upload(org, "revisit", {"batchNo": "G3", "records": [revisit(1), revisit(2)]})
    same = service.prepare_upload(org, "revisit", {"batchNo": "G1", "records": [revisit(0), revisit(1)]})
    clash = service.prepare_upload(org, "revisit", {"batchNo": "G1", "records": [revisit(5)]})
    out = service.process_group([first, recipes, dup, same, clash])
    d = [json.loads(o[1])["data"] if isinstance(o, tuple) else o for o in out]
    assert d[0]["success"] == 2
    assert d[1]["success"] == 1  # the revisit of an earlier request in the same group is on the platform
    assert [r["status"] for r in d[2]["results"]] == ["duplicate", "ok"]
    assert out[3][2] is True and d[3] == d[0]  # replay of a batch stored earlier in the group
    assert getattr(out[4], "code", None) == 2007
    assert count(sandbox_app, "records") == 4 and count(sandbox_app, "batches") == 3


def test_concurrent_uploads_are_grouped(sandbox_app, sandbox_credentials, sandbox_spec):
    import asyncio

    async def main():
        transport = httpx.ASGITransport(app=sandbox_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            tok = (
                await c.post(
                    "/hlwjr/api/token", json={"appid": sandbox_credentials.appid, "secret": sandbox_credentials.secret}
                )
            ).json()
            auth = {"Authorization": "Bearer " + tok["data"]["access_token"]}
            bodies = [
                {"batchNo": f"C{b}", "records": [revisit(b * 10 + i) for i in range(10)] + [revisit(0)]}
                for b in range(6)
            ]
            rs = await asyncio.gather(*(c.post("/hlwjr/api/upload/revisit", json=x, headers=auth) for x in bodies))
            return [r.json()["data"] for r in rs]

    data = asyncio.run(main())
    assert sum(d["success"] for d in data) == 60 and sum(d["duplicate"] for d in data) == 6
    assert sandbox_app.state.upload_queue.stats["largest_group"] > 1
    assert count(sandbox_app, "records") == 60


def test_log_redaction_filter():
    import logging

    from hlwjr.sandbox._wire import _RedactFilter

    rec = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:1", "GET", "/hlwjr/api/verify-log?access_token=abc123&secret=s3&x=1", "1.1", 200),
        None,
    )
    _RedactFilter().filter(rec)
    line = rec.getMessage()
    assert "abc123" not in line and "s3" not in line and "x=1" in line


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (OverflowError("Python int too large to convert to SQLite INTEGER"), 2000),
        (UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"), 2001),
        (RecursionError("maximum recursion depth exceeded"), 2001),
    ],
)
def test_unforeseen_input_errors_are_400_not_500(sandbox_app, sandbox_client, auth, monkeypatch, exc, code):
    """The one net behind the specific checks: input errors nobody foresaw are a 400 with a
    Chinese message, and the client's connection stays usable."""

    def boom(*a, **k):
        raise exc

    monkeypatch.setattr(sandbox_app.state.sandbox, "verify_log", boom)
    r = sandbox_client.get("/hlwjr/api/verify-log", headers=auth)
    assert (r.status_code, r.json()["code"]) == (400, code) and r.json()["msg"]
    assert sandbox_client.get("/hlwjr/sandbox/health").status_code == 200
