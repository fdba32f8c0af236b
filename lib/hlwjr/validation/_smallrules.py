"""The small-batch path's row-wise proofs, rule by rule: each answers "certainly clean" or gives
up (:class:`_Unsure`), never reports — the engine words every problem. Kept beside the column-wise
rules they mirror; differential tests hold the two together.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from .._privacy import id_check_char
from ._columns import _MISSING
from ._ecma import regex_search

_M = _MISSING


_STR_TYPES = frozenset({str})


_INT_TYPES = frozenset({int, float})


_NUM_TYPES = frozenset({int, float})


_ALLOWED = {
    "string": _STR_TYPES,
    "date": _STR_TYPES,
    "datetime": _STR_TYPES,
    "integer": _INT_TYPES,
    "decimal": _NUM_TYPES,
    "array": frozenset({list}),
}


_NUMERIC_TEXT = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")


_MAX_EXACT = 2**53


_PATTERN_MEMO = 8192


class _Unsure(Exception):
    """The fast path cannot prove the batch clean: run the full engine."""


# ------------------------------------------------------------------------------ value helpers
def _present(v) -> bool:
    """The engine's ``present``: not missing, not null, not an empty/blank string."""
    if v is _M or v is None:
        return False
    if type(v) is str:
        if v == "":
            return False
        if v.isspace():
            raise _Unsure  # whitespace-only: leave the exact definition to the engine
    return True


def _text(v):
    """The engine's ``text``: strings as they are, integers (and whole floats) as digits."""
    t = type(v)
    if t is str:
        return v
    if t is int or (t is float and v.is_integer()):
        if abs(v) >= _MAX_EXACT:
            raise _Unsure
        return str(int(v))
    return None


def _number(v) -> float:
    """The engine's ``numbers``: numbers, numeric text ("12.50"); NaN elsewhere."""
    t = type(v)
    if t is float:
        return v
    if t is int:
        if abs(v) >= _MAX_EXACT:
            raise _Unsure  # beyond 2^53 a float is not exact: the engine compares exactly
        return float(v)
    if t is str and _NUMERIC_TEXT.fullmatch(v):
        if v[0] == "+" or v[-1] == "." or len(v) > 300:
            raise _Unsure  # Arrow's cast decides those; very long digit runs go to the engine
        return float(v)
    return math.nan


_DATE_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


_DTCN_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")


_MEMO_MAX = 100_000


_TIME_KIND: dict[str, int] = {}  # text → 0 not a valid date/date-time, 1 date, 2 date-time


_ID_BIRTH: dict[str, Any] = {}  # ID text → (y, m, d) when format + check digit + real date hold


def _time_kind(v: str) -> int:
    """0: not a real date/date-time; 1: a real ``YYYY-MM-DD``; 2: a real ``YYYY-MM-DD HH:MM:SS``
    (the engine's format masks: ASCII digits, year ≥ 1, real calendar day, hour < 24…)."""
    k = _TIME_KIND.get(v)
    if k is None:
        k = 0
        try:
            if len(v) == 10 and _DATE_SHAPE.fullmatch(v):
                _dt.date.fromisoformat(v)
                k = 1
            elif len(v) == 19 and _DTCN_SHAPE.fullmatch(v):
                _dt.datetime.fromisoformat(v)
                k = 2
        except ValueError:
            k = 0
        if len(_TIME_KIND) >= _MEMO_MAX:
            _TIME_KIND.clear()
        _TIME_KIND[v] = k
    return k


def _is_date(v: str) -> bool:
    return _time_kind(v) == 1


def _is_datetime(v: str) -> bool:
    return _time_kind(v) == 2


def _time(v):
    """The engine's ``times``: a valid date or date-time text, else None."""
    if type(v) is str and _time_kind(v):
        return v
    return None


