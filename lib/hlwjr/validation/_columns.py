"""Typed column views for the column-wise validators: a per-cell JSON kind code, Arrow strings,
floats; and the vectorised kernels over them (blank/edge spaces, lengths, calendar formats,
membership). Python only touches failing cells.
"""

from __future__ import annotations

import calendar
import functools
import itertools
import math
import operator
import re
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._exceptions import SchemaUnsupported
from ._numbers import is_out_of_range

# --------------------------------------------------------------------------------------- kinds
MISSING, NULL, BOOL, INT, FLOAT, FLOATINT, STR, LIST, DICT, OTHER = range(10)


KIND_NAMES = {
    MISSING: "missing",
    NULL: "null",
    BOOL: "boolean",
    INT: "integer",
    FLOAT: "number",
    FLOATINT: "integer",
    STR: "string",
    LIST: "array",
    DICT: "object",
    OTHER: "other",
}


KIND_CN = {
    NULL: "空值",
    BOOL: "布尔值",
    INT: "整数",
    FLOAT: "小数",
    FLOATINT: "整数",
    STR: "字符串",
    LIST: "数组",
    DICT: "对象",
    OTHER: "非JSON值",
}


TYPE_KINDS = {
    "string": (STR,),
    "integer": (INT, FLOATINT),
    "number": (INT, FLOAT, FLOATINT),
    "boolean": (BOOL,),
    "null": (NULL,),
    "array": (LIST,),
    "object": (DICT,),
}


_NUMERIC = (INT, FLOAT, FLOATINT)


def kinds_of(*kinds: int) -> np.ndarray:
    """A lookup table for ``table[column.kind]``: is each cell of one of ``kinds``? (A gather of
    the int8 kinds: a microsecond, where ``np.isin`` sorts for tens of them per call.)"""
    table = np.zeros(16, dtype=bool)
    table[list(kinds)] = True
    table.flags.writeable = False
    return table


IS_NUMERIC = kinds_of(*_NUMERIC)
IS_INTEGER = kinds_of(INT, FLOATINT)
IS_TEXT_OR_MISSING = kinds_of(STR, MISSING)


_TYPE_KIND = {bool: BOOL, int: INT, float: FLOAT, str: STR, list: LIST, dict: DICT, type(None): NULL}


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:  # pragma: no cover
        return "<missing>"


_MISSING = _Missing()


_TYPE_KIND[_Missing] = MISSING


def _kind_of(value: Any) -> int:
    k = _TYPE_KIND.get(type(value))
    if k is not None:
        return k
    if isinstance(value, bool) or isinstance(value, np.bool_):
        return BOOL
    if isinstance(value, (int, np.integer)):
        return INT
    if isinstance(value, (float, np.floating)):
        return FLOAT
    if isinstance(value, str):
        return STR
    if isinstance(value, (list, tuple)):
        return LIST
    if isinstance(value, dict):
        return DICT
    return OTHER


