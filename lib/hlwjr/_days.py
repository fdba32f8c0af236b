"""The one reader of a day a person types (业务日期): ``--date`` / ``--from`` / ``--day`` on the
command line, a notebook's date box, ``apply_mapping(date=…)``, the demo's first day.

ISO 8601's two calendar forms are read, ``2026-11-04`` and ``20261104`` (full-width digits and
surrounding spaces are forgiven); anything else is refused with what to write — ``04/11/2026``
could be day or month first, and ``2026-W45-3`` (a week date Python would also read) is not what an
analyst means. A day is always handed on as a :class:`datetime.date` (written ``YYYY-MM-DD``), so
the ledger, the run records and the readiness count never see one day under two spellings.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime

from ._exceptions import ConfigError, HlwjrError

__all__ = ["parse_day"]

_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})|(\d{4})(\d{2})(\d{2})", re.ASCII)


def parse_day(
    value: str | date, where: str = "--date", *, what: str = "日期", error: type[HlwjrError] = ConfigError
) -> date:
    """``value`` as a calendar day; ``error`` (naming ``where``) when it is not one."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = unicodedata.normalize("NFKC", str(value)).strip()
    m = _DAY.fullmatch(text)
    if m is None:
        raise error(f"{what} {value!r} 格式不对，应为 YYYY-MM-DD（或 YYYYMMDD），例如 2026-11-01", where=where)
    y, mo, d = (int(g) for g in m.groups() if g is not None)
    try:
        return date(y, mo, d)
    except ValueError:
        raise error(
            f"{what} {value!r} 不是有效的日期（没有 {y} 年 {mo} 月 {d} 日）：应为 YYYY-MM-DD，例如 2026-11-01",
            where=where,
        ) from None
