"""Master-data template (基础数据模板): one Excel workbook a new hospital fills with the records its
business data refers to (机构、科室、人员备案), built from the spec and read back like any source.

Which data sets are master data is read from the spec, not listed here: a data set other data
sets depend on or refer to (``depends_on`` / ``references``) whose own records refer to no other
record (only to the institution through ``depends_on``), plus everything such a data set depends
on.  In the reference spec that is 机构信息 (unit), 科室与诊疗科目 (dept) and 医护药人员备案 (doctor);
在线复诊 is referred to as well but refers to doctors itself, so it is business data.

Layout of each data sheet::

    row 1   title: data set, what to fill, how required fields are marked
    row 2   one cell per field: description, type/length, allowed codes, example (说明与示例)
    row 3   header: the field's Chinese name, ``*`` after a required field (pinned by the
            sheet-scoped defined name ``表头``, which :mod:`hlwjr.sources._read` honours)
    row 4…  the hospital's records

Coded fields get a drop-down (openpyxl ``DataValidation``) over the codes listed on the sheet
``值域``; every data cell is formatted as text so codes keep their leading zeros.  The sheet
``meta`` holds ``kind``/``version`` and the spec the template was made from.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from .._exceptions import ConfigError
from .._files import atomic_write
from .._privacy import mask_text, mask_value
from .._sheets import formulas_as_text

__all__ = [
    "HEADER_NAME",
    "TEMPLATE_KIND",
    "TEMPLATE_VERSION",
    "master_data_hint",
    "master_datasets",
    "template_columns",
    "template_mapping",
    "write_template",
]

TEMPLATE_KIND = "hlwjr/master-data-template"
TEMPLATE_VERSION = 1
HEADER_NAME = "表头"  # sheet-scoped defined name pinning the header row
HEADER_ROW = 3
CODES_SHEET = "值域"
META_SHEET = "meta"
_DATA_ROWS = 1000  # rows prepared with text format and drop-downs
_BAD_SHEET_CHARS = set("[]:*?/\\")


# ------------------------------------------------------------------------------ which data sets


def _targets(ds) -> set[str]:
    return set(ds.depends_on) | {t for r in ds.references for t in r.datasets}


def master_datasets(spec, for_datasets: Iterable[str] | None = None) -> list:
    """The master data sets (基础数据) of a spec, in upload order; with ``for_datasets`` only those
    the given business data sets need (their transitive dependencies)."""
    tops = {d.code: d for d in spec.top_level()}
    referred = {t for d in tops.values() for t in _targets(d) if t in tops}
    master = {c for c in referred if not tops[c].references}
    todo = list(master)
    while todo:  # what master data depends on is master data too
        for dep in tops[todo.pop()].depends_on:
            if dep in tops and dep not in master:
                master.add(dep)
                todo.append(dep)
    if for_datasets is not None:
        needed: set[str] = set()
        todo = [spec.dataset(c).code for c in for_datasets]
        while todo:
            for t in _targets(tops[todo.pop()]):
                if t in tops and t not in needed:
                    needed.add(t)
                    todo.append(t)
        master &= needed
    return [tops[c] for c in tops if c in master]


def _resolve(spec, datasets: Iterable[str] | None, for_datasets: Iterable[str] | None) -> list:
    if datasets:
        out = []
        for name in datasets:
            ds = spec.dataset(name)
            if ds.parent is not None:
                raise ConfigError(f"{ds.code}（{ds.name}）是 {ds.parent} 的明细，不能单独作为基础数据模板")
            if ds not in out:
                out.append(ds)
        return out
    out = master_datasets(spec, for_datasets)
    if not out:
        raise ConfigError(f"规范 {spec.id} 中找不到被其他数据集引用的基础数据集；请用 --dataset 指定")
    return out


# ------------------------------------------------------------------------------ sheet contents


def template_columns(ds) -> dict[str, str]:
    """field key → the template's header for it: the Chinese name, ``*`` after a required field
    (``name（key）`` where two fields share a name).  Array fields are not part of a flat sheet."""
    fields = [f for f in ds if f.type != "array"]
    names = [f.name for f in fields]
    out = {}
    for f in fields:
        base = f.name if names.count(f.name) == 1 else f"{f.name}（{f.key}）"
        out[f.key] = base + ("*" if f.is_required else "")
    return out


def sheet_name(ds, taken: set[str]) -> str:
    name = "".join(ch for ch in ds.name if ch not in _BAD_SHEET_CHARS)[:31] or ds.code
    if name in taken or name in (CODES_SHEET, META_SHEET):
        name = ds.code[:31]
    return name


def _note(spec, f) -> str:
    parts = []
    if f.is_required:
        parts.append("必填")
    elif f.is_conditional:
        parts.append(f"条件必填（{f.required}）")
    kind = f.type_zh + (f"，≤{f.max_length}字" if f.max_length else "")
    kind += {"date": "，YYYY-MM-DD", "datetime": "，YYYY-MM-DD HH:MM:SS"}.get(f.type, "")
    parts.append(kind)
    if f.code_set:
        parts.append(f"值域 {spec.code_set(f.code_set).name}（下拉选择，见「{CODES_SHEET}」表）")
    text = "；".join(parts)
    if f.description:
        text += f"。{f.description}"
    if f.example is not None:
        text += f"\n例：{_masked_example(f)}"
    return text


def _masked_example(f) -> str:
    """A spec example as the template shows it: ID-card and phone numbers masked, like any report."""
    from ..validation._plan import mask_kind_for

    kind = mask_kind_for(f.key, f.name or "")
    if kind == "plain":
        return str(f.example)
    return (mask_value(f.example, kind) if kind else None) or mask_text(str(f.example))


# ------------------------------------------------------------------------------ writing


def write_template(
    spec,
    out: str | os.PathLike,
    *,
    datasets: Iterable[str] | None = None,
    for_datasets: Iterable[str] | None = None,
    rows: int = _DATA_ROWS,
) -> dict[str, str]:
    """Write the master-data workbook (atomically); returns data set code → sheet name."""
    from openpyxl import Workbook

    chosen = _resolve(spec, datasets, for_datasets)
    wb = Workbook()
    wb.remove(wb.active)
    codes_ws = wb.create_sheet(CODES_SHEET)
    code_ranges: dict[str, str] = {}
    sheets: dict[str, str] = {}
    for ds in chosen:
        ws = wb.create_sheet(sheet_name(ds, set(sheets.values())), index=len(sheets))
        sheets[ds.code] = ws.title
        _fill_sheet(spec, ds, ws, codes_ws, code_ranges, rows)
    _fill_meta(wb.create_sheet(META_SHEET), spec, chosen, sheets)

    formulas_as_text(wb)  # an example or description that begins with "=" stays text
    path = Path(out)
    atomic_write(path, lambda tmp: wb.save(tmp))
    return sheets


def _fill_sheet(spec, ds, ws, codes_ws, code_ranges: dict[str, str], rows: int) -> None:
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.workbook.defined_name import DefinedName
    from openpyxl.worksheet.datavalidation import DataValidation

    headers = template_columns(ds)
    ws.cell(1, 1, f"{ds.name}（{ds.code}）：带 * 的列为必填；第 2 行是说明与示例，请从第 {HEADER_ROW + 1} 行起填写")
    ws.cell(1, 1).font = Font(bold=True)
    required_fill = PatternFill("solid", fgColor="FCE4D6")
    last_row = HEADER_ROW + rows
    for j, (key, header) in enumerate(headers.items(), start=1):
        f = ds.fields[key]
        letter = get_column_letter(j)
        note = ws.cell(2, j, _note(spec, f))
        note.alignment = Alignment(wrap_text=True, vertical="top")
        h = ws.cell(HEADER_ROW, j, header)
        h.font = Font(bold=True)
        h.comment = Comment(f"{key}：{f.description or f.name}", "hlwjr")
        if f.is_required:
            h.fill = required_fill
        ws.column_dimensions[letter].width = max(12, min(40, 2 * len(header) + 4))
        for r in range(HEADER_ROW + 1, last_row + 1):
            ws.cell(r, j).number_format = "@"
        if f.code_set:
            ref = _code_range(spec.code_set(f.code_set), codes_ws, code_ranges)
            dv = DataValidation(type="list", formula1=ref, allow_blank=True, showErrorMessage=True)
            dv.error = f"{f.name} 应为值域 {spec.code_set(f.code_set).name} 中的代码（见「{CODES_SHEET}」表）"
            dv.add(f"{letter}{HEADER_ROW + 1}:{letter}{last_row}")
            ws.add_data_validation(dv)
    ws.row_dimensions[2].height = 90
    ws.freeze_panes = ws.cell(HEADER_ROW + 1, 1)
    end = get_column_letter(len(headers))
    ws.defined_names[HEADER_NAME] = DefinedName(
        HEADER_NAME, attr_text=f"'{ws.title}'!$A${HEADER_ROW}:${end}${HEADER_ROW}"
    )


def _code_range(cs, codes_ws, code_ranges: dict[str, str]) -> str:
    """The ``值域`` sheet range holding a code set's codes (two columns per set: code, name)."""
    from openpyxl.utils import get_column_letter

    if cs.id in code_ranges:
        return code_ranges[cs.id]
    col = 2 * len(code_ranges) + 1
    codes_ws.cell(1, col, f"{cs.name}（{cs.id}）代码")
    codes_ws.cell(1, col + 1, "名称")
    for i, (code, name) in enumerate(cs.codes.items(), start=2):
        codes_ws.cell(i, col, code).number_format = "@"
        codes_ws.cell(i, col + 1, name)
    letter = get_column_letter(col)
    code_ranges[cs.id] = f"'{CODES_SHEET}'!${letter}$2:${letter}${max(2, len(cs.codes) + 1)}"
    return code_ranges[cs.id]


