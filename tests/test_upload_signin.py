"""Daily sign-in (每日签到): a data set the profile marks ``sign_in: daily`` gets an empty array on a
day without records — once a day, kept in the ledger, shown in the summary — and the sandbox's
国密 gateway records it (answer -98 数据为空, taken as success)."""

from __future__ import annotations

import pytest

from hlwjr import Ledger, PlatformClient
from hlwjr.upload._project import load_project, write_project
from hlwjr.upload._uploader import upload_records


@pytest.fixture
def sandbox_settings():
    from hlwjr.sandbox import SandboxSettings

    return SandboxSettings(protocol="tianjin")


@pytest.fixture
def gateway(sandbox_app, sandbox_credentials, tmp_path, monkeypatch):
    from hlwjr.sandbox import SyncASGITransport

    monkeypatch.setenv("HLWJR_SIGNIN_SECRET", sandbox_credentials.secret)
    root = write_project(
        tmp_path / "proj",
        {
            "project": {"name": sandbox_credentials.org_name, "org_code": sandbox_credentials.org_code},
            "platform": {
                "profile": "tianjin",
                "url": "http://gw.test",
                "appid": sandbox_credentials.appid,
                "secret_env": "HLWJR_SIGNIN_SECRET",
            },
        },
    ).parent
    project = load_project(root)
    client = PlatformClient.from_project(project, transport=SyncASGITransport(sandbox_app))
    with client, Ledger(tmp_path / "ledger.sqlite") as ledger:
        yield project, client, ledger, sandbox_app.state.sandbox


def test_empty_day_sends_one_sign_in(gateway, sandbox_credentials):
    project, client, ledger, service = gateway
    summary = upload_records(project, {"complaint": []}, client=client, ledger=ledger, phase="production")
    assert summary.datasets["complaint"].signed_in == 1 and summary.ok
    assert any("签到" in n for n in summary.notes)
    assert ledger.signed_in("complaint", summary.platform_day)
    assert [d for _, d in service.store.sign_ins(sandbox_credentials.org_code)] == ["complaint"]
    log = service.verify_log(service.org(sandbox_credentials.appid))
    assert log["sign_ins"] == [{"day": service.clock.today(), "dataset": "complaint"}]
    again = upload_records(project, {"complaint": []}, client=client, ledger=ledger, phase="production")
    assert again.datasets["complaint"].signed_in == 0  # once a day
    from hlwjr import compute_readiness

    r = compute_readiness(ledger, today=summary.platform_day)
    assert r.sign_ins == {summary.platform_day: ["complaint"]} and "每日签到" in r.to_text()
    from hlwjr.readiness._evidence import write_evidence_pack

    paths = write_evidence_pack(r, project.root / "evidence", ledger=ledger)
    assert "每日签到" in paths["html"].read_text(encoding="utf-8")
    import pandas as pd

    assert len(pd.read_excel(paths["xlsx"], sheet_name="每日签到")) == 1


def test_data_sets_without_sign_in_send_nothing_on_an_empty_day(gateway, sandbox_credentials):
    project, client, ledger, service = gateway
    summary = upload_records(project, {"unit": []}, client=client, ledger=ledger, phase="production")
    assert summary.datasets["unit"].signed_in == 0 and summary.datasets["unit"].batches == 0
    assert service.store.sign_ins(sandbox_credentials.org_code) == []
