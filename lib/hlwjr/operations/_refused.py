"""The refused list and resend (拒收清单与重发): every record the platform refused, with its
message and field (business keys and values masked); ``resend`` re-maps the source for those
keys, business day by business day, and sends the ones that now validate — fixed in the source,
or refused only because a record they reference was missing and is now there. The others stay
listed. An accepted record is never sent again (the ledger skips it)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from .._privacy import mask_key, mask_value
from .._text import text_table
from ._ledger_view import open_view
from ._window import parse_day

__all__ = ["RefusedList", "ResendResult", "refused_list", "resend_refused"]

#: refusals that a fix elsewhere can cure: the record itself need not change
_REFERENCE_RULES = {"reference"}
_CSV_COLS = ("day", "dataset", "key", "field", "rule", "message", "batch_no", "answered_at", "whole_batch")
_ZH = ("业务日期", "数据集", "业务主键", "字段", "规则", "平台提示", "批次号", "应答时间", "整批拒收")


@dataclass
class RefusedList:
    day: str | None
    records: list[dict[str, Any]] = field(default_factory=list)  # one per refused record (masked)

    def rows(self) -> list[dict[str, Any]]:
        """One row per platform error of each refused record (a record may have several)."""
        out = []
        for r in self.records:
            for e in r["errors"] or [{}]:
                out.append(
                    {
                        "day": r["day"] or "",
                        "dataset": r["dataset"],
                        "key": r["key"],
                        "field": e.get("field") or "",
                        "rule": e.get("rule") or "",
                        "message": e.get("msg") or "",
                        "batch_no": r["batch_no"] or "",
                        "answered_at": r["answered_at"] or "",
                        "whole_batch": "是" if r["whole_batch"] else "",
                    }
                )
        return out

    def to_csv(self) -> str:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(_ZH)
        w.writerows([[r[c] for c in _CSV_COLS] for r in self.rows()])
        return buf.getvalue()

    def to_text(self) -> str:
        scope = f"业务日期 {self.day}" if self.day else "全部业务日期"
        if not self.records:
            return f"拒收清单（{scope}）：没有被平台拒收的记录"
        rows = [[r[c] for c in ("day", "dataset", "key", "field", "message")] for r in self.rows()]
        lines = [f"拒收清单（{scope}）：{len(self.records)} 条记录"]
        lines += ["  " + line for line in text_table(list(_ZH[:4]) + ["平台提示"], rows, max_width=60).splitlines()]
        if any(r["whole_batch"] for r in self.records):
            lines.append("  整批拒收的记录本身没有问题，下次运行会自动重发")
        lines.append("  修正源数据后运行 `hlwjr resend --refused` 重发（只重发现在能通过校验的记录）")
        return "\n".join(lines)


def _masked(rec: dict[str, Any]) -> dict[str, Any]:
    errors = [
        {"field": e.get("field"), "rule": e.get("rule"), "msg": mask_value(e.get("msg")) or ""}
        for e in rec["errors"]
        if isinstance(e, dict)
    ]
    return {**rec, "key": mask_key(rec["key"]), "errors": errors}


def refused_list(project, *, day: str | None = None) -> RefusedList:
    """Records whose current state in the ledger is refused (拒收), masked."""
    day = parse_day(day, "--day").isoformat() if day else None
    with open_view(project) as view:
        return RefusedList(day, [_masked(r) for r in view.refused(day)])


@dataclass
class ResendResult:
    runs: list[Any] = field(default_factory=list)  # RunResult of each business day
    left: RefusedList | None = None  # still refused after the resend
    undated: int = 0  # refused records without a business day (sent by `hlwjr upload` without --date)

    @property
    def exit_code(self) -> int:
        if any(r.exit_code == 2 for r in self.runs):
            return 2
        return 1 if (self.left and self.left.records) or self.undated else 0

    def to_text(self) -> str:
        if not self.runs and not self.undated:
            return "重发：没有被平台拒收的记录"
        lines = [r.to_text() for r in self.runs]
        sent = sum(r.record["totals"].get("accepted", 0) for r in self.runs)
        lines.append(f"重发完成：{sent} 条已被平台接收")
        if self.undated:
            lines.append(
                f"  {self.undated} 条拒收记录没有业务日期（当时未用 --date 上传）：请用 `hlwjr upload --date` 重发"
            )
        if self.left and self.left.records:
            lines.append(self.left.to_text())
        return "\n".join(lines)


def resend_refused(project, *, day: str | None = None, client=None, keys=None) -> ResendResult:
    """Resend the refused records of ``day`` (default: all), one business day at a time, oldest
    first (a fixed 复诊 goes before the 处方 that references it). ``keys``: only these
    ``(data set, business key)`` pairs — the ones a person marked fixed."""
    from ._run import require_project, run_production, update_monitor

    project = require_project(project)
    day = parse_day(day, "--day").isoformat() if day else None
    with open_view(project) as view:
        refused = view.refused(day)
    if keys is not None:
        refused = [r for r in refused if (r["dataset"], r["key"]) in keys]
    by_day: dict[str, dict[str, set[str]]] = {}
    again: dict[str, dict[str, set[str]]] = {}
    result = ResendResult()
    for r in refused:
        if not r["day"]:
            result.undated += 1
            continue
        by_day.setdefault(r["day"], {}).setdefault(r["dataset"], set()).add(r["key"])
        rules = {e.get("rule") for e in r["errors"] if isinstance(e, dict)}
        if rules and rules <= _REFERENCE_RULES:
            again.setdefault(r["day"], {}).setdefault(r["dataset"], set()).add(r["key"])
    for d in sorted(by_day):
        result.runs.append(
            run_production(
                project,
                date=d,
                window=1,
                client=client,
                kind="resend",
                only_keys=by_day[d],
                again=again.get(d),
                monitor=False,
            )
        )
    if result.runs:
        update_monitor(project)
    result.left = refused_list(project, day=day)
    return result
