"""Reviewing a mapping in the MappingEditor: filter and search, accept or reject the shown
suggestions, progress, the preview of mapped and validated sample rows, save / diff / discard."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from .._exceptions import MappingError, SourceError
from .._privacy import mask_kind, mask_value
from ._base import esc, guarded


class _Review:
    """The MappingEditor's review, preview and saving (mixed into it)."""

    # ------------------------------------------------------------------ at scale
    def visible_fields(self) -> list[str]:
        """The fields the filter (必填 / 未对照 / 未通过 / 待审核) and the search let through."""
        needle = self.search.value.strip().lower()
        out = []
        for key, f in self.ds.fields.items():
            if not self._passes(key, f, self.show.value):
                continue
            rule = self.dm.fields.get(key)
            hay = " ".join([key, f.name or "", (rule.column or "") if rule else ""]).lower()
            if needle and needle not in hay:
                continue
            out.append(key)
        return out

    def _passes(self, key: str, f, show: str) -> bool:
        rule = self.dm.fields.get(key)
        if show == "required":
            return bool(f.is_required)
        if show == "unmapped":
            return not self._mapped(key)
        if show == "failing":
            return getattr(self, "field_status", {}).get(key) == "problem"
        if show == "unreviewed":
            return rule is not None and rule.status not in ("accepted", "rejected")
        return True

    def apply_filter(self) -> None:
        """Show only the rows :meth:`visible_fields` lets through (nothing is lost: hidden rows
        keep their state)."""
        keys = self.visible_fields()
        cells = list(self._head)
        for key in keys:
            cells += self.rows[key].widgets()
        self.grid.children = cells
        self.shown_count.value = f"<span style='color:#666'>显示 {len(keys)}/{len(self.rows)} 个字段</span>"

    @guarded
    def accept_visible(self) -> int:
        """Accept (审核通过) every shown rule still waiting for review; returns how many."""
        n = 0
        for key in self.visible_fields():
            rule = self.dm.fields.get(key)
            if rule is not None and rule.kind != "unavailable" and rule.status not in ("accepted", "rejected"):
                self.accept(key)
                n += 1
        self.apply_filter()
        self.save_status.value = f"<span style='color:#2e7d32'>已接受 {n} 条显示中的建议（保存后生效）</span>"
        return n

    def accept(self, key: str) -> None:
        """Mark a field's rule as reviewed and accepted (审核通过)."""
        self.rows[key].review.value = "accepted"

    def reject(self, key: str) -> None:
        """Mark a field's rule as rejected (审核拒绝): it counts as not mapped."""
        self.rows[key].review.value = "rejected"

    @property
    def dataset_mapping(self):
        """The :class:`DatasetMapping` being edited."""
        return self.dm

    @property
    def progress_text(self) -> str:
        """ "23/31 必填字段已对照 · 已审核通过 20/40 · 样例 5 行中 1 行未通过校验"."""
        return self._progress_text

    @guarded
    def refresh(self) -> None:
        """Recompute the preview, the per-field status and the progress."""
        self._preview()
        self._refresh_progress()
        self.apply_filter()  # a row may leave 未对照 / 未通过 once fixed

    def _refresh_progress(self) -> None:
        required = [k for k, f in self.ds.fields.items() if f.is_required]
        done = [k for k in required if self._mapped(k)]
        rules = [r for r in self.dm.fields.values()]
        accepted = sum(r.status == "accepted" for r in rules)
        bad = getattr(self, "_bad_rows", 0)
        n = getattr(self, "_n_preview", 0)
        self._progress_text = (
            f"{len(done)}/{len(required)} 必填字段已对照 · 已审核通过 {accepted}/{len(rules)} 条规则"
            f" · 样例 {n} 行中 {bad} 行未通过校验"
        )
        color = "#2e7d32" if len(done) == len(required) and not bad else "#ef6c00"
        missing = [f"{k}（{self.ds.fields[k].name}）" for k in required if k not in done]
        tail = f"<div style='color:#c62828'>未对照的必填字段：{esc('、'.join(missing[:12]))}</div>" if missing else ""
        self.progress.value = (
            f"<div class='hlwjr-progress-text' style='font-size:15px;color:{color}'>"
            f"<b>{esc(self._progress_text)}</b></div>{tail}"
        )

    def _mapped(self, key: str) -> bool:
        r = self.dm.fields.get(key)
        return r is not None and r.kind != "unavailable" and r.status != "rejected"

    def _preview(self) -> None:
        from ..mapping._engine import apply_mapping
        from ..validation._engine import check

        self.field_status: dict[str, str] = {}
        try:
            res = apply_mapping(self.mapping, self.ds.code, sources=self._preview_sources, spec=self.spec, check=False)
        except (MappingError, SourceError) as exc:
            self.preview_frame = pd.DataFrame()
            self.preview.value = f"<div style='color:#c62828'>预览失败：{esc(exc)}</div>"
            self._n_preview, self._bad_rows = 0, 0
            for row in self.rows.values():
                row.status.value = ""
            raise
        records = res.records.reset_index(drop=True)
        report = check(records, self.ds.code, spec=self.spec) if len(records) else None
        probs = (
            report.to_frame() if report is not None else pd.DataFrame(columns=["row", "field", "message", "severity"])
        )
        probs = probs.assign(top=probs["field"].fillna("").astype(str).str.split(".").str[0])
        issues = res.issues
        cell_msgs: dict[tuple[int, str], list[str]] = {}
        for r in probs.itertuples(index=False):
            if r.row is not None and not pd.isna(r.row):
                cell_msgs.setdefault((int(r.row), r.top), []).append(r.message)
        self._n_preview = len(records) + len(res.rejected_rows)
        self._bad_rows = (
            len(report.bad_rows()) + len(res.rejected_rows) if report is not None else len(res.rejected_rows)
        )
        n = len(records)
        table_rows = []
        for key, f in self.ds.fields.items():
            rule = self.dm.fields.get(key)
            fp = probs[(probs["top"] == key) & (probs["severity"] == "error")]
            fi = issues[issues["field"] == key] if len(issues) else issues
            kind = mask_kind(key, f.name or "")
            values = []
            for i in range(n):
                v = records.at[i, key] if key in records.columns else None
                if isinstance(v, list):
                    text = f"[{len(v)} 条明细]"
                elif v is None or (not isinstance(v, (list, dict)) and pd.isna(v)):
                    text = ""
                else:
                    text = str(v) if kind == "plain" else (mask_value(v, kind) or "")
                values.append(text)
            if len(fp) or (len(fi) and (fi["action"] == "rejected").any()):
                status, msg = "problem", (fp["message"].iloc[0] if len(fp) else fi["message"].iloc[0])
                count = len(fp) + len(fi)
                html_status = f"<span style='color:#c62828' title='{esc(msg)}'>✗ {count} 个问题：{esc(msg[:40])}</span>"
            elif rule is None or not self._mapped(key):
                status = "unmapped"
                msg = "未对照" if rule is None else ("无法提供" if rule.kind == "unavailable" else "审核拒绝")
                html_status = (
                    f"<span style='color:#999'>{msg}</span>"
                    if not f.is_required
                    else f"<span style='color:#c62828'>{msg}（必填）</span>"
                )
            else:
                status, msg = "ok", "通过"
                warn = probs[(probs["top"] == key) & (probs["severity"] != "error")]
                html_status = "<span style='color:#2e7d32'>✓ 通过</span>" + (
                    f" <span style='color:#ef6c00' title='{esc(warn['message'].iloc[0])}'>⚠ {len(warn)}</span>"
                    if len(warn)
                    else ""
                )
            self.field_status[key] = status
            self.rows[key].status.value = f"<div style='white-space:normal;overflow-wrap:anywhere'>{html_status}</div>"
            table_rows.append(
                {
                    "field": key,
                    "name": f.name,
                    "rule": rule.describe() if rule else "（未对照）",
                    **{f"样例{i + 1}": values[i] for i in range(n)},
                    "status": msg,
                }
            )
        self.preview_frame = pd.DataFrame(table_rows)
        self.preview.value = self._preview_html(cell_msgs, n, res)

    def _preview_html(self, cell_msgs, n: int, res) -> str:
        cell = (
            "white-space:nowrap;max-width:{w}px;overflow:hidden;text-overflow:ellipsis;padding:1px 6px;"
            "border-bottom:1px solid #eee;text-align:left"
        )
        td, wide = cell.format(w=180), cell.format(w=260)
        head = "".join(f"<th style='{td}'>样例{i + 1}</th>" for i in range(n))
        body = []
        for r in self.preview_frame.itertuples(index=False):
            d = r._asdict()
            cells = []
            for i in range(n):
                msgs = cell_msgs.get((i, d["field"]))
                style = td + (";background:#fdecea" if msgs else "")
                title = f" title='{esc('；'.join(msgs))}'" if msgs else f" title='{esc(d[f'样例{i + 1}'])}'"
                cells.append(f"<td style='{style}'{title}>{esc(d[f'样例{i + 1}'])}</td>")
            color = {"通过": "#2e7d32"}.get(
                d["status"], "#c62828" if d["status"] not in ("未对照", "无法提供") else "#999"
            )
            body.append(
                f"<tr><td style='{td}'><code>{esc(d['field'])}</code></td><td style='{td}'>{esc(d['name'])}</td>"
                f"<td style='{wide}' title='{esc(d['rule'])}'>{esc(d['rule'])}</td>{''.join(cells)}"
                f"<td style='{td};color:{color}'>{esc(d['status'])}</td></tr>"
            )
        rejected = ""
        if len(res.rejected_rows):
            rej = res.rejections.head(5)
            rejected = (
                "<div style='color:#c62828'>映射拒收的样例行："
                + "；".join(
                    f"第{int(x.row)}行 {esc(x.message)}" for x in rej.itertuples(index=False) if not pd.isna(x.row)
                )
                + "</div>"
            )
        return (
            f"<div class='hlwjr-preview-table' style='max-height:420px;overflow:auto'>"
            f"<table style='font-size:12px;border-collapse:collapse'><thead><tr><th style='{td}'>字段</th>"
            f"<th style='{td}'>名称</th><th style='{wide}'>规则</th>{head}<th style='{td}'>状态</th></tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table></div>{rejected}"
        )

    @guarded
    def save(self, directory: str | Path | None = None) -> Path | None:
        """Write the mapping (``mapping.yaml``, ``datasets/<code>.yaml``, code maps) atomically;
        returns the data set file.  Errors in the rules are listed next to the button."""
        out = self.mapping.save(directory)
        self.saved_path = Path(out) / "datasets" / f"{self.ds.code}.yaml"
        at = dt.datetime.now().strftime("%H:%M:%S")
        self.save_status.value = f"已保存 {esc(self.saved_path)}（{at}）{self._verdict()}"
        return self.saved_path

    def diff(self) -> str:
        """What a save would change, as a unified diff of the files (empty: nothing)."""
        return self.mapping.diff()

    @guarded
    def show_diff(self) -> str:
        """Show :meth:`diff` below the buttons; returns it."""
        text = self.diff()
        self.diff_view.value = (
            f"<pre style='max-height:320px;overflow:auto;font-size:12px'>{esc(text)}</pre>"
            if text
            else "<div>与上次保存相同，没有修改</div>"
        )
        return text

    @guarded
    def discard(self) -> None:
        """Drop every change since the last save: the mapping is read again from its directory."""
        from ..mapping._config import load_mapping

        if self.mapping.directory is None or not (Path(self.mapping.directory) / "mapping.yaml").exists():
            raise MappingError("对照配置还没有保存过，没有可以回到的版本", where=self.ds.code)
        fresh = load_mapping(self.mapping.directory)
        self.mapping.__dict__.update(fresh.__dict__)  # the same object the notebook holds
        if self.ds.code not in self.mapping.datasets:
            raise MappingError(f"上次保存的配置中没有数据集 {self.ds.code}", where=str(self.mapping.directory))
        self.dm = self.mapping.datasets[self.ds.code]
        self.code_map_editors.clear()
        self.code_maps_box.children = []
        for key, row in self.rows.items():
            self._show_rule(row, self.dm.fields.get(key))
        self.diff_view.value = ""
        self.save_status.value = "已放弃修改，回到上次保存的对照配置"
        self.refresh()

    def _verdict(self) -> str:
        """What still fails after a save (the same strict check as ``hlwjr map check``, plus the
        preview's sample rows); "配置检查通过" only when nothing does."""
        from ..mapping._config import _business_time_issue

        w = str(self.saved_path)
        issues = self.mapping._check_rules(self.spec, self.ds, self.dm.fields, w, top=True, complete=True)
        issues += _business_time_issue(self.spec, self.ds, self.dm, w)
        errors = [i for i in issues if i.severity == "error"]
        left = [f"{len(errors)} 个配置错误：{errors[0].message}"] if errors else []
        n, bad = getattr(self, "_n_preview", 0), getattr(self, "_bad_rows", 0)
        if bad:
            left.append(f"样例 {n} 行中 {bad} 行未通过校验")
        if left:
            return f"；<span style='color:#c62828'>仍有问题：{esc('；'.join(left))}</span>"
        return f"；配置检查通过（样例 {n} 行均通过校验）"
