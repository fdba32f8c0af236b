"""Reading one table as a person does: which row is the header, what each column holds (by its
header words and by its content), titles above tables, request-header and return-code tables.
"""

from __future__ import annotations

import re
from typing import Any

from ._blocks import _Para, _Table
from ._drafts import _META_RE
from ._headers import _hnorm, _role
from ._notations import _METHOD_RE, _SECTION_TITLE, _STD_RE, parse_required, parse_type
from ._text import _IDENT, _clean, _has_cjk, _norm

_PRE_HEADER_LABELS = {
    "操作名称": "method",
    "接口名称": "method",
    "方法名": "method",
    "服务方法": "method",
    "接口方法": "method",
    "说明": "description",
    "接口说明": "description",
    "功能说明": "description",
    "描述": "description",
}


_SERVICE_METHOD = re.compile(r"X-Service-Method\s*[=:：]\s*([A-Za-z_][A-Za-z0-9_]*)", re.I)


def _method_of(text: str) -> str | None:
    """uploadRecipe from ``X-Service-Id=…, X-Service-Method=uploadRecipe`` (or a bare method name)."""
    m = _SERVICE_METHOD.search(text) or _METHOD_RE.search(text)
    if m is None:
        return None
    return m.group(1) if m.re is _SERVICE_METHOD else m.group(0)


# --------------------------------------------------------------------------------------------
# the importer


def _cell_getter(row: list, roles: dict):
    """``get(role)``: the stripped text of a table row's cell for a column role ("" when the table
    has no such column or the row is short)."""

    def get(r: str) -> str:
        i = roles.get(r)
        return (row[i] or "").strip() if i is not None and i < len(row) else ""

    return get


def _fill_header(second: list[str | None], first: list[str | None]) -> list[str | None]:
    """Second header line with the first line's words where it is empty (merged vertically)."""
    return [b if b else (a if a else b) for a, b in zip(first + [None] * len(second), second)]


def _ref_variants(text: str | None) -> list[str]:
    """Ways a document may name a code table: 见字典3.1, 《性别代码》, GB/T 2261.1-2003, 诊疗科目字典."""
    if not text:
        return []
    s = _norm(text).strip("《》 ")
    out = [s]
    core = re.sub(r"^(?:见|参见|详见|参照|参考|引用|依据|符合)\s*", "", s).strip("《》 ")
    out.append(core)
    short = re.sub(r"(?:字典表|代码表|字典|码表|代码|编码)$", "", core).strip()
    if len(short) >= 2:
        out.append(short)
    if _STD_RE.fullmatch(core) or re.match(r"^(?:GB|WS|CV|CT|DE|DB)", core, re.I):
        std = re.sub(r"\s+", "", core).upper()
        out.append(std)
        out.append(re.sub(r"-(?:19|20)\d{2}$", "", std))
    return list(dict.fromkeys(v for v in out if v))


def _after_title(paras: list[_Para], title: str | None) -> list[_Para]:
    """The paragraphs between a table's title and the table (its labelled lines and description)."""
    for i in range(len(paras) - 1, -1, -1):
        if paras[i].text == title:
            return paras[i + 1 :]
    return [p for p in paras if not _is_title(p)]


def _typed_value(v: Any, ftype: str) -> Any:
    """An example/const read from a 说明 cell, as the field's type: 25 for an integer, [..] for JSON."""
    if not isinstance(v, str):
        return v
    t = v.strip()
    if ftype in ("integer", "decimal"):
        try:
            return int(t) if ftype == "integer" else float(t)
        except ValueError:
            return v
    if t[:1] in "[{" or t in ("true", "false"):
        import json

        try:
            parsed = json.loads(t)
        except ValueError:
            return v
        if isinstance(parsed, (list, dict, bool)):
            return parsed
    return v


def _num(v: str) -> float | int:
    f = float(v)
    return int(f) if f.is_integer() and "." not in v else f


