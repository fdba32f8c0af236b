"""Compare two editions of an interface spec (接口规范版本对比): what a new document changes.

A new edition of the platform's 数据接口文档 should not surprise anybody. :func:`diff_specs` lists
every added, removed or changed data set, field and code, and says for each change whether it
needs work on the hospital side (``impact="breaking"``: a new required field, a shorter length,
another type, a removed code …) or is compatible (a longer length, a new optional field, a new
code). ``SpecDiff.to_frame()`` gives one row per change; ``str(diff)`` a text rendering grouped by
data set.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from .._exceptions import SpecError
from ._model import FIELD_ATTRIBUTES

__all__ = ["Change", "SpecDiff", "diff_specs"]

# field attributes compared, with their Chinese label (the one attribute list of Field)
_FIELD_ATTRS = tuple((a.name, a.metadata["zh"]) for a in FIELD_ATTRIBUTES if a.metadata["compared"])
_DATASET_ATTRS = (
    ("name", "中文名称"),
    ("key", "业务主键"),
    ("depends_on", "上传顺序依赖"),
    ("parent", "父数据集"),
    ("section", "章节"),
)
_COLUMNS = ["object", "change", "dataset", "field", "code_set", "code", "attribute", "old", "new", "impact", "message"]
_OBJ_ZH = {"spec": "规范", "dataset": "数据集", "field": "字段", "code_set": "值域", "code": "代码"}
_CHANGE_ZH = {"added": "新增", "removed": "删除", "changed": "变更", "renamed": "改名"}
_IMPACT_ZH = {"breaking": "需处理", "compatible": "兼容", "info": "说明"}


@dataclass(frozen=True)
class Change:
    """One difference between two spec editions."""

    object: str  # spec | dataset | field | code_set | code
    change: str  # added | removed | changed | renamed
    dataset: str | None = None
    field: str | None = None
    code_set: str | None = None
    code: str | None = None
    attribute: str | None = None
    old: Any = None
    new: Any = None
    impact: str = "info"  # breaking | compatible | info
    message: str = ""

    def __str__(self) -> str:
        return f"[{_IMPACT_ZH.get(self.impact, self.impact)}] {self.message}"


@dataclass
class SpecDiff:
    """All differences from ``old`` to ``new`` (规范对比结果)."""

    old_id: str
    old_version: str
    new_id: str
    new_version: str
    changes: list[Change] = dc_field(default_factory=list)

    def __len__(self) -> int:
        return len(self.changes)

    def __iter__(self) -> Iterator[Change]:
        return iter(self.changes)

    def __bool__(self) -> bool:
        return bool(self.changes)

    @property
    def breaking(self) -> list[Change]:
        """Changes the hospital must act on (mapping, data or code tables)."""
        return [c for c in self.changes if c.impact == "breaking"]

    def filter(
        self, *, object: str | None = None, change: str | None = None, dataset: str | None = None
    ) -> list[Change]:
        return [
            c
            for c in self.changes
            if (object is None or c.object == object)
            and (change is None or c.change == change)
            and (dataset is None or c.dataset == dataset)
        ]

    def to_frame(self):
        """One row per change: object, change, dataset, field, code_set, code, attribute, old, new, impact, message."""
        import pandas as pd

        rows = []
        for c in self.changes:
            row = {k: getattr(c, k) for k in _COLUMNS}
            row["old"] = _show(c.old) if c.old is not None else None
            row["new"] = _show(c.new) if c.new is not None else None
            rows.append(row)
        return pd.DataFrame(rows, columns=_COLUMNS)

    def to_dict(self) -> dict:
        return {
            "old": {"id": self.old_id, "version": self.old_version},
            "new": {"id": self.new_id, "version": self.new_version},
            "summary": self.summary(),
            "changes": [{k: (_jsonable(getattr(c, k))) for k in _COLUMNS} for c in self.changes],
        }

    def summary(self) -> dict[str, int]:
        out: dict[str, int] = {"total": len(self.changes), "breaking": len(self.breaking)}
        for c in self.changes:
            k = f"{c.object}_{c.change}"
            out[k] = out.get(k, 0) + 1
        return out

    def to_text(self) -> str:
        head = f"规范对比: {self.old_id} {self.old_version} → {self.new_id} {self.new_version}"
        if not self.changes:
            return head + "\n  没有差异。"
        s = self.summary()
        lines = [
            head,
            f"  共 {s['total']} 处差异，其中需处理 {s['breaking']} 处"
            f"（数据集 +{s.get('dataset_added', 0)}/-{s.get('dataset_removed', 0)}，"
            f"字段 +{s.get('field_added', 0)}/-{s.get('field_removed', 0)}"
            f"/~{s.get('field_changed', 0) + s.get('field_renamed', 0)}，"
            f"代码 +{s.get('code_added', 0)}/-{s.get('code_removed', 0)}/~{s.get('code_changed', 0)}）",
        ]
        groups: dict[str, list[Change]] = {}
        for c in self.changes:
            if c.object in ("code_set", "code"):
                g = f"值域 {c.code_set}"
            elif c.dataset:
                g = f"数据集 {c.dataset}"
            else:
                g = "规范"
            groups.setdefault(g, []).append(c)
        for g, items in groups.items():
            lines.append("")
            lines.append(g + ":")
            for c in items:
                lines.append(f"  {c}")
        return "\n".join(lines)

    __str__ = to_text

    def _repr_html_(self) -> str:  # Jupyter
        import html

        head = html.escape(self.to_text().split("\n", 2)[0])
        if not self.changes:
            return f"<p><b>{head}</b>：没有差异。</p>"
        s = self.summary()
        return f"<p><b>{head}</b>：共 {s['total']} 处差异，需处理 {s['breaking']} 处</p>" + self.to_frame()[
            ["impact", "object", "change", "dataset", "field", "code_set", "code", "message"]
        ].to_html(index=False)


def _show(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        return ", ".join(map(str, v)) or "（无）"
    if v is True:
        return "是"
    if v is False:
        return "否"
    if v is None:
        return "（无）"
    return str(v)


def _jsonable(v: Any) -> Any:
    if isinstance(v, tuple):
        return list(v)
    if isinstance(v, (str, int, float, bool, list, dict)) or v is None:
        return v
    return str(v)


def _req_show(v: Any) -> str:
    if v is True:
        return "必填"
    if v is False:
        return "非必填"
    return f"条件必填（{v}）"


def _field_impact(attr: str, old: Any, new: Any, old_cs=None, new_cs=None) -> str:
    if attr in ("name", "description"):
        return "info"
    if attr == "max_length":
        if old is None:
            return "breaking"
        if new is None:
            return "compatible"
        return "breaking" if new < old else "compatible"
    if attr in ("precision", "total_digits"):
        if old is None:
            return "breaking"
        if new is None:
            return "compatible"
        return "breaking" if new < old else "compatible"
    if attr == "min_length":
        return "breaking" if (new or 0) > (old or 0) else "compatible"
    if attr == "required":
        return "breaking" if new is True or (isinstance(new, str) and old is False) else "compatible"
    if attr == "minimum":
        return "breaking" if new is not None and (old is None or new > old) else "compatible"
    if attr == "maximum":
        return "breaking" if new is not None and (old is None or new < old) else "compatible"
    if attr == "min_items":
        return "breaking" if (new or 0) > (old or 0) else "compatible"
    if attr in ("pattern", "const"):
        return "breaking" if new is not None else "compatible"
    if attr == "code_set":
        if new is None:
            return "compatible"
        if old_cs is not None and new_cs is not None and set(old_cs.codes) <= set(new_cs.codes):
            return "compatible"
        return "breaking"
    return "breaking"  # type, item


def diff_specs(old, new, *, descriptions: bool = False) -> SpecDiff:
    """Differences from ``old`` to ``new`` (each a Spec, spec name or spec directory).

    Changed descriptions (说明) are listed only with ``descriptions=True``: between two editions
    of a document they change everywhere and hide what matters.

    Data sets are matched by code (or, failing that, an alias or the Chinese name), fields by key
    (a removed and an added field with the same Chinese name are reported as a rename), code sets
    by id (or alias/standard), codes by code.
    """
    from ._load import load_spec

    a = load_spec(old)
    b = load_spec(new)
    d = SpecDiff(a.id, a.version, b.id, b.version)
    add = d.changes.append

    if a.official != b.official:
        add(
            Change(
                "spec",
                "changed",
                attribute="official",
                old=a.official,
                new=b.official,
                impact="info",
                message=f"规范性质: {'官方' if a.official else '参考/非官方'} → "
                f"{'官方' if b.official else '参考/非官方'}",
            )
        )

    # -- data sets ---------------------------------------------------------------------------
    matched = _match(
        a.datasets,
        b.datasets,
        lambda code, ds, other: code in other.aliases or ds.name == other.name or other.code in ds.aliases,
    )
    for code, ds in a.datasets.items():
        if code not in matched:
            add(
                Change(
                    "dataset",
                    "removed",
                    dataset=code,
                    old=ds.name,
                    impact="compatible",
                    message=f"删除数据集 {code}（{ds.name}），共 {len(ds.fields)} 个字段；对应的上传任务可以停用",
                )
            )
    for code, ds in b.datasets.items():
        if code not in matched.values():
            req = sum(1 for f in ds.fields.values() if f.is_required)
            add(
                Change(
                    "dataset",
                    "added",
                    dataset=code,
                    new=ds.name,
                    impact="breaking",
                    message=f"新增数据集 {code}（{ds.name}），{len(ds.fields)} 个字段（必填 {req} 个）；"
                    "需要新建指标对照和上传",
                )
            )
    for oc, nc in matched.items():
        od, nd = a.datasets[oc], b.datasets[nc]
        label = nc if oc == nc else f"{nc}（原 {oc}）"
        if oc != nc:
            add(
                Change(
                    "dataset",
                    "renamed",
                    dataset=nc,
                    attribute="code",
                    old=oc,
                    new=nc,
                    impact="breaking",
                    message=f"数据集代码 {oc} → {nc}（{nd.name}）；映射与上传配置需改用新代码",
                )
            )
        for attr, zh in _DATASET_ATTRS:
            ov, nv = getattr(od, attr), getattr(nd, attr)
            if ov != nv:
                impact = "breaking" if attr in ("key", "parent") else "info"
                add(
                    Change(
                        "dataset",
                        "changed",
                        dataset=nc,
                        attribute=attr,
                        old=ov,
                        new=nv,
                        impact=impact,
                        message=f"数据集 {label} 的{zh}: {_show(ov)} → {_show(nv)}",
                    )
                )
        _diff_fields(d, a, b, od, nd, nc, descriptions)

    # -- code sets ---------------------------------------------------------------------------
    cs_match = _match(
        a.code_sets,
        b.code_sets,
        lambda cid, cs, other: (
            cid in other.aliases or bool(cs.standard and cs.standard == other.standard) or other.id in cs.aliases
        ),
    )
    for cid, cs in a.code_sets.items():
        if cid not in cs_match:
            add(
                Change(
                    "code_set",
                    "removed",
                    code_set=cid,
                    old=cs.name,
                    impact="compatible",
                    message=f"删除值域 {cid}（{cs.name}，{len(cs.codes)} 个代码）",
                )
            )
    for cid, cs in b.code_sets.items():
        if cid not in cs_match.values():
            add(
                Change(
                    "code_set",
                    "added",
                    code_set=cid,
                    new=cs.name,
                    impact="info",
                    message=f"新增值域 {cid}（{cs.name}，{len(cs.codes)} 个代码）",
                )
            )
    for oc, nc in cs_match.items():
        ocs, ncs = a.code_sets[oc], b.code_sets[nc]
        if oc != nc:
            add(
                Change(
                    "code_set",
                    "renamed",
                    code_set=nc,
                    attribute="id",
                    old=oc,
                    new=nc,
                    impact="info",
                    message=f"值域 id {oc} → {nc}（{ncs.name}）",
                )
            )
        for attr, zh in (("name", "名称"), ("standard", "标准"), ("complete", "完整性")):
            ov, nv = getattr(ocs, attr), getattr(ncs, attr)
            if ov != nv:
                impact = "breaking" if attr == "complete" and nv else "info"
                add(
                    Change(
                        "code_set",
                        "changed",
                        code_set=nc,
                        attribute=attr,
                        old=ov,
                        new=nv,
                        impact=impact,
                        message=f"值域 {nc} 的{zh}: {_show(ov)} → {_show(nv)}",
                    )
                )
        for code, name in ocs.codes.items():
            if code not in ncs.codes:
                add(
                    Change(
                        "code",
                        "removed",
                        code_set=nc,
                        code=code,
                        old=name,
                        impact="breaking",
                        message=f"值域 {nc}（{ncs.name}）删除代码 {code} {name}；代码对照中用到它的记录将被拒收",
                    )
                )
            elif ncs.codes[code] != name:
                add(
                    Change(
                        "code",
                        "changed",
                        code_set=nc,
                        code=code,
                        attribute="name",
                        old=name,
                        new=ncs.codes[code],
                        impact="breaking" if _used_with_name_check(b, nc) else "info",
                        message=f"值域 {nc}（{ncs.name}）代码 {code} 的名称: {name} → {ncs.codes[code]}",
                    )
                )
        for code, name in ncs.codes.items():
            if code not in ocs.codes:
                add(
                    Change(
                        "code",
                        "added",
                        code_set=nc,
                        code=code,
                        new=name,
                        impact="compatible",
                        message=f"值域 {nc}（{ncs.name}）新增代码 {code} {name}",
                    )
                )
    return d


def _match(old: dict, new: dict, similar) -> dict[str, str]:
    """Old id → new id: the same id first, then ``similar(old_id, old_obj, new_obj)`` (alias, name,
    standard) among the new objects not yet taken. Exact ids go first so that an alias match can
    never take a new object whose own id is still in the old edition (one new object per old one)."""
    matched = {k: k for k in old if k in new}
    taken = set(matched.values())
    for k, obj in old.items():
        if k in matched:
            continue
        for nk, other in new.items():
            if nk not in taken and similar(k, obj, other):
                matched[k] = nk
                taken.add(nk)
                break
    return matched


def _used_with_name_check(spec, cs_id: str) -> bool:
    """A code's name matters when a code_name_match rule checks names against this code set."""
    for ds in spec.datasets.values():
        for r in ds.rules:
            if r.id == "code_name_match" and r.params.get("code_set") == cs_id:
                return True
    return False


