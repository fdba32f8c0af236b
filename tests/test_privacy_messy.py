"""Messy exports never let a full ID-card or phone number through: full-width digits, ideographic
spaces, spaces and dashes between digit groups, ``+86``, Excel's leading apostrophe, a BOM or a
zero-width character — the number is still recognised (guessed) and masked, in a single value, a
column, free text, the source profile, the validation report and the terminal table."""

from __future__ import annotations

import datetime as dt
import re
import tempfile
import unicodedata
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hlwjr
from hlwjr._privacy import (
    check_id_number,
    id_check_char,
    id_problem,
    mask_key,
    mask_kind,
    mask_series,
    mask_text,
    mask_value,
    normalize_number,
)
from hlwjr._text import text_table
from hlwjr.commands._map import _table
from hlwjr.sources._profile import guess_kind, profile_frame

_FULLWIDTH = {ord(c): ord(c) + 0xFEE0 for c in "0123456789Xx+-"}
_SEPARATORS = [" ", "-", "\u3000", "\u200b", "－", " - ", "\u2013"]
_PREFIXES = ["", "'", "\ufeff", " ", "\u3000", "\u200b"]


@st.composite
def id_numbers(draw) -> str:
    """A valid 18-digit 公民身份号码, its check digit from the project's GB 11643 helper."""
    area = draw(st.integers(110000, 659999))
    birth = draw(st.dates(dt.date(1900, 1, 1), dt.date(2025, 12, 31)))
    first17 = f"{area}{birth:%Y%m%d}{draw(st.integers(0, 999)):03d}"
    return first17 + id_check_char(first17)


phones = st.builds(lambda second, rest: f"1{second}{rest:09d}", st.integers(3, 9), st.integers(0, 10**9 - 1))


@st.composite
def disguised(draw, number: str, prefixes=("",)) -> str:
    """``number`` as a messy export writes it: characters made full-width, separators between
    digits, an apostrophe / BOM / space in front, maybe a country code."""
    chars = [c.translate(_FULLWIDTH) if draw(st.booleans()) else c for c in number]
    out = ""
    for i, c in enumerate(chars):
        if i and draw(st.integers(0, 4)) == 0:
            out += draw(st.sampled_from(_SEPARATORS))
        out += c
    return draw(st.sampled_from(_PREFIXES)) + draw(st.sampled_from(prefixes)) + out


def _digits(shown: str) -> str:
    """Every digit (and X) shown, in order, half-width: a full number must not be among them."""
    return re.sub(r"[^0-9X]", "", unicodedata.normalize("NFKC", shown).upper())


def assert_hidden(shown, *numbers: str) -> None:
    text = _digits(str(shown))
    for number in numbers:
        assert number not in text, shown


@st.composite
def messy_id(draw) -> tuple[str, str]:
    number = draw(id_numbers())
    return number, draw(disguised(number))


@st.composite
def messy_phone(draw) -> tuple[str, str]:
    number = draw(phones)
    return number, draw(disguised(number, prefixes=("", "+86 ", "+86-", "86", "＋８６ ")))


@settings(max_examples=300, deadline=None)
@given(messy_id(), st.sampled_from(["id", None, "phone"]))
def test_a_messy_id_is_masked_by_every_kind(pair, kind):
    number, value = pair
    assert_hidden(mask_value(value, kind), number)
    assert normalize_number(value) == number


@settings(max_examples=300, deadline=None)
@given(messy_phone(), st.sampled_from(["phone", None, "id"]))
def test_a_messy_phone_is_masked_by_every_kind(pair, kind):
    number, value = pair
    assert_hidden(mask_value(value, kind), number)


@settings(max_examples=200, deadline=None)
@given(
    messy_id(),
    messy_phone(),
    st.sampled_from(["患者{i}，电话{p}，床号12", "{p}/{i}", "身份证:{i} 手机:{p}。", "{p} {p} {i} {i}", "{i}-{p}"]),
)
def test_numbers_inside_free_text_are_masked(pair_id, pair_phone, template):
    text = template.format(i=pair_id[1], p=pair_phone[1])
    shown = mask_text(text)
    assert_hidden(shown, pair_id[0], pair_phone[0])
    assert "床号12" in shown or "床号" not in template


