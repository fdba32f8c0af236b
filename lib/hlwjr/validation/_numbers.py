"""JSON numbers of any size, exactly: integers stay Python ints, finite decimals stay floats, and a
number beyond the double range (``1e309``, a 401-digit integer) becomes a :class:`NumberText` — an
exact :class:`decimal.Decimal` that remembers the text it was written as.

Platforms read numbers as IEEE doubles (or 64-bit integers), so a value beyond ±1.8×10^308 can
never be accepted; the engine reports it as a ``type`` problem with its text, never as ``inf`` or
a wrapped ``-9223372036854775808``.  Comparisons with ``minimum``/``maximum`` are exact for
integers of any size (Python compares ``int`` with ``float`` exactly).
"""

from __future__ import annotations

import decimal
import json
import math
import re
import sys
from typing import Any

__all__ = [
    "FLOAT_MAX",
    "NumberText",
    "is_out_of_range",
    "json_float",
    "json_int",
    "loads_exact",
    "number_from_text",
    "number_text",
    "out_of_range_text",
]

FLOAT_MAX = sys.float_info.max
#: longest integer text turned into a Python int (Python refuses str↔int beyond 4300 digits)
_INT_DIGITS = 4000
#: nesting depth named when a document is nested deeper than the parser can read
_MAX_DEPTH = 500
_SHOW_DIGITS = 40
_NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INT_RE = re.compile(r"[+-]?[0-9]+")


class NumberText(decimal.Decimal):
    """A number kept exactly as written (``.text``): one beyond the double range, or a long
    decimal read from a file where a float would round it."""

    text: str

    def __new__(cls, text: str) -> NumberText:
        self = super().__new__(cls, text)
        self.text = text
        return self

    def __str__(self) -> str:
        return self.text

    def __format__(self, spec: str) -> str:
        return self.text if not spec else super().__format__(spec)

    def __repr__(self) -> str:
        return f"NumberText({number_text(self)!r})"


def json_int(text: str) -> int | NumberText:
    """``parse_int`` hook: a Python int, or :class:`NumberText` beyond the double range."""
    if len(text) <= _INT_DIGITS:
        v = int(text)
        if abs(v) <= FLOAT_MAX:
            return v
    return NumberText(text)


def json_float(text: str) -> float | NumberText:
    """``parse_float`` hook: a float, or :class:`NumberText` where the float would be ±inf
    (a number that underflows to 0.0 stays 0.0, as every platform reads it)."""
    v = float(text)
    return v if math.isfinite(v) else NumberText(text)


def _reject_constant(name: str):
    raise ValueError(f"{name} 不是合法的JSON数值")


def loads_exact(text: str | bytes, *, constants: bool = False) -> Any:
    """``json.loads`` with exact numbers; NaN/Infinity refused unless ``constants`` (then they
    are floats, as Python's json reads them); bytes must be UTF-8."""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8")
    hook = float if constants else _reject_constant
    try:
        return json.loads(text, parse_int=json_int, parse_float=json_float, parse_constant=hook)
    except RecursionError:  # arrays/objects nested deeper than Python's recursion limit
        raise _too_deep(text) from None


def _too_deep(text: str) -> json.JSONDecodeError:
    """A JSONDecodeError at the bracket where the nesting passes :data:`_MAX_DEPTH` (strings skipped)."""
    depth, in_string, escaped, at = 0, False, False, 0
    for pos, ch in enumerate(text):
        if escaped:
            escaped = False
        elif in_string:
            escaped, in_string = ch == "\\", ch != '"'
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > _MAX_DEPTH:
                at = pos
                break
        elif ch in "]}":
            depth -= 1
    return json.JSONDecodeError(f"数组/对象嵌套超过 {_MAX_DEPTH} 层，无法读取；请检查这是否是记录导出文件", text, at)


def number_from_text(text: str, *, exact: bool = False) -> int | float | NumberText | None:
    """A cell's text as a number (``"12"`` → 12, ``"1.5e3"`` → 1500.0, 400 digits → NumberText),
    or None when it is not a plain number (spaces, units, ``inf``, ``nan`` and ``0x1F`` are text).
    ``exact``: a decimal whose float would not print as written is a :class:`NumberText`."""
    if not _NUMBER_RE.fullmatch(text):
        return None
    if _INT_RE.fullmatch(text):
        return json_int(text)
    v = json_float(text)
    if exact and isinstance(v, float) and decimal.Decimal(repr(v)) != decimal.Decimal(text):
        return NumberText(text)
    return v


def is_out_of_range(v: Any) -> bool:
    """True for a number no platform can read: beyond ±1.8×10^308, ±inf (NaN is not a number)."""
    if isinstance(v, bool):
        return False
    if isinstance(v, int):
        return abs(v) > FLOAT_MAX
    if isinstance(v, float):
        return math.isinf(v)
    if isinstance(v, decimal.Decimal):
        return v.is_infinite() or (v.is_finite() and abs(v) > FLOAT_MAX)
    return False


def number_text(v: Any) -> str:
    """The text of a number for a message: as written, long digit runs shortened with their count."""
    if isinstance(v, NumberText):
        text = v.text
    elif isinstance(v, int) and v.bit_length() > 13000:  # beyond Python's int→str limit
        digits = int(v.bit_length() * math.log10(2)) + 1
        return f"{'-' if v < 0 else ''}约 {digits} 位的整数"
    else:
        text = str(v)
    if len(text) <= _SHOW_DIGITS:
        return text
    digits = sum(c.isdigit() for c in text)
    return f"{text[:20]}…{text[-6:]}（共 {digits} 位数字）"


def out_of_range_text(v: Any) -> str:
    """``超出范围的数值 1e309（…）`` for a type message."""
    return f"超出范围的数值 {number_text(v)}（平台按双精度浮点数读取，绝对值不能超过 1.8×10^308）"
