"""The mapping config model: sources, joins, field rules, child (array) rules and the per data
set mapping, as read from and written to ``datasets/<code>.yaml``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .._exceptions import MappingError
from ._derived import DERIVED

KIND = "hlwjr/mapping"
DATASET_KIND = "hlwjr/mapping-dataset"
VERSION = 1
REVIEW_STATUSES = ("suggested", "accepted", "rejected")
RULE_KINDS = ("column", "date", "code", "const", "concat", "derive", "unavailable", "children")
_UNSET: Any = object()
# ------------------------------------------------------------------------------------------------
# config model


def _on_alias(d: dict) -> dict:
    """YAML 1.1 reads a bare ``on:`` key as boolean True; accept it as ``keys``."""
    if True in d or "on" in d:
        d = dict(d)
        d["keys"] = d.pop(True, None) or d.pop("on", None)
    return d


def _clean(d: dict) -> dict:
    """Drop default (None/empty) entries so exported YAML stays short."""
    return {k: v for k, v in d.items() if v is not None and v != {} and v != []}


def _expect(obj, typ, where: str, what: str):
    if not isinstance(obj, typ):
        names = {dict: "映射 (key: value)", list: "列表", str: "字符串"}
        expected = (
            names.get(typ, getattr(typ, "__name__", str(typ)))
            if not isinstance(typ, tuple)
            else "/".join(names.get(t, t.__name__) for t in typ)
        )
        raise MappingError(f"{what} 应为{expected}，实际为 {type(obj).__name__}", where=where)
    return obj


def _name(value, where: str, what: str) -> str | None:
    """A table/column/format name written in YAML: text (a number such as ``table: 2024`` as its
    text), or None when not given; a list, mapping or true/false is refused."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise MappingError(f"{what} 应为一个名称（字符串），实际为 {type(value).__name__}：{value!r}"[:300], where=where)


def _check_keys(d: dict, allowed: set[str], where: str, what: str) -> None:
    unknown = sorted(set(d) - allowed)
    if unknown:
        raise MappingError(
            f"{what} 中有未知的键 {', '.join(unknown)}；允许的键：{', '.join(sorted(allowed))}", where=where
        )


@dataclass
class Join:
    """A lookup table joined to the main table (e.g. 患者表 by BRID); columns become ``alias.COL``."""

    keys: dict[str, str]  # main column -> column of the joined table
    table: str | None = None
    query: str | None = None
    file: str | None = None
    source: str | None = None
    alias: str | None = None
    required: bool = False  # a main row without a match is rejected (else reported)

    @property
    def name(self) -> str:
        return self.alias or self.table or Path(self.file or "query").stem

    def to_dict(self) -> dict:
        return _clean(
            {
                "table": self.table,
                "query": self.query,
                "file": self.file,
                "source": self.source,
                "alias": self.alias,
                "keys": dict(self.keys),
                "required": self.required or None,
            }
        )

    @classmethod
    def from_dict(cls, d, where: str) -> Join:
        _expect(d, dict, where, "join")
        d = _on_alias(d)
        _check_keys(d, {"table", "query", "file", "source", "alias", "keys", "required"}, where, "join")
        if not d.get("keys"):
            raise MappingError("join 缺少 keys（主表列: 关联表列）", where=where)
        if sum(bool(d.get(k)) for k in ("table", "query", "file")) != 1:
            raise MappingError("join 需要且只需要 table、query、file 之一", where=where)
        return cls(
            keys={str(k): str(v) for k, v in _expect(d["keys"], dict, where, "keys").items()},
            table=d.get("table"),
            query=d.get("query"),
            file=d.get("file"),
            source=d.get("source"),
            alias=d.get("alias"),
            required=bool(d.get("required", False)),
        )


