"""指标对照表: the mapping as the table business colleagues review (one row per spec field), and
their edits taken back into the mapping YAML.

``export_table(mapping, path)`` writes an Excel workbook: sheet ``指标对照表`` with, per data set of
the mapping and every spec field — 数据集, 字段, 中文名, 类型, 必填, 说明 (from the spec), 规则说明 (the
rule in words), 规则 (the rule in config form, e.g. ``{column: XB, code_map: sex}``), 值域对照 (code-map
summary), 样例值 (the first mapped values, masked), 状态, 审核人, 备注 — plus a ``meta`` sheet (``kind``/``version``).

``import_table(mapping, path)`` reads such a workbook back: the editable columns are 规则, 状态,
审核人 and 备注.  A row whose 规则 changed goes back to 待审 unless its 状态 was changed too.
Unknown columns, data sets, fields, code maps and unreadable rules are refused with the sheet,
row and column named; nothing is changed then.  Returns what changed; :meth:`Mapping.diff` shows
it as a diff before :meth:`Mapping.save`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .._exceptions import HlwjrError, MappingError
from .._files import atomic_write
from .._privacy import mask_value
from .._sheets import formulas_as_text
from .._zip import refuse_zip_bomb

__all__ = ["TABLE_COLUMNS", "TABLE_KIND", "TableChange", "export_table", "import_table"]

TABLE_KIND = "hlwjr/mapping-table"
TABLE_VERSION = 1
SHEET = "指标对照表"
TABLE_COLUMNS = [
    "数据集",
    "数据集名称",
    "字段",
    "中文名",
    "类型",
    "必填",
    "说明",
    "规则说明",
    "规则",
    "值域对照",
    "样例值",
    "状态",
    "审核人",
    "备注",
]
EDITABLE = ("规则", "状态", "审核人", "备注")
STATUS_ZH = {"accepted": "已通过", "suggested": "待审", "rejected": "已拒绝"}
UNMAPPED = "未对照"
_REVIEW_KEYS = ("status", "reviewer", "reviewed_at", "comment", "score")


@dataclass
class TableChange:
    """One field changed by an import: data set, field, what (规则/状态/审核人/备注 → old → new)."""

    dataset: str
    field: str
    what: list[tuple[str, str, str]] = field(default_factory=list)

    def __str__(self) -> str:
        parts = "；".join(f"{w}：{old or '（空）'} → {new or '（空）'}" for w, old, new in self.what)
        return f"{self.dataset}.{self.field}: {parts}"


# ------------------------------------------------------------------------------ export


def rule_text(rule) -> str:
    """A rule in config form, one line (``{column: XB, code_map: sex}``); "" for no rule."""
    import yaml

    if rule is None:
        return ""
    d = {k: v for k, v in rule.to_dict().items() if k not in _REVIEW_KEYS}
    if set(d) == {"column"}:
        return str(d["column"])
    return yaml.safe_dump(d, default_flow_style=True, allow_unicode=True, width=10_000, sort_keys=False).strip()


def _code_map_summary(mapping, rule) -> str:
    if rule is None or not rule.code_map or rule.code_map not in mapping.code_maps:
        return ""
    try:
        e = mapping.code_map(rule.code_map).entries
    except MappingError as exc:
        return f"{rule.code_map}：无法读取（{exc.message}）"
    done = int((e["status"] == "accepted").sum())
    return f"{rule.code_map}（{mapping.code_maps[rule.code_map].code_set or '?'}）：{len(e)} 个本地值，已通过 {done} 个"


def _required(f) -> str:
    return "必填" if f.is_required else ("条件必填" if f.is_conditional else "")


def _samples(mapping, spec, code: str, n: int, sources) -> dict[str, str]:
    """field → the first ``n`` mapped values, masked (ID-card, phone, name), joined by "；"."""
    from ..validation._plan import mask_kind_for

    if n <= 0:
        return {}
    try:
        records = mapping.preview(code, n, sources=sources, spec=spec).records
    except HlwjrError as exc:
        return {"*": f"（数据源无法读取：{exc.message}）"}
    out = {}
    for f in spec.dataset(code):
        if f.key not in records.columns:
            continue
        kind = mask_kind_for(f.key, f.name or "")
        shown = []
        for v in records[f.key]:
            if isinstance(v, list):
                shown.append(f"[{len(v)} 条明细]")
            elif not _missing(v) and str(v) != "":
                shown.append(str(v) if kind == "plain" else (mask_value(v, kind) or ""))
        out[f.key] = "；".join(shown)
    return out


def _missing(v) -> bool:
    import pandas as pd

    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):  # a dict / array value
        return False


def table_rows(mapping, spec, *, samples: int = 0, sources=None) -> list[list]:
    rows = []
    for code, dm in mapping.datasets.items():
        ds = spec.dataset(code)
        values = _samples(mapping, spec, code, samples, sources)
        for f in ds:
            r = dm.fields.get(f.key)
            rows.append(
                [
                    ds.code,
                    ds.name,
                    f.key,
                    f.name,
                    f.type_zh,
                    _required(f),
                    f.description or "",
                    r.describe() if r else "（未对照）",
                    rule_text(r),
                    _code_map_summary(mapping, r),
                    values.get(f.key, values.get("*", "")),
                    STATUS_ZH[r.status] if r else UNMAPPED,
                    (r.reviewer or "") if r else "",
                    (r.comment or "") if r else "",
                ]
            )
    return rows


def export_table(mapping, path: str | os.PathLike, *, spec=None, samples: int = 3, sources=None) -> Path:
    """Write the 指标对照表 (atomically) — an Excel workbook (``.xlsx``, editable and read back by
    :func:`import_table`) or a Word document (``.docx``, one table per data set, for review and
    sign-off); returns its path.  ``samples``: mapped values of the first source rows shown per
    field (masked; 0 = none, no source read)."""
    if Path(path).suffix.lower() == ".docx":
        return _export_docx(mapping, Path(path), spec=spec or mapping.spec(), samples=samples, sources=sources)
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    spec = spec or mapping.spec()
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    ws.append(TABLE_COLUMNS)
    rows = table_rows(mapping, spec, samples=samples, sources=sources)
    for row in rows:
        ws.append(row)
    editable_fill = PatternFill("solid", fgColor="FFF2CC")
    widths = {"说明": 40, "规则说明": 30, "规则": 36, "值域对照": 30, "样例值": 30, "备注": 30}
    for j, name in enumerate(TABLE_COLUMNS, start=1):
        cell = ws.cell(1, j)
        cell.font = Font(bold=True)
        if name in EDITABLE:
            cell.fill = editable_fill
        ws.column_dimensions[get_column_letter(j)].width = widths.get(name, 14)
    for r in range(2, len(rows) + 2):
        ws.cell(r, TABLE_COLUMNS.index("说明") + 1).alignment = Alignment(wrap_text=True, vertical="top")
    status_col = get_column_letter(TABLE_COLUMNS.index("状态") + 1)
    dv = DataValidation(type="list", formula1='"' + ",".join([*STATUS_ZH.values(), UNMAPPED]) + '"', allow_blank=True)
    dv.add(f"{status_col}2:{status_col}{max(2, len(rows) + 1)}")
    ws.add_data_validation(dv)
    ws.freeze_panes = "D2"
    ws.auto_filter.ref = ws.dimensions
    meta = wb.create_sheet("meta")
    for k, v in (
        ("kind", TABLE_KIND),
        ("version", TABLE_VERSION),
        ("spec", spec.id),
        ("spec_version", spec.version),
        ("mapping", str(mapping.directory or "")),
        ("editable", "、".join(EDITABLE)),
    ):
        meta.append([k, v])

    formulas_as_text(wb)  # a rule or comment that begins with "=" stays text
    p = Path(path)
    atomic_write(p, lambda tmp: wb.save(tmp))
    return p


_DOCX_COLUMNS = ("字段", "中文名", "类型", "必填", "说明", "规则说明", "值域对照", "样例值", "状态", "审核人")


def _export_docx(mapping, path: Path, *, spec, samples: int, sources) -> Path:
    """The 指标对照表 as a Word document: a heading and a table per data set, then kind/version."""
    from docx import Document

    doc = Document()
    doc.core_properties.title = f"指标对照表 {spec.id} {spec.version}"
    doc.core_properties.subject = TABLE_KIND
    doc.core_properties.keywords = f"kind={TABLE_KIND}; version={TABLE_VERSION}"
    doc.add_heading(f"指标对照表（{spec.title or spec.id} v{spec.version}）", level=0)
    rows = table_rows(mapping, spec, samples=samples, sources=sources)
    pick = [TABLE_COLUMNS.index(c) for c in _DOCX_COLUMNS]
    for code in mapping.datasets:
        mine = [r for r in rows if r[0] == code]
        doc.add_heading(f"{code} {mine[0][1] if mine else ''}", level=1)
        table = doc.add_table(rows=1, cols=len(_DOCX_COLUMNS))
        table.style = "Table Grid"
        for cell, name in zip(table.rows[0].cells, _DOCX_COLUMNS):
            cell.text = name
        for r in mine:
            for cell, j in zip(table.add_row().cells, pick):
                cell.text = "" if r[j] is None else str(r[j])
    doc.add_paragraph(f"kind: {TABLE_KIND}　version: {TABLE_VERSION}　mapping: {mapping.directory or ''}")
    doc.add_paragraph("修改请用 Excel 版（hlwjr map export --out 指标对照表.xlsx），改好后 hlwjr map import 导回。")
    atomic_write(path, lambda tmp: doc.save(str(tmp)))
    return path


# ------------------------------------------------------------------------------ import


def _read_sheet(path: Path) -> list[tuple[int, dict]]:
    from openpyxl import load_workbook

    refuse_zip_bomb(path, MappingError, "指标对照表")
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # not an xlsx, damaged
        raise MappingError(f"指标对照表无法读取：{exc}", where=str(path)) from exc
    try:
        if SHEET not in wb.sheetnames:
            raise MappingError(f"没有名为「{SHEET}」的工作表；可用：{', '.join(wb.sheetnames)}", where=str(path))
        rows = list(wb[SHEET].iter_rows(values_only=True))
    finally:
        wb.close()
    if not rows:
        raise MappingError(f"工作表「{SHEET}」是空的", where=str(path))
    header = [str(h).strip() if h is not None else "" for h in rows[0]]
    while header and not header[-1]:
        header.pop()
    unknown = [(j, h) for j, h in enumerate(header, start=1) if h not in TABLE_COLUMNS]
    if unknown:
        j, h = unknown[0]
        raise MappingError(
            f"未知的列「{h or '（空）'}」（第 {j} 列）：指标对照表的列为 {'、'.join(TABLE_COLUMNS)}；"
            "请不要增加或改名列，备注写在「备注」列",
            where=f"{path}「{SHEET}」第 1 行",
        )
    for need in ("数据集", "字段", *EDITABLE):
        if need not in header:
            raise MappingError(f"缺少列「{need}」", where=f"{path}「{SHEET}」第 1 行")
    out = []
    for i, row in enumerate(rows[1:], start=2):
        values = {h: ("" if v is None else str(v).strip()) for h, v in zip(header, row)}
        if any(values.values()):
            out.append((i, values))
    return out


def _parse_rule(text: str, where: str):
    import yaml

    if not text:
        return None
    try:
        d = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", exc)
        msg = f"「规则」无法解析（{problem}）：写列名，或如 {{column: XB, code_map: sex}}"
        raise MappingError(msg, where=where) from exc
    if isinstance(d, (str, int, float)):
        return {"column": str(d)}
    if not isinstance(d, dict):
        raise MappingError("「规则」应为列名或 {键: 值, …}，如 {column: XB, code_map: sex}", where=where)
    bad = [k for k in d if k in _REVIEW_KEYS]
    if bad:
        raise MappingError(f"「规则」中不要写 {', '.join(bad)}：审核状态、审核人、备注有自己的列", where=where)
    return d


def _status(text: str, where: str) -> str | None:
    if text in ("", UNMAPPED):
        return None
    by_label = {v: k for k, v in STATUS_ZH.items()}
    if text in by_label:
        return by_label[text]
    if text in STATUS_ZH:
        return text
    raise MappingError(f"「状态」应为 {'、'.join(STATUS_ZH.values())} 或 {UNMAPPED}，实际为「{text}」", where=where)


def import_table(mapping, path: str | os.PathLike, *, spec=None, reviewer: str | None = None) -> list[TableChange]:
    """Apply an edited 指标对照表 to ``mapping`` (in memory; :meth:`Mapping.save` writes it).

    All rows are checked first: any problem raises MappingError naming sheet, row and column, and
    the mapping is left as it was."""
    from ._model import FieldRule

    spec = spec or mapping.spec()
    p = Path(path)
    planned: list[tuple[str, str, FieldRule | None, TableChange]] = []
    seen: dict[tuple[str, str], int] = {}
    for i, row in _read_sheet(p):
        where = f"{p}「{SHEET}」第 {i} 行"
        code, key = row.get("数据集", ""), row.get("字段", "")
        if code not in mapping.datasets:
            raise MappingError(
                f"「数据集」{code or '（空）'} 不在对照配置中；已有：{', '.join(mapping.datasets)}", where=where
            )
        ds = spec.dataset(code)
        if key not in ds.fields:
            raise MappingError(f"「字段」{key or '（空）'} 不是数据集 {code}（{ds.name}）的字段", where=where)
        if (code, key) in seen:
            raise MappingError(f"{code}.{key} 在第 {seen[(code, key)]} 行已出现；每个字段只能有一行", where=where)
        seen[(code, key)] = i
        change = _planned_rule(mapping, code, key, row, f"{where}「规则」", reviewer)
        if change is not None:
            planned.append(change)
    for code, key, rule, _change in planned:
        if rule is None:
            mapping.datasets[code].remove_rule(key)
        else:
            mapping.datasets[code].fields[key] = rule
    return [c for *_x, c in planned]


def _planned_rule(mapping, code: str, key: str, row: dict, where: str, reviewer: str | None):
    """(code, key, new rule or None, change) for one row, or None when the row changes nothing."""
    from ._model import FieldRule

    old = mapping.datasets[code].fields.get(key)
    old_text = rule_text(old)
    new_text = row.get("规则", "")
    d = _parse_rule(new_text, where)
    status = _status(row.get("状态", ""), where.replace("「规则」", "「状态」"))
    if d is None:
        if old is None:
            return None
        return code, key, None, TableChange(code, key, [("规则", old_text, "")])
    if d.get("code_map") and d["code_map"] not in mapping.code_maps:
        raise MappingError(
            f"值域对照表 {d['code_map']!r} 未定义；已有：{', '.join(mapping.code_maps) or '（无）'}", where=where
        )
    old_status = old.status if old is not None else None
    rule_changed = old is None or FieldRule.from_dict(key, d, where).to_dict() != _mechanics(old)
    if status is None or (rule_changed and status == old_status):
        status = "suggested"  # a changed rule needs a new review
    full = dict(d, status=status)
    rev, note = row.get("审核人", ""), row.get("备注", "")
    if rev:
        full["reviewer"] = rev
    elif status != "suggested" and reviewer:
        full["reviewer"] = reviewer
    if note:
        full["comment"] = note
    if old is not None and old.reviewed_at and not rule_changed and status == old_status:
        full["reviewed_at"] = old.reviewed_at
    if old is not None and old.score is not None and not rule_changed:
        full["score"] = old.score
    new = FieldRule.from_dict(key, full, where)
    if old is not None and new.to_dict() == old.to_dict():
        return None
    what = []
    if rule_changed:
        what.append(("规则", old_text, rule_text(new)))
    if old_status != new.status:
        what.append(("状态", STATUS_ZH.get(old_status or "", UNMAPPED), STATUS_ZH[new.status]))
    if (old.reviewer if old else None) != new.reviewer:
        what.append(("审核人", (old.reviewer if old else "") or "", new.reviewer or ""))
    if (old.comment if old else None) != new.comment:
        what.append(("备注", (old.comment if old else "") or "", new.comment or ""))
    if new.status != "suggested" and (old is None or old.status != new.status):
        import datetime as dt

        new.reviewed_at = dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
    return code, key, new, TableChange(code, key, what)


def _mechanics(rule) -> dict:
    return {k: v for k, v in rule.to_dict().items() if k not in _REVIEW_KEYS}
