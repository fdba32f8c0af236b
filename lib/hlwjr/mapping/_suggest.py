"""Suggestions for the mapping (对照建议): which source column fills which spec field, and which
standard code each local value maps to.

``suggest_fields(dataset, source)`` ranks the source columns for every spec field.  It compares
the column name with many spellings of the field —

* the field key (``patientCertID`` → ``patient cert id``) and its aliases in the spec;
* the Chinese name (``患者证件号``), its pinyin initials (``HZZJH``) and full pinyin
  (``huanzhezhengjianhao``), computed with pypinyin;
* a synonym list of HIS naming habits (``BRXM``/``HZXM``/``XM`` 姓名, ``SFZH``/``ZJHM`` 证件号,
  ``XB`` 性别, ``CFBH``/``CFH`` 处方号, ``KSDM``/``KSBM`` 科室代码 …), including joined-table
  prefixes (``ys.SFZH`` = 医生 + 身份证号);

with rapidfuzz similarity, and then looks at the **values** (from a profile): an ID-card-looking
column for a certificate-number field, 11-digit mobiles for a phone field, dates for date fields,
amounts for fee fields.  Every candidate comes with a score (0–1) and the reasons.

``suggest_codes(code_set, local_values)`` proposes local value → standard code
(``男``/``男性``/``M``/``1`` → ``1``).  Suggestions are never accepted automatically: rules made
from them carry review status ``suggested``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from .._exceptions import SpecError
from ._suggest_codes import suggest_code_map, suggest_codes
from ._valuefit import distinct_values, fit_adjust
from ._vocabulary import _KIND_BY_FIELD, _PREFIX_HINTS, SYNONYMS, _column_variants, _concepts, _field_variants, _norm

__all__ = [
    "SYNONYMS",
    "Candidate",
    "FieldSuggestion",
    "suggest_business_time",
    "suggest_code_map",
    "suggest_codes",
    "suggest_dataset_mapping",
    "suggest_fields",
    "top1_accuracy",
]


@dataclass
class Candidate:
    """A source column proposed for a field, with its score (0–1) and why (理由)."""

    column: str
    score: float
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"column": self.column, "score": round(self.score, 3), "reasons": list(self.reasons)}


@dataclass
class FieldSuggestion:
    """The ranked candidates for one spec field."""

    field: str
    name: str
    type: str
    required: bool | str
    candidates: list[Candidate]
    code_set: str | None = None

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    def to_dict(self) -> dict:
        return {
            "field": self.field,
            "name": self.name,
            "type": self.type,
            "required": self.required,
            "code_set": self.code_set,
            "candidates": [c.to_dict() for c in self.candidates],
        }


def _field_kind(f) -> str | None:
    k = f.key.lower()
    for pattern, kind in _KIND_BY_FIELD:
        if re.search(pattern, k):
            return kind
    if f.type in ("date", "datetime"):
        return f.type
    if f.type == "decimal":
        return "amount"
    if f.type == "integer":
        return "integer"
    return None


#: what a coded field's column never holds: many distinct person names, times, amounts
_NEVER_CODES = frozenset({"name", "date", "datetime", "amount", "decimal"})
#: a field typed as text that holds a time all the same (specs type 开始时间 as string(19))
_TIMEISH = re.compile(r"time|date|day|dt$|period", re.I)
_TIMEISH_ZH = re.compile(r"时间|日期|时刻|年月|时段|期限")


def _shape_adjust(f, prof) -> tuple[float, str | None]:
    if prof is None:
        return 0.0, None
    want = _field_kind(f)
    kind = prof.kind
    if want is None:
        if kind in ("id_card", "mobile") and f.type == "string":
            return (-20.0 if f.code_set else -8.0), f"列值像{prof.kind_label}，字段不是该类"
        if f.code_set and kind == "code":
            return 4.0, "列值像代码，字段有值域"
        if f.code_set and kind in _NEVER_CODES:
            return -20.0, f"列值像{prof.kind_label}，不会是值域代码"
        if kind in ("date", "datetime") and not _TIMEISH.search(f.key) and not _TIMEISH_ZH.search(f.name or ""):
            return -10.0, f"列值像{prof.kind_label}，字段不是时间"
        return 0.0, None
    if want == "datetime" and kind == "date":
        return 2.0, "列值是日期（无时间部分）"
    if (
        want == kind
        or (want == "amount" and kind in ("decimal", "integer"))
        or (want == "integer" and (kind == "integer" or (kind == "code" and prof.dtype == "integer")))
        or (want in ("date", "datetime") and kind in ("date", "datetime"))
    ):
        labels = {
            "id_card": "身份证号",
            "mobile": "手机号",
            "date": "日期",
            "datetime": "日期时间",
            "amount": "金额/数值",
            "integer": "整数",
        }
        return 12.0, f"列值像{labels.get(want, want)}" + (f"（格式 {prof.date_format}）" if prof.date_format else "")
    if kind == "empty":
        return -5.0, "列全空"
    return -15.0, f"列值像{prof.kind_label}，与字段类型不符"


def _profile_of(source):
    from ..sources._profile import Profile, profile_frame

    if source is None:
        return None, []
    if isinstance(source, Profile):
        return {c.column: c for c in source.columns}, [c.column for c in source.columns]
    if isinstance(source, pd.DataFrame):
        sample = source if len(source) <= 20000 else source.sample(20000, random_state=0)
        prof = profile_frame(sample)
        return {c.column: c for c in prof.columns}, [str(c) for c in source.columns]
    cols = [str(c) for c in source]
    return None, cols


# A leading word naming someone other than the patient (监护人, 医生, 开方医师, 审方药师 …): a column that
# drops it (SFZH for 监护人身份证号 JHRSFZH, 医生身份证号 YSSFZH) most likely holds the patient's value.
_OTHER_PERSON = re.compile(
    r"^(jhr|jianhuren|ys|yisheng|yishi|kfys|kaifangyishi|sfys|sfyjs|shenfangyaoshi|yaoshi|fzr|fuzeren|jbr|jingbanren"
    r"|监护人|医生|医师|开方医生|开方医师|审方药师|药师|负责人|经办人)$"
)


# Whose value a field or a column holds (患者本人 / 监护人 / 医生 / 药师), read from the leading word of the
# Chinese name, its pinyin (initials) or English.  Longer markers are tried first.
_ROLE_MARKERS = {
    "guardian": ("监护人", "jianhuren", "guardian", "jhr"),
    "pharmacist": ("审方药师", "药师", "shenfangyaoshi", "pharmacist", "yaoshi", "sfyjs", "sfys", "shys", "yjs"),
    "patient": ("患者", "病人", "huanzhe", "bingren", "patient", "pat", "hz", "br"),
    "doctor": ("开方医师", "医生", "医师", "yisheng", "yishi", "doctor", "doc", "ys"),
}


_ROLE_ZH = {"guardian": "监护人", "pharmacist": "药师", "patient": "患者", "doctor": "医生"}


# roles that are never the subject of a record: an unmarked column (SJHM) is not theirs
_NEVER_UNMARKED = ("guardian",)


def _role_of(text: str) -> str | None:
    """The person a name is about, from its leading word; None when it names nobody."""
    raw = str(text).strip()
    flat = _norm(raw)
    for role, markers in _ROLE_MARKERS.items():
        for m in markers:
            if re.search(r"[\u4e00-\u9fff]", m):
                if raw.startswith(m) and len(raw) > len(m):
                    return role
            elif flat.startswith(m) and len(flat) >= len(m) + 2:
                return role
    return None


def _field_role(f) -> str | None:
    return _role_of(f.name) or _role_of(f.key)


def _role_conflict(field_role: str | None, col: str) -> tuple[float, str | None]:
    """A penalty when the column is about someone else than the field: 监护人手机号码 ← LXDH (the
    patient's own phone), 患者证件号码 ← JHRZJHM (the guardian's), 医生身份证号 ← 药师身份证号列."""
    if field_role is None:
        return 0.0, None
    col_role = _role_of(col) or _role_of(col.rsplit(".", 1)[-1])
    if col_role is None:
        if field_role in _NEVER_UNMARKED:
            return -35.0, f"字段是{_ROLE_ZH[field_role]}的，列名没有{_ROLE_ZH[field_role]}标记（多半是患者本人的）"
        return 0.0, None
    if col_role != field_role:
        return -25.0, f"列名指{_ROLE_ZH[col_role]}，字段是{_ROLE_ZH[field_role]}的"
    return 0.0, None


def _record_id_fields(dataset) -> set[str]:
    """The key field that identifies one record (复诊记录ID, 处方号 …): the data set's key without the
    fields every data set's key shares (the institution), when exactly one is left."""
    try:
        keys = [set(d.key) for d in dataset.spec.top_level() if d.key]
    except Exception:  # a hand-built data set without a spec
        keys = []
    shared = set.intersection(*keys) if keys else set()
    rest = [k for k in dataset.key if k not in shared]
    return set(rest) if len(rest) == 1 else set()


