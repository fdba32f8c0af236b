"""The validation engine (强制校验): every problem in a batch, column-wise, driven by the spec.

::

    report = hlwjr.check(records, "recipe")            # collect everything → Report
    for p in hlwjr.iter_problems(records, "recipe"):   # the lazy core: Problem records
        ...
    hlwjr.validate(records, "recipe")                  # raise RecordsInvalid(report=...) on errors
    hlwjr.is_valid(records, "recipe")                  # True / False

``records`` is a pandas DataFrame (one column per field key; an array field is a column of lists
of dicts; NaN/None/pd.NA mean "missing"), a list of dicts (a missing key is missing, ``None`` is
JSON null), or — to check references between data sets of one batch — a dict
``{dataset_code: records}`` (then ``dataset`` is omitted).

How it works: each data set is compiled once into a *plan* (cached per spec and data set code):
field rules from the :class:`~hlwjr.spec._model.Field` attributes, record rules from the data set's
``rules`` (the registry in ``hlwjr.validation._rules``), references and the business key. Every rule is a
vectorised mask over whole columns (Arrow compute / NumPy; regexes in RE2 with ECMA semantics);
Python only runs for the failing cells, to word their messages. Small batches of dicts (an
upload batch, ≤ ``SMALL_BATCH`` records) first go through ``hlwjr.validation._smallbatch``: a row-wise pass
that proves a batch clean without the column-wise set-up (~0.1 ms for one record instead of ~4 ms)
and otherwise hands it to the engine, so the report is the same either way. Array fields (处方明细
``orderList``) are exploded into a child table with the parent row and validated the same way;
their problems carry ``field="orderList.dosage"`` and ``path="orderList[2].dosage"``.

Decisions (see docs/rules.md):

* ``required`` counts missing, JSON null and empty/blank strings as empty (平台: 必填项非空).
  JSON null in an optional field is a ``type`` problem (omit the field instead).
* datetime64 columns (and ``datetime``/``date`` objects) in date/datetime fields are accepted and
  formatted as ``YYYY-MM-DD`` / ``YYYY-MM-DD HH:MM:SS`` (Beijing time, as given); numbers in a
  date field are reported, with the date an Excel serial number would stand for.
* Strings are never trimmed or converted: a leading/trailing space or full-width digits are
  reported (with a hint) by ``pattern``/``code_set``/``id_number``, or as a ``whitespace`` warning.
* Columns that are not fields of the data set get one ``unknown_field`` warning each.
* Numbers of any size: integers are compared with ``minimum``/``maximum`` exactly (a 20-digit age
  is a ``maximum`` problem showing its 20 digits); a number beyond the double range (``1e309``, a
  401-digit integer, ``inf``) is a ``type`` problem showing its text (``hlwjr.validation._numbers``).
* References need something to check against: the other data sets of the batch, ``accepted``
  (``{dataset: records or key tuples}``, e.g. the filed doctor roster) or ``lookup`` (the ledger
  or the sandbox: ``known(dataset_code, keys) -> set[tuple]``). Without any, one warning says the
  reference was not checked.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import difflib
import operator
import os
import re
import weakref
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._exceptions import DataError, RecordsInvalid, SpecError
from .._privacy import mask_kind, mask_series, mask_text, mask_value, to_halfwidth
from ._columns import (
    _MISSING,
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
    _object_array,
    column_of,
    str_lengths,
    too_long,
)
from ._ecma import regex_search, translate_pattern
from ._hints import HINT_VALUES, excel_serial_hint, str_hint
from ._numbers import is_out_of_range, number_text, out_of_range_text
from ._report import COLUMNS, Problem, Report
from ._rules import RULES, Hit, RuleContext, get_rule, int_text
from ._smallbatch import SMALL_BATCH, certify_clean

__all__ = ["ReferenceLookup", "check", "is_valid", "iter_problems", "mask_kind_for", "validate"]


class ReferenceLookup(Protocol):
    """What the ledger and the sandbox implement: which keys the platform already accepted."""

    def known(self, dataset_code: str, keys: list[tuple]) -> set[tuple]:  # pragma: no cover
        ...


# ------------------------------------------------------------------------------------- plans
def mask_kind_for(key: str, name: str = "") -> str | None:
    """Which masking a field's values need in reports — asked of the one owner,
    :func:`hlwjr._privacy.mask_kind`."""
    return mask_kind(key, name)


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


@dataclass
class _FieldPlan:
    key: str
    label: str
    type: str
    required: bool
    max_length: int | None
    min_length: int | None
    precision: int | None
    total_digits: int | None
    minimum: float | None
    maximum: float | None
    pattern: str | None
    code_set: Any
    codes: pa.Array | None
    const: Any
    min_items: int | None
    item: str | None
    mask: str | None


@dataclass
class _RulePlan:
    rule: Any
    ref: Any
    params: dict
    severity: str


@dataclass
class _Plan:
    dataset: Any
    spec: Any
    fields: dict[str, _FieldPlan]
    rules: list[_RulePlan]
    children: dict[str, _Plan] = dc_field(default_factory=dict)

    def label(self, f: str) -> str:
        fp = self.fields.get(f)
        return fp.label if fp else f


_PLANS: weakref.WeakKeyDictionary[Any, dict[str, _Plan]] = weakref.WeakKeyDictionary()


def _plan_for(spec, dataset) -> _Plan:
    cache = _PLANS.setdefault(spec, {})
    plan = cache.get(dataset.code)
    if plan is None:
        plan = cache[dataset.code] = _compile_plan(spec, dataset)
    return plan


def _compile_plan(spec, ds) -> _Plan:
    fields: dict[str, _FieldPlan] = {}
    where = ds.file or ds.code
    for f in ds.fields.values():
        label = f"{f.name}（{f.key}）" if f.name and f.name != f.key else f.key
        if f.pattern:
            try:
                translate_pattern(f.pattern, f"{where} 字段 {f.key} pattern")
            except SpecError as exc:
                raise SpecError(
                    f"字段 {f.key} 的 pattern 无法按 ECMA-262 语义执行：{exc.message}", where=where
                ) from exc
        cs = spec.code_set(f.code_set) if f.code_set else None
        fields[f.key] = _FieldPlan(
            key=f.key,
            label=label,
            type=f.type,
            required=f.required is True,
            max_length=f.max_length,
            min_length=getattr(f, "min_length", None),
            precision=f.precision,
            total_digits=f.total_digits,
            minimum=f.minimum,
            maximum=f.maximum,
            pattern=f.pattern,
            code_set=cs,
            codes=pa.array(list(cs.codes), type=pa.string()) if cs else None,
            const=f.const,
            min_items=f.min_items,
            item=f.item,
            mask=mask_kind_for(f.key, f.name or ""),
        )
    rules = []
    for i, ref in enumerate(ds.rules):
        rule = get_rule(ref.id, where=f"{where} rules[{i}]")
        if rule.check is None:
            raise SpecError(
                f"规则 {ref.id} 是{'字段' if rule.kind == 'field' else '跨记录'}规则，"
                f"由字段属性/references 隐含，不能写在 rules 中",
                where=f"{where} rules[{i}]",
            )
        params = dict(ref.params)
        missing = [p for p in rule.required_params if p not in params]
        unknown = [p for p in params if p not in rule.params]
        if missing or unknown:
            raise SpecError(
                f"规则 {ref.id} 的参数有误："
                + "；".join(
                    ([f"缺少 {', '.join(missing)}"] if missing else [])
                    + ([f"未知参数 {', '.join(unknown)}（可用：{', '.join(rule.params)}）"] if unknown else [])
                ),
                where=f"{where} rules[{i}]",
            )
        if "code_set" in params:
            spec.code_set(params["code_set"])  # SpecError if unknown
        rules.append(_RulePlan(rule, ref, params, ref.severity or rule.severity))
    plan = _Plan(ds, spec, fields, rules)
    for f in ds.fields.values():
        if f.type == "array" and f.item:
            plan.children[f.key] = _plan_for(spec, spec.dataset(f.item))
    return plan


# ------------------------------------------------------------------------------------ tables
class _Table:
    """One data set's records as typed columns (or the child records of an array field)."""

    def __init__(
        self,
        plan: _Plan,
        n: int,
        *,
        frame=None,
        records=None,
        objmask=None,
        parent: np.ndarray | None = None,
        pos: np.ndarray | None = None,
        prefix: str | None = None,
        top_rows: np.ndarray | None = None,
    ) -> None:
        self.plan = plan
        self.n = n
        self.frame = frame
        self.records = records
        self.objmask = objmask if objmask is not None else np.ones(n, dtype=bool)
        self.parent = parent  # position in the parent table (children only)
        self.pos = pos  # index inside the parent's array (children only)
        self.prefix = prefix  # array field name (children only)
        self.top_rows = top_rows if top_rows is not None else np.arange(n)
        self._cols: dict[str, Column] = {}
        self._children: dict[str, _Table | None] = {}
        if frame is not None:
            if not all(isinstance(c, str) for c in frame.columns):
                self.frame = frame = frame.rename(columns=str)
            self.columns = list(frame.columns)
        else:
            present = set().union(*(r for r in records if type(r) is dict)) if len(records) else set()
            ordered = [k for k in plan.fields if k in present]
            self.columns = ordered + sorted((str(k) for k in present if k not in plan.fields), key=str)
        self._colset = set(self.columns)

    def _dicts(self) -> list:
        """The records with every non-object replaced by {} (those are reported as not_object)."""
        d = getattr(self, "_dict_list", None)
        if d is None:
            d = self.records if self.objmask.all() else [r if ok else {} for r, ok in zip(self.records, self.objmask)]
            self._dict_list = d
        return d

    def _values(self, f: str) -> np.ndarray:
        """Column ``f`` of dict records as objects (missing key → <missing>, None stays None)."""
        if self.n < 5000:
            return column_of(self._dicts(), f)
        obj = getattr(self, "_obj_frame", None)
        if obj is None:
            import pandas as pd

            # one C-level pass over all dicts; dtype=object keeps None (JSON null) apart from an
            # absent key (NaN), and NaN/pd.NA/NaT values count as missing anyway
            obj = self._obj_frame = pd.DataFrame(self._dicts(), dtype=object)
        if f not in obj.columns:
            return np.full(self.n, _MISSING, dtype=object)
        return obj[f].to_numpy(dtype=object)

    def has(self, f: str) -> bool:
        return f in self._colset or f in self.plan.fields

    def column(self, f: str) -> Column:
        col = self._cols.get(f)
        if col is None:
            if f not in self._colset:
                col = Column(np.zeros(self.n, dtype=np.int8))
            elif self.frame is not None:
                s = self.frame[f]
                if getattr(s, "ndim", 1) != 1:
                    raise DataError(f"列名 {f!r} 重复，请去掉重复的列", where=f"{self.plan.dataset.code}.{f}")
                col = Column.from_series(s)
            else:
                # dict records: None is JSON null; NaN / pd.NA / NaT (from pandas) mean missing
                col = Column.from_objects(self._values(f), nan_is_missing=True, none_is_missing=False)
            fp = self.plan.fields.get(f)
            if fp is not None and fp.type in ("date", "datetime"):
                col = _coerce_datetimes(
                    col, fp.type, self.frame[f] if self.frame is not None and f in self._colset else None
                )
            self._cols[f] = col
        return col

    def children(self, f: str) -> _Table | None:
        if f in self._children:
            return self._children[f]
        child_plan = self.plan.children.get(f)
        result = None
        if child_plan is not None and f in self._colset:
            col = self.column(f)
            lidx = np.flatnonzero(col.kind == LIST)
            lists = col.obj[lidx]
            lens = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
            total = int(lens.sum())
            parent = np.repeat(lidx, lens)
            pos = np.arange(total) - np.repeat(np.cumsum(lens) - lens, lens)
            items = [v for lst in lists for v in lst]
            objmask = np.fromiter((type(v) is dict for v in items), dtype=bool, count=total)
            result = _Table(
                child_plan,
                total,
                records=items,
                objmask=objmask,
                parent=parent,
                pos=pos,
                prefix=f,
                top_rows=self.top_rows[parent],
            )
        self._children[f] = result
        return result


