"""Fix hints (修改建议) appended to validation messages: Excel date serials, dates in another
common layout, numbers Excel turned into 科学计数法 or decimals, spaces and full-width characters,
and what a value outside a code set most likely meant.
One module, used by the field checks of the engine and by the record rules."""

from __future__ import annotations

import bisect
import datetime as _dt
import functools
import re

from .._memo import derived
from .._privacy import to_halfwidth
from .._sheets import excel_serial_datetime

__all__ = ["HINT_VALUES", "code_set_hint", "excel_serial_hint", "excel_text_hint", "reformat_hint", "str_hint"]


def excel_serial_hint(v, date_only: bool = False) -> str:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return ""
    if 1 <= x < 2958466:
        d = excel_serial_datetime(x)
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


# ------------------------------------------------------------------------------ code sets
def code_set_hint(code_set, v: str) -> str:
    """What a text outside ``code_set`` most likely meant: a valid code once spaces or full-width
    characters are gone, a name instead of its code, a code that lost its leading zeros or was read
    as a decimal, the beginning of one name; else the codes themselves when there are few."""
    return _CodeSetHints.of(code_set).hint(v)


class _CodeSetHints:
    """A code set indexed for :func:`code_set_hint` (built once per code set; hints remembered):
    a value costs a few lookups, not a pass over the codes — an unmapped local diagnosis column
    against the 33,000 codes of an ICD-10 edition is worded in milliseconds, not minutes."""

    _REMEMBERED = 20_000

    def __init__(self, code_set) -> None:
        self.codes = code_set.codes
        self.by_name = {n: c for c, n in self.codes.items()}
        self.zero_padded: dict[str, list[str]] = {}
        for c in self.codes:
            if c.isdigit() and c.startswith("0"):
                self.zero_padded.setdefault(c.lstrip("0"), []).append(c)
        self.names = sorted((n, i, c) for i, (c, n) in enumerate(self.codes.items()) if n)
        self.listing = (
            "；可用代码：" + "，".join(f"{c} {n}" for c, n in self.codes.items()) if len(self.codes) <= 12 else ""
        )
        self.known: dict[str, str] = {}

    @classmethod
    def of(cls, code_set) -> _CodeSetHints:
        return derived(code_set, cls)

    def hint(self, v: str) -> str:
        h = self.known.get(v)
        if h is None:
            if len(self.known) >= self._REMEMBERED:
                self.known.clear()
            h = self.known[v] = self._hint(v)
        return h

    def _hint(self, v: str) -> str:
        t = to_halfwidth(v).strip()
        if t in self.codes:
            return f"；去掉空格/全角后为有效代码 {t}" + str_hint(v)
        if t in self.by_name:
            return f"；这是名称，应填代码 {self.by_name[t]}"
        if t.isdigit() and (padded := [c for c in self.zero_padded.get(t.lstrip("0"), ()) if len(c) > len(t)]):
            return (
                f"；疑似丢失了前导零，应为代码 {padded[0]}（Excel 把代码当数字存储时会去掉前导零，"
                "请把该列设为文本，或按文本导出）"
            )
        if re.fullmatch(r"\d+\.0+", t) and t.split(".")[0] in self.codes:
            return f"；疑似数字被读成了小数，应为代码 {t.split('.')[0]}：请按文本读取/导出该列"
        if t and (like := self._only_name_starting(t)) is not None:
            return f"；疑似名称“{self.codes[like]}”，应填代码 {like}"
        return self.listing

    def _only_name_starting(self, t: str) -> str | None:
        """The code of the one name that starts with ``t`` (None: no name, or several)."""
        lo = bisect.bisect_left(self.names, (t,))
        hi = bisect.bisect_left(self.names, (t + "\U0010ffff",))
        return self.names[lo][2] if hi - lo == 1 else None