def _fill_meta(ws, spec, chosen, sheets: dict[str, str]) -> None:
    rows = [
        ("kind", TEMPLATE_KIND),
        ("version", TEMPLATE_VERSION),
        ("spec", spec.id),
        ("spec_version", spec.version),
        ("header_row", HEADER_ROW),
    ]
    for k, v in rows:
        ws.append([k, v])
    ws.append([])
    ws.append(["dataset", "name", "sheet"])
    for ds in chosen:
        ws.append([ds.code, ds.name, sheets[ds.code]])


# ------------------------------------------------------------------------------ reading back


def template_mapping(mapping, spec, workbook: str | os.PathLike, sheets: dict[str, str], *, source: str = "基础数据"):
    """Add to ``mapping`` one data set per template sheet: source = the workbook's sheet, one
    ``column`` rule per field (the template's header), ``accepted`` since the columns are the spec's
    own fields.  Data sets already configured are left alone; returns the codes added."""
    from ._model import DatasetMapping, SourceDef, SourceRef

    wb = Path(workbook).resolve()
    if mapping.directory is not None:  # relative to the mapping directory when it can be
        wb = Path(os.path.relpath(wb, Path(mapping.directory).resolve()))
    wb = str(wb)
    name = next((k for k, v in mapping.sources.items() if v.path == wb), None)
    if name is None:
        name = source if source not in mapping.sources else f"{source}{len(mapping.sources) + 1}"
        mapping.sources[name] = SourceDef(path=wb)
    added = []
    for code, sheet in sheets.items():
        if code in mapping.datasets:
            continue
        ds = spec.dataset(code)
        dm = DatasetMapping(dataset=code, source=SourceRef(table=sheet, source=name))
        for key, header in template_columns(ds).items():
            r = dm.set_rule(key, column=header, status="accepted")
            r.comment = "基础数据模板列"
        mapping.datasets[code] = dm
        added.append(code)
    return added