_BEIJING = _dt.timezone(_dt.timedelta(hours=8), "Asia/Shanghai")  # 北京时间 (no DST since 1991)


def _coerce_datetimes(col: Column, ftype: str, series) -> Column:
    """datetime64 columns and date/datetime objects → canonical text (a documented decision)."""
    fmt = "%Y-%m-%d" if ftype == "date" else "%Y-%m-%d %H:%M:%S"
    if series is not None:
        import pandas as pd

        if pd.api.types.is_datetime64_any_dtype(series.dtype):
            if getattr(series.dt, "tz", None) is not None:
                series = series.dt.tz_convert(_BEIJING)  # the platform's times are Beijing time
            text = series.dt.strftime(fmt)
            kind = np.where(series.isna().to_numpy(dtype=bool), MISSING, STR).astype(np.int8)
            return Column(
                kind,
                obj=text.to_numpy(dtype=object, na_value=None),
                strings=pa.array(text.to_numpy(dtype=object, na_value=None), type=pa.string()),
            )
    other = np.flatnonzero(col.kind == OTHER)
    if not len(other):
        return col
    obj = col.obj.copy()
    kind = col.kind.copy()
    changed = False
    for i in other:
        v = obj[i]
        if isinstance(v, (_dt.datetime, _dt.date)):
            if isinstance(v, _dt.datetime) and v.tzinfo is not None:
                v = v.astimezone(_BEIJING)
            obj[i] = v.strftime(fmt)
            kind[i] = STR
            changed = True
    return Column(kind, obj=obj) if changed else col


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


