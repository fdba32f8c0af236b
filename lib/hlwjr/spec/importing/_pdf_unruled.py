"""Tables without vertical rules in a PDF: three-line tables (三线表: a rule above and below the header
row and one under the last row) and borderless tables (columns by alignment only).

A text line that reads as a field-table or code-table header starts a table. Its columns are the
header's words (a header wrapped over two lines, 数据元 / 名称 or a vertically centred 是否 / 必填,
is one header row), and the gap between two columns is narrowed by the rows' words, so a centred
header over left-aligned values still splits them right. A 三线表 (a rule right above or under its
header) ends at its next rule — a rule followed by a row of two cells or more is a rule between rows;
a borderless table at the first line that does not fit its columns: text running across a column
gap (prose), a one-cell line starting left of the table (a heading or note), a line printed larger
(a heading) or a big vertical gap. A table reaching the page's foot may go on at the top of the next
page with its header repeated (a new table, joined by the importer) or not (the columns carried).

Lines belong to rows: a line with text in the row's identifying column (the field code, 代码 of a
code table, else 序号 / the first column) starts a row; when a code wraps over lines and 序号 numbers
the rows 1, 2, 3 …, 序号 starts a row, and so does a code beside no 序号. In every column, lines at
line spacing are one cell, which belongs to the row whose line it spans (a top-aligned cell starts
on it, a vertically centred one reaches above and below it), else to the nearest row. Lines at a
page's top above the first row (after the header when it is repeated) end the previous page's last
row (a row broken by the page). A
cell's lines are joined as a ruled cell's are (:func:`_cell`).

Not read: a field code wrapped over lines without a 序号 column numbering the rows (its lines read
as rows); a line of text spanning the columns inside a 三线表 (it joins the nearest row); a cell
spanning columns inside a borderless table (it ends the table); bottom-aligned cells; a borderless
table whose rows sit closer than their own lines (no gap between rows) with vertically centred
cells; a row broken by the page whose rest sits under a header repeated below a 续表 caption (it
joins the header, in a 三线表 the next row).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, replace

from ._headers import _code_header_roles, _header_roles
from ._text import _clean

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


@dataclass
class _Columns:
    """A table's columns: where its text starts on the left, the free gap (lo, hi) between each two
    neighbouring columns (no word of the table inside), the identifying column and the font size."""

    left: float
    gaps: list[tuple[float, float]]
    anchor: int
    size: float
    seq: int | None = None  # the 序号 column
    code: int | None = None  # the header's identifying column (the field code), when 序号 is used instead
    ruled: bool = False  # a 三线表 (rules at the header), closed by a rule

    def of(self, word) -> int:
        return sum(1 for lo, hi in self.gaps if word["x0"] >= (lo + hi) / 2)

    def cells(self, line) -> list[str]:
        cells = [""] * (len(self.gaps) + 1)
        for w in line["words"]:
            col, text = self.of(w), w["text"]
            cells[col] = f"{cells[col]} {text}" if cells[col] and text.isascii() else cells[col] + text
        return cells

    def narrowed(self, line, strict: bool) -> _Columns | None:
        """The columns with their gaps narrowed to the line's words; None when the line does not fit
        them (``strict``: a word across a gap, words closer than a column gap on both sides of one)."""
        gaps = list(self.gaps)
        words = line["words"]
        for a, b in itertools.pairwise(words):
            if strict and b["x0"] - a["x1"] < 0.6 * self.size and any(a["x1"] < hi and b["x0"] > lo for lo, hi in gaps):
                return None
        for w in words:
            for g, (lo, hi) in enumerate(gaps):
                if w["x1"] <= lo or w["x0"] >= hi:
                    continue
                if w["x0"] <= lo and w["x1"] >= hi:
                    if strict:
                        return None
                    continue
                left = w["x0"] <= lo or (w["x1"] < hi and w["x0"] - lo < hi - w["x1"])
                lo, hi = (w["x1"], hi) if left else (lo, w["x0"])
                if hi - lo < 0.5:
                    if strict:
                        return None
                    continue
                gaps[g] = (lo, hi)
        return replace(self, left=min(self.left, line["x0"]), gaps=gaps)

    def outside(self, line) -> bool:
        """A line of one cell starting left of a borderless table's text (a heading, a short note)."""
        return not self.ruled and line["x0"] < self.left - self.size and sum(1 for c in self.cells(line) if c) < 2