def _is_header_again(row: list[str | None], header: tuple) -> bool:
    """A repeated header row; the first cell is compared first (36,000 dictionary rows stay fast)."""
    first = next((c for c in row if c is not None), None)
    return bool(header) and _hnorm(first) == header[0] and _header_key(row) == header


def _header_key(row: list[str | None]) -> tuple:
    return tuple(_hnorm(c) for c in row if c is not None)


def _width(t: _Table) -> int:
    return max((len(r) for r in t.rows), default=0)


def _refine_roles(roles: dict, rows: list[list[str | None]]) -> dict:
    """Swap key/name when the 'key' column holds Chinese and the 'name' column identifiers."""

    def share(i: int, pred) -> float:
        vals = [r[i] for r in rows if i < len(r) and r[i]]
        return sum(1 for v in vals if pred(v)) / len(vals) if vals else 0.0

    ident = lambda v: bool(re.match(r"^\*?[A-Za-z_][A-Za-z0-9_.]*\*?$", v.strip()))
    roles = dict(roles)
    k, n = roles.get("key"), roles.get("name")
    if k is not None and n is not None:
        if share(k, _has_cjk) > 0.6 and share(n, ident) > 0.6:
            roles["key"], roles["name"] = n, k
    elif k is not None and n is None:
        if share(k, _has_cjk) > 0.6:
            roles["name"] = k
            del roles["key"]
    elif n is not None and k is None:
        if share(n, ident) > 0.6:
            roles["key"] = n
            del roles["name"]
    # an unnamed column of identifiers next to a name column: the key
    if "key" not in roles:
        for i in range(max((len(r) for r in rows), default=0)):
            if i in roles.values():
                continue
            if share(i, ident) > 0.8:
                roles["key"] = i
                break
    return roles


_CHILD_MARK = re.compile(
    r"^\s*(?:[└├│|+>·]|-{1,2}|—{1,2}|[\[【]\s*[01]\s*(?:\.{2,3}|…|-|~)\s*(?:[1-9n*]|\d+)\s*[\]】])[\s\-—─]*",
    re.I,
)


_HTTP_HEADER = re.compile(
    r"^(?:X-[A-Za-z0-9-]+|Content-Type|Content-MD5|Accept|Authorization|Date|Host|User-Agent|Content-Length)$", re.I
)


def _is_request_header_table(rows: list[list[str | None]], roles: dict) -> bool:
    """A table of X-Ca-Key / X-Service-Id / Content-Type rows: the request headers, not a data set."""
    i = roles.get("key")
    keys = [_norm(r[i]) for r in rows if i is not None and i < len(r) and r[i]]
    return bool(keys) and sum(1 for k in keys if _HTTP_HEADER.match(k)) * 2 > len(keys)


_FORMAT_HINT = re.compile(
    r"(?:^|格式|格式为|[:：])\s*(?P<fmt>yyyy-?MM-?dd(?:[ T]?HH:?mm(?::?ss)?)?)\s*(?:$|[，,。；;）)])", re.I
)


_COND_REQUIRED = re.compile(
    r"(?P<cond>[^，,。；;]+?)\s*(?:时|的时候|情况下)?\s*(?:(?:需要|需|须|必须)?\s*(?:必填|必传)|(?:需要|需|须|必须)\s*(?:传入|填写|上传))"
)


_COND_COMPARE = re.compile(
    r"(?:当|如果|若)?(?P<field>[A-Za-z_][A-Za-z0-9_]*)(?P<op>>=|<=|!=|==|=|＝|>|<|≥|≤|≠)"
    r"(?P<value>-?[0-9A-Za-z_.]+(?:(?:或|/|、|,|，)-?[0-9A-Za-z_.]+)*)"
)


_COND_OPS = {
    "=": "eq", "==": "eq", "＝": "eq", "!=": "ne", "≠": "ne",
    ">": "gt", ">=": "ge", "≥": "ge", "<": "lt", "<=": "le", "≤": "le",
}  # fmt: skip


_LIST_ANNOUNCE = re.compile(
    r"^(?P<key>[A-Za-z_][A-Za-z0-9_]*)\s*[(（]?\s*(?P<name>[^\s()（）]+?)\s*[)）]?\s+"
    r"(?:List\w*|Array\w*|数组|列表|集合)(?:\s|$)",
    re.I,
)