# ------------------------------------------------------------------------------------ chunks
@dataclass
class _Chunk:
    """Problems of one rule on one field, as arrays (positions in ``table``)."""

    table: _Table
    idx: np.ndarray
    field: str | None
    rule: str
    severity: str
    message: Any
    value_field: str | None
    top: _Table


_PARALLEL_ROWS = 200_000
_WORKERS = min(4, os.cpu_count() or 1)


class _Run:
    """One validation run over one or more data sets of a batch."""

    def __init__(self, spec, tables: dict[str, _Table], *, lookup=None, accepted=None, skip=(), today=None) -> None:
        self.spec = spec
        self.tables = tables
        self.lookup = lookup
        self.accepted = accepted or {}
        self.skip = set(skip)
        self.today = today

    # -- the lazy core
    def chunks(self) -> Iterator[_Chunk]:
        for _code, table in self.tables.items():
            yield from self._table_chunks(table, table)

    def _table_chunks(self, table: _Table, top: _Table) -> Iterator[_Chunk]:
        plan = table.plan
        ds = plan.dataset
        sev_default = "error"
        # records that are not objects
        notobj = np.flatnonzero(~table.objmask)
        if len(notobj) and "not_object" not in self.skip:
            vals = table.records if table.records is not None else None
            msgs = np.array(
                [
                    f"记录应为对象（字典），实际为 {type(vals[i]).__name__}；请检查数据文件每行/每项是否为一个 "
                    "JSON 对象"
                    for i in notobj
                ],
                dtype=object,
            )
            yield _Chunk(table, notobj, None, "not_object", "error", msgs, None, top)
        # unknown columns: one warning each
        if "unknown_field" not in self.skip and table.parent is None:
            for c in table.columns:
                if c not in plan.fields:
                    close = (
                        (
                            difflib.get_close_matches(c, list(plan.fields), n=1, cutoff=0.6)
                            or [k for k in plan.fields if k.lower() == c.lower()]
                        )
                        if isinstance(c, str)
                        else []
                    )
                    hint = f"；是否应为 {plan.label(close[0])}？" if close else ""
                    yield _Chunk(
                        table,
                        np.array([-1]),
                        c,
                        "unknown_field",
                        "warning",
                        f"字段 {c} 不在数据集 {ds.name}（{ds.code}）的规范中，平台会忽略该字段{hint}",
                        None,
                        top,
                    )

        # field rules (big tables: two worker threads — NumPy/Arrow release the GIL; order is kept)
        def field_job(fp):
            return fp, _field_problems(fp, table.column(fp.key), table.objmask)

        fields = list(plan.fields.values())
        if table.n >= _PARALLEL_ROWS and len(fields) > 1:
            from concurrent.futures import ThreadPoolExecutor

            for fp in fields:  # build the column views first, in this thread (pandas access)
                table.column(fp.key)

            with ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="hlwjr-validate") as pool:
                results = list(pool.map(field_job, fields))
        else:
            results = map(field_job, fields)
        for fp, found in results:
            for idx, rule, msgs, sev in found:
                if rule not in self.skip:
                    yield _Chunk(table, idx, fp.key, rule, sev or sev_default, msgs, fp.key, top)
        # record rules
        ctx = RuleContext(
            table, plan, batch=self.tables, accepted=self.accepted, lookup=self.lookup, spec=self.spec, today=self.today
        )
        for rp in plan.rules:
            if rp.rule.id in self.skip:
                continue
            try:
                hits = rp.rule.check(ctx, **rp.params)
            except SpecError as exc:
                raise SpecError(f"规则 {rp.rule.id} 配置有误：{exc.message}", where=ds.file or ds.code) from exc
            for h in hits:
                t = h.table or table
                keep = t.objmask[h.idx]  # rules see non-objects as empty rows: never blame them twice
                if not keep.all():
                    msg = h.message[keep] if isinstance(h.message, np.ndarray) else h.message
                    h = Hit(h.idx[keep], h.field, msg, h.value_field, h.severity, h.table)
                yield _Chunk(t, h.idx, h.field, rp.rule.id, h.severity or rp.severity, h.message, h.value_field, top)
        # cross-record rules
        if table.parent is None:
            yield from self._duplicates(table, top)
            yield from self._references(table, top)
            yield from self._accepted(table, top)
        else:
            yield from self._duplicates(table, top)
        # child tables
        for f in plan.children:
            child = table.children(f)
            if child is not None and child.n:
                yield from self._table_chunks(child, top)

    # -- keys
    def _key_text(self, table: _Table, fields) -> tuple[pa.Array, np.ndarray]:
        """Joined key text per row and whether every key part is present."""
        ctx = RuleContext(table, table.plan, spec=self.spec)
        parts, complete = [], np.ones(table.n, dtype=bool)
        for f in fields:
            complete &= ctx.present(f)
            parts.append(pc.fill_null(ctx.text(f), ""))
        if not parts:
            return pa.nulls(table.n, pa.string()), np.zeros(table.n, dtype=bool)
        joined = parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, "|")
        return joined, complete

    def _duplicates(self, table: _Table, top: _Table) -> Iterator[_Chunk]:
        if "duplicate_key" in self.skip:
            return
        key = [k for k in table.plan.dataset.key if table.has(k)]
        if table.parent is not None:  # child rows: unique within their parent, on their own key fields
            key = [k for k in key if k in table.plan.fields and k in table._colset]
        if not key or table.n < 2:
            return
        if table.parent is None:
            # the common case — some key field (e.g. bussID) is distinct on every row — decided in Arrow
            ctx = RuleContext(table, table.plan, spec=self.spec)
            for f in reversed(key):
                c = ctx.col(f)
                if (c.kind == STR).all() and len(pc.unique(c.strings())) == table.n:
                    return
        text, complete = self._key_text(table, key)
        if table.parent is None and len(pc.unique(text)) == table.n:
            return  # every key distinct
        import pandas as pd

        s = pd.Series(text.to_numpy(zero_copy_only=False), dtype=object)
        if table.parent is not None:
            s = pd.Series(table.parent.astype(str), dtype=object) + "\x1f" + s
        s = s.where(complete, None)
        dup = s.duplicated(keep="first").to_numpy() & complete
        if not dup.any():
            return
        idx = np.flatnonzero(dup)
        first = s[complete].drop_duplicates(keep="first")
        first_row = dict(zip(first.to_numpy(), first.index.to_numpy()))
        rows = table.top_rows
        labels = "+".join(table.plan.label(k) for k in key)
        if table.parent is None:
            msgs = np.array(
                [
                    f"业务主键（{labels}）与第 {rows[first_row[s.iat[i]]] + 1} 行重复，同一业务只能上传一次；请去重"
                    "或核对编号"
                    for i in idx
                ],
                dtype=object,
            )
        else:
            msgs = np.array(
                [
                    f"明细主键（{labels}）与同一记录的 {table.prefix}[{table.pos[first_row[s.iat[i]]]}] 重复；请核"
                    "对明细序号"
                    for i in idx
                ],
                dtype=object,
            )
        yield _Chunk(table, idx, key[-1], "duplicate_key", "error", msgs, key[-1], top)

    def _known_keys(self, target: str, fields: tuple[str, ...], want: list[tuple], where: str) -> set[tuple]:
        found: set[tuple] = set()
        if where in ("batch", "any") and target in self.tables:
            t = self.tables[target]
            text, complete = self._key_text(t, fields)
            vals = text.to_pylist()
            found |= {tuple(v.split("|")) if len(fields) > 1 else (v,) for v, c in zip(vals, complete) if c}
        if where in ("accepted", "any"):
            acc = self.accepted.get(target)
            if acc is not None:
                found |= _keys_from(acc, fields)
            if self.lookup is not None:
                try:
                    found |= {tuple(str(x) for x in k) for k in self.lookup.known(target, want)}
                except Exception as exc:  # the lookup is someone else's code: say which
                    raise DataError(f"引用查询（lookup.known）失败：{mask_text(str(exc))}", where=target) from exc
        return found

    def _references(self, table: _Table, top: _Table) -> Iterator[_Chunk]:
        if "reference" in self.skip:
            return
        ds = table.plan.dataset
        for ref in ds.references:
            local = tuple(ref.fields)
            remote = tuple(ref.fields.values())
            if not all(table.has(f) for f in local):
                continue
            text, complete = self._key_text(table, local)
            if not complete.any():
                continue
            sources = [
                t
                for t in ref.datasets
                if (ref.where in ("batch", "any") and t in self.tables)
                or (ref.where in ("accepted", "any") and (t in self.accepted or self.lookup is not None))
            ]
            names = "、".join(f"{self.spec.dataset(t).name}（{t}）" for t in ref.datasets)
            if not sources:
                yield _Chunk(
                    table,
                    np.array([-1]),
                    local[-1],
                    "reference",
                    "warning",
                    f"未提供 {names} 的数据（同批、参考集或已接收查询），未检查 "
                    f"{'+'.join(table.plan.label(f) for f in local)} 的引用；"
                    f"请把被引用的数据集一并校验（命令行 --with {ref.datasets[0]}=文件），或提供已接收/已备案的记录"
                    f"（命令行 --accepted {ref.datasets[0]}=文件；函数 check(..., accepted=… 或 lookup=…)）",
                    None,
                    top,
                )
                continue
            vals = text.to_pylist()
            want_keys = sorted({tuple(v.split("|")) if len(local) > 1 else (v,) for v, c in zip(vals, complete) if c})
            known: set[tuple] = set()
            for t in sources:
                known |= self._known_keys(t, remote, want_keys, ref.where)
            known_text = pa.array(["|".join(k) for k in known], type=pa.string())
            bad = complete & ~_bool(pc.is_in(text, value_set=known_text))
            if not bad.any():
                continue
            idx = np.flatnonzero(bad)
            where_cn = {
                "batch": "同一批数据",
                "accepted": "平台已接收的数据（或参考集）",
                "any": "同一批数据或平台已接收的数据",
            }[ref.where]
            msgs = (
                f"{'+'.join(table.plan.label(f) for f in local)} 引用的记录在 {names} 的{where_cn}中找不到；"
                "请先上传被引用的记录，或核对编号"
            )
            yield _Chunk(table, idx, local[-1], "reference", ref.severity, msgs, local[-1], top)

    def _accepted(self, table: _Table, top: _Table) -> Iterator[_Chunk]:
        if "already_accepted" in self.skip or self.lookup is None:
            return
        key = table.plan.dataset.key
        if not key or not all(table.has(k) for k in key):
            return
        text, complete = self._key_text(table, key)
        vals = text.to_pylist()
        want = sorted({tuple(v.split("|")) if len(key) > 1 else (v,) for v, c in zip(vals, complete) if c})
        if not want:
            return
        try:
            known = {tuple(str(x) for x in k) for k in self.lookup.known(table.plan.dataset.code, want)}
        except Exception as exc:
            raise DataError(
                f"已接收查询（lookup.known）失败：{mask_text(str(exc))}", where=table.plan.dataset.code
            ) from exc
        if not known:
            return
        bad = complete & _bool(pc.is_in(text, value_set=pa.array(["|".join(k) for k in known], type=pa.string())))
        if bad.any():
            yield _Chunk(
                table,
                np.flatnonzero(bad),
                key[-1],
                "already_accepted",
                "error",
                "该业务主键已被平台接收过，重复上传会被判为重复数据；如需更正请按平台的更新方式上传",
                key[-1],
                top,
            )


