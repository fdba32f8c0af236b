"""Do a column's values fit a field's code set (值域)? The strongest evidence for a coded field: a
column 复诊方式 holding 图文/视频 is the 复诊类别 (1 图文 2 语音 3 视频) whatever its name says, and a
column of diagnoses (高血压) is no 支付渠道 however close the pinyin initials come."""

from __future__ import annotations

import pandas as pd

from .._privacy import to_halfwidth
from ._suggest_codes import suggest_codes

__all__ = ["distinct_values", "fit_adjust", "value_fit"]

_MAX_DISTINCT = 50  # more distinct values than this: not a coded column, no judgement
_SPECIFIC = 3  # code sets with fewer codes (是/否, 男/女) fit many columns: weak evidence
_LARGE = 100  # code sets with more codes are not judged by values


def distinct_values(values: pd.Series) -> list[str] | None:
    """The column's distinct non-blank values as text, or None when there are too many to be codes."""
    text = values.dropna().astype(str).str.strip()
    uniq = text[text != ""].unique()
    return None if len(uniq) == 0 or len(uniq) > _MAX_DISTINCT else [str(v) for v in uniq]


_NAME_SCORE = 0.75  # a code suggestion at least this sure counts as "the value names that code"


def value_fit(code_set, values: list[str]) -> tuple[float, float, list[str]]:
    """(share of ``values`` that are a code of ``code_set`` as written, share that name one of its
    codes, examples ``local→code``). What a local value stands for is :func:`suggest_codes`'s
    decision (synonyms, abbreviations, similar names), asked once per column and code set."""
    codes = set(code_set.codes)
    as_code = [v for v in values if to_halfwidth(v).strip() in codes]
    rest = [v for v in values if v not in as_code]
    named = []
    if rest:
        s = suggest_codes(code_set, pd.Series(rest), min_score=_NAME_SCORE)
        named = [(v, c) for v, c in zip(s["local"], s["code"]) if isinstance(c, str) and c]
    examples = [f"{v}→{to_halfwidth(v).strip()}" for v in as_code] + [f"{v}→{c}" for v, c in named]
    return len(as_code) / len(values), len(named) / len(values), examples[:3]


def fit_adjust(code_set, values: list[str] | None) -> tuple[float, str | None]:
    """Score points (of 100) for a candidate column of a coded field, and the reason shown.

    Names are strong evidence (图文、视频 are 复诊类别 names), bare codes weak (01、1、2 are codes of
    many code sets); local codes that fit nothing are what code maps are for, so only a column
    with far more distinct values than the code set has codes is marked down. Large code sets
    (ICD-10: thousands of names) match any free text and are not judged."""
    if code_set is None or values is None or not code_set.codes or len(code_set.codes) > _LARGE:
        return 0.0, None
    if len(values) > max(2 * len(code_set.codes), 10):
        return -8.0, f"列值种类（{len(values)} 种）远多于值域 {code_set.name} 的代码数（{len(code_set.codes)}）"
    by_code, by_name, examples = value_fit(code_set, values)
    if by_code + by_name < 0.5:
        return 0.0, None
    weight = 20.0 if len(code_set.codes) >= _SPECIFIC else 6.0
    points = weight * by_name + 4.0 * by_code
    most = "都" if by_code + by_name == 1 else "大多"
    return points, f"列值{most}是值域 {code_set.name} 的{'名称' if by_name else '代码'}（{'，'.join(examples)}）"
