"""Building the spec from the drafts: data sets, fields, code sets and rules as the spec model has
them, with every guess recorded in the report for review."""

from __future__ import annotations

import datetime as _dt
import hashlib
import re

from ._notations import (
    _METHOD_RE,
)
from ._tables import (
    _response_lines,
    _typed_value,
)


class _Building:
    """The importer's last step (mixed into ``_Importer``)."""

    # -- build ------------------------------------------------------------------------------
    def build(self, spec_id: str, official: bool | None):
        from .._model import CodeSet, Dataset, Field, Spec

        for ds in self.datasets.values():
            if not ds.fields:
                self.issue(ds.table, None, None, ds.title, f"数据集 {ds.code} 没有任何字段，未导入", "error", ds.code)
        datasets = {c: d for c, d in self.datasets.items() if d.fields}
        used_cs = {fd.code_set for d in datasets.values() for fd in d.fields.values() if fd.code_set}
        for ds in datasets.values():
            for fd in ds.fields.values():
                if fd.type == "array" and fd.item not in datasets:
                    self.issue(
                        fd.table,
                        fd.row,
                        "类型",
                        fd.key,
                        f"数组字段 {fd.key} 的明细表 {fd.item} 没有可导入的字段，已按字符串导入",
                        "error",
                        ds.code,
                        fd.key,
                    )
                    fd.type, fd.item = "string", None
            if ds.parent and ds.parent not in datasets:
                self.issue(
                    ds.table,
                    None,
                    None,
                    ds.parent,
                    f"父数据集 {ds.parent} 不存在，{ds.code} 按顶层数据集导入",
                    "error",
                    ds.code,
                )
                ds.parent = None
            for k in list(ds.key):
                if k not in ds.fields:
                    self.issue(
                        ds.table,
                        None,
                        "业务主键",
                        k,
                        f"业务主键字段 {k} 不在字段表中，已从主键中去掉",
                        "error",
                        ds.code,
                    )
                    ds.key.remove(k)
            if not ds.key and not ds.parent:
                guess = [k for k, f in ds.fields.items() if f.pk] or [
                    k for k, f in ds.fields.items() if f.description and re.search(r"主键|唯一标识|去重", f.description)
                ]
                if guess:
                    ds.key = guess
                    self.issue(
                        ds.table,
                        None,
                        "业务主键",
                        ", ".join(guess),
                        "文档未单独写明业务主键，按必填/约束列的「主键」标记或字段说明中的「主键/唯一标识」推断，请核对",
                        "warning",
                        ds.code,
                    )
                else:
                    self.issue(
                        ds.table,
                        None,
                        "业务主键",
                        None,
                        "文档未写明业务主键（去重键），请在 datasets/<code>.yaml 的 key 中补充",
                        "warning",
                        ds.code,
                    )
            for d in list(ds.depends_on):
                if d not in datasets:
                    found = next((x.code for x in datasets.values() if d in x.aliases or d == x.name), None)
                    ds.depends_on.remove(d)
                    if found:
                        ds.depends_on.append(found)
                    else:
                        self.issue(ds.table, None, "依赖", d, f"依赖的数据集 {d} 不在文档中，已忽略", "error", ds.code)
            ok_refs = []
            for r in ds.references:
                bad = [t for t in r["datasets"] if t not in datasets] + [f for f in r["fields"] if f not in ds.fields]
                if bad:
                    self.issue(
                        ds.table,
                        None,
                        "引用",
                        ", ".join(bad),
                        "引用中的数据集或字段不存在，该引用未导入",
                        "error",
                        ds.code,
                    )
                else:
                    ok_refs.append(r)
            ds.references = ok_refs
            rule_names = {r.get("name") or r["id"] for r in ds.rules} | {r["id"] for r in ds.rules}
            for fd in ds.fields.values():
                if fd.cond_rule:
                    if fd.cond_rule in rule_names:
                        fd.required = fd.cond_rule
                    else:
                        self.issue(
                            fd.table,
                            fd.row,
                            "必填",
                            fd.cond_rule,
                            f"条件必填规则 {fd.cond_rule} 在本数据集的校验规则表中找不到，按非必填导入",
                            "warning",
                            ds.code,
                            fd.key,
                        )
        code_sets = {}
        for cid, c in self.code_sets.items():
            if not c.codes:
                continue
            if cid not in used_cs and c.origin != "代码表":
                continue
            code_sets[cid] = CodeSet(
                id=cid,
                name=c.name,
                codes=dict(c.codes),
                standard=c.standard,
                provenance=c.provenance,
                complete=c.complete,
                aliases=(
                    tuple(c.persist_aliases)
                    if c.persist_aliases is not None
                    else tuple(a for a in dict.fromkeys(c.aliases) if a != cid and a != c.name)
                ),
                description=c.description,
                parents=dict(c.parents),
                notes=dict(c.notes),
            )
        for d in datasets.values():
            for fd in d.fields.values():
                if fd.code_set and fd.code_set not in code_sets:
                    fd.code_set = None
        ds_objs = {}
        for code, d in datasets.items():
            fields = {}
            for k, fd in d.fields.items():
                fd.example = _typed_value(fd.example, fd.type)
                fd.const = _typed_value(fd.const, fd.type)
                fields[k] = Field(
                    key=fd.key,
                    name=fd.name,
                    type=fd.type,
                    description=fd.description,
                    max_length=fd.max_length,
                    min_length=fd.min_length,
                    precision=fd.precision,
                    total_digits=fd.total_digits,
                    minimum=fd.minimum,
                    maximum=fd.maximum,
                    required=fd.required,
                    code_set=fd.code_set,
                    pattern=fd.pattern,
                    const=fd.const,
                    item=fd.item if fd.type == "array" else None,
                    min_items=fd.min_items,
                    aliases=dict(fd.aliases),
                    provenance=fd.provenance,
                    example=fd.example,
                )
            from .._model import Reference, RuleRef

            ds_objs[code] = Dataset(
                code=code,
                name=d.name,
                fields=fields,
                key=tuple(d.key),
                aliases=tuple(dict.fromkeys(d.aliases)),
                section=d.section,
                description="\n".join(d.description + _response_lines(d.response)) or None,
                depends_on=tuple(d.depends_on),
                references=tuple(
                    Reference(
                        fields=r["fields"],
                        datasets=tuple(r["datasets"]),
                        where=r.get("where", "any"),
                        severity=r.get("severity", "error"),
                        description=r.get("description"),
                    )
                    for r in d.references
                ),
                rules=tuple(
                    RuleRef(
                        id=r["id"],
                        params=r.get("params") or {},
                        severity=r.get("severity", "error"),
                        name=r.get("name"),
                        description=r.get("description"),
                    )
                    for r in d.rules
                ),
                parent=d.parent,
                spec_id=spec_id,
            )
        digest = hashlib.sha256(self.path.read_bytes()).hexdigest()[:12]
        today = _dt.date.today().isoformat()
        is_official = bool(official) if official is not None else bool(self.spec_official)
        notice = self.spec_notice or (
            f"由接口文档 {self.path.name} 导入（{today}，hlwjr spec import），请对照原文核对导入报告中列出的单元格。"
        )
        spec = Spec(
            id=spec_id,
            version=self.spec_version or "0",
            title=self.spec_title or self.path.stem,
            datasets=ds_objs,
            code_sets=code_sets,
            official=is_official,
            notice=notice,
            source=f"{self.path.name} (sha256 {digest})"
            + (f"；原始来源 {self.source_hint}" if self.source_hint else ""),
            provenance_tags=dict(self.provenance_tags),
        )
        for d in ds_objs.values():
            object.__setattr__(d, "_spec", spec)
        # the report's summaries
        self.report.datasets = [
            {
                "code": d.code,
                "name": d.name,
                "section": d.section,
                "fields": len(d.fields),
                "key": list(d.key),
                "parent": d.parent,
                "table": datasets[d.code].table,
                "lists": [f.key for f in d.fields.values() if f.type == "array"],
                "code_sets": sum(1 for f in d.fields.values() if f.code_set),
                "conditional": [f.key for f in d.fields.values() if f.is_conditional],
                "review": sum(1 for i in self.report.issues if i.dataset == d.code and i.severity != "info"),
                "method": next((a for a in d.aliases if _METHOD_RE.fullmatch(a)), None),
            }
            for d in ds_objs.values()
        ]
        self.report.code_sets = [
            {
                "id": c.id,
                "name": c.name,
                "origin": self.code_sets[c.id].origin,
                "codes": len(c.codes),
                "table": self.code_sets[c.id].table,
            }
            for c in code_sets.values()
        ]
        return spec