def _keys_from(acc, fields) -> set[tuple]:
    """Key tuples from an ``accepted`` entry: a DataFrame, a list of dicts or of key tuples."""
    import pandas as pd

    if isinstance(acc, pd.DataFrame):
        if not all(f in acc.columns for f in fields):
            return set()
        sub = acc[list(fields)].dropna()
        return {tuple(_key_str(v) for v in row) for row in sub.itertuples(index=False, name=None)}
    out = set()
    for item in acc:
        if isinstance(item, dict):
            if all(item.get(f) not in (None, "") for f in fields):
                out.add(tuple(_key_str(item[f]) for f in fields))
        elif isinstance(item, (tuple, list)):
            out.add(tuple(_key_str(v) for v in item))
        else:
            out.add((_key_str(item),))
    return out


def _key_str(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


# ------------------------------------------------------------------------------- assembling
def _chunk_frame(run: _Run, chunks: Iterable[_Chunk]):
    """Chunks → the flat problem DataFrame (keys and masked values computed for failing rows only)."""
    import pandas as pd

    parts = []
    for ch in chunks:
        k = len(ch.idx)
        if not k:
            continue
        t = ch.table
        ds_code = ch.top.plan.dataset.code
        batch_level = ch.idx[0] == -1
        if batch_level:
            rows = np.full(k, -1, dtype=np.int64)
        else:
            rows = t.top_rows[ch.idx]
        keys = _masked_keys(ch.top, rows) if not batch_level else np.full(k, None, dtype=object)
        # field and path
        if t.parent is not None and ch.field is not None:
            field = f"{t.prefix}.{ch.field}"
            path = np.array([f"{t.prefix}[{p}].{ch.field}" for p in t.pos[ch.idx]], dtype=object)
        elif t.parent is not None:
            field = t.prefix
            path = np.array([f"{t.prefix}[{p}]" for p in t.pos[ch.idx]], dtype=object)
        else:
            field = ch.field
            path = np.full(k, ch.field, dtype=object)
        # values, masked
        if ch.value_field is not None and not batch_level:
            values = _masked_values(t, ch.value_field, ch.idx)
        else:
            values = np.full(k, None, dtype=object)
        if isinstance(ch.message, np.ndarray):  # per-row messages may quote a value: mask ID/phone-like runs
            msg = _object_array([mask_text(m) if isinstance(m, str) else m for m in ch.message])
        else:
            msg = np.full(k, mask_text(ch.message), dtype=object)
        parts.append(
            (
                np.full(k, ds_code, dtype=object),
                rows,
                keys,
                np.full(k, field, dtype=object),
                np.full(k, ch.rule, dtype=object),
                np.full(k, ch.severity, dtype=object),
                values,
                msg,
                path,
            )
        )
    if not parts:
        return None
    cols = [np.concatenate(arrs) for arrs in zip(*parts)]
    rows = cols[1].astype(np.int64)
    order = {code: i for i, code in enumerate(run.tables)}
    ds_rank = np.array([order[d] for d in cols[0]], dtype=np.int64)
    perm = np.lexsort((np.where(rows < 0, -1, rows), ds_rank))  # by data set, then row (batch-level first)
    data = {}
    for name, arr in zip(COLUMNS, cols):
        if name == "row":
            r = rows[perm]
            data[name] = pd.array(np.where(r < 0, 0, r), dtype="Int64")
            data[name][r < 0] = pd.NA
        else:
            data[name] = pd.Series(arr[perm], dtype=object)
    frame = pd.DataFrame(data)
    frame.attrs["hlwjr_normalised"] = True
    return frame


def _masked_values(t: _Table, f: str, idx: np.ndarray) -> np.ndarray:
    """Display text of column ``f`` at ``idx``, masked by the field's kind (ID, phone, name)."""
    import pandas as pd

    col = t.column(f)
    raw = col.at(idx)
    kinds = col.kind[idx]
    text = np.array(
        [None if kk == MISSING else ("null" if kk == NULL else _show(v)) for v, kk in zip(raw, kinds)], dtype=object
    )
    fp = t.plan.fields.get(f)
    mask = fp.mask if fp else mask_kind_for(f)
    if mask == "plain":
        return text
    if len(text) <= 2000:
        return _object_array(mask_value(v, mask) for v in text)
    return mask_series(pd.Series(text, dtype=object), mask).to_numpy(dtype=object)


def _masked_keys(top: _Table, rows: np.ndarray) -> np.ndarray:
    """Business keys (业务主键, parts joined with "|") of the given rows, each part masked."""
    key = [f for f in top.plan.dataset.key if top.has(f)]
    if not key:
        return np.full(len(rows), None, dtype=object)
    parts = [_masked_values(top, f, rows) for f in key]
    return np.array(
        [
            None if all(p is None for p in ps) else "|".join("" if p is None else str(p) for p in ps)
            for ps in zip(*parts)
        ],
        dtype=object,
    )


def _abs_at_least(col: Column, mask: np.ndarray, limit: int) -> np.ndarray:
    """``mask & (|cell| >= limit)``, exact for big integers and Decimals."""
    return col.compare(mask, operator.ge, limit) | col.compare(mask, operator.le, -limit)


def _show(v) -> str:
    if isinstance(v, str):
        return v if len(v) <= 200 else v[:197] + "..."
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (int, decimal.Decimal)) and not isinstance(v, bool):
        return number_text(v)
    if isinstance(v, (list, dict)):
        import json

        text = json.dumps(v, ensure_ascii=False, default=str)
        return text if len(text) <= 200 else text[:197] + "..."
    return str(v)


