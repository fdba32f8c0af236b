"""Mapping config (指标对照): from the hospital's HIS tables to the spec's records.

A mapping lives in a directory (``mapping/<hospital>/``, reviewed and versioned like code)::

    mapping.yaml            kind: hlwjr/mapping, version: 1, spec id + version, sources, code maps
    datasets/<code>.yaml    one file per data set: its source (table/query/file, joins, business
                            time column) and one rule per spec field
    codes/<name>.csv        code maps (值域对照) local value → standard code, editable in Excel

Field rule kinds (one per spec field, each with its review status as Usagi keeps it —
``suggested`` / ``accepted`` / ``rejected``, ``reviewer``, ``reviewed_at``, ``comment``):

* ``column: BRXM`` — a source column (strings are trimmed; empty → missing);
* ``column: KFSJ`` + ``format: "%Y%m%d%H%M%S"`` — a date/time reformat to the spec's
  ``YYYY-MM-DD`` / ``YYYY-MM-DD HH:MM:SS``;
* ``column: XB`` + ``code_map: sex`` (+ ``default: "0"``) — a code map; values missing from the map
  take the default, or the row is **rejected** (reported, never dropped silently);
* ``const: "1"`` — a constant; ``concat: [A, B]`` + ``sep`` — a concatenation;
* ``derive: age_from_birth`` + ``args: [CSRQ, KFSJ]`` — a named function from :data:`DERIVED`;
* ``unavailable: "HIS 不记录该项"`` — not available, with the reason;
* ``children: {table: ..., on: {CHILD_COL: PARENT_COL}, fields: {...}}`` — an array field (处方明细)
  built from a detail table joined by key, only for the rows of this data set.

``apply_mapping(mapping, dataset, date=...)`` runs vectorised over DataFrames (no per-row Python for
column rules), chunk by chunk, and returns a :class:`MappingResult`: the records (a DataFrame of
spec field keys) and every issue (rejected rows, defaulted or unparseable values, unmapped local
codes).  Every source row ends as a record or a reported rejection.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from .._exceptions import MappingError, SourceError

__all__ = [
    "DERIVED",
    "REVIEW_STATUSES",
    "RULE_KINDS",
    "ChildRule",
    "CodeMap",
    "CodeMapRef",
    "DatasetMapping",
    "FieldRule",
    "Join",
    "Mapping",
    "MappingIssue",
    "MappingResult",
    "SourceDef",
    "SourceRef",
    "apply_mapping",
    "load_code_map",
    "load_mapping",
]

KIND = "hlwjr/mapping"
DATASET_KIND = "hlwjr/mapping-dataset"
VERSION = 1
REVIEW_STATUSES = ("suggested", "accepted", "rejected")
RULE_KINDS = ("column", "date", "code", "const", "concat", "derive", "unavailable", "children")
OUT_FORMATS = {"date": "%Y-%m-%d", "datetime": "%Y-%m-%d %H:%M:%S"}
_UNSET: Any = object()
_CHUNK = 200_000


# ------------------------------------------------------------------------------------------------
# vectorised helpers


def as_text(s: pd.Series, *, trim: bool = True) -> pd.Series:
    """Any column as text (``str`` dtype): integers without ``.0``, trimmed, empty → missing."""
    if s.dtype.kind == "f":
        vals = s.to_numpy(dtype="float64", na_value=np.nan)
        finite = np.isfinite(vals)
        if finite.any() and np.all(np.mod(vals[finite], 1) == 0):
            s = pd.Series(vals, index=s.index).astype("Int64")
    elif s.dtype.kind == "b":
        s = s.astype("Int64")
    elif s.dtype.kind == "M":
        out = pd.Series(pd.array(s.dt.strftime("%Y-%m-%d %H:%M:%S"), dtype="str"), index=s.index)
        return out
    t = s.astype("str") if str(s.dtype) != "str" else s
    if len(t) == 0:
        return t
    arr = _arrow_strings(t)
    if arr is not None and _clean_text(arr, trim):
        return t  # no value to trim and no empty string: skip two passes over the column
    if trim:
        t = t.str.strip()
    return t.mask(t == "")


_WS = np.zeros(256, dtype=bool)
_WS[[0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F, 0x20, 0x85]] = True
_MB_LEAD = np.zeros(256, dtype=bool)
_MB_LEAD[[0xC2, 0xE1, 0xE2, 0xE3]] = True  # leads of the non-ASCII Unicode spaces (NBSP, U+2000…, 全角空格)


def _clean_text(arr, trim: bool) -> bool:
    """True when no value is empty and (with ``trim``) none can start or end with white space.

    Looks only at the first and last bytes of each value (offsets + NumPy); anything that might
    be a multi-byte space sends the column through the real trim."""
    import pyarrow as pa

    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return False
    bufs = arr.buffers()
    odt = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    offsets = np.frombuffer(bufs[1], dtype=odt)[arr.offset : arr.offset + len(arr) + 1]
    starts, ends = offsets[:-1], offsets[1:]
    if arr.null_count:
        valid = ~np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        starts, ends = starts[valid], ends[valid]
    if len(starts) == 0:
        return True
    if (ends <= starts).any():
        return False  # empty strings become missing values
    if not trim:
        return True
    data = np.frombuffer(bufs[2], dtype=np.uint8)
    first, last = data[starts], data[ends - 1]
    if _WS[first].any() or _WS[last].any() or _MB_LEAD[first].any():
        return False
    multi = last >= 0x80
    if multi.any():
        e = ends[multi]
        two = data[np.maximum(e - 2, 0)]
        three = data[np.maximum(e - 3, 0)]
        if (two == 0xC2).any() or _MB_LEAD[three].any():
            return False
    return True


def _arrow_strings(t: pd.Series):
    """The pyarrow array behind a ``str`` Series (None when it is not Arrow-backed)."""
    try:
        arr = t.array.__arrow_array__()
    except (AttributeError, TypeError):
        return None
    if hasattr(arr, "combine_chunks"):  # a ChunkedArray: one chunk is used as is (no copy)
        arr = arr.chunk(0) if arr.num_chunks == 1 else arr.combine_chunks()
    return arr


_DISTINCT_MIN_ROWS = 4096


def _distinct(text: pd.Series, *, share: float = 0.25) -> tuple[np.ndarray, pd.Series] | None:
    """The distinct values of a text column, when values repeat enough to be worth it.

    Returns ``(codes, uniques)``: ``codes`` (int64, -1 for a missing value) indexes ``uniques``
    (a ``str`` Series, 0..k-1), or None when the column is short, not Arrow-backed or has more
    than ``share`` × rows distinct values.  Dates, codes and names repeat a lot in HIS exports
    (same day, same department), so a per-value transformation runs once per distinct value and
    the result is gathered back with :func:`_per_row`; the result is identical, value by value."""
    import pyarrow.compute as pc

    if len(text) < _DISTINCT_MIN_ROWS or str(text.dtype) != "str":
        return None
    arr = _arrow_strings(text)
    if arr is None:
        return None
    enc = pc.dictionary_encode(arr)
    if len(enc.dictionary) > share * len(arr):
        return None
    codes = enc.indices
    if codes.null_count:
        codes = pc.fill_null(codes, -1)
    codes = codes.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    return codes, pd.Series(pd.array(enc.dictionary, dtype="str"))


def _per_row(values: pd.Series, codes: np.ndarray, index) -> pd.Series:
    """Per-distinct-value results → one value per row, keeping the dtype.

    Code -1 (a missing source value) gives a missing result (False for a boolean mask)."""
    if values.dtype == bool:
        return pd.Series(np.append(values.to_numpy(), False)[codes], index=index)  # -1 picks the False
    return pd.Series(values.array.take(codes, allow_fill=True), index=index)


def _repeat_text(value: str, n: int, index) -> pd.Series:
    """A ``str`` column holding ``value`` on every row (constants), built by Arrow in one go."""
    import pyarrow as pa

    return pd.Series(pd.array(pa.repeat(pa.scalar(value, pa.large_string()), n), dtype="str"), index=index)


def guess_time_format(text: pd.Series) -> str:
    """The strftime format most of the first 2,000 values match (``hlwjr.sources._profile.DATE_FORMATS``)."""
    from ..sources._profile import DATE_FORMATS

    nn = text.dropna().iloc[:2000]  # choose the format on a sample; every value is then parsed with it
    best, best_n = None, 0
    for pattern, f, _kind in DATE_FORMATS:
        n = int(nn.str.match(pattern).sum()) if len(nn) else 0
        if n > best_n:
            best, best_n = f, n
    return best or "%Y-%m-%d %H:%M:%S"


def parse_times(text: pd.Series, fmt: str | None = None) -> tuple[pd.Series, str | None]:
    """Parse date/time text with ``fmt`` (a strftime format) or, when None, the first known format
    most values match (see ``hlwjr.sources._profile.DATE_FORMATS``).  Returns (datetime64 Series with NaT
    where a value does not parse, the format used).

    Repeated values (dates of one day, birth dates) are parsed once per distinct value."""
    if fmt is None:
        fmt = guess_time_format(text)
    enc = _distinct(text)
    if enc is not None:
        codes, uniques = enc
        return _per_row(_parse_values(uniques, fmt), codes, text.index), fmt
    parsed = _parse_values(text, fmt)
    return parsed, fmt


def _parse_values(text: pd.Series, fmt: str) -> pd.Series:
    parsed = _fast_parse(text, fmt)
    if parsed is None:
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
    return parsed


_FIELD_WIDTH = {"%Y": 4, "%m": 2, "%d": 2, "%H": 2, "%M": 2, "%S": 2}


def _fast_parse(text: pd.Series, fmt: str) -> pd.Series | None:
    """Vectorised parser for fixed-width numeric formats (``%Y%m%d%H%M%S``, ``%Y-%m-%d`` …).

    Checks every digit and separator and that the date exists (2026-11-31 → NaT), like strptime,
    but with NumPy over the bytes instead of one strptime call per value.  Values of another
    length go through pandas.  None when the format is not fixed-width."""

    tokens = re.findall(r"%[A-Za-z%]|[^%]+", fmt)
    if any(t.startswith("%") and t not in _FIELD_WIDTH for t in tokens) or any(
        not t.startswith("%") and not t.isascii() for t in tokens
    ):
        return None
    if len(text) == 0 or str(text.dtype) != "str":
        return None
    arr = _arrow_strings(text)
    if arr is None:
        return None
    arr = _large(arr)
    width = sum(_FIELD_WIDTH.get(t, len(t)) for t in tokens)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8) if arr.buffers()[2] is not None else np.zeros(0, np.uint8)
    valid = ~np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    fixed = valid & (np.diff(offsets) == width)
    out = np.full(len(arr), np.datetime64("NaT"), dtype="datetime64[s]")
    if fixed.any():
        if fixed.all() and int(offsets[-1] - offsets[0]) == width * len(arr):
            # every value has the format's width: the bytes are one (rows × width) matrix, no copy
            m = data[int(offsets[0]) : int(offsets[-1])].reshape(len(arr), width)
        else:
            starts = offsets[:-1][fixed]
            m = data[starts[:, None] + np.arange(width)]
        ok = np.ones(len(m), dtype=bool)
        comp: dict[str, np.ndarray] = {}
        pos = 0
        for t in tokens:  # column by column: a few vector operations per byte position
            if t in _FIELD_WIDTH:
                number = np.zeros(len(m), dtype=np.int64)
                for j in range(pos, pos + _FIELD_WIDTH[t]):
                    digit = m[:, j] - np.uint8(48)  # wraps below '0', so one comparison checks the digit
                    ok &= digit <= 9
                    number *= 10
                    number += digit
                comp[t] = number
                pos += _FIELD_WIDTH[t]
            else:
                for b in t.encode():
                    ok &= m[:, pos] == b
                    pos += 1
        k = len(m)
        y = comp.get("%Y", np.full(k, 1970))
        mo = comp.get("%m", np.ones(k, dtype=np.int64))
        d = comp.get("%d", np.ones(k, dtype=np.int64))
        hh, mi, ss = (comp.get(c, np.zeros(k, dtype=np.int64)) for c in ("%H", "%M", "%S"))
        ok &= (mo >= 1) & (mo <= 12) & (hh < 24) & (mi < 60) & (ss < 60) & (d >= 1)
        months = np.where(ok, (y - 1970) * 12 + (mo - 1), 0).astype("datetime64[M]")
        first_day = months.astype("datetime64[D]")
        dim = ((months + 1).astype("datetime64[D]") - first_day).astype(np.int64)
        ok &= d <= dim
        stamp = (first_day + (d - 1).astype("timedelta64[D]")).astype("datetime64[s]") + (
            hh * 3600 + mi * 60 + ss
        ).astype("timedelta64[s]")
        out[np.flatnonzero(fixed)] = np.where(ok, stamp, np.datetime64("NaT"))
    other = valid & ~fixed
    if other.any():
        slow = pd.to_datetime(text[other], format=fmt, errors="coerce").to_numpy(dtype="datetime64[s]")
        out[other] = slow
    return pd.Series(out, index=text.index)


def format_times(parsed: pd.Series, kind: str) -> pd.Series:
    """datetime64 → the spec's text format (``YYYY-MM-DD`` or ``YYYY-MM-DD HH:MM:SS``), vectorised.

    The digits are computed with NumPy into a fixed-width byte matrix that becomes the Arrow
    string buffer directly (no per-value strftime, no intermediate Unicode array)."""
    import pyarrow as pa

    values = parsed.to_numpy(dtype="datetime64[s]")
    n = len(values)
    nat = np.isnat(values)
    stamp = np.where(nat, 0, values.view(np.int64))  # seconds since 1970-01-01
    days = stamp // 86400
    secs = stamp - days * 86400
    year, month, day = _civil_from_days(days)
    width = 10 if kind == "date" else 19
    m = np.empty((n, width), dtype=np.uint8)
    if n and (year.min() < 0 or year.max() > 9999):
        year = np.clip(year, 0, 9999)
    for pos, number, digits in ((0, year, 4), (5, month, 2), (8, day, 2)):
        for k in range(digits):
            m[:, pos + k] = (number // 10 ** (digits - 1 - k)) % 10 + 48
    m[:, 4] = m[:, 7] = ord("-")
    if kind != "date":
        m[:, 10] = ord(" ")
        m[:, 13] = m[:, 16] = ord(":")
        for pos, number in ((11, secs // 3600), (14, secs // 60 % 60), (17, secs % 60)):
            m[:, pos] = number // 10 + 48
            m[:, pos + 1] = number % 10 + 48
    offsets = np.arange(n + 1, dtype=np.int64) * width
    validity = None
    if nat.any():
        validity = pa.py_buffer(np.packbits(~nat, bitorder="little"))
    arr = pa.Array.from_buffers(
        pa.large_string(), n, [validity, pa.py_buffer(offsets), pa.py_buffer(m)], null_count=int(nat.sum())
    )
    return pd.Series(pd.array(arr, dtype="str"), index=parsed.index)


# ---- derived values: a small registry of named, vectorised functions ----------------------------


@dataclass(frozen=True)
class Derived:
    """A named derivation (派生规则) usable as ``derive: <name>`` in a field rule."""

    name: str
    func: Callable[..., pd.Series]
    min_args: int
    max_args: int | None
    description: str
    returns: str = "string"


DERIVED: dict[str, Derived] = {}


def _derived(name: str, min_args: int, max_args: int | None, description: str, returns: str = "string"):
    def deco(func):
        DERIVED[name] = Derived(name, func, min_args, max_args, description, returns)
        return func

    return deco


def _at(args: list[pd.Series], index, params: dict) -> pd.Series:
    if len(args) > 1:
        parsed, _ = parse_times(as_text(args[1]), params.get("at_format"))
        return parsed
    today = params.get("today")
    return pd.Series(pd.Timestamp(today or dt.date.today()), index=index)


def _years_between(birth: pd.Series, at: pd.Series) -> pd.Series:
    """Completed years (周岁) from ``birth`` to ``at``; missing where either is missing."""
    if isinstance(birth.dtype, pd.DatetimeTZDtype) or isinstance(at.dtype, pd.DatetimeTZDtype):
        years = at.dt.year - birth.dt.year
        before = (at.dt.month < birth.dt.month) | ((at.dt.month == birth.dt.month) & (at.dt.day < birth.dt.day))
        return (years - before.astype("int64")).astype("Int64")
    b = birth.to_numpy(dtype="datetime64[s]")
    a = np.broadcast_to(at.to_numpy(dtype="datetime64[s]"), b.shape)
    missing = np.isnat(a) | np.isnat(b)
    yb, mb, db = _ymd(b)
    ya, ma, da = _ymd(a)
    age = ya - yb - ((ma < mb) | ((ma == mb) & (da < db)))
    return pd.Series(pd.arrays.IntegerArray(np.where(missing, 0, age), missing), index=birth.index)


def _ymd(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(year, month, day) of datetime64[s] values as int64 arrays (garbage where NaT)."""
    return _civil_from_days(np.where(np.isnat(values), 0, values.view(np.int64)) // 86400)


def _civil_from_days(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(year, month, day) of the proleptic Gregorian calendar from days since 1970-01-01.

    Integer arithmetic only (H. Hinnant's ``civil_from_days``), much faster than NumPy's
    conversions to ``datetime64[Y]``/``[M]``."""
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    return year, month, day


@_derived("age_from_birth", 1, 2, "年龄：由出生日期（参数1）算到业务时间（参数2，缺省为今天）的周岁", "integer")
def _age_from_birth(args, params):
    birth, _ = parse_times(as_text(args[0]), params.get("format"))
    return _years_between(birth, _at(args, args[0].index, params))


@_derived("age_from_id", 1, 2, "年龄：由身份证号中的出生日期算到业务时间（参数2，缺省为今天）的周岁", "integer")
def _age_from_id(args, params):
    birth = _birth_from_id(args, params)
    parsed = pd.to_datetime(birth, format="%Y-%m-%d", errors="coerce")
    return _years_between(parsed, _at(args, args[0].index, params))


@_derived("sex_from_id", 1, 1, "性别：由身份证号第17位得出（奇数 1 男，偶数 2 女；GB/T 2261.1）")
def _sex_from_id(args, params):
    t = as_text(args[0])
    ok = t.str.match(r"^\d{17}[\dXx]$").fillna(False).astype(bool)
    digit = pd.to_numeric(t.str.slice(16, 17), errors="coerce")
    out = pd.Series(np.where(digit % 2 == 1, "1", "2"), index=t.index, dtype="str")
    return out.where(ok)


@_derived("birth_from_id", 1, 1, "出生日期：身份证号第7-14位（YYYY-MM-DD）", "date")
def _birth_from_id(args, params):
    t = as_text(args[0])
    ok = t.str.match(r"^\d{17}[\dXx]$").fillna(False).astype(bool)
    parsed = pd.to_datetime(t.str.slice(6, 14).where(ok), format="%Y%m%d", errors="coerce")
    return format_times(parsed, "date")


@_derived("yuan_from_fen", 1, 1, "金额：分 → 元（除以100，保留2位小数）", "decimal")
def _yuan_from_fen(args, params):
    return (pd.to_numeric(as_text(args[0]), errors="coerce") / 100).round(2)


@_derived("date_plus_days", 2, 2, "日期加天数：参数1 的日期 + 参数2 天（如处方有效期结束日期）", "date")
def _date_plus_days(args, params):
    parsed, _ = parse_times(as_text(args[0]), params.get("format"))
    days = pd.to_numeric(as_text(args[1]), errors="coerce")
    out = parsed.dt.normalize() + pd.to_timedelta(days, unit="D")
    return format_times(out, "date")


@_derived("date_part", 1, 1, "日期部分：日期时间 → YYYY-MM-DD", "date")
def _date_part(args, params):
    parsed, _ = parse_times(as_text(args[0]), params.get("format"))
    return format_times(parsed, "date")


@_derived("trim", 1, 1, "去掉前后空格")
def _trim(args, params):
    return as_text(args[0])


@_derived("upper", 1, 1, "去空格并转大写（如身份证末位 x → X）")
def _upper(args, params):
    return as_text(args[0]).str.upper()


@_derived("lower", 1, 1, "去空格并转小写")
def _lower(args, params):
    return as_text(args[0]).str.lower()


@_derived("first_non_empty", 1, None, "第一个非空值（依次取各参数列）")
def _first_non_empty(args, params):
    out = as_text(args[0])
    for a in args[1:]:
        out = out.fillna(as_text(a))
    return out


# ------------------------------------------------------------------------------------------------
# config model


def _on_alias(d: dict) -> dict:
    """YAML 1.1 reads a bare ``on:`` key as boolean True; accept it as ``keys``."""
    if True in d or "on" in d:
        d = dict(d)
        d["keys"] = d.pop(True, None) or d.pop("on", None)
    return d


def _clean(d: dict) -> dict:
    """Drop default (None/empty) entries so exported YAML stays short."""
    return {k: v for k, v in d.items() if v is not None and v != {} and v != []}


def _expect(obj, typ, where: str, what: str):
    if not isinstance(obj, typ):
        names = {dict: "映射 (key: value)", list: "列表", str: "字符串"}
        expected = (
            names.get(typ, getattr(typ, "__name__", str(typ)))
            if not isinstance(typ, tuple)
            else "/".join(names.get(t, t.__name__) for t in typ)
        )
        raise MappingError(f"{what} 应为{expected}，实际为 {type(obj).__name__}", where=where)
    return obj


def _check_keys(d: dict, allowed: set[str], where: str, what: str) -> None:
    unknown = sorted(set(d) - allowed)
    if unknown:
        raise MappingError(
            f"{what} 中有未知的键 {', '.join(unknown)}；允许的键：{', '.join(sorted(allowed))}", where=where
        )


@dataclass
class Join:
    """A lookup table joined to the main table (e.g. 患者表 by BRID); columns become ``alias.COL``."""

    keys: dict[str, str]  # main column -> column of the joined table
    table: str | None = None
    query: str | None = None
    file: str | None = None
    source: str | None = None
    alias: str | None = None
    required: bool = False  # a main row without a match is rejected (else reported)

    @property
    def name(self) -> str:
        return self.alias or self.table or Path(self.file or "query").stem

    def to_dict(self) -> dict:
        return _clean(
            {
                "table": self.table,
                "query": self.query,
                "file": self.file,
                "source": self.source,
                "alias": self.alias,
                "keys": dict(self.keys),
                "required": self.required or None,
            }
        )

    @classmethod
    def from_dict(cls, d, where: str) -> Join:
        _expect(d, dict, where, "join")
        d = _on_alias(d)
        _check_keys(d, {"table", "query", "file", "source", "alias", "keys", "required"}, where, "join")
        if not d.get("keys"):
            raise MappingError("join 缺少 keys（主表列: 关联表列）", where=where)
        if sum(bool(d.get(k)) for k in ("table", "query", "file")) != 1:
            raise MappingError("join 需要且只需要 table、query、file 之一", where=where)
        return cls(
            keys={str(k): str(v) for k, v in _expect(d["keys"], dict, where, "keys").items()},
            table=d.get("table"),
            query=d.get("query"),
            file=d.get("file"),
            source=d.get("source"),
            alias=d.get("alias"),
            required=bool(d.get("required", False)),
        )


@dataclass
class SourceRef:
    """Where a data set's rows come from: a table, query or file of a named source, plus joins."""

    table: str | None = None
    query: str | None = None
    file: str | None = None
    source: str | None = None  # name in Mapping.sources (default: the first)
    sheet: str | None = None
    joins: list[Join] = field(default_factory=list)
    business_time: str | None = None  # column giving the business day for --date
    business_time_format: str | None = None
    drop_exact_duplicates: bool = False  # exact duplicate rows are rejected (reported) instead of mapped

    @property
    def label(self) -> str:
        return self.table or self.file or "query"

    def to_dict(self) -> dict:
        return _clean(
            {
                "source": self.source,
                "table": self.table,
                "query": self.query,
                "file": self.file,
                "sheet": self.sheet,
                "joins": [j.to_dict() for j in self.joins],
                "business_time": self.business_time,
                "business_time_format": self.business_time_format,
                "drop_exact_duplicates": self.drop_exact_duplicates or None,
            }
        )

    @classmethod
    def from_dict(cls, d, where: str) -> SourceRef:
        _expect(d, dict, where, "source")
        _check_keys(
            d,
            {
                "source",
                "table",
                "query",
                "file",
                "sheet",
                "joins",
                "business_time",
                "business_time_format",
                "drop_exact_duplicates",
            },
            where,
            "source",
        )
        if sum(bool(d.get(k)) for k in ("table", "query", "file")) != 1:
            raise MappingError("source 需要且只需要 table、query、file 之一", where=where)
        joins = [
            Join.from_dict(j, f"{where}.joins[{i}]")
            for i, j in enumerate(_expect(d.get("joins") or [], list, where, "joins"))
        ]
        return cls(
            table=d.get("table"),
            query=d.get("query"),
            file=d.get("file"),
            source=d.get("source"),
            sheet=d.get("sheet"),
            joins=joins,
            business_time=d.get("business_time"),
            business_time_format=d.get("business_time_format"),
            drop_exact_duplicates=bool(d.get("drop_exact_duplicates", False)),
        )


_RULE_KEYS = {
    "column",
    "format",
    "code_map",
    "default",
    "take",
    "const",
    "concat",
    "sep",
    "derive",
    "args",
    "params",
    "unavailable",
    "children",
    "trim",
    "status",
    "reviewer",
    "reviewed_at",
    "comment",
    "score",
}


@dataclass
class FieldRule:
    """How one spec field is filled (字段对照规则), with its review status (审核状态)."""

    field: str
    column: str | None = None
    format: str | None = None  # source date/time format (strftime), for date/datetime fields
    code_map: str | None = None  # name of a code map in Mapping.code_maps
    default: str | None = None  # code for local values missing from the code map; None = reject
    take: str = "code"  # code map rules: "code" (标准代码) or "name" (标准名称 of the code)
    const: Any = _UNSET
    concat: list[str] | None = None
    sep: str = ""
    derive: str | None = None
    args: list[str] = field(default_factory=list)
    params: dict = field(default_factory=dict)
    unavailable: str | None = None  # reason the hospital cannot provide the field
    children: ChildRule | None = None
    trim: bool = True
    status: str = "suggested"
    reviewer: str | None = None
    reviewed_at: str | None = None
    comment: str | None = None
    score: float | None = None  # suggestion score when the rule came from ``suggest_fields``

    @property
    def kind(self) -> str:
        """column | date | code | const | concat | derive | unavailable | children."""
        if self.children is not None:
            return "children"
        if self.unavailable is not None:
            return "unavailable"
        if self.const is not _UNSET:
            return "const"
        if self.concat is not None:
            return "concat"
        if self.derive is not None:
            return "derive"
        if self.code_map is not None:
            return "code"
        if self.format is not None:
            return "date"
        return "column"

    def columns(self) -> list[str]:
        """Source columns the rule reads."""
        if self.kind in ("column", "date", "code"):
            return [self.column] if self.column else []
        if self.kind == "concat":
            return [c for c in self.concat or [] if not c.startswith("=")]
        if self.kind == "derive":
            return list(self.args)
        return []

    def describe(self) -> str:
        """The rule in a few words of Chinese (for editors and reports)."""
        k = self.kind
        if k == "column":
            return f"取列 {self.column}"
        if k == "date":
            return f"日期格式转换 {self.column} ({self.format})"
        if k == "code":
            tail = f"，未对照值取 {self.default}" if self.default is not None else "，未对照值拒收"
            what = "（取标准名称）" if self.take == "name" else ""
            return f"值域对照 {self.column} → {self.code_map}{what}{tail}"
        if k == "const":
            return f"常量 {self.const!r}"
        if k == "concat":
            return f"拼接 {' + '.join(self.concat or [])}"
        if k == "derive":
            return f"派生 {self.derive}({', '.join(self.args)})"
        if k == "unavailable":
            return f"无法提供：{self.unavailable}"
        return f"明细 {self.children.source.label if self.children else ''}"

    def to_dict(self) -> dict:
        d: dict[str, Any] = {}
        k = self.kind
        if k == "children":
            d["children"] = self.children.to_dict()
        elif k == "unavailable":
            d["unavailable"] = self.unavailable
        elif k == "const":
            d["const"] = self.const
        elif k == "concat":
            d["concat"] = list(self.concat or [])
            if self.sep:
                d["sep"] = self.sep
        elif k == "derive":
            d["derive"] = self.derive
            if self.args:
                d["args"] = list(self.args)
            if self.params:
                d["params"] = dict(self.params)
        else:
            d["column"] = self.column
            if self.format:
                d["format"] = self.format
            if self.code_map:
                d["code_map"] = self.code_map
                if self.default is not None:
                    d["default"] = self.default
                if self.take != "code":
                    d["take"] = self.take
        if not self.trim:
            d["trim"] = False
        if self.status != "suggested":
            d["status"] = self.status
        d.update(
            _clean(
                {
                    "reviewer": self.reviewer,
                    "reviewed_at": self.reviewed_at,
                    "comment": self.comment,
                    "score": self.score,
                }
            )
        )
        return d

    @classmethod
    def from_dict(cls, key: str, d, where: str) -> FieldRule:
        if isinstance(d, str):  # shorthand: `patientName: BRXM`
            d = {"column": d}
        _expect(d, dict, where, f"字段 {key} 的规则")
        _check_keys(d, _RULE_KEYS, where, f"字段 {key} 的规则")
        kinds = [k for k in ("column", "const", "concat", "derive", "unavailable", "children") if k in d]
        if len(kinds) != 1:
            raise MappingError(
                f"字段 {key} 的规则需要且只需要 column、const、concat、derive、unavailable、children 之一"
                f"（现在是 {', '.join(kinds) or '都没有'}）",
                where=where,
            )
        status = d.get("status", "suggested")
        if status not in REVIEW_STATUSES:
            raise MappingError(f"审核状态 status 应为 {'/'.join(REVIEW_STATUSES)}，实际为 {status!r}", where=where)
        if ("format" in d or "code_map" in d) and "column" not in d:
            raise MappingError("format / code_map 只能与 column 一起使用", where=where)
        if d.get("take", "code") not in ("code", "name"):
            raise MappingError(f"take 应为 code（标准代码）或 name（标准名称），实际为 {d.get('take')!r}", where=where)
        if "take" in d and "code_map" not in d:
            raise MappingError("take 只能与 code_map 一起使用", where=where)
        if "default" in d and "code_map" not in d:
            raise MappingError("default 只能与 code_map 一起使用（未对照值的默认代码）", where=where)
        rule = cls(
            field=key,
            column=d.get("column"),
            format=d.get("format"),
            code_map=d.get("code_map"),
            default=None if d.get("default") is None else str(d["default"]),
            take=d.get("take", "code"),
            const=d["const"] if "const" in d else _UNSET,
            concat=[str(c) for c in _expect(d["concat"], list, where, "concat")] if "concat" in d else None,
            sep=str(d.get("sep", "")),
            derive=d.get("derive"),
            args=[str(a) for a in _expect(d.get("args") or [], list, where, "args")],
            params=dict(_expect(d.get("params") or {}, dict, where, "params")),
            unavailable=str(d["unavailable"]) if "unavailable" in d else None,
            children=ChildRule.from_dict(d["children"], f"{where}.children") if "children" in d else None,
            trim=bool(d.get("trim", True)),
            status=status,
            reviewer=d.get("reviewer"),
            reviewed_at=None if d.get("reviewed_at") is None else str(d["reviewed_at"]),
            comment=d.get("comment"),
            score=d.get("score"),
        )
        if rule.kind in ("column", "date", "code") and not isinstance(rule.column, str):
            raise MappingError(f"字段 {key} 的 column 应为列名字符串", where=where)
        if rule.derive is not None and rule.derive not in DERIVED:
            raise MappingError(f"未知的派生函数 {rule.derive!r}；可用：{', '.join(DERIVED)}", where=where)
        if rule.derive is not None:
            spec_ = DERIVED[rule.derive]
            n = len(rule.args)
            if n < spec_.min_args or (spec_.max_args is not None and n > spec_.max_args):
                raise MappingError(
                    f"派生函数 {rule.derive} 需要 {spec_.min_args}"
                    f"{'' if spec_.max_args == spec_.min_args else '~' + str(spec_.max_args or 'n')} 个参数列，"
                    f"实际 {n} 个",
                    where=where,
                )
        return rule


@dataclass
class ChildRule:
    """An array field's items (e.g. 处方明细 orderList) from a detail table joined by key."""

    source: SourceRef
    keys: dict[str, str]  # child column -> parent (main table) column
    fields: dict[str, FieldRule] = field(default_factory=dict)
    order_by: str | None = None

    def to_dict(self) -> dict:
        d = self.source.to_dict()
        d["keys"] = dict(self.keys)
        if self.order_by:
            d["order_by"] = self.order_by
        d["fields"] = {k: r.to_dict() for k, r in self.fields.items()}
        return d

    @classmethod
    def from_dict(cls, d, where: str) -> ChildRule:
        _expect(d, dict, where, "children")
        d = dict(_on_alias(d))
        on = d.pop("keys", None)
        fields = d.pop("fields", None)
        order_by = d.pop("order_by", None)
        if not on:
            raise MappingError("children 缺少 keys（明细表列: 主表列）", where=where)
        if not fields:
            raise MappingError("children 缺少 fields（明细字段规则）", where=where)
        src = SourceRef.from_dict(d, where)
        rules = {
            str(k): FieldRule.from_dict(str(k), v, f"{where}.fields.{k}")
            for k, v in _expect(fields, dict, where, "fields").items()
        }
        return cls(
            source=src,
            keys={str(k): str(v) for k, v in _expect(on, dict, where, "keys").items()},
            fields=rules,
            order_by=order_by,
        )


@dataclass
class DatasetMapping:
    """The mapping of one data set (数据集对照): its source and one rule per spec field."""

    dataset: str
    source: SourceRef
    fields: dict[str, FieldRule] = field(default_factory=dict)
    description: str | None = None
    file: str | None = None

    # -- simple editing operations (MappingEditor widget, notebooks) --------------------------
    def rules(self) -> list[FieldRule]:
        """The field rules in order."""
        return list(self.fields.values())

    def rule(self, field_key: str) -> FieldRule | None:
        return self.fields.get(field_key)

    def set_rule(self, field_key: str, **rule) -> FieldRule:
        """Replace a field's rule: ``set_rule("patientName", column="BRXM")``,
        ``set_rule("sex", column="XB", code_map="sex", default="0")``, ``set_rule("x", unavailable="…")``.
        The review status starts as ``suggested`` unless given."""
        d = {k: v for k, v in rule.items() if v is not None or k == "const"}
        self.fields[field_key] = FieldRule.from_dict(field_key, d, where=f"{self.dataset}.{field_key}")
        return self.fields[field_key]

    def set_column(self, field_key: str, column: str) -> FieldRule:
        """Point a field at a source column, keeping a date format / code map it already had."""
        old = self.fields.get(field_key)
        if old is not None and old.kind in ("column", "date", "code"):
            old.column = column
            old.status = "suggested"
            return old
        return self.set_rule(field_key, column=column)

    def set_review(
        self,
        field_key: str,
        status: str,
        *,
        reviewer: str | None = None,
        comment: str | None = None,
        at: str | None = None,
    ) -> FieldRule:
        """Record a review decision (审核): ``accepted`` / ``rejected`` / ``suggested``, who and when."""
        if status not in REVIEW_STATUSES:
            raise MappingError(
                f"审核状态应为 {'/'.join(REVIEW_STATUSES)}，实际为 {status!r}", where=f"{self.dataset}.{field_key}"
            )
        r = self.fields.get(field_key)
        if r is None:
            raise MappingError(f"字段 {field_key} 还没有对照规则，请先设置规则再审核", where=self.dataset)
        r.status, r.reviewer, r.comment = status, reviewer or r.reviewer, comment if comment is not None else r.comment
        r.reviewed_at = at or dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
        return r

    def remove_rule(self, field_key: str) -> None:
        self.fields.pop(field_key, None)

    def to_frame(self, spec=None) -> pd.DataFrame:
        """One row per field rule: field, 中文名, 必填, 类型, rule kind, description, review status."""
        ds = None
        if spec is not None:
            ds = spec.dataset(self.dataset)
        rows = []
        keys = list(ds.fields) if ds is not None else list(self.fields)
        for key in keys + [k for k in self.fields if ds is not None and k not in ds.fields]:
            r = self.fields.get(key)
            f = ds.fields.get(key) if ds is not None else None
            rows.append(
                {
                    "field": key,
                    "name": f.name if f else None,
                    "required": (f.required if f else None),
                    "type": f.type if f else None,
                    "kind": r.kind if r else None,
                    "rule": r.describe() if r else "（未对照）",
                    "status": r.status if r else None,
                    "reviewer": r.reviewer if r else None,
                    "reviewed_at": r.reviewed_at if r else None,
                    "comment": r.comment if r else None,
                }
            )
        return pd.DataFrame(rows)

    def to_dict(self) -> dict:
        d = {"kind": DATASET_KIND, "version": VERSION, "dataset": self.dataset}
        if self.description:
            d["description"] = self.description
        d["source"] = self.source.to_dict()
        d["fields"] = {k: r.to_dict() for k, r in self.fields.items()}
        return d

    @classmethod
    def from_dict(cls, d, where: str) -> DatasetMapping:
        _expect(d, dict, where, "数据集对照")
        d = {k: v for k, v in d.items() if not str(k).startswith("x-")}  # x-…: YAML anchors, notes
        _check_keys(d, {"kind", "version", "dataset", "description", "source", "fields"}, where, "数据集对照")
        if d.get("kind", DATASET_KIND) != DATASET_KIND:
            raise MappingError(f"kind 应为 {DATASET_KIND}，实际为 {d.get('kind')!r}", where=where)
        if d.get("version", VERSION) != VERSION:
            raise MappingError(f"不支持的对照文件版本 {d.get('version')!r}（支持 {VERSION}）", where=where)
        if not d.get("dataset"):
            raise MappingError("缺少 dataset（规范中的数据集代码，如 recipe）", where=where)
        if "source" not in d:
            raise MappingError("缺少 source（数据来自哪个表/查询/文件）", where=where)
        code = str(d["dataset"])
        fields = {
            str(k): FieldRule.from_dict(str(k), v, f"{where}: 字段 {k}")
            for k, v in _expect(d.get("fields") or {}, dict, where, "fields").items()
        }
        return cls(
            dataset=code,
            source=SourceRef.from_dict(d["source"], f"{where}: source"),
            fields=fields,
            description=d.get("description"),
            file=where,
        )


@dataclass
class SourceDef:
    """A named data source of the hospital: a SQLAlchemy URL or a file path (``${ENV}`` expanded)."""

    url: str | None = None
    path: str | None = None
    encoding: str | None = None
    description: str | None = None

    def to_dict(self) -> dict:
        return _clean({"url": self.url, "path": self.path, "encoding": self.encoding, "description": self.description})


@dataclass
class CodeMapRef:
    """A code map file (值域对照表) and the spec code set its target codes belong to."""

    file: str
    code_set: str | None = None
    description: str | None = None

    def to_dict(self) -> dict:
        return _clean({"file": self.file, "code_set": self.code_set, "description": self.description})


CODE_MAP_COLUMNS = ["local", "local_name", "code", "name", "status", "comment"]


@dataclass
class CodeMap:
    """A code map (值域对照): local value → standard code, kept as a CSV analysts edit in Excel.

    CSV columns: ``local,local_name,code,name,status,comment`` (UTF-8 with BOM so Excel shows
    Chinese).  Several local values may map to one code (``男``/``M``/``1`` → ``1``).
    """

    name: str
    entries: pd.DataFrame
    code_set: str | None = None
    path: Path | None = None

    def lookup(self) -> dict[str, str]:
        """local value → code (rows marked rejected are ignored)."""
        e = self.entries
        e = e[(e["status"].fillna("") != "rejected") & e["code"].notna() & (e["code"].astype("str") != "")]
        return dict(zip(e["local"].astype("str"), e["code"].astype("str")))

    def set(
        self,
        local: str,
        code: str,
        *,
        local_name: str | None = None,
        name: str | None = None,
        status: str = "accepted",
        comment: str | None = None,
    ) -> None:
        """Add or change one entry."""
        e = self.entries
        row = {
            "local": str(local),
            "local_name": local_name,
            "code": str(code),
            "name": name,
            "status": status,
            "comment": comment,
        }
        hit = e.index[e["local"].astype("str") == str(local)]
        if len(hit):
            for k, v in row.items():
                if v is not None or k in ("code", "status"):
                    e.loc[hit[0], k] = v
        else:
            self.entries = pd.concat([e, pd.DataFrame([row], columns=CODE_MAP_COLUMNS)], ignore_index=True)

    def to_frame(self) -> pd.DataFrame:
        return self.entries.copy()

    def save(self, path: str | os.PathLike | None = None) -> Path:
        """Write the CSV (UTF-8 with BOM, for Excel); atomically."""
        from .._files import atomic_write

        if path is None and self.path is None:
            raise MappingError(
                f'值域对照表 {self.name} 还没有文件路径：请给出保存位置，如 save("codes/{self.name}.csv")'
            )
        p = Path(path or self.path)
        frame = self.entries.reindex(columns=CODE_MAP_COLUMNS)
        atomic_write(p, lambda tmp: frame.to_csv(tmp, index=False, encoding="utf-8-sig", quoting=csv.QUOTE_MINIMAL))
        self.path = p
        return p


def load_code_map(path, *, name: str | None = None, code_set: str | None = None) -> CodeMap:
    """Read a code map CSV (any of UTF-8/UTF-8-BOM/GBK; columns ``local`` and ``code`` required)."""
    from ..sources._read import read_source

    p = Path(path)
    try:
        df = read_source(p)
    except SourceError as exc:
        raise MappingError(f"值域对照表无法读取：{exc.message}", where=str(p)) from exc
    missing = [c for c in ("local", "code") if c not in df.columns]
    if missing:
        raise MappingError(
            f"值域对照表缺少列 {', '.join(missing)}（需要 local,local_name,code,name,status,comment）", where=str(p)
        )
    for c in CODE_MAP_COLUMNS:
        if c not in df.columns:
            df[c] = pd.Series([None] * len(df), dtype="str")
    dup = df["local"][df["local"].duplicated()]
    if len(dup):
        row = int(dup.index[0]) + 2
        raise MappingError(f"本地值 {dup.iloc[0]!r} 在对照表中出现多次，请只保留一行", where=f"{p}:第{row}行")
    bad = df["status"].notna() & ~df["status"].isin(REVIEW_STATUSES)
    if bad.any():
        row = int(bad.idxmax()) + 2
        raise MappingError(f"status 应为 {'/'.join(REVIEW_STATUSES)}", where=f"{p}:第{row}行")
    return CodeMap(name=name or p.stem, entries=df[CODE_MAP_COLUMNS].reset_index(drop=True), code_set=code_set, path=p)


@dataclass
class MappingIssue:
    """A problem in a mapping config found by :meth:`Mapping.check` (配置问题)."""

    severity: str  # error | warning
    where: str
    message: str
    cause: str | None = field(default=None, compare=False, repr=False)  # an unreadable source's own message

    def __str__(self) -> str:
        return f"[{'错误' if self.severity == 'error' else '提醒'}] {self.where}: {self.message}"


def _collapse_unreadable(issues: list[MappingIssue]) -> list[MappingIssue]:
    """One error per cause when several data sets cannot read their source for the same reason
    (e.g. the HIS database file is missing): the first is kept and names the others."""
    groups: dict[str, list[MappingIssue]] = {}
    for i in issues:
        if i.cause is not None:
            groups.setdefault(i.cause, []).append(i)
    out = []
    for i in issues:
        same = groups.get(i.cause) if i.cause is not None else None
        if same is None or len(same) == 1:
            out.append(i)
        elif i is same[0]:
            others = "、".join(Path(x.where).stem for x in same[1:])
            out.append(
                MappingIssue(
                    i.severity,
                    i.where,
                    i.message + f"（同一原因，另有 {len(same) - 1} 个数据集的数据源也无法读取：{others}）",
                    cause=i.cause,
                )
            )
    return out


_TOP_KEYS = {"kind", "version", "spec", "hospital", "description", "sources", "code_maps", "datasets"}


@dataclass
class Mapping:
    """A hospital's mapping config (指标对照配置): sources, code maps and one DatasetMapping per data set."""

    spec_id: str
    spec_version: str | None = None
    hospital: str | None = None
    description: str | None = None
    sources: dict[str, SourceDef] = field(default_factory=dict)
    code_maps: dict[str, CodeMapRef] = field(default_factory=dict)
    datasets: dict[str, DatasetMapping] = field(default_factory=dict)
    directory: Path | None = None
    _code_map_cache: dict = field(default_factory=dict, repr=False, compare=False)

    # -- access -----------------------------------------------------------------------------
    def dataset(self, code: str) -> DatasetMapping:
        """The mapping of a data set by spec code (or alias/Chinese name when the spec knows it)."""
        if code in self.datasets:
            return self.datasets[code]
        try:
            real = self.spec().dataset(code).code
        except Exception:
            real = None
        if real in self.datasets:
            return self.datasets[real]
        raise MappingError(
            f"对照配置中没有数据集 {code!r}；已配置：{', '.join(self.datasets) or '（无）'}",
            where=str(self.directory or ""),
        )

    def spec(self):
        from ..spec._load import load_spec

        return load_spec(self.spec_id)

    def code_map(self, name: str) -> CodeMap:
        """A code map by name (loaded from ``codes/<file>.csv``; cached until saved)."""
        if name not in self.code_maps:
            raise MappingError(
                f"未定义的值域对照表 {name!r}；已定义：{', '.join(self.code_maps) or '（无）'}",
                where=str(self.directory / "mapping.yaml") if self.directory else None,
            )
        if name not in self._code_map_cache:
            ref = self.code_maps[name]
            self._code_map_cache[name] = load_code_map(self._path(ref.file), name=name, code_set=ref.code_set)
        return self._code_map_cache[name]

    def add_code_map(self, name: str, *, code_set: str | None = None, file: str | None = None) -> CodeMap:
        """Create an empty code map ``codes/<name>.csv`` for a code set."""
        ref = CodeMapRef(file=file or f"codes/{name}.csv", code_set=code_set)
        self.code_maps[name] = ref
        cm = CodeMap(
            name=name,
            entries=pd.DataFrame(columns=CODE_MAP_COLUMNS, dtype="str"),
            code_set=code_set,
            path=self._path(ref.file),
        )
        self._code_map_cache[name] = cm
        return cm

    def _path(self, rel: str) -> Path:
        p = Path(os.path.expandvars(rel))
        return p if p.is_absolute() or self.directory is None else self.directory / p

    # -- YAML ---------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """The top-level ``mapping.yaml`` content (data sets are listed by file)."""
        d = {"kind": KIND, "version": VERSION, "spec": _clean({"id": self.spec_id, "version": self.spec_version})}
        d.update(
            _clean(
                {
                    "hospital": self.hospital,
                    "description": self.description,
                    "sources": {k: v.to_dict() for k, v in self.sources.items()},
                    "code_maps": {k: v.to_dict() for k, v in self.code_maps.items()},
                }
            )
        )
        return d

    def save(self, directory: str | os.PathLike | None = None) -> Path:
        """Write ``mapping.yaml``, ``datasets/<code>.yaml`` and the code maps (each file atomically).

        Saving to another directory copies every code map there too."""
        out = Path(directory or self.directory or ".")
        moving = self.directory is None or out.resolve() != self.directory.resolve()
        if moving and self.directory is not None:
            for name in self.code_maps:  # load before the directory changes
                if self._path(self.code_maps[name].file).exists():
                    self.code_map(name)
        (out / "datasets").mkdir(parents=True, exist_ok=True)
        _write_yaml(out / "mapping.yaml", self.to_dict())
        for code, dm in self.datasets.items():
            _write_yaml(self._dataset_file(out, code, dm, moving), dm.to_dict())
        self.directory = out
        for name, cm in self._code_map_cache.items():
            cm.save(self._path(self.code_maps[name].file))
        return out

    @staticmethod
    def _dataset_file(out: Path, code: str, dm: DatasetMapping, moving: bool) -> Path:
        """Where :meth:`save` writes a data set: back into the file it was loaded from when that is
        ``datasets/<any name>.yaml`` of the same directory (a second ``<code>.yaml`` beside it would
        make the next load fail with 在多个文件中配置), else ``datasets/<code>.yaml``."""
        if not moving and dm.file:
            loaded = Path(dm.file)
            if loaded.suffix == ".yaml" and loaded.parent.resolve() == (out / "datasets").resolve():
                return loaded
        return out / "datasets" / f"{code}.yaml"

    # -- checks -------------------------------------------------------------------------------
    def check(self, *, spec=None, sources: dict | None = None, columns: bool = True) -> list[MappingIssue]:
        """Check the config against the spec and (``columns=True``) the source columns.

        Returns every issue found (errors and warnings); :meth:`validate` raises on errors.
        """
        from ..spec._load import load_spec

        issues: list[MappingIssue] = []
        spec = load_spec(spec if spec is not None else self.spec_id)
        where0 = str(self.directory / "mapping.yaml") if self.directory else "mapping.yaml"
        if spec.id != self.spec_id:
            issues.append(MappingIssue("error", where0, f"对照配置针对规范 {self.spec_id}，但检查用的是 {spec.id}"))
        elif self.spec_version and spec.version != self.spec_version:
            issues.append(
                MappingIssue(
                    "warning",
                    where0,
                    f"对照配置针对规范版本 {self.spec_version}，当前规范为 "
                    f"{spec.version}；请用 `hlwjr spec diff` 查看变化后更新对照",
                )
            )
        for name, ref in self.code_maps.items():
            w = f"{where0}: code_maps.{name}"
            if ref.code_set:
                try:
                    cs = spec.code_set(ref.code_set)
                except Exception:
                    issues.append(MappingIssue("error", w, f"值域 {ref.code_set!r} 不在规范 {spec.id} 中"))
                    cs = None
            else:
                cs = None
            try:
                cm = self.code_map(name)
            except MappingError as exc:
                issues.append(MappingIssue("error", exc.where or w, exc.message))
                continue
            if cs is not None and cs.complete:
                targets = cm.entries["code"].dropna().astype("str")
                bad = sorted(set(targets) - set(cs.codes))
                if bad:
                    issues.append(
                        MappingIssue(
                            "error",
                            str(cm.path),
                            f"对照目标代码 {', '.join(bad[:10])} 不在值域 {cs.id}（{cs.name}）中；"
                            f"可用代码：{', '.join(list(cs.codes)[:20])}",
                        )
                    )
        for code, dm in self.datasets.items():
            w = dm.file or f"datasets/{code}.yaml"
            try:
                ds = spec.dataset(code)
            except Exception:
                issues.append(MappingIssue("error", w, f"规范 {spec.id} 中没有数据集 {code!r}"))
                continue
            issues += self._check_rules(spec, ds, dm.fields, w, top=True)
            if columns:
                issues += self._check_columns(dm, w, sources)
        return _collapse_unreadable(issues)

    def _check_rules(self, spec, ds, rules: dict[str, FieldRule], w: str, *, top: bool) -> list[MappingIssue]:
        issues = []
        for key, rule in rules.items():
            fw = f"{w}: 字段 {key}"
            f = ds.fields.get(key)
            if f is None:
                near = _closest(key, list(ds.fields))
                issues.append(
                    MappingIssue(
                        "error",
                        fw,
                        f"数据集 {ds.code}（{ds.name}）没有字段 {key!r}" + (f"，是否应为 {near}？" if near else ""),
                    )
                )
                continue
            if rule.kind == "children":
                if f.type != "array" or not f.item:
                    issues.append(MappingIssue("error", fw, f"字段 {key} 不是数组字段，不能用 children"))
                    continue
                issues += self._check_rules(
                    spec, spec.dataset(f.item), rule.children.fields, f"{fw}.children", top=False
                )
            elif f.type == "array":
                if rule.kind != "unavailable":
                    issues.append(
                        MappingIssue("error", fw, f"数组字段 {key}（{f.name}）需要 children 规则（明细表按键关联）")
                    )
            if rule.kind == "code":
                if rule.code_map not in self.code_maps:
                    issues.append(
                        MappingIssue(
                            "error", fw, f"未定义的值域对照表 {rule.code_map!r}（在 mapping.yaml 的 code_maps 中添加）"
                        )
                    )
                else:
                    ref = self.code_maps[rule.code_map]
                    if f.code_set and ref.code_set and _norm_cs(spec, ref.code_set) != _norm_cs(spec, f.code_set):
                        issues.append(
                            MappingIssue(
                                "error",
                                fw,
                                f"字段 {key} 的值域是 {f.code_set}，但对照表 {rule.code_map} 对照到 {ref.code_set}",
                            )
                        )
                    if rule.default is not None and f.code_set:
                        try:
                            cs = spec.code_set(f.code_set)
                            if cs.complete and rule.default not in cs.codes:
                                issues.append(
                                    MappingIssue("error", fw, f"默认代码 {rule.default!r} 不在值域 {cs.id} 中")
                                )
                        except Exception:
                            pass
            elif f.code_set and rule.kind in ("column",):
                issues.append(
                    MappingIssue(
                        "warning",
                        fw,
                        f"字段 {key}（{f.name}）有值域 {f.code_set}，但规则直接取列，"
                        "没有值域对照；请确认源数据已是标准代码",
                    )
                )
            if rule.kind == "date" and f.type not in ("date", "datetime"):
                issues.append(MappingIssue("error", fw, f"format 只用于日期/日期时间字段，{key} 的类型是 {f.type}"))
            if rule.kind == "date":
                try:
                    dt.datetime.now().strftime(rule.format)
                    if "%" not in rule.format:
                        raise ValueError
                except ValueError:
                    issues.append(MappingIssue("error", fw, f"日期格式 {rule.format!r} 无效（例：%Y%m%d%H%M%S）"))
        for key in ds.required_fields:
            if key not in rules:
                issues.append(MappingIssue("warning", w, f"必填字段 {key}（{ds.fields[key].name}）还没有对照规则"))
        if top and ds.parent is not None:
            issues.append(
                MappingIssue("warning", w, f"{ds.code} 是 {ds.parent} 的明细数据集，应作为其数组字段的 children 配置")
            )
        return issues

    def _check_columns(self, dm: DatasetMapping, w: str, sources) -> list[MappingIssue]:
        issues = []
        try:
            ctx = _Context(self, sources)
            main_cols = ctx.columns(dm.source)
        except (MappingError, SourceError) as exc:
            return [MappingIssue("error", w, f"数据源无法读取：{exc}", cause=exc.message)]
        available = set(main_cols)
        for j in dm.source.joins:
            try:
                jcols = ctx.columns(j)
            except (MappingError, SourceError) as exc:
                issues.append(MappingIssue("error", w, f"关联表 {j.name} 无法读取：{exc}"))
                continue
            for left, right in j.keys.items():
                if left not in main_cols:
                    issues.append(MappingIssue("error", w, f"关联键 {left} 不在主表 {dm.source.label} 中"))
                if right not in jcols:
                    issues.append(MappingIssue("error", w, f"关联键 {right} 不在关联表 {j.name} 中"))
            available |= {f"{j.name}.{c}" for c in jcols}
        if dm.source.business_time and dm.source.business_time not in available:
            issues.append(MappingIssue("error", w, f"业务时间列 business_time={dm.source.business_time} 不在数据源中"))
        issues += _missing_cols(dm.fields, available, w, dm.source.label)
        for key, rule in dm.fields.items():
            if rule.kind == "children":
                ch = rule.children
                try:
                    ccols = set(ctx.columns(ch.source))
                except (MappingError, SourceError) as exc:
                    issues.append(MappingIssue("error", f"{w}: 字段 {key}", f"明细表无法读取：{exc}"))
                    continue
                for child_col, parent_col in ch.keys.items():
                    if child_col not in ccols:
                        issues.append(MappingIssue("error", f"{w}: 字段 {key}", f"关联键 {child_col} 不在明细表中"))
                    if parent_col not in available:
                        issues.append(MappingIssue("error", f"{w}: 字段 {key}", f"关联键 {parent_col} 不在主表中"))
                issues += _missing_cols(ch.fields, ccols, f"{w}: 字段 {key}.children", ch.source.label)
        return issues

    def preview(
        self, dataset: str, n: int = 10, *, sources: dict | None = None, date: str | None = None, spec=None
    ) -> MappingResult:
        """Map the first ``n`` source rows of a data set (预览), e.g. after changing a rule in an editor.

        ``result.records`` are the mapped records, ``result.issues`` what could not be mapped."""
        return apply_mapping(self, dataset, sources=sources, date=date, spec=spec, limit=n)

    def validate(self, **kwargs) -> list[MappingIssue]:
        """Like :meth:`check` but raises :class:`hlwjr.MappingError` when there is any error."""
        issues = self.check(**kwargs)
        errors = [i for i in issues if i.severity == "error"]
        if errors:
            more = f"（另有 {len(errors) - 1} 个错误，用 `hlwjr map check` 查看全部）" if len(errors) > 1 else ""
            raise MappingError(errors[0].message + more, where=errors[0].where)
        return issues


def _missing_cols(rules: dict[str, FieldRule], available: set[str], w: str, label: str) -> list[MappingIssue]:
    issues = []
    for key, rule in rules.items():
        for col in rule.columns():
            if col not in available:
                near = _closest(col, sorted(available))
                issues.append(
                    MappingIssue(
                        "error",
                        f"{w}: 字段 {key}",
                        f"列 {col!r} 不在数据源 {label} 中" + (f"，是否应为 {near}？" if near else ""),
                    )
                )
    return issues


def _norm_cs(spec, name: str) -> str:
    try:
        return spec.code_set(name).id
    except Exception:
        return name


def _closest(name: str, options: list[str]) -> str | None:
    from rapidfuzz import process

    hit = process.extractOne(name, options, score_cutoff=75) if options else None
    return hit[0] if hit else None


def _write_yaml(path: Path, data: dict) -> None:
    from .._files import atomic_write

    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120)
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _read_yaml(path: Path):
    try:
        with open(path, encoding="utf-8") as fh:
            return yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except FileNotFoundError as exc:
        raise MappingError("文件不存在", where=str(path)) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:第{mark.line + 1}行" if mark else str(path)
        raise MappingError(f"YAML 格式错误：{getattr(exc, 'problem', exc)}", where=where) from exc


def load_mapping(directory: str | os.PathLike) -> Mapping:
    """Load a mapping directory (``mapping.yaml`` + ``datasets/*.yaml``); schema errors raise MappingError."""
    d = Path(directory)
    top_file = d / "mapping.yaml" if d.is_dir() else d
    if not d.exists():
        raise MappingError(
            "对照配置目录不存在：请检查 --mapping 路径（应为含 mapping.yaml 的目录，如 mapping/demo）", where=str(d)
        )
    if d.is_dir() and not top_file.exists():
        raise MappingError("不是对照配置目录：缺少 mapping.yaml", where=str(d))
    d = top_file.parent
    raw = _read_yaml(top_file)
    w = str(top_file)
    _expect(raw, dict, w, "mapping.yaml")
    raw = {k: v for k, v in raw.items() if not str(k).startswith("x-")}
    _check_keys(raw, _TOP_KEYS, w, "mapping.yaml")
    if raw.get("kind") != KIND:
        raise MappingError(f"kind 应为 {KIND}，实际为 {raw.get('kind')!r}", where=w)
    if raw.get("version") != VERSION:
        raise MappingError(f"不支持的对照配置版本 {raw.get('version')!r}（支持 {VERSION}）", where=w)
    spec = raw.get("spec")
    if isinstance(spec, str):
        spec = {"id": spec}
    _expect(spec, dict, w, "spec")
    if not spec.get("id"):
        raise MappingError("spec.id 缺失（例如 beijing-reference）", where=w)
    sources = {}
    for name, sd in _expect(raw.get("sources") or {}, dict, w, "sources").items():
        if isinstance(sd, str):
            sd = {"url": sd} if "://" in sd else {"path": sd}
        _expect(sd, dict, f"{w}: sources.{name}", "source")
        _check_keys(sd, {"url", "path", "encoding", "description"}, f"{w}: sources.{name}", "source")
        sources[str(name)] = SourceDef(**sd)
    code_maps = {}
    for name, cd in _expect(raw.get("code_maps") or {}, dict, w, "code_maps").items():
        if isinstance(cd, str):
            cd = {"file": cd}
        _expect(cd, dict, f"{w}: code_maps.{name}", "code map")
        _check_keys(cd, {"file", "code_set", "description"}, f"{w}: code_maps.{name}", "code map")
        if not cd.get("file"):
            raise MappingError("code map 缺少 file", where=f"{w}: code_maps.{name}")
        code_maps[str(name)] = CodeMapRef(**cd)
    m = Mapping(
        spec_id=str(spec["id"]),
        spec_version=None if spec.get("version") is None else str(spec["version"]),
        hospital=raw.get("hospital"),
        description=raw.get("description"),
        sources=sources,
        code_maps=code_maps,
        directory=d,
    )
    files = sorted((d / "datasets").glob("*.yaml")) if (d / "datasets").is_dir() else []
    for item in raw.get("datasets") or []:  # optional explicit list (inline dicts or file names)
        if isinstance(item, str):
            files.append(d / item)
        else:
            dm = DatasetMapping.from_dict(item, f"{w}: datasets")
            m.datasets[dm.dataset] = dm
    for f in files:
        dm = DatasetMapping.from_dict(_read_yaml(f), str(f))
        if dm.dataset in m.datasets:
            raise MappingError(f"数据集 {dm.dataset} 在多个文件中配置", where=str(f))
        m.datasets[dm.dataset] = dm
    return m


# ------------------------------------------------------------------------------------------------
# applying a mapping


ISSUE_COLUMNS = ["dataset", "source", "row", "key", "field", "rule", "action", "value", "message"]


@dataclass
class MappingResult:
    """What :func:`apply_mapping` produced: spec records plus every issue (nothing dropped silently).

    * ``records`` — DataFrame, one column per mapped spec field key (array fields: lists of dicts);
    * ``source_rows`` — for each record, its 1-based row number in the source table/query;
    * ``issues`` — DataFrame (dataset, source, row, key, field, rule, action, value, message) where
      ``action`` is ``rejected`` (row not mapped), ``defaulted`` (code map default used) or ``kept``
      (value passed on unchanged for validation to report);
    * ``rejections`` / ``unmapped`` — the rejected rows and the local values missing from code maps.
    """

    dataset: str
    records: pd.DataFrame
    source_rows: pd.Series
    issues: pd.DataFrame
    n_source_rows: int
    date: str | None = None
    written: int = 0
    out: Path | None = None
    n_day_rows: int | None = None  # with ``date``: source rows of that business day (+ rows whose day is unknown)

    @property
    def rejections(self) -> pd.DataFrame:
        return self.issues[self.issues["action"] == "rejected"].reset_index(drop=True)

    @property
    def rejected_rows(self) -> list[int]:
        return sorted(set(int(r) for r in self.rejections["row"].dropna()))

    @property
    def n_records(self) -> int:
        return self.written if self.out is not None else len(self.records)

    def unmapped(self) -> pd.DataFrame:
        """Local values not in a code map: field, value (masked), count, action (rejected/defaulted)."""
        u = self.issues[self.issues["rule"] == "code_map"]
        if u.empty:
            return pd.DataFrame(columns=["field", "value", "count", "action"])
        return (
            u.groupby(["field", "value", "action"], dropna=False)
            .size()
            .rename("count")
            .reset_index()
            .sort_values("count", ascending=False, kind="stable")
            .reset_index(drop=True)
        )

    def summary(self) -> str:
        """A few lines of Chinese: rows read, records, rejected rows, issues by kind."""
        scope = f"源数据 {self.n_source_rows} 行"
        if self.date and self.n_day_rows is not None:
            scope += f"，其中当日 {self.n_day_rows} 行"
        lines = [
            f"数据集 {self.dataset}"
            + (f"（业务日期 {self.date}）" if self.date else "")
            + f"：{scope} → 记录 {self.n_records} 条，拒收 {len(self.rejected_rows)} 行"
        ]
        if not self.issues.empty:
            for (rule, action), n in self.issues.groupby(["rule", "action"]).size().items():
                lines.append(f"  {_ACTION_ZH.get(action, action)} · {_RULE_ZH.get(rule, rule)}: {n}")
        return "\n".join(lines)

    def to_dicts(self) -> list[dict]:
        """The records as JSON-like dicts (missing values left out)."""
        return list(iter_dicts(self.records))

    def to_jsonl(self, path, *, append: bool = False) -> int:
        """Write the records as JSON lines (UTF-8), columnar and fast; returns the number written.

        A new file is written atomically (temporary file renamed into place); ``append=True`` adds
        to an existing file."""
        if append:
            with open(path, "ab") as fh:
                return write_jsonl(self.records, fh)
        from .._files import atomic_write

        written = []

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as fh:
                written.append(write_jsonl(self.records, fh))

        atomic_write(path, write)
        return written[0]


_ACTION_ZH = {"rejected": "拒收", "defaulted": "取默认值", "kept": "原样保留（将在校验中报告）"}
_RULE_ZH = {
    "code_map": "值域未对照",
    "date": "日期无法解析",
    "type": "类型无法转换",
    "join": "关联表无匹配",
    "duplicate_row": "完全重复行",
    "business_time": "业务时间无法解析",
    "child": "明细行问题",
    "derive": "派生失败",
}


def iter_dicts(records: pd.DataFrame) -> Iterator[dict]:
    cols = list(records.columns)
    arrays = [records[c].tolist() for c in cols]
    for values in zip(*arrays):
        yield {c: _py(v) for c, v in zip(cols, values) if not _missing(v)}


def _missing(v) -> bool:
    if v is None:
        return True
    if isinstance(v, float):
        return v != v
    return v is pd.NA or v is pd.NaT


def _py(v):
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    return v


def _large(arr):
    import pyarrow as pa

    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.large_string())
    return arr


def _needs_escape(arr) -> bool:
    """Does any value contain a quote, a backslash or a control character (JSON escapes)?"""
    data = arr.buffers()[2]
    if data is None:
        return False
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)
    b = np.frombuffer(data, dtype=np.uint8)[offsets[arr.offset] : offsets[arr.offset + len(arr)]]
    # three SIMD comparisons over the bytes (a lookup-table gather is several times slower)
    return bool((b < 0x20).any() or (b == 0x22).any() or (b == 0x5C).any())