_ID_NAME = re.compile(r"(lsh|liushuihao|jlh|id|bh|bianhao|no)$")


_ID_NAME_ZH = re.compile(r"(流水号|编号|记录号|ID)$")


_NOT_ID_KINDS = ("id_card", "mobile", "date", "datetime", "amount", "decimal", "name", "empty")


def _key_adjust(col: str, prof) -> tuple[float, float | None, str | None]:
    """For the record-ID field: (penalty, floor score, reason).  A column whose values are unique and
    whose name says 流水号/编号/ID is a business key even when its name is unlike the field's
    (就诊流水号 JZLSH for 复诊记录ID); a column with many repeated values is not one."""
    if prof is None or prof.n < 2:
        return 0.0, None, None
    filled = prof.n - prof.nulls
    unique = filled / prof.n >= 0.99 and prof.distinct >= 0.98 * filled
    if filled and prof.distinct < 0.9 * filled:
        return -15.0, None, f"列值有重复（{prof.distinct} 个不同值 / {filled} 行），不像每条记录唯一的业务主键"
    name = _norm(col.rsplit(".", 1)[-1])
    if not unique or prof.kind in _NOT_ID_KINDS or not (_ID_NAME.search(name) or _ID_NAME_ZH.search(col)):
        return 0.0, None, None
    serial = "lsh" in name or "liushuihao" in name or "流水号" in col
    what = "流水号" if serial else "编号/ID"
    return 0.0, (90.0 if serial else 84.0), f"列值每行唯一、列名像{what}：可作业务主键"