@dataclass
class SourceRef:
    """Where a data set's rows come from: a table, query or file of a named source, plus joins."""

    table: str | None = None
    query: str | None = None
    file: str | None = None
    source: str | None = None  # name in Mapping.sources (default: the first)
    sheet: str | None = None
    joins: list[Join] = field(default_factory=list)
    business_time: str | None = None  # column giving the business day for --date
    business_time_format: str | None = None
    drop_exact_duplicates: bool = False  # exact duplicate rows are rejected (reported) instead of mapped
    final_when: dict | None = None  # {column: 状态, in: [已完成]}: only rows in a final state are mapped

    @property
    def label(self) -> str:
        return self.table or self.file or "query"

    def to_dict(self) -> dict:
        return _clean(
            {
                "source": self.source,
                "table": self.table,
                "query": self.query,
                "file": self.file,
                "sheet": self.sheet,
                "joins": [j.to_dict() for j in self.joins],
                "business_time": self.business_time,
                "business_time_format": self.business_time_format,
                "drop_exact_duplicates": self.drop_exact_duplicates or None,
                "final_when": self.final_when,
            }
        )

    @classmethod
    def from_dict(cls, d, where: str) -> SourceRef:
        _expect(d, dict, where, "source")
        _check_keys(
            d,
            {
                "source",
                "table",
                "query",
                "file",
                "sheet",
                "joins",
                "business_time",
                "business_time_format",
                "drop_exact_duplicates",
                "final_when",
            },
            where,
            "source",
        )
        if sum(bool(d.get(k)) for k in ("table", "query", "file")) != 1:
            raise MappingError("source 需要且只需要 table、query、file 之一", where=where)
        joins = [
            Join.from_dict(j, f"{where}.joins[{i}]")
            for i, j in enumerate(_expect(d.get("joins") or [], list, where, "joins"))
        ]
        text = {k: _name(d.get(k), where, k) for k in ("table", "query", "file", "source", "sheet", "business_time")}
        return cls(
            **text,
            joins=joins,
            business_time_format=_name(d.get("business_time_format"), where, "business_time_format"),
            drop_exact_duplicates=bool(d.get("drop_exact_duplicates", False)),
            final_when=_final_when(d.get("final_when"), where),
        )


def _final_when(d: Any, where: str) -> dict | None:
    """``final_when: {column: 状态, in: [已完成, 已审核]}`` — the source column and the values that
    mean the record is final (问诊已结束、处方已审核); other rows wait for a later run."""
    if d is None:
        return None
    _expect(d, dict, where, "final_when")
    _check_keys(d, {"column", "in"}, where, "final_when")
    column, values = d.get("column"), d.get("in")
    if not isinstance(column, str) or not column:
        raise MappingError("final_when 缺少 column（表示状态的源数据列，如 状态 或 p.ZT）", where=where)
    if isinstance(values, (str, int)):
        values = [values]
    if not isinstance(values, list) or not values:
        raise MappingError("final_when 的 in 应为终态取值的列表，例如 in: [已完成]", where=where)
    return {"column": column, "in": [str(v) for v in values]}


_RULE_KEYS = {
    "column",
    "format",
    "code_map",
    "default",
    "take",
    "const",
    "concat",
    "sep",
    "derive",
    "args",
    "params",
    "unavailable",
    "children",
    "trim",
    "status",
    "reviewer",
    "reviewed_at",
    "comment",
    "score",
}