def _lines(words: list[dict]) -> list[dict]:
    """Words on one baseline (tops within 2.5 pt) as text lines, top to bottom."""
    lines: list[dict] = []
    for w in sorted(words, key=lambda w: (w["top"], w["x0"])):
        if not lines or w["top"] - lines[-1]["top"] > 2.5:
            lines.append({"top": w["top"], "words": []})
        lines[-1]["words"].append(w)
    for line in lines:
        ws = line["words"] = sorted(line["words"], key=lambda w: w["x0"])
        line.update(x0=ws[0]["x0"], x1=max(w["x1"] for w in ws), bottom=max(w["bottom"] for w in ws))
        line["size"] = max(w.get("size", 0.0) for w in ws) or (line["bottom"] - line["top"])
    return lines


def _tight(upper, lower) -> bool:
    """Two lines of one paragraph or cell: no more than a line's spacing apart."""
    return lower["top"] - upper["bottom"] < 0.8 * max(upper["size"], lower["size"])


def _overlaps(word_or_line, words) -> bool:
    """Whether a word (or any word of a line) overlaps one of ``words`` horizontally."""
    mine = word_or_line.get("words", [word_or_line])
    return any(w["x0"] < o["x1"] and w["x1"] > o["x0"] for w in mine for o in words)


def _joined(upper, lower, rules: list[float]) -> bool:
    return _tight(upper, lower) and not _rule_between(rules, upper, lower)


def _rule_between(rules: list[float], upper, lower) -> bool:
    return any(upper["bottom"] - 1 <= r <= lower["top"] + 1 for r in rules)


def _segments(lines: list[dict]) -> list[tuple[float, float]]:
    """Header columns: the header's words grouped by horizontal overlap (a wrapped header word's
    lines are one column; words closer than 0.6 em on a line — a space — are one header)."""
    segs: list[list[float]] = []
    for w in sorted((w for line in lines for w in line["words"]), key=lambda w: w["x0"]):
        if segs and w["x0"] <= segs[-1][1] + 0.6 * w.get("size", 10.0):
            segs[-1][1] = max(segs[-1][1], w["x1"])
        else:
            segs.append([w["x0"], w["x1"]])
    return [(a, b) for a, b in segs]


def _header_cells(lines: list[dict]) -> tuple[list[str], list[tuple[float, float]]]:
    segs = _segments(lines)
    cols = _Columns(segs[0][0], [(a[1], b[0]) for a, b in itertools.pairwise(segs)], 0, 10.0)
    per_line = [cols.cells(line) for line in lines]
    return [_cell("\n".join(c[i] for c in per_line)) for i in range(len(segs))], cols.gaps


def _roles(names: list[str]) -> tuple[dict | None, str]:
    if len(names) < 2:
        return None, ""
    roles = _header_roles(names)
    if roles:
        return roles, "field"
    roles = _code_header_roles(names)
    return roles, ("code" if roles else "")


def _header(lines: list[dict], i: int, rules: list[float]) -> list[int] | None:
    """The lines of the header row starting (or centred) at line ``i``, or None when none reads as one."""

    def reads(cand: list[int]) -> bool:
        if cand[-1] >= len(lines) or (len(cand) > 1 and not _joined(lines[i], lines[i + 1], rules)):
            return False
        return bool(_roles(_header_cells([lines[k] for k in cand])[0])[0])

    if reads([i]):
        band = [i]
    elif reads([i, i + 1]) and not reads([i + 1]) and not (i + 2 < len(lines) and reads([i + 1, i + 2])):
        band = [i, i + 1]
    else:
        return None
    head = lines[i]
    above = [r for r in rules if r < head["top"] - 0.5 and r > head["top"] - 3 * head["size"]]
    k = i - 1
    while k >= 0 and lines[k]["top"] > (max(above) if above else -1):
        line = lines[k]
        within = head["x0"] - head["size"] <= line["x0"] and line["x1"] <= head["x1"] + head["size"]
        below = lines[band[-1] + 1]["words"] if band[-1] + 1 < len(lines) else []
        centred = all(_overlaps(w, below) for w in line["words"])  # a centred cell's lines above and below
        fits = above or ((within or centred) and not _overlaps(line, head["words"]))
        if not (fits and _joined(line, lines[band[0]], rules) and line["size"] <= head["size"] * 1.15):
            break
        band.insert(0, k)
        k -= 1
    return band


