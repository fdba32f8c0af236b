"""``hlwjr run`` against the real strict_sandbox: the business day and its window (Beijing time, cut-off
hour), ``final_when`` (only final records; the others wait for a later night), a second run that
sends nothing new, the run record (0600), exit codes 0 / 1 / 2, and the bad inputs of the issue
(source empty, source down, platform down, a second run while one holds the lock)."""

from __future__ import annotations

import json
import os
import stat
from datetime import date, datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ops_helpers import (
    LONG_NAME,
    MINISPEC,
    cli,
    days_from,
    hospital_rows,
    new_hospital,
    uscc,
    write_mapping,
    write_tables,
)

from hlwjr import ConfigError, Ledger, MappingError
from hlwjr.operations._records import load_runs
from hlwjr.operations._run import run_production
from hlwjr.operations._window import business_day, window_days
from hlwjr.upload._lock import UploadLock
from hlwjr.upload._project import RunSettings

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _reset(strict_sandbox):
    yield
    strict_sandbox.set_faults(reset=True)
    strict_sandbox.set_clock(reset=True)


# --------------------------------------------------------------------------- the window


@given(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1)), st.integers(0, 23))
def test_business_day_is_the_last_closed_day(now, cutoff):
    day = business_day(now, cutoff)
    closes = datetime.combine(day + timedelta(days=1), datetime.min.time()) + timedelta(hours=cutoff)
    assert closes <= now < closes + timedelta(days=1)


@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 1, 1)), st.integers(1, 31))
def test_window_ends_with_the_business_day(day, n):
    w = window_days(day, n)
    assert len(w) == n and w[-1] == day and all(b - a == timedelta(days=1) for a, b in pairwise(w))


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"window_days": 0}, "window_days 必须在 1 到 31"),
        ({"cutoff_hour": 24}, "cutoff_hour 必须在 0 到 23"),
        ({"window_days": "2"}, "必须是整数"),
        ({"windows": 2}, "未知的设置"),
    ],
)
def test_run_settings_errors_say_what_to_fix(data, needle):
    with pytest.raises(ConfigError, match=needle):
        RunSettings.from_dict(data)


# --------------------------------------------------------------------------- the run


def test_run_sends_final_records_once_and_writes_a_private_record(strict_sandbox, tmp_path, monkeypatch):
    tables = hospital_rows(["2026-11-01"], 6)
    tables["visits"][1]["ZT"] = "进行中"  # not finished yet: waits, its prescription too
    project, _, src = new_hospital(tmp_path, strict_sandbox, monkeypatch, tables=tables)
    first = run_production(project, date="2026-11-01")
    assert first.exit_code == 0, first.to_text()
    t = first.record["totals"]
    assert t["his_rows"] == 6 + 6 + 3 and t["waiting"] == 1
    assert t["accepted"] == 5 + 5 + 3 and t["invalid"] == 1  # the prescription of the open visit
    assert stat.S_IMODE(os.stat(first.path).st_mode) == 0o600
    saved = json.loads(first.path.read_text(encoding="utf-8"))
    assert saved["window"] == ["2026-11-01"] and saved["started"] and saved["ended"]
    assert {r["dataset"] for r in saved["datasets"]} == {"visit", "recipe", "evaluation"}

    again = run_production(project, date="2026-11-01")  # the same window: nothing new
    assert again.exit_code == 0 and again.record["totals"]["sent"] == 0

    tables["visits"][1]["ZT"] = "已完成"  # finished the next morning: the next night takes it
    write_tables(src, tables)
    late = run_production(project, date="2026-11-01")
    assert late.record["totals"]["accepted"] == 2 and late.record["totals"]["waiting"] == 0
    assert len(load_runs(project.runs_dir)) == 3