# ----------------------------------------------------------------------------------- columns
class Column:
    """The values of one property across many instances, as a typed view.

    ``kind`` is an int8 array of JSON kinds (MISSING, NULL, BOOL, INT, FLOAT, FLOATINT, STR,
    LIST, DICT, OTHER); ``obj`` the values as an object array (built lazily for typed columns).
    ``nan_is_missing`` is True for DataFrame columns (NaN/None/NA mean "missing").
    """

    __slots__ = ("_numbers", "_obj", "_series", "_strings", "cache", "kind", "n")

    def __init__(
        self,
        kind: np.ndarray,
        obj: np.ndarray | None = None,
        series=None,
        strings: pa.Array | None = None,
        numbers: np.ndarray | None = None,
    ) -> None:
        self.n = len(kind)
        self.kind = kind
        self._obj = obj
        self._series = series
        self._strings = strings
        self._numbers = numbers
        self.cache: dict = {}

    # -- construction
    @classmethod
    def from_objects(
        cls, values: np.ndarray | list, *, nan_is_missing: bool = False, none_is_missing: bool | None = None
    ) -> Column:
        """Classify Python values. ``nan_is_missing``: NaN / pd.NA / NaT mean "missing";
        ``none_is_missing`` (default: same as ``nan_is_missing``): None means missing, not JSON null."""
        if none_is_missing is None:
            none_is_missing = nan_is_missing
        obj = values if isinstance(values, np.ndarray) else _object_array(values)
        n = len(obj)
        get = _TYPE_KIND.get
        kind = np.fromiter(map(get, map(type, obj), itertools.repeat(-1)), dtype=np.int8, count=n)
        slow = np.flatnonzero(kind < 0)
        for i in slow:
            kind[i] = _kind_of(obj[i])
        nums = np.full(n, np.nan)  # the float64 view, built on the way (numbers() is then free)
        fl = np.flatnonzero(kind == FLOAT)
        if len(fl):
            x = obj[fl].astype(np.float64)
            if nan_is_missing:
                kind[fl[np.isnan(x)]] = MISSING
            integral = np.isfinite(x) & (np.floor(x) == x)
            kind[fl[integral]] = FLOATINT
            inf = np.isinf(x)
            kind[fl[inf]] = OTHER  # no platform reads ±inf: a type problem, not a number
            nums[fl] = np.where(inf, np.nan, x)
        ints = np.flatnonzero(kind == INT)
        if len(ints):
            try:
                nums[ints] = obj[ints].astype(np.float64)
            except OverflowError:  # integers beyond the double range (a 401-digit age)
                wide = np.array([is_out_of_range(v) for v in obj[ints]], dtype=bool)
                kind[ints[wide]] = OTHER
                nums[ints] = [math.nan if w else float(v) for v, w in zip(obj[ints], wide)]
        other = np.flatnonzero(kind == OTHER)
        decimals = []
        if len(other):
            import decimal

            for i in other:
                v = obj[i]
                if nan_is_missing and (v is _pd_na() or _is_nat(v)):
                    kind[i] = MISSING
                elif isinstance(v, decimal.Decimal):  # NUMERIC columns from SQL sources, NumberText
                    if v.is_nan():
                        kind[i] = MISSING if nan_is_missing else FLOAT
                    elif not is_out_of_range(v):
                        kind[i] = FLOATINT if v == v.to_integral_value() else FLOAT
                        decimals.append(i)
                        nums[i] = float(v)
        if none_is_missing:
            kind[kind == NULL] = MISSING
        col = cls(kind, obj=obj, numbers=nums)
        if decimals:
            col.cache["decimal"] = np.array(decimals, dtype=np.int64)
        return col

    @classmethod
    def from_series(cls, s) -> Column:
        """A DataFrame column: NaN / None / pd.NA are "missing" (a DataFrame has no JSON null)."""
        import pandas as pd

        dtype = s.dtype
        n = len(s)
        if isinstance(dtype, pd.CategoricalDtype):
            return cls.from_series(s.astype(object))
        if _is_string_dtype(dtype):
            na = s.isna().to_numpy(dtype=bool)
            kind = np.where(na, MISSING, STR).astype(np.int8)
            arr = _arrow_strings(s)
            return cls(kind, series=s, strings=arr)
        if pd.api.types.is_bool_dtype(dtype):
            na = s.isna().to_numpy(dtype=bool)
            return cls(np.where(na, MISSING, BOOL).astype(np.int8), series=s)
        if pd.api.types.is_integer_dtype(dtype):
            na = s.isna().to_numpy(dtype=bool)
            nums = s.to_numpy(dtype=np.float64, na_value=np.nan)
            return cls(np.where(na, MISSING, INT).astype(np.int8), series=s, numbers=nums)
        if pd.api.types.is_float_dtype(dtype):
            x = s.to_numpy(dtype=np.float64, na_value=np.nan)
            kind = np.full(n, FLOAT, dtype=np.int8)
            kind[np.isnan(x)] = MISSING
            kind[np.isfinite(x) & (np.floor(x) == x)] = FLOATINT
            inf = np.isinf(x)
            if inf.any():
                kind[inf] = OTHER
                x = np.where(inf, np.nan, x)
            return cls(kind, series=s, numbers=x)
        if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
            na = s.isna().to_numpy(dtype=bool)
            return cls(np.where(na, MISSING, OTHER).astype(np.int8), series=s)
        values = s.to_numpy(dtype=object)
        inferred = pd.api.types.infer_dtype(values, skipna=True) if n else "empty"
        if inferred in {"string", "empty"}:
            na = s.isna().to_numpy(dtype=bool)
            kind = np.where(na, MISSING, STR).astype(np.int8)
            return cls(kind, obj=values, series=s)
        return cls.from_objects(values, nan_is_missing=True)

    # -- views
    @property
    def obj(self) -> np.ndarray:
        if self._obj is None:
            s = self._series
            if s is None:  # an absent column: every cell missing
                self._obj = np.full(self.n, _MISSING, dtype=object)
            elif (
                _is_string_dtype(s.dtype)
                or s.dtype.kind in "biufc"
                or str(s.dtype)
                in {
                    "Int8",
                    "Int16",
                    "Int32",
                    "Int64",
                    "UInt8",
                    "UInt16",
                    "UInt32",
                    "UInt64",
                    "Float32",
                    "Float64",
                    "boolean",
                }
            ):
                self._obj = s.astype(object).to_numpy(dtype=object)
            else:
                self._obj = s.to_numpy(dtype=object)
        return self._obj

    def at(self, idx: np.ndarray) -> np.ndarray:
        """The values at positions ``idx`` as Python objects (without converting the whole column)."""
        if self._obj is None and self._strings is not None:
            kinds = self.kind[idx]
            if IS_TEXT_OR_MISSING[kinds].all():
                vals = self._strings.take(pa.array(idx, type=pa.int64())).to_pylist()
                out = _object_array(vals)
                out[kinds == MISSING] = _MISSING
                return out
        return self.obj[idx]

    def cached(self, key, build: Callable[[Column], Any]):
        """``build(self)``, computed once per column under ``key`` (a view made by :meth:`slice`
        afterwards carries the per-cell masks among them)."""
        got = self.cache.get(key)
        if got is None:
            got = self.cache[key] = build(self)
        return got

    def edges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(empty, leading whitespace, trailing whitespace) per cell, from the raw UTF-8 bytes."""
        return self.cached("edges", lambda c: edge_space(c.strings()))

    def blank(self) -> np.ndarray:
        """Cells holding an empty or whitespace-only string."""
        b = self.cache.get("blank")
        if b is None:
            is_str = self.kind == STR
            if is_str.any():
                s = self.strings()
                b = is_str & ((byte_lengths(s) == 0) | _bool(pc.utf8_is_space(s)))
            else:
                b = np.zeros(self.n, dtype=bool)
            self.cache["blank"] = b
        return b

    def formats(self, fmt: str) -> tuple[np.ndarray, np.ndarray]:
        """Cached :func:`format_masks` of this column's strings."""
        return self.cached(("format", fmt), lambda c: format_masks(c.strings(), fmt))

    def strings(self) -> pa.Array:
        """Arrow string array, same length, null where the cell is not a string."""
        if self._strings is None:
            is_str = self.kind == STR
            values = self.obj
            try:
                self._strings = pa.array(values, mask=~is_str, type=pa.string(), from_pandas=False)
            except (pa.ArrowException, UnicodeEncodeError):  # lone surrogates and the like
                safe = np.array(
                    [
                        v.encode("utf-8", "surrogatepass").decode("utf-8", "replace") if k else None
                        for v, k in zip(values, is_str)
                    ],
                    dtype=object,
                )
                self._strings = pa.array(safe, type=pa.string())
        return self._strings

    def numbers(self) -> np.ndarray:
        """float64 array, NaN where the cell is not a number (booleans are not numbers)."""
        if self._numbers is None:
            x = np.full(self.n, np.nan)
            idx = np.flatnonzero(IS_NUMERIC[self.kind])
            if len(idx):
                vals = self.obj[idx]
                try:
                    x[idx] = vals.astype(np.float64)
                except OverflowError:  # numeric cells are within the double range (see from_objects)
                    x[idx] = [_to_float(v) for v in vals]
            self._numbers = x
        return self._numbers

    def inexact(self) -> np.ndarray:
        """Numeric cells whose float64 view is not exact: integers of 2^53 and more, Decimals."""
        m = self.cache.get("inexact")
        if m is None:
            with np.errstate(invalid="ignore"):
                m = IS_NUMERIC[self.kind] & (np.abs(self.numbers()) >= _EXACT_LIMIT)
            dec = self.cache.get("decimal")
            if dec is not None:
                m[dec] = True
            self.cache["inexact"] = m
        return m

    def compare(self, mask: np.ndarray, op, bound) -> np.ndarray:
        """``mask & op(cell, bound)`` over the numeric cells, exact for big integers and Decimals
        (``op`` an :mod:`operator` comparison; ``bound`` an int or float)."""
        with np.errstate(invalid="ignore"):
            out = mask & op(self.numbers(), bound)
        redo = np.flatnonzero(mask & self.inexact())
        if len(redo):
            if isinstance(bound, np.ndarray):  # one bound per cell (NaN: none)
                out[redo] = [b == b and bool(op(v, float(b))) for v, b in zip(self.at(redo), bound[redo])]
            else:
                out[redo] = [bool(op(v, bound)) for v in self.at(redo)]
        return out

    def slice(self, start: int, stop: int) -> Column:
        """Cells ``start:stop`` as a column of their own (views: nothing is copied), with the
        cached masks that are already known."""
        c = Column(self.kind[start:stop])
        if self._obj is not None or self._series is not None:
            c._obj = self.obj[start:stop]
        if self._strings is not None:
            c._strings = self._strings.slice(start, stop - start)
        if self._numbers is not None:
            c._numbers = self._numbers[start:stop]
        for key, known in self.cache.items():  # per-cell masks (and tuples of them) already known
            if key == "decimal":  # positions, not a mask: below
                continue
            if isinstance(known, np.ndarray) and len(known) == self.n:
                c.cache[key] = known[start:stop]
            elif isinstance(known, tuple) and all(isinstance(a, np.ndarray) and len(a) == self.n for a in known):
                c.cache[key] = tuple(a[start:stop] for a in known)
        dec = self.cache.get("decimal")
        if dec is not None:
            dec = dec[(dec >= start) & (dec < stop)] - start
            if len(dec):
                c.cache["decimal"] = dec
        return c

    @classmethod
    def concat(cls, columns: list[Column]) -> Column:
        """Columns laid end to end (the values as objects; strings are built once, when asked)."""
        col = cls(
            np.concatenate([c.kind for c in columns]),
            obj=np.concatenate([c.obj for c in columns]),
            numbers=np.concatenate([c.numbers() for c in columns]),
        )
        offsets = np.cumsum([0] + [c.n for c in columns[:-1]])
        dec = [c.cache["decimal"] + o for c, o in zip(columns, offsets) if "decimal" in c.cache]
        if dec:
            col.cache["decimal"] = np.concatenate(dec)
        return col

    def take(self, idx: np.ndarray) -> Column:
        """The sub-column at positions ``idx``."""
        c = Column(self.kind[idx])
        if self._obj is not None or self._series is not None:
            c._obj = self.obj[idx]
        if self._strings is not None:
            c._strings = self._strings.take(pa.array(idx))
        if self._numbers is not None:
            c._numbers = self._numbers[idx]
        return c


