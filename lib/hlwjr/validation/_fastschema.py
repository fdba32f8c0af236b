"""Compiled, column-wise JSON Schema validation (快速校验) for a keyword subset.

``fast_validate(schema, records)`` validates a pandas DataFrame or a list of dicts against a JSON
Schema (Draft 2020-12 semantics) and returns one row per problem — *every* problem, not the
first. It works a column at a time: each property becomes a typed column view (a per-cell
"JSON kind" code, an Arrow string array, a float array), and each keyword becomes one vectorised
mask (Arrow compute / NumPy); Python only touches the failing cells. Per-record pure-Python
``jsonschema`` remains the oracle in the tests.

Supported keywords: ``type``, ``required``, ``properties``, ``maxLength``, ``minLength``, ``enum``,
``const``, ``pattern``, ``minimum``, ``maximum``, ``exclusiveMinimum``, ``exclusiveMaximum``,
``format`` (``date``, ``date-time``, ``date-time-cn``), ``items``, ``minItems``, ``maxItems``;
annotations (``title``, ``description``, ``$schema``, ``$id``, ``$comment``, ``examples``,
``default``, ``deprecated``, ``readOnly``, ``writeOnly`` and ``x-…`` extensions) are ignored as
JSON Schema says. Any other keyword raises :class:`hlwjr.SchemaUnsupported` naming the keyword and
its schema path — it is never silently ignored.

Semantics kept on purpose (the traps that make fast validators disagree):

* JSON null is not a missing property: ``{"a": null}`` satisfies ``required: ["a"]`` and fails
  ``type: string``. In a DataFrame there is no JSON null: NaN / None / pd.NA mean "missing".
* ``true`` is not an integer; ``1.0`` is an integer; ``enum: [1]`` accepts ``1.0`` but not ``true``.
* ``pattern`` is an ECMA-262 regex searched (not anchored) in the string: ``$`` matches only at the
  very end (not before a trailing ``"\\n"``), ``\\d`` is ``[0-9]`` (full-width digits do not
  match), ``.`` does not match line terminators. Features ECMA and Python/RE2 disagree on
  (lookaround, backreferences, ``\\Z``/``\\A``, possessive quantifiers, atomic groups, inline flags,
  ``\\p{…}``) raise :class:`SchemaUnsupported`.
* ``format`` is asserted (like ``jsonschema`` with :data:`FORMAT_CHECKER`): ``date`` is a real
  calendar date ``YYYY-MM-DD`` (no 2024-02-30), ``date-time`` is RFC 3339, ``date-time-cn`` is
  ``YYYY-MM-DD HH:MM:SS`` with a real date and time. Unknown formats raise SchemaUnsupported.
* ``maxLength``/``minLength`` count Unicode code points.
"""

from __future__ import annotations

import calendar
import functools
import itertools
import json
import math
import operator
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._exceptions import DataError, SchemaUnsupported
from ._numbers import is_out_of_range, number_text, out_of_range_text

__all__ = ["FORMAT_CHECKER", "SUPPORTED_KEYWORDS", "fast_validate", "translate_pattern"]  # noqa: F822 (lazy)

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
            if np.isin(kinds, (STR, MISSING)).all():
                vals = self._strings.take(pa.array(idx, type=pa.int64())).to_pylist()
                out = _object_array(vals)
                out[kinds == MISSING] = _MISSING
                return out
        return self.obj[idx]

    def edges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(empty, leading whitespace, trailing whitespace) per cell, from the raw UTF-8 bytes."""
        e = self.cache.get("edges")
        if e is None:
            e = self.cache["edges"] = edge_space(self.strings())
        return e

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
        key = ("format", fmt)
        r = self.cache.get(key)
        if r is None:
            r = self.cache[key] = format_masks(self.strings(), fmt)
        return r

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
            idx = np.flatnonzero(np.isin(self.kind, _NUMERIC))
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
                m = np.isin(self.kind, _NUMERIC) & (np.abs(self.numbers()) >= _EXACT_LIMIT)
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
            out[redo] = [bool(op(v, bound)) for v in self.at(redo)]
        return out

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


# --------------------------------------------------------------------------- ECMA-262 regexes
_ECMA_SPACE = "\\t\\n\\x0b\\f\\r \\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"
_CLASS_ESC = {
    # escape: (re2 inside class, python inside class, re2 negated class, python negated class)
    "d": ("0-9", "0-9"),
    "w": ("A-Za-z0-9_", "A-Za-z0-9_"),
    "s": (None, _ECMA_SPACE),
}


def _re2_codepoints(py_class: str) -> str:
    """``\\uXXXX`` / ``\\xHH`` escapes in a Python class body → RE2 ``\\x{…}``."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", r"\\x{\1}", py_class)