def _json_values(s: pd.Series):
    """(large_string array of JSON-encoded values, quoted: bool); null where the value is missing."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = s.dtype.kind
    dtype = str(s.dtype)
    if dtype in ("Int64", "Int32", "Int16", "Int8", "UInt8", "UInt16", "UInt32", "UInt64") or kind in "iu":
        return _large(pa.array(s, from_pandas=True).cast(pa.string())), False
    if kind == "f" or dtype in ("Float64", "Float32"):
        vals = s.to_numpy(dtype="float64", na_value=np.nan)
        arr = pa.array(vals, mask=~np.isfinite(vals)).cast(pa.string())
        # arrow writes 15.0 as "15": keep the decimal point so a decimal stays a decimal when read back
        plain = pc.invert(pc.match_substring_regex(arr, "[.eE]"))
        arr = pc.if_else(pc.fill_null(plain, False), pc.binary_join_element_wise(arr, ".0", ""), arr)
        return _large(arr), False
    if kind == "b":
        return _large(pc.if_else(pa.array(s, from_pandas=True), "true", "false")), False
    if dtype == "str" or dtype.startswith("string"):
        arr = _large(pa.array(s, from_pandas=True))
        if _needs_escape(arr):
            vals = arr.to_pylist()
            arr = pa.array(
                [None if v is None else json.dumps(v, ensure_ascii=False)[1:-1] for v in vals], type=pa.large_string()
            )
        return arr, True
    # object: lists of dicts (array fields), values kept raw for validation to report…
    enc = [
        None if _missing(v) else json.dumps(_jsonable(v), ensure_ascii=False, separators=(",", ":")) for v in s.tolist()
    ]
    return pa.array(enc, type=pa.large_string()), False


def _jsonable(v):
    if isinstance(v, list):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items() if not _missing(x)}
    return _py(v)


def _constant(arr) -> str | None:
    """The single value of a column where every row holds the same text (constants), else None.

    ``arr`` is a large_string array.  Compares lengths, then the bytes as one (rows × width)
    matrix against the first value — cheap, and it stops at the lengths for most columns."""
    if len(arr) == 0 or arr.null_count:
        return None
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
    width = int(offsets[1] - offsets[0])
    if not (np.diff(offsets) == width).all():
        return None
    first = arr[0].as_py()
    if width:
        data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[int(offsets[0]) : int(offsets[-1])]
        rows = data.reshape(len(arr), width)
        if not (rows[:64] == data[:width]).all() or not (rows == data[:width]).all():  # the head first: cheap no
            return None
    return first


def write_jsonl(records: pd.DataFrame, fh) -> int:
    """Serialise a records DataFrame to JSON lines without building a dict per row.

    Column-wise: each column is encoded once as JSON fragments (strings escaped only when a
    value needs it), a column whose value is the same on every row (constants such as
    ``organID``) is folded into the literal text, and an optional column becomes a segment
    ``,"key":"value"`` that is empty where the value is missing — a missing value leaves its key
    out (never ``null``).  One Arrow ``binary_join_element_wise`` then concatenates literals and
    columns row by row, and the output is that array's data buffer, written in one call."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(records)
    if n == 0:
        return 0
    text = pa.large_string()
    cols = list(records.columns)
    args: list = []  # literal text (str) and column arrays, in line order
    pending = ""  # literal text not yet emitted
    # When the first column can be missing, every segment starts with a comma and the comma of
    # the first present one is cut off afterwards (rare: the first field is normally a constant).
    lead_missing = False
    for i, c in enumerate(cols):
        arr, quoted = _json_values(records[c])
        key = json.dumps(str(c), ensure_ascii=False)
        q = '"' if quoted else ""
        if i == 0:
            lead_missing = arr.null_count > 0
        comma = "" if i == 0 and not lead_missing else ","
        if arr.null_count == len(arr):
            continue  # missing on every row: the key never appears
        if arr.null_count == 0:
            const = _constant(arr)
            if const is not None:
                pending += comma + key + ":" + q + const + q
                continue
            args += [pending + comma + key + ":" + q, arr]
            pending = q
        else:
            segment = pc.binary_join_element_wise(
                pa.scalar(comma + key + ":" + q, text), arr, pa.scalar(q, text), pa.scalar("", text)
            )
            args += [pending, pc.fill_null(segment, "")]
            pending = ""
    if lead_missing:
        args.append(pending)
        body = _join_row_wise(args, n)
        body = pc.if_else(pc.equal(pc.binary_length(body), 0), body, pc.utf8_slice_codeunits(body, 1))
        args = ["{", body, "}\n"]
    else:
        args = ["{"] + args + [pending + "}\n"]
    lines = _join_row_wise(args, n)
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)
    start, end = int(offsets[lines.offset]), int(offsets[lines.offset + len(lines)])
    _reserve(fh, end - start)
    fh.write(memoryview(lines.buffers()[2])[start:end])
    return n