_EXACT_LIMIT = 2.0**53


def _to_float(v) -> float:
    try:
        return float(v)
    except OverflowError:
        return math.inf if v > 0 else -math.inf


def _object_array(values: Iterable) -> np.ndarray:
    values = values if isinstance(values, list) else list(values)
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    return arr


def column_of(dicts: list, key: str) -> np.ndarray:
    """``[d.get(key, <missing>) for d in dicts]`` as an object array, at C speed (dicts only)."""
    return _object_array(list(map(operator.methodcaller("get", key, _MISSING), dicts)))


@functools.lru_cache(maxsize=1)
def _pd_na():
    import pandas as pd

    return pd.NA


def _is_nat(v) -> bool:
    return type(v).__name__ == "NaTType"


def _is_string_dtype(dtype) -> bool:
    import pandas as pd

    if isinstance(dtype, pd.StringDtype):
        return True
    if isinstance(dtype, pd.ArrowDtype):
        return pa.types.is_string(dtype.pyarrow_dtype) or pa.types.is_large_string(dtype.pyarrow_dtype)
    return False


def _arrow_strings(s) -> pa.Array:
    arr = s.array
    if hasattr(arr, "__arrow_array__"):
        out = arr.__arrow_array__()
        if isinstance(out, pa.ChunkedArray):
            out = out.combine_chunks() if out.num_chunks != 1 else out.chunk(0)
        if pa.types.is_large_string(out.type) or pa.types.is_string_view(out.type):
            out = out.cast(pa.string())
        return out
    return pa.array(s.to_numpy(dtype=object), type=pa.string(), from_pandas=True)


