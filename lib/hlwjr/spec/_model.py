"""The interface spec (接口规范): data sets (数据集/指标集), fields (字段/数据项) and code sets (值域).

A spec is a directory of plain files::

    spec.yaml              kind, version, id, spec_version, title, official, notice, datasets, code_sets
    datasets/<code>.yaml   one data set: key (业务主键), depends_on, references, rules, fields
    codesets/<file>.csv    one code set: header ``code,name[,parent][,note]``

The reference spec ``beijing-reference`` ships as package data.  It is **inferred from public
analogues** and is not the official Beijing document; ``hlwjr spec import`` turns the official
Word/Excel document into the same format the day a hospital has it.

``load_spec()`` checks every file and raises :class:`hlwjr.SpecError` naming the file, the data
set or field and what to fix.  The model objects are immutable.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from dataclasses import field as dc_field
from pathlib import Path
from typing import Any

from .._exceptions import SpecError
from .._privacy import mask_kind

__all__ = [
    "CHECKED_ATTRIBUTES",
    "DATETIME_PATTERN",
    "DATE_PATTERN",
    "DEFAULT_SPEC",
    "FIELD_ATTRIBUTES",
    "FIELD_TYPES",
    "SENSITIVE_KINDS",
    "CodeSet",
    "Dataset",
    "Field",
    "Reference",
    "RuleRef",
    "Spec",
]

DEFAULT_SPEC = "beijing-reference"
FIELD_TYPES = ("string", "integer", "decimal", "date", "datetime", "array")
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
DATETIME_PATTERN = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"
SPEC_KIND = "hlwjr/spec"
SPEC_FORMAT_VERSION = 1

_SPECS_DIR = Path(__file__).resolve().parents[1] / "specs"

#: the values of a field's ``sensitive`` attribute → the mask they ask for
_SENSITIVE_MASKS = {"id": "id", "phone": "phone", "name": "name", "none": "plain"}
SENSITIVE_KINDS = tuple(_SENSITIVE_MASKS)

_TYPE_NAMES_ZH = {
    "string": "字符串",
    "integer": "整数",
    "decimal": "数值",
    "date": "日期",
    "datetime": "日期时间",
    "array": "数组",
}


# --------------------------------------------------------------------------------------------
# model


@dataclass(frozen=True)
class CodeSet:
    """A code set (值域/字典): the allowed codes of a coded field and their names."""

    id: str
    name: str
    codes: Mapping[str, str]
    standard: str | None = None
    provenance: str | None = None
    complete: bool = True
    aliases: tuple[str, ...] = ()
    description: str | None = None
    parents: Mapping[str, str] = dc_field(default_factory=dict)
    notes: Mapping[str, str] = dc_field(default_factory=dict)
    file: str | None = None

    def __contains__(self, code: object) -> bool:
        return code in self.codes

    def __len__(self) -> int:
        return len(self.codes)

    def __iter__(self) -> Iterator[str]:
        return iter(self.codes)

    def table(self) -> tuple[list[str], list[list[str]]]:
        """The code table as (columns, rows): ``code, name`` plus ``parent``/``note`` when used."""
        columns = ["code", "name"] + (["parent"] if self.parents else []) + (["note"] if self.notes else [])
        rows = []
        for code, name in self.codes.items():
            row = [code, name]
            if self.parents:
                row.append(self.parents.get(code, ""))
            if self.notes:
                row.append(self.notes.get(code, ""))
            rows.append(row)
        return columns, rows

    def name_of(self, code: str) -> str | None:
        """The name (名称) of ``code``, or ``None`` when the code is not in the set."""
        return self.codes.get(code)

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame(
            {
                "code": list(self.codes),
                "name": list(self.codes.values()),
                "parent": [self.parents.get(c) for c in self.codes],
                "note": [self.notes.get(c) for c in self.codes],
            }
        )


def _about(zh: str, kind: str = "value", *, compared: bool = True, checked: bool = False) -> dict:
    """A field attribute's metadata: its Chinese label and kind (``count``: a non-negative integer,
    ``number``, ``value``); whether a spec diff compares it; whether the validation engine checks
    it as a field rule (``checked``: the plan carries it). The :class:`Field` dataclass is the one
    attribute list the spec loader, writer and diff, the importer's draft and the validation plan
    are derived from (:data:`FIELD_ATTRIBUTES`)."""
    return {"zh": zh, "kind": kind, "compared": compared, "checked": checked}


@dataclass(frozen=True)
class Field:
    """One field (字段/数据项/指标) of a data set.

    ``sensitive`` says how its values are masked wherever they are shown (``id`` 证件号, ``phone``
    电话, ``name`` 姓名, ``none`` shown as is); a spec that does not say gets the answer inferred
    once from the key and name (:attr:`mask`, asked of :func:`hlwjr._privacy.mask_kind`)."""

    key: str = dc_field(metadata=_about("字段代码", compared=False))
    name: str = dc_field(metadata=_about("中文名称"))
    type: str = dc_field(default="string", metadata=_about("类型", checked=True))
    max_length: int | None = dc_field(default=None, metadata=_about("最大长度", "count", checked=True))
    min_length: int | None = dc_field(default=None, metadata=_about("最小长度", "count", checked=True))
    precision: int | None = dc_field(
        default=None, metadata=_about("小数位", "count", checked=True)
    )  # digits after the point
    total_digits: int | None = dc_field(default=None, metadata=_about("总位数", "count", checked=True))
    minimum: float | None = dc_field(default=None, metadata=_about("最小值", "number", checked=True))
    maximum: float | None = dc_field(default=None, metadata=_about("最大值", "number", checked=True))
    required: bool | str = dc_field(
        default=False, metadata=_about("必填", checked=True)
    )  # True/False/conditional rule id
    code_set: str | None = dc_field(default=None, metadata=_about("值域", checked=True))
    pattern: str | None = dc_field(default=None, metadata=_about("格式", checked=True))
    const: Any = dc_field(default=None, metadata=_about("固定值", checked=True))
    item: str | None = dc_field(default=None, metadata=_about("明细数据集", checked=True))  # child data set (array)
    min_items: int | None = dc_field(default=None, metadata=_about("最少条数", "count", checked=True))
    sensitive: str | None = dc_field(default=None, metadata=_about("脱敏类别"))
    provenance: str | None = dc_field(default=None, metadata=_about("来源", compared=False))
    example: Any = dc_field(default=None, metadata=_about("示例", compared=False))
    description: str | None = dc_field(default=None, metadata=_about("说明"))
    aliases: Mapping[str, str] = dc_field(default_factory=dict, metadata=_about("别名", compared=False))

    def __hash__(self) -> int:
        return hash((self.key, self.name, self.type))

    @property
    def is_required(self) -> bool:
        """True when the field is always mandatory (必填); conditional requirements are rules."""
        return self.required is True

    @property
    def is_conditional(self) -> bool:
        return isinstance(self.required, str)

    @property
    def mask(self) -> str | None:
        """How this field's values are masked: ``"id"``, ``"phone"``, ``"name"``, ``"plain"``
        (shown as is) or None (ID- and phone-like digit runs masked inside the text)."""
        return self.mask_for()

    def mask_for(self, value: Any = None) -> str | None:
        """:attr:`mask`, where a spec that does not say may also judge by a sample ``value``."""
        if self.sensitive is not None:
            return _SENSITIVE_MASKS[self.sensitive]
        return mask_kind(self.key, self.name, value)

    @property
    def type_zh(self) -> str:
        return _TYPE_NAMES_ZH.get(self.type, self.type)

    def json_schema(self, spec: Spec | None = None) -> dict:
        """This field's JSON Schema (Draft 2020-12), as described in docs/DESIGN.md."""
        s: dict[str, Any] = {"title": self.name}
        if self.description:
            s["description"] = self.description
        t = self.type
        if t == "string":
            s["type"] = "string"
            if self.max_length is not None:
                s["maxLength"] = self.max_length
            min_len = self.min_length
            if self.is_required and not min_len:
                min_len = 1
            if min_len:
                s["minLength"] = min_len
            if self.pattern:
                s["pattern"] = self.pattern
        elif t == "integer":
            s["type"] = "integer"
        elif t == "decimal":
            s["type"] = "number"
        elif t == "date":
            s.update(type="string", format="date", pattern=DATE_PATTERN)
        elif t == "datetime":
            s.update(type="string", format="date-time-cn", pattern=DATETIME_PATTERN)
        elif t == "array":
            s["type"] = "array"
            if self.min_items is not None:
                s["minItems"] = self.min_items
            if self.item and spec is not None:
                s["items"] = spec.dataset(self.item).json_schema(_root=False)
        if t in ("integer", "decimal"):
            if self.minimum is not None:
                s["minimum"] = self.minimum
            if self.maximum is not None:
                s["maximum"] = self.maximum
        if self.code_set and spec is not None and t in ("string", "integer"):
            cs = spec.code_set(self.code_set)
            if cs.complete:
                codes = list(cs.codes)
                if t == "integer":
                    codes = [int(c) for c in codes if re.fullmatch(r"-?\d+", c)]
                s["enum"] = codes
        if self.const is not None:
            s["const"] = self.const
        return s


