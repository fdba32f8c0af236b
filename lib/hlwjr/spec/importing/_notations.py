"""What a cell says, read as a person does: type notations with case and typos (Varchar(50),
varchar2, Varcha(30), Decimal(8,2)), lengths, required markers and conditions, inline enumerations
(0失效，1有效 …) and what is not one (units, formats, ranges, examples), references to dictionaries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ._text import _norm

# --------------------------------------------------------------------------------------------
# types, lengths, required markers, enumerations

_TYPE_WORDS: dict[str, str] = {}


for _t, _words in {
    "string": "varchar2 varchar nvarchar2 nvarchar char nchar string str text clob nclob longtext "
    "mediumtext tinytext character 字符 字符型 字符串 字符串型 文本 文本型 字符类型 c an a ans s "
    "s1 s2 s3 varchar2(n) 编码 代码 字符(串)",
    "integer": "int integer bigint smallint tinyint long short int2 int4 int8 整数 整型 整数型 数字整型 i",
    "decimal": "number numeric decimal float double real money 数值 数值型 数字 数字型 小数 金额 浮点 浮点型 n",
    "date": "date 日期 日期型 d d8",
    "datetime": "datetime datetime2 timestamp 日期时间 日期时间型 时间 时间型 时间戳 dt dt14 dt15 dt19",
    "array": "array list 数组 列表 集合 jsonarray json数组 对象数组 object[] list<object> 数组对象 "
    "listobject objectlist jsonlist",
    "boolean": "boolean bool 布尔 布尔型 逻辑 逻辑型 l",
    "object": "object obj 对象 json map 结构体",
}.items():
    for _w in _words.split():
        _TYPE_WORDS[_w] = _t


def _near_type_word(word: str) -> str | None:
    """A type word written with a typo (Varcha, varcahr2, Decimel): the known word one edit away."""
    if len(word) < 4 or not word.isascii() or not (word.isalpha() or word[:-1].isalpha()):
        return None
    for known in _TYPE_WORDS:
        if len(known) >= 4 and known.isascii() and _one_edit(word, known):
            return known
    return None


def _one_edit(a: str, b: str) -> bool:
    """True when a and b differ by one insertion, deletion, substitution or adjacent swap."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        return a[i + 1 :] == b[i + 1 :] or (a[i : i + 2] == b[i : i + 2][::-1] and a[i + 2 :] == b[i + 2 :])
    return a[i + 1 :] == b[i:] if len(a) > len(b) else a[i:] == b[i + 1 :]


_TYPE_PAREN = re.compile(r"^(?P<word>[^\s()]+?)\s*\(\s*(?P<a>\d+)\s*(?:(?:byte|char)\s*)?(?:[,.]\s*(?P<b>\d+)\s*)?\)$")


_TYPE_WS = re.compile(
    r"^(?P<cls>ans|an|a|n|c|s|dt|d|t)(?:(?P<lo>\d+)\.\.(?=\d))?(?P<var>\.\.)?(?P<a>\d+)?(?:[,.](?P<b>\d+))?$"
)


_TYPE_GENERIC = re.compile(r"^(?P<word>list|array|集合|数组)\s*[<\[](?P<item>[^>\]]*)[>\]]$")


@dataclass
class TypeInfo:
    """A parsed type cell: the spec type and its length/precision, or a problem."""

    type: str | None
    max_length: int | None = None
    precision: int | None = None
    total_digits: int | None = None
    item_hint: str | None = None
    problem: str | None = None
    min_length: int | None = None  # AN6..20: at least 6 characters
    note: str | None = None


