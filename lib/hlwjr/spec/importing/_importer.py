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
import unicodedata
from dataclasses import dataclass
from dataclasses import field as dc_field
from pathlib import Path
from typing import Any

from ..._exceptions import SpecError, SpecImportError
from ..._privacy import mask_value

__all__ = ["ImportIssue", "ImportReport", "ImportResult", "import_spec", "parse_enum", "parse_required", "parse_type"]

# --------------------------------------------------------------------------------------------
# report


@dataclass(frozen=True)
class ImportIssue:
    """One cell (or table) of the document that could not be (fully) interpreted.

    ``severity`` is ``"error"`` when the cell's content did not make it into the spec as written
    (a guess was made or it was left out), ``"warning"`` when it was interpreted but should be
    checked, ``"info"`` for a note (e.g. a conditional requirement to be written as a rule).
    """

    table: str
    row: int | None
    column: str | None
    value: str | None
    message: str
    severity: str = "warning"
    dataset: str | None = None
    field: str | None = None

    def where(self) -> str:
        parts = [self.table]
        if self.row is not None:
            parts.append(f"第{self.row}行")
        if self.column:
            parts.append(f"列「{self.column}」")
        return " ".join(parts)

    def __str__(self) -> str:
        level = {"error": "错误", "warning": "警告", "info": "提示"}.get(self.severity, self.severity)
        value = f"（内容: {self.value}）" if self.value else ""
        return f"[{level}] {self.where()}: {self.message}{value}"


