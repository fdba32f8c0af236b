"""ValidationReport (校验报告): the problems table with filters, counts by rule, drill-down."""

from __future__ import annotations

import ipywidgets as widgets
import pandas as pd

from .._privacy import mask_kind, mask_value
from ._base import ErrorsMixin, esc, guarded

__all__ = ["ValidationReport"]

_ALL = "（全部）"
_TABLE_CSS = (
    "<style>.hlwjr-ptable{border-collapse:collapse;font-size:12px}.hlwjr-ptable th,.hlwjr-ptable td"
    "{text-align:left;padding:2px 6px;border:1px solid #ddd;vertical-align:top;white-space:nowrap}"
    ".hlwjr-ptable td:nth-child(8){white-space:normal;min-width:360px;max-width:560px}</style>"
)
_COLS_ZH = {
    "dataset": "数据集",
    "row": "行",
    "key": "业务主键",
    "field": "字段",
    "rule": "规则",
    "severity": "级别",
    "value": "值（脱敏）",
    "message": "问题说明",
    "path": "位置",
}


class ValidationReport(ErrorsMixin, widgets.VBox):
    """校验报告 — what the platform's mandatory checks (强制校验) would reject, and why.

    * filters (``dataset``, ``rule``, ``field``, ``severity`` Dropdowns) narrow the problems table
      (first ``page`` rows shown; ``filtered`` holds all of them);
    * counts by rule as a bar chart (one bar per rule, errors red, warnings orange);
    * drill-down: pick a record (``record`` Dropdown) to see all its problems and, when
      ``records`` (``{dataset: DataFrame}``) are given, its masked values (脱敏).
    """

    def _summary_text(self) -> str:
        text = self.report.summary()
        if self.accepted:
            parts = "、".join(f"{ds} {n} 条" for ds, n in self.accepted.items())
            text += f"\n已被平台接收（上传时跳过，不算问题）：{parts}"
        return text

    def __init__(self, report, *, records: dict | None = None, page: int = 200, accepted: dict | None = None) -> None:
        super().__init__()
        self._init_errors()
        self.report = report
        self.records = records or {}
        self.page = page
        self.frame = report.to_frame().reset_index(drop=True)
        f = self.frame
        self.dataset = widgets.Dropdown(description="数据集", options=[_ALL, *sorted(f["dataset"].dropna().unique())])
        self.rule = widgets.Dropdown(description="规则", options=[_ALL, *sorted(f["rule"].dropna().unique())])
        self.field = widgets.Dropdown(
            description="字段", options=[_ALL, *sorted(f["field"].dropna().astype(str).unique())]
        )
        self.severity = widgets.Dropdown(
            description="级别", options=[(_ALL, _ALL), ("错误 error", "error"), ("警告 warning", "warning")]
        )
        for w in (self.dataset, self.rule, self.field, self.severity):
            w.observe(self._on_filter, names="value")
        self.record = widgets.Dropdown(
            description="记录", options=[("（选择一条记录查看）", None)], layout=widgets.Layout(width="420px")
        )
        self.record.observe(self._on_record, names="value")
        self.accepted = dict(accepted or {})  # data set → records the platform already accepted
        self.summary = widgets.HTML(f"<div style='white-space:pre-wrap'>{esc(self._summary_text())}</div>")
        self.chart = widgets.HTML()
        self.table = widgets.HTML()
        self.table.add_class("hlwjr-problems")
        self.detail = widgets.HTML()
        self.children = [
            self.summary,
            widgets.HTML("<b>按规则统计 problems by rule</b>"),
            self.chart,
            widgets.HBox([self.dataset, self.rule]),
            widgets.HBox([self.field, self.severity]),
            self.table,
            widgets.HTML("<b>查看记录 drill-down</b>"),
            self.record,
            self.detail,
            self.errors,
        ]
        self._update()

    @property
    def filtered(self) -> pd.DataFrame:
        """The problems that pass the current filters."""
        f = self.frame
        if self.dataset.value != _ALL:
            f = f[f["dataset"] == self.dataset.value]
        if self.rule.value != _ALL:
            f = f[f["rule"] == self.rule.value]
        if self.field.value != _ALL:
            f = f[f["field"].astype(str) == self.field.value]
        if self.severity.value != _ALL:
            f = f[f["severity"] == self.severity.value]
        return f

    @guarded
    def _on_filter(self, _change) -> None:
        self._update()

    def _update(self) -> None:
        f = self.filtered
        self.chart.value = self._chart_html(f)
        shown = self._display(f.head(self.page))
        more = (
            f"<p>仅显示前 {self.page} 条，共 {len(f)} 条（导出 Excel：report.to_excel(...)）。</p>"
            if len(f) > self.page
            else ""
        )
        self.table.value = (
            "<div style='max-height:360px;overflow:auto'>"
            + (
                shown.to_html(index=False, escape=True, na_rep="", classes="hlwjr-ptable")
                if len(f)
                else "<p>没有问题 ✓</p>"
            )
            + f"</div>{more}"
            + _TABLE_CSS
        )
        recs = f.dropna(subset=["row"]).drop_duplicates(["dataset", "row"]).head(500)
        opts = [("（选择一条记录查看）", None)] + [
            (f"{r.dataset} 第{int(r.row) + 1}行 {r.key or ''}", (r.dataset, int(r.row)))
            for r in recs.itertuples(index=False)
        ]
        self.record.options = opts

    @staticmethod
    def _display(f: pd.DataFrame) -> pd.DataFrame:
        """Problems for people: 1-based row numbers (第 N 行), Chinese column names, no None."""
        out = f.copy()
        out["row"] = (out["row"] + 1).astype("Int64")
        return out.astype(object).where(out.notna(), "").rename(columns=_COLS_ZH)

    @staticmethod
    def _chart_html(f: pd.DataFrame) -> str:
        if f.empty:
            return "<p>没有问题</p>"
        g = f.groupby(["rule", "severity"]).size().rename("n").reset_index().sort_values("n", ascending=False)
        top = int(g["n"].max())
        bars = []
        for r in g.itertuples(index=False):
            color = "#c62828" if r.severity == "error" else "#ef6c00"
            width = max(2, int(300 * r.n / top))
            bars.append(
                f"<div class='hlwjr-bar' style='display:flex;align-items:center;margin:1px 0'>"
                f"<span style='width:160px;font-family:monospace'>{esc(r.rule)}</span>"
                f"<span style='display:inline-block;background:{color};width:{width}px;height:12px'></span>"
                f"<span style='margin-left:6px'>{r.n}</span></div>"
            )
        return "".join(bars)

    @guarded
    def _on_record(self, change) -> None:
        if change["new"] is None:
            self.detail.value = ""
            return
        self.drill(*change["new"])

    def drill(self, dataset: str, row: int) -> pd.DataFrame:
        """All problems of one record (0-based row) and its masked values; returns the problems."""

        p = self.frame[(self.frame["dataset"] == dataset) & (self.frame["row"] == row)]
        parts = [
            f"<b>{esc(dataset)} 第{row + 1}行</b>",
            self._display(p).to_html(index=False, na_rep="", classes="hlwjr-ptable") + _TABLE_CSS,
        ]
        recs = self.records.get(dataset)
        if recs is not None and row < len(recs):
            spec = getattr(self.report, "spec", None)
            ds = spec.dataset(dataset) if spec is not None else None
            vals = []
            for k, v in recs.iloc[row].items():
                name = ds.fields[k].name if ds is not None and k in ds.fields else ""
                kind = ds.mask_of(str(k)) if ds is not None else mask_kind(str(k))
                shown = (
                    f"[{len(v)} 条明细]"
                    if isinstance(v, list)
                    else (
                        ""
                        if v is None or (not isinstance(v, dict) and pd.isna(v))
                        else (str(v) if kind == "plain" else mask_value(v, kind))
                    )
                )
                bad = (p["field"].astype(str).str.split(".").str[0] == k).any()
                style = " style='background:#fdecea'" if bad else ""
                vals.append(f"<tr{style}><td><code>{esc(k)}</code></td><td>{esc(name)}</td><td>{esc(shown)}</td></tr>")
            parts.append("<table><tr><th>字段</th><th>名称</th><th>值（脱敏）</th></tr>" + "".join(vals) + "</table>")
        self.detail.value = "".join(parts)
        return p