def _valid_id(v: str, today: _dt.date) -> bool:
    """GB 11643 as the engine checks it: 18 ASCII chars, check digit, real birth date 1890…today."""
    b = _ID_BIRTH.get(v)
    if b is None:
        b = _id_birth(v)
        if len(_ID_BIRTH) >= _MEMO_MAX:
            _ID_BIRTH.clear()
        _ID_BIRTH[v] = b
    return b is not False and b <= (today.year, today.month, today.day)


def _id_birth(v: str):
    if len(v) != 18 or not v.isascii():
        return False
    body, last = v[:17], v[17]
    if not body.isdigit() or not (last.isdigit() or last == "X"):
        return False
    if id_check_char(body) != last:
        return False
    if _time_kind(f"{v[6:10]}-{v[10:12]}-{v[12:14]}") != 1:
        return False
    y = int(v[6:10])
    return (y, int(v[10:12]), int(v[12:14])) if y >= 1890 else False


def _near(a: float, limit: float) -> bool:
    """Too close to a tolerance for a different summation order to be ignored."""
    return abs(a - limit) < 1e-6


# ------------------------------------------------------------------------------------ tables
class _Ctx:
    """One data set's records (or the child lines of an array field) as value lists."""

    __slots__ = ("_cols", "colset", "fast", "n", "parent", "plan", "recs", "spec", "today")

    def __init__(self, fast, recs: list, colset: set, today, spec, parent=None) -> None:  # fast: _FastPlan
        self.fast = fast
        self.plan = fast.plan
        self.n = len(recs)
        self.colset = colset
        self.parent = parent
        self.today = today
        self.spec = spec
        order, self._cols = _transpose(recs, colset)
        if order is not None:  # regrouped by key layout: keep records and parents aligned
            recs = [recs[i] for i in order]
            if parent is not None:
                self.parent = [parent[i] for i in order]
        self.recs = recs

    def has(self, f: str) -> bool:
        return f in self.plan.fields or f in self.colset

    def col(self, f: str) -> list:
        c = self._cols.get(f)
        if c is None:
            if f in self.colset:
                c = [r.get(f, _M) for r in self.recs]
            else:
                c = [_M] * self.n
            self._cols[f] = c
        if f not in self.plan.fields and not set(map(type, c)) <= _PLAIN:
            # a key outside the spec (child lines may carry some) read by a rule: its values were
            # not type-checked, and NaN/bool/other objects mean something else to the engine
            raise _Unsure
        return c

    def key_texts(self, fields) -> list:
        """Joined key text per row ("|"), None where a part is absent (the engine's _key_text)."""
        fields = tuple(fields)
        got = self._cols.get(fields)  # type: ignore[call-overload]
        if got is not None:
            return got
        self._cols[fields] = out = self._key_texts(fields)  # type: ignore[index]
        return out

    def _key_texts(self, fields) -> list:
        cols = [self.col(f) for f in fields]
        texts = []
        for c in cols:
            types = set(map(type, c))
            if types == _STR_SET and "" not in c and not any(map(str.isspace, c)):
                texts.append(c)
            elif types == _INT_SET and max(map(abs, c)) < _MAX_EXACT:
                texts.append(list(map(str, c)))
            else:
                break
        else:
            return texts[0] if len(texts) == 1 else list(map("|".join, zip(*texts)))
        out = []
        for vals in zip(*cols):
            if all(_present(v) for v in vals):
                out.append("|".join((_text(v) or "") for v in vals))
            else:
                out.append(None)
        return out


_STR_SET = {str}


_PLAIN = frozenset({str, int, list, dict, type(None), type(_M)})


_DICT_SET = {dict}


_INT_SET = {int}


_NUMS_SET = frozenset({int, float})


