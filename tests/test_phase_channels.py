"""Test and production apart: `[platform.test]` and `[platform.production]`, the phase choosing;
each phase its own ledger, so test uploads never count as production duplicates."""

from __future__ import annotations

import pytest
from test_upload_sandbox import MINISPEC, make_records, uscc

from hlwjr import ConfigError, load_project
from hlwjr.upload._client import PlatformClient
from hlwjr.upload._project import write_project
from hlwjr.upload._uploader import upload_records


def _config(phase: str, channels: dict) -> dict:
    return {
        "datasets": ["visit", "recipe", "evaluation"],
        "project": {"name": "测试医院", "org_code": "X", "spec": str(MINISPEC), "phase": phase},
        "platform": {"profile": "sandbox", "backoff_base": 0.01, **channels},
    }


def test_the_phase_picks_its_channel_and_its_own_work_dir(tmp_path):
    channels = {
        "test": {"url": "http://127.0.0.1:1", "appid": "T1", "secret_env": "T_SECRET"},
        "production": {"url": "https://prod.example.invalid", "appid": "P1", "secret_env": "P_SECRET"},
    }
    test = load_project(write_project(tmp_path, _config("test", channels)))
    assert (test.platform.appid, test.platform.secret_env) == ("T1", "T_SECRET")
    assert test.platform.backoff_base == 0.01  # shared keys of [platform] apply to both
    prod = load_project(write_project(tmp_path, _config("production", channels)))
    assert (prod.platform.url, prod.platform.appid) == ("https://prod.example.invalid", "P1")
    assert test.ledger_path != prod.ledger_path
    assert test.ledger_path.parent.name == "test" and prod.ledger_path.parent.name == "production"


@pytest.mark.parametrize(
    "channels, message",
    [
        ({"test": {"url": "http://127.0.0.1:1", "appid": "T"}}, r"\[platform.production\]"),
        ({"production": {"url": "http://x", "nonsense": 1}}, "未知的设置"),
        ({"production": {"url": "ftp://x"}}, "http://"),
        ({"production": {"url": "http://x", "app_secret": "s3cr3t!"}}, "密钥不得出现在配置文件里"),
    ],
)
def test_channel_mistakes_are_named(tmp_path, channels, message):
    (tmp_path / "hlwjr.toml").write_text(
        '[project]\nphase = "production"\n[platform]\nprofile = "sandbox"\n'
        + "".join(
            f"[platform.{n}]\n" + "".join(f"{k} = {v!r}\n".replace("'", '"') for k, v in t.items())
            for n, t in channels.items()
        ),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=message) as info:
        load_project(tmp_path)
    assert "s3cr3t!" not in str(info.value)


@pytest.mark.slow
def test_test_uploads_never_count_as_production_duplicates(tmp_path_factory, tmp_path, monkeypatch):
    from hlwjr.sandbox import Sandbox

    org = uscc(987654)
    boxes = {p: Sandbox(tmp_path_factory.mktemp(p), spec=str(MINISPEC)) for p in ("test", "production")}
    try:
        channels = {}
        for phase, box in boxes.items():
            box.start()
            appid, secret = box.register(org, "测试医院")
            monkeypatch.setenv(f"HLWJR_{phase.upper()}_SECRET", secret)
            channels[phase] = {"url": box.url, "appid": appid, "secret_env": f"HLWJR_{phase.upper()}_SECRET"}
        cfg = _config("test", channels)
        cfg["project"]["org_code"] = org
        test = load_project(write_project(tmp_path, cfg))
        assert upload_records(test, make_records(org, 8)).ok
        cfg["project"]["phase"] = "production"
        prod = load_project(write_project(tmp_path, cfg))
        summary = upload_records(prod, make_records(org, 8))
        assert summary.ok and summary.total("sent") == summary.total("accepted") > 0
        for project in (test, prod):
            with PlatformClient.from_project(project) as client:
                assert client.verify_log_records(status="duplicate", limit=1)["total"] == 0
                assert client.verify_log_records(status="ok", limit=1)["total"] == summary.total("accepted")
        again = upload_records(
            load_project(write_project(tmp_path, {**cfg, "project": {**cfg["project"], "phase": "test"}})),
            make_records(org, 8),
        )
        assert again.total("sent") == 0  # the test ledger still knows what the test platform has
    finally:
        for box in boxes.values():
            box.stop()
