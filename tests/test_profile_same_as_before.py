"""The fast profile (each test once per distinct value) gives exactly what the row-by-row one gave.

The oracle below is the profile's code before it was made fast (``guess_kind``, ``date_format_of``,
``profile_frame`` and its date and lost-digit helpers, row by row through pandas ``.str`` calls),
kept here verbatim; hypothesis builds columns that mix dates of every format in ``DATE_FORMATS``
(real and impossible ones, full-width digits), ID-card numbers, mobiles, numbers, codes with a
leading zero, names, blanks and free text, and every result must be equal.
"""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hlwjr._privacy import id_check_char, lost_digits, mask_value, normalize_numbers
from hlwjr._privacy import mask_kind as privacy_mask_kind
from hlwjr.sources import _profile
from hlwjr.sources._profile import (
    _DATE_KIND,
    _DEC_RE,
    _ID_RE,
    _INT_RE,
    _LEADING_ZERO_RE,
    _MASK_KINDS,
    _MOBILE_RE,
    _NAME_RE,
    DATE_FORMATS,
    ColumnProfile,
    Profile,
    _mixed_formats_warning,
    _num,
    date_format_of,
    guess_kind,
    profile_frame,
)

# ----------------------------------------------------------------------------- the oracle (before)


def _share(mask: pd.Series, n: int) -> float:
    return float(mask.sum()) / n if n else 0.0


def old_date_format_of(text: pd.Series, first: str | None = None) -> pd.Series:
    out = pd.Series(None, index=text.index, dtype=object)
    left = text
    for pattern, fmt, _kind in sorted(DATE_FORMATS, key=lambda pfk: pfk[1] != first):
        hit = left.str.match(pattern).fillna(False).astype(bool)
        out[hit[hit].index] = fmt
        left = left[~hit]
        if left.empty:
            break
    return out


def old_guess_kind(values: pd.Series) -> tuple[str, str, float, str | None]:
    s = values.astype("str").str.strip()
    n = len(s)
    if n == 0:
        return "empty", "empty", 0.0, None
    sample = s if n <= 20000 else s.sample(20000, random_state=0)
    m = len(sample)
    numbers = normalize_numbers(sample)
    share_id = _share(numbers.str.match(_ID_RE), m)
    if share_id >= 0.8:
        return "id_card", "string", share_id, None
    share_mob = _share(numbers.str.match(_MOBILE_RE), m)
    if share_mob >= 0.8:
        return "mobile", "string", share_mob, None
    formats = old_date_format_of(sample).value_counts()
    if len(formats) and formats.sum() >= 0.8 * m:
        fmt = formats.index[0]
        return _DATE_KIND[fmt], _DATE_KIND[fmt], float(formats.sum()) / m, fmt
    share_int = _share(sample.str.match(_INT_RE), m)
    share_dec = _share(sample.str.match(_DEC_RE), m)
    distinct = sample.nunique()
    lengths = sample.str.len()
    if share_int + share_dec >= 0.95 and sample.str.match(_LEADING_ZERO_RE).any():
        return "code", "string", share_int + share_dec, None
    if share_int + share_dec >= 0.95 and share_dec > 0:
        dec_places = sample[sample.str.match(_DEC_RE)].str.split(".").str[1].str.len()
        if len(dec_places) and dec_places.max() <= 2:
            return "amount", "decimal", share_int + share_dec, None
        return "decimal", "decimal", share_int + share_dec, None
    if share_int >= 0.95:
        if distinct <= 30 and lengths.max() <= 4:
            return "code", "integer", share_int, None
        return "integer", "integer", share_int, None
    share_name = _share(sample.str.match(_NAME_RE), m)
    if share_name >= 0.8 and distinct > min(50, 0.3 * m):
        return "name", "string", share_name, None
    if distinct <= max(50, 0.02 * m) and lengths.max() <= 20:
        return "code", "string", 1.0, None
    return "text", "string", 1.0, None


