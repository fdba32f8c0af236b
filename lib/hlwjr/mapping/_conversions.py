"""Vectorised conversions the mapping applies to source columns: text cleaning, date/time
format guessing, parsing and formatting to the spec's formats, row-wise concatenation.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from .._privacy import LOST_DIGITS_FROM

OUT_FORMATS = {"date": "%Y-%m-%d", "datetime": "%Y-%m-%d %H:%M:%S"}
# ------------------------------------------------------------------------------------------------
# vectorised helpers


def as_text(s: pd.Series, *, trim: bool = True) -> pd.Series:
    """Any column as text (``str`` dtype): integers without ``.0``, trimmed, empty → missing; a
    float of 16 digits or more as Excel shows it (``1.10101199001011E+17``: its last digits are
    lost, and a made-up ``110101199001011008`` must not pass for an ID)."""
    if s.dtype.kind == "f":
        vals = s.to_numpy(dtype="float64", na_value=np.nan)
        finite = np.isfinite(vals)
        if (np.abs(vals[finite]) >= LOST_DIGITS_FROM).any():
            return _lost_digits_text(s, vals, trim=trim)
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


def _lost_digits_text(s: pd.Series, vals: np.ndarray, *, trim: bool) -> pd.Series:
    whole = pd.Series(vals, index=s.index).astype(object)
    long_numbers = np.isfinite(vals) & (np.abs(vals) >= LOST_DIGITS_FROM)
    whole[long_numbers] = [format(v, ".15G") for v in vals[long_numbers]]
    small = ~long_numbers & np.isfinite(vals)
    whole[small] = [str(int(v)) if v.is_integer() else str(float(v)) for v in vals[small]]
    return as_text(whole.where(np.isfinite(vals), None), trim=trim)


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
    """The known format most of the first 2,000 values have (each value's format as the profile
    finds it, ``hlwjr.sources._profile.date_format_of``; ties go to the more specific format)."""
    from ..sources._profile import DATE_FORMATS, date_format_of

    nn = text.dropna().iloc[:2000]  # choose the format on a sample; every value is then parsed with it
    counts = date_format_of(nn).value_counts() if len(nn) else pd.Series(dtype=int)
    order = [f for _p, f, _k in DATE_FORMATS]
    best = min(counts.index, key=lambda f: (-counts[f], order.index(f)), default=None)
    return best or "%Y-%m-%d %H:%M:%S"


def time_formats(fmt: str) -> list[str]:
    """The alternatives of a rule's ``format``, tried in order: ``"%Y-%m-%d %H:%M:%S | %Y/%m/%d %H:%M"``
    (one export written by two systems)."""
    return [f.strip() for f in str(fmt).split("|") if f.strip()]


def _same_kind_formats(first: str) -> list[str]:
    """``first``, then the other known formats of its kind (all year-first, so never ambiguous)."""
    from ..sources._profile import DATE_FORMATS

    kind = next((k for _p, f, k in DATE_FORMATS if f == first), None)
    return [first] + [f for _p, f, k in DATE_FORMATS if k == kind and f != first and f.startswith("%Y")]


def parse_times(text: pd.Series, fmt: str | None = None, *, fallback: bool | None = None) -> tuple[pd.Series, str]:
    """Parse date/time text with ``fmt`` (a strftime format, or alternatives joined by ``|``) or, when
    None, the known format most values match (see ``hlwjr.sources._profile.DATE_FORMATS``), then the
    other known formats of its kind for the values it leaves (``fallback``, on when ``fmt`` is None:
    a column mixing 2026-12-06 08:00:00 and 2026/12/6 8:00:00).  Returns (datetime64 Series with NaT
    where no format parses a value, the formats tried).

    Repeated values (dates of one day, birth dates) are parsed once per distinct value."""
    if fallback is None:
        fallback = fmt is None
    if fmt is None:
        fmt = guess_time_format(text)
    fmts = time_formats(fmt)
    if fallback:
        fmts = list(dict.fromkeys(f for first in fmts for f in _same_kind_formats(first)))
    enc = _distinct(text)
    if enc is not None:
        codes, uniques = enc
        return _per_row(_parse_values(uniques, fmts), codes, text.index), " | ".join(fmts)
    return _parse_values(text, fmts), " | ".join(fmts)


def _parse_values(text: pd.Series, fmts: list[str]) -> pd.Series:
    parsed = _parse_one(text, fmts[0])
    for fmt in fmts[1:]:
        left = parsed.isna() & text.notna()
        if not left.any():
            break
        parsed = parsed.copy()
        parsed[left] = _parse_one(text[left], fmt).to_numpy(dtype="datetime64[s]")
    return parsed


def _parse_one(text: pd.Series, fmt: str) -> pd.Series:
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


def _large(arr):
    import pyarrow as pa

    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.large_string())
    return arr
