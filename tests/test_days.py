"""The one reader of a typed day (``hlwjr._days.parse_day``): ISO 8601's two calendar forms read
as one day, everything else refused with what to write; every entry point hands the day on as
``YYYY-MM-DD`` (the ledger and the readiness count never see one day under two spellings)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hlwjr import ConfigError, MappingError
from hlwjr._days import parse_day

DAYS = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2099, 12, 31))
_FULL_WIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")


@given(day=DAYS, compact=st.booleans(), full_width=st.booleans(), pad=st.sampled_from(["", " ", "\t", "\u3000"]))
def test_both_iso_calendar_forms_read_as_the_same_day(day, compact, full_width, pad):
    text = day.strftime("%Y%m%d" if compact else "%Y-%m-%d")
    if full_width:
        text = text.translate(_FULL_WIDTH)
    assert parse_day(pad + text + pad) == day
    assert parse_day(day) == day and parse_day(dt.datetime.combine(day, dt.time(13, 5))) == day


@given(day=DAYS, form=st.sampled_from(["%d/%m/%Y", "%m/%d/%Y", "%Y/%m/%d", "%Y-W%W-%w", "%y%m%d", "%Y-%m", "%Y%m%d%H"]))
def test_other_spellings_are_refused_with_what_to_write(day, form):
    text = day.strftime(form)
    with pytest.raises(ConfigError, match="YYYY-MM-DD") as exc:
        parse_day(text, "--from")
    assert exc.value.where == "--from" and repr(text) in exc.value.message


@pytest.mark.parametrize("text", ["2026-02-30", "20261301", "2026-00-10", "20261132"])
def test_a_day_not_on_the_calendar_says_so(text):
    with pytest.raises(MappingError, match="不是有效的日期"):
        parse_day(text, None, what="业务日期", error=MappingError)


def test_a_compact_day_reaches_the_upload_summary_as_iso(offline_project):
    from hlwjr.upload._uploader import upload_records

    project = offline_project
    summary = upload_records(project, {}, date="２０２６１１０４", dry_run=True, validate=False)
    assert summary.date == "2026-11-04"
    with pytest.raises(ConfigError, match="YYYY-MM-DD"):
        upload_records(project, {}, date="04/11/2026", dry_run=True)