def _dotted_parent(code: str, codes: dict) -> str | None:
    """The code one level up in a dotted hierarchy (03.01 → 03), when it is in the code set."""
    head, dot, _ = code.rpartition(".")
    return head if dot and head in codes else None


def _return_codes(rows: list[list[str | None]]) -> list[tuple[str, str]]:
    """(code, meaning) pairs of a return-code table: the code column by its header, the meaning beside it."""
    header = [_hnorm(c) if c else "" for c in rows[0]]
    code_col = next((i for i, h in enumerate(header) if re.search(r"码|code", h) and "序" not in h), 0)
    text_col = next(
        (i for i, h in enumerate(header) if i != code_col and re.search(r"描述|说明|信息|含义|msg|message", h)),
        code_col + 1,
    )
    out = []
    for row in rows[1:]:
        code = _norm(row[code_col]) if code_col < len(row) and row[code_col] else ""
        text = _norm(row[text_col]) if text_col < len(row) and row[text_col] else ""
        if re.fullmatch(r"-?[A-Za-z0-9_.]{1,12}", code):
            out.append((code, text))
    return out


def _non_record_table(heads: str, title: str) -> str | None:
    """Return-code and signature tables: reported, never data sets."""
    text = heads + title
    if re.search(r"(?:返回|错误|状态|响应|应答|结果|业务)(?:码|代码|编码)|http\s*状态|errcode|retcode", text, re.I):
        return "返回码表"
    if re.search(r"签名|加密|验签|sign", text, re.I):
        return "签名规则表"
    return None


def _response_lines(response: list[str]) -> list[str]:
    return ["响应参数（输出）：", *response] if response else []


def _is_list_head(direction: str, previous: str, type_text: str) -> bool:
    """A row announcing a nested list: direction 输入List (where the list starts) or a List type."""
    d = _norm(direction).replace(" ", "").lower()
    if d.endswith(("list", "列表")) and d != _norm(previous).replace(" ", "").lower():
        return True
    return parse_type(type_text).type == "array"


_DIRECTION = re.compile(
    r"^(?P<io>输入|输出|入参|出参|请求|响应|返回|in|out|input|output)(?P<list>list|列表|对象|object)?$", re.I
)


_OUTPUT = re.compile(r"^(?:输出|出参|响应|返回|out)", re.I)


def _is_direction(v: str) -> bool:
    return _DIRECTION.match(_norm(v).replace(" ", "")) is not None


def _is_type_notation(v: str) -> bool:
    ti = parse_type(v)
    return ti.type is not None and ti.problem is None and _norm(v).upper() not in ("Y", "N", "M", "O", "C")


def _is_required_marker(v: str) -> bool:
    req, _ = parse_required(v)
    return req is not None and len(_norm(v)) <= 4


