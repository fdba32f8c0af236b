"""Reading a PDF interface document into blocks: ruled tables (pdfplumber) and the text lines around
them, page by page, in reading order. Running page headers and footers (the document title on every
page, 第 3 页 / 共 20 页) are left out so a table split by a page break reads as one table continued;
lines printed larger than the body text are headings. A scanned PDF (no text layer) is refused.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from ..._exceptions import SpecImportError
from ._blocks import _Para, _Table
from ._headers import _code_header_roles, _header_roles
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
    n = 0
    for items in pages:
        for kind, value, size in items:
            if kind == "table":
                n += 1
                blocks.append(_Table(rows=value, label=f"表格{n}", row_numbers=list(range(1, len(value) + 1))))
            elif not (kind == "margin" and (value in running or _PAGE_NUMBER.match(value))):
                heading = 2 if body and size >= body * 1.15 else None
                blocks.append(_Para(text=value, heading=heading))
    if not any(isinstance(b, _Table) for b in blocks) and not any(b.text for b in blocks):
        raise SpecImportError(
            "PDF 中没有可读取的文字（可能是扫描件）：请向平台索取 Word/Excel 版接口文档，或先做文字识别（OCR）",
            where=str(path),
        )
    return blocks


def _open_pages(path: Path) -> list[list[tuple[str, object, float]]]:
    try:
        import pdfplumber
    except ImportError as exc:  # pragma: no cover - dependency of hlwjr
        raise SpecImportError("读取 PDF 需要 pdfplumber（pip install pdfplumber）") from exc
    try:
        with pdfplumber.open(str(path)) as pdf:
            pages, columns = [], None
            for page in pdf.pages:  # a three-line table's columns carry over to the next page
                items, columns = _page_items(page, columns)
                pages.append(items)
            return pages
    except SpecImportError:
        raise
    except Exception as exc:  # pdfminer raises many unrelated types for a damaged or encrypted file
        raise SpecImportError(
            f"无法作为 PDF 打开: {exc}；如文件设置了密码，请先去掉密码或向平台索取 Word 版", where=str(path)
        ) from exc


def _page_items(page, columns: list[float] | None) -> tuple[list[tuple[str, object, float]], list[float] | None]:
    """(kind, value, font size, ordered by position) for one page — ``("table", rows)`` /
    ``("line", text)`` — and the columns of a three-line table that may go on on the next page."""
    placed: list[tuple[float, str, object, float]] = []
    found = [(t.bbox, _table_rows(t)) for t in page.find_tables()]
    columns = None if found else columns
    if not found:  # a three-line table (三线表) has no vertical rules: columns found from the text
        found, columns = _unruled_tables(page, columns)
    for bbox, rows in found:
        if rows:
            placed.append((bbox[1], "table", rows, 0.0))
    boxes = [bbox for bbox, _rows in found]
    outside = page.filter(lambda o: not _inside(o, boxes)) if boxes else page
    for line in outside.extract_text_lines(return_chars=True):
        text = _clean(line["text"])
        if text:
            size = max((c.get("size", 0.0) for c in line["chars"]), default=0.0)
            margin = line["top"] < page.height * _MARGIN or line["bottom"] > page.height * (1 - _MARGIN)
            placed.append((line["top"], "margin" if margin else "line", text, size))
    placed.sort(key=lambda p: p[0])
    return [(kind, value, size) for _top, kind, value, size in placed], columns


def _unruled_tables(page, columns: list[float] | None) -> tuple[list, list[float] | None]:
    """([(bbox, rows)], columns) of a table without vertical rules (三线表): the first text line that
    reads as a field-table or code-table header gives the columns (a column starts where a header
    word starts) and the rows run down to the lowest rule under it (the page's end without one);
    lines above stay paragraphs. Without a header, the previous page's ``columns`` are tried from the
    top of the page: a table going on without its header repeated."""
    words = page.extract_words(keep_blank_chars=False, x_tolerance=1.5)
    for line in page.extract_text_lines():
        heads = sorted(
            (w for w in words if abs(w["top"] - line["top"]) < 2 and w["x0"] >= line["x0"] - 1), key=lambda w: w["x0"]
        )
        names = [w["text"] for w in heads]
        if len(names) >= 2 and (_header_roles(names) or _code_header_roles(names)):
            x1 = max([line["x1"]] + [w["x1"] for w in words if w["top"] >= line["top"]])
            verticals = [w["x0"] - 2 for w in heads] + [min(page.width, x1 + 2)]
            found, open_end = _rows_between(page, verticals, line["top"] - 0.5, line["bottom"] - line["top"])
            return found, (verticals if open_end else None)
    if columns is None:
        return [], None
    found, open_end = _rows_between(page, columns, page.height * _MARGIN, 0.0)
    if not found or sum(1 for c in found[0][1][0] if c) < 2:
        return [], None
    return found, (columns if open_end else None)


def _rows_between(page, verticals: list[float], top: float, header: float) -> tuple[list, bool]:
    """([(bbox, rows)], open end) of the text between ``verticals`` from ``top`` down to the lowest
    rule below; without one (only the rule under a ``header``-high header row) down to the page's
    foot, and the table may go on on the next page (open end)."""
    below = [e["top"] for e in page.horizontal_edges if e["top"] > top + 4]
    last = max(below, default=None)
    open_end = last is None or last <= top + 3 * header + 4
    bottom = page.height * (1 - _MARGIN) if open_end else last
    bbox = (max(0.0, verticals[0]), max(0.0, top), min(page.width, verticals[-1]), bottom + 1)
    rows = _rows_of_words(page.within_bbox(bbox).extract_words(x_tolerance=1.5), verticals)
    return ([(bbox, rows)] if rows else []), open_end


def _rows_of_words(words: list[dict], verticals: list[float]) -> list[list[str | None]]:
    """Words on one baseline are a row; each goes to the column whose edges hold its start."""
    rows: list[list[str | None]] = []
    top = None
    for w in sorted(words, key=lambda w: (round(w["top"]), w["x0"])):
        if top is None or w["top"] - top > 3:
            rows.append([""] * (len(verticals) - 1))
            top = w["top"]
        col = max(0, min(len(verticals) - 2, sum(1 for v in verticals[1:-1] if w["x0"] >= v)))
        cell = rows[-1][col]
        rows[-1][col] = f"{cell} {w['text']}".strip() if cell and w["text"].isascii() else f"{cell}{w['text']}"
    return rows


def _inside(obj, boxes) -> bool:
    if obj.get("object_type") != "char":
        return False
    x, y = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
    return any(b[0] <= x <= b[2] and b[1] <= y <= b[3] for b in boxes)


# a line that starts an item of its own (1:男 / 2、女 / （3）… / ① …) or follows the end of a sentence
_ITEM_START = re.compile(r"^(?:[(（]?\d{1,3}[)）:：.、=\-]|[①-⑳]|[-•·*])")
_SENTENCE_END = re.compile(r"[。；;]$")


def _cell(value) -> str:
    """A cell's text with the PDF's visual line wraps undone: a narrow column prints VARCHAR2(18) as
    VARC / HAR2( / 18) and 患者证件号码 over two lines; a line starting a list item (1:男 2:女) or
    following a sentence's end stays a line of its own."""
    lines = [x for x in (_clean(s) for s in str(value or "").split("\n")) if x]
    text = lines[0] if lines else ""
    for line in lines[1:]:
        own = _ITEM_START.match(line) or _SENTENCE_END.search(text)
        text += ("\n" if own else "") + line
    return text


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
    sizes = Counter(round(s, 1) for items in pages for k, _v, s in items if k != "table" and s)
    return sizes.most_common(1)[0][0] if sizes else 0.0
