"""A date column of mixed formats (2026-11-04 / 2026/11/4 / 20261104 / 04.11.2026) is still a
date column, and the profile warns: the column, each format's count and examples."""

from __future__ import annotations

import datetime as dt
import io
from html import escape

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hlwjr import cli
from hlwjr.sources._profile import profile_frame

RENDER = {
    "%Y-%m-%d": lambda d: f"{d:%Y-%m-%d}",
    "%Y/%m/%d": lambda d: f"{d.year}/{d.month}/{d.day}",
    "%Y%m%d": lambda d: f"{d:%Y%m%d}",
    "%d.%m.%Y": lambda d: f"{d:%d.%m.%Y}",
}
DATES = st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2049, 12, 31))
#: (format, dates written in it): one to four formats, each for a few values
COLUMN = st.lists(
    st.tuples(st.sampled_from(sorted(RENDER)), st.lists(DATES, min_size=1, max_size=8)),
    min_size=1,
    max_size=4,
    unique_by=lambda fd: fd[0],
)


def _values(column):
    return [RENDER[f](d) for f, dates in column for d in dates]


@settings(max_examples=60, deadline=None)
@given(column=COLUMN, seed=st.randoms(use_true_random=False))
def test_mixed_date_formats_are_counted_and_warned_about(column, seed):
    values = _values(column)
    seed.shuffle(values)
    profile = profile_frame(pd.DataFrame({"JZRQ": values}, dtype="str"))
    cp = profile.column("JZRQ")
    shown = profile.to_frame()["日期格式 format"].iloc[0]
    assert shown.startswith(cp.date_format) and ("另混用" in shown) == (len(column) > 1)
    assert all(escape(w) in profile._repr_html_() for w in profile.warnings)
    dates = [d for _f, ds in column for d in ds]
    assert cp.kind == "date" and cp.invalid_dates == 0
    assert (cp.min, cp.max) == (f"{min(dates):{cp.date_format}}", f"{max(dates):{cp.date_format}}")
    if len(column) == 1:
        assert not cp.warnings and not cp.date_formats
        return
    assert cp.date_formats == {f: len(ds) for f, ds in column}
    (warning,) = cp.warnings
    assert f"列「JZRQ」混用了 {len(column)} 种日期格式" in warning
    for f, ds in column:
        assert f"{f} {len(ds)} 个（如 " in warning
        shown = warning.split(f"{f} {len(ds)} 个（如 ", 1)[1].split("）", 1)[0].split("、")
        assert set(shown) <= {RENDER[f](d) for d in ds} and shown


@settings(max_examples=10, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(column=COLUMN.filter(lambda c: len(c) > 1))
def test_hlwjr_profile_prints_the_warning(tmp_path, column):
    path = tmp_path / "visits.csv"
    pd.DataFrame({"就诊日期": _values(column)}).to_csv(path, index=False)
    out, err = io.StringIO(), io.StringIO()
    assert cli.run(cli.parse_args(["profile", str(path)]), out, err) == 0, err.getvalue()
    assert f"注意：列「就诊日期」混用了 {len(column)} 种日期格式" in out.getvalue()
