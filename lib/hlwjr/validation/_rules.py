"""The rule registry (规则库): every mandatory check (强制校验) by a stable id.

Spec YAML refers to rules by id (``rules: [{id: id_number, params: {number: patientCertID}}]``);
reports carry the id of the rule each problem broke. Three kinds of rule:

* **field rules** (``required``, ``type``, ``max_length`` …) come implicitly from the attributes of
  a spec :class:`~hlwjr.spec._model.Field`; the engine (``hlwjr.validation._engine``) applies them column-wise;
* **record rules** (``id_number``, ``time_order`` …) are small functions here, applied to whole
  columns through a :class:`RuleContext`; they return :class:`Hit` s (failing rows + message);
* **cross-record rules** (``duplicate_key``, ``reference``, ``already_accepted``) look across the
  batch, other data sets of the batch, or what the platform already accepted (a lookup).

``docs/rules.md`` is generated from this registry (:func:`rules_markdown`) and a test keeps the two
in step. Adding a rule: decorate a function with :func:`record_rule`, document its params and
message, add a passing and a failing test record.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._exceptions import SpecError
from .._privacy import ID_CHECK_CHARS, ID_WEIGHTS
from ._columns import FLOATINT, INT, MISSING, NULL, STR, Column, _bool, fixed_width
from ._hints import excel_text_hint
from ._numbers import number_text

__all__ = ["RULES", "Hit", "Rule", "RuleContext", "get_rule", "record_rule", "rule_title", "rules_markdown"]


@dataclass(frozen=True)
class Rule:
    """A registered rule: id, Chinese title, kind, params (name → meaning), default severity,
    the Chinese message template and an example of a failing value."""

    id: str
    title: str
    kind: str  # "field" | "record" | "cross" | "input"
    params: Mapping[str, str] = field(default_factory=dict)
    required_params: tuple[str, ...] = ()
    severity: str = "error"
    message: str = ""
    example: str = ""
    check: Callable | None = None


RULES: dict[str, Rule] = {}


def _register(rule: Rule) -> Rule:
    if rule.id in RULES:  # pragma: no cover - a programming error
        raise ValueError(f"rule {rule.id!r} registered twice")
    RULES[rule.id] = rule
    return rule


def get_rule(rule_id: str, where: str | None = None) -> Rule:
    try:
        return RULES[rule_id]
    except KeyError:
        raise SpecError(f"未知规则 {rule_id!r}；可用规则: {', '.join(sorted(RULES))}", where=where) from None


def rule_title(rule_id: str) -> str:
    r = RULES.get(rule_id)
    return r.title if r else ""


def record_rule(
    id: str,
    *,
    title: str,
    params: Mapping[str, str],
    required: Iterable[str] = (),
    severity: str = "error",
    message: str,
    example: str,
    kind: str = "record",
):
    """Register a record rule implemented by the decorated ``fn(ctx, **params) -> list[Hit]``."""

    def deco(fn):
        _register(Rule(id, title, kind, dict(params), tuple(required), severity, message, example, fn))
        return fn

    return deco


# ---------------------------------------------------------------------------------- field rules
for _r in [
    Rule(
        "required",
        "必填项不能为空",
        "field",
        {"required": "字段属性 required: true（条件必填见 required_if）"},
        (),
        "error",
        "必填字段 {字段} 为空（缺失/null/空字符串），请补充",
        '{"recipeID": ""}',
    ),
    Rule(
        "type",
        "数据类型正确",
        "field",
        {"type": "字段属性 type: string|integer|decimal|date|datetime|array"},
        (),
        "error",
        "{字段} 应为{类型}，实际为{实际类型}；提示：编码类字段请按文本读取以保留前导零",
        '{"age": "12岁"}',
    ),
    Rule(
        "max_length",
        "长度不超过最大长度（也检查 min_length）",
        "field",
        {"max_length": "字段属性（按字符数计）", "min_length": "字段属性（可选）"},
        (),
        "error",
        "{字段} 长度 {n} 超过最大长度 {max_length}，请截断或核对",
        '{"organID": "1234567890123456789"} (S18)',
    ),
    Rule(
        "precision",
        "小数位数与总位数",
        "field",
        {"precision": "字段属性：小数位数", "total_digits": "字段属性：总位数"},
        (),
        "error",
        "{字段} 小数位数超过 {precision} 位 / 整数部分超过 {total_digits-precision} 位",
        '{"totalFee": 12.345}',
    ),
    Rule(
        "pattern",
        "符合格式（正则）",
        "field",
        {"pattern": "字段属性：ECMA-262 正则（搜索语义，需自行加 ^…$）"},
        (),
        "error",
        "{字段} 格式不符合 {pattern}；含前后空格/全角字符时会单独提示",
        '{"postcode": "10000"}',
    ),
    Rule(
        "date",
        "日期格式 YYYY-MM-DD 且为真实日期",
        "field",
        {"type": "字段属性 type: date"},
        (),
        "error",
        "{字段} 应为日期 YYYY-MM-DD（如 2024-01-31），实际为 …；或：不是真实日期",
        '{"visitDate": "2024-02-30"}',
    ),
    Rule(
        "datetime",
        "日期时间格式 YYYY-MM-DD HH:MM:SS 且为真实时间",
        "field",
        {"type": "字段属性 type: datetime"},
        (),
        "error",
        "{字段} 应为日期时间 YYYY-MM-DD HH:MM:SS，实际为 …",
        '{"datein": "2024/01/01 8:00"}',
    ),
    Rule(
        "code_set",
        "值在值域（代码集）内",
        "field",
        {"code_set": "字段属性：值域 id（值域 complete: false 时为警告）"},
        (),
        "error",
        "{字段} 的值不在值域 {值域} 中；若填的是名称会提示对应代码（值域不完整时为警告）",
        '{"sex": "男"}',
    ),
    Rule(
        "const",
        "等于规定的固定值",
        "field",
        {"const": "字段属性：固定值"},
        (),
        "error",
        "{字段} 应为固定值 {const}",
        '{"referralFlag": "0"}',
    ),
    Rule(
        "minimum",
        "不小于最小值",
        "field",
        {"minimum": "字段属性（整数/数值字段）"},
        (),
        "error",
        "{字段} 的值 {x} 小于最小值 {minimum}",
        '{"age": -1}',
    ),
    Rule(
        "maximum",
        "不大于最大值",
        "field",
        {"maximum": "字段属性（整数/数值字段）"},
        (),
        "error",
        "{字段} 的值 {x} 大于最大值 {maximum}",
        '{"satisfaction": 6}',
    ),
    Rule(
        "min_items",
        "数组至少有规定条数",
        "field",
        {"min_items": "字段属性（数组字段）"},
        (),
        "error",
        "{字段} 至少应有 {min_items} 条明细",
        '{"orderList": []}',
    ),
    # input-shape rules the engine applies to every data set
    Rule(
        "not_object",
        "记录应为对象（字典）",
        "input",
        {},
        (),
        "error",
        "第 N 条记录不是对象（字典），而是 …；请检查数据文件每行是否为一个 JSON 对象",
        '["a", "b"]',
    ),
    Rule(
        "unknown_field",
        "规范中没有的字段",
        "input",
        {},
        (),
        "warning",
        "字段 {列名} 不在数据集 {数据集} 的规范中，平台会忽略；是否拼写错误（相近：…）",
        '{"patientname": "张*"}',
    ),
    Rule(
        "whitespace",
        "值前后有空格",
        "input",
        {},
        (),
        "warning",
        "{字段} 的值前后有空格，平台按原样比较，请去掉空格",
        '{"deptName": " 内科"}',
    ),
]:
    _register(_r)


# ----------------------------------------------------------------------------------- contexts
@dataclass
class Hit:
    """Failing rows of a rule: positions ``idx`` in the table, the field to blame (its value is
    shown), and a message (one string, or one per row)."""

    idx: np.ndarray
    field: str | None
    message: str | np.ndarray
    value_field: str | None = None
    severity: str | None = None
    table: Any = None  # the (child) table ``idx`` refers to; None = the rule's own table


class RuleContext:
    """What a record rule sees: the columns of one data set (or child rows) of a batch."""

    def __init__(
        self, table, plan, *, batch=None, accepted=None, lookup=None, spec=None, today: _dt.date | None = None
    ) -> None:
        self.table = table
        self.plan = plan
        self.dataset = plan.dataset
        self.spec = spec
        self.n = table.n
        self.batch = batch or {}
        self.accepted = accepted or {}
        self.lookup = lookup
        self.today = today or _dt.date.today()

    # -- columns
    def has(self, f: str) -> bool:
        return self.table.has(f)

    def col(self, f: str) -> Column:
        return self.table.column(f)

    def label(self, f: str) -> str:
        return self.plan.label(f)

    def present(self, f: str) -> np.ndarray:
        """Has a value: not missing, not null, not an empty (or blank) string."""
        c = self.col(f)
        return (c.kind != MISSING) & (c.kind != NULL) & ~c.blank()

    def strings(self, f: str) -> pa.Array:
        return self.col(f).strings()

    def text(self, f: str) -> pa.Array:
        """Values as text: strings as they are, integers as digits (null elsewhere)."""
        c = self.col(f)
        s = c.strings()
        num = np.isin(c.kind, (INT, FLOATINT))
        if num.any():
            s = pc.if_else(pa.array(num), int_text(c, num), s)
        return s

    def numbers(self, f: str) -> np.ndarray:
        """Numeric values; numeric strings (e.g. "12.50") count too; NaN elsewhere."""
        c = self.col(f)
        x = c.numbers().copy()
        is_str = c.kind == STR
        if is_str.any():
            s = c.strings()
            numeric = _bool(pc.match_substring_regex(s, r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)\z"))
            if numeric.any():
                vals = pc.cast(pc.if_else(pa.array(numeric), s, pa.scalar("0")), pa.float64())
                x = np.where(numeric, vals.to_numpy(zero_copy_only=False), x)
        return x

    def times(self, f: str) -> pa.Array:
        """Valid date / date-time values as sortable text (null where absent or malformed)."""
        c = self.col(f)
        t = c.cache.get("times")
        if t is None:
            s = c.strings()
            _, ok_d = c.formats("date")
            _, ok_t = c.formats("date-time-cn")
            valid = (ok_d | ok_t) & (c.kind == STR)
            t = c.cache["times"] = s if valid.all() else pc.if_else(pa.array(valid), s, pa.scalar(None, pa.string()))
        return t

    @property
    def parent(self) -> np.ndarray | None:
        """For child rows: the position of each row's parent record."""
        return self.table.parent

    def children(self, f: str) -> RuleContext | None:
        """A context over the child rows of array field ``f`` (``.parent`` maps them back)."""
        child = self.table.children(f)
        if child is None:
            return None
        return RuleContext(
            child,
            child.plan,
            batch=self.batch,
            accepted=self.accepted,
            lookup=self.lookup,
            spec=self.spec,
            today=self.today,
        )

    def valid_ids(self, f: str) -> np.ndarray:
        """GB 11643 validity of column ``f`` (cached on the column)."""
        c = self.col(f)
        key = ("valid_id", self.today)
        v = c.cache.get(key)
        if v is None:
            v = c.cache[key] = valid_id_mask(c.strings(), self.today) & (c.kind == STR)
        return v

    def code_set(self, cid: str):
        return self.spec.code_set(cid)

    def hit(
        self, mask_or_idx, field: str | None, message, *, value_field: str | None = "", severity: str | None = None
    ) -> Hit:
        idx = np.flatnonzero(mask_or_idx) if mask_or_idx.dtype == bool else mask_or_idx
        if isinstance(message, np.ndarray) and mask_or_idx.dtype == bool and len(message) == self.n:
            message = message[idx]
        return Hit(idx, field, message, field if value_field == "" else value_field, severity)


