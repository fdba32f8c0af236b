"""Profiling (数据源探查): types, kinds, rare values hidden, everything identifying masked."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hlwjr
from hlwjr.sources._profile import guess_kind, profile_frame


def _ids(n):
    from hlwjr._privacy import id_check_char

    out = []
    for i in range(n):
        body = f"11010119{80 + i % 20:02d}0101{i % 1000:03d}"
        out.append(body + id_check_char(body))
    return out


@pytest.fixture
def frame():
    n = 40
    return pd.DataFrame(
        {
            "SFZH": _ids(n),
            "LXDH": [f"1990000{i:04d}" for i in range(n)],
            "BRXM": [
                f"{'张李王赵刘陈杨黄吴周'[i % 10]}试{'明华强军平芳娜敏静丽'[i // 10 % 10]}{'一二三四'[i % 4]}"
                for i in range(n)
            ],
            "XB": ["M"] * 20 + ["F"] * 18 + ["X", "U"],
            "CSRQ": ["19800101"] * 39 + ["19900230"],
            "SQSJ": [f"2026-11-01 09:{i:02d}:00" for i in range(n)],
            "JE": [f"{i}.50" for i in range(n)],
            "TS": [str(i % 7) for i in range(n)],
            "BZ": [None] * n,
        },
        dtype="str",
    )


def test_kinds_and_formats(frame):
    prof = profile_frame(frame)
    kinds = {c.column: c.kind for c in prof.columns}
    assert kinds == {
        "SFZH": "id_card",
        "LXDH": "mobile",
        "BRXM": "name",
        "XB": "code",
        "CSRQ": "date",
        "SQSJ": "datetime",
        "JE": "amount",
        "TS": "code",
        "BZ": "empty",
    }
    c = prof.column("CSRQ")
    assert c.date_format == "%Y%m%d" and c.invalid_dates == 1
    assert prof.column("SQSJ").date_format == "%Y-%m-%d %H:%M:%S"
    assert prof.column("JE").min == "0.5" and prof.column("JE").max == "39.5"
    assert prof.column("BZ").null_share == 1.0


def test_table_shows_percentages_and_impossible_dates(frame):
    table = profile_frame(frame).to_frame().set_index("列 column")
    assert table.loc["BZ", "空值率 nulls"] == "100%" and table.loc["SFZH", "空值率 nulls"] == "0%"
    assert table.loc["CSRQ", "日期格式 format"] == "%Y%m%d（1 个不是真实日期）"
    assert table.loc["SQSJ", "日期格式 format"] == "%Y-%m-%d %H:%M:%S"
    partly = profile_frame(pd.DataFrame({"A": ["1"] * 29 + [None] * 971}, dtype="str")).to_frame()
    assert partly["空值率 nulls"].tolist() == ["97.1%"]


def test_rare_values_hidden(frame):
    xb = profile_frame(frame).column("XB")
    assert [v for v, _ in xb.top_values] == ["M", "F"]
    assert xb.hidden_values == 2  # X and U seen once each
    assert xb.distinct == 4


def test_identifying_values_masked_everywhere(frame):
    prof = profile_frame(frame, min_count=1)
    text = prof.to_frame().to_string() + json.dumps(prof.to_dict(), ensure_ascii=False)
    for value in frame["SFZH"].tolist() + frame["LXDH"].tolist():
        assert value not in text
    assert not re.search(r"\d{17}[\dX]", text) and not re.search(r"1[3-9]\d{9}", text)
    names = prof.column("BRXM")
    assert all("*" in (v or "") for v, _ in names.top_values) and "*" in names.min


def test_guess_kind_small_cases():
    assert guess_kind(pd.Series([], dtype="str"))[0] == "empty"
    assert guess_kind(pd.Series(["20261101093000"] * 3))[2] == 1.0
    assert guess_kind(pd.Series(["2026/11/1"] * 3))[3] == "%Y/%m/%d"


def test_profile_source_from_csv(tmp_path, frame):
    p = tmp_path / "p.csv"
    frame.to_csv(p, index=False, encoding="gbk")
    prof = hlwjr.profile_source(p)
    assert prof.rows == 40 and "gbk" in prof.read_as
    assert prof.column("SFZH").kind_label == "身份证号"


def test_ids_in_a_mixed_column_are_masked_too():
    """证件号 column with 身份证号 and 护照号 mixed: not guessed as id_card, yet no full ID is shown."""
    ids = ["11010119800101001X"] * 6 + ["110101201501020028"] * 5 + [f"E{i:08d}" for i in range(9)]
    prof = profile_frame(pd.DataFrame({"ZJHM": ids}), min_count=5)
    col = prof.columns[0]
    assert col.kind != "id_card"
    text = json.dumps(prof.to_dict(), ensure_ascii=False) + prof.to_frame().to_string()
    assert "11010119800101001X" not in text and "110101201501020028" not in text
    assert ("110101********001X", 6) in col.top_values


# codes with a leading zero and person names in a column named in Chinese (another hospital's export)
_codes = st.lists(st.from_regex(r"0[0-9]{1,3}(\.[0-9]{2})?", fullmatch=True), min_size=1, max_size=30).filter(
    lambda xs: any(x[1].isdigit() for x in xs)
)


@settings(max_examples=40, deadline=None)
@given(codes=_codes)
def test_numbers_with_a_leading_zero_are_codes_kept_as_text(codes):
    profile = profile_frame(pd.DataFrame({"科室编码": codes * 5}))
    col = profile.columns[0]
    assert (col.dtype, col.kind) == ("string", "code")
    assert col.min == min(codes * 5) and col.max == max(codes * 5)  # 0101 stays 0101, not 101


@settings(max_examples=30, deadline=None)
@given(
    header=st.sampled_from(["病人姓名", "医师姓名", "患者名字", "就诊人", "姓名"]),
    names=st.lists(
        st.sampled_from(["张伟", "李娜", "王芳", "欧阳修远", "赵测试"]), min_size=1, max_size=3, unique=True
    ),
)
def test_a_few_distinct_names_are_masked_by_the_column_header(header, names):
    profile = profile_frame(pd.DataFrame({header: names * 10}))
    shown = " ".join(str(v) for v, _count in profile.columns[0].top_values) + str(profile.columns[0].min)
    for name in names:
        assert name not in shown
