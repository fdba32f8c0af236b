"""PlatformClient against an independent gateway that speaks the profile's protocol in its own
dialect: answer codes as text (``"0"``, ``" 200 "``, ``0.0``), record statuses in another case or
as numbers, results numbered from 1 and in any order, bodies with a byte order mark or in GBK with
or without a declared charset. The gateway is a small WSGI application (a real server would send
exactly these bytes); the profile is written once, as the document says."""

from __future__ import annotations

import json

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hlwjr import PlatformClient
from hlwjr.upload._profile import PlatformProfile, code_key
from hlwjr.upload._results import ACCEPTED, DUPLICATE, REJECTED

STATUS_WORDS = {ACCEPTED: "success", REJECTED: "fail", DUPLICATE: "repeat"}
STATUS_NUMBERS = {ACCEPTED: 1, REJECTED: 0, DUPLICATE: 2}


def profile(numeric_status: bool) -> PlatformProfile:
    smap = {v: k for k, v in (STATUS_NUMBERS if numeric_status else STATUS_WORDS).items()}
    return PlatformProfile.from_dict(
        {
            "kind": "hlwjr/platform",
            "version": 1,
            "id": "gateway",
            "name": "独立网关",
            "token": {"path": "/token", "body": {"appid": "{appid}", "secret": "{secret}"}},
            "auth": {"mode": "token", "header": "Authorization", "format": "Bearer {token}"},
            "upload": {"path": "/upload/{dataset}", "max_batch": 100, "replay": "batch"},
            "response": {
                "code_field": "code",
                "success_codes": [0],
                "message_field": "msg",
                "results_field": "data.results",
                "status_map": smap,
                "codes": {"busy": [503], "auth": [401]},
            },
        }
    )


dialects = st.fixed_dictionaries(
    {
        "code": st.sampled_from([0, "0", " 0 ", 0.0]),
        "case": st.sampled_from([str.lower, str.upper, str.title]),
        "numeric_status": st.booleans(),
        "status_as_text": st.booleans(),
        "base": st.sampled_from([0, 1]),
        "encoding": st.sampled_from(["utf-8", "utf-8-sig", "gbk", "gb18030"]),
        "declare_charset": st.booleans(),
    }
)


class Gateway:
    """Answers the token request and each upload with the given statuses in its dialect."""

    def __init__(self, dialect: dict, statuses: list[str], order: list[int]) -> None:
        self.d, self.statuses, self.order = dialect, statuses, order

    def _status(self, status: str):
        d = self.d
        if d["numeric_status"]:
            n = STATUS_NUMBERS[status]
            return str(n) if d["status_as_text"] else n
        return d["case"](STATUS_WORDS[status])

    def _answer(self, path: str) -> dict:
        if path.endswith("/token"):
            return {"code": self.d["code"], "msg": "成功", "data": {"access_token": "T", "expires_in": 7200}}
        results = [
            {"index": i + self.d["base"], "status": self._status(self.statuses[i]), "errors": []} for i in self.order
        ]
        return {"code": self.d["code"], "msg": "处理完成（含拒收）", "data": {"results": results}}

    def __call__(self, environ, start_response):
        body = json.dumps(self._answer(environ["PATH_INFO"]), ensure_ascii=False).encode(self.d["encoding"])
        ctype = "application/json" + (f"; charset={self.d['encoding']}" if self.d["declare_charset"] else "")
        start_response("200 OK", [("Content-Type", ctype), ("Content-Length", str(len(body)))])
        return [body]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    dialect=dialects,
    statuses=st.lists(st.sampled_from([ACCEPTED, REJECTED, DUPLICATE]), min_size=1, max_size=12),
    data=st.data(),
)
def test_every_dialect_of_an_answer_reads_the_same(dialect, statuses, data):
    order = data.draw(st.permutations(range(len(statuses))))
    gateway = Gateway(dialect, statuses, order)
    c = PlatformClient(
        profile(dialect["numeric_status"]),
        "http://gateway.test",
        "APP",
        "secret",
        transport=httpx.WSGITransport(app=gateway),
        sleep=lambda s: None,
    )
    with c:
        body = c.encode_batch("B1", [json.dumps({"k": i}) for i in range(len(statuses))])
        result = c.send_batch("visit", "B1", body, len(statuses))
    assert [r.index for r in result.results] == list(range(len(statuses)))
    assert [r.status for r in result.results] == statuses


@given(st.sampled_from(["0", " 0", "0 ", 0, 0.0]), st.sampled_from(["OK", "ok", " Ok "]))
def test_code_key_makes_one_code_of_its_spellings(code, status):
    assert code_key(code) == code_key(0)
    assert code_key(status) == code_key("ok")
    assert code_key(True) != code_key(1)  # JSON true is not the code 1
