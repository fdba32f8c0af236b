"""Reading a PDF interface document into blocks: tables and the text lines around them, page by
page, in reading order. Ruled tables are pdfplumber's (a cell's wrapped lines joined, merged cells as
Word's); tables without vertical rules — 三线表 or none at all — are read from the words outside the
ruled ones (:mod:`._pdf_unruled`), on the same page as ruled ones too. Running page headers and
footers (the document title on every page, 第 3 页 / 共 20 页) are left out so a table split by a page
break reads as one table continued (a row of a table without vertical rules broken by the page as
one row); lines printed larger than the body text are headings. A scanned PDF (no text layer) is
refused.

A ruled table's row broken by the page (a long 说明 / 值域 cell wrapped past the page's foot) is one
row: the first row of a ruled table at the top of a page (after its header when repeated) is the
rest of the previous page's last row when that page ends with a ruled table of as many columns (only
running headers and footers between) and the row has its identifying cells empty — 序号 and the field
code (the code of a code table; the first column when the header is not read) — where the row above
has its code, and cells merged across as the row above's; its cells' lines are added to that row's.
Any other first row is a row of its own (a row with 序号 or a code, a row after text or a heading, a
table of other columns, a group title merged across).

Not read: text drawn as an image (a scan, a table pasted as a picture); a table without vertical
rules whose header row the header words do not recognise (unless it goes on from the previous page);
a ruled table's row broken by the page whose identifying cell is itself wrapped onto the next page
(its two parts read as two rows).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ..._exceptions import SpecImportError
from ._blocks import _Para, _Table
from ._pdf_unruled import _anchor, _cell, _Columns, _roles, _tables
from ._tables import _header_key, _is_header_again
from ._text import _clean

_PAGE_NUMBER = re.compile(
    r"^(?:[-—–\s]*\d+[-—–\s]*|第\s*\d+\s*页.*|共\s*\d+\s*页.*|\d+\s*/\s*\d+|page\s*\d+(?:\s*of\s*\d+)?)$", re.I
)


def _read_pdf(path: Path) -> list[_Para | _Table]:
    """The document's paragraphs and tables in reading order (tables numbered 表格1, 表格2 …)."""
    pages = _open_pages(path)
    running = _running_lines(pages)
    body = _body_size(pages)
    blocks: list[_Para | _Table] = []
    n, lead, ruled = 0, None, None
    for items in pages:
        start = len(blocks)
        for kind, value, size in items:
            if kind == "more":
                lead = _continue_row(blocks, value)
            elif kind in ("table", "ruled"):
                rows = ([lead] if lead else []) + value
                lead = None
                before = ruled if ruled and len(blocks) == start and blocks[-1] is ruled.table else None
                if kind == "ruled" and before:
                    rows = before.go_on(rows)
                if rows:
                    n += 1
                    table = _Table(rows=rows, label=f"表格{n}", row_numbers=list(range(1, len(rows) + 1)))
                    blocks.append(table)
                    ruled = _Ruled.read(table, before) if kind == "ruled" else None
            elif not (kind == "margin" and (value in running or _PAGE_NUMBER.match(value))):
                heading = 2 if body and size >= body * 1.15 else None
                blocks.append(_Para(text=value, heading=heading))
    if not any(isinstance(b, _Table) for b in blocks) and not any(b.text for b in blocks):
        raise SpecImportError(
            "PDF 中没有可读取的文字（可能是扫描件）：请向平台索取 Word/Excel 版接口文档，或先做文字识别（OCR）",
            where=str(path),
        )
    return blocks


def _continue_row(blocks: list, cells: list[str]) -> list[str] | None:
    """Add the cells of a row broken over a page to the last row of the table before (its running
    page header and footer between are left out); returns them when there is none, to stay a row."""
    last = next((b for b in reversed(blocks) if isinstance(b, _Table) or b.text), None)
    if not isinstance(last, _Table) or not last.rows or len(last.rows[-1]) != len(cells):
        return cells
    last.rows[-1] = _joined(last.rows[-1], cells)
    return None


def _joined(row: list[str | None], more: list[str | None]) -> list[str | None]:
    """A row with the lines of its part on the next page added, cell by cell."""
    return [_cell(f"{a or ''}\n{b}") if b else a for a, b in zip(row, more, strict=True)]


@dataclass
class _Ruled:
    """The last ruled table read and the header row its rows go under: its own, or that of the ruled
    table of as many columns it goes on from (the previous page's last block)."""

    table: _Table
    header: list[str | None] | None

    @classmethod
    def read(cls, table: _Table, before: _Ruled | None) -> _Ruled:
        own = next((r for r in table.rows[:3] if _roles([c or "" for c in r])[0]), None)
        same = before is not None and len(before.table.rows[-1]) == len(table.rows[0])
        return cls(table, own or (before.header if same else None))

    def go_on(self, rows: list[list[str | None]]) -> list[list[str | None]]:
        """The rows of a ruled table at the top of a page, without its first row (after a repeated
        header) when that is the rest of this table's last row broken by the page: as many columns,
        its identifying cells (序号, the field code; the code of a code table) empty where the row above
        has its code, its cells merged across as the row above's. That rest is added to the row."""
        again = _header_key(self.header) if self.header else ()
        above = self.table.rows[-1]
        skip = 1 if rows and _is_header_again(rows[0], again) else 0
        if len(rows) <= skip or len(rows[skip]) != len(above) or _is_header_again(above, again):
            return rows
        row, (code, keys) = rows[skip], self._keys()
        if any(row[k] for k in keys) or not above[code] or not any(row):
            return rows
        if [c is None for c in row] != [c is None for c in above]:
            return rows
        self.table.rows[-1] = _joined(above, row)
        return rows[:skip] + rows[skip + 1 :]

    def _keys(self) -> tuple[int, set[int]]:
        """The identifying column — the field code, the code of a code table; the first column of a
        table whose header is not read — and with it 序号."""
        roles, kind = _roles([c or "" for c in self.header]) if self.header else (None, "")
        if not roles:
            return 0, {0}
        code = _anchor(roles, kind)
        return code, {code} | ({roles["seq"]} if roles.get("seq") is not None else set())