def old_profile_frame(df: pd.DataFrame, *, source: str = "<DataFrame>", min_count: int = 5, top: int = 10) -> Profile:
    cols = []
    n = len(df)
    for name in df.columns:
        raw = df[name]
        notnull = raw.dropna()
        text = notnull.astype("str")
        text = text[text.str.strip() != ""]
        nulls = n - len(text)
        kind, dtype, match, fmt = old_guess_kind(text)
        counts = text.value_counts()
        shown = counts[counts >= min_count].head(top)
        mask_kind = _MASK_KINDS.get(kind) or privacy_mask_kind(str(name), "", text.iloc[0] if len(text) else None)
        mask_kind = None if mask_kind == "plain" else mask_kind

        def show(v, mask_kind=mask_kind):
            if v is None:
                return None
            return mask_value(str(v), mask_kind)

        cp = ColumnProfile(
            column=str(name),
            dtype=dtype,
            kind=kind,
            n=n,
            nulls=nulls,
            null_share=nulls / n if n else 0.0,
            distinct=int(counts.size),
            top_values=[(show(v), int(c)) for v, c in shown.items()],
            hidden_values=int((counts < min_count).sum()),
            match_share=round(match, 4),
            date_format=fmt,
            lost_digits=old_lost_digit_rows(notnull),
        )
        if len(text):
            lengths = text.str.len()
            cp.min_length, cp.max_length = int(lengths.min()), int(lengths.max())
            if dtype in ("integer", "decimal"):
                nums = pd.to_numeric(text, errors="coerce").dropna()
                if len(nums):
                    cp.min, cp.max = show(_num(nums.min())), show(_num(nums.max()))
            elif dtype in ("date", "datetime"):
                old_profile_dates(cp, text.str.strip(), fmt, show)
            elif kind not in ("text",):
                cp.min, cp.max = show(text.min()), show(text.max())
        cols.append(cp)
    return Profile(source=source, rows=n, columns=cols, read_as=source, min_count=min_count)


def old_profile_dates(cp: ColumnProfile, text: pd.Series, fmt: str, show) -> None:
    formats = old_date_format_of(text, first=fmt)
    parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    for f in formats.dropna().unique():
        at = formats == f
        parsed[at] = pd.to_datetime(text[at], format=f, errors="coerce")
    cp.invalid_dates = int((parsed.isna() & formats.notna()).sum())
    if parsed.notna().any():
        cp.min, cp.max = parsed.min().strftime(fmt), parsed.max().strftime(fmt)
    counts = formats.value_counts()
    if len(counts) > 1:
        cp.date_formats = {str(f): int(n) for f, n in counts.items()}
        cp.warnings.append(_mixed_formats_warning(cp.column, text, formats, counts, show))


def old_lost_digit_rows(values: pd.Series) -> int:
    if pd.api.types.is_float_dtype(values.dtype):
        return int((values.abs() >= 1e15).sum())
    if pd.api.types.is_bool_dtype(values.dtype):
        return 0
    shape = values.astype("str").str.contains(r"[eEＥｅ]|^\d{15}000$").to_numpy(dtype=bool, na_value=False)
    if pd.api.types.is_object_dtype(values.dtype) and pd.api.types.infer_dtype(values, skipna=True) != "string":
        shape = shape | ~values.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)  # was |=: see below
    return sum(lost_digits(v) for v in values[shape].tolist())


# ----------------------------------------------------------------------------- the values of real exports

_FULL = str.maketrans("0123456789", "０１２３４５６７８９")
_moments = st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2099, 12, 31))


def _real_date(fmt: str):
    return _moments.map(lambda d: d.strftime(fmt))


def _shaped_date(pattern: str):
    """Text of a format's shape that need not be a real date (2026-02-30, 20261399): ASCII digits."""
    return st.from_regex(pattern.replace(r"\d", "[0-9]"), fullmatch=True)


_dates = st.one_of(
    *(_real_date(fmt) for _p, fmt, _k in DATE_FORMATS),
    *(_shaped_date(p) for p, _f, _k in DATE_FORMATS),
    st.sampled_from([p for p, _f, _k in DATE_FORMATS]).flatmap(lambda p: st.from_regex(p, fullmatch=True)),
)


def _id_number(body: str) -> str:
    return body + id_check_char(body)


_ids = st.builds(
    lambda area, d, seq: _id_number(f"{area:06d}{d:%Y%m%d}{seq:03d}"),
    st.integers(110000, 659999),
    st.dates(dt.date(1900, 1, 1), dt.date(2025, 12, 31)),
    st.integers(0, 999),
)
_mobiles = st.builds(lambda p, rest: f"1{p}{rest:09d}", st.sampled_from("3456789"), st.integers(0, 10**9 - 1))
_ints = st.integers(-(10**6), 10**12).map(str)
_numbers = st.one_of(
    _ints,
    st.decimals(-1000, 10**6, places=2, allow_nan=False, allow_infinity=False).map(str),
    st.floats(-1e6, 1e6, allow_nan=False).map(lambda x: f"{x:.{abs(int(x)) % 5 + 1}f}"),
)
_zero_codes = st.from_regex(r"-?0[0-9]{1,4}(\.[0-9]{1,3})?", fullmatch=True)
_names = st.text("张李王赵刘陈欧阳伟芳娜敏强·", min_size=1, max_size=6)
_blanks = st.sampled_from(["", " ", "　", "\t", None])
_codes = st.text("ABCXYZ0123", min_size=1, max_size=5)
_plain = st.one_of(_dates, _ids, _mobiles, _numbers, _zero_codes, _names, _codes, st.text(max_size=25))