def _transpose(recs: list, colset: set) -> tuple[list | None, dict]:
    """The columns of the records (a missing key → <missing>), transposed in C-level passes.

    Records with the same keys in the same order (one serializer wrote them) are transposed
    together straight from their values; with several key layouts the records are regrouped by
    layout — every check of the fast path is per row and order-free (whether a batch is clean
    does not depend on the order of its records); the new order comes back as a list of
    positions (None: unchanged), to reorder anything else aligned with the records."""
    if not recs:
        return None, {}
    k0 = list(recs[0])
    if len(k0) == len(colset) and (len(recs) == 1 or all(list(r) == k0 for r in recs)):
        return None, dict(zip(k0, map(list, zip(*map(dict.values, recs)))))
    groups: dict[tuple, list] = {}
    for i, r in enumerate(recs):
        g = groups.get(tuple(r))
        if g is None:
            groups[tuple(r)] = [i]
        else:
            g.append(i)
    cols: dict[str, list] = {k: [] for k in colset}
    for keys, grp in groups.items():
        got = dict(zip(keys, zip(*(recs[i].values() for i in grp))))
        fill = (_M,) * len(grp)
        for k, c in cols.items():
            c.extend(got.get(k, fill))
    return [i for grp in groups.values() for i in grp], cols


# ------------------------------------------------------------------------------- field rules
def _check_field(fp, vals: list, memo: dict) -> None:
    """Raise _Unsure unless no field rule (required, type, length, format, pattern, code set,
    const, whitespace, bounds, precision, min_items) would say anything about ``vals``."""
    types = set(map(type, vals))
    if type(None) in types:
        raise _Unsure  # JSON null: a type or required problem
    has_missing = type(_M) in types
    if has_missing:
        if fp.required:
            raise _Unsure
        types.discard(type(_M))
        if not types:
            return
    allowed = _ALLOWED.get(fp.type)
    if allowed is None or not types <= allowed:
        raise _Unsure
    t = fp.type
    if t in ("string", "date", "datetime"):
        strs = [v for v in vals if v is not _M] if has_missing else vals
        ws_warning = t == "string" and fp.pattern is None and fp.codes is None
        if ws_warning and list(map(str.strip, strs)) != strs:
            raise _Unsure  # edge whitespace → the whitespace warning (also: whitespace-only text)
        if fp.required and ("" in strs or (not ws_warning and any(map(str.isspace, strs)))):
            raise _Unsure
        if fp.max_length is not None and max(map(len, strs)) > fp.max_length:
            raise _Unsure
        if fp.min_length and min(map(len, strs)) < fp.min_length:
            raise _Unsure
        if t == "date":
            if not all(map(_is_date, strs)):
                raise _Unsure
        elif t == "datetime":
            if not all(map(_is_datetime, strs)):
                raise _Unsure
        if fp.pattern:
            todo = [v for v in strs if v not in memo]
            if todo:
                todo = list(dict.fromkeys(todo))
                ok = regex_search(pa.array(todo, type=pa.string()), fp.pattern)
                if len(memo) > _PATTERN_MEMO:
                    memo.clear()
                memo.update(zip(todo, ok.tolist()))
            if not all(memo[v] for v in strs):
                raise _Unsure
        if fp.codes is not None:
            if not set(strs) <= fp.code_set.codes.keys():
                raise _Unsure
        if fp.const is not None:
            if not all(type(v) is type(fp.const) and v == fp.const for v in strs):
                raise _Unsure
        return
    if t == "array":
        if fp.const is not None:
            raise _Unsure
        if fp.min_items:
            for v in vals:
                if v is not _M and len(v) < fp.min_items:
                    raise _Unsure
        return
    # integer / decimal
    nums = [v for v in vals if v is not _M] if has_missing else vals
    for v in nums:
        if type(v) is float:
            if not math.isfinite(v) or (t == "integer" and not v.is_integer()):
                raise _Unsure
        elif abs(v) >= _MAX_EXACT:
            raise _Unsure  # big integers: exact comparisons in the engine
    if fp.const is not None:
        if not all(type(v) is type(fp.const) and v == fp.const for v in nums):
            raise _Unsure
    if fp.codes is not None and t == "integer":
        if not {_text(v) for v in nums} <= fp.code_set.codes.keys():
            raise _Unsure
    xs = set(map(float, nums))  # distinct values: prices and counts repeat
    if fp.minimum is not None and min(xs) < fp.minimum:
        raise _Unsure
    if fp.maximum is not None and max(xs) > fp.maximum:
        raise _Unsure
    if t == "decimal" and fp.precision is not None:
        p = 10.0**fp.precision
        for x in xs:
            scaled = x * p
            if abs(scaled - round(scaled)) > 1e-6 * max(1.0, abs(scaled)) + 1e-9:
                raise _Unsure
    if fp.total_digits is not None:
        lim = 10.0 ** (fp.total_digits - (fp.precision or 0))
        if max(map(abs, xs)) >= lim:
            raise _Unsure