def _join_row_wise(args: list, n: int):
    """Row-wise concatenation of literal texts and large_string arrays → a large_string array."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pa.large_string()
    merged: list = []
    for a in args:  # adjacent literals become one; empty literals vanish
        if isinstance(a, str):
            if not a:
                continue
            if merged and isinstance(merged[-1], str):
                merged[-1] += a
                continue
        merged.append(a)
    if not any(not isinstance(a, str) for a in merged):
        return pa.repeat(pa.scalar("".join(merged), text), n)
    parts = [pa.scalar(a, text) if isinstance(a, str) else a for a in merged]
    out = pc.binary_join_element_wise(*parts, pa.scalar("", text))
    return out.combine_chunks() if isinstance(out, pa.ChunkedArray) else out


def _reserve(fh, nbytes: int) -> None:
    """Allocate the disk blocks of the next ``nbytes`` of a real file before writing them.

    Large JSON-lines files are written 100+ MB at a time; with delayed allocation (ext4) such a
    write sometimes stalls behind the file system's journal, and reserving the blocks first
    (``posix_fallocate``) avoids that.  Only a hint: in-memory buffers, pipes and file systems
    without support are written as they are."""
    try:
        fd = fh.fileno()
        pos = fh.tell()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError/ValueError
        return
    if nbytes < (8 << 20) or not hasattr(os, "posix_fallocate"):
        return
    try:
        import stat

        if stat.S_ISREG(os.fstat(fd).st_mode):
            os.posix_fallocate(fd, pos, nbytes)
    except OSError:
        pass


class _Context:
    """Resolves the named sources of a mapping and caches whole tables read for joins/children."""

    def __init__(self, mapping: Mapping, sources: dict | None) -> None:
        self.mapping = mapping
        self.overrides = dict(sources or {})
        self.cache: dict[tuple, pd.DataFrame] = {}

    def _source_value(self, name: str | None):
        names = list(self.mapping.sources) or list(self.overrides)
        name = name or (names[0] if names else None)
        if name in self.overrides:
            return name, self.overrides[name]
        if name is None or name not in self.mapping.sources:
            raise MappingError(
                f"未定义的数据源 {name!r}；请在 mapping.yaml 的 sources 中定义，或调用时用 sources= 给出",
                where=str(self.mapping.directory or ""),
            )
        sd = self.mapping.sources[name]
        raw = sd.url or sd.path
        env = dict(os.environ)
        if self.mapping.directory is not None:
            env.setdefault("MAPPING_DIR", str(self.mapping.directory.resolve()))
        value = _expand(raw, env, where=f"sources.{name}")
        if sd.path and not Path(value).is_absolute() and self.mapping.directory is not None:
            value = str(self.mapping.directory / value)
        return name, value

    def open(self, ref: SourceRef | Join):
        from ..sources._read import Source

        if ref.file:
            p = self.mapping._path(ref.file)
            return Source(p, sheet=getattr(ref, "sheet", None))
        name, value = self._source_value(ref.source)
        if isinstance(value, pd.DataFrame):
            return Source(value)
        if isinstance(value, dict) and ref.table in value:  # {"table": DataFrame} overrides
            return Source(value[ref.table])
        text = str(value)
        if "://" in text:
            return Source(text, table=ref.table, query=ref.query)
        p = Path(text)
        if p.is_dir():  # a directory of CSV exports: table → <dir>/<table>.csv
            if not ref.table:
                raise MappingError("目录数据源只能按 table 读取（<目录>/<table>.csv）", where=f"sources.{name}")
            return Source(p / f"{ref.table}.csv")
        return Source(p, sheet=ref.table if p.suffix.lower() in (".xlsx", ".xlsm") else None)

    def read(self, ref) -> pd.DataFrame:
        k = (getattr(ref, "source", None), ref.table, ref.query, ref.file)
        if k not in self.cache:
            self.cache[k] = self.open(ref).read()
        return self.cache[k]

    def columns(self, ref) -> list[str]:
        src = self.open(ref)
        if src.info.kind == "sql":
            for chunk in src.iter_chunks(1):
                return list(chunk.columns)
            return []
        if src.info.kind == "csv":
            return list(
                pd.read_csv(
                    src.path, nrows=0, **{k: v for k, v in src._csv_kwargs().items() if k not in ("usecols",)}
                ).columns.str.strip()
            )
        return list(src.read().columns)


def _expand(raw: str, env: dict, where: str) -> str:
    def repl(m):
        name, default = m.group(1), m.group(3)
        if name in env:
            return env[name]
        if default is not None:
            return default
        raise MappingError(f"环境变量 {name} 未设置（用于数据源路径），请设置后再运行，或用 sources= 覆盖", where=where)

    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}", repl, raw)


def _mask_kind(field_key: str) -> str | None:
    k = field_key.lower()
    if "cert" in k or "idcard" in k or k.endswith("idno"):
        return "id"
    if "mobile" in k or "phone" in k or "tel" in k:
        return "phone"
    if k.endswith("name") and any(p in k for p in ("patient", "doctor", "guardian", "people", "person", "audit")):
        return "name"
    return None


class _Issues:
    def __init__(self, dataset: str, source: str) -> None:
        self.dataset, self.source = dataset, source
        self.parts: list[pd.DataFrame] = []

    def add(
        self,
        rows: pd.Series,
        *,
        field: str | None,
        rule: str,
        action: str,
        values: pd.Series | None,
        message: str | pd.Series,
    ) -> None:
        if len(rows) == 0:
            return
        from .._privacy import mask_series

        n = len(rows)
        if values is None:
            masked = [None] * n
        else:
            masked = mask_series(as_text(values.reset_index(drop=True)), _mask_kind(field or "")).tolist()
        msgs = message.tolist() if isinstance(message, pd.Series) else [message] * n
        self.parts.append(
            pd.DataFrame(
                {
                    "dataset": self.dataset,
                    "source": self.source,
                    "row": pd.array(rows.tolist(), dtype="Int64"),
                    "key": [None] * n,
                    "field": field,
                    "rule": rule,
                    "action": action,
                    "value": masked,
                    "message": msgs,
                }
            )
        )

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame({c: pd.Series(dtype="object") for c in ISSUE_COLUMNS})
        return pd.concat(self.parts, ignore_index=True)


class _Mapper:
    """Applies the field rules of one (child) data set to a DataFrame chunk, vectorised."""

    def __init__(
        self, mapping: Mapping, spec, ds, rules: dict[str, FieldRule], ctx: _Context, issues: _Issues, today=None
    ) -> None:
        self.mapping, self.spec, self.ds, self.rules, self.ctx, self.issues = mapping, spec, ds, rules, ctx, issues
        self.today = today
        self.lookups: dict[tuple[str, str], dict[str, str]] = {}
        for rule in rules.values():
            if rule.kind == "code" and (rule.code_map, rule.take) not in self.lookups:
                cm = mapping.code_map(rule.code_map)
                lookup = cm.lookup()
                if rule.take == "name":
                    names = self._code_names(cm, ds.fields.get(rule.field))
                    lookup = {k: names.get(v) for k, v in lookup.items() if names.get(v) is not None}
                self.lookups[(rule.code_map, rule.take)] = lookup

    def _code_names(self, cm: CodeMap, f) -> dict[str, str]:
        """standard code → standard name: from the spec's code set (authoritative), else the CSV."""
        names = {}
        e = cm.entries.dropna(subset=["code"])
        names.update({str(c): str(n) for c, n in zip(e["code"], e["name"]) if isinstance(n, str) and n})
        cs_id = cm.code_set
        if cs_id:
            try:
                names.update(dict(self.spec.code_set(cs_id).codes))
            except Exception:
                pass
        return names

    def column(self, df: pd.DataFrame, name: str, key: str) -> pd.Series:
        try:
            return df[name]
        except KeyError:
            raise MappingError(
                f"列 {name!r} 不在数据源中（字段 {key}）；可用列：{', '.join(map(str, df.columns[:40]))}",
                where=f"{self.ds.code}.{key}",
            ) from None

    def apply(self, df: pd.DataFrame, rows: pd.Series) -> tuple[pd.DataFrame, pd.Series]:
        """→ (records for every row of df, boolean Series of rows to reject)."""
        out: dict[str, pd.Series] = {}
        reject = pd.Series(False, index=df.index)
        for key, rule in self.rules.items():
            f = self.ds.fields.get(key)
            if f is None:
                raise MappingError(f"数据集 {self.ds.code} 没有字段 {key!r}", where=f"{self.ds.code}.{key}")
            kind = rule.kind
            if kind in ("unavailable", "children"):
                continue
            if kind == "const":
                val = rule.const
                if isinstance(val, str) and "${" in val:
                    val = _expand(val, dict(os.environ), where=f"{self.ds.code}.{key}")
                if isinstance(val, str):
                    s = _repeat_text(val, len(df), df.index)
                else:
                    s = pd.Series([val] * len(df), index=df.index, dtype="object")
                if not isinstance(val, str) and val is not None:
                    s = as_text(s) if f.type in ("string", "date", "datetime") else s
            elif kind == "concat":
                parts = [
                    pd.Series(c[1:], index=df.index, dtype="str")
                    if c.startswith("=")
                    else as_text(self.column(df, c, key), trim=rule.trim).fillna("")
                    for c in rule.concat
                ]
                s = parts[0]
                for p in parts[1:]:
                    s = s + rule.sep + p
                s = s.mask(s.str.strip(rule.sep or None) == "")
            elif kind == "derive":
                d = DERIVED[rule.derive]
                params = dict(rule.params)
                if self.today is not None:
                    params.setdefault("today", self.today)
                argv = [self.column(df, a, key) for a in rule.args]
                s = d.func(argv, params)
                had = argv[0].notna()
                if rule.derive != "first_non_empty":
                    failed = had & s.isna()
                    if failed.any():
                        self.issues.add(
                            rows[failed],
                            field=key,
                            rule="derive",
                            action="kept",
                            values=argv[0][failed],
                            message=f"派生 {rule.derive} 无法从该值得出结果（格式不符或日期不存在），字段留空",
                        )
            else:
                s = as_text(self.column(df, rule.column, key), trim=rule.trim)
                if kind == "code":
                    raw = s
                    lookup = self.lookups[(rule.code_map, rule.take)]
                    s = _map_codes(raw, lookup)
                    miss = raw.notna() & s.isna()
                    if miss.any():
                        if rule.default is not None:
                            dflt = (
                                rule.default
                                if rule.take == "code"
                                else self._code_names(self.mapping.code_map(rule.code_map), f).get(rule.default)
                            )
                            s = s.mask(miss, dflt)
                            self.issues.add(
                                rows[miss],
                                field=key,
                                rule="code_map",
                                action="defaulted",
                                values=raw[miss],
                                message=f"本地值不在值域对照表 {rule.code_map} 中，已取默认代码 "
                                f"{rule.default}；请在 codes/ 中补充对照",
                            )
                        else:
                            reject |= miss
                            self.issues.add(
                                rows[miss],
                                field=key,
                                rule="code_map",
                                action="rejected",
                                values=raw[miss],
                                message=f"本地值不在值域对照表 {rule.code_map} 中，该行拒收；"
                                "请在对照表中补充该值或设置 default",
                            )
            out[key] = self._convert(s, f, rule, rows)
        return pd.DataFrame(out, index=df.index), reject

    def _convert(self, s: pd.Series, f, rule: FieldRule, rows: pd.Series) -> pd.Series:
        t = f.type
        if t in ("date", "datetime"):
            if s.dtype.kind == "M":
                return format_times(s, t)
            text = as_text(s, trim=rule.trim)
            fmt = rule.format
            # dates repeat (one business day, shared birth dates): work on the distinct values
            # when that pays, then gather the results back row by row
            enc = _distinct(text)
            values = text if enc is None else enc[1]

            def per_row(v: pd.Series) -> pd.Series:
                return v if enc is None else _per_row(v, enc[0], text.index)

            if fmt is None:
                already = (
                    values.str.match(
                        r"^\d{4}-\d{2}-\d{2}$" if t == "date" else r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"
                    )
                    .fillna(False)
                    .astype(bool)
                )
                if bool(already[values.notna()].all()):
                    parsed = pd.to_datetime(values, format=OUT_FORMATS[t], errors="coerce")
                    bad = per_row(values.notna() & parsed.isna())
                    self._kept(bad, text, f, rule, rows, "date", f"不是有效的{'日期' if t == 'date' else '日期时间'}")
                    return text
                fmt = guess_time_format(text)  # chosen on the rows, as parse_times would
            parsed, used = parse_times(values, fmt)
            bad_values = values.notna() & parsed.isna()
            out = format_times(parsed, t)
            if bad_values.any():
                out = out.mask(bad_values, values)
            out, bad = per_row(out), per_row(bad_values)
            if bad.any():
                self._kept(
                    bad,
                    text,
                    f,
                    rule,
                    rows,
                    "date",
                    f"无法按格式 {used} 解析为{'日期' if t == 'date' else '日期时间'}（不存在的日期或格式不符），原"
                    "值保留，校验时将报告",
                )
            return out
        if t == "integer":
            if str(s.dtype) == "Int64" or s.dtype.kind in "iu":
                return s.astype("Int64")
            text = as_text(s, trim=rule.trim)
            num = pd.to_numeric(text, errors="coerce")
            ok = num.notna() & (num % 1 == 0)
            bad = text.notna() & ~ok
            if bad.any():
                self._kept(bad, text, f, rule, rows, "type", "不是整数，原值保留，校验时将报告")
                res = num.astype("object").where(ok, None)
                res = res.map(lambda v: int(v) if v is not None else None).astype("object")
                return res.mask(bad, text[bad].astype("object"))
            return num.astype("Int64")
        if t == "decimal":
            if s.dtype.kind == "f":
                return s
            if s.dtype.kind in "iu" or str(s.dtype) in ("Int64", "Float64"):
                return s.astype("float64")
            text = as_text(s, trim=rule.trim)
            num = pd.to_numeric(text, errors="coerce")
            bad = text.notna() & num.isna()
            if bad.any():
                self._kept(bad, text, f, rule, rows, "type", "不是数值，原值保留，校验时将报告")
                return (
                    num.astype("object").where(~bad, text.astype("object")).mask(text.isna() | num.isna() & ~bad, None)
                )
            return num.astype("float64")
        if t == "array":
            return s
        return as_text(s, trim=rule.trim) if str(s.dtype) != "str" else s

    def _kept(self, bad, text, f, rule, rows, rule_id, message):
        if bad.any():
            self.issues.add(rows[bad], field=f.key, rule=rule_id, action="kept", values=text[bad], message=message)


