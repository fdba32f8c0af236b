"""Do a column's values fit a field's code set (值域)? The strongest evidence for a coded field: a
column 复诊方式 holding 图文/视频 is the 复诊类别 (1 图文 2 语音 3 视频) whatever its name says, and a
column of diagnoses (高血压) is no 支付渠道 however close the pinyin initials come."""

from __future__ import annotations

import pandas as pd

from .._privacy import to_halfwidth

__all__ = ["distinct_values", "fit_adjust", "value_fit"]

_MAX_DISTINCT = 50  # more distinct values than this: not a coded column, no judgement
_SPECIFIC = 3  # code sets with fewer codes (是/否, 男/女) fit many columns: weak evidence
_LARGE = 100  # code sets with more codes are not judged by values


def distinct_values(values: pd.Series) -> list[str] | None:
    """The column's distinct non-blank values as text, or None when there are too many to be codes."""
    text = values.dropna().astype(str).str.strip()
    uniq = text[text != ""].unique()
    return None if len(uniq) == 0 or len(uniq) > _MAX_DISTINCT else [str(v) for v in uniq]


def _fits(value: str, codes: dict[str, str]) -> tuple[str, bool] | None:
    """(the code ``value`` stands for, whether by its name): itself, its name, or a name it
    abbreviates (男 → 男性)."""
    v = to_halfwidth(value).strip()
    if v in codes:
        return v, False
    for code, name in codes.items():
        if name and (v == name or name.startswith(v) or (len(name) >= 2 and v.startswith(name))):
            return code, True
    return None


def value_fit(code_set, values: list[str]) -> tuple[float, float, list[str]]:
    """(share of ``values`` that are a code of ``code_set``, share that are one of its names,
    examples ``local→code``)."""
    codes = dict(code_set.codes)
    hits = [(v, hit) for v in values if (hit := _fits(v, codes)) is not None]
    by_name = sum(1 for _v, (_c, named) in hits if named)
    return (len(hits) - by_name) / len(values), by_name / len(values), [f"{v}→{c}" for v, (c, _n) in hits[:3]]


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
