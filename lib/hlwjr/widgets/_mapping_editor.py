"""MappingEditor (字段对照编辑器): decide, field by field, where each spec field comes from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ipywidgets as widgets
import pandas as pd

from .._exceptions import MappingError, SourceError
from ._base import ErrorsMixin, badge, esc
from ._mapping_review import _Review
from ._mapping_rows import (
    _NONE,
    _TYPE_ZH,
    REVIEW_OPTIONS,
    RULE_KIND_OPTIONS,
    SHOW_OPTIONS,
    FieldRow,
)
from ._mapping_rules import _RuleEditing

__all__ = ["RULE_KIND_OPTIONS", "FieldRow", "MappingEditor"]


class MappingEditor(_RuleEditing, _Review, ErrorsMixin, widgets.VBox):
    """字段对照编辑器 — one row per spec field of a data set.

    Each row shows the field's Chinese name, whether it is required (必填) and its type, a dropdown
    of the source columns with the ranked suggestions and their scores first, the rule options
    (取列 / 日期格式 / 值域对照 / 常量 / 派生 / 无法提供) with their parameter, the review status
    (待审 / 通过 / 拒绝, Usagi style: nothing is accepted automatically) and the field's
    validation status on the sample rows.  Below: the progress text ("23/31 必填字段已对照"), Save
    (writes ``datasets/<code>.yaml`` of the mapping directory, atomically) and a live preview of the
    mapped values for the first sample rows (masked), cells with problems in red.

    Public API (also what the headless tests use):

    * ``rows[field_key]`` — the :class:`FieldRow` widgets; set ``.column.value`` / ``.kind.value`` /
      ``.param.value`` / ``.review.value`` as a person would;
    * ``set_rule(field_key, column=…, kind=…, param=…)``, ``accept(field_key)``, ``reject(field_key)``;
    * ``progress_text``, ``preview_frame`` (DataFrame: field, name, rule, sample values…, status),
      ``field_status`` (field → "ok" | "problem" | "unmapped"), ``dataset_mapping``;
    * ``save(directory=None) -> Path``; ``errors`` / ``last_error`` for callback errors.
    """

    def __init__(
        self,
        mapping,
        dataset: str,
        *,
        sources: dict | None = None,
        spec=None,
        table: str | None = None,
        sample: int = 5,
        reviewer: str | None = None,
        profile_rows: int = 2000,
        min_score: float = 0.75,
    ) -> None:
        from ..mapping._model import DatasetMapping, SourceRef

        super().__init__()
        self._init_errors()
        self.mapping = mapping
        self.spec = spec or mapping.spec()
        self.ds = self.spec.dataset(dataset)
        self.reviewer = reviewer or "分析员"
        self.sample = sample
        self._sources = sources
        self._syncing = False
        self.saved_path: Path | None = None
        if self.ds.code in mapping.datasets:
            self.dm = mapping.datasets[self.ds.code]
        elif table:
            self.dm = DatasetMapping(dataset=self.ds.code, source=SourceRef(table=table))
            mapping.datasets[self.ds.code] = self.dm
        else:
            raise MappingError(
                f"对照配置中还没有数据集 {self.ds.code}（{self.ds.name}）：请用 table= 指定它的源表",
                where=str(mapping.directory or ""),
            )
        new = not self.dm.fields
        self._load_source(profile_rows)
        self._suggest()
        if new:
            self._prefill(min_score)
        self._build()
        self.refresh()

    # ------------------------------------------------------------------ source and suggestions
    def _load_source(self, profile_rows: int) -> None:
        """Read the first rows of the source table, joined as the mapping joins them."""
        from ..mapping._context import _Context
        from ..mapping._engine import _Issues, _join

        ctx = _Context(self.mapping, self._sources)
        src = ctx.open(self.dm.source)
        chunks = src.iter_chunks(max(profile_rows, self.sample))
        try:
            raw = next(iter(chunks), None)
        finally:
            chunks.close()
        if raw is None or len(raw) == 0:
            raise SourceError(
                f"数据源 {self.dm.source.label} 是空的：没有可用于对照预览的数据行；请检查导出或查询条件",
                where=self.dm.source.label,
            )
        raw = raw.reset_index(drop=True)
        self.raw = raw
        rows = pd.Series(range(1, len(raw) + 1), index=raw.index)
        joined, _ = (
            _join(raw, self.dm.source.joins, ctx, _Issues(self.ds.code, self.dm.source.label), rows)
            if self.dm.source.joins
            else (raw, None)
        )
        self.frame = joined
        self.columns = [str(c) for c in joined.columns]
        # the tables the preview reads: the sample rows of the main table + whole joined tables
        tables: dict[Any, pd.DataFrame] = {self.dm.source.table: raw.head(self.sample)}
        for j in self.dm.source.joins:
            tables[j.table] = ctx.read(j)
        for rule in self.dm.fields.values():
            if rule.kind == "children" and rule.children.source.table:
                tables[rule.children.source.table] = self._child_rows(ctx, rule.children, raw.head(self.sample))
        names = list(self.mapping.sources) or [None]
        self._preview_sources = {name: tables for name in names}

    @staticmethod
    def _child_rows(ctx, ch, parent: pd.DataFrame) -> pd.DataFrame:
        """The detail rows (明细) of the sample parent rows only, read chunk by chunk."""
        from ..mapping._conversions import as_text

        keys = list(ch.keys.items())
        wanted = set(zip(*[as_text(parent[p]).fillna("") for _c, p in keys if p in parent.columns]))
        parts = []
        src = ctx.open(ch.source)
        chunks = src.iter_chunks(50_000)
        try:
            for chunk in chunks:
                have = list(zip(*[as_text(chunk[c]).fillna("") for c, _p in keys if c in chunk.columns]))
                mask = [k in wanted for k in have]
                parts.append(chunk[mask])
        finally:
            chunks.close()
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()

    def _suggest(self) -> None:
        from ..mapping._suggest import suggest_fields
        from ..sources._profile import profile_frame

        self.profile = profile_frame(self.frame, source=self.dm.source.label)
        self.suggestions = {s.field: s for s in suggest_fields(self.ds, self.profile)}

    def _prefill(self, min_score: float) -> None:
        """A data set without rules starts from the best suggestion per field (score ≥
        ``min_score``), every rule 待审 (suggested) — a first draft to review, never accepted."""
        for key, s in self.suggestions.items():
            best = s.best
            if best is None or best.score < min_score or s.type == "array" or best.column not in self.columns:
                continue
            kind, param = self._default_kind(key, best.column)
            rule = self.rule_from(key, column=best.column, kind=kind, param=param) or {"column": best.column}
            r = self.dm.set_rule(key, **rule)
            r.score = round(best.score, 3)
            r.comment = "建议：" + "；".join(best.reasons)

    def _column_options(self, key: str) -> list[tuple[str, str]]:
        s = self.suggestions.get(key)
        opts: list[tuple[str, str]] = [("（不取列）", _NONE)]
        ranked = []
        if s is not None:
            for c in s.candidates:
                if c.column in self.columns:
                    ranked.append(c.column)
                    opts.append((f"{c.column} · {c.score:.2f}{' ★' if len(ranked) == 1 else ''}", c.column))
        opts += [(c, c) for c in self.columns if c not in ranked]
        return opts

    def _default_kind(self, key: str, column: str) -> tuple[str, str]:
        """The natural rule for a column picked for a field: a date reformat when the column's format
        is not the spec's, a code map when the field has a code set, else the plain column."""
        f = self.ds.fields[key]
        if f.type in ("date", "datetime"):
            try:
                fmt = self.profile.column(column).date_format
            except KeyError:
                fmt = None
            want = "%Y-%m-%d" if f.type == "date" else "%Y-%m-%d %H:%M:%S"
            if fmt and fmt != want:
                return "date", fmt
        if f.code_set:
            name = self._code_map_for(f.code_set)
            if name:
                return "code", name
        return "column", ""

    def _code_map_for(self, code_set: str) -> str | None:
        try:
            target = self.spec.code_set(code_set).id
        except Exception:
            return None
        for name, ref in self.mapping.code_maps.items():
            try:
                if ref.code_set and self.spec.code_set(ref.code_set).id == target:
                    return name
            except Exception:
                continue
        return None

    # ------------------------------------------------------------------ widgets
    def _build(self) -> None:
        self.rows: dict[str, FieldRow] = {}
        head = [
            widgets.HTML(f"<b>{t}</b>")
            for t in (
                "字段 field（中文名 · 必填 · 类型）",
                "源列 column（建议 · 分数）",
                "规则 rule",
                "参数 parameter",
                "审核 review",
                "样例校验 status",
            )
        ]
        self._head = list(head)
        cells: list[widgets.Widget] = list(head)
        for key, f in self.ds.fields.items():
            row = self._make_row(key, f)
            self.rows[key] = row
            cells += row.widgets()
        self.show = widgets.ToggleButtons(options=SHOW_OPTIONS, value="all", style={"button_width": "78px"})
        self.show.add_class("hlwjr-filter")
        self.search = widgets.Text(placeholder="搜索字段、中文名或源列", continuous_update=True)
        self.search.add_class("hlwjr-search")
        self.accept_shown = widgets.Button(
            description="接受所显示的建议", icon="check", tooltip="把当前显示的、待审核的建议都标为审核通过"
        )
        self.accept_shown.add_class("hlwjr-accept-shown")
        self.shown_count = widgets.HTML()
        self.show.observe(lambda _c: self.apply_filter(), names="value")
        self.search.observe(lambda _c: self.apply_filter(), names="value")
        self.accept_shown.on_click(lambda _b: self.accept_visible())
        self.grid = widgets.GridBox(
            cells,
            layout=widgets.Layout(
                grid_template_columns=(
                    # fits a 1280 px screen with JupyterLab's file browser open (~800 px of output)
                    "minmax(150px,1.4fr) minmax(110px,1fr) 105px minmax(90px,1fr) 192px minmax(100px,1fr)"
                ),
                grid_gap="2px 6px",
                align_items="center",
                width="100%",
            ),
        )
        src = self.dm.source
        joins = f"，关联 {', '.join(j.name for j in src.joins)}" if src.joins else ""
        self.title = widgets.HTML(
            f"<h4 style='margin:4px 0'>字段对照：{esc(self.ds.code)} {esc(self.ds.name)}</h4>"
            f"<div>源表 {esc(src.label)}{esc(joins)}（{len(self.frame)} 行用于建议，前 {self.sample} 行用于预览）；"
            f"对照配置 {esc(self.mapping.directory or '（未保存）')}</div>"
        )
        self.progress = widgets.HTML()
        self.progress.add_class("hlwjr-progress")
        self.save_button = widgets.Button(
            description="保存 Save",
            button_style="primary",
            icon="save",
            tooltip="写入对照目录下的 datasets/<数据集>.yaml",
        )
        self.save_button.add_class("hlwjr-save")
        self.save_button.on_click(lambda _b: self.save())
        self.diff_button = widgets.Button(description="差异 Diff", icon="columns", tooltip="保存会改动哪些行")
        self.diff_button.on_click(lambda _b: self.show_diff())
        self.discard_button = widgets.Button(description="放弃修改", icon="undo", tooltip="回到上次保存的对照配置")
        self.discard_button.on_click(lambda _b: self.discard())
        self.diff_view = widgets.HTML()
        self.diff_view.add_class("hlwjr-diff")
        self.save_status = widgets.HTML()
        self.preview = widgets.HTML()
        self.preview.add_class("hlwjr-preview")
        self.code_map_editors: dict[str, Any] = {}
        self.code_maps_box = widgets.VBox()
        self.code_maps_box.add_class("hlwjr-new-code-maps")
        self.children = [
            self.title,
            self.progress,
            widgets.HBox([self.show, self.search, self.accept_shown, self.shown_count]),
            self.grid,
            widgets.HBox([self.save_button, self.diff_button, self.discard_button, self.save_status]),
            self.diff_view,
            self.errors,
            self.code_maps_box,
            widgets.HTML("<b>预览 preview</b>（映射后的样例记录，已脱敏；红色为校验问题）"),
            self.preview,
        ]

    def _make_row(self, key: str, f) -> FieldRow:
        req = badge("必填", "#c62828") if f.is_required else (badge("条件必填", "#ef6c00") if f.required else "")
        extra = f" · 值域 {esc(f.code_set)}" if f.code_set else ""
        length = f"({f.max_length})" if f.max_length else ""
        tip = f" title='{esc(f.description)}'" if f.description else ""  # the spec's description on hover
        label = widgets.HTML(
            f"<span{tip}><b>{esc(f.name)}</b> {req}<br><code>{esc(key)}</code> "
            f"<span style='color:#666'>{_TYPE_ZH.get(f.type, f.type)}{length}{extra}</span>"
            + ("<span style='color:#1565c0'> ⓘ</span>" if f.description else "")
            + "</span>"
        )
        rule = self.dm.fields.get(key)
        array = f.type == "array"
        col = widgets.Dropdown(options=self._column_options(key), layout=widgets.Layout(width="auto"))
        col.add_class(f"hlwjr-col-{key}")
        kind = widgets.Dropdown(options=RULE_KIND_OPTIONS, layout=widgets.Layout(width="auto"))
        kind.add_class(f"hlwjr-kind-{key}")
        param = widgets.Combobox(
            placeholder="", ensure_option=False, continuous_update=False, layout=widgets.Layout(width="auto")
        )
        review = widgets.ToggleButtons(
            options=REVIEW_OPTIONS, style={"button_width": "62px"}, layout=widgets.Layout(width="auto")
        )
        review.add_class(f"hlwjr-review-{key}")
        status = widgets.HTML()
        row = FieldRow(key, label, col, kind, param, review, status)
        self._show_rule(row, rule)
        if array:
            col.disabled = kind.disabled = param.disabled = True
        col.observe(lambda ch, k=key: self._on_column(k, ch["new"]), names="value")
        kind.observe(lambda ch, k=key: self._on_kind(k, ch["new"]), names="value")
        param.observe(lambda ch, k=key: self._on_param(k, ch["new"]), names="value")
        review.observe(lambda ch, k=key: self._on_review(k, ch["new"]), names="value")
        return row
