"""The field kernel over stacked cells (issue 10: one kernel per kind of check across all fields).

A small table (up to STACK_CELLS cells) checks all its fields in one stack; a large one gives each
field its own stack, where every per-field attribute is a scalar. Both run the same functions, so
the reports must be the same: hypothesis mutates the reference examples (values, types, missing
keys, date objects, child rows) and compares the stacked run with the field-by-field run. The
membership lookups that choose between a Python dict and Arrow by size are compared the same way.
"""

from __future__ import annotations

import copy
import datetime as dt

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from refspec_helpers import reference_examples
from test_validate_smallbatch import _mutations

import hlwjr
from hlwjr.validation import _engine, _tables
from hlwjr.validation._members import TextSet

TODAY = dt.date(2026, 11, 25)
SPEC = hlwjr.load_spec()
EXAMPLES = reference_examples(SPEC)


class _KnowsOthers:
    def __init__(self, own: str) -> None:
        self.own = own

    def known(self, dataset_code, keys):
        return set() if dataset_code == self.own else set(keys)


def _rows(records, code, *, stack_cells: int) -> list[list[str]]:
    saved = _tables.STACK_CELLS
    _tables.STACK_CELLS = stack_cells
    try:
        run = _engine._run(records, code, SPEC, _KnowsOthers(code), None, (), TODAY)
        frame = _engine._chunk_frame(run, run.chunks())
    finally:
        _tables.STACK_CELLS = saved
    return [] if frame is None else frame.astype(str).values.tolist()


def _assert_stack_agrees(records, code) -> list[list[str]]:
    stacked = _rows(copy.deepcopy(records), code, stack_cells=10**9)
    by_field = _rows(copy.deepcopy(records), code, stack_cells=0)
    assert stacked == by_field
    return stacked


_DATASETS = sorted(EXAMPLES)
_ODD = [dt.date(2024, 2, 29), dt.datetime(2024, 1, 31, 8, 5), dt.datetime(2024, 1, 31, tzinfo=dt.UTC)]


@st.composite
def _mutated(draw):
    code = draw(st.sampled_from(_DATASETS))
    records = copy.deepcopy(EXAMPLES[code]) * draw(st.integers(1, 3))
    records = [copy.deepcopy(r) for r in records]
    for _ in range(draw(st.integers(1, 6))):
        rec = records[draw(st.integers(0, len(records) - 1))]
        target = rec
        lists = [k for k, v in rec.items() if isinstance(v, list) and v and isinstance(v[0], dict)]
        if lists and draw(st.booleans()):
            lst = rec[draw(st.sampled_from(lists))]
            target = lst[draw(st.integers(0, len(lst) - 1))]
        key = draw(st.sampled_from(sorted(target) + ["unknownField"]))
        action = draw(st.sampled_from(["set", "set", "drop", "date object"]))
        if action == "drop":
            target.pop(key, None)
        elif action == "date object":
            target[key] = draw(st.sampled_from(_ODD))
        else:
            target[key] = copy.deepcopy(draw(st.sampled_from(_mutations(target.get(key)))))
    return code, records


@settings(max_examples=60, deadline=None)
@given(case=_mutated())
def test_the_stacked_run_reports_what_the_field_by_field_run_reports(case):
    code, records = case
    _assert_stack_agrees(records, code)


def test_every_reference_example_is_clean_either_way():
    for code, records in EXAMPLES.items():
        assert _assert_stack_agrees(records, code) == [], code


def test_a_dirty_batch_lists_field_problems_in_the_spec_order():
    records = copy.deepcopy(EXAMPLES["revisit"])
    records[0]["sex"] = "7"
    records[0]["age"] = -3
    records[0]["applyDate"] = "2024/01/31"
    rows = _assert_stack_agrees(records, "revisit")
    field_rules = {"code_set", "minimum", "datetime", "date"}
    named = [r[3] for r in rows if r[4] in field_rules and r[1] == "0"]
    order = list(SPEC.dataset("revisit").fields)
    assert {"sex", "age", "applyDate"} <= set(named)
    assert named == sorted(named, key=order.index)


@settings(max_examples=25, deadline=None)
@given(
    rows=st.integers(1, 40),
    values=st.lists(st.sampled_from(["01", "1", " 01", "", "１", "02", None, 3, 2.5, True]), min_size=1, max_size=40),
)
def test_a_small_frame_stacks_its_columns_as_the_field_run_reads_them(rows, values):
    base = EXAMPLES["revisit"][0]
    frame = pd.DataFrame([dict(base, bussID=f"B{i:04d}") for i in range(rows)])
    frame["sex"] = pd.Series([values[i % len(values)] for i in range(rows)], dtype=object)
    frame["age"] = pd.array([i if i % 3 else None for i in range(rows)], dtype="Int64")
    frame["applyDate"] = pd.to_datetime("2024-01-31 08:05:00") + pd.to_timedelta(range(rows), unit="h")
    _assert_stack_agrees(frame, "revisit")


_TEXTS = st.text(alphabet="01AZ.\u3000中", max_size=4)


class _ByArrow(TextSet):
    __slots__ = ()

    def _short(self, strings) -> bool:  # the Arrow way, whatever the sizes
        return False


@settings(max_examples=80, deadline=None)
@given(codes=st.lists(_TEXTS, max_size=60), probe=st.lists(st.one_of(st.none(), _TEXTS), max_size=400))
def test_membership_is_the_same_by_dict_and_by_arrow(codes, probe):
    texts = TextSet(codes, [f"名{c}" for c in codes])
    strings = pa.array(probe, type=pa.string())
    by_arrow = _ByArrow(codes, [f"名{c}" for c in codes])
    assert texts.contains(strings).tolist() == by_arrow.contains(strings).tolist()
    assert texts.labels_at(strings).to_pylist() == by_arrow.labels_at(strings).to_pylist()
    assert texts.contains(strings).tolist() == [p in set(codes) for p in probe]


@pytest.mark.parametrize("code", ["revisit", "recipe"])
def test_a_big_batch_gives_each_field_its_own_stack(code):
    records = copy.deepcopy(EXAMPLES[code])
    spec_fields = len(SPEC.dataset(code).fields)
    table = _tables._prepare(records * (_tables.STACK_CELLS // spec_fields + 1), code, SPEC)[1][SPEC.dataset(code).code]
    assert len(table.field_stacks()) == spec_fields
    small = _tables._prepare(records, code, SPEC)[1][SPEC.dataset(code).code]
    assert len(small.field_stacks()) == 1


def test_the_report_frame_keeps_none_as_none_and_text_as_objects():
    """A problem of the whole batch has no row, key or value: None, never the text "nan" (pandas 3
    would infer a string column from the messages and turn None into NaN)."""
    records = copy.deepcopy(EXAMPLES["revisit"])
    records[0]["sex"] = "7"
    frame = hlwjr.check(records, "revisit", spec=SPEC, today=TODAY).to_frame()
    assert {str(t) for c, t in frame.dtypes.items() if c != "row"} == {"object"}
    batch = frame[frame["rule"] == "reference"].iloc[0]
    assert batch["key"] is None and batch["value"] is None and pd.isna(batch["row"])
    report = hlwjr.check(records, "revisit", spec=SPEC, today=TODAY)
    assert all("nan" not in str(p) for p in report.problems)