def parse_type(text: Any, length: Any = None, precision: Any = None) -> TypeInfo:
    """Interpret a 类型 cell (and optional 长度 / 小数位 cells) of an interface document.

    >>> parse_type("VARCHAR2(50)").max_length
    50
    >>> t = parse_type("N10,2"); (t.type, t.total_digits, t.precision)
    ('decimal', 10, 2)
    """
    raw = _norm(text)
    s = raw.lower().replace(" ", "")
    s = (
        s.replace("（", "(").replace("）", ")").replace("[", "(").replace("]", ")")
        if _TYPE_GENERIC.match(s) is None
        else s
    )
    info = TypeInfo(type=None)
    a = b = None
    word = None
    fmt_note = None
    if not s:
        info.type = None
    elif (m := _TYPE_GENERIC.match(s)) is not None:
        info.type = "array"
        m_raw = re.search(r"[<\[]\s*([^>\]]*?)\s*[>\]]", raw)
        info.item_hint = (m_raw.group(1) if m_raw else m.group("item")) or None
    elif (m := _TYPE_PAREN.match(s)) is not None and (
        m.group("word") in _TYPE_WORDS or _near_type_word(m.group("word"))
    ):
        word = m.group("word") if m.group("word") in _TYPE_WORDS else _near_type_word(m.group("word"))
        if word != m.group("word"):
            info.note = f"类型 {raw} 按 {word} 读取（疑为笔误），请核对"
        a = int(m.group("a"))
        b = int(m.group("b")) if m.group("b") is not None else None
    elif (m := _TYPE_WS.match(s)) is not None and s not in ("s1", "s2", "s3"):
        cls = m.group("cls")
        a = int(m.group("a")) if m.group("a") else None
        lo = int(m.group("lo")) if m.group("lo") else None
        if lo and cls in ("an", "ans", "a", "c", "s") and lo <= (a or 0):
            info.min_length = lo  # AN6..20 = 6 to 20 characters (WS 363 / GB/T 7408 notation)
        b = int(m.group("b")) if m.group("b") is not None else None
        word = {
            "an": "an",
            "ans": "an",
            "a": "an",
            "c": "an",
            "s": "an",
            "n": "n",
            "d": "date",
            "dt": "datetime",
            "t": "time",
        }[cls]
        if cls == "n" and b is None and a is not None:
            word = "int-digits"
        if cls == "t":
            info.type = "string"
            info.max_length = a
            info.note = "T（时间）按字符串导入"
            return _apply_length(info, length, precision)
    else:
        # a word, perhaps followed by a format in parentheses: DATETIME(yyyy-MM-dd HH:mm:ss)
        m2 = re.match(r"^([^()]+?)\s*\((.+)\)$", s)
        if m2 and m2.group(1) in _TYPE_WORDS:
            word, fmt_note = m2.group(1), m2.group(2)
        elif s in _TYPE_WORDS:
            word = s
        elif (near := _near_type_word(s)) is not None:
            word = near
            info.note = f"类型 {raw} 按 {near} 读取（疑为笔误），请核对"
        else:
            # a leading word we know followed by noise: "varchar2 最大长度50"
            for w in sorted(_TYPE_WORDS, key=len, reverse=True):
                if len(w) > 1 and s.startswith(w):
                    word = w
                    rest = s[len(w) :]
                    if (mm := re.search(r"(\d+)(?:[,.](\d+))?", rest)) is not None:
                        a = int(mm.group(1))
                        b = int(mm.group(2)) if mm.group(2) else None
                    break
    if word is not None:
        base = {"int-digits": "integer", "an": "string"}.get(word) or _TYPE_WORDS.get(word, word)
        if base == "string":
            info.type, info.max_length = "string", a
        elif base == "integer":
            info.type, info.total_digits = "integer", a
        elif base == "decimal":
            if b is None and a is not None and word in ("number", "numeric", "decimal"):
                info.type, info.total_digits = "integer", a  # NUMBER(10): an integer
            elif b == 0 and a is not None:
                info.type, info.total_digits = "integer", a
            else:
                info.type, info.total_digits, info.precision = "decimal", a, b
        elif base == "date":
            info.type = "date"
            if (a is not None and a >= 12) or (fmt_note and re.search(r"hh|时", fmt_note)):
                info.type = "datetime"  # DATE(14) yyyyMMddHHmmss
        elif base == "datetime":
            info.type = "datetime"
        elif base == "array":
            info.type = "array"
        elif base == "boolean":
            info.type, info.max_length = "string", 1
            info.note = "布尔类型按 1 位字符串导入（0/1）"
        elif base == "object":
            info.type = "string"
            info.problem = "对象（object）类型无法表示为单个字段，已按字符串导入；如为子表请改为数组并给出明细表"
        elif base == "time":
            info.type = "string"
    elif s and info.type is None and s == "yyyy-mm-dd":
        info.type, info.note = "date", f"类型栏写的是日期格式 {raw}，按日期导入"
    elif s and info.type is None and s in ("yyyy-mm-ddhh:mm:ss", "yyyy-mm-ddthh:mm:ss"):
        info.type, info.note = "datetime", f"类型栏写的是日期时间格式 {raw}，按日期时间导入"
    elif s and info.type is None and re.fullmatch(r"yyyy[-/.年]?mm[-/.月]?dd日?(?:t?hh[:时]?mm(?:[:分]?ss秒?)?)?", s):
        info.type = "string"
        info.problem = (
            f"类型栏是日期/时间格式 {raw}，与规范的 YYYY-MM-DD / YYYY-MM-DD HH:MM:SS 不同，已按字符串导入；"
            "请核对平台要求的格式，必要时在 spec 中设置 pattern"
        )
    elif s and info.type is None:
        info.problem = "无法识别的数据类型，已按字符串导入"
        info.type = "string"
    return _apply_length(info, length, precision)


