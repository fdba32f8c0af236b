"""Excel date-times as Excel shows them: to the nearest second, not cut off (08:02:59.6 is
08:03:00), whether the cell holds a formatted serial or a datetime, a time of day, or a bare
serial number that the validator explains."""

from __future__ import annotations

import datetime as dt

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hlwjr._sheets import excel_serial_datetime
from hlwjr.sources._read import read_source
from hlwjr.validation._hints import excel_serial_hint

EPOCH = dt.datetime(1899, 12, 30)
BOUNDARY_MS = st.sampled_from([0, 1, 499, 500, 501, 998, 999])

#: a date-time to the millisecond (Excel keeps no more), often just beside a half or whole second
WHEN = st.builds(
    lambda d, ms: d.replace(microsecond=ms * 1000),
    st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(9999, 12, 30)),
    st.one_of(st.integers(0, 999), BOUNDARY_MS),
)


def _serial(when: dt.datetime) -> float:
    return (when - EPOCH) / dt.timedelta(days=1)


def _nearest(when: dt.datetime) -> dt.datetime:
    """Independently: whole milliseconds since the epoch, to whole seconds, a half second up."""
    ms = (when - EPOCH) // dt.timedelta(milliseconds=1)
    return EPOCH + dt.timedelta(seconds=(ms + 500) // 1000)


def _shown(when: dt.datetime) -> str:
    s = f"{_nearest(when):%Y-%m-%d %H:%M:%S}"
    return s[:10] if s.endswith(" 00:00:00") else s


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(whens=st.lists(WHEN, min_size=1, max_size=6))
def test_date_times_in_cells_read_to_the_nearest_second(tmp_path, whens):
    wb = openpyxl.Workbook()
    wb.active.append(["serial", "datetime"])
    for when in whens:
        wb.active.append([_serial(when), when])
        wb.active.cell(wb.active.max_row, 1).number_format = "yyyy-mm-dd hh:mm:ss"
    wb.save(tmp_path / "t.xlsx")
    for numbers in (False, True):
        df = read_source(tmp_path / "t.xlsx", excel_numbers=numbers)
        expected = [_shown(w) for w in whens]
        assert df["serial"].tolist() == expected and df["datetime"].tolist() == expected


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(when=WHEN)
def test_a_time_of_day_cell_reads_as_the_time_to_the_nearest_second(tmp_path, when):
    wb = openpyxl.Workbook()
    wb.active.append(["time"])
    wb.active.append([when.time()])
    wb.save(tmp_path / "t.xlsx")
    assert read_source(tmp_path / "t.xlsx")["time"].tolist() == [f"{_nearest(when):%H:%M:%S}"]


@settings(max_examples=200)
@given(when=WHEN)
def test_a_bare_serial_means_its_date_time_to_the_nearest_second(when):
    serial = _serial(when)
    assert excel_serial_datetime(serial) == _nearest(when)
    assert f"{serial} = {_nearest(when):%Y-%m-%d %H:%M:%S}）" in excel_serial_hint(serial)
