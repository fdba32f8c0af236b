"""Record rules about identity: ID numbers (GB 11643) of the given certificate type, birth date /
sex / age agreeing with the ID number, and a code agreeing with its name.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._privacy import id_problem, lost_digits
from ._columns import STR, _bool, fixed_width
from ._hints import excel_text_hint
from ._members import code_texts
from ._numbers import number_text
from ._registry import Hit, RuleContext, id_digits, record_rule


def _is_id_type(ctx: RuleContext, type_field: str | None, types) -> np.ndarray:
    if not type_field:
        return np.ones(ctx.n, dtype=bool)
    types = tuple(str(x) for x in types)
    return ctx.col(type_field).cached(("id_type", types), lambda _: _id_type_mask(ctx, type_field, types))


def _id_type_mask(ctx: RuleContext, type_field: str, types: tuple[str, ...]) -> np.ndarray:
    """The rows whose certificate type is one of ``types``, or not given (read-only)."""
    is_id = _bool(pc.is_in(ctx.text(type_field), value_set=pa.array(types, type=pa.string())))
    mask = is_id | ~ctx.present(type_field)
    mask.flags.writeable = False
    return mask


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
        [f"{label} {_id_message(v, ctx)}{kind_hint}{'' if lost_digits(v) else excel_text_hint(v)}" for v in values],
        dtype=object,
    )
    return [Hit(bad, number, msgs, number)]


def _id_message(v, ctx: RuleContext) -> str:
    return id_problem(v, today=ctx.today) or "不是有效的身份证号"


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
    expected = code_texts(cs).labels_at(codes)
    known = _bool(pc.is_valid(expected))
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
