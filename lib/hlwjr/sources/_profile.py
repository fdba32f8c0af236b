"""Profiling a source (数据源探查), as WhiteRabbit does for OMOP: what is in each column.

``profile_source(source)`` scans a table and gives per column: the inferred type, the share of
missing values, the number of distinct values, the most frequent values (values seen fewer than 5
times are hidden, so single patients cannot be picked out), min/max, the length range and a guess
of what the column holds — 身份证号 (ID-card number), 手机号 (mobile number), a date/time with
its format, an amount (金额), a code (代码) or a person's name (姓名).  ID-card numbers, phone
numbers and names are masked in every preview (``hlwjr._privacy.mask_value``).
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from .._privacy import TEXT_COLUMN_FIX, lost_digits, mask_value, normalize_number_values, normalize_numbers
from .._privacy import mask_kind as privacy_mask_kind

__all__ = [
    "DATE_FORMATS",
    "ColumnProfile",
    "Profile",
    "date_format_of",
    "guess_kind",
    "profile_frame",
    "profile_source",
]

# strftime formats HIS exports use, most specific first: (pattern, strftime, kind)
DATE_FORMATS: tuple[tuple[str, str, str], ...] = (
    (r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$", "%Y-%m-%d %H:%M:%S", "datetime"),
    (r"^\d{4}/\d{1,2}/\d{1,2} \d{1,2}:\d{2}:\d{2}$", "%Y/%m/%d %H:%M:%S", "datetime"),
    (r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$", "%Y-%m-%dT%H:%M:%S", "datetime"),
    (r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$", "%Y-%m-%d %H:%M", "datetime"),
    (r"^\d{4}/\d{1,2}/\d{1,2} \d{1,2}:\d{2}$", "%Y/%m/%d %H:%M", "datetime"),
    (r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{1,6}$", "%Y-%m-%d %H:%M:%S.%f", "datetime"),
    (r"^\d{14}$", "%Y%m%d%H%M%S", "datetime"),
    (r"^\d{4}-\d{2}-\d{2}$", "%Y-%m-%d", "date"),
    (r"^\d{4}/\d{1,2}/\d{1,2}$", "%Y/%m/%d", "date"),
    (r"^\d{4}\.\d{2}\.\d{2}$", "%Y.%m.%d", "date"),
    (r"^\d{4}年\d{1,2}月\d{1,2}日$", "%Y年%m月%d日", "date"),
    (r"^\d{1,2}\.\d{1,2}\.\d{4}$", "%d.%m.%Y", "date"),
    (r"^(19|20)\d{6}$", "%Y%m%d", "date"),
)
_ID_RE = r"^\d{6}(18|19|20)\d{2}(0[1-9]|1[0-2])\d{5}[\dXx]$"
_MOBILE_RE = r"^(?:\+?86)?1[3-9]\d{9}$"
_NAME_RE = r"^[\u4e00-\u9fa5]{1,2}[\u4e00-\u9fa5·]{1,4}$"
_INT_RE = r"^-?\d+$"
_DEC_RE = r"^-?\d+\.\d+$"
_LEADING_ZERO_RE = r"^-?0\d"

KIND_LABELS = {
    "id_card": "身份证号",
    "mobile": "手机号",
    "date": "日期",
    "datetime": "日期时间",
    "amount": "金额",
    "integer": "整数",
    "decimal": "小数",
    "code": "代码",
    "name": "姓名",
    "text": "文本",
    "empty": "全空",
}
_MASK_KINDS = {"id_card": "id", "mobile": "phone", "name": "name"}


@dataclass
class ColumnProfile:
    """What one source column holds (字段探查结果)."""

    column: str
    dtype: str  # inferred: string | integer | decimal | date | datetime | empty
    kind: str  # guess: id_card | mobile | date | datetime | amount | code | name | text ...
    n: int
    nulls: int
    null_share: float
    distinct: int
    top_values: list[tuple[str, int]] = field(default_factory=list)  # (masked value, count), count ≥ min_count
    hidden_values: int = 0  # distinct values hidden because seen fewer than min_count times
    min: str | None = None
    max: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    date_format: str | None = None  # strftime format of a date/datetime column
    invalid_dates: int = 0  # values in the date format that are no real date/time
    match_share: float = 0.0  # share of non-null values matching the guessed kind
    date_formats: dict[str, int] = field(default_factory=dict)  # a date column's formats → values, if mixed
    warnings: list[str] = field(default_factory=list)  # in Chinese: what the analyst should look at
    lost_digits: int = 0  # long numbers (ID, phone) stored as numbers: their last digits are lost

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)


@dataclass
class Profile:
    """A source's profile: how it was read and one ColumnProfile per column."""

    source: str
    rows: int
    columns: list[ColumnProfile]
    read_as: str = ""
    min_count: int = 5

    @property
    def warnings(self) -> list[str]:
        """What needs fixing or checking in the source, in Chinese (one line each): long numbers whose
        digits a spreadsheet lost, then every column's own warnings (混用的日期格式 …), in column order."""
        lost = [
            f"{self.source} 的「{c.column}」列有 {c.lost_digits} 行是被 Excel 当作数字保存过的长号码"
            f"（身份证号、手机号等，显示为科学计数法或末几位变成 0），末几位已丢失、无法恢复：{TEXT_COLUMN_FIX}"
            for c in self.columns
            if c.lost_digits
        ]
        return lost + [w for c in self.columns for w in c.warnings]

    def column(self, name: str) -> ColumnProfile:
        for c in self.columns:
            if c.column == name:
                return c
        raise KeyError(name)

    def to_frame(self) -> pd.DataFrame:
        """One row per column (列): the table ``hlwjr profile`` prints and notebooks display."""
        rows = []
        for c in self.columns:
            rows.append(
                {
                    "列 column": c.column,
                    "推断类型 type": c.dtype,
                    "内容猜测 kind": c.kind_label,
                    "空值率 nulls": _percent(c.null_share),
                    "不同值 distinct": c.distinct,
                    "常见值 top values": "; ".join(f"{v} ({n})" for v, n in c.top_values[:5]),
                    "最小 min": c.min,
                    "最大 max": c.max,
                    "长度 length": None if c.min_length is None else f"{c.min_length}-{c.max_length}",
                    "日期格式 format": _format_cell(c),
                }
            )
        return pd.DataFrame(rows)

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "rows": self.rows,
            "read_as": self.read_as,
            "min_count": self.min_count,
            "warnings": self.warnings,
            "columns": [asdict(c) | {"kind_label": c.kind_label} for c in self.columns],
        }

    def _repr_html_(self) -> str:  # notebooks
        warnings = "".join(f"<p>注意：{html.escape(w)}</p>" for w in self.warnings)
        return f"<p>{html.escape(self.read_as)}（{self.rows} 行）</p>" + self.to_frame().to_html(index=False) + warnings


