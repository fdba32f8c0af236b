"""Reading documents into blocks: .docx paragraphs and tables (merged cells as spans), .xlsx sheets
(merged ranges), refusing old binary .doc/.xls and other files with one clear line.
"""

from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path
from typing import Any

from ..._exceptions import SpecImportError
from ..._zip import refuse_zip_bomb
from ._blocks import _Para, _starts_indented, _Table
from ._headers import (
    _code_header_roles,
    _header_roles,
    _hnorm,
    _looks_like_title_row,
    _ref_header_roles,
    _rule_header_roles,
)
from ._tables import _roles_by_content
from ._text import _clean

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _refuse_ole_file(path: Path) -> None:
    """An OLE compound file under a .docx/.xlsx name: a password-protected file or an old .doc/.xls."""
    if path.suffix.lower() not in (".docx", ".xlsx", ".xlsm"):
        return
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head == _OLE_MAGIC:
        raise SpecImportError(
            "文件是设置了打开密码的 Office 文档，或是改了扩展名的旧版 .doc/.xls：请在 Office/WPS 中去掉密码"
            "（文件 → 信息 → 保护文档），或另存为 .docx/.xlsx 后再导入",
            where=str(path),
        )


def _read_docx(path: Path) -> list[_Para | _Table]:
    try:
        import docx
        from docx.table import Table as DocxTable
        from docx.text.paragraph import Paragraph as DocxParagraph
    except ImportError as exc:  # pragma: no cover - dependency of hlwjr
        raise SpecImportError("读取 Word 文档需要 python-docx（pip install python-docx）") from exc
    refuse_zip_bomb(path, SpecImportError, "Word 文档")
    try:
        document = docx.Document(str(path))
    except Exception as exc:  # python-docx raises several unrelated types for a bad file
        raise SpecImportError(
            f"无法作为 Word (.docx) 文档打开: {exc}；如为 .doc 旧格式请先另存为 .docx", where=str(path)
        ) from exc

    def body_items(parent):
        # paragraphs and tables in document order, including those inside content controls (w:sdt)
        for child in parent.iterchildren():
            tag = child.tag.rsplit("}", 1)[-1]
            if tag in ("sdt", "sdtContent", "customXml", "ins", "smartTag"):
                yield from body_items(child)
            else:
                yield child

    blocks: list[_Para | _Table] = []
    n = 0
    for child in body_items(document.element.body):
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            p = DocxParagraph(child, document)
            style = (p.style.name if p.style is not None else "") or ""
            level = None
            m = re.match(r"^(?:heading|标题)\s*(\d)", style, re.I)
            if m:
                level = int(m.group(1))
            elif style.lower() == "title":
                level = 0
            blocks.append(_Para(text=_clean(p.text), heading=level))
        elif tag == "tbl":
            n += 1
            t = DocxTable(child, document)
            rows: list[list[str | None]] = []
            indented: set[tuple[int, int]] = set()
            for ri, r in enumerate(t.rows):
                cells: list[str | None] = []
                prev = None
                for c in r.cells:
                    tc = c._tc
                    if tc is prev:
                        cells.append(None)  # the same merged cell again (gridSpan)
                    else:
                        lines = [_clean(x) for p in c.paragraphs for x in p.text.split("\n")]
                        cells.append("\n".join(x for x in lines if x))
                        if _docx_cell_indented(c):
                            indented.add((ri, len(cells) - 1))
                    prev = tc
                rows.append(cells)
            blocks.append(
                _Table(rows=rows, label=f"表格{n}", row_numbers=list(range(1, len(rows) + 1)), indented=indented)
            )
    return blocks


def _docx_cell_indented(cell) -> bool:
    """A Word cell whose first written paragraph is indented: leading spaces/tab or a left/first-line indent."""
    para = next((p for p in cell.paragraphs if p.text.strip()), None)
    if para is None:
        return False
    fmt = para.paragraph_format
    return _starts_indented(para.text) or any((x or 0) > 0 for x in (fmt.left_indent, fmt.first_line_indent))


def _cell_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (_dt.datetime, _dt.date)):
        return v.isoformat()
    return "\n".join(_clean(x) for x in str(v).splitlines()).strip()