# ------------------------------------------------------------------------------- entry points
def _prepare(records, dataset, spec):
    """Resolve the spec and build one table per data set."""
    import pandas as pd

    from ..spec._load import load_spec

    spec = load_spec(spec)
    if isinstance(records, Mapping) and dataset is None:
        batch = dict(records)
    else:
        if dataset is None:
            raise DataError(
                '请指定数据集（dataset），例如 check(records, "recipe")；'
                "或传入 {数据集代码: 记录} 字典一次校验多个数据集"
            )
        batch = {dataset: records}
    tables: dict[str, _Table] = {}
    for name, recs in batch.items():
        ds = spec.dataset(name) if not hasattr(name, "fields") else name
        if ds.code in tables:  # "recipe" and "在线处方" in one batch: never let one silently replace the other
            raise DataError(
                f"数据集 {ds.code}（{ds.name}）在同一批中给出了两次（{name!r} 与另一个代码/别名/名称）；"
                "请把同一数据集的记录合并后再校验"
            )
        plan = _plan_for(spec, ds)
        if isinstance(recs, pd.DataFrame):
            if isinstance(recs.columns, pd.MultiIndex):
                raise DataError(
                    f"数据集 {ds.code} 的 DataFrame 是多级表头（MultiIndex）；请先把列名展平为字段名，"
                    "如 df.columns = [c[0] for c in df.columns]"
                )
            if not all(isinstance(c, str) for c in recs.columns):
                recs = recs.rename(columns=lambda c: c if isinstance(c, str) else str(c))
            tables[ds.code] = _Table(
                plan,
                len(recs),
                frame=recs.reset_index(drop=True)
                if not isinstance(recs.index, pd.RangeIndex) or recs.index.start != 0
                else recs,
            )
        else:
            if isinstance(recs, Mapping):
                recs = [recs]
            if isinstance(recs, (str, bytes)):
                raise DataError(f"数据集 {ds.code} 的记录应为 DataFrame 或字典列表，实际为文本")
            try:
                recs = list(recs)
            except TypeError as exc:
                raise DataError(
                    f"数据集 {ds.code} 的记录应为 DataFrame 或字典列表，实际为 {type(recs).__name__}"
                ) from exc
            objmask = np.fromiter((type(r) is dict for r in recs), dtype=bool, count=len(recs))
            if not objmask.all():  # dict subclasses (OrderedDict…) count as objects too
                for i in np.flatnonzero(~objmask):
                    if isinstance(recs[i], Mapping):
                        recs[i] = dict(recs[i])
                        objmask[i] = True
            tables[ds.code] = _Table(plan, len(recs), records=recs, objmask=objmask)
    return spec, tables