_LEN_RE = re.compile(
    r"^(?:[<≤]=?|最大|最长|不超过|max)?\s*\(?\s*(?:(\d+)\s*(?:\.\.|-|~|～|–)\s*)?(\d+)\s*(?:[,，]\s*(\d+))?\s*\)?\s*(?:位|字符|个字符|字节|bytes?|chars?)?$",
    re.I,
)


def _parse_length(text: Any) -> tuple[int | None, int | None, str | None]:
    s = _norm(text)
    if s in ("", "-", "—", "/", "无", "不限", "n/a", "na"):
        return None, None, None
    if (m := re.fullmatch(r"(\d+)\s*位小数", s)) is not None:
        return None, int(m.group(1)), None
    if (m := re.fullmatch(r"(\d+)\.0", s)) is not None:  # Excel number 50.0
        return int(m.group(1)), None, None
    m = _LEN_RE.match(s)
    if m is None:
        return None, None, f"无法识别的长度 {s!r}"
    return int(m.group(2)), (int(m.group(3)) if m.group(3) else None), None


def _apply_length(info: TypeInfo, length: Any, precision: Any) -> TypeInfo:
    ln, pr, problem = _parse_length(length)
    m_lo = _LEN_RE.match(_norm(length)) if length is not None and not problem else None
    lo_len = int(m_lo.group(1)) if m_lo and m_lo.group(1) else None  # 长度 6..20
    if problem:
        info.problem = (info.problem + "；" if info.problem else "") + problem
    if precision is not None and _norm(precision):
        p2, _, prob2 = _parse_length(precision)
        if prob2 or p2 is None:
            info.problem = (info.problem + "；" if info.problem else "") + f"无法识别的小数位 {_norm(precision)!r}"
        else:
            pr = p2
    if info.type is None:
        if ln is None and pr is None:
            return info
        info.type = "decimal" if pr else "string"
        info.note = "类型为空，按长度推断"
    if info.type == "string":
        if lo_len and ln is not None and lo_len <= ln:
            info.min_length = lo_len
        if ln is not None:
            if info.max_length is not None and info.max_length != ln:
                info.note = f"类型写的长度 {info.max_length} 与长度列 {ln} 不一致，采用长度列"
            info.max_length = ln
    elif info.type == "integer":
        if pr:
            info.type, info.precision = "decimal", pr
        if ln is not None:
            info.total_digits = ln
    elif info.type == "decimal":
        if ln is not None:
            info.total_digits = ln
        if pr is not None:
            info.precision = pr
    return info


_REQ_TRUE = {
    "是",
    "y",
    "yes",
    "必填",
    "必选",
    "必须",
    "必需",
    "必传",
    "必输",
    "必录",
    "m",
    "r",
    "√",
    "✓",
    "✔",
    "●",
    "★",
    "*",
    "1",
    "true",
    "required",
    "mandatory",
    "非空",
    "不可为空",
    "不能为空",
    "not null",
    "notnull",
    "强制",
    "是(必填)",
    "必填项",
    "必要",
}


