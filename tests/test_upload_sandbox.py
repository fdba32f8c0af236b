"""Upload against the real sandbox on loopback: dependency order, skip what was accepted, hold back
invalid records, replay after a dropped connection, busy/5xx, token expiry, crash recovery, the
lock, and one clear message for each configuration fault."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from hlwjr import AuthError, ConfigError, Ledger, TransportError, UploadError, compute_readiness
from hlwjr._privacy import id_check_char
from hlwjr.upload._lock import UploadLock
from hlwjr.upload._project import load_project, write_project
from hlwjr.upload._uploader import upload_records

pytestmark = pytest.mark.slow

MINISPEC = Path(__file__).parent / "data" / "upload_minispec"
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_counter = [0]


def uscc(n: int) -> str:
    first17 = f"9111010{n:010d}"
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS))
    return first17 + _USCC_CHARS[(31 - total % 31) % 31]


def id_number(n: int) -> str:
    first17 = f"11010119900307{n % 1000:03d}"
    return first17 + id_check_char(first17)


def make_records(org: str, n_visits: int, *, prefix: str = "V", day: str = "2026-11-01") -> dict[str, list[dict]]:
    visits = [
        {
            "organID": org,
            "bussID": f"{prefix}{i:06d}",
            "patientName": f"王试{i % 10}",
            "patientCertID": id_number(i),
            "sex": "1" if i % 2 else "2",
            "visitTime": f"{day} 09:{i % 60:02d}:00",
        }
        for i in range(n_visits)
    ]
    recipes = [
        {
            "organID": org,
            "recipeID": f"R{prefix}{i:06d}",
            "bussID": v["bussID"],
            "fee": 12.5,
            "orderList": [{"drugName": "阿莫西林胶囊", "quantity": 2}],
        }
        for i, v in enumerate(visits)
    ]
    return {"recipe": recipes, "visit": visits}  # deliberately not in dependency order


def new_project(tmp_path, sandbox, monkeypatch, *, phase="production", **platform):
    _counter[0] += 1
    org = uscc(os.getpid() * 100 + _counter[0])
    appid, secret = sandbox.register(org, f"测试医院{_counter[0]}")
    env = f"HLWJR_TEST_SECRET_{_counter[0]}"
    monkeypatch.setenv(env, secret)
    cfg = {
        "datasets": ["visit", "recipe", "evaluation"],
        "project": {"name": "测试医院", "org_code": org, "spec": str(MINISPEC), "phase": phase},
        "platform": {
            "profile": "sandbox",
            "url": sandbox.url,
            "appid": appid,
            "secret_env": env,
            "backoff_base": 0.01,
            "backoff_max": 0.2,
            "read_timeout": 10,
            **platform,
        },
    }
    return load_project(write_project(tmp_path / "proj", cfg)), org


@pytest.fixture(autouse=True)
def _reset_faults(sandbox):
    yield
    sandbox.set_faults(reset=True)
    sandbox.set_clock(reset=True)


def test_dependency_order_skip_accepted_and_agree_with_verify_log(sandbox, tmp_path, monkeypatch):
    project, org = new_project(tmp_path, sandbox, monkeypatch)
    recs = make_records(org, 120)
    s = upload_records(project, recs)
    assert list(s.datasets) == ["visit", "recipe"]  # visits first: recipes reference them
    assert s.datasets["visit"].accepted == 120 and s.datasets["recipe"].accepted == 120 and s.ok
    assert s.datasets["visit"].batches == 2  # the sandbox profile's limit is 100 a batch
    again = upload_records(project, make_records(org, 120))
    assert again.total("sent") == 0 and again.total("already_accepted") == 240
    r = compute_readiness(project, platform_log=True)
    assert r.platform is not None and r.disagreements == []
    assert int(r.per_day[r.per_day["dataset"] == "*"]["accepted"].sum()) == 240


def test_invalid_records_held_back_with_problems(sandbox, tmp_path, monkeypatch):
    project, org = new_project(tmp_path, sandbox, monkeypatch)
    recs = make_records(org, 5)
    del recs["visit"][1]["patientName"]
    recs["visit"][2]["sex"] = "X"
    s = upload_records(project, recs)
    assert s.datasets["visit"].invalid == 2 and s.datasets["visit"].accepted == 3
    # recipes of the held-back visits fail pre-flight too (their visit is not on the platform)
    assert s.datasets["recipe"].invalid == 2 and s.datasets["recipe"].accepted == 3
    assert s.ok and set(s.problems["dataset"]) == {"visit", "recipe"}
    assert "暂缓" in s.to_text()


def test_changed_record_is_reported_not_resent(sandbox, tmp_path, monkeypatch):
    project, org = new_project(tmp_path, sandbox, monkeypatch)
    recs = make_records(org, 3)
    upload_records(project, recs)
    recs = make_records(org, 3)
    recs["recipe"][0]["fee"] = 99.0
    s = upload_records(project, recs)
    assert s.datasets["recipe"].changed == 1 and s.total("sent") == 0
    assert s.changed[0]["key"].endswith("RV000000") and "内容已变化" in s.to_text()


def test_dropped_connection_after_commit_is_replayed_without_duplicate(sandbox, tmp_path, monkeypatch):
    project, org = new_project(tmp_path, sandbox, monkeypatch)
    sandbox.set_faults(drop_next=2)
    s = upload_records(project, make_records(org, 150))
    assert s.total("accepted") == 300 and s.total("duplicate") == 0
    r = compute_readiness(project, platform_log=True)
    assert r.disagreements == [] and int(r.per_day["duplicate"].sum()) == 0


def test_busy_and_5xx_are_retried(sandbox, tmp_path, monkeypatch):
    from hlwjr.upload._client import PlatformClient

    project, org = new_project(tmp_path, sandbox, monkeypatch)
    with PlatformClient.from_project(project) as client:
        sandbox.set_faults(error_next=2, error_kind="busy")
        s = upload_records(project, make_records(org, 10), client=client)
        sandbox.set_faults(error_next=2, error_kind="http503")
        s2 = upload_records(project, make_records(org, 20, prefix="W"), client=client)
        assert client.stats["retries"] >= 4
    assert s.total("accepted") == 20 and s2.total("accepted") == 40
    r = compute_readiness(project, platform_log=True)
    assert r.disagreements == []


def test_token_expired_mid_run(sandbox, tmp_path, monkeypatch):
    from hlwjr.upload._client import PlatformClient

    project, org = new_project(tmp_path, sandbox, monkeypatch)
    sandbox.set_faults(token_expire_after=0.3, latency_ms=150)
    with PlatformClient.from_project(project) as client:
        s = upload_records(project, make_records(org, 300), client=client)
        assert client.auth.renewals >= 3  # the platform said "token expired" and the client renewed
    assert s.total("accepted") == 600 and s.ok


def test_crash_before_answer_is_recovered_by_replay(sandbox, tmp_path, monkeypatch):
    """A batch the platform stored but whose answer never reached the ledger (crash right after
    sending): the next run replays it with the same batchNo; nothing is duplicated or lost."""
    from hlwjr.upload._client import PlatformClient
    from hlwjr.upload._ledger import content_hash, record_json

    project, org = new_project(tmp_path, sandbox, monkeypatch)
    visits = make_records(org, 4)["visit"]
    with Ledger(project.ledger_path) as led, PlatformClient.from_project(project) as c:
        body = c.encode_batch("CRASH-1", [record_json(v) for v in visits[:2]])
        led.open_batch("visit", "CRASH-1", [(f"{org}|{v['bussID']}", content_hash(v)) for v in visits[:2]], body)
        led.mark_sent("CRASH-1")
        c.send_batch("visit", "CRASH-1", body, 2)  # stored on the platform; "crash" before recording
        body2 = c.encode_batch("CRASH-2", [record_json(v) for v in visits[2:]])
        led.open_batch("visit", "CRASH-2", [(f"{org}|{v['bussID']}", content_hash(v)) for v in visits[2:]], body2)
        # crash before sending: pending only
    s = upload_records(project, {"visit": visits})
    assert s.recovered == 4 and s.total("sent") == 0 and s.total("already_accepted") == 4
    with Ledger(project.ledger_path) as led:
        assert led.counts() == {"visit": {"accepted": 4}} and led.unresolved_batches() == []
    r = compute_readiness(project, platform_log=True)
    assert r.disagreements == [] and int(r.per_day["duplicate"].sum()) == 0


def test_second_run_is_locked_out(sandbox, tmp_path, monkeypatch):
    project, org = new_project(tmp_path, sandbox, monkeypatch)
    with UploadLock(project.work_dir / "upload.lock"), pytest.raises(UploadError, match="另一个上传正在进行"):
        upload_records(project, make_records(org, 1))


def _nothing_sent(project) -> bool:
    if not project.ledger_path.exists():
        return True
    with Ledger(project.ledger_path) as led:
        return all(st not in ("sent", "accepted") for c in led.counts().values() for st in c)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    "fault, error, text",
    [
        ("down", TransportError, "无法连接平台"),
        ("secret", AuthError, "secret"),
        ("url", ConfigError, "平台地址不正确"),
        ("proxy", TransportError, "代理|无法连接"),
    ],
)
def test_configuration_faults_one_clear_message_nothing_lost(sandbox, tmp_path, monkeypatch, fault, error, text):
    project, org = new_project(tmp_path, sandbox, monkeypatch, max_retries=1)
    settings = {}
    if fault == "down":
        settings["url"] = f"http://127.0.0.1:{_free_port()}/hlwjr"
    elif fault == "url":
        settings["url"] = sandbox.url.replace("/hlwjr", "/wrong")
    elif fault == "proxy":
        settings["proxy"] = f"http://127.0.0.1:{_free_port()}"
    if settings:
        cfg = project.config_file.read_text(encoding="utf-8")
        for k, v in settings.items():
            cfg = (
                cfg.replace(f'url = "{sandbox.url}"', f'url = "{v}"')
                if k == "url"
                else cfg.replace("[platform]", f'[platform]\n{k} = "{v}"')
            )
        project.config_file.write_text(cfg, encoding="utf-8")
        project = load_project(project.root)
    if fault == "secret":
        monkeypatch.setenv(project.platform.secret_env, "wrong-secret")
    with pytest.raises(error, match=text) as e:
        upload_records(project, make_records(org, 3))
    assert "wrong-secret" not in str(e.value)
    assert _nothing_sent(project)


def test_bounded_concurrency(sandbox, tmp_path, monkeypatch):
    project, org = new_project(tmp_path, sandbox, monkeypatch, concurrency=2)
    s = upload_records(project, make_records(org, 450))
    assert s.total("accepted") == 900 and s.datasets["visit"].batches == 5
    r = compute_readiness(project, platform_log=True)
    assert r.disagreements == []


def test_whole_batch_platform_innocent_records_are_resent_after_fix(tmp_path, monkeypatch):
    """A platform that rejects the whole batch for one bad record (Tianjin/ngari style): the bad
    record is reported with its reason; the innocent ones are sent again next run, once."""
    from hlwjr.sandbox import Sandbox

    with Sandbox(tmp_path / "wb", spec=str(MINISPEC), whole_batch=True) as sb:
        project, org = new_project(tmp_path, sb, monkeypatch)
        recs = make_records(org, 3)
        recs["visit"][1]["sex"] = "7"  # not in the code set: the platform refuses the batch
        s = upload_records(project, {"visit": recs["visit"]}, validate=False)
        assert s.datasets["visit"].rejected == 3 and s.datasets["visit"].accepted == 0
        reasons = {r["key"]: r["reason"] for r in s.rejections}
        assert "sex" in reasons[f"{org}|V000001"] and "整批" in reasons[f"{org}|V000000"]
        # next run: the two innocent records go again (and pass); the bad one is held until fixed
        same = upload_records(project, {"visit": recs["visit"]}, validate=False)
        assert same.datasets["visit"].previously_rejected == 1 and same.datasets["visit"].accepted == 2
        recs["visit"][1]["sex"] = "1"
        fixed = upload_records(project, {"visit": recs["visit"]}, validate=False)
        assert fixed.datasets["visit"].accepted == 1 and fixed.datasets["visit"].already_accepted == 2 and fixed.ok
        r = compute_readiness(project, platform_log=True)
        assert r.disagreements == []


def test_dry_run_plans_on_the_platform_day(sandbox, tmp_path, monkeypatch):
    """A dry run sends nothing but reads the platform's clock (the sandbox's rehearsal day), so its
    plan matches what the real run will do; offline it says so and uses Beijing time."""
    project, org = new_project(tmp_path, sandbox, monkeypatch, phase="test")
    sandbox.set_clock("2026-11-01 10:00:00")
    real = upload_records(project, make_records(org, 40))
    assert real.platform_day == "2026-11-01" and real.datasets["visit"].accepted >= 30
    dry = upload_records(project, make_records(org, 80), dry_run=True)
    assert dry.platform_day == "2026-11-01" and not any("未连接平台" in n for n in dry.notes)
    assert dry.datasets["visit"].sent == 0 and dry.datasets["visit"].already_accepted >= 30
    monkeypatch.delenv(project.platform.secret_env)
    offline = upload_records(project, make_records(org, 80), dry_run=True)
    assert any("预演未连接平台" in n and "平台日按本机北京时间计算" in n for n in offline.notes)


def test_business_date_without_records_is_said(sandbox, tmp_path, monkeypatch):
    """``hlwjr upload --date D`` for a day the source has no business records for (a typo, a source
    not yet refreshed) says so instead of a silent table of zeros."""
    import hlwjr.upload._uploader as up

    project, _org = new_project(tmp_path, sandbox, monkeypatch)

    def no_rows(project, spec, codes, date, notes, master):
        return {c: [] for c in codes}, {c: 0 for c in codes}, None

    monkeypatch.setattr(up, "_map_records", no_rows)
    s = up.run_upload(project, date="2026-12-25", dry_run=True)
    assert any("业务日期 2026-12-25 在数据源中没有任何业务记录" in n and "--date" in n for n in s.notes)
    assert "没有任何业务记录" in s.to_text()


def test_limit_never_sends_a_child_without_its_parent(sandbox, tmp_path, monkeypatch):
    """``--limit N`` cuts every data set to N records; a prescription whose visit was cut waits
    (counted as 未排入) instead of being sent alone and rejected — one rejection breaks the day."""
    project, org = new_project(tmp_path, sandbox, monkeypatch)
    recs = make_records(org, 20)
    recs["recipe"].reverse()  # the first recipes reference the last visits
    s = upload_records(project, recs, limit=5)
    assert s.datasets["visit"].accepted == 5 and s.datasets["visit"].not_planned == 15
    assert s.datasets["recipe"].rejected == 0 and s.datasets["recipe"].accepted == 5
    assert s.datasets["recipe"].not_planned == 15 and s.ok
    sent = {r["bussID"] for r in recs["visit"][:5]}
    with Ledger(project.ledger_path) as led:
        accepted_recipes = led.accepted_keys("recipe")
    assert accepted_recipes == {f"{org}|RV{int(b[1:]):06d}" for b in sent}
    # the next run sends the rest, in order, and nothing twice
    rest = upload_records(project, recs)
    assert rest.datasets["visit"].accepted == 15 and rest.datasets["recipe"].accepted == 15 and rest.ok
    assert compute_readiness(project, platform_log=True).disagreements == []


def test_batch_over_the_body_limit_is_split_not_lost(tmp_path, monkeypatch):
    """A platform with a small request-body limit answers HTTP 413 (请求体过大): nothing was stored,
    so the batch goes again in halves under new batchNos — every record accepted once, the refused
    request not counted, the ledger agreeing with the verification log."""
    from hlwjr.sandbox import Sandbox

    with Sandbox(tmp_path / "small", spec=str(MINISPEC), max_body_bytes=8192) as sb:
        project, org = new_project(tmp_path, sb, monkeypatch)
        s = upload_records(project, {"visit": make_records(org, 150)["visit"]})
        v = s.datasets["visit"]
        assert v.accepted == 150 and v.rejected == 0 and v.sent == 150 and s.ok
        assert any("HTTP 413" in n and "batch_size" in n for n in s.notes)
        r = compute_readiness(project, platform_log=True)
        assert r.disagreements == [] and int(r.per_day["accepted"].iloc[-1]) == 150
        again = upload_records(project, {"visit": make_records(org, 150)["visit"]})
        assert again.datasets["visit"].already_accepted == 150 and again.datasets["visit"].sent == 0
