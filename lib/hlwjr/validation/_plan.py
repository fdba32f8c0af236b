"""Validation plans: each data set compiled once (cached per spec) into field plans (from the
:class:`~hlwjr.spec._model.Field` attributes), record-rule plans and child plans for array fields.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, make_dataclass
from dataclasses import field as dc_field
from typing import Any

from .._exceptions import SpecError
from .._privacy import mask_kind
from ..spec._model import CHECKED_ATTRIBUTES
from ._ecma import translate_pattern
from ._members import code_texts
from ._rules import get_rule


# ------------------------------------------------------------------------------------- plans
def mask_kind_for(key: str, name: str = "") -> str | None:
    """Which masking a field's values need in reports — asked of the one owner,
    :func:`hlwjr._privacy.mask_kind`."""
    return mask_kind(key, name)


#: one field as the engine checks it: the key and label, every attribute the engine checks (the
#: Field attribute list's ``checked`` ones: ``required`` as a bool, ``code_set`` as the CodeSet),
#: the code set's codes as a TextSet and the field's mask
_FieldPlan = make_dataclass(
    "_FieldPlan",
    [("key", "str"), ("label", "str")]
    + [(name, "Any") for name in CHECKED_ATTRIBUTES]
    + [("codes", "TextSet | None"), ("mask", "str | None")],
)
_FieldPlan.__module__ = __name__


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
    cache: dict[str, Any] = dc_field(default_factory=dict)  # what the kernels derive once per plan

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
        checked = {name: getattr(f, name) for name in CHECKED_ATTRIBUTES}
        fields[f.key] = _FieldPlan(
            key=f.key,
            label=label,
            **checked | {"required": f.required is True, "code_set": cs},  # conditional: a rule
            codes=code_texts(cs) if cs else None,
            mask=f.mask,  # the spec's `sensitive`, else inferred once (Field.mask)
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
