"""No input gets a 500 from the real sandbox server (property-based, over every endpoint).

One ``hlwjr sandbox serve`` process on 127.0.0.1 and one keep-alive ``httpx.Client``: every
answer is below 500, JSON with ``code`` and ``msg`` (the HTML page excepted), the connection is
the same one afterwards (a 500 makes the server close it), and a refused request stores nothing.
The in-process fuzz of the upload body is tests/test_sandbox_fuzz.py; this one adds the wire
(raw bytes, surrogates, huge numbers, query strings) and the other endpoints.
"""

from __future__ import annotations

import json
import sqlite3
import urllib.parse
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hlwjr.sandbox import Sandbox

pytestmark = pytest.mark.slow

DATA = Path(__file__).parent / "data"
ORG = "12110000MB0T12345N"
TABLES = ("orgs", "tokens", "batches", "records", "upload_log", "sign_ins")
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


class Env:
    def __init__(self, sb: Sandbox, client: httpx.Client, appid: str, secret: str) -> None:
        self.sb, self.client, self.appid, self.secret = sb, client, appid, secret
        self.db = sqlite3.connect(f"file:{sb.data_dir / 'sandbox.sqlite'}?mode=ro", uri=True)
        self.token = self.new_token()
        self.port = None

    def new_token(self) -> str:
        r = self.client.post("/hlwjr/api/token", json={"appid": self.appid, "secret": self.secret})
        return r.json()["data"]["access_token"]

    def headers(self, kind: str = "api") -> dict:
        if kind == "admin":
            return {"X-Admin-Token": self.sb.admin_token, "Content-Type": "application/json"}
        return {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}

    def state(self) -> tuple:
        counts = tuple(self.db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES)
        clock = self.db.execute("SELECT value FROM meta WHERE key = 'clock_offset'").fetchone()
        return counts, clock

    def send(self, method: str, path: str, **kw) -> httpx.Response:
        r = self.client.request(method, path, **kw)
        assert r.status_code < 500, f"{method} {path}: HTTP {r.status_code} {r.text[:300]}"
        try:
            here = r.extensions["network_stream"].get_extra_info("client_addr")
        except OSError:
            here = None
        if self.port is None:
            self.port = here
        assert here == self.port, f"{method} {path}: the keep-alive connection was closed (HTTP {r.status_code})"
        return r


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    sb = Sandbox(tmp_path_factory.mktemp("fuzz-http"), spec=str(DATA / "sandbox_spec")).start()
    try:
        appid, secret = sb.register(ORG, "医院")
        with httpx.Client(base_url=sb.base_url, timeout=30) as client:
            e = Env(sb, client, appid, secret)
            yield e
            e.db.close()
    finally:
        sb.stop()


def envelope(r: httpx.Response) -> dict:
    body = r.json()
    assert isinstance(body, dict) and isinstance(body.get("code"), int) and isinstance(body.get("msg"), str), body
    assert body["msg"], body
    return body


# -------------------------------------------------------------------------------- strategies
SPECIAL_CHARS = ["\ud800", "\udfff", "\ud83d", "\ude00", "\x00", "\ufeff", "张", "a", " ", '"', "\\"]
any_text = st.one_of(
    st.text(st.characters(codec=None, exclude_categories=()), max_size=12),  # lone surrogates too
    st.lists(st.sampled_from(SPECIAL_CHARS), max_size=6).map("".join),
)
EDGE_NUMBERS = ["1e309", "-1e400", "9" * 401, "-" + "9" * 20, "18446744073709551616", "1e-400", "1E308", "0.1"]
number_text = st.sampled_from(EDGE_NUMBERS) | st.from_regex(
    r"-?[0-9]{1,420}(\.[0-9]{1,6})?([eE][+-]?[0-9]{1,4})?", fullmatch=True
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**80), 2**80) | st.floats(allow_nan=False) | any_text,
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(any_text, kids, max_size=3),
    max_leaves=8,
)
FIELDS = ["organID", "bussID", "patientName", "patientSex", "visitTime", "patientAge", "batchNo", "records", "x"]


@st.composite
def json_bodies(draw) -> bytes:
    """JSON text as a client might send it: surrogates escaped (\\ud800) or raw (ED A0 80),
    numbers as arbitrary literals (1e309, 400 digits)."""
    record = draw(st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=5))
    number = draw(number_text)
    batch = draw(st.one_of(st.text("AB12", min_size=1, max_size=6), any_text, json_values))
    raw_surrogate = draw(st.booleans())
    text = json.dumps({"batchNo": batch, "records": [record, "@N@"]})
    text = text.replace('"@N@"', f'{{"organID": "{ORG}", "bussID": "N1", "patientAge": {number}}}')
    data = text.encode("utf-8")
    if raw_surrogate and b"\\ud" in data.lower():
        i = data.lower().index(b"\\ud")
        data = data[:i] + chr(int(data[i + 2 : i + 6], 16)).encode("utf-8", "surrogatepass") + data[i + 6 :]
    return data