@dataclass
class ImportReport:
    """What :func:`import_spec` found in a document (导入报告): data sets, code sets, issues."""

    source: str
    datasets: list[dict] = dc_field(default_factory=list)
    code_sets: list[dict] = dc_field(default_factory=list)
    issues: list[ImportIssue] = dc_field(default_factory=list)
    tables: int = 0
    return_codes: list[tuple[str, str]] = dc_field(default_factory=list)  # (code, meaning) of 返回码 tables
    request_headers: list[str] = dc_field(default_factory=list)  # X-Ca-Key … of the request-header table

    def profile_draft(self) -> str:
        """A platform profile drafted from the return-code and request-header tables (for review)."""
        import yaml

        codes: dict[str, list] = {}
        for code, meaning in self.return_codes:
            codes.setdefault(_code_meaning(meaning), []).append(int(code) if re.fullmatch(r"-?\d+", code) else code)
        success = codes.pop("success", [])
        draft = {
            "kind": "hlwjr/platform",
            "version": 1,
            "draft": True,
            "id": "draft",
            "name": f"由 {self.source} 起草的平台配置（待核对）",
            "request_headers": list(dict.fromkeys(self.request_headers)),
            "response": {"success_codes": success, "codes": codes},
        }
        head = "# 草稿：由接口文档的返回码表和请求头表生成，请逐项核对后再使用（token/upload 路径需补充）\n"
        return head + yaml.safe_dump(draft, allow_unicode=True, sort_keys=False)

    @property
    def errors(self) -> list[ImportIssue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[ImportIssue]:
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True when every cell was interpreted (warnings and notes may remain)."""
        return not self.errors

    @property
    def review_items(self) -> list[ImportIssue]:
        """What an analyst must look at: every error and warning, and every note that asks for a check."""
        return [i for i in self.issues if i.severity != "info" or "请核对" in i.message]

    def review_yaml(self) -> str:
        """The review items as YAML (``review.yaml`` beside the spec), each with table and row."""
        import yaml

        keys = ("severity", "table", "row", "column", "value", "dataset", "field", "message")
        items = [{k: getattr(i, k) for k in keys if getattr(i, k) is not None} for i in self.review_items]
        return yaml.safe_dump({"source": self.source, "items": items}, allow_unicode=True, sort_keys=False)

    @property
    def n_fields(self) -> int:
        return sum(d["fields"] for d in self.datasets)

    def to_frame(self):
        """The issues as a DataFrame (columns table,row,column,value,severity,dataset,field,message)."""
        import pandas as pd

        cols = ["table", "row", "column", "value", "severity", "dataset", "field", "message"]
        return pd.DataFrame([{c: getattr(i, c) for c in cols} for i in self.issues], columns=cols)

    def datasets_frame(self):
        import pandas as pd

        return pd.DataFrame(self.datasets, columns=["code", "name", "section", "fields", "key", "parent", "table"])

    def code_sets_frame(self):
        import pandas as pd

        return pd.DataFrame(self.code_sets, columns=["id", "name", "origin", "codes", "table"])

    def to_text(self) -> str:
        lines = [
            f"导入报告: {self.source}",
            f"  表格 {self.tables} 个；数据集 {len(self.datasets)} 个，字段 {self.n_fields} 个；"
            f"值域 {len(self.code_sets)} 个；无法解析 {len(self.errors)} 处，警告 {len(self.warnings)} 处",
            "",
            "数据集:",
        ]
        for d in self.datasets:
            sec = f"{d['section']} " if d.get("section") else ""
            parent = f"，属于 {d['parent']}" if d.get("parent") else ""
            key = ", ".join(d.get("key") or []) or "（未给出）"
            lines.append(
                f"  {sec}{d['name']} [{d['code']}] 字段 {d['fields']} 个，业务主键: {key}{parent}  ← {d['table']}"
            )
            shape = _dataset_shape(d)
            if shape:
                lines.append(f"      {shape}")
        if self.code_sets:
            lines += ["", "值域（代码表）:"]
            for c in self.code_sets:
                lines.append(f"  {c['id']} {c['name']}：{c['codes']} 个代码（{c['origin']}）  ← {c['table']}")
        if self.issues:
            lines += ["", "需要核对的单元格:"]
            order = {"error": 0, "warning": 1, "info": 2}
            for i in sorted(self.issues, key=lambda i: order.get(i.severity, 3)):
                lines.append(f"  {i}")
        return "\n".join(lines)

    __str__ = to_text

    def _repr_html_(self) -> str:  # Jupyter: the summary, then the cells to check
        import html

        head = (
            f"<p><b>导入报告</b> {html.escape(self.source)}：数据集 {len(self.datasets)} 个，字段 {self.n_fields} 个，"
            f"值域 {len(self.code_sets)} 个；无法解析 {len(self.errors)} 处，警告 {len(self.warnings)} 处</p>"
        )
        parts = [head, self.datasets_frame().to_html(index=False)]
        if self.issues:
            parts += ["<p><b>需要核对的单元格</b></p>", self.to_frame().to_html(index=False)]
        return "\n".join(parts)


def _dataset_shape(d: dict) -> str:
    """方法 uploadRecipe；子列表 orderList；值域字段 3 个；条件必填 rationalResult；待核对 2 处."""
    parts = []
    if d.get("method"):
        parts.append(f"方法 {d['method']}")
    if d.get("lists"):
        parts.append(f"子列表 {'、'.join(d['lists'])}")
    if d.get("code_sets"):
        parts.append(f"值域字段 {d['code_sets']} 个")
    if d.get("conditional"):
        parts.append(f"条件必填 {'、'.join(d['conditional'])}")
    if d.get("review"):
        parts.append(f"待核对 {d['review']} 处")
    return "；".join(parts)


def _code_meaning(meaning: str) -> str:
    """success / token_expired / auth / busy / rejected, by the words of a return code's meaning."""
    m = meaning.lower()
    if re.search(r"成功|正常|^ok$|success", m):
        return "success"
    if re.search(r"(?:token|令牌|凭证).*(?:过期|失效)|(?:过期|失效).*(?:token|令牌)", m):
        return "token_expired"
    if re.search(r"签名|认证|授权|鉴权|token|令牌|密钥|appid|appkey|无权限|ca-key", m):
        return "auth"
    if re.search(r"繁忙|忙|重试|超时|限流|频繁|稍后|系统异常|服务异常|内部错误", m):
        return "busy"
    return "rejected"


@dataclass
class ImportResult:
    """The outcome of :func:`import_spec`: the loaded :class:`~hlwjr.Spec`, the report, the directory."""

    spec: Any
    report: ImportReport
    out_dir: Path | None = None


# --------------------------------------------------------------------------------------------
# text helpers

_WS = re.compile(r"\s+")


def _norm(s: Any) -> str:
    """NFKC (full-width → half-width), collapse whitespace, strip."""
    if s is None:
        return ""
    s = unicodedata.normalize("NFKC", str(s))
    return _WS.sub(" ", s).strip()


def _clean(s: Any) -> str:
    """Collapse whitespace and strip, keeping the characters as written (for names and titles)."""
    if s is None:
        return ""
    return _WS.sub(" ", str(s).replace("\u3000", " ")).strip()


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


def _has_cjk(s: str) -> bool:
    return any(_is_cjk(c) for c in s)


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _masked(value: Any) -> str | None:
    if value is None:
        return None
    s = str(value).strip()
    if not s:
        return None
    s = s if len(s) <= 80 else s[:77] + "…"
    return str(mask_value(s))


def _pinyin_initials(text: str) -> str:
    from pypinyin import Style, lazy_pinyin

    letters = lazy_pinyin(text, style=Style.FIRST_LETTER, errors=lambda s: list(s))
    out = "".join(ch for ch in "".join(letters) if ch.isascii() and (ch.isalnum() or ch == "_"))
    return out.lower()


# --------------------------------------------------------------------------------------------
# types, lengths, required markers, enumerations

_TYPE_WORDS: dict[str, str] = {}
for _t, _words in {
    "string": "varchar2 varchar nvarchar2 nvarchar char nchar string str text clob nclob longtext "
    "mediumtext tinytext character 字符 字符型 字符串 字符串型 文本 文本型 字符类型 c an a ans s "
    "s1 s2 s3 varchar2(n) 编码 代码 字符(串)",
    "integer": "int integer bigint smallint tinyint long short int2 int4 int8 整数 整型 整数型 数字整型 i",
    "decimal": "number numeric decimal float double real money 数值 数值型 数字 数字型 小数 金额 浮点 浮点型 n",
    "date": "date 日期 日期型 d d8",
    "datetime": "datetime datetime2 timestamp 日期时间 日期时间型 时间 时间型 时间戳 dt dt14 dt15 dt19",
    "array": "array list 数组 列表 集合 jsonarray json数组 对象数组 object[] list<object> 数组对象 "
    "listobject objectlist jsonlist",
    "boolean": "boolean bool 布尔 布尔型 逻辑 逻辑型 l",
    "object": "object obj 对象 json map 结构体",
}.items():
    for _w in _words.split():
        _TYPE_WORDS[_w] = _t


def _near_type_word(word: str) -> str | None:
    """A type word written with a typo (Varcha, varcahr2, Decimel): the known word one edit away."""
    if len(word) < 4 or not word.isascii() or not (word.isalpha() or word[:-1].isalpha()):
        return None
    for known in _TYPE_WORDS:
        if len(known) >= 4 and known.isascii() and _one_edit(word, known):
            return known
    return None


def _one_edit(a: str, b: str) -> bool:
    """True when a and b differ by one insertion, deletion, substitution or adjacent swap."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        return a[i + 1 :] == b[i + 1 :] or (a[i : i + 2] == b[i : i + 2][::-1] and a[i + 2 :] == b[i + 2 :])
    return a[i + 1 :] == b[i:] if len(a) > len(b) else a[i:] == b[i + 1 :]


_TYPE_PAREN = re.compile(r"^(?P<word>[^\s()]+?)\s*\(\s*(?P<a>\d+)\s*(?:(?:byte|char)\s*)?(?:[,.]\s*(?P<b>\d+)\s*)?\)$")
_TYPE_WS = re.compile(
    r"^(?P<cls>ans|an|a|n|c|s|dt|d|t)(?:(?P<lo>\d+)\.\.(?=\d))?(?P<var>\.\.)?(?P<a>\d+)?(?:[,.](?P<b>\d+))?$"
)
_TYPE_GENERIC = re.compile(r"^(?P<word>list|array|集合|数组)\s*[<\[](?P<item>[^>\]]*)[>\]]$")


@dataclass
class TypeInfo:
    """A parsed type cell: the spec type and its length/precision, or a problem."""

    type: str | None
    max_length: int | None = None
    precision: int | None = None
    total_digits: int | None = None
    item_hint: str | None = None
    problem: str | None = None
    min_length: int | None = None  # AN6..20: at least 6 characters
    note: str | None = None


def parse_type(text: Any, length: Any = None, precision: Any = None) -> TypeInfo:
    """Interpret a 类型 cell (and optional 长度 / 小数位 cells) of an interface document.

    >>> parse_type("VARCHAR2(50)").max_length
    50
    >>> t = parse_type("N10,2"); (t.type, t.total_digits, t.precision)
    ('decimal', 10, 2)
    """
    raw = _norm(text)
    s = raw.lower().replace(" ", "")
    s = (
        s.replace("（", "(").replace("）", ")").replace("[", "(").replace("]", ")")
        if _TYPE_GENERIC.match(s) is None
        else s
    )
    info = TypeInfo(type=None)
    a = b = None
    word = None
    fmt_note = None
    if not s:
        info.type = None
    elif (m := _TYPE_GENERIC.match(s)) is not None:
        info.type = "array"
        m_raw = re.search(r"[<\[]\s*([^>\]]*?)\s*[>\]]", raw)
        info.item_hint = (m_raw.group(1) if m_raw else m.group("item")) or None
    elif (m := _TYPE_PAREN.match(s)) is not None and (
        m.group("word") in _TYPE_WORDS or _near_type_word(m.group("word"))
    ):
        word = m.group("word") if m.group("word") in _TYPE_WORDS else _near_type_word(m.group("word"))
        if word != m.group("word"):
            info.note = f"类型 {raw} 按 {word} 读取（疑为笔误），请核对"
        a = int(m.group("a"))
        b = int(m.group("b")) if m.group("b") is not None else None
    elif (m := _TYPE_WS.match(s)) is not None and s not in ("s1", "s2", "s3"):
        cls = m.group("cls")
        a = int(m.group("a")) if m.group("a") else None
        lo = int(m.group("lo")) if m.group("lo") else None
        if lo and cls in ("an", "ans", "a", "c", "s") and lo <= (a or 0):
            info.min_length = lo  # AN6..20 = 6 to 20 characters (WS 363 / GB/T 7408 notation)
        b = int(m.group("b")) if m.group("b") is not None else None
        word = {
            "an": "an",
            "ans": "an",
            "a": "an",
            "c": "an",
            "s": "an",
            "n": "n",
            "d": "date",
            "dt": "datetime",
            "t": "time",
        }[cls]
        if cls == "n" and b is None and a is not None:
            word = "int-digits"
        if cls == "t":
            info.type = "string"
            info.max_length = a
            info.note = "T（时间）按字符串导入"
            return _apply_length(info, length, precision)
    else:
        # a word, perhaps followed by a format in parentheses: DATETIME(yyyy-MM-dd HH:mm:ss)
        m2 = re.match(r"^([^()]+?)\s*\((.+)\)$", s)
        if m2 and m2.group(1) in _TYPE_WORDS:
            word, fmt_note = m2.group(1), m2.group(2)
        elif s in _TYPE_WORDS:
            word = s
        elif (near := _near_type_word(s)) is not None:
            word = near
            info.note = f"类型 {raw} 按 {near} 读取（疑为笔误），请核对"
        else:
            # a leading word we know followed by noise: "varchar2 最大长度50"
            for w in sorted(_TYPE_WORDS, key=len, reverse=True):
                if len(w) > 1 and s.startswith(w):
                    word = w
                    rest = s[len(w) :]
                    if (mm := re.search(r"(\d+)(?:[,.](\d+))?", rest)) is not None:
                        a = int(mm.group(1))
                        b = int(mm.group(2)) if mm.group(2) else None
                    break
    if word is not None:
        base = {"int-digits": "integer", "an": "string"}.get(word) or _TYPE_WORDS.get(word, word)
        if base == "string":
            info.type, info.max_length = "string", a
        elif base == "integer":
            info.type, info.total_digits = "integer", a
        elif base == "decimal":
            if b is None and a is not None and word in ("number", "numeric", "decimal"):
                info.type, info.total_digits = "integer", a  # NUMBER(10): an integer
            elif b == 0 and a is not None:
                info.type, info.total_digits = "integer", a
            else:
                info.type, info.total_digits, info.precision = "decimal", a, b
        elif base == "date":
            info.type = "date"
            if (a is not None and a >= 12) or (fmt_note and re.search(r"hh|时", fmt_note)):
                info.type = "datetime"  # DATE(14) yyyyMMddHHmmss
        elif base == "datetime":
            info.type = "datetime"
        elif base == "array":
            info.type = "array"
        elif base == "boolean":
            info.type, info.max_length = "string", 1
            info.note = "布尔类型按 1 位字符串导入（0/1）"
        elif base == "object":
            info.type = "string"
            info.problem = "对象（object）类型无法表示为单个字段，已按字符串导入；如为子表请改为数组并给出明细表"
        elif base == "time":
            info.type = "string"
    elif s and info.type is None and s == "yyyy-mm-dd":
        info.type, info.note = "date", f"类型栏写的是日期格式 {raw}，按日期导入"
    elif s and info.type is None and s in ("yyyy-mm-ddhh:mm:ss", "yyyy-mm-ddthh:mm:ss"):
        info.type, info.note = "datetime", f"类型栏写的是日期时间格式 {raw}，按日期时间导入"
    elif s and info.type is None and re.fullmatch(r"yyyy[-/.年]?mm[-/.月]?dd日?(?:t?hh[:时]?mm(?:[:分]?ss秒?)?)?", s):
        info.type = "string"
        info.problem = (
            f"类型栏是日期/时间格式 {raw}，与规范的 YYYY-MM-DD / YYYY-MM-DD HH:MM:SS 不同，已按字符串导入；"
            "请核对平台要求的格式，必要时在 spec 中设置 pattern"
        )
    elif s and info.type is None:
        info.problem = "无法识别的数据类型，已按字符串导入"
        info.type = "string"
    return _apply_length(info, length, precision)


_LEN_RE = re.compile(
    r"^(?:[<≤]=?|最大|最长|不超过|max)?\s*\(?\s*(?:(\d+)\s*(?:\.\.|-|~|～|–)\s*)?(\d+)\s*(?:[,，]\s*(\d+))?\s*\)?\s*(?:位|字符|个字符|字节|bytes?|chars?)?$",
    re.I,
)


def _parse_length(text: Any) -> tuple[int | None, int | None, str | None]:
    s = _norm(text)
    if s in ("", "-", "—", "/", "无", "不限", "n/a", "na"):
        return None, None, None
    if (m := re.fullmatch(r"(\d+)\s*位小数", s)) is not None:
        return None, int(m.group(1)), None
    if (m := re.fullmatch(r"(\d+)\.0", s)) is not None:  # Excel number 50.0
        return int(m.group(1)), None, None
    m = _LEN_RE.match(s)
    if m is None:
        return None, None, f"无法识别的长度 {s!r}"
    return int(m.group(2)), (int(m.group(3)) if m.group(3) else None), None


def _apply_length(info: TypeInfo, length: Any, precision: Any) -> TypeInfo:
    ln, pr, problem = _parse_length(length)
    m_lo = _LEN_RE.match(_norm(length)) if length is not None and not problem else None
    lo_len = int(m_lo.group(1)) if m_lo and m_lo.group(1) else None  # 长度 6..20
    if problem:
        info.problem = (info.problem + "；" if info.problem else "") + problem
    if precision is not None and _norm(precision):
        p2, _, prob2 = _parse_length(precision)
        if prob2 or p2 is None:
            info.problem = (info.problem + "；" if info.problem else "") + f"无法识别的小数位 {_norm(precision)!r}"
        else:
            pr = p2
    if info.type is None:
        if ln is None and pr is None:
            return info
        info.type = "decimal" if pr else "string"
        info.note = "类型为空，按长度推断"
    if info.type == "string":
        if lo_len and ln is not None and lo_len <= ln:
            info.min_length = lo_len
        if ln is not None:
            if info.max_length is not None and info.max_length != ln:
                info.note = f"类型写的长度 {info.max_length} 与长度列 {ln} 不一致，采用长度列"
            info.max_length = ln
    elif info.type == "integer":
        if pr:
            info.type, info.precision = "decimal", pr
        if ln is not None:
            info.total_digits = ln
    elif info.type == "decimal":
        if ln is not None:
            info.total_digits = ln
        if pr is not None:
            info.precision = pr
    return info


_REQ_TRUE = {
    "是",
    "y",
    "yes",
    "必填",
    "必选",
    "必须",
    "必需",
    "必传",
    "必输",
    "必录",
    "m",
    "r",
    "√",
    "✓",
    "✔",
    "●",
    "★",
    "*",
    "1",
    "true",
    "required",
    "mandatory",
    "非空",
    "不可为空",
    "不能为空",
    "not null",
    "notnull",
    "强制",
    "是(必填)",
    "必填项",
    "必要",
}
_REQ_FALSE = {
    "否",
    "n",
    "no",
    "可选",
    "选填",
    "非必填",
    "非必须",
    "不必填",
    "可空",
    "可为空",
    "空",
    "o",
    "×",
    "✗",
    "-",
    "—",
    "/",
    "0",
    "false",
    "optional",
    "null",
    "允许为空",
    "可",
    "否(选填)",
    "选择",
    "可填",
}
_REQ_COND = re.compile(r"^(c|条件|有条件|按条件|视情况|条件必填|条件必选|条件必传)")


def parse_required(text: Any, *, inverted: bool = False) -> tuple[bool | str | None, str | None]:
    """Interpret a 必填 cell: ``(True|False|"conditional"|None, condition text)``.

    ``inverted`` is for a 可否为空 / 允许空 column (是 = may be empty = not required). ``None``
    means the marker is not understood.
    """
    s = _norm(text).lower()
    if not s:
        return False, None
    s1 = s.replace(" ", "")
    if s1 not in _REQ_TRUE and s1 not in _REQ_FALSE:
        base = re.sub(r"\(.*?\)", "", s1).strip("*") or s1  # "Y(主键)", "是*"
        note = " ".join(re.findall(r"\((.*?)\)", _norm(text)))
        if not inverted and base in _REQ_FALSE and re.search(r"必填|必传|必选|必须|须填|需填|应填|要填", note):
            return "conditional", note.strip() or None  # "否（退费时必填）": required under a condition
        s1 = base
    if s1 in ("主键", "pk", "primarykey", "主键,非空", "非空,主键", "主键非空"):
        return (not inverted), None
    if _REQ_COND.match(s1) and not s1.startswith("char"):
        cond = re.sub(
            r"^(c|条件必填|条件必选|条件必传|有条件|按条件|视情况|条件)\s*[:：,，(（]?\s*", "", s.strip(), flags=re.I
        )
        cond = cond.rstrip(")）").strip()
        return "conditional", (cond or None)
    if s1 in _REQ_TRUE:
        return (not inverted), None
    if s1 in _REQ_FALSE:
        return inverted, None
    for w in ("必填", "必选", "必须", "必传"):
        if s1.startswith(w):
            return (not inverted), None
    for w in ("非必填", "可选", "选填", "可为空"):
        if s1.startswith(w):
            return inverted, None
    return None, None


# inline enumerations: "1:男 2:女", "1-西药；2-中成药", "0 否 1 是", "1=自费,2=医保", "1、西药 2、中成药"
_ENUM_ITEM = re.compile(
    r"(?:^|(?<=[\s,，;；、/|(（:：]))"
    r"(?P<code>(?<![0-9A-Za-z])-?[0-9A-Za-z]{1,8})\s*(?P<sep>[:：=＝\-－—–、.．]|\s|(?<=\d)(?=[\u4e00-\u9fff]))\s*"
    r"(?P<name>[^\s,，;；、|()（）:：=0-9][^,，;；|()（）:：=]*?)"
    r"(?=\s*(?:[,，;；、/|]\s*|\s+)[0-9A-Za-z]{1,8}\s*(?:[:：=＝\-－—–、.．]|\s|(?<=\d)(?=[\u4e00-\u9fff]))\s*[^\s,，;；、|()（）:：=0-9]|\s*[)）,，;；。]?\s*$|\s*[)）(（,，;；。])"
)


def parse_enum(text: Any) -> dict[str, str] | None:
    """Find an inline enumeration (值域) in a description cell; ``None`` when there is none.

    >>> parse_enum("性别：1:男 2:女")
    {'1': '男', '2': '女'}
    >>> parse_enum("1-西药；2-中成药；3-中草药")
    {'1': '西药', '2': '中成药', '3': '中草药'}
    """
    s = str(text or "").strip()
    if not s:
        return None
    s = s.replace("\n", " ")
    best: dict[str, str] | None = None
    # try from each plausible start, keep the longest consecutive run of items
    items = list(_ENUM_ITEM.finditer(s))
    run: list[re.Match] = []
    runs: list[list[re.Match]] = []
    for m in items:
        if run and not _adjacent(s, run[-1], m):
            runs.append(run)
            run = []
        run.append(m)
    if run:
        runs.append(run)
    for r in runs:
        if len(r) < 2:
            continue
        codes = [m.group("code") for m in r]
        names = [m.group("name").strip() for m in r]
        if len(set(codes)) != len(codes) or len(set(names)) != len(names) or any(not n or len(n) > 40 for n in names):
            continue
        kinds = {c.lstrip("-").isdigit() for c in codes}
        if len(kinds) != 1:
            continue
        seps = {m.group("sep").strip() or " " for m in r}
        if len(seps) > 1:
            continue
        if not any(c.isdigit() for c in codes) and not seps <= {":", "：", "=", "＝"}:
            continue  # "如 g、mg、ml、片" is a list of examples, not an enumeration
        if seps == {"."} and all(n[:1].isdigit() for n in names):
            continue
        cand = dict(zip(codes, names))
        if best is None or len(cand) > len(best):
            best = cand
    return best


def _adjacent(s: str, a: re.Match, b: re.Match) -> bool:
    between = s[a.end() : b.start()]
    return re.fullmatch(r"\s*[,，;；、/|]?\s*", between) is not None


_REF_RE = re.compile(
    r"(?:见|参见|参照|详见|参考|引用|依据|对应|符合)\s*(?:《)?\s*(?:数据)?(?:字典|附录|附表|代码表|码表|值域|表|字典表)?\s*"
    r"(?P<sec>(?:[A-Z](?:[.\-]\d+)*)|(?:\d+(?:[.\-]\d+)+)|\d+)\b"
)
_NAMED_REF_RE = re.compile(
    r"(?:见|参见|详见|参照|参考|引用)\s*《?([\u4e00-\u9fff][\u4e00-\u9fffA-Za-z0-9/]{1,20}?(?:字典表|代码表|字典|码表|代码|值域))》?"
)
_BARE_DICT_NAME = re.compile(r"[\u4e00-\u9fff][\u4e00-\u9fffA-Za-z0-9/]{1,20}?(?:字典表|代码表|字典|码表)")
_STD_RE = re.compile(r"\b(?:GB/T|GB|WS/T|WS|DB\d{2}/T|YY/T|CV|CT|DE)\s?[0-9][0-9A-Za-z.\-]*(?:\.\d+)*", re.I)
_SECTION_TITLE = re.compile(
    r"^\s*(?:附录\s*|附表\s*|表\s*)?(?P<sec>(?:[A-Z](?:[.．]\d+)*)|(?:\d+(?:[.．]\d+)*))(?:[.、．]\s*|\s+)(?P<rest>\S.*)$"
)
_METHOD_RE = re.compile(r"\b(?:upload|push|sync|save|send|report|submit|add|get|query)[A-Z][A-Za-z0-9]*\b")


def _method_to_code(ident: str) -> str:
    """uploadRecipeIndicators → recipe; pushMedicalDispute → medical_dispute; recipe_detail stays."""
    m = re.match(r"^(?:upload|push|sync|save|send|report|submit|add)(?=[A-Z])", ident)
    if not m:
        return ident
    core = ident[m.end() :]
    core = re.sub(r"(?:Indicators|Indicator|Req|Request|Info|Data)$", "", core) or core
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", core).lower()
    return snake


# --------------------------------------------------------------------------------------------
# document model: a sequence of paragraphs and tables


@dataclass
class _Para:
    text: str
    heading: int | None = None  # heading level (Word heading style); 0 for an Excel sheet name
    sheet: bool = False
    cells: int = 1  # Excel: how many non-empty cells the row had
    row: int | None = None  # Excel row number


@dataclass
class _Table:
    rows: list[list[str | None]]  # None: continuation of a horizontally merged cell
    label: str  # "表格3" or "工作表「在线处方」"
    row_numbers: list[int]
    sheet: str | None = None
    title: str | None = None
    paras: list[_Para] = dc_field(default_factory=list)
    sheet_title: str | None = None
    continuation: bool = False  # nothing but blank paragraphs between this and the previous table
    strong_title: bool = False  # the title is a numbered/heading paragraph, not a guess
    pre_header: dict = dc_field(default_factory=dict)  # 操作名称 / 说明 rows above the header


_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _refuse_ole_file(path: Path) -> None:
    """An OLE compound file under a .docx/.xlsx name: a password-protected file or an old .doc/.xls."""
    if path.suffix.lower() not in (".docx", ".xlsx", ".xlsm"):
        return
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head == _OLE_MAGIC:
        raise SpecImportError(
            "文件是设置了打开密码的 Office 文档，或是改了扩展名的旧版 .doc/.xls：请在 Office/WPS 中去掉密码"
            "（文件 → 信息 → 保护文档），或另存为 .docx/.xlsx 后再导入",
            where=str(path),
        )


def _read_docx(path: Path) -> list[_Para | _Table]:
    try:
        import docx
        from docx.table import Table as DocxTable
        from docx.text.paragraph import Paragraph as DocxParagraph
    except ImportError as exc:  # pragma: no cover - dependency of hlwjr
        raise SpecImportError("读取 Word 文档需要 python-docx（pip install python-docx）") from exc
    try:
        document = docx.Document(str(path))
    except Exception as exc:  # python-docx raises several unrelated types for a bad file
        raise SpecImportError(
            f"无法作为 Word (.docx) 文档打开: {exc}；如为 .doc 旧格式请先另存为 .docx", where=str(path)
        ) from exc

    def body_items(parent):
        # paragraphs and tables in document order, including those inside content controls (w:sdt)
        for child in parent.iterchildren():
            tag = child.tag.rsplit("}", 1)[-1]
            if tag in ("sdt", "sdtContent", "customXml", "ins", "smartTag"):
                yield from body_items(child)
            else:
                yield child

    blocks: list[_Para | _Table] = []
    n = 0
    for child in body_items(document.element.body):
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            p = DocxParagraph(child, document)
            style = (p.style.name if p.style is not None else "") or ""
            level = None
            m = re.match(r"^(?:heading|标题)\s*(\d)", style, re.I)
            if m:
                level = int(m.group(1))
            elif style.lower() == "title":
                level = 0
            blocks.append(_Para(text=_clean(p.text), heading=level))
        elif tag == "tbl":
            n += 1
            t = DocxTable(child, document)
            rows: list[list[str | None]] = []
            for r in t.rows:
                cells: list[str | None] = []
                prev = None
                for c in r.cells:
                    tc = c._tc
                    if tc is prev:
                        cells.append(None)  # the same merged cell again (gridSpan)
                    else:
                        lines = [_clean(x) for p in c.paragraphs for x in p.text.split("\n")]
                        cells.append("\n".join(x for x in lines if x))
                    prev = tc
                rows.append(cells)
            blocks.append(_Table(rows=rows, label=f"表格{n}", row_numbers=list(range(1, len(rows) + 1))))
    return blocks


def _cell_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (_dt.datetime, _dt.date)):
        return v.isoformat()
    return "\n".join(_clean(x) for x in str(v).splitlines()).strip()


def _xlsx_cell_text(c) -> str:
    """A cell as shown in Excel: a code typed as the number 1 with the format ``00`` reads ``01``."""
    v = c.value
    fmt = getattr(c, "number_format", None) or ""
    if (
        isinstance(v, (int, float))
        and not isinstance(v, bool)
        and float(v).is_integer()
        and v >= 0
        and re.fullmatch(r"0{2,}", fmt)
    ):
        return str(int(v)).zfill(len(fmt))
    return _cell_text(v)


def _looks_like_data(texts: list[str]) -> bool:
    """A row inside a table with digits in it (codes, lengths): no header, not worth matching as one."""
    return any(ch.isdigit() for t in texts for ch in t[:16])


def _sheet_grid(ws) -> list[list[str | None]]:
    """A read-only sheet's cells as text, every row as wide as the widest (merges may reach past)."""
    ws.reset_dimensions()  # a wrong <dimension> in the file must not cut rows off
    grid: list[list[str | None]] = [[_xlsx_cell_text(c) for c in row] for row in ws.iter_rows()]
    width = max((len(r) for r in grid), default=0)
    for r in grid:
        if len(r) < width:
            r.extend([""] * (width - len(r)))
    return grid


_MERGE_CELL = re.compile(rb"<(?:\w+:)?mergeCell\b[^>]*?\bref=\"([A-Za-z]+\d+(?::[A-Za-z]+\d+)?)\"")


def _merged_ranges(wb, ws) -> list:
    """The sheet's merged ranges (read-only worksheets do not parse <mergeCells>)."""
    from openpyxl.worksheet.cell_range import CellRange

    xml = wb._archive.read(ws._worksheet_path)
    return [CellRange(ref.decode()) for ref in _MERGE_CELL.findall(xml)]


def _read_xlsx(path: Path) -> list[_Para | _Table]:
    try:
        import openpyxl
    except ImportError as exc:  # pragma: no cover
        raise SpecImportError("读取 Excel 需要 openpyxl（pip install openpyxl）") from exc
    import warnings

    try:
        with warnings.catch_warnings():  # "no default style", unsupported extensions: noise for a reader
            warnings.simplefilter("ignore", UserWarning)
            # read-only: a 36,000-row dictionary workbook reads in a second or two
            wb = openpyxl.load_workbook(str(path), data_only=True, read_only=True)
            sheets = [(ws.title, _sheet_grid(ws), _merged_ranges(wb, ws)) for ws in wb.worksheets]
            wb.close()
    except Exception as exc:  # openpyxl raises zipfile/KeyError/InvalidFileException...
        raise SpecImportError(
            f"无法作为 Excel (.xlsx) 打开: {exc}；如为 .xls 旧格式请先另存为 .xlsx", where=str(path)
        ) from exc
    blocks: list[_Para | _Table] = []
    for title, grid, merged in sheets:  # hidden sheets are read too: nothing dropped silently
        for rng in merged:
            top = grid[rng.min_row - 1][rng.min_col - 1] if rng.min_row - 1 < len(grid) else ""
            for r in range(rng.min_row - 1, min(rng.max_row, len(grid))):
                for c in range(rng.min_col - 1, min(rng.max_col, len(grid[r]))):
                    if c == rng.min_col - 1:
                        grid[r][c] = top  # fill down a vertical merge
                    else:
                        grid[r][c] = None  # horizontal continuation
        blocks.append(_Para(text=_clean(title), heading=0, sheet=True))
        current: _Table | None = None
        gap = False  # blank row(s) since the table's last row
        for i, row in enumerate(grid, start=1):
            while row and not row[-1]:
                row = row[:-1]
            texts = [c for c in row if c]
            if not texts:
                gap = current is not None
                continue
            if gap and current is not None and (len(texts) < 3 or _looks_like_title_row(row)):
                current = None  # a note or the next title after the blank row: the table has ended
            gap = False
            if not (current is not None and _looks_like_data(texts)) and (
                _header_roles(row) is not None
                or _code_header_roles(row) is not None
                or _rule_header_roles(row) is not None
                or _ref_header_roles(row) is not None
            ):
                if current is not None:
                    # title rows for the next table sitting right under the previous one
                    moved: list[_Para] = []
                    while len(current.rows) > 1 and _looks_like_title_row(current.rows[-1]):
                        moved.insert(0, _Para(text=" ".join(c for c in current.rows.pop() if c)))
                        current.row_numbers.pop()
                    blocks.extend(moved)
                current = _Table(
                    rows=[row], label=f"工作表「{title}」", row_numbers=[i], sheet=title, sheet_title=title
                )
                blocks.append(current)
                continue
            if current is not None:
                current.rows.append(row)
                current.row_numbers.append(i)
            elif len(texts) == 2 and not re.search(r"[:：]", texts[0]) and _hnorm(texts[0]) in _INFO_LABELS:
                blocks.append(_Para(text=f"{texts[0]}：{texts[1]}"))  # 接口名称 | 在线处方
            else:
                blocks.append(_Para(text=" ".join(texts), cells=len(texts), row=i))
    return blocks


_INFO_LABELS = {
    "操作名称",
    "接口名称",
    "接口说明",
    "接口描述",
    "功能描述",
    "功能说明",
    "接口地址",
    "请求地址",
    "url",
    "请求方式",
    "请求方法",
    "方法名",
    "方法名称",
    "接口方法",
    "服务方法",
    "服务名",
    "服务id",
    "x-service-id",
    "x-service-method",
    "调用频率",
    "上传频率",
    "上传时机",
    "数据格式",
    "返回格式",
    "业务主键",
    "主键",
    "唯一标识",
    "数据集代码",
    "接口代码",
    "接口标识",
    "数据集名称",
    "依赖",
    "上传顺序依赖",
    "前置数据集",
    "备注",
}


def _info_tables_to_paragraphs(blocks: list) -> list:
    """A small 接口名称 | 在线处方 / 接口方法 | uploadX table above a field table: labelled lines."""
    out: list = []
    for b in blocks:
        if isinstance(b, _Table) and b.rows and len(b.rows) >= 2:
            pairs: list[tuple[str, str]] = []
            for row in b.rows:
                cells = [c for c in row if c is not None]
                for i in range(0, len(cells) - 1, 2):
                    if cells[i]:
                        pairs.append((cells[i], cells[i + 1] or ""))
            known = sum(1 for k, _ in pairs if _hnorm(k).rstrip(":：") in _INFO_LABELS)
            if pairs and known >= 2 and known * 2 >= len(pairs) and _header_roles(b.rows[0]) is None:
                out.extend(_Para(text=f"{k.rstrip(':：')}：{v}") for k, v in pairs if v)
                continue
        out.append(b)
    return out


_PRE_HEADER_LABELS = {
    "操作名称": "method",
    "接口名称": "method",
    "方法名": "method",
    "服务方法": "method",
    "接口方法": "method",
    "说明": "description",
    "接口说明": "description",
    "功能说明": "description",
    "描述": "description",
}
_SERVICE_METHOD = re.compile(r"X-Service-Method\s*[=:：]\s*([A-Za-z_][A-Za-z0-9_]*)", re.I)


def _method_of(text: str) -> str | None:
    """uploadRecipe from ``X-Service-Id=…, X-Service-Method=uploadRecipe`` (or a bare method name)."""
    m = _SERVICE_METHOD.search(text) or _METHOD_RE.search(text)
    if m is None:
        return None
    return m.group(1) if m.re is _SERVICE_METHOD else m.group(0)


def _looks_like_title_row(row: list[str | None]) -> bool:
    texts = [c for c in row if c]
    return len(texts) == 1 and bool(_SECTION_TITLE.match(texts[0])) and len(texts[0]) <= 60


# --------------------------------------------------------------------------------------------
# header recognition


def _hnorm(h: str | None) -> str:
    s = _norm(h).lower().replace(" ", "")
    s = re.sub(r"\(.*?\)", "", s) or s
    return s


def _role(h: str | None) -> str | None:
    s = _hnorm(h)
    if not s:
        return None
    if s in ("序号", "序", "no", "no.", "#", "行号", "顺序号"):
        return "seq"
    if any(w in s for w in ("可否为空", "是否可为空", "允许空", "允许为空", "可为空", "nullable", "是否为空")):
        return "required_inv"
    if any(w in s for w in ("必填", "必选", "必须", "必传", "是否必", "约束", "必需", "required", "mandatory", "m/o")):
        return "required"
    if any(w in s for w in ("值域", "取值范围", "代码表", "字典", "允许值", "枚举", "可选值", "值集", "码表")):
        return "codeset"
    if any(w in s for w in ("示例", "样例", "举例", "例子", "example", "sample")):
        return "example"
    if any(w in s for w in ("小数位", "精度", "scale")):
        return "precision"
    if any(w in s for w in ("类型", "格式", "type", "数据型")):
        return "type"
    if any(w in s for w in ("长度", "length", "位数", "字段大小")):
        return "length"
    if any(w in s for w in ("来源", "provenance")):
        return "provenance"
    if any(w in s for w in ("数据元标识", "数据元编码", "数据元编号", "内部标识符", "de编码", "数据元代码")):
        return "alias_ws"
    if any(w in s for w in ("拼音",)):
        return "alias_pinyin"
    if any(
        w in s
        for w in (
            "说明",
            "备注",
            "描述",
            "注释",
            "remark",
            "description",
            "comment",
            "填报要求",
            "释义",
            "定义",
            "口径",
        )
    ):
        return "description"
    if "中文" in s:
        return "name"
    if "英文" in s or s in (
        "字段名",
        "字段",
        "字段代码",
        "字段编码",
        "字段标识",
        "参数名",
        "参数",
        "属性名",
        "属性",
        "元素名",
        "元素",
        "数据项编码",
        "数据项代码",
        "标识符",
        "field",
        "key",
        "code",
        "name",
        "字段名称英文",
        "字段英文名",
        "参数名称",
        "字段名称",
    ):
        return "key"
    if s in (
        "名称",
        "数据项",
        "数据项名称",
        "指标名称",
        "数据元名称",
        "字段含义",
        "含义",
        "中文名",
        "字段中文名",
        "指标",
        "数据元",
        "项目",
        "指标项",
    ):
        return "name"
    return None


def _header_roles(row: list[str | None]) -> dict[str, int] | None:
    """Column roles of a field-table header row, or None when the row is not one."""
    roles: dict[str, int] = {}
    for i, h in enumerate(row):
        if h is None:
            continue
        r = _role(h)
        if r is None:
            continue
        if r == "required_inv":
            if "required" in roles:
                continue
            roles["required"] = i
            roles["_inverted"] = 1
            continue
        if r in roles:
            if r == "description":
                roles.setdefault("description2", i)
            elif r == "key" and "name" not in roles:
                roles["name"] = i
            elif r == "name" and "key" not in roles:
                # 数据项 | 中文名称: two name-like columns and no code column — the one headed
                # 中文… is the Chinese name, the other (数据项/名称/指标…) holds the field codes
                first = roles["name"]
                if "中文" in _norm(str(h)) and "中文" not in _norm(str(row[first])):
                    roles["key"], roles["name"] = first, i
                else:
                    roles["key"] = i
            continue
        roles[r] = i
    if (
        ("key" in roles or "name" in roles)
        and sum(r in roles for r in ("type", "required", "length")) >= 1
        and sum(r in roles for r in ("type", "required", "length", "description", "codeset", "seq")) >= 2
    ):
        return roles
    return None


_CODE_HEAD = {
    "代码",
    "编码",
    "值",
    "代码值",
    "字典值",
    "编码值",
    "值代码",
    "code",
    "取值",
    "字典编码",
    "字典代码",
    "代码编号",
    "编号",
    "值域代码",
    "分类代码",
    "类别代码",
}
_NAME_HEAD = {
    "名称",
    "含义",
    "说明",
    "值含义",
    "代码名称",
    "描述",
    "值名称",
    "代码含义",
    "名称/含义",
    "name",
    "中文名称",
    "取值说明",
    "值说明",
    "代码说明",
    "中文名",
    "值域名称",
    "意义",
    "分类名称",
    "类别名称",
    "代码描述",
}
_PARENT_HEAD = {"上级代码", "父级代码", "上级编码", "父代码", "所属上级", "parent", "上级", "父级", "所属类别"}
_NOTE_HEAD = {"备注", "注释", "note", "附注"}


def _is_code_head(s: str) -> bool:
    """代码/编码 or a named one: 疾病诊断编码, 科室代码 (a dictionary published on its own)."""
    return s in _CODE_HEAD or (len(s) <= 12 and s.endswith(("编码", "代码", "code")) and "名称" not in s)


def _is_name_head(s: str) -> bool:
    return s in _NAME_HEAD or (len(s) <= 12 and s.endswith(("名称", "含义")))


def _code_header_roles(row: list[str | None]) -> dict[str, int] | None:
    roles: dict[str, int] = {}
    for i, h in enumerate(row):
        if h is None:
            continue
        s = _hnorm(h)
        if _is_code_head(s) and "code" not in roles:
            roles["code"] = i
        elif _is_name_head(s) and "name" not in roles:
            roles["name"] = i
        elif s in _PARENT_HEAD:
            roles["parent"] = i
        elif s in _NOTE_HEAD or (s in _NAME_HEAD and "name" in roles):
            roles.setdefault("note", i)
        elif s in ("序号", "序", "no"):
            roles["seq"] = i
        else:
            roles.setdefault("_other", i)
    if "code" in roles and "name" in roles and "_other" not in roles:
        return roles
    return None


_RULE_HEAD = {"规则", "规则id", "规则编号", "校验规则"}


def _rule_header_roles(row: list[str | None]) -> dict[str, int] | None:
    heads = [_hnorm(h) for h in row]
    if not heads or (heads[0] not in _RULE_HEAD and "规则" not in heads):
        return None
    roles = {}
    for i, s in enumerate(heads):
        if s in _RULE_HEAD or s == "规则":
            roles.setdefault("id", i)
        elif s in ("名称", "规则名称", "name"):
            roles["name"] = i
        elif s in ("参数", "params"):
            roles["params"] = i
        elif s in ("级别", "严重程度", "severity"):
            roles["severity"] = i
        elif s in ("说明", "描述", "description"):
            roles["description"] = i
    return roles if "id" in roles and "params" in roles else None


_REFTAB_HEAD = ("本字段", "被引用数据集")


def _ref_header_roles(row: list[str | None]) -> dict[str, int] | None:
    heads = [_hnorm(h) for h in row]
    if not all(h in heads for h in _REFTAB_HEAD):
        return None
    roles = {}
    for i, s in enumerate(heads):
        if s == "本字段":
            roles["fields"] = i
        elif s == "被引用数据集":
            roles["datasets"] = i
        elif s in ("范围", "where"):
            roles["where"] = i
        elif s in ("级别", "severity"):
            roles["severity"] = i
        elif s in ("说明", "描述"):
            roles["description"] = i
    return roles


# --------------------------------------------------------------------------------------------
# the importer


def _cell_getter(row: list, roles: dict):
    """``get(role)``: the stripped text of a table row's cell for a column role ("" when the table
    has no such column or the row is short)."""

    def get(r: str) -> str:
        i = roles.get(r)
        return (row[i] or "").strip() if i is not None and i < len(row) else ""

    return get


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


def _fill_header(second: list[str | None], first: list[str | None]) -> list[str | None]:
    """Second header line with the first line's words where it is empty (merged vertically)."""
    return [b if b else (a if a else b) for a, b in zip(first + [None] * len(second), second)]


def _ref_variants(text: str | None) -> list[str]:
    """Ways a document may name a code table: 见字典3.1, 《性别代码》, GB/T 2261.1-2003, 诊疗科目字典."""
    if not text:
        return []
    s = _norm(text).strip("《》 ")
    out = [s]
    core = re.sub(r"^(?:见|参见|详见|参照|参考|引用|依据|符合)\s*", "", s).strip("《》 ")
    out.append(core)
    short = re.sub(r"(?:字典表|代码表|字典|码表|代码|编码)$", "", core).strip()
    if len(short) >= 2:
        out.append(short)
    if _STD_RE.fullmatch(core) or re.match(r"^(?:GB|WS|CV|CT|DE|DB)", core, re.I):
        std = re.sub(r"\s+", "", core).upper()
        out.append(std)
        out.append(re.sub(r"-(?:19|20)\d{2}$", "", std))
    return list(dict.fromkeys(v for v in out if v))


def _after_title(paras: list[_Para], title: str | None) -> list[_Para]:
    """The paragraphs between a table's title and the table (its labelled lines and description)."""
    for i in range(len(paras) - 1, -1, -1):
        if paras[i].text == title:
            return paras[i + 1 :]
    return [p for p in paras if not _is_title(p)]


def _typed_value(v: Any, ftype: str) -> Any:
    """An example/const read from a 说明 cell, as the field's type: 25 for an integer, [..] for JSON."""
    if not isinstance(v, str):
        return v
    t = v.strip()
    if ftype in ("integer", "decimal"):
        try:
            return int(t) if ftype == "integer" else float(t)
        except ValueError:
            return v
    if t[:1] in "[{" or t in ("true", "false"):
        import json

        try:
            parsed = json.loads(t)
        except ValueError:
            return v
        if isinstance(parsed, (list, dict, bool)):
            return parsed
    return v


def _num(v: str) -> float | int:
    f = float(v)
    return int(f) if f.is_integer() and "." not in v else f


def _is_header_again(row: list[str | None], header: tuple) -> bool:
    """A repeated header row; the first cell is compared first (36,000 dictionary rows stay fast)."""
    first = next((c for c in row if c is not None), None)
    return bool(header) and _hnorm(first) == header[0] and _header_key(row) == header


def _header_key(row: list[str | None]) -> tuple:
    return tuple(_hnorm(c) for c in row if c is not None)


def _width(t: _Table) -> int:
    return max((len(r) for r in t.rows), default=0)


def _refine_roles(roles: dict, rows: list[list[str | None]]) -> dict:
    """Swap key/name when the 'key' column holds Chinese and the 'name' column identifiers."""

    def share(i: int, pred) -> float:
        vals = [r[i] for r in rows if i < len(r) and r[i]]
        return sum(1 for v in vals if pred(v)) / len(vals) if vals else 0.0

    ident = lambda v: bool(re.match(r"^\*?[A-Za-z_][A-Za-z0-9_.]*\*?$", v.strip()))
    roles = dict(roles)
    k, n = roles.get("key"), roles.get("name")
    if k is not None and n is not None:
        if share(k, _has_cjk) > 0.6 and share(n, ident) > 0.6:
            roles["key"], roles["name"] = n, k
    elif k is not None and n is None:
        if share(k, _has_cjk) > 0.6:
            roles["name"] = k
            del roles["key"]
    elif n is not None and k is None:
        if share(n, ident) > 0.6:
            roles["key"] = n
            del roles["name"]
    # an unnamed column of identifiers next to a name column: the key
    if "key" not in roles:
        for i in range(max((len(r) for r in rows), default=0)):
            if i in roles.values():
                continue
            if share(i, ident) > 0.8:
                roles["key"] = i
                break
    return roles


_CHILD_MARK = re.compile(
    r"^\s*(?:[└├│|+>·]|-{1,2}|—{1,2}|[\[【]\s*[01]\s*(?:\.{2,3}|…|-|~)\s*(?:[1-9n*]|\d+)\s*[\]】])[\s\-—─]*",
    re.I,
)


_HTTP_HEADER = re.compile(
    r"^(?:X-[A-Za-z0-9-]+|Content-Type|Content-MD5|Accept|Authorization|Date|Host|User-Agent|Content-Length)$", re.I
)


def _is_request_header_table(rows: list[list[str | None]], roles: dict) -> bool:
    """A table of X-Ca-Key / X-Service-Id / Content-Type rows: the request headers, not a data set."""
    i = roles.get("key")
    keys = [_norm(r[i]) for r in rows if i is not None and i < len(r) and r[i]]
    return bool(keys) and sum(1 for k in keys if _HTTP_HEADER.match(k)) * 2 > len(keys)


_FORMAT_HINT = re.compile(
    r"(?:^|格式|格式为|[:：])\s*(?P<fmt>yyyy-?MM-?dd(?:[ T]?HH:?mm(?::?ss)?)?)\s*(?:$|[，,。；;）)])", re.I
)
_COND_REQUIRED = re.compile(
    r"(?P<cond>[^，,。；;]+?)\s*(?:时|的时候|情况下)?\s*(?:(?:需要|需|须|必须)?\s*(?:必填|必传)|(?:需要|需|须|必须)\s*(?:传入|填写|上传))"
)
_COND_COMPARE = re.compile(
    r"(?:当|如果|若)?(?P<field>[A-Za-z_][A-Za-z0-9_]*)(?P<op>>=|<=|!=|==|=|＝|>|<|≥|≤|≠)"
    r"(?P<value>-?[0-9A-Za-z_.]+(?:(?:或|/|、|,|，)-?[0-9A-Za-z_.]+)*)"
)
_COND_OPS = {
    "=": "eq", "==": "eq", "＝": "eq", "!=": "ne", "≠": "ne",
    ">": "gt", ">=": "ge", "≥": "ge", "<": "lt", "<=": "le", "≤": "le",
}  # fmt: skip


_LIST_ANNOUNCE = re.compile(
    r"^(?P<key>[A-Za-z_][A-Za-z0-9_]*)\s*[(（]?\s*(?P<name>[^\s()（）]+?)\s*[)）]?\s+"
    r"(?:List\w*|Array\w*|数组|列表|集合)(?:\s|$)",
    re.I,
)


def _dotted_parent(code: str, codes: dict) -> str | None:
    """The code one level up in a dotted hierarchy (03.01 → 03), when it is in the code set."""
    head, dot, _ = code.rpartition(".")
    return head if dot and head in codes else None


def _return_codes(rows: list[list[str | None]]) -> list[tuple[str, str]]:
    """(code, meaning) pairs of a return-code table: the code column by its header, the meaning beside it."""
    header = [_hnorm(c) if c else "" for c in rows[0]]
    code_col = next((i for i, h in enumerate(header) if re.search(r"码|code", h) and "序" not in h), 0)
    text_col = next(
        (i for i, h in enumerate(header) if i != code_col and re.search(r"描述|说明|信息|含义|msg|message", h)),
        code_col + 1,
    )
    out = []
    for row in rows[1:]:
        code = _norm(row[code_col]) if code_col < len(row) and row[code_col] else ""
        text = _norm(row[text_col]) if text_col < len(row) and row[text_col] else ""
        if re.fullmatch(r"-?[A-Za-z0-9_.]{1,12}", code):
            out.append((code, text))
    return out


def _non_record_table(heads: str, title: str) -> str | None:
    """Return-code and signature tables: reported, never data sets."""
    text = heads + title
    if re.search(r"(?:返回|错误|状态|响应|应答|结果|业务)(?:码|代码|编码)|http\s*状态|errcode|retcode", text, re.I):
        return "返回码表"
    if re.search(r"签名|加密|验签|sign", text, re.I):
        return "签名规则表"
    return None


def _response_lines(response: list[str]) -> list[str]:
    return ["响应参数（输出）：", *response] if response else []


def _is_list_head(direction: str, previous: str, type_text: str) -> bool:
    """A row announcing a nested list: direction 输入List (where the list starts) or a List type."""
    d = _norm(direction).replace(" ", "").lower()
    if d.endswith(("list", "列表")) and d != _norm(previous).replace(" ", "").lower():
        return True
    return parse_type(type_text).type == "array"


_DIRECTION = re.compile(
    r"^(?P<io>输入|输出|入参|出参|请求|响应|返回|in|out|input|output)(?P<list>list|列表|对象|object)?$", re.I
)
_OUTPUT = re.compile(r"^(?:输出|出参|响应|返回|out)", re.I)


def _is_direction(v: str) -> bool:
    return _DIRECTION.match(_norm(v).replace(" ", "")) is not None


def _is_type_notation(v: str) -> bool:
    ti = parse_type(v)
    return ti.type is not None and ti.problem is None and _norm(v).upper() not in ("Y", "N", "M", "O", "C")


def _is_required_marker(v: str) -> bool:
    req, _ = parse_required(v)
    return req is not None and len(_norm(v)) <= 4


def _content_roles(roles: dict, header: list[str | None], rows: list[list[str | None]]) -> dict:
    """Column roles checked against what the columns hold (the header words are one signal).

    A column of 输入/输出/入参/出参 is the parameter direction (even when headed 类型); the data
    type is then the column whose values parse as type notations (字段类型); an unnamed column of
    short Chinese text beside the key (a 参数 header merged over two columns) is the Chinese name.
    """
    roles = dict(roles)
    width = max((len(r) for r in rows), default=0)
    body = [r for r in rows if sum(1 for c in r if c) > 1]  # group rows (one merged cell) say nothing

    def share(i: int, pred) -> float:
        vals = [r[i] for r in body if i < len(r) and r[i]]
        return sum(1 for v in vals if pred(v)) / len(vals) if vals else 0.0

    def free(i: int) -> bool:
        return i not in {j for r, j in roles.items() if not r.startswith("_")}

    def drop(i: int) -> None:
        for r in [r for r, j in roles.items() if j == i and not r.startswith("_")]:
            del roles[r]

    for i in range(width):
        if share(i, _is_direction) >= 0.6:
            drop(i)
            roles["direction"] = i
            break
    cur = roles.get("type")
    if cur is None or share(cur, _is_type_notation) < 0.5:
        scored = [(share(i, _is_type_notation), -i) for i in range(width) if free(i) or i == cur]
        best, neg = max(scored, default=(0.0, 0))
        if best >= 0.5 and share(-neg, _is_required_marker) < 0.5:
            roles["type"] = -neg
    short_cjk = lambda v: _has_cjk(v) and len(v) <= 20
    if "name" not in roles and "description2" in roles:
        # 参数说明 (the names) and 说明 (the notes), in either order: the column of short names is the name
        a, b = roles["description"], roles["description2"]
        if share(b, short_cjk) >= 0.6 and share(b, short_cjk) > share(a, short_cjk):
            a, b = b, a
        if share(a, short_cjk) >= 0.6:
            roles["name"], roles["description"] = a, b
            del roles["description2"]
    if "name" not in roles:
        for i in range(width):
            unnamed = i >= len(header) or header[i] is None or _role(header[i]) in (None, "key")
            if free(i) and unnamed and share(i, lambda v: _has_cjk(v) and len(v) <= 30) >= 0.6:
                roles["name"] = i
                break
    if "required" not in roles:
        for i in range(width):
            if free(i) and share(i, _is_required_marker) >= 0.8 and share(i, _is_type_notation) < 0.5:
                roles["required"] = i
                break
    return roles


def _is_title(p: _Para) -> bool:
    if p.sheet:
        return False
    t = p.text
    if not t or len(t) > 80 or _META_RE.match(t):
        return False
    if p.heading is not None and p.heading > 0:
        return True
    if _SECTION_TITLE.match(t) and not re.search(r"[。；;]$", t):
        return True
    if re.match(r"^\s*(?:表|附表)\s*[A-Z]?\d+(?:[.\-－—]\d+)*\s*\S", t):
        return True  # a table caption: 表2-3 在线处方字段说明
    if _METHOD_RE.search(t) and _has_cjk(t):
        return True
    return False


def _title_score(p: _Para) -> int:
    """How good a title for the next table a paragraph is (0: not a title)."""
    if not _is_title(p):
        return 0
    t = p.text
    score = 1
    if re.match(r"^\s*(?:附录\s*)?(?:[A-Z]|\d+)(?:[.．]\d+)+", t) or (p.heading or 0) > 0:
        score = 3
    if re.match(r"^\s*(?:表|附表)\s*[A-Z]?\d", t):
        score = 1
    if _METHOD_RE.search(t) or re.search(r"[A-Za-z_][A-Za-z0-9_]{2,}", t):
        score += 1
    return score


def _parse_title(title: str) -> tuple[str | None, str, str | None, str | None]:
    """``2.2.3 在线处方 uploadRecipeIndicators`` → (section, Chinese name, identifier, standard)."""
    s = _clean(title)
    sec = None
    s = re.sub(r"^(?:表|附表)\s*[A-Z]?\d+(?:[.\-]\d+)*\s*", "", s) if re.match(r"^(?:表|附表)\s*[A-Z]?\d", s) else s
    s = re.sub(r"^附录\s*", "", s)
    # Chinese ordinals of a heading: 三、在线处方 / （三）在线处方 / 第三节 在线处方
    s = re.sub(
        r"^(?:[(（][一二三四五六七八九十百]+[)）]|第[一二三四五六七八九十百\d]+[章节条部分]+|[一二三四五六七八九十百]+[、.．])\s*",
        "",
        s,
    )
    # a URL path in the title (/api/recipe/upload) is the endpoint, not part of the name
    s = re.sub(
        r"\s*(?:\b(?:GET|POST|PUT)\s+)?(?:https?://\S+|(?<![A-Za-z0-9])/(?:[A-Za-z0-9_\-{}.]+/)+[A-Za-z0-9_\-{}.]*)\s*",
        " ",
        s,
    ).strip()
    m = _SECTION_TITLE.match(s)
    if m and (re.match(r"^\d", m.group("sec")) or "." in m.group("sec") or re.match(r"^[A-Z][.、\s]", s)):
        sec = m.group("sec").replace("．", ".")
        s = m.group("rest").strip()
    std = None
    ident = None
    # an explicit id in trailing parentheses: 性别（GB/T 2261.1）, 在线处方（uploadRecipeIndicators）
    m = re.search(r"[(（]\s*([^()（）]+?)\s*[)）]\s*$", s)
    if m and not _has_cjk(m.group(1)):
        ident = m.group(1).strip()
        s = s[: m.start()].strip()
        if _STD_RE.fullmatch(ident):
            std = ident
    if std is None and ident is None and (m := _STD_RE.search(s)) is not None:
        std = m.group(0)
        s = (s[: m.start()] + s[m.end() :]).strip()
    if ident is None:
        tokens = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", s)
        cand = [t for t in tokens if len(t) > 1 or len(tokens) == 1]
        if cand and _has_cjk(s):
            ident = cand[-1]
            s = re.sub(r"\s*[(（]?\s*" + re.escape(ident) + r"\s*[)）]?\s*", " ", s).strip()
        elif cand and not _has_cjk(s):
            ident = cand[-1] if len(cand) == 1 else None
    name = re.sub(r"\s*[(（]续[)）]?$", "", s).strip(" -—:：")
    name = re.sub(r"(接口|数据集)$", "", name).strip() or name
    return sec, name, ident, std


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