# ------------------------------------------------------------------------------ the hint


def master_data_hint(spec, problems, records=None) -> str | None:
    """One Chinese line when records are held back (or their references cannot be checked) because
    the master data they refer to is missing: ``缺少 N 条基础数据（医生/科室/机构），用 hlwjr template
    生成模板``.  N counts distinct referenced records (not the records referring to them).

    ``problems``: a validation problem frame (columns dataset, field, rule, severity, value).
    ``records``: the checked batch, data set code → records (list of dicts or DataFrame); it lets
    the line count the referenced records when references were not checked at all."""
    if problems is None or len(problems) == 0:
        return None
    master = {d.code: d for d in master_datasets(spec)}
    refs = problems[problems["rule"] == "reference"]
    missing: dict[str, set] = {}
    unchecked: dict[str, set] = {}
    for r in refs.itertuples(index=False):
        for ref in _master_refs(spec.dataset(r.dataset), r.field, master):
            if r.severity == "error":
                missing.setdefault(ref.datasets[0], set()).add(r.value)
            else:
                keys = _referenced_keys((records or {}).get(r.dataset), tuple(ref.fields))
                unchecked.setdefault(ref.datasets[0], set()).update(keys)
    if not missing and not unchecked:
        return None
    names = "/".join(d.name for d in _with_dependencies(spec, set(missing) | set(unchecked), master))
    if missing:
        n = sum(len(v) for v in missing.values())
        return f"缺少 {n} 条基础数据（{names}），用 hlwjr template 生成模板"
    n = sum(len(v) for v in unchecked.values())
    count = f" {n} 条" if n else ""
    return (
        f"引用的{count}基础数据（{names}）未提供，引用未检查；平台上没有的，上传时将被暂缓。用 hlwjr template 生成模板"
    )


def _master_refs(ds, field, master: dict) -> list:
    """The references of ``ds`` through ``field`` that point at master data."""
    return [ref for ref in ds.references if field in ref.fields and set(ref.datasets) & set(master)]


def _referenced_keys(records, fields: tuple[str, ...]) -> set[tuple]:
    if records is None:
        return set()
    rows = records.to_dict("records") if hasattr(records, "to_dict") else records
    out = set()
    for r in rows:
        key = tuple(_text(r.get(f)) for f in fields) if isinstance(r, dict) else ()
        if key and all(key):
            out.add(key)
    return out


def _text(value) -> str:
    if value is None or (isinstance(value, float) and value != value):  # None / NaN: not given
        return ""
    return str(value).strip()


def _with_dependencies(spec, codes: set[str], master: dict) -> list:
    out = set(codes)
    todo = list(codes)
    while todo:
        for dep in master[todo.pop()].depends_on:
            if dep in master and dep not in out:
                out.add(dep)
                todo.append(dep)
    return [master[c] for c in reversed(list(master)) if c in out]