def test_default_day_follows_the_cutoff_hour_and_the_window(strict_sandbox, tmp_path, monkeypatch):
    tables = hospital_rows(days_from("2026-11-01", 3), 2)
    project, _, _ = new_hospital(
        tmp_path, strict_sandbox, monkeypatch, tables=tables, run={"window_days": 2, "cutoff_hour": 2}
    )
    r = run_production(project, now=datetime(2026, 11, 4, 1, 30))  # before 02:00: the 3rd is not closed
    assert r.record["business_day"] == "2026-11-02" and r.record["window"] == ["2026-11-01", "2026-11-02"]
    assert r.exit_code == 0 and r.record["totals"]["accepted"] == 2 * (2 + 2 + 1)
    r = run_production(project, now=datetime(2026, 11, 4, 2, 0))
    assert r.record["window"] == ["2026-11-02", "2026-11-03"]
    assert r.record["totals"]["already_accepted"] == 5 and r.record["totals"]["accepted"] == 5


def test_refused_records_make_exit_1_and_are_listed_masked(strict_sandbox, tmp_path, monkeypatch):
    tables = hospital_rows(["2026-11-01"], 3)
    tables["visits"][0]["XM"] = LONG_NAME  # passes pre-flight, refused by the platform
    project, _, _ = new_hospital(tmp_path, strict_sandbox, monkeypatch, tables=tables)
    r = run_production(project, date="2026-11-01")
    assert r.exit_code == 1 and r.record["status"] == "problems"
    refused = {x["dataset"] for x in r.record["refused"]}
    assert "visit" in refused and r.record["n_refused"] >= 1
    assert any(e["kind"] == "refused" for e in r.record["alert_events"])
    assert LONG_NAME not in r.path.read_text(encoding="utf-8")


def test_empty_source_is_an_alert_not_a_silent_success(strict_sandbox, tmp_path, monkeypatch):
    project, _, _ = new_hospital(tmp_path, strict_sandbox, monkeypatch, tables=hospital_rows(["2026-11-01"], 2))
    r = run_production(project, date="2026-11-05")
    assert r.exit_code == 1 and r.record["source_empty"]
    assert [e["kind"] for e in r.record["alert_events"]] == ["source_empty"]
    assert "源数据为空" in r.to_text()


def test_source_down_exits_2_with_nothing_marked(strict_sandbox, tmp_path, monkeypatch):
    project, _, src = new_hospital(tmp_path, strict_sandbox, monkeypatch, tables=hospital_rows(["2026-11-01"], 2))
    (src / "rx.csv").unlink()  # the HIS export did not arrive
    r = run_production(project, date="2026-11-01")
    assert r.exit_code == 2 and r.record["error"] and r.record["status"] == "failed"
    if project.ledger_path.exists():
        with Ledger(project.ledger_path) as ledger:
            assert ledger.counts() == {}


def test_platform_down_exits_2_and_the_next_night_sends(strict_sandbox, tmp_path, monkeypatch):
    tables = hospital_rows(["2026-11-01"], 2)
    project, _, _ = new_hospital(
        tmp_path, strict_sandbox, monkeypatch, tables=tables, platform={"url": "http://127.0.0.1:9/hlwjr"}
    )
    r = run_production(project, date="2026-11-01")
    assert r.exit_code == 2 and r.record["error_kind"] == "TransportError"
    assert any(e["kind"] == "run_failed" for e in r.record["alert_events"])
    r = run_production(project, date="2026-11-01")
    assert r.record["consecutive_failures"] == 2 and "连续第 2 次运行失败" in r.record["alert_events"][0]["message"]
    cfg = project.config_file.read_text(encoding="utf-8").replace("http://127.0.0.1:9/hlwjr", strict_sandbox.url)
    project.config_file.write_text(cfg, encoding="utf-8")
    r = run_production(str(project.config_file), date="2026-11-01")
    assert r.exit_code == 0 and r.record["totals"]["accepted"] == 5


def test_cli_run_exit_codes_and_the_lock(strict_sandbox, tmp_path, monkeypatch):
    project, _, _ = new_hospital(tmp_path, strict_sandbox, monkeypatch, tables=hospital_rows(["2026-11-01"], 2))
    code, out, err = cli("run", "--config", str(project.root), "--date", "2026-11-01")
    assert code == 0, err + out
    assert "日常运行" in out and "运行记录" in out
    with UploadLock(project.work_dir / "run.lock"):
        code, out, err = cli("run", "--config", str(project.root), "--date", "2026-11-01")
    assert code == 2 and "正在运行" in err
    code, out, err = cli("run", "--config", str(project.root), "--date", "2026-13-01")
    assert code == 2 and "YYYY-MM-DD" in err