#: every attribute of a :class:`Field`, in the order specs are written (the dataclass fields)
FIELD_ATTRIBUTES = fields(Field)
#: the attributes the validation engine checks as field rules (each with one kernel in
#: ``hlwjr.validation._fields``)
CHECKED_ATTRIBUTES = tuple(a.name for a in FIELD_ATTRIBUTES if a.metadata["checked"])


@dataclass(frozen=True)
class Reference:
    """A reference from this data set's field(s) to the business key of another data set."""

    fields: Mapping[str, str]  # local field -> field of the target data set
    datasets: tuple[str, ...]  # any of these
    where: str = "any"  # batch | accepted | any
    severity: str = "error"
    description: str | None = None


@dataclass(frozen=True)
class RuleRef:
    """A record rule from the registry (``hlwjr.validation._rules``), referenced by id with its params."""

    id: str
    params: Mapping[str, Any] = dc_field(default_factory=dict)
    severity: str = "error"
    name: str | None = None  # lets a field's ``required: <name>`` point at this rule
    description: str | None = None


@dataclass(frozen=True, eq=False)
class Dataset:
    """A data set (数据集/接口): what one upload interface carries, e.g. 在线处方."""

    code: str
    name: str
    fields: Mapping[str, Field]
    key: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    section: str | None = None
    description: str | None = None
    depends_on: tuple[str, ...] = ()
    references: tuple[Reference, ...] = ()
    rules: tuple[RuleRef, ...] = ()
    parent: str | None = None  # for child data sets (e.g. recipe_detail under recipe)
    file: str | None = None
    spec_id: str | None = None
    _spec: Spec | None = dc_field(default=None, repr=False, compare=False, hash=False)

    def __iter__(self) -> Iterator[Field]:
        return iter(self.fields.values())

    def mask_of(self, key: str, value: Any = None) -> str | None:
        """How values of column ``key`` are masked: the field's :attr:`Field.mask` (its
        ``sensitive`` attribute or the inferred answer); a column that is no field of this data set
        is judged by its key and ``value`` alone."""
        f = self.fields.get(key)
        return f.mask_for(value) if f is not None else mask_kind(key, "", value)

    def __len__(self) -> int:
        return len(self.fields)

    @property
    def spec(self) -> Spec:
        if self._spec is None:  # pragma: no cover - only for hand-built datasets
            raise SpecError(f"数据集 {self.code} 不属于任何规范")
        return self._spec

    @property
    def required_fields(self) -> list[str]:
        return [f.key for f in self.fields.values() if f.is_required]

    def field(self, name: str) -> Field:
        """A field by key, alias (any style) or Chinese name; SpecError if unknown."""
        f = self.fields.get(name)
        if f is not None:
            return f
        for f in self.fields.values():
            if name == f.name or name in f.aliases.values():
                return f
        lowered = name.lower()
        for f in self.fields.values():
            if f.key.lower() == lowered:
                return f
        raise SpecError(
            f"数据集 {self.code}（{self.name}）没有字段 {name!r}；可用字段: " + ", ".join(list(self.fields)[:40]),
            where=self.file,
        )

    def json_schema(self, *, _root: bool = True) -> dict:
        """The data set as a JSON Schema (Draft 2020-12) any JSON Schema tool can check a record with."""
        spec = self._spec
        props = {f.key: f.json_schema(spec) for f in self.fields.values()}
        schema: dict[str, Any] = {}
        if _root:
            schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
            schema["$id"] = f"urn:hlwjr:{self.spec_id or 'spec'}:{self.code}"
        schema.update(
            title=f"{self.name} ({self.code})",
            type="object",
            properties=props,
            required=self.required_fields,
        )
        if self.description:
            schema["description"] = self.description
        return schema

    def key_of(self, record: Mapping[str, Any]) -> tuple:
        return tuple(record.get(k) for k in self.key)


