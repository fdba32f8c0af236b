"""Numbers inside free text (备注, 地址, 诊断说明, a gateway's error excerpt): landlines in their
usual forms, an ID or a mobile glued to another with no separator, a number glued to stray digits —
none shows in full, by any masking path; dates, times, amounts, timestamps and batch numbers with
their separators stay as they were written."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from test_privacy_messy import _FULLWIDTH, _digits, assert_hidden, disguised, id_numbers, phones

from hlwjr._privacy import _TIMESTAMP, mask_key, mask_series, mask_text, mask_value

AREAS = ["10", "20", "21", "22", "23", "24", "25", "27", "28", "29", "311", "371", "431", "512", "571", "755", "898"]
_TEMPLATES = ["{n}", "备注：{n}，请回电", "地址：北京市朝阳区某路1号 {n}", "网关返回：联系{n}核对。", "{n}/{n}"]


def _shown_by_every_path(text: str) -> list[str]:
    """``text`` as every masking path renders it: one value, a column (plain and vectorised), a key."""
    small, large = pd.Series([text] * 3), pd.Series([text] + ["内科", "1,234.56"] * 1050)  # large: vectorised
    return [mask_text(text), mask_value(text), mask_series(small)[0], mask_series(large)[0], mask_key(f"ORG|{text}")]


def _full_width(draw, text: str) -> str:
    return "".join(c.translate(_FULLWIDTH) if draw(st.booleans()) else c for c in text)


@st.composite
def landlines(draw) -> tuple[str, str]:
    """(the digits that must not show, a landline as people write it)."""
    area = draw(st.sampled_from(AREAS))
    size = 8 if len(area) == 2 else draw(st.sampled_from([7, 8]))
    local = str(draw(st.integers(10 ** (size - 1), 10**size - 1)))
    ext = str(draw(st.integers(1, 99999)))
    split = f"{local[:-4]}{draw(st.sampled_from(['', ' ', '-']))}{local[-4:]}"
    form = draw(
        st.sampled_from(
            [
                f"0{area}-{split}",
                f"(0{area}){split}",
                f"（0{area}）{split}",
                f"0{area} {split}",
                f"+86-{area}-{split}",
                f"+86 {area} {split}",
                f"0086-{area}-{local}",
                f"0{area}-{split}-{ext}",
                f"0{area}-{local}转{ext}",
            ]
        )
    )
    return area + local, _full_width(draw, form)


@st.composite
def local_numbers(draw) -> tuple[str, str]:
    """A local number without its area code, told apart by an extension or a word before it."""
    local = str(draw(st.integers(3 * 10**7, 10**8 - 1)))  # not 2…: 20261208-01 is a batch number
    form = draw(
        st.sampled_from([f"{local}-{draw(st.integers(1, 9999))}", f"电话：{local}", f"座机 {local[:4]}-{local[4:]}"])
    )
    return local, _full_width(draw, form)


@settings(max_examples=200, deadline=None)
@given(st.one_of(landlines(), local_numbers()), st.sampled_from(_TEMPLATES[:-1]))  # "{n}/{n}": 5678/5678
def test_a_landline_in_free_text_never_shows_in_full(pair, template):
    number, written = pair
    for shown in _shown_by_every_path(template.format(n=written)):
        assert_hidden(shown, number)


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("010-12345678", "010-****5678"),
        ("(010)12345678", "010-****5678"),
        ("0755-1234567", "0755-****567"),
        ("010 1234 5678", "010-****5678"),
        ("62345678-801", "****5678-801"),
        ("+86-10-12345678", "+86-10-****5678"),
        ("400-810-8888", "400-810-8888"),  # a service number is a company's
        ("95588", "95588"),
    ],
)
def test_landlines_keep_their_area_code_and_last_digits(written, shown):
    assert mask_text(f"家属电话 {written}，") == f"家属电话 {shown}，"


def test_a_phone_field_keeps_the_area_code_of_a_landline():
    assert mask_value("0755-1234567", "phone") == "0755-****567"
    assert mask_value("010-65123456", "phone") == mask_value("01065123456", "phone") == "010-****3456"
    assert mask_value("010-65123456-801", "phone") == "010-****3456-801"
    assert mask_value("13812345678", "phone") == "138****5678"
    column = pd.Series(["01065123456", "13812345678"] * 1100)
    assert mask_series(column, "phone").tolist()[:2] == ["010-****3456", "138****5678"]


numbers = st.one_of(id_numbers(), phones)


@settings(max_examples=300, deadline=None)
@given(numbers, numbers, st.sampled_from(_TEMPLATES))
def test_two_numbers_glued_are_both_masked(first, second, template):
    for shown in _shown_by_every_path(template.format(n=first + second)):
        assert_hidden(shown, first, second)


@settings(max_examples=200, deadline=None)
@given(st.data(), numbers, numbers)
def test_two_messy_numbers_glued_are_both_masked(data, first, second):
    """Separators inside each number, full-width digits, but none between the two."""
    a = data.draw(disguised(first)).lstrip("'\ufeff \u3000\u200b")
    b = data.draw(disguised(second)).lstrip("'\ufeff \u3000\u200b")
    for shown in _shown_by_every_path(f"备注：{a}{b}。"):
        assert_hidden(shown, first, second)


_STRAY = st.text("0123456789", min_size=1, max_size=7)


@settings(max_examples=300, deadline=None)
@given(numbers, _STRAY, _STRAY, st.sampled_from(["before", "after", "both"]))
def test_a_number_glued_to_stray_digits_is_masked(number, before, after, where):
    run = (before if where != "after" else "") + number + (after if where != "before" else "")
    assume(where != "both" or len(run) >= 19)  # inside a shorter run a number has no plausible split
    assume(not _TIMESTAMP.fullmatch(run))  # 20261213… read as a date and time first
    for shown in _shown_by_every_path(f"单号{run}，"):
        assert_hidden(shown, number)


_READABLE_FORMATS = [
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y年%m月%d日 %H时%M分",
    "%Y.%m.%d",
    "%Y-%m-%dT%H:%M:%S",
    "%H:%M-%H:%M",
    "%Y%m%d",
    "%Y%m%d%H%M%S",
    "%Y%m%d-01",  # a batch number
]


@st.composite
def readable(draw) -> str:
    """A date, a time, an amount or a batch number as a record writes it."""
    if draw(st.booleans()):
        moment = draw(st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2035, 12, 31)))
        return moment.strftime(draw(st.sampled_from(_READABLE_FORMATS)))
    amount = draw(st.decimals(0, 10**9, places=2, allow_nan=False, allow_infinity=False))
    return draw(st.sampled_from(["{:,.2f}", "¥{:,.2f}", "{:.2f}元", "{:,.0f} 元"])).format(amount)


@settings(max_examples=300, deadline=None)
@given(st.lists(readable(), min_size=1, max_size=5), st.sampled_from(["，", " 至 ", "、", "；"]))
def test_dates_times_and_amounts_stay_readable(parts, joint):
    text = "就诊 " + joint.join(parts) + " 结算"
    for shown in _shown_by_every_path(text)[:4]:
        assert shown == text


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2035, 12, 31)).map(lambda d: f"{d:%Y-%m-%d %H:%M:%S}"),
            st.dates(dt.date(1990, 1, 1), dt.date(2035, 12, 31)).map(str),
            st.decimals(0, 10**6, places=2, allow_nan=False, allow_infinity=False).map("{:,.2f}".format),
        ),
        min_size=2,
        max_size=6,
    ),
    st.sampled_from([" ", "\n", "  "]),
)
def test_dates_with_separators_stay_readable_line_after_line(parts, joint):
    """Whitespace joins digit groups, yet a date's groups are read as no mobile (1999-01-01 100.00);
    a compact date (19990101) next to digits is not protected: masking wins when in doubt."""
    text = joint.join(parts)
    for shown in _shown_by_every_path(text)[:4]:
        assert shown == text


def test_the_forms_once_over_masked_now_show():
    for text in ["订单号 202612081230451", "时间戳 20261213123045678", "金额 1,381,234,567.80", "批号 20261208-01"]:
        assert mask_text(text) == text, text
    assert _digits(mask_text("身份证110101199002300011")) != "110101199002300011"  # a mistyped ID still hides


@pytest.mark.parametrize(
    "text",
    [
        "身份证 110101 19900307 123X",  # a mistyped ID written 6-8-4: its birth date stands apart
        "1381234567813912345678",
        "138 1234 5678139 1234 5678",
        "x555551381234567899999",
        "138 1234 567801",
    ],
)
def test_the_hard_cases_still_hide(text):
    shown = re.sub(r"[^0-9X*]", "", mask_text(text))  # the digits shown, stars between them
    assert "*" in shown and not any(len(run) >= 11 for run in shown.split("*")), shown


_WRITTEN = st.one_of(landlines().map(lambda p: p[1]), local_numbers().map(lambda p: p[1]), readable())


@settings(max_examples=15, deadline=None)
@given(st.lists(_WRITTEN, min_size=5))
def test_the_vectorised_column_masks_as_each_value_does(values):
    values = [f"备注 {v}" for v in values] + ["1.234567E+12 元", "电话 62345678", "内科"]
    column = pd.Series(values * (2100 // len(values) + 1))
    assert mask_series(column).tolist() == [mask_value(v) for v in column]


_CUE = st.sampled_from(["", "手机：", "联系电话 ", "家属 ", "tel "])
_AFTER = st.sampled_from(["", " 转2", "，请回电", "。"])


@given(
    head=st.sampled_from("3456789"),
    middle=st.integers(0, 9999),
    last=st.integers(0, 9999),
    dot=st.sampled_from([".", "．"]),
    cue=_CUE,
    after=_AFTER,
)
def test_a_mobile_written_in_dotted_groups_is_masked(head, middle, last, dot, cue, after):
    """138.1234.5678 (full-width ．too), alone or in a sentence: its middle group is starred, by
    mask_text and by mask_series' free-text path alike."""
    text = f"{cue}1{head}8{dot}{middle:04d}{dot}{last:04d}{after}"
    shown = mask_text(text)
    assert shown == f"{cue}1{head}8{dot}****{dot}{last:04d}{after}"
    assert mask_series(pd.Series([text] * 2001))[0] == shown


@given(
    value=st.one_of(
        st.builds(lambda a, b: f"{a}.{b}", st.integers(0, 10**6), st.integers(0, 10**8)),  # decimals
        st.builds(lambda a, b, c: f"{a}.{b}.{c}", st.integers(0, 99), st.integers(0, 99), st.integers(0, 999)),
        st.builds(lambda *p: ".".join(map(str, p)), *(st.integers(0, 255) for _ in range(4))),  # IPs
    )
)
def test_decimals_versions_and_addresses_stay_readable(value):
    assert mask_text(f"金额 {value} 元") == f"金额 {value} 元"
