"""Import the platform's interface document (互联网医院数据接口文档, Word .docx or Excel .xlsx) as a spec.

The regulator hands hospitals a document with one field table (字段表) per data set (数据集/接口)
and code-table appendices (代码表/字典). :func:`import_spec` reads such a document and turns it into
a spec directory (``spec.yaml``, ``datasets/*.yaml``, ``codesets/*.csv``) that
:func:`hlwjr.load_spec` loads like the reference spec. It copes with what such documents contain:

* header rows in varying Chinese (序号/字段名/数据项/英文名/中文名称/类型/数据类型/长度/是否必填/
  必填/约束/说明/备注/值域 …), found in any of a table's first rows;
* types written as ``VARCHAR2(50)``, ``varchar(20)``, ``C..50``, ``AN..18``, ``N8``, ``N10,2``,
  ``NUMBER(10,2)``, ``字符型``, ``数值``, ``DATE``, ``DATETIME``, ``日期时间``, ``INT``, with or
  without a separate 长度 column;
* required markers 是/否/Y/N/必填/必选/可选/M/O/R/C/√/空;
* merged cells (python-docx repeats a merged cell in each grid column: deduplicated; Excel merged
  ranges are filled down), tables split across pages (a table without a title of its own, right
  after one with the same header or the same column count, continues it);
* a data-set title in the paragraph above the table (``2.2.3 在线处方 uploadRecipeIndicators``),
  or, in Excel, title rows above the header row or the sheet name;
* inline enumerations (``1:男 2:女``, ``1-西药；2-中成药``, ``0 否 1 是``, ``1=自费,2=医保``)
  turned into code sets, and references (``见字典3.1``, ``参见附录A.2``) linked to the appendix code
  tables (代码/编码/值 + 名称/含义/说明, titled ``3.1 诊疗科目字典``).

Nothing is dropped silently: the :class:`ImportReport` lists the data sets, fields and code sets
found and every cell that could not be interpreted, with its table and row. The spec directory is
written all or nothing (a temp directory beside the target, renamed into place).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from ..._exceptions import SpecError, SpecImportError
from ._documents import _info_tables_to_paragraphs, _Para, _read_docx, _read_xlsx, _refuse_ole_file, _Table
from ._drafts import _FIELD_META_RE, _META_RE, _CodeSetDraft, _DatasetDraft, _FieldDraft, _meta_key, _split_list
from ._headers import _code_header_roles, _header_roles, _hnorm, _ref_header_roles, _rule_header_roles
from ._notations import (
    _BARE_DICT_NAME,
    _METHOD_RE,
    _NAMED_REF_RE,
    _REF_RE,
    _STD_RE,
    _method_to_code,
    parse_enum,
    parse_required,
    parse_type,
)
from ._report import ImportIssue, ImportReport, ImportResult
from ._tables import (
    _CHILD_MARK,
    _COND_COMPARE,
    _COND_OPS,
    _COND_REQUIRED,
    _FORMAT_HINT,
    _LIST_ANNOUNCE,
    _OUTPUT,
    _PRE_HEADER_LABELS,
    _after_title,
    _cell_getter,
    _content_roles,
    _dotted_parent,
    _fill_header,
    _header_key,
    _is_header_again,
    _is_list_head,
    _is_request_header_table,
    _is_title,
    _method_of,
    _non_record_table,
    _num,
    _parse_title,
    _ref_variants,
    _refine_roles,
    _response_lines,
    _return_codes,
    _title_score,
    _typed_value,
    _width,
)
from ._text import _IDENT, _clean, _has_cjk, _masked, _norm, _pinyin_initials

__all__ = ["ImportIssue", "ImportReport", "ImportResult", "import_spec", "parse_enum", "parse_required", "parse_type"]


class _Importer:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.report = ImportReport(source=str(path))
        self.datasets: dict[str, _DatasetDraft] = {}
        self.code_sets: dict[str, _CodeSetDraft] = {}
        self.spec_title: str | None = None
        self.spec_version: str | None = None
        self.spec_notice: str | None = None
        self.spec_official: bool | None = None
        self.spec_id_hint: str | None = None
        self.provenance_tags: dict[str, str] = {}
        self.source_hint: str | None = None
        self.from_hlwjr = False  # a document written by `hlwjr spec export`: keep its aliases as written
        self._extra_reported: set[str] = set()  # data sets whose unrecognised columns were reported

    # -- issues -----------------------------------------------------------------------------
    def issue(
        self,
        table: str,
        row: int | None,
        column: str | None,
        value: Any,
        message: str,
        severity: str = "warning",
        dataset: str | None = None,
        field: str | None = None,
    ) -> None:
        self.report.issues.append(ImportIssue(table, row, column, _masked(value), message, severity, dataset, field))

    # -- reading ----------------------------------------------------------------------------
    def read(self) -> list[_Para | _Table]:
        suffix = self.path.suffix.lower()
        if not self.path.is_file():
            raise SpecImportError("文件不存在", where=str(self.path))
        _refuse_ole_file(self.path)
        if suffix == ".docx":
            return _read_docx(self.path)
        if suffix in (".xlsx", ".xlsm"):
            return _read_xlsx(self.path)
        raise SpecImportError(
            f"不支持的文件类型 {suffix or '（无扩展名）'}：请提供 Word (.docx) 或 Excel (.xlsx) 格式的接口文档"
            "（.doc/.xls/.pdf 请先用 Office/WPS 另存为 .docx/.xlsx）",
            where=str(self.path),
        )

    def run(self) -> None:
        blocks = _info_tables_to_paragraphs(self.read())
        self._sheets_without_tables(blocks)
        self._front_matter(blocks)
        tables = self._attach_titles(blocks)
        self.report.tables = sum(1 for b in blocks if isinstance(b, _Table))
        last_field_ds: _DatasetDraft | None = None
        last_kind: str | None = None
        for t in tables:
            kind, hdr, roles = self._classify(t)
            if kind == "fields" and _is_request_header_table(t.rows[hdr + 1 :], roles):
                self.report.request_headers += [
                    _norm(r[roles["key"]]) for r in t.rows[hdr + 1 :] if roles["key"] < len(r) and r[roles["key"]]
                ]
                first = [c for c in t.rows[hdr + 1] if c] if hdr + 1 < len(t.rows) else []
                self.issue(
                    self._where(t),
                    t.row_numbers[hdr],
                    None,
                    " | ".join(first),
                    "请求头（HTTP Header）说明表，不是数据集，未导入为字段表；平台接入参数请写入平台配置（profile）",
                    "info",
                )
                kind = None
                last_kind = None
                continue
            if kind == "fields":
                if (
                    t.continuation
                    and not t.pre_header.get("method")  # its own 操作名称: a new interface
                    and last_kind == "fields"
                    and last_field_ds is not None
                    and (_header_key(t.rows[hdr]) == last_field_ds.header)
                ):
                    t.label += f"（{last_field_ds.name}续表）"
                    self._field_rows(last_field_ds, t, hdr + 1, roles)
                    continue
                last_field_ds = self._new_dataset(t, hdr)
                self._field_rows(last_field_ds, t, hdr + 1, roles)
            elif kind == "codes":
                if (
                    t.continuation
                    and last_kind == "codes"
                    and self._last_cs is not None
                    and _header_key(t.rows[hdr]) == self._last_cs_header
                ):
                    self._code_rows(self._last_cs, t, hdr + 1, roles)
                    continue
                self._new_code_set(t, hdr, roles)
            elif kind == "rules":
                ds = self._owner(t, last_field_ds)
                if ds is not None:
                    self._rule_rows(ds, t, hdr + 1, roles)
            elif kind == "refs":
                ds = self._owner(t, last_field_ds)
                if ds is not None:
                    self._ref_rows(ds, t, hdr + 1, roles)
            else:
                # no header: a continuation of the previous table split across pages?
                if (
                    t.continuation
                    and last_kind == "fields"
                    and last_field_ds is not None
                    and _width(t) == last_field_ds.ncols
                ):
                    t.label += f"（{last_field_ds.name}续表）"
                    self._field_rows(last_field_ds, t, 0, last_field_ds.roles)
                    continue
                if (
                    t.continuation
                    and last_kind == "codes"
                    and self._last_cs is not None
                    and _width(t) == self._last_cs_ncols
                ):
                    self._code_rows(self._last_cs, t, 0, self._last_cs_roles)
                    continue
                if not any(any(c for c in r) for r in t.rows):
                    continue
                first = next((r for r in t.rows if any(r)), [])
                heads = "".join(_hnorm(c) for c in first if c)
                if any(w in heads for w in ("修订", "修改", "变更", "版本")) or any(
                    w in (t.title or "") for w in ("修订", "变更记录", "版本")
                ):
                    self.issue(
                        self._where(t),
                        t.row_numbers[0] if t.row_numbers else None,
                        None,
                        " | ".join(c for c in first if c),
                        "修订记录表（不是字段表或代码表），已跳过",
                        "info",
                    )
                    last_kind = None
                    continue
                if (what := _non_record_table(heads, t.title or "")) is not None:
                    if what == "返回码表":
                        self.report.return_codes += _return_codes(t.rows)
                    self.issue(
                        self._where(t),
                        t.row_numbers[0] if t.row_numbers else None,
                        None,
                        " | ".join(c for c in first if c),
                        f"{what}（不是数据集），未导入为字段表；平台应答码与签名规则请核对平台配置（profile）",
                        "info",
                    )
                    last_kind = None
                    continue
                self.issue(
                    self._where(t),
                    t.row_numbers[0] if t.row_numbers else None,
                    None,
                    " | ".join(c for c in first if c),
                    "未识别的表格（表头中没有 字段名/中文名称 + 类型/长度/必填，也不是 代码+名称 的代码表），已跳过；"
                    "如为字段表请检查表头",
                    "error",
                )
                kind = None
            last_kind = kind

    def _sheets_without_tables(self, blocks: list) -> None:
        """Excel sheets with tabular rows but no recognised header: say so (nothing skipped silently)."""
        sheet, paras, has_table = None, [], False

        def flush() -> None:
            if sheet is None or has_table:
                return
            wide = [p for p in paras if p.cells >= 3]
            if wide:
                self.issue(
                    f"工作表「{sheet}」",
                    wide[0].row,
                    None,
                    wide[0].text,
                    f"工作表中有 {len(wide)} 行表格内容，但没有识别出字段表表头（字段名/中文名称 + 类型/长度/必填）"
                    "或代码表表头（代码 + 名称），已跳过；如为字段表请检查表头行",
                    "warning",
                )

        for b in blocks:
            if isinstance(b, _Para) and b.sheet:
                flush()
                sheet, paras, has_table = b.text, [], False
            elif isinstance(b, _Para):
                paras.append(b)
            else:
                has_table = True
        flush()

    _last_cs: _CodeSetDraft | None = None
    _last_cs_header: tuple = ()
    _last_cs_ncols: int = 0
    _last_cs_roles: dict = {}  # noqa: RUF012 - replaced per instance

    def _owner(self, t: _Table, last: _DatasetDraft | None) -> _DatasetDraft | None:
        if t.title:
            sec, _name, ident, _ = _parse_title(t.title)
            for ds in self.datasets.values():
                if (ident and ident in (ds.code, *ds.aliases)) or (sec and sec == ds.section):
                    return ds
        return last

    def _where(self, t: _Table) -> str:
        return f"{t.label}《{t.title}》" if t.title and t.title != t.sheet else t.label

    # -- front matter -----------------------------------------------------------------------
    def _front_matter(self, blocks: list[_Para | _Table]) -> None:
        for b in blocks:
            if isinstance(b, _Table):
                break
            if b.sheet or not b.text:
                continue
            text = b.text
            if re.match(r"^\s*生成\s*[:：]\s*hlwjr\b", text):
                self.from_hlwjr = True
                continue
            m = re.match(r"^\s*来源标记\s+([^\s:：]+)\s*[:：]\s*(.+)$", text)
            if m:
                self.provenance_tags[m.group(1)] = m.group(2).strip()
                continue
            m = re.match(r"^\s*来源文档\s*[:：]\s*(.+)$", text)
            if m:
                self.source_hint = m.group(1).strip()
                continue
            m = re.match(r"^\s*(?:规范名称|文档名称|标题)\s*[:：]\s*(.+)$", text)
            if m:
                self.spec_title = m.group(1).strip()
                continue
            if (
                self.spec_title is None
                and not _META_RE.match(text)
                and (b.heading == 0 or (len(text) <= 60 and ("接口" in text or "规范" in text or "文档" in text)))
            ):
                self.spec_title = text
                continue
            m = re.match(r"^\s*(?:规范版本|文档版本|版本号?)\s*[:：]\s*(?:[vV](?=\d))?(\S+)", text)
            if m:
                self.spec_version = m.group(1)
                continue
            m = re.search(r"(?:规范版本|文档版本|版本号?|ver(?:sion)?)\s*[:：]?\s*[vV]?\s*(\d+(?:\.\d+)*)", text, re.I)
            if m and self.spec_version is None:
                self.spec_version = m.group(1)
            m = re.match(r"^\s*(?:规范\s*id|规范标识|spec\s*id)\s*[:：]\s*(\S+)", text, re.I)
            if m:
                self.spec_id_hint = m.group(1)
            m = re.match(r"^\s*(?:声明|说明|notice)\s*[:：]\s*(.+)$", text, re.I)
            if m and self.spec_notice is None:
                self.spec_notice = m.group(1).strip()
            m = re.match(r"^\s*(?:官方文档|是否官方)\s*[:：]\s*(\S+)", text)
            if m:
                self.spec_official = m.group(1) in ("是", "true", "yes", "Y")

    def _attach_titles(self, blocks: list[_Para | _Table]) -> list[_Table]:
        tables: list[_Table] = []
        paras: list[_Para] = []
        sheet: str | None = None
        seen_table_since_sheet = False
        for b in blocks:
            if isinstance(b, _Para):
                if b.sheet:
                    sheet = b.text
                    seen_table_since_sheet = False
                    paras = []
                elif b.text:
                    paras.append(b)
                continue
            t = b
            t.paras = paras
            title = None
            best = 0
            for p in reversed(paras):  # the nearest best title: 2.2.3 在线处方 uploadX beats 表2-3 …
                score = _title_score(p)
                if score > best:
                    title, best = p.text, score
            t.strong_title = title is not None
            if title is None:
                short = [
                    p
                    for p in paras
                    if len(p.text) <= 40
                    and not re.match(r"^[^:：]{1,10}[:：]", p.text)
                    and not re.search(r"[。；;]$", p.text)
                    and not re.match(r"^[(（]?续", p.text)
                ]
                if short:
                    title = short[-1].text
            only_cont = all(re.match(r"^[(（]?续(表|上表)?[)）]?", p.text) for p in paras)
            t.continuation = (
                bool(tables)
                and only_cont
                and (t.sheet is None or seen_table_since_sheet or tables[-1].sheet == t.sheet)
            )
            if t.sheet is not None and not seen_table_since_sheet and title is None:
                t.continuation = False
            if title is None and t.sheet is not None and not t.continuation:
                title = sheet
            t.title = title
            tables.append(t)
            paras = []
            seen_table_since_sheet = True
        return tables

    # -- classification ---------------------------------------------------------------------
    def _classify(self, t: _Table) -> tuple[str | None, int, dict]:
        for i, row in enumerate(t.rows[:4]):
            if (roles := _header_roles(row)) is not None:
                self._promote_title_rows(t, i)
                # a two-line header (字段 over 英文名/中文名): the second line refines the first
                if i + 1 < len(t.rows) and (second := _header_roles(_fill_header(t.rows[i + 1], row))) is not None:
                    roles = {**roles, **second}
                    i += 1
                body = t.rows[i + 1 :]
                return "fields", i, _content_roles(_refine_roles(roles, body), t.rows[i], body)
            if (roles := _code_header_roles(row)) is not None:
                self._promote_title_rows(t, i)
                return "codes", i, roles
            if (roles := _rule_header_roles(row)) is not None:
                return "rules", i, roles
            if (roles := _ref_header_roles(row)) is not None:
                return "refs", i, roles
        return None, 0, {}

    def _promote_title_rows(self, t: _Table, hdr: int) -> None:
        """Rows above the header inside the table (a merged title row 表3 在线处方): the title."""
        for row in t.rows[:hdr]:
            texts = [c for c in row if c]
            labelled = list(dict.fromkeys(texts))
            if len(labelled) == 2 and _hnorm(labelled[0]).rstrip(":：") in _PRE_HEADER_LABELS:
                t.pre_header[_PRE_HEADER_LABELS[_hnorm(labelled[0]).rstrip(":：")]] = labelled[1]
                continue
            if len(set(texts)) == 1:
                if not t.strong_title:
                    t.title = texts[0]
                    t.continuation = False

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
            if tree and key[tree.end() :] and last_array is not None:
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
        cid = ident or std or (_pinyin_initials(short) if short else None) or "codes"
        base, k = cid, 2
        while cid in self.code_sets:
            cid = f"{base}_{k}"
            k += 1
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
        self._last_cs = cs
        self._last_cs_header = _header_key(t.rows[hdr])
        self._last_cs_ncols = _width(t)
        self._last_cs_roles = roles
        self._code_rows(cs, t, hdr + 1, roles)

    def _code_rows(self, cs: _CodeSetDraft, t: _Table, start: int, roles: dict) -> None:
        where = self._where(t)
        for ri in range(start, len(t.rows)):
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
                        cid = fd.key
                        if cid in self.code_sets:
                            cid = f"{ds.code}.{fd.key}"
                        k = 2
                        while cid in self.code_sets:
                            cid = f"{ds.code}.{fd.key}_{k}"
                            k += 1
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

    _reference = None

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


# --------------------------------------------------------------------------------------------
# public entry point


def import_spec(
    path: str | os.PathLike,
    out_dir: str | os.PathLike | None = None,
    *,
    spec_id: str | None = None,
    official: bool | None = None,
    overwrite: bool = False,
) -> ImportResult:
    """Import an interface document (互联网医院数据接口文档, .docx or .xlsx) as a spec.

    With ``out_dir`` the spec directory is written all or nothing (a temp directory beside the
    target, checked by loading it back, then renamed into place); an existing non-empty target is
    refused unless ``overwrite=True``. Without it nothing is written (a dry run). ``spec_id``
    defaults to the document's file name. Raises :class:`hlwjr.SpecImportError` when the document
    has no recognisable field table; everything else lands in ``result.report``.
    """
    from .._load import load_spec
    from .._write import write_spec

    src = Path(path)
    if out_dir is not None and not overwrite:
        target = Path(out_dir)
        if target.is_dir() and any(target.iterdir()):
            raise SpecImportError(
                f"输出目录 {target} 已存在且非空；请换一个目录，或确认后覆盖（命令行加 --force，函数传 overwrite=True）"
            )
    imp = _Importer(src)
    imp.run()
    imp.resolve()
    sid = spec_id or imp.spec_id_hint or _slug(src.stem)
    spec = imp.build(sid, official)
    out: Path | None = None
    try:
        if out_dir is not None:
            target = Path(out_dir)
            if target.exists() and not target.is_dir():
                raise SpecImportError(f"输出位置 {target} 是一个文件，请给出一个目录")
            out = write_spec(spec, target, overwrite=overwrite)
            spec = load_spec(out)
        else:
            with tempfile.TemporaryDirectory(prefix="hlwjr-import-") as tmp:
                write_spec(spec, Path(tmp) / "spec")  # checks that the spec loads back
    except SpecImportError:
        raise
    except SpecError as exc:
        raise SpecImportError(f"导入结果未通过规范检查，未写入任何文件: {exc}", where=str(src)) from exc
    return ImportResult(spec=spec, report=imp.report, out_dir=out)


def _slug(stem: str) -> str:
    s = re.sub(r"[^\w.\-]+", "-", stem).strip("-")
    if _has_cjk(s):
        s = _pinyin_initials(s) or "imported"
    return s or "imported"
