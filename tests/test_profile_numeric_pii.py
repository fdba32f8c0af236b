"""profile: phone and ID numbers exported as numbers (13812345678.0, 1.10101198001E17) are masked
in the min/max columns too, not only in the top values."""

from __future__ import annotations

import re

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from hlwjr.sources._profile import profile_frame

_FULL = re.compile(r"(?<!\d)(1[3-9]\d{9}|\d{17}[\dXx])(?!\d)")


@settings(max_examples=40, deadline=None)
@given(
    phones=st.lists(st.integers(13_000_000_000, 19_999_999_999), min_size=1, max_size=8),
    style=st.sampled_from(["{}.0", " {}", "{}", "{}.00"]),
    name=st.sampled_from(["联系电话", "mobile", "金额", "x"]),
)
def test_numeric_phones_are_masked_in_min_and_max(phones, style, name):
    df = pd.DataFrame({name: [style.format(p) for p in phones]}, dtype="str")
    col = profile_frame(df, min_count=1).columns[0]
    shown = " ".join(str(v) for v in (col.min, col.max, *[v for v, _ in col.top_values]))
    assert not _FULL.search(shown), shown


def test_numeric_id_numbers_are_masked_in_min_and_max():
    df = pd.DataFrame({"身份证号": ["110101198001010011", "110101199002020022"]}, dtype="str")
    col = profile_frame(df, min_count=1).columns[0]
    assert not _FULL.search(f"{col.min} {col.max}"), (col.min, col.max)