@functools.lru_cache(maxsize=4096)
def translate_pattern(pattern: str, where: str = "pattern") -> tuple[str, str]:
    """Translate an ECMA-262 ``pattern`` into (RE2 for Arrow, Python ``re``) with ECMA semantics.

    Raises :class:`SchemaUnsupported` for features the two engines would read differently.
    """

    def unsupported(what: str) -> SchemaUnsupported:
        return SchemaUnsupported(
            f"正则表达式 {pattern!r} 使用了不支持的特性：{what}（fast_validate 只支持 ECMA-262 与 "
            f"Python/RE2 语义一致的子集）/ unsupported regex feature: {what}",
            where=where,
        )

    re2: list[str] = []
    py: list[str] = []
    i, n = 0, len(pattern)
    in_class = False
    class_start = 0
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= n:
                raise unsupported("末尾孤立的反斜杠 (trailing backslash)")
            e = pattern[i + 1]
            i += 2
            if e in "dws":
                body = _CLASS_ESC[e][1]
                body2 = _re2_codepoints(body)
                if in_class:
                    re2.append(body2)
                    py.append(body)
                else:
                    re2.append(f"[{body2}]")
                    py.append(f"[{body}]")
            elif e in "DWS":
                body = _CLASS_ESC[e.lower()][1]
                if in_class:
                    raise unsupported(f"字符类中的 \\{e}")
                re2.append(f"[^{_re2_codepoints(body)}]")
                py.append(f"[^{body}]")
            elif e in "bB":
                if in_class:
                    raise unsupported("字符类中的 \\b")
                re2.append("\\" + e)
                py.append(
                    "(?:(?<![A-Za-z0-9_])(?=[A-Za-z0-9_])|(?<=[A-Za-z0-9_])(?![A-Za-z0-9_]))"
                    if e == "b"
                    else "(?:(?<![A-Za-z0-9_])(?![A-Za-z0-9_])|(?<=[A-Za-z0-9_])(?=[A-Za-z0-9_]))"
                )
            elif e in "nrtf":
                re2.append("\\" + e)
                py.append("\\" + e)
            elif e == "v":
                re2.append("\\x0b")
                py.append("\\x0b")
            elif e == "0":
                if i < n and pattern[i].isdigit():
                    raise unsupported("八进制转义 (octal escape)")
                re2.append("\\x00")
                py.append("\\x00")
            elif e == "x":
                hexd = pattern[i : i + 2]
                if not re.fullmatch(r"[0-9a-fA-F]{2}", hexd):
                    raise unsupported("不完整的 \\x 转义")
                re2.append("\\x" + hexd)
                py.append("\\x" + hexd)
                i += 2
            elif e == "u":
                hexd = pattern[i : i + 4]
                if not re.fullmatch(r"[0-9a-fA-F]{4}", hexd):
                    raise unsupported("\\u{…} 或不完整的 \\u 转义")
                if 0xD800 <= int(hexd, 16) <= 0xDFFF:
                    raise unsupported("代理项 \\u 转义 (surrogate escape)")
                re2.append("\\x{" + hexd + "}")
                py.append("\\u" + hexd)
                i += 4
            elif e.isdigit():
                raise unsupported("反向引用 (backreference)")
            elif e == "k":
                raise unsupported("命名反向引用 \\k<…>")
            elif e in "pP":
                raise unsupported("Unicode 属性转义 \\p{…}")
            elif e in "AZzGc":
                raise unsupported(f"\\{e}（非 ECMA-262 语法）")
            elif e.isalnum() or e == "_":
                raise unsupported(f"未知转义 \\{e}")
            else:  # escaped punctuation: the character itself
                re2.append("\\" + e)
                py.append(re.escape(e))
            continue
        if in_class:
            if c == "]" and i > class_start:
                in_class = False
            elif c == "[":
                if pattern.startswith("[:", i):
                    raise unsupported("POSIX 字符类 [:…:]")
                re2.append("\\[")
                py.append("\\[")
                i += 1
                continue
            re2.append(c)
            py.append(c)
            i += 1
            continue
        if c == "[":
            if pattern.startswith("[]", i):
                raise unsupported("空字符类 []")
            if pattern.startswith("[^]", i):
                re2.append("(?s:.)")
                py.append("(?s:.)")
                i += 3
                continue
            in_class = True
            re2.append(c)
            py.append(c)
            i += 1
            class_start = i + (1 if pattern.startswith("^", i) else 0)
            if pattern.startswith("^", i):
                re2.append("^")
                py.append("^")
                i += 1
            continue
        if c == "(":
            if pattern.startswith("(?", i):
                rest = pattern[i + 2 : i + 4]
                if rest.startswith(":"):
                    re2.append("(?:")
                    py.append("(?:")
                    i += 3
                    continue
                if rest.startswith("<") and not rest.startswith(("<=", "<!")):
                    m = re.match(r"\(\?<([A-Za-z_][A-Za-z0-9_]*)>", pattern[i:])
                    if not m:
                        raise unsupported("命名分组名称")
                    re2.append(f"(?P<{m.group(1)}>")
                    py.append(f"(?P<{m.group(1)}>")
                    i += m.end()
                    continue
                what = {
                    "=": "先行断言 (lookahead)",
                    "!": "否定先行断言 (negative lookahead)",
                    "<": "后行断言 (lookbehind)",
                    ">": "原子分组 (atomic group)",
                    "P": "Python 命名分组 (?P…)",
                }.get(rest[:1], "内联标志 (inline flags)")
                raise unsupported(what)
            re2.append(c)
            py.append(c)
            i += 1
            continue
        if c in "*+?}":
            nxt = pattern[i + 1] if i + 1 < n else ""
            if nxt == "+":
                raise unsupported("占有量词 (possessive quantifier)")
            if c == "}" or c in "*+?":
                re2.append(c)
                py.append(c)
                i += 1
                continue
        if c == "{":
            m = re.match(r"\{(\d*)(,?)(\d*)\}", pattern[i:])
            if m and not m.group(1):
                raise unsupported("量词 {,n}（ECMA 视为字面量）")
            if not m:
                raise unsupported("字面量 {（请写作 \\{）")
            re2.append(m.group(0))
            py.append(m.group(0))
            i += m.end()
            continue
        if c == ".":
            re2.append("[^\\n\\r\\x{2028}\\x{2029}]")
            py.append("[^\\n\\r\\u2028\\u2029]")
        elif c == "$":
            re2.append("\\z")
            py.append("\\Z")
        elif c == "^":
            re2.append("^")
            py.append("^")
        else:
            re2.append(c)
            py.append(c)
        i += 1
    if in_class:
        raise unsupported("未闭合的字符类 [")
    re2_s, py_s = "".join(re2), "".join(py)
    try:
        re.compile(py_s)
    except re.error as exc:
        raise SchemaUnsupported(f"正则表达式 {pattern!r} 无法编译：{exc}", where=where) from exc
    try:
        pc.match_substring_regex(pa.array([""], type=pa.string()), re2_s)
    except pa.ArrowException as exc:
        raise SchemaUnsupported(f"正则表达式 {pattern!r} 无法编译：{exc}", where=where) from exc
    return re2_s, py_s


