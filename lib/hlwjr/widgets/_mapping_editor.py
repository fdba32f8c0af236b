"""MappingEditor (字段对照编辑器): decide, field by field, where each spec field comes from."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import pandas as pd

from .._exceptions import MappingError, SourceError
from ._base import ErrorsMixin, badge, esc, guarded

__all__ = ["RULE_KIND_OPTIONS", "FieldRow", "MappingEditor"]

#: the rule kinds an analyst picks from (label, kind); "other" keeps a YAML-only rule (concat, children)
RULE_KIND_OPTIONS = [
    ("取列 column", "column"),
    ("日期格式 date", "date"),
    ("值域对照 code map", "code"),
    ("常量 constant", "const"),
    ("派生 derived", "derive"),
    ("无法提供 n/a", "unavailable"),
    ("其他（YAML 中配置）", "other"),
]
REVIEW_OPTIONS = [("待审", "suggested"), ("✓ 通过", "accepted"), ("✗ 拒绝", "rejected")]
_NONE = ""  # the "no column" choice
_DATE_FORMATS = ["%Y%m%d%H%M%S", "%Y%m%d", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d", "%Y-%m-%d %H:%M", "%Y%m%d %H:%M:%S"]
_PARAM_HELP = {
    "column": "",
    "date": "源日期格式，如 %Y%m%d%H%M%S",
    "code": "值域对照表名，如 sex（新名称 = 新建对照表）",
    "const": "常量值",
    "derive": "函数(列, …)，如 age_from_id(SFZH, SQSJ)",
    "unavailable": "无法提供的原因",
    "other": "在 YAML 中编辑",
}
_TYPE_ZH = {
    "string": "文本",
    "integer": "整数",
    "decimal": "数值",
    "date": "日期",
    "datetime": "日期时间",
    "array": "明细数组",
}


#: what the editor can show (筛选): label → value
SHOW_OPTIONS = [
    ("全部", "all"),
    ("必填", "required"),
    ("未对照", "unmapped"),
    ("未通过", "failing"),
    ("待审核", "unreviewed"),
]


@dataclass
class FieldRow:
    """The widgets of one spec field's row: ``column`` (Dropdown), ``kind`` (Dropdown), ``param``
    (Combobox), ``review`` (ToggleButtons), ``status`` (HTML: validation status in the preview)."""

    key: str
    label: widgets.HTML
    column: widgets.Dropdown
    kind: widgets.Dropdown
    param: widgets.Combobox
    review: widgets.ToggleButtons
    status: widgets.HTML

    def widgets(self) -> list[widgets.Widget]:
        return [self.label, self.column, self.kind, self.param, self.review, self.status]


def _parse_derive(text: str) -> tuple[str, list[str]]:
    m = re.fullmatch(r"\s*([A-Za-z_][\w]*)\s*(?:\((.*)\)|[:：]\s*(.*))?\s*", text or "")
    if not m:
        raise MappingError(f"派生规则 {text!r} 看不懂：请写成 函数名(列1, 列2)，例如 age_from_id(SFZH, SQSJ)")
    args = m.group(2) if m.group(2) is not None else (m.group(3) or "")
    return m.group(1), [a.strip() for a in re.split(r"[,，]", args) if a.strip()]


class MappingEditor(ErrorsMixin, widgets.VBox):
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

    def _show_rule(self, row: FieldRow, rule) -> None:
        """Put a rule's state into a row's widgets without triggering the callbacks."""
        self._syncing = True
        try:
            if rule is None:
                best = self.suggestions.get(row.key)
                row.column.value = _NONE
                row.kind.value = "column"
                row.param.value = ""
                row.review.value = "suggested"
                if best is not None and best.best is not None and best.best.column in self.columns:
                    row.column.tooltip = (
                        f"建议 {best.best.column}（{best.best.score:.2f}）：{'；'.join(best.best.reasons)}"
                    )
            else:
                k = rule.kind
                if k in ("column", "date", "code"):
                    if rule.column not in [v for _l, v in row.column.options]:
                        row.column.options = list(row.column.options) + [(f"{rule.column}（源中没有）", rule.column)]
                    row.column.value = rule.column
                else:
                    row.column.value = _NONE
                if k in ("concat", "children"):
                    row.kind.value = "other"
                    row.param.value = rule.describe()
                else:
                    row.kind.value = k
                    row.param.value = {
                        "date": rule.format or "",
                        "code": rule.code_map or "",
                        "const": "" if k != "const" else str(rule.const),
                        "derive": f"{rule.derive}({', '.join(rule.args)})" if rule.derive else "",
                        "unavailable": rule.unavailable or "",
                    }.get(k, "")
                row.review.value = rule.status
            self._param_options(row)
        finally:
            self._syncing = False

    def _param_options(self, row: FieldRow) -> None:
        from ..mapping._derived import DERIVED

        k = row.kind.value
        row.param.placeholder = _PARAM_HELP.get(k, "")
        row.param.disabled = k in ("column", "other") or self.ds.fields[row.key].type == "array"
        if k == "code":
            row.param.options = list(self.mapping.code_maps)
        elif k == "derive":
            row.param.options = [f"{n}({', '.join(['列'] * d.min_args)})" for n, d in DERIVED.items()]
        elif k == "date":
            row.param.options = _DATE_FORMATS
        else:
            row.param.options = []

    # ------------------------------------------------------------------ callbacks
    @guarded
    def _on_column(self, key: str, column: str) -> None:
        if self._syncing:
            return
        row = self.rows[key]
        if column == _NONE:
            if row.kind.value in ("column", "date", "code"):
                self.dm.remove_rule(key)
                self._show_rule(row, None)
            self.refresh()
            return
        old = self.dm.fields.get(key)
        if old is not None and old.kind in ("column", "date", "code"):
            kind, param = old.kind, row.param.value
        else:
            kind, param = self._default_kind(key, column)
        self._apply(key, column=column, kind=kind, param=param)

    @guarded
    def _on_kind(self, key: str, kind: str) -> None:
        if self._syncing:
            return
        row = self.rows[key]
        self._param_options(row)
        if kind == "other":
            self._show_rule(row, self.dm.fields.get(key))
            raise MappingError(
                "拼接 (concat) 和明细 (children) 规则请在 YAML 中编辑；这里只能查看", where=f"{self.ds.code}.{key}"
            )
        old = self.dm.fields.get(key)
        # a parameter means something else for each rule kind: keep it only for the same kind
        param = row.param.value if old is not None and old.kind == kind else ""
        if kind == "date" and not param and row.column.value:
            param = (
                self._default_kind(key, row.column.value)[1] if self.ds.fields[key].type in ("date", "datetime") else ""
            )
        if kind == "code" and not param:
            param = self._code_map_for(self.ds.fields[key].code_set or "") or ""
        self._apply(key, column=row.column.value, kind=kind, param=param)

    @guarded
    def _on_param(self, key: str, param: str) -> None:
        if self._syncing:
            return
        row = self.rows[key]
        self._apply(key, column=row.column.value, kind=row.kind.value, param=param)

    @guarded
    def _on_review(self, key: str, status: str) -> None:
        if self._syncing:
            return
        if key not in self.dm.fields:
            self._show_rule(self.rows[key], None)
            raise MappingError(
                f"字段 {key}（{self.ds.fields[key].name}）还没有对照规则：先选源列或规则，再审核",
                where=f"{self.ds.code}.{key}",
            )
        self.dm.set_review(key, status, reviewer=self.reviewer)
        self._refresh_progress()

    def _apply(self, key: str, *, column: str, kind: str, param: str) -> None:
        """Turn a row's choices into the field rule (status back to 待审), then refresh."""
        row = self.rows[key]
        rule = self.rule_from(key, column=column, kind=kind, param=param)
        if rule is None:  # incomplete: wait for the parameter
            self._syncing = True
            try:
                row.kind.value = kind
                row.column.value = column if column in [v for _l, v in row.column.options] else _NONE
                row.param.value = param or ""
                self._param_options(row)
            finally:
                self._syncing = False
            row.status.value = f"<span style='color:#ef6c00'>请填写参数：{esc(_PARAM_HELP.get(kind))}</span>"
            return
        old = self.dm.fields.get(key)
        self.dm.set_rule(key, **rule)
        new = self.dm.fields[key]
        if old is not None:  # keep the analyst's note; a changed rule needs a new review
            new.comment = old.comment
        if old is not None and old.kind == "code" and new.kind == "code" and old.code_map == new.code_map:
            new.default, new.take = old.default, old.take
        self._show_rule(row, new)
        self.refresh()

    def rule_from(self, key: str, *, column: str, kind: str, param: str) -> dict | None:
        """The rule dict for a row's choices; None when a needed parameter is still empty."""
        param = (param or "").strip()
        if kind == "column":
            return {"column": column} if column else None
        if kind == "date":
            if not column or not param:
                return None
            if "%" not in param:
                raise MappingError(
                    f"日期格式 {param!r} 无效：用 strftime 写法，如 %Y%m%d%H%M%S", where=f"{self.ds.code}.{key}"
                )
            return {"column": column, "format": param}
        if kind == "code":
            if not column or not param:
                return None
            if param not in self.mapping.code_maps:
                self.new_code_map(key, param, column)
            return {"column": column, "code_map": param}
        if kind == "const":
            return {"const": param} if param else None
        if kind == "derive":
            if not param:
                return None
            name, args = _parse_derive(param)
            missing = [a for a in args if a not in self.columns]
            if missing:
                raise MappingError(f"派生参数列 {', '.join(missing)} 不在源表中", where=f"{self.ds.code}.{key}")
            return {"derive": name, "args": args}
        if kind == "unavailable":
            return {"unavailable": param or "HIS 不记录该项"}
        return None

    def new_code_map(self, key: str, name: str, column: str):
        """Create code map ``name`` (``codes/<name>.csv``) for field ``key``'s code set, seeded with
        the distinct values of ``column`` and their suggestions (leading-zero and full-width fixes
        included), every entry 待审; it opens below the grid as a CodeMapEditor and is saved with
        the mapping.  Returns the CodeMapEditor."""
        from ..sources._profile import KIND_LABELS, guess_kind
        from ._code_map_editor import CodeMapEditor

        f, where = self.ds.fields[key], f"{self.ds.code}.{key}"
        if not f.code_set:
            raise MappingError(f"字段 {key}（{f.name}）没有值域，不能用值域对照；请改用“取列”", where=where)
        if not re.fullmatch(r"[\w\-]+", name):
            raise MappingError(
                f"值域对照表名称 {name!r} 只能用字母、数字、汉字、- 和 _（它也是文件名 codes/<名称>.csv）", where=where
            )
        values = self.frame[column].dropna() if column in self.frame.columns else pd.Series([], dtype="str")
        kind = guess_kind(values.astype("str"))[0] if len(values) else "empty"
        if kind in ("id_card", "mobile", "name"):
            raise MappingError(
                f"列 {column} 看起来是{KIND_LABELS[kind]}，不是本地代码列：值域对照只用于代码列", where=where
            )
        cs = self.spec.code_set(f.code_set)
        cm = self.mapping.add_code_map(name, code_set=cs.id)
        editor = CodeMapEditor(cm, cs, values)
        self.code_map_editors[name] = editor
        self.code_maps_box.children = list(self.code_maps_box.children) + [
            widgets.HTML(
                f"<b>新建的值域对照表 {esc(name)}</b>（{esc(column)} 的 {len(editor.rows)} 个本地值，建议待审；"
                "随“保存”写入 codes/）"
            ),
            editor,
        ]
        for row in self.rows.values():  # the new map is offered in every code-map parameter
            if row.kind.value == "code":
                self._param_options(row)
        return editor

    # ------------------------------------------------------------------ public API
    def set_rule(
        self, key: str, *, column: str | None = None, kind: str | None = None, param: str | None = None
    ) -> None:
        """Set a field's rule as a person would in its row (column, rule kind, parameter)."""
        row = self.rows[key]
        if kind is not None and param is not None:
            self._syncing = True
            try:
                row.param.value = param
            finally:
                self._syncing = False
        if column is not None:
            row.column.value = column
        if kind is not None:
            row.kind.value = kind
        if param is not None and row.param.value != param:
            row.param.value = param
        elif param is not None and kind is not None and kind != "other":
            self._on_param(key, param)  # nothing changed on screen (same kind): apply the parameter anyway

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
        from .._privacy import mask_kind, mask_value
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