_CONFIDENT = 75.0  # a candidate at or above this score is drafted without a second look


_NAME_EVIDENCE = 60.0  # the column name's own score a confident value-based candidate needs


_STRONG_FIT = 10.0  # value fits below this (bare codes 1/2, 是/否) are weak evidence


def _code_set_of(dataset, f):
    """The field's code set, when the data set knows its spec (a bare Dataset may not)."""
    if not f.code_set:
        return None
    try:
        return dataset.spec.code_set(f.code_set)
    except SpecError:  # a code set the spec lacks, or a Dataset built without its spec
        return None


def _distinct_values_of(source):
    """column → its distinct values (or None), computed once per column, for DataFrame sources."""
    memo: dict = {}

    def values_of(col):
        if not isinstance(source, pd.DataFrame):
            return None
        if col not in memo:
            memo[col] = distinct_values(source[col].head(20000))
        return memo[col]

    return values_of


def suggest_fields(dataset, source, *, top: int = 5, min_score: float = 0.3) -> list[FieldSuggestion]:
    """Rank source columns for every field of a spec data set (指标对照建议).

    ``source`` is a DataFrame (its values are profiled), a :class:`hlwjr.sources._profile.Profile`, or a
    list of column names (names only).  Returns one FieldSuggestion per spec field (array fields
    included, usually without candidates), candidates best first with score 0–1 and reasons.
    """
    from rapidfuzz import fuzz

    profiles, columns = _profile_of(source)
    col_vars = {c: _column_variants(c) for c in columns}
    values_of = _distinct_values_of(source)
    id_fields = _record_id_fields(dataset)
    out = []
    for f in dataset.fields.values():
        fv = dict(_field_variants(f))
        weak = fv.pop("__weak__")
        concept_spellings = {_norm(sp) for _c, sps in _concepts(f) for sp in sps}
        role = (
            "patient"
            if f.key.lower().startswith("patient")
            else "auditdoctor"
            if f.key.lower().startswith("audit")
            else "doctor"
            if f.key.lower().startswith("doctor")
            else None
        )
        person = _field_role(f)
        code_set = _code_set_of(dataset, f)
        cands = []
        for col in columns:
            best, why = 0.0, []
            for cv, prefix in col_vars[col]:
                if not cv:
                    continue
                if cv in fv:
                    s, w = (92.0 if cv in weak else 100.0), [f"列名即{fv[cv]} {cv.upper()}"]
                else:
                    s, match = 0.0, None
                    for variant in fv:
                        r = fuzz.ratio(cv, variant)
                        if r > s:
                            s, match = r, variant
                    w = [f"列名接近{fv.get(match, '')} {(match or '').upper()}（{s:.0f}%）"]
                    s *= 0.9
                    if len(cv) >= 4:  # HIS columns often drop a leading word: QSSJ ⊂ PSQSSJ (配送签收时间)
                        for variant in fv:
                            if len(variant) > len(cv) and variant.endswith(cv) and not variant.startswith(cv):
                                sub = 80 + 10 * len(cv) / len(variant)
                                dropped = variant[: len(variant) - len(cv)]
                                other = _OTHER_PERSON.match(dropped)
                                if other:  # 监护人身份证号 ⊃ 身份证号: the bare column is usually the patient's
                                    sub -= 12
                                if sub > s:
                                    s, w = (
                                        sub,
                                        [
                                            f"列名是{fv[variant]} {variant.upper()} 的后半部分"
                                            + (f"（省去的 {dropped.upper()} 指另一个人，可能不对应）" if other else "")
                                        ],
                                    )
                if prefix is not None:
                    if role and prefix in _PREFIX_HINTS.get(role, ()):
                        s += 6
                        w.append(f"关联表前缀 {prefix} 与字段角色相符")
                    elif role or any(prefix in hints for hints in _PREFIX_HINTS.values()):
                        s -= 10
                        w.append(f"关联表前缀 {prefix} 与字段角色不符")
                elif (
                    role in ("doctor", "auditdoctor")
                    and cv in concept_spellings
                    and any(cv in {_norm(x) for x in sps} for c_, _k, _t, sps in SYNONYMS if c_.startswith("patient"))
                ):
                    s -= 10
                if s > best:
                    best, why = s, w
            prof = profiles.get(col) if profiles else None
            adj, reason = _shape_adjust(f, prof)
            fit, fit_reason = fit_adjust(code_set, values_of(col)) if code_set is not None else (0.0, None)
            penalty, conflict = _role_conflict(person, col)
            raw = best + adj + fit + penalty
            if fit > 0 and (best < _NAME_EVIDENCE or fit < _STRONG_FIT):
                raw = min(raw, max(raw - fit, _CONFIDENT - 1))  # values raise the rank, not to "confident"
            if f.key in id_fields:
                key_penalty, floor, key_reason = _key_adjust(col, prof)
                raw += key_penalty
                if floor is not None and raw < floor:
                    raw, why = floor, [key_reason]
                elif key_reason:
                    why = why + [key_reason]
            score = max(0.0, min(100.0, raw)) / 100.0
            if reason:
                why = why + [reason]
            if fit_reason:
                why = why + [fit_reason]
            if conflict:
                why = why + [conflict]
            if score >= min_score:
                cands.append((raw, Candidate(col, score, why)))
        cands.sort(key=lambda rc: (-rc[0], columns.index(rc[1].column)))
        cands = [c for _raw, c in cands]
        out.append(FieldSuggestion(f.key, f.name, f.type, f.required, cands[:top], f.code_set))
    return out


