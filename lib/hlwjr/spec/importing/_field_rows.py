"""Record tables row by row: a data set from its table (method name, description, key), and each
row a field — type, length, required and conditions, enumerations, formats, nested lists (child
rows marked [0..1]/└ or announced by a list row) and the response rows left out."""

from __future__ import annotations

import re
from typing import Any

from ._blocks import _Table
from ._drafts import _FIELD_META_RE, _META_RE, _DatasetDraft, _FieldDraft, _meta_key, _split_list
from ._notations import (
    _BARE_DICT_NAME,
    _ID_REF_RE,
    _NAMED_REF_RE,
    _REF_RE,
    _STD_RE,
    _method_to_code,
    parse_enum,
    parse_required,
    parse_type,
)
from ._tables import (
    _CHILD_MARK,
    _COND_COMPARE,
    _COND_OPS,
    _COND_REQUIRED,
    _FORMAT_HINT,
    _LIST_ANNOUNCE,
    _OUTPUT,
    _after_title,
    _header_key,
    _is_list_head,
    _is_title,
    _method_of,
    _num,
    _parse_title,
    _width,
)
from ._text import _IDENT, _clean, _has_cjk, _norm, _pinyin_initials


class _FieldRows:
    """The importer's reading of record tables (mixed into ``_Importer``)."""

    # -- data sets --------------------------------------------------------------------------
    def _new_dataset(self, t: _Table, hdr: int) -> _DatasetDraft:
        where = self._where(t)
        title = t.title or ""
        sec, name, ident, _std = _parse_title(title)
        meta: dict[str, str] = {}
        desc: list[str] = []
        for p in _after_title(t.paras, title):
            m = _META_RE.match(p.text)
            if m:
                k = _meta_key(m.group("k"))
                if k:
                    meta[k] = m.group("v").strip()
                    continue
            if not _is_title(p) and not re.match(r"^[(（]?续", p.text):
                desc.append(p.text)
        if meta.get("name"):
            name = meta["name"]
        if (method := _method_of(t.pre_header.get("method") or meta.get("method", ""))) is not None:
            ident = method  # 操作名称 | X-Service-Method=uploadRecipe: the platform's method name
        if t.pre_header.get("description"):
            desc.insert(0, t.pre_header["description"])
        explicit = False
        aliases: list[str] = []
        if meta.get("code"):
            ident_code = meta["code"].split()[0]
            code = _method_to_code(ident_code)
            explicit = True
            if code != ident_code:
                aliases.append(ident_code)
        elif ident:
            code = _method_to_code(ident)
            explicit = True
            if code != ident:
                aliases.append(ident)
        elif name:
            code = _pinyin_initials(name) or "ds"
            if not title:
                self.issue(
                    where,
                    None,
                    None,
                    None,
                    "字段表上方没有数据集标题，数据集代码按拼音首字母生成，请核对",
                    "warning",
                    code,
                )
        else:
            code = "ds"
        if not name:
            name = title or code
            if not title:
                self.issue(
                    where,
                    None,
                    None,
                    None,
                    "字段表上方没有数据集标题（如 2.2.3 在线处方 uploadRecipeIndicators），已用表格编号命名",
                    "error",
                    code,
                )
                name = t.label
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_\-]*$", code):
            code = _pinyin_initials(code) or "ds"
        base, k = code, 2
        while code in self.datasets:
            code = f"{base}_{k}"
            k += 1
        if code != base:
            self.issue(
                where,
                None,
                None,
                title,
                f"数据集代码 {base} 已被前面的表使用，本表命名为 {code}；如为同一数据集的续表请删除中间的标题",
                "warning",
                code,
            )
        for a in _split_list(meta.get("aliases", "")):
            if a not in aliases and a != code:
                aliases.append(a)
        ds = _DatasetDraft(
            code=code,
            name=name,
            title=title,
            table=where,
            section=sec,
            aliases=aliases,
            description=desc,
            header=_header_key(t.rows[hdr]),
            ncols=_width(t),
            explicit_code=explicit,
        )
        if meta.get("key"):
            ds.key = _split_list(meta["key"])
        if meta.get("depends_on"):
            ds.depends_on = _split_list(meta["depends_on"])
        if meta.get("parent"):
            ds.parent = meta["parent"].split()[0]
        if meta.get("description"):
            ds.description.insert(0, meta["description"])
        self.datasets[code] = ds
        return ds

    def _field_rows(self, ds: _DatasetDraft, t: _Table, start: int, roles: dict) -> None:
        ds.roles = roles
        where = self._where(t)
        header = t.rows[start - 1] if start > 0 else ds.header_row
        if start > 0 and not ds.header_row:
            ds.header_row = list(header)
        head_names = {
            r: (header[i] if i < len(header) and header[i] else r) for r, i in roles.items() if not r.startswith("_")
        }
        inverted = bool(roles.get("_inverted"))
        # columns with a header that is no field attribute (示例来源系统, 对应HIS表…): their content
        # goes into the field's description, so nothing in the document is lost
        used = {i for r, i in roles.items() if not r.startswith("_")}
        extra = [(i, _clean(h)) for i, h in enumerate(header) if h and _clean(h) and i not in used]
        if extra and ds.code not in self._extra_reported:
            self._extra_reported.add(ds.code)
            self.issue(
                where,
                t.row_numbers[start - 1] if 0 < start <= len(t.row_numbers) else None,
                "、".join(h for _, h in extra),
                None,
                f"列「{'」「'.join(h for _, h in extra)}」不是可识别的字段属性，其内容已并入字段说明（description）"
                "，请核对",
                "info",
                ds.code,
            )

        def cell(row: list[str | None], role: str) -> str:
            i = roles.get(role)
            if i is None or i >= len(row):
                return ""
            return row[i] or ""

        key_col = roles.get("key")
        keyed_rows = [ri for ri in range(start, len(t.rows)) if key_col is not None and cell(t.rows[ri], "key")]
        indented_rows = sum(1 for ri in keyed_rows if t.is_indented(ri, key_col))
        nested_by_indent = 0 < indented_rows < len(keyed_rows)  # every row indented alike: no nesting
        prev_indented = False
        group_child: str | None = None  # rows under a 处方明细（orderList） group row
        last_array: str | None = None  # the latest array field: └ rows belong to it
        after_row: list[_FieldDraft] = []
        prev_direction = last_direction = ""
        for ri in range(start, len(t.rows)):
            if after_row and after_row[-1].type == "array" and not after_row[-1].item:
                last_array = after_row[-1].key
            row = t.rows[ri]
            rn = t.row_numbers[ri]
            texts = [c for c in row if c]
            if not texts:
                continue
            if _header_key(row) == ds.header:
                continue  # repeated header row (Word "repeat header rows" or split table)
            first_col = next(i for i, c in enumerate(row) if c)
            if (
                len(row) > 2
                and len(set(texts)) == 1
                and (
                    row.count(None) >= len(row) - 1
                    or (
                        len(texts) == 1
                        and not _IDENT.match(texts[0].strip("*"))
                        and first_col <= max(roles.get("key", 0), roles.get("name", 0))
                    )
                )
            ):
                group_child = None
                for ident in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", texts[0]):
                    target = ds.fields.get(ident)
                    if target is not None and target.type == "array":
                        group_child = ident  # 处方明细（orderList）: the rows below are its fields
                if group_child is None and (m := _LIST_ANNOUNCE.match(texts[0])) is not None:
                    group_child = m.group("key")  # meetClinicResults 会诊结果 ListObject: a list starts here
                    ds.fields.setdefault(
                        group_child,
                        _FieldDraft(key=group_child, name=m.group("name"), type="array", row=rn, table=where),
                    )
                note = f"，以下各行为 {group_child} 的明细字段" if group_child else "，不是字段，未导入"
                self.issue(where, rn, None, texts[0], "分组标题行（合并单元格）" + note, "info", ds.code)
                continue
            direction = cell(row, "direction").strip() or last_direction  # blank: continues the row above
            last_direction = direction
            if direction and self._output_row(ds, row, direction, where, rn, head_names.get("direction", "方向")):
                continue
            key = cell(row, "key").strip()
            tree = _CHILD_MARK.match(key)
            indented = bool(nested_by_indent and key and not tree and t.is_indented(ri, key_col))
            first_indented, prev_indented = indented and not prev_indented, indented
            if indented:
                last_array = self._indented_parent(after_row, last_array, first_indented)
                if last_array is not None and "." not in key:
                    key = f"{last_array}.{key}"  # an indented row: a field of the list above
            elif tree and key[tree.end() :] and last_array is not None:
                key = f"{last_array}.{key[tree.end() :].strip()}"  # └ drcode under orderList
            elif group_child and key and "." not in key:
                key = f"{group_child}.{key}"
            name = cell(row, "name").strip()
            desc_parts = [cell(row, "description"), cell(row, "description2")]
            desc_parts += [
                f"{h}：{row[i].strip()}"
                for i, h in extra
                if i < len(row) and row[i] and row[i].strip() and row[i] not in (key, name)
            ]
            required_mark = False
            if key.startswith("*") or key.endswith("*"):
                key = key.strip("*").strip()
                required_mark = True
            if not key and not name:
                self.issue(
                    where,
                    rn,
                    head_names.get("key", head_names.get("name")),
                    " | ".join(texts),
                    "这一行没有字段名也没有中文名称，未导入",
                    "error",
                    ds.code,
                )
                continue
            if key and not _IDENT.match(key):
                m = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)[\s(（]+(.+?)[)）]?$", key)
                if m and not name:
                    key, name = m.group(1), m.group(2)
                elif "." in key and all(_IDENT.match(p) for p in key.split(".")):
                    pass
                else:
                    new = _pinyin_initials(key).upper() if _has_cjk(key) else re.sub(r"\W+", "_", key).strip("_")
                    self.issue(
                        where,
                        rn,
                        head_names.get("key"),
                        key,
                        f"字段名不是合法的英文标识符，已改为 {new}",
                        "error",
                        ds.code,
                        new,
                    )
                    if not name and _has_cjk(key):
                        name = key
                    key = new or "field"
            if not key:
                key = _pinyin_initials(name).upper() or f"F{rn}"
                self.issue(
                    where,
                    rn,
                    head_names.get("key", "字段名"),
                    name,
                    f"没有字段名（英文），按中文名称拼音首字母生成 {key}，请核对",
                    "warning",
                    ds.code,
                    key,
                )
            if not name:
                name = key
            dotted = None
            if "." in key:
                dotted, key = key.split(".", 1)
            fd = _FieldDraft(key=key, name=name, row=rn, table=where)
            after_row.append(fd)
            # type and length
            ttext = cell(row, "type")
            ti = parse_type(ttext, cell(row, "length") or None, cell(row, "precision") or None)
            if ti.type is None and _is_list_head(direction, prev_direction, ttext):
                fd.type = "array"
            elif ti.type is None:
                fd.type = "string"
                self.issue(
                    where,
                    rn,
                    head_names.get("type", "类型"),
                    ttext,
                    "类型为空，按字符串导入，请核对",
                    "warning",
                    ds.code,
                    key,
                )
            else:
                fd.type = ti.type
            if ti.problem:
                col = (
                    head_names.get("length")
                    if "长度" in ti.problem and "length" in roles
                    else head_names.get("type", "类型")
                )
                self.issue(
                    where,
                    rn,
                    col,
                    " ".join(x for x in (ttext, cell(row, "length")) if x),
                    ti.problem,
                    "error",
                    ds.code,
                    key,
                )
            if ti.note:
                self.issue(where, rn, head_names.get("type", "类型"), ttext, ti.note, "info", ds.code, key)
            if _is_list_head(direction, prev_direction, ttext) and not dotted:
                fd.type = "array"  # orderList | 处方列表数据集 | 输入List: the rows marked [0..1]/└ below
            prev_direction = direction
            fd.max_length, fd.precision, fd.total_digits = ti.max_length, ti.precision, ti.total_digits
            fd.min_length = ti.min_length if ti.type == "string" else None
            fd.item_hint = ti.item_hint
            # required
            marked_conditional = False
            if "required" in roles:
                rtext = cell(row, "required")
                req, cond = parse_required(rtext, inverted=inverted)
                if req is None:
                    self.issue(
                        where,
                        rn,
                        head_names.get("required"),
                        rtext,
                        "无法识别的必填标记（可用: 是/否/Y/N/必填/可选/M/O/C/√），按非必填导入",
                        "error",
                        ds.code,
                        key,
                    )
                    req = False
                if req == "conditional":
                    marked_conditional = True
                    fd.required = False
                    if cond and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", cond):
                        fd.cond_rule = cond
                    else:
                        if cond:
                            desc_parts.append(f"条件必填：{cond}")
                        self.issue(
                            where,
                            rn,
                            head_names.get("required"),
                            rtext,
                            "条件必填：已按非必填导入，请在数据集 rules 中补充 required_if 规则",
                            "info",
                            ds.code,
                            key,
                        )
                else:
                    fd.required = bool(req)
            if required_mark:
                fd.required = True
            if "主键" in cell(row, "required") or cell(row, "required").strip().upper() == "PK":
                fd.pk = True
            # description, labelled lines (取值范围/格式/示例/来源/别名) and code-set hints
            desc_lines: list[str] = []
            for part in desc_parts:
                if not part:
                    continue
                for line in part.split("\n"):
                    line = line.strip()
                    if not line or line in desc_lines:
                        continue
                    if self._field_meta(fd, line, where, rn, head_names.get("description")):
                        continue
                    desc_lines.append(line)
            if "name" not in roles and desc_lines and fd.name == fd.key:
                # 参数名 | 参数说明 layouts: the Chinese name is the first clause of the description
                first = re.split(r"[，,。；;:：(（\s]", desc_lines[0], maxsplit=1)[0]
                if first and len(first) <= 20 and _has_cjk(first):
                    fd.name = first
                    if desc_lines == [first]:
                        desc_lines = []
            if cell(row, "example") and fd.example is None:
                fd.example = cell(row, "example")
            if cell(row, "provenance"):
                fd.provenance = cell(row, "provenance")
            if cell(row, "alias_ws"):
                fd.aliases["ws"] = cell(row, "alias_ws")
            if cell(row, "alias_pinyin"):
                fd.aliases["pinyin"] = cell(row, "alias_pinyin")
            cs_text = cell(row, "codeset").strip()
            self._code_hints(
                fd, cs_text, desc_lines, where, rn, head_names.get("codeset"), ds.code, head_names.get("description")
            )
            fd.description = "\n".join(desc_lines) or None
            for line in desc_lines:
                self._format_hint(fd, line)
                if fd.required is not True and fd.cond_rule is None and not marked_conditional:
                    self._described_condition(ds, fd, line, where, rn, head_names.get("description", "说明"))
            # a dotted key (orderList.drcode): a field of a child data set
            target = ds
            if dotted:
                target = self._child_for(ds, dotted, where)
            if key in target.fields:
                self.issue(
                    where,
                    rn,
                    head_names.get("key"),
                    key,
                    f"字段 {key} 在数据集 {target.code} 中重复出现，后一行未导入",
                    "error",
                    target.code,
                    key,
                )
                continue
            target.fields[key] = fd

    def _output_row(
        self, ds: _DatasetDraft, row: list[str | None], direction: str, where: str, rn: int, col: str
    ) -> bool:
        """An 输出/出参 row describes the platform's response: kept in the description, never a field."""
        if not _OUTPUT.match(direction.replace(" ", "")):
            return False
        texts = [c for c in dict.fromkeys(c for c in row if c) if c != direction]
        ds.response.append(" ".join(texts))
        if len(ds.response) == 1:
            note = "输出（出参）行是接口的响应说明，不是数据集字段，已记入数据集说明"
            self.issue(where, rn, col, direction, note, "info", ds.code)
        return True

    def _format_hint(self, fd: _FieldDraft, line: str) -> None:
        """格式yyyy-MM-dd HH:mm:ss / yyyyMMdd in a 说明: the field's date/datetime format."""
        m = _FORMAT_HINT.search(line)
        if m is None or fd.type != "string" or fd.pattern is not None:
            return
        fmt = m.group("fmt").replace(" ", "").lower()
        if fmt in ("yyyy-mm-ddhh:mm:ss", "yyyy-mm-ddthh:mm:ss"):
            fd.type, fd.max_length = "datetime", None
        elif fmt == "yyyy-mm-dd":
            fd.type, fd.max_length = "date", None
        elif re.fullmatch(r"yyyymmdd(?:hhmm(?:ss)?)?", fmt):
            fd.pattern = rf"^\d{{{len(fmt)}}}$"  # yyyyMMdd: eight digits

    def _described_condition(
        self, ds: _DatasetDraft, fd: _FieldDraft, line: str, where: str, rn: int, col: str
    ) -> None:
        """rationalFlag=1时必填 → a drafted required_if rule; 草药处方必填 → a condition kept for review."""
        m = _COND_REQUIRED.search(line)
        if m is None:
            return
        cond = m.group("cond").strip()
        cmp = _COND_COMPARE.fullmatch(cond.replace(" ", ""))
        if cmp is not None and cmp.group("field") != fd.key:
            values = re.split(r"或|/|、|,|，", cmp.group("value"))
            op = _COND_OPS[cmp.group("op")]
            value: Any = values[0] if len(values) == 1 else values
            if len(values) > 1:
                op = "in" if op == "eq" else op
            if op in ("lt", "le", "gt", "ge"):
                value = _num(values[0])
            name = f"required_if_{fd.key}"
            when = {"field": cmp.group("field"), "op": op, "value": value}
            ds.rules.append(
                {"id": "required_if", "name": name, "params": {"fields": [fd.key], "when": when}, "description": line}
            )
            fd.cond_rule = name
            fd.required = False
            note = f"说明中的条件必填「{line}」已生成 required_if 规则 {name}，请核对"
            self.issue(where, rn, col, line, note, "info", ds.code, fd.key)
            return
        fd.required = False
        note = (
            f"说明中的条件必填「{line}」无法写成字段比较，已按非必填导入并保留说明；"
            "请人工核对，必要时补充 required_if 规则"
        )
        self.issue(where, rn, col, line, note, "warning", ds.code, fd.key)

    @staticmethod
    def _indented_parent(drafts: list[_FieldDraft], last_array: str | None, first: bool) -> str | None:
        """The list an indented row belongs to: on the first indented row, the field right above it
        (its children follow: it becomes an array, whatever its type cell says); then the same list."""
        if not first or not drafts:
            return last_array
        head = drafts[-1]
        head.type = "array"
        return head.key

    def _child_for(self, ds: _DatasetDraft, array_key: str, where: str) -> _DatasetDraft:
        parent_field = ds.fields.get(array_key)
        code = f"{ds.code}_{re.sub(r'(?<=[a-z0-9])(?=[A-Z])', '_', array_key).lower()}"
        if parent_field is not None and parent_field.item:
            code = parent_field.item
        child = self.datasets.get(code)
        if child is None:
            name = parent_field.name if parent_field else array_key
            child = _DatasetDraft(code=code, name=name, title=f"{ds.title} {array_key}", table=where, parent=ds.code)
            self.datasets[code] = child
        if parent_field is None:
            ds.fields[array_key] = _FieldDraft(key=array_key, name=array_key, type="array", table=where)
            parent_field = ds.fields[array_key]
        parent_field.type = "array"
        parent_field.item = code
        child.parent = ds.code
        return child

    def _field_meta(self, fd: _FieldDraft, line: str, where: str, rn: int, col: str | None) -> bool:
        m = _FIELD_META_RE.match(line)
        if not m:
            return False
        k, v = m.group("k"), m.group("v").strip()
        try:
            if k == "取值范围":
                mm = re.fullmatch(r"(-?[\d.]+)?\s*(?:–|-|~|～|—|至|到)\s*(-?[\d.]+)?", v.replace(" ", ""))
                if mm is None:
                    return False
                if mm.group(1):
                    fd.minimum = _num(mm.group(1))
                if mm.group(2):
                    fd.maximum = _num(mm.group(2))
            elif k == "最小值":
                fd.minimum = _num(v)
            elif k == "最大值":
                fd.maximum = _num(v)
            elif k in ("格式", "正则"):
                if not v.startswith("^") and k == "格式":
                    return False
                re.compile(v)
                fd.pattern = v
            elif k == "固定值":
                fd.const = v
            elif k == "示例":
                fd.example = v
            elif k == "来源":
                fd.provenance = v
            elif k == "别名":
                for part in re.split(r"[;；,，]\s*", v):
                    if "=" in part:
                        a, b = part.split("=", 1)
                        fd.aliases[a.strip()] = b.strip()
            elif k in ("至少", "最少条数"):
                mm = re.search(r"\d+", v)
                if mm is None:
                    return False
                fd.min_items = int(mm.group())
            elif k == "条件":
                if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", v):
                    fd.cond_rule = v
                else:
                    return False
        except (ValueError, re.error):
            self.issue(where, rn, col, line, f"无法解析的{k}，已留在说明中", "warning", None, fd.key)
            return False
        return True

    def _code_hints(
        self,
        fd: _FieldDraft,
        cs_text: str,
        desc_lines: list[str],
        where: str,
        rn: int,
        col: str | None,
        ds_code: str,
        desc_col: str | None = None,
    ) -> None:
        """Collect code-set hints: references that must resolve (值域 cell, 见字典3.1) and weak ones."""
        for text, from_cs_cell in [(cs_text, True)] + [(line, False) for line in desc_lines]:
            if not text:
                continue
            for m in _REF_RE.finditer(_norm(text)):
                fd.refs.append(m.group("sec"))
                fd.strong.append((m.group("sec"), col if from_cs_cell else desc_col))
            for m in _NAMED_REF_RE.finditer(_norm(text)):
                fd.refs.append(m.group(1))
                fd.strong.append((m.group(1), col if from_cs_cell else desc_col))
            for m in _ID_REF_RE.finditer(_norm(text)):
                if m.group("id") not in fd.refs:
                    fd.refs.append(m.group("id"))
                    if m.group("word"):  # 见字典 DICT_PAY must resolve; a bare 见 DICT_PAY may be a field
                        fd.strong.append((m.group("id"), col if from_cs_cell else desc_col))
            if (m := _BARE_DICT_NAME.fullmatch(_norm(text))) is not None:
                fd.refs.append(m.group(0))  # 药品分类代码字典: the dictionary named as the whole note
            for m in re.finditer(r"《([^》]+)》", text):
                fd.refs.append(m.group(1))
                if from_cs_cell:
                    fd.strong.append((m.group(1), col))
            for m in re.finditer(r"[（(]\s*([A-Za-z_][A-Za-z0-9_]*)\s*[)）]", text):
                fd.refs.append(m.group(1))
            m = _STD_RE.search(_norm(text))
            if m is not None:
                fd.refs.append(m.group(0))
                if from_cs_cell:
                    fd.strong.append((m.group(0), col))
                elif fd.std is None:
                    fd.std = m.group(0)
        enum = parse_enum(cs_text) if cs_text else None
        if enum is None:
            for line in desc_lines:
                enum = parse_enum(line)
                if enum:
                    break
        if enum:
            fd.enum = enum
        elif cs_text and not fd.strong:
            # the whole cell: a code-set name (性别代码) or the child table of an array field
            fd.refs.append(cs_text)
            fd.strong.append((cs_text, col))
