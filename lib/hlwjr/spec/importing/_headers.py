"""Header words: which column of a table holds which attribute (key, name, type, length, required,
description…) for field tables, dictionaries, rule and reference tables, by the words of its header.
"""

from __future__ import annotations

import re

from ._notations import _SECTION_TITLE
from ._text import _norm


def _looks_like_title_row(row: list[str | None]) -> bool:
    texts = [c for c in row if c]
    return len(texts) == 1 and bool(_SECTION_TITLE.match(texts[0])) and len(texts[0]) <= 60


# --------------------------------------------------------------------------------------------
# header recognition


def _hnorm(h: str | None) -> str:
    s = _norm(h).lower().replace(" ", "")
    s = re.sub(r"\(.*?\)", "", s) or s
    return s


# English headers of bilingual documents (Field Code | Chinese Name | Data Type …), spaces removed
_ENGLISH_KEY_HEAD = frozenset(
    "fieldcode fieldid fieldkey fieldname fieldidentifier identifier id parameter parametername paramname param "
    "attribute attributename element elementname elementcode elementid column columnname englishname enname "
    "nameen property propertyname variable variablename dataitem dataitemcode itemcode".split()
)
_ENGLISH_NAME_HEAD = frozenset(
    "chinesename cnname namecn namezh zhname chinese label fieldlabel caption displayname title meaning "
    "dataitemname itemname elementlabel".split()
)


def _role(h: str | None) -> str | None:
    s = _hnorm(h)
    if not s:
        return None
    if s in ("序号", "序", "no", "no.", "#", "行号", "顺序号", "seq", "seqno", "sn", "s/n", "index", "item", "itemno"):
        return "seq"
    if any(w in s for w in ("不可为空", "不能为空", "不允许为空", "不允许空", "不得为空", "不为空", "非空", "notnull")):
        return "required"  # 不可为空 = required: the negation, before the 可为空 of the inverted column
    if s in ("optional", "isnull", "null", "allownull", "allowempty", "isoptional") or any(
        w in s for w in ("可否为空", "是否可为空", "允许空", "允许为空", "可为空", "nullable", "是否为空")
    ):
        return "required_inv"
    if any(
        w in s
        for w in (
            "必填",
            "必选",
            "必须",
            "必传",
            "是否必",
            "约束",
            "必需",
            "required",
            "mandatory",
            "m/o",
            "notnull",
            "obligation",
        )
    ):
        return "required"
    if any(
        w in s
        for w in (
            "值域",
            "取值范围",
            "代码表",
            "字典",
            "允许值",
            "枚举",
            "可选值",
            "值集",
            "码表",
            "valuedomain",
            "valueset",
            "codeset",
        )
    ) or s in ("domain", "dictionary", "dict", "enum", "enumeration", "codetable", "allowedvalues", "valuerange"):
        return "codeset"
    if any(w in s for w in ("示例", "样例", "举例", "例子", "example", "sample")):
        return "example"
    if any(w in s for w in ("小数位", "精度", "scale")):
        return "precision"
    if any(w in s for w in ("类型", "格式", "type", "数据型")) or s == "format":
        return "type"
    if any(w in s for w in ("长度", "length", "位数", "字段大小")) or s in ("size", "len", "width", "maxlen"):
        return "length"
    if any(w in s for w in ("来源", "provenance")):
        return "provenance"
    if any(w in s for w in ("数据元标识", "数据元编码", "数据元编号", "内部标识符", "de编码", "数据元代码")):
        return "alias_ws"
    if any(w in s for w in ("拼音",)):
        return "alias_pinyin"
    if any(
        w in s
        for w in (
            "说明",
            "备注",
            "描述",
            "注释",
            "remark",
            "description",
            "comment",
            "填报要求",
            "释义",
            "定义",
            "口径",
            "explanation",
        )
    ) or s in ("note", "notes", "memo", "detail", "details", "definition", "meaningdescription"):
        return "description"
    if "中文" in s or s in _ENGLISH_NAME_HEAD:
        return "name"
    if (
        "英文" in s
        or s
        in (
            "字段名",
            "字段",
            "字段代码",
            "字段编码",
            "字段标识",
            "参数名",
            "参数",
            "属性名",
            "属性",
            "元素名",
            "元素",
            "数据项编码",
            "数据项代码",
            "标识符",
            "field",
            "key",
            "code",
            "name",
            "字段名称英文",
            "字段英文名",
            "参数名称",
            "字段名称",
        )
        or s in _ENGLISH_KEY_HEAD
    ):
        return "key"
    if s in (
        "名称",
        "数据项",
        "数据项名称",
        "指标名称",
        "数据元名称",
        "字段含义",
        "含义",
        "中文名",
        "字段中文名",
        "指标",
        "数据元",
        "项目",
        "指标项",
    ):
        return "name"
    return None


def _header_roles(row: list[str | None]) -> dict[str, int] | None:
    """Column roles of a field-table header row, or None when the row is not one."""
    roles: dict[str, int] = {}
    for i, h in enumerate(row):
        if h is None:
            continue
        r = _role(h)
        if r is None:
            continue
        if r == "required_inv":
            if "required" in roles:
                continue
            roles["required"] = i
            roles["_inverted"] = 1
            continue
        if r in roles:
            if r == "description":
                roles.setdefault("description2", i)
            elif r == "key" and "name" not in roles:
                roles["name"] = i
            elif r == "name" and "key" not in roles:
                # 数据项 | 中文名称: two name-like columns and no code column — the one headed
                # 中文… is the Chinese name, the other (数据项/名称/指标…) holds the field codes
                first = roles["name"]
                if "中文" in _norm(str(h)) and "中文" not in _norm(str(row[first])):
                    roles["key"], roles["name"] = first, i
                else:
                    roles["key"] = i
            continue
        roles[r] = i
    if (
        ("key" in roles or "name" in roles)
        and sum(r in roles for r in ("type", "required", "length")) >= 1
        and sum(r in roles for r in ("type", "required", "length", "description", "codeset", "seq")) >= 2
    ):
        return roles
    return None


