"""The sandbox clock (沙箱时钟): real time plus a settable offset, in Beijing time.

The verification log counts by natural day in Asia/Shanghai; moving the clock lets an analyst
rehearse three consecutive upload days in minutes.  Token expiry follows the same clock.
"""

from __future__ import annotations

import datetime as _dt
import time

from .._exceptions import ConfigError

__all__ = ["BEIJING", "Clock", "beijing_day", "format_beijing", "parse_beijing_time"]

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


class Clock:
    """Real time shifted by ``offset`` seconds; ``set``/``advance``/``reset`` change the offset."""

    def __init__(self, offset: float = 0.0) -> None:
        self.offset = float(offset)

    def now(self) -> float:
        return time.time() + self.offset

    def today(self) -> str:
        return beijing_day(self.now())

    def set(self, when: str | float) -> None:
        target = parse_beijing_time(when) if isinstance(when, str) else float(when)
        self.offset = target - time.time()

    def advance(self, seconds: float) -> None:
        self.offset += float(seconds)

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