def _extend_down(lines, band: list[int], rules: list[float], cols: _Columns) -> tuple[list[int], bool]:
    """The header band with its lines below the header line: down to the rule under the header when
    there is one (True), else the tight lines with nothing in the identifying column."""
    last = lines[band[-1]]
    under = [r for r in rules if last["top"] < r < last["bottom"] + 3 * last["size"]]
    k = band[-1] + 1
    while k < len(lines):
        line = lines[k]
        if under:
            if line["top"] >= min(under):
                break
        elif (
            not _tight(lines[k - 1], line)
            or cols.cells(line)[cols.anchor]
            or sum(1 for c in cols.cells(line) if c) * 2 > len(cols.gaps) + 1
        ):
            break
        band.append(k)
        k += 1
    return band, bool(under)


def _columns(band: list[dict], before: _Columns | None) -> _Columns:
    """The columns of a header row's lines (the identifying column of ``before`` when the lines no
    longer read as a header)."""
    names, gaps = _header_cells(band)
    roles, kind = _roles(names)
    edges = _segments(band)
    anchor = _anchor(roles, kind) if roles else (before.anchor if before else 0)
    seq = roles.get("seq") if roles else (before.seq if before else None)
    return _Columns(edges[0][0] - 1, gaps, anchor, max(line["size"] for line in band), seq)


def _anchor(roles: dict, kind: str) -> int:
    if kind == "code":
        return roles["code"]
    return roles.get("key", roles.get("seq", 0))


def _tables(page, words: list[dict], rules: list[float], walls: list[tuple[float, float]], carried: _Columns | None):
    """([(bbox, rows)], columns going on on the next page) of the tables without vertical rules in
    ``words`` (a page's body words outside its ruled tables, whose spans are ``walls``);
    ``carried``: the previous page's table that may go on at the top of this one."""
    lines = _lines(words)
    found, i, going_on = [], 0, None
    at_top = carried is not None and bool(lines) and not any(top < lines[0]["top"] for top, _b in walls)
    if at_top:
        if _goes_on(lines, carried, rules):
            end, cols, open_end = _body(lines, 0, carried, rules, walls, False)
            found.append(_assemble(lines[:end], 0, cols, False, page))
            going_on, i = (cols if open_end else None), end
        elif end := _rest_alone(lines, carried, rules):
            found.append(_assemble(lines[:end], 0, carried, False, page, True))
            i = end
    while i < len(lines):
        band = _header(lines, i, rules)
        if band is None:
            i += 1
            continue
        cols = _columns([lines[k] for k in band], None)
        band, ruled_head = _extend_down(lines, band, rules, cols)
        cols = _columns([lines[k] for k in band], cols)
        first = lines[band[0]]
        above = lines[band[0] - 1]["bottom"] if band[0] else 0.0  # a rule right above the header, no text between
        cols.ruled = ruled_head or any(max(above, first["top"] - 3 * first["size"]) < r < first["top"] for r in rules)
        start = band[-1] + 1
        end, cols, open_end = _body(lines, start, cols, rules, walls, True)
        again = at_top and band[0] == 0 and len(cols.gaps) == len(carried.gaps)  # the header repeated on this page
        found.append(_assemble(lines[band[0] : end], len(band), cols, ruled_head, page, again))
        going_on, i = (cols if open_end else None), end
    return [f for f in found if f[1] or f[2]], going_on


def _goes_on(lines: list[dict], cols: _Columns, rules: list[float]) -> bool:
    """Whether the page's first lines are rows of the previous page's table: they fit its columns,
    follow each other closely, and a line with text in two columns or more comes before any gap
    (and before a header: one repeated starts the table again)."""
    for k, line in enumerate(lines):
        if (
            _header(lines, k, rules)
            or not cols.narrowed(line, True)
            or (k and lines[k]["top"] - lines[k - 1]["bottom"] > 1.5 * cols.size)
        ):
            return False
        if sum(1 for c in cols.cells(line) if c) >= 2:
            return True
    return False


