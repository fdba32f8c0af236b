"""The field rules' kernel: the cells of a table's fields checked *at once*, one function per kind
of check — required, type, length, date formats, pattern, code set, const, whitespace, range,
precision, items — masks first, messages only for the failing cells.

The cells come as a :class:`FieldStack`: the columns of several fields laid end to end in one
:class:`~hlwjr.validation._columns.Column` (field ``j``'s row ``i`` at ``j * n + i``), each
cell knowing its field's attributes through per-field vectors built once per plan
(:class:`_FieldVectors`). A small batch stacks all its fields (100 records × 41 fields cost about
one 4,100-cell column per kind of check); a large table gives each field its own stack, where the
vectors become scalars — the same functions either way.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from functools import cached_property

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
    IS_INTEGER,
    IS_NUMERIC,
    LIST,
    MISSING,
    NULL,
    OTHER,
    STR,
    Column,
    byte_lengths,
    kinds_of,
    str_lengths,
)
from ._ecma import regex_search
from ._hints import HINT_VALUES, code_set_hint, excel_serial_hint, str_hint
from ._members import TextSet, member_mask
from ._numbers import is_out_of_range, out_of_range_text
from ._plan import _FieldPlan, _Plan
from ._registry import int_text

__all__ = ["FieldStack", "field_problems"]

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


_TYPES = tuple(_ALLOWED)


STRING, INTEGER, DECIMAL, DATE, DATETIME, ARRAY = range(len(_TYPES))


#: ``_ALLOWED_LUT[type, kind]``: may a cell of this JSON kind stand in a field of this type?
_ALLOWED_LUT = np.array([kinds_of(*_ALLOWED[t]) for t in _TYPES])


#: the order in which one field's problems are listed (a field's rules, as the spec reads)
(
    _REQUIRED,
    _TYPE,
    _MAX_LENGTH,
    _MIN_LENGTH,
    _FORMAT_SHAPE,
    _FORMAT_VALUE,
    _PATTERN,
    _CODE_SET,
    _CONST,
    _WHITESPACE,
    _MINIMUM,
    _MAXIMUM,
    _PRECISION,
    _TOTAL_DIGITS,
    _MIN_ITEMS,
) = range(15)


# ------------------------------------------------------------------------------ the vectors
def _vector(values, dtype=np.float64) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=dtype)


class _FieldVectors:
    """A plan's field attributes as vectors over its fields (built once, cached on the plan)."""

    def __init__(self, fields: list[_FieldPlan]) -> None:
        self.fields = fields
        self.index = {fp.key: j for j, fp in enumerate(fields)}
        self.type = np.array([_TYPES.index(fp.type) for fp in fields], dtype=np.int8)
        self.required = np.array([fp.required for fp in fields], dtype=bool)
        self.max_length = _vector(fp.max_length for fp in fields)
        self.min_length = _vector(fp.min_length or None for fp in fields)  # 0: no minimum
        self.minimum = _vector(fp.minimum for fp in fields)
        self.maximum = _vector(fp.maximum for fp in fields)
        decimal = [fp.type == "decimal" for fp in fields]
        self.precision = _vector(fp.precision if d else None for fp, d in zip(fields, decimal))
        self.total_digits = _vector(
            None if fp.total_digits is None else 10.0 ** (fp.total_digits - (fp.precision or 0)) for fp in fields
        )
        self.patterns = sorted({fp.pattern for fp in fields if fp.pattern})
        self.pattern = np.array([self.patterns.index(fp.pattern) if fp.pattern else -1 for fp in fields])
        self.text_codes = np.array([fp.codes is not None and fp.type != "integer" for fp in fields], dtype=bool)
        self.int_codes = np.array([fp.codes is not None and fp.type == "integer" for fp in fields], dtype=bool)
        self.code_prefix = pa.array([f"{j}\x1f" for j in range(len(fields))], type=pa.string())
        self.all_codes = TextSet(
            f"{j}\x1f{c}" for j, fp in enumerate(fields) if fp.code_set is not None for c in fp.code_set.codes
        )
        self.spaces = np.array(
            [fp.type == "string" and fp.pattern is None and fp.codes is None for fp in fields], dtype=bool
        )
        self.const = [j for j, fp in enumerate(fields) if fp.const is not None]
        self.min_items = [j for j, fp in enumerate(fields) if fp.type == "array" and fp.min_items]