bodies = st.one_of(json_bodies(), st.binary(max_size=120), json_values.map(lambda v: json.dumps(v).encode()))
QUERY_NAMES = ["from", "to", "date", "dataset", "status", "limit", "offset", "org", "appid", "x"]
queries = st.lists(
    st.tuples(st.sampled_from(QUERY_NAMES), st.binary(max_size=24) | number_text.map(str.encode)), max_size=4
).map(lambda pairs: "&".join(f"{k}={urllib.parse.quote_from_bytes(v)}" for k, v in pairs))
DATASETS = st.sampled_from(["revisit", "recipe", "doctor", "nosuch", "%ED%A0%80", "%FF"])
ENDPOINTS = [
    "token",
    "upload",
    "upload",
    "upload",
    "verify-log",
    "records",
    "clock",
    "faults",
    "health",
    "page",
    "page-auth",
]


def request_for(env: Env, endpoint: str, body: bytes, query: str, dataset: str) -> tuple[str, str, dict]:
    api = {"headers": env.headers(), "content": body}
    if endpoint == "token":
        return "POST", "/hlwjr/api/token", {"content": body, "headers": {"Content-Type": "application/json"}}
    if endpoint == "upload":
        return "POST", f"/hlwjr/api/upload/{dataset}", api
    if endpoint == "verify-log":
        return "GET", f"/hlwjr/api/verify-log?{query}", {"headers": env.headers()}
    if endpoint == "records":
        return "GET", f"/hlwjr/api/verify-log/records?{query}", {"headers": env.headers()}
    if endpoint == "clock":
        return "POST", "/hlwjr/sandbox/clock", {"headers": env.headers("admin"), "content": body}
    if endpoint == "faults":
        return "POST", "/hlwjr/sandbox/faults", {"headers": env.headers("admin"), "content": body}
    if endpoint == "health":
        return "GET", f"/hlwjr/sandbox/health?{query}", {}
    if endpoint == "page-auth":
        return "GET", f"/hlwjr/verify-log?{query}", {"headers": env.headers()}
    return "GET", f"/hlwjr/verify-log?{query}", {}


# ------------------------------------------------------------------------------------ tests
@FUZZ
@given(endpoint=st.sampled_from(ENDPOINTS), body=bodies, query=queries, dataset=DATASETS)
def test_no_500_anywhere(env, endpoint, body, query, dataset):
    before = env.state()
    method, path, kw = request_for(env, endpoint, body, query, dataset)
    r = env.send(method, path, **kw)
    if endpoint.startswith("page"):
        assert r.headers["content-type"].startswith("text/html")
        assert r.status_code in ((401,) if endpoint == "page" else (200, 403))
        return
    answer = envelope(r)
    replay = r.headers.get("x-hlwjr-replay")
    if answer["code"] != 0 or replay or method == "GET":
        assert env.state() == before, f"{method} {path} stored something: {answer}"
    if endpoint == "faults" and answer["code"] == 0:  # injected faults answer 5xx on purpose: clear them
        env.send("POST", "/hlwjr/sandbox/faults", headers=env.headers("admin"), json={"reset": True})
    if endpoint == "clock" and answer["code"] == 0:
        env.send("POST", "/hlwjr/sandbox/clock", headers=env.headers("admin"), json={"reset": True})
    if endpoint == "token" and answer["code"] == 0:
        env.token = answer["data"]["access_token"]


def upload_text(age: str, batch: str = "B1", organ: str = ORG) -> bytes:
    return (
        f'{{"batchNo": "{batch}", "records": [{{"organID": "{organ}", "bussID": "{batch}-1", '
        f'"patientName": "张三", "patientSex": "1", "visitTime": "2026-11-01 09:00:00", "patientAge": {age}}}]}}'
    ).encode("utf-8", "surrogatepass")


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        (upload_text("30", organ="\\ud800"), 2001, "records[0].organID"),
        (upload_text("30", organ="\ud800"), 2001, "UTF-8"),  # raw ED A0 80
        (upload_text("30", batch="\\udfff"), 2001, "batchNo"),
        (b'{"\\ud800": 1, "records": []}', 2001, "字段名"),
    ],
)
def test_surrogates_are_2001_and_keep_the_connection(env, body, code, words):
    before = env.state()
    r = env.send("POST", "/hlwjr/api/upload/revisit", content=body, headers=env.headers())
    answer = envelope(r)
    assert (r.status_code, answer["code"]) == (400, code) and words in answer["msg"], answer
    assert env.state() == before
    assert envelope(env.send("GET", "/hlwjr/sandbox/health"))["code"] == 0  # same connection, still good