def _run(records, dataset, spec, lookup, accepted, skip, today):
    spec, tables = _prepare(records, dataset, spec)
    unknown = [s for s in skip if s not in RULES]
    if unknown:
        near = [m for u in unknown for m in difflib.get_close_matches(u, list(RULES), n=1, cutoff=0.6)]
        raise SpecError(
            f"skip 中有未知规则 {', '.join(unknown)}"
            + (f"；是否想写 {', '.join(near)}？" if near else "")
            + f"；可用规则 id：{', '.join(sorted(RULES))}（说明见 docs/rules.md）"
        )
    return _Run(spec, tables, lookup=lookup, accepted=accepted, skip=skip, today=today)


def _small_batch_report(records, dataset, spec, lookup, accepted, skip, today) -> Report | None:
    """The empty report of a small clean batch (list of dicts), proven clean by the row-wise fast
    path (``hlwjr.validation._smallbatch``) without the column-wise set-up; None → run the full engine."""
    if dataset is None or type(records) is not list or not records or len(records) > SMALL_BATCH:
        return None
    from ..spec._load import load_spec

    spec = load_spec(spec)
    ds = spec.dataset(dataset) if not hasattr(dataset, "fields") else dataset
    plan = _plan_for(spec, ds)
    if not certify_clean(plan, records, spec=spec, lookup=lookup, accepted=accepted, skip=skip, today=today):
        return None
    return Report(datasets=[ds.code], counts={ds.code: len(records)}, spec=spec)