def _content_roles(roles: dict, header: list[str | None], rows: list[list[str | None]]) -> dict:
    """Column roles checked against what the columns hold (the header words are one signal).

    A column of 输入/输出/入参/出参 is the parameter direction (even when headed 类型); the data
    type is then the column whose values parse as type notations (字段类型); an unnamed column of
    short Chinese text beside the key (a 参数 header merged over two columns) is the Chinese name.
    """
    roles = dict(roles)
    width = max((len(r) for r in rows), default=0)
    body = [r for r in rows if sum(1 for c in r if c) > 1]  # group rows (one merged cell) say nothing

    def share(i: int, pred) -> float:
        vals = [r[i] for r in body if i < len(r) and r[i]]
        return sum(1 for v in vals if pred(v)) / len(vals) if vals else 0.0

    def free(i: int) -> bool:
        return i not in {j for r, j in roles.items() if not r.startswith("_")}

    def drop(i: int) -> None:
        for r in [r for r, j in roles.items() if j == i and not r.startswith("_")]:
            del roles[r]

    for i in range(width):
        if share(i, _is_direction) >= 0.6:
            drop(i)
            roles["direction"] = i
            break
    cur = roles.get("type")
    if cur is None or share(cur, _is_type_notation) < 0.5:
        scored = [(share(i, _is_type_notation), -i) for i in range(width) if free(i) or i == cur]
        best, neg = max(scored, default=(0.0, 0))
        if best >= 0.5 and share(-neg, _is_required_marker) < 0.5:
            roles["type"] = -neg
    short_cjk = lambda v: _has_cjk(v) and len(v) <= 20
    if "name" not in roles and "description2" in roles:
        # 参数说明 (the names) and 说明 (the notes), in either order: the column of short names is the name
        a, b = roles["description"], roles["description2"]
        if share(b, short_cjk) >= 0.6 and share(b, short_cjk) > share(a, short_cjk):
            a, b = b, a
        if share(a, short_cjk) >= 0.6:
            roles["name"], roles["description"] = a, b
            del roles["description2"]
    if "name" not in roles:
        for i in range(width):
            unnamed = i >= len(header) or header[i] is None or _role(header[i]) in (None, "key")
            if free(i) and unnamed and share(i, lambda v: _has_cjk(v) and len(v) <= 30) >= 0.6:
                roles["name"] = i
                break
    if "required" not in roles:
        for i in range(width):
            if free(i) and share(i, _is_required_marker) >= 0.8 and share(i, _is_type_notation) < 0.5:
                roles["required"] = i
                break
    return roles


def _is_title(p: _Para) -> bool:
    if p.sheet:
        return False
    t = p.text
    if not t or len(t) > 80 or _META_RE.match(t):
        return False
    if p.heading is not None and p.heading > 0:
        return True
    if _SECTION_TITLE.match(t) and not re.search(r"[。；;]$", t):
        return True
    if re.match(r"^\s*(?:表|附表)\s*[A-Z]?\d+(?:[.\-－—]\d+)*\s*\S", t):
        return True  # a table caption: 表2-3 在线处方字段说明
    if _METHOD_RE.search(t) and _has_cjk(t):
        return True
    return False


def _title_score(p: _Para) -> int:
    """How good a title for the next table a paragraph is (0: not a title)."""
    if not _is_title(p):
        return 0
    t = p.text
    score = 1
    if re.match(r"^\s*(?:附录\s*)?(?:[A-Z]|\d+)(?:[.．]\d+)+", t) or (p.heading or 0) > 0:
        score = 3
    if re.match(r"^\s*(?:表|附表)\s*[A-Z]?\d", t):
        score = 1
    if _METHOD_RE.search(t) or re.search(r"[A-Za-z_][A-Za-z0-9_]{2,}", t):
        score += 1
    return score


