"""CodeMapEditor (值域对照编辑器): local values beside standard codes, saved as the code map CSV."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import ipywidgets as widgets
import pandas as pd

from .._exceptions import MappingError
from ._base import ErrorsMixin, esc, guarded

__all__ = ["CodeMapEditor", "CodeRow"]

_NONE = ""
_STATUS = [("待审", "suggested"), ("✓ 通过", "accepted"), ("✗ 拒绝", "rejected")]


#: a code set longer than this (an ICD-10 edition: ~33,000 codes) is not listed in every row: each
#: row offers a shortlist for its value and a search box (查找) for any other code or name
FULL_LIST = 300


@dataclass
class CodeRow:
    """One local value's widgets: ``label`` (value, frequency, suggestion), ``code`` (Dropdown of
    the standard codes — for a long code set, a shortlist), ``status`` (ToggleButtons
    待审/通过/拒绝), and for a long code set ``search`` (Text: a code or name to look up)."""

    local: str
    label: widgets.HTML
    code: widgets.Dropdown
    status: widgets.ToggleButtons
    search: widgets.Text | None = None


class CodeMapEditor(ErrorsMixin, widgets.VBox):
    """值域对照编辑器 — one row per local value (本地值), most frequent first.

    Beside each value: how often it occurs in the source, the suggested standard code with its
    score and reason (never accepted automatically), a dropdown of the code set's codes, and the
    review status.  Values without a code are highlighted (未对照: the mapping would reject those
    rows).  Save writes the code map CSV (UTF-8 with BOM for Excel) atomically.

    API: ``rows[local].code.value`` / ``.status.value``, ``set_code(local, code)``, ``unmapped``
    (local values without a code), ``summary_text``, ``to_frame()``, ``save(path=None) -> Path``.
    """

    def __init__(
        self, code_map, code_set, local_values: pd.DataFrame | pd.Series | dict | None = None, *, max_rows: int = 200
    ) -> None:
        from ..mapping._suggest import suggest_codes

        super().__init__()
        self._init_errors()
        self.code_map = code_map
        self.code_set = code_set
        self._syncing = False
        entries = code_map.to_frame()
        counts = self._counts(local_values)
        for local in entries["local"].astype("str"):
            counts.setdefault(local, 0)
        known_names = {str(k): v for k, v in zip(entries["local"], entries["local_name"]) if isinstance(v, str) and v}
        sugg = (
            suggest_codes(
                code_set,
                pd.DataFrame(
                    {
                        "local": list(counts),
                        "local_name": [known_names.get(k) for k in counts],
                        "count": list(counts.values()),
                    }
                ),
            )
            if counts
            else pd.DataFrame(columns=["local", "code", "name", "score", "reason"])
        )
        self.suggestions = {str(r.local): r for r in sugg.itertuples(index=False)}
        order = sorted(counts, key=lambda k: (-counts[k], k))
        self.hidden = max(0, len(order) - max_rows)
        self.counts = counts
        self.rows: dict[str, CodeRow] = {}
        self.full_list = len(code_set.codes) <= FULL_LIST
        options = [("（未对照）", _NONE)]
        if self.full_list:
            options += [(f"{c} {n}", c) for c, n in code_set.codes.items()]
        have = {str(r.local): r for r in entries.itertuples(index=False)}
        cells: list[widgets.Widget] = [
            widgets.HTML(f"<b>{t}</b>")
            for t in ("本地值 local（出现次数 · 建议）", "标准代码 standard code", "审核 review")
        ]
        for local in order[:max_rows]:
            e = have.get(local)
            code = str(e.code) if e is not None and isinstance(e.code, str) and e.code else _NONE
            status = str(e.status) if e is not None and isinstance(e.status, str) and e.status else "suggested"
            if e is None:  # a new local value: start from the suggestion, status 待审
                s = self.suggestions.get(local)
                code = str(s.code) if s is not None and isinstance(s.code, str) and s.code else _NONE
                if code:
                    code_map.set(
                        local,
                        code,
                        name=code_set.codes.get(code),
                        status="suggested",
                        comment=f"建议：{s.reason}（{s.score:.2f}）",
                    )
            shortlist = [] if self.full_list else self._shortlist(local, known_names.get(local))
            dd = widgets.Dropdown(options=self._options(options, shortlist, code), value=code)
            dd.layout = widgets.Layout(width="auto")
            dd.add_class("hlwjr-code")
            st = widgets.ToggleButtons(options=_STATUS, value=status, style={"button_width": "62px"})
            search = None if self.full_list else self._search_box()
            row = CodeRow(local, widgets.HTML(), dd, st, search)
            self.rows[local] = row
            dd.observe(lambda ch, k=local: self._on_code(k, ch["new"]), names="value")
            st.observe(lambda ch, k=local: self._on_status(k, ch["new"]), names="value")
            if search is not None:
                search.observe(lambda ch, k=local: self._on_search(k, ch["new"]), names="value")
            cells += [row.label, dd if search is None else widgets.VBox([dd, search]), st]
        self.grid = widgets.GridBox(
            cells,
            layout=widgets.Layout(
                grid_template_columns="minmax(260px,1.5fr) minmax(200px,1fr) 215px",
                grid_gap="2px 6px",
                align_items="center",
                width="100%",
            ),
        )
        self.summary = widgets.HTML()
        self.summary.add_class("hlwjr-progress")
        self.save_button = widgets.Button(description="保存 Save", button_style="primary", icon="save")
        self.save_button.on_click(lambda _b: self.save())
        self.save_status = widgets.HTML()
        title = widgets.HTML(
            f"<h4 style='margin:4px 0'>值域对照：{esc(code_map.name)} → {esc(code_set.id)} "
            f"{esc(code_set.name)}</h4><div>对照表文件 {esc(code_map.path or '（未保存）')}"
            + (f"；另有 {self.hidden} 个低频本地值未显示（在 CSV 中编辑）" if self.hidden else "")
            + "</div>"
        )
        self.children = [
            title,
            self.summary,
            self.grid,
            widgets.HBox([self.save_button, self.save_status]),
            self.errors,
        ]
        for local in self.rows:
            self._refresh_row(local)
        self._refresh_summary()

    @classmethod
    def from_mapping(cls, mapping, name: str, *, sources: dict | None = None, spec=None, **kw) -> CodeMapEditor:
        """The editor for code map ``name`` of a mapping, with the local values counted in every
        source column that the mapping's rules send through this code map."""
        from ..mapping._context import _Context

        spec = spec or mapping.spec()
        ref = mapping.code_maps.get(name)
        if ref is None:
            raise MappingError(
                f"没有名为 {name!r} 的值域对照表；已有：{', '.join(mapping.code_maps) or '（无）'}",
                where=str(mapping.directory or ""),
            )
        if not ref.code_set:
            raise MappingError(f"值域对照表 {name} 没有指定 code_set（对照到哪个标准值域）", where=f"code_maps.{name}")
        cs = spec.code_set(ref.code_set)
        try:
            cm = mapping.code_map(name)
        except MappingError:
            if mapping._path(ref.file).exists():
                raise
            cm = mapping.add_code_map(name, code_set=ref.code_set, file=ref.file)
        ctx = _Context(mapping, sources)
        values: list[pd.Series] = []
        for dm in mapping.datasets.values():
            for rule in dm.fields.values():
                if rule.kind == "code" and rule.code_map == name and rule.column and "." not in rule.column:
                    df = ctx.read(dm.source)
                    if rule.column in df.columns:
                        values.append(df[rule.column])
        local = pd.concat(values, ignore_index=True) if values else pd.Series([], dtype="str")
        return cls(cm, cs, local, **kw)

    @staticmethod
    def _counts(local_values) -> dict[str, int]:
        from ..mapping._conversions import as_text

        if local_values is None:
            return {}
        if isinstance(local_values, dict):
            return {str(k): int(v) for k, v in local_values.items()}
        if isinstance(local_values, pd.DataFrame):
            return {str(k): int(c or 0) for k, c in zip(local_values["local"], local_values.get("count", 0))}
        vc = as_text(pd.Series(local_values)).dropna().value_counts()
        return {str(k): int(v) for k, v in vc.items()}

    @staticmethod
    def _search_box() -> widgets.Text:
        return widgets.Text(placeholder="查找代码或名称…", continuous_update=False, layout=widgets.Layout(width="auto"))

    def _shortlist(self, local: str, local_name: str | None) -> list[str]:
        from ..mapping._suggest_codes import code_shortlist

        s = self.suggestions.get(local)
        first = [s.code] if s is not None and isinstance(s.code, str) and s.code else []
        return list(dict.fromkeys(first + code_shortlist(self.code_set, local_name or local)))

    def _options(self, options: list, shortlist: list[str], code: str) -> list:
        """The dropdown's options: the code set (or the shortlist), with the current code kept."""
        cs = self.code_set.codes
        opts = options + [(f"{c} {cs[c]}", c) for c in shortlist if c in cs]
        if code != _NONE and code not in {v for _, v in opts}:
            opts.append((f"{code} {cs[code]}" if code in cs else f"{code}（值域中没有）", code))
        return opts

    # ------------------------------------------------------------------ callbacks
    @guarded
    def _on_search(self, local: str, text: str) -> None:
        """A code or name typed in a row's search box: the row's list becomes the codes found; a
        code typed exactly is chosen at once."""
        from ..mapping._suggest_codes import code_shortlist

        text = text.strip()
        if not text:
            return
        found = code_shortlist(self.code_set, text)
        if not found:
            raise MappingError(
                f"值域 {self.code_set.id}（{self.code_set.name}）中没有与“{text}”相近的代码或名称",
                where=str(self.code_map.path or ""),
            )
        row = self.rows[local]
        current = row.code.value
        self._syncing = True
        try:
            row.code.options = self._options([("（未对照）", _NONE)], found, current)
            row.code.value = current
        finally:
            self._syncing = False
        if text in self.code_set.codes:
            self.set_code(local, text)

    @guarded
    def _on_code(self, local: str, code: str) -> None:
        if self._syncing:
            return
        self.set_code(local, code)

    @guarded
    def _on_status(self, local: str, status: str) -> None:
        if self._syncing:
            return
        row = self.rows[local]
        if status != "rejected" and row.code.value == _NONE:
            self._syncing = True
            try:
                row.status.value = "suggested"
            finally:
                self._syncing = False
            raise MappingError(
                f"本地值 {local!r} 还没有选标准代码：先选代码再审核", where=str(self.code_map.path or "")
            )
        code = row.code.value
        self.code_map.set(local, code, name=self.code_set.codes.get(code), status=status)
        self._refresh_row(local)
        self._refresh_summary()

    def set_code(self, local: str, code: str, *, status: str = "suggested") -> None:
        """Map a local value to a standard code (empty: unmapped); the review starts as 待审."""
        if code and code not in self.code_set.codes:
            raise MappingError(
                f"代码 {code!r} 不在值域 {self.code_set.id}（{self.code_set.name}）中",
                where=str(self.code_map.path or ""),
            )
        row = self.rows.get(local)
        self.code_map.set(local, code, name=self.code_set.codes.get(code) if code else None, status=status)
        if row is not None:
            self._syncing = True
            try:
                if code not in {v for _, v in row.code.options}:  # a long code set: not in the shortlist
                    row.code.options = self._options(list(row.code.options), [code], row.code.value)
                if row.code.value != code:
                    row.code.value = code
                row.status.value = status
            finally:
                self._syncing = False
            self._refresh_row(local)
        self._refresh_summary()

    # ------------------------------------------------------------------ views
    def _refresh_row(self, local: str) -> None:
        row = self.rows[local]
        s = self.suggestions.get(local)
        sug = (
            f"建议 {esc(s.code)} {esc(s.name)}（{s.score:.2f}，{esc(s.reason)}）"
            if s is not None and isinstance(s.code, str) and s.code
            else "无可信建议，请人工对照"
        )
        unmapped = row.code.value == _NONE and row.status.value != "rejected"
        style = "background:#fdecea;border-left:4px solid #c62828;padding-left:4px" if unmapped else ""
        cls = "hlwjr-unmapped" if unmapped else "hlwjr-mapped"
        e = self.code_map.entries
        names = e.loc[e["local"].astype("str") == local, "local_name"]
        local_name = names.iloc[0] if len(names) and isinstance(names.iloc[0], str) else ""
        row.label.value = (
            f"<div class='{cls}' style='{style}'><b>{esc(local)}</b> {esc(local_name)} "
            f"<span style='color:#666'>×{self.counts.get(local, 0)}</span><br>"
            f"<span style='font-size:11px;color:#666'>{sug}</span></div>"
        )

    @property
    def unmapped(self) -> list[str]:
        """Local values shown without a standard code (not rejected), most frequent first."""
        return [k for k, r in self.rows.items() if r.code.value == _NONE and r.status.value != "rejected"]

    @property
    def summary_text(self) -> str:
        n = len(self.rows)
        done = n - len(self.unmapped)
        accepted = sum(r.status.value == "accepted" for r in self.rows.values())
        rows_unmapped = sum(self.counts.get(k, 0) for k in self.unmapped)
        return f"{done}/{n} 个本地值已对照 · 已审核通过 {accepted}/{n}" + (
            f" · 未对照的值涉及 {rows_unmapped} 行（映射时将拒收）" if rows_unmapped else ""
        )

    def _refresh_summary(self) -> None:
        color = "#2e7d32" if not self.unmapped else "#c62828"
        self.summary.value = f"<div style='font-size:15px;color:{color}'><b>{esc(self.summary_text)}</b></div>"

    def to_frame(self) -> pd.DataFrame:
        """The code map entries (local, local_name, code, name, status, comment)."""
        return self.code_map.to_frame()

    @guarded
    def save(self, path: str | Path | None = None) -> Path | None:
        """Write the code map CSV atomically; returns its path."""
        if path is None and self.code_map.path is None:
            raise MappingError("对照表还没有文件路径：请用 save(path) 指定，例如 mapping/医院/codes/sex.csv")
        p = self.code_map.save(path)
        self.save_status.value = f"已保存 {esc(p)}（{dt.datetime.now():%H:%M:%S}）"
        return p
