"""Excel/CSV header rows: a two-level or partly blank header is not skipped for the first record,
and a record read as the header is refused without showing its ID or phone number."""

from __future__ import annotations

from unittest import mock

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hlwjr
from hlwjr.sources import _read
from hlwjr.sources._read import iter_source, read_source

ID = "110101198001010011"
PHONE = "13812345678"


def _xlsx(path, rows, merge=None):
    wb = openpyxl.Workbook()
    for r in rows:
        wb.active.append(r)
    for m in merge or []:
        wb.active.merge_cells(m)
    wb.save(path)
    return path


def test_two_level_merged_header_is_refused_not_read_from_the_first_record(tmp_path):
    path = _xlsx(
        tmp_path / "v.xlsx",
        [["就诊号", "患者信息", None, "费用"], [None, "姓名", "身份证号", "金额"], ["MZ1", "张伟", ID, 1.5]],
        merge=["B1:C1", "A1:A2"],
    )
    with pytest.raises(hlwjr.SourceError, match="表头第 3 列为空.*合并单元格") as info:
        read_source(path)
    assert ID not in str(info.value) and "第1行" in str(info.value)


@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(width=st.integers(3, 9), blank=st.data(), titles=st.integers(0, 2))
def test_header_with_one_blank_name_is_found_not_the_record_below(tmp_path, width, blank, titles):
    col = blank.draw(st.integers(1, width - 2))
    header = [f"列{i}" for i in range(width)]
    header[col] = None
    rows = [["某医院门诊明细"]] * titles + [header, [f"v{i}" for i in range(width)]]
    with pytest.raises(hlwjr.SourceError, match=f"表头第 {col + 1} 列为空") as info:
        read_source(_xlsx(tmp_path / f"b{width}{col}{titles}.xlsx", rows))
    assert f"第{titles + 1}行" in str(info.value)


@pytest.mark.parametrize("value", [ID, PHONE, "11010119800101001X"])
@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_record_read_as_header_is_refused_masked(tmp_path, value, suffix):
    path = tmp_path / f"v{suffix}"
    if suffix == ".csv":
        path.write_text(f"MZ1,张伟,{value}\nMZ2,李娜,{value}\n", encoding="utf-8")
    else:
        _xlsx(path, [["MZ1", "张伟", value], ["MZ2", "李娜", value]])
    with pytest.raises(hlwjr.SourceError, match="表头第 3 列.*像身份证号或手机号") as info:
        read_source(path)
    assert value not in str(info.value)


def test_title_rows_above_a_full_header_are_still_skipped(tmp_path):
    path = _xlsx(
        tmp_path / "t.xlsx",
        [["某医院门诊明细"], ["导出时间：2026-01-06"], ["就诊号", "姓名", "金额"], ["MZ1", "张伟", 3]],
    )
    df = read_source(path)
    assert list(df.columns) == ["就诊号", "姓名", "金额"] and df["就诊号"].tolist() == ["MZ1"]


_SEPARATORS = [",", ";", "\t", "|"]
_PADDING = st.sampled_from(["", " ", "  ", "\u3000"])


def _csv(path, lines, sep):
    path.write_text("".join(sep.join(cells) + "\n" for cells in lines), encoding="utf-8")
    return path


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(
    width=st.integers(3, 8),
    data=st.data(),
    sep=st.sampled_from(_SEPARATORS),
    pad=_PADDING,
    suffix=st.sampled_from([".csv", ".xlsx"]),
)
def test_blank_interior_column_name_is_refused_in_csv_and_excel(tmp_path, width, data, sep, pad, suffix):
    col = data.draw(st.integers(1, width - 2), label="blank column (0-based)")
    pads = data.draw(st.lists(_PADDING, min_size=width, max_size=width), label="name padding")
    header = [f"{p}列{i}{p}" for i, p in enumerate(pads)]
    header[col] = pad
    rows = [header] + [[f"v{r}{i}" for i in range(width)] for r in range(3)]
    path = tmp_path / f"b{width}{col}{len(pad)}{_SEPARATORS.index(sep)}{suffix}"
    if suffix == ".csv":
        _csv(path, rows, sep)
    else:
        _xlsx(path, [[h or None for h in rows[0]], *rows[1:]])
    with pytest.raises(hlwjr.SourceError, match=f"表头第 {col + 1} 列为空") as info:
        read_source(path)
    assert "第1行" in str(info.value) and path.name in str(info.value)


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(
    width=st.integers(2, 6),
    trailing=st.integers(1, 3),
    sep=st.sampled_from(_SEPARATORS),
    n=st.integers(1, 6),
    chunksize=st.integers(1, 4),
)
def test_trailing_separators_are_no_columns_and_their_cells_stay_empty(tmp_path, width, trailing, sep, n, chunksize):
    header = [f"列{i}" for i in range(width)] + [""] * trailing
    rows = [[f"v{r}_{i}" for i in range(width)] + [""] * trailing for r in range(n)]
    path = _csv(tmp_path / f"t{width}{trailing}{_SEPARATORS.index(sep)}{n}.csv", [header, *rows], sep)
    expected = [f"列{i}" for i in range(width)]
    df = read_source(path)
    assert list(df.columns) == expected and df.values.tolist() == [r[:width] for r in rows]
    for arrow in (False, True):
        chunks = _chunks(path, chunksize, arrow)
        assert all(list(c.columns) == expected for c in chunks) and sum(map(len, chunks)) == n
    bad_row, bad_col = n - 1, width + trailing - 1
    rows[bad_row][bad_col] = PHONE
    _csv(path, [header, *rows], sep)
    for read in (read_source, lambda p: _chunks(p, chunksize, False), lambda p: _chunks(p, chunksize, True)):
        with pytest.raises(hlwjr.SourceError, match=f"第 {bad_col + 1} 列有值.*没有列名") as info:
            read(path)
        assert f"第{bad_row + 2}行" in str(info.value) and PHONE not in str(info.value)


