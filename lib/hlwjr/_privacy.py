"""Identity numbers and masking (脱敏): GB 11643 公民身份号码 check, ID / phone / name masking.

Real patient data flows through hlwjr, so nothing it prints, logs or writes into a report may carry
a full 身份证号 (ID-card number) or 手机号 (phone number). Everything user-facing goes through
:func:`mask_value` (one value) or :func:`mask_series` (a pandas column, vectorised):

* ID card ``110101199003071234`` → ``110101********1234`` (区划码 kept, birth date and sequence hidden);
* phone ``13812345678`` → ``138****5678``;
* name ``张三`` → ``张*``, ``欧阳娜娜`` → ``欧阳**`` (复姓 kept whole);
* landline ``010-12345678`` / ``(010)12345678`` / ``+86-10-12345678`` → ``010-****5678`` /
  ``+86-10-****5678``, ``0755-1234567`` → ``0755-****567`` (区号 kept, 4 digits starred like a
  mobile's), ``62345678-801`` → ``****5678-801``.

In free text (:func:`mask_text`, kind None) numbers are found also when glued together with no
separator (``1381234567813912345678`` is two mobiles, an ID then a mobile is split too); a long digit
run that holds a sure number (a valid ID, a mobile) at a plausible split has its middle starred
rather than shown. Dates, times and amounts stay readable: ``2026-12-08 12:30:45``, ``1,234.56``,
``20261208123045`` and a batch number ``20261208-01`` are not numbers to mask. Service numbers
(``400-810-8888``, ``800…``, ``95588``, ``12345``) belong to companies, not persons: shown as they are.

GB 11643-1999 公民身份号码: 18 characters = 6 digits 行政区划代码 + 8 digits 出生日期 YYYYMMDD +
3 digits 顺序码 (odd = male, even = female) + 1 校验码 (ISO 7064 MOD 11-2: weights
7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2, Σ mod 11 → ``10X98765432``). The old 15-digit form
(YYMMDD, 19xx, no check digit) is recognised by :func:`id_birthdate` / :func:`id_sex` but is *not*
valid for :func:`check_id_number` unless ``allow_15=True`` (the platform expects 18 digits).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import heapq
import math
import numbers
import re
import unicodedata
from typing import Any

__all__ = [
    "COMPOUND_SURNAMES",
    "ID_CHECK_CHARS",
    "ID_WEIGHTS",
    "LOST_DIGITS_FROM",
    "TEXT_COLUMN_FIX",
    "check_id_number",
    "id_birthdate",
    "id_problem",
    "id_sex",
    "key_digest",
    "lost_digits",
    "mask_key",
    "mask_kind",
    "mask_series",
    "mask_text",
    "mask_value",
    "normalize_number",
    "normalize_number_values",
    "normalize_numbers",
    "to_halfwidth",
]

#: GB 11643 check: weights of the 17 digits and the check character of (Σ mod 11) — the one
#: definition (the vectorised validation kernel and the demo generator use these too).
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
_ID18 = re.compile(r"[0-9]{17}[0-9Xx]")
_ID15 = re.compile(r"[0-9]{15}")

# 全角 → 半角 for digits, Latin letters and the usual punctuation (U+FF01..U+FF5E), plus 全角空格.
_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20

#: 复姓 (compound surnames) kept whole when masking a name.
COMPOUND_SURNAMES = frozenset(
    """
    欧阳 太史 端木 上官 司马 东方 独孤 南宫 万俟 闻人 夏侯 诸葛 尉迟 公羊 赫连 澹台 皇甫 宗政 濮阳 公冶
    太叔 申屠 公孙 慕容 仲孙 钟离 长孙 宇文 司徒 鲜于 司空 闾丘 子车 亓官 司寇 巫马 公西 颛孙 壤驷 公良
    漆雕 乐正 宰父 谷梁 拓跋 夹谷 轩辕 令狐 段干 百里 呼延 东郭 南门 羊舌 微生 公户 公玉 公仪 梁丘 公仲
    公上 公门 公山 公坚 左丘 公伯 西门 公祖 第五 公乘 贯丘 公皙 南荣 东里 东宫 仲长 子书 子桑 即墨 达奚
    褚师 吴铭
    """.split()
)


def to_halfwidth(s: str) -> str:
    """全角转半角: full-width digits/letters/punctuation (``１１０１``) to their ASCII forms."""
    return s.translate(_FULLWIDTH)


# ------------------------------------------------------------- the one normal form of a number
# What real exports put in and around an ID or phone number: a BOM or zero-width character, Excel's
# leading apostrophe ('110101…), full-width digits, and spaces or dashes between digit groups
# (138 0013 8000, 110101-19900101-1234, +86 138…). Masking and guessing read a number only through
# normalize_number, so none of these lets a full number through unrecognised.
_INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u2060\u00ad\u180e\u200e\u200f"))
_SEP_CHARS = r"\s\-\u2010-\u2015\u2212\ufe63\uff0d\u200b-\u200d\u2060\ufeff"
_INNER_SEPS = re.compile(rf"(?<=\d)[{_SEP_CHARS}]+(?=[\dXx])")
_EDGES = " \t\r\n'\"`\u2018\u2019"


def normalize_number(value: Any) -> str:
    """An ID/phone-like value in its one normal form: NFKC (全角 → 半角, ideographic space → space),
    invisible characters (BOM, zero-width) dropped, Excel's leading apostrophe and surrounding spaces
    removed, spaces and dashes between digits removed (``"'１３８ 0013-8000"`` → ``13800138000``)."""
    s = unicodedata.normalize("NFKC", str(value)).translate(_INVISIBLE)
    if not s.isascii():  # other Unicode decimal digits (e.g. 𝟏 after NFKC is 1; ٣ is not)
        s = re.sub(r"\d", lambda m: str(unicodedata.decimal(m.group(0))), s)
    return _INNER_SEPS.sub("", s.strip(_EDGES))


# only values with a digit can be an ID or a phone: names and codes of letters stay as they are,
# and so do plain digit strings (already in normal form)
_PLAIN_NUMBER, _DIGIT = re.compile(r"[0-9]*[0-9Xx]?"), re.compile(r"\d")


def normalize_numbers(series):
    """:func:`normalize_number` over a pandas Series of text (plain digit strings pass unchanged)."""
    s = series.astype("str")
    odd = ~s.str.fullmatch(_PLAIN_NUMBER.pattern) & s.str.contains(_DIGIT.pattern)
    if not odd.any():
        return s
    return s.where(~odd, s[odd].map(normalize_number))


def normalize_number_values(values) -> list:
    """:func:`normalize_numbers` value by value, for a few (distinct) texts: no pandas call per test.
    Anything not text (a missing value) stays as it is."""
    return [
        normalize_number(v) if isinstance(v, str) and not _PLAIN_NUMBER.fullmatch(v) and _DIGIT.search(v) else v
        for v in values
    ]


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    try:  # pd.NA, pd.NaT without importing pandas here
        return type(value).__name__ in {"NAType", "NaTType"}
    except Exception:  # pragma: no cover
        return False


def _birth(s: str) -> _dt.date | None:
    if _ID18.fullmatch(s):
        y, m, d = int(s[6:10]), int(s[10:12]), int(s[12:14])
    elif _ID15.fullmatch(s):
        y, m, d = 1900 + int(s[6:8]), int(s[8:10]), int(s[10:12])
    else:
        return None
    try:
        return _dt.date(y, m, d)
    except ValueError:
        return None


def id_check_char(first17: str) -> str:
    """The GB 11643 校验码 for the first 17 digits of an ID number."""
    total = sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS))
    return ID_CHECK_CHARS[total % 11]


def id_problem(value: Any, *, allow_15: bool = False, today: _dt.date | None = None) -> str | None:
    """Why ``value`` is not a valid 公民身份号码, in Chinese, or None when it is valid.

    Full-width digits, spaces and a lower-case ``x`` are reported (the platform compares bytes);
    the messages say how to fix them. The value itself is never part of the message.
    """
    if _is_missing(value):
        return "身份证号为空"
    s = str(value)
    form = _export_problem(value, s)
    if form:
        return form
    if s != s.strip():
        return "身份证号前后有空格，请去掉空格"
    if s != to_halfwidth(s):
        return "身份证号含全角字符，请转换为半角数字/字母"
    if _ID15.fullmatch(s):
        if not allow_15:
            return "身份证号为15位旧号码，平台要求18位，请升位为18位号码"
        if _birth(s) is None:
            return "身份证号第7-12位不是有效的出生日期"
        return None
    if _INNER_SEPS.search(s):
        return "身份证号中间有空格或连字符，请去掉分隔符"
    if len(s) != 18:
        return f"身份证号应为18位，实际{len(s)}位"
    if not _ID18.fullmatch(s):
        return "身份证号格式错误：前17位应为数字，第18位为数字或X"
    if s[17] == "x":
        return "身份证号末位校验码应为大写X"
    birth = _birth(s)
    if birth is None:
        return "身份证号第7-14位不是有效的出生日期"
    today = today or _dt.date.today()
    if birth > today or birth.year < 1890:
        return "身份证号中的出生日期不合理（晚于今天或早于1890年）"
    if id_check_char(s[:17]) != s[17]:
        return "身份证号校验位错误（GB 11643），请核对号码"
    return None


#: How to fix a long number Excel stored as a number (its digits after the 15th are lost).
TEXT_COLUMN_FIX = "请在 Excel 中把该列设为文本后重新导出"
#: A number this large read as a float has lost digits (Excel keeps 15 significant digits).
LOST_DIGITS_FROM = 1e15
_SCI_NOTATION = re.compile(r"[+-]?\d(?:\.\d+)?[eE]\+?(?:1\d|[2-9]\d)")  # 10 digits and more


_ROUNDED_ID = re.compile(r"[0-9]{15}000")  # an 18-digit ID after Excel: its last three digits 0


def lost_digits(value: Any) -> bool:
    """Is ``value`` a long number (ID, phone) whose digits a spreadsheet already lost: a float of
    16 or more digits (Excel keeps 15 significant digits), text in 科学计数法 (``1.10101E+17``), or
    18 digits ending in ``000`` whose check digit is wrong (``110101199001011000``)?"""
    if isinstance(value, bool) or _is_missing(value):
        return False
    if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
        return math.isfinite(value) and abs(value) >= LOST_DIGITS_FROM
    if not isinstance(value, (str, numbers.Integral)):
        return False
    s = normalize_number(value)
    return bool(_SCI_NOTATION.fullmatch(s) or (_ROUNDED_ID.fullmatch(s) and id_check_char(s[:17]) != "0"))


def _export_problem(value: Any, s: str) -> str | None:
    """What an export did to an ID number: stored as a number, an apostrophe, invisible characters."""
    if lost_digits(value):
        return (
            f"身份证号被 Excel 存成了数字（科学计数法，只留 15 位有效数字），末几位已丢失、无法恢复：{TEXT_COLUMN_FIX}"
        )
    if isinstance(value, numbers.Number) and not isinstance(value, bool):
        return f"身份证号是数字而不是文本（末位 X 和前导零会丢失）：{TEXT_COLUMN_FIX}"
    if s.translate(_INVISIBLE) != s:
        return "身份证号含不可见字符（如 BOM、零宽空格），请删除"
    if s.lstrip().startswith(("'", "\u2018", "\u2019")):
        return "身份证号前有单引号（Excel 的文本标记），请去掉"
    return None


def check_id_number(value: Any, *, allow_15: bool = False) -> bool:
    """Is ``value`` a valid 公民身份号码 (GB 11643-1999: format, real birth date, 校验码)?

    Strict: 18 half-width characters, upper-case ``X``, no surrounding spaces.
    """
    return id_problem(value, allow_15=allow_15) is None


def id_birthdate(value: Any) -> _dt.date | None:
    """出生日期 encoded in an 18- or 15-digit ID number, or None if it has no valid date."""
    if _is_missing(value):
        return None
    return _birth(to_halfwidth(str(value)).strip())


def id_sex(value: Any) -> str | None:
    """性别 encoded in an ID number as a GB/T 2261.1 code: ``"1"`` 男 (odd 顺序码), ``"2"`` 女 (even).

    None when the value is not an ID number.
    """
    if _is_missing(value):
        return None
    s = to_halfwidth(str(value)).strip()
    if _ID18.fullmatch(s):
        digit = int(s[16])
    elif _ID15.fullmatch(s):
        digit = int(s[14])
    else:
        return None
    return "1" if digit % 2 else "2"


# ------------------------------------------------------------------------------------ masking


def _mask_id(s: str) -> str:
    n = len(s)
    if n >= 15:
        return s[:6] + "*" * (n - 10) + s[-4:]
    if n >= 7:  # passports, 港澳台 permits …: keep 2 + 2
        return s[:2] + "*" * (n - 4) + s[-2:]
    if n >= 2:
        return "*" * (n - 1) + s[-1:]
    return "*" * n


def _mask_phone(s: str) -> str:
    n = len(s)
    if n >= 11:
        return s[: n - 8] + "****" + s[-4:]
    if n >= 7:  # landline without area code, e.g. 6512-3456
        return _mask_local(s)
    if n >= 2:
        return "*" * (n - 2) + s[-2:]
    return "*" * n


def _mask_phone_value(raw: str) -> str:
    """A phone field's value: a mobile, a landline (area code kept: 0755-****4567), or text holding
    numbers (an ID, several phones, an extension), masked number by number."""
    s = normalize_number(raw)
    if _AREA_NUMBER.fullmatch(s):
        area = 3 if s[1] in "12" else 4
        return f"{s[:area]}-{_mask_local(s[area:])}"
    if len(s) <= 14 and not _LANDLINE.search(to_halfwidth(raw)):
        return _mask_phone(s)
    masked = mask_text(raw)
    return masked if masked != raw else _mask_phone(s)


def _mask_name(s: str) -> str:
    t = s.strip()
    if not t:
        return s
    keep = 2 if len(t) >= 3 and t[:2] in COMPOUND_SURNAMES else 1  # 复姓 kept whole; else the first character
    if len(t) == 1:
        return "*"
    return t[:keep] + "*" * (len(t) - keep)


# ID-like and phone-like numbers inside free text: a run of digit groups (any decimal digits,
# 全角 too) joined by up to three separators (spaces, dashes, zero-width characters) is read as the
# digits of its groups, in their normal form (normalize_number). The run is split into the surest
# numbers it holds (_run_numbers): an ID (18, or an old 15 that is one group) or a mobile (11, or
# 86 + 11) made of whole groups — "138 0013 8000 139-0013-9000" is two phones — or several sure
# numbers glued with no separator ("1381234567813912345678", an ID then a mobile). Digits left over
# that still hold a sure number at a plausible split (_loose_windows) have its middle starred.
_GROUP = r"(?:\d+[XxＸｘ]?|[XxＸｘ](?![A-Za-z]))"  # a check character X may stand apart: "… 123 X"
_DIGIT_GROUP = re.compile(_GROUP)
_TEXT_RUN = re.compile(rf"\d+[XxＸｘ]?(?:[{_SEP_CHARS}]{{1,3}}{_GROUP})*")
_TEXT_SCI = re.compile(r"(?<![\d.])\d\.\d{5,}[eE]\+?(?:1\d|[2-9]\d)(?!\d)")
_NUMBER_PHONE = re.compile(r"(?:86)?1[3-9][0-9]{9}")
_MOBILE_IN = re.compile(r"(?=(1[3-9][0-9]{9}))")
_PIECE_LENGTHS = (11, 13, 15, 18)
# a date and time written without separators (20261208, 20261208123045, …123) is not glued numbers
_TIMESTAMP = re.compile(
    r"(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?:(?:[01]\d|2[0-3])(?:[0-5]\d){0,2}\d{0,3})?"
)


#: 省级行政区划代码 (GB/T 2260; 83 台湾居民居住证): an 18-character ID whose check digit is wrong
#: still counts when it begins with one of them (a mistyped ID); an old 15-digit one must.
_PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82 83".split()
)


def _number_rank(digits: str, whole: bool = True, single: bool = False) -> int:
    """How surely ``digits`` (normal form) are a number to mask: 4 an ID with a plausible birth date
    and a right check digit, 3 a mobile, 2 another 18-character ID (a mistyped one: a plausible
    birth date or a province code), 1 a 15-digit (old) ID with a province code and a real birth
    date, 0 none. ``whole``: the digits are whole digit groups (of three digits or more) — a
    number glued to other digits must be sure (3 or 4); ``single``: they are one group — an old
    15-digit ID is one ("2026-11-01 0930 123" is none)."""
    n = len(digits)
    if n == 18 and _ID18.fullmatch(digits.upper()):
        birth = _birth(digits.upper())
        plausible = birth is not None and 1890 <= birth.year <= _dt.date.today().year
        if plausible and id_check_char(digits[:17]) == digits[17].upper():
            return 4
        return 2 if whole and (plausible or digits[:2] in _PROVINCES) else 0
    if n in (11, 13) and _NUMBER_PHONE.fullmatch(digits):
        return 3
    return 1 if n == 15 and single and digits[:2] in _PROVINCES and _birth(digits) else 0


def _run_numbers(digits: str, starts: list[int]) -> list[tuple[int, int]]:
    """The surest numbers in a run's ``digits`` (its groups start at ``starts``): (start, end) pairs.

    A number begins at a group start or where a glued number ends; one ending inside a group must be
    followed by another number (glued). Of the ways to read the run, the one covering most digits
    with the surest numbers wins (a valid ID beats a mobile beats a mistyped ID). Numbers read over a
    date stand only with a valid ID among them (_not_over_dates)."""
    n = len(digits)
    bounds = set(starts) | {n}
    group_end = dict(zip(starts, starts[1:] + [n]))
    best: dict[int, tuple[int, int, int]] = {0: (0, -1, 0)}  # position → (score, previous, rank)
    todo = [0]
    while todo:
        p = heapq.heappop(todo)
        if p == n or (todo and todo[0] == p):
            continue
        score = best[p][0]
        if p in group_end:  # the group at p begins no number
            _better(best, todo, group_end[p], (score, p, 0))
        for length in _PIECE_LENGTHS:
            e = p + length
            if e > n:
                break
            single = group_end.get(p) == e
            whole = single or (p in bounds and e in bounds and _written_as_number(group_end, p, e))
            rank = _number_rank(digits[p:e], whole, single)
            if rank:
                _better(best, todo, e, (score + rank * length, p, rank))
    pieces, e = [], n
    while e > 0:
        _score, p, rank = best[e]
        if rank:
            pieces.append((p, e, rank))
        e = p
    return _not_over_dates(pieces[::-1], bounds, _dates(digits, starts))


def _not_over_dates(pieces: list[tuple[int, int, int]], bounds: set[int], dates) -> list[tuple[int, int]]:
    """The pieces without those read over a date ("1999-01-01 100.00" is no mobile): numbers glued
    together stand or fall together, and stand over a date only with an ID among them that holds
    it — as its birth date (110101-1990-03-07-1234), or glued into a long group (20000101…)."""
    out, chain = [], []
    for p, e, rank in pieces + [(-1, -1, 0)]:
        if chain and (p != chain[-1][1] or p in bounds):  # the chain ended
            over = [(a, b) for a, b in dates if a < chain[-1][1] and chain[0][0] < b]
            if all(any(_holds_date(piece, date) for piece in chain) for date in over):
                out += [(a, b) for a, b, _r in chain]
            chain = []
        chain.append((p, e, rank))
    return out


def _holds_date(piece: tuple[int, int, int], date: tuple[int, int]) -> bool:
    p, e, rank = piece
    if rank not in (2, 4) or not (p < date[1] and date[0] < e):
        return False
    return date[1] - date[0] != 8 or date[0] == p + 6  # a 2026-12-08 in an ID is its birth date


def _dates(digits: str, starts: list[int]) -> list[tuple[int, int]]:
    """Where groups make a date: 4, 2 and 2 digits (2026-12-08) or one group of a date and time
    (20261208123045; 8 digits alone may be a mobile's part: 190 00101 000 is one)."""
    edges = list(zip(starts, starts[1:] + [len(digits)]))
    spans = [(a, b) for a, b in edges if 12 <= b - a <= 17 and _TIMESTAMP.fullmatch(digits, a, b)]
    return spans + [
        (y[0], d[1])
        for y, m, d in zip(edges, edges[1:], edges[2:])
        if (y[1] - y[0], m[1] - m[0], d[1] - d[0]) == (4, 2, 2) and _TIMESTAMP.fullmatch(digits, y[0], d[1])
    ]


def _written_as_number(group_end: dict[int, int], p: int, e: int) -> bool:
    """Are the groups from ``p`` to ``e`` three digits or more each, as an ID written in parts is
    (110101 19900307 1234)? Groups of one or two digits are dates and times ("11 2000-01-01")."""
    return all(b - a >= 3 for a, b in group_end.items() if p <= a < e)


def _better(best: dict, todo: list, e: int, step: tuple[int, int, int]) -> None:
    if e not in best or step[0] > best[e][0]:
        best[e] = step
        heapq.heappush(todo, e)


def _loose_windows(digits: str, starts: list[int], taken: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sure numbers (a valid ID, a mobile) in the digits no number took, at a plausible split: one
    end at a group's edge (glued to stray digits: "1381234567801", "138 1234 567801"), or anywhere
    in a group too long to be one number. Dates and times written without separators are none; a
    number over groups of one or two digits or a date is none ("2026-12-13 2026-12-08 12", "19990101 2000")."""
    edges = list(zip(starts, starts[1:] + [len(digits)]))
    free = {(a, b) for a, b in edges if not any(p < b and a < e for p, e in taken)}
    ends = {b for _a, b in edges}
    dates = _dates(digits, starts)
    out = []
    for a, b in sorted(free):
        if b - a >= 8 and _TIMESTAMP.fullmatch(digits, a, b):
            continue
        for w in _sure_windows(digits, a, b):
            touched = [g for g in edges if g[0] < w[1] and w[0] < g[1]]
            if not free.issuperset(touched) or any(w[0] < b2 and a2 < w[1] for a2, b2 in dates):
                continue
            if len(touched) == 1:
                plausible = b - a >= 19 or w[0] == a or w[1] == b
            else:  # each group as a number's part is written: three digits or more, no date
                plausible = (w[0] == a or w[1] in ends) and all(
                    g[1] - g[0] >= 3 and not _TIMESTAMP.fullmatch(digits, *g) for g in touched
                )
            if plausible:
                out.append(w)
    return out


def _sure_windows(digits: str, a: int, b: int) -> list[tuple[int, int]]:
    """Mobiles and valid IDs beginning in ``digits[a:b]``, wherever they end."""
    wins = [(m.start(), m.start() + 11) for m in _MOBILE_IN.finditer(digits, a) if m.start() < b]
    wins += [(p, p + 18) for p in range(a, min(b, len(digits) - 17)) if _number_rank(digits[p : p + 18], False) == 4]
    return wins


def _mask_group(digits: str) -> str:
    """:func:`_mask_run` of one group of 11-18 plain digits (too short for two numbers glued)."""
    if _number_rank(digits, True, True):
        return _mask_number(digits)
    if len(digits) < 12 or _TIMESTAMP.fullmatch(digits):
        return digits
    for p in {0, len(digits) - 11}:  # a mobile glued to stray digits
        if _NUMBER_PHONE.fullmatch(digits, p, p + 11):
            digits = digits[: p + 3] + "****" + digits[p + 7 :]
    return digits


def _mask_number(digits: str) -> str:
    return _mask_phone(digits) if _NUMBER_PHONE.fullmatch(digits) else _mask_id(digits)


def _mask_run(run: str) -> str:
    if run.isdigit() and run.isascii() and len(run) < 19:  # the usual: one plain group, no glued pair in it
        return _mask_group(run)
    spans = [(m.start(), m.end()) for m in _DIGIT_GROUP.finditer(run)]
    ascii_ = run.isascii()  # then each group is already in its normal form
    digits = "".join(run[a:b] if ascii_ else normalize_number(run[a:b]) for a, b in spans)  # one character each
    at = [i for a, b in spans for i in range(a, b)]  # where each digit stands in the run
    if len(digits) != len(at):  # pragma: no cover - a decimal digit NFKC widens
        return _mask_id(digits)
    starts, pos = [], 0
    for a, b in spans:
        starts.append(pos)
        pos += b - a
    numbers = _run_numbers(digits, starts)
    chars = list(run)
    for p, e in _loose_windows(digits, starts, numbers):
        for k in range(p + 3, p + 7) if e - p == 11 else range(p + 6, p + 14):
            chars[at[k]] = "*"
    for p, e in reversed(numbers):
        chars[at[p] : at[e - 1] + 1] = [_mask_number(digits[p:e])]
    return "".join(chars)


# Landlines (座机) in free text: an area code (010, 0755, (010), +86-10) and a local number of 7 or 8
# digits (not beginning with 0 or 1), maybe an extension (-801, 转801); a local number alone only with
# an extension or after 电话/座机/tel. Service numbers (400-810-8888, 800…, 95588, 12345) belong to
# companies, not persons: they are shown as they are.
_S = f"[{_SEP_CHARS}]"
_AREA = r"(?:10|2\d|[3-9]\d\d)"
_LOCAL = rf"[2-9]\d{{2,3}}{_S}?\d{{4}}"
_AREA_LOCAL = rf"[1-9]\d{{2,3}}{_S}?\d{{4}}"  # after an area code, 010-12345678 too
_EXT = rf"{_S}*(?:[-－]|转|分机|ext\.?){_S}*\d{{1,5}}"
_LANDLINE_PATTERN = (
    rf"(?<![\d.+])(?:(?P<cc>(?:\+|00)?86){_S}*[(（]?0?(?P<a1>{_AREA})[)）]?|[(（]?0(?P<a2>{_AREA})[)）]?)"
    rf"{_S}*(?P<l1>{_AREA_LOCAL})(?P<x1>{_EXT})?(?!\d)"
    rf"|(?<![\d.+\-])(?P<l2>{_LOCAL})(?P<x2>{_EXT})(?!\d)"
    rf"|(?P<cue>(?:电话|座机|固话|tel|phone)[^\d\n]{{0,4}}?)(?P<l3>{_LOCAL})(?!\d)"
)
_LANDLINE = re.compile(rf"(?=[\d(（+电座固tp])(?:{_LANDLINE_PATTERN})", re.IGNORECASE)  # the lookahead: speed
_HAS_FULLWIDTH = re.compile("[０-９＋]")
_LOCAL_HINT = re.compile(rf"\d{{3}}{_S}?\d{{4}}")  # what every landline holds (any decimal digits)
#: what mask_text may change in a value of fewer than 11 digits: a landline, a number in 科学计数法
_SHORT_CHANGES = f"{_LOCAL_HINT.pattern}|{_TEXT_SCI.pattern}"
_AREA_NUMBER = re.compile(r"0(?:10|2\d|[3-9]\d\d)[1-9]\d{6,7}")


def _mask_local(local: str) -> str:
    """A local number with its last 2-4 digits kept and 4 starred, like a mobile's middle."""
    keep = min(4, max(2, len(local) - 4))
    return "*" * (len(local) - keep) + local[-keep:]


def _masked_landline(m: re.Match, text: str) -> str:
    g = {k: normalize_number(v) if v else "" for k, v in m.groupdict().items()}
    local = re.sub(r"\D", "", g["l1"] or g["l2"] or g["l3"])
    ext = re.sub(r"\D", "", g["x1"] or g["x2"])
    if g["l2"] and _TIMESTAMP.fullmatch(local):  # 20261208-01 is a batch number
        return text[m.start() : m.end()]
    shown = _mask_local(local) + (f"-{ext}" if ext else "")
    if g["cue"] or g["l2"]:
        return text[m.start() : m.start("l3")] + shown if g["cue"] else shown
    return (f"+86-{g['a1']}-" if g["cc"] else f"0{g['a2']}-") + shown


def _mask_landlines(text: str) -> str:
    if not _LOCAL_HINT.search(text):
        return text
    half = to_halfwidth(text) if _HAS_FULLWIDTH.search(text) else text  # one character for one: positions stay
    out, pos = [], 0
    for m in _LANDLINE.finditer(half):
        out += [text[pos : m.start()], _masked_landline(m, text)]
        pos = m.end()
    return "".join(out) + text[pos:] if out else text


# ------------------------------------------------------------------- what must be masked
# The one answer to "must this field's values be masked, and how?" — reports, previews, the
# evidence pack, issues and widgets all ask here.

_ID_KEYS = ("certid", "idcard", "certno", "idno", "sfzh")
_PHONE_KEYS = ("mobile", "phone", "telnum", "tel")
_ORG_KEYS = ("organ", "unitid", "orgcode", "uscc")
_PERSON_KEYS = (
    "patient",
    "doctor",
    "guardian",
    "people",
    "person",
    "nurse",
    "pharmac",
    "representative",
    "audit",
    "contact",
)
_NOT_PERSON = ("drug", "dept", "org", "unit", "diag", "item", "hosp", "disease", "title", "subject", "spec")
_PERSON_ROLES = (
    "代表人",
    "负责人",
    "联系人",
    "医生",
    "医师",
    "药师",
    "护士",
    "患者",
    "病人",
    "就诊人",
    "患儿",
    "家属",
    "监护人",
    "审核人",
    "投诉人",
)


def mask_kind(key: str, name: str = "", value: Any = None) -> str | None:
    """How a field's values are masked (脱敏) wherever they are shown: ``"id"`` (证件号),
    ``"phone"`` (电话), ``"name"`` (姓名), ``"plain"`` (机构代码: shown as is) or None (ID- and
    phone-like digit runs masked inside the text). ``key`` is the field key, ``name`` its Chinese
    name, ``value`` an optional sample value (a 2–4 character Chinese value of a person-role
    field is a name)."""
    key, name = unicodedata.normalize("NFKC", str(key)), unicodedata.normalize("NFKC", name or "")
    k = key.lower()
    # Chinese words count in the name and in the key alike (a source column is named 病人姓名)
    name = f"{name or ''} {key}" if _has_han(str(key)) else name or ""
    if any(t in k for t in _ID_KEYS) or any(t in name for t in ("身份证", "证件号")):
        return "id"
    if any(t in k for t in _PHONE_KEYS) or any(t in name for t in ("电话", "手机", "联系方式")):
        return "phone"
    if any(t in k for t in _ORG_KEYS) or any(t in name for t in ("机构", "信用代码")):
        return "plain"
    return "name" if _is_person_name(k, name, value) else None


def _has_han(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in text)


def _is_person_name(k: str, name: str, value: Any) -> bool:
    if "姓名" in name or "名字" in name or k in {"auditdoctor", "evaluationpeople"}:
        return True
    if any(w in k for w in _NOT_PERSON):
        return False
    if k.endswith(("name", "people", "person")) and (any(t in k for t in _PERSON_KEYS) or not name):
        return True
    return (
        isinstance(value, str)
        and 2 <= len(value) <= 4
        and all("\u4e00" <= c <= "\u9fff" for c in value)
        and (any(r in name for r in _PERSON_ROLES) or "representative" in k or k.endswith("name"))
    )


def mask_text(text: str) -> str:
    """Mask every ID-like (15/18 digits), mobile-like (11 digits, 1[3-9]…) and landline number
    (010-12345678 → 010-****5678) inside a text, also when numbers are glued together."""
    if len(text) < 9:  # a landline after 电话 has at least 9 characters, an ID or a mobile 11
        return text
    if "e" in text or "E" in text:  # 1.10101199001011E+17 shows 15 digits
        text = _TEXT_SCI.sub(lambda m: _mask_id(m.group(0)), text)
    if "." in text or "．" in text:  # 138.1234.5678: a mobile written in dotted groups
        text = _DOTTED_MOBILE.sub(r"\1****\3", text)
    return _mask_landlines(_TEXT_RUN.sub(_masked_run, text))  # IDs and mobiles first: no landline in them


#: a mobile in the 3-4-4 groups some write with dots (138.1234.5678, full-width ．too); a decimal
#: or a version (3.1415, 1.2.3) never has that shape
_DOTTED_MOBILE = re.compile(r"(?<![\d.．])(1[3-9]\d[.．])(\d{4})([.．]\d{4})(?![\d]|[.．]\d)")


def _masked_run(m: re.Match) -> str:
    run = m.group(0)
    return run if len(run) < 11 or sum(map(str.isdigit, run)) < 11 else _mask_run(run)


def mask_value(value: Any, kind: str | None = None) -> str | None:
    """脱敏: the value as a display string with the identifying part replaced by ``*``.

    ``kind`` is ``"id"`` (证件号), ``"phone"`` (电话), ``"name"`` (姓名) or None: then ID-like and
    phone-like digit runs anywhere in the value are masked (names cannot be recognised from the
    value alone; pass ``kind="name"``). Missing values (None, NaN, pd.NA) give None.
    """
    if _is_missing(value):
        return None
    s = value if isinstance(value, str) else str(value)
    if kind is None:
        return mask_text(s)
    if kind == "plain":
        return s
    if kind == "id":
        return _mask_id(normalize_number(s))
    if kind == "phone":
        return _mask_phone_value(s)
    if kind == "name":
        return _mask_name(s)
    raise ValueError(f"unknown mask kind {kind!r}: expected 'id', 'phone', 'name', 'plain' or None")


def mask_series(series, kind: str | None = None):
    """Vectorised :func:`mask_value` over a pandas Series; returns an object Series (None = missing).

    The common shapes (18-character IDs, 11-digit mobiles, 2-3 character names) are masked with
    vectorised string operations; the rest fall back to :func:`mask_value` element by element.
    """
    import pandas as pd

    if kind not in {None, "id", "phone", "name", "plain"}:
        raise ValueError(f"unknown mask kind {kind!r}: expected 'id', 'phone', 'name', 'plain' or None")
    if len(series) <= 2000:  # small inputs: plain Python is cheaper than pandas' per-call overhead
        values = series.tolist() if hasattr(series, "tolist") else list(series)
        index = series.index if isinstance(series, pd.Series) else None
        return pd.Series([mask_value(v, kind) for v in values], index=index, dtype=object)
    s = pd.Series(series, copy=False)
    if kind == "plain":
        return pd.Series([None if _is_missing(v) else str(v) for v in s.tolist()], index=s.index, dtype=object)
    missing = s.isna()
    text = s.astype("string").where(~missing)
    out = pd.Series([None] * len(s), index=s.index, dtype=object)
    if kind == "id":
        fast = text.str.fullmatch(r"[0-9]{17}[0-9Xx]").fillna(False)
        out[fast] = (text[fast].str.slice(0, 6) + "********" + text[fast].str.slice(14)).astype(object)
    elif kind == "phone":
        fast = text.str.fullmatch(r"1[0-9]{10}").fillna(False)  # 0… is a landline
        out[fast] = (text[fast].str.slice(0, 3) + "****" + text[fast].str.slice(7)).astype(object)
    elif kind == "name":
        fast = (
            text.str.len().isin([2, 3])
            & ~text.str.slice(0, 2).isin(COMPOUND_SURNAMES)
            & ~text.str.contains(r"\s", regex=True)
        ).fillna(False)
        sub = text[fast]
        stars = pd.Series("*", index=sub.index, dtype="string").str.repeat((sub.str.len() - 1).tolist())
        out[fast] = (sub.str.slice(0, 1) + stars).astype(object)
    else:
        count = text.str.count(r"\d").fillna(0)  # an ID or a mobile has 11 digits or more
        few_digits = count.lt(11).to_numpy(bool)
        local = few_digits & count.ge(7).to_numpy(bool)  # a landline has 7 digits or more, 3 and 4 together
        if local.any():
            few_digits[local] = ~text[local].str.contains(_SHORT_CHANGES).fillna(True).to_numpy(bool)
        few_digits = pd.Series(few_digits, index=s.index)
        fast = few_digits & ~missing
        out[fast] = text[fast].astype(object)
    rest = ~fast & ~missing
    if rest.any():
        out[rest] = [mask_value(v, kind) for v in s[rest].tolist()]
    return out


def mask_key(key: str | None, sep: str = "|") -> str | None:
    """A business key (业务主键, parts joined by ``sep``) for display, parts joined by ``|``: each
    part is masked as free text (:func:`mask_text`) — an ID-card, mobile or landline number in it is
    hidden; codes and line numbers stay readable."""
    if key is None:
        return None
    return "|".join(mask_text(p) for p in str(key).split(sep))


def key_digest(parts) -> str:
    """A business key (业务主键) as a one-way digest: SHA-256 of its parts joined by ``|``.

    Platform and hospital compute it from the same parts, so the platform can tell which keys it
    accepted (to rebuild a lost ledger) without sending the keys — ID-card numbers among them —
    back in clear."""
    text = "|".join("" if p is None else str(p) for p in parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
