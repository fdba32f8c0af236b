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
* nested lists whose child rows are marked ``[0..1]``/``[1..n]``/``└`` or only indented (leading
  spaces, full-width spaces, a tab, Word paragraph indentation) → an array field with a child data set;
* field tables printed without a header row, recognised by what their columns hold (reported for review);
* inline enumerations (``1:男 2:女``, ``1-西药；2-中成药``, ``0 否 1 是``, ``1=自费,2=医保``)
  turned into code sets, and references (``见字典3.1``, ``参见附录A.2``) linked to the appendix code
  tables (代码/编码/值 + 名称/含义/说明, titled ``3.1 诊疗科目字典``).

Nothing is dropped silently: the :class:`ImportReport` lists the data sets, fields and code sets
found and every cell that could not be interpreted, with its table and row. The spec directory is
written all or nothing (a temp directory beside the target, renamed into place).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

from ..._exceptions import SpecError, SpecImportError
from ._blocks import _Para, _Table
from ._building import _Building
from ._documents import _info_tables_to_paragraphs, _read_docx, _read_xlsx, _refuse_ole_file
from ._drafts import _META_RE, _CodeSetDraft, _DatasetDraft
from ._field_rows import _FieldRows
from ._headers import _code_header_roles, _header_roles, _hnorm, _ref_header_roles, _rule_header_roles
from ._links import _Links
from ._notations import (
    parse_enum,
    parse_required,
    parse_type,
)
from ._pdf import _read_pdf
from ._report import ImportIssue, ImportReport, ImportResult
from ._tables import (
    _PRE_HEADER_LABELS,
    _content_roles,
    _fill_header,
    _header_for,
    _header_key,
    _is_request_header_table,
    _non_record_table,
    _parse_title,
    _refine_roles,
    _return_codes,
    _roles_by_content,
    _title_score,
    _width,
)
from ._text import _has_cjk, _masked, _norm, _pinyin_initials

__all__ = ["ImportIssue", "ImportReport", "ImportResult", "import_spec", "parse_enum", "parse_required", "parse_type"]


class _Importer(_FieldRows, _Links, _Building):
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
        if suffix == ".pdf":
            return _read_pdf(self.path)
        raise SpecImportError(
            f"不支持的文件类型 {suffix or '（无扩展名）'}：请提供 Word (.docx)、Excel (.xlsx) 或 PDF 格式的接口文档"
            "（.doc/.xls/.wps/.et 请先用 Office/WPS 另存为 .docx/.xlsx）",
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
            elif kind == "codes" and "set" in roles:
                self._grouped_code_sets(t, hdr, roles)
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
                if (
                    t.continuation
                    and last_kind == "codes"
                    and self._last_grouped
                    and _width(t) == self._last_grouped[0]
                ):
                    self._grouped_code_sets(t, 0, self._last_grouped[1], start=0)
                    continue
                if not any(any(c for c in r) for r in t.rows):
                    continue
                if (content := _roles_by_content(t.rows)) is not None:
                    last_field_ds, last_kind = self._headerless_dataset(t, content), "fields"
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
    _last_grouped: tuple | None = None  # (width, roles, last dictionary) of the last 字典编码 | 值 | 含义 table

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

    def _headerless_dataset(self, t: _Table, roles: dict) -> _DatasetDraft:
        """A field table printed without a header row: the columns read by content, a header naming
        them put in front, and the guess listed for review."""
        header = _header_for(roles, _width(t))
        first = next((r for r in t.rows if any(r)), [])
        self.issue(
            self._where(t),
            t.row_numbers[0] if t.row_numbers else None,
            None,
            " | ".join(c for c in first if c),
            "表格没有表头，已按各列内容识别为字段表（" + "、".join(h for h in header if h) + "），请核对",
        )
        t.rows.insert(0, header)
        t.row_numbers.insert(0, t.row_numbers[0] if t.row_numbers else 1)
        ds = self._new_dataset(t, 0)
        self._field_rows(ds, t, 1, roles)
        return ds

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

    _reference = None


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
