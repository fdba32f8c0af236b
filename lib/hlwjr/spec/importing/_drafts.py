"""Drafts the importer fills while reading (field, data set, code set) before they become a spec,
and the field metadata keys a document may state.
"""

from __future__ import annotations

import re
from dataclasses import MISSING, dataclass, make_dataclass
from dataclasses import field as dc_field

from .._model import FIELD_ATTRIBUTES


def _draft_attribute(a):
    """A Field attribute as a (mutable) draft attribute: same name, type and default."""
    if a.default_factory is not MISSING:
        return (a.name, a.type, dc_field(default_factory=a.default_factory))
    if a.default is MISSING:
        return (a.name, a.type)
    return (a.name, a.type, dc_field(default=a.default))


#: a field while the document is read: every attribute of :class:`~hlwjr.spec._model.Field` (the
#: one attribute list), plus what is resolved once every table is read
_FieldDraft = make_dataclass(
    "_FieldDraft",
    [_draft_attribute(a) for a in FIELD_ATTRIBUTES]
    + [
        ("enum", "dict | None", dc_field(default=None)),
        ("refs", "list", dc_field(default_factory=list)),  # section / name references (见字典3.1)
        ("strong", "list", dc_field(default_factory=list)),  # (reference, column) that must resolve
        ("std", "str | None", dc_field(default=None)),
        ("item_hint", "str | None", dc_field(default=None)),
        ("cond_rule", "str | None", dc_field(default=None)),
        ("row", "int | None", dc_field(default=None)),
        ("table", "str", dc_field(default="")),
        ("pk", "bool", dc_field(default=False)),  # marked 主键 in the 约束 column
    ],
)
_FieldDraft.__module__ = __name__


@dataclass
class _DatasetDraft:
    code: str
    name: str
    title: str
    table: str
    section: str | None = None
    aliases: list = dc_field(default_factory=list)
    description: list = dc_field(default_factory=list)
    key: list = dc_field(default_factory=list)
    depends_on: list = dc_field(default_factory=list)
    parent: str | None = None
    fields: dict = dc_field(default_factory=dict)
    rules: list = dc_field(default_factory=list)
    references: list = dc_field(default_factory=list)
    header: tuple = ()
    ncols: int = 0
    explicit_code: bool = False
    roles: dict = dc_field(default_factory=dict)  # column roles of its field table (for continuations)
    header_row: list = dc_field(default_factory=list)
    response: list = dc_field(default_factory=list)  # 输出/出参 rows: the response description


@dataclass
class _CodeSetDraft:
    id: str
    name: str
    codes: dict
    table: str
    origin: str
    section: str | None = None
    standard: str | None = None
    aliases: list = dc_field(default_factory=list)
    parents: dict = dc_field(default_factory=dict)
    notes: dict = dc_field(default_factory=dict)
    provenance: str | None = None
    complete: bool = True
    description: str | None = None
    used: bool = False
    persist_aliases: list | None = None  # aliases to write (None: the derived ones too)


_META_KEYS = [
    ("name", r"接口名称|数据集名称|指标集名称|中文名称|值域名称|代码表名称"),
    ("code", r"数据集代码|接口代码|方法名称?|接口方法|服务方法|接口标识|X-Service-Method"),
    ("aliases", r"别名"),
    ("method", r"操作名称"),
    ("key", r"业务主键|主键|唯一标识|去重(?:主)?键"),
    ("depends_on", r"上传顺序依赖|依赖数据集|依赖|前置数据集"),
    ("parent", r"所属父数据集|父数据集|上级数据集"),
    ("description", r"接口说明|功能说明|功能描述|说明|描述"),
    ("standard", r"标准|依据标准"),
    ("provenance", r"来源"),
    ("complete", r"完整性"),
]


_META_RE = re.compile(r"^\s*(?P<k>" + "|".join(p for _, p in _META_KEYS) + r")\s*[:：]\s*(?P<v>.*)$")


_FIELD_META_RE = re.compile(
    r"^\s*(?P<k>取值范围|最小值|最大值|格式|正则|固定值|示例|来源|别名|至少|最少条数|条件)\s*[:：]\s*(?P<v>.*)$"
)


def _meta_key(label: str) -> str | None:
    for k, pat in _META_KEYS:
        if re.fullmatch(pat, label):
            return k
    return None


def _split_list(v: str) -> list[str]:
    return [x for x in re.split(r"[,，、;；\s]+", v.strip()) if x and x not in ("无", "-", "—")]
