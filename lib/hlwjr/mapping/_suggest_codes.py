"""Code suggestions (值域对照建议): each local value of a column → the standard code it stands for
(男/M/1 → 1), with a score and the reason, as a draft code map.
"""

from __future__ import annotations

import re

import pandas as pd

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
    """
    from rapidfuzz import fuzz

    df = _local_frame(local_values)
    codes = dict(code_set.codes)
    rows = []
    for local, local_name, count in df.itertuples(index=False):
        lv = _norm(local)
        ln = _norm(local_name) if isinstance(local_name, str) else ""
        best = (0.0, None, "")
        for code, name in codes.items():
            cn = _norm(name)
            cands = _written_differently(local, code)
            if lv == _norm(code):
                cands.append((1.0 if not ln or fuzz.partial_ratio(ln, cn) > 60 else 0.8, "本地值与标准代码相同"))
            if (lv and lv == cn) or (ln and ln == cn):
                cands.append((0.98, "与代码名称一致"))
            for key, syns in _CODE_SYNONYMS.items():
                if key in name and (lv in syns or (ln and ln in syns) or lv == _norm(key) or ln == _norm(key)):
                    # 不通过 contains 通过: prefer the longer key
                    cands.append((0.9 + 0.005 * len(key), f"常见写法 {local} = {key}"))
            for text in (lv, ln):
                if text and re.search(r"[\u4e00-\u9fff]", text):
                    r = fuzz.ratio(text, cn) / 100
                    if text in cn or cn in text:
                        r = max(r, 0.75 + 0.2 * min(len(text), len(cn)) / max(len(text), len(cn)))
                    cands.append((r * 0.9, f"名称相似 {r:.0%}"))
            for s, why in cands:
                if s > best[0]:
                    best = (s, code, why)
        score, code, why = best
        ok = score >= min_score
        rows.append(
            {
                "local": local,
                "local_name": local_name,
                "count": count,
                "code": code if ok else None,
                "name": codes.get(code) if ok else None,
                "score": round(score, 3),
                "reason": why if ok else "没有可信的建议，请人工对照",
                "status": "suggested",
            }
        )
    return pd.DataFrame(rows, columns=["local", "local_name", "count", "code", "name", "score", "reason", "status"])


def _written_differently(local, code: str) -> list[tuple[float, str]]:
    """The standard code written the way exports spoil it: full-width or padded (０１, " 01"), its
    leading zero lost (1 for 01, Excel stores codes as numbers), or read as a decimal (1.0 for 1)."""

    raw = str(local)
    t = to_halfwidth(raw).strip()
    out = []
    if t == code and raw != code:
        out.append((0.95, f"去掉空格/全角后即标准代码 {code}"))
    if (
        t.isdigit()
        and code.isdigit()
        and len(code) > len(t)
        and code.startswith("0")
        and code.lstrip("0") == t.lstrip("0")
    ):
        out.append((0.85, f"疑似丢失了前导零，应为 {code}（Excel 把代码当数字存储时会去掉前导零）"))
    if re.fullmatch(r"\d+\.0+", t) and t.split(".")[0] == code:
        out.append((0.85, f"疑似数字被读成了小数，应为 {code}"))
    return out


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