def _diff_fields(d: SpecDiff, a, b, od, nd, code: str, descriptions: bool) -> None:
    add = d.changes.append
    removed = [k for k in od.fields if k not in nd.fields]
    added = [k for k in nd.fields if k not in od.fields]
    renames: dict[str, str] = {}
    for k in removed:
        of = od.fields[k]
        for n in added:
            nf = nd.fields[n]
            if n not in renames.values() and (
                nf.name == of.name
                or of.key in nf.aliases.values()
                or n in of.aliases.values()
                or n.lower() == k.lower()
            ):
                renames[k] = n
                break
    for k in removed:
        of = od.fields[k]
        if k in renames:
            n = renames[k]
            add(
                Change(
                    "field",
                    "renamed",
                    dataset=code,
                    field=n,
                    attribute="key",
                    old=k,
                    new=n,
                    impact="breaking",
                    message=f"{code}.{k} 改名为 {n}（{nd.fields[n].name}）；指标对照需改用新字段名",
                )
            )
            _diff_field_attrs(d, a, b, od.fields[k], nd.fields[n], code, descriptions)
            continue
        add(
            Change(
                "field",
                "removed",
                dataset=code,
                field=k,
                old=of.name,
                impact="compatible",
                message=f"{code} 删除字段 {k}（{of.name}）；平台将忽略该字段，可从指标对照中去掉",
            )
        )
    for n in added:
        if n in renames.values():
            continue
        nf = nd.fields[n]
        impact = "breaking" if nf.is_required else "compatible"
        req = "必填" if nf.is_required else ("条件必填" if nf.is_conditional else "非必填")
        add(
            Change(
                "field",
                "added",
                dataset=code,
                field=n,
                new=nf.name,
                impact=impact,
                message=f"{code} 新增{req}字段 {n}（{nf.name}，{_type_text(nf)}）"
                + ("；需要补充指标对照" if nf.is_required else ""),
            )
        )
    for k in od.fields:
        if k in nd.fields:
            _diff_field_attrs(d, a, b, od.fields[k], nd.fields[k], code, descriptions)


