"""验证日志 (verification log) and the may-apply verdict: the roll-up rule, and a 3-day rehearsal
with the sandbox clock, in-process."""

from __future__ import annotations

from pathlib import Path

import pytest

from hlwjr.sandbox import SandboxSettings, VerifyRule
from hlwjr.sandbox._verify import compute_verify_log

DATA = Path(__file__).parent / "data"
ORG = "12110000MB0T12345N"


def rows(spec: dict) -> list[tuple]:
    """{day: {dataset: (ok, fail, dup)}} → store rows."""
    out = []
    for day, per in spec.items():
        for ds, (ok, fail, dup) in per.items():
            for status, n in (("ok", ok), ("fail", fail), ("duplicate", dup)):
                if n:
                    out.append((day, ds, status, n))
    return out


def test_three_clean_days_qualify():
    log = compute_verify_log(
        rows(
            {
                "2026-11-01": {"a": (30, 0, 0)},
                "2026-11-02": {"a": (20, 0, 0), "b": (10, 0, 0)},
                "2026-11-03": {"a": (31, 0, 0)},
            }
        ),
        VerifyRule(),
        today="2026-11-03",
    )
    assert [d["qualifies"] for d in log["days"]] == [True, True, True]
    assert log["days"][1]["uploaded"] == 30 and log["days"][1]["success_rate"] == 1.0
    assert (log["streak"], log["best_streak"], log["may_apply"]) == (3, 3, True)
    assert (log["best_from"], log["best_to"]) == ("2026-11-01", "2026-11-03")
    assert "可以提交" in log["verdict"]


@pytest.mark.parametrize(
    "day2, reason",
    [
        ({"a": (29, 0, 0)}, "少于每日 30 条"),
        ({"a": (30, 1, 0)}, "成功率"),
        ({"a": (30, 0, 1)}, "重复"),
    ],
)
def test_a_bad_day_breaks_the_streak(day2, reason):
    log = compute_verify_log(
        rows({"2026-11-01": {"a": (30, 0, 0)}, "2026-11-02": day2, "2026-11-03": {"a": (30, 0, 0)}}),
        VerifyRule(),
        today="2026-11-03",
    )
    assert [d["qualifies"] for d in log["days"]] == [True, False, True]
    assert log["may_apply"] is False and log["best_streak"] == 1
    assert any(reason in r for r in log["days"][1]["reasons"])
    assert any("2026-11-02" in r for r in log["reasons"])


def test_gap_day_breaks_the_streak_and_current_streak():
    log = compute_verify_log(
        rows({"2026-11-01": {"a": (30, 0, 0)}, "2026-11-02": {"a": (30, 0, 0)}, "2026-11-04": {"a": (30, 0, 0)}}),
        VerifyRule(),
        today="2026-11-06",
    )
    assert log["best_streak"] == 2 and log["streak"] == 0 and not log["may_apply"]


def test_rule_is_configurable():
    rule = VerifyRule(min_daily_records=5, min_success_rate=0.9, allow_duplicates=True, consecutive_days=2)
    log = compute_verify_log(
        rows({"2026-11-01": {"a": (9, 1, 3)}, "2026-11-02": {"a": (5, 0, 0)}}), rule, today="2026-11-02"
    )
    assert log["may_apply"] is True and log["rule"]["consecutive_days"] == 2


def test_per_dataset_rule():
    rule = VerifyRule(per_dataset=True)
    data = {d: {"a": (30, 0, 0), "b": (30, 0, 0)} for d in ("2026-11-01", "2026-11-02", "2026-11-03")}
    data["2026-11-02"]["b"] = (29, 0, 0)
    log = compute_verify_log(rows(data), rule, today="2026-11-03")
    assert log["datasets"]["a"]["may_apply"] is True and log["datasets"]["b"]["may_apply"] is False
    assert log["may_apply"] is False and any("b" in r for r in log["reasons"])
    # only the required data sets count
    log = compute_verify_log(rows(data), VerifyRule(per_dataset=True, required_datasets=("a",)), today="2026-11-03")
    assert log["may_apply"] is True and list(log["datasets"]) == ["a"]


def test_empty_log():
    log = compute_verify_log([], VerifyRule(), today="2026-11-03")
    assert log["days"] == [] and log["may_apply"] is False and log["streak"] == 0


# -- the 3-day rehearsal through the API ---------------------------------------------------------
@pytest.fixture
def sandbox_spec():
    return DATA / "sandbox_spec"


def revisit(i, **over):
    rec = {
        "organID": ORG,
        "bussID": f"R{i}",
        "patientName": "张三",
        "patientCertID": "11010119900307123X",
        "patientSex": "1",
        "visitTime": "2026-11-01 09:00:00",
    }
    rec.update(over)
    return rec


