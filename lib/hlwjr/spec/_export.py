"""Export a spec as a readable interface document (接口文档) for review: Word (.docx) or Excel (.xlsx).

The document is laid out like the platform's own 数据接口文档, so the people who review it (the
hospital's 信息科, the vendor, the regulator) read it the way they read the original:

* a title page: spec title, id (规范标识), version (规范版本), whether it is official and the
  notice (e.g. "参考规范（依据公开资料推断，非北京市官方文档）");
* one section per data set: a heading ``{章节} {中文名称} {代码}``, a few labelled lines
  (数据集代码, 别名, 业务主键, 上传顺序依赖, 说明) and the field table
  序号/字段名/中文名称/类型/长度/必填/值域/说明, then its record rules (校验规则) and references
  (关联引用) when it has any;
* appendix code tables (附录A 代码表), one per code set: 代码/名称 (+ 上级代码, 备注).

:func:`hlwjr.import_spec` reads these documents back losslessly for fields, types, lengths,
precision, required flags and codes (tests check the round trip on the whole reference spec).
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from pathlib import Path
from typing import Any

from .._exceptions import ConfigError, SpecError
from .._files import atomic_write
from .._sheets import formulas_as_text

__all__ = ["FIELD_TABLE_HEADER", "export_spec", "length_label", "required_label", "type_label"]

FIELD_TABLE_HEADER = ("序号", "字段名", "中文名称", "类型", "长度", "必填", "值域", "说明")
_CODE_HEADER = ("代码", "名称")
_RULE_HEADER = ("规则", "名称", "参数", "级别", "说明")
_REF_HEADER = ("本字段", "被引用数据集", "范围", "级别", "说明")

_TYPE_LABEL = {
    "string": "字符型",
    "integer": "整数",
    "decimal": "数值",
    "date": "日期",
    "datetime": "日期时间",
    "array": "数组",
}


def type_label(f) -> str:
    """The 类型 cell of a field: 字符型/整数/数值/日期/日期时间/数组."""
    return _TYPE_LABEL.get(f.type, f.type)


def length_label(f) -> str:
    """The 长度 cell: max length of a string, digits of an integer, ``总位数,小数位`` of a decimal."""
    if f.type == "string":
        if f.max_length is not None and getattr(f, "min_length", None):
            return f"{f.min_length}..{f.max_length}"  # 6..20: at least 6, at most 20 characters
        return "" if f.max_length is None else str(f.max_length)
    if f.type == "integer":
        return "" if f.total_digits is None else str(f.total_digits)
    if f.type == "decimal":
        if f.total_digits is not None and f.precision is not None:
            return f"{f.total_digits},{f.precision}"
        if f.total_digits is not None:
            return str(f.total_digits)
        if f.precision is not None:
            return f"{f.precision}位小数"
    return ""


def required_label(f) -> str:
    """The 必填 cell: 是 / 否 / 条件（rule name）."""
    if f.required is True:
        return "是"
    if isinstance(f.required, str) and f.required:
        return f"条件（{f.required}）"
    return "否"


def _num_text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return f"{v:.1f}"
    return str(v)


def _value_text(v: Any) -> str:
    """An example/const value as written in the 说明 cell (JSON for lists and objects)."""
    if isinstance(v, (list, dict, bool)):
        import json

        return json.dumps(v, ensure_ascii=False)
    return str(v)


class _Layout:
    """Section numbers of data sets and code sets, shared by both formats."""

    def __init__(self, spec) -> None:
        self.spec = spec
        order: list = []
        seen: set[str] = set()

        def add(ds) -> None:
            if ds.code in seen:
                return
            seen.add(ds.code)
            order.append(ds)
            for child in (d for d in spec.datasets.values() if d.parent == ds.code):
                add(child)

        for ds in spec.datasets.values():
            if ds.parent is None or ds.parent not in spec.datasets:
                add(ds)
        for ds in spec.datasets.values():
            add(ds)
        self.datasets = order
        self.section: dict[str, str] = {}
        used = {ds.section for ds in order if ds.section}
        n = 0
        for ds in order:
            if ds.section and list(self.section.values()).count(ds.section) == 0:
                self.section[ds.code] = ds.section
                continue
            if ds.parent and ds.parent in self.section:
                base, k = self.section[ds.parent], 1
                while f"{base}.{k}" in used:
                    k += 1
                sec = f"{base}.{k}"
            else:
                n += 1
                while f"2.{n}" in used:
                    n += 1
                sec = f"2.{n}"
            used.add(sec)
            self.section[ds.code] = sec
        self.code_sets = list(spec.code_sets.values())
        self.cs_section = {cs.id: f"A.{i}" for i, cs in enumerate(self.code_sets, start=1)}

    def title(self, ds) -> str:
        return f"{self.section[ds.code]} {ds.name} {ds.code}"

    def cs_title(self, cs) -> str:
        return f"{self.cs_section[cs.id]} {cs.name}（{cs.id}）"

    def meta_lines(self, ds) -> list[str]:
        lines = [f"数据集代码：{ds.code}", f"数据集名称：{ds.name}"]
        if ds.aliases:
            lines.append("别名：" + ", ".join(ds.aliases))
        lines.append("业务主键：" + (", ".join(ds.key) if ds.key else "无"))
        if ds.depends_on:
            lines.append("上传顺序依赖：" + ", ".join(ds.depends_on))
        if ds.parent:
            lines.append(f"所属父数据集：{ds.parent}")
        if ds.description:
            lines.append("说明：" + " ".join(str(ds.description).split("\n")))
        return lines

    def cs_meta_lines(self, cs) -> list[str]:
        lines = [f"值域名称：{cs.name}"]
        if cs.standard:
            lines.append(f"标准：{cs.standard}")
        if cs.provenance:
            lines.append(f"来源：{cs.provenance}")
        if not cs.complete:
            lines.append("完整性：不完整（只列出部分代码，表外代码不视为错误）")
        if cs.aliases:
            lines.append("别名：" + "；".join(cs.aliases))
        if cs.description:
            lines.append("说明：" + " ".join(str(cs.description).split("\n")))
        return lines

    def codeset_cell(self, f) -> str:
        spec = self.spec
        if f.type == "array" and f.item:
            child = spec.datasets.get(f.item)
            if child is not None:
                return f"见{self.section[child.code]} {child.name}（{child.code}）"
            return f"见（{f.item}）"
        if f.code_set:
            try:
                cs = spec.code_set(f.code_set)
            except SpecError:
                return f"见（{f.code_set}）"
            return f"见{self.cs_section[cs.id]} {cs.name}（{cs.id}）"
        return ""

    def description_cell(self, f) -> str:
        lines = []
        if f.description:
            lines.append(str(f.description))
        if f.minimum is not None or f.maximum is not None:
            lo = "" if f.minimum is None else _num_text(f.minimum)
            hi = "" if f.maximum is None else _num_text(f.maximum)
            lines.append(f"取值范围：{lo}–{hi}")
        if f.pattern:
            lines.append(f"格式：{f.pattern}")
        if f.const is not None:
            lines.append(f"固定值：{_value_text(f.const)}")
        if f.min_items is not None:
            lines.append(f"至少：{f.min_items} 条")
        if f.example is not None:
            lines.append(f"示例：{_value_text(f.example)}")
        if f.provenance:
            lines.append(f"来源：{f.provenance}")
        if f.aliases:
            lines.append("别名：" + "；".join(f"{k}={v}" for k, v in f.aliases.items()))
        return "\n".join(lines)

    def field_rows(self, ds) -> list[list[str]]:
        return [
            [
                str(i),
                f.key,
                f.name,
                type_label(f),
                length_label(f),
                required_label(f),
                self.codeset_cell(f),
                self.description_cell(f),
            ]
            for i, f in enumerate(ds.fields.values(), start=1)
        ]

    @staticmethod
    def rule_rows(ds) -> list[list[str]]:
        import yaml

        rows = []
        for r in ds.rules:
            params = (
                yaml.safe_dump(dict(r.params), default_flow_style=True, allow_unicode=True, width=10_000).strip()
                if r.params
                else "{}"
            )
            rows.append(
                [r.id, r.name or "", params, "警告" if r.severity == "warning" else "错误", r.description or ""]
            )
        return rows

    @staticmethod
    def ref_rows(ds) -> list[list[str]]:
        rows = []
        for r in ds.references:
            fields = ", ".join(f"{a}→{b}" for a, b in r.fields.items())
            rows.append(
                [
                    fields,
                    " | ".join(r.datasets),
                    r.where,
                    "警告" if r.severity == "warning" else "错误",
                    r.description or "",
                ]
            )
        return rows

    def front_lines(self) -> list[str]:
        from .. import __version__

        spec = self.spec
        lines = [
            f"规范名称：{spec.title}",
            f"规范标识：{spec.id}",
            f"规范版本：{spec.version}",
            f"官方文档：{'是' if spec.official else '否'}",
        ]
        if spec.notice:
            lines.append(f"声明：{spec.notice}")
        if spec.source:
            lines.append(f"来源文档：{spec.source}")
        for tag, text in spec.provenance_tags.items():
            lines.append(f"来源标记 {tag}：{text}")
        lines.append(
            f"生成：hlwjr {__version__} 于 {_dt.date.today().isoformat()} 导出；数据集 {len(spec.datasets)} 个，值"
            f"域 {len(spec.code_sets)} 个"
        )
        return lines


# --------------------------------------------------------------------------------------------
# Word


def _docx(spec, path: Path) -> None:
    import docx
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_BREAK
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    lay = _Layout(spec)
    doc = docx.Document()
    sec = doc.sections[0]  # A4 landscape: field tables have eight columns
    sec.orientation = WD_ORIENT.LANDSCAPE
    sec.page_width, sec.page_height = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(sec, side, Cm(1.8))
    style = doc.styles["Normal"]
    style.font.size = Pt(10)
    rpr = style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), "宋体")

    doc.add_heading(spec.title, level=0)
    for line in lay.front_lines():
        doc.add_paragraph(line)
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)

    def table(header, rows, widths=None):
        t = doc.add_table(rows=1 + len(rows), cols=len(header))
        t.style = "Table Grid"
        all_rows = list(t.rows)
        hdr = all_rows[0]
        trpr = hdr._tr.get_or_add_trPr()
        rep = OxmlElement("w:tblHeader")  # repeat the header row on every page
        rep.set(qn("w:val"), "true")
        trpr.append(rep)
        for cell, text in zip(hdr.cells, header):
            cell.text = ""
            run = cell.paragraphs[0].add_run(text)
            run.bold = True
        for row, values in zip(all_rows[1:], rows):
            for cell, text in zip(row.cells, values):
                cell.text = text
        if widths:
            t.autofit = False
            for row in all_rows:
                for cell, w in zip(row.cells, widths):
                    cell.width = Cm(w)
        return t

    doc.add_heading("1 数据集", level=1)
    for ds in lay.datasets:
        doc.add_heading(lay.title(ds), level=2)
        for line in lay.meta_lines(ds):
            doc.add_paragraph(line)
        table(FIELD_TABLE_HEADER, lay.field_rows(ds), (1.0, 3.6, 3.4, 1.7, 1.4, 2.0, 4.4, 8.6))
        if ds.rules:
            doc.add_paragraph(f"{ds.name}（{ds.code}）校验规则")
            table(_RULE_HEADER, lay.rule_rows(ds), (3.4, 3.4, 11.0, 1.6, 6.7))
        if ds.references:
            doc.add_paragraph(f"{ds.name}（{ds.code}）关联引用")
            table(_REF_HEADER, lay.ref_rows(ds))
    if lay.code_sets:
        doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        doc.add_heading("附录A 代码表", level=1)
        for cs in lay.code_sets:
            doc.add_heading(lay.cs_title(cs), level=2)
            for line in lay.cs_meta_lines(cs):
                doc.add_paragraph(line)
            header, rows = _code_rows(cs)
            table(header, rows, (3.0, 9.0, 3.0, 9.0)[: len(header)])
    atomic_write(path, doc.save)


def _code_rows(cs) -> tuple[list[str], list[list[str]]]:
    columns, rows = cs.table()
    extra = {"parent": "上级代码", "note": "备注"}
    return list(_CODE_HEADER) + [extra[c] for c in columns[2:]], rows


# --------------------------------------------------------------------------------------------
# Excel


def _sheet_name(text: str, used: set[str]) -> str:
    name = re.sub(r"[\[\]:*?/\\]", "_", text).strip("'")[:31] or "sheet"
    base, k = name, 2
    while name.lower() in used:
        suffix = f"_{k}"
        name = base[: 31 - len(suffix)] + suffix
        k += 1
    used.add(name.lower())
    return name


def _xlsx(spec, path: Path) -> None:
    import openpyxl
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    lay = _Layout(spec)
    wb = openpyxl.Workbook()
    bold = Font(bold=True)
    title_font = Font(bold=True, size=14)
    fill = PatternFill("solid", fgColor="DDEBF7")
    wrap = Alignment(wrap_text=True, vertical="top")
    used: set[str] = set()

    cover = wb.active
    cover.title = _sheet_name("封面", used)
    cover.append([spec.title])
    cover["A1"].font = title_font
    for line in lay.front_lines():
        cover.append([line])
    cover.append([])
    cover.append(["目录（工作表）"])
    cover.cell(row=cover.max_row, column=1).font = bold
    cover.column_dimensions["A"].width = 100

    def write_table(ws, header, rows):
        ws.append(list(header))
        r = ws.max_row
        for c in range(1, len(header) + 1):
            cell = ws.cell(row=r, column=c)
            cell.font = bold
            cell.fill = fill
        for values in rows:
            ws.append(list(values))
            for c in range(1, len(values) + 1):
                ws.cell(row=ws.max_row, column=c).alignment = wrap
        return r

    for ds in lay.datasets:
        ws = wb.create_sheet(_sheet_name(f"{ds.code} {ds.name}", used))
        cover.append([f"{lay.title(ds)} → 工作表「{ws.title}」"])
        ws.append([lay.title(ds)])
        ws["A1"].font = title_font
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(FIELD_TABLE_HEADER))
        for line in lay.meta_lines(ds):
            ws.append([line])
        ws.append([])
        hdr_row = write_table(ws, FIELD_TABLE_HEADER, lay.field_rows(ds))
        ws.freeze_panes = ws.cell(row=hdr_row + 1, column=1)
        ws.auto_filter.ref = f"A{hdr_row}:{get_column_letter(len(FIELD_TABLE_HEADER))}{ws.max_row}"
        for ci, width in enumerate((6, 22, 22, 10, 8, 12, 30, 60), start=1):
            ws.column_dimensions[get_column_letter(ci)].width = width
        if ds.rules:
            ws.append([])
            ws.append([f"{ds.name}（{ds.code}）校验规则"])
            write_table(ws, _RULE_HEADER, lay.rule_rows(ds))
        if ds.references:
            ws.append([])
            ws.append([f"{ds.name}（{ds.code}）关联引用"])
            write_table(ws, _REF_HEADER, lay.ref_rows(ds))
    if lay.code_sets:
        ws = wb.create_sheet(_sheet_name("附录A 代码表", used))
        cover.append([f"附录A 代码表（{len(lay.code_sets)} 个） → 工作表「{ws.title}」"])
        for cs in lay.code_sets:
            if ws.max_row > 1:
                ws.append([])
            ws.append([lay.cs_title(cs)])
            ws.cell(row=ws.max_row, column=1).font = bold
            for line in lay.cs_meta_lines(cs):
                ws.append([line])
            header, rows = _code_rows(cs)
            write_table(ws, header, rows)
        ws.column_dimensions["A"].width = 16
        ws.column_dimensions["B"].width = 40

    formulas_as_text(wb)  # a description such as "=见附录" stays text
    atomic_write(path, wb.save)


# --------------------------------------------------------------------------------------------


def export_spec(spec, path: str | os.PathLike, format: str | None = None) -> Path:
    """Write ``spec`` (a Spec, a spec name or a spec directory) as a review document.

    ``format`` is ``"docx"`` (Word) or ``"xlsx"`` (Excel); by default it follows the file's
    extension. The file is written whole or not at all (temp file, then rename). Returns the path.
    """
    from ._load import load_spec

    spec = load_spec(spec)
    out = Path(path)
    fmt = (format or out.suffix.lstrip(".") or "docx").lower()
    if fmt not in ("docx", "xlsx"):
        raise ConfigError(f"不支持的导出格式 {fmt!r}：请用 docx（Word）或 xlsx（Excel）")
    if out.suffix.lower() != f".{fmt}":
        if out.suffix:
            raise ConfigError(f"文件名 {out.name} 的扩展名与格式 {fmt} 不一致；请用 .{fmt} 结尾")
        out = out.with_suffix(f".{fmt}")
    if out.is_dir():
        raise ConfigError(f"{out} 是一个目录；请给出文件名，例如 {out / (spec.id + '.' + fmt)}")
    (_docx if fmt == "docx" else _xlsx)(spec, out)
    return out