@settings(max_examples=25, deadline=None)
@given(st.lists(messy_id(), min_size=1, max_size=6), st.lists(messy_phone(), min_size=1, max_size=6))
def test_columns_of_messy_numbers_are_guessed_and_masked(ids, mobiles):
    for pairs, kind, guessed in ((ids, "id", "id_card"), (mobiles, "phone", "mobile")):
        values = pd.Series([v for _, v in pairs] * 3, dtype="str")
        assert guess_kind(values)[0] == guessed
        for series in (values, pd.concat([values] * 700, ignore_index=True)):  # plain and vectorised paths
            for how in (kind, None):
                for shown, (number, _) in zip(mask_series(series, how), pairs * 3):
                    assert_hidden(shown, number)


@settings(max_examples=20, deadline=None)
@given(st.lists(messy_id(), min_size=2, max_size=6), st.lists(messy_phone(), min_size=2, max_size=6))
def test_the_profile_never_shows_a_messy_number(ids, mobiles):
    n = min(len(ids), len(mobiles))
    df = pd.DataFrame({"x": [v for _, v in ids[:n]] * 5, "y": [v for _, v in mobiles[:n]] * 5}, dtype="str")
    prof = profile_frame(df, min_count=1)
    numbers = [k for k, _ in ids[:n]] + [k for k, _ in mobiles[:n]]
    assert_hidden(prof.to_frame().to_string(), *numbers)
    assert_hidden(_table(prof.to_frame()), *numbers)
    assert_hidden(prof._repr_html_(), *numbers)
    assert_hidden(str(prof.to_dict()), *numbers)


@settings(max_examples=25, deadline=None)
@given(messy_id(), messy_phone(), messy_id())
def test_the_validation_report_never_shows_a_messy_number(pair_id, pair_phone, doctor):
    record = {
        "patientCertType": "01",
        "patientCertID": pair_id[1],
        "doctorCertID": doctor[1],
        "mobile": pair_phone[1],
        "content": f"患者电话 {pair_phone[1]}，身份证 {pair_id[1]}" + "。" * 2000,
    }
    report = hlwjr.check([record], "consult")
    frame = report.to_frame()
    numbers = (pair_id[0], pair_phone[0], doctor[0])
    assert_hidden(frame.to_string(), *numbers)
    rows = [[str(v) for v in row] for row in frame[["field", "rule", "value", "message"]].itertuples(index=False)]
    assert_hidden(text_table(["field", "rule", "value", "message"], rows, max_width=400), *numbers)
    assert "content" in {p.field for p in report.problems if p.severity == "error"}
    with tempfile.TemporaryDirectory() as tmp:
        report.to_html(Path(tmp) / "report.html")
        assert_hidden((Path(tmp) / "report.html").read_text(encoding="utf-8"), *numbers)


@settings(max_examples=60, deadline=None)
@given(messy_id(), messy_phone())
def test_business_keys_with_messy_numbers_are_masked(pair_id, pair_phone):
    assert_hidden(mask_key(f"{pair_id[1]}|{pair_phone[1]}|CF001"), pair_id[0], pair_phone[0])


def test_the_normal_form_of_the_usual_disguises():
    ids = ["'110101199003071233", "\ufeff110101199003071233", "１１０１０１１９９００３０７１２３３"]
    ids += ["110101 19900307 1233", "110101-19900307-1233", "\u3000110101\u200b199003071233 "]
    for value in ids:
        assert normalize_number(value) == "110101199003071233"
    for value in ["138 0013 8000", "138-0013-8000", "１３８　００１３　８０００", "'13800138000"]:
        assert normalize_number(value) == "13800138000"
    assert normalize_number("+86 138 0013 8000") == "+8613800138000"
    assert normalize_number("E12345678") == "E12345678" and normalize_number("内科") == "内科"


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("'110101199003071233", "单引号"),
        ("\ufeff110101199003071233", "不可见字符"),
        ("110101\u200b199003071233", "不可见字符"),
        ("110101 19900307 1233", "分隔符"),
        ("110101-19900307-1233", "分隔符"),
        ("１１０１０１１９９００３０７１２３３", "全角"),
    ],
)
def test_validation_stays_strict_and_says_what_the_export_did(value, fragment):
    assert fragment in id_problem(value) and not check_id_number(value)


@pytest.mark.parametrize(
    ("key", "name", "kind"),
    [
        ("ｐａｔｉｅｎｔＣｅｒｔＩＤ", "", "id"),
        ("ＭＯＢＩＬＥ", "", "phone"),
        ("x", "患者身份证号", "id"),
        ("x", "联系　电话", "phone"),
        ("ＺＪＨＭ１", "证件号", "id"),
    ],
)
def test_mask_kind_reads_full_width_keys(key, name, kind):
    assert mask_kind(key, name) == kind
