"""``hlwjr backfill`` against the real strict_sandbox: after a night the source was down, the range is
re-collected day by day and only what the platform has not accepted is sent; an accepted record
changed since is listed, not sent again (the strict_sandbox profile declares no correction)."""

from __future__ import annotations

import pytest
from ops_helpers import (
    cli,
    days_from,
    hospital_rows,
    new_hospital,
    write_tables,
)

from hlwjr import Ledger
from hlwjr.operations._backfill import backfill
from hlwjr.operations._records import load_runs
from hlwjr.operations._run import run_production

pytestmark = pytest.mark.slow


def test_backfill_after_a_source_outage_sends_only_the_missing_day(strict_sandbox, tmp_path, monkeypatch):
    days = days_from("2026-11-01", 3)
    tables = hospital_rows(days, 3)
    project, _, src = new_hospital(tmp_path, strict_sandbox, monkeypatch, tables=tables)
    assert run_production(project, date=days[0]).exit_code == 0
    (src / "visits.csv").rename(src / "visits.off")  # the HIS export is missing that night
    assert run_production(project, date=days[1]).exit_code == 2
    (src / "visits.off").rename(src / "visits.csv")
    assert run_production(project, date=days[2]).exit_code == 0

    code, out, _ = cli("backfill", "--config", str(project.root), "--from", days[0], "--to", days[2])
    assert code == 0, out
    runs = [r for r in load_runs(project.runs_dir) if r["kind"] == "backfill"]
    assert [r["business_day"] for r in runs] == days
    assert [r["totals"]["accepted"] for r in runs] == [0, 3 + 3 + 2, 0]
    assert runs[0]["totals"]["already_accepted"] == 8 and "补采" in out
    with Ledger(project.ledger_path) as ledger:
        assert ledger.counts() == {"visit": {"accepted": 9}, "recipe": {"accepted": 9}, "evaluation": {"accepted": 6}}


def test_changed_accepted_records_are_listed_not_resent(strict_sandbox, tmp_path, monkeypatch):
    tables = hospital_rows(["2026-11-01"], 2)
    project, _, src = new_hospital(tmp_path, strict_sandbox, monkeypatch, tables=tables)
    run_production(project, date="2026-11-01")
    tables["rx"][0]["JE"] = "99.00"  # HIS corrected the fee after it was accepted
    write_tables(src, tables)
    result = backfill(project, "2026-11-01", "2026-11-01")
    assert not result.corrections and result.exit_code == 0
    [c] = result.changed
    assert c["dataset"] == "recipe" and c["key"].endswith(tables["rx"][0]["CFBH"])
    assert result.runs[0].record["totals"]["sent"] == 0 and "内容已变化，未重发" in result.to_text()


def test_backfill_range_errors(strict_sandbox, tmp_path, monkeypatch):
    project, _, _ = new_hospital(tmp_path, strict_sandbox, monkeypatch)
    code, _, err = cli("backfill", "--config", str(project.root), "--from", "2026-11-03", "--to", "2026-11-01")
    assert code == 2 and "晚于" in err
    code, _, err = cli("backfill", "--config", str(project.root), "--from", "2025-01-01", "--to", "2026-11-01")
    assert code == 2 and "超过一年" in err
