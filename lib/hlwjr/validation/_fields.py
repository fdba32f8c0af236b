"""The field rules' kernel: one column of one field checked against its plan — required, type,
length, date formats, pattern, code set, const, whitespace, range, precision, items — masks
first, messages only for the failing cells.
"""

from __future__ import annotations

import operator
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._privacy import to_halfwidth
from ._columns import (
    BOOL,
    DICT,
    FLOAT,
    FLOATINT,
    INT,
    LIST,
    MISSING,
    NULL,
    OTHER,
    STR,
    Column,
    _bool,
    str_lengths,
    too_long,
)
from ._ecma import regex_search
from ._hints import HINT_VALUES, excel_serial_hint, str_hint
from ._numbers import is_out_of_range, out_of_range_text
from ._plan import _FieldPlan
from ._registry import int_text

_KIND_CN = {
    NULL: "null（空值）",
    BOOL: "布尔值",
    INT: "数字",
    FLOAT: "小数",
    FLOATINT: "数字",
    STR: "文本",
    LIST: "数组",
    DICT: "对象",
    OTHER: "日期对象或其他非JSON值",
}


_TYPE_CN = {
    "string": "文本（字符串）",
    "integer": "整数",
    "decimal": "数值",
    "date": "日期文本 YYYY-MM-DD",
    "datetime": "日期时间文本 YYYY-MM-DD HH:MM:SS",
    "array": "数组（明细列表）",
}


_ALLOWED = {
    "string": (STR,),
    "integer": (INT, FLOATINT),
    "decimal": (INT, FLOAT, FLOATINT),
    "date": (STR,),
    "datetime": (STR,),
    "array": (LIST,),
}


_ALLOWED_LUT = {t: np.isin(np.arange(16), ks) for t, ks in _ALLOWED.items()}


_NUM_LUT = np.isin(np.arange(16), (INT, FLOAT, FLOATINT))


# ------------------------------------------------------------------------------ field checks
def _type_message(fp: _FieldPlan, k: int, v) -> str:
    want = _TYPE_CN[fp.type]
    if k == OTHER and is_out_of_range(v):
        return f"{fp.label} 应为{want}，实际为{out_of_range_text(v)}；请核对源数据"
    got = _KIND_CN.get(int(k), "其他")
    msg = f"{fp.label} 应为{want}，实际为{got}"
    if fp.type == "string" and k in (INT, FLOATINT, FLOAT):
        msg += "；请按文本读取该列（编码类字段要保留前导零，如 01）"
        try:
            if abs(float(v)) >= 1e15:
                msg += "；超过 15 位的数字在 Excel 中只保留 15 位有效数字，末几位可能已变，请在源系统把该列按文本导出"
        except (TypeError, ValueError, OverflowError):
            pass
    elif fp.type in ("integer", "decimal") and k == STR:
        t = to_halfwidth(str(v)).strip()
        try:
            float(t)
            msg += f"“{v}”；请转换为数字（去掉引号{'、空格或全角字符' if t != v else ''}）"
        except ValueError:
            msg += "；请填写数字，不要带单位或文字"
    elif fp.type == "integer" and k == FLOAT:
        msg += "；整数字段不能有小数部分"
    elif fp.type in ("date", "datetime") and k in (INT, FLOAT, FLOATINT):
        msg += excel_serial_hint(v, date_only=fp.type == "date")
    elif k == NULL:
        msg = f"{fp.label} 为 null；无值时请省略该字段，不要传 null"
    elif k == BOOL:
        msg += "（true/false）"
    return msg