@dataclass
class FieldRule:
    """How one spec field is filled (字段对照规则), with its review status (审核状态)."""

    field: str
    column: str | None = None
    format: str | None = None  # source date/time format (strftime), for date/datetime fields
    code_map: str | None = None  # name of a code map in Mapping.code_maps
    default: str | None = None  # code for local values missing from the code map; None = reject
    take: str = "code"  # code map rules: "code" (标准代码) or "name" (标准名称 of the code)
    const: Any = _UNSET
    concat: list[str] | None = None
    sep: str = ""
    derive: str | None = None
    args: list[str] = field(default_factory=list)
    params: dict = field(default_factory=dict)
    unavailable: str | None = None  # reason the hospital cannot provide the field
    children: ChildRule | None = None
    trim: bool = True
    status: str = "suggested"
    reviewer: str | None = None
    reviewed_at: str | None = None
    comment: str | None = None
    score: float | None = None  # suggestion score when the rule came from ``suggest_fields``

    @property
    def kind(self) -> str:
        """column | date | code | const | concat | derive | unavailable | children."""
        if self.children is not None:
            return "children"
        if self.unavailable is not None:
            return "unavailable"
        if self.const is not _UNSET:
            return "const"
        if self.concat is not None:
            return "concat"
        if self.derive is not None:
            return "derive"
        if self.code_map is not None:
            return "code"
        if self.format is not None:
            return "date"
        return "column"

    def columns(self) -> list[str]:
        """Source columns the rule reads."""
        if self.kind in ("column", "date", "code"):
            return [self.column] if self.column else []
        if self.kind == "concat":
            return [c for c in self.concat or [] if not c.startswith("=")]
        if self.kind == "derive":
            return list(self.args)
        return []

    def describe(self) -> str:
        """The rule in a few words of Chinese (for editors and reports)."""
        k = self.kind
        if k == "column":
            return f"取列 {self.column}"
        if k == "date":
            return f"日期格式转换 {self.column} ({self.format})"
        if k == "code":
            tail = f"，未对照值取 {self.default}" if self.default is not None else "，未对照值拒收"
            what = "（取标准名称）" if self.take == "name" else ""
            return f"值域对照 {self.column} → {self.code_map}{what}{tail}"
        if k == "const":
            return f"常量 {self.const!r}"
        if k == "concat":
            return f"拼接 {' + '.join(self.concat or [])}"
        if k == "derive":
            return f"派生 {self.derive}({', '.join(self.args)})"
        if k == "unavailable":
            return f"无法提供：{self.unavailable}"
        return f"明细 {self.children.source.label if self.children else ''}"

    def to_dict(self) -> dict:
        d: dict[str, Any] = {}
        k = self.kind
        if k == "children":
            d["children"] = self.children.to_dict()
        elif k == "unavailable":
            d["unavailable"] = self.unavailable
        elif k == "const":
            d["const"] = self.const
        elif k == "concat":
            d["concat"] = list(self.concat or [])
            if self.sep:
                d["sep"] = self.sep
        elif k == "derive":
            d["derive"] = self.derive
            if self.args:
                d["args"] = list(self.args)
            if self.params:
                d["params"] = dict(self.params)
        else:
            d["column"] = self.column
            if self.format:
                d["format"] = self.format
            if self.code_map:
                d["code_map"] = self.code_map
                if self.default is not None:
                    d["default"] = self.default
                if self.take != "code":
                    d["take"] = self.take
        if not self.trim:
            d["trim"] = False
        if self.status != "suggested":
            d["status"] = self.status
        d.update(
            _clean(
                {
                    "reviewer": self.reviewer,
                    "reviewed_at": self.reviewed_at,
                    "comment": self.comment,
                    "score": self.score,
                }
            )
        )
        return d

    @classmethod
    def from_dict(cls, key: str, d, where: str) -> FieldRule:
        if isinstance(d, str):  # shorthand: `patientName: BRXM`
            d = {"column": d}
        _expect(d, dict, where, f"字段 {key} 的规则")
        _check_keys(d, _RULE_KEYS, where, f"字段 {key} 的规则")
        kinds = [k for k in ("column", "const", "concat", "derive", "unavailable", "children") if k in d]
        if len(kinds) != 1:
            raise MappingError(
                f"字段 {key} 的规则需要且只需要 column、const、concat、derive、unavailable、children 之一"
                f"（现在是 {', '.join(kinds) or '都没有'}）",
                where=where,
            )
        status = d.get("status", "suggested")
        if status not in REVIEW_STATUSES:
            raise MappingError(f"审核状态 status 应为 {'/'.join(REVIEW_STATUSES)}，实际为 {status!r}", where=where)
        if ("format" in d or "code_map" in d) and "column" not in d:
            raise MappingError("format / code_map 只能与 column 一起使用", where=where)
        if d.get("take", "code") not in ("code", "name"):
            raise MappingError(f"take 应为 code（标准代码）或 name（标准名称），实际为 {d.get('take')!r}", where=where)
        if "take" in d and "code_map" not in d:
            raise MappingError("take 只能与 code_map 一起使用", where=where)
        if "default" in d and "code_map" not in d:
            raise MappingError("default 只能与 code_map 一起使用（未对照值的默认代码）", where=where)
        rule = cls(
            field=key,
            column=d.get("column"),
            format=d.get("format"),
            code_map=d.get("code_map"),
            default=None if d.get("default") is None else str(d["default"]),
            take=d.get("take", "code"),
            const=d["const"] if "const" in d else _UNSET,
            concat=[str(c) for c in _expect(d["concat"], list, where, "concat")] if "concat" in d else None,
            sep=str(d.get("sep", "")),
            derive=d.get("derive"),
            args=[str(a) for a in _expect(d.get("args") or [], list, where, "args")],
            params=dict(_expect(d.get("params") or {}, dict, where, "params")),
            unavailable=str(d["unavailable"]) if "unavailable" in d else None,
            children=ChildRule.from_dict(d["children"], f"{where}.children") if "children" in d else None,
            trim=bool(d.get("trim", True)),
            status=status,
            reviewer=d.get("reviewer"),
            reviewed_at=None if d.get("reviewed_at") is None else str(d["reviewed_at"]),
            comment=d.get("comment"),
            score=d.get("score"),
        )
        if rule.kind in ("column", "date", "code") and not isinstance(rule.column, str):
            raise MappingError(f"字段 {key} 的 column 应为列名字符串", where=where)
        if rule.derive is not None and rule.derive not in DERIVED:
            raise MappingError(f"未知的派生函数 {rule.derive!r}；可用：{', '.join(DERIVED)}", where=where)
        if rule.derive is not None:
            spec_ = DERIVED[rule.derive]
            n = len(rule.args)
            if n < spec_.min_args or (spec_.max_args is not None and n > spec_.max_args):
                raise MappingError(
                    f"派生函数 {rule.derive} 需要 {spec_.min_args}"
                    f"{'' if spec_.max_args == spec_.min_args else '~' + str(spec_.max_args or 'n')} 个参数列，"
                    f"实际 {n} 个",
                    where=where,
                )
        return rule