def _format_cell(c: ColumnProfile) -> str | None:
    """A date column's format as the table shows it: with its invalid dates and other formats."""
    if not c.date_format:
        return None
    notes = [f"{c.invalid_dates} 个不是真实日期"] if c.invalid_dates else []
    if len(c.date_formats) > 1:
        notes.append(f"另混用 {len(c.date_formats) - 1} 种格式")
    return f"{c.date_format}（{'，'.join(notes)}）" if notes else c.date_format


def _percent(share: float) -> str:
    """A share as the percentage an analyst reads (0.9656 → "96.6%"; a tiny non-zero share is not "0%")."""
    if share <= 0:
        return "0%"
    if share >= 1:
        return "100%"
    pct = share * 100
    if pct < 0.1:
        return "<0.1%"
    if pct > 99.9:
        return ">99.9%"
    return f"{pct:.1f}%".replace(".0%", "%")


_DATE_KIND = {fmt: kind for _p, fmt, kind in DATE_FORMATS}
_DATE_RES = tuple((re.compile(p), fmt) for p, fmt, _kind in DATE_FORMATS)
_ANY_DATE_RE = re.compile("|".join(f"(?:{p})" for p, _f, _k in DATE_FORMATS))  # matches iff one of them does
# up to this many distinct values Python's re on each is faster than a pandas call (Arrow's regex) per test
_FEW = 5000


