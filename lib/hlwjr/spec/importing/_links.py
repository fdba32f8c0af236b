"""Dictionaries, rule and reference tables, and resolving what fields refer to: a code set per
dictionary (code column found by content), rules and references of a data set, and each field's
reference (见字典3.1, 科室码表) linked to the table of that name or listed for review."""

from __future__ import annotations

import re
from typing import Any

from ..._exceptions import SpecError, SpecImportError
from ._blocks import _Table
from ._drafts import _META_RE, _CodeSetDraft, _DatasetDraft, _FieldDraft, _meta_key, _split_list
from ._tables import (
    _after_title,
    _cell_getter,
    _dotted_parent,
    _header_key,
    _is_header_again,
    _parse_title,
    _ref_variants,
    _width,
)
from ._text import _norm, _pinyin_initials


class _Links:
    """The importer's code sets, rules, references and their resolution (mixed into ``_Importer``)."""

    _grouped: dict | None = None  # dictionary cell → its code set, for 字典编码 | 值 | 含义 tables

    # -- code sets --------------------------------------------------------------------------
    def _new_code_set(self, t: _Table, hdr: int, roles: dict) -> None:
        where = self._where(t)
        title = t.title or ""
        sec, name, ident, std = _parse_title(title)
        meta: dict[str, str] = {}
        for p in _after_title(t.paras, title):
            m = _META_RE.match(p.text)
            if m and (k := _meta_key(m.group("k"))):
                meta[k] = m.group("v").strip()
        if meta.get("name"):
            name = meta["name"]
        if not name:
            name = title or t.label
        short = re.sub(r"(字典表|代码表|字典|码表)$", "", name).strip() or name
        cid = self._free_code_set_id(ident or std or (_pinyin_initials(short) if short else None) or "codes")
        cs = _CodeSetDraft(
            id=cid, name=name, codes={}, table=where, origin="代码表", section=sec, standard=meta.get("standard") or std
        )
        if meta.get("aliases"):
            cs.aliases = [a.strip() for a in re.split(r"[;；]", meta["aliases"]) if a.strip()]
        cs.persist_aliases = list(cs.aliases) if self.from_hlwjr else None
        if meta.get("provenance"):
            cs.provenance = meta["provenance"]
        if meta.get("complete") and meta["complete"].startswith(("不完整", "部分", "否")):
            cs.complete = False
        if meta.get("description"):
            cs.description = meta["description"]
        for a in (sec, title, name, short):
            if a and a not in cs.aliases and a != cid:
                cs.aliases.append(a)
        self.code_sets[cid] = cs
        self._last_cs, self._last_grouped = cs, None
        self._last_cs_header = _header_key(t.rows[hdr])
        self._last_cs_ncols = _width(t)
        self._last_cs_roles = roles
        self._code_rows(cs, t, hdr + 1, roles)

    def _free_code_set_id(self, cid: str) -> str:
        """``cid``, or ``cid_2``, ``cid_3`` … when a code set of that id was already read."""
        base, k = cid, 2
        while cid in self.code_sets:
            cid, k = f"{base}_{k}", k + 1
        return cid

    def _grouped_code_sets(self, t: _Table, hdr: int, roles: dict, start: int | None = None) -> None:
        """One table listing every dictionary (字典编码 | 值 | 含义): a code set per dictionary, named
        by its cell (a merged cell left blank below keeps the one above); a later table with the same
        dictionary adds to its code set."""
        same = start is not None or (t.continuation and _header_key(t.rows[hdr]) == self._last_cs_header)
        key = self._last_grouped[2] if same and self._last_grouped else None  # a merged cell across a page break
        if start is None:
            self._last_cs_header = _header_key(t.rows[hdr])
            start = hdr + 1
        for ri in range(start, len(t.rows)):
            row = t.rows[ri]
            get = _cell_getter(row, roles)
            if get("set"):
                key = get("set")
            if not any(row) or _is_header_again(row, self._last_cs_header):
                continue
            if key is None:
                self.issue(
                    self._where(t), t.row_numbers[ri], "字典", get("code"), "这一行没有写所属字典，未导入", "error"
                )
                continue
            self._code_rows(self._grouped_set(key, get("set_name"), t), t, ri, roles, stop=ri + 1)
        self._last_cs, self._last_grouped = None, (_width(t), roles, key)

    def _grouped_set(self, key: str, name: str | None, t: _Table) -> _CodeSetDraft:
        if self._grouped is None:
            self._grouped = {}
        grouped = self._grouped
        if key not in grouped:
            sec, parsed, ident, std = _parse_title(f"{name}（{key}）" if name and name != key else key)
            cid = re.sub(r"[^0-9A-Za-z_.\-]+", "-", ident or std or key).strip("-") or _pinyin_initials(key)
            cid = self._free_code_set_id(cid)
            cs = _CodeSetDraft(
                id=cid,
                name=name or parsed or key,
                codes={},
                table=self._where(t),
                origin="代码表",
                section=sec,
                standard=std,
            )
            cs.aliases = [a for a in dict.fromkeys((key, name, parsed)) if a and a != cid]
            cs.persist_aliases = list(cs.aliases) if self.from_hlwjr else None
            self.code_sets[cid] = grouped[key] = cs
        return grouped[key]

    def _code_rows(self, cs: _CodeSetDraft, t: _Table, start: int, roles: dict, stop: int | None = None) -> None:
        where = self._where(t)
        for ri in range(start, len(t.rows) if stop is None else stop):
            row = t.rows[ri]
            rn = t.row_numbers[ri]
            if not any(row):
                continue
            if _is_header_again(row, self._last_cs_header):
                continue

            get = _cell_getter(row, roles)

            code, name = get("code"), get("name")
            if not code:
                if name:
                    self.issue(where, rn, "代码", name, "代码为空，这一行未导入", "error")
                continue
            if code in cs.codes:
                if cs.codes[code] != name:
                    self.issue(
                        where,
                        rn,
                        "代码",
                        code,
                        f"代码 {code} 重复（名称 {cs.codes[code]} / {name}），保留第一次出现的",
                        "error",
                    )
                continue
            if not name:
                self.issue(where, rn, "名称", code, f"代码 {code} 没有名称", "warning")
            cs.codes[code] = name
            if get("parent"):
                cs.parents[code] = get("parent")
            elif "parent" not in roles and (up := _dotted_parent(code, cs.codes)) is not None:
                cs.parents[code] = up  # 03.01 under 03
            if get("note"):
                cs.notes[code] = get("note")

    # -- rules and references tables (written by `hlwjr spec export`) -------------------------
    def _rule_rows(self, ds: _DatasetDraft, t: _Table, start: int, roles: dict) -> None:
        import yaml

        where = self._where(t)
        for ri in range(start, len(t.rows)):
            row = t.rows[ri]

            get = _cell_getter(row, roles)

            if not get("id"):
                continue
            rule: dict[str, Any] = {"id": get("id")}
            if get("name"):
                rule["name"] = get("name")
            ptext = get("params")
            if ptext:
                try:
                    params = yaml.safe_load(ptext)
                except yaml.YAMLError:
                    params = None
                if not isinstance(params, dict):
                    self.issue(
                        where,
                        t.row_numbers[ri],
                        "参数",
                        ptext,
                        "规则参数不是 {键: 值} 形式，规则未导入",
                        "error",
                        ds.code,
                    )
                    continue
                rule["params"] = params
            sev = get("severity")
            if sev in ("warning", "警告"):
                rule["severity"] = "warning"
            if get("description"):
                rule["description"] = get("description")
            ds.rules.append(rule)

    def _ref_rows(self, ds: _DatasetDraft, t: _Table, start: int, roles: dict) -> None:
        where = self._where(t)
        for ri in range(start, len(t.rows)):
            row = t.rows[ri]

            get = _cell_getter(row, roles)

            if not get("fields"):
                continue
            fmap = {}
            for part in re.split(r"[,，;；]\s*", get("fields")):
                a, _, b = part.partition("→")
                if not _:
                    a, _, b = part.partition("->")
                fmap[a.strip()] = (b or a).strip()
            ref: dict[str, Any] = {"fields": fmap, "datasets": _split_list(get("datasets").replace("|", " "))}
            w = get("where")
            if w in ("batch", "accepted"):
                ref["where"] = w
            if get("severity") in ("warning", "警告"):
                ref["severity"] = "warning"
            if get("description"):
                ref["description"] = get("description")
            if not ref["datasets"]:
                self.issue(
                    where,
                    t.row_numbers[ri],
                    "被引用数据集",
                    get("fields"),
                    "引用没有给出被引用数据集，未导入",
                    "error",
                    ds.code,
                )
                continue
            ds.references.append(ref)

    # -- resolution -------------------------------------------------------------------------
    def resolve(self) -> None:
        if not any(not d.parent for d in self.datasets.values() if d.fields) and not self.code_sets:
            raise SpecImportError(
                "文档中没有可识别的字段表：需要一个表头含「字段名/英文名/数据项」或「中文名称」，并含「类型/长度/必填」"
                "之一的表格；代码表需「代码/编码/值」+「名称/含义」两列"
                + (
                    f"（共读到 {self.report.tables} 个表格，均不符合）"
                    if self.report.tables
                    else "（各工作表中都没有找到这样的表头行）"
                    if self.path.suffix.lower() in (".xlsx", ".xlsm")
                    else "（文档中没有表格）"
                ),
                where=str(self.path),
            )
        by_section = {d.section: d for d in self.datasets.values() if d.section}
        cs_index: dict[str, _CodeSetDraft] = {}
        for cs in self.code_sets.values():
            for a in [cs.id, cs.name, cs.standard, cs.section, *cs.aliases]:
                for v in _ref_variants(a):
                    cs_index.setdefault(v, cs)
        inline: dict[tuple, _CodeSetDraft] = {}
        for ds in list(self.datasets.values()):
            for fd in ds.fields.values():
                if fd.type == "array":
                    self._resolve_item(ds, fd, by_section)
                    continue
                found = None
                for r in fd.refs + ([fd.std] if fd.std else []):
                    found = next((cs_index[v] for v in _ref_variants(r) if v in cs_index), None)
                    if found:
                        break
                if found is None and not fd.enum:
                    # the document names a standard but has no table for it: take the codes
                    # from the reference spec when it knows the standard, and say so
                    for r in [x for x, _ in fd.strong] + ([fd.std] if fd.std else []):
                        found = self._from_reference(r, cs_index)
                        if found is not None:
                            self.issue(
                                fd.table,
                                fd.row,
                                "值域",
                                r,
                                f"文档没有附「{r}」的代码表，值域代码取自参考规范的 {found.id}（{found.name}，"
                                f"{len(found.codes)} 个代码），请与标准原文核对",
                                "warning",
                                ds.code,
                                fd.key,
                            )
                            break
                if found is not None:
                    fd.code_set = found.id
                    found.used = True
                    if fd.enum and set(fd.enum) - set(found.codes):
                        self.issue(
                            fd.table,
                            fd.row,
                            "值域",
                            " ".join(f"{k}:{v}" for k, v in fd.enum.items()),
                            f"说明中的枚举与代码表 {found.id} 不一致，采用代码表",
                            "warning",
                            ds.code,
                            fd.key,
                        )
                    continue
                if fd.enum:
                    sig = tuple(fd.enum.items())
                    cs = inline.get(sig)
                    if cs is None:
                        cid = fd.key if fd.key not in self.code_sets else self._free_code_set_id(f"{ds.code}.{fd.key}")
                        cs = _CodeSetDraft(
                            id=cid,
                            name=fd.name,
                            codes=dict(fd.enum),
                            table=fd.table,
                            origin=f"字段说明中的枚举（{ds.code}.{fd.key} 第{fd.row}行）",
                            used=True,
                            description=f"由接口文档 {ds.name} 的 {fd.name} 说明中的枚举生成",
                        )
                        self.code_sets[cid] = cs
                        inline[sig] = cs
                    fd.code_set = cs.id
                    continue
                if fd.strong:
                    what, col = fd.strong[0]
                    self.issue(
                        fd.table,
                        fd.row,
                        col or "值域",
                        what,
                        f"值域引用「{what}」在文档中找不到对应的代码表（如「3.1 诊疗科目字典」），未关联值域；"
                        "请补充代码表或在 spec 中手工设置 code_set",
                        "error",
                        ds.code,
                        fd.key,
                    )
        for cs in self.code_sets.values():
            if not cs.codes:
                self.issue(cs.table, None, None, cs.name, f"代码表 {cs.id} 没有任何代码，未导入", "error")

    def _from_reference(self, ref: str, cs_index: dict) -> _CodeSetDraft | None:
        """A code set of the reference spec known by this standard number or name, copied in."""
        from .._load import load_spec

        if self._reference is None:
            try:
                self._reference = load_spec()
            except SpecError:
                self._reference = False
        if not self._reference:
            return None
        for v in _ref_variants(ref):
            for cs in self._reference.code_sets.values():
                names = [cs.id, cs.name, cs.standard, *cs.aliases]
                if any(v in _ref_variants(n) for n in names if n):
                    if cs.id in self.code_sets:
                        return self.code_sets[cs.id]
                    draft = _CodeSetDraft(
                        id=cs.id,
                        name=cs.name,
                        codes=dict(cs.codes),
                        table=f"参考规范 {self._reference.id}",
                        origin=f"参考规范 {self._reference.id}（文档只写了「{ref}」）",
                        standard=cs.standard,
                        aliases=list(cs.aliases),
                        parents=dict(cs.parents),
                        notes=dict(cs.notes),
                        provenance=f"取自参考规范 {self._reference.id}"
                        + (f"（{cs.provenance}）" if cs.provenance else ""),
                        complete=cs.complete,
                        description=cs.description,
                        used=True,
                    )
                    self.code_sets[cs.id] = draft
                    for a in names:
                        for w in _ref_variants(a):
                            cs_index.setdefault(w, draft)
                    return draft
        return None

    def _resolve_item(self, ds: _DatasetDraft, fd: _FieldDraft, by_section: dict) -> None:
        if fd.item and fd.item in self.datasets:
            return
        cands = [r for r in fd.refs] + [fd.item_hint or "", fd.key, fd.name]
        child = None
        for c in cands:
            if not c:
                continue
            child = by_section.get(c) or self.datasets.get(c)
            if child is None:
                for d in self.datasets.values():
                    if d is ds:
                        continue
                    if c in d.aliases or c == d.name or _norm(c) == _norm(d.name) or c == d.title:
                        child = d
                        break
            if child is not None and child is not ds:
                break
            child = None
        if child is None:
            fd.type = "string"
            self.issue(
                fd.table,
                fd.row,
                "类型",
                fd.key,
                f"数组字段 {fd.key} 找不到明细表（子数据集，如「"
                f"{ds.section + '.1 ' if ds.section else ''}{fd.name}」），已按字符串导入",
                "error",
                ds.code,
                fd.key,
            )
            return
        fd.item = child.code
        if child.parent and child.parent != ds.code:
            self.issue(
                fd.table,
                fd.row,
                "类型",
                fd.key,
                f"明细表 {child.code} 同时属于 {child.parent} 和 {ds.code}",
                "warning",
                ds.code,
                fd.key,
            )
        child.parent = child.parent or ds.code