def _join(
    df: pd.DataFrame, joins: list[Join], ctx: _Context, issues: _Issues, rows: pd.Series, where: str | None = None
) -> tuple[pd.DataFrame, pd.Series]:
    reject = pd.Series(False, index=df.index)
    for j in joins:
        right = ctx.read(j)
        w = f"{where + ': ' if where else ''}source.joins {j.name}"
        missing = [c for c in j.keys.values() if c not in right.columns]
        if missing:
            table = j.name + (f"（{j.table}）" if j.table and j.table != j.name else " ")
            raise MappingError(
                f"关联键 {', '.join(missing)} 不在关联表 {table}中；该表的列："
                f"{', '.join(map(str, right.columns[:30]))}",
                where=w,
            )
        missing = [c for c in j.keys if c not in df.columns]
        if missing:
            raise MappingError(
                f"关联键 {', '.join(missing)} 不在主表 {issues.source} 中；请改 keys 的左侧为主表的列", where=w
            )
        keys_r = list(j.keys.values())
        dup = right.duplicated(keys_r, keep="first")
        if dup.any():
            right = right[~dup]
        renamed = right.rename(columns={c: f"{j.name}.{c}" for c in right.columns})
        left_keys = [as_text(df[c]) for c in j.keys]
        right_keys = [as_text(renamed[f"{j.name}.{c}"]) for c in keys_r]
        lk = pd.DataFrame({f"__k{i}": k for i, k in enumerate(left_keys)}, index=df.index)
        rk = pd.DataFrame({f"__k{i}": k for i, k in enumerate(right_keys)})
        rk["__pos"] = np.arange(len(rk))
        pos = lk.merge(rk, how="left", on=list(lk.columns))["__pos"].to_numpy()
        matched = ~np.isnan(pos)
        take = np.where(matched, pos, 0).astype("int64")
        joined = (
            renamed.iloc[take].reset_index(drop=True)
            if len(renamed)
            else pd.DataFrame(index=range(len(df)), columns=renamed.columns)
        )
        joined.index = df.index
        joined = joined.where(pd.Series(matched, index=df.index), axis=0) if not matched.all() else joined
        df = pd.concat([df, joined], axis=1)
        nomatch = pd.Series(~matched, index=df.index) & lk.notna().all(axis=1)
        if nomatch.any():
            what = "该行拒收" if j.required else "关联列为空"
            issues.add(
                rows[nomatch],
                field=None,
                rule="join",
                action="rejected" if j.required else "kept",
                values=left_keys[0][nomatch],
                message=f"关联表 {j.name} 中找不到 {'/'.join(j.keys.values())} 对应的行，{what}",
            )
            if j.required:
                reject |= nomatch
        if dup.any():
            issues.add(
                pd.Series([None]),
                field=None,
                rule="join",
                action="kept",
                values=None,
                message=f"关联表 {j.name} 中键 {'/'.join(keys_r)} 有 {int(dup.sum())} 个重复，已取第一行",
            )
    return df, reject