class _Distinct:
    """A column's distinct values, each with how often it occurs: every test runs once per distinct
    value, not per row — value by value for a few of them, in one pandas ``.str`` call for many."""

    def __init__(self, values: list, weights: np.ndarray, rows: int, array=None):
        self.values, self.weights, self.rows = values, weights, rows
        self._array = array  # the values as a pandas array (built when first needed)

    @property
    def array(self):
        if self._array is None:
            self._array = pd.array(self.values, dtype="str")
        return self._array

    @property
    def few(self) -> bool:  # tested value by value
        return len(self.values) <= _FEW

    def hits(self, pattern: str) -> np.ndarray:
        """Which values ``pattern`` matches at their start (``Series.str.match``; False for a non-text)."""
        if self.few:
            match = re.compile(pattern).match
            return np.fromiter((isinstance(v, str) and bool(match(v)) for v in self.values), bool, len(self.values))
        return pd.Series(self.array).str.match(pattern, na=False).to_numpy(dtype=bool)

    def share(self, pattern: str) -> float:
        """The share of the rows whose value ``pattern`` matches."""
        return int(self.weights[self.hits(pattern)].sum()) / self.rows

    def formats(self, first: str | None = None) -> list[str | None]:
        """Each value's format among :data:`DATE_FORMATS` (``first`` tried first): the first it matches;
        one match of their union tells the values of none."""
        order = sorted(_DATE_RES, key=lambda rf: rf[1] != first)
        if self.few:
            return [
                next((fmt for rx, fmt in order if rx.match(v)), None)
                if isinstance(v, str) and _ANY_DATE_RE.match(v)
                else None
                for v in self.values
            ]
        out = np.full(len(self.values), None, dtype=object)
        left = np.flatnonzero(self.hits(_ANY_DATE_RE.pattern))
        for rx, fmt in order:  # as before, each pattern only on the values no earlier one took
            if not len(left):
                break
            hit = pd.Series(self.array[left]).str.match(rx.pattern, na=False).to_numpy(dtype=bool)
            out[left[hit]] = fmt
            left = left[~hit]
        return out.tolist()


def _distinct(values: pd.Series) -> tuple[np.ndarray, _Distinct]:
    """``values``' codes (-1 for a missing value) and their distinct values (in order of appearance)."""
    codes, uniques = pd.factorize(values)
    weights = np.bincount(codes[codes >= 0], minlength=len(uniques))
    return codes, _Distinct(uniques.tolist(), weights, len(values), uniques.array)


def date_format_of(text: pd.Series, first: str | None = None) -> pd.Series:
    """Each value's format among :data:`DATE_FORMATS` (``first`` tried first), NaN where none fits:
    the first format in that order a value matches (each distinct value is matched once)."""
    text.str  # noqa: B018 — like the .str methods: numbers are refused, not read as dates
    codes, distinct = _distinct(text)
    formats = np.array([f or np.nan for f in distinct.formats(first)] + [np.nan], dtype=object)
    return pd.Series(formats[codes], index=text.index, dtype=object)  # code -1 (missing) → the NaN at the end


def guess_kind(values: pd.Series) -> tuple[str, str, float, str | None]:
    """Guess what a column of (non-null, text) values holds → (kind, dtype, match share, date format)."""
    return _guess_stripped(values.astype("str").str.strip())


