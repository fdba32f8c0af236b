"""The hint for a value outside a code set, from the code set's index, is what scanning every code
said (the scan is kept here as the oracle): a valid code behind spaces or full-width digits, a name
instead of its code, lost leading zeros, a code read as a decimal, the start of one name."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from hlwjr._privacy import to_halfwidth
from hlwjr.spec._model import CodeSet
from hlwjr.validation._hints import code_set_hint, str_hint


def _scanning_every_code(cs, v: str) -> str:
    t = to_halfwidth(v).strip()
    if t in cs.codes:
        return f"；去掉空格/全角后为有效代码 {t}" + str_hint(v)
    by_name = {n: c for c, n in cs.codes.items()}
    if t in by_name:
        return f"；这是名称，应填代码 {by_name[t]}"
    lost = [
        c for c in cs.codes if len(c) > len(t) and c.isdigit() and c.startswith("0") and c.lstrip("0") == t.lstrip("0")
    ]
    if t.isdigit() and lost:
        return (
            f"；疑似丢失了前导零，应为代码 {lost[0]}（Excel 把代码当数字存储时会去掉前导零，"
            "请把该列设为文本，或按文本导出）"
        )
    if re.fullmatch(r"\d+\.0+", t) and t.split(".")[0] in cs.codes:
        return f"；疑似数字被读成了小数，应为代码 {t.split('.')[0]}：请按文本读取/导出该列"
    if t and len(like := [c for c, n in cs.codes.items() if n and n.startswith(t)]) == 1:
        return f"；疑似名称“{cs.codes[like[0]]}”，应填代码 {like[0]}"
    if len(cs.codes) <= 12:
        return "；可用代码：" + "，".join(f"{c} {n}" for c, n in cs.codes.items())
    return ""


_CODES = st.sampled_from(["01", "1", "001", "10", "02", "A09.900", "9", "03.01"]) | st.text("0129A.", max_size=4)
_NAMES = st.sampled_from(["", "高血压", "高血压2级", "男", "男性", "内科"]) | st.text("高血压男内科", max_size=4)
_FULL_WIDTH = str.maketrans("0123456789.", "０１２３４５６７８９．")


_SPOILED = st.one_of(
    _CODES,
    _NAMES,
    _CODES.map(lambda c: f" {c}"),
    _CODES.map(lambda c: c.lstrip("0")),
    _CODES.map(lambda c: c + ".00"),
    _NAMES.map(lambda n: n[:1]),
    _CODES.map(lambda c: c.translate(_FULL_WIDTH)),
)


@settings(max_examples=300, deadline=None)
@given(codes=st.dictionaries(_CODES, _NAMES, max_size=20), value=_SPOILED)
def test_the_indexed_hint_is_what_scanning_every_code_said(codes, value):
    cs = CodeSet(id="t", name="测试", codes=codes)
    assert code_set_hint(cs, value) == _scanning_every_code(cs, value)
    assert code_set_hint(cs, value) == _scanning_every_code(cs, value)  # remembered: the same
