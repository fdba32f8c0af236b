"""The test-phase planner (测试阶段计划) and the upload summary, without a platform."""

from __future__ import annotations

from pathlib import Path

from hlwjr import load_spec
from hlwjr._text import pad as _pad
from hlwjr.upload._planner import plan_test_phase
from hlwjr.upload._summary import DatasetSummary, UploadSummary

MINISPEC = Path(__file__).parent / "data" / "upload_minispec"


def _cands(prefix, n, ref=None):
    out = []
    for i in range(n):
        rec = (
            {"organID": "O", "bussID": f"{prefix}{i}"}
            if ref is None
            else {"organID": "O", "recipeID": f"{prefix}{i}", "bussID": ref(i)}
        )
        out.append((f"O|{prefix}{i}", rec))
    return out


def test_quota_plus_margin_and_parents_of_chosen_children():
    spec = load_spec(MINISPEC)
    cands = {"visit": _cands("V", 100), "recipe": _cands("R", 100, ref=lambda i: f"V{99 - i}")}
    chosen = plan_test_phase(spec, cands, 36, {})
    assert len(chosen["recipe"]) == 36
    # every chosen recipe's visit is sent too, even though the visits' own quota is 36
    assert {f"O|V{99 - i}" for i in range(36)} <= chosen["visit"] and len(chosen["visit"]) == 36


def test_already_accepted_today_counts_and_uncapped_master_data():
    spec = load_spec(MINISPEC)
    cands = {"visit": _cands("V", 50), "recipe": _cands("R", 50, ref=lambda i: f"V{i}")}
    chosen = plan_test_phase(spec, cands, 36, {"recipe": 30})
    assert len(chosen["recipe"]) == 6 and len(chosen["visit"]) == 36
    chosen = plan_test_phase(spec, cands, 36, {}, uncapped={"visit"})
    assert len(chosen["visit"]) == 50


def test_summary_text_is_aligned_and_chinese():
    s = UploadSummary(date="2026-11-01", platform_day="2026-11-01", dry_run=False)
    s.datasets["visit"] = DatasetSummary("visit", "在线复诊", mapped=40, sent=36, accepted=36, not_planned=4)
    text = s.to_text()
    assert "在线复诊" in text and "合计" in text and "暂缓" in text
    assert _pad("在线", 6) == "在线  " and _pad("12", 4, right=True) == "  12"
    assert s.ok


def test_summary_text_masks_id_numbers_in_keys_and_reasons():
    """医护药人员备案 (doctor) is keyed by organID + doctorCertID: a rejected or changed doctor must
    not print the full ID-card number on the terminal (or in cron mail)."""
    cert, phone = "110102197504180312", "13812345678"
    s = UploadSummary(date="2026-11-01", platform_day="2026-11-01", dry_run=False)
    s.datasets["doctor"] = DatasetSummary("doctor", "医护药人员备案", mapped=2, sent=1, rejected=1)
    s.rejections.append(
        {
            "dataset": "doctor",
            "key": f"O|{cert}",
            "batch_no": "B1",
            "reason": f"doctorCertID 证件号 {cert} 已注销；联系电话 {phone} 无效",
        }
    )
    s.changed.append({"dataset": "doctor", "key": f"O|{cert}"})
    text = s.to_text()
    assert cert not in text and phone not in text
    assert "O|110102********0312" in text and "138****5678" in text and not s.ok


def test_summary_notebook_display():
    s = UploadSummary(date=None, platform_day="2026-11-01", dry_run=True)
    s.datasets["visit"] = DatasetSummary("visit", "在线复诊", mapped=2)
    s.notes.append("visit: 将发送 2 条（预演，未发送）")
    html = s._repr_html_()
    assert "预演" in html and "<table" in html and "将发送 2 条" in html


def test_dataframe_records_missing_values_and_nan(tmp_path, monkeypatch):
    """Records from the mapping come as a DataFrame: NaN/None are missing (also inside 明细
    rows); a NaN that would reach the body is refused with the record named, nothing sent."""
    import math

    import pandas as pd
    import pytest

    from hlwjr import DataError
    from hlwjr.upload._mapped import _as_dicts
    from hlwjr.upload._project import load_project, write_project
    from hlwjr.upload._uploader import upload_records

    df = pd.DataFrame(
        {
            "organID": ["O", "O"],
            "recipeID": ["R1", "R2"],
            "fee": [1.5, float("nan")],
            "orderList": [[{"drugName": "A", "quantity": 1, "note": float("nan")}], []],
        },
        index=[10, 11],
    )
    recs = _as_dicts(df)
    assert "fee" not in recs[1] and recs[0]["orderList"] == [{"drugName": "A", "quantity": 1}]
    monkeypatch.setenv("HLWJR_SECRET", "s")
    project = load_project(
        write_project(
            tmp_path / "p",
            {
                "project": {"org_code": "O", "spec": str(MINISPEC), "phase": "production"},
                "platform": {"url": "http://127.0.0.1:9/hlwjr", "appid": "A"},
            },
        )
    )
    with pytest.raises(DataError, match="NaN") as e:
        upload_records(
            project, {"visit": [{"organID": "O", "bussID": "V1", "x": math.inf}]}, dry_run=True, validate=False
        )
    assert "O|V1" in str(e.value)
    s = upload_records(project, {"recipe": df}, dry_run=True, validate=True)
    assert s.datasets["recipe"].mapped == 2 and s.datasets["recipe"].invalid >= 1  # R2: no 明细, R-refs