def _guess_stripped(s: pd.Series) -> tuple[str, str, float, str | None]:
    """:func:`guess_kind` of values already stripped: every test runs once per distinct value, weighted
    by how often it occurs (a wide export of short columns pays no pandas call per test)."""
    n = len(s)
    if n == 0:
        return "empty", "empty", 0.0, None
    sample = s if n <= 20000 else s.sample(20000, random_state=0)
    m = len(sample)
    codes, distinct = _distinct(sample)  # missing values (code -1) match nothing, as in .str.match
    # １１０１…, '1101…, 138 0013 8000 are IDs and mobiles too
    if distinct.few:
        numbers = normalize_number_values(distinct.values)
    else:
        numbers = normalize_numbers(pd.Series(distinct.array)).tolist()
    as_numbers = _Distinct(numbers, distinct.weights, m)
    share_id = as_numbers.share(_ID_RE)
    if share_id >= 0.8:
        return "id_card", "string", share_id, None
    share_mob = as_numbers.share(_MOBILE_RE)
    if share_mob >= 0.8:
        return "mobile", "string", share_mob, None
    formats = distinct.formats()
    dated = np.fromiter((f is not None for f in formats), bool, len(formats))
    if int(distinct.weights[dated].sum()) >= 0.8 * m:  # a date column, perhaps of mixed formats
        # each row's format counted by value_counts, as before: its order breaks a tie between formats
        counts = pd.Series(np.array([None, *formats], dtype=object)[codes + 1], dtype=object).value_counts()
        fmt = counts.index[0]
        return _DATE_KIND[fmt], _DATE_KIND[fmt], float(counts.sum()) / m, fmt
    return _guess_not_dated(distinct, m)


def _guess_not_dated(distinct: _Distinct, m: int) -> tuple[str, str, float, None]:
    """The kind of a column that is neither IDs, mobiles nor dates: a number, code, name or text."""
    share_int, share_dec = distinct.share(_INT_RE), distinct.share(_DEC_RE)
    max_length = max(map(len, distinct.values), default=math.inf)  # no value: no length test passes
    numeric = share_int + share_dec >= 0.95
    if numeric and distinct.hits(_LEADING_ZERO_RE).any():
        # 0101, 03.01: a leading zero is part of the code — a number would lose it
        return "code", "string", share_int + share_dec, None
    if numeric and share_dec > 0:
        decimals = (v for v, hit in zip(distinct.values, distinct.hits(_DEC_RE)) if hit)
        if max(len(v.split(".")[1]) for v in decimals) <= 2:
            return "amount", "decimal", share_int + share_dec, None
        return "decimal", "decimal", share_int + share_dec, None
    if share_int >= 0.95:
        if len(distinct.values) <= 30 and max_length <= 4:
            return "code", "integer", share_int, None
        return "integer", "integer", share_int, None
    share_name = distinct.share(_NAME_RE)
    if share_name >= 0.8 and len(distinct.values) > min(50, 0.3 * m):
        return "name", "string", share_name, None
    if len(distinct.values) <= max(50, 0.02 * m) and max_length <= 20:
        return "code", "string", 1.0, None
    return "text", "string", 1.0, None


def profile_frame(
    df: pd.DataFrame, *, source: str = "<DataFrame>", min_count: int = 5, top: int = 10, read_as: str = ""
) -> Profile:
    """Profile a DataFrame already read (every column; values seen < ``min_count`` times hidden)."""

    cols = []
    n = len(df)
    for name in df.columns:
        raw = df[name]
        notnull = raw.dropna()
        text = notnull.astype("str")
        stripped = text.str.strip()
        filled = (stripped != "").to_numpy(dtype=bool)
        if not filled.all():
            text, stripped = text[filled], stripped[filled]
        nulls = n - len(text)
        kind, dtype, match, fmt = _guess_stripped(stripped)
        counts = text.value_counts()
        shown = counts[counts >= min_count].head(top)
        mask_kind = _MASK_KINDS.get(kind) or privacy_mask_kind(str(name), "", text.iloc[0] if len(text) else None)
        mask_kind = None if mask_kind == "plain" else mask_kind

        def show(v, mask_kind=mask_kind):
            if v is None:
                return None
            # kind None still masks ID-like and mobile-like runs: a column only partly of ID numbers
            # (身份证号 mixed with 护照号) is not guessed as id_card, yet its IDs must not be shown
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
            lost_digits=_lost_digit_rows(notnull, counts),
        )
        if len(text):
            lengths = [len(v) for v in counts.index.tolist()]
            cp.min_length, cp.max_length = min(lengths), max(lengths)
            if dtype in ("integer", "decimal"):
                nums = pd.to_numeric(text, errors="coerce").dropna()
                if len(nums):
                    # a phone or ID exported as a number (13812345678.0) is as identifying as text
                    cp.min, cp.max = show(_num(nums.min())), show(_num(nums.max()))
            elif dtype in ("date", "datetime"):
                _profile_dates(cp, stripped, fmt, show)
            elif kind not in ("text",):
                cp.min, cp.max = show(text.min()), show(text.max())
        cols.append(cp)
    return Profile(source=source, rows=n, columns=cols, read_as=read_as or source, min_count=min_count)


