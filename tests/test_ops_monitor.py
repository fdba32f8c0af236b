"""The monitor page ``.hlwjr/ops/index.html``: regenerated after each run, escaped (a hostile
hospital name or platform message cannot inject markup), masked (no ID-card number, no long
patient name), 0600, with the counts, the chart, the runs and the open refused list."""

from __future__ import annotations

import os
import stat

import pytest
from ops_helpers import (
    LONG_NAME,
    hospital_rows,
    new_hospital,
)

from hlwjr.operations._monitor import render_monitor
from hlwjr.operations._run import run_production

pytestmark = pytest.mark.slow


def test_monitor_page_after_each_run(strict_sandbox, tmp_path, monkeypatch):
    tables = hospital_rows(["2026-11-01", "2026-11-02"], 3)
    tables["visits"][0]["XM"] = LONG_NAME
    project, _, _ = new_hospital(tmp_path, strict_sandbox, monkeypatch, tables=tables)
    page = project.ops_dir / "index.html"
    run_production(project, date="2026-11-01")
    assert stat.S_IMODE(os.stat(page).st_mode) == 0o600
    first = page.read_text(encoding="utf-8")
    assert "运行监控" in first and "2026-11-01" in first and "patientName" in first and "<svg" in first
    assert "待处理拒收 3 条" in first
    run_production(project, date="2026-11-02")
    second = page.read_text(encoding="utf-8")
    assert "2026-11-02" in second and second != first
    for v in tables["visits"]:
        assert v["SFZH"] not in second
    assert LONG_NAME not in second


def test_monitor_page_escapes(strict_sandbox, tmp_path, monkeypatch):
    project, _, _ = new_hospital(tmp_path, strict_sandbox, monkeypatch)
    run_production(project, date="2026-11-01")
    hostile = type(project)(**{**project.__dict__, "name": "<script>alert(1)</script>"})
    html = render_monitor(hostile)
    assert "<script>" not in html and "&lt;script&gt;" in html
