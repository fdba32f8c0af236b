"""The test-phase planner (测试阶段计划) and the upload summary, without a platform."""

from __future__ import annotations

from pathlib import Path

from hlwjr import load_spec
from hlwjr._upload import DatasetSummary, UploadSummary, _pad, plan_test_phase

MINISPEC = Path(__file__).parent / "data" / "upload_minispec"


def _cands(prefix, n, ref=None):
    out = []
    for i in range(n):
        rec = {"organID": "O", "bussID": f"{prefix}{i}"} if ref is None else \
            {"organID": "O", "recipeID": f"{prefix}{i}", "bussID": ref(i)}
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