def _profile_dates(cp: ColumnProfile, text: pd.Series, fmt: str, show) -> None:
    """A date column's range (in its main format), values no real date, and its formats if mixed."""
    formats = date_format_of(text, first=fmt)
    parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")  # 0001..9999 fit (ns: only 1677..2262)
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


def _mixed_formats_warning(column: str, text: pd.Series, formats: pd.Series, counts: pd.Series, show) -> str:
    """``列「就诊日期」混用了 3 种日期格式：…`` — each format with its count and two examples."""
    parts = []
    for f, n in counts.items():
        examples = "、".join(str(show(v)) for v in text[formats == f].drop_duplicates().head(2))
        parts.append(f"{f} {int(n)} 个（如 {examples}）")
    other = int(formats.isna().sum())
    rest = f"；另有 {other} 个值不是日期" if other else ""
    return (
        f"列「{column}」混用了 {len(counts)} 种日期格式：{'；'.join(parts)}{rest}。"
        "请核对这些格式是否都对：指标对照的 format 未写时逐个识别以年份开头的已知格式，写了则只按所写的格式转换"
        f"（几种格式用 | 分隔，如 format: '{' | '.join(map(str, counts.index[:2]))}'）；最好在导出时统一格式"
    )


_LOST_SHAPE = re.compile(r"[eEＥｅ]|^\d{15}000$")  # what a long number a spreadsheet rounded looks like


def _lost_digit_rows(values: pd.Series, counts: pd.Series) -> int:
    """How many values are long numbers whose digits a spreadsheet lost (1.10101E+17, 1.1e17);
    ``counts``: the column's non-blank values as text with how often each occurs."""
    if pd.api.types.is_float_dtype(values.dtype):
        return int((values.abs() >= 1e15).sum())
    if pd.api.types.is_bool_dtype(values.dtype):
        return 0
    if isinstance(values.dtype, pd.StringDtype) and len(counts) <= _FEW:  # a few distinct texts: each once
        return sum(
            c for v, c in zip(counts.index.tolist(), counts.tolist()) if _LOST_SHAPE.search(v) and lost_digits(v)
        )
    shape = values.astype("str").str.contains(_LOST_SHAPE.pattern).to_numpy(dtype=bool, na_value=False)
    if pd.api.types.is_object_dtype(values.dtype) and pd.api.types.infer_dtype(values, skipna=True) != "string":
        shape = shape | ~values.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)  # Python floats among text
    return sum(lost_digits(v) for v in values[shape].tolist())


def _num(x) -> str:
    x = float(x)
    return str(int(x)) if x.is_integer() else f"{x:g}"


def profile_source(source, *, min_count: int = 5, top: int = 10, **read_options) -> Profile:
    """Profile a source (CSV/Excel path, SQLAlchemy URL with ``table=``/``query=``, or a DataFrame).

    ``read_options`` are passed to :func:`hlwjr.read_source` (``table``, ``sheet``, ``encoding`` ...).
    """
    from ._read import Source

    src = Source(source, **read_options)
    df = src.read()
    return profile_frame(df, source=src.info.label, min_count=min_count, top=top, read_as=src.info.describe())