@dataclass(frozen=True, eq=False)
class Spec:
    """An interface spec (接口规范): its data sets and code sets, with id and version."""

    id: str
    version: str
    title: str
    datasets: Mapping[str, Dataset]
    code_sets: Mapping[str, CodeSet]
    official: bool = False
    notice: str | None = None
    description: str | None = None
    source: str | None = None
    provenance_tags: Mapping[str, str] = dc_field(default_factory=dict)
    path: str | None = None
    extra: Mapping[str, Any] = dc_field(default_factory=dict)

    def __repr__(self) -> str:
        return f"<Spec {self.id} {self.version}: {len(self.datasets)} data sets, {len(self.code_sets)} code sets>"

    def dataset(self, name: str) -> Dataset:
        """A data set by code, alias (e.g. ``DS07a``, ``uploadRecipeIndicators``) or Chinese name."""
        ds = self.datasets.get(name)
        if ds is not None:
            return ds
        for ds in self.datasets.values():
            if name in ds.aliases or name == ds.name:
                return ds
        lowered = name.lower()
        for ds in self.datasets.values():
            if lowered == ds.code.lower() or lowered in (a.lower() for a in ds.aliases):
                return ds
        raise SpecError(
            f"规范 {self.id} 中没有数据集 {name!r}；可用数据集: "
            + ", ".join(f"{d.code}（{d.name}）" for d in self.datasets.values()),
            where=self.path,
        )

    def code_set(self, name: str) -> CodeSet:
        """A code set by id, alias, standard or name; SpecError if unknown."""
        cs = self.code_sets.get(name)
        if cs is not None:
            return cs
        for cs in self.code_sets.values():
            if name in cs.aliases or name == cs.name or (cs.standard and name == cs.standard):
                return cs
        raise SpecError(
            f"规范 {self.id} 中没有值域（代码集） {name!r}；可用: " + ", ".join(self.code_sets),
            where=self.path,
        )

    def top_level(self) -> list[Dataset]:
        """Top-level data sets (not child arrays), in dependency (upload) order."""
        tops = {c: d for c, d in self.datasets.items() if d.parent is None}
        order: list[str] = []
        state: dict[str, int] = {}

        def visit(code: str, chain: tuple[str, ...]) -> None:
            if state.get(code) == 2:
                return
            if state.get(code) == 1:
                raise SpecError(
                    "数据集依赖关系 depends_on 存在循环: " + " → ".join(chain + (code,)) + "；请删除其中一个依赖",
                    where=tops[code].file or self.path,
                )
            state[code] = 1
            for dep in tops[code].depends_on:
                if dep in tops:
                    visit(dep, chain + (code,))
            state[code] = 2
            order.append(code)

        for code in tops:
            visit(code, ())
        return [tops[c] for c in order]

    def children(self, dataset: str) -> list[Dataset]:
        code = self.dataset(dataset).code
        return [d for d in self.datasets.values() if d.parent == code]

    @property
    def label(self) -> str:
        """A one-line description for listings, stating whether the spec is official."""
        kind = "官方文档" if self.official else "非官方，依据公开资料推断"
        return f"{self.id} {self.version} — {self.title}（{kind}）"