def apply_mapping(
    mapping: Mapping | str | os.PathLike,
    dataset: str,
    *,
    date: str | dt.date | None = None,
    sources: dict | None = None,
    chunksize: int = _CHUNK,
    out: str | os.PathLike | None = None,
    spec=None,
    today: str | None = None,
    check: bool = True,
    limit: int | None = None,
) -> MappingResult:
    """Map one data set's source rows to spec records (指标对照 → 规范记录).

    ``date`` keeps the rows whose business time (``source.business_time``) falls on that day
    (Asia/Shanghai, ``YYYY-MM-DD``).  ``sources`` overrides the mapping's named sources
    (name → URL, path or DataFrame).  The source is read and mapped in chunks of ``chunksize``
    rows; with ``out`` the records are streamed to that JSON-lines file and not kept in memory.
    ``today`` fixes "today" for age derivations without a business time (tests, reruns).
    ``limit`` reads only the first N source rows (previews in the mapping editor).
    """
    from ..spec._load import load_spec

    if not isinstance(mapping, Mapping):
        mapping = load_mapping(mapping)
    spec = load_spec(spec if spec is not None else mapping.spec_id)
    dm = mapping.dataset(dataset)
    ds = spec.dataset(dm.dataset)
    if check:
        errors = [
            i
            for i in mapping._check_rules(spec, ds, dm.fields, dm.file or dm.dataset, top=True)
            if i.severity == "error"
        ]
        if errors:
            raise MappingError(errors[0].message, where=errors[0].where)
    day = None
    if date is not None:
        try:
            day = dt.date.fromisoformat(str(date))
        except ValueError as exc:
            raise MappingError(f"业务日期 {date!r} 不是有效的日期：应写作 YYYY-MM-DD，如 2026-11-02") from exc
        if not dm.source.business_time:
            raise MappingError(
                f"数据集 {ds.code} 的 source 没有 business_time（业务时间列），无法按日期筛选", where=dm.file
            )
    ctx = _Context(mapping, sources)
    issues = _Issues(ds.code, dm.source.label)
    mapper = _Mapper(mapping, spec, ds, dm.fields, ctx, issues, today=today)
    children = {k: r for k, r in dm.fields.items() if r.kind == "children"}
    parts: list[pd.DataFrame] = []
    row_parts: list[pd.Series] = []
    n_rows = written = n_day_rows = 0
    part = None if out is None else Path(str(out) + ".part")
    fh = open(part, "wb") if part is not None else None  # noqa: SIM115 - closed in the finally below
    writer = None
    pending = None
    if fh is not None:
        from concurrent.futures import ThreadPoolExecutor

        writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hlwjr-jsonl")
    ok = False
    seen_hashes = np.array([], dtype="uint64")  # sorted hashes of the rows seen so far (exact duplicates)
    seen_rows = np.array([], dtype="int64")  # the source row of each, first occurrence
    dup_of: dict[int, int] = {}  # duplicate row → the row it repeats
    row_keys: dict[int, str] = {}
    bt = dm.source.business_time
    chunks = None
    try:
        src = ctx.open(dm.source)
        if limit is not None:
            chunksize = max(1, min(chunksize, limit))
        chunks = src.iter_chunks(chunksize)
        for chunk in chunks:
            if limit is not None and n_rows >= limit:
                break
            if limit is not None and n_rows + len(chunk) > limit:
                chunk = chunk.iloc[: limit - n_rows]  # exactly the first ``limit`` source rows
            rows = pd.Series(np.arange(n_rows + 1, n_rows + len(chunk) + 1), index=chunk.index)
            n_rows += len(chunk)
            early = day is not None and bt in chunk.columns
            if day is not None and early:
                chunk, rows, n_bad = _select_day(chunk, rows, bt, dm.source.business_time_format, day, issues)
                n_day_rows += len(chunk) + n_bad
            if dm.source.drop_exact_duplicates and len(chunk):
                hashes = pd.util.hash_pandas_object(chunk, index=False).to_numpy()
                dup_np, firsts, seen_hashes, seen_rows = _exact_duplicates(
                    hashes, rows.to_numpy(), seen_hashes, seen_rows
                )
                dup = pd.Series(dup_np, index=chunk.index)
                if dup.any():
                    first = pd.Series(firsts, index=rows[dup].index)
                    dup_of.update(zip(rows[dup].tolist(), firsts.tolist()))
                    issues.add(
                        rows[dup],
                        field=None,
                        rule="duplicate_row",
                        action="rejected",
                        values=None,
                        message="与第 " + first.astype(str) + " 行完全相同（重复导出），该行不再上传",
                    )
                    chunk, rows = chunk[~dup], rows[~dup]
            chunk, reject_join = (
                _join(chunk, dm.source.joins, ctx, issues, rows, dm.file)
                if dm.source.joins
                else (chunk, pd.Series(False, index=chunk.index))
            )
            if day is not None and not early:
                if bt not in chunk.columns:
                    raise MappingError(f"业务时间列 {bt!r} 不在数据源中（也不在关联表中）", where=dm.file)
                keep_idx = chunk.index
                chunk, rows, n_bad = _select_day(chunk, rows, bt, dm.source.business_time_format, day, issues)
                n_day_rows += len(chunk) + n_bad
                reject_join = reject_join.loc[chunk.index] if len(keep_idx) else reject_join
            recs, reject = mapper.apply(chunk, rows)
            reject |= reject_join
            for key, rule in children.items():
                col, rej_c = _children(mapping, spec, ds, key, rule.children, chunk, rows, ctx, issues, today)
                recs[key] = col
                reject |= rej_c
            if ds.key and all(k in recs.columns for k in ds.key) and bool(reject.any()):
                keys = _masked_key_text(recs.loc[reject, list(ds.key)], ds)
                row_keys.update(zip(rows[reject].tolist(), keys.tolist()))
            if reject.any():
                recs, rows = recs[~reject], rows[~reject]
            recs = recs.reset_index(drop=True)
            rows = rows.reset_index(drop=True)
            if fh is not None:
                # serialise and write this chunk on the writer thread while the next one is mapped
                # (Arrow, NumPy and the file write release the GIL); at most one chunk waits
                if pending is not None:
                    written += pending.result()
                pending = writer.submit(write_jsonl, recs, fh)
            else:
                parts.append(recs)
                row_parts.append(rows)
        if pending is not None:
            written += pending.result()
            pending = None
        ok = True
    finally:
        if chunks is not None:
            chunks.close()
        if writer is not None:
            writer.shutdown(wait=True)
        if fh is not None:
            fh.close()
            if ok:
                os.replace(part, out)  # never a half-written file under the real name
            else:
                part.unlink(missing_ok=True)
    issue_frame = issues.frame()
    if fh is None:
        records = (
            pd.concat(parts, ignore_index=True)
            if parts
            else pd.DataFrame(columns=[k for k, r in dm.fields.items() if r.kind != "unavailable"])
        )
        source_rows = pd.concat(row_parts, ignore_index=True) if row_parts else pd.Series([], dtype="int64")
    else:
        records, source_rows = pd.DataFrame(), pd.Series([], dtype="int64")
    issue_frame = _fill_keys(issue_frame, ds, records, source_rows, row_keys, dup_of)
    return MappingResult(
        dataset=ds.code,
        records=records,
        source_rows=source_rows,
        issues=issue_frame,
        n_source_rows=n_rows,
        date=None if day is None else day.isoformat(),
        written=written,
        out=None if out is None else Path(out),
        n_day_rows=None if day is None else n_day_rows,
    )