def _xlsx_cell_text(c) -> str:
    """A cell as shown in Excel: a code typed as the number 1 with the format ``00`` reads ``01``."""
    v = c.value
    if isinstance(v, (int, float)) and not isinstance(v, bool) and float(v).is_integer() and v >= 0:
        fmt = getattr(c, "number_format", None) or ""  # looked up only for numbers: it costs
        if re.fullmatch(r"0{2,}", fmt):
            return str(int(v)).zfill(len(fmt))
    return _cell_text(v)


def _looks_like_data(texts: list[str]) -> bool:
    """A row inside a table with digits in it (codes, lengths): no header, not worth matching as one."""
    return any(ch.isdigit() for t in texts for ch in t[:16])


def _sheet_grid(ws, indented: set[tuple[int, int]]) -> list[list[str | None]]:
    """A read-only sheet's cells as text, every row as wide as the widest (merges may reach past);
    the (row, column) of cells written with leading spaces go into ``indented``."""
    ws.reset_dimensions()  # a wrong <dimension> in the file must not cut rows off
    grid: list[list[str | None]] = []
    for ri, row in enumerate(ws.iter_rows()):
        texts: list[str | None] = []
        for ci, c in enumerate(row):
            v = c.value
            if type(v) is not str:
                texts.append(_xlsx_cell_text(c))
            elif v.isprintable() and " " not in v:
                texts.append(v)  # no whitespace at all: nothing to clean (most cells of a big sheet)
            else:
                texts.append(_cell_text(v))
                if _starts_indented(v):
                    indented.add((ri, ci))
        grid.append(texts)
    width = max((len(r) for r in grid), default=0)
    for r in grid:
        if len(r) < width:
            r.extend([""] * (width - len(r)))
    return grid


_MERGE_CELL = re.compile(rb"<(?:\w+:)?mergeCell\b[^>]*?\bref=\"([A-Za-z]+\d+(?::[A-Za-z]+\d+)?)\"")


def _merged_ranges(wb, ws) -> list:
    """The sheet's merged ranges (read-only worksheets do not parse <mergeCells>)."""
    from openpyxl.worksheet.cell_range import CellRange

    xml = wb._archive.read(ws._worksheet_path)
    return [CellRange(ref.decode()) for ref in _MERGE_CELL.findall(xml)]


def _read_xlsx(path: Path) -> list[_Para | _Table]:
    try:
        import openpyxl
    except ImportError as exc:  # pragma: no cover
        raise SpecImportError("读取 Excel 需要 openpyxl（pip install openpyxl）") from exc
    import warnings

    refuse_zip_bomb(path, SpecImportError, "Excel 文档")
    try:
        with warnings.catch_warnings():  # "no default style", unsupported extensions: noise for a reader
            warnings.simplefilter("ignore", UserWarning)
            # read-only: a 36,000-row dictionary workbook reads in a second or two
            wb = openpyxl.load_workbook(str(path), data_only=True, read_only=True)
            sheets = []
            for ws in wb.worksheets:
                indented: set[tuple[int, int]] = set()
                sheets.append((ws.title, _sheet_grid(ws, indented), _merged_ranges(wb, ws), indented))
            wb.close()
    except Exception as exc:  # openpyxl raises zipfile/KeyError/InvalidFileException...
        raise SpecImportError(
            f"无法作为 Excel (.xlsx) 打开: {exc}；如为 .xls 旧格式请先另存为 .xlsx", where=str(path)
        ) from exc
    blocks: list[_Para | _Table] = []
    for title, grid, merged, sheet_indented in sheets:  # hidden sheets are read too: nothing dropped silently
        for rng in merged:
            top = grid[rng.min_row - 1][rng.min_col - 1] if rng.min_row - 1 < len(grid) else ""
            for r in range(rng.min_row - 1, min(rng.max_row, len(grid))):
                for c in range(rng.min_col - 1, min(rng.max_col, len(grid[r]))):
                    if c == rng.min_col - 1:
                        grid[r][c] = top  # fill down a vertical merge
                    else:
                        grid[r][c] = None  # horizontal continuation
        blocks.append(_Para(text=_clean(title), heading=0, sheet=True))
        sheet_start = len(blocks)
        current: _Table | None = None
        gap = False  # blank row(s) since the table's last row
        for i, row in enumerate(grid, start=1):
            while row and not row[-1]:
                row = row[:-1]
            texts = [c for c in row if c]
            if not texts:
                gap = current is not None
                continue
            if gap and current is not None and (len(texts) < 3 or _looks_like_title_row(row)):
                current = None  # a note or the next title after the blank row: the table has ended
            gap = False
            if not (current is not None and _looks_like_data(texts)) and (
                _header_roles(row) is not None
                or _code_header_roles(row) is not None
                or _rule_header_roles(row) is not None
                or _ref_header_roles(row) is not None
            ):
                if current is not None:
                    # title rows for the next table sitting right under the previous one
                    moved: list[_Para] = []
                    while len(current.rows) > 1 and _looks_like_title_row(current.rows[-1]):
                        moved.insert(0, _Para(text=" ".join(c for c in current.rows.pop() if c)))
                        current.row_numbers.pop()
                    blocks.extend(moved)
                current = _Table(
                    rows=[row], label=f"工作表「{title}」", row_numbers=[i], sheet=title, sheet_title=title
                )
                blocks.append(current)
                continue
            if current is not None:
                current.indented.update((len(current.rows), c) for r, c in sheet_indented if r == i - 1)
                current.rows.append(row)
                current.row_numbers.append(i)
            elif len(texts) == 2 and not re.search(r"[:：]", texts[0]) and _hnorm(texts[0]) in _INFO_LABELS:
                blocks.append(_Para(text=f"{texts[0]}：{texts[1]}"))  # 接口名称 | 在线处方
            else:
                blocks.append(_Para(text=" ".join(texts), cells=len(texts), row=i))
        _headerless_sheet_table(blocks, sheet_start, grid, title)
    return blocks


