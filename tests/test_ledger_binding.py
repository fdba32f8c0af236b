"""The ledger speaks for one platform (``hlwjr.upload._binding``): pointed at another platform —
another host or path, another appid, another organisation — a ledger that has sent records stops
the run before anything is sent, says what differs and what to do; ``hlwjr ledger rebind``
confirms a platform that only moved. An ``http`` → ``https`` or port change is the same platform."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_ledger_guard import platform_counts
from test_upload_sandbox import make_records, new_project

from hlwjr import LedgerError
from hlwjr.cli import parse_args, run
from hlwjr.upload._binding import check_binding, platform_binding
from hlwjr.upload._ledger import Ledger
from hlwjr.upload._uploader import upload_records

_BASE = {"url": "https://gateway.example.cn/hlwjr/api", "appid": "A1B2C3", "org_code": "12110000MB0T12345N"}
_OTHER = {
    "url": ["https://test-gateway.example.cn/hlwjr/api", "https://gateway.example.cn/hlwjr/test-api"],
    "appid": ["A1B2C4", "prod-A1B2C3"],
    "org_code": ["12110000MB0T12346M"],
}
_SAME = [
    "http://gateway.example.cn/hlwjr/api",
    "https://GATEWAY.example.cn:8443/hlwjr/api/",
    " https://gateway.example.cn/hlwjr/api",
]


def _project(url, appid, org_code):
    return SimpleNamespace(platform=SimpleNamespace(url=url, appid=appid), org_code=org_code)


def _ledger(tmp_path, sent: int) -> Ledger:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    ledger.adopt_accepted([("visit", f"V{i}", "h", "2026-11-01", None) for i in range(sent)])
    return ledger


_settings = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@given(part=st.sampled_from(sorted(_OTHER)), data=st.data(), sent=st.integers(min_value=1, max_value=40))
@_settings
def test_another_platform_stops_a_ledger_that_has_sent(tmp_path_factory, part, data, sent):
    with _ledger(tmp_path_factory.mktemp("b"), sent) as ledger:
        check_binding(ledger, _project(**_BASE))
        moved = {**_BASE, part: data.draw(st.sampled_from(_OTHER[part]))}
        with pytest.raises(LedgerError) as info:
            check_binding(ledger, _project(**moved))
        message = info.value.message
        assert f"{sent} 条记录" in message and "hlwjr ledger rebind" in message and "[platform.production]" in message
        label = {"url": "平台地址" if "test-gateway" in moved["url"] else "接口路径", "appid": "appid"}.get(
            part, "机构代码"
        )
        assert f"不同的是 {label}" in message
        check_binding(ledger, _project(**_BASE))  # the platform it speaks for is still fine


@given(url=st.sampled_from(_SAME))
@_settings
def test_scheme_port_case_and_trailing_slash_are_the_same_platform(tmp_path_factory, url):
    with _ledger(tmp_path_factory.mktemp("b"), 3) as ledger:
        check_binding(ledger, _project(**_BASE))
        check_binding(ledger, _project(**{**_BASE, "url": url}))
        assert platform_binding(_project(**{**_BASE, "url": url})) == platform_binding(_project(**_BASE))


def test_a_ledger_that_never_sent_follows_the_configuration(tmp_path):
    with _ledger(tmp_path, 0) as ledger:
        check_binding(ledger, _project(**_BASE))
        check_binding(ledger, _project(**{**_BASE, "appid": "other"}))  # nothing sent: no harm
        ledger.adopt_accepted([("visit", "V1", "h", "2026-11-01", None)])
        with pytest.raises(LedgerError):
            check_binding(ledger, _project(**_BASE))  # bound to "other" now


def _cli(*argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return run(parse_args(list(argv)), out, err), out.getvalue(), err.getvalue()


def test_a_moved_platform_is_refused_until_rebound_and_nothing_is_sent_twice(sandbox, tmp_path, monkeypatch):
    project, org = new_project(tmp_path, sandbox, monkeypatch)
    assert upload_records(project, make_records(org, 5)).ok
    toml = project.config_file
    toml.write_text(toml.read_text(encoding="utf-8").replace("127.0.0.1", "localhost"), encoding="utf-8")
    from hlwjr.upload._project import load_project

    with pytest.raises(LedgerError, match="不同的是 平台地址"):
        upload_records(load_project(toml), make_records(org, 8))
    assert platform_counts(project) == (10, 0)  # 5 visits + 5 recipes, nothing more
    code, out, err = _cli("ledger", "rebind", "--config", str(toml))
    assert code == 0 and "已确认属于 localhost" in out and "原来：127.0.0.1" in out, err
    code, out, err = _cli("ledger", "rebind", "--config", str(toml))
    assert code == 0 and "本来就属于 localhost" in out, err
    code, out, err = _cli("ledger", "check", "--config", str(toml))
    assert code == 0 and "属于 localhost" in out and "个批次的报文" in out, err
    moved = load_project(toml)
    summary = upload_records(moved, make_records(org, 8))
    assert summary.ok and platform_counts(moved) == (16, 0)  # the 10 already accepted are not sent again
