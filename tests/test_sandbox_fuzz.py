"""Bad input never gets a 500 and never leaves part of a request behind (property-based)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hlwjr.sandbox import SyncASGITransport, create_app

DATA = Path(__file__).parent / "data"
ORG = "12110000MB0T12345N"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=10), kids, max_size=4),
    max_leaves=12,
)
field_names = st.sampled_from(
    [
        "organID",
        "bussID",
        "patientName",
        "patientSex",
        "visitTime",
        "patientAge",
        "recipeID",
        "orderList",
        "drugName",
        "x",
    ]
)
records = st.lists(st.dictionaries(field_names, json_values, max_size=6) | json_values, max_size=5)
bodies = st.one_of(
    st.fixed_dictionaries({"batchNo": st.text(max_size=5) | json_values, "records": records}),
    st.dictionaries(st.sampled_from(["batchNo", "records", "x"]), json_values, max_size=3),
    json_values,
)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    app = create_app(tmp_path_factory.mktemp("fuzz"), spec=DATA / "sandbox_spec")
    appid, secret, _ = app.state.sandbox.store.register(ORG, "医院")
    client = httpx.Client(transport=SyncASGITransport(app), base_url="http://t")
    tok = client.post("/hlwjr/api/token", json={"appid": appid, "secret": secret}).json()["data"]["access_token"]
    yield app, client, {"Authorization": f"Bearer {tok}", "Content-Type": "application/json"}
    client.close()
    app.state.sandbox.store.close()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies, dataset=st.sampled_from(["revisit", "recipe", "doctor"]))
def test_never_500(env, body, dataset):
    app, client, headers = env
    conn = app.state.sandbox.store.conn
    before = conn.execute("SELECT COUNT(*) FROM upload_log").fetchone()[0]
    r = client.post(f"/hlwjr/api/upload/{dataset}", content=json.dumps(body).encode(), headers=headers)
    assert r.status_code < 500, r.text
    payload = r.json()
    assert isinstance(payload["code"], int) and payload["msg"]
    after = conn.execute("SELECT COUNT(*) FROM upload_log").fetchone()[0]
    if payload["code"] != 0 or r.headers.get("x-hlwjr-replay"):
        assert after == before  # a refused request (or a replay) leaves nothing behind
    else:
        assert after - before == payload["data"]["total"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=200))
def test_garbage_bytes(env, raw):
    _, client, headers = env
    r = client.post("/hlwjr/api/upload/revisit", content=raw, headers=headers)
    assert r.status_code in (200, 400, 409) and r.json()["code"] in (0, 2001, 2002, 2003, 2005, 2006, 2007)