_REQ_FALSE = {
    "否",
    "n",
    "no",
    "可选",
    "选填",
    "非必填",
    "非必须",
    "不必填",
    "可空",
    "可为空",
    "空",
    "o",
    "×",
    "✗",
    "-",
    "—",
    "/",
    "0",
    "false",
    "optional",
    "null",
    "允许为空",
    "可",
    "否(选填)",
    "选择",
    "可填",
}


_REQ_COND = re.compile(
    r"^(conditional(ly)?|cond(?![a-z])|c(?![a-z])|条件|有条件|按条件|视情况|条件必填|条件必选|条件必传)"
)


def parse_required(text: Any, *, inverted: bool = False) -> tuple[bool | str | None, str | None]:
    """Interpret a 必填 cell: ``(True|False|"conditional"|None, condition text)``.

    ``inverted`` is for a 可否为空 / 允许空 column (是 = may be empty = not required). ``None``
    means the marker is not understood.
    """
    s = _norm(text).lower()
    if not s:
        return False, None
    s1 = s.replace(" ", "")
    if s1 not in _REQ_TRUE and s1 not in _REQ_FALSE:
        base = re.sub(r"\(.*?\)", "", s1).strip("*") or s1  # "Y(主键)", "是*"
        note = " ".join(re.findall(r"\((.*?)\)", _norm(text)))
        if not inverted and base in _REQ_FALSE and re.search(r"必填|必传|必选|必须|须填|需填|应填|要填", note):
            return "conditional", note.strip() or None  # "否（退费时必填）": required under a condition
        s1 = base
    if s1 in ("主键", "pk", "primarykey", "主键,非空", "非空,主键", "主键非空"):
        return (not inverted), None
    if _REQ_COND.match(s1) and not s1.startswith("char"):
        cond = re.sub(
            r"^(conditional(?:ly)?(?:\s*(?:required|mandatory))?|cond(?![a-z])|c(?![a-z])|条件必填|条件必选|条件必传|有条件|按条件|视情况|条件)"
            r"\s*[:：,，(（]?\s*",
            "",
            s.strip(),
            flags=re.I,
        )
        cond = cond.rstrip(")）").strip()
        return "conditional", (cond or None)
    if s1 in _REQ_TRUE:
        return (not inverted), None
    if s1 in _REQ_FALSE:
        return inverted, None
    for w in ("必填", "必选", "必须", "必传"):
        if s1.startswith(w):
            return (not inverted), None
    for w in ("非必填", "可选", "选填", "可为空"):
        if s1.startswith(w):
            return inverted, None
    return None, None


# inline enumerations: "1:男 2:女", "1-西药；2-中成药", "0 否 1 是", "1=自费,2=医保", "1、西药 2、中成药"
_ENUM_ITEM = re.compile(
    r"(?:^|(?<=[\s,，;；、/|(（:：]))"
    r"(?P<code>(?<![0-9A-Za-z])-?[0-9A-Za-z]{1,8})\s*(?P<sep>[:：=＝\-－—–、.．]|\s|(?<=\d)(?=[\u4e00-\u9fff]))\s*"
    r"(?P<name>[^\s,，;；、|()（）:：=0-9][^,，;；|()（）:：=]*?)"
    r"(?=\s*(?:[,，;；、/|]\s*|\s+)[0-9A-Za-z]{1,8}\s*(?:[:：=＝\-－—–、.．]|\s|(?<=\d)(?=[\u4e00-\u9fff]))\s*[^\s,，;；、|()（）:：=0-9]|\s*[)）,，;；。]?\s*$|\s*[)）(（,，;；。])"
)