def check(
    records,
    dataset=None,
    *,
    spec=None,
    lookup: ReferenceLookup | None = None,
    accepted: Mapping[str, Any] | None = None,
    skip: Iterable[str] = (),
    today: _dt.date | None = None,
) -> Report:
    """Validate records of a data set (数据集) and collect every problem in a :class:`Report`.

    ``dataset``: code, alias or Chinese name (``"recipe"``, ``"DS07a"``, ``"在线处方"``);
    omit it when ``records`` is ``{dataset_code: records}``. ``spec``: a Spec, a name or a
    directory (default the reference spec). ``lookup``: keys the platform already accepted
    (``known(dataset_code, keys) -> set[tuple]``). ``accepted``: ``{dataset_code: records or key
    tuples}`` a reference set (e.g. the filed doctor roster). ``skip``: rule ids not to apply.
    ``today``: the date ID-card birth dates are checked against (default today).
    """
    from ..spec._load import load_spec

    skip = tuple(skip)
    spec = load_spec(spec)  # once: with a name or directory it stats every spec file (~0.5 ms)
    fast = _small_batch_report(records, dataset, spec, lookup, accepted, skip, today)
    if fast is not None:
        return fast
    run = _run(records, dataset, spec, lookup, accepted, skip, today)
    frame = _chunk_frame(run, run.chunks())
    counts = {code: t.n for code, t in run.tables.items()}
    return Report(frame=frame, datasets=list(run.tables), counts=counts, spec=run.spec)


