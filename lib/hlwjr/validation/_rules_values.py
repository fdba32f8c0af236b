"""Record rules about values and their relations: conditional requirements, time order,
non-negative amounts, sums of lines and fields, equal fields, revisits only, controlled drugs,
different persons.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._exceptions import SpecError
from ._columns import _bool
from ._members import code_texts
from ._registry import Hit, RuleContext, record_rule

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
        by_code = code_texts(cs).contains(codes)
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