def regex_search(strings: pa.Array, pattern: str, where: str = "pattern") -> np.ndarray:
    """Where the ECMA ``pattern`` matches somewhere in the string (False for nulls)."""
    re2, _ = translate_pattern(pattern, where)
    out = pc.match_substring_regex(strings, re2)
    return (
        out.to_numpy(zero_copy_only=False).astype(bool, copy=False)
        if out.null_count == 0
        else pc.fill_null(out, False).to_numpy(zero_copy_only=False)
    )


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
    blen = pc.binary_length(strings)
    ok = _bool(pc.equal(blen, width))
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


def _build_format_checker():
    from jsonschema import FormatChecker

    checker = FormatChecker(formats=())
    checker.checks("date")(_check_date)
    checker.checks("date-time")(_check_rfc3339)
    checker.checks("date-time-cn")(_check_dtcn)
    return checker


def __getattr__(name: str):
    # FORMAT_CHECKER: a ``jsonschema.FormatChecker`` for ``date``, ``date-time`` (RFC 3339) and
    # ``date-time-cn`` (``YYYY-MM-DD HH:MM:SS``, a real calendar date and time) with exactly the
    # semantics of :func:`fast_validate`, so plain ``jsonschema`` agrees with the fast path.
    # Built on first use: importing jsonschema's format module costs about a second.
    if name == "FORMAT_CHECKER":
        checker = _build_format_checker()
        globals()["FORMAT_CHECKER"] = checker
        return checker
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