def _vectors(plan: _Plan) -> _FieldVectors:
    v = plan.cache.get("field_vectors")
    if v is None:
        v = plan.cache["field_vectors"] = _FieldVectors(list(plan.fields.values()))
    return v


# -------------------------------------------------------------------------------- the stack
@dataclass
class FieldStack:
    """The cells of fields ``keys`` of one table (``n`` rows each) in one column."""

    plan: _Plan
    keys: list[str]
    col: Column
    n: int
    objmask: np.ndarray  # per row: the record is an object

    @cached_property
    def vectors(self) -> _FieldVectors:
        return _vectors(self.plan)

    @cached_property
    def sel(self) -> np.ndarray:
        """The stacked fields' positions in the plan's vectors."""
        return np.array([self.vectors.index[k] for k in self.keys], dtype=np.int64)

    @cached_property
    def fi(self) -> np.ndarray:
        """Each cell's field, as a position in the plan's vectors."""
        return np.repeat(self.sel, self.n)

    def cell(self, vector: np.ndarray):
        """A per-field attribute per cell (a scalar when the stack holds one field)."""
        return vector[self.sel[0]].item() if len(self.keys) == 1 else vector[self.fi]

    def any(self, vector: np.ndarray) -> bool:
        """Does any stacked field have the (boolean or NaN-for-none) attribute?"""
        a = vector[self.sel]
        return bool(a.any() if a.dtype == bool else (~np.isnan(a)).any())

    def fields_among(self, positions: list[int]):
        """(field plan, first cell) of the stacked fields among plan ``positions`` (the few fields
        a rare attribute is set on: const, min_items)."""
        for j in positions:
            fp = self.vectors.fields[j]
            if fp.key in self.keys:
                yield fp, self.keys.index(fp.key) * self.n

    def split(self, bad: np.ndarray):
        """(field plan, cell positions) for each stacked field with a failing cell."""
        cells = np.flatnonzero(bad)
        if not len(cells):
            return
        if len(self.keys) == 1:
            yield self.plan.fields[self.keys[0]], cells
            return
        pos = cells // self.n
        cuts = np.flatnonzero(np.diff(pos)) + 1
        for part in np.split(cells, cuts):
            yield self.plan.fields[self.keys[int(part[0] // self.n)]], part

    # -- what every kind of check reads
    @cached_property
    def kind(self) -> np.ndarray:
        return self.col.kind

    @cached_property
    def required(self):
        return self.cell(self.vectors.required)

    @cached_property
    def blank(self) -> np.ndarray:
        """Blank strings count as empty only for required fields; elsewhere "" is text."""
        if not self.any(self.vectors.required):
            return np.zeros(len(self.kind), dtype=bool)
        return self.col.blank() & self.required

    @cached_property
    def present(self) -> np.ndarray:
        return (self.kind != MISSING) & ~((self.kind == NULL) & self.required)

    @cached_property
    def good_str(self) -> np.ndarray:
        return (self.kind == STR) & ~self.blank

    @cached_property
    def type(self):
        return self.cell(self.vectors.type)

    @cached_property
    def text_cells(self) -> np.ndarray:
        """Non-blank strings of string, date and datetime fields (those the text rules read)."""
        return self.good_str & ((self.type == STRING) | (self.type == DATE) | (self.type == DATETIME))

    @cached_property
    def is_num(self) -> np.ndarray:
        return IS_NUMERIC[self.kind] & ((self.type == INTEGER) | (self.type == DECIMAL))

    @cached_property
    def flagged(self) -> np.ndarray:
        """Cells a date format already blamed (the pattern then stays quiet)."""
        return np.zeros(len(self.kind), dtype=bool)

    def strings(self) -> pa.Array:
        return self.col.strings()

    def taken(self, cells: np.ndarray) -> pa.Array:
        s = self.strings()
        return s if len(cells) == len(s) else s.take(pa.array(cells, type=pa.int64()))

    def over(self, cells: np.ndarray, kernel) -> np.ndarray:
        """``kernel`` (strings → one value per string) at ``cells``: over those strings when they
        are few, over the whole stack when they are most of it (no copy of a big column)."""
        if 2 * len(cells) >= len(self.kind):
            return kernel(self.strings())[cells]
        return kernel(self.taken(cells))


# ------------------------------------------------------------------------ one check per kind
def _required(st: FieldStack):
    if not st.any(st.vectors.required):
        return
    kind = st.kind
    objmask = st.objmask if len(st.keys) == 1 else np.tile(st.objmask, len(st.keys))
    missing = objmask & st.required & ((kind == MISSING) | (kind == NULL) | st.blank)
    for fp, idx in st.split(missing):
        k = kind[idx]
        msgs = np.where(
            k == MISSING,
            f"必填字段 {fp.label} 缺失，请补充",
            np.where(k == NULL, f"必填字段 {fp.label} 为 null，请补充", f"必填字段 {fp.label} 为空字符串，请补充"),
        ).astype(object)
        yield fp, _REQUIRED, idx, "required", msgs, None


def _type(st: FieldStack):
    wrong = st.present & ~_ALLOWED_LUT[st.type, st.kind]
    for fp, idx in st.split(wrong):
        kinds = st.kind[idx]
        msgs = np.array([_type_message(fp, k, v) for k, v in zip(kinds, st.col.at(idx))], dtype=object)
        date_like = (fp.type in ("date", "datetime")) & IS_NUMERIC[kinds]
        rule_ids = np.where(date_like, fp.type, "type")
        for rid in ("type", fp.type):
            sel = rule_ids == rid
            if sel.any():
                yield fp, _TYPE, idx[sel], rid, msgs[sel], None


def _max_length(st: FieldStack):
    if not st.any(st.vectors.max_length) or not st.text_cells.any():
        return
    limit = st.cell(st.vectors.max_length)
    with np.errstate(invalid="ignore"):
        cand = st.text_cells & (byte_lengths(st.strings()) > limit)  # ≤ limit bytes: ≤ limit characters
    if not cand.any():
        return
    cells = np.flatnonzero(cand)
    lengths = np.zeros(len(cand), dtype=np.int64)
    lengths[cells] = st.over(cells, str_lengths)
    for fp, idx in st.split(cand & (lengths > limit)):
        msgs = [f"{fp.label} 长度 {n} 超过最大长度 {fp.max_length}，请截断或核对" for n in lengths[idx]]
        yield fp, _MAX_LENGTH, idx, "max_length", np.array(msgs, dtype=object), None


def _min_length(st: FieldStack):
    if not st.any(st.vectors.min_length) or not st.text_cells.any():
        return
    limit = st.cell(st.vectors.min_length)
    with np.errstate(invalid="ignore"):
        cand = st.text_cells & (limit > 0)
    cells = np.flatnonzero(cand)
    lengths = np.zeros(len(cand), dtype=np.int64)
    lengths[cells] = st.over(cells, str_lengths)
    with np.errstate(invalid="ignore"):
        bad = cand & (lengths < limit)
    for fp, idx in st.split(bad):
        yield fp, _MIN_LENGTH, idx, "max_length", f"{fp.label} 长度不足 {fp.min_length}", None


def _formats(st: FieldStack):
    timed = st.text_cells & ((st.type == DATE) | (st.type == DATETIME))
    for type_id, fmt in ((DATE, "date"), (DATETIME, "date-time-cn")):
        cand = st.text_cells & (st.type == type_id)
        if len(st.keys) > 1 and timed.any():
            st.col.formats(fmt)  # both layouts over the whole stack: the time rules' slices read them
        if not cand.any():
            continue
        shape, value = st.col.formats(fmt)
        yield from _format_shape(st, cand & ~shape)
        yield from _format_value(st, cand & shape & ~value)
        st.flagged[:] |= cand & ~(shape & value)


def _format_shape(st: FieldStack, bad: np.ndarray):
    for fp, idx in st.split(bad):
        layout = "YYYY-MM-DD（如 2024-01-31）" if fp.type == "date" else "YYYY-MM-DD HH:MM:SS（如 2024-01-31 08:05:00）"
        hint = _DateHints(fp.type)
        msgs = np.array([f"{fp.label} 应为 {layout}，实际为“{v}”{hint(v)}" for v in st.col.at(idx)], dtype=object)
        yield fp, _FORMAT_SHAPE, idx, fp.type, msgs, None


class _DateHints(dict):
    """The "可改为 …" suggestion costs a few strptime calls: computed for the first HINT_VALUES
    distinct values of a field (a whole column in another layout is common), the rest get the
    plain hints."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    def __call__(self, v) -> str:
        h = self.get(v)
        if h is None:
            h = str_hint(v, date=self.kind) if len(self) < HINT_VALUES else str_hint(v)
            if len(self) < HINT_VALUES:
                self[v] = h
        return h


def _format_value(st: FieldStack, bad: np.ndarray):
    for fp, idx in st.split(bad):
        what = "日期" if fp.type == "date" else "日期时间"
        yield fp, _FORMAT_VALUE, idx, fp.type, f"{fp.label} 不是真实的{what}（如 2月30日、13月、24点），请核对", None


def _pattern(st: FieldStack):
    if not st.vectors.patterns or not st.text_cells.any():
        return
    which = st.cell(st.vectors.pattern)
    for p in np.unique(st.vectors.pattern[st.sel]):
        if p < 0:
            continue
        pattern = st.vectors.patterns[p]
        cells = np.flatnonzero(st.text_cells & (which == p) & ~st.flagged)
        if not len(cells):
            continue
        bad = np.zeros(len(st.kind), dtype=bool)
        bad[cells] = ~st.over(cells, lambda strings, pattern=pattern: regex_search(strings, pattern))
        for fp, idx in st.split(bad):
            msgs = [f"{fp.label} 格式不符合规定（正则 {fp.pattern}）{str_hint(v)}" for v in st.col.at(idx)]
            yield fp, _PATTERN, idx, "pattern", np.array(msgs, dtype=object), None


def _code_set(st: FieldStack):
    """Code set membership: text codes as they are, integer fields by their digits."""
    vec = st.vectors
    cand = np.zeros(len(st.kind), dtype=bool)
    if st.any(vec.text_codes):
        cand |= st.good_str & st.cell(vec.text_codes)
    num = np.zeros(len(st.kind), dtype=bool)
    if st.any(vec.int_codes):
        num = IS_INTEGER[st.kind] & st.cell(vec.int_codes)
        cand |= num
    cells = np.flatnonzero(cand)
    if not len(cells):
        return
    if len(st.keys) == 1:  # a big table's field: its own codes, over the whole column
        text = st.strings()
        if num.any():
            text = pc.if_else(pa.array(num), int_text(st.col, num), text)
        inset = st.plan.fields[st.keys[0]].codes.contains(text)[cells]
        text = text.take(pa.array(cells[~inset], type=pa.int64()))
    else:  # every field's codes in one set: "field position \x1f code"
        text = st.taken(cells)
        if num.any():
            text = pc.if_else(pa.array(num[cells]), int_text(st.col, num).take(pa.array(cells)), text)
        prefix = vec.code_prefix.take(pa.array(st.fi[cells]))
        inset = vec.all_codes.contains(pc.binary_join_element_wise(prefix, text, ""))
        text = text.filter(pa.array(~inset))
    bad = np.zeros(len(st.kind), dtype=bool)
    bad[cells[~inset]] = True
    shown = dict(zip(cells[~inset].tolist(), text.to_pylist()))
    for fp, idx in st.split(bad):
        cs = fp.code_set
        values = map(shown.get, idx.tolist())
        msgs = [f"{fp.label} 的值“{v}”不在值域 {cs.name}（{cs.id}）中{code_set_hint(cs, v)}" for v in values]
        if not cs.complete:
            msgs = [m + "（值域不完整，仅提示）" for m in msgs]
        yield fp, _CODE_SET, idx, "code_set", np.array(msgs, dtype=object), None if cs.complete else "warning"


def _const(st: FieldStack):
    for fp, start in st.fields_among(st.vectors.const):
        part = st.col.slice(start, start + st.n)
        bad = st.present[start : start + st.n] & (part.kind != NULL) & ~member_mask(part, (fp.const,))
        if bad.any():
            yield fp, _CONST, np.flatnonzero(bad) + start, "const", f"{fp.label} 应为固定值 {fp.const!r}", None


def _whitespace(st: FieldStack):
    """A leading/trailing space in plain text fields (no pattern or code set spoke for them)."""
    if not st.any(st.vectors.spaces):
        return
    cand = st.good_str & st.cell(st.vectors.spaces)
    if not cand.any():
        return
    _, lead, trail = st.col.edges()
    for fp, idx in st.split(cand & (lead | trail)):
        yield fp, _WHITESPACE, idx, "whitespace", f"{fp.label} 的值前后有空格，平台按原样比较，请去掉空格", "warning"


def _range(st: FieldStack):
    vec = st.vectors
    for vector, op, order, rule, words in (
        (vec.minimum, operator.lt, _MINIMUM, "minimum", "小于最小值"),
        (vec.maximum, operator.gt, _MAXIMUM, "maximum", "大于最大值"),
    ):
        if not st.any(vector) or not st.is_num.any():
            continue
        bound = st.cell(vector)
        for fp, idx in st.split(st.col.compare(st.is_num, op, bound)):
            limit = fp.minimum if rule == "minimum" else fp.maximum
            yield fp, order, idx, rule, f"{fp.label} {words} {limit:g}", None


def _precision(st: FieldStack):
    if not st.any(st.vectors.precision) or not st.is_num.any():
        return
    digits = st.cell(st.vectors.precision)
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = st.col.numbers() * 10.0**digits
        frac = np.abs(scaled - np.round(scaled))
        bad = st.is_num & (frac > 1e-6 * np.maximum(1.0, np.abs(scaled)) + 1e-9)
    for fp, idx in st.split(bad):
        msg = f"{fp.label} 小数位数超过 {fp.precision} 位，请四舍五入到 {fp.precision} 位"
        yield fp, _PRECISION, idx, "precision", msg, None


def _total_digits(st: FieldStack):
    if not st.any(st.vectors.total_digits) or not st.is_num.any():
        return
    limit = st.cell(st.vectors.total_digits)  # 10 ** integer digits
    bad = st.col.compare(st.is_num, operator.ge, limit) | st.col.compare(st.is_num, operator.le, -limit)
    for fp, idx in st.split(bad):
        int_digits = fp.total_digits - (fp.precision or 0)
        msg = f"{fp.label} 整数部分超过 {int_digits} 位（总位数 {fp.total_digits}，小数 {fp.precision or 0} 位）"
        yield fp, _TOTAL_DIGITS, idx, "precision", msg, None


def _min_items(st: FieldStack):
    for fp, start in st.fields_among(st.vectors.min_items):
        lidx = np.flatnonzero(st.kind[start : start + st.n] == LIST) + start
        if len(lidx):
            lens = np.fromiter(map(len, st.col.obj[lidx]), dtype=np.int64, count=len(lidx))
            bad = lidx[lens < fp.min_items]
            if len(bad):
                yield fp, _MIN_ITEMS, bad, "min_items", f"{fp.label} 至少应有 {fp.min_items} 条明细", None


#: every kind of field check, each over all the stacked cells at once
CHECKS = (
    _required,
    _type,
    _max_length,
    _min_length,
    _formats,
    _pattern,
    _code_set,
    _const,
    _whitespace,
    _range,
    _precision,
    _total_digits,
    _min_items,
)


def field_problems(st: FieldStack) -> list[tuple[_FieldPlan, list]]:
    """Each stacked field with its problems ``(rows, rule, message(s), severity)``, listed field by
    field in the spec's order and, within a field, in the order of its rules."""
    found: dict[str, list] = {}
    for check in CHECKS:
        for fp, order, idx, rule, msgs, sev in check(st):
            found.setdefault(fp.key, []).append((order, idx, rule, msgs, sev))
    out = []
    for j, key in enumerate(st.keys):
        hits = sorted(found.get(key, ()), key=operator.itemgetter(0))
        out.append((st.plan.fields[key], [(idx - j * st.n, rule, msgs, sev) for _, idx, rule, msgs, sev in hits]))
    return out


# ------------------------------------------------------------------------------- messages
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
