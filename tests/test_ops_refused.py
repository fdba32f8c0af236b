"""The refused list and resend against the real strict_sandbox: each refused record listed with its
field and the platform's message (keys masked, no ID-card number anywhere), text and CSV;
``hlwjr resend --refused`` sends what was fixed in the source and what was refused only for a
missing reference, leaves the rest listed, and never sends an accepted record again."""

from __future__ import annotations

import csv
import io

import pytest
from ops_helpers import (
    LONG_NAME,
    cli,
    hospital_rows,
    new_hospital,
    write_tables,
)

from hlwjr import Ledger
from hlwjr.operations._refused import refused_list, resend_refused
from hlwjr.operations._run import run_production

pytestmark = pytest.mark.slow


@pytest.fixture
def refused_hospital(strict_sandbox, tmp_path, monkeypatch):
    tables = hospital_rows(["2026-11-01"], 4)
    tables["visits"][0]["XM"] = LONG_NAME  # refused; its prescription + evaluation refused for the reference
    tables["visits"][1]["XM"] = LONG_NAME + "乙"  # refused; its prescription refused for the reference
    project, _, src = new_hospital(tmp_path, strict_sandbox, monkeypatch, tables=tables)
    first = run_production(project, date="2026-11-01")
    assert first.exit_code == 1 and first.record["n_refused"] == 5
    return project, tables, src


def test_refused_list_text_and_csv_masked(refused_hospital):
    project, tables, _ = refused_hospital
    listing = refused_list(project)
    assert len(listing.records) == 5
    by = {(r["dataset"], r["errors"][0]["field"]) for r in listing.records}
    assert by == {("visit", "patientName"), ("recipe", "bussID"), ("evaluation", "bussID")}
    code, out, _ = cli("refused", "--config", str(project.root))
    assert code == 1 and "patientName" in out and "超过最大长度" in out and "hlwjr resend" in out
    code, out, _ = cli("refused", "--config", str(project.root), "--day", "2026-11-01", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 1 and len(rows) == 5 and {r["数据集"] for r in rows} == {"visit", "recipe", "evaluation"}
    for v in tables["visits"]:
        assert v["SFZH"] not in out
    code, out, _ = cli("refused", "--config", str(project.root), "--day", "2026-11-02")
    assert code == 0 and "没有被平台拒收" in out


def test_resend_sends_the_fixed_and_their_dependants_and_lists_the_rest(refused_hospital, strict_sandbox):
    project, tables, src = refused_hospital
    tables["visits"][0]["XM"] = "王试"  # fixed in HIS
    write_tables(src, tables)
    code, out, _ = cli("resend", "--config", str(project.root), "--refused")
    assert code == 1, out
    left = refused_list(project)
    assert sorted(r["dataset"] for r in left.records) == ["recipe", "visit"]  # visit 1 and its prescription
    assert "拒收清单" in out

    tables["visits"][1]["XM"] = "李四"
    write_tables(src, tables)
    result = resend_refused(project, day="2026-11-01")
    assert result.exit_code == 0 and refused_list(project).records == []
    with Ledger(project.ledger_path) as ledger:
        counts = ledger.counts()
    assert counts == {"visit": {"accepted": 4}, "recipe": {"accepted": 4}, "evaluation": {"accepted": 2}}
    again = run_production(project, date="2026-11-01")  # nothing left to send
    assert again.exit_code == 0 and again.record["totals"]["sent"] == 0
    code, out, _ = cli("resend", "--config", str(project.root), "--refused")
    assert code == 0 and "没有被平台拒收" in out


def test_resend_never_sends_an_unchanged_content_refusal_again(refused_hospital):
    project, _, _ = refused_hospital
    result = resend_refused(project)  # nothing fixed: the platform would refuse them again
    assert result.exit_code == 1 and len(result.left.records) == 5
    assert sum(r.record["totals"]["sent"] for r in result.runs) == 0


def test_operations_panel_filters_opens_marks_and_resends_only_the_fixed(refused_hospital):
    """The notebook-08 widget, headless: filter, open a refused record (masked, with the mapping
    rule of the field), mark it fixed, resend only the marked one; errors shown, never raised."""
    from hlwjr.mapping._config import load_mapping
    from hlwjr.widgets import OperationsPanel

    project, tables, src = refused_hospital
    panel = OperationsPanel(project, today="2026-11-01", mapping=load_mapping(project.mapping_dir))
    assert panel.last_error is None and len(panel.records) == 5
    assert "最近运行情况" in panel.status_html.value
    panel.dataset.value = "visit"
    assert len(panel.choice.options) == 2 and all(r["dataset"] == "visit" for r in panel.filtered())
    panel.rule.value = panel.rule.options[1]
    html = panel.detail.value
    assert "patientName" in html and "取列" in html  # the platform's message beside the mapping rule
    everything = html + "".join(label for label, _ in panel.choice.options) + panel.status_html.value
    for v in tables["visits"]:
        assert v["SFZH"] not in everything
    assert panel.resend(set()) is None and "还没有标记" in panel.result.value

    target = panel.filtered()[0]
    tables["visits"][0]["XM"], tables["visits"][1]["XM"] = "王试", "李四"  # both fixed in HIS …
    write_tables(src, tables)
    panel.choice.value = next(i for i, r in enumerate(panel._shown) if r["key"] == target["key"])
    panel.mark.value = True
    assert panel.fixed == {(target["dataset"], target["key"])}
    assert panel.choice.options[panel.choice.value][0].startswith("✔")
    panel.resend_marked.click()
    assert panel.last_error is None, panel.error_message
    assert len(panel.results) == 1 and "重发完成" in panel.result.value
    left = {(r["dataset"], r["key"]) for r in panel.records}
    assert (target["dataset"], target["key"]) not in left  # … but only the marked one was resent
    assert sum(1 for d, _ in left if d == "visit") == 1 and panel.fixed == set()
