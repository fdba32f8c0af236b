"""Derived values (派生值): a small registry of named, vectorised functions a field rule can
call with ``derive: NAME`` + ``args`` (ages, sex and birth date from the ID number, 分 → 元 …).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._conversions import _ymd, as_text, format_times, parse_times

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