@pytest.mark.parametrize(
    ("age", "shown"),
    [
        ("1e309", "1e309"),
        ("-1e400", "-1e400"),
        ("9" * 401, "（共 401 位数字）"),
        ("9" * 20, "9" * 20),
        ("18446744073709551617", "18446744073709551617"),
    ],
)
def test_numbers_beyond_range_are_field_problems_with_their_text(env, age, shown):
    batch = f"N{len(age)}{age[:2]}"
    r = env.send("POST", "/hlwjr/api/upload/revisit", content=upload_text(age, batch=batch), headers=env.headers())
    answer = envelope(r)
    assert answer["code"] == 0 and answer["data"]["failed"] == 1, answer
    errors = {e["rule"]: e["msg"] for e in answer["data"]["results"][0]["errors"] if e["field"] == "patientAge"}
    assert set(errors) & {"type", "maximum"}, errors
    if "type" in errors:
        assert shown in errors["type"]
    stored = env.send("GET", "/hlwjr/api/verify-log/records", params={"status": "fail"}, headers=env.headers())
    assert envelope(stored)["code"] == 0


@pytest.mark.parametrize(
    "query",
    [f"offset={2**63}", f"offset={2**64 + 5}", "offset=-1", "limit=0", f"limit={10**30}", "offset=" + "9" * 5000],
)
def test_query_parameters_are_bounded(env, query):
    r = env.send("GET", f"/hlwjr/api/verify-log/records?{query}", headers=env.headers())
    assert (r.status_code, envelope(r)["code"]) == (400, 2000)


@pytest.mark.parametrize(
    "body",
    [
        b'{"advance_days": 1e308}',
        b'{"advance_days": 1e309}',
        b'{"advance_days": 1e30}',
        b'{"advance_days": Infinity}',
        b'{"advance_days": NaN}',
        b'{"advance_days": 3654}',
        b'{"advance_days": -3654}',
        b'{"advance_hours": ' + b"9" * 400 + b"}",
        b'{"advance_seconds": "10"}',
        b'{"advance_days": true}',
        b'{"now": "9999-12-31 23:59:59"}',
        b'{"now": "1900-01-01"}',
        b'{"advance_days": 3000, "advance_hours": 24000}',
    ],
)
def test_clock_controls_are_bounded(env, body):
    before = env.send("GET", "/hlwjr/sandbox/clock", headers=env.headers("admin")).json()["data"]["offset_seconds"]
    r = env.send("POST", "/hlwjr/sandbox/clock", content=body, headers=env.headers("admin"))
    assert r.status_code == 400 and envelope(r)["code"] in (2000, 2001), r.text
    after = env.send("GET", "/hlwjr/sandbox/clock", headers=env.headers("admin")).json()["data"]["offset_seconds"]
    assert after == before  # all or nothing
    assert envelope(env.send("GET", "/hlwjr/sandbox/health"))["code"] == 0


@pytest.mark.parametrize(
    "body",
    [
        b'{"latency_ms": 1e309}',
        b'{"latency_ms": 1e30}',
        b'{"error_next": 99999999999999999999999}',
        b'{"token_expire_after": 1e309}',
        b'{"seed": ' + b"9" * 400 + b"}",
        b'{"error_rate": 1e400}',
    ],
)
def test_fault_controls_are_bounded(env, body):
    r = env.send("POST", "/hlwjr/sandbox/faults", content=body, headers=env.headers("admin"))
    assert (r.status_code, envelope(r)["code"]) == (400, 2000), r.text
    faults = env.send("GET", "/hlwjr/sandbox/faults", headers=env.headers("admin")).json()["data"]
    assert faults["latency_ms"] == 0 and faults["error_next"] == 0 and faults["token_expire_after"] is None


def test_clock_within_ten_years_still_moves(env):
    r = env.send("POST", "/hlwjr/sandbox/clock", json={"advance_days": 3650}, headers=env.headers("admin"))
    assert envelope(r)["code"] == 0 and r.json()["data"]["offset_seconds"] > 3649 * 86400
    env.send("POST", "/hlwjr/sandbox/clock", json={"reset": True}, headers=env.headers("admin"))
    env.token = env.new_token()


def test_unusable_stored_clock_is_reset_at_start(tmp_path):
    from hlwjr.sandbox._store import Store

    for stored in ("1e308", "inf", "nan", "not a number", repr(4000 * 86400.0)):
        data = tmp_path / stored.replace(" ", "_")
        store = Store(data)
        store.set_meta("clock_offset", stored)
        store.close()
        with Sandbox(data, spec=str(DATA / "sandbox_spec")) as sb:
            clock = httpx.get(sb.url + "/sandbox/health").json()["data"]["clock"]
            assert clock["offset_seconds"] == 0
        assert "已重置为真实时间" in sb.log_path.read_text(encoding="utf-8")