@pytest.mark.parametrize(
    ("final_when", "needle"),
    [
        ({"in": ["已完成"]}, "缺少 column"),
        ({"column": "ZT", "in": []}, "终态取值的列表"),
        ({"column": "ZT", "values": ["已完成"]}, "values"),
        ("ZT=已完成", "final_when"),
    ],
)
def test_final_when_errors_say_how_to_write_it(final_when, needle):
    from hlwjr.mapping._model import SourceRef

    with pytest.raises(MappingError, match=needle):
        SourceRef.from_dict({"table": "visits", "final_when": final_when}, "datasets/visit.yaml")
    ok = SourceRef.from_dict({"table": "visits", "final_when": {"column": "ZT", "in": "已完成"}}, "x")
    assert ok.final_when == {"column": "ZT", "in": ["已完成"]} and ok.to_dict()["final_when"] == ok.final_when


def test_final_when_column_missing_from_the_source_fails_the_run(strict_sandbox, tmp_path, monkeypatch):
    tables = hospital_rows(["2026-11-01"], 2)
    for row in tables["visits"]:
        del row["ZT"]
    project, _, _ = new_hospital(tmp_path, strict_sandbox, monkeypatch, tables=tables)
    r = run_production(project, date="2026-11-01")
    assert r.exit_code == 2 and "final_when" in r.record["error"] and "ZT" in r.record["error"]


_STATES = st.sampled_from(["已完成", "进行中", "已取消", " 已完成 ", ""])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(states=st.lists(_STATES, min_size=1, max_size=12))
def test_final_when_maps_exactly_the_final_rows(tmp_path, states):
    from hlwjr.mapping._config import load_mapping
    from hlwjr.mapping._engine import apply_mapping
    from hlwjr.spec._load import load_spec

    root = tmp_path / f"m{abs(hash(tuple(states)))}"
    write_mapping(root, uscc(1))
    tables = hospital_rows(["2026-11-01"], len(states))
    for row, state in zip(tables["visits"], states):
        row["ZT"] = state
    write_tables(root / "src", tables)
    res = apply_mapping(load_mapping(root), "visit", date="2026-11-01", spec=load_spec(MINISPEC))
    final = [s.strip() == "已完成" for s in states]
    assert len(res.records) == sum(final) and res.n_waiting == len(states) - sum(final)
    assert res.n_day_rows == len(states)
    assert list(res.records["bussID"]) == [v["FZID"] for v, f in zip(tables["visits"], final) if f]


def test_retries_later_the_same_night_run_until_one_succeeds(strict_sandbox, tmp_path, monkeypatch):
    """``hlwjr run --unless-done`` scheduled after the nightly run (a retry ladder): it runs again
    while the business day has no fully successful run, and does nothing once it has one."""
    from hlwjr.operations._records import load_runs

    tables = hospital_rows(["2026-11-01"], 2)
    project, _, _ = new_hospital(
        tmp_path, strict_sandbox, monkeypatch, tables=tables, platform={"url": "http://127.0.0.1:9/hlwjr"}
    )
    args = ("run", "--config", str(project.root), "--date", "2026-11-01", "--unless-done")
    for _night_retry in range(2):  # the platform is down: every retry runs, and fails
        code, _out, err = cli(*args)
        assert code == 2, err
    cfg = project.config_file.read_text(encoding="utf-8").replace("http://127.0.0.1:9/hlwjr", strict_sandbox.url)
    project.config_file.write_text(cfg, encoding="utf-8")
    code, out, err = cli(*args)
    assert code == 0, err + out
    runs = load_runs(project.runs_dir)
    assert [r["exit_code"] for r in runs] == [2, 2, 0]
    code, out, err = cli(*args)
    assert code == 0 and "全部成功" in out and "本次不再运行" in out and runs[-1]["file"] in out
    assert len(load_runs(project.runs_dir)) == 3  # nothing ran, nothing was written