@dataclass
class ChildRule:
    """An array field's items (e.g. 处方明细 orderList) from a detail table joined by key."""

    source: SourceRef
    keys: dict[str, str]  # child column -> parent (main table) column
    fields: dict[str, FieldRule] = field(default_factory=dict)
    order_by: str | None = None

    def to_dict(self) -> dict:
        d = self.source.to_dict()
        d["keys"] = dict(self.keys)
        if self.order_by:
            d["order_by"] = self.order_by
        d["fields"] = {k: r.to_dict() for k, r in self.fields.items()}
        return d

    @classmethod
    def from_dict(cls, d, where: str) -> ChildRule:
        _expect(d, dict, where, "children")
        d = dict(_on_alias(d))
        on = d.pop("keys", None)
        fields = d.pop("fields", None)
        order_by = d.pop("order_by", None)
        if not on:
            raise MappingError("children 缺少 keys（明细表列: 主表列）", where=where)
        if not fields:
            raise MappingError("children 缺少 fields（明细字段规则）", where=where)
        src = SourceRef.from_dict(d, where)
        rules = {
            str(k): FieldRule.from_dict(str(k), v, f"{where}.fields.{k}")
            for k, v in _expect(fields, dict, where, "fields").items()
        }
        return cls(
            source=src,
            keys={str(k): str(v) for k, v in _expect(on, dict, where, "keys").items()},
            fields=rules,
            order_by=order_by,
        )


