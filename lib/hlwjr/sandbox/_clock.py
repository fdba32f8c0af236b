"""The sandbox clock (沙箱时钟): real time plus a settable offset, in Beijing time.

The verification log counts by natural day in Asia/Shanghai; moving the clock lets an analyst
rehearse three consecutive upload days in minutes.  Token expiry follows the same clock.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import math
import time

from .._exceptions import ConfigError

__all__ = [
    "BEIJING",
    "MAX_OFFSET_DAYS",
    "Clock",
    "advance_seconds",
    "beijing_day",
    "format_beijing",
    "parse_beijing_time",
    "usable_offset",
]

#: the clock moves at most this many days (about 10 years) away from real time, either way
MAX_OFFSET_DAYS = 3653
_MAX_OFFSET = MAX_OFFSET_DAYS * 86400.0
_UNITS = (("advance_days", 86400), ("advance_hours", 3600), ("advance_seconds", 1))

#: Asia/Shanghai (no daylight saving since 1991, so a fixed UTC+8 is exact).
BEIJING = _dt.timezone(_dt.timedelta(hours=8), "Asia/Shanghai")

_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")


def parse_beijing_time(text: str) -> float:
    """``YYYY-MM-DD HH:MM:SS`` (Beijing time; ``YYYY-MM-DD`` means midnight) → epoch seconds."""
    text = str(text).strip()
    for fmt in _FORMATS:
        try:
            dt = _dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
        return dt.replace(tzinfo=BEIJING).timestamp()
    try:  # ISO 8601 with an explicit offset, e.g. 2026-11-01T09:00:00+08:00
        dt = _dt.datetime.fromisoformat(text)
    except ValueError:
        dt = None
    if dt is not None and dt.tzinfo is not None:
        return dt.timestamp()
    raise ConfigError(f"时间 {text!r} 格式不对：应为北京时间 YYYY-MM-DD HH:MM:SS，例如 2026-11-01 09:00:00")


def format_beijing(epoch: float) -> str:
    return _dt.datetime.fromtimestamp(epoch, BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def beijing_day(epoch: float) -> str:
    return _dt.datetime.fromtimestamp(epoch, BEIJING).strftime("%Y-%m-%d")


def advance_seconds(body: dict) -> float:
    """``advance_days``/``advance_hours``/``advance_seconds`` of a request as seconds: numbers
    (not true/false, not text) within ±10 years; anything else is a :class:`ConfigError`."""
    total = 0.0
    for name, unit in _UNITS:
        v = body.get(name)
        if v is None:
            continue
        if isinstance(v, decimal.Decimal):  # a number beyond the double range (NumberText)
            raise ConfigError(_range_message(f"{name} = {v}"))
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ConfigError(f"{name} 应为数字，收到 {type(v).__name__}")
        try:
            seconds = float(v) * unit
        except OverflowError:
            seconds = math.inf
        if not abs(seconds) <= _MAX_OFFSET:
            raise ConfigError(_range_message(f"{name} = {v}"))
        total += seconds
    return total


def _range_message(what: str) -> str:
    return f"{what} 超出范围：沙箱时钟只能调到真实时间前后 {MAX_OFFSET_DAYS} 天（约 10 年）以内"


def usable_offset(offset: float) -> bool:
    """Whether a clock offset (seconds) is a finite number within ±10 years."""
    return isinstance(offset, float) and abs(offset) <= _MAX_OFFSET


class Clock:
    """Real time shifted by ``offset`` seconds; ``set``/``advance``/``reset`` change the offset,
    which stays within ±10 years (:class:`ConfigError` otherwise, the clock unchanged)."""

    def __init__(self, offset: float = 0.0) -> None:
        self.offset = float(offset)
        if not usable_offset(self.offset):
            raise ConfigError(_range_message(f"时钟偏移 {offset!r} 秒"))

    def _move_to(self, offset: float, what: str) -> None:
        if not usable_offset(offset):
            raise ConfigError(_range_message(what))
        self.offset = offset

    def now(self) -> float:
        return time.time() + self.offset

    def today(self) -> str:
        return beijing_day(self.now())

    def set(self, when: str | float) -> None:
        target = parse_beijing_time(when) if isinstance(when, str) else float(when)
        self._move_to(target - time.time(), f"时间 {when}")

    def advance(self, seconds: float) -> None:
        self._move_to(self.offset + float(seconds), f"拨快 {seconds} 秒后的时间")

    def reset(self) -> None:
        self.offset = 0.0

    def as_dict(self) -> dict:
        now = self.now()
        return {
            "now": format_beijing(now),
            "today": beijing_day(now),
            "offset_seconds": round(self.offset, 3),
            "timezone": "Asia/Shanghai",
        }
