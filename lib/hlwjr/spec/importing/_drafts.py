"""Drafts the importer fills while reading (field, data set, code set) before they become a spec,
and the field metadata keys a document may state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any


@dataclass
class _FieldDraft:
    key: str
    name: str
    type: str = "string"
    description: str | None = None
    max_length: int | None = None
    min_length: int | None = None
    precision: int | None = None
    total_digits: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    required: bool | str = False
    code_set: str | None = None
    pattern: str | None = None
    const: Any = None
    item: str | None = None
    min_items: int | None = None
    aliases: dict = dc_field(default_factory=dict)
    provenance: str | None = None
    example: Any = None
    # unresolved bits, resolved once every table is read
    enum: dict | None = None
    refs: list = dc_field(default_factory=list)  # section / name references (见字典3.1), strong or weak
    strong: list = dc_field(default_factory=list)  # (reference, column) that must resolve
    std: str | None = None
    item_hint: str | None = None
    cond_rule: str | None = None
    row: int | None = None
    table: str = ""
    pk: bool = False  # marked 主键 in the 约束 column


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