def _open_pages(path: Path) -> list[list[tuple[str, object, float]]]:
    try:
        import pdfplumber
    except ImportError as exc:  # pragma: no cover - dependency of hlwjr
        raise SpecImportError("读取 PDF 需要 pdfplumber（pip install pdfplumber）") from exc
    try:
        with pdfplumber.open(str(path)) as pdf:
            pages, columns = [], None
            for page in pdf.pages:  # a table's columns without vertical rules carry over to the next page
                items, columns = _page_items(page, columns)
                pages.append(items)
            return pages
    except SpecImportError:
        raise
    except Exception as exc:  # pdfminer raises many unrelated types for a damaged or encrypted file
        raise SpecImportError(
            f"无法作为 PDF 打开: {exc}；如文件设置了密码，请先去掉密码或向平台索取 Word 版", where=str(path)
        ) from exc


def _page_items(page, columns: _Columns | None) -> tuple[list[tuple[str, object, float]], _Columns | None]:
    """(kind, value, font size, ordered by position) for one page — ``("ruled", rows)`` /
    ``("table", rows)`` (without vertical rules) / ``("line", text)`` — and the columns of a table
    without vertical rules that may go on on the next page. Ruled tables are pdfplumber's; the
    tables without vertical rules are read from the words outside them (:mod:`._pdf_unruled`)."""
    placed: list[tuple[float, str, object, float]] = []
    found = [(t.bbox, "ruled", _table_rows(t)) for t in page.find_tables()]
    ruled = [bbox for bbox, _kind, _rows in found]
    rest = page.filter(lambda o: not _inside(o, ruled)) if ruled else page
    unruled, columns = _unruled(page, rest, ruled, columns)
    for bbox, _rows, lead in unruled:
        if lead:  # the previous page's last row broken over the page
            placed.append((bbox[1] - 0.1, "more", lead, 0.0))
    found += [(bbox, "table", rows) for bbox, rows, _lead in unruled]
    for bbox, kind, rows in found:
        if rows:
            placed.append((bbox[1], kind, rows, 0.0))
    boxes = [bbox for bbox, _kind, _rows in found]
    outside = page.filter(lambda o: not _inside(o, boxes)) if boxes else page
    for line in outside.extract_text_lines(return_chars=True):
        text = _clean(line["text"])
        if text:
            size = max((c.get("size", 0.0) for c in line["chars"]), default=0.0)
            margin = line["top"] < page.height * _MARGIN or line["bottom"] > page.height * (1 - _MARGIN)
            placed.append((line["top"], "margin" if margin else "line", text, size))
    placed.sort(key=lambda p: p[0])
    return [(kind, value, size) for _top, kind, value, size in placed], columns


def _unruled(page, rest, ruled: list, columns: _Columns | None) -> tuple[list, _Columns | None]:
    """The tables without vertical rules among the words between the page's margins outside its
    ruled tables; rules are the horizontal lines at least 60 pt long outside the ruled tables."""
    head, foot = page.height * _MARGIN, page.height * (1 - _MARGIN)
    words = [
        w for w in rest.extract_words(x_tolerance=1.5, extra_attrs=["size"]) if w["top"] >= head and w["bottom"] <= foot
    ]
    rules = sorted(
        e["top"]
        for e in page.horizontal_edges
        if e["x1"] - e["x0"] >= 60
        and not any(b[1] - 1 <= e["top"] <= b[3] + 1 and e["x0"] < b[2] and e["x1"] > b[0] for b in ruled)
    )
    walls = [(b[1], b[3]) for b in ruled]
    return _tables(page, words, rules, walls, columns)


def _inside(obj, boxes) -> bool:
    if obj.get("object_type") != "char":
        return False
    x, y = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
    return any(b[0] <= x <= b[2] and b[1] <= y <= b[3] for b in boxes)


def _table_rows(table) -> list[list[str | None]]:
    """A table's cells as text. A cell merged across columns continues as None (as Word's gridSpan is
    read); one merged down rows reads as blank below its first row (a merged cell left empty)."""
    grid = [list(r.cells) for r in table.rows]
    out = []
    for ri, (texts, boxes) in enumerate(zip(table.extract(), grid, strict=True)):
        top = min((b[1] for b in boxes if b is not None), default=0.0)
        row: list[str | None] = []
        for ci, (value, box) in enumerate(zip(texts, boxes, strict=True)):
            if box is not None:
                row.append(_cell(value))
            elif any(g[ci] is not None and g[ci][3] > top + 1 for g in grid[:ri]):
                row.append("")  # merged down from a row above
            else:
                row.append(None)  # merged across from the cell on the left
        out.append(row)
    return out


_MARGIN = 0.08  # running headers and footers sit in the top and bottom 8 % of a page


def _running_lines(pages) -> set[str]:
    """Lines in the top or bottom margin of at least two pages and half of them: running headers and
    footers (the document's title, 第 N 页 is a page number anyway)."""
    seen = Counter(text for items in pages for text in {v for k, v, _s in items if k == "margin"})
    return {t for t, k in seen.items() if k >= max(2, len(pages) / 2)}


def _body_size(pages) -> float:
    """The most common font size of the text lines (the body text)."""
    sizes = Counter(round(s, 1) for items in pages for k, _v, s in items if k not in ("table", "ruled") and s)
    return sizes.most_common(1)[0][0] if sizes else 0.0
