"""The platform's answers (平台应答): one :class:`BatchResult` per batch, with a
:class:`RecordResult` per record (accepted, rejected with reasons, or duplicate)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ACCEPTED",
    "DUPLICATE",
    "REJECTED",
    "BatchResult",
    "RecordResult",
    "business_errors",
    "culprit",
    "refused_with",
]

ACCEPTED, REJECTED, DUPLICATE = "accepted", "rejected", "duplicate"

# --------------------------------------------------------------------------- results


@dataclass(slots=True)
class RecordResult:
    """The platform's answer for one record of a batch (单条结果)."""

    index: int
    status: str  # accepted | rejected | duplicate
    errors: list[dict[str, Any]] = field(default_factory=list)
    key: str | None = None


@dataclass
class BatchResult:
    """The platform's answer for one batch (批次结果)."""

    dataset: str
    batch_no: str
    n: int
    code: Any
    message: str
    results: list[RecordResult]
    raw: Any = None
    whole_batch: bool = False  # the platform rejected the whole batch for some records
    attempts: int = 1
    received_at: str | None = None  # the platform's time of receipt, when it says

    @property
    def platform_day(self) -> str | None:
        """The day (Asia/Shanghai) the platform counts this batch for, when it says."""
        return self.received_at[:10] if self.received_at else None

    def _count(self, status: str) -> int:
        counts = self.__dict__.get("_counts")
        if counts is None or counts[0] != len(self.results):
            c = {ACCEPTED: 0, REJECTED: 0, DUPLICATE: 0}
            for r in self.results:
                c[r.status] = c.get(r.status, 0) + 1
            counts = (len(self.results), c)
            self.__dict__["_counts"] = counts
        return counts[1].get(status, 0)

    @property
    def accepted(self) -> int:
        return self._count(ACCEPTED)

    @property
    def rejected(self) -> int:
        return self._count(REJECTED)

    @property
    def duplicate(self) -> int:
        return self._count(DUPLICATE)


# --------------------------------------------------------------------------- gateway business answers


def refused_with(bad: dict[int, list], n: int) -> list[RecordResult]:
    """A whole batch refused for the records in ``bad`` (index → their errors): those carry their
    reasons, the others a note that they were refused with them and may go again."""
    note = f"同一请求中第 {'、'.join(str(i + 1) for i in sorted(bad)[:5])} 条记录有误，整批未入库（本条无误）"
    innocent = [{"rule": "whole_batch", "msg": note}]
    return [RecordResult(i, REJECTED, list(bad.get(i, innocent))) for i in range(n)]


_RECORD_AT = re.compile(r"第\s*(\d+)\s*条(?:记录)?\s*([A-Za-z_][\w.\[\]]*)?\s*[：:]")


def culprit(msg: str, n: int) -> int | None:
    """The index of the record a business message names ("第 3 条记录 organID：…"), if any."""
    m = _RECORD_AT.search(msg or "")
    if m and 1 <= int(m.group(1)) <= n:
        return int(m.group(1)) - 1
    return None


def business_errors(code: Any, msg: str) -> list[dict[str, Any]]:
    """Gateway business errors: -99 lists the empty required fields separated by ``|``; another
    message that names a record and field ("第 2 条记录 organID：…") keeps the field."""
    if str(code) == "-99" and msg:
        names = [m.strip() for m in msg.split("|") if m.strip()]
        return [{"field": n, "rule": "required", "msg": f"必填项为空: {n}"} for n in names]
    m = _RECORD_AT.search(msg or "")
    field_name = m.group(2) if m else None
    return [{"field": field_name, "rule": f"platform:{code}", "msg": msg or f"平台业务错误 {code}"}]