# ------------------------------------------------------------------------------ record rules
def _id_type_ok(ctx: _Ctx, type_field, types, i: int) -> bool:
    if not type_field:
        return True
    v = ctx.col(type_field)[i]
    if not _present(v):
        return True
    return _text(v) in types


def _r_id_number(ctx: _Ctx, number, type=None, types=("01", "1")):
    if not ctx.has(number):
        return
    types = {str(x) for x in types}
    today = ctx.today
    for i, v in enumerate(ctx.col(number)):  # valid numbers (the rule of thumb) decide at once
        if builtin_type(v) is str and not _valid_id(v, today) and _present(v) and _id_type_ok(ctx, type, types, i):
            raise _Unsure


builtin_type = type


def _r_id_birth_sex(ctx: _Ctx, number, type=None, birthday=None, sex=None, age=None, at=None, types=("01", "1")):
    if not ctx.has(number):
        return
    types = {str(x) for x in types}
    today = ctx.today
    sexes = ctx.col(sex) if sex and ctx.has(sex) else None
    births = ctx.col(birthday) if birthday and ctx.has(birthday) else None
    ages = ctx.col(age) if age and ctx.has(age) else None
    ats = ctx.col(at) if at and ctx.has(at) else None
    for i, v in enumerate(ctx.col(number)):
        if builtin_type(v) is not str or not _id_type_ok(ctx, type, types, i):
            continue
        if not _valid_id(v, today):
            if _present(v):
                raise _Unsure
            continue
        by, bm, bd = int(v[6:10]), int(v[10:12]), int(v[12:14])
        if sexes is not None:
            g = _text(sexes[i])
            if g in ("1", "2") and g != ("1" if int(v[16]) % 2 == 1 else "2"):
                raise _Unsure
        if births is not None:
            b = _time(births[i])
            if b is not None and b[:10] != f"{v[6:10]}-{v[10:12]}-{v[12:14]}":
                raise _Unsure
        if ages is not None:
            a = _number(ages[i])
            if not math.isnan(a):
                ry, rmd, tol = today.year, today.month * 100 + today.day, 1
                if ats is not None:
                    ref = _time(ats[i])
                    if ref is not None:
                        r10 = ref[:10]
                        ry, rmd, tol = int(r10[:4]), int(r10[5:7]) * 100 + int(r10[8:10]), 0
                computed = ry - by - (1 if rmd < bm * 100 + bd else 0)
                if abs(a - computed) > tol:
                    raise _Unsure


def _r_code_name_match(ctx: _Ctx, code, name, code_set, separator="|"):
    if not (ctx.has(code) and ctx.has(name)):
        return
    codes = ctx.spec.code_set(code_set).codes
    for c, n in zip(ctx.col(code), ctx.col(name)):
        if not (_present(c) and _present(n)):
            continue
        ct = _text(c)
        if ct is None:
            continue
        if builtin_type(n) is not str:
            raise _Unsure
        if ct in codes:
            if codes[ct] != n:
                raise _Unsure
        elif separator in ct:
            cl = [x.strip() for x in ct.split(separator)]
            nl = [x.strip() for x in n.split(separator)]
            if len(cl) != len(nl) or any(x in codes and codes[x] != y for x, y in zip(cl, nl)):
                raise _Unsure