def _key_text(frame: pd.DataFrame) -> pd.Series:
    """Business key columns joined with "|" (missing parts empty), vectorised."""
    cols = [as_text(frame[c]).fillna("") for c in frame.columns]
    if not cols:
        return pd.Series("", index=frame.index, dtype="str")
    out = cols[0]
    for c in cols[1:]:
        out = out + "|" + c
    return out


def _masked_key_text(frame: pd.DataFrame, ds) -> pd.Series:
    """:func:`_key_text` for display in issues: each key part masked (脱敏) as the validator masks
    report keys, so a key holding an ID-card or phone number (doctorCertID) is never shown whole;
    机构代码 (organID) stays readable."""
    from .._privacy import mask_series
    from ..validation._engine import mask_kind_for

    def part(c: str) -> pd.Series:
        f = ds.fields.get(c)
        kind = mask_kind_for(c, f.name if f is not None and f.name else "")
        text = as_text(frame[c])
        return text if kind == "plain" else pd.Series(mask_series(text, kind).to_numpy(), index=frame.index)

    return _key_text(pd.DataFrame({c: part(c) for c in frame.columns}, index=frame.index))


def _map_codes(raw: pd.Series, lookup: dict[str, str]) -> pd.Series:
    """local value → standard code, vectorised: map the distinct values once, then gather."""
    if len(raw) == 0:
        return raw
    import pyarrow as pa

    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    mapped = pa.array([lookup.get(u) for u in uniques] + [None], type=pa.large_string())
    picks = np.where(codes < 0, len(uniques), codes)  # missing picks the trailing null
    return pd.Series(pd.array(mapped.take(pa.array(picks)), dtype="str"), index=raw.index)