def _parse_title(title: str) -> tuple[str | None, str, str | None, str | None]:
    """``2.2.3 在线处方 uploadRecipeIndicators`` → (section, Chinese name, identifier, standard)."""
    s = _clean(title)
    sec = None
    s = re.sub(r"^(?:表|附表)\s*[A-Z]?\d+(?:[.\-]\d+)*\s*", "", s) if re.match(r"^(?:表|附表)\s*[A-Z]?\d", s) else s
    s = re.sub(r"^附录\s*", "", s)
    # Chinese ordinals of a heading: 三、在线处方 / （三）在线处方 / 第三节 在线处方
    s = re.sub(
        r"^(?:[(（][一二三四五六七八九十百]+[)）]|第[一二三四五六七八九十百\d]+[章节条部分]+|[一二三四五六七八九十百]+[、.．])\s*",
        "",
        s,
    )
    # a URL path in the title (/api/recipe/upload) is the endpoint, not part of the name
    s = re.sub(
        r"\s*(?:\b(?:GET|POST|PUT)\s+)?(?:https?://\S+|(?<![A-Za-z0-9])/(?:[A-Za-z0-9_\-{}.]+/)+[A-Za-z0-9_\-{}.]*)\s*",
        " ",
        s,
    ).strip()
    m = _SECTION_TITLE.match(s)
    if m and (re.match(r"^\d", m.group("sec")) or "." in m.group("sec") or re.match(r"^[A-Z][.、\s]", s)):
        sec = m.group("sec").replace("．", ".")
        s = m.group("rest").strip()
    std = None
    ident = None
    # an explicit id in trailing parentheses: 性别（GB/T 2261.1）, 在线处方（uploadRecipeIndicators）
    m = re.search(r"[(（]\s*([^()（）]+?)\s*[)）]\s*$", s)
    if m and not _has_cjk(m.group(1)):
        ident = m.group(1).strip()
        s = s[: m.start()].strip()
        if _STD_RE.fullmatch(ident):
            std = ident
    if std is None and ident is None and (m := _STD_RE.search(s)) is not None:
        std = m.group(0)
        s = (s[: m.start()] + s[m.end() :]).strip()
    if ident is None:
        tokens = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", s)
        cand = [t for t in tokens if len(t) > 1 or len(tokens) == 1]
        if cand and _has_cjk(s):
            ident = cand[-1]
            s = re.sub(r"\s*[(（]?\s*" + re.escape(ident) + r"\s*[)）]?\s*", " ", s).strip()
        elif cand and not _has_cjk(s):
            ident = cand[-1] if len(cand) == 1 else None
    name = re.sub(r"\s*[(（]续[)）]?$", "", s).strip(" -—:：")
    name = re.sub(r"(接口|数据集)$", "", name).strip() or name
    return sec, name, ident, std


_ROLE_HEADS = {
    "key": "字段名",
    "name": "中文名称",
    "direction": "输入输出",
    "type": "数据类型",
    "length": "长度",
    "required": "是否必填",
    "description": "说明",
}


def _is_length(v: str) -> bool:
    return re.fullmatch(r"\d{1,5}(?:\s*[,，.]\s*\d{1,2})?", _norm(v)) is not None


def _roles_by_content(rows: list[list[str | None]]) -> dict | None:
    """Column roles of a field table without a header row, scored by the values alone: the key
    (identifiers that are not type words), the data type (type notations), the Chinese name,
    required markers, lengths (numbers) and the description (the longest texts). None unless the
    table has at least a key and a type column: then it reads as a field table."""
    body = [r for r in rows if sum(1 for c in r if c) > 1]
    width = max((len(r) for r in body), default=0)
    if len(body) < 2:
        return None

    def share(i: int, pred) -> float:
        vals = [r[i] for r in body if i < len(r) and r[i]]
        return sum(1 for v in vals if pred(v)) / len(vals) if vals else 0.0

    key_like = lambda v: _IDENT.match(v.strip("*").strip()) is not None and not _is_type_notation(v)
    scored = [(share(i, key_like) - share(i, _is_required_marker), -i) for i in range(width)]
    best, neg = max(scored, default=(0.0, 0))
    if best < 0.8:
        return None
    key = -neg
    short_cjk = [
        (sum(len(r[i]) for r in body if i < len(r) and r[i]) / len(body), i)
        for i in range(width)
        if i != key and share(i, lambda v: _has_cjk(v) and len(v) <= 30) >= 0.6 and share(i, _is_required_marker) < 0.5
    ]
    roles = _content_roles({"key": key, **({"name": min(short_cjk)[1]} if short_cjk else {})}, [], body)
    if "type" not in roles:
        return None
    taken = set(roles.values())
    lengths = [i for i in range(width) if i not in taken and share(i, _is_length) >= 0.8]
    if lengths:
        roles["length"] = lengths[0]
        taken.add(lengths[0])
    texts = [(sum(len(r[i] or "") for r in body if i < len(r)), i) for i in range(width) if i not in taken]
    if texts and max(texts)[0] > 0:
        roles["description"] = max(texts)[1]
    return roles


def _header_for(roles: dict, width: int) -> list[str | None]:
    """A header row naming the roles found by content (for a table printed without one)."""
    by_column = {i: _ROLE_HEADS.get(r, r) for r, i in roles.items() if not r.startswith("_")}
    return [by_column.get(i) for i in range(width)]