def _type_text(f) -> str:
    from ._export import length_label, type_label

    ln = length_label(f)
    return type_label(f) + (f"({ln})" if ln else "")


def _diff_field_attrs(d: SpecDiff, a, b, of, nf, code: str, descriptions: bool) -> None:
    for attr, zh in _FIELD_ATTRS:
        if attr == "description" and not descriptions:
            continue
        ov, nv = getattr(of, attr), getattr(nf, attr)
        if attr == "code_set":
            ocs = _cs(a, ov)
            ncs = _cs(b, nv)
            same_codes = ocs is not None and ncs is not None and dict(ocs.codes) == dict(ncs.codes)
            if ov == nv or same_codes:
                continue
            impact = _field_impact(attr, ov, nv, ocs, ncs)
            add_msg = f"{code}.{nf.key}（{nf.name}）的值域: {_show(ov)} → {_show(nv)}"
        else:
            if ov == nv:
                continue
            impact = _field_impact(attr, ov, nv)
            if attr == "required":
                add_msg = f"{code}.{nf.key}（{nf.name}）: {_req_show(ov)} → {_req_show(nv)}"
            elif attr == "description":
                add_msg = f"{code}.{nf.key}（{nf.name}）的说明有改动"
            else:
                add_msg = f"{code}.{nf.key}（{nf.name}）的{zh}: {_show(ov)} → {_show(nv)}"
        d.changes.append(
            Change(
                "field",
                "changed",
                dataset=code,
                field=nf.key,
                attribute=attr,
                old=ov,
                new=nv,
                impact=impact,
                message=add_msg,
            )
        )


def _cs(spec, cid):

    if not cid:
        return None
    try:
        return spec.code_set(cid)
    except SpecError:  # a dangling id just has no codes to compare
        return None