def int_text(c: Column, num: np.ndarray) -> pa.Array:
    """Digits of the integer cells ``num`` of column ``c`` (other cells "0"); integers beyond
    int64 (e.g. a 20-digit number read from Excel) are written out by Python, not wrapped."""
    x = np.where(num, c.numbers(), 0)
    big = np.abs(x) >= 2.0**63
    if not big.any():
        return pa.array(x.astype(np.int64)).cast(pa.string())
    small = np.where(big, 0, x).astype(np.int64).astype(object)
    vals = c.obj
    for i in np.flatnonzero(big):
        small[i] = int(vals[i])
    return pa.array([str(v) for v in small], type=pa.string())


# ------------------------------------------------------------------------------- record rules
_WEIGHTS = np.array(ID_WEIGHTS, dtype=np.int64)  # GB 11643, vectorised from _privacy's definition
_CHECK = np.frombuffer(ID_CHECK_CHARS.encode(), dtype=np.uint8)


def id_digits(strings: pa.Array, shape_ok: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(positions, k×18 uint8 matrix) of the 18-byte strings (optionally only where ``shape_ok``)."""
    return fixed_width(strings, 18, shape_ok)


def valid_id_mask(strings: pa.Array, today: _dt.date) -> np.ndarray:
    """Vectorised GB 11643 check: format, real birth date (1890 … today), check digit."""
    from ._columns import _real_date

    idx, m = fixed_width(strings, 18)
    ok = np.zeros(len(strings), dtype=bool)
    if len(idx):
        body = m[:, :17]
        last = m[:, 17]
        shape = ((body - np.uint8(48)) < 10).all(axis=1) & (((last - np.uint8(48)) < 10) | (last == 88))
        d = body.astype(np.float32)
        d -= 48.0
        w = np.zeros((17, 4), dtype=np.float32)
        w[:, 0] = _WEIGHTS
        w[6:10, 1] = (1000, 100, 10, 1)
        w[10:12, 2] = (10, 1)
        w[12:14, 3] = (10, 1)
        prod = (d @ w).round().astype(np.int64)  # exact: every sum < 2**24
        check = _CHECK[np.where(shape, prod[:, 0] % 11, 0)]
        y, mo, dd = prod[:, 1], prod[:, 2], prod[:, 3]
        ymd = y * 10000 + mo * 100 + dd
        t = today.year * 10000 + today.month * 100 + today.day
        ok[idx] = shape & (check == m[:, 17]) & _real_date(y, mo, dd) & (y >= 1890) & (ymd <= t)
    return ok


def _is_id_type(ctx: RuleContext, type_field: str | None, types) -> np.ndarray:
    if not type_field:
        return np.ones(ctx.n, dtype=bool)
    t = ctx.text(type_field)
    given = ctx.present(type_field)
    is_id = _bool(pc.is_in(t, value_set=pa.array([str(x) for x in types], type=pa.string())))
    return is_id | ~given


@record_rule(
    "id_number",
    title="身份证号符合 GB 11643（格式、出生日期、校验位）",
    params={
        "number": "证件号字段",
        "type": "证件类型字段（可选）",
        "types": '表示居民身份证的证件类型代码，默认 ["01", "1"]',
    },
    required=("number",),
    message="{字段} 校验位错误（GB 11643），请核对号码 / 应为18位 / 含全角字符，请转换为半角 …",
    example='{"patientCertType": "01", "patientCertID": "110105194912310021"}',
)
def _id_number(ctx: RuleContext, number: str, type: str | None = None, types=("01", "1")):
    from .._privacy import id_problem

    if not ctx.has(number):
        return []
    present = ctx.present(number)
    applies = present & _is_id_type(ctx, type, types)
    c = ctx.col(number)
    is_str = c.kind == STR
    ok = ctx.valid_ids(number)
    bad = np.flatnonzero(applies & is_str & ~ok)
    if not len(bad):
        return []
    values = c.at(bad)
    label = ctx.label(number)
    kind_hint = f"（证件类型为居民身份证{'，' + ctx.label(type) if type else ''}）"

    msgs = np.array(
        [
            f"{label} {id_problem(v, today=ctx.today) or '不是有效的身份证号'}{kind_hint}{excel_text_hint(v)}"
            for v in values
        ],
        dtype=object,
    )
    return [Hit(bad, number, msgs, number)]


@record_rule(
    "id_birth_sex",
    title="出生日期、性别、年龄与身份证号一致",
    params={
        "number": "身份证号字段",
        "type": "证件类型字段（可选）",
        "birthday": "出生日期字段（可选）",
        "sex": "性别字段（可选，GB/T 2261.1：1 男 2 女）",
        "age": "年龄字段（可选）",
        "at": "计算年龄的业务时间字段（可选；缺省按今天，允许相差1岁）",
        "types": '表示居民身份证的证件类型代码，默认 ["01", "1"]',
    },
    required=("number",),
    severity="error",
    message="{性别} 为 2（女），但身份证号第17位表示男性（1） / 出生日期与身份证号第7-14位不一致"
    " / 年龄与身份证号推算的不一致",
    example='{"patientCertID": "11010519491231002X", "sex": "1"}',
)
def _id_birth_sex(
    ctx: RuleContext, number: str, type=None, birthday=None, sex=None, age=None, at=None, types=("01", "1")
):
    if not ctx.has(number):
        return []
    c = ctx.col(number)
    valid = ctx.valid_ids(number) & _is_id_type(ctx, type, types)
    idx, m = id_digits(c.strings(), valid)
    if not len(idx):
        return []
    hits = []
    sel = pa.array(idx)
    if sex and ctx.has(sex):
        id_sex = np.where((m[:, 16] - 48) % 2 == 1, "1", "2")
        got = ctx.text(sex).take(sel)
        known = _bool(pc.is_in(got, value_set=pa.array(["1", "2"])))
        bad = known & ~_bool(pc.equal(got, pa.array(id_sex)))
        if bad.any():
            sx = {"1": "男", "2": "女"}
            msgs = np.array(
                [
                    f"{ctx.label(sex)} 为 {g}（{sx[g]}），但身份证号第17位表示{sx[e]}（{e}）；请核对性别或证件号"
                    for g, e in zip(got.filter(pa.array(bad)).to_pylist(), id_sex[bad])
                ],
                dtype=object,
            )
            hits.append(Hit(idx[bad], sex, msgs, sex))
    by, bm, bd = (_digits(m, 6, 10), _digits(m, 10, 12), _digits(m, 12, 14))
    if birthday and ctx.has(birthday):
        got = pc.utf8_slice_codeunits(ctx.times(birthday).take(sel), 0, 10)
        iso = np.char.add(
            np.char.add(np.char.add(np.char.add(by.astype("U4"), "-"), np.char.zfill(bm.astype("U2"), 2)), "-"),
            np.char.zfill(bd.astype("U2"), 2),
        )
        has = _bool(pc.is_valid(got))
        bad = has & ~_bool(pc.equal(got, pa.array(iso)))
        if bad.any():
            msgs = np.array(
                [f"{ctx.label(birthday)} 与身份证号中的出生日期 {e} 不一致；请核对" for e in iso[bad]], dtype=object
            )
            hits.append(Hit(idx[bad], birthday, msgs, birthday))
    if age and ctx.has(age):
        a = ctx.numbers(age)[idx]
        ry = np.full(len(idx), ctx.today.year)
        rmd = np.full(len(idx), ctx.today.month * 100 + ctx.today.day)
        tol = np.ones(len(idx), dtype=np.int64)
        if at and ctx.has(at):
            ref = pc.utf8_slice_codeunits(ctx.times(at).take(sel), 0, 10)
            ridx, rm = fixed_width(ref, 10)
            if len(ridx):
                ry[ridx] = _digits(rm, 0, 4)
                rmd[ridx] = _digits(rm, 5, 7) * 100 + _digits(rm, 8, 10)
                tol[ridx] = 0
        computed = ry - by - (rmd < bm * 100 + bd)
        with np.errstate(invalid="ignore"):
            bad = ~np.isnan(a) & (np.abs(a - computed) > tol)
        if bad.any():
            given = ctx.col(age).at(idx[bad])  # the value as written (exact beyond 2^53)
            msgs = np.array(
                [
                    f"{ctx.label(age)} 为 {_number_shown(v)}，按身份证号出生日期推算应为 {c} 岁；请核对"
                    for v, c in zip(given, computed[bad])
                ],
                dtype=object,
            )
            hits.append(Hit(idx[bad], age, msgs, age))
    return hits


def _number_shown(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, str):
        return v
    return number_text(v)


def _digits(m: np.ndarray, a: int, b: int) -> np.ndarray:
    v = (m[:, a] - 48).astype(np.int64)
    for j in range(a + 1, b):
        v = v * 10 + (m[:, j] - 48)
    return v


@record_rule(
    "code_name_match",
    title="代码与名称一致（如诊疗科目代码与名称、ICD 编码与诊断名称）",
    params={
        "code": "代码字段",
        "name": "名称字段",
        "code_set": "值域 id",
        "separator": '多个代码/名称的分隔符，默认 "|"',
    },
    required=("code", "name", "code_set"),
    message="{名称字段} 应为“呼吸内科专业”（代码 03.01 在值域中的名称），实际为“…”",
    example='{"subjectCode": "03.01", "subjectName": "消化内科专业"}',
)
def _code_name_match(ctx: RuleContext, code: str, name: str, code_set: str, separator: str = "|"):
    if not (ctx.has(code) and ctx.has(name)):
        return []
    cs = ctx.code_set(code_set)
    both = ctx.present(code) & ctx.present(name)
    codes = ctx.text(code)
    names = ctx.strings(name)
    keys = list(cs.codes)
    pos = pc.index_in(codes, value_set=pa.array(keys, type=pa.string()))
    expected = pc.take(pa.array(list(cs.codes.values()), type=pa.string()), pos)
    known = _bool(pc.is_valid(pos))
    simple = both & known & ~_bool(pc.equal(pc.utf8_trim_whitespace(expected), pc.utf8_trim_whitespace(names)))
    bad = list(np.flatnonzero(simple))
    msgs = [
        f"{ctx.label(name)} 应为“{cs.codes[c]}”（代码 {c} 在值域 {cs.name} 中的名称），实际为“{n}”"
        for c, n in zip(
            codes.take(pa.array(bad, type=pa.int64())).to_pylist(),
            names.take(pa.array(bad, type=pa.int64())).to_pylist(),
        )
    ]
    # several codes joined by a separator: compare item by item
    multi = both & ~known & _bool(pc.match_substring(codes, separator))
    for i in np.flatnonzero(multi):
        cl = [x.strip() for x in codes[int(i)].as_py().split(separator)]
        nl = [x.strip() for x in names[int(i)].as_py().split(separator)]
        if len(cl) != len(nl):
            bad.append(i)
            msgs.append(
                f"{ctx.label(code)} 有 {len(cl)} 个代码，{ctx.label(name)} 有 {len(nl)} 个名称，应一一对应（用"
                f"“{separator}”分隔）"
            )
            continue
        wrong = [(c, n) for c, n in zip(cl, nl) if c in cs.codes and cs.codes[c] != n]
        if wrong:
            c, n = wrong[0]
            bad.append(i)
            msgs.append(f"{ctx.label(name)} 中代码 {c} 的名称应为“{cs.codes[c]}”，实际为“{n}”")
    if not bad:
        return []
    order = np.argsort(np.array(bad), kind="stable")
    return [Hit(np.array(bad)[order], name, np.array(msgs, dtype=object)[order], name)]


_OPS = {"eq", "ne", "in", "lt", "le", "gt", "ge"}


def condition_mask(ctx: RuleContext, when: Mapping[str, Any]) -> np.ndarray:
    """Rows where ``{field, op, value}`` holds (absent values never satisfy it)."""
    f, op, value = when.get("field"), when.get("op", "eq"), when.get("value")
    if op not in _OPS:
        raise SpecError(f"条件运算符 op 应为 {'/'.join(sorted(_OPS))}，实际为 {op!r}")
    if not ctx.has(f):
        return np.zeros(ctx.n, dtype=bool)
    present = ctx.present(f)
    if op in {"lt", "le", "gt", "ge"}:
        x = ctx.numbers(f)
        with np.errstate(invalid="ignore"):
            res = {"lt": x < value, "le": x <= value, "gt": x > value, "ge": x >= value}[op]
        return present & res
    values = value if op == "in" else [value]
    text = ctx.text(f)
    hit = _bool(pc.is_in(text, value_set=pa.array([str(v) for v in values], type=pa.string())))
    if op == "ne":
        return present & ~hit
    return present & hit


def _when_text(ctx: RuleContext, when) -> str:
    op = {"eq": "=", "ne": "≠", "in": "属于", "lt": "<", "le": "≤", "gt": ">", "ge": "≥"}[when.get("op", "eq")]
    return f"{ctx.label(when['field'])} {op} {when.get('value')}"


@record_rule(
    "required_if",
    title="条件必填（如年龄<6岁须填监护人；拒绝时须填原因；草药须填帖数）",
    params={"fields": "条件成立时必填的字段列表", "when": "条件 {field, op: eq|ne|in|lt|le|gt|ge, value}"},
    required=("fields", "when"),
    message="当 {条件} 时 {字段} 必填，请补充",
    example='{"age": 3, "guardianName": null}',
)
def _required_if(ctx: RuleContext, fields, when):
    cond = condition_mask(ctx, when)
    if not cond.any():
        return []
    hits = []
    for f in [fields] if isinstance(fields, str) else fields:
        missing = cond & ~ctx.present(f) if ctx.has(f) else cond
        if missing.any():
            hits.append(ctx.hit(missing, f, f"当 {_when_text(ctx, when)} 时 {ctx.label(f)} 必填，请补充"))
    return hits


@record_rule(
    "time_order",
    title="时间先后顺序（如申请≤开始≤结束；审方在开方之后）",
    params={"fields": "按时间先后排列的字段列表（缺失的跳过）"},
    required=("fields",),
    message="{后一字段} 早于 {前一字段}（…），时间顺序应为 申请 ≤ 开始 ≤ 结束",
    example='{"startDate": "2024-01-02 10:00:00", "endDate": "2024-01-01 09:00:00"}',
)
def _time_order(ctx: RuleContext, fields):
    fields = [f for f in fields if ctx.has(f)]
    if len(fields) < 2:
        return []
    hits = []
    prev = ctx.times(fields[0])
    prev_name = np.full(ctx.n, fields[0], dtype=object)
    chain = " ≤ ".join(ctx.label(f) for f in fields)
    for f in fields[1:]:
        cur = ctx.times(f)
        earlier = _bool(pc.less(cur, prev))
        if earlier.any():
            idx = np.flatnonzero(earlier)
            prev_vals = prev.take(pa.array(idx)).to_pylist()
            msgs = np.array(
                [
                    f"{ctx.label(f)} 早于 {ctx.label(p)}（{v}），时间顺序应为 {chain}"
                    for p, v in zip(prev_name[idx], prev_vals)
                ],
                dtype=object,
            )
            hits.append(Hit(idx, f, msgs, f))
        has = _bool(pc.is_valid(cur))
        prev = pc.if_else(pa.array(has), cur, prev)
        prev_name = np.where(has, f, prev_name)
    return hits


@record_rule(
    "non_negative",
    title="金额/数量不为负数",
    params={"fields": "字段列表"},
    required=("fields",),
    message="{字段} 为负数 {x}，金额/数量不能小于 0",
    example='{"totalFee": -5}',
)
def _non_negative(ctx: RuleContext, fields):
    hits = []
    for f in [fields] if isinstance(fields, str) else fields:
        if ctx.has(f):
            with np.errstate(invalid="ignore"):
                bad = ctx.numbers(f) < 0
            if bad.any():
                hits.append(ctx.hit(bad, f, f"{ctx.label(f)} 为负数，金额/数量不能小于 0"))
    return hits


def _fmt(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".") if np.isfinite(x) else "?"


@record_rule(
    "sum_of_lines",
    title="表头金额等于明细金额之和",
    params={
        "total": "表头金额字段",
        "items": "明细数组字段",
        "item_field": "明细金额字段",
        "tolerance": "允许误差，默认 0.01",
    },
    required=("total", "items", "item_field"),
    message="{表头金额} 为 100.00，明细 {明细金额} 合计 98.50，相差 1.50；请核对",
    example='{"totalFee": 100, "orderList": [{"totalPrice": 98.5}]}',
)
def _sum_of_lines(ctx: RuleContext, total, items, item_field, tolerance=0.01):
    if not (ctx.has(total) and ctx.has(items)):
        return []
    t = ctx.numbers(total)
    child = ctx.children(items)
    if child is None or child.n == 0:
        return []
    x = child.numbers(item_field) if child.has(item_field) else np.full(child.n, np.nan)
    sums = np.bincount(child.parent, weights=np.nan_to_num(x), minlength=ctx.n)
    incomplete = np.bincount(child.parent, weights=np.isnan(x).astype(float), minlength=ctx.n) > 0
    has_lines = np.bincount(child.parent, minlength=ctx.n) > 0
    with np.errstate(invalid="ignore"):
        bad = ~np.isnan(t) & has_lines & ~incomplete & (np.abs(t - sums) > tolerance + 1e-9)
    if not bad.any():
        return []
    idx = np.flatnonzero(bad)
    child_label = f"{items}[].{item_field}"
    msgs = np.array(
        [
            f"{ctx.label(total)} 为 {_fmt(a)}，明细 {child_label} 合计 {_fmt(b)}，相差 {_fmt(abs(a - b))}；请核对金额"
            for a, b in zip(t[idx], sums[idx])
        ],
        dtype=object,
    )
    return [Hit(idx, total, msgs, total)]


@record_rule(
    "sum_of_fields",
    title="总额等于各分项之和（如总金额 = 自付 + 医保支付）",
    params={"total": "总额字段", "parts": "分项字段列表（缺失按 0）", "tolerance": "允许误差，默认 0.01"},
    required=("total", "parts"),
    message="{总额} 为 100.00，{分项} 之和为 90.00，相差 10.00",
    example='{"totalFee": 100, "selfPay": 60, "insurancePay": 30}',
)
def _sum_of_fields(ctx: RuleContext, total, parts, tolerance=0.01):
    if not ctx.has(total):
        return []
    t = ctx.numbers(total)
    xs = [ctx.numbers(p) if ctx.has(p) else np.full(ctx.n, np.nan) for p in parts]
    stack = np.vstack(xs) if xs else np.full((1, ctx.n), np.nan)
    any_part = (~np.isnan(stack)).any(axis=0)
    s = np.nansum(stack, axis=0)
    with np.errstate(invalid="ignore"):
        bad = ~np.isnan(t) & any_part & (np.abs(t - s) > tolerance + 1e-9)
    if not bad.any():
        return []
    idx = np.flatnonzero(bad)
    names = " + ".join(ctx.label(p) for p in parts)
    msgs = np.array(
        [
            f"{ctx.label(total)} 为 {_fmt(a)}，{names} 之和为 {_fmt(b)}，相差 {_fmt(abs(a - b))}"
            for a, b in zip(t[idx], s[idx])
        ],
        dtype=object,
    )
    return [Hit(idx, total, msgs, total)]


@record_rule(
    "equals",
    title="字段等于规定值（如复诊声明 referralFlag 必须为 1）",
    params={"field": "字段", "value": "规定值"},
    required=("field", "value"),
    message="{字段} 必须为 {value}",
    example='{"referralFlag": "0"}',
)
def _equals(ctx: RuleContext, field, value):
    if not ctx.has(field):
        return []
    present = ctx.present(field)
    same = _bool(pc.equal(ctx.text(field), pa.scalar(str(value))))
    bad = present & ~same
    return [ctx.hit(bad, field, f"{ctx.label(field)} 必须为 {value}")] if bad.any() else []


@record_rule(
    "revisit_only",
    title="仅限复诊：须有复诊声明且有上次诊断（首诊不得在线诊疗）",
    params={"flag": "复诊标志字段", "value": '表示复诊的值，默认 "1"', "diagnosis": "上次诊断字段"},
    required=("flag", "diagnosis"),
    message="互联网诊疗仅限复诊：{复诊标志} 应为 1 / 复诊须填写 {上次诊断}（首诊证明）",
    example='{"referralFlag": "1", "originalDiagnosis": ""}',
)
def _revisit_only(ctx: RuleContext, flag, diagnosis, value="1"):
    hits = []
    if ctx.has(flag):
        ok = _bool(pc.equal(ctx.text(flag), pa.scalar(str(value))))
        bad = ~ok
        if bad.any():
            hits.append(ctx.hit(bad, flag, f"互联网诊疗仅限复诊：{ctx.label(flag)} 应为 {value}（复诊声明）"))
    else:
        ok = np.ones(ctx.n, dtype=bool)
    missing = ok & (~ctx.present(diagnosis) if ctx.has(diagnosis) else np.ones(ctx.n, dtype=bool))
    if missing.any():
        hits.append(ctx.hit(missing, diagnosis, f"复诊须填写 {ctx.label(diagnosis)}（首诊诊断，作为复诊依据）"))
    return hits


@record_rule(
    "no_controlled_drugs",
    title="互联网处方不得开具麻醉药品、精神药品",
    params={
        "items": "明细数组字段（缺省则检查本记录）",
        "name_field": "药品名称字段",
        "code_field": "药品代码字段（可选）",
        "code_set": "管制药品值域 id（名称/代码）",
    },
    required=("name_field", "code_set"),
    message="处方明细第3行“盐酸吗啡片”属于麻醉/精神药品（吗啡），互联网医院不得开具",
    example='{"orderList": [{"drname": "盐酸吗啡缓释片"}]}',
)
def _no_controlled_drugs(ctx: RuleContext, name_field, code_set, items=None, code_field=None):
    cs = ctx.code_set(code_set)
    table = ctx.children(items) if items else ctx
    if table is None or table.n == 0:
        return []
    names = [n for n in cs.codes.values() if n] + [c for c in cs.codes if not re.fullmatch(r"[0-9A-Za-z.\-]+", c)]
    names = sorted(set(names), key=len, reverse=True)
    flagged = np.zeros(table.n, dtype=bool)
    found = np.full(table.n, None, dtype=object)
    if table.has(name_field) and names:
        s = table.strings(name_field)
        rx = "|".join(re.escape(n) for n in names)
        flagged |= _bool(pc.match_substring_regex(s, rx))
        for i in np.flatnonzero(flagged):
            v = s[int(i)].as_py()
            found[i] = next((n for n in names if n in v), None)
    if code_field and table.has(code_field):
        codes = table.text(code_field)
        by_code = _bool(pc.is_in(codes, value_set=pa.array(list(cs.codes), type=pa.string())))
        for i in np.flatnonzero(by_code & ~flagged):
            found[i] = cs.codes.get(codes[int(i)].as_py()) or codes[int(i)].as_py()
        flagged |= by_code
    if not flagged.any():
        return []
    idx = np.flatnonzero(flagged)
    label = "处方明细" if items else "本记录"
    msgs = np.array(
        [f"{label}药品属于麻醉/精神药品（{found[i]}），互联网医院不得开具（国卫医发〔2018〕25号）" for i in idx],
        dtype=object,
    )
    return [Hit(idx, name_field, msgs, name_field, None, table.table if items else None)]


@record_rule(
    "different_persons",
    title="开方医师与审方药师不是同一人",
    params={"fields": "两个（或多个）人员字段（如证件号）"},
    required=("fields",),
    message="{审方药师证件号} 与 {开方医师证件号} 相同：处方须由另一名药师审核",
    example='{"doctorCertID": "110105…", "auditDoctorCertID": "110105…"}',
)
def _different_persons(ctx: RuleContext, fields):
    fields = [f for f in fields if ctx.has(f)]
    hits = []
    for i, a in enumerate(fields):
        for b in fields[i + 1 :]:
            same = (
                ctx.present(a)
                & ctx.present(b)
                & _bool(pc.equal(pc.utf8_trim_whitespace(ctx.text(a)), pc.utf8_trim_whitespace(ctx.text(b))))
            )
            if same.any():
                hits.append(
                    ctx.hit(same, b, f"{ctx.label(b)} 与 {ctx.label(a)} 相同：应为不同人员（如开方医师与审方药师）")
                )
    return hits


# ------------------------------------------------------------------------- cross-record rules
for _r in [
    Rule(
        "duplicate_key",
        "同一批内业务主键不重复",
        "cross",
        {"key": "数据集属性 key（业务主键）；明细按所属记录内的 key"},
        (),
        "error",
        "业务主键 {key} 与第 N 行重复（数据集按 {主键字段} 去重），同一业务只能上传一次",
        "两条记录 recipeID 都是 CF001",
    ),
    Rule(
        "reference",
        "引用的记录存在（同批、参考集或平台已接收）",
        "cross",
        {
            "fields": "{本字段: 目标字段}",
            "datasets": "被引用的数据集（任一）",
            "where": "batch（同批）| accepted（已接收/参考集）| any",
        },
        (),
        "error",
        "{字段} = X 在 在线复诊（revisit）中找不到：请先上传被引用的记录，或核对编号",
        "处方 bussID 指向不存在的复诊",
    ),
    Rule(
        "already_accepted",
        "业务主键未被平台接收过（防重复上传）",
        "cross",
        {"lookup": "check(..., lookup=…) 提供时执行"},
        (),
        "error",
        "业务主键 {key} 已被平台接收，重复上传会被判为重复数据；如需更正请按平台的更新方式上传",
        "再次上传已接收的处方",
    ),
]:
    _register(_r)


# --------------------------------------------------------------------------------- docs table
def rules_markdown() -> str:
    """The documentation table of every rule (docs/rules.md is this text)."""
    kinds = [
        ("field", "字段规则（由规范字段属性隐含）"),
        ("record", "记录规则（规范 rules: 按 id 引用）"),
        ("cross", "跨记录规则"),
        ("input", "输入形状规则（引擎对所有数据集执行）"),
    ]
    out = [
        "# 校验规则一览 (rule ids)",
        "",
        "由 `hlwjr.validation._rules.rules_markdown()` 生成；`tests/test_validate_rules.py` 保证本表与规则库一致。",
        "规则 id 稳定，可在规范 YAML 中引用，并出现在校验报告的 `rule` 列。",
        "",
        "级别：error = 强制校验（平台会拒收该记录）；warning = 建议修正。规范中的 `severity` 可覆盖默认级别。",
        "",
        "## 引擎约定（输入如何理解）",
        "",
        "- **缺失、null、空字符串**：`required` 把缺失、JSON null、空字符串和全空白字符串都算作“空”。"
        "可选字段传 JSON null 报 `type`（无值请省略字段）。DataFrame 中 NaN / None / pd.NA 都是“缺失”。",
        "- **不修改数据**：校验器从不去空格、不转全角、不改类型。前后空格、全角数字由 `pattern` / `code_set` / "
        "`id_number` 报告并给出提示，其余文本字段报 `whitespace` 警告。",
        "- **日期**：`date` 为 `YYYY-MM-DD`、`datetime` 为 `YYYY-MM-DD HH:MM:SS`，且必须是真实日期时间（无 2月30日"
        "、24点）。"
        "datetime64 列和 `datetime`/`date` 对象会按上述格式接受；日期字段中的数字报错，并换算出它作为 Excel 日期序"
        "列号代表的日期。",
        '- **类型**：整数字段接受 1 和 1.0，不接受 true、"1"、1.5；文本字段中的数字报 `type`（提示按文本读取以保留'
        "前导零）。",
        "- **正则**：`pattern` 按 ECMA-262 语义（JSON Schema 规定）执行：`$` 不匹配末尾换行前的位置，`\\d` 只匹配半"
        "角数字。",
        "- **身份证**：`id_number` / `id_birth_sex` 只对证件类型为居民身份证（默认 `01`、`1`）或未填证件类型的记录"
        "执行；"
        "出生日期须在 1890 年至今天之间。",
        "- **明细（数组字段）**：展开为子表逐行校验；问题记在父记录的行号上，`field` 为 `orderList.dosage`，"
        "`path` 为 `orderList[2].dosage`。",
        "- **引用**：需要被引用的数据（同批的其他数据集、`accepted` 参考集或 `lookup` 已接收查询）；"
        "都没有时只给一条警告，说明未检查。",
        "- **脱敏**：报告中的值和业务主键按字段脱敏（身份证号、电话、姓名）。",
        "",
    ]
    for kind, title in kinds:
        out += [
            f"## {title}",
            "",
            "| 规则 id | 检查内容 | 参数 | 默认级别 | 提示信息（模板） | 不通过的例子 |",
            "|---|---|---|---|---|---|",
        ]
        for r in RULES.values():
            if r.kind != kind:
                continue
            params = (
                "<br>".join(f"`{k}`{'（必填）' if k in r.required_params else ''}: {v}" for k, v in r.params.items())
                or "—"
            )
            cell = lambda s: s.replace("|", "\\|").replace("\n", " ")
            out.append(
                f"| `{r.id}` | {cell(r.title)} | {cell(params)} | {r.severity} | {cell(r.message)} | "
                f"`{cell(r.example)}` |"
            )
        out.append("")
    return "\n".join(out)