# time fields that are not when the business happened (更新、出生、结束、拒绝、退费、有效期…)
_NOT_BUSINESS_TIME = re.compile(r"更新|修改|出生|结束|终止|止$|拒绝|取消|退|有效期|反馈|签收|截止|发证|批准")


def suggest_business_time(dataset, suggestions, source, *, min_score: float = 0.75) -> dict | None:
    """The column giving a record's business day (业务时间, for ``upload --date``): the column of the
    data set's event-time field — 申请时间、处方日期、就诊日期、支付时间… (a field whose name shares a
    word with the data set's name first, e.g. 处方日期 for 在线处方), when that column's values are
    dates or date-times.  ``{"column", "format", "field", "reason"}`` or None (master data, no such
    column)."""
    profiles, _columns = _profile_of(source)
    by_field = {s.field: s for s in suggestions}
    picks = []
    for i, f in enumerate(dataset.fields.values()):
        s = by_field.get(f.key)
        if f.type not in ("date", "datetime") or _NOT_BUSINESS_TIME.search(f.name) or s is None or s.best is None:
            continue
        best = s.best
        prof = profiles.get(best.column) if profiles else None
        if best.score < min_score or prof is None or prof.kind not in ("date", "datetime") or prof.null_share > 0.05:
            continue
        own = any(ch in f.name for ch in _name_words(dataset.name))
        picks.append((not own, i, f, best, prof))
    if not picks:
        return None
    _own, _i, f, best, prof = min(picks, key=lambda p: (p[0], p[1]))
    formats = sorted(prof.date_formats, key=prof.date_formats.get, reverse=True) if prof.date_formats else []
    return {
        "column": best.column,
        "format": " | ".join(formats) if len(formats) > 1 else prof.date_format,
        "field": f.key,
        "reason": f"业务时间取 {f.name}（{f.key}）的列 {best.column}（值为日期时间，格式 {prof.date_format}）",
    }


