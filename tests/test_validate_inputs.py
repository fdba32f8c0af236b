"""Inputs found in the audit of issue 3: time-zone-aware times, multi-level headers, odd column names."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from validate_helpers import TODAY, problems, revisit, spec

import hlwjr

UTC = dt.UTC
BEIJING = dt.timezone(dt.timedelta(hours=8))


def _utc(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING).astimezone(UTC)


def test_time_zone_aware_times_are_read_as_beijing_time():
    # 09:30 Beijing = 01:30 UTC: read as UTC wall time it would end before it started
    rec = revisit(endDate=_utc("2026-11-01 09:30:00"))
    found, _ = problems({"revisit": [rec]}, skip=["reference"])
    assert found == set()
    frame = pd.DataFrame([revisit()])
    frame["endDate"] = pd.to_datetime(frame["endDate"]).dt.tz_localize("Asia/Shanghai").dt.tz_convert("UTC")
    found, _ = problems({"revisit": frame}, skip=["reference"])
    assert found == set()
    # and a real problem is still found in Beijing time: 07:59:59 Beijing is before the 08:00 start
    late = pd.DataFrame([revisit(startDate=None)]).drop(columns=["startDate"])
    late["endDate"] = pd.Series([_utc("2026-11-01 07:59:59")]).dt.tz_convert("UTC")
    found, _ = problems({"revisit": late}, skip=["reference"])
    assert ("time_order", "endDate") in found


def test_multi_level_headers_are_a_clear_data_error():
    frame = pd.DataFrame([revisit()])
    frame.columns = pd.MultiIndex.from_tuples([(c, "x") for c in frame.columns])
    with pytest.raises(hlwjr.DataError, match="多级表头"):
        hlwjr.check(frame, "revisit", spec=spec(), today=TODAY)


def test_non_text_column_names_are_reported_never_a_crash():
    frame = pd.DataFrame([revisit()])
    frame.columns = range(len(frame.columns))  # read without a header row
    report = hlwjr.check(frame, "revisit", spec=spec(), today=TODAY)
    assert not report.ok
    assert any(p.rule == "unknown_field" and p.field == "0" for p in report.problems)


def test_one_data_set_given_twice_in_a_batch_is_an_error_not_a_silent_drop():
    from validate_helpers import recipe

    with pytest.raises(hlwjr.DataError, match="两次"):
        hlwjr.check({"recipe": [recipe()], "在线处方": [recipe(recipeID="CF002")]}, spec=spec(), today=TODAY)