def parse_enum(text: Any) -> dict[str, str] | None:
    """Find an inline enumeration (值域) in a description cell; ``None`` when there is none.

    >>> parse_enum("性别：1:男 2:女")
    {'1': '男', '2': '女'}
    >>> parse_enum("1-西药；2-中成药；3-中草药")
    {'1': '西药', '2': '中成药', '3': '中草药'}
    """
    s = str(text or "").strip()
    if not s:
        return None
    s = s.replace("\n", " ")
    best: dict[str, str] | None = None
    # try from each plausible start, keep the longest consecutive run of items
    items = list(_ENUM_ITEM.finditer(s))
    run: list[re.Match] = []
    runs: list[list[re.Match]] = []
    for m in items:
        if run and not _adjacent(s, run[-1], m):
            runs.append(run)
            run = []
        run.append(m)
    if run:
        runs.append(run)
    for r in runs:
        if len(r) < 2:
            continue
        codes = [m.group("code") for m in r]
        names = [m.group("name").strip() for m in r]
        if len(set(codes)) != len(codes) or len(set(names)) != len(names) or any(not n or len(n) > 40 for n in names):
            continue
        kinds = {c.lstrip("-").isdigit() for c in codes}
        if len(kinds) != 1:
            continue
        seps = {m.group("sep").strip() or " " for m in r}
        if len(seps) > 1:
            continue
        if not any(c.isdigit() for c in codes) and not seps <= {":", "：", "=", "＝"}:
            continue  # "如 g、mg、ml、片" is a list of examples, not an enumeration
        if seps == {"."} and all(n[:1].isdigit() for n in names):
            continue
        cand = dict(zip(codes, names))
        if best is None or len(cand) > len(best):
            best = cand
    return best


def _adjacent(s: str, a: re.Match, b: re.Match) -> bool:
    between = s[a.end() : b.start()]
    return re.fullmatch(r"\s*[,，;；、/|]?\s*", between) is not None


_REF_RE = re.compile(
    r"(?:见|参见|参照|详见|参考|引用|依据|对应|符合)\s*(?:《)?\s*(?:数据)?(?:字典|附录|附表|代码表|码表|值域|表|字典表)?\s*"
    r"(?P<sec>(?:[A-Z](?:[.\-]\d+)*)|(?:\d+(?:[.\-]\d+)+)|\d+)\b"
)


_NAMED_REF_RE = re.compile(
    r"(?:见|参见|详见|参照|参考|引用)\s*《?([\u4e00-\u9fff][\u4e00-\u9fffA-Za-z0-9/]{1,20}?(?:字典表|代码表|字典|码表|代码|值域))》?"
)


# 见字典 DICT_PAY / 参见代码表：pay_channel — a dictionary named by its identifier
_ID_REF_RE = re.compile(
    r"(?:见|参见|详见|参照|参考|引用)\s*《?\s*(?P<word>字典表|代码表|字典|码表|值域)?\s*[:：]?\s*"
    r"(?P<id>[A-Za-z][A-Za-z0-9_]*(?:[.\-][A-Za-z0-9_]+)*)"
)


_BARE_DICT_NAME = re.compile(r"[\u4e00-\u9fff][\u4e00-\u9fffA-Za-z0-9/]{1,20}?(?:字典表|代码表|字典|码表)")


_STD_RE = re.compile(r"\b(?:GB/T|GB|WS/T|WS|DB\d{2}/T|YY/T|CV|CT|DE)\s?[0-9][0-9A-Za-z.\-]*(?:\.\d+)*", re.I)


_SECTION_TITLE = re.compile(
    r"^\s*(?:附录\s*|附表\s*|表\s*)?(?P<sec>(?:[A-Z](?:[.．]\d+)*)|(?:\d+(?:[.．]\d+)*))(?:[.、．]\s*|\s+)(?P<rest>\S.*)$"
)


_METHOD_RE = re.compile(r"\b(?:upload|push|sync|save|send|report|submit|add|get|query)[A-Z][A-Za-z0-9]*\b")


def _method_to_code(ident: str) -> str:
    """uploadRecipeIndicators → recipe; pushMedicalDispute → medical_dispute; recipe_detail stays."""
    m = re.match(r"^(?:upload|push|sync|save|send|report|submit|add)(?=[A-Z])", ident)
    if not m:
        return ident
    core = ident[m.end() :]
    core = re.sub(r"(?:Indicators|Indicator|Req|Request|Info|Data)$", "", core) or core
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", core).lower()
    return snake