def _headerless_sheet_table(blocks: list, start: int, grid: list[list[str | None]], title: str) -> None:
    """A sheet without any header row whose multi-cell rows read as a field table by content: those
    rows become one table (in place of their paragraphs); the other lines stay titles and notes."""
    sheet = blocks[start:]
    if any(isinstance(b, _Table) for b in sheet):
        return
    rows = [b for b in sheet if b.cells >= 3 and b.row is not None]
    if len(rows) < 2 or _roles_by_content([grid[b.row - 1] for b in rows]) is None:
        return
    table = _Table(
        rows=[grid[b.row - 1] for b in rows],
        label=f"工作表「{title}」",
        row_numbers=[b.row for b in rows],
        sheet=title,
        sheet_title=title,
    )
    moved = {id(b) for b in rows}
    first = next(i for i, b in enumerate(sheet) if id(b) in moved)
    kept = [b for b in sheet if id(b) not in moved]
    blocks[start:] = kept[:first] + [table] + kept[first:]


_INFO_LABELS = {
    "操作名称",
    "接口名称",
    "接口说明",
    "接口描述",
    "功能描述",
    "功能说明",
    "接口地址",
    "请求地址",
    "url",
    "请求方式",
    "请求方法",
    "方法名",
    "方法名称",
    "接口方法",
    "服务方法",
    "服务名",
    "服务id",
    "x-service-id",
    "x-service-method",
    "调用频率",
    "上传频率",
    "上传时机",
    "数据格式",
    "返回格式",
    "业务主键",
    "主键",
    "唯一标识",
    "数据集代码",
    "接口代码",
    "接口标识",
    "数据集名称",
    "依赖",
    "上传顺序依赖",
    "前置数据集",
    "备注",
}


def _info_tables_to_paragraphs(blocks: list) -> list:
    """A small 接口名称 | 在线处方 / 接口方法 | uploadX table above a field table: labelled lines."""
    out: list = []
    for b in blocks:
        if isinstance(b, _Table) and b.rows and len(b.rows) >= 2:
            pairs: list[tuple[str, str]] = []
            for row in b.rows:
                cells = [c for c in row if c is not None]
                for i in range(0, len(cells) - 1, 2):
                    if cells[i]:
                        pairs.append((cells[i], cells[i + 1] or ""))
            known = sum(1 for k, _ in pairs if _hnorm(k).rstrip(":：") in _INFO_LABELS)
            if pairs and known >= 2 and known * 2 >= len(pairs) and _header_roles(b.rows[0]) is None:
                out.extend(_Para(text=f"{k.rstrip(':：')}：{v}") for k, v in pairs if v)
                continue
        out.append(b)
    return out
