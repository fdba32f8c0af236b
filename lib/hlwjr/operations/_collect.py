"""Collecting a window (采集): the project's mapping applied to each business day of the window,
with the figures reconciliation needs (HIS rows, rows waiting for a final state, mapped, rejected).

Everything is mapped before anything is sent: a source that is down fails the run before the
ledger is touched (nothing marked)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .._exceptions import ConfigError, HlwjrError

__all__ = ["Collected", "collect_window"]


@dataclass
class DayData:
    """One data set on one business day (``day`` None: master data, no business time)."""

    dataset: str
    day: str | None
    records: Any  # DataFrame of spec records
    his_rows: int = 0  # source rows of the day (before final_when)
    waiting: int = 0  # not yet in a final state: a later run collects them
    mapping_rejected: int = 0

    @property
    def mapped(self) -> int:
        return len(self.records)


@dataclass
class Collected:
    days: list[str]
    parts: list[DayData] = field(default_factory=list)
    master: set[str] = field(default_factory=set)
    dated: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)

    def for_day(self, day: str, *, with_master: bool) -> dict[str, Any]:
        """``{dataset: records}`` to send for ``day`` (master data goes with the first day)."""
        return {p.dataset: p.records for p in self.parts if p.day == day or (with_master and p.day is None)}

    def part(self, dataset: str, day: str | None) -> DayData | None:
        return next((p for p in self.parts if p.dataset == dataset and p.day == day), None)

    @property
    def source_empty(self) -> bool:
        """Data sets with a business time exist and none has a single source row in the window."""
        return bool(self.dated) and not any(p.his_rows for p in self.parts if p.day is not None)


def collect_window(project, spec, codes: list[str], days: list[date], *, master: bool = True) -> Collected:
    """Map ``codes`` for each of ``days``; master data once (when ``master``)."""
    from ..mapping._config import load_mapping
    from ..mapping._engine import apply_mapping
    from ..upload._mapped import _project_sources

    if project.mapping_dir is None:
        raise ConfigError("项目没有配置映射目录 (mapping_dir)；请在 hlwjr.toml 中设置", where=str(project.config_file))
    mapping = load_mapping(project.mapping_dir)
    sources = _project_sources(project)
    out = Collected(days=[d.isoformat() for d in days])
    for code in codes:
        try:
            dm = mapping.dataset(code)
        except HlwjrError:
            out.notes.append(
                f"{code}: 对照配置中没有这个数据集，跳过（在 {project.mapping_dir} 中补充 datasets/{code}.yaml）"
            )
            continue
        if not dm.source.business_time:
            out.master.add(code)
            if master:
                res = apply_mapping(mapping, code, sources=sources, spec=spec)
                out.parts.append(_part(code, None, res, res.n_source_rows))
            continue
        out.dated.add(code)
        for day in out.days:
            res = apply_mapping(mapping, code, date=day, sources=sources, spec=spec)
            out.parts.append(_part(code, day, res, res.n_day_rows or 0))
    return out


def _part(code: str, day: str | None, res, his_rows: int) -> DayData:
    return DayData(
        dataset=code,
        day=day,
        records=res.records,
        his_rows=int(his_rows),
        waiting=int(res.n_waiting),
        mapping_rejected=len(res.rejected_rows),  # rows, not issues: a row may have several
    )