_CODE_HEAD = {
    "代码",
    "编码",
    "值",
    "代码值",
    "字典值",
    "编码值",
    "值代码",
    "code",
    "取值",
    "字典编码",
    "字典代码",
    "代码编号",
    "编号",
    "值域代码",
    "分类代码",
    "类别代码",
    "value",
    "codevalue",
    "enumvalue",
    "dictvalue",
}


_NAME_HEAD = {
    "名称",
    "含义",
    "说明",
    "值含义",
    "代码名称",
    "描述",
    "值名称",
    "代码含义",
    "名称/含义",
    "name",
    "中文名称",
    "取值说明",
    "值说明",
    "代码说明",
    "中文名",
    "值域名称",
    "意义",
    "分类名称",
    "类别名称",
    "代码描述",
    "meaning",
    "description",
    "desc",
    "label",
    "text",
    "codename",
    "valuename",
    "displayname",
    "valuemeaning",
    "codemeaning",
}


_PARENT_HEAD = {"上级代码", "父级代码", "上级编码", "父代码", "所属上级", "parent", "上级", "父级", "所属类别"}


_NOTE_HEAD = {"备注", "注释", "note", "notes", "remark", "remarks", "comment", "附注"}


def _is_code_head(s: str) -> bool:
    """代码/编码 or a named one: 疾病诊断编码, 科室代码 (a dictionary published on its own)."""
    return s in _CODE_HEAD or (len(s) <= 12 and s.endswith(("编码", "代码", "code")) and "名称" not in s)


def _is_name_head(s: str) -> bool:
    return s in _NAME_HEAD or (len(s) <= 12 and s.endswith(("名称", "含义")))


# the column naming which dictionary a row belongs to, in an appendix that lists every dictionary
# in one table (字典编码 | 值 | 含义; 值域名称 | 代码 | 名称): one code set per dictionary
_SET_HEAD = {
    "字典编码",
    "字典代码",
    "字典编号",
    "字典标识",
    "字典",
    "字典类型",
    "字典类别",
    "值域",
    "值域代码",
    "值域编码",
    "值域标识",
    "代码表",
    "代码表编号",
    "代码表标识",
    "代码集",
    "代码集编号",
    "dictcode",
    "dictid",
    "dict",
    "codeset",
}


_SET_NAME_HEAD = {"字典名称", "值域名称", "代码表名称", "代码集名称", "字典中文名", "dictname", "codesetname"}


def _code_header_roles(row: list[str | None]) -> dict[str, int] | None:
    heads = [None if h is None else _hnorm(h) for h in row]
    sets = [i for i, s in enumerate(heads) if s in _SET_HEAD]
    if sets:  # 字典编码 | 值 | 含义: the dictionary column, then a code table in the other columns
        rest = [None if i == sets[0] or heads[i] in _SET_NAME_HEAD else h for i, h in enumerate(row)]
        roles = _plain_code_header_roles(rest)
        if roles is not None:
            roles["set"] = sets[0]
            named = [i for i, s in enumerate(heads) if s in _SET_NAME_HEAD]
            if named:
                roles["set_name"] = named[0]
            return roles
    return _plain_code_header_roles(row)


def _plain_code_header_roles(row: list[str | None]) -> dict[str, int] | None:
    roles: dict[str, int] = {}
    for i, h in enumerate(row):
        if h is None:
            continue
        s = _hnorm(h)
        if _is_code_head(s) and "code" not in roles:
            roles["code"] = i
        elif _is_name_head(s) and "name" not in roles:
            roles["name"] = i
        elif s in _PARENT_HEAD:
            roles["parent"] = i
        elif s in _NOTE_HEAD or (s in _NAME_HEAD and "name" in roles):
            roles.setdefault("note", i)
        elif s in ("序号", "序", "no"):
            roles["seq"] = i
        else:
            roles.setdefault("_other", i)
    if "code" in roles and "name" in roles and "_other" not in roles:
        return roles
    return None


_RULE_HEAD = {"规则", "规则id", "规则编号", "校验规则"}


def _rule_header_roles(row: list[str | None]) -> dict[str, int] | None:
    heads = [_hnorm(h) for h in row]
    if not heads or (heads[0] not in _RULE_HEAD and "规则" not in heads):
        return None
    roles = {}
    for i, s in enumerate(heads):
        if s in _RULE_HEAD or s == "规则":
            roles.setdefault("id", i)
        elif s in ("名称", "规则名称", "name"):
            roles["name"] = i
        elif s in ("参数", "params"):
            roles["params"] = i
        elif s in ("级别", "严重程度", "severity"):
            roles["severity"] = i
        elif s in ("说明", "描述", "description"):
            roles["description"] = i
    return roles if "id" in roles and "params" in roles else None


_REFTAB_HEAD = ("本字段", "被引用数据集")


def _ref_header_roles(row: list[str | None]) -> dict[str, int] | None:
    heads = [_hnorm(h) for h in row]
    if not all(h in heads for h in _REFTAB_HEAD):
        return None
    roles = {}
    for i, s in enumerate(heads):
        if s == "本字段":
            roles["fields"] = i
        elif s == "被引用数据集":
            roles["datasets"] = i
        elif s in ("范围", "where"):
            roles["where"] = i
        elif s in ("级别", "severity"):
            roles["severity"] = i
        elif s in ("说明", "描述"):
            roles["description"] = i
    return roles
