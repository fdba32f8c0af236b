"""How a person reads an export's layout: which sheet holds the table, which rows at its end are
not records (合计/制表人/打印时间 lines under the table). Each decision is reported in the
source's notes, never taken silently."""

from __future__ import annotations

import re

import pandas as pd

from .._exceptions import SourceError

__all__ = ["FOOTER_LOOK", "choose_sheet", "trim_footer"]

#: the first filled cell of a line under the table that sums it up or signs it
_FOOTER = re.compile(
    r"^\s*(合\s*计|总\s*计|小\s*计|共\s*计|统计|汇总|制表|打印|导出|审核人|负责人|填报|备注|注\s*[:：]|说明\s*[:：])"
)
FOOTER_LOOK = 5  # at most this many lines at the end are read as a footer


def _first_text(values) -> str:
    for v in values:
        if v is not None and not (isinstance(v, float) and v != v) and str(v).strip():
            return str(v)
    return ""


def _filled(values) -> int:
    return sum(1 for v in values if v is not None and not (isinstance(v, float) and v != v) and str(v).strip())


def _is_footer(values: list, width: int) -> bool:
    """A summary or signature line: starts with 合计/制表人… and fills at most half the columns (a
    record that happens to start with such a word fills its row)."""
    return bool(_FOOTER.match(_first_text(values))) and _filled(values) <= max(2, width // 2)


def trim_footer(frame: pd.DataFrame, *, first_line: int | None = None) -> tuple[pd.DataFrame, str | None]:
    """``frame`` without the summary lines at its end (合计、总计、制表人…), and a note naming the
    lines dropped (sheet rows counted from ``first_line``, the row of the first record, if given)."""
    n = len(frame)
    cut = n
    while cut > 0 and n - cut < FOOTER_LOOK and _is_footer(frame.iloc[cut - 1].tolist(), frame.shape[1]):
        cut -= 1
    if cut == n or cut == 0:  # nothing to drop, or every row looks so: then they are data
        return frame, None
    # the keyword only (合计、制表): the rest of such a line may name a person (制表人：张三)
    what = "、".join(dict.fromkeys(_FOOTER.match(_first_text(frame.iloc[i].tolist())).group(1) for i in range(cut, n)))
    note = f"末尾 {n - cut} 行（{what}）是表格下方的汇总/签名行，不是数据，已跳过"
    if first_line is not None:
        first, last = first_line + cut, first_line + n - 1
        note += f"（第 {first} 行）" if first == last else f"（第 {first}–{last} 行）"
    return frame.iloc[:cut], note


def _table_size(rows: list[list]) -> int:
    filled = [r for r in rows if sum(1 for v in r if v is not None and str(v).strip()) >= 2]
    width = max((sum(1 for v in r if v is not None and str(v).strip()) for r in filled), default=0)
    return len(filled) * width if len(filled) >= 2 else 0


def choose_sheet(wb, names: list[str], look: int = 50, *, prefer=(), keys=(), where=None) -> tuple[str, list[str]]:
    """The sheet an analyst means when none is named, and notes saying why: hidden sheets (an HIS's
    lookup or old data) are never read unless named — passed over, and named in a note; among the
    visible ones the sheet named one of ``prefer`` (a data set's code, name, aliases), else the one
    whose header holds most of ``keys`` (its field keys), else the first — unless that holds no
    table (a cover sheet: 说明、封面) while another does: then the largest table."""
    hidden = [name for name in names if getattr(wb[name], "sheet_state", "visible") != "visible"]
    visible = [name for name in names if name not in hidden]
    if not names:
        raise SourceError("工作簿中没有工作表，没有可读的数据；请检查导出是否成功", where=where)
    if not visible:
        raise SourceError("工作簿的工作表都是隐藏的，没有可读的表：请用 sheet= / --sheet 指定工作表", where=where)
    heads = {name: [list(r) for r in wb[name].iter_rows(max_row=look, values_only=True)] for name in visible}
    ws_name, note = _preferred(visible, heads, prefer, keys) or _largest(visible, heads)
    notes = [note] if note else []
    if hidden:
        shown = "、".join(f"「{name}」" for name in hidden)
        notes.append(f"隐藏的工作表 {shown} 未读取（要读隐藏的工作表请用 sheet= / --sheet）")
    return ws_name, notes


def _preferred(names: list[str], heads: dict, prefer, keys) -> tuple[str, str | None] | None:
    """The sheet named after the data set, else the one whose header has most of its field keys."""
    wanted = {str(x).strip().lower() for x in prefer}
    named = [name for name in names if str(name).strip().lower() in wanted]
    if named:
        return named[0], None if named[0] == names[0] else f"已读取与数据集同名的工作表「{named[0]}」"
    keys = set(keys)
    if not keys:
        return None
    hits = {
        name: max((len(keys & {str(v).strip() for v in r if v is not None}) for r in heads[name]), default=0)
        for name in names
    }
    best = max(names, key=lambda name: hits[name])
    if not hits[best]:
        return None
    return best, None if best == names[0] else f"已读取表头含字段代码最多（{hits[best]} 个）的工作表「{best}」"


def _largest(names: list[str], heads: dict) -> tuple[str, str | None]:
    """The first sheet, unless it holds no table while another does: then the largest table."""
    sizes = {name: _table_size(heads[name]) for name in names}
    first = names[0]
    best = max(names, key=lambda name: sizes[name])
    if sizes[first] or not sizes[best]:
        return first, None
    return best, f"第一个工作表「{first}」不是数据表，已读取「{best}」"
