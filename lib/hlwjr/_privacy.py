"""Identity numbers and masking (脱敏): GB 11643 公民身份号码 check, ID / phone / name masking.

Real patient data flows through hlwjr, so nothing it prints, logs or writes into a report may carry
a full 身份证号 (ID-card number) or 手机号 (phone number). Everything user-facing goes through
:func:`mask_value` (one value) or :func:`mask_series` (a pandas column, vectorised):

* ID card ``110101199003071234`` → ``110101********1234`` (区划码 kept, birth date and sequence hidden);
* phone ``13812345678`` → ``138****5678``;
* name ``张三`` → ``张*``, ``欧阳娜娜`` → ``欧阳**`` (复姓 kept whole).

GB 11643-1999 公民身份号码: 18 characters = 6 digits 行政区划代码 + 8 digits 出生日期 YYYYMMDD +
3 digits 顺序码 (odd = male, even = female) + 1 校验码 (ISO 7064 MOD 11-2: weights
7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2, Σ mod 11 → ``10X98765432``). The old 15-digit form
(YYMMDD, 19xx, no check digit) is recognised by :func:`id_birthdate` / :func:`id_sex` but is *not*
valid for :func:`check_id_number` unless ``allow_15=True`` (the platform expects 18 digits).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
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


def normalize_numbers(series):
    """:func:`normalize_number` over a pandas Series of text (plain digit strings pass unchanged)."""
    s = series.astype("str")
    # only values with a digit can be an ID or a phone: names and codes of letters stay as they are
    odd = ~s.str.fullmatch(r"[0-9]*[0-9Xx]?") & s.str.contains(r"\d")
    if not odd.any():
        return s
    return s.where(~odd, s[odd].map(normalize_number))


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
        return s[:2] + "*" * (n - 6) + s[-4:]
    if n >= 2:
        return "*" * (n - 2) + s[-2:]
    return "*" * n


def _mask_phone_value(s: str) -> str:
    """A phone field's value; one longer than ``+86`` and 11 digits is text holding numbers
    (an ID, several phones), masked run by run."""
    if len(s) <= 14:
        return _mask_phone(s)
    masked = mask_text(s)
    return masked if masked != s else _mask_phone(s)


def _mask_name(s: str) -> str:
    t = s.strip()
    if not t:
        return s
    keep = 2 if len(t) >= 3 and t[:2] in COMPOUND_SURNAMES else 1  # 复姓 kept whole; else the first character
    if len(t) == 1:
        return "*"
    return t[:keep] + "*" * (len(t) - keep)


# ID-like and phone-like numbers inside free text: a run of digit groups (any decimal digits,
# 全角 too) joined by up to three separators (spaces, dashes, zero-width characters) is read group by
# group; consecutive groups that make an ID (18 or 15) or a mobile (11, or 86 + 11) are masked in
# their normal form (normalize_number): "138 0013 8000 139-0013-9000" is two phones.
_GROUP = r"(?:\d+[XxＸｘ]?|[XxＸｘ](?![A-Za-z]))"  # a check character X may stand apart: "… 123 X"
_DIGIT_GROUP = re.compile(_GROUP)
_TEXT_RUN = re.compile(rf"\d+[XxＸｘ]?(?:[{_SEP_CHARS}]{{1,3}}{_GROUP})*")
_TEXT_SCI = re.compile(r"(?<![\d.])\d\.\d{5,}[eE]\+?(?:1\d|[2-9]\d)(?!\d)")
_NUMBER_ID = re.compile(r"[0-9]{17}[0-9Xx]|[0-9]{15}")
_NUMBER_PHONE = re.compile(r"(?:86)?1[3-9][0-9]{9}")


def _number_rank(digits: str) -> int:
    """How surely ``digits`` (normal form) are a number to mask: 4 an ID with a real birth date and
    a right check digit, 3 a mobile, 2 another 18-character ID, 1 a 15-digit (old) ID, 0 none."""
    if len(digits) == 18 and _NUMBER_ID.fullmatch(digits):
        birth = _birth(digits.upper())
        valid = birth is not None and 1890 <= birth.year <= _dt.date.today().year
        return 4 if valid and id_check_char(digits[:17]) == digits[17].upper() else 2
    if _NUMBER_PHONE.fullmatch(digits):
        return 3
    return 1 if _NUMBER_ID.fullmatch(digits) else 0


def _number_at(groups: list[str], i: int) -> tuple[int, str] | None:
    """The surest ID/mobile made of (normalised) groups ``i..j``: (j, its digits), or None."""
    digits, best, found = "", 0, None
    for j in range(i, len(groups)):
        digits += groups[j]
        if len(digits) > 18:
            break
        rank = _number_rank(digits)
        rank = 0 if rank == 1 and j > i else rank  # an old 15-digit ID is one group: "2026-11-01 0930 123" is none
        if rank > best:
            best, found = rank, (j, digits)
    return found


def _mask_number(digits: str) -> str:
    return _mask_phone(digits) if _NUMBER_PHONE.fullmatch(digits) else _mask_id(digits)


def _mask_run(run: str) -> str:
    spans = [(m.start(), m.end()) for m in _DIGIT_GROUP.finditer(run)]
    groups = [normalize_number(run[a:b]) for a, b in spans]
    out, pos, i = [], 0, 0
    while i < len(groups):
        found = _number_at(groups, i)
        if found is None:
            i += 1
            continue
        j, digits = found
        out += [run[pos : spans[i][0]], _mask_number(digits)]
        pos, i = spans[j][1], j + 1
    return "".join(out) + run[pos:]


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
    """Mask every ID-like (15/18 digits) and mobile-like (11 digits, 1[3-9]…) run inside a text."""
    if len(text) < 11:  # an ID or a mobile has at least 11 characters
        return text
    text = _TEXT_SCI.sub(lambda m: _mask_id(m.group(0)), text)  # 1.10101199001011E+17 shows 15 digits
    return _TEXT_RUN.sub(_masked_run, text)


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
        return _mask_phone_value(normalize_number(s))
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
        fast = text.str.fullmatch(r"[0-9]{11}").fillna(False)
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
        few_digits = text.str.count(r"\d").lt(11).fillna(False)  # an ID or a mobile has 11 or more
        fast = few_digits & ~missing
        out[fast] = text[fast].astype(object)
    rest = ~fast & ~missing
    if rest.any():
        out[rest] = [mask_value(v, kind) for v in s[rest].tolist()]
    return out


def mask_key(key: str | None, sep: str = "|") -> str | None:
    """A business key (业务主键, parts joined by ``sep``) for display, parts joined by ``|``: each
    part long enough to be an ID-card or mobile number is masked; short parts (codes, line
    numbers) stay readable."""
    if key is None:
        return None
    return "|".join(p if len(p) < 11 else (mask_value(p) or "") for p in str(key).split(sep))


def key_digest(parts) -> str:
    """A business key (业务主键) as a one-way digest: SHA-256 of its parts joined by ``|``.

    Platform and hospital compute it from the same parts, so the platform can tell which keys it
    accepted (to rebuild a lost ledger) without sending the keys — ID-card numbers among them —
    back in clear."""
    text = "|".join("" if p is None else str(p) for p in parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