def test_one_data_set_under_two_names_is_refused_not_half_dropped(tmp_path, monkeypatch):
    """{"visit": …, "uploadFuzhenIndicators": …} names one data set twice: before, one of the two
    record sets silently replaced the other; now a clear error. An alias alone still works, and
    the caller's dict is left as it was."""
    import pytest

    from hlwjr import ConfigError
    from hlwjr.upload._project import load_project, write_project
    from hlwjr.upload._uploader import upload_records

    monkeypatch.setenv("HLWJR_SECRET", "s")
    project = load_project(
        write_project(
            tmp_path / "p",
            {
                "project": {"org_code": "O", "spec": str(MINISPEC), "phase": "production"},
                "platform": {"url": "http://127.0.0.1:9/hlwjr", "appid": "A"},
            },
        )
    )
    v1 = [{"organID": "O", "bussID": "V1"}]
    v2 = [{"organID": "O", "bussID": "V2"}]
    with pytest.raises(ConfigError, match="给了两份") as e:
        upload_records(project, {"visit": v1, "uploadFuzhenIndicators": v2}, dry_run=True, validate=False)
    assert "visit" in str(e.value) and "uploadFuzhenIndicators" in str(e.value)
    given = {"uploadFuzhenIndicators": v1 + v2}
    s = upload_records(project, given, dry_run=True, validate=False)
    assert s.datasets["visit"].mapped == 2 and list(given) == ["uploadFuzhenIndicators"]


def test_platform_clock_in_an_unexpected_format_falls_back_to_beijing_time():
    """A clock endpoint answering only a date (or garbage) must not crash the run with a bare
    ValueError; the platform day is then local Beijing time, as without a clock."""
    from hlwjr.upload._ledger import now_shanghai
    from hlwjr.upload._uploader import _day_fn

    class Clock:
        def __init__(self, now):
            self.now = now

        def server_now(self):
            return self.now

    today = now_shanghai().strftime("%Y-%m-%d")
    for answer in ("2026-11-01", "not a time, really", "2026-11-01T08:00:00+08:00"):
        assert _day_fn(Clock(answer))() in (today, now_shanghai().strftime("%Y-%m-%d"))
    assert _day_fn(Clock("2020-01-02 03:04:05"))() == "2020-01-02"


def test_upload_date_refuses_business_data_without_business_time(tmp_path, monkeypatch):
    """``--date D`` for a business data set whose mapping has no business_time would send the whole
    backlog as that day's: refused, naming the file and the fix; nothing sent."""
    import pytest
    import yaml

    from hlwjr import ConfigError
    from hlwjr.upload._project import load_project, write_project
    from hlwjr.upload._uploader import run_upload

    spec_dir = Path(__file__).parent / "data" / "mapping_spec"
    m = tmp_path / "m"
    (m / "datasets").mkdir(parents=True)
    (m / "src").mkdir()
    (m / "src" / "visits.csv").write_text("FZID,XM\nFZ1,测试\n", encoding="utf-8")
    top = {"kind": "hlwjr/mapping", "version": 1, "spec": {"id": "mapping-test"}, "sources": {"his": {"path": "src"}}}
    (m / "mapping.yaml").write_text(yaml.safe_dump(top, allow_unicode=True), encoding="utf-8")
    ds = {
        "kind": "hlwjr/mapping-dataset",
        "version": 1,
        "dataset": "visit",
        "source": {"table": "visits"},
        "fields": {"bussID": {"column": "FZID"}, "patientName": {"column": "XM"}},
    }
    (m / "datasets" / "visit.yaml").write_text(yaml.safe_dump(ds, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("HLWJR_SECRET", "s")
    project = load_project(
        write_project(
            tmp_path / "p",
            {
                "datasets": ["visit"],
                "mapping_dir": str(m),
                "project": {"org_code": "O", "spec": str(spec_dir), "phase": "production"},
                "platform": {"url": "http://127.0.0.1:9/hlwjr", "appid": "A"},
            },
        )
    )
    with pytest.raises(ConfigError, match="没有业务时间列 business_time") as e:
        run_upload(project, date="2026-11-01", dry_run=True, progress=False)
    assert "visit.yaml" in str(e.value) and "积压" in str(e.value)
    s = run_upload(project, dry_run=True, progress=False)  # without --date: everything, as asked
    assert s.datasets["visit"].mapped == 1