def _bool(a) -> np.ndarray:
    if a.null_count:
        a = pc.fill_null(a, False)
    return a.to_numpy(zero_copy_only=False)


def _string_buffers(strings: pa.Array):
    if isinstance(strings, pa.ChunkedArray):
        strings = strings.combine_chunks()
    if not pa.types.is_string(strings.type):
        strings = strings.cast(pa.string())
    off = np.frombuffer(strings.buffers()[1], dtype=np.int32)[strings.offset : strings.offset + len(strings) + 1]
    buf = strings.buffers()[2]
    data = np.frombuffer(buf, dtype=np.uint8) if buf is not None else np.zeros(0, dtype=np.uint8)
    return off, data


_WS1 = np.zeros(256, dtype=bool)


_WS1[[9, 10, 11, 12, 13, 32]] = True


def edge_space(strings: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(empty, starts with whitespace, ends with whitespace) for each string (False for nulls).

    Whitespace: ASCII \\t\\n\\v\\f\\r and space, U+00A0 and U+3000 (全角空格) — read from the bytes.
    """
    off, data = _string_buffers(strings)
    start, end = off[:-1], off[1:]
    empty = end == start
    if not len(data):
        z = np.zeros(len(start), dtype=bool)
        return empty, z, z.copy()
    top = len(data) - 1
    b0 = np.take(data, start, mode="clip")
    bl = np.take(data, end - 1, mode="clip")
    lead = _WS1[b0]
    lead &= ~empty
    trail = _WS1[bl]
    trail &= ~empty
    # multi-byte spaces (U+00A0 = C2 A0, U+3000 = E3 80 80): only where the edge byte could be one
    length = end - start

    def at(pos):
        return data[np.clip(pos, 0, top)]

    c = np.flatnonzero(((b0 == 0xC2) | (b0 == 0xE3)) & (length >= 2))
    if len(c):
        s0 = start[c]
        lead[c] = ((b0[c] == 0xC2) & (at(s0 + 1) == 0xA0)) | (
            (b0[c] == 0xE3) & (length[c] >= 3) & (at(s0 + 1) == 0x80) & (at(s0 + 2) == 0x80)
        )
    c = np.flatnonzero(((bl == 0xA0) | (bl == 0x80)) & (length >= 2))
    if len(c):
        e0 = end[c]
        trail[c] = ((bl[c] == 0xA0) & (at(e0 - 2) == 0xC2)) | (
            (bl[c] == 0x80) & (length[c] >= 3) & (at(e0 - 2) == 0x80) & (at(e0 - 3) == 0xE3)
        )
    if strings.null_count:
        valid = _bool(pc.is_valid(strings))
        empty &= valid
        lead &= valid
        trail &= valid
    return empty, lead, trail


def byte_lengths(strings: pa.Array) -> np.ndarray:
    """UTF-8 byte lengths (0 for nulls), straight from the offsets."""
    if isinstance(strings, pa.ChunkedArray):
        strings = strings.combine_chunks()
    if pa.types.is_string(strings.type):
        off = np.frombuffer(strings.buffers()[1], dtype=np.int32)[strings.offset : strings.offset + len(strings) + 1]
        return np.diff(off).astype(np.int64)
    return str_lengths(strings)


def too_long(strings: pa.Array, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """(mask of strings longer than ``limit`` code points, their lengths where computed)."""
    blen = byte_lengths(strings)
    cand = blen > limit  # a string of ≤ limit bytes has ≤ limit characters
    if not cand.any():
        return cand, blen
    lengths = blen.copy()
    idx = np.flatnonzero(cand)
    lengths[idx] = str_lengths(pc.take(strings, pa.array(idx)))
    return lengths > limit, lengths


def str_lengths(strings: pa.Array) -> np.ndarray:
    """Code-point lengths (0 for nulls)."""
    out = pc.utf8_length(strings)
    if out.null_count:
        out = pc.fill_null(out, 0)
    return out.to_numpy(zero_copy_only=False)


# ------------------------------------------------------------------------------------- formats
_DATE_RE2 = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}\z"


_DTCN_RE2 = r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\z"


_RFC3339_RE2 = (  # RFC 3339 §5.6: T and Z in either case, a leap second 60 (its UTC 23:59 rule below)
    r"^[0-9]{4}-(0[1-9]|1[0-2])-[0-9]{2}[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)"
    r"(\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])\z"
)


_DATE_PY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


_DTCN_PY = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2})")


_RFC3339_PY = re.compile(
    r"([0-9]{4})-(0[1-9]|1[0-2])-([0-9]{2})[Tt]([01][0-9]|2[0-3]):([0-5][0-9]):"
    r"([0-5][0-9]|60)(?:\.[0-9]+)?(?:[Zz]|([+-])([01][0-9]|2[0-3]):([0-5][0-9]))"
)


def fixed_width(strings: pa.Array, width: int, candidates: np.ndarray | None = None):
    """(positions, k×width uint8 matrix) of the strings exactly ``width`` bytes long.

    Reads the Arrow data buffer directly: no Python objects for the selected strings.
    """
    if isinstance(strings, pa.Array) and pa.types.is_string(strings.type):
        ok = byte_lengths(strings) == width  # from the offsets: no Arrow kernel call
        if strings.null_count:
            ok &= _bool(pc.is_valid(strings))
    else:
        ok = _bool(pc.equal(pc.binary_length(strings), width))
    if candidates is not None:
        ok &= candidates
    idx = np.flatnonzero(ok)
    if not len(idx):
        return idx, np.zeros((0, width), dtype=np.uint8)
    sel = strings if len(idx) == len(strings) else pc.take(strings, pa.array(idx))
    if isinstance(sel, pa.ChunkedArray):
        sel = sel.combine_chunks()
    offsets = np.frombuffer(sel.buffers()[1], dtype=np.int32)[sel.offset : sel.offset + len(sel) + 1]
    data = np.frombuffer(sel.buffers()[2], dtype=np.uint8)
    start = int(offsets[0])
    if int(offsets[-1]) - start != width * len(idx):  # pragma: no cover - defensive
        sel = pa.concat_arrays([pc.take(strings, pa.array(idx))])
        offsets = np.frombuffer(sel.buffers()[1], dtype=np.int32)[sel.offset : sel.offset + len(sel) + 1]
        data = np.frombuffer(sel.buffers()[2], dtype=np.uint8)
        start = int(offsets[0])
    return idx, data[start : start + width * len(idx)].reshape(len(idx), width)


def _real_date(y, m, d) -> np.ndarray:
    """Is (y, m, d) a real calendar date (year ≥ 1)? Vectorised; leap years only checked on 29 Feb."""
    mm = np.clip(m, 0, 12)
    dim = _MDAYS29[mm]
    ok = (y >= 1) & (m >= 1) & (m <= 12) & (d >= 1) & (d <= dim)
    feb29 = np.flatnonzero(ok & (mm == 2) & (d == 29))
    if len(feb29):
        yy = np.asarray(y)[feb29].astype(np.int64)
        ok[feb29] = (yy % 4 == 0) & ((yy % 100 != 0) | (yy % 400 == 0))
    return ok


_MDAYS29 = np.array([0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def _fields(m: np.ndarray, spans: list[tuple[int, int]]) -> list[np.ndarray]:
    """The numbers written in byte columns ``spans`` of a digit matrix (int32 arithmetic)."""
    d = m - np.uint8(48)  # non-digits wrap to ≥ 10; callers check the layout separately
    out = []
    for a, b in spans:
        v = d[:, a].astype(np.int32)
        for j in range(a + 1, b):
            v *= 10
            v += d[:, j]
        out.append(v)
    return out


def _layout_ok(m: np.ndarray, layout: str) -> np.ndarray:
    """Rows of ``m`` whose bytes fit ``layout`` ('9' = ASCII digit, other chars literal)."""
    lo = np.array([48 if c == "9" else ord(c) for c in layout], dtype=np.uint8)
    span = np.array([9 if c == "9" else 0 for c in layout], dtype=np.uint8)
    return ((m - lo) <= span).all(axis=1)  # uint8 wrap-around: below lo becomes large


def format_masks(strings: pa.Array, fmt: str) -> tuple[np.ndarray, np.ndarray]:
    """(shape_ok, value_ok) per cell for format ``date``/``date-time``/``date-time-cn``.

    ``shape_ok``: the text has the right layout; ``value_ok``: it is also a real date/time.
    Null cells count as ok (formats only apply to strings). Fixed-width layouts are checked on
    the raw bytes (vectorised); RFC 3339 ``date-time`` uses a regex for its optional parts.
    """
    n = len(strings)
    shape = np.zeros(n, dtype=bool)
    value = np.zeros(n, dtype=bool)
    if fmt in ("date", "date-time-cn"):
        layout = "9999-99-99" if fmt == "date" else "9999-99-99 99:99:99"
        idx, m = fixed_width(strings, len(layout))
        if len(idx):
            lay = _layout_ok(m, layout)
            if fmt == "date":
                y, mo, d = _fields(m, [(0, 4), (5, 7), (8, 10)])
                val = lay & _real_date(y, mo, d)
            else:
                y, mo, d, hh, mi, ss = _fields(m, [(0, 4), (5, 7), (8, 10), (11, 13), (14, 16), (17, 19)])
                val = lay & _real_date(y, mo, d) & (hh < 24) & (mi < 60) & (ss < 60)
            shape[idx] = lay
            value[idx] = val
    elif fmt == "date-time":
        shape = _bool(pc.match_substring_regex(strings, _RFC3339_RE2))
        leap = shape & _bool(pc.equal(pc.utf8_slice_codeunits(strings, 17, 19), "60"))
        for i in np.flatnonzero(leap):  # rare: a leap second is only valid at 23:59 UTC
            shape[i] = _check_rfc3339(strings[int(i)].as_py())
        heads = pc.utf8_slice_codeunits(strings, 0, 10)
        hidx, hm = fixed_width(heads, 10, shape)
        if len(hidx):
            y, mo, d = _fields(hm, [(0, 4), (5, 7), (8, 10)])
            value[hidx] = _real_date(y, mo, d)
    else:  # pragma: no cover - guarded at compile time
        raise SchemaUnsupported(f"不支持的 format {fmt!r}")
    isnull = _bool(pc.is_null(strings)) if strings.null_count else np.zeros(n, dtype=bool)
    return shape | isnull, value | isnull


def _check_date(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    if not _DATE_PY.fullmatch(instance):
        return False
    y, m, d = int(instance[:4]), int(instance[5:7]), int(instance[8:10])
    return y >= 1 and 1 <= m <= 12 and 1 <= d <= calendar.monthrange(y, m)[1]


def _check_dtcn(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    mt = _DTCN_PY.fullmatch(instance)
    if not mt:
        return False
    return _check_date(mt.group(1)) and int(mt.group(2)) < 24 and int(mt.group(3)) < 60 and int(mt.group(4)) < 60


def _check_rfc3339(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    mt = _RFC3339_PY.fullmatch(instance)
    if not mt:
        return False
    y, m, d = int(mt.group(1)), int(mt.group(2)), int(mt.group(3))
    if not (y >= 1 and 1 <= d <= calendar.monthrange(y, m)[1]):
        return False
    return mt.group(6) != "60" or _leap_second_at_utc_midnight(mt)


def _leap_second_at_utc_midnight(mt: re.Match) -> bool:
    """A leap second (``:60``) exists only as 23:59:60 UTC: the local time minus its offset."""
    local = int(mt.group(4)) * 60 + int(mt.group(5))
    offset = (
        0 if mt.group(7) is None else (int(mt.group(8)) * 60 + int(mt.group(9))) * (1 if mt.group(7) == "+" else -1)
    )
    return (local - offset) % 1440 == 23 * 60 + 59
