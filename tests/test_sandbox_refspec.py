"""The sandbox serving the reference spec (beijing-reference): every example record is accepted in
dependency order, references resolve against records accepted earlier, and the verify log counts."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

import hlwjr

EXAMPLES = Path(hlwjr.__file__).parent / "specs" / "beijing-reference" / "examples"


def examples(code: str, org: str) -> list[dict]:
    path = EXAMPLES / f"{code}.json"
    if not path.is_file():
        pytest.skip(f"reference spec has no examples for {code}")
    return [r for r in json.loads(path.read_text(encoding="utf-8")) if r.get("organID") == org]


@pytest.fixture
def auth(sandbox_client, sandbox_credentials):
    r = sandbox_client.post(
        "/hlwjr/api/token", json={"appid": sandbox_credentials.appid, "secret": sandbox_credentials.secret}
    )
    return {"Authorization": "Bearer " + r.json()["data"]["access_token"]}


def test_examples_upload_in_dependency_order(sandbox_app, sandbox_client, sandbox_credentials, auth):
    spec = sandbox_app.state.sandbox.spec
    assert spec.id == "beijing-reference"
    total = 0
    for ds in spec.top_level():
        recs = examples(ds.code, sandbox_credentials.org_code)
        if not recs:
            continue
        r = sandbox_client.post(
            f"/hlwjr/api/upload/{ds.code}", json={"batchNo": f"EX-{ds.code}", "records": recs}, headers=auth
        )
        body = r.json()
        assert r.status_code == 200 and body["code"] == 0, (ds.code, body)
        failures = [x for x in body["data"]["results"] if x["status"] != "ok"]
        assert not failures, (ds.code, failures)
        total += len(recs)
    log = sandbox_client.get("/hlwjr/api/verify-log", headers=auth).json()["data"]
    assert log["days"][-1]["uploaded"] == total and log["days"][-1]["success"] == total
    if total < 30:
        assert log["days"][-1]["reasons"] == [f"上传 {total} 条，少于每日 30 条"]


def test_reference_to_a_record_not_yet_on_the_platform_fails(sandbox_client, sandbox_credentials, auth):
    recs = examples("recipe", sandbox_credentials.org_code)[:1]
    d = sandbox_client.post("/hlwjr/api/upload/recipe", json={"batchNo": "R1", "records": recs}, headers=auth).json()[
        "data"
    ]
    assert d["results"][0]["status"] == "fail"
    assert {e["rule"] for e in d["results"][0]["errors"]} == {"reference"}


def test_mandatory_check_failure_from_the_engine(sandbox_client, sandbox_credentials, auth):
    doctors = examples("doctor", sandbox_credentials.org_code)
    bad = copy.deepcopy(doctors[0])
    bad["doctorCertID"] = bad["doctorCertID"][:-1] + ("0" if bad["doctorCertID"][-1] != "0" else "1")
    d = sandbox_client.post("/hlwjr/api/upload/doctor", json={"batchNo": "D1", "records": [bad]}, headers=auth).json()[
        "data"
    ]
    assert d["results"][0]["status"] == "fail"
    assert any(e["rule"] == "id_number" and e["field"] == "doctorCertID" for e in d["results"][0]["errors"])
    assert bad["doctorCertID"] not in json.dumps(d, ensure_ascii=False)  # the ID is masked in the key
