"""GB 11643 公民身份号码 checks and masking (脱敏)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hlwjr._privacy import (
    check_id_number,
    id_birthdate,
    id_check_char,
    id_problem,
    id_sex,
    mask_series,
    mask_text,
    mask_value,
    to_halfwidth,
)


def make_id(area="110101", birth="19900307", seq="123"):
    body = area + birth + seq
    return body + id_check_char(body)


VALID = make_id()


def test_known_valid_numbers():
    # the GB 11643 standard's worked example and a public test number
    assert check_id_number("11010519491231002X")
    assert not check_id_number("440524188001010014")  # born 1880: not plausible
    assert check_id_number(VALID)


@pytest.mark.parametrize(
    "value, fragment",
    [
        (None, "为空"),
        ("", "应为18位"),
        ("11010519491231002", "应为18位"),
        ("11010519491231002x", "大写X"),
        ("110105194912310021", "校验位"),
        ("11010519490231002X", "出生日期"),  # 1949-02-31
        (" 11010519491231002X", "空格"),
        ("１１０１０５１９４９１２３１００２X", "全角"),
        ("1101051949123100AX", "格式错误"),
        ("110105491231002", "15位"),
        (make_id(birth="29990101"), "不合理"),
    ],
)
def test_invalid_numbers_say_why(value, fragment):
    problem = id_problem(value)
    assert problem is not None and fragment in problem
    assert not check_id_number(value)
    if value:
        assert str(value).strip()[:10] not in problem  # the number itself is never echoed


def test_fifteen_digit_numbers_on_request():
    assert check_id_number("110105491231002", allow_15=True)
    assert not check_id_number("110105491331002", allow_15=True)
    assert id_birthdate("110105491231002") == dt.date(1949, 12, 31)
    assert id_sex("110105491231002") == "2"


def test_birthdate_and_sex():
    assert id_birthdate(VALID) == dt.date(1990, 3, 7)
    assert id_sex(VALID) == "1"
    assert id_sex(make_id(seq="124")) == "2"
    assert id_birthdate("not an id") is None and id_sex(None) is None
    assert id_birthdate(to_halfwidth("１")) is None


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2020, 12, 31)), st.integers(0, 999))
@settings(max_examples=200, deadline=None)
def test_generated_numbers_roundtrip(birth, seq):
    number = make_id(birth=birth.strftime("%Y%m%d"), seq=f"{seq:03d}")
    assert check_id_number(number)
    assert id_birthdate(number) == birth
    assert id_sex(number) == ("1" if seq % 2 else "2")
    # any single-digit change in the first 17 digits breaks the check digit
    pos = seq % 17
    changed = number[:pos] + str((int(number[pos]) + 1) % 10) + number[pos + 1 :]
    assert id_check_char(changed[:17]) != number[17]


def test_mask_value_kinds():
    assert mask_value(VALID, "id") == "110101********" + VALID[-4:]
    assert mask_value("13812345678", "phone") == "138****5678"
    assert mask_value(13812345678, "phone") == "138****5678"
    assert mask_value("张三", "name") == "张*"
    assert mask_value("王小明", "name") == "王**"
    assert mask_value("欧阳娜娜", "name") == "欧阳**"
    assert mask_value("诸葛亮", "name") == "诸葛*"
    assert mask_value("E12345678", "id") == "E1*****78"
    assert mask_value(None) is None and mask_value(float("nan"), "id") is None
    with pytest.raises(ValueError):
        mask_value("x", "email")


def test_mask_guessing_hides_embedded_numbers():
    text = f"患者{VALID}，电话13812345678，床号12"
    masked = mask_value(text)
    assert VALID not in masked and "13812345678" not in masked
    assert "110101********" in masked and "138****5678" in masked and "床号12" in masked
    full = to_halfwidth("x") + "１３８１２３４５６７８"
    assert "１２３４" not in mask_text(full)[:8]
    assert mask_value("内科") == "内科"


def test_mask_series_matches_mask_value():
    values = [VALID, None, "E12345678", float("nan"), "１１０１０５１９４９１２３１００２X", "123"]
    for kind, extra in [
        ("id", []),
        ("phone", ["13812345678", "010-65123456"]),
        ("name", ["张三", "欧阳娜娜", "A", "Li Lei"]),
        (None, [f"x{VALID}", "内科"]),
    ]:
        series = pd.Series(values + extra, dtype=object)
        got = mask_series(series, kind).tolist()
        assert got == [mask_value(v, kind) for v in values + extra]
    assert mask_series(pd.Series([], dtype=object), "id").tolist() == []


def test_mask_key_masks_long_parts_only():
    from hlwjr._privacy import mask_key

    assert mask_key(None) is None
    assert mask_key("12110000MB0T12345N|110101199003077778|3") == "12110000MB0T12345N|110101********7778|3"
    assert mask_key("ORG\x1f13800138000", "\x1f") == "ORG|138****8000"


@pytest.mark.parametrize(
    "column, kind",
    [
        ("病人姓名", "name"),
        ("医师身份证", "id"),
        ("联系电话", "phone"),
        ("患者联系方式", "phone"),
        ("机构名称", "plain"),
    ],
)
def test_a_chinese_column_name_decides_like_a_field_name(column, kind):
    from hlwjr._privacy import mask_kind

    assert mask_kind(column) == kind == mask_kind("x", column)