_OPS = {"eq", "ne", "in", "lt", "le", "gt", "ge"}


def _condition(ctx: _Ctx, when: Mapping) -> list:
    f, op, value = when.get("field"), when.get("op", "eq"), when.get("value")
    if op not in _OPS:
        raise _Unsure  # the engine raises the SpecError
    if not ctx.has(f):
        return [False] * ctx.n
    vals = ctx.col(f)
    if op in ("lt", "le", "gt", "ge"):
        if builtin_type(value) not in (int, float):
            raise _Unsure
        out = []
        for v in vals:
            x = _number(v)
            res = x < value if op == "lt" else x <= value if op == "le" else x > value if op == "gt" else x >= value
            out.append(_present(v) and res)
        return out
    values = {str(v) for v in (value if op == "in" else [value])}
    if op == "ne":
        return [_present(v) and _text(v) not in values for v in vals]
    return [_present(v) and _text(v) in values for v in vals]


def _r_required_if(ctx: _Ctx, fields, when):
    cond = _condition(ctx, when)
    if not any(cond):
        return
    for f in [fields] if isinstance(fields, str) else fields:
        col = ctx.col(f) if ctx.has(f) else [_M] * ctx.n
        for c, v in zip(cond, col):
            if c and not _present(v):
                raise _Unsure


def _r_time_order(ctx: _Ctx, fields):
    fields = [f for f in fields if ctx.has(f)]
    if len(fields) < 2:
        return
    cols = [ctx.col(f) for f in fields]
    for row in zip(*cols):
        prev = _time(row[0])
        for v in row[1:]:
            cur = _time(v)
            if cur is not None:
                if prev is not None and cur < prev:
                    raise _Unsure
                prev = cur


def _r_non_negative(ctx: _Ctx, fields):
    for f in [fields] if isinstance(fields, str) else fields:
        if not ctx.has(f):
            continue
        col = ctx.col(f)
        if set(map(type, col)) <= _NUMS_SET and all(x == x for x in col):  # plain numbers, no NaN
            if col and min(col) < 0:
                raise _Unsure
        elif any(_number(v) < 0 for v in col):
            raise _Unsure


def _r_sum_of_lines(ctx: _Ctx, total, items, item_field, tolerance=0.01):
    if not (ctx.has(total) and ctx.has(items)):
        return
    child = ctx.fast.child_ctx(ctx, items)
    if child is None or child.n == 0:
        return
    xs = child.col(item_field) if child.has(item_field) else [_M] * child.n
    sums = [0.0] * ctx.n
    incomplete = [False] * ctx.n
    has_lines = [False] * ctx.n
    for p, v in zip(child.parent, xs):
        x = _number(v)
        has_lines[p] = True
        if math.isnan(x):
            incomplete[p] = True
        else:
            sums[p] += x
    for i, v in enumerate(ctx.col(total)):
        t = _number(v)
        if math.isnan(t) or not has_lines[i] or incomplete[i]:
            continue
        d = abs(t - sums[i])
        if d > tolerance + 1e-9 or _near(d, tolerance + 1e-9):
            raise _Unsure


def _r_sum_of_fields(ctx: _Ctx, total, parts, tolerance=0.01):
    if not ctx.has(total):
        return
    cols = [ctx.col(p) if ctx.has(p) else [_M] * ctx.n for p in parts]
    for i, v in enumerate(ctx.col(total)):
        t = _number(v)
        xs = [_number(c[i]) for c in cols]
        real = [x for x in xs if not math.isnan(x)]
        if math.isnan(t) or not real:
            continue
        d = abs(t - sum(real))
        if d > tolerance + 1e-9 or _near(d, tolerance + 1e-9):
            raise _Unsure