def test_three_day_rehearsal_with_the_clock(sandbox_app, sandbox_client, sandbox_credentials):
    service = sandbox_app.state.sandbox
    r = sandbox_client.post("/hlwjr/sandbox/clock", json={"now": "2026-11-01 23:50:00"})
    assert r.json()["data"]["today"] == "2026-11-01"

    def get_token():
        r = sandbox_client.post(
            "/hlwjr/api/token", json={"appid": sandbox_credentials.appid, "secret": sandbox_credentials.secret}
        )
        return {"Authorization": "Bearer " + r.json()["data"]["access_token"]}

    n = 0
    for day in range(3):
        auth = get_token()  # advancing a day expires yesterday's token, as on the platform
        for b in range(2):
            recs = [revisit(n + i) for i in range(20)]
            n += 20
            if day == 1 and b == 1:
                recs[0] = revisit(0)  # a duplicate on day 2
            r = sandbox_client.post(
                "/hlwjr/api/upload/revisit", json={"batchNo": f"D{day}B{b}", "records": recs}, headers=auth
            )
            assert r.json()["code"] == 0
        sandbox_client.post("/hlwjr/sandbox/clock", json={"advance_days": 1})
    auth = get_token()
    log = sandbox_client.get("/hlwjr/api/verify-log", headers=auth).json()["data"]
    assert [d["date"] for d in log["days"]] == ["2026-11-01", "2026-11-02", "2026-11-03"]
    assert [(d["uploaded"], d["success"], d["duplicate"]) for d in log["days"]] == [
        (40, 40, 0),
        (40, 39, 1),
        (40, 40, 0),
    ]
    assert [d["qualifies"] for d in log["days"]] == [True, False, True]
    assert log["may_apply"] is False and log["org"]["org_code"] == ORG
    assert log["days"][1]["datasets"][0]["name"] == "在线复诊"

    # a clean fourth and fifth day: three consecutive qualifying days (3rd, 4th, 5th)
    for day in (3, 4):
        recs = [revisit(1000 + day * 100 + i) for i in range(30)]
        r = sandbox_client.post("/hlwjr/api/upload/revisit", json={"batchNo": f"D{day}", "records": recs}, headers=auth)
        assert r.json()["data"]["success"] == 30
        sandbox_client.post("/hlwjr/sandbox/clock", json={"advance_days": 1})
        auth = get_token()
    log = sandbox_client.get("/hlwjr/api/verify-log", headers=auth).json()["data"]
    assert log["may_apply"] is True and log["best_streak"] == 3
    assert (log["best_from"], log["best_to"]) == ("2026-11-03", "2026-11-05")
    # filters
    part = sandbox_client.get(
        "/hlwjr/api/verify-log?from=2026-11-02&to=2026-11-03&dataset=revisit", headers=auth
    ).json()["data"]
    assert [d["date"] for d in part["days"]] == ["2026-11-02", "2026-11-03"]
    recs = sandbox_client.get(
        "/hlwjr/api/verify-log/records?date=2026-11-02&dataset=revisit&status=duplicate", headers=auth
    ).json()["data"]
    assert recs["total"] == 1 and recs["records"][0]["batchNo"] == "D1B1"
    assert recs["records"][0]["errors"][-1]["rule"] == "duplicate"
    all_day = sandbox_client.get("/hlwjr/api/verify-log/records?date=2026-11-02&limit=5&offset=5", headers=auth).json()[
        "data"
    ]
    assert all_day["total"] == 40 and len(all_day["records"]) == 5 and all_day["records"][0]["index"] == 5
    # the human page
    page = sandbox_client.get("/hlwjr/verify-log", headers=auth)  # the page needs the credential too
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    html = page.text
    assert "验证日志" in html and "可以提交接入申请" in html and "2026-11-02" in html and "当日未达标" in html
    assert "业务主键重复" in html  # the failure with its reason
    assert service.clock.today() == "2026-11-06"


def test_page_masks_ids_and_lists_failures(sandbox_app, sandbox_client, sandbox_credentials):
    tok = sandbox_client.post(
        "/hlwjr/api/token", json={"appid": sandbox_credentials.appid, "secret": sandbox_credentials.secret}
    ).json()["data"]
    auth = {"Authorization": "Bearer " + tok["access_token"]}
    doc = {"organID": ORG, "doctorCertID": "11010119900307123X", "doctorName": None}
    sandbox_client.post("/hlwjr/api/upload/doctor", json={"batchNo": "1", "records": [doc]}, headers=auth)
    html = sandbox_client.get(f"/hlwjr/verify-log?org={ORG}", headers=auth).text
    assert "11010119900307123X" not in html and "110101********123X" in html
    assert "医师姓名" in html and "尚未达到接入申请条件" in html
    other = sandbox_client.get("/hlwjr/verify-log?org=nobody", headers=auth)
    assert other.status_code == 403 and "无权查看其他机构" in other.text


def test_page_without_orgs(sandbox_client):
    anonymous = sandbox_client.get("/hlwjr/verify-log")
    assert anonymous.status_code == 401 and "请登录" in anonymous.text and "尚无注册机构" not in anonymous.text


@pytest.mark.parametrize("sandbox_settings", [SandboxSettings(clock="2026-11-01 08:00:00")])
def test_clock_flag_and_controls(sandbox_app, sandbox_client):
    assert sandbox_client.get("/hlwjr/sandbox/clock").json()["data"]["now"].startswith("2026-11-01 08:00")
    d = sandbox_client.post("/hlwjr/sandbox/clock", json={"advance_hours": 20}).json()["data"]
    assert d["today"] == "2026-11-02"
    assert sandbox_client.post("/hlwjr/sandbox/clock", json={"now": "yesterday"}).json()["code"] == 2000
    assert sandbox_client.post("/hlwjr/sandbox/clock", json={"advance_days": "x"}).status_code == 400
    assert sandbox_client.post("/hlwjr/sandbox/clock", json={"jump": 1}).status_code == 400
    d = sandbox_client.post("/hlwjr/sandbox/clock", json={"reset": True}).json()["data"]
    assert abs(d["offset_seconds"]) < 1


def test_total_mode_judges_data_set_rows_on_quality_only():
    log = compute_verify_log(rows({"2026-11-01": {"a": (3, 0, 0), "b": (30, 0, 0)}}), VerifyRule(), today="2026-11-01")
    day = log["days"][0]
    assert day["qualifies"] and [d["qualifies"] for d in day["datasets"]] == [True, True]
    log = compute_verify_log(
        rows({"2026-11-01": {"a": (3, 0, 0), "b": (30, 0, 0)}}), VerifyRule(per_dataset=True), today="2026-11-01"
    )
    assert [d["qualifies"] for d in log["days"][0]["datasets"]] == [False, True]
