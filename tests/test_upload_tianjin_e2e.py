"""End to end on the 国密 protocol: ``hlwjr sandbox serve --protocol tianjin`` in its own process,
the demo hospital's day uploaded with ``hlwjr upload`` and ``profile = "tianjin"``; the ledger
agrees with the sandbox's verification log, a second run sends nothing, and a wrong secret ends
with a non-zero exit and nothing stored."""

from __future__ import annotations

import pytest
from gateway_world import cli, gateway_project, gateway_world, platform_counts

from hlwjr import Ledger

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    with gateway_world(tmp_path_factory.mktemp("tianjin"), "tianjin", per_day=40) as w:
        yield w


def make_project(world, name: str, secret: str, monkeypatch):
    return gateway_project(world, name, monkeypatch, secret=secret)


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