def _r_equals(ctx: _Ctx, field, value):
    if not ctx.has(field):
        return
    want = str(value)
    for v in ctx.col(field):
        if _present(v) and _text(v) != want:
            raise _Unsure


def _r_revisit_only(ctx: _Ctx, flag, diagnosis, value="1"):
    want = str(value)
    diag = ctx.col(diagnosis) if ctx.has(diagnosis) else [_M] * ctx.n
    if ctx.has(flag):
        for v in ctx.col(flag):
            if _text(v) != want:
                raise _Unsure
    for v in diag:
        if not _present(v):
            raise _Unsure


def _r_no_controlled_drugs(ctx: _Ctx, name_field, code_set, items=None, code_field=None):
    cs = ctx.spec.code_set(code_set)
    table = ctx.fast.child_ctx(ctx, items) if items else ctx
    if table is None or table.n == 0:
        return
    found = ctx.fast.controlled_finder(cs)
    if table.has(name_field) and found is not None:
        for v in table.col(name_field):
            if builtin_type(v) is str and found(v):
                raise _Unsure
    if code_field and table.has(code_field):
        for v in table.col(code_field):
            t = _text(v)
            if t is not None and t in cs.codes:
                raise _Unsure


def _r_different_persons(ctx: _Ctx, fields):
    fields = [f for f in fields if ctx.has(f)]
    for i, a in enumerate(fields):
        for b in fields[i + 1 :]:
            for x, y in zip(ctx.col(a), ctx.col(b)):
                if not (_present(x) and _present(y)):
                    continue
                tx, ty = _text(x), _text(y)
                if tx is None or ty is None:
                    raise _Unsure  # the engine's comparison of nulls: leave it to the engine
                if tx == ty or _edge_space(tx) or _edge_space(ty):
                    raise _Unsure


_ODD_EDGE = frozenset("\u200b\u180e\ufeff\u2060\x1c\x1d\x1e\x1f\x85")


def _edge_space(s: str) -> bool:
    """An edge character that Python's and Arrow's trimming might treat differently."""
    return bool(s) and (s[0].isspace() or s[-1].isspace() or s[0] in _ODD_EDGE or s[-1] in _ODD_EDGE)


_RULES = {
    "id_number": _r_id_number,
    "id_birth_sex": _r_id_birth_sex,
    "code_name_match": _r_code_name_match,
    "required_if": _r_required_if,
    "time_order": _r_time_order,
    "non_negative": _r_non_negative,
    "sum_of_lines": _r_sum_of_lines,
    "sum_of_fields": _r_sum_of_fields,
    "equals": _r_equals,
    "revisit_only": _r_revisit_only,
    "no_controlled_drugs": _r_no_controlled_drugs,
    "different_persons": _r_different_persons,
}


#: what each mirror above was last reviewed against: the fingerprint of the engine's implementation
#: (``tests/mirror_fingerprints.py``; "field rules" is ``_fields.field_problems`` with every check
#: it runs, mirrored by ``_check_field``; "rule context" is ``RuleContext``, which every record
#: rule reads through). When ``tests/test_one_owner.py`` says one changed, review the mirror
#: against the engine's new code, then record the fingerprint it prints.
MIRRORED = {
    "id_number": "3b5c9fa54549af01",
    "id_birth_sex": "5e7c0433ab898950",
    "code_name_match": "201f4a0e6508ade8",
    "required_if": "a40b267b29d7b775",
    "time_order": "a0701369b55da0e0",
    "non_negative": "327058cc8e36b520",
    "sum_of_lines": "74306d9915d07749",
    "sum_of_fields": "28d4529e7ae5acad",
    "equals": "76596c37e63f49df",
    "revisit_only": "54a193e87e6826f0",
    "no_controlled_drugs": "4fc1b61913ace2c2",
    "different_persons": "87e5b3c8ea858414",
    "field rules": "254a41c1e54a1987",
    "rule context": "7e88036bad0f1808",
}
