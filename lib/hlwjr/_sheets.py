"""Spreadsheets people open: nothing we write runs as a formula, nothing we read hides one.

Writing (OWASP "CSV injection"): a text cell that begins with ``= + - @``, a tab or a carriage
return would be taken by Excel or WPS for a formula. In .xlsx such cells are stored as text
(:func:`excel_writer`, :func:`formulas_as_text`); in .csv they get a leading apostrophe
(:func:`defuse`, :func:`defuse_frame`), which hlwjr's own readers take off again
(:func:`undo_defuse`) so files it writes round-trip.

Reading: a formula cell keeps its last computed value only if the program that saved it stored
one; files written by scripts often do not. :func:`uncached_formulas` lists such cells, and the
readers refuse them with their location rather than reading them as empty.

Dates and times: a cell's date-time is shown as Excel shows ``hh:mm:ss`` — to the nearest second
(:func:`nearest_second`), not cut off (08:02:59.6 is 08:03:00); a date serial read as a number
(days since 1899-12-30) means :func:`excel_serial_datetime`.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ._exceptions import SourceError
from ._zip import refuse_zip_bomb

__all__ = [
    "FORMULA_TRIGGERS",
    "defuse",
    "defuse_frame",
    "excel_serial_datetime",
    "excel_writer",
    "formulas_as_text",
    "nearest_second",
    "uncached_formulas",
    "undo_defuse",
]

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_SHEET_PART = re.compile(r"xl/worksheets/[^/]+\.xml$")


def _looks_defused(value: str) -> bool:
    return value.lstrip("'").startswith(FORMULA_TRIGGERS)


def defuse(value: Any) -> Any:
    """A CSV cell that cannot run as a formula: text beginning with a trigger gets ``'`` in front
    (as does text that already looks so, e.g. ``'=x``, so :func:`undo_defuse` gives it back)."""
    if isinstance(value, str) and _looks_defused(value):
        return "'" + value
    return value


def undo_defuse(value: Any) -> Any:
    """:func:`defuse` undone (for files hlwjr wrote and reads back)."""
    if isinstance(value, str) and value.startswith("'") and _looks_defused(value):
        return value[1:]
    return value


def defuse_frame(frame):
    """A copy of a DataFrame whose text cells are :func:`defuse`-d (numbers are left alone)."""
    from pandas.api.types import is_object_dtype, is_string_dtype

    out = frame.copy()
    for col in out.columns:
        if is_object_dtype(out[col].dtype) or is_string_dtype(out[col].dtype):
            out[col] = out[col].map(defuse, na_action="ignore")
    return out


def formulas_as_text(workbook) -> int:
    """Turn every formula cell of an openpyxl workbook that hlwjr is about to save into text (we
    never write formulas on purpose, so any is a value that looked like one). Returns how many."""
    n = 0
    for ws in workbook.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
                    cell.quotePrefix = True  # stays text when someone edits the cell
                    n += 1
    return n


@contextlib.contextmanager
def excel_writer(path) -> Iterator[Any]:
    """``pd.ExcelWriter`` (openpyxl) whose sheets are saved with :func:`formulas_as_text`."""
    import pandas as pd

    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        yield xw
        formulas_as_text(xw.book)


def _has_formulas(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as z:
            return any(_SHEET_PART.match(n) and _holds(z, n, b"<f") for n in z.namelist())
    except (OSError, zipfile.BadZipFile, KeyError):
        return False  # not a readable workbook: the reader says so in its own words


def _holds(z: zipfile.ZipFile, name: str, needle: bytes, chunk: int = 1 << 20) -> bool:
    """Does part ``name`` contain ``needle``? Read a MiB at a time (a sheet can be a gigabyte)."""
    tail = b""
    with z.open(name) as fh:
        while block := fh.read(chunk):
            if needle in tail + block:
                return True
            tail = block[-(len(needle) - 1) :]
    return False


def uncached_formulas(path, sheet: str | None = None, *, limit: int = 10) -> list[str]:
    """Cells (``工作表!B3``) holding a formula without a stored result, at most ``limit``; empty
    when the workbook has no formulas (checked cheaply, without opening it twice)."""
    path = Path(path)
    refuse_zip_bomb(path, SourceError, "Excel 文件")
    if not _has_formulas(path):
        return []
    import openpyxl
    from openpyxl.utils import get_column_letter

    found: list[str] = []
    formulas = openpyxl.load_workbook(path, read_only=True, data_only=False)
    values = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        for name in [sheet] if sheet else formulas.sheetnames:
            rows = zip(formulas[name].iter_rows(values_only=True), values[name].iter_rows(values_only=True))
            for r, (frow, vrow) in enumerate(rows, start=1):
                for c, (f, v) in enumerate(zip(frow, vrow), start=1):
                    text = getattr(f, "text", f)
                    if v is None and isinstance(text, str) and text.startswith("="):
                        found.append(f"{name}!{get_column_letter(c)}{r}")
                        if len(found) >= limit:
                            return found
    finally:
        formulas.close()
        values.close()
    return found


_EXCEL_EPOCH = _dt.datetime(1899, 12, 30)
_HALF_SECOND = _dt.timedelta(microseconds=500_000)


def nearest_second(when):
    """A datetime or time of day to the nearest second, a half second up (Excel's ``hh:mm:ss``);
    a time of day just before midnight becomes 00:00:00."""
    if isinstance(when, _dt.time):
        return nearest_second(_dt.datetime.combine(_dt.date(2000, 1, 1), when)).time()
    try:
        return (when + _HALF_SECOND).replace(microsecond=0)
    except OverflowError:  # 9999-12-31 23:59:59.5 has no next second
        return when.replace(microsecond=0)


def excel_serial_datetime(serial: float) -> _dt.datetime:
    """The date and time an Excel serial stands for, to the millisecond (as Excel keeps it: a
    serial's binary fraction is never exact), then to the nearest second; before 1900-03-01 Excel
    counts a 29 February 1900 that never was, so those serials are a day further on."""
    when = _EXCEL_EPOCH + _dt.timedelta(milliseconds=round(serial * 86_400_000))
    return nearest_second(when + _dt.timedelta(days=1) if 0 < serial < 60 else when)