def _name_words(name: str) -> list[str]:
    """Two-character words of a data set name without the generic 在线/互联网 (在线处方 → 处方)."""
    core = re.sub(r"^(在线|互联网|网上)", "", name)
    return [core[i : i + 2] for i in range(len(core) - 1)]


#: a column named exactly like two fields may feed both (the spec then carries one value twice)
_EXACT = 0.99


def assign_columns(suggestions: list[FieldSuggestion], *, min_score: float = 0.75) -> dict[str, Candidate]:
    """The draft as an *assignment* (字段与源列一一对应): ``{field: candidate}`` where one source
    column feeds one field — the best-scoring pair first; a field whose good candidates are all
    taken by better matches is left open rather than given a weak or shared guess. Only a
    column matching two fields exactly (score ≥ 0.99 for both) may feed both."""
    pairs = [
        (c.score, i, s.field, c)
        for i, s in enumerate(suggestions)
        if s.type != "array"
        for c in s.candidates
        if c.score >= min_score
    ]
    pairs.sort(key=lambda p: (-p[0], p[1]))
    chosen: dict[str, Candidate] = {}
    used: dict[str, float] = {}  # column → the score of the field that took it
    for score, _i, fld, cand in pairs:
        if fld in chosen:
            continue
        taken = used.get(cand.column)
        if taken is not None and not (taken >= _EXACT and score >= _EXACT):
            continue
        chosen[fld] = cand
        used[cand.column] = max(score, taken or 0.0)
    return chosen


def suggest_dataset_mapping(dataset, source, *, table: str | None = None, min_score: float = 0.75):
    """A :class:`hlwjr.mapping._engine.DatasetMapping` filled with the best suggestion per field
    (status ``suggested``)."""
    from ._model import DatasetMapping, FieldRule, SourceRef

    dm = DatasetMapping(dataset=dataset.code, source=SourceRef(table=table or "TABLE"))
    for fld, b in assign_columns(suggest_fields(dataset, source), min_score=min_score).items():
        dm.fields[fld] = FieldRule(field=fld, column=b.column, score=round(b.score, 3), comment="; ".join(b.reasons))
    return dm


def top1_accuracy(suggestions: list[FieldSuggestion], truth: dict[str, str]) -> tuple[float, list[str]]:
    """Share of fields in ``truth`` (field → true column) whose best candidate is the true column,
    and the list of misses ("field: got X, want Y")."""
    by_field = {s.field: s for s in suggestions}
    misses = []
    hit = 0
    for f, col in truth.items():
        best = by_field[f].best if f in by_field else None
        if best is not None and best.column == col:
            hit += 1
        else:
            misses.append(f"{f}: got {best.column if best else None}, want {col}")
    return (hit / len(truth) if truth else 1.0), misses
