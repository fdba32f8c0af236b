"""The platform's answers (平台应答): one :class:`BatchResult` per batch, with a
:class:`RecordResult` per record (accepted, rejected with reasons, or duplicate)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["ACCEPTED", "DUPLICATE", "REJECTED", "BatchResult", "RecordResult"]

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