def _dressed(value: str) -> st.SearchStrategy[str]:
    """The same value as exports spoil it: full-width digits, spaces around, an apostrophe, 138 0013 8000."""
    return st.sampled_from(
        [
            *[value] * 6,
            value.translate(_FULL),
            f" {value} ",
            f"'{value}",
            f"{value[:3]} {value[3:7]} {value[7:]}" if len(value) > 7 else value,
            f"{value}\n",
        ]
    )


_values = st.one_of(_plain.flatmap(_dressed), _blanks)


@st.composite
def _column(draw) -> list:
    """A column of mostly one kind of value (so thresholds of 80 % / 95 % are met, or just missed)."""
    main = draw(
        st.sampled_from([_dates] * 3 + [_ints] * 2 + [_ids, _mobiles, _numbers, _zero_codes, _names, _codes, _plain])
    )
    pool = draw(st.lists(main.flatmap(_dressed), min_size=1, max_size=60))
    noise = draw(st.lists(_values, max_size=15))
    n = draw(st.integers(1, 150))
    picks = draw(st.lists(st.integers(0, len(pool) + len(noise) - 1), min_size=n, max_size=n))
    everyone = pool + noise
    return [everyone[i] for i in picks]


def _both_ways():
    """Run the new code value by value (as for few distinct values) and through pandas (as for many)."""
    for few in (_profile._FEW, 0):
        with mock.patch.object(_profile, "_FEW", few):
            yield few


def _same_profile(df: pd.DataFrame, **kw) -> None:
    old = old_profile_frame(df, **kw).to_dict()
    for _few in _both_ways():
        assert profile_frame(df, **kw).to_dict() == old


_slow = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_slow
@given(_column())
def test_guess_kind_is_the_same(values):
    for s in (pd.Series(values, dtype="str").dropna(), pd.Series(values, dtype=object)):
        old = old_guess_kind(s)
        for _few in _both_ways():
            assert guess_kind(s) == old


@_slow
@given(_column(), st.sampled_from([None, "%Y%m%d"] + [f for _p, f, _k in DATE_FORMATS]))
def test_date_format_of_is_the_same(values, first):
    for s in (pd.Series(values, dtype="str"), pd.Series(values, dtype=object)):
        old = old_date_format_of(s, first)
        for _few in _both_ways():
            new = date_format_of(s, first)
            assert new.index.equals(old.index) and new.dtype == old.dtype
            assert list(map(repr, new)) == list(map(repr, old))  # None is not NaN


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_column(), min_size=1, max_size=4), st.integers(1, 6))
def test_profile_frame_is_the_same(columns, min_count):
    n = max(map(len, columns))
    frame = pd.DataFrame({f"c{i}": c + [None] * (n - len(c)) for i, c in enumerate(columns)}, dtype="str")
    _same_profile(frame, min_count=min_count)
    _same_profile(frame.astype(object), min_count=min_count)


def test_named_columns_numbers_and_a_sampled_column_are_the_same():
    """A column of more than 20,000 values is guessed on its sample; numbers as numbers; masked headers."""
    n = 25_000
    frame = pd.DataFrame(
        {
            "身份证号": [_id_number(f"110101{1950 + i % 60}0101{i % 1000:03d}") for i in range(n)],
            "JZRQ": [
                f"2026-{1 + i % 12:02d}-{1 + i % 31:02d}" if i % 9 else f"2026/{1 + i % 12}/{1 + i % 28}"
                for i in range(n)
            ],
            "JE": [f"{i % 977}.{i % 100:02d}" for i in range(n)],
            "KSDM": [f"0{i % 40:02d}" for i in range(n)],
            "PHONE": [f"13{i % 10}{i:08d}" if i % 7 else "" for i in range(n)],
        },
        dtype="str",
    )
    frame["SL"] = [i % 13 for i in range(n)]
    frame["DJ"] = [i / 7 if i % 5 else None for i in range(n)]
    frame["HH"] = pd.Series([1.10101199e17 if i % 3 else "x" for i in range(n)], dtype=object)
    _same_profile(frame)


def test_a_column_of_only_missing_objects_is_empty():
    """The one change from before: an all-None object column (an all-NULL database column) no longer
    fails with "output array is read-only" (the oracle carries the same one-line fix)."""
    for frame in (pd.DataFrame({"BZ": [None, None]}), pd.DataFrame({"BZ": pd.Series([], dtype=object)})):
        assert profile_frame(frame).columns[0].kind == "empty"
        _same_profile(frame)
