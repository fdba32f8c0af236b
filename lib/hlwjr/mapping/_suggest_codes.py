"""Code suggestions (值域对照建议): each local value of a column → the standard code it stands for
(男/M/1 → 1), with a score and the reason, as a draft code map.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from .._memo import derived
from .._privacy import to_halfwidth
from ._vocabulary import _norm

# ---- code suggestions ---------------------------------------------------------------------------

_CODE_SYNONYMS: dict[str, tuple[str, ...]] = {
    # GB/T 2261.1 sex
    "男": ("m", "male", "man", "男", "男性", "nan"),
    "女": ("f", "female", "woman", "女", "女性", "nv"),
    "未知": ("u", "unknown", "未知", "不详", "x"),
    "未说明": ("未说明", "other"),
    # yes / no
    "是": ("y", "yes", "true", "是", "t", "有"),
    "否": ("n", "no", "false", "否", "f", "无"),
    # payment channels
    "微信": ("wx", "wechat", "weixin", "微信支付"),
    "支付宝": ("zfb", "alipay", "支付宝"),
    "银联": ("yl", "unionpay", "银行卡"),
    # consultation modes
    "图文": ("tw", "text", "图文咨询"),
    "语音": ("yy", "voice", "电话", "语音咨询"),
    "视频": ("sp", "video", "视频咨询"),
    "自费": ("zf", "self", "自费"),
    "医保": ("yb", "insurance", "医保"),
    "口服": ("po", "oral"),
    "吸入": ("xr", "inh"),
    "局部": ("wy", "外用", "topical"),
    "滴眼": ("dy",),
    "通过": ("tg", "pass", "approved"),
    "不通过": ("btg", "reject", "fail"),
}


def _local_frame(local_values) -> pd.DataFrame:
    """local / local_name / count of the local values to map. A missing local value (None, NaN) is
    not a code: it is left out for every input kind, as for a Series (it would otherwise read as the
    text "nan" — the pinyin of 男). Values keep their type (1 stays 1, never 1.0)."""
    if isinstance(local_values, pd.DataFrame):
        df = local_values.copy()
        if "local" not in df.columns:
            df = df.rename(columns={df.columns[0]: "local"})
        if "count" not in df.columns:
            df["count"] = None
        if "local_name" not in df.columns:
            df["local_name"] = None
        df = df[["local", "local_name", "count"]]
    elif isinstance(local_values, pd.Series):
        vc = local_values.dropna().astype("str").str.strip().value_counts()
        return pd.DataFrame({"local": vc.index, "local_name": None, "count": vc.to_numpy()})
    elif isinstance(local_values, dict):
        df = pd.DataFrame(
            {
                "local": pd.Series(list(local_values), dtype=object),
                "local_name": None,
                "count": pd.Series(list(local_values.values()), dtype=object),
            }
        )
    else:
        df = pd.DataFrame({"local": pd.Series(list(local_values), dtype=object), "local_name": None, "count": None})
    return df[df["local"].notna().to_numpy()].reset_index(drop=True)


def suggest_codes(code_set, local_values, *, min_score: float = 0.5) -> pd.DataFrame:
    """Propose a standard code for every local value (值域对照建议).

    ``local_values``: a Series of raw values (counted here), a dict value → count, or a DataFrame
    with ``local`` (and optionally ``local_name``, ``count``).  Returns a DataFrame with columns
    local, local_name, count, code, name, score, reason, status (always ``suggested``; ``code`` is
    empty when nothing scores ≥ ``min_score``).

    The code set is indexed once (:class:`_CodeIndex`), so a value costs a few dict lookups and
    one vectorised name comparison, not a pass over every code: a local diagnosis against the
    33,000 codes of an ICD-10 edition takes milliseconds.
    """
    index = _CodeIndex.of(code_set)
    rows = []
    for local, local_name, count in _local_frame(local_values).itertuples(index=False):
        score, i, why, _ = max(_candidates(index, local, local_name), default=(0.0, None, "", 0), key=_rank)
        ok = score >= min_score and i is not None
        code = index.codes[i] if ok else None
        rows.append(
            {
                "local": local,
                "local_name": local_name,
                "count": count,
                "code": code,
                "name": index.names[i] if ok else None,
                "score": round(score, 3),
                "reason": why if ok else "没有可信的建议，请人工对照",
                "status": "suggested",
            }
        )
    return pd.DataFrame(rows, columns=["local", "local_name", "count", "code", "name", "score", "reason", "status"])


def code_shortlist(code_set, text, *, limit: int = 12) -> list[str]:
    """Codes of ``code_set`` to offer for ``text`` (a local value, or a code or name someone typed):
    the code itself or the code of that very name, codes that start with it (J06 → J06.900), then
    the names most like it — what an editor lists when the whole code set is too long to show."""
    index = _CodeIndex.of(code_set)
    t = _norm(to_halfwidth(str(text)).strip())
    if not t or not index.codes:
        return []
    same = index.by_norm_code.get(t, []) + index.by_clean_name.get(t, [])
    starting = [i for i, c in enumerate(index.norm_codes) if c.startswith(t)][:limit]
    similar = []
    if not t.isascii() or not (same or starting):  # a code typed (J06): its own matches, not look-alike names
        found = process.extract(t, index.clean, scorer=fuzz.WRatio, limit=limit, score_cutoff=_SHORTLIST_SCORE)
        similar = [i for _, _, i in found]
    return [index.codes[i] for i in dict.fromkeys(same + starting + similar)][:limit]


_SHORTLIST_SCORE = 60  # rapidfuzz WRatio below this is no likeness worth offering


def _rank(candidate) -> tuple:
    """The best candidate: the highest score; on a tie the code listed first in the code set, then
    the reason that comes first for that code (the order :func:`_candidates` documents)."""
    score, i, _why, order = candidate
    return (score, -i, -order)


class _CodeIndex:
    """A code set prepared for :func:`suggest_codes` (built once per code set)."""

    def __init__(self, code_set) -> None:
        self.codes = list(code_set.codes)
        self.names = [code_set.codes[c] for c in self.codes]
        self.clean = [_norm(n) for n in self.names]
        self.position = {c: i for i, c in enumerate(self.codes)}
        self.norm_codes = [_norm(c) for c in self.codes]
        self.by_norm_code = _positions(self.norm_codes)
        self.by_clean_name = _positions(self.clean)
        self.zero_padded = _positions(c.lstrip("0") if c.isdigit() and c.startswith("0") else None for c in self.codes)
        self.with_key = {key: [i for i, n in enumerate(self.names) if key in n] for key in _CODE_SYNONYMS}

    @classmethod
    def of(cls, code_set) -> _CodeIndex:
        return derived(code_set, cls)


def _positions(keys) -> dict:
    out: dict = {}
    for i, k in enumerate(keys):
        if k is not None:
            out.setdefault(k, []).append(i)
    return out


def _candidates(index: _CodeIndex, local, local_name):
    """(score, code position, reason, order) of every code that could stand for ``local``. The
    order of the reasons for one code: the code written differently (full-width, leading zero lost,
    read as a decimal), the same code, the same name, a common way of writing it, a similar name."""
    lv = _norm(local)
    ln = _norm(local_name) if isinstance(local_name, str) else ""
    yield from _written_differently(index, local)
    for i in index.by_norm_code.get(lv, ()):
        yield (1.0 if not ln or fuzz.partial_ratio(ln, index.clean[i]) > 60 else 0.8, i, "本地值与标准代码相同", 3)
    for text in {lv, ln} - {""}:
        for i in index.by_clean_name.get(text, ()):
            yield 0.98, i, "与代码名称一致", 4
    for order, (key, syns) in enumerate(_CODE_SYNONYMS.items(), start=5):
        if lv in syns or (ln and ln in syns) or lv == _norm(key) or ln == _norm(key):
            for i in index.with_key[key]:  # 不通过 contains 通过: prefer the longer key
                yield 0.9 + 0.005 * len(key), i, f"常见写法 {local} = {key}", order
    for order, text in enumerate((lv, ln), start=1000):
        if text and re.search(r"[\u4e00-\u9fff]", text):
            yield from _similar_name(index, text, order)


def _similar_name(index: _CodeIndex, text: str, order: int):
    """The code whose name is most like ``text`` (a name inside the other counts as close)."""
    if not index.clean:
        return
    r = process.cdist([text], index.clean, scorer=fuzz.ratio, dtype=np.float64, workers=1)[0] / 100
    for i in _containing(index, text):
        n = index.clean[i]
        r[i] = max(r[i], 0.75 + 0.2 * min(len(text), len(n)) / max(len(text), len(n)))
    i = int(np.argmax(r))  # the first of the best: the code listed first
    if r[i] > 0:
        yield float(r[i]) * 0.9, i, f"名称相似 {float(r[i]):.0%}", order


def _containing(index: _CodeIndex, text: str) -> set[int]:
    """Codes whose (normalised) name contains ``text`` or is contained in it."""
    inside = {text[a:b] for a in range(len(text) + 1) for b in range(a, len(text) + 1)}
    found = {i for part in inside for i in index.by_clean_name.get(part, ())}
    return found | {i for i, n in enumerate(index.clean) if text in n}


def _written_differently(index: _CodeIndex, local):
    """The standard code written the way exports spoil it: full-width or padded (０１, " 01"), its
    leading zero lost (1 for 01, Excel stores codes as numbers), or read as a decimal (1.0 for 1)."""
    raw = str(local)
    t = to_halfwidth(raw).strip()
    found = []
    i = index.position.get(t)
    if i is not None and raw != t:
        found.append((0.95, i, f"去掉空格/全角后即标准代码 {t}", 0))
    if t.isdigit():
        for i in index.zero_padded.get(t.lstrip("0"), ()):
            if len(index.codes[i]) > len(t):
                found.append(
                    (0.85, i, f"疑似丢失了前导零，应为 {index.codes[i]}（Excel 把代码当数字存储时会去掉前导零）", 1)
                )
    if re.fullmatch(r"\d+\.0+", t) and (i := index.position.get(t.split(".")[0])) is not None:
        found.append((0.85, i, f"疑似数字被读成了小数，应为 {index.codes[i]}", 2))
    return found


def suggest_code_map(name: str, code_set, local_values, **kw):
    """A :class:`hlwjr.mapping._engine.CodeMap` from :func:`suggest_codes` (entries ``suggested``)."""
    from ._codemaps import CODE_MAP_COLUMNS, CodeMap

    s = suggest_codes(code_set, local_values, **kw)
    entries = pd.DataFrame(
        {
            "local": s["local"].astype("str"),
            "local_name": s["local_name"],
            "code": s["code"],
            "name": s["name"],
            "status": "suggested",
            "comment": s["reason"],
        }
    )[CODE_MAP_COLUMNS]
    return CodeMap(name=name, entries=entries, code_set=code_set.id)
