"""The small-batch fast path of the validation engine: "is this upload batch certainly clean?".

An upload batch (一次上传，≤ 100 条) is validated many times a second by the sandbox and by the
client's pre-flight check.  The column-wise engine (``hlwjr.validation._engine``) has a fixed cost per call
(typed column views, Arrow/NumPy masks for 40+ fields, the report frame) of several milliseconds,
which dominates a batch of 1–100 records.  Nearly every batch sent in practice is clean, so this
module answers one question with plain Python over the records, compiled once per data set plan:

    *does any rule of the spec (field rules, record rules, duplicates, references, already
    accepted) find anything at all — error or warning — in these records?*

It is deliberately **conservative**: it answers "clean" only when it can prove that the engine
would report nothing; whenever a value is unusual (JSON null, a blank string, a bool, NaN, an
unknown field, a rule it does not model, a value near a tolerance…) or a rule would fire, it gives
up (:class:`_Unsure`) and the caller runs the full engine, which words every problem.  So the
engine's behaviour is unchanged — only clean small batches get their (empty) report faster.
Regexes run through the engine's own ECMA→RE2 translation (one Arrow call per pattern field), so
pattern semantics cannot drift; the tests compare both paths on the reference examples and on
mutated records.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping
from typing import Any

from ._keys import _keys_from
from ._smallrules import _DICT_SET, _MEMO_MAX, _RULES, _check_field, _Ctx, _Unsure, builtin_type

__all__ = ["SMALL_BATCH", "certify_clean"]


#: batches up to this many records try the fast path first (larger ones go straight to the
#: column-wise engine, which is faster per record from a few hundred records on)
SMALL_BATCH = 1000


_SKIPPABLE = frozenset(_RULES) | {"duplicate_key", "reference", "already_accepted"}


# --------------------------------------------------------------------------------- the plan
class _FastPlan:
    """A data set plan (``_validate._Plan``) prepared for the fast path (cached on the plan)."""

    def __init__(self, plan) -> None:
        self.plan = plan
        self.fields = list(plan.fields.values())
        self.memos: dict[str, dict] = {fp.key: {} for fp in self.fields if fp.pattern}
        self.supported = all(rp.rule.id in _RULES for rp in plan.rules)
        self.children = {f: _fast_plan(p) for f, p in plan.children.items()}
        self.supported = self.supported and all(c.supported for c in self.children.values())
        self._controlled: dict[str, tuple] = {}

    def controlled_finder(self, cs):
        """``text -> bool``: does a drug name contain a 麻醉/精神 drug name of code set ``cs``
        (the engine's substring search; results remembered, drug names repeat)."""
        got = self._controlled.get(cs.id)
        if got is None:
            lst = [n for n in cs.codes.values() if n] + [c for c in cs.codes if not re.fullmatch(r"[0-9A-Za-z.\-]+", c)]
            names = sorted(set(lst), key=len, reverse=True)
            if not names:
                got = (None,)
            else:
                search = re.compile("|".join(map(re.escape, names))).search
                memo: dict[str, bool] = {}

                def found(v: str) -> bool:
                    r = memo.get(v)
                    if r is None:
                        if len(memo) >= _MEMO_MAX:
                            memo.clear()
                        r = memo[v] = search(v) is not None
                    return r

                got = (found,)
            self._controlled[cs.id] = got
        return got[0]

    def child_ctx(self, ctx: _Ctx, f: str) -> _Ctx | None:
        """The child lines of array field ``f`` (None when the engine would have no child table)."""
        key = ("child", f)
        got = ctx._cols.get(key)  # type: ignore[call-overload]
        if got is not None:
            return got[0]
        result = None
        cfast = self.children.get(f)
        if cfast is not None and f in ctx.colset:
            items, parent = [], []
            for i, lst in enumerate(ctx.col(f)):
                if builtin_type(lst) is list:
                    items.extend(lst)
                    parent.extend([i] * len(lst))
            if items and set(map(builtin_type, items)) != _DICT_SET:
                raise _Unsure  # a line that is not an object
            colset: set = set().union(*items)
            result = _Ctx(cfast, items, colset, ctx.today, ctx.spec, parent)
        ctx._cols[key] = (result,)  # type: ignore[index]
        return result

    def check_table(self, ctx: _Ctx, skip: frozenset) -> None:
        for fp in self.fields:
            if fp.key in ctx.colset:
                _check_field(fp, ctx.col(fp.key), self.memos.get(fp.key, {}))
            elif fp.required:
                raise _Unsure
        for rp in self.plan.rules:
            if rp.rule.id in skip:
                continue
            try:
                _RULES[rp.rule.id](ctx, **rp.params)
            except TypeError:  # bad params: the engine reports them
                raise _Unsure from None
        if "duplicate_key" not in skip:
            self._duplicates(ctx)
        for f in self.plan.children:
            child = self.child_ctx(ctx, f)
            if child is not None and child.n:
                self.children[f].check_table(child, skip)

    def _duplicates(self, ctx: _Ctx) -> None:
        key = [k for k in self.plan.dataset.key if ctx.has(k)]
        if ctx.parent is not None:
            key = [k for k in key if k in self.plan.fields and k in ctx.colset]
        if not key or ctx.n < 2:
            return
        texts = ctx.key_texts(key)
        if ctx.parent is not None:
            texts = [None if t is None else f"{p}\x1f{t}" for p, t in zip(ctx.parent, texts)]
        done = [t for t in texts if t is not None]
        if len(set(done)) != len(done):
            raise _Unsure


def _fast_plan(plan) -> _FastPlan:
    fp = plan.cache.get("fast")
    if fp is None:
        fp = plan.cache["fast"] = _FastPlan(plan)
    return fp


# --------------------------------------------------------------------------- cross-record
def _keys_known(ctx: _Ctx, target: str, fields, want, where, accepted, lookup) -> set:

    found: set = set()
    if where in ("batch", "any") and target == ctx.plan.dataset.code:
        for t in ctx.key_texts(fields):
            if t is not None:
                found.add(tuple(t.split("|")) if len(fields) > 1 else (t,))
    if where in ("accepted", "any"):
        acc = accepted.get(target)
        if acc is not None:
            found |= _keys_from(acc, fields)
        if lookup is not None:
            try:
                found |= {tuple(str(x) for x in k) for k in lookup.known(target, want)}
            except Exception:
                raise _Unsure from None
    return found


def _references(ctx: _Ctx, accepted, lookup) -> None:
    code = ctx.plan.dataset.code
    for ref in ctx.plan.dataset.references:
        local = tuple(ref.fields)
        remote = tuple(ref.fields.values())
        if not all(ctx.has(f) for f in local):
            continue
        texts = ctx.key_texts(local)
        done = [t for t in texts if t is not None]
        if not done:
            continue
        sources = [
            t
            for t in ref.datasets
            if (ref.where in ("batch", "any") and t == code)
            or (ref.where in ("accepted", "any") and (t in accepted or lookup is not None))
        ]
        if not sources:
            raise _Unsure  # the engine's "reference not checked" warning
        want = sorted({tuple(t.split("|")) if len(local) > 1 else (t,) for t in done})
        known: set = set()
        for t in sources:
            known |= _keys_known(ctx, t, remote, want, ref.where, accepted, lookup)
        known_text = {"|".join(k) for k in known}
        if any(t not in known_text for t in done):
            raise _Unsure


def _already_accepted(ctx: _Ctx, lookup) -> None:
    key = ctx.plan.dataset.key
    if not key or not all(ctx.has(k) for k in key):
        return
    done = [t for t in ctx.key_texts(key) if t is not None]
    want = sorted({tuple(t.split("|")) if len(key) > 1 else (t,) for t in done})
    if not want:
        return
    try:
        known = {tuple(str(x) for x in k) for k in lookup.known(ctx.plan.dataset.code, want)}
    except Exception:
        raise _Unsure from None
    if known and any(t in {"|".join(k) for k in known} for t in done):
        raise _Unsure


# ------------------------------------------------------------------------------ entry point
def certify_clean(
    plan,
    records: list,
    *,
    spec,
    lookup=None,
    accepted: Mapping[str, Any] | None = None,
    skip=(),
    today: _dt.date | None = None,
) -> bool:
    """True when the engine would find **no problem at all** (no error, no warning) in
    ``records`` (a list of dicts of one data set); False when it might — then run the engine.

    Never raises for bad data: anything unusual is "not proven clean".
    """
    skip = frozenset(skip)
    if not skip <= _SKIPPABLE:
        return False
    fast = _fast_plan(plan)
    if not fast.supported:
        return False
    if set(map(type, records)) != _DICT_SET:
        return False
    colset: set = set().union(*records)
    if not colset <= plan.fields.keys():
        return False  # unknown fields: the engine warns
    ctx = _Ctx(fast, records, colset, today or _dt.date.today(), spec)
    accepted = accepted or {}
    try:
        fast.check_table(ctx, skip)
        if "reference" not in skip:
            _references(ctx, accepted, lookup)
        if "already_accepted" not in skip and lookup is not None:
            _already_accepted(ctx, lookup)
    except _Unsure:
        return False
    return True
