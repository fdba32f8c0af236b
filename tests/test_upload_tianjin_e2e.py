"""End to end on the 国密 protocol: ``hlwjr sandbox serve --protocol tianjin`` in its own process,
the demo hospital's day uploaded with ``hlwjr upload`` and ``profile = "tianjin"``; the ledger
agrees with the sandbox's verification log, a second run sends nothing, and a wrong secret ends
with a non-zero exit and nothing stored."""

from __future__ import annotations

import io

import pytest

from hlwjr import Ledger, PlatformClient
from hlwjr.cli import parse_args, run

pytestmark = pytest.mark.slow


def cli(*argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(parse_args(list(argv)), out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from hlwjr.demo._hospital import DEMO_ORGAN_ID, DEMO_ORGAN_NAME, generate_demo_hospital
    from hlwjr.demo._run import find_demo_mapping
    from hlwjr.sandbox import Sandbox

    base = tmp_path_factory.mktemp("tianjin")
    hospital = generate_demo_hospital(base / "hospital", days=1, per_day=40)
    sb = Sandbox(base / "sandbox", protocol="tianjin")
    sb.start()
    try:
        appid, secret = sb.register(DEMO_ORGAN_ID, DEMO_ORGAN_NAME)
        yield {
            "base": base,
            "hospital": hospital,
            "sandbox": sb,
            "appid": appid,
            "secret": secret,
            "mapping": find_demo_mapping(),
            "org": (DEMO_ORGAN_ID, DEMO_ORGAN_NAME),
        }
    finally:
        sb.stop()


def make_project(world, name: str, secret: str, monkeypatch):
    from hlwjr.upload._project import write_project

    env = f"HLWJR_TJ_SECRET_{name.upper()}"
    monkeypatch.setenv(env, secret)
    org_code, org_name = world["org"]
    return write_project(
        world["base"] / name,
        {
            "mapping_dir": str(world["mapping"]),
            "project": {"name": org_name, "org_code": org_code, "phase": "test"},
            "platform": {
                "profile": "tianjin",
                "url": world["sandbox"].gateway_url,
                "appid": world["appid"],
                "secret_env": env,
                "max_retries": 1,
                "backoff_base": 0.05,
            },
            "sources": {"his": world["hospital"].sqlite_url},
        },
    ).parent


def platform_counts(world) -> dict[str, int]:
    """What the sandbox stored, read through its token API (same store, same verification log)."""
    sb = world["sandbox"]
    with PlatformClient("sandbox", sb.url, world["appid"], world["secret"]) as c:
        data = c.verify_log_records(limit=10000)
    counts: dict[str, int] = {}
    for r in data["records"]:
        if r["status"] == "ok":
            counts[r["dataset"]] = counts.get(r["dataset"], 0) + 1
    return counts


def test_upload_reconcile_rerun_and_wrong_secret(world, monkeypatch):
    day = world["hospital"].days[0]
    root = make_project(world, "proj", world["secret"], monkeypatch)
    code, out, err = cli("upload", "--config", str(root), "--date", day, "--no-progress")
    assert code in (0, 1), out[-3000:] + err  # 1: the demo's planted dirty records are held back
    assert "Traceback" not in err and world["secret"] not in out + err
    stored = platform_counts(world)
    from hlwjr.upload._project import load_project

    project = load_project(root)
    with Ledger(project.ledger_path) as led:
        accepted = {ds: n for ds, n in led.counts().items()}
        ledger_ok = {ds: c.get("accepted", 0) for ds, c in accepted.items() if c.get("accepted")}
    assert ledger_ok and ledger_ok == stored, (ledger_ok, stored)
    assert sum(stored.values()) >= 100

    # second run: nothing new to send, the sandbox sees no record twice
    code2, out2, err2 = cli("upload", "--config", str(root), "--date", day, "--no-progress")
    assert code2 in (0, 1), out2[-2000:] + err2
    assert platform_counts(world) == stored

    # a wrong secret (right shape): non-zero exit, one clear line, nothing stored
    bad = make_project(world, "bad", "0" * 32, monkeypatch)
    code3, out3, err3 = cli("upload", "--config", str(bad), "--date", day, "--no-progress")
    assert code3 != 0 and "40004" in err3 and "appSecret" in err3 and "Traceback" not in err3, out3 + err3
    assert len(err3.strip().splitlines()) == 1 and "0" * 32 not in out3 + err3
    assert platform_counts(world) == stored
    with Ledger(load_project(bad).ledger_path) as led:
        assert not any(c.get("accepted") for c in led.counts().values())


def test_a_secret_of_the_wrong_shape_stops_before_sending(world, monkeypatch):
    root = make_project(world, "shape", "not-a-hex-secret", monkeypatch)
    code, out, err = cli("upload", "--config", str(root), "--date", world["hospital"].days[0], "--no-progress")
    assert code == 2 and "32 位十六进制" in err and "not-a-hex-secret" not in out + err


def test_platform_check_passes_and_names_a_wrong_secret(world, monkeypatch):
    good = make_project(world, "chk", world["secret"], monkeypatch)
    code, out, err = cli("platform", "check", "--config", str(good))
    assert code == 0, out + err
    for name in ("平台接口描述", "密钥", "网络连通", "本机时间", "身份验证"):
        assert f"[通过] {name}" in out
    bad = make_project(world, "chkbad", "f" * 32, monkeypatch)
    code, out, err = cli("platform", "check", "--config", str(bad))
    assert code == 1 and "[失败] 身份验证" in out and "40004" in out and "f" * 32 not in out
