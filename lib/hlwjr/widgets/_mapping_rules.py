"""Editing one field's rule in the MappingEditor: the rule kind and its parameters, the column,
the review status, a new code map for a coded field — each change applied to the mapping at once."""

from __future__ import annotations

import re

import ipywidgets as widgets
import pandas as pd

from .._exceptions import MappingError
from ._base import esc, guarded
from ._mapping_rows import (
    _NONE,
    _PARAM_HELP,
    FieldRow,
    _date_formats,
    _parse_derive,
)


class _RuleEditing:
    """The MappingEditor's per-field rule editing (mixed into it)."""

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
            row.param.options = _date_formats(self.ds.fields[row.key].type)
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
