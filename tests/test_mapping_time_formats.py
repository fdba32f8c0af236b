"""Date/time columns that mix formats (one export written by two systems, or by hand in Excel):
without a ``format`` the mapping reads every known year-first format of the guessed kind; with one,
only the formats listed (``A | B``), in order; the business day of a row is found the same way."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hlwjr
from hlwjr.mapping._conversions import parse_times, time_formats

DATETIME_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y%m%d%H%M%S"]
MINUTE_FORMATS = ["%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M"]
DATE_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d"]

moments = st.datetimes(min_value=dt.datetime(1950, 1, 1), max_value=dt.datetime(2049, 12, 31)).map(
    lambda d: d.replace(microsecond=0)
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(moments, st.sampled_from(DATETIME_FORMATS)), min_size=1, max_size=40))
def test_a_column_mixing_datetime_formats_parses_every_value(cells):
    text = pd.Series([d.strftime(f) for d, f in cells], dtype="str")
    parsed, used = parse_times(text)
    assert parsed.tolist() == [pd.Timestamp(d) for d, _ in cells]
    assert set(time_formats(used)) >= {f for _, f in cells}


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(moments, st.sampled_from(DATE_FORMATS)), min_size=1, max_size=40))
def test_a_column_mixing_date_formats_parses_every_value(cells):
    text = pd.Series([d.strftime(f) for d, f in cells], dtype="str")
    parsed, _ = parse_times(text)
    assert parsed.tolist() == [pd.Timestamp(d.date()) for d, _ in cells]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(moments, st.sampled_from(MINUTE_FORMATS + DATETIME_FORMATS[:2])), min_size=2, max_size=30))
def test_an_explicit_format_reads_only_the_alternatives_it_lists(cells):
    text = pd.Series([d.strftime(f) for d, f in cells], dtype="str")
    listed = "%Y-%m-%d %H:%M:%S | %Y/%m/%d %H:%M"
    parsed, used = parse_times(text, listed)
    assert used == listed
    for (d, f), got in zip(cells, parsed, strict=True):
        if f in time_formats(listed):
            assert got == pd.Timestamp(d.replace(second=0) if f.endswith("%M") else d)
        else:  # not listed: kept unparsed (the mapping reports it), never guessed
            assert pd.isna(got)


def test_a_date_only_value_is_not_read_as_midnight_in_a_datetime_column():
    parsed, _ = parse_times(pd.Series(["2026-12-06 08:00:00", "2026/12/6 9:30:00", "2026-12-06"], dtype="str"))
    assert parsed.iloc[:2].tolist() == [pd.Timestamp("2026-12-06 08:00:00"), pd.Timestamp("2026-12-06 09:30:00")]
    assert pd.isna(parsed.iloc[2])


SPEC = hlwjr.load_spec()


def _project(tmp_path, times, business_time_format=None):
    rows = ["就诊流水号,就诊时间"] + [f"MZ{i:04d},{t}" for i, t in enumerate(times)]
    (tmp_path / "visits.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (tmp_path / "m" / "datasets").mkdir(parents=True)
    (tmp_path / "m" / "mapping.yaml").write_text(
        f"kind: hlwjr/mapping\nversion: 1\nspec: {{id: beijing-reference}}\nsources:\n  his: {{path: {tmp_path}}}\n",
        encoding="utf-8",
    )
    fmt = f"  business_time_format: '{business_time_format}'\n" if business_time_format else ""
    (tmp_path / "m" / "datasets" / "revisit.yaml").write_text(
        "kind: hlwjr/mapping-dataset\nversion: 1\ndataset: revisit\n"
        f"source:\n  table: visits\n  business_time: 就诊时间\n{fmt}"
        "fields:\n  bussID: {column: 就诊流水号}\n  startDate: {column: 就诊时间}\n",
        encoding="utf-8",
    )
    return hlwjr.load_mapping(tmp_path / "m")


@pytest.mark.parametrize("business_time_format", [None, "%Y-%m-%d %H:%M:%S | %Y/%m/%d %H:%M"])
def test_mixed_business_times_map_to_the_spec_format_and_the_right_day(tmp_path, business_time_format):
    times = ["2026-12-06 08:00:00", "2026/12/06 09:31", "2026-12-07 10:00:00", "2026/12/6 23:59"]
    mapping = _project(tmp_path, times, business_time_format)
    r = hlwjr.apply_mapping(mapping, "revisit", date="2026-12-06", spec=SPEC, check=False)
    assert r.records["bussID"].tolist() == ["MZ0000", "MZ0001", "MZ0003"]
    assert r.records["startDate"].tolist() == ["2026-12-06 08:00:00", "2026-12-06 09:31:00", "2026-12-06 23:59:00"]
    assert not len(r.rejected_rows)


def test_a_business_time_the_listed_format_cannot_read_is_rejected_with_the_fix(tmp_path):
    mapping = _project(tmp_path, ["2026-12-06 08:00:00", "2026/12/06 09:31", ""], "%Y-%m-%d %H:%M:%S")
    r = hlwjr.apply_mapping(mapping, "revisit", date="2026-12-06", spec=SPEC, check=False)
    assert r.records["bussID"].tolist() == ["MZ0000"]
    msgs = r.issues.set_index("row")["message"] if "row" in r.issues else r.issues["message"]
    text = " ".join(map(str, msgs))
    assert "按格式 %Y-%m-%d %H:%M:%S 无法解析" in text and "用 | 分隔" in text
    assert "业务时间为空" in text


def test_map_check_names_a_bad_alternative(tmp_path):
    mapping = _project(tmp_path, ["2026-12-06 08:00:00"])
    rule = mapping.dataset("revisit").fields["startDate"]
    rule.format = "%Y-%m-%d %H:%M:%S | yyyy/MM/dd"
    problems = [i.message for i in mapping.check(spec=SPEC) if "日期格式" in i.message]
    assert problems and "'yyyy/MM/dd'" in problems[0]


def test_a_day_first_value_is_read_only_when_listed():
    text = pd.Series(["2026-11-04", "04.11.2026"], dtype="str")
    guessed, _ = parse_times(text)
    assert guessed.iloc[0] == pd.Timestamp("2026-11-04") and pd.isna(guessed.iloc[1])
    listed, _ = parse_times(text, "%Y-%m-%d | %d.%m.%Y")
    assert listed.tolist() == [pd.Timestamp("2026-11-04")] * 2


def test_the_suggested_draft_lists_every_format_of_a_mixed_business_time(tmp_path):
    import io

    from hlwjr.cli import parse_args, run

    rows = ["就诊流水号,就诊时间,患者姓名"] + [
        f"MZ{i:04d},{'2026/12/6 9:%02d' % i if i % 3 == 0 else '2026-12-06 10:%02d:00' % i},张三" for i in range(30)
    ]
    (tmp_path / "visits.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    source, draft = str(tmp_path / "visits.csv"), str(tmp_path / "m")
    args = ["map", "suggest", "--dataset", "revisit", "--source", source, "--write", draft]
    assert run(parse_args(args), out, err) == 0, err.getvalue()
    text = (tmp_path / "m" / "datasets" / "revisit.yaml").read_text(encoding="utf-8")
    assert "business_time_format: '%Y-%m-%d %H:%M:%S | %Y/%m/%d %H:%M'" in text
    r = hlwjr.apply_mapping(tmp_path / "m", "revisit", date="2026-12-06", spec=SPEC, check=False)
    assert len(r.records) == 30 and not len(r.rejected_rows)