def iter_problems(
    records,
    dataset=None,
    *,
    spec=None,
    lookup: ReferenceLookup | None = None,
    accepted: Mapping[str, Any] | None = None,
    skip: Iterable[str] = (),
    today: _dt.date | None = None,
) -> Iterator[Problem]:
    """The lazy core: yield every :class:`Problem`, one rule/field at a time (same args as check)."""
    run = _run(records, dataset, spec, lookup, accepted, tuple(skip), today)
    for chunk in run.chunks():
        frame = _chunk_frame(run, [chunk])
        if frame is not None:
            yield from Report(frame=frame).problems


def validate(records, dataset=None, **kwargs) -> Report:
    """Raise :class:`hlwjr.RecordsInvalid` (with ``.report``) when any record breaks a mandatory
    check; return the report (warnings only) otherwise."""
    report = check(records, dataset, **kwargs)
    if not report.ok:
        first = report.errors[0]
        raise RecordsInvalid(
            f"{report.n_errors} 个强制校验错误，{len(report.bad_rows())} 条记录会被平台拒收；首个问题：{first}",
            report=report,
            where=", ".join(report.datasets),
        )
    return report


def is_valid(
    records,
    dataset=None,
    *,
    spec=None,
    lookup: ReferenceLookup | None = None,
    accepted: Mapping[str, Any] | None = None,
    skip: Iterable[str] = (),
    today: _dt.date | None = None,
) -> bool:
    """True when no record breaks a mandatory check (warnings allowed). It stops at the first
    error: the rules after it are not run and no report is built."""
    from ..spec._load import load_spec

    skip, spec = tuple(skip), load_spec(spec)
    if _small_batch_report(records, dataset, spec, lookup, accepted, skip, today) is not None:
        return True
    run = _run(records, dataset, spec, lookup, accepted, skip, today)
    return not any(c.severity == "error" and len(c.idx) for c in run.chunks())
