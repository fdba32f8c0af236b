"""Per-data-set daily quotas (``[readiness] min_records_by_dataset``): platforms ask fewer records
of catalogue / evaluation data sets (10) than of business ones (50). Each data set is judged by its
own quota — in the verdict, today's gap and the planner's target — and a quota without
``per_dataset`` or not a positive whole number is refused."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_readiness_compute import _day

from hlwjr import ConfigError, Ledger, compute_readiness
from hlwjr.upload._planner import plan_test_phase
from hlwjr.upload._project import Thresholds

_SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@given(visit=st.integers(0, 60), evaluation=st.integers(0, 20), small=st.integers(1, 15), big=st.integers(16, 50))
@_SETTINGS
def test_each_data_set_is_judged_by_its_own_quota(tmp_path_factory, visit, evaluation, small, big):
    t = Thresholds(
        min_records_per_day=big,
        per_dataset=True,
        required_datasets=("visit", "evaluation"),
        consecutive_days=1,
        min_records_by_dataset={"evaluation": small},
    )
    with Ledger(tmp_path_factory.mktemp("q") / "ledger.sqlite") as led:
        if visit:
            _day(led, "2026-11-03", "visit", visit)
        if evaluation:
            _day(led, "2026-11-03", "evaluation", evaluation)
        r = compute_readiness(led, thresholds=t, today="2026-11-03")
    assert r.today_needed == {"visit": max(0, big - visit), "evaluation": max(0, small - evaluation)}
    assert r.may_apply == (visit >= big and evaluation >= small)
    assert f"evaluation ≥ {small} 条" in r.to_text()
    assert t.target("evaluation") == -(-small * 12 // 10) and t.target("visit") == -(-big * 12 // 10)


def test_the_planner_sends_each_data_set_its_own_target():
    import hlwjr

    spec = hlwjr.load_spec()
    t = Thresholds(per_dataset=True, min_records_by_dataset={"evaluation": 10}, margin=0.0)
    cands = {c: [(f"k{i}", {"organID": "O"}) for i in range(80)] for c in ("consult", "evaluation")}
    chosen = plan_test_phase(spec, cands, t.target, {})
    assert len(chosen["consult"]) == 30 and len(chosen["evaluation"]) == 10


@pytest.mark.parametrize(
    "settings_, message",
    [
        ({"min_records_by_dataset": {"evaluation": 10}}, "per_dataset"),
        ({"per_dataset": True, "min_records_by_dataset": {"evaluation": 0}}, "正整数"),
        ({"per_dataset": True, "min_records_by_dataset": ["evaluation"]}, "数据集代码"),
    ],
)
def test_bad_quotas_are_refused(settings_, message):
    with pytest.raises(ConfigError, match=message):
        Thresholds.from_dict(settings_)