def _rest_alone(lines: list[dict], cols: _Columns, rules: list[float]) -> int:
    """How many of the page's first lines are only the rest of the previous page's last row broken
    by the page, no row of the table after them (the table ends there): lines at line spacing that
    fit its columns, at its size, none with text in the identifying column or 序号, and after them no
    line that goes on at line spacing (a paragraph's) nor a header; 0 when they are not. Their cells are added to
    that row (:func:`_assemble`)."""
    k = 0
    while k < len(lines) and (k == 0 or _joined(lines[k - 1], lines[k], rules)):
        line = lines[k]
        cells = cols.cells(line)
        fits = cols.narrowed(line, True) is not None and not cols.outside(line) and line["size"] <= cols.size * 1.15
        if not fits or cells[cols.anchor] or (cols.seq is not None and cells[cols.seq]):
            break
        k += 1
    if k < len(lines) and k and _joined(lines[k - 1], lines[k], rules) and lines[k]["size"] <= cols.size * 1.15:
        return 0
    return 0 if _header(lines, k, rules) else k  # a line above a header is its caption (续表), not a rest


def _row_follows(lines: list[dict], k: int, cols: _Columns, rules: list[float]) -> bool:
    """Whether the lines from ``k`` (below a rule) are a row of the table: they fit its columns and
    before the next rule or gap one has text in the identifying column (or 序号) and another."""
    for j in range(k, len(lines)):
        line = lines[j]
        if j > k and (_rule_between(rules, lines[j - 1], line) or line["top"] - lines[j - 1]["bottom"] > cols.size):
            return False
        if not cols.narrowed(line, True):
            return False
        cells = cols.cells(line)
        if (cells[cols.anchor] or (cols.seq is not None and cells[cols.seq])) and sum(1 for c in cells if c) >= 2:
            return True
    return False


def _body(lines, start: int, cols: _Columns, rules: list[float], walls: list[tuple[float, float]], headed: bool):
    """(end, columns, open end) of a table's rows from line ``start``: to its closing rule or a ruled
    table, else to the first line not fitting the columns; open when it ran to the page's foot."""
    closing, k, size = cols.ruled, start, cols.size * 1.15
    while k < len(lines):
        line, prev = lines[k], lines[k - 1] if k > 0 else None
        if k == start + 1:  # the rows may be printed a size larger than a small header
            size = max(cols.size, min(lines[start]["size"], cols.size * 1.25)) * 1.15
        if line["size"] > (cols.size * 1.25 if k == start else size) or cols.outside(line):
            return k, cols, False
        if prev is not None and any(prev["bottom"] <= top <= line["top"] for top, _b in walls):
            return k, cols, False
        if prev is not None and (k > start or not headed) and _rule_between(rules, prev, line):
            if not _row_follows(lines, k, cols, rules):
                return k, cols, False
        nxt = cols.narrowed(line, strict=not closing)
        if nxt is None:
            return k, cols, False
        if not closing and prev is not None and line["top"] - prev["bottom"] > 2.5 * cols.size:
            return k, cols, False
        cols, k = nxt, k + 1
    return k, cols, True


def _assemble(lines: list[dict], header: int, cols: _Columns, ruled_head: bool, page, again: bool = False):
    """(bbox, rows, lead) of a table's lines, the first ``header`` of them its header row; without a
    header (a table going on from the previous page) or under a header repeated at the page's top
    over it (``again``), ``lead`` is the cells of the lines above its first row (the previous page's
    last row broken over the page; all of them, the header left out, when no row follows), else None."""
    cells = [cols.cells(line) for line in lines]
    width = len(cols.gaps) + 1
    head = [[c[i] for c in cells[:header]] for i in range(width)]
    rest = [[] for _i in range(width)] if again or not header else None
    before = rest if rest is not None else (None if ruled_head else head)
    cols.code = cols.anchor if cols.code is None else cols.code
    cols.anchor = _identifying(lines[header:], cells[header:], cols)  # kept for the table going on on the next page
    if again and not any(c[cols.anchor] or c[cols.code] for c in cells[header:]):  # the rest, no row after it
        rest, head, body = [[c[i] for c in cells[header:] if c[i]] for i in range(width)], None, []
    else:
        body = _rows(lines[header:], cells[header:], cols.anchor, before, cols.code)
    rows = [[_cell("\n".join(parts)) for parts in row] for row in ([head] if header and head else []) + body]
    lead = [_cell("\n".join(parts)) for parts in rest] if rest and any(rest) else None
    bbox = (0.0, lines[0]["top"] - 0.5, page.width, lines[-1]["bottom"] + 0.5)
    return bbox, rows, lead


