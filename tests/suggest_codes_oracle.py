"""The row-by-row ``suggest_codes`` as it was before the code-set index (2026-12-07): every
local value compared with every code in Python. Kept as the oracle the indexed implementation is
compared with (tests/test_suggest_codes_index.py)."""

from __future__ import annotations

import re

import pandas as pd

from hlwjr._privacy import to_halfwidth
from hlwjr.mapping._suggest_codes import _CODE_SYNONYMS, _local_frame
from hlwjr.mapping._vocabulary import _norm


def suggest_codes_row_by_row(code_set, local_values, *, min_score: float = 0.5) -> pd.DataFrame:
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
