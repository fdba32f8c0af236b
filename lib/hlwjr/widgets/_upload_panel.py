"""UploadPanel (测试上传面板): the day's upload with a progress bar and live counts."""

from __future__ import annotations

import ipywidgets as widgets
import pandas as pd

from .._days import parse_day
from .._exceptions import ConfigError
from .._privacy import mask_text
from ._base import ErrorsMixin, esc, guarded

__all__ = ["UploadPanel"]


class UploadPanel(ErrorsMixin, widgets.VBox):
    """测试上传面板 — runs the daily upload (每日上传) of a project.

    The business day (``date`` Text, ``YYYY-MM-DD``; empty = all), a dry-run checkbox (预演：只
    映射和校验，不发送) and the Run button; while it runs, a progress bar and the live accepted /
    rejected / duplicate counts from the upload ledger; afterwards the per-data-set summary and the
    held-back records.  ``run(date=None, dry_run=False)`` does the same from code and returns the
    :class:`UploadSummary`; ``rehearse(days)`` (sandbox only) uploads several demo days with the
    sandbox clock set to each (演练连续上传), then resets the clock.  ``summaries`` keeps every run.
    """

    def __init__(self, project, *, sandbox=None, datasets=None, limit: int | None = None) -> None:
        super().__init__()
        self._init_errors()
        self.project = project
        self.sandbox = sandbox
        self.datasets = datasets
        self.limit = limit
        self.summaries: list = []
        self.date = widgets.Text(description="业务日期", placeholder="YYYY-MM-DD（空=全部）", continuous_update=False)
        self.dry_run = widgets.Checkbox(description="预演 dry run（不发送）", value=False)
        self.button = widgets.Button(description="上传 Upload", button_style="primary", icon="upload")
        self.button.on_click(lambda _b: self.run(self.date.value.strip() or None, dry_run=self.dry_run.value))
        self.bar = widgets.IntProgress(
            min=0, max=1, value=0, description="进度", bar_style="info", layout=widgets.Layout(width="60%")
        )
        self.counts = widgets.HTML()
        self.counts.add_class("hlwjr-upload-counts")
        self.result = widgets.HTML()
        self.children = [
            widgets.HBox([self.date, self.dry_run, self.button]),
            self.bar,
            self.counts,
            self.result,
            self.errors,
        ]
        self._base: dict[str, int] = {}
        self._show_counts({"accepted": 0, "rejected": 0, "duplicate": 0})

    # ------------------------------------------------------------------ live counts
    def _ledger_totals(self) -> dict[str, int]:
        from ..upload._ledger import Ledger

        if not self.project.ledger_path.exists():
            return {}
        led = Ledger(self.project.ledger_path)
        try:
            out: dict[str, int] = {}
            for per in led.counts().values():
                for state, n in per.items():
                    out[state] = out.get(state, 0) + int(n)
            return out
        finally:
            led.close()

    def _show_counts(self, live: dict[str, int], label: str = "") -> None:
        self.live = dict(live)
        self.counts.value = (
            f"<div>{esc(label)} 成功 <b style='color:#2e7d32'>{live.get('accepted', 0)}</b> · "
            f"拒收 <b style='color:#c62828'>{live.get('rejected', 0)}</b> · "
            f"重复 <b style='color:#ef6c00'>{live.get('duplicate', 0)}</b></div>"
        )

    def _progress(self, desc: str, done: int, total: int) -> None:
        self.bar.max = max(total, 1)
        self.bar.value = min(done, self.bar.max)
        now = self._ledger_totals()
        live = {k: now.get(k, 0) - self._base.get(k, 0) for k in ("accepted", "rejected", "duplicate")}
        self._show_counts(live, f"{desc} {done}/{total}")

    # ------------------------------------------------------------------ runs
    @guarded
    def run(self, date: str | None = None, *, dry_run: bool = False):
        """Upload one business day (或全部) — map, validate, send; returns the UploadSummary."""
        from ..upload._uploader import run_upload

        if date:
            date = parse_day(date, "业务日期", what="业务日期").isoformat()
        self.button.disabled = True
        self.bar.value, self.bar.bar_style = 0, "info"
        self._base = self._ledger_totals()
        try:
            summary = run_upload(
                self.project,
                datasets=self.datasets,
                date=date,
                limit=self.limit,
                dry_run=dry_run,
                progress=self._progress,
            )
        finally:
            self.button.disabled = False
        self.summaries.append(summary)
        self.bar.value = self.bar.max
        self.bar.bar_style = "success" if summary.ok else "danger"
        self._show_counts(
            {
                "accepted": summary.total("accepted"),
                "rejected": summary.total("rejected"),
                "duplicate": summary.total("duplicate"),
            },
            f"{date or '全部'} 完成：",
        )
        self.result.value = self._summary_html(summary)
        return summary

    def rehearse(self, days: list[str]):
        """Sandbox only: upload each demo business day with the sandbox clock set to that day."""
        if self.sandbox is None:
            raise ConfigError(
                "演练多天上传只能在沙箱中进行（需要拨动平台时钟）；真实平台请每天运行一次上传", where="USE_SANDBOX"
            )
        results = []
        try:
            for day in days:
                self.sandbox.set_clock(f"{day} 20:00:00")
                s = self.run(day)
                if s is None:  # the error is shown in self.errors
                    break
                results.append(s)
        finally:
            self.sandbox.set_clock(reset=True)
        self.result.value = self._days_html(results)
        return results

    def to_frame(self) -> pd.DataFrame:
        """Every run's per-data-set counts (one row per run and data set)."""
        frames = []
        for s in self.summaries:
            f = s.to_frame()
            f.insert(0, "platform_day", s.platform_day)
            f.insert(0, "date", s.date)
            frames.append(f)
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    @staticmethod
    def _summary_html(s) -> str:
        cols = {
            "dataset": "数据集",
            "name": "名称",
            "mapped": "映射",
            "mapping_rejected": "映射拒绝",
            "invalid": "校验未过(暂缓)",
            "already_accepted": "已上报跳过",
            "not_planned": "超出当日计划",
            "sent": "发送",
            "accepted": "成功",
            "rejected": "拒收",
            "duplicate": "重复",
        }
        f = s.to_frame()
        table = f[[c for c in cols if c in f.columns]].rename(columns=cols).to_html(index=False) if len(f) else ""
        notes = "".join(f"<li>{esc(n)}</li>" for n in s.notes)
        # the platform's reason may echo a value (证件号、电话): masked, as in UploadSummary.to_text
        rej = "".join(
            f"<li>[{esc(r['dataset'])}] 批次 {esc(r['batch_no'])}: {esc(mask_text(str(r['reason'])))}</li>"
            for r in s.rejections[:10]
        )
        held = ""
        if s.problems is not None and len(s.problems):
            held = f"<p>暂缓 {s.total('invalid')} 条校验未通过的记录（前 10 个问题）：</p>" + s.problems.head(10)[
                ["dataset", "key", "field", "message"]
            ].to_html(index=False, na_rep="")
        return (
            f"<p><b>{'预演' if s.dry_run else '上传'}：业务日期 {esc(s.date or '全部')}，平台日 {esc(s.platform_day)}，"
            f"用时 {s.elapsed:.1f} 秒</b></p>{table}"
            + (f"<p>平台拒收：</p><ul>{rej}</ul>" if rej else "")
            + held
            + (f"<p>注意：</p><ul>{notes}</ul>" if notes else "")
        )

    @staticmethod
    def _days_html(results) -> str:
        rows = "".join(
            f"<tr><td>{esc(s.date)}</td><td>{esc(s.platform_day)}</td><td>{s.total('sent')}</td>"
            f"<td>{s.total('accepted')}</td><td>{s.total('rejected')}</td><td>{s.total('duplicate')}</td>"
            f"<td>{s.total('invalid')}</td></tr>"
            for s in results
        )
        return (
            "<table class='hlwjr-rehearsal'><tr><th>业务日期</th><th>平台日</th><th>发送</th><th>成功</th><th>拒收</th>"
            f"<th>重复</th><th>暂缓</th></tr>{rows}</table>"
        )