def _identifying(lines: list[dict], cells: list[list[str]], cols: _Columns) -> int:
    """The column whose text starts a row: the header's (the field code's), but 序号 when that
    numbers the rows 1, 2, 3 … and a code wraps over lines (a row without 序号 stays a row)."""
    if cols.seq is None or cols.seq == cols.code:
        return cols.code
    seqs = [c[cols.seq] for c in cells if c[cols.seq]]
    numbered = bool(seqs) and all(s.isdigit() for s in seqs)
    numbered = numbered and all(int(b) == int(a) + 1 for a, b in itertools.pairwise(seqs))
    return cols.seq if numbered and _wraps(lines, cells, cols) else cols.code


def _wraps(lines: list[dict], cells: list[list[str]], cols: _Columns) -> bool:
    """Whether a cell of the identifying column goes on on the next line: a line of it filled to the
    column's edge, the next at line spacing, with nothing in the 序号 column."""
    col = cols.code
    edge = cols.gaps[col][0] if col < len(cols.gaps) else None
    ks = [k for k, c in enumerate(cells) if c[col]]
    for a, b in itertools.pairwise(ks):
        if cells[b][cols.seq] or lines[b]["top"] - lines[a]["bottom"] >= 0.5 * lines[b]["size"]:
            continue
        right = max(w["x1"] for w in lines[a]["words"] if cols.of(w) == col)
        if edge is None or right >= edge - 1.5 * cols.size:
            return True
    return False


def _rows(
    lines: list[dict], cells: list[list[str]], anchor: int, head: list[list[str]] | None, code: int | None = None
) -> list[list[list[str]]]:
    """The body's rows, each a list of the text lines of each cell. A line with text in the
    ``anchor`` (identifying) column starts a row. In every column the lines following each other at
    line spacing are one cell, which belongs to the row whose anchor line it spans (a top-aligned
    cell starts on it, a centred one reaches above and below it), else to the nearest; a cell above
    the first row goes to ``head`` when given (the header row's lines, or those of the row going on
    from the previous page). With ``anchor`` the 序号 column, a cell of the ``code`` column beside
    no 序号 starts a row too (a row written without 序号)."""
    anchors = [k for k, c in enumerate(cells) if c[anchor]]
    if not anchors:
        return [[[c] for c in line] for line in cells]

    def centre(k: int) -> float:
        return (lines[k]["top"] + lines[k]["bottom"]) / 2

    if code is not None and code != anchor:
        for run in _runs(lines, [k for k, c in enumerate(cells) if c[code]]):
            top, bottom = lines[run[0]]["top"] - 1, lines[run[-1]]["bottom"] + 1
            if not any(top <= centre(a) <= bottom for a in anchors):
                anchors.append(run[0])
        anchors.sort()
    rows = {a: [[] for _c in cells[0]] for a in anchors}

    for col in range(len(cells[0])):
        for run in _runs(lines, [k for k, c in enumerate(cells) if c[col]]):
            top, bottom = lines[run[0]]["top"] - 1, lines[run[-1]]["bottom"] + 1
            spanned = [a for a in anchors if top <= centre(a) <= bottom]
            for k in run:
                if spanned:
                    owner = max((a for a in spanned if lines[a]["top"] <= centre(k)), default=spanned[0])
                elif head is not None and bottom < lines[anchors[0]]["top"]:
                    head[col].append(cells[k][col])
                    continue
                else:
                    mid = (top + bottom) / 2
                    owner = min(anchors, key=lambda a, mid=mid: abs(centre(a) - mid))
                rows[owner][col].append(cells[k][col])
    return [rows[a] for a in anchors]


def _runs(lines: list[dict], ks: list[int]) -> list[list[int]]:
    """Line indices (of one column's text) split where the gap is wider than a cell's line spacing."""
    runs: list[list[int]] = []
    for k in ks:
        if runs and lines[k]["top"] - lines[runs[-1][-1]]["bottom"] < 0.5 * lines[k]["size"]:
            runs[-1].append(k)
        else:
            runs.append([k])
    return runs