def _select_day(
    chunk: pd.DataFrame, rows: pd.Series, column: str, fmt: str | None, day: dt.date, issues: _Issues
) -> tuple[pd.DataFrame, pd.Series, int]:
    """Rows whose business time falls on ``day`` (+ the number of rows whose business time is empty or
    unparseable: those are reported as rejected, since their day is unknown)."""
    text = as_text(chunk[column])
    parsed, _ = parse_times(text, fmt)
    bad = parsed.isna()
    if bad.any():
        issues.add(
            rows[bad],
            field=column,
            rule="business_time",
            action="rejected",
            values=text[bad],
            message="业务时间为空或无法解析，无法确定业务日期，该行未映射；请修正源数据",
        )
    keep = (parsed.dt.date == day).fillna(False).astype(bool) & ~bad
    return chunk[keep], rows[keep], int(bad.sum())


def _exact_duplicates(hashes: np.ndarray, rows: np.ndarray, seen_hashes: np.ndarray, seen_rows: np.ndarray):
    """Exact duplicate rows of a chunk, by row hash, vectorised: (is-duplicate mask, the source row
    each duplicate repeats, updated sorted seen hashes, their first rows)."""
    uniq, first_idx = np.unique(hashes, return_index=True)  # first occurrence inside the chunk
    in_chunk_first = rows[first_idx[np.searchsorted(uniq, hashes)]]
    pos = np.searchsorted(seen_hashes, hashes)
    pos_ok = np.minimum(pos, max(len(seen_hashes) - 1, 0))
    earlier = (seen_hashes[pos_ok] == hashes) if len(seen_hashes) else np.zeros(len(hashes), dtype=bool)
    first = np.where(earlier, seen_rows[pos_ok] if len(seen_rows) else in_chunk_first, in_chunk_first)
    dup = earlier | (in_chunk_first != rows)
    new = ~np.isin(uniq, seen_hashes, assume_unique=True)
    all_h = np.concatenate([seen_hashes, uniq[new]])
    all_r = np.concatenate([seen_rows, rows[first_idx[new]]])
    order = np.argsort(all_h, kind="stable")
    return dup, first[dup], all_h[order], all_r[order]