FORMATS = ("date", "date-time", "date-time-cn")

# ------------------------------------------------------------------------------- compilation
SUPPORTED_KEYWORDS = frozenset(
    {
        "type",
        "required",
        "properties",
        "maxLength",
        "minLength",
        "enum",
        "const",
        "pattern",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "format",
        "items",
        "minItems",
        "maxItems",
    }
)
ANNOTATIONS = frozenset(
    {"title", "description", "$schema", "$id", "$comment", "examples", "default", "deprecated", "readOnly", "writeOnly"}
)


@dataclass
class _Node:
    path: str
    always_false: bool = False
    types: tuple[str, ...] | None = None
    required: tuple[str, ...] = ()
    properties: dict[str, _Node] = field(default_factory=dict)
    max_length: int | None = None
    min_length: int | None = None
    enum: tuple | None = None
    const: tuple | None = None  # (value,) when present
    pattern: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: float | None = None
    exclusive_maximum: float | None = None
    format: str | None = None
    items: _Node | None = None
    min_items: int | None = None
    max_items: int | None = None


def _nonneg_int(value, kw, where) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or value != int(value):
        raise SchemaUnsupported(f"关键字 {kw} 的值应为非负整数，实际为 {value!r}", where=where)
    return int(value)


def _number(value, kw, where) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SchemaUnsupported(f"关键字 {kw} 的值应为数字，实际为 {value!r}", where=where)
    return value


