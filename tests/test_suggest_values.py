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


_SURNAMES, _GIVEN = "王李张刘陈杨赵黄周吴徐孙", "伟芳娜敏静丽强磊洋艳勇军杰娟涛明超秀霞平"
_NEVER_CODES = {
    "names": lambda i: _SURNAMES[i % 12] + _GIVEN[(i * 7) % 20] + _GIVEN[(i * 3 + 1) % 20],
    "datetimes": lambda i: f"2026-11-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:00",
    "amounts": lambda i: f"{10 + i * 3}.{i % 100:02d}",
}


@settings(max_examples=30, deadline=None)
@given(
    field=st.sampled_from(["patientCertType", "returnVisitType", "paymentChannel", "sex", "cardType"]),
    kind=st.sampled_from(sorted(_NEVER_CODES)),
    header=st.sampled_from(["{key}_x", "{key}Name", "{key}s"]),
)
def test_a_coded_field_is_not_sure_of_a_column_of_names_times_or_amounts(field, kind, header):
    """A column of many person names, times or amounts never holds a field's codes: named alike, it
    ranks far below the same column holding codes, and says why."""
    ds = SPEC.dataset("revisit")
    col = header.format(key=field)
    codes = sorted(SPEC.code_set(ds.fields[field].code_set).codes)
    make = _NEVER_CODES[kind]
    wrong = pd.DataFrame({col: [make(i) for i in range(60)]})
    right = pd.DataFrame({col: [codes[i % len(codes)] for i in range(60)]})

    def score(df):
        cands = {s.field: s for s in suggest_fields(ds, df, min_score=0.0)}[field].candidates
        return next((c for c in cands if c.column == col), None)

    bad, good = score(wrong), score(right)
    assert good is not None and (bad is None or bad.score <= good.score - 0.15)
    assert bad is None or any("不会是值域代码" in r for r in bad.reasons)


@settings(max_examples=20, deadline=None)
@given(field=st.sampled_from(["bussID", "thisDiagnosis", "doctorName", "originalDiagnosis"]), data=st.data())
def test_a_text_field_is_less_sure_of_a_column_of_times(field, data):
    """A field typed as text that is no time (an ID, a diagnosis, a name) ranks a column of times
    below the same column holding text."""
    ds = SPEC.dataset("revisit")
    col = f"{field}_col"
    times = pd.DataFrame({col: [_NEVER_CODES["datetimes"](i) for i in range(60)]})
    text = pd.DataFrame({col: [f"X{i:04d}说明" for i in range(60)]})

    def score(df, key):
        cands = {s.field: s for s in suggest_fields(ds, df, min_score=0.0)}[key].candidates
        return next(c.score for c in cands if c.column == col)

    assert score(times, field) <= score(text, field) - 0.09