def _fill_keys(
    issues: pd.DataFrame,
    ds,
    records: pd.DataFrame,
    source_rows: pd.Series,
    row_keys: dict[int, str],
    dup_of: dict[int, int] | None = None,
) -> pd.DataFrame:
    if issues.empty or not ds.key:
        return issues
    by_row = dict(row_keys)
    rows_with_issues = set(issues["row"].tolist()) | set((dup_of or {}).values())
    if not records.empty and all(k in records.columns for k in ds.key):
        pos = source_rows.isin(rows_with_issues).to_numpy()
        if pos.any():
            keys = _masked_key_text(records.loc[pos, list(ds.key)], ds)
            by_row.update(zip(source_rows[pos].tolist(), keys.tolist()))
    for dup, first in (dup_of or {}).items():  # an exact duplicate has the business key of the row it repeats
        if first in by_row:
            by_row[dup] = by_row[first]
    issues["key"] = issues["row"].map(by_row).astype("object")
    return issues


def _children(
    mapping,
    spec,
    ds,
    key: str,
    ch: ChildRule,
    parent: pd.DataFrame,
    rows: pd.Series,
    ctx: _Context,
    issues: _Issues,
    today,
) -> tuple[pd.Series, pd.Series]:
    """The list-of-dicts column of an array field, for the rows of ``parent`` only."""
    f = ds.fields[key]
    child_ds = spec.dataset(f.item)
    table = ctx.read(ch.source)
    child_cols, parent_cols = list(ch.keys), list(ch.keys.values())
    for c in child_cols:
        if c not in table.columns:
            raise MappingError(f"关联键 {c} 不在明细表 {ch.source.label} 中", where=f"{ds.code}.{key}")
    pkeys = pd.DataFrame({f"__k{i}": as_text(parent[c]) for i, c in enumerate(parent_cols)}, index=parent.index)
    ckeys = pd.DataFrame({f"__k{i}": as_text(table[c]) for i, c in enumerate(child_cols)}, index=table.index)
    if len(child_cols) == 1:
        sel = ckeys["__k0"].isin(pkeys["__k0"].dropna())
    else:
        sel = ckeys.merge(pkeys.drop_duplicates(), how="left", indicator=True)["_merge"].eq("both").to_numpy()
    sub = table[sel]
    if ch.order_by and ch.order_by in sub.columns:
        order = pd.to_numeric(sub[ch.order_by], errors="coerce")
        sub = sub.iloc[np.argsort(order.to_numpy(na_value=np.inf), kind="stable")]
    child_issues = _Issues(child_ds.code, ch.source.label)
    sub_rows = pd.Series(np.asarray(sub.index) + 1, index=sub.index)
    mapper = _Mapper(mapping, spec, child_ds, ch.fields, ctx, child_issues, today=today)
    recs, reject_c = mapper.apply(sub, sub_rows)
    skeys = _key_text(ckeys.loc[sub.index]) if len(child_cols) > 1 else ckeys.loc[sub.index, "__k0"].astype("str")
    pk = _key_text(pkeys) if len(parent_cols) > 1 else pkeys["__k0"].astype("str")
    # child problems → the parent row is rejected when a line is rejected, else reported as kept
    ci = child_issues.frame()
    reject = pd.Series(False, index=parent.index)
    if not ci.empty:
        child_key_by_row = dict(zip(sub_rows.tolist(), skeys.tolist()))
        parent_rows_by_key: dict[str, list[int]] = {}
        for pk_v, r in zip(pk.tolist(), rows.tolist()):
            parent_rows_by_key.setdefault(pk_v, []).append(r)
        bad_keys = set(skeys[reject_c].tolist())
        for rec in ci.itertuples(index=False):
            ck = child_key_by_row.get(rec.row)
            for prow in parent_rows_by_key.get(ck, []):
                issues.add(
                    pd.Series([prow]),
                    field=f"{key}.{rec.field}" if rec.field else key,
                    rule=rec.rule,
                    action=rec.action,
                    values=pd.Series([rec.value]),
                    message=f"明细（{ch.source.label} 第 {rec.row} 行）：{rec.message}",
                )
        reject = pk.isin(bad_keys) & pk.notna()
    # group child dicts by parent key (per-line dicts are inherent to an array of objects)
    cols = list(recs.columns)
    arrays = [recs[c].tolist() for c in cols]
    groups: dict[str, list[dict]] = {}
    for k, values in zip(skeys.tolist(), zip(*arrays)):
        groups.setdefault(k, []).append({c: _py(v) for c, v in zip(cols, values) if not _missing(v)})
    col = pd.Series([groups.get(k, []) for k in pk.tolist()], index=parent.index, dtype="object")
    return col, reject
