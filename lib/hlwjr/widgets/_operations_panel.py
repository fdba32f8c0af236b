"""OperationsPanel (日常运行面板): the weeks after approval — status, the refused list, fix and resend."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from .._privacy import mask_key, mask_value
from ._base import ErrorsMixin, esc, guarded

__all__ = ["OperationsPanel"]

_ALL = "（全部）"


class OperationsPanel(ErrorsMixin, widgets.VBox):
    """日常运行面板 — over the same data as ``hlwjr status`` / ``refused`` / ``resend``.

    The status of the ``days`` business days up to ``today`` (default: the last closed one; per
    day × data set: sent, accepted, refused, pending, success rate); the refused records, filtered
    by data set, day and rule, each opened (masked) with the platform's message and the mapping
    rule that produced the field; "已修复"
    marks the record fixed in HIS; "重发已修复" resends the marked ones (``resend(keys)``), "全部
    重发" every refused record that now validates. ``fixed`` holds the marked records; every resend
    result is kept in ``results``. Business keys and values are masked everywhere.
    """

    def __init__(self, project, *, days: int = 30, today=None, mapping=None, client=None) -> None:
        super().__init__()
        self._init_errors()
        self.project, self.days, self.today, self.mapping, self.client = project, days, today, mapping, client
        self.fixed: set[tuple[str, str]] = set()  # (data set, raw business key)
        self.results: list[Any] = []
        self.records: list[dict[str, Any]] = []  # refused records, raw keys (never displayed)
        self.status_html = widgets.HTML()
        self.dataset = widgets.Dropdown(description="数据集", options=[_ALL])
        self.day = widgets.Dropdown(description="业务日期", options=[_ALL])
        self.rule = widgets.Dropdown(description="规则", options=[_ALL])
        self.choice = widgets.Select(description="拒收记录", options=[], rows=8, layout=widgets.Layout(width="95%"))
        self.detail = widgets.HTML()
        self.mark = widgets.Checkbox(description="已在 HIS 中修复 marked fixed", value=False)
        self.resend_marked = widgets.Button(
            description="重发已修复 Resend fixed", button_style="primary", icon="repeat"
        )
        self.resend_all = widgets.Button(description="全部重发", icon="repeat")
        self.result = widgets.HTML()
        for w in (self.dataset, self.day, self.rule):
            w.observe(lambda _c: self._show_list(), names="value")
        self.choice.observe(lambda _c: self._show_detail(), names="value")
        self.mark.observe(lambda c: self._set_fixed(c["new"]), names="value")
        self.resend_marked.on_click(lambda _b: self.resend(self.fixed))
        self.resend_all.on_click(lambda _b: self.resend(None))
        self.children = [
            self.status_html,
            widgets.HBox([self.dataset, self.day, self.rule]),
            self.choice,
            self.detail,
            widgets.HBox([self.mark, self.resend_marked, self.resend_all]),
            self.result,
            self.errors,
        ]
        self.refresh()

    # ------------------------------------------------------------------ data
    @guarded
    def refresh(self) -> None:
        """Read status and the refused list again (after a run, a resend, a fix)."""
        from ..operations._ledger_view import open_view
        from ..operations._status import compute_status

        self.status = compute_status(self.project, days=self.days, today=self.today)
        self.status_html.value = _status_table(self.status.rows)
        with open_view(self.project) as view:
            self.records = list(view.refused(None))
        self.fixed &= {(r["dataset"], r["key"]) for r in self.records}
        self._set_options(self.dataset, sorted({r["dataset"] for r in self.records}))
        self._set_options(self.day, sorted({r["day"] or "" for r in self.records}, reverse=True))
        self._set_options(self.rule, sorted({e.get("rule") or "" for r in self.records for e in _errors(r)}))
        self._show_list()

    @staticmethod
    def _set_options(dropdown: widgets.Dropdown, values: list[str]) -> None:
        keep = dropdown.value
        dropdown.options = [_ALL, *values]
        dropdown.value = keep if keep in dropdown.options else _ALL

    def filtered(self) -> list[dict[str, Any]]:
        """The refused records the filters let through (raw; display them masked)."""
        out = []
        for r in self.records:
            if self.dataset.value != _ALL and r["dataset"] != self.dataset.value:
                continue
            if self.day.value != _ALL and (r["day"] or "") != self.day.value:
                continue
            if self.rule.value != _ALL and self.rule.value not in {e.get("rule") or "" for e in _errors(r)}:
                continue
            out.append(r)
        return out

    # ------------------------------------------------------------------ display
    def _show_list(self) -> None:
        shown = self.filtered()
        self.choice.options = [(_label(r, (r["dataset"], r["key"]) in self.fixed), i) for i, r in enumerate(shown)]
        self._shown = shown
        self.choice.value = 0 if shown else None
        self._show_detail()

    def _selected(self) -> dict[str, Any] | None:
        i = self.choice.value
        return self._shown[i] if i is not None and i < len(getattr(self, "_shown", [])) else None

    def _show_detail(self) -> None:
        r = self._selected()
        self.mark.disabled = r is None
        if r is None:
            self.detail.value = "<p>没有被平台拒收的记录。</p>" if not self.records else "<p>筛选后没有记录。</p>"
            return
        self.mark.value = (r["dataset"], r["key"]) in self.fixed
        rows = "".join(
            f"<tr><td>{esc(e.get('field') or '（整条）')}</td><td>{esc(e.get('rule') or '')}</td>"
            f"<td>{esc(mask_value(e.get('msg') or e.get('message') or '') or '')}</td>"
            f"<td>{esc(self._rule_text(r['dataset'], e.get('field')))}</td></tr>"
            for e in _errors(r) or [{}]
        )
        self.detail.value = (
            f"<p><b>{esc(r['dataset'])}</b> 业务主键 {esc(mask_key(r['key']))}，业务日期 {esc(r['day'] or '—')}，"
            f"批次 {esc(r.get('batch_no') or '')}</p><table><tr><th>字段</th><th>规则</th><th>平台提示</th>"
            f"<th>对照规则（产生该字段）</th></tr>{rows}</table>"
        )

    def _rule_text(self, dataset: str, field: str | None) -> str:
        """The mapping rule that produced ``field`` (``取列 ZJHM`` …), or a dash."""
        if not field or self.mapping is None:
            return "—"
        try:
            rule = self.mapping.dataset(dataset).rule(field)
        except Exception:  # a data set the mapping does not hold (master data sent by hand)
            return "—"
        return rule.describe() if rule is not None else "（未对照）"

    def _set_fixed(self, on: bool) -> None:
        r = self._selected()
        if r is None:
            return
        (self.fixed.add if on else self.fixed.discard)((r["dataset"], r["key"]))
        i = self.choice.value
        self.choice.options = [
            (_label(x, (x["dataset"], x["key"]) in self.fixed), j) for j, x in enumerate(self._shown)
        ]
        self.choice.value = i

    # ------------------------------------------------------------------ resend
    @guarded
    def resend(self, keys=None):
        """Resend the refused records marked fixed (``keys``: (data set, key) pairs), or all of
        them (None); returns the :class:`ResendResult` and shows it."""
        from ..operations._refused import resend_refused

        if keys is not None and not keys:
            self.result.value = "<p>还没有标记已修复的记录：先选中记录，勾选“已在 HIS 中修复”。</p>"
            return None
        result = resend_refused(self.project, client=self.client, keys=None if keys is None else set(keys))
        self.results.append(result)
        self.result.value = f"<pre>{esc(result.to_text())}</pre>"
        self.refresh()
        return result


def _errors(r: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in r.get("errors") or [] if isinstance(e, dict)]


def _label(r: dict[str, Any], fixed: bool) -> str:
    msg = "；".join(mask_value(e.get("msg") or e.get("message") or "") or "" for e in _errors(r)) or "平台未说明原因"
    return f"{'✔ ' if fixed else ''}{r['day'] or '—'} {r['dataset']} {mask_key(r['key'])} — {msg[:80]}"


def _status_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "<p>最近没有上传记录。</p>"
    cols = [("day", "业务日期"), ("dataset", "数据集"), ("sent", "发送"), ("accepted", "成功"), ("refused", "拒收")]
    cols += [("pending", "待确认"), ("success_rate", "成功率")]
    head = "".join(f"<th>{zh}</th>" for _, zh in cols)
    body = "".join("<tr>" + "".join(f"<td>{esc(_cell(r, k))}</td>" for k, _ in cols) + "</tr>" for r in rows[:60])
    return f"<h4>最近运行情况</h4><table class='hlwjr-ops-status'><tr>{head}</tr>{body}</table>"


def _cell(row: dict[str, Any], key: str) -> str:
    v = row.get(key)
    if key == "success_rate":
        return "—" if v is None else f"{float(v):.1%}"
    return "" if v is None else str(v)
