"""ReadinessDashboard (达标看板): streak calendar, per-day table, today's gap, evidence pack."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import ipywidgets as widgets

from .._exceptions import ConfigError
from ._base import ErrorsMixin, esc, guarded

__all__ = ["ReadinessDashboard"]

_WEEK = "一二三四五六日"


class ReadinessDashboard(ErrorsMixin, widgets.VBox):
    """达标看板 — where the hospital stands against the acceptance rule (≥30 条/天, 100 % 成功,
    不重复, 连续 3 天).

    The verdict banner, the streak calendar (每天一格: 绿 = 达标, 红 = 未达标, 灰 = 未上传; the
    current streak outlined), the per-day table (``view``: 合计 or 按数据集), today's gap
    (今天还差什么) and a button that writes the evidence pack (达标证据包: HTML + Excel + chart)
    into ``out_dir``.  ``write_evidence()`` does the same from code and returns the paths.
    """

    def __init__(self, readiness, *, project=None, spec=None, out_dir: str | Path | None = None) -> None:
        super().__init__()
        self._init_errors()
        self.readiness = readiness
        self.project = project
        self.spec = spec
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.evidence: dict[str, Path] = {}
        r = readiness
        color = "#2e7d32" if r.may_apply else "#c62828"
        self.verdict = widgets.HTML(
            f"<div class='hlwjr-verdict' style='background:{color};color:white;padding:8px;"
            f"font-size:15px'>{esc(r.verdict)}</div>"
        )
        self.gap = widgets.HTML(f"<p><b>今天（平台日 {esc(r.today)}）：</b>{esc(r.gap_text)}</p>")
        self.calendar = widgets.HTML(self.calendar_html())
        self.calendar.add_class("hlwjr-calendar")
        self.view = widgets.ToggleButtons(options=[("合计", "total"), ("按数据集", "datasets")], value="total")
        self.view.observe(self._on_view, names="value")
        self.table = widgets.HTML()
        self.button = widgets.Button(
            description="生成证据包 evidence pack",
            button_style="success",
            icon="file",
            layout=widgets.Layout(width="auto"),
        )
        self.button.on_click(lambda _b: self.write_evidence())
        self.status = widgets.HTML()
        self.children = [
            self.verdict,
            self.gap,
            widgets.HTML("<b>连续达标日历 streak</b>"),
            self.calendar,
            widgets.HTML("<b>每日统计 per day</b>"),
            self.view,
            self.table,
            widgets.HBox([self.button, self.status]),
            self.errors,
        ]
        self._update_table()

    def calendar_html(self) -> str:
        """The streak calendar: weeks as rows (一 … 日), one cell per day from the first upload."""
        r = self.readiness
        days = sorted(r.days)
        if not days:
            return "<p>还没有上传记录：先在 06_测试上传_upload 中上传</p>"
        first = dt.date.fromisoformat(days[0])
        last = max(dt.date.fromisoformat(r.today), dt.date.fromisoformat(days[-1]))
        start = first - dt.timedelta(days=first.weekday())
        streak = set(r.streak_days)
        head = "".join(f"<th style='width:64px'>{d}</th>" for d in _WEEK)
        rows, day = [], start
        while day <= last:
            cells = []
            for _ in range(7):
                iso = day.isoformat()
                info = r.days.get(iso)
                if day < first or day > last:
                    cells.append("<td></td>")
                else:
                    bg = "#e0e0e0" if info is None else ("#a5d6a7" if info["qualifies"] else "#ef9a9a")
                    border = "2px solid #1b5e20" if iso in streak else "1px solid #ccc"
                    tip = "未上传" if info is None else ("达标" if info["qualifies"] else "；".join(info["reasons"]))
                    mark = " ★" if iso == r.today else ""
                    cells.append(
                        f"<td title='{esc(tip)}' data-day='{iso}' style='background:{bg};border:{border};"
                        f"text-align:center;padding:4px'>{day.month}/{day.day}{mark}</td>"
                    )
                day += dt.timedelta(days=1)
            rows.append("<tr>" + "".join(cells) + "</tr>")
        legend = (
            "<div style='font-size:11px'>绿 达标 · 红 未达标 · 灰 未上传 · 粗框 当前连续 · ★ 今天；"
            f"当前连续 {r.streak} 天，要求 {r.thresholds.consecutive_days} 天</div>"
        )
        return f"<table style='border-collapse:collapse'><tr>{head}</tr>{''.join(rows)}</table>{legend}"

    @guarded
    def _on_view(self, _change) -> None:
        self._update_table()

    def _update_table(self) -> None:
        f = self.readiness.per_day
        if len(f):
            f = f[f["dataset"] == "*"] if self.view.value == "total" else f[f["dataset"] != "*"]
            f = f.assign(
                success_rate=(f["success_rate"] * 100).round(1).astype(str) + "%",
                qualifies=f["qualifies"].map({True: "是", False: "否"}),
            )
            cols = {
                "day": "日期",
                "dataset": "数据集",
                "uploaded": "上传",
                "accepted": "成功",
                "rejected": "拒收",
                "duplicate": "重复",
                "success_rate": "成功率",
                "qualifies": "达标",
                "reason": "原因",
            }
            self.table.value = f.rename(columns=cols).to_html(index=False, na_rep="")
        else:
            self.table.value = "<p>台账中还没有上传记录</p>"

    @guarded
    def write_evidence(self) -> dict[str, Path] | None:
        """Write the evidence pack (readiness.html, readiness.xlsx, streak.png); returns the paths."""
        from ..readiness._evidence import write_evidence_pack

        if self.out_dir is None:
            raise ConfigError("没有指定证据包目录 out_dir", where="ReadinessDashboard")
        self.evidence = write_evidence_pack(self.readiness, self.out_dir, project=self.project, spec=self.spec)
        self.status.value = "已写出：" + "，".join(f"{esc(k)} {esc(v)}" for k, v in self.evidence.items())
        return self.evidence
