"""Backfill (按日补采): run the window of each business day of a range — after a source outage,
a late HIS export or a new data set — sending only what the platform has not accepted yet.
An accepted record whose content changed since is listed, not sent again, unless the platform
profile declares how a correction (更正) is marked; then it goes as a correction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .._exceptions import HlwjrError
from ._window import day_range, parse_day

__all__ = ["BackfillResult", "backfill"]


@dataclass
class BackfillResult:
    first: str
    last: str
    corrections: bool  # the profile declares corrections: changed accepted records were sent as such
    runs: list[Any] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return max((r.exit_code for r in self.runs), default=0)

    @property
    def changed(self) -> list[dict[str, Any]]:
        return [c for r in self.runs for c in r.record["changed"]]

    def to_text(self) -> str:
        lines = [f"补采：业务日期 {self.first} ~ {self.last}（{len(self.runs)} 天）"]
        for r in self.runs:
            rec, t = r.record, r.record["totals"]
            state = {0: "正常", 1: "有问题需处理", 2: "未能运行"}[r.exit_code]
            err = f"：{rec['error']}" if rec["error"] else ""
            lines.append(
                f"  {rec['business_day']} {state}：发送 {t.get('sent', 0)}，成功 {t.get('accepted', 0)}，"
                f"拒收 {rec['n_refused']}，已接收跳过 {t.get('already_accepted', 0)}，更正 {t.get('updated', 0)}{err}"
            )
        changed = self.changed
        if changed:
            lines.append(
                f"  {len(changed)} 条平台已接收的记录内容已变化，未重发（平台接口描述没有声明更正方式；"
                "请按平台的更正流程处理）："
            )
            lines += [f"    - [{c['dataset']}] {c['key']}" for c in changed[:20]]
            if len(changed) > 20:
                lines.append(f"    …… 共 {len(changed)} 条，见各日运行记录的 changed")
        return "\n".join(lines)


def backfill(project, first: str | date, last: str | date, *, client=None) -> BackfillResult:
    """Backfill business days ``first`` … ``last`` (oldest first), one run record per day."""
    from ._run import require_project, run_production, update_monitor

    project = require_project(project)
    days = day_range(parse_day(first, "--from"), parse_day(last, "--to"))
    own = client is None
    if own:
        from ..upload._client import PlatformClient

        try:
            client = PlatformClient.from_project(project)
        except HlwjrError:
            client = None  # each day's run reports the problem in its own record
    rule = client.profile.upload.get("update") if client is not None else None
    corrections = isinstance(rule, dict) and bool(rule.get("field"))
    result = BackfillResult(days[0].isoformat(), days[-1].isoformat(), corrections)
    try:
        for d in days:
            run = run_production(
                project, date=d, window=1, client=client, kind="backfill", update=corrections, monitor=False
            )
            result.runs.append(run)
    finally:
        if own and client is not None:
            client.close()
    update_monitor(project)
    return result