@dataclass
class DatasetMapping:
    """The mapping of one data set (数据集对照): its source and one rule per spec field."""

    dataset: str
    source: SourceRef
    fields: dict[str, FieldRule] = field(default_factory=dict)
    description: str | None = None
    file: str | None = None

    # -- simple editing operations (MappingEditor widget, notebooks) --------------------------
    def rules(self) -> list[FieldRule]:
        """The field rules in order."""
        return list(self.fields.values())

    def rule(self, field_key: str) -> FieldRule | None:
        return self.fields.get(field_key)

    def set_rule(self, field_key: str, **rule) -> FieldRule:
        """Replace a field's rule: ``set_rule("patientName", column="BRXM")``,
        ``set_rule("sex", column="XB", code_map="sex", default="0")``, ``set_rule("x", unavailable="…")``.
        The review status starts as ``suggested`` unless given."""
        d = {k: v for k, v in rule.items() if v is not None or k == "const"}
        self.fields[field_key] = FieldRule.from_dict(field_key, d, where=f"{self.dataset}.{field_key}")
        return self.fields[field_key]

    def set_column(self, field_key: str, column: str) -> FieldRule:
        """Point a field at a source column, keeping a date format / code map it already had."""
        old = self.fields.get(field_key)
        if old is not None and old.kind in ("column", "date", "code"):
            old.column = column
            old.status = "suggested"
            return old
        return self.set_rule(field_key, column=column)

    def set_review(
        self,
        field_key: str,
        status: str,
        *,
        reviewer: str | None = None,
        comment: str | None = None,
        at: str | None = None,
    ) -> FieldRule:
        """Record a review decision (审核): ``accepted`` / ``rejected`` / ``suggested``, who and when."""
        if status not in REVIEW_STATUSES:
            raise MappingError(
                f"审核状态应为 {'/'.join(REVIEW_STATUSES)}，实际为 {status!r}", where=f"{self.dataset}.{field_key}"
            )
        r = self.fields.get(field_key)
        if r is None:
            raise MappingError(f"字段 {field_key} 还没有对照规则，请先设置规则再审核", where=self.dataset)
        r.status, r.reviewer, r.comment = status, reviewer or r.reviewer, comment if comment is not None else r.comment
        r.reviewed_at = at or dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
        return r

    def remove_rule(self, field_key: str) -> None:
        self.fields.pop(field_key, None)

    def to_frame(self, spec=None) -> pd.DataFrame:
        """One row per field rule: field, 中文名, 必填, 类型, rule kind, description, review status."""
        ds = None
        if spec is not None:
            ds = spec.dataset(self.dataset)
        rows = []
        keys = list(ds.fields) if ds is not None else list(self.fields)
        for key in keys + [k for k in self.fields if ds is not None and k not in ds.fields]:
            r = self.fields.get(key)
            f = ds.fields.get(key) if ds is not None else None
            rows.append(
                {
                    "field": key,
                    "name": f.name if f else None,
                    "required": (f.required if f else None),
                    "type": f.type if f else None,
                    "kind": r.kind if r else None,
                    "rule": r.describe() if r else "（未对照）",
                    "status": r.status if r else None,
                    "reviewer": r.reviewer if r else None,
                    "reviewed_at": r.reviewed_at if r else None,
                    "comment": r.comment if r else None,
                }
            )
        return pd.DataFrame(rows)

    def to_dict(self) -> dict:
        d = {"kind": DATASET_KIND, "version": VERSION, "dataset": self.dataset}
        if self.description:
            d["description"] = self.description
        d["source"] = self.source.to_dict()
        d["fields"] = {k: r.to_dict() for k, r in self.fields.items()}
        return d

    @classmethod
    def from_dict(cls, d, where: str) -> DatasetMapping:
        _expect(d, dict, where, "数据集对照")
        d = {k: v for k, v in d.items() if not str(k).startswith("x-")}  # x-…: YAML anchors, notes
        _check_keys(d, {"kind", "version", "dataset", "description", "source", "fields"}, where, "数据集对照")
        if d.get("kind", DATASET_KIND) != DATASET_KIND:
            raise MappingError(f"kind 应为 {DATASET_KIND}，实际为 {d.get('kind')!r}", where=where)
        if d.get("version", VERSION) != VERSION:
            raise MappingError(f"不支持的对照文件版本 {d.get('version')!r}（支持 {VERSION}）", where=where)
        if not d.get("dataset"):
            raise MappingError("缺少 dataset（规范中的数据集代码，如 recipe）", where=where)
        if "source" not in d:
            raise MappingError("缺少 source（数据来自哪个表/查询/文件）", where=where)
        code = _name(d["dataset"], where, "dataset")
        fields = {
            str(k): FieldRule.from_dict(str(k), v, f"{where}: 字段 {k}")
            for k, v in _expect(d.get("fields") or {}, dict, where, "fields").items()
        }
        return cls(
            dataset=code,
            source=SourceRef.from_dict(d["source"], f"{where}: source"),
            fields=fields,
            description=d.get("description"),
            file=where,
        )


@dataclass
class SourceDef:
    """A named data source of the hospital: a SQLAlchemy URL or a file path (``${ENV}`` expanded)."""

    url: str | None = None
    path: str | None = None
    encoding: str | None = None
    description: str | None = None

    def to_dict(self) -> dict:
        return _clean({"url": self.url, "path": self.path, "encoding": self.encoding, "description": self.description})


@dataclass
class CodeMapRef:
    """A code map file (值域对照表) and the spec code set its target codes belong to."""

    file: str
    code_set: str | None = None
    description: str | None = None

    def to_dict(self) -> dict:
        return _clean({"file": self.file, "code_set": self.code_set, "description": self.description})
