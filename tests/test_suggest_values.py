"""Suggestions read a column's values against the field's code set (值域): names of its codes are
strong evidence (图文/视频 → 复诊类别), bare codes weak, never enough alone to be "confident"."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import hlwjr
from hlwjr.mapping._suggest import suggest_fields
from hlwjr.mapping._valuefit import fit_adjust

SPEC = hlwjr.load_spec()
VISIT_TYPES = SPEC.code_set("return-visit-type")


@settings(max_examples=30, deadline=None)
@given(
    header=st.sampled_from(["复诊方式", "问诊形式", "FZFS", "visit_mode", "就诊渠道"]),
    names=st.lists(st.sampled_from(sorted(n for n in VISIT_TYPES.codes.values() if n)), min_size=1, unique=True),
    other=st.sampled_from(["诊疗科目", "科室", "KSMC"]),
)
def test_a_column_of_code_names_outranks_a_column_of_other_values(header, names, other):
    df = pd.DataFrame({other: ["03.01", "呼吸内科"] * 10, header: (names * 20)[:20]})
    best = {s.field: s.best for s in suggest_fields(SPEC.dataset("revisit"), df)}["returnVisitType"]
    assert best is not None and best.column == header
    assert any("的名称" in r for r in best.reasons)


@given(st.lists(st.sampled_from(["1", "2", "01", "02"]), min_size=1, max_size=4, unique=True))
def test_bare_codes_are_weak_evidence(values):
    points, _reason = fit_adjust(SPEC.code_set("card-type"), values)
    assert points < 10


def test_many_distinct_values_are_no_code_column_and_large_code_sets_are_not_judged():
    ids = [f"FZ{i:04d}" for i in range(40)]
    assert fit_adjust(VISIT_TYPES, ids)[0] < 0
    assert fit_adjust(SPEC.code_set("icd10"), ["高血压", "糖尿病"]) == (0.0, None)
