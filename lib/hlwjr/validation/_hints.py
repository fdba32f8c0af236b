"""Fix hints (修改建议) appended to validation messages: Excel date serials, dates in another
common layout, numbers Excel turned into 科学计数法 or decimals, spaces and full-width characters.
One module, used by the field checks of the engine and by the record rules."""

from __future__ import annotations

import datetime as _dt
import functools
import re

from .._privacy import to_halfwidth

__all__ = ["HINT_VALUES", "excel_serial_hint", "excel_text_hint", "reformat_hint", "str_hint"]


def excel_serial_hint(v, date_only: bool = False) -> str:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return ""
    if 1 <= x < 2958466:
        d = _dt.datetime(1899, 12, 30) + _dt.timedelta(days=x)
        shown = f"{d:%Y-%m-%d}" if date_only and x == int(x) else f"{d:%Y-%m-%d %H:%M:%S}"
        return f"；疑似 Excel 日期序列号（{v} = {shown}），请在 Excel 中设为文本或转换为日期文本"
    return ""


# layouts source systems and Excel commonly write, for the "可改为 …" suggestion of a bad date:
# 2026/11/5 20:00, 2026.11.05, 2026年11月5日, 2026-11-05T20:00:00.000, 20261105, 20261105200000
_LOOSE_DATE = re.compile(
    r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?"
    r"(?:(?:\s+|T)(\d{1,2})[:时](\d{1,2})(?:[:分](\d{1,2})秒?(?:\.\d{1,6})?)?)?$"
)
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:T?(\d{2})(\d{2})(\d{2})?)?$")


HINT_VALUES = 2000  # distinct bad date values per field that get a "可改为 …" suggestion


@functools.lru_cache(maxsize=4096)
def reformat_hint(v: str, kind: str) -> str:
    """``；可改为 2026-11-05 20:00:00`` when ``v`` is a real date/time in another common layout."""
    t = to_halfwidth(v).strip()
    m = _LOOSE_DATE.match(t) or _COMPACT_DATE.match(t)
    if m is None:
        return ""
    y, mo, d, hh, mi, ss = (int(g) if g else None for g in m.groups())
    try:
        when = _dt.datetime(y, mo, d, hh or 0, mi or 0, ss or 0)
    except ValueError:
        return ""  # not a real date/time: no suggestion
    if kind == "date":
        if when.time() != _dt.time(0):
            return ""  # a date field given a time of day: no safe suggestion
        good = f"{when:%Y-%m-%d}"
    else:
        if hh is None:
            return f"；缺少时间部分，应为 {when:%Y-%m-%d} HH:MM:SS"
        good = f"{when:%Y-%m-%d %H:%M:%S}"
    return f"；可改为 {good}" if good != v else ""


_SCI_NOTATION = re.compile(r"^[+-]?\d(?:\.\d+)?[eE][+-]?\d+$")
_NUMBER_TEXT = re.compile(r"^\d{1,7}(?:\.\d+)?$")


def excel_text_hint(v: str) -> str:
    """A hint for text that Excel or a number-typed export has mangled: ``1.10102E+17`` (an
    ID/phone in 科学计数法, digits already lost) or ``1.0`` (a code read as a decimal)."""
    t = to_halfwidth(v).strip()
    if _SCI_NOTATION.match(t):
        return (
            "；疑似被 Excel 转成了科学计数法，号码已丢失精度：请在源系统或 Excel 中把该列设为“文本”后重新导出"
            "（不要用 Excel 直接打开再保存 CSV）"
        )
    if re.fullmatch(r"\d+\.0+", t):
        return f"；疑似数字被读成了小数（{t} → {t.split('.')[0]}），请按文本读取/导出该列"
    return ""


def str_hint(v: str, *, date: str | None = None) -> str:
    hints = []
    if v != v.strip():
        hints.append("前后有空格，请去掉")
    if v != to_halfwidth(v):
        hints.append("含全角字符，请转换为半角")
    out = ("；" + "，".join(hints)) if hints else ""
    t = to_halfwidth(v).strip()
    if date and _NUMBER_TEXT.match(t) and not re.fullmatch(r"\d{8}", t):
        return out + excel_serial_hint(t, date_only=date == "date")
    if date:
        return out + reformat_hint(v, date)
    return out + excel_text_hint(v)