def compile_schema(schema: Any, path: str = "#") -> _Node:
    """Check ``schema`` uses only the supported subset and turn it into a node tree."""
    if schema is True:
        return _Node(path)
    if schema is False:
        return _Node(path, always_false=True)
    if not isinstance(schema, dict):
        raise SchemaUnsupported(f"模式应为对象或布尔值，实际为 {type(schema).__name__}", where=path)
    node = _Node(path)
    for kw, value in schema.items():
        where = f"{path}/{kw}"
        if kw in ANNOTATIONS or kw.startswith("x-"):
            continue
        if kw not in SUPPORTED_KEYWORDS:
            raise SchemaUnsupported(
                f"不支持的 JSON Schema 关键字 {kw!r}（fast_validate 支持：{', '.join(sorted(SUPPORTED_KEYWORDS))}）"
                f" / unsupported keyword {kw!r}",
                where=where,
            )
        if kw == "type":
            types = (value,) if isinstance(value, str) else tuple(value) if isinstance(value, list) else None
            if not types or any(t not in TYPE_KINDS for t in types):
                raise SchemaUnsupported(f"type 的值无效：{value!r}", where=where)
            node.types = types
        elif kw == "required":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise SchemaUnsupported("required 应为字符串数组", where=where)
            node.required = tuple(dict.fromkeys(value))
        elif kw == "properties":
            if not isinstance(value, dict):
                raise SchemaUnsupported("properties 应为对象", where=where)
            node.properties = {k: compile_schema(v, f"{where}/{k}") for k, v in value.items()}
        elif kw == "maxLength":
            node.max_length = _nonneg_int(value, kw, where)
        elif kw == "minLength":
            node.min_length = _nonneg_int(value, kw, where)
        elif kw == "minItems":
            node.min_items = _nonneg_int(value, kw, where)
        elif kw == "maxItems":
            node.max_items = _nonneg_int(value, kw, where)
        elif kw == "enum":
            if not isinstance(value, list):
                raise SchemaUnsupported("enum 应为数组", where=where)
            node.enum = tuple(value)
        elif kw == "const":
            node.const = (value,)
        elif kw == "pattern":
            if not isinstance(value, str):
                raise SchemaUnsupported("pattern 应为字符串", where=where)
            translate_pattern(value, where)
            node.pattern = value
        elif kw == "minimum":
            node.minimum = _number(value, kw, where)
        elif kw == "maximum":
            node.maximum = _number(value, kw, where)
        elif kw == "exclusiveMinimum":
            node.exclusive_minimum = _number(value, kw, where)
        elif kw == "exclusiveMaximum":
            node.exclusive_maximum = _number(value, kw, where)
        elif kw == "format":
            if value not in FORMATS:
                raise SchemaUnsupported(f"不支持的 format {value!r}（支持：{', '.join(FORMATS)}）", where=where)
            node.format = value
        elif kw == "items":
            if isinstance(value, list):
                raise SchemaUnsupported(
                    "items 为数组（元组校验）不受支持，请用 prefixItems 以外的单一模式", where=where
                )
            node.items = compile_schema(value, where)
    return node


@functools.lru_cache(maxsize=256)
def _compile_cached(schema_json: str) -> _Node:
    return compile_schema(json.loads(schema_json))


def _compiled(schema) -> _Node:
    try:
        key = json.dumps(schema, sort_keys=True, ensure_ascii=False)
    except (TypeError, ValueError):
        return compile_schema(schema)
    return _compile_cached(key)


# -------------------------------------------------------------------------------- evaluation
class _Sink:
    """Collects problems as column chunks (arrays), concatenated once at the end."""

    def __init__(self) -> None:
        self.chunks: list[tuple] = []

    def add(self, rows: np.ndarray, paths, field, keyword: str, message: str, values) -> None:
        if len(rows):
            self.chunks.append((rows, paths, field, keyword, message, values))

    def frame(self, top_fields: bool = True):
        import pandas as pd

        cols = {"row": [], "field": [], "path": [], "keyword": [], "message": [], "value": []}
        for rows, paths, fld, kw, msg, values in self.chunks:
            k = len(rows)
            cols["row"].append(rows)
            cols["field"].append(np.full(k, fld, dtype=object) if not isinstance(fld, np.ndarray) else fld)
            cols["path"].append(np.full(k, paths, dtype=object) if not isinstance(paths, np.ndarray) else paths)
            cols["keyword"].append(np.full(k, kw, dtype=object))
            cols["message"].append(np.full(k, msg, dtype=object) if not isinstance(msg, np.ndarray) else msg)
            cols["value"].append(values)
        if not cols["row"]:
            return pd.DataFrame(
                {
                    "row": pd.Series([], dtype="int64"),
                    **{c: pd.Series([], dtype=object) for c in ("field", "path", "keyword", "message", "value")},
                }
            )
        out = pd.DataFrame(
            {
                c: np.concatenate(v).astype(np.int64) if c == "row" else pd.Series(np.concatenate(v), dtype=object)
                for c, v in cols.items()
            }
        )
        out = out.sort_values(["row"], kind="stable").reset_index(drop=True)
        return out


