"""Worksheets as tables: cell values as text (dates, numbers kept as written), the header row
(pinned, from a hlwjr template, or detected under title rows), formula cells without a stored
result refused, the workbook's sheets.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections import Counter

from .._exceptions import SourceError
from .._privacy import lost_digits, mask_text
from .._sheets import nearest_second, uncached_formulas
from .._zip import refuse_zip_bomb


def _excel_value(v):
    """A cell as the validator wants it: numbers stay numbers (it knows which of them Excel
    rounded to 15 digits), everything else as :func:`_excel_text`."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return v
    return _excel_text(v)


def _excel_text(v):
    """A cell as the text Excel shows: a date-time to the nearest second (midnight: the date
    only), a time of day as ``HH:MM:SS``, a whole number without ``.0``."""
    if v is None:
        return None
    if isinstance(v, float) and lost_digits(v):
        return format(v, ".15G")  # as Excel shows it (1.10101199001011E+17): its last digits are lost
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, _dt.time):
        return f"{nearest_second(v):%H:%M:%S}"
    if hasattr(v, "strftime"):
        s = nearest_second(v).strftime("%Y-%m-%d %H:%M:%S") if isinstance(v, _dt.datetime) else f"{v:%Y-%m-%d}"
        return s[:10] if s.endswith(" 00:00:00") else s
    s = str(v)
    return s if s.strip() else None


def named_width(names: list[str]) -> int:
    """How many of a header row's columns have names up to the last named one: blank names after
    it are trailing separators (``a,b,c,,``) or empty cells beside the table, not columns."""
    n = len(names)
    while n and not str(names[n - 1] or "").strip():
        n -= 1
    return n


def _refuse_blank_names(names: list[str], *, where: str) -> None:
    """A column without a name between named ones (``a,,c``, a merged or two-level header) cannot
    be mapped or reported: refuse it, naming the column (trailing blanks are cut off before)."""
    for i, n in enumerate(names, start=1):
        if not str(n or "").strip():
            raise SourceError(
                f"表头第 {i} 列为空，请填写列名（表头若有两行或合并单元格，请改成一行、每列一个列名）",
                where=where,
            )


def _check_columns(names: list[str], *, where: str) -> None:
    _refuse_blank_names(names, where=where)
    _refuse_data_as_header(names, where=where)
    seen: dict[str, int] = {}
    for i, n in enumerate(names, start=1):
        if n in seen:
            raise SourceError(f"列名重复：「{n}」出现在第 {seen[n]} 列和第 {i} 列，请改名后再读", where=where)
        seen[n] = i


def _refuse_data_as_header(names: list[str], *, where: str) -> None:
    """A header cell holding an ID or mobile number is a record read as the header: refuse it,
    masked (the column name would otherwise be shown in full in every report)."""
    for i, n in enumerate(names, start=1):
        if mask_text(n) != n:
            raise SourceError(
                f"表头第 {i} 列「{mask_text(n)}」像身份证号或手机号，不像列名：这一行应是数据；"
                "请确认表头所在行（笔记本中可用 header_row= 指定），或在文件中补上列名行",
                where=where,
            )


def _pinned_header_row(ws) -> int | None:
    """The header row a sheet pins with the sheet-scoped defined name ``表头`` (公式 → 名称管理器),
    as the master-data template does so its description row above the header is not read as one."""

    dn = getattr(ws, "defined_names", {}).get("表头")
    m = re.match(r"\$?[A-Z]+\$?(\d+)", (dn.attr_text or "").rsplit("!", 1)[-1]) if dn is not None else None
    return int(m.group(1)) if m else None


def _template_header_row(wb, ws_name: str) -> int | None:
    """The header row of a data sheet of an hlwjr template, from its ``meta`` sheet (kind …-template,
    header_row): for a workbook whose defined names an editor dropped."""
    if "meta" not in wb.sheetnames or ws_name == "meta":
        return None
    meta = {}
    for row in wb["meta"].iter_rows(max_row=10, max_col=2, values_only=True):
        if row and row[0] is not None:
            meta[str(row[0])] = row[1] if len(row) > 1 else None
    if not str(meta.get("kind", "")).startswith("hlwjr/") or not str(meta.get("kind")).endswith("-template"):
        return None
    try:
        return int(meta.get("header_row"))
    except (TypeError, ValueError):
        return None


def _detect_header_row(rows: list[list], look: int = 30) -> int:
    """1-based row of the header: the first row filling at least half the table's width with text
    only. Title rows above it fill one or two cells; a header with merged (two-level) or blank
    names fills fewer than all, and must not let the first record be read as the header."""
    sample = rows[:look]
    widths = [sum(1 for v in r if v is not None and str(v).strip() != "") for r in sample]
    full = max(widths) if widths else 0
    for i, r in enumerate(sample):
        cells = [v for v in r if v is not None and str(v).strip() != ""]
        if len(cells) >= max(1, min(2, full), 0.5 * full) and all(isinstance(v, str) for v in cells):
            return i + 1
    for i, w in enumerate(widths):
        if w == full:
            return i + 1
    return 1


def _csv_header_row(widths: list[int], named: list[int] | None = None) -> int:
    """1-based header row of a CSV: the first line as wide as most lines of the sample (the
    table's width); narrower lines before it are titles. A ragged row further down is not a
    header — it is reported as ragged. ``named``: each line's width without its trailing empty
    fields — records ending in a separator (``1,2,3,``) are no wider than the header ``a,b,c``."""
    if len(widths) < 3:
        return 1
    counts = Counter(widths)
    table_width = max(counts, key=lambda w: (counts[w], w))
    first = next(i for i, w in enumerate(widths) if w >= table_width)
    if named:
        first = next(i for i in range(first + 1) if named[i] >= named[first])
    return first + 1 if table_width > 1 else 1


def _refuse_uncached_formulas(path, sheet: str | None, where: str) -> None:
    """A formula cell without a stored result would read as empty: refuse it, with its cells."""

    cells = uncached_formulas(path, sheet)
    if cells:
        raise SourceError(
            f"公式单元格没有计算结果（{'、'.join(cells)}），请在 Excel 或 WPS 中打开并保存后再读取；或把公式改为数值",
            where=where,
        )


def open_workbook(path, **options):
    """``openpyxl.load_workbook(path, read_only=True, **options)``; a file that is no workbook
    (a plain ZIP, a truncated download, damaged XML) raises SourceError saying which."""
    import zipfile

    import openpyxl

    refuse_zip_bomb(path, SourceError, "Excel 文件")
    try:
        return openpyxl.load_workbook(path, read_only=True, **options)
    except zipfile.BadZipFile as exc:
        raise SourceError(
            "无法打开 Excel 文件：ZIP 结构已损坏（常见于只下载/复制了一半）；请重新导出或复制", where=str(path)
        ) from exc
    except KeyError as exc:  # a ZIP without [Content_Types].xml / xl/workbook.xml
        raise SourceError(
            "这是一个 ZIP 压缩包，不是 Excel 工作簿：请解压后读取其中的文件，或在 Excel 中另存为 .xlsx",
            where=str(path),
        ) from exc
    except Exception as exc:  # InvalidFileException, XML errors...
        raise SourceError(
            f"无法打开 Excel 文件：文件已损坏或不是 Excel 保存的 .xlsx（{exc}）；请在 Excel 中打开后另存为 .xlsx",
            where=str(path),
        ) from exc


def list_sheets(path) -> list[str]:
    """Sheet names of an .xlsx workbook (工作表)."""
    wb = open_workbook(path)
    try:
        return list(wb.sheetnames)
    finally:
        wb.close()
