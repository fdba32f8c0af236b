"""The business day a run collects (业务日期) and its window, in Beijing time.

The window is computed once from the business day, never from "now" twice: a clock jump during
a run cannot move it."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from .._days import parse_day
from .._exceptions import ConfigError

__all__ = ["business_day", "parse_day", "window_days"]


def business_day(now: datetime, cutoff_hour: int = 0) -> date:
    """The last closed business day at ``now`` (Beijing time): day D closes at ``cutoff_hour``
    o'clock of D + 1."""
    return (now - timedelta(hours=cutoff_hour)).date() - timedelta(days=1)


def window_days(day: date, n: int) -> list[date]:
    """The ``n`` business days ending with ``day``, oldest first."""
    return [day - timedelta(days=i) for i in range(n - 1, -1, -1)]


def day_range(first: date, last: date) -> list[date]:
    if last < first:
        raise ConfigError(f"--from {first} 晚于 --to {last}：请把较早的日期写在 --from", where="--from")
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