def _display(values: np.ndarray) -> np.ndarray:
    """Failing values as masked display strings (JSON text for non-strings)."""
    from .._privacy import mask_value

    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        if v is _MISSING:
            out[i] = None
        elif isinstance(v, str):
            out[i] = mask_value(v)
        elif is_out_of_range(v) or (isinstance(v, int) and not isinstance(v, bool) and v.bit_length() > 64):
            out[i] = number_text(v)
        else:
            try:
                text = json.dumps(v, ensure_ascii=False, default=str)
            except (TypeError, ValueError):
                text = str(v)
            out[i] = mask_value(text if len(text) <= 200 else text[:197] + "...")
    return out


def json_equal(a, b) -> bool:
    """JSON equality: ``1 == 1.0``, ``True != 1``, arrays/objects compared deeply."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if a is None or b is None:
        return a is None and b is None
    return type(a) is type(b) and a == b


def member_mask(col: Column, members: tuple) -> np.ndarray:
    """Which cells equal one of ``members`` under JSON equality (missing cells: True)."""
    kind = col.kind
    ok = kind == MISSING
    strs = [m for m in members if isinstance(m, str)]
    nums = [m for m in members if isinstance(m, (int, float)) and not isinstance(m, bool)]
    bools = {m for m in members if isinstance(m, bool)}
    is_str = kind == STR
    if strs and is_str.any():
        ok |= is_str & _bool(pc.is_in(col.strings(), value_set=pa.array(strs, type=pa.string())))
    is_num = np.isin(kind, _NUMERIC)
    if nums and is_num.any():
        ok |= is_num & np.isin(col.numbers(), np.array(nums, dtype=np.float64))
    if bools:
        idx = np.flatnonzero(kind == BOOL)
        if len(idx):
            ok[idx] = [bool(v) in bools for v in col.obj[idx]]
    if any(m is None for m in members):
        ok |= kind == NULL
    complex_members = [m for m in members if isinstance(m, (list, dict))]
    if complex_members:
        idx = np.flatnonzero((kind == LIST) | (kind == DICT))
        for i in idx:
            v = col.obj[i]
            ok[i] = any(json_equal(v, m) for m in complex_members)
    return ok


def _fmt_num(x) -> str:
    return str(int(x)) if isinstance(x, float) and x.is_integer() else str(x)


def _evaluate(
    node: _Node, col: Column, rows: np.ndarray, paths: np.ndarray | str, field: np.ndarray | str, sink: _Sink
) -> None:
    """Apply ``node`` to every present cell of ``col``.

    ``rows``: top-level record number of each cell; ``paths``: the JSON path of each cell
    (``a[2].b`` style); ``field``: the top-level property each cell belongs to.
    """
    kind = col.kind
    present = kind != MISSING
    if not present.any():
        return

    def pick(mask):
        idx = np.flatnonzero(mask)
        return idx

    def emit(idx, keyword, message):
        if len(idx):
            sink.add(
                rows[idx],
                paths if isinstance(paths, str) else paths[idx],
                field if isinstance(field, str) else field[idx],
                keyword,
                message,
                _display(col.at(idx)),
            )

    if node.always_false:
        emit(pick(present), "false", "任何值都不允许（模式为 false）")
        return
    if node.types is not None:
        allowed = np.isin(kind, [k for t in node.types for k in TYPE_KINDS[t]])
        bad = present & ~allowed
        if bad.any():
            idx = pick(bad)
            want = " 或 ".join(node.types)
            got = np.array(
                [
                    f"类型应为 {want}，实际为{out_of_range_text(v)}"
                    if k == OTHER and is_out_of_range(v)
                    else f"类型应为 {want}，实际为 {KIND_NAMES[k]}（{KIND_CN.get(k, '')}）"
                    for k, v in zip(kind[idx], col.at(idx))
                ],
                dtype=object,
            )
            sink.add(
                rows[idx],
                paths if isinstance(paths, str) else paths[idx],
                field if isinstance(field, str) else field[idx],
                "type",
                got,
                _display(col.at(idx)),
            )
    is_str = kind == STR
    if is_str.any() and (
        node.max_length is not None
        or node.min_length is not None
        or node.pattern is not None
        or node.format is not None
    ):
        strings = col.strings()
        if node.max_length is not None or node.min_length is not None:
            lengths = str_lengths(strings)
            if node.max_length is not None:
                emit(pick(is_str & (lengths > node.max_length)), "maxLength", f"长度超过 maxLength {node.max_length}")
            if node.min_length is not None:
                emit(pick(is_str & (lengths < node.min_length)), "minLength", f"长度不足 minLength {node.min_length}")
        if node.pattern is not None:
            ok = regex_search(strings, node.pattern, node.path + "/pattern")
            emit(pick(is_str & ~ok), "pattern", f"不匹配正则 pattern {node.pattern}")
        if node.format is not None:
            _, value_ok = format_masks(strings, node.format)
            emit(pick(is_str & ~value_ok), "format", f"不是有效的 {node.format} 格式/日期")
    if node.enum is not None:
        emit(pick(present & ~member_mask(col, node.enum)), "enum", "不在枚举值 enum 范围内")
    if node.const is not None:
        emit(
            pick(present & ~member_mask(col, node.const)),
            "const",
            f"应等于常量 const {json.dumps(node.const[0], ensure_ascii=False)}",
        )
    if (
        node.minimum is not None
        or node.maximum is not None
        or node.exclusive_minimum is not None
        or node.exclusive_maximum is not None
    ):
        is_num = np.isin(kind, _NUMERIC)
        if is_num.any():
            for kw, bound, op in (
                ("minimum", node.minimum, operator.lt),
                ("maximum", node.maximum, operator.gt),
                ("exclusiveMinimum", node.exclusive_minimum, operator.le),
                ("exclusiveMaximum", node.exclusive_maximum, operator.ge),
            ):
                if bound is not None:
                    emit(pick(col.compare(is_num, op, bound)), kw, f"超出范围：{kw} {_fmt_num(bound)}")
    is_list = kind == LIST
    is_dict = kind == DICT
    if is_list.any() and (node.min_items is not None or node.max_items is not None or node.items is not None):
        lidx = np.flatnonzero(is_list)
        lists = col.obj[lidx]
        lens = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
        if node.min_items is not None:
            emit(lidx[lens < node.min_items], "minItems", f"数组元素个数少于 minItems {node.min_items}")
        if node.max_items is not None:
            emit(lidx[lens > node.max_items], "maxItems", f"数组元素个数多于 maxItems {node.max_items}")
        if node.items is not None and lens.sum():
            parent = np.repeat(lidx, lens)
            pos = np.arange(lens.sum()) - np.repeat(np.cumsum(lens) - lens, lens)
            flat = [v for lst in lists for v in lst]
            child = Column.from_objects(flat)
            base = np.full(len(parent), paths, dtype=object) if isinstance(paths, str) else paths[parent]
            child_paths = _join_index(base, pos)
            _evaluate(
                node.items, child, rows[parent], child_paths, field if isinstance(field, str) else field[parent], sink
            )
    if is_dict.any() and (node.required or node.properties):
        didx = np.flatnonzero(is_dict)
        dicts = col.obj[didx]
        base = np.full(len(didx), paths, dtype=object) if isinstance(paths, str) else paths[didx]
        sub_rows = rows[didx]
        sub_field = field if isinstance(field, str) else field[didx]
        for name in node.required:
            has = np.fromiter((name in d for d in dicts), dtype=bool, count=len(dicts))
            miss = np.flatnonzero(~has)
            if len(miss):
                sink.add(
                    sub_rows[miss],
                    _join_key(base[miss], name),
                    sub_field if isinstance(sub_field, str) else sub_field[miss],
                    "required",
                    f"缺少必填属性 {name}",
                    np.full(len(miss), None, dtype=object),
                )
        for name, sub in node.properties.items():
            vals = column_of(list(dicts), name)
            sub_col = Column.from_objects(vals)
            if (sub_col.kind != MISSING).any():
                _evaluate(sub, sub_col, sub_rows, _join_key(base, name), sub_field, sink)


def _join_index(base: np.ndarray, pos: np.ndarray) -> np.ndarray:
    return np.array([f"{b}[{p}]" for b, p in zip(base, pos)], dtype=object)


def _join_key(base: np.ndarray, name: str) -> np.ndarray:
    return np.array([f"{b}.{name}" if b else name for b in base], dtype=object)


def fast_validate(schema: dict, records) -> pd.DataFrame:  # noqa: F821
    """Validate ``records`` against a JSON Schema of the supported subset; every problem, one row each.

    ``records``: a pandas DataFrame (one column per property; NaN/None/NA = missing) or a list of
    dicts (a missing key is missing, ``None`` is JSON null). Returns a DataFrame with columns
    ``row`` (0-based record number), ``field`` (top-level property, None for the record itself),
    ``path`` (``orderList[2].dosage`` style, None for the record itself), ``keyword``,
    ``message`` (Chinese) and ``value`` (the offending value, ID/phone masked), sorted by row.

    Raises :class:`hlwjr.SchemaUnsupported` for keywords/regex features outside the subset.
    """
    import pandas as pd

    node = _compiled(schema)
    sink = _Sink()
    if isinstance(records, pd.DataFrame):
        n = len(records)
        rows = np.arange(n)
        if node.always_false:
            sink.add(rows, None, None, "false", "任何记录都不允许（模式为 false）", np.full(n, None, dtype=object))
            return sink.frame()
        if node.types is not None and "object" not in node.types:
            sink.add(
                rows,
                None,
                None,
                "type",
                f"类型应为 {' 或 '.join(node.types)}，实际为 object",
                np.full(n, None, dtype=object),
            )
        columns = set(records.columns)
        for name in node.required:
            if name not in columns:
                sink.add(rows, name, name, "required", f"缺少必填属性 {name}", np.full(n, None, dtype=object))
            else:
                miss = np.flatnonzero(records[name].isna().to_numpy(dtype=bool))
                sink.add(miss, name, name, "required", f"缺少必填属性 {name}", np.full(len(miss), None, dtype=object))
        for name, sub in node.properties.items():
            if name in columns:
                col = records[name]
                if isinstance(col, pd.DataFrame):
                    raise DataError(f"列名 {name!r} 重复，请去掉重复的列", where=name)
                _evaluate(sub, Column.from_series(col), rows, name, name, sink)
        return sink.frame()
    if isinstance(records, dict):
        records = [records]
    try:
        records = list(records)
    except TypeError as exc:
        raise DataError(f"records 应为 DataFrame 或字典列表，实际为 {type(records).__name__}") from exc
    top = Column.from_objects(_object_array(records))
    _evaluate(
        node,
        top,
        np.arange(len(records)),
        np.full(len(records), "", dtype=object),
        np.full(len(records), None, dtype=object),
        _TopSink(sink),
    )
    frame = sink.frame()
    if len(frame):
        frame["path"] = frame["path"].where(frame["path"] != "", None)
    return frame


class _TopSink(_Sink):
    """At the top level, a problem's ``field`` is the first segment of its path."""

    def __init__(self, inner: _Sink) -> None:
        self.inner = inner

    def add(self, rows, paths, field, keyword, message, values) -> None:
        if isinstance(paths, np.ndarray):
            fields = np.array([_first_segment(p) for p in paths], dtype=object)
        else:
            fields = _first_segment(paths)
        self.inner.add(rows, paths, fields, keyword, message, values)


def _first_segment(path) -> str | None:
    if not path:
        return None
    return re.split(r"[.\[]", path, maxsplit=1)[0]