def _field_problems(fp: _FieldPlan, col: Column, objmask: np.ndarray):
    """(idx, rule, message(s), severity) for one field column."""
    out = []
    kind = col.kind
    is_str = kind == STR
    # blank strings count as empty only for required fields; elsewhere "" is checked like any text
    blank = col.blank() if fp.required else np.zeros(col.n, dtype=bool)
    if fp.required:
        missing = objmask & ((kind == MISSING) | (kind == NULL) | blank)
        if missing.any():
            idx = np.flatnonzero(missing)
            k = kind[idx]
            msgs = np.where(
                k == MISSING,
                f"必填字段 {fp.label} 缺失，请补充",
                np.where(k == NULL, f"必填字段 {fp.label} 为 null，请补充", f"必填字段 {fp.label} 为空字符串，请补充"),
            ).astype(object)
            out.append((idx, "required", msgs, None))
    present = (kind != MISSING) & ~((kind == NULL) & fp.required)
    allowed = _ALLOWED_LUT[fp.type][kind]
    wrong = present & ~allowed
    if wrong.any():
        idx = np.flatnonzero(wrong)
        vals = col.at(idx)
        msgs = np.array([_type_message(fp, k, v) for k, v in zip(kind[idx], vals)], dtype=object)
        date_like = (fp.type in ("date", "datetime")) & np.isin(kind[idx], (INT, FLOAT, FLOATINT))
        rule_ids = np.where(date_like, fp.type, "type")
        for rid in ("type", fp.type):
            sel = rule_ids == rid
            if sel.any():
                out.append((idx[sel], rid, msgs[sel], None))
    good_str = is_str & ~blank
    if good_str.any() and fp.type in ("string", "date", "datetime"):
        s = col.strings()
        flagged = np.zeros(col.n, dtype=bool)
        if fp.max_length is not None:
            over, lens = too_long(s, fp.max_length)
            bad = good_str & over
            if bad.any():
                idx = np.flatnonzero(bad)
                msgs = np.array(
                    [f"{fp.label} 长度 {n} 超过最大长度 {fp.max_length}，请截断或核对" for n in lens[idx]], dtype=object
                )
                out.append((idx, "max_length", msgs, None))
        if fp.min_length:
            lens = str_lengths(s)
            bad = good_str & (lens < fp.min_length)
            if bad.any():
                out.append((np.flatnonzero(bad), "max_length", f"{fp.label} 长度不足 {fp.min_length}", None))
        if fp.type in ("date", "datetime"):
            fmt = "date" if fp.type == "date" else "date-time-cn"
            shape, value = col.formats(fmt)
            layout = (
                "YYYY-MM-DD（如 2024-01-31）" if fp.type == "date" else "YYYY-MM-DD HH:MM:SS（如 2024-01-31 08:05:00）"
            )
            bad = good_str & ~shape
            if bad.any():
                idx = np.flatnonzero(bad)
                hints: dict = {}

                def _hint(v, kind=fp.type):
                    # the "可改为 …" suggestion costs a few strptime calls: computed for the first
                    # HINT_VALUES distinct values of the column (a whole column in another layout
                    # is common), the rest get the plain hints
                    h = hints.get(v)
                    if h is None:
                        h = str_hint(v, date=kind) if len(hints) < HINT_VALUES else str_hint(v)
                        if len(hints) < HINT_VALUES:
                            hints[v] = h
                    return h

                msgs = np.array([f"{fp.label} 应为 {layout}，实际为“{v}”{_hint(v)}" for v in col.at(idx)], dtype=object)
                out.append((idx, fp.type, msgs, None))
            bad2 = good_str & shape & ~value
            if bad2.any():
                what = "日期" if fp.type == "date" else "日期时间"
                out.append(
                    (
                        np.flatnonzero(bad2),
                        fp.type,
                        f"{fp.label} 不是真实的{what}（如 2月30日、13月、24点），请核对",
                        None,
                    )
                )
            flagged |= bad | bad2
        if fp.pattern:
            ok = regex_search(s, fp.pattern)
            bad = good_str & ~ok & ~flagged
            if bad.any():
                idx = np.flatnonzero(bad)
                msgs = np.array(
                    [f"{fp.label} 格式不符合规定（正则 {fp.pattern}）{str_hint(v)}" for v in col.at(idx)], dtype=object
                )
                out.append((idx, "pattern", msgs, None))
                flagged |= bad
    # code set membership (text codes; integer fields compare their digits)
    if fp.codes is not None:
        if fp.type == "integer":
            num = np.isin(kind, (INT, FLOATINT))
            text = pc.if_else(pa.array(num), int_text(col, num), pa.scalar(None, pa.string()))
            cand = num
        else:
            text = col.strings() if good_str.any() else None
            cand = good_str
        if text is not None and cand.any():
            inset = _bool(pc.is_in(text, value_set=fp.codes))
            bad = cand & ~inset
            if bad.any():
                idx = np.flatnonzero(bad)
                cs = fp.code_set
                by_name = {n: c for c, n in cs.codes.items()}
                msgs = []
                for v in text.take(pa.array(idx)).to_pylist():
                    hint = ""
                    t = to_halfwidth(v).strip()
                    if t in cs.codes:
                        hint = f"；去掉空格/全角后为有效代码 {t}" + str_hint(v)
                    elif t in by_name:
                        hint = f"；这是名称，应填代码 {by_name[t]}"
                    elif t.isdigit() and (
                        padded := [
                            c
                            for c in cs.codes
                            if len(c) > len(t) and c.isdigit() and c.lstrip("0") == t.lstrip("0") and c.startswith("0")
                        ]
                    ):
                        hint = (
                            f"；疑似丢失了前导零，应为代码 {padded[0]}（Excel 把代码当数字存储时会去掉前导零，"
                            "请把该列设为文本，或按文本导出）"
                        )
                    elif re.fullmatch(r"\d+\.0+", t) and t.split(".")[0] in cs.codes:
                        hint = f"；疑似数字被读成了小数，应为代码 {t.split('.')[0]}：请按文本读取/导出该列"
                    elif t and len(like := [c for c, n in cs.codes.items() if n and n.startswith(t)]) == 1:
                        hint = f"；疑似名称“{cs.codes[like[0]]}”，应填代码 {like[0]}"
                    elif len(cs.codes) <= 12:
                        hint = "；可用代码：" + "，".join(f"{c} {n}" for c, n in cs.codes.items())
                    msgs.append(f"{fp.label} 的值“{v}”不在值域 {cs.name}（{cs.id}）中{hint}")
                sev = None if cs.complete else "warning"
                if not cs.complete:
                    msgs = [m + "（值域不完整，仅提示）" for m in msgs]
                out.append((idx, "code_set", np.array(msgs, dtype=object), sev))
    if fp.const is not None:
        from ._columns import member_mask

        bad = present & (kind != NULL) & ~member_mask(col, (fp.const,))
        if bad.any():
            out.append((np.flatnonzero(bad), "const", f"{fp.label} 应为固定值 {fp.const!r}", None))
    # whitespace warning where no other rule spoke
    if good_str.any() and fp.type == "string" and fp.pattern is None and fp.codes is None:
        _, lead, trail = col.edges()
        sp = good_str & (lead | trail)
        if sp.any():
            out.append(
                (np.flatnonzero(sp), "whitespace", f"{fp.label} 的值前后有空格，平台按原样比较，请去掉空格", "warning")
            )
    is_num = _NUM_LUT[kind] & (fp.type in ("integer", "decimal"))
    if is_num.any():
        x = col.numbers()
        if fp.minimum is not None:
            bad = col.compare(is_num, operator.lt, fp.minimum)
            if bad.any():
                out.append((np.flatnonzero(bad), "minimum", f"{fp.label} 小于最小值 {fp.minimum:g}", None))
        if fp.maximum is not None:
            bad = col.compare(is_num, operator.gt, fp.maximum)
            if bad.any():
                out.append((np.flatnonzero(bad), "maximum", f"{fp.label} 大于最大值 {fp.maximum:g}", None))
        with np.errstate(invalid="ignore", over="ignore"):
            if fp.type == "decimal" and fp.precision is not None:
                scaled = x * 10.0**fp.precision
                frac = np.abs(scaled - np.round(scaled))
                bad = is_num & (frac > 1e-6 * np.maximum(1.0, np.abs(scaled)) + 1e-9)
                if bad.any():
                    out.append(
                        (
                            np.flatnonzero(bad),
                            "precision",
                            f"{fp.label} 小数位数超过 {fp.precision} 位，请四舍五入到 {fp.precision} 位",
                            None,
                        )
                    )
            if fp.total_digits is not None:
                int_digits = fp.total_digits - (fp.precision or 0)
                bad = _abs_at_least(col, is_num, 10**int_digits)
                if bad.any():
                    out.append(
                        (
                            np.flatnonzero(bad),
                            "precision",
                            f"{fp.label} 整数部分超过 {int_digits} 位（总位数 {fp.total_digits}，小数 "
                            f"{fp.precision or 0} 位）",
                            None,
                        )
                    )
    if fp.type == "array" and fp.min_items:
        lidx = np.flatnonzero(kind == LIST)
        if len(lidx):
            lens = np.fromiter(map(len, col.obj[lidx]), dtype=np.int64, count=len(lidx))
            bad = lidx[lens < fp.min_items]
            if len(bad):
                out.append((bad, "min_items", f"{fp.label} 至少应有 {fp.min_items} 条明细", None))
    return out


def _abs_at_least(col: Column, mask: np.ndarray, limit: int) -> np.ndarray:
    """``mask & (|cell| >= limit)``, exact for big integers and Decimals."""
    return col.compare(mask, operator.ge, limit) | col.compare(mask, operator.le, -limit)