def _chunks(path, chunksize, arrow):
    """The chunks of a CSV, read by pandas or (as a file of 8 MB and more is) by Arrow."""
    with mock.patch.object(_read, "_ARROW_MIN_BYTES", 0 if arrow else _read._ARROW_MIN_BYTES):
        return list(iter_source(path, chunksize=chunksize))


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(width=st.integers(2, 6), trailing=st.integers(1, 3), pad=_PADDING)
def test_blank_cells_right_of_an_excel_header_are_no_columns(tmp_path, width, trailing, pad):
    header = [f"列{i}" for i in range(width)] + [pad or None] * trailing
    path = _xlsx(tmp_path / f"e{width}{trailing}{len(pad)}.xlsx", [header, [f"v{i}" for i in range(width)]])
    assert list(read_source(path).columns) == [f"列{i}" for i in range(width)]


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(
    width=st.integers(2, 6),
    data=st.data(),
    sep=st.sampled_from(_SEPARATORS),
    titles=st.integers(0, 1),
    chunksize=st.integers(1, 4),
)
def test_records_ending_in_separators_the_header_lacks_are_not_shifted(tmp_path, width, data, sep, titles, chunksize):
    """pandas reads records one field longer than the header as an index, shifting every value one
    column left; and a first record wider than the header must not be taken for it."""
    k = data.draw(st.integers(1, 2), label="trailing separators of the first record")
    n = data.draw(st.integers(2, 6), label="records")
    extra = [k] + data.draw(st.lists(st.integers(0, k), min_size=n - 1, max_size=n - 1), label="of the others")
    header = [f"列{i}" for i in range(width)]
    rows = [[f"v{r}_{i}" for i in range(width)] for r in range(n)]
    lines = [["某医院门诊明细"]] * titles + [header] + [r + [""] * e for r, e in zip(rows, extra, strict=True)]
    path = _csv(tmp_path / f"s{width}{k}{_SEPARATORS.index(sep)}{titles}{n}.csv", lines, sep)
    df = read_source(path)
    assert list(df.columns) == header and df.values.tolist() == rows
    for arrow in (False, True):
        assert pd.concat(_chunks(path, chunksize, arrow)).values.tolist() == rows


@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(width=st.integers(2, 5), sep=st.sampled_from(_SEPARATORS), at=st.integers(1, 3), k=st.integers(1, 2))
def test_a_later_record_ending_in_separators_is_ragged_and_the_advice_works(tmp_path, width, sep, at, k):
    header = [f"列{i}" for i in range(width)]
    rows = [[f"v{r}_{i}" for i in range(width)] for r in range(4)]
    lines = [header] + [r + [""] * (k if i == at else 0) for i, r in enumerate(rows)]
    path = _csv(tmp_path / f"r{width}{_SEPARATORS.index(sep)}{at}{k}.csv", lines, sep)
    with pytest.raises(hlwjr.SourceError, match="列数不齐.*行末多了分隔符") as info:
        read_source(path)
    assert f"第{at + 2}行" in str(info.value)
    _csv(path, [header + [""] * k] + lines[1:], sep)  # the header given as many trailing separators
    assert read_source(path).values.tolist() == rows
